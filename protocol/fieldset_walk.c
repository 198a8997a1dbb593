/*
 * protocol/fieldset_walk.c — the typed half of protocol/fieldset.h: walks
 * objects of the built-in kinds with the strategic-merge schema
 * (proto_patch_merge_key) plus server-side apply's own list keys, to build
 * the field set of an applied configuration, compare two objects, merge a
 * configuration into a live object and remove a set's fields — the
 * operations of structured-merge-diff that the apiserver's apply uses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/fieldset.h"
#include "protocol/patch.h"
#include "protocol/status.h"

/* ---- types ------------------------------------------------------------------ */

typedef enum { S_ATOMIC, S_STRUCT, S_MAPLIST, S_SETLIST } s_kind_t;

typedef struct s_ty {
    s_kind_t kind;
    const char *type;    /* type of the value (of the items for lists) */
    const char *k1;      /* associative list: first key field */
    const char *k2, *d2; /* optional second key field and its default */
    bool item_atomic;    /* items are owned whole */
} s_ty_t;

/* Where apply's schema differs from strategic merge's (listMapKeys, atomic
 * items), as in Kubernetes' OpenAPI. */
static const struct {
    const char *type, *field, *k1, *k2, *d2;
    bool item_atomic;
} s_ssa[] = {
    {"Container", "ports", "containerPort", "protocol", "TCP", false},
    {"ServiceSpec", "ports", "port", "protocol", "TCP", false},
    {"ObjectMeta", "ownerReferences", "uid", NULL, NULL, true},
    {"PodSpec", "imagePullSecrets", "name", NULL, NULL, true},
};

static bool s_same_type(const json_t *a, const json_t *b)
{
    if (json_is_boolean(a) && json_is_boolean(b))
        return true;
    if (json_is_number(a) && json_is_number(b))
        return true;
    return json_typeof(a) == json_typeof(b);
}

/* proto_patch_merge_key scans a table; walks ask it for every field of
 * every object, so answers are remembered by (type, field) in a small
 * direct-mapped cache. Not thread-safe: zkube's users of field sets (the
 * apiserver) are single-threaded. */
#define S_CACHE_SLOTS 512
#define S_CACHE_NAME 48
static struct {
    char type[S_CACHE_NAME];
    char field[S_CACHE_NAME];
    const char *key, *child;
} s_cache[S_CACHE_SLOTS];

static const char *s_merge_key(const char *type, const char *field, const char **child)
{
    size_t tn = type ? strlen(type) : 0, fn = strlen(field);
    if (!type || tn >= S_CACHE_NAME || fn >= S_CACHE_NAME)
        return proto_patch_merge_key(type, field, child);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < tn; i++)
        h = (h ^ (unsigned char)type[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < fn; i++)
        h = (h ^ (unsigned char)field[i]) * 0x100000001b3ull;
    size_t slot = (size_t)(h % S_CACHE_SLOTS);
    if (!strcmp(s_cache[slot].type, type) && !strcmp(s_cache[slot].field, field)) {
        *child = s_cache[slot].child;
        return s_cache[slot].key;
    }
    const char *key = proto_patch_merge_key(type, field, child);
    memcpy(s_cache[slot].type, type, tn + 1);
    memcpy(s_cache[slot].field, field, fn + 1);
    s_cache[slot].key = key;
    s_cache[slot].child = *child;
    return key;
}

/* The type of field of ptype holding v. */
static s_ty_t s_field_ty(const char *ptype, const char *field, const json_t *v)
{
    s_ty_t t = {S_ATOMIC, NULL, NULL, NULL, NULL, false};
    const char *key = s_merge_key(ptype, field, &t.type);
    if (json_is_object(v)) {
        /* metav1.LabelSelector is atomic; a map selector (RC, Service) is not */
        bool labelsel = !strcmp(field, "selector") && (json_object_get(v, "matchLabels") ||
                                                       json_object_get(v, "matchExpressions"));
        t.kind = labelsel ? S_ATOMIC : S_STRUCT;
        return t;
    }
    if (!json_is_array(v) || !key)
        return t;
    t.kind = *key ? S_MAPLIST : S_SETLIST;
    t.k1 = key;
    for (size_t i = 0; ptype && i < sizeof s_ssa / sizeof s_ssa[0]; i++) {
        if (!strcmp(s_ssa[i].type, ptype) && !strcmp(s_ssa[i].field, field)) {
            t.k1 = s_ssa[i].k1;
            t.k2 = s_ssa[i].k2;
            t.d2 = s_ssa[i].d2;
            t.item_atomic = s_ssa[i].item_atomic;
        }
    }
    return t;
}

