/*
 * runtime/informer_store — the cache behind runtime/informer: objects by
 * namespace and name, iterated per namespace in insertion order, with one
 * optional secondary index (value -> objects, as client-go's Indexers).
 *
 * Two modes. Plain: each entry holds a reference to the jansson object.
 * Compact: each entry holds the object's msgpack bytes in one allocation
 * (a few hundred bytes for a pod summary where its jansson tree takes
 * several KB) and objects are decoded when asked for — what an actor with
 * 10,000 cached pods chooses (rt_informer_opts_t.compact).
 *
 * Private to runtime/informer.c (and its tests); callers use informer.h.
 */
#ifndef ZK_RUNTIME_INFORMER_STORE_H
#define ZK_RUNTIME_INFORMER_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rt_istore rt_istore_t;
typedef struct rt_istore_ent rt_istore_ent_t;

/* The index values of obj: calls add(ctx, value) for each (value copied). */
typedef void rt_istore_index_fn(void *arg, const json_t *obj,
                                void (*add)(void *ctx, const char *value), void *ctx);

/* A new empty store; index (with its arg) may be NULL. */
rt_istore_t *rt_istore_new(bool compact, rt_istore_index_fn *index, void *arg);
void rt_istore_destroy(rt_istore_t **s);
size_t rt_istore_count(const rt_istore_t *s);

/* Stores obj under its namespace ("" when none) and name, replacing the
 * entry of that key in place (it keeps its position). Plain mode takes a
 * new reference; compact mode encodes obj (the caller keeps it).
 * 0, or PROTO_EINVALID (no name, or not encodable: nothing stored). */
int rt_istore_put(rt_istore_t *s, const json_t *obj);
/* Removes ns/name; false when absent. */
bool rt_istore_del(rt_istore_t *s, const char *ns, const char *name);

/* The entry of ns/name or NULL; valid until the store changes. */
const rt_istore_ent_t *rt_istore_find(const rt_istore_t *s, const char *ns, const char *name);
/* metadata.resourceVersion of the entry's object, without decoding it. */
uint64_t rt_istore_ent_rv(const rt_istore_ent_t *e);
const char *rt_istore_ent_ns(const rt_istore_ent_t *e);
const char *rt_istore_ent_name(const rt_istore_ent_t *e);
/* The entry's object: a new reference (decoded in compact mode). NULL only
 * if stored bytes cannot be decoded, which a put never produces. */
json_t *rt_istore_ent_obj(const rt_istore_ent_t *e);

/* Visits entries of namespace ns (NULL = all) in insertion order; fn
 * returns false to stop, and then so does this (returning false). The
 * store must not change during the visit. */
bool rt_istore_each(const rt_istore_t *s, const char *ns,
                    bool (*fn)(void *arg, const rt_istore_ent_t *e), void *arg);
/* Visits the entries that have index value `value`, as rt_istore_each. */
bool rt_istore_each_indexed(const rt_istore_t *s, const char *value,
                            bool (*fn)(void *arg, const rt_istore_ent_t *e), void *arg);

#endif
