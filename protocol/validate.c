/*
 * protocol/validate — the generic half of validation: the schema walk
 * (decoding-time type errors, unknown fields, required values, enums), the
 * field-error causes worded as Kubernetes' field.Error, the name and label
 * syntax checks, and the entry points proto_validate / proto_prune_unknown.
 *
 * Type errors are what Kubernetes reports while decoding, before any
 * validation: zkube returns them as PROTO_EBADREQUEST (400 BadRequest, as
 * Kubernetes does), worded like its decoding error but with the full field
 * path, e.g.
 *   `ReplicaSet in version "v1" cannot be handled as a ReplicaSet: json:
 *    cannot unmarshal string into Go struct field spec.replicas of type int32`.
 */
#include "protocol/kinds_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PATH_CAP 1024
#define S_MAX_UNKNOWN 100

/* ---- causes ---- */

void proto_v_add(proto_vctx_t *v, const char *reason, const char *field, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (json_array_size(v->causes) >= 1000)
        return;
    json_array_append_new(
        v->causes, json_pack("{s:s, s:s, s:s}", "reason", reason, "message", msg, "field", field));
}

const char *proto_v_path(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return buf;
}

void proto_v_required(proto_vctx_t *v, const char *field, const char *detail)
{
    if (detail && *detail)
        proto_v_add(v, "FieldValueRequired", field, "Required value: %s", detail);
    else
        proto_v_add(v, "FieldValueRequired", field, "Required value");
}

static void s_quote(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    if (n < 4)
        return;
    buf[o++] = '"';
    for (; *s && o + 8 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, n - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    if (*s && o + 4 < n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

void proto_v_render(const json_t *val, char *buf, size_t n)
{
    if (json_is_string(val)) {
        s_quote(json_string_value(val), buf, n);
    } else if (json_is_object(val) && n > 32) {
        /* map[string]string{"app":"x"} as Go's %#v prints a label map */
        size_t o = (size_t)snprintf(buf, n, "map[string]string{");
        const char *k;
        json_t *x;
        bool first = true;
        json_object_foreach((json_t *)val, k, x)
        {
            char kq[128], vq[128];
            s_quote(k, kq, sizeof kq);
            if (json_is_string(x))
                s_quote(json_string_value(x), vq, sizeof vq);
            else
                snprintf(vq, sizeof vq, "?");
            if (o + strlen(kq) + strlen(vq) + 8 >= n)
                break;
            o += (size_t)snprintf(buf + o, n - o, "%s%s:%s", first ? "" : ", ", kq, vq);
            first = false;
        }
        snprintf(buf + o, n - o, "}");
    } else {
        char *t = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, n, "%s", t ? t : "null");
        free(t);
    }
}

void proto_v_invalid(proto_vctx_t *v, const char *field, const json_t *val, const char *detail)
{
    char r[512];
    proto_v_render(val, r, sizeof r);
    proto_v_add(v, "FieldValueInvalid", field, "Invalid value: %s: %s", r, detail);
}

void proto_v_invalid_str(proto_vctx_t *v, const char *field, const char *val, const char *detail)
{
    char r[512];
    s_quote(val ? val : "", r, sizeof r);
    proto_v_add(v, "FieldValueInvalid", field, "Invalid value: %s: %s", r, detail);
}

void proto_v_invalid_int(proto_vctx_t *v, const char *field, long long val, const char *detail)
{
    proto_v_add(v, "FieldValueInvalid", field, "Invalid value: %lld: %s", val, detail);
}

void proto_v_unsupported(proto_vctx_t *v, const char *field, const char *val,
                         const char *const *supported)
{
    char list[512] = "", q[128], r[256];
    size_t o = 0;
    for (const char *const *s = supported; *s && o < sizeof list - 1; s++) {
        s_quote(*s, q, sizeof q);
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", s == supported ? "" : ", ", q);
    }
    s_quote(val ? val : "", r, sizeof r);
    proto_v_add(v, "FieldValueNotSupported", field, "Unsupported value: %s: supported values: %s",
                r, list);
}

void proto_v_forbidden(proto_vctx_t *v, const char *field, const char *detail)
{
    proto_v_add(v, "FieldValueForbidden", field, "Forbidden: %s", detail);
}

void proto_v_duplicate(proto_vctx_t *v, const char *field, const json_t *val)
{
    char r[512];
    proto_v_render(val, r, sizeof r);
    proto_v_add(v, "FieldValueDuplicate", field, "Duplicate value: %s", r);
}

/* ---- the schema walk ---- */

static const char *s_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "number";
    }
}

