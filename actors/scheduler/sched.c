/*
 * actors/scheduler/sched.c — the scheduler actor: informers on nodes and
 * pods feed the scheduling cache (cache.c); unscheduled pods go through an
 * active queue, are placed (schedule.c), assumed on their node at once so a
 * burst never overcommits, and bound through pods/binding with many binds in
 * flight (the apiserver's group commit batches them). A pod that fits nowhere
 * gets a FailedScheduling event and PodScheduled=False, and waits in a
 * back-off (1 s doubling to 10 s) — or less, when a node is added or changes
 * or a bound pod goes away.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/scheduler/sched_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_MAX_INFLIGHT 500 /* binds in flight */
#define S_CHUNK 256        /* pods placed per loop turn, so the loop stays responsive */
#define S_BACKOFF_MIN_MS 1000
#define S_BACKOFF_MAX_MS 10000
#define S_ASSUME_TTL_MS 30000
#define S_TICK_MS 100

enum { S_ACTIVE, S_INFLIGHT, S_BACKOFF };

typedef struct s_item {
    int state, attempts;
    bool in_active;
    int64_t due;
    sched_evstate_t ev;
} s_item_t;

typedef struct s_bind_ctx {
    sched_t *s;
    char *key;
    char node[256];
    char uid[64];
} s_bind_ctx_t;

static void s_item_free(s_item_t *it)
{
    free(it->ev.msg);
    free(it);
}

static s_item_t *s_item(const sched_t *s, const char *key)
{
    json_t *v = json_object_get(s->items, key);
    return v ? (s_item_t *)(intptr_t)json_integer_value(v) : NULL;
}

void sched_forget(sched_t *s, const char *key)
{
    s_item_t *it = s_item(s, key);
    if (!it)
        return;
    if (it->state == S_INFLIGHT)
        return; /* the bind reply finishes it */
    s_item_free(it);
    json_object_del(s->items, key);
}

static void s_kick_fire(rt_actor_t *a, void *arg);

void sched_kick(sched_t *s)
{
    if (!s->kick_timer)
        s->kick_timer = rt_timer_add(s->a, 0, false, s_kick_fire, s);
}

static void s_push(sched_t *s, const char *key)
{
    if (s->alen == s->acap) {
        if (s->ahead > s->acap / 2) { /* compact before growing */
            memmove(s->active, s->active + s->ahead, (s->alen - s->ahead) * sizeof *s->active);
            s->alen -= s->ahead;
            s->ahead = 0;
        } else {
            s->acap = s->acap ? s->acap * 2 : 1024;
            s->active = realloc(s->active, s->acap * sizeof *s->active);
            if (!s->active)
                abort();
        }
    }
    s->active[s->alen++] = strdup(key);
}

void sched_enqueue(sched_t *s, const char *key)
{
    s_item_t *it = s_item(s, key);
    if (!it) {
        it = calloc(1, sizeof *it);
        if (!it)
            abort();
        json_object_set_new(s->items, key, json_integer((json_int_t)(intptr_t)it));
    }
    if (it->state == S_INFLIGHT || (it->state == S_ACTIVE && it->in_active))
        return;
    it->state = S_ACTIVE;
    it->in_active = true;
    s_push(s, key);
    sched_kick(s);
}

/* Every pod waiting in back-off goes back to the active queue — once per
 * loop turn however many nodes changed in it (a burst of node events must
 * not cost a scan of the queue each). */
void sched_move_all(sched_t *s)
{
    s->move_pending = true;
    sched_kick(s);
}

static void s_move_now(sched_t *s)
{
    const char *k;
    json_t *v;
    s->move_pending = false;
    json_object_foreach(s->items, k, v) {
        s_item_t *it = (s_item_t *)(intptr_t)json_integer_value(v);
        if (it->state == S_BACKOFF)
            sched_enqueue(s, k);
    }
}

static void s_backoff(s_item_t *it)
{
    int64_t ms = S_BACKOFF_MIN_MS;
    for (int i = 0; i < it->attempts && ms < S_BACKOFF_MAX_MS; i++)
        ms *= 2;
    it->attempts++;
    it->state = S_BACKOFF;
    it->in_active = false;
    it->due = proto_mono_ms() + (ms > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : ms);
}

/* ---- binding -------------------------------------------------------------- */

static void s_bind_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_bind_ctx_t *ctx = arg;
    sched_t *s = ctx->s;
    char *slash = strchr(ctx->key, '/');
    *slash = 0;
    const char *ns = ctx->key, *name = slash + 1;
    s->inflight--;
    *slash = '/';
    s_item_t *it = s_item(s, ctx->key);
    if (code == 201 || code == 200) {
        s->bound++;
        *slash = 0;
        sched_report_scheduled(s, ns, name, ctx->uid[0] ? ctx->uid : NULL, ctx->node);
        *slash = '/';
        if (it) {
            s_item_free(it);
            json_object_del(s->items, ctx->key);
        }
    } else {
        *slash = 0;
        bool assumed;
        const char *on = sched_cache_pod_node(s->cache, ns, name, &assumed);
        if (on && assumed && !strcmp(on, ctx->node))
            sched_cache_pod_del(s->cache, ns, name);
        rt_info("binding %s/%s to %s failed (%d): %s", ns, name, ctx->node, code,
                json_string_value(json_object_get(body, "message")) ?: "");
        *slash = '/';
        if (it)
            s_backoff(it);
    }
    free(ctx->key);
    free(ctx);
    sched_kick(s);
    (void)a;
}

