/*
 * actors/apiserver/ops_write.c — create (with the pods/binding subresource),
 * update (main resource, status and scale subresources) and patch (merge,
 * json, strategic, apply). Every check runs before the first store write,
 * so a failed request leaves the batch's transaction untouched.
 *
 * Server-side apply (apply.c) merges the applied configuration with field
 * ownership and conflicts, and creates the object when it is absent; every
 * other write records an Update entry in metadata.managedFields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/apiserver/apply.h"
#include "actors/apiserver/internal.h"
#include "protocol/obj.h"
#include "protocol/patch.h"
#include "protocol/selector.h"
#include "protocol/status.h"

static int s_bad(json_t **out, const char *msg)
{
    *out = apisrv_status(PROTO_EBADREQUEST, "%s", msg);
    return 400;
}

static int s_method(json_t **out)
{
    *out = apisrv_status(PROTO_EMETHOD,
                         "the server does not allow this method on the requested resource");
    return 405;
}

static bool s_is(const proto_kind_t *k, const char *res)
{
    return !strcmp(k->resource, res);
}

/* ---- create ----------------------------------------------------------------- */

static int s_create_fill(const proto_kind_t *k, json_t *obj, bool strict, json_t **out)
{
    apisrv_generate_name(obj);
    const char *name = proto_obj_name(obj);
    if (!name || !*name) {
        json_t *c =
            json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired", "message",
                      "Required value: name or generateName is required", "field", "metadata.name");
        *out = proto_status_invalid(k->kind, k->group, "", c);
        return 422;
    }
    apisrv_meta_create(obj);
    if (s_is(k, "jobs") && !json_is_true(proto_obj_get(obj, "spec.manualSelector")))
        proto_job_default_selector(obj, proto_obj_uid(obj));
    apisrv_status_reset(k, obj);
    return apisrv_check(k, obj, NULL, strict, out);
}

int apisrv_create_obj(apisrv_t *s, const proto_kind_t *k, json_t *obj, bool dry_run, bool strict,
                      json_t **out)
{
    int code = apisrv_convert(k, obj, out);
    if (!code)
        code = s_create_fill(k, obj, strict, out);
    const char *name = proto_obj_name(obj);
    const char *ns = k->namespaced ? proto_obj_ns(obj) : "";
    if (!code)
        code = apisrv_ns_check(s, k, ns ? ns : "", name, out);
    store_wtxn_t *t = code ? NULL : apisrv_txn(s);
    if (!code && !t)
        return apisrv_store_err(s, PROTO_EINTERNAL, k, name, out);
    if (!code && s_is(k, "services"))
        code = apisrv_alloc_service(s, obj, NULL, out);
    if (code)
        return code;
    char *key = proto_key(k->resource, ns, name);
    json_t *have = NULL;
    int rc = dry_run ? store_wtxn_get(t, key, &have) : store_wtxn_put(t, key, obj, 0, true, NULL);
    free(key);
    json_decref(have);
    if (dry_run)
        rc = rc == 0 ? PROTO_EEXISTS : rc == PROTO_ENOTFOUND ? 0 : rc;
    if ((rc < 0 || dry_run) && s_is(k, "services"))
        apisrv_alloc_release(s, obj);
    if (rc < 0)
        return apisrv_store_err(s, rc, k, name, out);
    *out = json_incref(obj);
    return 201;
}

