/*
 * runtime/informer_store — the informer's cache: a hash table of entries by
 * namespace/name, a list per namespace (insertion order, as the jansson
 * object of namespaces it replaces), and an optional index of value ->
 * entries. An entry is one allocation: its links, its name, and either a
 * reference to the object (plain) or the object's msgpack bytes (compact).
 * One allocation per object, rather than the dozens of a jansson tree, is
 * also what keeps a long-lived cache from pinning the pages that transient
 * trees (events, list replies) are decoded into.
 */
#include "runtime/informer_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/codec.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#define S_MAX_LINKS 128 /* index values per object taken into account */

typedef struct s_nsl s_nsl_t;
typedef struct s_ilist s_ilist_t;

/* A node of a chained hash table: the first member of what a table holds
 * (entries by ns/name, index lists by value). */
typedef struct s_hnode {
    struct s_hnode *hnext;
    uint32_t hash;
} s_hnode_t;

typedef struct s_table {
    s_hnode_t **b;
    size_t n, count; /* buckets (a power of 2), nodes */
} s_table_t;

typedef struct s_link {
    rt_istore_ent_t *prev, *next;
    s_ilist_t *list;
} s_link_t;

struct rt_istore_ent {
    s_hnode_t h;                  /* in rt_istore.ents: first */
    rt_istore_ent_t *prev, *next; /* namespace list */
    s_nsl_t *nsl;
    json_t *obj; /* plain mode */
    uint64_t rv;
    uint32_t len; /* msgpack bytes (compact mode) */
    uint16_t nlinks;
    char data[]; /* s_link_t[nlinks], name NUL, bytes */
};

struct s_nsl {
    rt_istore_ent_t *head, *tail;
    size_t count;
    char name[];
};

struct s_ilist {
    s_hnode_t h; /* in rt_istore.ilists: first */
    rt_istore_ent_t *head, *tail;
    size_t count;
    char value[];
};

struct rt_istore {
    bool compact;
    rt_istore_index_fn *index;
    void *arg;
    s_table_t ents;   /* ns/name -> entry */
    s_table_t ilists; /* index value -> list (as many as objects with uids) */
    json_t *nsls;     /* ns -> s_nsl_t * (as integer), insertion order */
};

static void *s_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return p;
}

static void *s_ptr(const json_t *v)
{
    return v ? (void *)(intptr_t)json_integer_value(v) : NULL;
}

