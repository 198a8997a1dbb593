/*
 * protocol/status — the error band and Kubernetes Status objects.
 */
#include "protocol/status.h"

#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    int http;
    const char *reason;
    const char *text;
} s_errs[] = {
    {PROTO_ENOTFOUND, 404, "NotFound", "not found"},
    {PROTO_EEXISTS, 409, "AlreadyExists", "already exists"},
    {PROTO_ECONFLICT, 409, "Conflict", "conflict"},
    {PROTO_EINVALID, 422, "Invalid", "invalid"},
    {PROTO_EBADREQUEST, 400, "BadRequest", "bad request"},
    {PROTO_EEXPIRED, 410, "Expired", "expired"},
    {PROTO_EUNAVAILABLE, 503, "ServiceUnavailable", "service unavailable"},
    {PROTO_ETIMEOUT, 504, "Timeout", "timeout"},
    {PROTO_EINTERNAL, 500, "InternalError", "internal error"},
    {PROTO_EMETHOD, 405, "MethodNotAllowed", "method not allowed"},
    {PROTO_ETOOLARGE, 413, "RequestEntityTooLarge", "request entity too large"},
    {PROTO_EUNSUPPORTED, 415, "UnsupportedMediaType", "unsupported media type"},
    {PROTO_EFORBIDDEN, 403, "Forbidden", "forbidden"},
    {PROTO_EGONE, 410, "Gone", "gone"},
};
#define S_NERRS (sizeof(s_errs) / sizeof(s_errs[0]))

static int s_find(int code)
{
    for (size_t i = 0; i < S_NERRS; i++)
        if (s_errs[i].code == code)
            return (int)i;
    return -1;
}

const char *proto_strerror(int code)
{
    if (code == 0)
        return "success";
    int i = s_find(code);
    if (i >= 0)
        return s_errs[i].text;
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

const char *proto_err_reason(int code)
{
    int i = s_find(code);
    return i >= 0 ? s_errs[i].reason : "InternalError";
}

int proto_err_http(int code)
{
    if (code == 0)
        return 200;
    int i = s_find(code);
    return i >= 0 ? s_errs[i].http : 500;
}

int proto_err_from_status(const json_t *status)
{
    const char *reason = json_string_value(json_object_get(status, "reason"));
    if (reason)
        for (size_t i = 0; i < S_NERRS; i++)
            if (strcmp(s_errs[i].reason, reason) == 0)
                return s_errs[i].code;
    json_int_t http = json_integer_value(json_object_get(status, "code"));
    for (size_t i = 0; i < S_NERRS; i++)
        if (s_errs[i].http == http)
            return s_errs[i].code;
    return http >= 200 && http < 300 ? 0 : PROTO_EINTERNAL;
}

json_t *proto_status_new(int code, const char *message, json_t *details)
{
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status",
                           "apiVersion", "v1", "metadata", "status", "Failure", "message",
                           message ? message : proto_strerror(code), "reason",
                           proto_err_reason(code), "code", proto_err_http(code));
    if (details)
        json_object_set_new(st, "details", details);
    return st;
}

json_t *proto_status_success(int http_code, json_t *details)
{
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                           "metadata", "status", "Success", "code",
                           http_code ? http_code : 200);
    if (details)
        json_object_set_new(st, "details", details);
    return st;
}

static json_t *s_details(const char *resource, const char *group, const char *name)
{
    json_t *d = json_pack("{s:s, s:s}", "name", name ? name : "", "kind", resource);
    if (group && *group)
        json_object_set_new(d, "group", json_string(group));
    return d;
}

static void s_qualified(char *buf, size_t n, const char *resource, const char *group)
{
    if (group && *group)
        snprintf(buf, n, "%s.%s", resource, group);
    else
        snprintf(buf, n, "%s", resource);
}

json_t *proto_status_notfound(const char *resource, const char *group, const char *name)
{
    char res[256], msg[1024];
    s_qualified(res, sizeof res, resource, group);
    snprintf(msg, sizeof msg, "%s \"%s\" not found", res, name ? name : "");
    return proto_status_new(PROTO_ENOTFOUND, msg, s_details(resource, group, name));
}

json_t *proto_status_exists(const char *resource, const char *group, const char *name)
{
    char res[256], msg[1024];
    s_qualified(res, sizeof res, resource, group);
    snprintf(msg, sizeof msg, "%s \"%s\" already exists", res, name ? name : "");
    return proto_status_new(PROTO_EEXISTS, msg, s_details(resource, group, name));
}

json_t *proto_status_conflict(const char *resource, const char *group, const char *name,
                              const char *why)
{
    char res[256], msg[1024];
    s_qualified(res, sizeof res, resource, group);
    snprintf(msg, sizeof msg, "Operation cannot be fulfilled on %s \"%s\": %s", res,
             name ? name : "",
             why ? why
                 : "the object has been modified; please apply your changes to the latest "
                   "version and try again");
    return proto_status_new(PROTO_ECONFLICT, msg, s_details(resource, group, name));
}

json_t *proto_status_invalid(const char *kind, const char *group, const char *name,
                             json_t *causes)
{
    char msg[4096];
    size_t off = 0;
    if (group && *group)
        off = (size_t)snprintf(msg, sizeof msg, "%s.%s \"%s\" is invalid: ", kind, group,
                               name ? name : "");
    else
        off = (size_t)snprintf(msg, sizeof msg, "%s \"%s\" is invalid: ", kind, name ? name : "");
    size_t n = json_array_size(causes);
    if (n > 1 && off < sizeof msg)
        off += (size_t)snprintf(msg + off, sizeof msg - off, "[");
    for (size_t i = 0; i < n && off < sizeof msg; i++) {
        json_t *c = json_array_get(causes, i);
        const char *field = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        off += (size_t)snprintf(msg + off, sizeof msg - off, "%s%s%s%s", i ? ", " : "",
                                field ? field : "", field && *field ? ": " : "", m ? m : "");
    }
    if (n > 1 && off < sizeof msg)
        snprintf(msg + off, sizeof msg - off, "]");
    json_t *d = json_pack("{s:s, s:s, s:o}", "name", name ? name : "", "kind", kind, "causes",
                          causes ? causes : json_array());
    if (group && *group)
        json_object_set_new(d, "group", json_string(group));
    return proto_status_new(PROTO_EINVALID, msg, d);
}

int proto_is_failure(const json_t *obj)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *st = json_string_value(json_object_get(obj, "status"));
    return kind && strcmp(kind, "Status") == 0 && st && strcmp(st, "Success") != 0;
}
