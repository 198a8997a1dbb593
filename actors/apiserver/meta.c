/*
 * actors/apiserver/meta.c — what the apiserver sets and checks around every
 * object: request shape checks (before anything is used), server-owned
 * metadata (uid, creationTimestamp, generation, generateName), status reset
 * on create, namespace existence, Secret stringData, and Status helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "actors/apiserver/internal.h"
#include "protocol/obj.h"
#include "protocol/status.h"

json_t *apisrv_status(int code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return proto_status_new(code, msg, NULL);
}

int apisrv_store_err(apisrv_t *s, int rc, const proto_kind_t *k, const char *name, json_t **out)
{
    switch (rc) {
    case PROTO_ENOTFOUND:
        *out = proto_status_notfound(k->resource, k->group, name);
        return 404;
    case PROTO_EEXISTS:
        *out = proto_status_exists(k->resource, k->group, name);
        return 409;
    case PROTO_ECONFLICT:
        *out = proto_status_conflict(k->resource, k->group, name, NULL);
        return 409;
    default:
        apisrv_poison(s, rc);
        *out = apisrv_status(PROTO_EINTERNAL, "storage error: %s", proto_strerror(rc));
        return 500;
    }
}

bool apisrv_has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && !strncmp(p, word, n))
            return true;
        p = c ? c + 1 : p + len;
    }
    return false;
}

const char *apisrv_api_version(const proto_kind_t *k, char buf[64])
{
    return proto_kind_api_version(k, buf);
}

/* ---- request shape ---------------------------------------------------------- */

static const struct {
    const char *field;
    json_type type; /* JSON_TRUE stands for "boolean" */
} s_fields[] = {
    {"resource", JSON_STRING},
    {"namespace", JSON_STRING},
    {"name", JSON_STRING},
    {"subresource", JSON_STRING},
    {"labelSelector", JSON_STRING},
    {"fieldSelector", JSON_STRING},
    {"continue", JSON_STRING},
    {"as", JSON_STRING},
    {"stream", JSON_STRING},
    {"patchType", JSON_STRING},
    {"fieldManager", JSON_STRING},
    {"propagationPolicy", JSON_STRING},
    {"fieldValidation", JSON_STRING},
    {"limit", JSON_INTEGER},
    {"gracePeriodSeconds", JSON_INTEGER},
    {"from", JSON_INTEGER},
    {"wide", JSON_TRUE},
    {"force", JSON_TRUE},
    {"object", JSON_OBJECT},
    {"preconditions", JSON_OBJECT},
};

static int s_bad(json_t **err, const char *fmt, const char *arg)
{
    *err = apisrv_status(PROTO_EBADREQUEST, fmt, arg);
    return 400;
}

static int s_check_types(const json_t *body, json_t **err)
{
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++) {
        json_t *v = json_object_get(body, s_fields[i].field);
        if (!v || json_is_null(v))
            continue;
        bool ok =
            s_fields[i].type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == s_fields[i].type;
        if (!ok)
            return s_bad(err, "invalid request: field \"%s\" has the wrong type",
                         s_fields[i].field);
    }
    json_t *lim = json_object_get(body, "limit");
    if (lim && json_integer_value(lim) < 0)
        return s_bad(err, "invalid request: %s must not be negative", "limit");
    return 0;
}

static bool s_dry_run(const json_t *v)
{
    if (json_is_true(v))
        return true;
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "All");
    return json_is_array(v) && json_array_size(v) > 0;
}

static bool s_name_ok(const char *n)
{
    size_t len = strlen(n);
    return len > 0 && len <= APISRV_NAME_MAX && !strchr(n, '/') && !strchr(n, '%') &&
           strcmp(n, ".") && strcmp(n, "..");
}

