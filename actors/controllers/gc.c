/*
 * actors/controllers/gc.c — the garbage collector. The apiserver already
 * propagates deletion (Background, Foreground, Orphan) in the transaction of
 * the delete (see actors/apiserver/cascade.c); this actor finishes what that
 * leaves behind:
 *  - dependents whose owners no longer exist (deleted while nobody looked,
 *    or created with a dangling ownerReference): deleted in the background
 *    when every owner is gone, else the dangling references are removed.
 *    "Gone" is confirmed by a fresh read from the apiserver, never by the
 *    cache alone (Kubernetes' attemptToDelete does the same);
 *  - owners being deleted that still hold the `orphan` finalizer: their
 *    dependents lose the ownerReference, then the finalizer goes;
 *  - owners being deleted that hold `foregroundDeletion`: their dependents
 *    are deleted, and once no blocking dependent remains the finalizer goes
 *    (the apiserver removes an object whose last finalizer is removed).
 * Informers on every owner/dependent kind present (pods, replicasets,
 * replicationcontrollers, deployments, jobs, ...) feed one work queue of
 * "resource/namespace/name" keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/controllers/internal.h"
#include "protocol/kinds.h"
#include "protocol/obj.h"
#include "runtime/informer.h"
#include "runtime/log.h"
#include "runtime/queue.h"

#define S_MAX_KINDS 12
#define S_RETRY_MS 1000

typedef struct s_gc s_gc_t;

typedef struct s_src {
    s_gc_t *gc;
    const char *resource;
    bool namespaced;
    rt_informer_t *inf;
} s_src_t;

struct s_gc {
    rt_actor_t *a;
    rt_queue_t *q;
    s_src_t src[S_MAX_KINDS];
    size_t nsrc;
    json_t *checking; /* keys whose owners are being asked about */
};

/* ---- the index --------------------------------------------------------------- */

static void s_key(const s_src_t *s, const json_t *obj, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s/%s", s->resource, proto_obj_ns(obj) ?: "", proto_obj_name(obj) ?: "");
}

static s_src_t *s_src_of(s_gc_t *gc, const char *resource, size_t len)
{
    for (size_t i = 0; i < gc->nsrc; i++)
        if (strlen(gc->src[i].resource) == len && !strncmp(gc->src[i].resource, resource, len))
            return &gc->src[i];
    return NULL;
}

