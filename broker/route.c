/*
 * broker/route — the request router: REQ/REP/RDY/HB/BYE from the ROUTER
 * socket, the queue of requests that wait for a worker (answered 503 after
 * BROKER_QUEUE_TTL_MS), and the broker's own service "broker" (op status).
 * Envelopes are opaque here except on the rare 503 and "broker" paths.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

static int s_msg_set(zmq_msg_t *m, const void *p, size_t n)
{
    if (zmq_msg_init_size(m, n) != 0)
        return -errno;
    if (n)
        memcpy(zmq_msg_data(m), p, n);
    return 0;
}

static void s_count_out(broker_t *b, const void *ident, size_t ilen, zmq_msg_t *env)
{
    broker_peer_t *p = broker_peer_find(b, ident, ilen);
    if (!p)
        return;
    p->msgs_out++;
    p->bytes_out += zmq_msg_size(env);
}

int broker_send(broker_t *b, const void *ident, size_t ilen, const char *cmd, const void *addr,
                size_t alen, zmq_msg_t *env)
{
    zmq_msg_t f[4];
    s_msg_set(&f[0], ident, ilen);
    if (zmq_msg_send(&f[0], b->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        int err = errno;
        zmq_msg_close(&f[0]);
        b->unroutable++;
        return -err;
    }
    s_msg_set(&f[1], cmd, strlen(cmd));
    s_msg_set(&f[2], addr, alen);
    zmq_msg_init(&f[3]);
    if (env)
        zmq_msg_copy(&f[3], env);
    broker_tap(b, "out", ident, ilen, &f[1], env ? 3 : 2);
    s_count_out(b, ident, ilen, &f[3]);
    int last = env ? 3 : 2;
    for (int i = 1; i <= last; i++)
        if (zmq_msg_send(&f[i], b->router, (i < last ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&f[i]);
    if (!env)
        zmq_msg_close(&f[3]);
    return 0;
}

/* Tries each live worker of svc once; 0 when one took the request. */
static int s_dispatch(broker_t *b, const char *svc, const void *client, size_t clen,
                      zmq_msg_t *env)
{
    size_t attempts = 0;
    for (;;) {
        broker_svc_t *s = zhashx_lookup(b->svcs, svc);
        if (!s || attempts >= s->n)
            return -EAGAIN;
        broker_peer_t *w = broker_svc_next(b, svc);
        int rc = broker_send(b, w->ident, w->ident_len, "REQ", client, clen, env);
        if (rc == 0)
            return 0;
        if (rc == -EHOSTUNREACH) /* gone without BYE: forget it now */
            broker_peer_drop(b, w);
        else
            attempts++;
    }
}

/* Answers a request with an error of the broker's own making. */
static void s_reply_error(broker_t *b, const void *client, size_t clen, const char *svc,
                          zmq_msg_t *env, int http, const char *why)
{
    proto_env_t req, rep;
    char err[128];
    if (proto_env_unpack(zmq_msg_data(env), zmq_msg_size(env), &req, err, sizeof err) != 0) {
        b->garbage++;
        return;
    }
    json_t *st = proto_status_new(http == 503 ? PROTO_EUNAVAILABLE : PROTO_EBADREQUEST, why, NULL);
    proto_env_init(&rep, PROTO_T_REP, req.id, "broker", req.src, req.op, st);
    rep.code = http;
    json_decref(st);
    char *buf = NULL;
    size_t len = 0;
    if (proto_env_pack(&rep, &buf, &len) == 0) {
        zmq_msg_t m;
        s_msg_set(&m, buf, len);
        broker_send(b, client, clen, "REP", svc, strlen(svc), &m);
        zmq_msg_close(&m);
    }
    free(buf);
    proto_env_clear(&rep);
    proto_env_clear(&req);
}

static void s_reply_503(broker_t *b, const void *client, size_t clen, const char *svc,
                        zmq_msg_t *env)
{
    char why[PROTO_DST_MAX + 32];
    int n = snprintf(why, sizeof why, "no worker for service %s", svc);
    for (int i = 0; i < n && i < (int)sizeof why; i++) /* svc came from the wire */
        if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] >= 0x7f)
            why[i] = '?';
    b->no_worker++;
    s_reply_error(b, client, clen, svc, env, 503, why);
}

