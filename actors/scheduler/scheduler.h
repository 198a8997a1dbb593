/*
 * actors/scheduler — binds every unscheduled pod to a node, as
 * kube-scheduler does: filters (node name, unschedulable, taints and
 * tolerations, node selector and required node affinity, host ports,
 * cpu/memory/pod count against allocatable), then scores (least allocated,
 * spreading of one controller's pods) and binds through pods/binding.
 *
 * Two halves: the scheduling cache and algorithm (cache.c, schedule.c,
 * filter.c) are pure — no I/O, fed with node and pod objects — so tests drive
 * them with JSON fixtures; the actor (sched.c, watch.c, podwatch.c,
 * report.c, main.c) feeds them from the watch, runs the queues and talks to
 * the apiserver.
 */
#ifndef ZK_ACTORS_SCHEDULER_H
#define ZK_ACTORS_SCHEDULER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_DEFAULT_NAME "default-scheduler"

/* `zkube scheduler [--scheduler-name NAME]`: the actor "scheduler". */
int sched_main(int argc, char **argv);

/* --- the scheduling cache (pure) ---------------------------------------- */

typedef struct sched_cache sched_cache_t;

/* A cache of nodes and of the pods accounted on them. seed drives the
 * tie-break between equally scored nodes. Only memory can fail (aborts). */
sched_cache_t *sched_cache_new(uint64_t seed);
/* Frees everything; accepts NULL; nulls *c. */
void sched_cache_destroy(sched_cache_t **c);

/* Adds or updates a node from its object (borrowed). Returns true when
 * something feasibility depends on changed (labels, taints, unschedulable,
 * allocatable, readiness) or the node is new: unschedulable pods should then
 * be retried. A node without a name is ignored (false). */
bool sched_cache_node_set(sched_cache_t *c, const json_t *node);
/* Removes a node; pods accounted on it stay accounted (they come back with
 * the node if it is re-added). */
void sched_cache_node_del(sched_cache_t *c, const char *name);
/* Number of nodes present. */
size_t sched_cache_node_count(const sched_cache_t *c);

/* Accounts pod (borrowed) on node, replacing any previous accounting of the
 * same namespace/name. assumed marks a scheduling decision not yet confirmed
 * by the watch. */
void sched_cache_pod_set(sched_cache_t *c, const json_t *pod, const char *node, bool assumed);
/* Forgets the accounting of ns/name. True when it was accounted. */
bool sched_cache_pod_del(sched_cache_t *c, const char *ns, const char *name);
/* The node ns/name is accounted on (borrowed until the next change of the
 * cache), or NULL; *assumed (may be NULL) says whether it is only assumed. */
const char *sched_cache_pod_node(const sched_cache_t *c, const char *ns, const char *name,
                                 bool *assumed);
/* Forgets assumptions older than ttl_ms at now_ms (monotonic ms), which the
 * watch never confirmed. Returns how many were forgotten. */
size_t sched_cache_expire(sched_cache_t *c, int64_t now_ms, int64_t ttl_ms);

/*
 * Picks a node for pod (borrowed): filters every node (or, in large
 * clusters, enough feasible nodes as kube-scheduler's
 * percentageOfNodesToScore), scores the feasible ones, breaks ties at
 * random. Returns 0 with the node's name in node; PROTO_EUNAVAILABLE when no
 * node fits, with kube-scheduler's FailedScheduling message in msg
 * (`0/2 nodes are available: 2 Insufficient cpu. preemption: ...`);
 * PROTO_EINVALID when the pod's requests cannot be read (reason in msg).
 * Does not account the pod: the caller assumes it with sched_cache_pod_set.
 */
int sched_cache_schedule(sched_cache_t *c, const json_t *pod, char *node, size_t nodelen,
                         char *msg, size_t msglen);

/*
 * Runs the filters of pod against one node: 0 when it fits; else
 * PROTO_EUNAVAILABLE with the node's reasons joined by ", " in why
 * (`Insufficient cpu, Insufficient memory`); PROTO_ENOTFOUND for an unknown
 * node.
 */
int sched_cache_fit(const sched_cache_t *c, const json_t *pod, const char *node, char *why,
                    size_t whylen);
/* The score (higher is better) pod would get on node, or -1 if the node is
 * unknown. For tests; ignores feasibility. */
int sched_cache_score(const sched_cache_t *c, const json_t *pod, const char *node);

/* --- pure helpers --------------------------------------------------------- */

/* True when pod is this scheduler's to place: no spec.nodeName,
 * spec.schedulerName absent or equal to name, not being deleted, not
 * finished (phase Succeeded/Failed). */
bool sched_pod_wants_scheduling(const json_t *pod, const char *name);
/* True when toleration (a Toleration object) tolerates taint (a Taint). */
bool sched_tolerates(const json_t *toleration, const json_t *taint);
/* True when labels (borrowed, may be NULL) satisfy a NodeSelectorTerm's
 * matchExpressions (In, NotIn, Exists, DoesNotExist, Gt, Lt), and node_name
 * its matchFields (metadata.name). */
bool sched_term_matches(const json_t *term, const json_t *labels, const char *node_name);

/*
 * A copy of pod holding only what the scheduler reads once it is bound:
 * metadata (name, namespace, uid, resourceVersion, deletionTimestamp,
 * ownerReferences), spec (nodeName, schedulerName, overhead,
 * preemptionPolicy, containers and initContainers reduced to name, resources
 * and host ports), status.phase. An unbound pod is copied whole (events and
 * conditions need it). Meant for an informer transform: a bound pod's cache
 * entry shrinks to about half (jansson trees cost ~7 KB a pod). Caller owns
 * the result.
 */
json_t *sched_pod_slim(const json_t *pod);
/* A copy of node holding only what the scheduling cache reads:
 * metadata (name, uid, resourceVersion, labels), spec (unschedulable,
 * taints), status (allocatable, capacity, conditions). Caller owns it. */
json_t *sched_node_slim(const json_t *node);

#endif
