/*
 * actors/scheduler/cache_int.h — private to the scheduler: the records of the
 * scheduling cache (cache.c) that the algorithm (schedule.c) reads.
 */
#ifndef ZK_ACTORS_SCHEDULER_CACHE_INT_H
#define ZK_ACTORS_SCHEDULER_CACHE_INT_H

#include <stdint.h>

#include "actors/scheduler/scheduler.h"

#define SCHED_MAX_PORTS 64     /* host ports per pod taken into account */
#define SCHED_NZ_CPU 100       /* milli-cpu assumed for scoring when unset */
#define SCHED_NZ_MEM (200ll << 20) /* bytes assumed for scoring when unset */
#define SCHED_QTY_MAX (1ll << 50)  /* cap of one quantity (1 PiB, 1e12 cores in m) */

typedef struct s_port {
    char ip[48];    /* "0.0.0.0" = every address */
    uint16_t port;
    uint8_t proto;  /* 0 TCP, 1 UDP, 2 SCTP */
    uint8_t pad;
} s_port_t;

/* What a pod needs, parsed once per scheduling attempt; pointers borrowed
 * from the pod object. */
typedef struct s_req {
    int64_t cpu, mem;       /* requests: milli-cpu, bytes */
    int64_t cpu_nz, mem_nz; /* same, with defaults for scoring */
    size_t nports;
    s_port_t ports[SCHED_MAX_PORTS];
    const json_t *selector;    /* spec.nodeSelector */
    const json_t *terms;       /* required node affinity nodeSelectorTerms */
    const json_t *tolerations; /* spec.tolerations */
    const char *owner;         /* uid of the controller ownerReference */
    bool no_preempt;           /* preemptionPolicy Never */
} s_req_t;

typedef struct s_node {
    char *name;
    bool present, ready, unsched;
    int64_t a_cpu, a_mem, a_pods;     /* allocatable */
    int64_t cpu, mem, cpu_nz, mem_nz; /* requested by accounted pods */
    int64_t npods;
    json_t *labels, *taints; /* references, NULL when none */
    s_port_t *ports;         /* host ports in use */
    size_t nports, cap_ports;
} s_node_t;

typedef struct s_pod {
    size_t node; /* index in nodes */
    int64_t cpu, mem, cpu_nz, mem_nz;
    s_port_t *ports;
    size_t nports;
    char *owner;
    bool assumed;
    int64_t assumed_at;
} s_pod_t;

typedef struct s_owner {
    size_t total;
    uint32_t *counts; /* by node index */
    size_t cap;
} s_owner_t;

struct sched_cache {
    s_node_t *nodes; /* never shrinks: a deleted node is only !present */
    size_t nnodes, cap, npresent;
    json_t *node_idx; /* name -> index */
    json_t *pods;     /* "ns/name" -> s_pod_t * (as integer) */
    json_t *owners;   /* uid -> s_owner_t * (as integer) */
    uint64_t rng;
    size_t next_start; /* where the next search starts (percentageOfNodesToScore) */
    size_t *scratch;   /* feasible node indexes */
    int *scores;
    size_t scratch_cap;
};

/* Parses pod's needs into r. 0, or PROTO_EINVALID with a reason in err
 * (err may be NULL) when a request is malformed (r is then zeroed). */
int sched_req_parse(const json_t *pod, s_req_t *r, char *err, size_t errlen);
/* A resource of a ResourceList in milli-units or units; 0 absent, -1 bad. */
int64_t sched_qty(const json_t *map, const char *res, bool milli);
/* Pod counts of an owner by node index (n entries), NULL when none. */
const uint32_t *sched_owner_counts(const sched_cache_t *c, const char *uid, size_t *n);
uint32_t sched_owner_count(const sched_cache_t *c, const char *uid, size_t i);
/* sched_tolerates for a taint given by its parts. */
bool sched_tolerates_kv(const json_t *tol, const char *key, const char *value,
                        const char *effect);

#endif
