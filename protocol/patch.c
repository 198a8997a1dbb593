/*
 * protocol/patch — JSON merge patch (RFC 7386) and JSON patch (RFC 6902) on
 * jansson trees, with the semantics and error words of the library the
 * Kubernetes apiserver and kubectl use (evanphx/json-patch v4). The strategic
 * merge patch lives in patch_strategic.c.
 */
#include "protocol/patch.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/status.h"

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return PROTO_EBADREQUEST;
}

/* ---- RFC 7386 ---------------------------------------------------------- */

/* A copy of v with null members of objects removed, at every depth. */
static json_t *s_prune_nulls(const json_t *v, int depth)
{
    if (depth > PROTO_PATCH_MAX_DEPTH)
        return NULL;
    if (!json_is_object(v))
        return json_deep_copy(v);
    json_t *out = json_object();
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m)
    {
        if (json_is_null(m))
            continue;
        json_t *c = s_prune_nulls(m, depth + 1);
        if (!c) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, k, c);
    }
    return out;
}

static int s_merge(json_t *target, const json_t *patch, int depth)
{
    if (depth > PROTO_PATCH_MAX_DEPTH)
        return PROTO_EBADREQUEST;
    const char *k;
    json_t *pv;
    json_object_foreach((json_t *)patch, k, pv)
    {
        if (json_is_null(pv)) {
            json_object_del(target, k);
            continue;
        }
        json_t *tv = json_object_get(target, k);
        if (json_is_object(pv) && json_is_object(tv)) {
            int rc = s_merge(tv, pv, depth + 1);
            if (rc)
                return rc;
            continue;
        }
        json_t *c = s_prune_nulls(pv, depth + 1);
        if (!c)
            return PROTO_EBADREQUEST;
        json_object_set_new(target, k, c);
    }
    return 0;
}

int proto_patch_merge(json_t *target, const json_t *patch)
{
    if (!json_is_object(target) || !json_is_object(patch))
        return PROTO_EBADREQUEST;
    return s_merge(target, patch, 0);
}

/* ---- RFC 6902 ---------------------------------------------------------- */

#define S_MISSING "missing value"
#define S_BADINDEX "invalid index referenced"

typedef struct s_loc {
    json_t *con;   /* object or array holding the target (borrowed) */
    char key[512]; /* last token, unescaped */
} s_loc_t;

/* RFC 6901 token unescape: "~1" -> "/", then "~0" -> "~". */
static int s_unescape(const char *tok, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    char tmp[512];
    if (len >= sizeof tmp || len >= outlen)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '~' && i + 1 < len && tok[i + 1] == '1') {
            tmp[o++] = '/';
            i++;
        } else {
            tmp[o++] = tok[i];
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < o; i++) {
        if (tmp[i] == '~' && i + 1 < o && tmp[i + 1] == '0') {
            out[n++] = '~';
            i++;
        } else {
            out[n++] = tmp[i];
        }
    }
    out[n] = 0;
    return 0;
}

/* Go's strconv.Atoi, within int range. */
static int s_atoi(const char *s, long *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno || v > INT_MAX || v < INT_MIN)
        return -1;
    *out = v;
    return 0;
}

/* Index of key in array a for reading (negatives count from the end). */
static int s_index(const json_t *a, const char *key, size_t *idx, char *err, size_t errlen)
{
    long i;
    long n = (long)json_array_size(a);
    if (s_atoi(key, &i))
        return s_fail(err, errlen, "strconv.Atoi: parsing \"%s\": invalid syntax", key);
    if (i < 0 && i >= -n)
        i += n;
    if (i < 0 || i >= n)
        return s_fail(err, errlen, "Unable to access invalid index: %ld: " S_BADINDEX, i);
    *idx = (size_t)i;
    return 0;
}

/* Child of con named by key, or NULL (missing object members are not errors). */
static int s_get(json_t *con, const char *key, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (json_is_object(con)) {
        *out = json_object_get(con, key);
        return 0;
    }
    size_t i;
    int rc = s_index(con, key, &i, err, errlen);
    if (rc == 0)
        *out = json_array_get(con, i);
    return rc;
}

/* Walks to the container of the last token of path; -1 if there is none. */
static int s_find(json_t *doc, const char *path, s_loc_t *loc)
{
    const char *slash = strchr(path, '/');
    if (!slash)
        return -1;
    json_t *cur = doc;
    const char *p = slash + 1;
    for (;;) {
        const char *next = strchr(p, '/');
        size_t len = next ? (size_t)(next - p) : strlen(p);
        if (s_unescape(p, len, loc->key, sizeof loc->key))
            return -1;
        if (!next)
            break;
        json_t *child = NULL;
        if (s_get(cur, loc->key, &child, NULL, 0) || !child ||
            !(json_is_object(child) || json_is_array(child)))
            return -1;
        cur = child;
        p = next + 1;
    }
    loc->con = cur;
    return 0;
}

