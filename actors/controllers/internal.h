/*
 * actors/controllers/internal.h — what the controller actors share: their
 * entry points (one per KIND of `zkube controller KIND`), the options of
 * the command line, and small helpers for keys and writes.
 */
#ifndef ZK_ACTORS_CONTROLLERS_INTERNAL_H
#define ZK_ACTORS_CONTROLLERS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/controllers/controllers.h"
#include "runtime/actor.h"
#include "runtime/config.h"

typedef struct ctrl_opts {
    int64_t grace_ms;      /* --node-monitor-grace-period (default 40 s) */
    int64_t eviction_s;    /* --pod-eviction-timeout (default 300 s) */
    int64_t monitor_ms;    /* --node-monitor-period (default 1 s) */
    int64_t resync_ms;     /* --resync-period (default 30 s) */
} ctrl_opts_t;

/* Each runs its actor until SIGTERM; 0 or < 0 when it could not start. */
int ctrl_rm_run(const rt_config_t *cfg, bool is_rc, const ctrl_opts_t *o);
int ctrl_gc_run(const rt_config_t *cfg, const ctrl_opts_t *o);
int ctrl_nl_run(const rt_config_t *cfg, const ctrl_opts_t *o);

/* ---- caches.c: what each controller keeps of what it watches -------------------- */

/* Informer transforms (see rt_informer_opts_t.transform). The replica
 * manager's pod: metadata {name, namespace, uid, resourceVersion,
 * creationTimestamp, deletionTimestamp, labels, ownerReferences},
 * spec.nodeName, status {phase, the Ready condition {type, status,
 * lastTransitionTime}, containerStatuses [{restartCount: the highest}]}. */
json_t *ctrl_rm_pod_brief(void *arg, const json_t *pod);
/* The garbage collector's object: metadata {name, namespace, uid,
 * resourceVersion, deletionTimestamp, ownerReferences, finalizers}. */
json_t *ctrl_gc_brief(void *arg, const json_t *obj);
/* The node lifecycle's pod: metadata {name, namespace, uid,
 * resourceVersion}, spec {nodeName, tolerations}; its node: metadata
 * {name, uid, resourceVersion}, spec.taints, status.conditions. */
json_t *ctrl_nl_pod_brief(void *arg, const json_t *pod);
json_t *ctrl_nl_node_brief(void *arg, const json_t *node);

/* Informer indexes (rt_informer_opts_t.index). Replica manager: a pod with
 * a controller is under ctrl_rm_index_key(ns, its uid), an orphan under
 * ctrl_rm_index_key(ns, NULL). Garbage collector: "u:<uid>" for the
 * object, "d:<uid>" for each of its owners. Node lifecycle: the node name. */
void ctrl_rm_pod_index(void *arg, const json_t *pod, void (*add)(void *ctx, const char *value),
                       void *ctx);
void ctrl_rm_index_key(char *buf, size_t n, const char *ns, const char *uid);
void ctrl_gc_index(void *arg, const json_t *obj, void (*add)(void *ctx, const char *value),
                   void *ctx);
void ctrl_nl_pod_index(void *arg, const json_t *pod, void (*add)(void *ctx, const char *value),
                       void *ctx);

/* "ns/name" of obj into buf. */
void ctrl_key_of(const json_t *obj, char *buf, size_t n);
/* Splits "ns/name" (at the first '/') into ns and name; -1 when malformed. */
int ctrl_key_split(const char *key, char *ns, size_t nsn, char *name, size_t namen);
/* Sends op with body (stolen) to the apiserver, retried with the same
 * request id (the apiserver's reply cache makes that safe). cb may be NULL;
 * otherwise it runs exactly once (with 500 when the request cannot be sent). */
int ctrl_call(rt_actor_t *a, const char *op, json_t *body, rt_reply_fn *cb, void *arg);
/* The message of a Status reply, or "". */
const char *ctrl_reply_msg(const json_t *body);

#endif
