/*
 * actors/gateway/request.c — translates an HTTP request on a resource path
 * (method, route, query, body) into one apiserver operation and its body,
 * as Kubernetes' REST handlers read the same request: GET -> get / list /
 * watch, POST -> create (and pods/binding), PUT -> update, PATCH -> patch by
 * Content-Type, DELETE -> delete / deletecollection with DeleteOptions from
 * the body or the query. Pure: no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gateway/gateway.h"
#include "protocol/manifest.h"
#include "protocol/obj.h"
#include "protocol/status.h"

static const char *s_q(const json_t *query, const char *key)
{
    return json_string_value(json_object_get(query, key));
}

static int s_bad(json_t **out, int code, const char *msg)
{
    *out = proto_status_new(code, msg, NULL);
    return proto_err_http(code);
}

/* Copies query parameter key into body as a string, when present. */
static void s_copy_str(json_t *body, const json_t *query, const char *key)
{
    const char *v = s_q(query, key);
    if (v && *v)
        json_object_set_new(body, key, json_string(v));
}

/* Copies an integer query parameter; PROTO_EBADREQUEST when it is not one. */
static int s_copy_int(json_t *body, const json_t *query, const char *key, long long min)
{
    const char *v = s_q(query, key);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > 1000000000LL)
        return PROTO_EBADREQUEST;
    json_object_set_new(body, key, json_integer(n));
    return 0;
}

static bool s_truthy(const char *v)
{
    return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True"));
}

static json_t *s_target(const gw_route_t *r, bool named)
{
    json_t *b = json_pack("{s:s, s:s}", "resource", r->k->resource, "namespace", r->ns);
    if (named && *r->name)
        json_object_set_new(b, "name", json_string(r->name));
    if (*r->sub)
        json_object_set_new(b, "subresource", json_string(r->sub));
    return b;
}

static int s_unsupported_sub(const gw_route_t *r, json_t **out)
{
    static const char *const later[] = {"log", "exec", "attach", "portforward", "proxy"};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        if (!strcmp(r->sub, later[i])) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s/%s is not implemented by zkube's gateway yet",
                     r->k->resource, r->sub);
            *out = gw_status_http(501, "NotImplemented", msg);
            return 501;
        }
    }
    return 0;
}

/* ---- GET ------------------------------------------------------------------ */

static int s_watch(const gw_route_t *r, const json_t *q, json_t **out)
{
    json_t *b = s_target(r, false);
    s_copy_str(b, q, "labelSelector");
    s_copy_str(b, q, "fieldSelector");
    s_copy_str(b, q, "resourceVersion");
    if (s_truthy(s_q(q, "allowWatchBookmarks")))
        json_object_set_new(b, "allowWatchBookmarks", json_true());
    if (*r->name)
        json_object_set_new(b, "name", json_string(r->name));
    if (s_copy_int(b, q, "timeoutSeconds", 0) < 0) {
        json_decref(b);
        return s_bad(out, PROTO_EBADREQUEST, "invalid timeoutSeconds");
    }
    *out = b;
    return 0;
}

static int s_get(const gw_route_t *r, const json_t *q, const char **op, json_t **out)
{
    if (*r->sub && strcmp(r->sub, "status") && strcmp(r->sub, "scale")) {
        int code = s_unsupported_sub(r, out);
        return code ? code
                    : s_bad(out, PROTO_ENOTFOUND,
                            "the server could not find the "
                            "requested resource");
    }
    if (r->watch_path || s_truthy(s_q(q, "watch"))) {
        *op = "watch";
        return s_watch(r, q, out);
    }
    if (*r->name) {
        *op = "get";
        *out = s_target(r, true);
        return 0;
    }
    json_t *b = s_target(r, false);
    s_copy_str(b, q, "labelSelector");
    s_copy_str(b, q, "fieldSelector");
    s_copy_str(b, q, "continue");
    if (s_copy_int(b, q, "limit", 0) < 0) {
        json_decref(b);
        return s_bad(out, PROTO_EBADREQUEST, "invalid limit");
    }
    *op = "list";
    *out = b;
    return 0;
}

/* ---- bodies --------------------------------------------------------------- */