/* The cached object of key ("resource/ns/name"), or NULL. */
static const json_t *s_lookup(s_gc_t *gc, const char *key, s_src_t **src)
{
    const char *a = strchr(key, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    if (!b)
        return NULL;
    s_src_t *s = s_src_of(gc, key, (size_t)(a - key));
    char ns[256];
    if (!s || (size_t)(b - a - 1) >= sizeof ns)
        return NULL;
    snprintf(ns, sizeof ns, "%.*s", (int)(b - a - 1), a + 1);
    if (src)
        *src = s;
    return rt_informer_get(s->inf, ns, b + 1);
}

static bool s_interesting(const json_t *obj)
{
    return proto_obj_get(obj, "metadata.ownerReferences") ||
           (proto_obj_get(obj, "metadata.deletionTimestamp") &&
            (ctrl_has_finalizer(obj, "orphan") || ctrl_has_finalizer(obj, "foregroundDeletion")));
}

typedef struct s_uidscan {
    const s_src_t *src;
    const char *uid;
    char key[600]; /* "" until found */
} s_uidscan_t;

static bool s_uid_visit(void *arg, const json_t *obj)
{
    s_uidscan_t *u = arg;
    if (strcmp(proto_obj_uid(obj) ?: "", u->uid))
        return true; /* an index value cut short (uids are never that long) */
    s_key(u->src, obj, u->key, sizeof u->key);
    return false;
}

/* The key of the cached object with uid into key (n >= 600); false when
 * none is cached (the index holds each object under "u:<uid>"). */
static bool s_by_uid(s_gc_t *gc, const char *uid, char *key, size_t n)
{
    char v[600]; /* as ctrl_gc_index makes them */
    if (!uid)
        return false;
    snprintf(v, sizeof v, "u:%s", uid);
    for (size_t i = 0; i < gc->nsrc; i++) {
        s_uidscan_t u = {&gc->src[i], uid, ""};
        rt_informer_foreach_indexed(gc->src[i].inf, v, s_uid_visit, &u);
        if (u.key[0]) {
            snprintf(key, n, "%s", u.key);
            return true;
        }
    }
    return false;
}

/* Queues the owners named by obj's references that we hold in cache. */
static void s_wake_owners(s_gc_t *gc, const json_t *obj)
{
    size_t i;
    json_t *r;
    char key[600];
    json_array_foreach(proto_obj_get(obj, "metadata.ownerReferences"), i, r)
    {
        if (s_by_uid(gc, json_string_value(json_object_get(r, "uid")), key, sizeof key))
            rt_queue_add(gc->q, key);
    }
}

static void s_added(void *arg, const json_t *obj)
{
    s_src_t *s = arg;
    char key[600];
    s_key(s, obj, key, sizeof key);
    if (s_interesting(obj))
        rt_queue_add(s->gc->q, key);
}

static void s_updated(void *arg, const json_t *old, const json_t *obj)
{
    s_src_t *s = arg;
    s_wake_owners(s->gc, old); /* a foreground/orphan owner may be waiting on it */
    s_added(arg, obj);
}

typedef struct s_depscan {
    s_gc_t *gc;
    const char *uid;
    const char *ns; /* "" = every namespace */
    s_src_t *src;
    json_t *out; /* keys, or NULL to queue them */
} s_depscan_t;

static bool s_refers(const json_t *obj, const char *uid)
{
    size_t i;
    json_t *r;
    json_array_foreach(proto_obj_get(obj, "metadata.ownerReferences"), i, r)
    {
        const char *u = json_string_value(json_object_get(r, "uid"));
        if (u && !strcmp(u, uid))
            return true;
    }
    return false;
}

static bool s_dep_visit(void *arg, const json_t *obj)
{
    s_depscan_t *d = arg;
    if (!s_refers(obj, d->uid) || (*d->ns && strcmp(proto_obj_ns(obj) ?: "", d->ns)))
        return true;
    char key[600];
    s_key(d->src, obj, key, sizeof key);
    if (d->out)
        json_array_append_new(d->out, json_string(key));
    else
        rt_queue_add(d->gc->q, key);
    return true;
}

/* Dependents of uid in ns ("" = every namespace) as keys, or queued when
 * out is NULL. */
static void s_dependents(s_gc_t *gc, const char *uid, const char *ns, json_t *out)
{
    char v[600]; /* as ctrl_gc_index makes them; s_dep_visit checks the uid */
    snprintf(v, sizeof v, "d:%s", uid);
    for (size_t i = 0; i < gc->nsrc; i++) {
        s_depscan_t d = {gc, uid, ns, &gc->src[i], out};
        rt_informer_foreach_indexed(gc->src[i].inf, v, s_dep_visit, &d);
    }
}

static void s_deleted(void *arg, const json_t *obj)
{
    s_src_t *s = arg;
    const char *uid = proto_obj_uid(obj);
    if (uid)
        s_dependents(s->gc, uid, "", NULL);
    s_wake_owners(s->gc, obj);
}

static bool s_queue_if_interesting(void *arg, const json_t *obj)
{
    s_src_t *s = arg;
    char key[600];
    if (s_interesting(obj)) {
        s_key(s, obj, key, sizeof key);
        rt_queue_add(s->gc->q, key);
    }
    return true;
}

static bool s_all_synced(const s_gc_t *gc)
{
    for (size_t i = 0; i < gc->nsrc; i++)
        if (!rt_informer_synced(gc->src[i].inf))
            return false;
    return true;
}

static void s_resync(void *arg)
{
    s_src_t *s = arg;
    s_gc_t *gc = s->gc;
    if (!s_all_synced(gc))
        return;
    for (size_t i = 0; i < gc->nsrc; i++)
        rt_informer_foreach(gc->src[i].inf, NULL, NULL, s_queue_if_interesting, &gc->src[i]);
}

static void s_resync_timer(rt_actor_t *a, void *arg)
{
    s_gc_t *gc = arg;
    (void)a;
    if (gc->nsrc)
        s_resync(&gc->src[0]);
}

/* ---- writes ---------------------------------------------------------------------- */

typedef struct s_wctx {
    s_gc_t *gc;
    char key[600]; /* requeued when the write fails */
} s_wctx_t;

static void s_write_done(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_wctx_t *w = arg;
    if ((code < 200 || code >= 300) && code != 404) {
        rt_info("garbage collector: write for %s failed (%d): %s", w->key, code,
                ctrl_reply_msg(body));
        rt_queue_add_after(w->gc->q, w->key, S_RETRY_MS);
    }
    free(w);
    (void)a;
}

static s_wctx_t *s_wctx(s_gc_t *gc, const char *key)
{
    s_wctx_t *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->gc = gc;
    snprintf(w->key, sizeof w->key, "%s", key);
    return w;
}

/* Merge-patches obj's metadata field to val (stolen; an empty array
 * removes it), conditional on obj's resourceVersion. */
static void s_patch_meta(s_gc_t *gc, const s_src_t *s, const json_t *obj, const char *field,
                         json_t *val, const char *requeue)
{
    json_t *md = json_pack("{s:s}", "resourceVersion",
                           proto_obj_str(obj, "metadata.resourceVersion") ?: "");
    json_object_set_new(md, field, json_array_size(val) ? json_incref(val) : json_null());
    json_decref(val);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:o}}", "resource", s->resource,
                             "namespace", proto_obj_ns(obj) ?: "", "name",
                             proto_obj_name(obj) ?: "", "patchType", "merge", "patch",
                             "metadata", md);
    ctrl_call(gc->a, "patch", body, s_write_done, s_wctx(gc, requeue));
}