/* The type of one item of list type t. */
static s_ty_t s_item_ty(const s_ty_t *t, const json_t *item)
{
    s_ty_t it = {S_ATOMIC, t->type, NULL, NULL, NULL, false};
    if (t->kind == S_MAPLIST && !t->item_atomic && json_is_object(item))
        it.kind = S_STRUCT;
    return it;
}

static bool s_skip(const char *type, const char *field)
{
    return type && !strcmp(type, "ObjectMeta") && !strcmp(field, "managedFields");
}

/* The path element of an item of list t ("k:{…}" or "v:…"); caller frees;
 * NULL when the item lacks a key field. */
static char *s_item_pe(const s_ty_t *t, const json_t *item, const char **missing)
{
    json_t *kv;
    if (t->kind == S_SETLIST) {
        kv = json_incref((json_t *)item);
    } else {
        json_t *v1 = json_object_get(item, t->k1);
        json_t *v2 = t->k2 ? json_object_get(item, t->k2) : NULL;
        if (!v1 || json_is_null(v1)) {
            *missing = t->k1;
            return NULL;
        }
        kv = json_object();
        json_object_set(kv, t->k1, v1);
        if (v2 && !json_is_null(v2))
            json_object_set(kv, t->k2, v2);
        else if (t->k2)
            json_object_set_new(kv, t->k2, json_string(t->d2));
    }
    char *d = json_dumps(kv, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(kv);
    if (!d)
        return NULL;
    char *pe = malloc(strlen(d) + 3);
    if (!pe)
        abort();
    sprintf(pe, "%c:%s", t->kind == S_SETLIST ? 'v' : 'k', d);
    free(d);
    return pe;
}

/* A set node (see fieldset.c): NULL when empty, "." when member + children. */
static json_t *s_node(bool member, json_t *kids)
{
    if (json_object_size(kids) == 0) {
        if (member)
            return kids;
        json_decref(kids);
        return NULL;
    }
    if (member)
        json_object_set_new(kids, ".", json_object());
    return kids;
}

static void s_set_field(json_t *kids, const char *field, json_t *c);

typedef struct s_err {
    char *buf;
    size_t len;
    int rc;
} s_err_t;

static void s_fail(s_err_t *e, const char *path, const char *fmt, const char *arg)
{
    if (e->rc)
        return;
    e->rc = PROTO_EBADREQUEST;
    if (e->buf && e->len) {
        int n = snprintf(e->buf, e->len, "%s: ", path);
        if (n >= 0 && (size_t)n < e->len)
            snprintf(e->buf + n, e->len - (size_t)n, fmt, arg);
    }
}

/* ---- the field set of a configuration ----------------------------------------- */

static json_t *s_set_value(const json_t *v, const s_ty_t *t, const char *path, s_err_t *e,
                           int depth);

static json_t *s_set_struct(const json_t *obj, const char *type, const char *path, s_err_t *e,
                            int depth)
{
    json_t *kids = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (s_skip(type, k))
            continue;
        s_ty_t t = s_field_ty(type, k, v);
        char *p = NULL;
        if (asprintf(&p, "%s.%s", path, k) < 0)
            abort();
        json_t *c = s_set_value(v, &t, p, e, depth + 1);
        free(p);
        if (c)
            s_set_field(kids, k, c);
    }
    return kids;
}

static json_t *s_set_list(const json_t *list, const s_ty_t *t, const char *path, s_err_t *e,
                          int depth)
{
    json_t *kids = json_object();
    size_t i;
    json_t *item;
    json_array_foreach((json_t *)list, i, item)
    {
        const char *missing = NULL;
        char *pe = s_item_pe(t, item, &missing);
        char what[320];
        snprintf(what, sizeof what, "element %zu: %%s", i);
        if (!pe) {
            char msg[400];
            snprintf(msg, sizeof msg, what,
                     "associative list with keys has an element that omits key field \"%s\"");
            s_fail(e, path, msg, missing ? missing : "?");
            break;
        }
        if (json_object_get(kids, pe)) {
            s_fail(e, path, "duplicate entries for key %s", pe + 2);
            free(pe);
            break;
        }
        s_ty_t it = s_item_ty(t, item);
        json_t *c =
            it.kind == S_STRUCT ? s_set_struct(item, it.type, path, e, depth + 1) : json_object();
        json_object_set_new(kids, pe, s_node(true, c));
        free(pe);
    }
    return kids;
}