/* pods/binding: {target: {name: NODE}} sets spec.nodeName and PodScheduled. */
static int s_bind(apisrv_t *s, const apisrv_rq_t *r, const json_t *b, json_t **out)
{
    const char *node = proto_obj_str(b, "target.name");
    const char *name = r->name ? r->name : proto_obj_name(b);
    const char *ns = *r->ns ? r->ns : proto_obj_ns(b);
    if (!node || !*node || !name || !ns || !*ns)
        return s_bad(out, "Binding needs metadata.name, a namespace and target.name");
    const proto_kind_t *pk = proto_kind_by_resource("pods");
    store_wtxn_t *t = apisrv_txn(s);
    char *key = proto_key("pods", ns, name);
    json_t *pod = NULL;
    int rc = t ? store_wtxn_get(t, key, &pod) : PROTO_EINTERNAL;
    char why[512];
    const char *cur = proto_obj_str(pod, "spec.nodeName");
    if (rc == 0 && proto_obj_get(pod, "metadata.deletionTimestamp")) {
        snprintf(why, sizeof why, "pod %s is being deleted, cannot be assigned to a host", name);
        *out = proto_status_conflict("pods/binding", "", name, why);
        rc = 1;
    } else if (rc == 0 && cur && *cur) {
        snprintf(why, sizeof why, "pod %s is already assigned to node \"%s\"", name, cur);
        *out = proto_status_conflict("pods/binding", "", name, why);
        rc = 1;
    }
    if (rc == 0) {
        char now[32];
        proto_now_rfc3339(now);
        proto_obj_set_str(pod, "spec.nodeName", node);
        json_t *conds = proto_obj_get(pod, "status.conditions");
        if (!json_is_array(conds))
            proto_obj_set(pod, "status.conditions", conds = json_array());
        for (size_t i = 0; i < json_array_size(conds); i++) {
            const char *type = json_string_value(json_object_get(json_array_get(conds, i), "type"));
            if (type && !strcmp(type, "PodScheduled"))
                json_array_remove(conds, i--);
        }
        json_array_append_new(conds,
                              json_pack("{s:s, s:s, s:n, s:s}", "type", "PodScheduled", "status",
                                        "True", "lastProbeTime", "lastTransitionTime", now));
        rc = r->dry_run ? 0 : store_wtxn_put(t, key, pod, proto_obj_rv(pod), false, NULL);
    }
    free(key);
    json_decref(pod);
    if (rc == 1)
        return 409;
    if (rc < 0)
        return apisrv_store_err(s, rc, pk, name, out);
    *out = json_incref(apisrv_bind_ok(s));
    return 201;
}

/* The creator owns every field it sets, defaults included (Kubernetes
 * defaults while decoding, before field management). Only a create that
 * names its fieldManager is tracked (see apisrv_fm_wanted). An object that
 * does not convert is refused by apisrv_create_obj. */
static void s_track_create(const apisrv_rq_t *r, json_t *obj)
{
    json_t *err = NULL;
    char manager[APISRV_MANAGER_MAX + 1];
    if (!apisrv_fm_wanted(r->body, NULL, obj))
        return;
    if (apisrv_convert(r->k, obj, &err)) {
        json_decref(err);
        return;
    }
    proto_defaults(obj);
    apisrv_track_update(r->k, NULL, obj, apisrv_fm_name(r->body, manager), NULL);
}

int apisrv_op_create(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    const json_t *src = json_object_get(r->body, "object");
    if (!json_is_object(src))
        return s_bad(out, "invalid request: object is required");
    bool binding = (r->sub && !strcmp(r->sub, "binding") && s_is(r->k, "pods")) ||
                   (!r->sub && s_is(r->k, "bindings"));
    if (binding)
        return s_bind(s, r, src, out);
    if (r->sub || !proto_kind_is_stored(r->k))
        return s_method(out);
    /* The request's own tree, changed in place: nothing reads the request's
     * object after this, and a copy cost more than the validation. */
    json_t *obj = json_incref((json_t *)src);
    const char *ons = proto_obj_ns(obj);
    if (r->k->namespaced) {
        if (*r->ns && ons && *ons && strcmp(ons, r->ns)) {
            json_decref(obj);
            return s_bad(out, "the namespace of the provided object does not match the "
                              "namespace sent on the request");
        }
        const char *ns = *r->ns ? r->ns : ons;
        if (!ns || !*ns) {
            json_decref(obj);
            return s_bad(out, "invalid request: namespace is required");
        }
        if (json_is_object(json_object_get(obj, "metadata")) || !json_object_get(obj, "metadata"))
            proto_obj_set_str(obj, "metadata.namespace", ns);
    } else {
        proto_obj_del(obj, "metadata.namespace");
    }
    s_track_create(r, obj);
    int code = apisrv_create_obj(s, r->k, obj, r->dry_run, apisrv_strict(r), out);
    json_decref(obj);
    return code;
}

