/*
 * runtime/informer — a cache of one resource stream kept in step with the
 * store by subscribe + list + events (the Clone pattern), relisting on any
 * sign of loss. See informer.h and docs/architecture.md.
 *
 * The cache is an rt_istore (informer_store.c): entries by namespace and
 * name with a list per namespace, so per-namespace iteration needs no scan
 * of everything; compact informers keep msgpack bytes and decode on
 * demand.
 */
#include "runtime/informer.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "runtime/informer_store.h"
#include "runtime/log.h"

#define S_LIST_TIMEOUT_MS 10000
#define S_RETRY_MIN_MS 100
#define S_RETRY_MAX_MS 5000
#define S_BUFFER_MAX 100000 /* events buffered while a list is in flight */
#define S_TRIM_EVENTS 1000  /* a burst of this many events ... */
#define S_TRIM_DELAY_MS 1000 /* ... is followed by a malloc_trim this much later */

struct rt_informer {
    rt_actor_t *a;
    char resource[64];
    char node[256];
    char stream[320];            /* "pods/" or "node/n1/pods/" */
    rt_informer_handlers_t h;
    void *arg;
    rt_istore_t *cache;
    bool synced, listing, compact, no_old;
    rt_istore_index_fn *index;
    json_t *scratch;             /* objects decoded for rt_informer_get */
    int scratch_timer;           /* frees them at the next dispatch */
    int trim_timer;              /* malloc_trim after a burst of events */
    size_t since_trim;           /* events applied since the last one */
    uint64_t rev, seq, relists, gen;
    char epoch[64];
    json_t *buffer;              /* event bodies received while listing */
    json_t *(*transform)(void *arg, const json_t *obj);
    int retry_timer, retry_ms;
};

typedef struct s_list_ctx {
    rt_informer_t *inf;
    uint64_t gen;
} s_list_ctx_t;

/* Live informers, so a reply arriving after destroy is recognised. */
static rt_informer_t *s_live[256];

static bool s_alive(const rt_informer_t *inf)
{
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++)
        if (s_live[i] == inf)
            return true;
    return false;
}

static void s_track(rt_informer_t *inf, bool on)
{
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++)
        if (on ? !s_live[i] : s_live[i] == inf) {
            s_live[i] = on ? inf : NULL;
            return;
        }
}

static const char *s_ns(const json_t *obj)
{
    const char *ns = proto_obj_ns(obj);
    return ns ? ns : "";
}

static rt_istore_t *s_store_new(const rt_informer_t *inf)
{
    return rt_istore_new(inf->compact, inf->index, inf->arg);
}

static void s_cache_put(rt_informer_t *inf, rt_istore_t *cache, const json_t *obj)
{
    if (rt_istore_put(cache, obj) < 0)
        rt_warn("informer %s: cannot cache %s/%s", inf->stream, s_ns(obj),
                proto_obj_name(obj) ?: "");
}

static void s_list(rt_informer_t *inf);

static void s_retry_fire(rt_actor_t *a, void *arg)
{
    rt_informer_t *inf = arg;
    inf->retry_timer = 0;
    s_list(inf);
    (void)a;
}

static void s_relist_later(rt_informer_t *inf)
{
    inf->retry_ms = inf->retry_ms ? inf->retry_ms * 2 : S_RETRY_MIN_MS;
    if (inf->retry_ms > S_RETRY_MAX_MS)
        inf->retry_ms = S_RETRY_MAX_MS;
    if (!inf->retry_timer)
        inf->retry_timer = rt_timer_add(inf->a, inf->retry_ms, false, s_retry_fire, inf);
}

