/*
 * actors/gateway/exec.c — `pods/{name}/exec` over WebSocket, as kubectl
 * 1.32 calls it (`GET ...?command=sh&command=-c&command=...&container=c&
 * stdin=true&stdout=true&stderr=true&tty=true`, subprotocol
 * v5.channel.k8s.io, else v4.channel.k8s.io).
 *
 * Before the upgrade, everything that can fail is checked and answered as a
 * Kubernetes Status (so kubectl's SPDY fallback, which follows a refused
 * upgrade, prints the same reason): the flags, the pod, its container and
 * node, the handshake. Then MHD sends 101 and hands over the socket, and the
 * session drives a stream on the pod's kubelet (actors/kubelet/stream.c):
 * `stream.open` runs the command (with a terminal when tty); one
 * `stream.io` read waits at a time and its stdout goes out on channel 1,
 * stderr on channel 2; channel 0 (stdin) is written with `stream.io`
 * writes, one at a time, while the socket is read only as long as little
 * input waits (backpressure both ways); channel 4 (resize) becomes a write's
 * resize; v5's CLOSE signal on channel 255 closes the command's input. At
 * the end the metav1.Status goes on channel 3 (Success, or NonZeroExitCode
 * with the exit code as an ExitCode cause — what kubectl turns into its own
 * exit code), and the session closes with 1000. A client that goes away
 * closes the stream (the kubelet kills the command).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/gateway/internal.h"
#include "actors/gateway/ws.h"
#include "protocol/b64.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_MAX_ARGS 1024      /* command entries */
#define S_MAX_ARGV_BYTES (256u << 10)
#define S_MAX_IN (2u << 20)        /* unparsed input bytes held */
#define S_CHUNK (32u << 10)        /* payload bytes per data frame */
#define S_LINGER_MS 3000           /* wait for the client's close frame */
#define S_IN_HIGH (1u << 20)       /* stdin held before the socket is no longer read */
#define S_OUT_HIGH (1u << 20)      /* output held before no more is asked for */
#define S_WRITE_MAX (64u << 10)    /* stdin bytes per kubelet write */
#define S_CALL_MS 15000
#define S_UPGRADE_WAIT_MS (900000) /* beyond MHD's connection timeout */
#define S_SVC_MAX (GW_NAME_MAX + 16)

static const char *const s_protocols[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};

/* A request until MHD upgrades it. */
typedef struct s_req {
    gw_sub_t sub;
    json_t *body; /* the kubelet's `stream.open` body */
    bool out, err;
    int ws;        /* gw_ws_check_upgrade's verdict */
    char why[160]; /* ... and its reason */
    const char *proto;
    char accept[GW_WS_ACCEPT_LEN + 1];
    char svc[S_SVC_MAX]; /* kubelet-<node> */
} s_req_t;

/* An upgraded connection. */
typedef struct s_sess {
    uint64_t id;
    gw_t *g;
    int fd;
    struct MHD_UpgradeResponseHandle *urh;
    json_t *body;
    char svc[S_SVC_MAX];
    char stream[64]; /* the kubelet's stream id ("" until open) */
    bool out, err;
    bool upgraded, closing, peer_closed, dead;
    bool reading, writing, in_closed, close_sent;
    uint8_t *pin; /* stdin waiting for the kubelet */
    size_t pinlen, pincap;
    json_t *resize; /* a resize waiting for the kubelet */
    short events;
    int timer;
    gw_ws_reader_t rd;
    uint8_t *in; /* bytes read and not yet parsed */
    size_t inlen, incap;
    gw_ws_out_t o;
    struct s_sess *next;
} s_sess_t;

static s_sess_t *s_sessions;

static void s_req_destroy(gw_sub_t *sub)
{
    s_req_t *r = (s_req_t *)sub;
    json_decref(r->body);
    free(r);
}

/* Answers the suspended request with a Status (stolen) and frees r. */
static void s_done(s_req_t *r, int code, json_t *status)
{
    gw_t *g = r->sub.g;
    uint64_t id = r->sub.id;
    s_req_destroy(&r->sub);
    gw_sub_reply(g, id, code, status);
}

/* ---- sessions ----------------------------------------------------------------- */