static int s_add_at(s_loc_t *l, json_t *val, char *err, size_t errlen)
{
    if (json_is_object(l->con)) {
        json_object_set_new(l->con, l->key, val);
        return 0;
    }
    long n = (long)json_array_size(l->con) + 1, i;
    if (strcmp(l->key, "-") == 0)
        return json_array_append_new(l->con, val) ? PROTO_EBADREQUEST : 0;
    int rc = 0;
    if (s_atoi(l->key, &i))
        rc = s_fail(err, errlen,
                    "value was not a proper array index: '%s': strconv.Atoi: "
                    "parsing \"%s\": invalid syntax",
                    l->key, l->key);
    else if (i >= n || i < -n)
        rc = s_fail(err, errlen, "Unable to access invalid index: %ld: " S_BADINDEX, i);
    if (rc) {
        json_decref(val);
        return rc;
    }
    if (i < 0)
        i += n;
    return json_array_insert_new(l->con, (size_t)i, val) ? PROTO_EBADREQUEST : 0;
}

static int s_remove_at(s_loc_t *l, char *err, size_t errlen)
{
    if (json_is_object(l->con)) {
        if (!json_object_get(l->con, l->key))
            return s_fail(err, errlen, "Unable to remove nonexistent key: %s: " S_MISSING, l->key);
        json_object_del(l->con, l->key);
        return 0;
    }
    size_t i;
    int rc = s_index(l->con, l->key, &i, err, errlen);
    if (rc == 0)
        json_array_remove(l->con, i);
    return rc;
}

/* Prefixes err with "<what>: " in place. */
static int s_wrap(int rc, char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (rc && err && errlen) {
        char inner[512], head[768];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(head, sizeof head, fmt, arg);
        snprintf(err, errlen, "%s: %s", head, inner);
    }
    return rc;
}

typedef struct s_op {
    const char *path; /* "" when absent */
    const char *from;
    const json_t *value; /* NULL when absent: behaves as null */
} s_op_t;

static json_t *s_value(const s_op_t *op)
{
    return op->value ? json_deep_copy(op->value) : json_null();
}

static int s_op_add(json_t *doc, const s_op_t *op, char *err, size_t errlen)
{
    s_loc_t l;
    if (s_find(doc, op->path, &l))
        return s_fail(err, errlen,
                      "add operation does not apply: doc is missing path: \"%s\": " S_MISSING,
                      op->path);
    int rc = s_add_at(&l, s_value(op), err, errlen);
    return s_wrap(rc, err, errlen, "error in add for path: '%s'", op->path);
}

static int s_op_remove(json_t *doc, const s_op_t *op, char *err, size_t errlen)
{
    s_loc_t l;
    if (s_find(doc, op->path, &l))
        return s_fail(err, errlen,
                      "remove operation does not apply: doc is missing path: \"%s\": " S_MISSING,
                      op->path);
    int rc = s_remove_at(&l, err, errlen);
    return s_wrap(rc, err, errlen, "error in remove for path: '%s'", op->path);
}

static int s_op_replace(json_t *doc, const s_op_t *op, char *err, size_t errlen)
{
    s_loc_t l;
    if (s_find(doc, op->path, &l))
        return s_fail(err, errlen,
                      "replace operation does not apply: doc is missing path: %s: " S_MISSING,
                      op->path);
    if (json_is_object(l.con)) {
        json_object_set_new(l.con, l.key, s_value(op));
        return 0;
    }
    size_t i;
    if (s_index(l.con, l.key, &i, NULL, 0))
        return s_fail(err, errlen,
                      "replace operation does not apply: doc is missing key: %s: " S_MISSING,
                      op->path);
    json_array_set_new(l.con, i, s_value(op));
    return 0;
}

static int s_op_move(json_t *doc, const s_op_t *op, char *err, size_t errlen)
{
    s_loc_t f, t;
    json_t *val = NULL;
    if (s_find(doc, op->from, &f))
        return s_fail(err, errlen,
                      "move operation does not apply: doc is missing from path: %s: " S_MISSING,
                      op->from);
    int rc = s_get(f.con, f.key, &val, err, errlen);
    if (rc)
        return s_wrap(rc, err, errlen, "error in move for path: '%s'", f.key);
    val = val ? json_incref(val) : json_null();
    rc = s_remove_at(&f, err, errlen);
    if (rc) {
        json_decref(val);
        return s_wrap(rc, err, errlen, "error in move for path: '%s'", f.key);
    }
    if (s_find(doc, op->path, &t)) {
        json_decref(val);
        return s_fail(
            err, errlen,
            "move operation does not apply: doc is missing destination path: %s: " S_MISSING,
            op->path);
    }
    rc = s_add_at(&t, val, err, errlen);
    return s_wrap(rc, err, errlen, "error in move for path: '%s'", t.key);
}