/* ---- update ------------------------------------------------------------------ */

json_t *apisrv_scale_of(const proto_kind_t *k, const json_t *obj)
{
    proto_sel_t *sel = NULL;
    json_t *spec_sel = proto_obj_get(obj, "spec.selector");
    char err[256];
    if (s_is(k, "replicationcontrollers"))
        proto_sel_from_map(spec_sel, &sel, err, sizeof err);
    else if (spec_sel)
        proto_sel_from_label_selector(spec_sel, &sel, err, sizeof err);
    char *sels = sel ? proto_sel_string(sel) : strdup("");
    proto_sel_destroy(&sel);
    json_t *md = json_object();
    static const char *const keep[] = {"name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = proto_obj_get(obj, "metadata");
        v = json_object_get(v, keep[i]);
        if (v)
            json_object_set(md, keep[i], v);
    }
    json_t *sc = json_pack("{s:s, s:s, s:o, s:{s:I}, s:{s:I, s:s}}", "kind", "Scale", "apiVersion",
                           "autoscaling/v1", "metadata", md, "spec", "replicas",
                           (json_int_t)proto_obj_int(obj, "spec.replicas", 1), "status", "replicas",
                           (json_int_t)proto_obj_int(obj, "status.replicas", 0), "selector",
                           sels ? sels : "");
    free(sels);
    return sc;
}

/* The URL's name and namespace win; a different one in the body is an error. */
static int s_identity(const apisrv_rq_t *r, json_t *obj, json_t **out)
{
    const char *n = proto_obj_name(obj);
    char msg[700];
    if (n && strcmp(n, r->name)) {
        snprintf(msg, sizeof msg,
                 "the name of the object (%.250s) does not match the name on the URL (%.250s)", n,
                 r->name);
        return s_bad(out, msg);
    }
    proto_obj_set_str(obj, "metadata.name", r->name);
    const char *ns = proto_obj_ns(obj);
    if (r->k->namespaced && ns && *ns && strcmp(ns, r->ns))
        return s_bad(out, "the namespace of the provided object does not match the namespace "
                          "sent on the request");
    if (r->k->namespaced)
        proto_obj_set_str(obj, "metadata.namespace", r->ns);
    else
        proto_obj_del(obj, "metadata.namespace");
    return 0;
}

/* Copies the fields only the server sets from old into obj. */
static void s_keep_server_fields(const json_t *old, json_t *obj, bool status_only)
{
    static const char *const f[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                    "deletionGracePeriodSeconds", "generation"};
    json_t *md = json_object_get(obj, "metadata");
    json_t *omd = json_object_get(old, "metadata");
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        json_t *v = json_object_get(omd, f[i]);
        if (v)
            json_object_set(md, f[i], v);
        else
            json_object_del(md, f[i]);
    }
    json_t *os = json_object_get(old, "spec"), *ns = json_object_get(obj, "spec");
    if (!status_only && (os || ns) && !json_equal(os, ns))
        json_object_set_new(md, "generation",
                            json_integer(proto_obj_int(old, "metadata.generation", 1) + 1));
}

/* Kinds whose update path changes the new object in place beyond its top
 * level and metadata (a Service's allocations, a Secret's stringData):
 * they work on a deep copy of the stored object. */
static bool s_cow_ok(const proto_kind_t *k)
{
    return !s_is(k, "services") && !s_is(k, "secrets");
}

