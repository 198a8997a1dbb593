/*
 * actors/scheduler/sched_int.h — private to the scheduler actor: its state
 * and the functions its files (sched.c, watch.c, report.c, main.c) share.
 */
#ifndef ZK_ACTORS_SCHEDULER_SCHED_INT_H
#define ZK_ACTORS_SCHEDULER_SCHED_INT_H

#include <stdint.h>
#include <unistd.h>

#include "actors/scheduler/scheduler.h"
#include "runtime/actor.h"
#include "runtime/config.h"
#include "runtime/informer.h"

/* The FailedScheduling event last written for a pod: a repeat of the same
 * message bumps its count instead of creating another (as client-go's event
 * correlator does). */
#define SCHED_MAX_EVENTS_INFLIGHT 128 /* event writes in flight; more are dropped */

typedef struct sched_evstate {
    char name[300]; /* "" = none yet */
    char *msg;      /* owned */
    int count;
} sched_evstate_t;

/* The pod stream (podwatch.c): a compact informer on all pods, keeping
 * whole only the pods waiting for a node (others as sched_pod_slim). */
typedef struct sched_pw sched_pw_t;
typedef struct sched_pw_handlers {
    void (*seen)(void *arg, const json_t *pod);    /* added or changed (borrowed) */
    void (*deleted)(void *arg, const json_t *pod); /* the pod, or {metadata: {name, namespace}} */
    void (*synced)(void *arg);                     /* after every (re)list */
} sched_pw_handlers_t;

/* Starts the stream (one per process: -EBUSY for a second). name is the
 * scheduler name that says which pods wait (sched_pod_wants_scheduling).
 * Handlers get the pod as cached: whole while it waits, else slim. */
int sched_pw_new(sched_pw_t **out, rt_actor_t *a, const char *name, const sched_pw_handlers_t *h,
                 void *arg);
void sched_pw_destroy(sched_pw_t **pw);
void sched_pw_relist(sched_pw_t *pw);
bool sched_pw_synced(const sched_pw_t *pw);
/* A waiting pod, borrowed until the next dispatch of the loop; NULL for an
 * unknown pod or one that does not wait for a node. */
const json_t *sched_pw_get(const sched_pw_t *pw, const char *ns, const char *name);
size_t sched_pw_count(const sched_pw_t *pw);
uint64_t sched_pw_relists(const sched_pw_t *pw);

typedef struct sched {
    rt_actor_t *a;
    rt_informer_t *nodes;
    sched_pw_t *pods;
    sched_cache_t *cache;
    char name[64];       /* spec.schedulerName served */
    json_t *items;       /* "ns/name" -> queue item (pointer as integer) */
    char **active;       /* FIFO of keys: active[ahead..alen) */
    size_t ahead, alen, acap;
    size_t inflight;     /* binds awaiting their reply */
    int kick_timer;      /* pending drain, 0 = none */
    int64_t last_expire, last_busy;
    bool worked;         /* busy since the last malloc_trim */
    bool move_pending;   /* sched_move_all asked, done at the next drain */
    size_t ev_inflight;  /* event writes awaiting their reply */
    uint64_t bound, unschedulable, ev_dropped;
} sched_t;

/* Runs the actor until SIGTERM. 0, or -1 when the broker cannot be reached. */
int sched_run(const rt_config_t *cfg, const char *name);
/* Queues ns/name ("ns/name") for placement (no-op while its bind is in flight). */
void sched_enqueue(sched_t *s, const char *key);
/* Drains the active queue from the loop soon. */
void sched_kick(sched_t *s);
/* Drops ns/name from the queues (not while its bind is in flight). */
void sched_forget(sched_t *s, const char *key);
/* Moves every pod in back-off to the active queue (a node or pod changed). */
void sched_move_all(sched_t *s);
/* Starts / stops the node and pod informers (watch.c). */
int sched_informers_start(sched_t *s);
void sched_informers_stop(sched_t *s);
/* FailedScheduling event + PodScheduled=False for pod with msg (report.c). */
void sched_report_unschedulable(sched_t *s, const json_t *pod, const char *msg,
                                sched_evstate_t *ev);
/* Normal Event "Scheduled" (`Successfully assigned NS/NAME to NODE`); uid
 * may be NULL. Dropped when too many event writes are in flight. */
void sched_report_scheduled(sched_t *s, const char *ns, const char *name, const char *uid,
                            const char *node);

#endif
