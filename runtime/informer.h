/*
 * runtime/informer — a cache of one resource kept in step with the store by
 * list + watch over the event bus (the Clone pattern):
 *   1. subscribe to the stream's topic, buffering events;
 *   2. `list` from the apiserver (the reply carries the revision R and the
 *      stream's sequence number S);
 *   3. apply buffered and later events with rev > R, in order.
 * Loss detection: every event carries its stream's sequence; a gap, a new
 * apiserver epoch (in events or in the 1 s `_sync` beacon), a `_sync` seq
 * ahead of the last seen one, or a broker reconnect triggers a relist, which
 * delivers add/update/delete for the differences — so handlers only see a
 * consistent sequence of states.
 *
 * Streams (topics published by the apiserver, see docs/architecture.md):
 *   kind stream  "<resource>/"          all objects of a resource
 *   node stream  "node/<node>/pods/"    pods bound to one node
 */
#ifndef ZK_RUNTIME_INFORMER_H
#define ZK_RUNTIME_INFORMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol/selector.h"
#include "runtime/actor.h"

typedef struct rt_informer rt_informer_t;

typedef struct rt_informer_handlers {
    /* obj borrowed for the call; all may be NULL (old_obj too, with
     * rt_informer_opts_t.no_old) */
    void (*added)(void *arg, const json_t *obj);
    void (*updated)(void *arg, const json_t *old_obj, const json_t *obj);
    void (*deleted)(void *arg, const json_t *obj);
    /* after every (re)list has been applied */
    void (*synced)(void *arg);
} rt_informer_handlers_t;

typedef struct rt_informer_opts {
    const char *node; /* pods only: the node stream of this node */
    /*
     * Optional: reduces an object before it is cached (as client-go's
     * SetTransform), e.g. a scheduler keeping only the fields it filters on,
     * so that a cache of 10,000 pods stays small. Returns a new reference
     * (caller of the hook owns it); handlers and lookups see the reduced
     * object. The reduced object must keep metadata.name, .namespace and
     * .resourceVersion.
     */
    json_t *(*transform)(void *arg, const json_t *obj);
    /*
     * Optional: keep each cached object as msgpack bytes (one allocation,
     * a few hundred bytes for a pod summary instead of several KB of
     * jansson tree) and decode it when asked for. Lookups and iteration
     * then cost a decode each, so it suits large caches read by few
     * (typically indexed) lookups: controllers' pods.
     */
    bool compact;
    /* Optional: updated() gets old_obj NULL, for handlers that do not read
     * it (a compact cache then saves a decode per update). */
    bool no_old;
    /*
     * Optional: one secondary index (as client-go's Indexers): calls
     * add(ctx, value) for each index value of obj (the reduced object);
     * rt_informer_foreach_indexed visits the objects with a value. At most
     * 128 values per object.
     */
    void (*index)(void *arg, const json_t *obj, void (*add)(void *ctx, const char *value),
                  void *ctx);
} rt_informer_opts_t;

/* Ready-made transforms. meta_only: apiVersion, kind and metadata without
 * managedFields and annotations (enough for owner/finalizer logic).
 * pod_summary: that, plus spec.{nodeName, tolerations, schedulerName} and
 * status.{phase, podIP, startTime, conditions[{type, status,
 * lastTransitionTime}], containerStatuses[{name, ready, restartCount}]} —
 * what controllers rank and count pods by. */
json_t *rt_informer_meta_only(void *arg, const json_t *obj);
json_t *rt_informer_pod_summary(void *arg, const json_t *pod);

/* Starts an informer for resource (plural, "pods"). opts may be NULL. */
int rt_informer_new(rt_informer_t **out, rt_actor_t *a, const char *resource,
                    const rt_informer_opts_t *opts, const rt_informer_handlers_t *h, void *arg);
void rt_informer_destroy(rt_informer_t **inf);

/* True once the first list has been applied. */
bool rt_informer_synced(const rt_informer_t *inf);
/* Revision the cache reflects. */
uint64_t rt_informer_rev(const rt_informer_t *inf);
/* Number of relists so far (tests observe loss recovery through this). */
uint64_t rt_informer_relists(const rt_informer_t *inf);
/* Forces a relist now. */
void rt_informer_relist(rt_informer_t *inf);

/* Object by namespace ("" for cluster-scoped) and name; borrowed until the
 * next dispatch of the loop (a compact informer keeps what it decoded until
 * then). NULL if absent. */
const json_t *rt_informer_get(const rt_informer_t *inf, const char *ns, const char *name);
/* Calls fn for each object in namespace ns (NULL = all) matching sel (NULL =
 * all); objects borrowed for the call. fn returns false to stop. */
void rt_informer_foreach(const rt_informer_t *inf, const char *ns, const proto_sel_t *sel,
                         bool (*fn)(void *arg, const json_t *obj), void *arg);
/* Calls fn for each object with index value `value` (opts.index), in the
 * order they were indexed; objects borrowed for the call. fn returns false
 * to stop. Visits nothing without an index. */
void rt_informer_foreach_indexed(const rt_informer_t *inf, const char *value,
                                 bool (*fn)(void *arg, const json_t *obj), void *arg);
size_t rt_informer_count(const rt_informer_t *inf);

#endif
