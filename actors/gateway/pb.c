/*
 * actors/gateway/pb.c — request bodies in Kubernetes' protobuf encoding
 * (Content-Type application/vnd.kubernetes.protobuf), which kubectl's
 * typed clients send for `kubectl create namespace|secret|configmap`: the
 * "k8s\0" magic, a runtime.Unknown {typeMeta, raw}, and raw the object in
 * the field numbers of k8s.io/api's generated.proto. Only the kinds those
 * generators write are described here; any other kind is refused (415), as
 * is anything malformed. Bounded: input size is the caller's, nesting is
 * limited, every length is checked against what is left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gateway/gateway.h"
#include "protocol/obj.h"
#include "protocol/status.h"

enum { T_STR = 1, T_BYTES, T_INT, T_BOOL, T_MSG, T_MAP_SS, T_MAP_SB, T_TIME };

typedef struct s_field {
    int num;
    const char *name;
    int type;
    bool repeated;
    const struct s_field *msg; /* T_MSG */
} s_field_t;

static const s_field_t s_owner_ref[] = {
    {5, "apiVersion", T_STR, false, NULL},
    {1, "kind", T_STR, false, NULL},
    {3, "name", T_STR, false, NULL},
    {4, "uid", T_STR, false, NULL},
    {6, "controller", T_BOOL, false, NULL},
    {7, "blockOwnerDeletion", T_BOOL, false, NULL},
    {0, NULL, 0, false, NULL},
};

static const s_field_t s_object_meta[] = {
    {1, "name", T_STR, false, NULL},
    {2, "generateName", T_STR, false, NULL},
    {3, "namespace", T_STR, false, NULL},
    {5, "uid", T_STR, false, NULL},
    {6, "resourceVersion", T_STR, false, NULL},
    {7, "generation", T_INT, false, NULL},
    {8, "creationTimestamp", T_TIME, false, NULL},
    {11, "labels", T_MAP_SS, false, NULL},
    {12, "annotations", T_MAP_SS, false, NULL},
    {13, "ownerReferences", T_MSG, true, s_owner_ref},
    {14, "finalizers", T_STR, true, NULL},
    {0, NULL, 0, false, NULL},
};

static const s_field_t s_ns_spec[] = {{1, "finalizers", T_STR, true, NULL}, {0, NULL, 0, 0, 0}};
static const s_field_t s_ns_status[] = {{1, "phase", T_STR, false, NULL}, {0, NULL, 0, 0, 0}};

static const s_field_t s_namespace[] = {
    {1, "metadata", T_MSG, false, s_object_meta},
    {2, "spec", T_MSG, false, s_ns_spec},
    {3, "status", T_MSG, false, s_ns_status},
    {0, NULL, 0, false, NULL},
};

static const s_field_t s_secret[] = {
    {1, "metadata", T_MSG, false, s_object_meta},
    {2, "data", T_MAP_SB, false, NULL},
    {3, "type", T_STR, false, NULL},
    {4, "stringData", T_MAP_SS, false, NULL},
    {5, "immutable", T_BOOL, false, NULL},
    {0, NULL, 0, false, NULL},
};

static const s_field_t s_configmap[] = {
    {1, "metadata", T_MSG, false, s_object_meta},
    {2, "data", T_MAP_SS, false, NULL},
    {3, "binaryData", T_MAP_SB, false, NULL},
    {4, "immutable", T_BOOL, false, NULL},
    {0, NULL, 0, false, NULL},
};

static const struct {
    const char *kind;
    const s_field_t *msg;
} s_kinds[] = {{"Namespace", s_namespace}, {"Secret", s_secret}, {"ConfigMap", s_configmap}};

/* ---- wire format ------------------------------------------------------------- */

typedef struct s_buf {
    const uint8_t *p, *end;
} s_buf_t;

static int s_varint(s_buf_t *b, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->p >= b->end)
            return -1;
        uint8_t c = *b->p++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

