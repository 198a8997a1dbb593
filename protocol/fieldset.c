/*
 * protocol/fieldset.c — the set half of protocol/fieldset.h: union,
 * difference and intersection of field sets held in their FieldsV1 shape,
 * FieldsV1 decoding (checked and canonicalized: it comes from clients and
 * from the store) and encoding (in structured-merge-diff's order), and the
 * printing of paths for conflict messages. The typed walks over objects are
 * in fieldset_walk.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/fieldset.h"
#include "protocol/status.h"

#define S_SELF "."

static bool s_member(const json_t *n)
{
    return n && (json_object_size(n) == 0 || json_object_get(n, S_SELF));
}

/* A node from its member flag and children (stolen); NULL when it holds
 * nothing. The top level is never a member and is `{}` when empty. */
static json_t *s_node(bool member, json_t *kids, bool top)
{
    if (top) {
        json_object_del(kids, S_SELF);
        return kids;
    }
    if (json_object_size(kids) == 0) {
        if (member)
            return kids;
        json_decref(kids);
        return NULL;
    }
    if (member)
        json_object_set_new(kids, S_SELF, json_object());
    else
        json_object_del(kids, S_SELF);
    return kids;
}

static json_t *s_union(const json_t *a, const json_t *b, bool top)
{
    json_t *kids = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        if (!strcmp(k, S_SELF))
            continue;
        json_t *bv = json_object_get(b, k);
        json_t *u = bv ? s_union(v, bv, false) : json_deep_copy(v);
        if (u)
            json_object_set_new(kids, k, u);
    }
    json_object_foreach((json_t *)b, k, v)
    {
        if (strcmp(k, S_SELF) && !json_object_get(a, k))
            json_object_set_new(kids, k, json_deep_copy(v));
    }
    return s_node(!top && (s_member(a) || s_member(b)), kids, top);
}

static json_t *s_diff(const json_t *a, const json_t *b, bool top)
{
    json_t *kids = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        if (!strcmp(k, S_SELF))
            continue;
        json_t *bv = json_object_get(b, k);
        json_t *d = bv ? s_diff(v, bv, false) : json_deep_copy(v);
        if (d)
            json_object_set_new(kids, k, d);
    }
    return s_node(!top && s_member(a) && !s_member(b), kids, top);
}

static json_t *s_inter(const json_t *a, const json_t *b, bool top)
{
    json_t *kids = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        json_t *bv = json_object_get(b, k);
        if (!strcmp(k, S_SELF) || !bv)
            continue;
        json_t *i = s_inter(v, bv, false);
        if (i)
            json_object_set_new(kids, k, i);
    }
    return s_node(!top && s_member(a) && s_member(b), kids, top);
}

json_t *proto_fs_union(const json_t *a, const json_t *b)
{
    return s_union(a, b, true);
}

json_t *proto_fs_difference(const json_t *a, const json_t *b)
{
    return s_diff(a, b, true);
}

json_t *proto_fs_intersection(const json_t *a, const json_t *b)
{
    return s_inter(a, b, true);
}

bool proto_fs_empty(const json_t *s)
{
    if (!s)
        return true;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v)
    {
        if (strcmp(k, S_SELF))
            return false;
    }
    return true;
}

static json_t *s_named(const json_t *s, bool top)
{
    json_t *kids = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v)
    {
        if (!strcmp(k, S_SELF))
            continue;
        json_t *c = s_named(v, false);
        if (!strncmp(k, "f:", 2) && json_object_size(c) > 0)
            json_object_set_new(c, S_SELF, json_object());
        json_object_set_new(kids, k, c);
    }
    return s_node(!top && s_member(s), kids, top);
}

static bool s_meets(const json_t *a, const json_t *b, bool top, int depth)
{
    if (!top && s_member(a) && s_member(b))
        return true;
    if (depth > PROTO_FS_MAX_DEPTH)
        return false;
    if (json_object_size(a) > json_object_size(b)) {
        const json_t *t = a;
        a = b;
        b = t;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        json_t *bv = json_object_get(b, k);
        if (bv && strcmp(k, S_SELF) && s_meets(v, bv, false, depth + 1))
            return true;
    }
    return false;
}

bool proto_fs_intersects(const json_t *a, const json_t *b)
{
    return a && b && s_meets(a, b, true, 0);
}