static json_t *s_set_value(const json_t *v, const s_ty_t *t, const char *path, s_err_t *e,
                           int depth)
{
    if (depth > PROTO_FS_MAX_DEPTH) {
        s_fail(e, path, "%s", "nested too deeply");
        return NULL;
    }
    switch (t->kind) {
    case S_STRUCT:
        return json_object_size(v) == 0 ? json_object()
                                        : s_node(false, s_set_struct(v, t->type, path, e, depth));
    case S_MAPLIST:
    case S_SETLIST:
        return s_node(false, s_set_list(v, t, path, e, depth));
    default:
        return json_object();
    }
}

int proto_fs_of_object(const json_t *obj, const char *kind, json_t **out, char *err, size_t errlen)
{
    s_err_t e = {err, errlen, 0};
    *out = NULL;
    if (!json_is_object(obj)) {
        s_fail(&e, "", "%s", "the configuration is not an object");
        return e.rc;
    }
    json_t *s = s_set_struct(obj, kind, "", &e, 0);
    if (e.rc) {
        json_decref(s);
        return e.rc;
    }
    *out = s;
    return 0;
}

/* ---- comparison ------------------------------------------------------------------ */

typedef struct s_cmp_out {
    json_t *ch, *rm; /* nodes for the current path, NULL when nothing */
} s_cmp_out_t;

static void s_cmp_node(const json_t *l, const json_t *r, const s_ty_t *t, s_cmp_out_t *o,
                       int depth);

static void s_cmp_leaf(const json_t *l, const json_t *r, s_cmp_out_t *o)
{
    if (!l)
        o->ch = json_object();
    else if (!r)
        o->rm = json_object();
    else if (!json_equal(l, r))
        o->ch = json_object();
}

static void s_put(json_t *kids_ch, json_t *kids_rm, const char *pe, s_cmp_out_t *c)
{
    if (c->ch)
        json_object_set_new(kids_ch, pe, c->ch);
    if (c->rm)
        json_object_set_new(kids_rm, pe, c->rm);
}

/* kids["f:" + field] = c (stolen), without printf on the hot path. */
static void s_set_field(json_t *kids, const char *field, json_t *c)
{
    char buf[256];
    size_t n = strlen(field);
    if (n + 3 > sizeof buf) {
        char *p = NULL;
        if (asprintf(&p, "f:%s", field) < 0)
            abort();
        json_object_set_new(kids, p, c);
        free(p);
        return;
    }
    buf[0] = 'f', buf[1] = ':';
    memcpy(buf + 2, field, n + 1);
    json_object_set_new(kids, buf, c);
}

static void s_put_field(json_t *kch, json_t *krm, const char *field, s_cmp_out_t *c)
{
    if (c->ch)
        s_set_field(kch, field, c->ch);
    if (c->rm)
        s_set_field(krm, field, c->rm);
}

static void s_cmp_struct(const json_t *l, const json_t *r, const char *type, json_t *kch,
                         json_t *krm, int depth)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r, k, v)
    {
        if (s_skip(type, k))
            continue;
        json_t *lv = json_object_get(l, k);
        s_ty_t t = s_field_ty(type, k, v);
        s_cmp_out_t c = {NULL, NULL};
        s_cmp_node(lv, v, &t, &c, depth + 1);
        s_put_field(kch, krm, k, &c);
    }
    json_object_foreach((json_t *)l, k, v)
    {
        if (s_skip(type, k) || json_object_get(r, k))
            continue;
        s_ty_t t = s_field_ty(type, k, v);
        s_cmp_out_t c = {NULL, NULL};
        s_cmp_node(v, NULL, &t, &c, depth + 1);
        s_put_field(kch, krm, k, &c);
    }
}