/* Along the merge patch's object paths, doc's objects become its own: those
 * still shared with the stored object (orig, at the same level) are copied. */
static void s_cow_paths(json_t *doc, const json_t *orig, const json_t *patch, int depth)
{
    const char *k;
    json_t *pv;
    if (depth > PROTO_PATCH_MAX_DEPTH)
        return; /* the merge refuses such a patch before going this deep */
    json_object_foreach((json_t *)patch, k, pv)
    {
        json_t *dv = json_object_get(doc, k), *ov = json_object_get(orig, k);
        if (!json_is_object(pv) || !json_is_object(dv))
            continue;
        if (dv == ov) {
            dv = json_copy(dv);
            json_object_set_new(doc, k, dv);
        }
        s_cow_paths(dv, ov, pv, depth + 1);
    }
}

/* What an update may change of the stored object old, without deep
 * copying it: its top level, metadata (managedFields deep) and the objects
 * a merge patch (may be NULL) goes into are its own; the rest is shared
 * with old, and the update path only reads it (defaults are idempotent on
 * a stored object). Caller owns. */
static json_t *s_cow(const proto_kind_t *k, const json_t *old, const json_t *patch)
{
    if (!s_cow_ok(k))
        return json_deep_copy(old);
    json_t *doc = json_copy((json_t *)old);
    json_t *md = json_object_get(doc, "metadata");
    if (json_is_object(md)) {
        md = json_copy(md);
        json_object_set_new(doc, "metadata", md);
        json_t *mf = json_object_get(md, "managedFields");
        if (mf)
            json_object_set_new(md, "managedFields", json_deep_copy(mf));
    }
    if (patch)
        s_cow_paths(doc, old, patch, 0);
    return doc;
}

/* What the stored object becomes: the status subresource takes only status,
 * the main resource keeps the stored status when the kind has a status
 * subresource. */
static json_t *s_merge_status(const proto_kind_t *k, const json_t *old, json_t *obj,
                              bool status_only)
{
    if (status_only) {
        json_t *n = s_cow(k, old, NULL);
        json_t *st = json_object_get(obj, "status");
        if (st)
            json_object_set(n, "status", st);
        else
            json_object_del(n, "status");
        json_t *rv = proto_obj_get(obj, "metadata.resourceVersion");
        if (rv)
            proto_obj_set(n, "metadata.resourceVersion", json_incref(rv));
        else
            proto_obj_del(n, "metadata.resourceVersion");
        return n;
    }
    json_t *n = json_incref(obj);
    if (apisrv_has_word(k->subresources, "status")) {
        json_t *ost = json_object_get(old, "status");
        if (ost)
            json_object_set(n, "status", ost);
        else
            json_object_del(n, "status");
    }
    return n;
}

static int s_validate_update(const proto_kind_t *k, const json_t *old, const json_t *obj,
                             json_t **out)
{
    json_t *causes = NULL;
    int rc = proto_validate_update(old, obj, &causes);
    if (rc == PROTO_EINVALID) {
        *out = proto_status_invalid(k->kind, k->group, proto_obj_name(obj),
                                    causes ? causes : json_array());
        return 422;
    }
    json_decref(causes);
    if (rc < 0) {
        *out = apisrv_status(rc, "%s", proto_strerror(rc));
        return proto_err_http(rc);
    }
    return 0;
}