static void s_delete(s_gc_t *gc, const s_src_t *s, const json_t *obj, const char *policy,
                     const char *requeue)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "resource", s->resource,
                             "namespace", proto_obj_ns(obj) ?: "", "name",
                             proto_obj_name(obj) ?: "", "propagationPolicy", policy,
                             "preconditions", "uid", proto_obj_uid(obj) ?: "");
    ctrl_call(gc->a, "delete", body, s_write_done, s_wctx(gc, requeue));
}

static json_t *s_without_finalizer(const json_t *obj, const char *f)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(proto_obj_get(obj, "metadata.finalizers"), i, v)
        if (!json_is_string(v) || strcmp(json_string_value(v), f))
            json_array_append(out, v);
    return out;
}

/* ---- owners being deleted ------------------------------------------------------------ */

static bool s_blocks(const json_t *dep, const char *uid)
{
    size_t i;
    json_t *r;
    json_array_foreach(proto_obj_get(dep, "metadata.ownerReferences"), i, r)
    {
        const char *u = json_string_value(json_object_get(r, "uid"));
        if (u && !strcmp(u, uid) && json_is_true(json_object_get(r, "blockOwnerDeletion")))
            return true;
    }
    return false;
}

/* orphan: strip our reference from every dependent, then drop the finalizer. */
static void s_finish_orphan(s_gc_t *gc, const s_src_t *s, const json_t *owner, const char *key)
{
    const char *uid = proto_obj_uid(owner);
    json_t *deps = json_array(), *uids = json_pack("{s:b}", uid, 1);
    s_dependents(gc, uid, s->namespaced ? proto_obj_ns(owner) ?: "" : "", deps);
    size_t i;
    json_t *k;
    json_array_foreach(deps, i, k)
    {
        s_src_t *ds = NULL;
        const json_t *dep = s_lookup(gc, json_string_value(k), &ds);
        if (dep)
            s_patch_meta(gc, ds, dep, "ownerReferences",
                         ctrl_refs_without(proto_obj_get(dep, "metadata.ownerReferences"), uids),
                         json_string_value(k));
    }
    if (json_array_size(deps) == 0) {
        rt_info("orphaned the dependents of %s", key);
        s_patch_meta(gc, s, owner, "finalizers", s_without_finalizer(owner, "orphan"), key);
    }
    json_decref(uids);
    json_decref(deps);
}