static void s_bind(sched_t *s, const char *key, const json_t *pod, const char *node)
{
    const char *ns = proto_obj_ns(pod), *name = proto_obj_name(pod);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}}}",
                             "resource", "pods", "namespace", ns, "name", name, "subresource",
                             "binding", "object", "apiVersion", "v1", "kind", "Binding",
                             "metadata", "name", name, "namespace", ns, "target", "apiVersion",
                             "v1", "kind", "Node", "name", node);
    s_bind_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !body || !(ctx->key = strdup(key)))
        abort();
    ctx->s = s;
    snprintf(ctx->node, sizeof ctx->node, "%s", node);
    snprintf(ctx->uid, sizeof ctx->uid, "%s", proto_obj_uid(pod) ?: "");
    rt_call_opts_t o = {.timeout_ms = 3000, .retries = 3}; /* same id: the apiserver dedups */
    s->inflight++;
    if (rt_call(s->a, "apiserver", "create", body, &o, s_bind_reply, ctx) < 0)
        s_bind_reply(s->a, 500, NULL, ctx);
    json_decref(body);
}

/* ---- one pod ---------------------------------------------------------------- */

static void s_place(sched_t *s, const char *key, s_item_t *it)
{
    char ns[256], node[256], msg[2048];
    const char *slash = strchr(key, '/');
    snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
    const char *name = slash + 1;
    const json_t *pod = sched_pw_get(s->pods, ns, name);
    if (!pod || !sched_pod_wants_scheduling(pod, s->name) ||
        sched_cache_pod_node(s->cache, ns, name, NULL)) {
        sched_forget(s, key); /* gone, bound, or already assumed */
        return;
    }
    int rc = sched_cache_schedule(s->cache, pod, node, sizeof node, msg, sizeof msg);
    if (rc == 0) {
        sched_cache_pod_set(s->cache, pod, node, true);
        it->state = S_INFLIGHT;
        s_bind(s, key, pod, node);
        return;
    }
    s->unschedulable++;
    s_backoff(it);
    sched_report_unschedulable(s, pod, msg, &it->ev);
}

static void s_drain(sched_t *s)
{
    if (!sched_pw_synced(s->pods) || !rt_informer_synced(s->nodes))
        return;
    if (s->move_pending)
        s_move_now(s);
    size_t done = 0;
    while (s->ahead < s->alen && s->inflight < S_MAX_INFLIGHT && done < S_CHUNK) {
        char *key = s->active[s->ahead++];
        s_item_t *it = s_item(s, key);
        if (it && it->state == S_ACTIVE && it->in_active) {
            it->in_active = false;
            s_place(s, key, it);
            done++;
        }
        free(key);
    }
    if (s->ahead == s->alen)
        s->ahead = s->alen = 0;
    if (s->ahead < s->alen && s->inflight < S_MAX_INFLIGHT)
        sched_kick(s);
}

static void s_kick_fire(rt_actor_t *a, void *arg)
{
    sched_t *s = arg;
    s->kick_timer = 0;
    s_drain(s);
    (void)a;
}

static void s_tick(rt_actor_t *a, void *arg)
{
    sched_t *s = arg;
    int64_t now = proto_mono_ms();
    const char *k;
    json_t *v;
    json_object_foreach(s->items, k, v) {
        s_item_t *it = (s_item_t *)(intptr_t)json_integer_value(v);
        if (it->state == S_BACKOFF && it->due <= now)
            sched_enqueue(s, k);
    }
    if (s->ahead < s->alen || s->inflight) {
        s->last_busy = now;
        s->worked = true;
    } else if (s->worked && now - s->last_busy >= 1000) {
        s->worked = false;
        malloc_trim(0); /* give a burst's buffers back to the system once idle */
    }
    if (now - s->last_expire >= 1000) {
        s->last_expire = now;
        size_t n = sched_cache_expire(s->cache, now, S_ASSUME_TTL_MS);
        if (n)
            rt_warn("forgot %zu assumed pod(s) the watch never confirmed", n);
    }
    (void)a;
}

/* ---- life cycle ------------------------------------------------------------ */

int sched_run(const rt_config_t *cfg, const char *name)
{
    sched_t s = {.items = json_object()};
    char err[256];
    snprintf(s.name, sizeof s.name, "%s", name ? name : SCHED_DEFAULT_NAME);
    if (rt_actor_open(&s.a, "scheduler", cfg, err, sizeof err) < 0) {
        rt_err("cannot reach the broker: %s", err);
        json_decref(s.items);
        return -1;
    }
    s.cache = sched_cache_new((uint64_t)proto_wall_us() ^ (uint64_t)getpid());
    int rc = sched_informers_start(&s);
    if (rc == 0) {
        rt_timer_add(s.a, S_TICK_MS, true, s_tick, &s);
        rt_info("scheduler %s running", s.name);
        rt_run(s.a);
        rt_info("stopping: %llu bound, %llu unschedulable attempts, %llu events dropped",
                (unsigned long long)s.bound, (unsigned long long)s.unschedulable,
                (unsigned long long)s.ev_dropped);
    }
    sched_informers_stop(&s);
    rt_actor_destroy(&s.a);
    sched_cache_destroy(&s.cache);
    const char *k;
    json_t *v;
    json_object_foreach(s.items, k, v) {
        s_item_free((s_item_t *)(intptr_t)json_integer_value(v));
    }
    json_decref(s.items);
    for (size_t i = s.ahead; i < s.alen; i++)
        free(s.active[i]);
    free(s.active);
    return rc;
}