/* Writes obj over old (finalizers emptied during deletion remove it). */
static int s_write(apisrv_t *s, const apisrv_rq_t *r, const json_t *old, json_t *obj, json_t **out)
{
    uint64_t expect = proto_obj_rv(obj);
    /* as Kubernetes: removed once its last finalizer is gone, unless a
     * graceful deletion (a bound pod's) is still running */
    bool gone = proto_obj_get(obj, "metadata.deletionTimestamp") &&
                json_array_size(proto_obj_get(old, "metadata.finalizers")) > 0 &&
                json_array_size(proto_obj_get(obj, "metadata.finalizers")) == 0 &&
                proto_obj_int(obj, "metadata.deletionGracePeriodSeconds", 0) == 0;
    if (r->dry_run) {
        *out = json_incref(obj);
        return 200;
    }
    if (gone) {
        json_t *last = NULL;
        int rc = apisrv_remove(s, r->k, obj, expect, &last);
        if (rc < 0)
            return apisrv_store_err(s, rc, r->k, r->name, out);
        *out = last;
        return 200;
    }
    char *key = proto_key(r->k->resource, r->ns, r->name);
    int rc = store_wtxn_put(apisrv_txn(s), key, obj, expect, false, NULL);
    free(key);
    if (rc < 0)
        return apisrv_store_err(s, rc, r->k, r->name, out);
    if (s_is(r->k, "services"))
        apisrv_alloc_release_diff(s, old, obj);
    *out = json_incref(obj);
    return 200;
}

static bool s_is_apply(const apisrv_rq_t *r)
{
    const char *pt = json_string_value(json_object_get(r->body, "patchType"));
    return !strcmp(r->op, "patch") && pt &&
           (!strcmp(pt, "apply") || !strcmp(pt, "application/apply-patch+yaml"));
}

/* Field management of an update or patch: n is what will be stored. An
 * apply brought its managedFields in obj already; true when the apply
 * changes nothing (then nothing is written, as in Kubernetes). */
static bool s_track(const apisrv_rq_t *r, const json_t *old, const json_t *obj, json_t *n)
{
    const char *sub = json_string_value(json_object_get(r->body, "subresource"));
    if (!s_is_apply(r)) {
        char manager[APISRV_MANAGER_MAX + 1];
        if (apisrv_fm_wanted(r->body, old, n))
            apisrv_track_update(r->k, old, n, apisrv_fm_name(r->body, manager), sub);
        return false;
    }
    json_t *mf = proto_obj_get(obj, "metadata.managedFields");
    if (n != obj && mf)
        proto_obj_set(n, "metadata.managedFields", json_incref(mf));
    else if (n != obj)
        proto_obj_del(n, "metadata.managedFields");
    return apisrv_apply_noop(old, n);
}

/* The common path of update and patch: obj is the full new object. */
static int s_update_obj(apisrv_t *s, const apisrv_rq_t *r, const json_t *old, json_t *obj,
                        json_t **out)
{
    bool status_only = r->sub && !strcmp(r->sub, "status");
    int code = apisrv_convert(r->k, obj, out);
    if (!code)
        code = s_identity(r, obj, out);
    if (code)
        return code;
    json_t *n = s_merge_status(r->k, old, obj, status_only);
    s_keep_server_fields(old, n, status_only);
    code = apisrv_check(r->k, n, old, apisrv_strict(r), out);
    if (!code)
        code = s_validate_update(r->k, old, n, out);
    if (!code && s_track(r, old, obj, n)) {
        json_decref(n);
        *out = json_deep_copy(old);
        return 200;
    }
    if (!code && s_is(r->k, "services") && !status_only)
        code = apisrv_alloc_service(s, n, old, out);
    if (!code) {
        if (!proto_obj_get(n, "metadata.resourceVersion"))
            proto_obj_set(n, "metadata.resourceVersion",
                          json_incref(proto_obj_get(old, "metadata.resourceVersion")));
        code = s_write(s, r, old, n, out);
        if ((code >= 300 || r->dry_run) && s_is(r->k, "services") && !status_only)
            apisrv_alloc_release_diff(s, n, old); /* back to what old holds */
    }
    json_decref(n);
    return code;
}

/* Reads the current object; 0 or an HTTP code. */
static int s_load(apisrv_t *s, const apisrv_rq_t *r, json_t **old, json_t **out)
{
    store_wtxn_t *t = apisrv_txn(s);
    if (!t)
        return apisrv_store_err(s, PROTO_EINTERNAL, r->k, r->name, out);
    char *key = proto_key(r->k->resource, r->ns, r->name);
    int rc = store_wtxn_get(t, key, old);
    free(key);
    return rc < 0 ? apisrv_store_err(s, rc, r->k, r->name, out) : 0;
}