static void s_enqueue(broker_t *b, const char *svc, const void *client, size_t clen,
                      zmq_msg_t *env)
{
    if (b->q_len >= BROKER_QUEUE_MAX) {
        b->queue_full++;
        s_reply_503(b, client, clen, svc, env);
        return;
    }
    broker_pending_t *q = calloc(1, sizeof *q);
    if (!q)
        return;
    snprintf(q->svc, sizeof q->svc, "%s", svc);
    s_msg_set(&q->client, client, clen);
    zmq_msg_init(&q->env);
    zmq_msg_copy(&q->env, env);
    q->t0 = proto_mono_ms();
    if (b->q_tail)
        b->q_tail->next = q;
    else
        b->q_head = q;
    b->q_tail = q;
    b->q_len++;
}

static void s_pending_free(broker_pending_t *q)
{
    zmq_msg_close(&q->client);
    zmq_msg_close(&q->env);
    free(q);
}

void broker_queue_flush(broker_t *b, const char *svc)
{
    broker_pending_t **pp = &b->q_head, *prev = NULL;
    while (*pp) {
        broker_pending_t *q = *pp;
        if ((svc ? strcmp(q->svc, svc) != 0 : !zhashx_lookup(b->svcs, q->svc)) ||
            s_dispatch(b, svc, zmq_msg_data(&q->client), zmq_msg_size(&q->client), &q->env)) {
            prev = q;
            pp = &q->next;
            continue;
        }
        *pp = q->next;
        if (b->q_tail == q)
            b->q_tail = prev;
        b->q_len--;
        s_pending_free(q);
    }
}

void broker_queue_expire(broker_t *b, int64_t now)
{
    if (b->q_head)
        broker_queue_flush(b, NULL); /* workers that were full may have room now */
    while (b->q_head && now - b->q_head->t0 >= BROKER_QUEUE_TTL_MS) {
        broker_pending_t *q = b->q_head;
        b->q_head = q->next;
        if (!b->q_head)
            b->q_tail = NULL;
        b->q_len--;
        s_reply_503(b, zmq_msg_data(&q->client), zmq_msg_size(&q->client), q->svc, &q->env);
        s_pending_free(q);
    }
}

void broker_queue_fini(broker_t *b)
{
    while (b->q_head) {
        broker_pending_t *q = b->q_head;
        b->q_head = q->next;
        s_pending_free(q);
    }
    b->q_tail = NULL;
    b->q_len = 0;
}

/* The routing id as text: itself when printable, else hex. */
static json_t *s_ident_json(const broker_peer_t *p)
{
    for (size_t i = 0; i < p->ident_len; i++)
        if (p->ident[i] < 0x20 || p->ident[i] >= 0x7f)
            return json_string(p->key);
    return json_stringn((const char *)p->ident, p->ident_len);
}

static json_t *s_peer_json(const broker_peer_t *p, int64_t now)
{
    json_t *svcs = json_array();
    for (size_t i = 0; i < p->nsvc; i++)
        json_array_append_new(svcs, json_string(p->svcs[i]));
    return json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "id", p->id, "identity",
                     s_ident_json(p), "services", svcs, "msgs_in", (json_int_t)p->msgs_in,
                     "msgs_out", (json_int_t)p->msgs_out, "bytes_in", (json_int_t)p->bytes_in,
                     "bytes_out", (json_int_t)p->bytes_out, "last_seen_ms",
                     (json_int_t)(now - p->last_seen));
}

static json_t *s_status_json(broker_t *b)
{
    int64_t now = proto_mono_ms();
    json_t *peers = json_array();
    for (broker_peer_t *p = zhashx_first(b->peers); p; p = zhashx_next(b->peers))
        json_array_append_new(peers, s_peer_json(p, now));
    json_t *st = json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "epoch", b->epoch, "peers",
                     peers, "tap_dropped", (json_int_t)b->tap_dropped, "tap_sent",
                     (json_int_t)b->tap_sent, "garbage", (json_int_t)b->garbage, "unroutable",
                     (json_int_t)b->unroutable, "queued", (json_int_t)b->q_len, "no_worker",
                     (json_int_t)b->no_worker, "events", (json_int_t)b->events);
    json_object_set_new(st, "curve", json_boolean(b->curve));
    json_object_set_new(st, "auth_denied", json_integer((json_int_t)b->auth_denied));
    return st;
}