/* Items of list by path element: pe -> index. NULL when an item has no key. */
static json_t *s_index(const json_t *list, const s_ty_t *t)
{
    json_t *idx = json_object();
    size_t i;
    json_t *item;
    json_array_foreach((json_t *)list, i, item)
    {
        const char *missing = NULL;
        char *pe = s_item_pe(t, item, &missing);
        if (!pe) {
            json_decref(idx);
            return NULL;
        }
        if (!json_object_get(idx, pe))
            json_object_set_new(idx, pe, json_integer((json_int_t)i));
        free(pe);
    }
    return idx;
}

static bool s_cmp_list(const json_t *l, const json_t *r, const s_ty_t *t, json_t *kch, json_t *krm,
                       int depth)
{
    json_t *li = l ? s_index(l, t) : json_object();
    json_t *ri = r ? s_index(r, t) : json_object();
    bool ok = li && ri;
    const char *pe;
    json_t *v;
    json_object_foreach(ok ? ri : NULL, pe, v)
    {
        json_t *rv = json_array_get(r, (size_t)json_integer_value(v));
        json_t *lx = json_object_get(li, pe);
        json_t *lv = lx ? json_array_get(l, (size_t)json_integer_value(lx)) : NULL;
        s_ty_t it = s_item_ty(t, rv);
        s_cmp_out_t c = {NULL, NULL};
        s_cmp_node(lv, rv, &it, &c, depth + 1);
        s_put(kch, krm, pe, &c);
    }
    json_object_foreach(ok ? li : NULL, pe, v)
    {
        if (json_object_get(ri, pe))
            continue;
        json_t *lv = json_array_get(l, (size_t)json_integer_value(v));
        s_ty_t it = s_item_ty(t, lv);
        s_cmp_out_t c = {NULL, NULL};
        s_cmp_node(lv, NULL, &it, &c, depth + 1);
        s_put(kch, krm, pe, &c);
    }
    json_decref(li);
    json_decref(ri);
    return ok;
}

static void s_cmp_node(const json_t *l, const json_t *r, const s_ty_t *t, s_cmp_out_t *o, int depth)
{
    bool lists = t->kind == S_MAPLIST || t->kind == S_SETLIST;
    bool empty = lists && json_array_size(l) == 0 && json_array_size(r) == 0;
    if (t->kind == S_ATOMIC || empty || (l && r && !s_same_type(l, r)) ||
        depth > PROTO_FS_MAX_DEPTH) {
        s_cmp_leaf(l, r, o);
        return;
    }
    json_t *kch = json_object(), *krm = json_object();
    if (t->kind == S_STRUCT) {
        s_cmp_struct(l, r, t->type, kch, krm, depth);
    } else if (!s_cmp_list(l, r, t, kch, krm, depth)) {
        json_decref(kch);
        json_decref(krm);
        s_cmp_leaf(l, r, o); /* items without keys: compared as a whole */
        return;
    }
    o->ch = s_node(!l, kch);
    o->rm = s_node(!r, krm);
}

void proto_fs_compare(const json_t *lhs, const json_t *rhs, const char *kind, json_t **changed,
                      json_t **removed)
{
    json_t *kch = json_object(), *krm = json_object();
    json_t *empty = json_object();
    s_cmp_struct(lhs ? lhs : empty, rhs ? rhs : empty, kind, kch, krm, 0);
    json_decref(empty);
    if (changed)
        *changed = kch;
    else
        json_decref(kch);
    if (removed)
        *removed = krm;
    else
        json_decref(krm);
}

/* ---- removal ---------------------------------------------------------------------- */

static bool s_member(const json_t *n)
{
    return n && (json_object_size(n) == 0 || json_object_get(n, "."));
}

static void s_remove_struct(json_t *obj, const json_t *set, const char *type, int depth);

static void s_remove_list(json_t *list, const json_t *set, const s_ty_t *t, int depth)
{
    if (t->kind != S_MAPLIST && t->kind != S_SETLIST)
        return;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *item = json_array_get(list, i);
        const char *missing = NULL;
        char *pe = s_item_pe(t, item, &missing);
        json_t *c = pe ? json_object_get(set, pe) : NULL;
        free(pe);
        if (!c)
            continue;
        if (s_member(c)) {
            json_array_remove(list, i--);
            continue;
        }
        s_ty_t it = s_item_ty(t, item);
        if (it.kind == S_STRUCT)
            s_remove_struct(item, c, it.type, depth + 1);
    }
}