/* foregroundDeletion: delete the dependents; the finalizer goes once no
 * dependent that blocks the owner's deletion remains. */
static void s_finish_foreground(s_gc_t *gc, const s_src_t *s, const json_t *owner,
                                const char *key)
{
    const char *uid = proto_obj_uid(owner);
    json_t *deps = json_array();
    s_dependents(gc, uid, s->namespaced ? proto_obj_ns(owner) ?: "" : "", deps);
    size_t i, blocking = 0;
    json_t *k;
    json_array_foreach(deps, i, k)
    {
        s_src_t *ds = NULL;
        const json_t *dep = s_lookup(gc, json_string_value(k), &ds);
        if (!dep)
            continue;
        if (s_blocks(dep, uid))
            blocking++;
        if (!proto_obj_get(dep, "metadata.deletionTimestamp"))
            s_delete(gc, ds, dep, "Foreground", key);
    }
    if (blocking == 0) {
        rt_info("dependents of %s are gone; finishing its foreground deletion", key);
        s_patch_meta(gc, s, owner, "finalizers",
                     s_without_finalizer(owner, "foregroundDeletion"), key);
    }
    json_decref(deps);
}

/* ---- dependents with dangling owners ------------------------------------------------- */

typedef struct s_check {
    s_gc_t *gc;
    char key[600];
    size_t pending; /* owners asked, not answered yet */
    bool failed;
    json_t *dangling; /* uid -> true */
} s_check_t;

typedef struct s_ask {
    s_check_t *c;
    char uid[64];
} s_ask_t;

/* Every owner has answered: delete obj when all are gone, else drop the
 * dangling references. Reads obj from the cache again: it may have moved. */
static void s_check_done(s_check_t *c)
{
    s_src_t *s = NULL;
    const json_t *obj = s_lookup(c->gc, c->key, &s);
    json_t *refs = proto_obj_get(obj, "metadata.ownerReferences");
    if (c->failed) {
        rt_queue_add_after(c->gc->q, c->key, S_RETRY_MS);
    } else if (obj && json_object_size(c->dangling) > 0) {
        json_t *rest = ctrl_refs_without(refs, c->dangling);
        if (json_array_size(rest) == 0) {
            rt_info("deleting %s: its owners are gone", c->key);
            s_delete(c->gc, s, obj, "Background", c->key);
            json_decref(rest);
        } else {
            rt_info("removing %zu dangling ownerReference(s) from %s",
                     json_array_size(refs) - json_array_size(rest), c->key);
            s_patch_meta(c->gc, s, obj, "ownerReferences", rest, c->key);
        }
    }
    json_object_del(c->gc->checking, c->key);
    json_decref(c->dangling);
    free(c);
}

static void s_owner_answer(rt_actor_t *a, int code, const json_t *owner, void *arg)
{
    s_ask_t *q = arg;
    s_check_t *c = q->c;
    const char *uid = code == 200 ? proto_obj_uid(owner) : NULL;
    if (code == 404 || (code == 200 && (!uid || strcmp(uid, q->uid))))
        json_object_set_new(c->dangling, q->uid, json_true());
    else if (code != 200)
        c->failed = true;
    free(q);
    if (--c->pending == 0)
        s_check_done(c);
    (void)a;
}

/* Asks the apiserver for the owner ref names, unless the cache holds it. */
static void s_ask_owner(s_check_t *c, const json_t *obj, const json_t *ref)
{
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    const char *av = json_string_value(json_object_get(ref, "apiVersion"));
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    const char *name = json_string_value(json_object_get(ref, "name"));
    char present[600];
    if (!uid || strlen(uid) >= 64 || s_by_uid(c->gc, uid, present, sizeof present) || !kind ||
        !name)
        return; /* present (or unreadable: nothing we could decide) */
    const proto_kind_t *k = proto_kind_by_kind(av ? av : "", kind);
    if (!k)
        return; /* a kind this cluster does not serve: leave it be */
    s_ask_t *q = calloc(1, sizeof *q);
    if (!q)
        abort();
    q->c = c;
    snprintf(q->uid, sizeof q->uid, "%s", uid);
    c->pending++;
    json_t *body = json_pack("{s:s, s:s, s:s}", "resource", k->resource, "namespace",
                             k->namespaced ? proto_obj_ns(obj) ?: "" : "", "name", name);
    ctrl_call(c->gc->a, "get", body, s_owner_answer, q);
}