static const char *s_go_type(int t)
{
    switch (t) {
    case PROTO_T_STR:
        return "string";
    case PROTO_T_INT:
        return "int32";
    case PROTO_T_I64:
        return "int64";
    case PROTO_T_BOOL:
        return "bool";
    case PROTO_T_OBJ:
        return "object";
    case PROTO_T_ARR:
        return "array";
    case PROTO_T_MAP:
        return "map[string]string";
    case PROTO_T_MAPQ:
        return "map[string]resource.Quantity";
    case PROTO_T_QTY:
        return "resource.Quantity";
    case PROTO_T_IOS:
        return "intstr.IntOrString";
    default:
        return "any";
    }
}

static void s_type_err(proto_walk_t *w, const json_t *v, const char *path, int t)
{
    if (w->type_err[0])
        return;
    bool int_target = t == PROTO_T_INT || t == PROTO_T_I64 || t == PROTO_T_IOS;
    if (int_target && (json_is_integer(v) || json_is_real(v))) {
        /* Go's json names the literal only when it does not fit an integer type */
        char num[64];
        proto_v_render(v, num, sizeof num);
        snprintf(w->type_err, sizeof w->type_err,
                 "json: cannot unmarshal number %s into Go struct field %s of type %s", num, path,
                 s_go_type(t));
    } else {
        snprintf(w->type_err, sizeof w->type_err,
                 "json: cannot unmarshal %s into Go struct field %s of type %s", s_json_kind(v),
                 path, s_go_type(t));
    }
}