static void s_serve_self(broker_t *b, const void *client, size_t clen, zmq_msg_t *env)
{
    proto_env_t req, rep;
    char err[128];
    if (proto_env_unpack(zmq_msg_data(env), zmq_msg_size(env), &req, err, sizeof err) != 0) {
        b->garbage++; /* no id to answer to */
        return;
    }
    if (strcmp(req.op, "status") != 0) {
        proto_env_clear(&req);
        s_reply_error(b, client, clen, "broker", env, 400, "broker: unknown op");
        return;
    }
    json_t *body = s_status_json(b);
    proto_env_init(&rep, PROTO_T_REP, req.id, "broker", req.src, req.op, body);
    rep.code = 200;
    json_decref(body);
    char *buf = NULL;
    size_t len = 0;
    if (proto_env_pack(&rep, &buf, &len) == 0) {
        zmq_msg_t m;
        s_msg_set(&m, buf, len);
        broker_send(b, client, clen, "REP", "broker", 6, &m);
        zmq_msg_close(&m);
    }
    free(buf);
    proto_env_clear(&rep);
    proto_env_clear(&req);
}

/* Copies a frame into a NUL-terminated string; false when too long/empty. */
static bool s_frame_str(zmq_msg_t *f, char *out, size_t cap)
{
    size_t n = zmq_msg_size(f);
    if (n == 0 || n >= cap || memchr(zmq_msg_data(f), '\0', n))
        return false;
    memcpy(out, zmq_msg_data(f), n);
    out[n] = '\0';
    return true;
}

static void s_on_req(broker_t *b, zmq_msg_t *f)
{
    char svc[PROTO_DST_MAX];
    if (!s_frame_str(&f[2], svc, sizeof svc)) {
        b->garbage++;
        return;
    }
    const void *client = zmq_msg_data(&f[0]);
    size_t clen = zmq_msg_size(&f[0]);
    if (!strcmp(svc, "broker"))
        s_serve_self(b, client, clen, &f[3]);
    else if (s_dispatch(b, svc, client, clen, &f[3]) != 0)
        s_enqueue(b, svc, client, clen, &f[3]);
}

static void s_on_rep(broker_t *b, broker_peer_t *p, zmq_msg_t *f)
{
    size_t clen = zmq_msg_size(&f[2]);
    if (clen == 0 || clen > BROKER_IDENT_MAX) {
        b->garbage++;
        return;
    }
    const char *svc = p->nsvc ? p->svcs[0] : "";
    broker_send(b, zmq_msg_data(&f[2]), clen, "REP", svc, strlen(svc), &f[3]);
}

static void s_on_rdy_bye(broker_t *b, broker_peer_t *p, zmq_msg_t *f, int n, bool rdy)
{
    char svc[PROTO_DST_MAX] = "";
    if (n < 3 || (!s_frame_str(&f[2], svc, sizeof svc) && (rdy || zmq_msg_size(&f[2])))) {
        b->garbage++;
        return;
    }
    if (!rdy) {
        if (svc[0])
            broker_svc_remove(b, p, svc);
        else
            broker_peer_drop(b, p);
        return;
    }
    if (broker_svc_add(b, p, svc) != 0) {
        b->garbage++;
        return;
    }
    rt_debug("worker %s serves %s", p->id, svc);
    broker_queue_flush(b, svc);
}

static bool s_cmd_is(zmq_msg_t *f, const char *cmd)
{
    size_t n = strlen(cmd);
    return zmq_msg_size(f) == n && !memcmp(zmq_msg_data(f), cmd, n);
}

void broker_on_router(broker_t *b, zmq_msg_t *f, int n, size_t bytes)
{
    broker_peer_t *p = broker_peer_touch(b, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
    if (!p || n < 2) {
        b->garbage++;
        return;
    }
    p->last_seen = proto_mono_ms();
    p->msgs_in++;
    p->bytes_in += bytes;
    broker_tap(b, "in", p->ident, p->ident_len, &f[1], n - 1);
    if (s_cmd_is(&f[1], "REQ") && n == 4)
        s_on_req(b, f);
    else if (s_cmd_is(&f[1], "REP") && n == 4)
        s_on_rep(b, p, f);
    else if (s_cmd_is(&f[1], "HB"))
        broker_send(b, p->ident, p->ident_len, "HB", b->epoch, strlen(b->epoch), NULL);
    else if (s_cmd_is(&f[1], "RDY"))
        s_on_rdy_bye(b, p, f, n, true);
    else if (s_cmd_is(&f[1], "BYE"))
        s_on_rdy_bye(b, p, f, n, false);
    else
        b->garbage++;
}
