/*
 * runtime/actor_call — outgoing requests: ids (random high half, counter low
 * half, so ids never repeat across restarts of a client), a deadline per
 * attempt, retries that resend the same bytes with the same id (so a worker
 * can recognise a duplicate), and reply matching by id: a late or duplicate
 * reply finds no call and is ignored (calls in flight are found by id in a
 * hash table; the earliest deadline is kept as a bound, so that neither a
 * reply nor a loop turn walks every call). rt_call_sync waits on the
 * DEALER alone and keeps everything else for the loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor_int.h"
#include "runtime/log.h"

uint64_t rt__next_id(rt_actor_t *a)
{
    return a->id_hi | (++a->id_seq & 0xffffffffu);
}

static void s_call_free(rt_call_s_t *c)
{
    if (!c)
        return;
    free(c->buf);
    json_decref(c->body);
    free(c);
}

void rt__calls_free(rt_actor_t *a)
{
    while (a->calls) {
        rt_call_s_t *c = a->calls;
        a->calls = c->next;
        s_call_free(c);
    }
    memset(a->call_tab, 0, sizeof a->call_tab);
}

/* ---- calls in flight: a list, a table by id, a bound on the deadlines ---------- */

static rt_call_s_t **s_bucket(rt_actor_t *a, uint64_t id)
{
    return &a->call_tab[id & (RT_CALL_BUCKETS - 1)];
}

static void s_link(rt_actor_t *a, rt_call_s_t *c)
{
    c->prev = NULL;
    c->next = a->calls;
    if (a->calls)
        a->calls->prev = c;
    a->calls = c;
    rt_call_s_t **b = s_bucket(a, c->id);
    c->hnext = *b;
    *b = c;
    if (c->deadline < a->calls_min)
        a->calls_min = c->deadline;
}

