/*
 * runtime/actor — the actor's connection to the broker: sockets and
 * identity, the wire commands (REQ/REP/RDY/HB/BYE), serving requests,
 * heartbeat replies that reveal a broker restart, and the event bus with
 * local prefix dispatch. The loop is in actor_loop.c, outgoing calls in
 * actor_call.c.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "protocol/codec.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor_int.h"
#include "runtime/log.h"

/* One ZeroMQ context per process, shared by its actors; a forked child
 * never touches its parent's context. Its I/O thread runs as SCHED_BATCH
 * (rt_zmq_batch_io). */
static void *s_ctx;
static int s_ctx_refs;
static pid_t s_ctx_pid;

static void *s_ctx_get(void)
{
    if (!s_ctx || s_ctx_pid != getpid()) {
        s_ctx = zmq_ctx_new();
        if (s_ctx)
            rt_zmq_batch_io(s_ctx);
        s_ctx_refs = 0;
        s_ctx_pid = getpid();
    }
    if (s_ctx)
        s_ctx_refs++;
    return s_ctx;
}

void rt_zmq_batch_io(void *ctx)
{
    zmq_ctx_set(ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_BATCH);
}

static void s_ctx_put(void *ctx)
{
    if (ctx != s_ctx || s_ctx_pid != getpid())
        return;
    if (--s_ctx_refs <= 0) {
        zmq_ctx_term(s_ctx);
        s_ctx = NULL;
    }
}

static uint32_t s_random32(void)
{
    uint32_t r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)proto_wall_us() ^ (uint32_t)getpid() << 16;
    return r;
}

static void *s_sock(rt_actor_t *a, const rt_config_t *cfg, int type, const char *ep, char *err,
                    size_t errlen)
{
    void *s = zmq_socket(a->ctx, type);
    if (!s)
        return NULL;
    int rc = rt_curve_client(cfg, s, err, errlen);
    if (rc) {
        zmq_close(s);
        errno = -rc;
        return NULL;
    }
    int linger = 200, hwm = RT_HWM;
    int64_t maxmsg = (int64_t)PROTO_MAX_MSG + 4096;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* ZMTP heartbeats: a vanished broker host is noticed and redialled */
    int hb_ivl = RT_HB_MS, hb_timeout = RT_HB_LOST_MS;
    zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
    zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
    if (type == ZMQ_DEALER)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, a->ident, strlen(a->ident));
    if (zmq_connect(s, ep) != 0) {
        int e = errno;
        zmq_close(s);
        errno = e;
        return NULL;
    }
    return s;
}

int rt_actor_open(rt_actor_t **out, const char *id, const rt_config_t *cfg, char *err,
                  size_t errlen)
{
    char dummy[8];
    if (!err || !errlen)
        err = dummy, errlen = sizeof dummy;
    *out = NULL;
    rt_endpoints_t eps;
    if (!id || !*id || strlen(id) >= PROTO_ID_MAX) {
        snprintf(err, errlen, "actor id must be 1..%d bytes", PROTO_ID_MAX - 1);
        return -EINVAL;
    }
    if (rt_endpoints_from(cfg->broker, &eps) != 0) {
        snprintf(err, errlen, "bad broker endpoint %s", cfg->broker);
        return -EINVAL;
    }
    rt_actor_t *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    if (!rt_log_is_init())
        rt_log_init(id);
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->ident, sizeof a->ident, "%s#%08x", id, s_random32());
    a->id_hi = (uint64_t)(s_random32() & 0x7fffffffu) << 32;
    a->ctx = s_ctx_get();
    err[0] = '\0';
    if (!a->ctx || !(a->dealer = s_sock(a, cfg, ZMQ_DEALER, eps.router, err, errlen)) ||
        !(a->pub = s_sock(a, cfg, ZMQ_PUB, eps.pub, err, errlen)) ||
        !(a->sub = s_sock(a, cfg, ZMQ_SUB, eps.sub, err, errlen))) {
        int rc = errno ? -errno : -ENOMEM;
        if (!err[0])
            snprintf(err, errlen, "cannot connect to broker %s: %s", cfg->broker,
                     zmq_strerror(-rc));
        rt_actor_destroy(&a);
        return rc;
    }
    *out = a;
    return 0;
}