/* resource.Quantity's grammar: sign, digits with one '.', then a suffix. */
static bool s_qty_ok(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    size_t digits = 0, dots = 0;
    for (; isdigit((unsigned char)*s) || *s == '.'; s++)
        *s == '.' ? dots++ : digits++;
    if (!digits || dots > 1)
        return false;
    if (!*s)
        return true;
    static const char *const suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
                                           "m",  "k",  "M",  "G",  "T",  "P",  "E", NULL};
    for (const char *const *x = suffixes; *x; x++)
        if (strcmp(s, *x) == 0)
            return true;
    if (*s != 'e' && *s != 'E')
        return false;
    s++;
    if (*s == '+' || *s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static void s_check_qty(const json_t *v, const char *path, proto_walk_t *w)
{
    if (json_is_integer(v) || json_is_real(v))
        return;
    if (!json_is_string(v)) {
        s_type_err(w, v, path, PROTO_T_QTY);
        return;
    }
    if (!s_qty_ok(json_string_value(v)) && !w->type_err[0])
        snprintf(w->type_err, sizeof w->type_err,
                 "quantities must match the regular expression "
                 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' at %s",
                 path);
}

static bool s_is_int(const json_t *v, int t)
{
    if (!json_is_integer(v))
        return false;
    json_int_t n = json_integer_value(v);
    return t != PROTO_T_INT || (n >= INT32_MIN && n <= INT32_MAX);
}

/* Appends ".name" (no dot at the start) or "[i]" to path at len: the new
 * length, or 0 when it would not fit (path is then left at len). Built by
 * hand: the walk pushes every field of every object, and printf-style
 * formatting was a tenth of a create's CPU. */
static size_t s_push_name(char *path, size_t len, size_t cap, const char *name)
{
    size_t n = strlen(name), dot = len ? 1 : 0;
    if (len + dot + n >= cap) {
        path[len] = '\0';
        return 0;
    }
    if (dot)
        path[len] = '.';
    memcpy(path + len + dot, name, n + 1);
    return len + dot + n;
}

static size_t s_push_index(char *path, size_t len, size_t cap, size_t i)
{
    char d[24];
    size_t nd = 0;
    do {
        d[nd++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    if (len + nd + 2 >= cap) {
        path[len] = '\0';
        return 0;
    }
    path[len++] = '[';
    while (nd)
        path[len++] = d[--nd];
    path[len++] = ']';
    path[len] = '\0';
    return len;
}

static void s_walk_map(const json_t *val, int t, char *path, size_t len, size_t cap,
                       proto_walk_t *w)
{
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)val, k, x)
    {
        if (json_is_null(x))
            continue;
        if (t == PROTO_T_MAPQ) {
            if (s_push_name(path, len, cap, k))
                s_check_qty(x, path, w);
            path[len] = '\0';
        } else if (!json_is_string(x)) {
            s_type_err(w, x, path, PROTO_T_STR);
        }
    }
}

/* The schema field named k among f's children, or the terminator. */
static const proto_sch_field_t *s_child(const proto_sch_field_t *f, const char *k)
{
    const proto_sch_field_t *c = f->child;
    while (c->name && (c->name[0] != k[0] || strcmp(c->name, k) != 0))
        c++;
    return c;
}

/* Walks an object's fields; skip (may be NULL) names a field treated as
 * absent (the top-level status, which the server resets), and a field whose
 * value is the very tree the stored object holds (same: the stored object's
 * map at this level, or NULL) is not walked: it was when it was written. */
static void s_walk_fields(const json_t *val, const proto_sch_field_t *f, char *path, size_t len,
                          size_t cap, proto_walk_t *w, const char *skip, const json_t *same)
{
    const char *k;
    json_t *x;
    void *tmp;
    json_object_foreach_safe((json_t *)val, tmp, k, x)
    {
        if ((skip && !strcmp(k, skip)) || (same && json_object_get(same, k) == x))
            continue;
        const proto_sch_field_t *c = s_child(f, k);
        size_t plen = s_push_name(path, len, cap, k);
        if (!plen)
            continue;
        if (!c->name) {
            if (json_array_size(w->unknown) < S_MAX_UNKNOWN)
                json_array_append_new(w->unknown, json_string(path));
            if (w->prune)
                json_object_del((json_t *)val, k);
        } else {
            proto_sch_walk(x, c, path, plen, cap, w);
        }
        path[len] = '\0';
    }
    for (const proto_sch_field_t *c = f->child; w->v && c->name; c++) {
        if (!c->req)
            continue;
        json_t *x2 = skip && !strcmp(c->name, skip) ? NULL : json_object_get(val, c->name);
        if (!x2 || json_is_null(x2) || (json_is_string(x2) && !json_string_length(x2))) {
            if (s_push_name(path, len, cap, c->name))
                proto_v_required(w->v, path, NULL);
            path[len] = '\0';
        }
    }
}

static void s_walk_obj(const json_t *val, const proto_sch_field_t *f, char *path, size_t len,
                       size_t cap, proto_walk_t *w)
{
    s_walk_fields(val, f, path, len, cap, w, NULL, NULL);
}

static void s_walk_arr(const json_t *val, const proto_sch_field_t *f, char *path, size_t len,
                       size_t cap, proto_walk_t *w)
{
    proto_sch_field_t elem = {.name = f->name, .type = f->elem, .child = f->child};
    size_t i;
    json_t *x;
    json_array_foreach(val, i, x)
    {
        size_t plen = s_push_index(path, len, cap, i);
        if (!plen)
            break;
        proto_sch_walk(x, &elem, path, plen, cap, w);
        path[len] = '\0';
    }
}

static void s_enum(const json_t *val, const proto_sch_field_t *f, const char *path, proto_walk_t *w)
{
    const char *s = json_string_value(val);
    if (!w->v || !*s)
        return;
    for (const char *const *e = f->enums; *e; e++)
        if (strcmp(*e, s) == 0)
            return;
    proto_v_unsupported(w->v, path, s, f->enums);
}

void proto_sch_walk(const json_t *val, const proto_sch_field_t *f, char *path, size_t len,
                    size_t cap, proto_walk_t *w)
{
    if (!val || json_is_null(val))
        return;
    switch (f->type) {
    case PROTO_T_STR:
        if (!json_is_string(val))
            s_type_err(w, val, path, f->type);
        else if (f->enums)
            s_enum(val, f, path, w);
        break;
    case PROTO_T_INT:
    case PROTO_T_I64:
        if (!s_is_int(val, f->type))
            s_type_err(w, val, path, f->type);
        break;
    case PROTO_T_BOOL:
        if (!json_is_boolean(val))
            s_type_err(w, val, path, f->type);
        break;
    case PROTO_T_IOS:
        if (!json_is_string(val) && !s_is_int(val, PROTO_T_INT))
            s_type_err(w, val, path, f->type);
        break;
    case PROTO_T_QTY:
        s_check_qty(val, path, w);
        break;
    case PROTO_T_MAP:
    case PROTO_T_MAPQ:
        if (!json_is_object(val))
            s_type_err(w, val, path, f->type);
        else
            s_walk_map(val, f->type, path, len, cap, w);
        break;
    case PROTO_T_OBJ:
        if (!json_is_object(val))
            s_type_err(w, val, path, f->type);
        else
            s_walk_obj(val, f, path, len, cap, w);
        break;
    case PROTO_T_ARR:
        if (!json_is_array(val))
            s_type_err(w, val, path, f->type);
        else
            s_walk_arr(val, f, path, len, cap, w);
        break;
    default:
        break;
    }
}

/* Base64 as Go's encoding/base64 StdEncoding decodes []byte fields. */
static long s_bad_base64(const char *s)
{
    size_t n = strlen(s), i;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (isalnum((unsigned char)c) || c == '+' || c == '/')
            continue;
        if (c == '=' && (i + 1 == n || (i + 2 == n && s[i + 1] == '=')) && n % 4 == 0)
            return -1;
        return (long)i;
    }
    return n % 4 ? (long)(n - n % 4) : -1;
}

