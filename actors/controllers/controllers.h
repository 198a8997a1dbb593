/*
 * actors/controllers — the controllers of kube-controller-manager that
 * zkube runs, each its own actor process (`zkube controller KIND`, actor id
 * `controller-KIND`):
 *   replicationcontroller, replicaset  one replica-manager core (replica.c):
 *       keep spec.replicas active pods matching the selector, adopt orphans,
 *       release pods that stop matching, status through pods' informer;
 *   garbage-collector  (gc.c) dependents whose owners are gone, and owners
 *       left with the `orphan` / `foregroundDeletion` finalizers;
 *   node-lifecycle  (nodelife.c) nodes whose heartbeats stop: Ready=Unknown,
 *       the unreachable taint, then their pods are deleted.
 *
 * The decisions are pure functions below (tested with JSON fixtures); the
 * actors only feed them from informers and write through the apiserver.
 */
#ifndef ZK_ACTORS_CONTROLLERS_H
#define ZK_ACTORS_CONTROLLERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/selector.h"

/* `zkube controller KIND [flags]`; returns the process exit code. */
int ctrl_main(int argc, char **argv);

/* --- pods (pure) -------------------------------------------------------- */

/* True when pod counts towards replicas: not being deleted and not finished
 * (phase Succeeded/Failed), as controller.FilterActivePods. */
bool ctrl_pod_active(const json_t *pod);
/* True when the pod's Ready condition is True. */
bool ctrl_pod_ready(const json_t *pod);
/* True when ready for at least min_ready_s seconds at now (Unix seconds). */
bool ctrl_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now);
/*
 * Kubernetes' ActivePods order: < 0 when a should be deleted before b.
 * Unscheduled < scheduled; Pending < Unknown < Running; not ready < ready;
 * ready for less time < more; more restarts < fewer; newer < older; then by
 * name so the order is total.
 */
int ctrl_pod_cmp(const json_t *a, const json_t *b);
/* Sorts pods (an array, changed in place) with ctrl_pod_cmp: the first ones
 * are deleted first. */
void ctrl_pods_sort(json_t *pods);

/* --- ownership (pure) ------------------------------------------------------ */

/* The ownerReference with controller: true in obj, or NULL. Borrowed. */
const json_t *ctrl_controller_ref(const json_t *obj);

typedef enum {
    CTRL_CLAIM_IGNORE,  /* not ours and not to be taken */
    CTRL_CLAIM_OWNED,   /* ours, and it matches */
    CTRL_CLAIM_ADOPT,   /* an orphan that matches: adopt it */
    CTRL_CLAIM_RELEASE, /* ours, but it stopped matching: release it */
} ctrl_claim_t;

/* What the controller with uid and selector sel should do with pod (as
 * PodControllerRefManager.ClaimPods). owner_deleting: the controller has a
 * deletionTimestamp (it adopts nothing then). A pod being deleted is never
 * adopted. */
ctrl_claim_t ctrl_claim(const json_t *pod, const char *uid, const proto_sel_t *sel,
                        bool owner_deleting);

/* The selector of a ReplicationController (spec.selector map, or the
 * template's labels when absent) or of a ReplicaSet (LabelSelector).
 * 0 or PROTO_EBADREQUEST (reason in err). */
int ctrl_owner_selector(const json_t *owner, bool is_rc, proto_sel_t **out, char *err,
                        size_t errlen);

/* The controller ownerReference naming owner: {apiVersion, kind, name, uid,
 * controller: true, blockOwnerDeletion: true}. Caller owns it. */
json_t *ctrl_owner_ref(const json_t *owner);
/* A new pod for owner (an RC/RS object): generateName `<name>-`, labels,
 * annotations and finalizers of the template, its spec, and an
 * ownerReference {apiVersion, kind, name, uid, controller, blockOwnerDeletion}.
 * Caller owns the result. */
json_t *ctrl_pod_from_template(const json_t *owner);

/* The status an RC/RS should have given its claimed pods (array, borrowed):
 * replicas (active), fullyLabeledReplicas (labels match the template's),
 * readyReplicas, availableReplicas (ready for spec.minReadySeconds),
 * observedGeneration. Caller owns the result. */