static s_sess_t *s_sess_find(uint64_t id)
{
    for (s_sess_t *s = s_sessions; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static bool s_sess_alive(const s_sess_t *x)
{
    for (s_sess_t *s = s_sessions; s; s = s->next)
        if (s == x)
            return true;
    return false;
}

static void s_sess_free(s_sess_t *s)
{
    for (s_sess_t **pp = &s_sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    if (s->timer > 0)
        rt_timer_cancel(s->g->a, s->timer);
    json_decref(s->body);
    json_decref(s->resize);
    free(s->pin);
    gw_ws_reader_clear(&s->rd);
    gw_ws_out_clear(&s->o);
    free(s->in);
    free(s);
}

/* Ends a session marked dead: the socket goes back to MHD to be closed.
 * The last statement of every entry point that may have marked it. */
static void s_settle(s_sess_t *s)
{
    if (!s->dead)
        return;
    gw_t *g = s->g;
    if (s->upgraded) {
        if (s->events)
            rt_fd_remove(g->a, s->fd);
        MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
    }
    if (s->stream[0]) { /* the client went away: the kubelet ends the command */
        json_t *b = json_pack("{s:s}", "stream", s->stream);
        rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
        rt_call(g->a, s->svc, "stream.close", b, &o, NULL, NULL);
        json_decref(b);
    }
    s_sess_free(s);
    gw_kick(g);
}

static void s_on_io(rt_actor_t *a, int fd, short revents, void *arg);

/* Writes what is buffered; watches POLLOUT while the socket is full. */
static void s_flush(s_sess_t *s)
{
    gw_ws_out_t *o = &s->o;
    while (!s->dead && o->off < o->len) {
        ssize_t n = send(s->fd, o->data + o->off, o->len - o->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            s->dead = true;
            return;
        }
        o->off += (size_t)n;
    }
    if (s->closing && s->peer_closed && o->off == o->len)
        s->dead = true;
    short want = (short)((s->pinlen < S_IN_HIGH ? POLLIN : 0) | (o->off < o->len ? POLLOUT : 0));
    if (s->dead || want == s->events)
        return;
    if (s->events)
        rt_fd_remove(s->g->a, s->fd);
    s->events = want;
    if (want && rt_fd_add(s->g->a, s->fd, want, s_on_io, s) < 0)
        s->dead = true;
}

static void s_on_linger(rt_actor_t *a, void *arg)
{
    s_sess_t *s = arg;
    (void)a;
    s->timer = 0;
    s->dead = true;
    s_settle(s);
}

/* Sends our close frame (once) and waits a little for the client's. */
static void s_close(s_sess_t *s, unsigned code, const char *reason)
{
    if (s->closing)
        return;
    s->closing = true;
    gw_ws_out_close(&s->o, code, reason);
    if (s->timer > 0)
        rt_timer_cancel(s->g->a, s->timer);
    s->timer = rt_timer_add(s->g->a, S_LINGER_MS, false, s_on_linger, s);
}

/* ---- input ------------------------------------------------------------------- */

static void s_pump(s_sess_t *s);

/* Input for the command: channel 0 (stdin), 4 (resize), 255 (v5 CLOSE). */
static void s_channel(s_sess_t *s, const uint8_t *d, size_t len)
{
    if (len < 1)
        return;
    if (d[0] == 0 && !s->in_closed) {
        if (s->pinlen + len - 1 > s->pincap) {
            size_t cap = s->pincap ? s->pincap : 16384;
            while (cap < s->pinlen + len - 1)
                cap *= 2;
            uint8_t *p = realloc(s->pin, cap);
            if (!p)
                abort();
            s->pin = p;
            s->pincap = cap;
        }
        memcpy(s->pin + s->pinlen, d + 1, len - 1);
        s->pinlen += len - 1;
    } else if (d[0] == 4) { /* {"Width":80,"Height":24} */
        json_t *v = json_loadb((const char *)d + 1, len - 1, 0, NULL);
        json_int_t w = json_integer_value(json_object_get(v, "Width"));
        json_int_t h = json_integer_value(json_object_get(v, "Height"));
        if (w > 0 && h > 0 && w < 10000 && h < 10000) {
            json_decref(s->resize);
            s->resize = json_pack("{s:I, s:I}", "width", w, "height", h);
        }
        json_decref(v);
    } else if (d[0] == 255 && len >= 2 && d[1] == 0) /* v5: stdin is closed */
        s->in_closed = true;
}

static void s_event(s_sess_t *s, const gw_ws_event_t *ev)
{
    switch (ev->type) {
    case GW_WS_EV_PING: /* nothing may follow our close frame */
        if (!s->closing)
            gw_ws_out_frame(&s->o, GW_WS_PONG, NULL, 0, ev->data, ev->len);
        break;
    case GW_WS_EV_CLOSE:
        s->peer_closed = true;
        s_close(s, GW_WS_CLOSE_NORMAL, "");
        break;
    case GW_WS_EV_MESSAGE:
        if (!s->closing)
            s_channel(s, ev->data, ev->len);
        break;
    default:
        break;
    }
}

static void s_parse_input(s_sess_t *s)
{
    size_t used = 0;
    while (!s->peer_closed && used < s->inlen) {
        gw_ws_event_t ev;
        ssize_t n = gw_ws_read(&s->rd, s->in + used, s->inlen - used, &ev);
        if (n == GW_WS_PARTIAL)
            break;
        if (n < 0) {
            rt_debug("exec: bad WebSocket input (%zd); closing", n);
            s_close(s, gw_ws_close_code_for(n), "protocol error");
            s->peer_closed = true; /* nothing more is read */
            used = s->inlen;
            break;
        }
        used += (size_t)n;
        s_event(s, &ev);
    }
    memmove(s->in, s->in + used, s->inlen - used);
    s->inlen -= used;
}

static void s_input(s_sess_t *s, const void *data, size_t len)
{
    if (s->peer_closed)
        return;
    if (len > S_MAX_IN - s->inlen) {
        s_close(s, GW_WS_CLOSE_TOO_BIG, "input too large");
        s->peer_closed = true;
        return;
    }
    if (s->inlen + len > s->incap) {
        size_t cap = s->incap ? s->incap : 16384;
        while (cap < s->inlen + len)
            cap *= 2;
        uint8_t *in = realloc(s->in, cap);
        if (!in)
            abort();
        s->in = in;
        s->incap = cap;
    }
    memcpy(s->in + s->inlen, data, len);
    s->inlen += len;
    s_parse_input(s);
}

static void s_read_socket(s_sess_t *s)
{
    char buf[16384];
    for (;;) {
        ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* the client is gone */
            s->dead = true;
            return;
        }
        s_input(s, buf, (size_t)n);
        if (s->peer_closed || s->pinlen >= S_IN_HIGH) /* the rest waits in the socket */
            return;
    }
}

static void s_on_io(rt_actor_t *a, int fd, short revents, void *arg)
{
    s_sess_t *s = arg;
    (void)a;
    (void)fd;
    if (revents & (POLLIN | POLLERR | POLLHUP))
        s_read_socket(s);
    s_pump(s);
    s_flush(s);
    s_settle(s);
}

/* ---- the stream's output ---------------------------------------------------------- */

static void s_data(s_sess_t *s, uint8_t channel, const char *text, size_t len)
{
    for (size_t off = 0; off < len; off += S_CHUNK) {
        size_t n = len - off < S_CHUNK ? len - off : S_CHUNK;
        gw_ws_out_frame(&s->o, GW_WS_BINARY, &channel, 1, text + off, n);
    }
}

/* Decodes the base64 member key of body onto channel. */
static void s_data_b64(s_sess_t *s, uint8_t channel, const json_t *body, const char *key)
{
    const json_t *v = json_object_get(body, key);
    size_t n = 0;
    char *d = json_is_string(v) ? proto_b64_decode(json_string_value(v), json_string_length(v), &n)
                                : NULL;
    if (d && n)
        s_data(s, channel, d, n);
    free(d);
}

/* The metav1.Status of channel 3 for the command's exit code. */
static json_t *s_exit_status(const s_sess_t *s, int rc)
{
    if (rc == 0)
        return proto_status_success(200, NULL);
    char msg[300], num[8];
    char *argv = json_dumps(json_object_get(s->body, "command"), JSON_COMPACT);
    snprintf(msg, sizeof msg,
             "command terminated with non-zero exit code: error executing command %.200s, "
             "exit code %d",
             argv ? argv : "[]", rc);
    free(argv);
    snprintf(num, sizeof num, "%d", rc);
    return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "kind", "Status",
                     "apiVersion", "v1", "metadata", "status", "Failure", "message", msg,
                     "reason", "NonZeroExitCode", "details", "causes", "reason", "ExitCode",
                     "message", num);
}

/* Ends the session with st (stolen) on channel 3. */
static void s_finish(s_sess_t *s, json_t *st)
{
    char *text = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    s_data(s, 3, text ? text : "", text ? strlen(text) : 0);
    free(text);
    s->stream[0] = '\0'; /* ended (or never opened): nothing to close */
    s_close(s, GW_WS_CLOSE_NORMAL, "");
}

/* A kubelet error as the Status of channel 3. */
static json_t *s_call_status(int code, const json_t *body)
{
    const char *msg = json_string_value(json_object_get(body, "message"));
    int perr = code >= 100 ? proto_err_from_status(body) : PROTO_EUNAVAILABLE;
    return proto_status_new(perr ? perr : PROTO_EINTERNAL, msg ? msg : "exec failed", NULL);
}

/* rt_call's arg: the session by id (it may be gone when the reply comes). */
static uint64_t *s_idp(const s_sess_t *s)
{
    uint64_t *idp = malloc(sizeof *idp);
    if (!idp)
        abort();
    *idp = s->id;
    return idp;
}

static s_sess_t *s_from(void *arg)
{
    s_sess_t *s = s_sess_find(*(uint64_t *)arg);
    free(arg);
    return s && !s->dead && !s->closing ? s : NULL;
}

static void s_on_read(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_sess_t *s = s_from(arg);
    (void)a;
    if (!s)
        return;
    s->reading = false;
    if (code != 200)
        s_finish(s, s_call_status(code, body));
    else {
        if (s->out)
            s_data_b64(s, 1, body, "stdout");
        if (s->err)
            s_data_b64(s, 2, body, "stderr");
        if (json_is_true(json_object_get(body, "end"))) {
            json_int_t rc = json_integer_value(json_object_get(body, "exitCode"));
            s_finish(s, s_exit_status(s, rc >= 0 && rc <= 255 ? (int)rc : 255));
        }
    }
    s_pump(s);
    s_flush(s);
    s_settle(s);
}

static void s_on_write(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_sess_t *s = s_from(arg);
    (void)a;
    (void)body;
    if (!s)
        return;
    s->writing = false;
    if (code != 200) /* the command's input is gone: drop what waits */
        s->pinlen = 0;
    s_pump(s);
    s_flush(s);
    s_settle(s);
}

static void s_call_io(s_sess_t *s, json_t *b, rt_reply_fn *fn)
{
    json_object_set_new(b, "stream", json_string(s->stream));
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
    uint64_t *idp = s_idp(s);
    int rc = rt_call(s->g->a, s->svc, "stream.io", b, &o, fn, idp);
    json_decref(b);
    if (rc < 0) {
        free(idp);
        s_finish(s, proto_status_new(PROTO_EINTERNAL, "cannot send the request to the kubelet",
                                     NULL));
    }
}

/* Keeps one read and one write in flight while there is work for them. */
static void s_pump(s_sess_t *s)
{
    if (!s->stream[0] || s->dead || s->closing)
        return;
    if (!s->writing && (s->pinlen || s->resize || (s->in_closed && !s->close_sent))) {
        json_t *b = json_object();
        size_t n = s->pinlen < S_WRITE_MAX ? s->pinlen : S_WRITE_MAX;
        if (n) {
            char *enc = proto_b64_encode(s->pin, n);
            json_object_set_new(b, "data", json_string(enc));
            free(enc);
            memmove(s->pin, s->pin + n, s->pinlen - n);
            s->pinlen -= n;
        }
        if (s->resize) {
            json_object_set_new(b, "resize", s->resize);
            s->resize = NULL;
        }
        if (s->in_closed && !s->pinlen && !s->close_sent) {
            json_object_set_new(b, "close", json_true());
            s->close_sent = true;
        }
        s->writing = true;
        s_call_io(s, b, s_on_write);
    }
    if (!s->reading && !s->closing && s->o.len - s->o.off < S_OUT_HIGH) {
        s->reading = true;
        s_call_io(s, json_pack("{s:i}", "waitMs", 2000), s_on_read);
    }
}

static void s_on_open(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_sess_t *s = s_from(arg);
    (void)a;
    if (!s)
        return;
    const char *id = json_string_value(json_object_get(body, "stream"));
    if (code != 200 || !id)
        s_finish(s, s_call_status(code, body));
    else
        snprintf(s->stream, sizeof s->stream, "%s", id);
    s_pump(s);
    s_flush(s);
    s_settle(s);
}

static void s_run(s_sess_t *s)
{
    uint64_t *idp = s_idp(s);
    /* no retries: running a command twice is not idempotent */
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
    if (rt_call(s->g->a, s->svc, "stream.open", s->body, &o, s_on_open, idp) < 0) {
        free(idp);
        s_finish(s, proto_status_new(PROTO_EINTERNAL, "cannot send the request to the kubelet",
                                     NULL));
    }
}

/* ---- the upgrade ----------------------------------------------------------------- */

static void s_on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
                         size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    s_sess_t *s = cls;
    (void)c;
    (void)con_cls;
    if (!s_sess_alive(s)) { /* waited too long: given up on */
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    if (s->timer > 0)
        rt_timer_cancel(s->g->a, s->timer);
    s->timer = 0;
    s->fd = sock;
    s->urh = urh;
    s->upgraded = true;
    s->events = POLLIN;
    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    int one = 1; /* interactive: no waiting on the client's delayed ACK */
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rt_fd_add(s->g->a, sock, POLLIN, s_on_io, s) < 0) {
        s->dead = true;
        s_settle(s);
        return;
    }
    if (extra_len)
        s_input(s, extra, extra_len);
    s_run(s);
    s_flush(s);
    s_settle(s);
}