static void s_free_lists(rt_actor_t *a)
{
    for (size_t i = 0; i < a->nsub; i++)
        free(a->subs[i].prefix);
    free(a->subs);
    free(a->svcs);
    free(a->fds);
    free(a->batch);
    free(a->reconn);
    while (a->bl_head) {
        rt_backlog_s_t *b = a->bl_head;
        a->bl_head = b->next;
        rt__close_frames(b->f, b->n);
        free(b);
    }
}

void rt_actor_destroy(rt_actor_t **ap)
{
    rt_actor_t *a = ap ? *ap : NULL;
    if (!a)
        return;
    if (a->dealer && a->nsvc)
        rt__send(a, "BYE", "", 0, NULL, 0); /* the broker forgets us at once */
    void **socks[] = {&a->dealer, &a->pub, &a->sub};
    for (int i = 0; i < 3; i++)
        if (*socks[i])
            zmq_close(*socks[i]);
    if (a->ctx)
        s_ctx_put(a->ctx);
    rt__calls_free(a);
    rt__timers_free(a);
    s_free_lists(a);
    free(a);
    *ap = NULL;
}

const char *rt_actor_id(const rt_actor_t *a)
{
    return a->id;
}

void rt_actor_stats(const rt_actor_t *a, rt_stats_t *out)
{
    *out = a->stats;
}

/* --- wire ---------------------------------------------------------------- */

int rt__send(rt_actor_t *a, const char *cmd, const void *addr, size_t alen, const void *env,
             size_t elen)
{
    int more = env ? ZMQ_SNDMORE : 0;
    if (zmq_send(a->dealer, cmd, strlen(cmd), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    zmq_send(a->dealer, addr, alen, more | ZMQ_DONTWAIT);
    if (env)
        zmq_send(a->dealer, env, elen, ZMQ_DONTWAIT);
    a->stats.msgs_out++;
    a->stats.bytes_out += strlen(cmd) + alen + elen;
    return 0;
}

int rt__recv(void *sock, zmq_msg_t *f, int max)
{
    int n = 0, more = 1, flags = ZMQ_DONTWAIT;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, flags) < 0) {
            zmq_msg_close(&m);
            break;
        }
        flags = 0;
        more = zmq_msg_more(&m);
        if (n < max)
            f[n++] = m;
        else
            n = max + 1, zmq_msg_close(&m);
    }
    if (n > max)
        rt__close_frames(f, max);
    return n;
}