json_t *ctrl_replica_status(const json_t *owner, const json_t *pods, int64_t now);

/* --- expectations (pure) ----------------------------------------------------- */

/*
 * ControllerExpectations (with deletions tracked by pod key, as
 * UIDTrackingControllerExpectations): writes a controller has in flight, so
 * that it does not act again on a cache that has not seen them yet.
 * Keys are the controllers' "ns/name"; times are monotonic ms.
 */
typedef struct ctrl_exp ctrl_exp_t;

#define CTRL_EXP_TIMEOUT_MS (5 * 60 * 1000)

ctrl_exp_t *ctrl_exp_new(void);
void ctrl_exp_destroy(ctrl_exp_t **e);
/* Records adds pod creations in flight for key (replacing earlier ones). */
void ctrl_exp_expect_adds(ctrl_exp_t *e, const char *key, int adds, int64_t now);
/* Records the deletion of pod_key ("ns/name") in flight for key. */
void ctrl_exp_expect_del(ctrl_exp_t *e, const char *key, const char *pod_key, int64_t now);
/* A creation was observed (or failed, so will never be): one fewer. */
void ctrl_exp_observe_add(ctrl_exp_t *e, const char *key);
/* The deletion of pod_key was observed (or failed): idempotent. */
void ctrl_exp_observe_del(ctrl_exp_t *e, const char *key, const char *pod_key);
/* True when nothing is in flight for key, or the expectations are older
 * than CTRL_EXP_TIMEOUT_MS. */
bool ctrl_exp_satisfied(const ctrl_exp_t *e, const char *key, int64_t now);
/* Pending creations and deletions for key (tests, logs). */
void ctrl_exp_pending(const ctrl_exp_t *e, const char *key, int *adds, int *dels);
/* Forgets key (its controller is gone). */
void ctrl_exp_forget(ctrl_exp_t *e, const char *key);

/* --- garbage collection (pure) ------------------------------------------------ */

/* True when obj has a finalizer f. */
bool ctrl_has_finalizer(const json_t *obj, const char *f);
/* A copy of refs (an ownerReferences array) without the entries whose uid
 * is in uids (an object used as a set: uid -> anything). Caller owns it. */
json_t *ctrl_refs_without(const json_t *refs, const json_t *uids);

/* --- node lifecycle (pure) ------------------------------------------------------ */

#define CTRL_TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define CTRL_TAINT_NOT_READY "node.kubernetes.io/not-ready"

/* The status of the node's Ready condition ("True", "False", "Unknown") or
 * NULL when it has none. Borrowed. */
const char *ctrl_node_ready(const json_t *node);
/* The node's Ready condition's lastHeartbeatTime ("" when none). Borrowed. */
const char *ctrl_node_heartbeat(const json_t *node);
/* New status.conditions for a node whose kubelet stopped posting: each of
 * Ready, MemoryPressure, DiskPressure, PIDPressure becomes Unknown with
 * reason NodeStatusUnknown ("Kubelet stopped posting node status."), or
 * NodeStatusNeverUpdated when absent; lastTransitionTime now_rfc3339 when
 * the status changes. Caller owns the result. */
json_t *ctrl_node_unknown_conditions(const json_t *node, const char *now_rfc3339);
/* spec.taints with taint key:effect added (time_added when given) or, with
 * add false, removed. NULL when nothing changes; else caller owns it. */
json_t *ctrl_node_taints(const json_t *node, const char *key, const char *effect, bool add,
                         const char *time_added);
/* When a NoExecute taint added at taint_time (Unix s) evicts pod: Unix
 * seconds, or -1 for never (a toleration without tolerationSeconds). The
 * delay is the smallest tolerationSeconds of the pod's matching
 * tolerations, capped at max_delay_s (--pod-eviction-timeout); no matching
 * toleration gives max_delay_s too. */
int64_t ctrl_evict_at(const json_t *pod, const json_t *taint, int64_t taint_time,
                      int64_t max_delay_s);

#endif
