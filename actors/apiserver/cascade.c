/*
 * actors/apiserver/cascade.c — delete and deletecollection: preconditions,
 * finalizers, graceful deletion of bound pods, propagation to dependents
 * (objects whose ownerReferences name the owner's uid) and namespace
 * deletion.
 *
 * Decisions (documented in docs/architecture.md by the lead):
 *  - Background: the owner is removed, then its dependents, recursively,
 *    all in the same transaction (Kubernetes leaves the dependents to the
 *    garbage collector; the outcome is the same, only sooner).
 *  - Foreground: the owner gets deletionTimestamp + the foregroundDeletion
 *    finalizer (one MODIFIED event), its dependents are deleted, then the
 *    owner — all in one transaction.
 *  - Orphan: the owner's entry is removed from its dependents'
 *    ownerReferences, then the owner is removed.
 *  - An object with other finalizers only gets deletionTimestamp; it is
 *    removed by the update that empties its finalizers.
 *  - Pods bound to a node are deleted gracefully: deletionTimestamp +
 *    deletionGracePeriodSeconds (the request's, else the pod's
 *    terminationGracePeriodSeconds); the kubelet finishes with a delete of
 *    gracePeriodSeconds 0. Unbound or finished pods go at once.
 *  - A namespace: phase Terminating (MODIFIED), every namespaced object in
 *    it removed, then the namespace — in one transaction; a namespace with
 *    metadata.finalizers stays Terminating until an update empties them.
 * Scans read committed state, so these operations flush the batch first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/apiserver/internal.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#define S_MAX_DEPTH 32

typedef enum { S_BACKGROUND, S_FOREGROUND, S_ORPHAN } s_policy_t;

static int s_delete_obj(apisrv_t *s, const proto_kind_t *k, json_t *obj, s_policy_t pol,
                        json_int_t grace, int depth, json_t **out);

int apisrv_remove(apisrv_t *s, const proto_kind_t *k, const json_t *obj, uint64_t expect_rev,
                  json_t **last)
{
    store_wtxn_t *t = apisrv_txn(s);
    if (!t)
        return PROTO_EINTERNAL;
    const char *ns = k->namespaced ? proto_obj_ns(obj) : "";
    char *key = proto_key(k->resource, ns, proto_obj_name(obj));
    int rc = store_wtxn_del(t, key, expect_rev, last, NULL);
    free(key);
    if (rc == 0 && !strcmp(k->resource, "services"))
        apisrv_alloc_release(s, obj);
    return rc;
}

static int s_put(apisrv_t *s, const proto_kind_t *k, json_t *obj)
{
    store_wtxn_t *t = apisrv_txn(s);
    if (!t)
        return PROTO_EINTERNAL;
    char *key = proto_key(k->resource, k->namespaced ? proto_obj_ns(obj) : "", proto_obj_name(obj));
    /* the store's event keeps the tree it is given; obj is changed later */
    json_t *copy = json_deep_copy(obj);
    uint64_t rev = 0;
    int rc = store_wtxn_put(t, key, copy, proto_obj_rv(obj), false, &rev);
    json_decref(copy);
    free(key);
    if (rc == 0) {
        char rv[32];
        snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
        proto_obj_set_str(obj, "metadata.resourceVersion", rv);
    }
    return rc;
}

/* ---- dependents ------------------------------------------------------------ */

static bool s_owned_by(const json_t *obj, void *arg)
{
    size_t i;
    json_t *ref;
    json_array_foreach(proto_obj_get(obj, "metadata.ownerReferences"), i, ref)
    {
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        if (uid && !strcmp(uid, arg))
            return true;
    }
    return false;
}

/* Dependents of uid as [[kind index, object], ...] (committed state). */
static json_t *s_dependents(apisrv_t *s, const char *ns, const char *uid)
{
    json_t *deps = json_array();
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (!proto_kind_is_stored(k) || (*ns && !k->namespaced))
            continue;
        char *prefix = proto_key(k->resource, ns, "");
        if (!*ns)
            prefix[strlen(k->resource) + 1] = 0; /* "pods/": every namespace */
        json_t *items = NULL;
        uint64_t rev;
        char *next = NULL;
        if (store_list(s->st, prefix, NULL, 0, s_owned_by, (void *)uid, &items, &rev, &next) == 0) {
            size_t j;
            json_t *o;
            json_array_foreach(items, j, o)
                json_array_append_new(deps, json_pack("[i, O]", (int)i, o));
        }
        json_decref(items);
        free(next);
        free(prefix);
    }
    return deps;
}