static int s_op_copy(json_t *doc, const s_op_t *op, char *err, size_t errlen)
{
    s_loc_t f, t;
    json_t *val = NULL;
    if (s_find(doc, op->from, &f))
        return s_fail(err, errlen,
                      "copy operation does not apply: doc is missing from path: %s: " S_MISSING,
                      op->from);
    int rc = s_get(f.con, f.key, &val, err, errlen);
    if (rc)
        return s_wrap(rc, err, errlen, "error in copy for from: '%s'", op->from);
    if (s_find(doc, op->path, &t))
        return s_fail(
            err, errlen,
            "copy operation does not apply: doc is missing destination path: %s: " S_MISSING,
            op->path);
    rc = s_add_at(&t, val ? json_deep_copy(val) : json_null(), err, errlen);
    return s_wrap(rc, err, errlen, "error in copy for path: '%s'", op->path);
}

static int s_op_test(json_t *doc, const s_op_t *op, char *err, size_t errlen)
{
    s_loc_t l;
    json_t *val = NULL;
    if (s_find(doc, op->path, &l))
        return s_fail(err, errlen, "test operation does not apply: is missing path: %s: " S_MISSING,
                      op->path);
    int rc = s_get(l.con, l.key, &val, err, errlen);
    if (rc)
        return s_wrap(rc, err, errlen, "error in test for path: '%s'", op->path);
    bool same = val ? json_equal(val, op->value ? op->value : json_null())
                    : (!op->value || json_is_null(op->value));
    if (!same)
        return s_fail(err, errlen, "testing value %s failed: test failed", op->path);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(json_t *, const s_op_t *, char *, size_t);
} s_ops[] = {
    {"add", s_op_add},   {"remove", s_op_remove}, {"replace", s_op_replace},
    {"move", s_op_move}, {"copy", s_op_copy},     {"test", s_op_test},
};

/* Go's name for the JSON type of v, as in its unmarshal errors. */
static const char *s_go_kind(const json_t *v)
{
    return json_is_array(v)     ? "array"
           : json_is_string(v)  ? "string"
           : json_is_number(v)  ? "number"
           : json_is_boolean(v) ? "bool"
                                : "object";
}

/* One operation; o is an object or null (null has no op: "Unexpected kind: unknown"). */
static int s_apply_op(json_t *doc, const json_t *o, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(o, "op"));
    s_op_t op = {
        .path = json_string_value(json_object_get(o, "path")),
        .from = json_string_value(json_object_get(o, "from")),
        .value = json_object_get(o, "value"),
    };
    op.path = op.path ? op.path : "";
    op.from = op.from ? op.from : "";
    for (size_t i = 0; name && i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (strcmp(name, s_ops[i].name) == 0)
            return s_ops[i].fn(doc, &op, err, errlen);
    return s_fail(err, errlen, "Unexpected kind: %s", name ? name : "unknown");
}

int proto_patch_json(json_t **target, const json_t *ops, char *err, size_t errlen)
{
    if (!target || !*target)
        return s_fail(err, errlen, "no object to patch");
    if (!json_is_array(ops))
        return s_fail(err, errlen,
                      "json: cannot unmarshal %s into Go value of type "
                      "jsonpatch.Patch",
                      s_go_kind(ops));
    if (json_array_size(ops) > PROTO_PATCH_MAX_OPS)
        return s_fail(err, errlen, "the json patch has %zu operations, more than %d",
                      json_array_size(ops), PROTO_PATCH_MAX_OPS);
    size_t i;
    json_t *o;
    json_array_foreach(ops, i, o)
    {
        if (!json_is_object(o) && !json_is_null(o))
            return s_fail(err, errlen,
                          "json: cannot unmarshal %s into Go value of type jsonpatch.Operation",
                          s_go_kind(o));
    }
    json_t *doc = json_deep_copy(*target);
    if (!doc)
        return s_fail(err, errlen, "object too deep");
    json_array_foreach(ops, i, o)
    {
        if (s_apply_op(doc, o, err, errlen)) {
            json_decref(doc);
            return PROTO_EINVALID; /* Kubernetes answers 422 when an operation fails */
        }
    }
    json_decref(*target);
    *target = doc;
    return 0;
}