static int s_parse_target(const char *op, const json_t *body, apisrv_rq_t *rq, json_t **err)
{
    const char *res = json_string_value(json_object_get(body, "resource"));
    bool needs_res = strcmp(op, "watchlog") != 0;
    if (!res)
        return needs_res ? s_bad(err, "invalid request: %s is required", "resource") : 0;
    rq->k = proto_kind_by_resource(res);
    if (!rq->k)
        rq->k = proto_kind_find(res);
    if (!rq->k)
        return s_bad(err, "the server doesn't have a resource type \"%s\"", res);
    const char *ns = json_string_value(json_object_get(body, "namespace"));
    rq->ns = rq->k->namespaced && ns ? ns : "";
    if (*rq->ns && proto_check_dns1123_label(rq->ns))
        return s_bad(err, "invalid namespace \"%s\"", rq->ns);
    rq->name = json_string_value(json_object_get(body, "name"));
    if (rq->name && !s_name_ok(rq->name))
        return s_bad(err, "invalid resource name \"%s\"", rq->name);
    bool named = !strcmp(op, "get") || !strcmp(op, "update") || !strcmp(op, "patch") ||
                 !strcmp(op, "delete");
    if (named && !rq->name)
        return s_bad(err, "invalid request: %s is required", "name");
    if (named && rq->k->namespaced && !*rq->ns)
        return s_bad(err, "invalid request: %s is required", "namespace");
    return 0;
}

int apisrv_parse_rq(const char *op, const json_t *body, apisrv_rq_t *rq, json_t **err)
{
    memset(rq, 0, sizeof *rq);
    rq->op = op;
    rq->body = body;
    rq->ns = "";
    if (!strcmp(op, "resources") || !strcmp(op, "version"))
        return 0;
    if (!json_is_object(body))
        return s_bad(err, "invalid request: the body of \"%s\" must be a map", op);
    int code = s_check_types(body, err);
    if (code)
        return code;
    code = s_parse_target(op, body, rq, err);
    if (code)
        return code;
    rq->sub = json_string_value(json_object_get(body, "subresource"));
    if (rq->sub && !*rq->sub)
        rq->sub = NULL;
    rq->dry_run = s_dry_run(json_object_get(body, "dryRun"));
    return 0;
}

/* ---- server-owned metadata ----------------------------------------------------- */

/* A random (version 4) uid, as proto_uuid makes, from random bytes drawn
 * 4 KiB at a time: one getrandom per 256 creates instead of one each. */
static void s_uid(char out[37])
{
    static unsigned char pool[4096];
    static size_t used = sizeof pool;
    static const char hex[] = "0123456789abcdef";
    if (used + 16 > sizeof pool) {
        if (getrandom(pool, sizeof pool, 0) != (ssize_t)sizeof pool) {
            proto_uuid(out);
            return;
        }
        used = 0;
    }
    unsigned char *b = pool + used;
    used += 16;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void apisrv_meta_create(json_t *obj)
{
    char uid[37], now[32];
    s_uid(uid);
    proto_now_rfc3339(now);
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    json_object_set_new(md, "uid", json_string(uid));
    json_object_set_new(md, "creationTimestamp", json_string(now));
    json_object_set_new(md, "generation", json_integer(1));
    json_object_del(md, "resourceVersion");
    json_object_del(md, "deletionTimestamp");
    json_object_del(md, "deletionGracePeriodSeconds");
    json_object_del(md, "selfLink");
}

static bool s_in(const char *res, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(res, *list))
            return true;
    return false;
}

void apisrv_status_reset(const proto_kind_t *k, json_t *obj)
{
    static const char *const none[] = {"configmaps",      "secrets",     "endpoints", "events",
                                       "serviceaccounts", "limitranges", "bindings",  NULL};
    static const char *const keep[] = {"nodes", NULL};
    if (s_in(k->resource, keep))
        return;
    if (s_in(k->resource, none) && !json_object_get(obj, "status"))
        return;
    if (s_in(k->resource, none)) {
        json_object_del(obj, "status");
        return;
    }
    json_t *st = json_object();
    if (!strcmp(k->resource, "pods"))
        json_object_set_new(st, "phase", json_string("Pending"));
    else if (!strcmp(k->resource, "namespaces"))
        json_object_set_new(st, "phase", json_string("Active"));
    else if (!strcmp(k->resource, "services"))
        json_object_set_new(st, "loadBalancer", json_object());
    json_object_set_new(obj, "status", st);
}