/* The dependent as this transaction sees it now; NULL when already gone. */
static json_t *s_current(apisrv_t *s, const proto_kind_t *k, const json_t *obj)
{
    json_t *cur = NULL;
    char *key = proto_key(k->resource, k->namespaced ? proto_obj_ns(obj) : "", proto_obj_name(obj));
    store_wtxn_t *t = apisrv_txn(s);
    if (!t || store_wtxn_get(t, key, &cur) < 0)
        cur = NULL;
    free(key);
    return cur;
}

static int s_orphan(apisrv_t *s, const json_t *owner)
{
    const char *uid = proto_obj_uid(owner);
    if (!apisrv_has_dependents(s, uid))
        return 0;
    json_t *deps = s_dependents(s, proto_obj_ns(owner) ?: "", uid);
    size_t i;
    json_t *d;
    int rc = 0;
    json_array_foreach(deps, i, d)
    {
        const proto_kind_t *k = proto_kind_at((size_t)json_integer_value(json_array_get(d, 0)));
        json_t *cur = s_current(s, k, json_array_get(d, 1));
        json_t *refs = proto_obj_get(cur, "metadata.ownerReferences");
        for (size_t j = 0; j < json_array_size(refs); j++) {
            const char *ruid = json_string_value(json_object_get(json_array_get(refs, j), "uid"));
            if (ruid && !strcmp(ruid, uid))
                json_array_remove(refs, j--);
        }
        if (cur && json_array_size(refs) == 0)
            proto_obj_del(cur, "metadata.ownerReferences");
        if (cur && rc == 0)
            rc = s_put(s, k, cur);
        json_decref(cur);
    }
    json_decref(deps);
    return rc;
}

static int s_delete_dependents(apisrv_t *s, const json_t *owner, s_policy_t pol, int depth)
{
    const char *uid = proto_obj_uid(owner);
    if (!apisrv_has_dependents(s, uid) || depth >= S_MAX_DEPTH)
        return 0;
    json_t *deps = s_dependents(s, proto_obj_ns(owner) ?: "", uid);
    size_t i;
    json_t *d;
    int rc = 0;
    json_array_foreach(deps, i, d)
    {
        const proto_kind_t *k = proto_kind_at((size_t)json_integer_value(json_array_get(d, 0)));
        json_t *cur = s_current(s, k, json_array_get(d, 1)), *res = NULL;
        if (cur && rc == 0 && s_delete_obj(s, k, cur, pol, -1, depth + 1, &res) == 500)
            rc = PROTO_EINTERNAL;
        json_decref(res);
        json_decref(cur);
    }
    json_decref(deps);
    return rc;
}

/* ---- one object ------------------------------------------------------------- */

static void s_mark_deleting(json_t *obj, json_int_t grace)
{
    char ts[32];
    proto_format_time((int64_t)time(NULL) + grace, ts);
    proto_obj_set_str(obj, "metadata.deletionTimestamp", ts);
    proto_obj_set(obj, "metadata.deletionGracePeriodSeconds", json_integer(grace));
}

static bool s_has_finalizer(const json_t *obj, const char *f)
{
    size_t i;
    json_t *v;
    json_array_foreach(proto_obj_get(obj, "metadata.finalizers"), i,
                       v) if (json_string_value(v) && !strcmp(json_string_value(v), f)) return true;
    return false;
}

static void s_drop_finalizer(json_t *obj, const char *f)
{
    json_t *fs = proto_obj_get(obj, "metadata.finalizers");
    for (size_t i = 0; i < json_array_size(fs); i++)
        if (!strcmp(json_string_value(json_array_get(fs, i)) ?: "", f))
            json_array_remove(fs, i--);
    if (fs && json_array_size(fs) == 0)
        proto_obj_del(obj, "metadata.finalizers");
}

/* A bound, running pod's grace period; -1 when it goes at once. */
static json_int_t s_pod_grace(const proto_kind_t *k, const json_t *pod, json_int_t grace)
{
    if (strcmp(k->resource, "pods"))
        return -1;
    const char *node = proto_obj_str(pod, "spec.nodeName");
    const char *phase = proto_obj_str(pod, "status.phase");
    if (!node || !*node || grace == 0 ||
        (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))))
        return -1;
    if (grace < 0)
        grace = proto_obj_int(pod, "spec.terminationGracePeriodSeconds", 30);
    return grace > 0 ? grace : -1;
}

static int s_result(apisrv_t *s, const proto_kind_t *k, int rc, json_t *obj, json_t **out)
{
    if (rc < 0)
        return apisrv_store_err(s, rc, k, proto_obj_name(obj), out);
    *out = json_incref(obj);
    return 200;
}