static void s_on_upgrade_timeout(rt_actor_t *a, void *arg)
{
    s_sess_t *s = arg;
    (void)a;
    s->timer = 0;
    s_sess_free(s);
}

static enum MHD_Result s_answer_upgrade(gw_sub_t *sub, struct MHD_Connection *c)
{
    s_req_t *r = (s_req_t *)sub;
    s_sess_t *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->id = gw_next_id(sub->g);
    s->g = sub->g;
    s->fd = -1;
    s->body = json_incref(r->body);
    snprintf(s->svc, sizeof s->svc, "%s", r->svc);
    s->out = r->out;
    s->err = r->err;
    s->rd.need_mask = true;
    s->rd.max_message = S_MAX_IN;
    s->next = s_sessions;
    s_sessions = s;
    s->timer = rt_timer_add(s->g->a, S_UPGRADE_WAIT_MS, false, s_on_upgrade_timeout, s);
    struct MHD_Response *resp = MHD_create_response_for_upgrade(s_on_upgrade, s);
    enum MHD_Result ok = MHD_NO;
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
        MHD_add_response_header(resp, "Sec-WebSocket-Accept", r->accept);
        MHD_add_response_header(resp, "Sec-WebSocket-Protocol", r->proto);
        ok = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
        MHD_destroy_response(resp);
    }
    if (ok != MHD_YES)
        s_sess_free(s);
    sub->destroy(sub);
    return ok;
}