static bool s_covers(const json_t *a, const json_t *b, bool top, int depth)
{
    if (!top && s_member(b) && !s_member(a))
        return false;
    if (depth > PROTO_FS_MAX_DEPTH)
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)b, k, v)
    {
        if (!strcmp(k, S_SELF))
            continue;
        json_t *av = json_object_get(a, k);
        if (!av || !s_covers(av, v, false, depth + 1))
            return false;
    }
    return true;
}

bool proto_fs_covers(const json_t *a, const json_t *b)
{
    return proto_fs_empty(b) || (a && s_covers(a, b, true, 0));
}

json_t *proto_fs_named_members(const json_t *s)
{
    return s_named(s, true);
}

/* ---- FieldsV1 decoding ------------------------------------------------------- */

static int s_bad(char *err, size_t errlen, const char *msg, const char *key)
{
    if (err && errlen)
        snprintf(err, errlen, "%s%s%.200s%s", msg, key ? " \"" : "", key ? key : "",
                 key ? "\"" : "");
    return PROTO_EBADREQUEST;
}

/* The canonical form of a path element key; caller frees; NULL when bad. */
static char *s_canon_key(const char *k)
{
    if (!strncmp(k, "f:", 2))
        return strdup(k);
    if (!strncmp(k, "i:", 2)) {
        char *end = NULL;
        long i = strtol(k + 2, &end, 10);
        if (!k[2] || *end || i < 0)
            return NULL;
        char buf[32];
        snprintf(buf, sizeof buf, "i:%ld", i);
        return strdup(buf);
    }
    if (strncmp(k, "k:", 2) && strncmp(k, "v:", 2))
        return NULL;
    json_t *v = json_loads(k + 2, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!v || (k[0] == 'k' && !json_is_object(v))) {
        json_decref(v);
        return NULL;
    }
    char *d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(v);
    if (!d)
        return NULL;
    char *out = malloc(strlen(d) + 3);
    if (!out)
        abort();
    sprintf(out, "%c:%s", k[0], d);
    free(d);
    return out;
}

static int s_decode(const json_t *v, bool top, int depth, json_t **out, char *err, size_t errlen)
{
    if (!json_is_object(v))
        return s_bad(err, errlen, "FieldsV1: expected an object", NULL);
    if (depth > PROTO_FS_MAX_DEPTH)
        return s_bad(err, errlen, "FieldsV1: nested too deeply", NULL);
    json_t *kids = json_object();
    bool member = json_object_size(v) == 0;
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)v, k, c)
    {
        if (!strcmp(k, S_SELF)) {
            member = true;
            continue;
        }
        char *ck = s_canon_key(k);
        json_t *sub = NULL;
        int rc = ck ? s_decode(c, false, depth + 1, &sub, err, errlen)
                    : s_bad(err, errlen, "FieldsV1: invalid path element", k);
        if (rc == 0 && sub) {
            json_t *have = json_object_get(kids, ck);
            json_t *u = have ? s_union(have, sub, false) : json_incref(sub);
            json_object_set_new(kids, ck, u);
        }
        json_decref(sub);
        free(ck);
        if (rc) {
            json_decref(kids);
            return rc;
        }
    }
    *out = s_node(member, kids, top);
    return 0;
}

int proto_fs_decode(const json_t *v, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    return s_decode(v, true, 0, out, err, errlen);
}

/* ---- FieldsV1 encoding (ordered) ----------------------------------------------- */

static int s_rank(const char *k)
{
    switch (k[0]) {
    case '.':
        return 0;
    case 'f':
        return 1;
    case 'k':
        return 2;
    case 'v':
        return 3;
    default:
        return 4;
    }
}

/* Kubernetes' order of values: numbers by value, strings lexically. */
static int s_cmp_value(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b))
        return strcmp(json_string_value(a), json_string_value(b));
    return (int)json_typeof(a) - (int)json_typeof(b);
}

/* A path element with its k:/v: JSON parsed once, for sorting. */
typedef struct s_pe {
    const char *key;
    int rank;
    json_t *v;
} s_pe_t;

/* k:{…} keys compare field by field (the fields are sorted by name). */
static int s_cmp_keys(const json_t *x, const json_t *y)
{
    if (!json_is_object(x) || !json_is_object(y))
        return x && y ? s_cmp_value(x, y) : (x != NULL) - (y != NULL);
    int c = 0;
    void *i = json_object_iter((json_t *)x), *j = json_object_iter((json_t *)y);
    for (; !c && i && j;
         i = json_object_iter_next((json_t *)x, i), j = json_object_iter_next((json_t *)y, j)) {
        c = strcmp(json_object_iter_key(i), json_object_iter_key(j));
        if (!c)
            c = s_cmp_value(json_object_iter_value(i), json_object_iter_value(j));
    }
    return c ? c : (i != NULL) - (j != NULL);
}