/* Applies one event body {type, object, rev} to the cache, calling handlers. */
static void s_apply(rt_informer_t *inf, const char *type, json_t *obj, uint64_t rev)
{
    const char *name = proto_obj_name(obj);
    if (!name)
        return;
    const char *ns = s_ns(obj);
    const rt_istore_ent_t *ent = rt_istore_find(inf->cache, ns, name);
    if (rev > inf->rev)
        inf->rev = rev;
    if (ent && rt_istore_ent_rv(ent) >= rev && rev)
        return; /* already reflected */
    if (!strcmp(type, "DELETED")) {
        if (!ent)
            return;
        rt_istore_del(inf->cache, ns, name);
        if (inf->h.deleted)
            inf->h.deleted(inf->arg, obj);
        return;
    }
    json_t *old = ent && inf->h.updated && !inf->no_old ? rt_istore_ent_obj(ent) : NULL;
    bool existed = ent != NULL;
    obj = inf->transform ? inf->transform(inf->arg, obj) : json_incref(obj);
    s_cache_put(inf, inf->cache, obj);
    if (existed && inf->h.updated && (old || inf->no_old))
        inf->h.updated(inf->arg, old, obj);
    else if (!existed && inf->h.added)
        inf->h.added(inf->arg, obj);
    json_decref(obj);
    json_decref(old);
}

static void s_trim_fire(rt_actor_t *a, void *arg)
{
    rt_informer_t *inf = arg;
    inf->trim_timer = 0;
    inf->since_trim = 0;
    malloc_trim(0);
    (void)a;
}

/* A burst of events (and of whatever the actor did about them) leaves the
 * heap full of freed trees pinned by a few live objects: give the free
 * pages back to the system once the burst is over (at most once a second). */
static void s_burst_trim(rt_informer_t *inf)
{
    if (++inf->since_trim >= S_TRIM_EVENTS && !inf->trim_timer)
        inf->trim_timer = rt_timer_add(inf->a, S_TRIM_DELAY_MS, false, s_trim_fire, inf);
}

/* Handles one event body; returns false when loss was detected. */
static bool s_event(rt_informer_t *inf, const json_t *body)
{
    const char *epoch = json_string_value(json_object_get(body, "epoch"));
    const char *type = json_string_value(json_object_get(body, "type"));
    json_t *obj = json_object_get(body, "object");
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(body, "seq"));
    uint64_t rev = (uint64_t)json_integer_value(json_object_get(body, "rev"));
    if (!epoch || !type || !json_is_object(obj))
        return true; /* malformed: ignore (counted by nobody, harmless) */
    if (strcmp(epoch, inf->epoch) != 0)
        return false;
    if (seq <= inf->seq)
        return true; /* duplicate or already in the list */
    if (seq != inf->seq + 1) {
        rt_warn("informer %s: stream gap (seq %llu after %llu), relisting", inf->stream,
                (unsigned long long)seq, (unsigned long long)inf->seq);
        return false;
    }
    inf->seq = seq;
    s_apply(inf, type, obj, rev);
    s_burst_trim(inf);
    return true;
}

typedef struct s_diff {
    rt_informer_t *inf;
    const rt_istore_t *other;
} s_diff_t;

/* An entry of the fresh cache: added, or updated when its revision moved. */
static bool s_diff_fresh(void *arg, const rt_istore_ent_t *e)
{
    s_diff_t *d = arg;
    rt_informer_t *inf = d->inf;
    const rt_istore_ent_t *prev =
        rt_istore_find(d->other, rt_istore_ent_ns(e), rt_istore_ent_name(e));
    if (prev && rt_istore_ent_rv(prev) == rt_istore_ent_rv(e))
        return true;
    if (!prev ? !inf->h.added : !inf->h.updated)
        return true;
    json_t *o = rt_istore_ent_obj(e);
    json_t *p = prev && !inf->no_old ? rt_istore_ent_obj(prev) : NULL;
    if (o && !prev)
        inf->h.added(inf->arg, o);
    else if (o && (p || inf->no_old))
        inf->h.updated(inf->arg, p, o);
    json_decref(o);
    json_decref(p);
    return true;
}

/* An entry of the old cache: deleted when the fresh one lacks it. */
static bool s_diff_old(void *arg, const rt_istore_ent_t *e)
{
    s_diff_t *d = arg;
    if (rt_istore_find(d->other, rt_istore_ent_ns(e), rt_istore_ent_name(e)))
        return true;
    json_t *o = rt_istore_ent_obj(e);
    if (o)
        d->inf->h.deleted(d->inf->arg, o);
    json_decref(o);
    return true;
}