void gw_exec_stop_all(gw_t *g)
{
    for (s_sess_t *s = s_sessions, *next; s; s = next) {
        next = s->next;
        if (s->g != g || !s->upgraded)
            continue;
        rt_fd_remove(g->a, s->fd);
        MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
        s_sess_free(s);
    }
}

/* ---- before the upgrade ------------------------------------------------------------ */

static void s_on_pod(rt_actor_t *a, int code, const json_t *pod, void *arg)
{
    s_req_t *r = arg;
    json_t *err = NULL;
    char msg[400];
    (void)a;
    if (code != 200 || !json_is_object(pod)) {
        s_done(r, code, pod ? json_incref((json_t *)pod) : NULL);
        return;
    }
    const char *ctr =
        gw_sub_container(pod, json_string_value(json_object_get(r->body, "container")), &err);
    if (!ctr) {
        s_done(r, 400, err);
        return;
    }
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (!node || !*node || strlen(node) > GW_NAME_MAX) {
        snprintf(msg, sizeof msg, "pod %s does not have a host assigned",
                 proto_obj_name(pod) ? proto_obj_name(pod) : "");
        s_done(r, 400, proto_status_new(PROTO_EBADREQUEST, msg, NULL));
        return;
    }
    if (r->ws != 1) {
        s_done(r, 400, proto_status_new(PROTO_EBADREQUEST, r->why, NULL));
        return;
    }
    snprintf(r->svc, sizeof r->svc, "kubelet-%s", node);
    json_object_set_new(r->body, "container", json_string(ctr));
    r->sub.answer = s_answer_upgrade;
    gw_sub_ready(&r->sub);
}

