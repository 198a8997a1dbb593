/*
 * actors/gateway/upgrade.c — upgraded connections shared by exec.c and
 * portforward.c (see upgrade.h).
 */
#include "actors/gateway/upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/log.h"

#define S_LINGER_MS 3000         /* wait for the client's close frame */
#define S_UPGRADE_WAIT_MS 900000 /* for MHD's callback: beyond its connection timeout */

/* Sessions of every gateway of the process. */
static gw_up_t *s_ups;

gw_up_t *gw_up_find(uint64_t id)
{
    for (gw_up_t *u = s_ups; u; u = u->next)
        if (u->id == id)
            return u;
    return NULL;
}

static bool s_alive(const gw_up_t *x)
{
    for (gw_up_t *u = s_ups; u; u = u->next)
        if (u == x)
            return true;
    return false;
}

static void s_free(gw_up_t *u)
{
    for (gw_up_t **pp = &s_ups; *pp; pp = &(*pp)->next)
        if (*pp == u) {
            *pp = u->next;
            break;
        }
    if (u->timer > 0)
        rt_timer_cancel(u->g->a, u->timer);
    gw_ws_reader_clear(&u->rd);
    gw_ws_out_clear(&u->o);
    free(u->in);
    u->ops->destroy(u);
}

/* Ends a session marked dead: the socket goes back to MHD to be closed. */
static void s_settle(gw_up_t *u)
{
    if (!u->dead)
        return;
    gw_t *g = u->g;
    if (u->upgraded) {
        if (u->events)
            rt_fd_remove(g->a, u->fd);
        MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
    }
    s_free(u);
    gw_kick(g);
}

static void s_on_io(rt_actor_t *a, int fd, short revents, void *arg);

static bool s_want_read(const gw_up_t *u)
{
    return !u->peer_closed && (!u->ops->want_read || u->ops->want_read(u));
}

/* Writes what is buffered; polls for what the session can use next. */
static void s_flush(gw_up_t *u)
{
    gw_ws_out_t *o = &u->o;
    while (!u->dead && o->off < o->len) {
        ssize_t n = send(u->fd, o->data + o->off, o->len - o->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            u->dead = true;
            return;
        }
        o->off += (size_t)n;
    }
    if (u->closing && u->peer_closed && o->off == o->len)
        u->dead = true;
    short want = (short)((s_want_read(u) ? POLLIN : 0) | (o->off < o->len ? POLLOUT : 0));
    if (u->dead || !u->upgraded || want == u->events)
        return;
    if (u->events)
        rt_fd_remove(u->g->a, u->fd);
    u->events = want;
    if (want && rt_fd_add(u->g->a, u->fd, want, s_on_io, u) < 0)
        u->dead = true;
}

void gw_up_done(gw_up_t *u)
{
    if (!u->dead && u->ops->pump)
        u->ops->pump(u);
    if (u->upgraded)
        s_flush(u);
    if (!u->dead && u->ops->pump) /* room again for output: more may be asked for */
        u->ops->pump(u);
    s_settle(u);
}

static void s_on_linger(rt_actor_t *a, void *arg)
{
    gw_up_t *u = arg;
    (void)a;
    u->timer = 0;
    u->dead = true;
    s_settle(u);
}

void gw_up_close(gw_up_t *u, unsigned code, const char *reason)
{
    if (u->closing)
        return;
    if (u->raw) /* no closing handshake: done once the output is out */
        u->peer_closed = true;
    else
        gw_ws_out_close(&u->o, code, reason);
    u->closing = true;
    if (u->timer > 0)
        rt_timer_cancel(u->g->a, u->timer);
    u->timer = rt_timer_add(u->g->a, S_LINGER_MS, false, s_on_linger, u);
}

/* ---- input -------------------------------------------------------------------- */

static void s_broken(gw_up_t *u, unsigned code, const char *why)
{
    rt_debug("upgraded connection %llu: %s; closing", (unsigned long long)u->id, why);
    if (u->ops->broken)
        u->ops->broken(u, code, why);
    else
        gw_up_close(u, code, why);
    u->peer_closed = true; /* nothing more is read */
}

static void s_event(gw_up_t *u, const gw_ws_event_t *ev)
{
    switch (ev->type) {
    case GW_WS_EV_MESSAGE:
        if (!u->closing)
            u->ops->input(u, ev->opcode, ev->data, ev->len);
        break;
    case GW_WS_EV_PING: /* nothing may follow our close frame */
        if (!u->closing)
            gw_ws_out_frame(&u->o, GW_WS_PONG, NULL, 0, ev->data, ev->len);
        break;
    case GW_WS_EV_CLOSE:
        u->peer_closed = true;
        gw_up_close(u, GW_WS_CLOSE_NORMAL, "");
        break;
    default:
        break;
    }
}