/* Replaces the cache with a list, emitting the differences. */
static void s_replace(rt_informer_t *inf, const json_t *items)
{
    rt_istore_t *fresh = s_store_new(inf);
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj) {
        if (!proto_obj_name(obj))
            continue;
        json_t *kept = inf->transform ? inf->transform(inf->arg, obj) : json_incref(obj);
        s_cache_put(inf, fresh, kept);
        json_decref(kept);
    }
    rt_istore_t *old = inf->cache;
    inf->cache = fresh;
    s_diff_t d = {inf, old};
    rt_istore_each(fresh, NULL, s_diff_fresh, &d);
    d.other = fresh;
    if (inf->h.deleted)
        rt_istore_each(old, NULL, s_diff_old, &d);
    rt_istore_destroy(&old);
}

static void s_trim(rt_actor_t *a, void *arg)
{
    (void)a;
    (void)arg;
    malloc_trim(0);
}

static void s_list_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_list_ctx_t *ctx = arg;
    rt_informer_t *inf = ctx->inf;
    uint64_t gen = ctx->gen;
    free(ctx);
    if (!s_alive(inf) || gen != inf->gen)
        return; /* destroyed, or a newer list is in flight */
    json_t *zk = json_object_get(body, "zkube");
    const char *epoch = json_string_value(json_object_get(zk, "epoch"));
    const char *rv = proto_obj_str(body, "metadata.resourceVersion");
    json_t *items = json_object_get(body, "items");
    if (code != 200 || !epoch || !rv || !json_is_array(items)) {
        rt_warn("informer %s: list failed (%d), retrying", inf->stream, code);
        s_relist_later(inf);
        return;
    }
    snprintf(inf->epoch, sizeof inf->epoch, "%s", epoch);
    inf->seq = (uint64_t)json_integer_value(json_object_get(zk, "seq"));
    inf->rev = strtoull(rv, NULL, 10);
    inf->retry_ms = 0;
    inf->listing = false;
    s_replace(inf, items);
    json_t *buffered = inf->buffer;
    inf->buffer = json_array();
    size_t i;
    json_t *ev;
    bool ok = true;
    json_array_foreach(buffered, i, ev) if (ok) ok = s_event(inf, ev);
    json_decref(buffered);
    inf->synced = true;
    if (inf->h.synced)
        inf->h.synced(inf->arg);
    if (json_array_size(items) > 500) /* the decoded list is transient: once it is */
        rt_timer_add(inf->a, 0, false, s_trim, NULL); /* freed, return it to the system */
    if (!ok)
        rt_informer_relist(inf);
    (void)a;
}

static void s_list(rt_informer_t *inf)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "resource", inf->resource, "namespace", "",
                             "stream", inf->stream);
    if (inf->node[0]) {
        char fs[320];
        snprintf(fs, sizeof fs, "spec.nodeName=%s", inf->node);
        json_object_set_new(body, "fieldSelector", json_string(fs));
    }
    s_list_ctx_t *ctx = malloc(sizeof *ctx);
    if (!ctx)
        abort();
    ctx->inf = inf;
    ctx->gen = inf->gen;
    rt_call_opts_t o = {.timeout_ms = S_LIST_TIMEOUT_MS, .retries = 1};
    if (rt_call(inf->a, "apiserver", "list", body, &o, s_list_reply, ctx) < 0) {
        free(ctx);
        s_relist_later(inf);
    }
    json_decref(body);
}

void rt_informer_relist(rt_informer_t *inf)
{
    inf->relists++;
    inf->listing = true;
    inf->gen++;
    json_array_clear(inf->buffer);
    if (inf->retry_timer) {
        rt_timer_cancel(inf->a, inf->retry_timer);
        inf->retry_timer = 0;
    }
    s_list(inf);
}

static void s_on_event(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    rt_informer_t *inf = arg;
    if (!json_is_object(env->body))
        return;
    if (inf->listing) {
        if (json_array_size(inf->buffer) < S_BUFFER_MAX)
            json_array_append(inf->buffer, env->body);
        return; /* an overflow is caught as a seq gap after the list */
    }
    if (!s_event(inf, env->body))
        rt_informer_relist(inf);
    (void)a;
    (void)topic;
}