static enum MHD_Result s_collect_cmd(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    if (key && !strcmp(key, "command") && json_array_size(cls) <= S_MAX_ARGS)
        json_array_append_new(cls, json_string(value ? value : ""));
    return MHD_YES;
}

/* The command from the query; NULL with a reason in why. */
static json_t *s_command(gw_conn_t *x, const char **why)
{
    json_t *cmd = json_array();
    size_t i, total = 0;
    json_t *v;
    MHD_get_connection_values(x->c, MHD_GET_ARGUMENT_KIND, s_collect_cmd, cmd);
    json_array_foreach(cmd, i, v) total += json_string_length(v) + 1;
    *why = !json_array_size(cmd) || !json_string_length(json_array_get(cmd, 0))
               ? "you must specify at least one command for the container"
           : json_array_size(cmd) > S_MAX_ARGS || total > S_MAX_ARGV_BYTES
               ? "the command is too long"
               : NULL;
    if (*why) {
        json_decref(cmd);
        return NULL;
    }
    return cmd;
}

static const char *s_arg(gw_conn_t *x, const char *key)
{
    return MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, key);
}

static const char *s_hdr(gw_conn_t *x, const char *key)
{
    return MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, key);
}

/* A reason to refuse the flags; NULL when all is well. */
static const char *s_flags_why(gw_conn_t *x)
{
    bool in = gw_sub_truthy(s_arg(x, "stdin")), out = gw_sub_truthy(s_arg(x, "stdout"));
    bool err = gw_sub_truthy(s_arg(x, "stderr"));
    if (!in && !out && !err)
        return "you must specify at least one of stdin, stdout, stderr";
    return NULL;
}