static int s_json_body(const char *body, size_t len, json_t **obj, json_t **out)
{
    json_error_t e;
    char msg[300];
    if (!body || !len)
        return s_bad(out, PROTO_EBADREQUEST, "the request body is empty");
    *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!*obj) {
        snprintf(msg, sizeof msg, "couldn't get version/kind; json parse error: %s", e.text);
        return s_bad(out, PROTO_EBADREQUEST, msg);
    }
    return 0;
}

static bool s_is_pb(const char *ct)
{
    return ct && strstr(ct, "application/vnd.kubernetes.protobuf");
}

static int s_pb_body(const char *body, size_t len, json_t **obj, json_t **out)
{
    char err[300] = "";
    int rc = gw_pb_decode(body, len, obj, err, sizeof err);
    return rc < 0 ? s_bad(out, rc, err) : 0;
}

static int s_object_body(const gw_route_t *r, const char *ctype, const char *body, size_t len,
                         json_t **obj, json_t **out)
{
    int code = s_is_pb(ctype) ? s_pb_body(body, len, obj, out) : s_json_body(body, len, obj, out);
    if (code)
        return code;
    if (!json_is_object(*obj)) {
        json_decref(*obj);
        *obj = NULL;
        return s_bad(out, PROTO_EBADREQUEST, "the request body must be a JSON object");
    }
    const char *ns = proto_obj_ns(*obj);
    if (r->k->namespaced && *r->ns && ns && *ns && strcmp(ns, r->ns)) {
        json_decref(*obj);
        *obj = NULL;
        return s_bad(out, PROTO_EBADREQUEST,
                     "the namespace of the provided object does not "
                     "match the namespace sent on the request");
    }
    return 0;
}

static void s_write_opts(json_t *b, const json_t *q)
{
    s_copy_str(b, q, "dryRun");
    s_copy_str(b, q, "fieldValidation");
    s_copy_str(b, q, "fieldManager");
}

/* ---- POST / PUT / PATCH --------------------------------------------------- */

static int s_create(const gw_route_t *r, const json_t *q, const char *ctype, const char *body,
                    size_t len, json_t **out)
{
    if (*r->name && strcmp(r->sub, "binding"))
        return s_bad(out, PROTO_EMETHOD,
                     "the server does not allow this method on the "
                     "requested resource");
    if (!*r->ns && r->k->namespaced)
        return s_bad(out, PROTO_EMETHOD,
                     "the server does not allow this method on the "
                     "requested resource");
    json_t *obj = NULL;
    int code = s_object_body(r, ctype, body, len, &obj, out);
    if (code)
        return code;
    json_t *b = s_target(r, true);
    json_object_set_new(b, "object", obj);
    s_write_opts(b, q);
    *out = b;
    return 0;
}

static int s_update(const gw_route_t *r, const json_t *q, const char *ctype, const char *body,
                    size_t len, json_t **out)
{
    json_t *obj = NULL;
    int code = s_object_body(r, ctype, body, len, &obj, out);
    if (code)
        return code;
    json_t *b = s_target(r, true);
    json_object_set_new(b, "object", obj);
    s_write_opts(b, q);
    *out = b;
    return 0;
}

static int s_patch_value(const char *type, const char *body, size_t len, json_t **patch,
                         json_t **out)
{
    if (strcmp(type, "apply"))
        return s_json_body(body, len, patch, out);
    json_t *docs = NULL;
    char err[512] = "";
    if (!len || proto_manifest_parse(body, len, "patch", &docs, err, sizeof err) < 0 ||
        json_array_size(docs) != 1 || !json_is_object(json_array_get(docs, 0))) {
        json_decref(docs);
        return s_bad(out, PROTO_EBADREQUEST,
                     err[0] ? err : "the apply patch must be one YAML or JSON object");
    }
    *patch = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return 0;
}

static int s_patch(const gw_route_t *r, const json_t *q, const char *ctype, const char *body,
                   size_t len, json_t **out)
{
    const char *type = gw_patch_type(ctype);
    if (!type) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "the body of the request was in an unknown format - accepted "
                 "media types include: application/json-patch+json, "
                 "application/merge-patch+json, application/apply-patch+yaml");
        return s_bad(out, PROTO_EUNSUPPORTED, msg);
    }
    json_t *patch = NULL;
    int code = s_patch_value(type, body, len, &patch, out);
    if (code)
        return code;
    if (!strcmp(type, "merge") || !strcmp(type, "strategic"))
        gw_patch_up(patch, r->k, r->group, r->version);
    json_t *b = s_target(r, true);
    json_object_set_new(b, "patchType", json_string(type));
    json_object_set_new(b, "patch", patch);
    s_write_opts(b, q);
    const char *force = s_q(q, "force");
    if (force)
        json_object_set_new(b, "force", json_boolean(s_truthy(force)));
    *out = b;
    return 0;
}