void apisrv_generate_name(json_t *obj)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    const char *name = proto_obj_name(obj);
    const char *gen = proto_obj_str(obj, "metadata.generateName");
    if ((name && *name) || !gen || !*gen)
        return;
    unsigned char r[5];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    char buf[APISRV_NAME_MAX + 1];
    size_t glen = strlen(gen);
    if (glen > APISRV_NAME_MAX - 5)
        glen = APISRV_NAME_MAX - 5; /* Kubernetes truncates the base, too */
    memcpy(buf, gen, glen);
    for (size_t i = 0; i < 5; i++)
        buf[glen + i] = alphabet[r[i] % (sizeof alphabet - 1)];
    buf[glen + 5] = 0;
    proto_obj_set_str(obj, "metadata.name", buf);
}

#define S_NS_OK_MAX 10000 /* namespaces remembered as active */

/* Reads the namespace (0, 404 or 500 with *err); *term: it is terminating. */
static int s_ns_read(apisrv_t *s, store_wtxn_t *t, const proto_kind_t *k, const char *ns,
                     const char *name, bool *term, json_t **err)
{
    char *key = proto_key("namespaces", "", ns);
    json_t *nso = NULL;
    int rc = store_wtxn_get(t, key, &nso);
    free(key);
    if (rc == PROTO_ENOTFOUND) {
        *err = proto_status_notfound("namespaces", "", ns);
        return 404;
    }
    if (rc < 0)
        return apisrv_store_err(s, rc, k, name, err);
    const char *phase = proto_obj_str(nso, "status.phase");
    *term = (phase && !strcmp(phase, "Terminating")) ||
            proto_obj_get(nso, "metadata.deletionTimestamp");
    if (!*term) {
        if (json_object_size(s->ns_ok) >= S_NS_OK_MAX)
            json_object_clear(s->ns_ok);
        json_object_set_new(s->ns_ok, ns, json_integer((json_int_t)proto_obj_rv(nso)));
    }
    json_decref(nso);
    return 0;
}

/* A namespace seen active at the very resourceVersion it has now is still
 * active: creates in a namespace skip decoding it. */
static bool s_ns_known_ok(apisrv_t *s, store_wtxn_t *t, const char *ns)
{
    json_t *seen = json_object_get(s->ns_ok, ns);
    char key[APISRV_NAME_MAX + 16];
    uint64_t rv;
    if (!seen || snprintf(key, sizeof key, "namespaces//%s", ns) >= (int)sizeof key)
        return false;
    return store_wtxn_rev_of(t, key, &rv) == 0 && rv == (uint64_t)json_integer_value(seen);
}

int apisrv_ns_check(apisrv_t *s, const proto_kind_t *k, const char *ns, const char *name,
                    json_t **err)
{
    if (!k->namespaced)
        return 0;
    store_wtxn_t *t = apisrv_txn(s);
    if (!t) {
        *err = apisrv_status(PROTO_EINTERNAL, "storage unavailable");
        return 500;
    }
    if (s_ns_known_ok(s, t, ns))
        return 0;
    bool term = false;
    int code = s_ns_read(s, t, k, ns, name, &term, err);
    if (code)
        return code;
    if (term) {
        *err = apisrv_status(PROTO_EFORBIDDEN,
                             "%s \"%s\" is forbidden: unable to create new content in namespace "
                             "%s because it is being terminated",
                             k->resource, name ? name : "", ns);
        return 403;
    }
    return 0;
}

/* ---- base64 and Secrets ------------------------------------------------------ */

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *apisrv_b64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
    if (!out)
        abort();
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        *o++ = s_b64[(v >> 18) & 63];
        *o++ = s_b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? s_b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? s_b64[v & 63] : '=';
    }
    *o = 0;
    return out;
}