static int s_cmp_pe(const void *pa, const void *pb)
{
    const s_pe_t *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank - b->rank;
    int c = 0;
    if (a->rank == 2 || a->rank == 3)
        c = s_cmp_keys(a->v, b->v);
    else if (a->rank == 4)
        c = atol(a->key + 2) < atol(b->key + 2) ? -1 : atol(a->key + 2) > atol(b->key + 2);
    return c ? c : strcmp(a->key, b->key);
}

/* The keys of s (an object) in structured-merge-diff's order; caller frees
 * with s_free_keys. */
static s_pe_t *s_sorted_keys(const json_t *s, size_t *n)
{
    *n = json_object_size(s);
    s_pe_t *keys = calloc(*n ? *n : 1, sizeof *keys);
    if (!keys)
        abort();
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v)
    {
        keys[i].key = k;
        keys[i].rank = s_rank(k);
        if ((keys[i].rank == 2 || keys[i].rank == 3) && *n > 1)
            keys[i].v = json_loads(k + 2, JSON_DECODE_ANY, NULL);
        i++;
    }
    qsort(keys, *n, sizeof *keys, s_cmp_pe);
    return keys;
}

static void s_free_keys(s_pe_t *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(keys[i].v);
    free(keys);
}

json_t *proto_fs_encode(const json_t *s)
{
    json_t *out = json_object();
    size_t n;
    s_pe_t *keys = s_sorted_keys(s, &n);
    for (size_t i = 0; i < n; i++)
        json_object_set_new(out, keys[i].key, proto_fs_encode(json_object_get(s, keys[i].key)));
    s_free_keys(keys, n);
    return out;
}

/* ---- paths as Kubernetes prints them ---------------------------------------------- */

/* Go's value.ToString: strings quoted, the rest as JSON. Caller frees. */
static char *s_value_str(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void s_pe_str(const char *pe, char *buf, size_t len)
{
    if (!strncmp(pe, "f:", 2)) {
        snprintf(buf, len, ".%s", pe + 2);
        return;
    }
    if (!strncmp(pe, "i:", 2)) {
        snprintf(buf, len, "[%s]", pe + 2);
        return;
    }
    json_t *v = json_loads(pe + 2, JSON_DECODE_ANY, NULL);
    size_t n = (size_t)snprintf(buf, len, "[%s", pe[0] == 'v' ? "=" : "");
    if (pe[0] == 'k' && json_is_object(v)) {
        const char *k;
        json_t *fv;
        bool first = true;
        json_object_foreach(v, k, fv)
        {
            char *s = s_value_str(fv);
            if (n < len)
                n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", first ? "" : ",", k, s);
            free(s);
            first = false;
        }
    } else if (v) {
        char *s = s_value_str(v);
        if (n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s", s);
        free(s);
    }
    if (n < len)
        snprintf(buf + n, len - n, "]");
    json_decref(v);
}

static void s_paths(const json_t *s, const char *prefix, json_t *out, int depth)
{
    if (depth > PROTO_FS_MAX_DEPTH)
        return;
    size_t n;
    s_pe_t *keys = s_sorted_keys(s, &n);
    char pe[512];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i].key, S_SELF) && s_member(json_object_get(s, keys[i].key))) {
            s_pe_str(keys[i].key, pe, sizeof pe);
            json_array_append_new(out, json_sprintf("%s%s", prefix, pe));
        }
    }
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_object_get(s, keys[i].key);
        if (!strcmp(keys[i].key, S_SELF) || proto_fs_empty(c))
            continue;
        s_pe_str(keys[i].key, pe, sizeof pe);
        size_t len = strlen(prefix) + strlen(pe) + 1;
        char *p = malloc(len);
        if (!p)
            abort();
        snprintf(p, len, "%s%s", prefix, pe);
        s_paths(c, p, out, depth + 1);
        free(p);
    }
    s_free_keys(keys, n);
}

json_t *proto_fs_paths(const json_t *s)
{
    json_t *out = json_array();
    s_paths(s, "", out, 0);
    return out;
}