static int s_check_sub(const apisrv_rq_t *r, json_t **out)
{
    if (!r->sub)
        return proto_kind_is_stored(r->k) ? 0 : s_method(out);
    if (strcmp(r->sub, "status") && strcmp(r->sub, "scale"))
        return s_method(out);
    if (!apisrv_has_word(r->k->subresources, r->sub)) {
        *out = apisrv_status(PROTO_ENOTFOUND, "the server could not find the requested resource");
        return 404;
    }
    return 0;
}

/* Scale: only spec.replicas moves; the reply is the new Scale. */
static int s_update_scale(apisrv_t *s, const apisrv_rq_t *r, const json_t *old, const json_t *scale,
                          json_t **out)
{
    json_t *rep = proto_obj_get(scale, "spec.replicas");
    if (!json_is_integer(rep) || json_integer_value(rep) < 0 || json_integer_value(rep) > 1000000) {
        json_t *c = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
                              "Invalid value: must be greater than or equal to 0", "field",
                              "spec.replicas");
        *out = proto_status_invalid("Scale", "autoscaling", r->name, c);
        return 422;
    }
    json_t *n = json_deep_copy(old);
    proto_obj_set(n, "spec.replicas", json_incref(rep));
    json_t *rv = proto_obj_get(scale, "metadata.resourceVersion");
    if (json_is_string(rv) && *json_string_value(rv))
        proto_obj_set(n, "metadata.resourceVersion", json_incref(rv));
    apisrv_rq_t main_rq = *r;
    main_rq.sub = NULL;
    json_t *res = NULL;
    int code = s_update_obj(s, &main_rq, old, n, &res);
    json_decref(n);
    if (code >= 300) {
        *out = res;
        return code;
    }
    *out = apisrv_scale_of(r->k, res);
    json_decref(res);
    return code;
}

int apisrv_op_update(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    const json_t *src = json_object_get(r->body, "object");
    if (!json_is_object(src))
        return s_bad(out, "invalid request: object is required");
    json_t *old = NULL;
    int code = s_check_sub(r, out);
    if (!code)
        code = s_load(s, r, &old, out);
    if (code)
        return code;
    if (r->sub && !strcmp(r->sub, "scale")) {
        code = s_update_scale(s, r, old, src, out);
    } else {
        json_t *obj = json_incref((json_t *)src); /* in place, as create */
        code = s_update_obj(s, r, old, obj, out);
        json_decref(obj);
    }
    json_decref(old);
    return code;
}

/* ---- patch ------------------------------------------------------------------- */

static const char *s_patch_type(const char *pt)
{
    if (!pt)
        return NULL;
    if (!strcmp(pt, "merge") || !strcmp(pt, "application/merge-patch+json"))
        return "merge";
    if (!strcmp(pt, "json") || !strcmp(pt, "application/json-patch+json"))
        return "json";
    if (!strcmp(pt, "strategic") || !strcmp(pt, "application/strategic-merge-patch+json"))
        return "strategic";
    if (!strcmp(pt, "apply") || !strcmp(pt, "application/apply-patch+yaml"))
        return "apply";
    return NULL;
}

static int s_apply_patch(const char *type, const proto_kind_t *k, json_t **doc, const json_t *patch,
                         json_t **out)
{
    char err[1024] = "";
    int rc;
    if (!strcmp(type, "json")) {
        if (!json_is_array(patch))
            return s_bad(out, "json patch must be an array of operations");
        rc = proto_patch_json(doc, patch, err, sizeof err);
    } else if (!json_is_object(patch)) {
        return s_bad(out, "patch must be a map");
    } else if (!strcmp(type, "strategic")) {
        rc = proto_patch_strategic(*doc, patch, k->kind, err, sizeof err);
    } else {
        rc = proto_patch_merge(*doc, patch);
    }
    if (rc < 0)
        return s_bad(out, err[0] ? err : "the patch could not be applied");
    if (!json_is_object(*doc))
        return s_bad(out, "the patched object is not a map");
    return 0;
}