void *apisrv_b64_decode(const char *s, size_t *len)
{
    size_t n = strlen(s);
    if (n % 4)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (size_t j = 0; j < 4; j++) {
            const char *c = s[i + j] ? strchr(s_b64, s[i + j]) : NULL;
            if (s[i + j] == '=' && i + 4 == n && j >= 2) {
                pad++;
                v <<= 6;
                continue;
            }
            if (!c || pad) {
                free(out);
                return NULL;
            }
            v = (v << 6) | (unsigned)(c - s_b64);
        }
        out[o++] = (unsigned char)(v >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(v >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)v;
    }
    out[o] = 0;
    *len = o;
    return out;
}

void apisrv_secret_merge(json_t *obj)
{
    json_t *sd = json_object_get(obj, "stringData");
    if (!json_is_object(sd)) {
        json_object_del(obj, "stringData");
        return;
    }
    json_t *data = json_object_get(obj, "data");
    if (!json_is_object(data)) {
        data = json_object();
        json_object_set_new(obj, "data", data);
    }
    const char *k;
    json_t *v;
    json_object_foreach(sd, k, v)
    {
        const char *str = json_string_value(v);
        if (!str)
            continue;
        char *enc = apisrv_b64_encode(str, strlen(str));
        json_object_set_new(data, k, json_string(enc));
        free(enc);
    }
    json_object_del(obj, "stringData");
}

/* ---- convert, default, validate -------------------------------------------------- */

static int s_kind_matches(const proto_kind_t *k, json_t *obj, json_t **err)
{
    char av[64];
    const char *kind = proto_obj_kind(obj);
    if (!json_object_get(obj, "apiVersion"))
        json_object_set_new(obj, "apiVersion", json_string(apisrv_api_version(k, av)));
    if (!kind) {
        json_object_set_new(obj, "kind", json_string(k->kind));
        return 0;
    }
    if (strcmp(kind, k->kind)) {
        *err = apisrv_status(PROTO_EBADREQUEST,
                             "the kind in the data (%s) does not match the expected kind (%s)",
                             kind, k->kind);
        return 400;
    }
    return 0;
}

int apisrv_convert(const proto_kind_t *k, json_t *obj, json_t **err)
{
    char msg[2048] = "";
    if (!json_is_object(obj))
        return s_bad(err, "invalid request: %s must be a map", "object");
    int code = s_kind_matches(k, obj, err);
    if (code)
        return code;
    if (proto_convert(obj, msg, sizeof msg) < 0)
        return s_bad(err, "%s", msg);
    if (!proto_obj_kind(obj) || strcmp(proto_obj_kind(obj), k->kind))
        return s_bad(err, "the kind in the data does not match the expected kind (%s)", k->kind);
    if (!json_is_object(json_object_get(obj, "metadata")))
        json_object_set_new(obj, "metadata", json_object());
    return 0;
}

int apisrv_check(const proto_kind_t *k, json_t *obj, const json_t *stored, bool strict,
                 json_t **err)
{
    char msg[2048] = "";
    if (!strcmp(k->resource, "secrets"))
        apisrv_secret_merge(obj);
    proto_defaults_since(obj, stored);
    if (!strict)
        proto_prune_unknown(obj, NULL);
    json_t *causes = NULL;
    int rc = proto_validate_since(obj, stored, strict, &causes, msg, sizeof msg);
    if (rc == PROTO_EINVALID) {
        *err = proto_status_invalid(k->kind, k->group, proto_obj_name(obj),
                                    causes ? causes : json_array());
        return 422;
    }
    json_decref(causes);
    if (rc < 0) {
        *err = proto_status_new(rc, msg[0] ? msg : proto_strerror(rc), NULL);
        return proto_err_http(rc);
    }
    return 0;
}

bool apisrv_strict(const apisrv_rq_t *r)
{
    const char *fv = json_string_value(json_object_get(r->body, "fieldValidation"));
    return !fv || (strcmp(fv, "Ignore") && strcmp(fv, "Warn"));
}