/* []byte fields (Secret data, ConfigMap binaryData) fail at decoding time. */
static void s_decode_checks(const json_t *obj, proto_walk_t *w)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *field = !kind                            ? NULL
                        : strcmp(kind, "Secret") == 0    ? "data"
                        : strcmp(kind, "ConfigMap") == 0 ? "binaryData"
                                                         : NULL;
    const char *k;
    json_t *x;
    json_object_foreach(field ? json_object_get(obj, field) : NULL, k, x)
    {
        long at = json_is_string(x) ? s_bad_base64(json_string_value(x)) : -1;
        if (at >= 0 && !w->type_err[0])
            snprintf(w->type_err, sizeof w->type_err,
                     "illegal base64 data at input byte %ld in %s[%.200s]", at, field, k);
    }
}

/* ---- entry points ---- */

static const proto_kind_t *s_kind_of(const json_t *obj)
{
    return proto_kind_by_kind(json_string_value(json_object_get(obj, "apiVersion")),
                              json_string_value(json_object_get(obj, "kind")));
}

static void s_set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static int s_strict_err(const json_t *unknown, char *err, size_t errlen)
{
    size_t o = 0, i;
    json_t *p;
    if (!err || !errlen)
        return PROTO_EBADREQUEST;
    o = (size_t)snprintf(err, errlen, "strict decoding error: ");
    json_array_foreach(unknown, i, p)
    {
        if (o >= errlen)
            break;
        o += (size_t)snprintf(err + o, errlen - o, "%sunknown field \"%s\"", i ? ", " : "",
                              json_string_value(p));
    }
    return PROTO_EBADREQUEST;
}

/* Walks the whole object, skipping "status" at the top (reset by the server)
 * and the top-level fields shared with the stored object (may be NULL). */
static void s_walk_root(const json_t *obj, const json_t *stored, const proto_sch_field_t *root,
                        proto_walk_t *w)
{
    char path[S_PATH_CAP] = "";
    proto_sch_field_t top = {.name = "", .type = PROTO_T_OBJ, .child = root};
    json_t *status = json_object_get(obj, "status");
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    bool has_status_schema = false;
    for (const proto_sch_field_t *c = root; c->name; c++)
        has_status_schema = has_status_schema || strcmp(c->name, "status") == 0;
    bool skip = status && has_status_schema && kind && strcmp(kind, "Scale") != 0;
    s_walk_fields(obj, &top, path, 0, sizeof path, w, skip ? "status" : NULL,
                  json_is_object(stored) ? stored : NULL);
}