static void s_check_owners(s_gc_t *gc, const json_t *obj, const char *key)
{
    if (json_object_get(gc->checking, key))
        return; /* the answers will look at the object as it is then */
    s_check_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->gc = gc;
    c->dangling = json_object();
    snprintf(c->key, sizeof c->key, "%s", key);
    c->pending = 1; /* held while asking, so no answer finishes early */
    size_t i;
    json_t *r;
    json_array_foreach(proto_obj_get(obj, "metadata.ownerReferences"), i, r)
        s_ask_owner(c, obj, r);
    if (--c->pending == 0) {
        s_check_done(c); /* nothing asked, or every answer came synchronously */
        return;
    }
    json_object_set_new(gc->checking, key, json_true());
}

static int s_process(void *arg, const char *key)
{
    s_gc_t *gc = arg;
    if (!s_all_synced(gc))
        return 200;
    s_src_t *s = NULL;
    const json_t *obj = s_lookup(gc, key, &s);
    if (!obj)
        return 0;
    bool deleting = proto_obj_get(obj, "metadata.deletionTimestamp") != NULL;
    if (deleting && ctrl_has_finalizer(obj, "orphan"))
        s_finish_orphan(gc, s, obj, key);
    else if (deleting && ctrl_has_finalizer(obj, "foregroundDeletion"))
        s_finish_foreground(gc, s, obj, key);
    if (proto_obj_get(obj, "metadata.ownerReferences") && !deleting)
        s_check_owners(gc, obj, key);
    return 0;
}

/* ---- life cycle ------------------------------------------------------------------------ */

static void s_open_sources(s_gc_t *gc)
{
    static const char *const kinds[] = {"pods",        "replicasets", "replicationcontrollers",
                                        "deployments", "jobs",        "daemonsets",
                                        "statefulsets", "cronjobs"};
    static const rt_informer_handlers_t h = {s_added, s_updated, s_deleted, s_resync};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && gc->nsrc < S_MAX_KINDS; i++) {
        const proto_kind_t *k = proto_kind_by_resource(kinds[i]);
        if (!k || !proto_kind_is_stored(k))
            continue;
        s_src_t *s = &gc->src[gc->nsrc];
        *s = (s_src_t){gc, k->resource, k->namespaced, NULL};
        /* the collector reasons on metadata only (owners, finalizers), and
         * finds objects by uid and dependents by owner through the index;
         * pods, the many, are kept compact (caches.c) */
        rt_informer_opts_t opts = {.transform = ctrl_gc_brief,
                                   .index = ctrl_gc_index,
                                   .compact = !strcmp(k->resource, "pods")};
        if (rt_informer_new(&s->inf, gc->a, k->resource, &opts, &h, s) == 0)
            gc->nsrc++;
        else
            rt_warn("garbage collector: cannot watch %s", k->resource);
    }
}

int ctrl_gc_run(const rt_config_t *cfg, const ctrl_opts_t *o)
{
    s_gc_t gc = {.checking = json_object()};
    char err[256];
    if (rt_actor_open(&gc.a, "controller-garbage-collector", cfg, err, sizeof err) < 0) {
        rt_err("cannot reach the broker: %s", err);
        json_decref(gc.checking);
        return -1;
    }
    gc.q = rt_queue_new(gc.a, s_process, &gc);
    s_open_sources(&gc);
    int rc = gc.nsrc ? 0 : -1;
    if (rc == 0) {
        rt_timer_add(gc.a, (int)o->resync_ms, true, s_resync_timer, &gc);
        rt_info("garbage collector running over %zu kinds", gc.nsrc);
        rt_run(gc.a);
    }
    for (size_t i = 0; i < gc.nsrc; i++)
        rt_informer_destroy(&gc.src[i].inf);
    rt_queue_destroy(&gc.q);
    rt_actor_destroy(&gc.a);
    json_decref(gc.checking);
    return rc;
}