/* The handshake's verdict, kept until the pod has been checked. */
static void s_handshake(s_req_t *r, gw_conn_t *x, const char *method)
{
    r->ws = gw_ws_check_upgrade(method, s_hdr(x, "Upgrade"), s_hdr(x, "Connection"),
                                s_hdr(x, "Sec-WebSocket-Version"), s_hdr(x, "Sec-WebSocket-Key"),
                                r->why, sizeof r->why);
    if (r->ws == 0)
        snprintf(r->why, sizeof r->why,
                 "zkube's gateway serves exec over WebSocket only (%s or %s); SPDY is not "
                 "supported",
                 s_protocols[0], s_protocols[1]);
    if (r->ws != 1)
        return;
    r->proto = gw_ws_pick_protocol(s_hdr(x, "Sec-WebSocket-Protocol"), s_protocols);
    if (!r->proto) {
        r->ws = PROTO_EBADREQUEST;
        snprintf(r->why, sizeof r->why, "exec needs the WebSocket subprotocol %s or %s",
                 s_protocols[0], s_protocols[1]);
        return;
    }
    gw_ws_accept(s_hdr(x, "Sec-WebSocket-Key"), r->accept);
}

static enum MHD_Result s_reply_now(gw_conn_t *x, int perr, const char *msg)
{
    json_t *st = proto_status_new(perr, msg, NULL);
    x->state = GW_C_SENT;
    enum MHD_Result r = gw_send_json(x->c, proto_err_http(perr), st);
    json_decref(st);
    return r;
}

enum MHD_Result gw_exec_start(gw_t *g, gw_conn_t *x, const char *method)
{
    const char *why = NULL;
    if (strcmp(method, "GET") && strcmp(method, "POST"))
        return s_reply_now(x, PROTO_EMETHOD,
                           "the server does not allow this method on the requested resource");
    if (!*x->route.name || !*x->route.ns)
        return s_reply_now(x, PROTO_ENOTFOUND, "the server could not find the requested resource");
    json_t *cmd = s_command(x, &why);
    if (!why)
        why = s_flags_why(x);
    if (why) {
        json_decref(cmd);
        return s_reply_now(x, PROTO_EBADREQUEST, why);
    }
    s_req_t *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->sub = (gw_sub_t){.g = g, .id = x->id, .destroy = s_req_destroy};
    r->body = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "type", "exec", "namespace",
                        x->route.ns, "name", x->route.name, "command", cmd, "stdin",
                        gw_sub_truthy(s_arg(x, "stdin")), "tty", gw_sub_truthy(s_arg(x, "tty")));
    const char *ctr = s_arg(x, "container");
    if (ctr && *ctr)
        json_object_set_new(r->body, "container", json_string(ctr));
    r->out = gw_sub_truthy(s_arg(x, "stdout"));
    r->err = gw_sub_truthy(s_arg(x, "stderr"));
    s_handshake(r, x, method);
    json_t *get = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", x->route.ns, "name",
                            x->route.name);
    rt_call_opts_t o = {.timeout_ms = 10000, .retries = 2};
    int rc = rt_call(g->a, "apiserver", "get", get, &o, s_on_pod, r);
    json_decref(get);
    if (rc < 0) {
        s_req_destroy(&r->sub);
        return s_reply_now(x, PROTO_EINTERNAL, "cannot send the request to the apiserver");
    }
    x->state = GW_C_WAIT;
    MHD_suspend_connection(x->c);
    return MHD_YES;
}