static void s_on_sync(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    rt_informer_t *inf = arg;
    if (inf->listing || !inf->synced || strcmp(topic, "_sync") != 0)
        return;
    const char *epoch = json_string_value(json_object_get(env->body, "epoch"));
    json_t *seqs = json_object_get(env->body, "seqs");
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(seqs, inf->stream));
    if (!epoch)
        return;
    if (strcmp(epoch, inf->epoch) != 0 || seq > inf->seq) {
        rt_warn("informer %s: %s, relisting", inf->stream,
                strcmp(epoch, inf->epoch) ? "apiserver restarted" : "missed events");
        rt_informer_relist(inf);
    }
    (void)a;
}

static void s_on_reconnect(rt_actor_t *a, void *arg)
{
    rt_informer_t *inf = arg;
    if (s_alive(inf))
        rt_informer_relist(inf);
    (void)a;
}

int rt_informer_new(rt_informer_t **out, rt_actor_t *a, const char *resource,
                    const rt_informer_opts_t *opts, const rt_informer_handlers_t *h, void *arg)
{
    rt_informer_t *inf = calloc(1, sizeof *inf);
    if (!inf)
        abort();
    inf->a = a;
    snprintf(inf->resource, sizeof inf->resource, "%s", resource);
    if (opts && opts->node)
        snprintf(inf->node, sizeof inf->node, "%s", opts->node);
    if (opts) {
        inf->transform = opts->transform;
        inf->compact = opts->compact;
        inf->no_old = opts->no_old;
        inf->index = opts->index;
    }
    if (inf->node[0])
        snprintf(inf->stream, sizeof inf->stream, "node/%s/%s/", inf->node, resource);
    else
        snprintf(inf->stream, sizeof inf->stream, "%s/", resource);
    if (h)
        inf->h = *h;
    inf->arg = arg;
    inf->cache = s_store_new(inf);
    inf->buffer = json_array();
    inf->scratch = json_array();
    s_track(inf, true);
    int rc = rt_subscribe(a, inf->stream, s_on_event, inf);
    if (rc == 0)
        rc = rt_subscribe(a, "_sync", s_on_sync, inf);
    if (rc < 0) {
        rt_informer_destroy(&inf);
        return rc;
    }
    rt_on_reconnect(a, s_on_reconnect, inf);
    inf->relists = (uint64_t)-1; /* the first list is not a relist */
    rt_informer_relist(inf);
    *out = inf;
    return 0;
}

void rt_informer_destroy(rt_informer_t **infp)
{
    rt_informer_t *inf = infp ? *infp : NULL;
    if (!inf)
        return;
    rt_unsubscribe(inf->a, inf->stream, s_on_event, inf);
    rt_unsubscribe(inf->a, "_sync", s_on_sync, inf);
    rt_off_reconnect(inf->a, s_on_reconnect, inf);
    if (inf->retry_timer)
        rt_timer_cancel(inf->a, inf->retry_timer);
    if (inf->scratch_timer)
        rt_timer_cancel(inf->a, inf->scratch_timer);
    if (inf->trim_timer)
        rt_timer_cancel(inf->a, inf->trim_timer);
    s_track(inf, false);
    rt_istore_destroy(&inf->cache);
    json_decref(inf->buffer);
    json_decref(inf->scratch);
    free(inf);
    *infp = NULL;
}

bool rt_informer_synced(const rt_informer_t *inf)
{
    return inf->synced;
}

uint64_t rt_informer_rev(const rt_informer_t *inf)
{
    return inf->rev;
}

uint64_t rt_informer_relists(const rt_informer_t *inf)
{
    return inf->relists;
}

static void s_scratch_free(rt_actor_t *a, void *arg)
{
    rt_informer_t *inf = arg;
    inf->scratch_timer = 0;
    json_array_clear(inf->scratch);
    (void)a;
}