static int s_foreground(apisrv_t *s, const proto_kind_t *k, json_t *obj, int depth, json_t **out)
{
    if (!s_has_finalizer(obj, "foregroundDeletion")) {
        json_t *fs = proto_obj_get(obj, "metadata.finalizers");
        if (!json_is_array(fs))
            proto_obj_set(obj, "metadata.finalizers", fs = json_array());
        json_array_append_new(fs, json_string("foregroundDeletion"));
    }
    int rc = s_put(s, k, obj);
    if (rc == 0)
        rc = s_delete_dependents(s, obj, S_FOREGROUND, depth);
    if (rc < 0)
        return s_result(s, k, rc, obj, out);
    s_drop_finalizer(obj, "foregroundDeletion");
    if (json_array_size(proto_obj_get(obj, "metadata.finalizers")) > 0)
        return s_result(s, k, s_put(s, k, obj), obj, out);
    json_t *last = NULL;
    rc = apisrv_remove(s, k, obj, 0, &last);
    int code = s_result(s, k, rc, last ? last : obj, out);
    json_decref(last);
    return code;
}

static int s_delete_obj(apisrv_t *s, const proto_kind_t *k, json_t *obj, s_policy_t pol,
                        json_int_t grace, int depth, json_t **out)
{
    json_int_t pg = s_pod_grace(k, obj, grace);
    bool deleting = proto_obj_get(obj, "metadata.deletionTimestamp") != NULL;
    if (deleting && !(pg < 0 && !strcmp(k->resource, "pods") &&
                      json_array_size(proto_obj_get(obj, "metadata.finalizers")) == 0))
        return s_result(s, k, 0, obj, out); /* already being deleted */
    if (pg > 0) {
        s_mark_deleting(obj, pg);
        return s_result(s, k, s_put(s, k, obj), obj, out);
    }
    if (pol == S_FOREGROUND) {
        if (!deleting)
            s_mark_deleting(obj, 0);
        return s_foreground(s, k, obj, depth, out);
    }
    int rc = pol == S_ORPHAN ? s_orphan(s, obj) : 0;
    if (rc == 0 && json_array_size(proto_obj_get(obj, "metadata.finalizers")) > 0) {
        s_mark_deleting(obj, 0);
        rc = s_put(s, k, obj);
        if (rc == 0 && pol == S_BACKGROUND)
            rc = s_delete_dependents(s, obj, S_BACKGROUND, depth);
        return s_result(s, k, rc, obj, out);
    }
    json_t *last = NULL;
    if (rc == 0)
        rc = apisrv_remove(s, k, obj, 0, &last);
    if (rc == 0 && pol == S_BACKGROUND)
        rc = s_delete_dependents(s, obj, S_BACKGROUND, depth);
    int code = s_result(s, k, rc, last ? last : obj, out);
    json_decref(last);
    return code;
}

/* ---- namespaces -------------------------------------------------------------- */