/* One field: number, wire type and, for length-delimited ones, the bytes. */
static int s_next(s_buf_t *b, int *num, int *wt, s_buf_t *sub, uint64_t *v)
{
    uint64_t key;
    if (s_varint(b, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 536870911)
        return -1;
    *num = (int)(key >> 3);
    *wt = (int)(key & 7);
    switch (*wt) {
    case 0:
        return s_varint(b, v);
    case 1:
    case 5: {
        size_t n = *wt == 1 ? 8 : 4;
        if ((size_t)(b->end - b->p) < n)
            return -1;
        b->p += n;
        return 0;
    }
    case 2:
        if (s_varint(b, v) < 0 || *v > (uint64_t)(b->end - b->p))
            return -1;
        *sub = (s_buf_t){b->p, b->p + *v};
        b->p += *v;
        return 0;
    default:
        return -1;
    }
}

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *s_base64(const s_buf_t *s)
{
    size_t n = (size_t)(s->end - s->p), o = 0;
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        abort();
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)s->p[i] << 16 | (i + 1 < n ? (uint32_t)s->p[i + 1] << 8 : 0) |
                     (i + 2 < n ? s->p[i + 2] : 0);
        out[o++] = s_b64[w >> 18 & 63];
        out[o++] = s_b64[w >> 12 & 63];
        out[o++] = i + 1 < n ? s_b64[w >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? s_b64[w & 63] : '=';
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

static json_t *s_string(const s_buf_t *s)
{
    return json_stringn((const char *)s->p, (size_t)(s->end - s->p)); /* NULL if not UTF-8 */
}

static int s_map_entry(s_buf_t e, bool bytes, json_t *map)
{
    json_t *key = NULL, *val = NULL;
    int num, wt;
    uint64_t v;
    s_buf_t sub;
    while (e.p < e.end) {
        if (s_next(&e, &num, &wt, &sub, &v) < 0)
            break;
        if (wt == 2 && num == 1 && !key)
            key = s_string(&sub);
        else if (wt == 2 && num == 2 && !val)
            val = bytes ? s_base64(&sub) : s_string(&sub);
    }
    int rc = e.p == e.end && key ? 0 : -1;
    if (!rc)
        json_object_set_new(map, json_string_value(key), val ? val : json_string(""));
    else
        json_decref(val);
    json_decref(key);
    return rc;
}

static json_t *s_time(s_buf_t t)
{
    int num, wt;
    uint64_t v, secs = 0;
    s_buf_t sub;
    while (t.p < t.end) {
        if (s_next(&t, &num, &wt, &sub, &v) < 0)
            return NULL;
        if (num == 1 && wt == 0)
            secs = v;
    }
    char buf[32];
    proto_format_time((int64_t)secs, buf);
    return json_string(buf);
}

static int s_message(s_buf_t b, const s_field_t *fields, int depth, json_t *out);

static const s_field_t *s_field(const s_field_t *fields, int num)
{
    for (const s_field_t *f = fields; f->name; f++)
        if (f->num == num)
            return f;
    return NULL;
}

static json_t *s_value(const s_field_t *f, int wt, s_buf_t *sub, uint64_t v, int depth)
{
    if (f->type == T_INT || f->type == T_BOOL) {
        if (wt != 0)
            return NULL;
        return f->type == T_BOOL ? json_boolean(v) : json_integer((json_int_t)v);
    }
    if (wt != 2)
        return NULL;
    switch (f->type) {
    case T_STR:
        return s_string(sub);
    case T_BYTES:
        return s_base64(sub);
    case T_TIME:
        return s_time(*sub);
    case T_MSG: {
        json_t *o = json_object();
        if (s_message(*sub, f->msg, depth + 1, o) < 0) {
            json_decref(o);
            return NULL;
        }
        return o;
    }
    default:
        return NULL;
    }
}

static int s_set(const s_field_t *f, int wt, s_buf_t *sub, uint64_t v, int depth, json_t *out)
{
    if (f->type == T_MAP_SS || f->type == T_MAP_SB) {
        json_t *map = json_object_get(out, f->name);
        if (!map)
            json_object_set_new(out, f->name, map = json_object());
        return wt == 2 ? s_map_entry(*sub, f->type == T_MAP_SB, map) : -1;
    }
    json_t *val = s_value(f, wt, sub, v, depth);
    if (!val)
        return -1;
    if (!f->repeated)
        return json_object_set_new(out, f->name, val);
    json_t *arr = json_object_get(out, f->name);
    if (!arr)
        json_object_set_new(out, f->name, arr = json_array());
    return json_array_append_new(arr, val);
}

static int s_message(s_buf_t b, const s_field_t *fields, int depth, json_t *out)
{
    if (depth > 16)
        return -1;
    while (b.p < b.end) {
        int num, wt;
        uint64_t v = 0;
        s_buf_t sub = {0};
        if (s_next(&b, &num, &wt, &sub, &v) < 0)
            return -1;
        const s_field_t *f = s_field(fields, num);
        if (f && s_set(f, wt, &sub, v, depth, out) < 0)
            return -1;
    }
    return 0;
}

/* runtime.Unknown {typeMeta {apiVersion 1, kind 2} 1, raw 2}. */
static int s_unknown(s_buf_t b, json_t *tm, s_buf_t *raw)
{
    static const s_field_t type_meta[] = {{1, "apiVersion", T_STR, false, NULL},
                                          {2, "kind", T_STR, false, NULL},
                                          {0, NULL, 0, false, NULL}};
    static const s_field_t unknown[] = {{1, "typeMeta", T_MSG, false, type_meta},
                                        {0, NULL, 0, false, NULL}};
    s_buf_t all = b;
    *raw = (s_buf_t){NULL, NULL};
    while (b.p < b.end) {
        int num, wt;
        uint64_t v;
        s_buf_t sub;
        if (s_next(&b, &num, &wt, &sub, &v) < 0)
            return -1;
        if (num == 2 && wt == 2)
            *raw = sub;
    }
    return raw->p ? s_message(all, unknown, 0, tm) : -1;
}

int gw_pb_decode(const char *body, size_t len, json_t **out, char *err, size_t errlen)
{
    s_buf_t b = {(const uint8_t *)body, (const uint8_t *)body + len}, raw;
    *out = NULL;
    if (len < 4 || memcmp(body, "k8s\0", 4)) {
        snprintf(err, errlen, "the protobuf body does not start with the Kubernetes magic");
        return PROTO_EBADREQUEST;
    }
    b.p += 4;
    json_t *env = json_object();
    int rc = s_unknown(b, env, &raw);
    const char *kind = proto_obj_str(env, "typeMeta.kind");
    const s_field_t *msg = NULL;
    for (size_t i = 0; !rc && kind && i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (!strcmp(s_kinds[i].kind, kind))
            msg = s_kinds[i].msg;
    if (rc < 0 || !msg) {
        snprintf(err, errlen,
                 rc < 0 ? "malformed protobuf body"
                        : "zkube's gateway does not decode %s from protobuf; send "
                          "application/json",
                 kind ? kind : "this kind");
        json_decref(env);
        return rc < 0 ? PROTO_EBADREQUEST : PROTO_EUNSUPPORTED;
    }
    json_t *obj = json_pack("{s:O?, s:s}", "apiVersion", proto_obj_get(env, "typeMeta.apiVersion"),
                            "kind", kind);
    json_decref(env);
    if (s_message(raw, msg, 0, obj) < 0) {
        json_decref(obj);
        snprintf(err, errlen, "malformed protobuf body");
        return PROTO_EBADREQUEST;
    }
    *out = obj;
    return 0;
}