const json_t *rt_informer_get(const rt_informer_t *cinf, const char *ns, const char *name)
{
    rt_informer_t *inf = (rt_informer_t *)cinf; /* the scratch list is not the cache */
    const rt_istore_ent_t *e = rt_istore_find(inf->cache, ns ? ns : "", name);
    json_t *o = e ? rt_istore_ent_obj(e) : NULL;
    if (!o)
        return NULL;
    if (!inf->compact) {
        json_decref(o); /* the cache holds it */
        return o;
    }
    json_array_append_new(inf->scratch, o);
    if (!inf->scratch_timer)
        inf->scratch_timer = rt_timer_add(inf->a, 0, false, s_scratch_free, inf);
    return o;
}

typedef struct s_visit {
    const proto_sel_t *sel;
    bool (*fn)(void *arg, const json_t *obj);
    void *arg;
} s_visit_t;

static bool s_visit(void *arg, const rt_istore_ent_t *e)
{
    s_visit_t *v = arg;
    json_t *o = rt_istore_ent_obj(e);
    bool go = true;
    if (o && (!v->sel || proto_sel_match(v->sel, proto_obj_labels(o))))
        go = v->fn(v->arg, o);
    json_decref(o);
    return go;
}

void rt_informer_foreach(const rt_informer_t *inf, const char *ns, const proto_sel_t *sel,
                         bool (*fn)(void *arg, const json_t *obj), void *arg)
{
    s_visit_t v = {sel, fn, arg};
    rt_istore_each(inf->cache, ns, s_visit, &v);
}

void rt_informer_foreach_indexed(const rt_informer_t *inf, const char *value,
                                 bool (*fn)(void *arg, const json_t *obj), void *arg)
{
    s_visit_t v = {NULL, fn, arg};
    rt_istore_each_indexed(inf->cache, value, s_visit, &v);
}

size_t rt_informer_count(const rt_informer_t *inf)
{
    return rt_istore_count(inf->cache);
}

/* ---- transforms -------------------------------------------------------------- */

static void s_copy_key(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    if (v)
        json_object_set(dst, key, v);
}

json_t *rt_informer_meta_only(void *arg, const json_t *obj)
{
    (void)arg;
    json_t *out = json_object();
    s_copy_key(out, obj, "apiVersion");
    s_copy_key(out, obj, "kind");
    json_t *md = json_object_get(obj, "metadata");
    if (json_is_object(md)) {
        json_t *m = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(md, k, v) if (strcmp(k, "managedFields") && strcmp(k, "annotations"))
            json_object_set(m, k, v);
        json_object_set_new(out, "metadata", m);
    }
    return out;
}

json_t *rt_informer_pod_summary(void *arg, const json_t *pod)
{
    json_t *out = rt_informer_meta_only(arg, pod);
    json_t *spec = json_object_get(pod, "spec"), *status = json_object_get(pod, "status");
    json_t *s = json_object();
    s_copy_key(s, spec, "nodeName");
    s_copy_key(s, spec, "tolerations");
    s_copy_key(s, spec, "schedulerName");
    json_object_set_new(out, "spec", s);
    json_t *st = json_object();
    s_copy_key(st, status, "phase");
    s_copy_key(st, status, "podIP");
    s_copy_key(st, status, "startTime");
    json_t *conds = json_array(), *c;
    size_t i;
    json_array_foreach(json_object_get(status, "conditions"), i, c) {
        json_t *k = json_object();
        s_copy_key(k, c, "type");
        s_copy_key(k, c, "status");
        s_copy_key(k, c, "lastTransitionTime");
        json_array_append_new(conds, k);
    }
    json_object_set_new(st, "conditions", conds);
    json_t *css = json_array();
    json_array_foreach(json_object_get(status, "containerStatuses"), i, c) {
        json_t *k = json_object();
        s_copy_key(k, c, "name");
        s_copy_key(k, c, "ready");
        s_copy_key(k, c, "restartCount");
        json_array_append_new(css, k);
    }
    json_object_set_new(st, "containerStatuses", css);
    json_object_set_new(out, "status", st);
    return out;
}