/* ---- DELETE --------------------------------------------------------------- */

/* DeleteOptions from the body (when any) into b. */
static int s_delete_opts(json_t *b, const char *body, size_t len, json_t **out)
{
    if (!body || !len)
        return 0;
    json_t *o = NULL;
    int code = s_json_body(body, len, &o, out);
    if (code)
        return code;
    static const char *const keys[] = {"propagationPolicy", "gracePeriodSeconds", "preconditions",
                                       "dryRun"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (v && !json_is_null(v))
            json_object_set(b, keys[i], v);
    }
    if (json_is_true(json_object_get(o, "orphanDependents")))
        json_object_set_new(b, "propagationPolicy", json_string("Orphan"));
    json_decref(o);
    return 0;
}

static int s_delete(const gw_route_t *r, const json_t *q, const char *body, size_t len,
                    const char **op, json_t **out)
{
    if (*r->sub)
        return s_bad(out, PROTO_EMETHOD,
                     "the server does not allow this method on the "
                     "requested resource");
    json_t *b = s_target(r, true);
    int code = s_delete_opts(b, body, len, out);
    if (!code && s_copy_int(b, q, "gracePeriodSeconds", 0) < 0)
        code = s_bad(out, PROTO_EBADREQUEST, "invalid gracePeriodSeconds");
    if (code) {
        json_decref(b);
        return code;
    }
    s_copy_str(b, q, "propagationPolicy");
    s_copy_str(b, q, "dryRun");
    if (!*r->name) {
        s_copy_str(b, q, "labelSelector");
        s_copy_str(b, q, "fieldSelector");
    }
    *op = *r->name ? "delete" : "deletecollection";
    *out = b;
    return 0;
}

/* Bodies are JSON, or protobuf for the objects pb.c knows (POST, PUT);
 * anything else gets 415. */
static bool s_body_ctype_ok(const char *ct, const char *method)
{
    return !ct || !*ct || strstr(ct, "json") || !strncmp(ct, "*/*", 3) ||
           (s_is_pb(ct) && (!strcmp(method, "POST") || !strcmp(method, "PUT")));
}

int gw_request_build(const char *method, const gw_route_t *r, const json_t *query,
                     const char *ctype, const char *body, size_t len, const char **op, json_t **out)
{
    *out = NULL;
    *op = NULL;
    if (r->type != GW_R_RESOURCE || !r->k)
        return s_bad(out, PROTO_ENOTFOUND, "the server could not find the requested resource");
    if (len && strcmp(method, "PATCH") && !s_body_ctype_ok(ctype, method)) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "the body of the request was in an unknown format - accepted "
                 "media types include: application/json");
        return s_bad(out, PROTO_EUNSUPPORTED, msg);
    }
    if (!strcmp(method, "GET"))
        return s_get(r, query, op, out);
    if (r->watch_path)
        return s_bad(out, PROTO_EMETHOD,
                     "the server does not allow this method on the "
                     "requested resource");
    if (!strcmp(method, "DELETE"))
        return s_delete(r, query, body, len, op, out);
    if (!strcmp(method, "POST")) {
        *op = "create";
        return s_create(r, query, ctype, body, len, out);
    }
    if (!*r->name || (*r->sub && strcmp(r->sub, "status") && strcmp(r->sub, "scale")))
        return s_bad(out, PROTO_EMETHOD,
                     "the server does not allow this method on the "
                     "requested resource");
    if (!strcmp(method, "PUT")) {
        *op = "update";
        return s_update(r, query, ctype, body, len, out);
    }
    if (!strcmp(method, "PATCH")) {
        *op = "patch";
        return s_patch(r, query, ctype, body, len, out);
    }
    return s_bad(out, PROTO_EMETHOD,
                 "the server does not allow this method on the requested "
                 "resource");
}