/* Server-side apply of an absent object: create it from the configuration,
 * owned by the manager. */
static int s_apply_create(apisrv_t *s, const apisrv_rq_t *r, const json_t *patch,
                          const char *manager, json_t **out)
{
    json_t *obj = NULL;
    int code = apisrv_apply(r->k, NULL, patch, manager, false, NULL, &obj);
    if (code) {
        *out = obj;
        return code;
    }
    const char *n = proto_obj_name(obj);
    if (n && strcmp(n, r->name)) {
        char msg[700];
        snprintf(msg, sizeof msg,
                 "the name of the object (%.250s) does not match the name on the URL (%.250s)", n,
                 r->name);
        json_decref(obj);
        return s_bad(out, msg);
    }
    proto_obj_set_str(obj, "metadata.name", r->name);
    if (r->k->namespaced)
        proto_obj_set_str(obj, "metadata.namespace", r->ns);
    code = apisrv_create_obj(s, r->k, obj, r->dry_run, apisrv_strict(r), out);
    json_decref(obj);
    return code;
}

/* Server-side apply to a stored object (main resource or status). */
static int s_apply_existing(apisrv_t *s, const apisrv_rq_t *r, const json_t *old,
                            const json_t *patch, const char *manager, json_t **out)
{
    json_t *doc = NULL;
    bool force = json_is_true(json_object_get(r->body, "force"));
    int code = apisrv_apply(r->k, old, patch, manager, force, r->sub, &doc);
    if (code) {
        *out = doc;
        return code;
    }
    code = s_update_obj(s, r, old, doc, out);
    json_decref(doc);
    return code;
}

static int s_patch_existing(apisrv_t *s, const apisrv_rq_t *r, const char *type, const json_t *old,
                            const json_t *patch, const char *manager, json_t **out)
{
    bool scale = r->sub && !strcmp(r->sub, "scale");
    if (!strcmp(type, "apply") && !scale)
        return s_apply_existing(s, r, old, patch, manager, out);
    const char *how = !strcmp(type, "apply") ? "merge" : type;
    json_t *doc = scale                    ? apisrv_scale_of(r->k, old)
                  : !strcmp(how, "merge") ? s_cow(r->k, old, patch)
                                          : json_deep_copy(old);
    int code = s_apply_patch(how, r->k, &doc, patch, out);
    if (!code && scale) {
        code = s_update_scale(s, r, old, doc, out);
    } else if (!code) {
        code = s_update_obj(s, r, old, doc, out);
    }
    json_decref(doc);
    return code;
}

int apisrv_op_patch(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    const char *type = s_patch_type(json_string_value(json_object_get(r->body, "patchType")));
    const json_t *patch = json_object_get(r->body, "patch");
    const char *manager = json_string_value(json_object_get(r->body, "fieldManager"));
    if (!type)
        return s_bad(out, "invalid request: patchType must be merge, json, strategic or apply");
    if (!patch)
        return s_bad(out, "invalid request: patch is required");
    if (!strcmp(type, "apply") && (!manager || !*manager))
        return s_bad(out, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
                          "value: is required for apply patch");
    json_t *old = NULL;
    int code = s_check_sub(r, out);
    if (code)
        return code;
    code = s_load(s, r, &old, out);
    if (code == 404 && !strcmp(type, "apply") && !r->sub) {
        json_decref(*out);
        *out = NULL;
        return s_apply_create(s, r, patch, manager, out);
    }
    if (code)
        return code;
    code = s_patch_existing(s, r, type, old, patch, manager, out);
    json_decref(old);
    return code;
}