static void s_remove_struct(json_t *obj, const json_t *set, const char *type, int depth)
{
    if (depth > PROTO_FS_MAX_DEPTH || !json_is_object(obj))
        return;
    const char *pe;
    json_t *c;
    json_object_foreach((json_t *)set, pe, c)
    {
        if (strncmp(pe, "f:", 2) || s_skip(type, pe + 2))
            continue;
        json_t *v = json_object_get(obj, pe + 2);
        if (!v)
            continue;
        if (s_member(c)) {
            json_object_del(obj, pe + 2);
            continue;
        }
        s_ty_t t = s_field_ty(type, pe + 2, v);
        if (t.kind == S_STRUCT)
            s_remove_struct(v, c, t.type, depth + 1);
        else
            s_remove_list(v, c, &t, depth + 1);
    }
}

void proto_fs_remove(json_t *obj, const json_t *set, const char *kind)
{
    s_remove_struct(obj, set, kind, 0);
}

/* ---- merge ------------------------------------------------------------------------ */

static int s_merge_struct(json_t *live, const json_t *cfg, const char *type, const char *path,
                          s_err_t *e, int depth);

/* The merged item for pe: live's and config's merged, or the one present. */
static json_t *s_merge_item(const json_t *l, const json_t *r, const s_ty_t *t, const char *path,
                            s_err_t *e, int depth)
{
    if (!r)
        return json_deep_copy(l);
    s_ty_t it = s_item_ty(t, r);
    if (!l || it.kind != S_STRUCT || !json_is_object(l))
        return json_deep_copy(r);
    json_t *m = json_deep_copy(l);
    s_merge_struct(m, r, it.type, path, e, depth + 1);
    return m;
}

/* Path elements of the items of list (NULL entries when keyless). */
static char **s_pes(const json_t *list, const s_ty_t *t, size_t *n, const char **missing)
{
    *n = json_array_size(list);
    char **pes = calloc(*n ? *n : 1, sizeof *pes);
    if (!pes)
        abort();
    for (size_t i = 0; i < *n; i++)
        pes[i] = s_item_pe(t, json_array_get(list, i), missing);
    return pes;
}

static void s_free_pes(char **pes, size_t n)
{
    for (size_t i = 0; pes && i < n; i++)
        free(pes[i]);
    free(pes);
}

/* structured-merge-diff's order: live's order, config-only items placed
 * where config puts them relative to the items both hold. */
typedef struct s_lm {
    const json_t *l, *r;
    char **lp, **rp;
    size_t ln, rn;
    json_t *lidx, *ridx, *done, *out;
    const s_ty_t *t;
    const char *path;
    s_err_t *e;
    int depth;
} s_lm_t;

static const json_t *s_at(const json_t *list, const json_t *idx, const char *pe)
{
    json_t *i = json_object_get(idx, pe);
    return i ? json_array_get(list, (size_t)json_integer_value(i)) : NULL;
}

static void s_take(s_lm_t *m, const char *pe, bool from_r)
{
    const json_t *lv = s_at(m->l, m->lidx, pe);
    const json_t *rv = from_r ? s_at(m->r, m->ridx, pe) : NULL;
    json_array_append_new(m->out, s_merge_item(lv, rv, m->t, m->path, m->e, m->depth));
    if (from_r)
        json_object_set_new(m->done, pe, json_true());
}

static void s_next_shared(s_lm_t *m, size_t *si, const char **next)
{
    *next = NULL;
    while (*si < m->rn && !json_object_get(m->lidx, m->rp[*si]))
        (*si)++;
    if (*si < m->rn)
        *next = m->rp[(*si)++];
}