void rt__close_frames(zmq_msg_t *f, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static bool s_is(zmq_msg_t *f, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(f) == n && !memcmp(zmq_msg_data(f), s, n);
}

/* --- serving ------------------------------------------------------------- */

int rt_serve(rt_actor_t *a, const char *service, rt_req_fn *fn, void *arg)
{
    if (!service || !*service || strlen(service) >= PROTO_DST_MAX || !fn)
        return -EINVAL;
    for (size_t i = 0; i < a->nsvc; i++)
        if (!strcmp(a->svcs[i].name, service))
            return -EEXIST;
    rt_service_s_t *v = realloc(a->svcs, (a->nsvc + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    a->svcs = v;
    snprintf(v[a->nsvc].name, sizeof v[a->nsvc].name, "%s", service);
    v[a->nsvc].fn = fn;
    v[a->nsvc].arg = arg;
    a->nsvc++;
    return rt__send(a, "RDY", service, strlen(service), NULL, 0);
}

void rt__send_rdys(rt_actor_t *a)
{
    for (size_t i = 0; i < a->nsvc; i++)
        rt__send(a, "RDY", a->svcs[i].name, strlen(a->svcs[i].name), NULL, 0);
}

static int s_send_reply(rt_actor_t *a, const void *addr, size_t alen, uint64_t id,
                        const char *dst, const char *op, int code, const json_t *body)
{
    proto_env_t e;
    proto_env_init(&e, PROTO_T_REP, id, a->id, dst, op, body);
    e.code = code;
    char *buf = NULL;
    size_t len = 0;
    int rc = proto_env_pack(&e, &buf, &len);
    proto_env_clear(&e);
    if (rc == 0)
        rc = rt__send(a, "REP", addr, alen, buf, len);
    free(buf);
    return rc;
}

int rt_reply(rt_actor_t *a, rt_req_t **reqp, int code, const json_t *body)
{
    rt_req_t *req = reqp ? *reqp : NULL;
    if (!req)
        return -EINVAL;
    int rc = s_send_reply(a, req->_addr, req->_addr_len, req->env.id, req->env.src,
                          req->env.op, code, body);
    if (rc == PROTO_ETOOLARGE) { /* the client still deserves an answer */
        json_t *st = proto_status_new(PROTO_ETOOLARGE, "reply too large", NULL);
        rc = s_send_reply(a, req->_addr, req->_addr_len, req->env.id, req->env.src,
                          req->env.op, 413, st);
        json_decref(st);
    }
    proto_env_clear(&req->env);
    free(req->_addr);
    free(req);
    *reqp = NULL;
    return rc;
}

int rt_reply_raw(rt_actor_t *a, rt_req_t **reqp, int code, const void *body, size_t blen)
{
    rt_req_t *req = reqp ? *reqp : NULL;
    if (!req)
        return -EINVAL;
    proto_env_t e;
    proto_env_init(&e, PROTO_T_REP, req->env.id, a->id, req->env.src, req->env.op, NULL);
    e.code = code;
    char *buf = NULL;
    size_t len = 0;
    int rc = proto_env_pack_raw(&e, body, blen, &buf, &len);
    if (rc == 0) {
        rc = rt__send(a, "REP", req->_addr, req->_addr_len, buf, len);
        free(buf);
        proto_env_clear(&req->env);
        free(req->_addr);
        free(req);
        *reqp = NULL;
        return rc;
    }
    json_t *st = rc == PROTO_ETOOLARGE ? proto_status_new(PROTO_ETOOLARGE, "reply too large", NULL)
                                       : proto_status_new(PROTO_EINTERNAL, "bad reply", NULL);
    rc = rt_reply(a, reqp, rc == PROTO_ETOOLARGE ? 413 : 500, st);
    json_decref(st);
    return rc;
}

/* A request that does not decode: answer 400 if its id can be read. */
static void s_bad_request(rt_actor_t *a, zmq_msg_t *client, zmq_msg_t *env, const char *why)
{
    json_t *raw = NULL;
    json_t *id = NULL;
    if (proto_mp_unpack(zmq_msg_data(env), zmq_msg_size(env), &raw, NULL, 0) == 0)
        id = json_is_object(raw) ? json_object_get(raw, "id") : NULL;
    if (!json_is_integer(id) || json_integer_value(id) < 0) {
        a->stats.dropped_bad++;
    } else {
        json_t *st = proto_status_new(PROTO_EBADREQUEST, why, NULL);
        s_send_reply(a, zmq_msg_data(client), zmq_msg_size(client),
                     (uint64_t)json_integer_value(id), "", "", 400, st);
        json_decref(st);
    }
    rt_debug("bad request: %s", why);
    json_decref(raw);
}

static void s_on_req(rt_actor_t *a, zmq_msg_t *client, zmq_msg_t *env)
{
    char err[160], why[200];
    rt_req_t *req = calloc(1, sizeof *req);
    if (!req)
        return;
    if (proto_env_unpack(zmq_msg_data(env), zmq_msg_size(env), &req->env, err, sizeof err)) {
        free(req);
        snprintf(why, sizeof why, "bad envelope: %s", err);
        s_bad_request(a, client, env, why);
        return;
    }
    rt_service_s_t *svc = NULL;
    for (size_t i = 0; i < a->nsvc && !svc; i++)
        if (!strcmp(a->svcs[i].name, req->env.dst))
            svc = &a->svcs[i];
    req->_addr_len = zmq_msg_size(client);
    req->_addr = malloc(req->_addr_len ? req->_addr_len : 1);
    if (req->_addr_len)
        memcpy(req->_addr, zmq_msg_data(client), req->_addr_len);
    if (req->env.type != PROTO_T_REQ || !svc) {
        snprintf(why, sizeof why, "%s", !svc ? "service not served by this actor"
                                             : "envelope type is not req");
        json_t *st = proto_status_new(!svc ? PROTO_ENOTFOUND : PROTO_EBADREQUEST, why, NULL);
        rt_reply(a, &req, !svc ? 404 : 400, st);
        json_decref(st);
        return;
    }
    svc->fn(a, req, svc->arg);
}

void rt__on_dealer(rt_actor_t *a, zmq_msg_t *f, int n)
{
    a->stats.msgs_in++;
    for (int i = 0; i < n; i++)
        a->stats.bytes_in += zmq_msg_size(&f[i]);
    if (n == 3 && s_is(&f[0], "REQ"))
        s_on_req(a, &f[1], &f[2]);
    else if (n == 3 && s_is(&f[0], "REP"))
        rt__on_reply(a, &f[2]);
    else if (n >= 2 && s_is(&f[0], "HB"))
        rt__on_hb(a, &f[1]);
    else
        a->stats.dropped_bad++;
}

/* A new epoch, or an answer after a silence, means the broker may have
 * forgotten us: register again and let informers relist. */
void rt__on_hb(rt_actor_t *a, zmq_msg_t *epoch)
{
    int64_t now = proto_mono_ms();
    size_t n = zmq_msg_size(epoch);
    if (n == 0 || n >= sizeof a->epoch)
        return;
    bool first = !a->epoch[0];
    bool changed = !first && (strlen(a->epoch) != n || memcmp(a->epoch, zmq_msg_data(epoch), n));
    bool silent = !first && now - a->last_hb_reply >= RT_HB_LOST_MS;
    memcpy(a->epoch, zmq_msg_data(epoch), n);
    a->epoch[n] = '\0';
    a->last_hb_reply = now;
    if (first || changed || silent)
        rt__send_rdys(a); /* idempotent at the broker */
    if (changed || silent) {
        rt_info("broker %s (epoch %s): registering again",
                changed ? "restarted" : "back after silence", a->epoch);
        a->reconnect_pending = true;
    }
}

/* --- hooks --------------------------------------------------------------- */

static int s_hook_add(rt_hook_s_t **v, size_t *n, rt_hook_fn *fn, void *arg)
{
    rt_hook_s_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    nv[*n] = (rt_hook_s_t){fn, arg};
    *v = nv;
    (*n)++;
    return 0;
}

static void s_hook_del(rt_hook_s_t *v, size_t *n, rt_hook_fn *fn, void *arg)
{
    for (size_t i = 0; i < *n; i++) {
        if (v[i].fn != fn || v[i].arg != arg)
            continue;
        memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof v[0]);
        (*n)--;
        return;
    }
}

void rt_on_batch_end(rt_actor_t *a, rt_hook_fn *fn, void *arg)
{
    if (fn)
        s_hook_add(&a->batch, &a->nbatch, fn, arg);
}

void rt_off_batch_end(rt_actor_t *a, rt_hook_fn *fn, void *arg)
{
    s_hook_del(a->batch, &a->nbatch, fn, arg);
}

void rt_on_reconnect(rt_actor_t *a, rt_hook_fn *fn, void *arg)
{
    if (fn)
        s_hook_add(&a->reconn, &a->nreconn, fn, arg);
}

void rt_off_reconnect(rt_actor_t *a, rt_hook_fn *fn, void *arg)
{
    s_hook_del(a->reconn, &a->nreconn, fn, arg);
}