/* Socket bytes: WebSocket frames, each handled as it completes (a partial
 * one waits in u->in for the next read), or raw bytes. */
static void s_input(gw_up_t *u, const void *data, size_t len)
{
    if (u->peer_closed)
        return;
    if (u->raw) {
        u->ops->input(u, 0, data, len);
        return;
    }
    if (len > u->max_in - u->inlen) {
        s_broken(u, GW_WS_CLOSE_TOO_BIG, "input too large");
        return;
    }
    if (u->inlen + len > u->incap) {
        size_t cap = u->incap ? u->incap : 16384;
        while (cap < u->inlen + len)
            cap *= 2;
        uint8_t *in = realloc(u->in, cap);
        if (!in)
            abort();
        u->in = in;
        u->incap = cap;
    }
    memcpy(u->in + u->inlen, data, len);
    u->inlen += len;
    size_t used = 0;
    while (!u->peer_closed && used < u->inlen) {
        gw_ws_event_t ev;
        ssize_t n = gw_ws_read(&u->rd, u->in + used, u->inlen - used, &ev);
        if (n == GW_WS_PARTIAL)
            break;
        if (n < 0) {
            s_broken(u, gw_ws_close_code_for(n), "bad WebSocket input");
            used = u->inlen;
            break;
        }
        used += (size_t)n;
        s_event(u, &ev);
    }
    memmove(u->in, u->in + used, u->inlen - used);
    u->inlen -= used;
}

static void s_read_socket(gw_up_t *u)
{
    uint8_t buf[16384];
    while (s_want_read(u) && !u->dead) {
        ssize_t n = recv(u->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* the client is gone */
            u->dead = true;
            return;
        }
        s_input(u, buf, (size_t)n);
    }
}

static void s_on_io(rt_actor_t *a, int fd, short revents, void *arg)
{
    gw_up_t *u = arg;
    (void)a;
    (void)fd;
    if (revents & (POLLIN | POLLERR | POLLHUP))
        s_read_socket(u);
    gw_up_done(u);
}

/* ---- the upgrade ---------------------------------------------------------------- */

static void s_on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
                         size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    gw_up_t *u = cls;
    (void)c;
    (void)con_cls;
    if (!s_alive(u)) { /* waited too long: given up on */
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    if (u->timer > 0)
        rt_timer_cancel(u->g->a, u->timer);
    u->timer = 0;
    u->fd = sock;
    u->urh = urh;
    u->upgraded = true;
    u->events = POLLIN;
    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    /* small frames (a keystroke, a FIN) must not wait for the client's delayed ACK */
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    if (rt_fd_add(u->g->a, sock, POLLIN, s_on_io, u) < 0) {
        u->events = 0;
        u->dead = true;
    } else {
        if (extra_len)
            s_input(u, extra, extra_len);
        if (u->ops->started)
            u->ops->started(u);
    }
    gw_up_done(u);
}

static void s_on_upgrade_timeout(rt_actor_t *a, void *arg)
{
    gw_up_t *u = arg;
    (void)a;
    u->timer = 0;
    s_free(u);
}

void gw_up_init(gw_up_t *u, gw_t *g, const gw_up_ops_t *ops, bool raw, size_t max_message)
{
    u->ops = ops;
    u->g = g;
    u->id = gw_next_id(g);
    u->fd = -1;
    u->raw = raw;
    u->rd.need_mask = true;
    u->rd.max_message = max_message;
    u->max_in = max_message + GW_WS_MAX_HEADER;
    u->next = s_ups;
    s_ups = u;
    u->timer = rt_timer_add(g->a, S_UPGRADE_WAIT_MS, false, s_on_upgrade_timeout, u);
}

enum MHD_Result gw_up_answer(gw_up_t *u, struct MHD_Connection *c, const char *const *headers)
{
    struct MHD_Response *resp = MHD_create_response_for_upgrade(s_on_upgrade, u);
    enum MHD_Result ok = MHD_NO;
    for (size_t i = 0; resp && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    if (resp) {
        ok = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
        MHD_destroy_response(resp);
    }
    if (ok != MHD_YES)
        s_free(u);
    return ok;
}

void gw_up_stop_all(gw_t *g)
{
    for (gw_up_t *u = s_ups, *next; u; u = next) {
        next = u->next;
        if (u->g != g || !u->upgraded)
            continue;
        if (u->events)
            rt_fd_remove(g->a, u->fd);
        u->events = 0;
        MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
        s_free(u);
    }
}