static void s_merge_order(s_lm_t *m)
{
    size_t si = 0, li = 0, ri = 0;
    const char *next = NULL;
    s_next_shared(m, &si, &next);
    while (li < m->ln || ri < m->rn) {
        if (li < m->ln && ri < m->rn) {
            if (!strcmp(m->lp[li], m->rp[ri])) {
                s_take(m, m->rp[ri], true);
                li++, ri++;
                s_next_shared(m, &si, &next);
                continue;
            }
            if (json_object_get(m->ridx, m->lp[li]) && next && strcmp(next, m->lp[li])) {
                li++;
                continue;
            }
        }
        if (li < m->ln) {
            if (!json_object_get(m->ridx, m->lp[li])) {
                s_take(m, m->lp[li++], false);
                continue;
            }
            if (json_object_get(m->done, m->lp[li])) {
                li++;
                continue;
            }
        }
        if (ri < m->rn) {
            const char *pe = m->rp[ri++];
            s_take(m, pe, true);
            if (next && !strcmp(next, pe))
                s_next_shared(m, &si, &next);
        }
    }
}

static json_t *s_idx_of(char **pes, size_t n)
{
    json_t *idx = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(idx, pes[i], json_integer((json_int_t)i));
    return idx;
}

static json_t *s_merge_list(const json_t *l, const json_t *r, const s_ty_t *t, const char *path,
                            s_err_t *e, int depth)
{
    s_lm_t m = {.l = l, .r = r, .t = t, .path = path, .e = e, .depth = depth};
    const char *missing = NULL;
    m.rp = s_pes(r, t, &m.rn, &missing);
    for (size_t i = 0; i < m.rn && !e->rc; i++) {
        char msg[200];
        snprintf(msg, sizeof msg, "element %zu: %s", i,
                 m.rp[i] ? "duplicate entries for key %s"
                         : "associative list with keys has an element that omits key field \"%s\"");
        for (size_t j = 0; m.rp[i] && j < i; j++)
            if (!strcmp(m.rp[i], m.rp[j]))
                s_fail(e, path, msg, m.rp[i] + 2);
        if (!m.rp[i])
            s_fail(e, path, msg, missing ? missing : "?");
    }
    m.lp = s_pes(l, t, &m.ln, &missing);
    bool lok = true;
    for (size_t i = 0; i < m.ln; i++)
        lok = lok && m.lp[i];
    json_t *res = NULL;
    if (!e->rc && !lok) {
        res = json_deep_copy(r); /* live items without keys: replaced whole */
    } else if (!e->rc) {
        m.lidx = s_idx_of(m.lp, m.ln);
        m.ridx = s_idx_of(m.rp, m.rn);
        m.done = json_object();
        m.out = json_array();
        s_merge_order(&m);
        res = m.out;
        json_decref(m.lidx);
        json_decref(m.ridx);
        json_decref(m.done);
    }
    s_free_pes(m.lp, m.ln);
    s_free_pes(m.rp, m.rn);
    return res;
}

static int s_merge_struct(json_t *live, const json_t *cfg, const char *type, const char *path,
                          s_err_t *e, int depth)
{
    if (depth > PROTO_FS_MAX_DEPTH) {
        s_fail(e, path, "%s", "nested too deeply");
        return e->rc;
    }
    const char *k;
    json_t *cv;
    json_object_foreach((json_t *)cfg, k, cv)
    {
        if (s_skip(type, k))
            continue;
        if (json_is_null(cv)) {
            json_object_del(live, k);
            continue;
        }
        json_t *lv = json_object_get(live, k);
        s_ty_t t = s_field_ty(type, k, cv);
        if (!lv || t.kind == S_ATOMIC || !s_same_type(lv, cv)) {
            json_object_set_new(live, k, json_deep_copy(cv));
            continue;
        }
        char *p = NULL;
        if (asprintf(&p, "%s.%s", path, k) < 0)
            abort();
        if (t.kind == S_STRUCT) {
            s_merge_struct(lv, cv, t.type, p, e, depth + 1);
        } else {
            json_t *n = s_merge_list(lv, cv, &t, p, e, depth + 1);
            if (n)
                json_object_set_new(live, k, n);
        }
        free(p);
        if (e->rc)
            break;
    }
    return e->rc;
}

int proto_fs_merge(json_t *live, const json_t *config, const char *kind, char *err, size_t errlen)
{
    s_err_t e = {err, errlen, 0};
    if (!json_is_object(live) || !json_is_object(config)) {
        s_fail(&e, "", "%s", "the configuration is not an object");
        return e.rc;
    }
    return s_merge_struct(live, config, kind, "", &e, 0);
}