static int s_empty_namespace(apisrv_t *s, const char *ns)
{
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (!k->namespaced || !proto_kind_is_stored(k))
            continue;
        char *prefix = proto_key(k->resource, ns, "");
        json_t *items = NULL;
        uint64_t rev;
        char *next = NULL;
        int rc = store_list(s->st, prefix, NULL, 0, NULL, NULL, &items, &rev, &next);
        free(prefix);
        free(next);
        size_t j;
        json_t *o;
        json_array_foreach(items, j, o)
        {
            int r2 = apisrv_remove(s, k, o, 0, NULL);
            if (r2 < 0 && r2 != PROTO_ENOTFOUND)
                rc = r2;
        }
        json_decref(items);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int s_delete_namespace(apisrv_t *s, const proto_kind_t *k, json_t *ns, json_t **out)
{
    const char *name = proto_obj_name(ns);
    if (!strcmp(name, "default") || !strcmp(name, "kube-system") || !strcmp(name, "kube-public")) {
        *out = apisrv_status(PROTO_EFORBIDDEN,
                             "namespaces \"%s\" is forbidden: this namespace may not be deleted",
                             name);
        return 403;
    }
    if (!proto_obj_get(ns, "metadata.deletionTimestamp"))
        s_mark_deleting(ns, 0);
    proto_obj_set_str(ns, "status.phase", "Terminating");
    int rc = s_put(s, k, ns);
    if (rc == 0)
        rc = s_empty_namespace(s, name);
    if (rc == 0 && json_array_size(proto_obj_get(ns, "metadata.finalizers")) > 0)
        return s_result(s, k, 0, ns, out); /* stays Terminating until they are gone */
    json_t *last = NULL;
    if (rc == 0)
        rc = apisrv_remove(s, k, ns, 0, &last);
    int code = s_result(s, k, rc, last ? last : ns, out);
    json_decref(last);
    return code;
}

/* ---- operations ------------------------------------------------------------- */

static int s_options(const apisrv_rq_t *r, s_policy_t *pol, json_int_t *grace, json_t **out)
{
    const char *p = json_string_value(json_object_get(r->body, "propagationPolicy"));
    json_t *g = json_object_get(r->body, "gracePeriodSeconds");
    *grace = json_is_integer(g) ? json_integer_value(g) : -1;
    if (*grace < -1)
        *grace = 0;
    if (!p || !strcmp(p, "Background"))
        *pol = S_BACKGROUND;
    else if (!strcmp(p, "Foreground"))
        *pol = S_FOREGROUND;
    else if (!strcmp(p, "Orphan"))
        *pol = S_ORPHAN;
    else {
        *out = apisrv_status(PROTO_EBADREQUEST,
                             "propagationPolicy: Unsupported value: \"%s\": supported values: "
                             "\"Foreground\", \"Background\", \"Orphan\"",
                             p);
        return 400;
    }
    return 0;
}

static int s_preconditions(const apisrv_rq_t *r, const json_t *obj, json_t **out)
{
    json_t *pre = json_object_get(r->body, "preconditions");
    const char *uid = json_string_value(json_object_get(pre, "uid"));
    const char *rv = json_string_value(json_object_get(pre, "resourceVersion"));
    const char *ouid = proto_obj_uid(obj), *orv = proto_obj_str(obj, "metadata.resourceVersion");
    char why[512];
    if (uid && (!ouid || strcmp(uid, ouid)))
        snprintf(why, sizeof why,
                 "Precondition failed: UID in precondition: %.100s, UID in object meta: %.100s",
                 uid, ouid ?: "");
    else if (rv && (!orv || strcmp(rv, orv)))
        snprintf(why, sizeof why,
                 "Precondition failed: ResourceVersion in precondition: %.100s, "
                 "ResourceVersion in object meta: %.100s",
                 rv, orv ?: "");
    else
        return 0;
    *out = proto_status_conflict(r->k->resource, r->k->group, r->name, why);
    return 409;
}

int apisrv_op_delete(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    s_policy_t pol;
    json_int_t grace;
    if (r->sub || !proto_kind_is_stored(r->k)) {
        *out = apisrv_status(PROTO_EMETHOD,
                             "the server does not allow this method on the requested resource");
        return 405;
    }
    int code = s_options(r, &pol, &grace, out);
    if (code)
        return code;
    apisrv_flush(s);
    store_wtxn_t *t = apisrv_txn(s);
    char *key = proto_key(r->k->resource, r->ns, r->name);
    json_t *obj = NULL;
    int rc = t ? store_wtxn_get(t, key, &obj) : PROTO_EINTERNAL;
    free(key);
    if (rc < 0)
        return apisrv_store_err(s, rc, r->k, r->name, out);
    code = s_preconditions(r, obj, out);
    if (!json_object_get(r->body, "propagationPolicy") && s_has_finalizer(obj, "orphan"))
        pol = S_ORPHAN; /* as Kubernetes: the object's own orphan finalizer decides */
    if (!code && r->dry_run) {
        *out = json_incref(obj);
        code = 200;
    } else if (!code) {
        code = !strcmp(r->k->resource, "namespaces")
                   ? s_delete_namespace(s, r->k, obj, out)
                   : s_delete_obj(s, r->k, obj, pol, grace, 0, out);
    }
    json_decref(obj);
    return code;
}

int apisrv_op_deletecollection(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    s_policy_t pol;
    json_int_t grace;
    apisrv_filter_t *f = NULL;
    int code = s_options(r, &pol, &grace, out);
    if (!code)
        code = apisrv_filter_new(r, &f, out);
    if (code)
        return code;
    apisrv_flush(s);
    char *prefix = proto_key(r->k->resource, r->ns, "");
    if (r->k->namespaced && !*r->ns)
        prefix[strlen(r->k->resource) + 1] = 0;
    json_t *items = NULL, *done = json_array();
    uint64_t rev;
    char *next = NULL;
    int rc = store_list(s->st, prefix, NULL, 0, apisrv_filter_keep, f, &items, &rev, &next);
    free(prefix);
    free(next);
    apisrv_filter_destroy(&f);
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        json_t *cur = s_current(s, r->k, o), *res = NULL;
        if (cur && !r->dry_run)
            code = s_delete_obj(s, r->k, cur, pol, grace, 0, &res);
        if (cur && (r->dry_run || code < 300))
            json_array_append(done, r->dry_run ? cur : res);
        json_decref(res);
        json_decref(cur);
    }
    json_decref(items);
    char av[64], kind[128];
    snprintf(kind, sizeof kind, "%sList", r->k->kind);
    if (rc < 0 || s->poisoned) {
        json_decref(done);
        return apisrv_store_err(s, rc < 0 ? rc : PROTO_EINTERNAL, r->k, "", out);
    }
    *out = json_pack("{s:s, s:s, s:{}, s:o}", "kind", kind, "apiVersion",
                     apisrv_api_version(r->k, av), "metadata", "items", done);
    return 200;
}