static uint32_t s_fnv(uint32_t h, const char *p)
{
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static uint32_t s_hash(const char *ns, const char *name)
{
    return s_fnv((s_fnv(2166136261u, ns) ^ '/') * 16777619u, name);
}

static s_link_t *s_links(const rt_istore_ent_t *e)
{
    return (s_link_t *)(void *)e->data;
}

const char *rt_istore_ent_name(const rt_istore_ent_t *e)
{
    return e->data + e->nlinks * sizeof(s_link_t);
}

const char *rt_istore_ent_ns(const rt_istore_ent_t *e)
{
    return e->nsl->name;
}

uint64_t rt_istore_ent_rv(const rt_istore_ent_t *e)
{
    return e->rv;
}

static const char *s_bytes(const rt_istore_ent_t *e)
{
    const char *name = rt_istore_ent_name(e);
    return name + strlen(name) + 1;
}

json_t *rt_istore_ent_obj(const rt_istore_ent_t *e)
{
    if (e->obj)
        return json_incref(e->obj);
    json_t *out = NULL;
    if (proto_mp_unpack(s_bytes(e), e->len, &out, NULL, 0) < 0)
        return NULL;
    return out;
}

/* ---- hash tables -------------------------------------------------------------- */

static void s_table_init(s_table_t *t, size_t n)
{
    t->n = n;
    t->count = 0;
    t->b = s_alloc(n * sizeof *t->b);
}

static s_hnode_t **s_table_head(const s_table_t *t, uint32_t h)
{
    return &t->b[h & (t->n - 1)];
}

/* Links node at slot (where a lookup of its key ended) and grows the
 * table when it holds more nodes than buckets. */
static void s_table_link(s_table_t *t, s_hnode_t **slot, s_hnode_t *node)
{
    node->hnext = NULL;
    *slot = node;
    if (++t->count <= t->n)
        return;
    size_t n = t->n * 2;
    s_hnode_t **b = s_alloc(n * sizeof *b);
    for (size_t i = 0; i < t->n; i++) {
        s_hnode_t *x = t->b[i], *next;
        for (; x; x = next) {
            next = x->hnext;
            x->hnext = b[x->hash & (n - 1)];
            b[x->hash & (n - 1)] = x;
        }
    }
    free(t->b);
    t->b = b;
    t->n = n;
}

static void s_table_unlink(s_table_t *t, s_hnode_t **slot)
{
    *slot = (*slot)->hnext;
    t->count--;
}

/* Frees every node with free_fn, then the buckets. */
static void s_table_free(s_table_t *t, void (*free_fn)(s_hnode_t *node))
{
    for (size_t i = 0; i < t->n; i++) {
        s_hnode_t *x = t->b[i], *next;
        for (; x; x = next) {
            next = x->hnext;
            free_fn(x);
        }
    }
    free(t->b);
}

rt_istore_t *rt_istore_new(bool compact, rt_istore_index_fn *index, void *arg)
{
    rt_istore_t *s = s_alloc(sizeof *s);
    s->compact = compact;
    s->index = index;
    s->arg = arg;
    s_table_init(&s->ents, 64);
    s_table_init(&s->ilists, 16);
    s->nsls = json_object();
    return s;
}

size_t rt_istore_count(const rt_istore_t *s)
{
    return s->ents.count;
}

/* ---- lookup ------------------------------------------------------------------- */

/* Where ns/name is (or would be linked) in the entries' table. */
static s_hnode_t **s_slot(const rt_istore_t *s, const char *ns, const char *name, uint32_t h)
{
    s_hnode_t **p = s_table_head(&s->ents, h);
    for (; *p; p = &(*p)->hnext) {
        const rt_istore_ent_t *e = (const rt_istore_ent_t *)*p;
        if (e->h.hash == h && !strcmp(rt_istore_ent_name(e), name) && !strcmp(e->nsl->name, ns))
            return p;
    }
    return p;
}

const rt_istore_ent_t *rt_istore_find(const rt_istore_t *s, const char *ns, const char *name)
{
    if (!ns || !name)
        return NULL;
    return (const rt_istore_ent_t *)*s_slot(s, ns, name, s_hash(ns, name));
}

/* ---- index ------------------------------------------------------------------------ */

static s_link_t *s_link_in(const rt_istore_ent_t *e, const s_ilist_t *l)
{
    for (uint16_t i = 0; i < e->nlinks; i++)
        if (s_links(e)[i].list == l)
            return &s_links(e)[i];
    return NULL; /* not reached: every member of a list links to it */
}

/* Where the list of value is (or would be linked) in the index's table. */
static s_hnode_t **s_islot(const rt_istore_t *s, const char *value, uint32_t h)
{
    s_hnode_t **p = s_table_head(&s->ilists, h);
    while (*p && ((*p)->hash != h || strcmp(((const s_ilist_t *)*p)->value, value)))
        p = &(*p)->hnext;
    return p;
}

static void s_unindex(rt_istore_t *s, rt_istore_ent_t *e)
{
    for (uint16_t i = 0; i < e->nlinks; i++) {
        s_link_t *k = &s_links(e)[i];
        s_ilist_t *l = k->list;
        if (k->prev)
            s_link_in(k->prev, l)->next = k->next;
        else
            l->head = k->next;
        if (k->next)
            s_link_in(k->next, l)->prev = k->prev;
        else
            l->tail = k->prev;
        if (--l->count == 0) {
            s_table_unlink(&s->ilists, s_islot(s, l->value, l->h.hash));
            free(l);
        }
    }
}

static void s_index_one(rt_istore_t *s, rt_istore_ent_t *e, uint16_t i, const char *value)
{
    uint32_t h = s_fnv(2166136261u, value);
    s_hnode_t **slot = s_islot(s, value, h);
    s_ilist_t *l = (s_ilist_t *)*slot;
    if (!l) {
        l = s_alloc(sizeof *l + strlen(value) + 1);
        strcpy(l->value, value);
        l->h.hash = h;
        s_table_link(&s->ilists, slot, &l->h);
    }
    s_link_t *k = &s_links(e)[i];
    *k = (s_link_t){l->tail, NULL, l};
    if (l->tail)
        s_link_in(l->tail, l)->next = e;
    else
        l->head = e;
    l->tail = e;
    l->count++;
}

typedef struct s_vals {
    char *v[S_MAX_LINKS];
    uint16_t n;
} s_vals_t;

static void s_add_val(void *ctx, const char *value)
{
    s_vals_t *vals = ctx;
    if (!value || vals->n == S_MAX_LINKS)
        return;
    for (uint16_t i = 0; i < vals->n; i++)
        if (!strcmp(vals->v[i], value))
            return;
    vals->v[vals->n] = strdup(value);
    if (!vals->v[vals->n])
        abort();
    vals->n++;
}

/* ---- put / del ------------------------------------------------------------------- */

static s_nsl_t *s_nsl(rt_istore_t *s, const char *ns)
{
    s_nsl_t *l = s_ptr(json_object_get(s->nsls, ns));
    if (!l) {
        l = s_alloc(sizeof *l + strlen(ns) + 1);
        strcpy(l->name, ns);
        json_object_set_new(s->nsls, ns, json_integer((json_int_t)(intptr_t)l));
    }
    return l;
}

/* A new entry for obj (not linked anywhere yet), or NULL. */
static rt_istore_ent_t *s_ent_new(rt_istore_t *s, const json_t *obj, const char *name,
                                  s_vals_t *vals)
{
    char *buf = NULL;
    size_t len = 0;
    if (s->compact && (proto_mp_pack(obj, &buf, &len) < 0 || len > UINT32_MAX)) {
        free(buf);
        return NULL;
    }
    if (s->index)
        s->index(s->arg, obj, s_add_val, vals);
    size_t nl = strlen(name) + 1, links = vals->n * sizeof(s_link_t);
    rt_istore_ent_t *e = s_alloc(sizeof *e + links + nl + len);
    e->nlinks = vals->n;
    memcpy(e->data + links, name, nl);
    if (s->compact)
        memcpy(e->data + links + nl, buf, len);
    else
        e->obj = json_incref((json_t *)obj);
    free(buf);
    e->len = (uint32_t)len;
    e->rv = proto_obj_rv(obj);
    return e;
}

static void s_ent_free(rt_istore_ent_t *e)
{
    json_decref(e->obj);
    free(e);
}

static void s_ent_free_node(s_hnode_t *node)
{
    s_ent_free((rt_istore_ent_t *)node);
}

static void s_free_node(s_hnode_t *node)
{
    free(node);
}

int rt_istore_put(rt_istore_t *s, const json_t *obj)
{
    const char *name = proto_obj_name(obj), *ns = proto_obj_ns(obj);
    ns = ns ? ns : "";
    if (!name)
        return PROTO_EINVALID;
    s_vals_t vals = {.n = 0};
    rt_istore_ent_t *e = s_ent_new(s, obj, name, &vals);
    if (!e)
        return PROTO_EINVALID;
    e->h.hash = s_hash(ns, name);
    s_hnode_t **slot = s_slot(s, ns, name, e->h.hash);
    rt_istore_ent_t *old = (rt_istore_ent_t *)*slot;
    e->nsl = old ? old->nsl : s_nsl(s, ns);
    if (old) { /* take its place in the chain and in the namespace's list */
        s_unindex(s, old);
        e->h.hnext = old->h.hnext;
        *slot = &e->h;
        e->prev = old->prev;
        e->next = old->next;
        *(e->prev ? &e->prev->next : &e->nsl->head) = e;
        *(e->next ? &e->next->prev : &e->nsl->tail) = e;
        s_ent_free(old);
    } else {
        e->prev = e->nsl->tail;
        *(e->prev ? &e->prev->next : &e->nsl->head) = e;
        e->nsl->tail = e;
        e->nsl->count++;
        s_table_link(&s->ents, slot, &e->h);
    }
    for (uint16_t i = 0; i < vals.n; i++) {
        s_index_one(s, e, i, vals.v[i]);
        free(vals.v[i]);
    }
    return 0;
}

bool rt_istore_del(rt_istore_t *s, const char *ns, const char *name)
{
    if (!ns || !name)
        return false;
    s_hnode_t **slot = s_slot(s, ns, name, s_hash(ns, name));
    rt_istore_ent_t *e = (rt_istore_ent_t *)*slot;
    if (!e)
        return false;
    s_table_unlink(&s->ents, slot);
    s_unindex(s, e);
    s_nsl_t *l = e->nsl;
    *(e->prev ? &e->prev->next : &l->head) = e->next;
    *(e->next ? &e->next->prev : &l->tail) = e->prev;
    if (--l->count == 0) {
        json_object_del(s->nsls, l->name);
        free(l);
    }
    s_ent_free(e);
    return true;
}

void rt_istore_destroy(rt_istore_t **sp)
{
    rt_istore_t *s = sp ? *sp : NULL;
    if (!s)
        return;
    s_table_free(&s->ents, s_ent_free_node);
    s_table_free(&s->ilists, s_free_node);
    const char *k;
    json_t *v;
    json_object_foreach(s->nsls, k, v) free(s_ptr(v));
    json_decref(s->nsls);
    free(s);
    *sp = NULL;
}

/* ---- iteration ----------------------------------------------------------------------- */

static bool s_each_nsl(const s_nsl_t *l, bool (*fn)(void *arg, const rt_istore_ent_t *e), void *arg)
{
    for (const rt_istore_ent_t *e = l ? l->head : NULL; e; e = e->next)
        if (!fn(arg, e))
            return false;
    return true;
}

bool rt_istore_each(const rt_istore_t *s, const char *ns,
                    bool (*fn)(void *arg, const rt_istore_ent_t *e), void *arg)
{
    if (ns)
        return s_each_nsl(s_ptr(json_object_get(s->nsls, ns)), fn, arg);
    const char *k;
    json_t *v;
    json_object_foreach(s->nsls, k, v) if (!s_each_nsl(s_ptr(v), fn, arg)) return false;
    return true;
}

bool rt_istore_each_indexed(const rt_istore_t *s, const char *value,
                            bool (*fn)(void *arg, const rt_istore_ent_t *e), void *arg)
{
    const s_ilist_t *l =
        value ? (const s_ilist_t *)*s_islot(s, value, s_fnv(2166136261u, value)) : NULL;
    for (const rt_istore_ent_t *e = l ? l->head : NULL; e; e = s_link_in(e, l)->next)
        if (!fn(arg, e))
            return false;
    return true;
}