int proto_validate(const json_t *obj, bool strict, json_t **causes, char *err, size_t errlen)
{
    return proto_validate_since(obj, NULL, strict, causes, err, errlen);
}

int proto_validate_since(const json_t *obj, const json_t *stored, bool strict, json_t **causes,
                         char *err, size_t errlen)
{
    if (causes)
        *causes = NULL;
    const proto_kind_t *k = s_kind_of(obj);
    const proto_sch_field_t *root = proto_sch_root(k);
    if (!k || !root) {
        s_set_err(err, errlen, "object has no known apiVersion and kind");
        return PROTO_EBADREQUEST;
    }
    proto_vctx_t v = {.causes = json_array(), .stored = stored};
    proto_walk_t w = {.unknown = json_array(), .v = &v};
    s_walk_root(obj, stored, root, &w);
    s_decode_checks(obj, &w);
    int rc = 0;
    if (w.type_err[0]) {
        if (err && errlen)
            snprintf(err, errlen, "%s in version \"%s\" cannot be handled as a %s: %s", k->kind,
                     k->version, k->kind, w.type_err);
        rc = PROTO_EBADREQUEST;
    } else if (strict && json_array_size(w.unknown)) {
        rc = s_strict_err(w.unknown, err, errlen);
    } else {
        proto_v_kind(k, obj, &v);
        if (json_array_size(v.causes)) {
            rc = PROTO_EINVALID;
            if (err && errlen) {
                json_t *c0 = json_array_get(v.causes, 0);
                snprintf(err, errlen, "%s: %s", json_string_value(json_object_get(c0, "field")),
                         json_string_value(json_object_get(c0, "message")));
            }
        }
    }
    json_decref(w.unknown);
    if (rc == PROTO_EINVALID && causes)
        *causes = v.causes;
    else
        json_decref(v.causes);
    return rc;
}

int proto_validate_status(const json_t *obj, bool strict, char *err, size_t errlen)
{
    const proto_kind_t *k = s_kind_of(obj);
    const proto_sch_field_t *root = proto_sch_root(k);
    if (!k || !root) {
        s_set_err(err, errlen, "object has no known apiVersion and kind");
        return PROTO_EBADREQUEST;
    }
    const proto_sch_field_t *st = root;
    while (st->name && strcmp(st->name, "status") != 0)
        st++;
    if (!st->name)
        return 0;
    proto_walk_t w = {.unknown = json_array()};
    char path[S_PATH_CAP] = "status";
    proto_sch_walk(json_object_get(obj, "status"), st, path, strlen(path), sizeof path, &w);
    int rc = 0;
    if (w.type_err[0]) {
        if (err && errlen)
            snprintf(err, errlen, "%s in version \"%s\" cannot be handled as a %s: %s", k->kind,
                     k->version, k->kind, w.type_err);
        rc = PROTO_EBADREQUEST;
    } else if (strict && json_array_size(w.unknown)) {
        rc = s_strict_err(w.unknown, err, errlen);
    }
    json_decref(w.unknown);
    return rc;
}

int proto_prune_unknown(json_t *obj, json_t **paths)
{
    if (paths)
        *paths = NULL;
    const proto_sch_field_t *root = proto_sch_root(s_kind_of(obj));
    if (!root)
        return PROTO_EBADREQUEST;
    proto_walk_t w = {.unknown = json_array(), .prune = obj};
    char path[S_PATH_CAP] = "";
    proto_sch_field_t top = {.name = "", .type = PROTO_T_OBJ, .child = root};
    s_walk_obj(obj, &top, path, 0, sizeof path, &w);
    int n = (int)json_array_size(w.unknown);
    if (paths)
        *paths = w.unknown;
    else
        json_decref(w.unknown);
    return n;
}