static void s_unlink_call(rt_actor_t *a, rt_call_s_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        a->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    for (rt_call_s_t **pp = s_bucket(a, c->id); *pp; pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    c->next = c->prev = c->hnext = NULL;
}

static int s_attempt(rt_actor_t *a, rt_call_s_t *c)
{
    c->deadline = proto_mono_ms() + c->timeout_ms;
    int rc = rt__send(a, "REQ", c->svc, strlen(c->svc), c->buf, c->len);
    if (rc)
        rt_debug("request %s/%llx not sent: %s", c->svc, (unsigned long long)c->id,
                 zmq_strerror(-rc));
    return 0; /* an unsent attempt simply times out and is retried */
}

static int s_call_new(rt_actor_t *a, const char *service, const char *op, const json_t *body,
                      const rt_call_opts_t *opts, rt_call_s_t **out)
{
    if (!service || !*service || strlen(service) >= PROTO_DST_MAX || !op ||
        strlen(op) >= PROTO_OP_MAX)
        return -EINVAL;
    rt_call_s_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->id = rt__next_id(a);
    snprintf(c->svc, sizeof c->svc, "%s", service);
    c->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : RT_DEFAULT_TIMEOUT_MS;
    c->retries = opts && opts->retries > 0 ? opts->retries : 0;
    c->no_body = opts && opts->no_body;
    proto_env_t e;
    proto_env_init(&e, PROTO_T_REQ, c->id, a->id, service, op, body);
    int rc = proto_env_pack(&e, &c->buf, &c->len);
    proto_env_clear(&e);
    if (rc) {
        s_call_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int rt_call(rt_actor_t *a, const char *service, const char *op, const json_t *body,
            const rt_call_opts_t *opts, rt_reply_fn *cb, void *arg)
{
    rt_call_s_t *c = NULL;
    int rc = s_call_new(a, service, op, body, opts, &c);
    if (rc)
        return rc;
    c->cb = cb;
    c->arg = arg;
    rc = s_attempt(a, c);
    s_link(a, c);
    return rc;
}

static json_t *s_status(int http, const char *svc)
{
    char msg[PROTO_DST_MAX + 64];
    int code = http == 503 ? PROTO_EUNAVAILABLE : PROTO_ETIMEOUT;
    snprintf(msg, sizeof msg, "%s: %s", http == 503 ? "service unavailable" : "request timed out",
             svc);
    return proto_status_new(code, msg, NULL);
}

/* Either hands the result to its caller, or retries when allowed. Returns
 * true when the call is finished. */
static bool s_settle(rt_actor_t *a, rt_call_s_t *c, int code, const json_t *body)
{
    if ((code == 503 || code == 504) && c->retries > 0) {
        c->retries--;
        s_attempt(a, c);
        return false;
    }
    json_t *own = body ? json_incref((json_t *)body) : NULL;
    if (!own && (code == 503 || code == 504))
        own = s_status(code, c->svc);
    if (c == a->sync_call) {
        c->done = true;
        c->code = code;
        c->body = own;
        return true;
    }
    if (c->cb)
        c->cb(a, code, own, c->arg);
    json_decref(own);
    return true;
}

static rt_call_s_t *s_find(rt_actor_t *a, uint64_t id)
{
    for (rt_call_s_t *c = *s_bucket(a, id); c; c = c->hnext)
        if (c->id == id)
            return c;
    return NULL;
}

void rt__on_reply(rt_actor_t *a, zmq_msg_t *env)
{
    proto_env_t e;
    const void *body;
    size_t blen;
    if (proto_env_unpack_head(zmq_msg_data(env), zmq_msg_size(env), &e, &body, &blen, NULL, 0) !=
        0) {
        a->stats.dropped_bad++;
        return;
    }
    if (e.type != PROTO_T_REP) {
        proto_env_clear(&e);
        a->stats.dropped_bad++;
        return;
    }
    rt_call_s_t *c = a->sync_call && a->sync_call->id == e.id ? a->sync_call : s_find(a, e.id);
    /* the body is decoded only for a call that wants it; one that does not
     * decode is dropped as any malformed message is (the call times out) */
    if (c && !c->no_body && body && proto_env_body(&e, body, blen, NULL, 0) != 0) {
        proto_env_clear(&e);
        a->stats.dropped_bad++;
        return;
    }
    if (c) {
        if (c != a->sync_call)
            s_unlink_call(a, c);
        bool done = s_settle(a, c, e.code, c->no_body ? NULL : e.body);
        if (c != a->sync_call) {
            if (done)
                s_call_free(c);
            else
                s_link(a, c);
        }
    }
    proto_env_clear(&e);
}

void rt__calls_sweep(rt_actor_t *a, int64_t now)
{
    if (now < a->calls_min)
        return; /* nothing can have expired */
    rt_call_s_t *expired = NULL;
    int64_t min = INT64_MAX;
    for (rt_call_s_t *c = a->calls, *next; c; c = next) {
        next = c->next;
        if (c->deadline > now) {
            if (c->deadline < min)
                min = c->deadline;
            continue;
        }
        s_unlink_call(a, c);
        c->next = expired;
        expired = c;
    }
    a->calls_min = min;
    /* callbacks may start new calls: they land in a->calls, not here */
    while (expired) {
        rt_call_s_t *c = expired;
        expired = c->next;
        c->next = NULL;
        if (s_settle(a, c, 504, NULL))
            s_call_free(c);
        else
            s_link(a, c);
    }
}

int64_t rt__calls_next_deadline(const rt_actor_t *a)
{
    return a->calls ? a->calls_min : INT64_MAX;
}

/* Keeps a message for the loop (it arrived while rt_call_sync waited). */
static void s_backlog(rt_actor_t *a, zmq_msg_t *f, int n)
{
    rt_backlog_s_t *b = calloc(1, sizeof *b);
    if (!b) {
        rt__close_frames(f, n);
        return;
    }
    memcpy(b->f, f, (size_t)n * sizeof f[0]);
    b->n = n;
    if (a->bl_tail)
        a->bl_tail->next = b;
    else
        a->bl_head = b;
    a->bl_tail = b;
}

static bool s_is_cmd(zmq_msg_t *f, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(f) == n && !memcmp(zmq_msg_data(f), s, n);
}

/* Handles what the sync wait may handle now; keeps the rest. */
static void s_sync_drain(rt_actor_t *a)
{
    for (int i = 0; i < RT_BATCH_MAX && !a->sync_call->done; i++) {
        zmq_msg_t f[3];
        int n = rt__recv(a->dealer, f, 3);
        if (n == 0)
            return;
        if (n > 3) {
            a->stats.dropped_bad++;
            continue;
        }
        if (n >= 2 && s_is_cmd(&f[0], "HB")) {
            rt__on_dealer(a, f, n);
            rt__close_frames(f, n);
        } else if (n == 3 && s_is_cmd(&f[0], "REP")) {
            /* peek at the header: ours is settled now, others go back to the loop */
            proto_env_t e;
            const void *body;
            size_t blen;
            int rc = proto_env_unpack_head(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]), &e, &body,
                                           &blen, NULL, 0);
            bool ours = rc == 0 && e.id == a->sync_call->id;
            if (rc == 0)
                proto_env_clear(&e);
            if (ours) {
                rt__on_dealer(a, f, n);
                rt__close_frames(f, n);
            } else {
                s_backlog(a, f, n);
            }
        } else {
            s_backlog(a, f, n);
        }
    }
}

static void s_sync_wait(rt_actor_t *a, rt_call_s_t *c)
{
    while (!c->done) {
        int64_t now = proto_mono_ms();
        rt__hb_maybe(a, now);
        if (now >= c->deadline) {
            s_settle(a, c, 504, NULL);
            continue;
        }
        int64_t wait = c->deadline - now;
        if (wait > RT_HB_MS)
            wait = RT_HB_MS;
        zmq_pollitem_t it = {a->dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, (long)wait) < 0 && errno != EINTR)
            break;
        if (rt__signalled())
            break; /* rt_call_sync answers 504 */
        s_sync_drain(a);
    }
}

int rt_call_sync(rt_actor_t *a, const char *service, const char *op, const json_t *body,
                 const rt_call_opts_t *opts, json_t **reply)
{
    rt_call_s_t *c = NULL;
    if (reply)
        *reply = NULL;
    if (a->sync_call)
        return -EBUSY; /* a handler of a sync wait cannot run: the loop is not running */
    int rc = s_call_new(a, service, op, body, opts, &c);
    if (rc)
        return rc;
    a->sync_call = c;
    s_attempt(a, c);
    s_sync_wait(a, c);
    a->sync_call = NULL;
    if (!c->done) {
        c->code = 504;
        c->body = s_status(504, c->svc);
    }
    int code = c->code;
    if (reply)
        *reply = c->body, c->body = NULL;
    s_call_free(c);
    return code;
}
