/*
 * actors/kubelet — the node agent: registers its Node and heartbeats, runs
 * the pods bound to its node (informer on the node stream "node/N/pods/")
 * through a runtime driver (driver.h), probes their containers, reports pod
 * status as Kubernetes does, and serves their logs (service "kubelet-N",
 * op "logs"). One process may run several hollow nodes (--count).
 *
 * The first part of this header is the public interface (main, logs
 * client, the pure helpers the tests exercise); the second part is shared
 * by the kubelet's own .c files only.
 */
#ifndef ZK_ACTORS_KUBELET_KUBELET_H
#define ZK_ACTORS_KUBELET_KUBELET_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/kubelet/driver.h"
#include "runtime/actor.h"
#include "runtime/informer.h"

/* `zkube kubelet --node NAME [...]`, `zkube kubelet logs ...` (client),
 * `zkube kubelet shim ...` (process-driver container shim). */
int kubelet_main(int argc, char **argv);

/*
 * Logs client (zkubectl logs may reuse it): finds the pod's node through
 * the apiserver and asks kubelet-NODE for the log. q is the `logs` request
 * body ({namespace, name, container, previous, tailLines, sinceSeconds,
 * timestamps}); when follow, polls with the returned offset every 500 ms
 * until the pod is gone or SIGINT. Writes the log to stdout. Returns 0, or
 * the HTTP code of the failure with its message printed to stderr.
 */
int kubelet_logs_client(rt_actor_t *a, const json_t *q, bool follow);

/*
 * Kills every container the process driver runs from state_dir (a node's
 * kubelet/<node>/driver) and forgets them: for `zkube kubelet cleanup`,
 * which `zkube down` runs after stopping the kubelets. Returns how many
 * were running, or a negative code.
 */
int kubelet_process_cleanup(const char *state_dir);

/* ---- pure helpers (unit-tested) ---------------------------------------- */

/* Back-off before restarting a container that has crashed `crashes` times
 * in a row: 0 for the first restart, then 10 s doubling to 5 min. */
int64_t kubelet_backoff_ms(int crashes);
/* A container that ran this long resets its crash count. */
#define KUBELET_BACKOFF_RESET_MS (10 * 60 * 1000)

/* Pod phase from the pod's spec (restartPolicy) and its container statuses
 * (Kubernetes' getPhase): "Pending", "Running", "Succeeded", "Failed". */
const char *kubelet_pod_phase(const json_t *pod, const json_t *init_statuses,
                              const json_t *statuses);

/* The pod's conditions (PodScheduled, Initialized, ContainersReady, Ready),
 * keeping lastTransitionTime from old_conditions when a status is
 * unchanged; now is the RFC 3339 time of this computation. New reference. */
json_t *kubelet_pod_conditions(const json_t *pod, const char *phase, const json_t *init_statuses,
                               const json_t *statuses, const json_t *old_conditions,
                               const char *now);

/* Service environment variables of one Service (Docker-links style, as the
 * kubelet injects): FOO_SERVICE_HOST, FOO_SERVICE_PORT[_NAME], FOO_PORT,
 * FOO_PORT_80_TCP[_PROTO|_PORT|_ADDR]. Appends "K=V" strings to env.
 * Headless and ExternalName services add nothing. */
void kubelet_service_env(json_t *env, const json_t *svc);

/* Lookups for env building: the named object (configmap / secret) in ns,
 * borrowed, or NULL when it does not exist. */
typedef const json_t *(kl_lookup_fn)(void *arg, const char *resource, const char *ns,
                                     const char *name);

/*
 * A container's environment as an array of "K=V": image env, service env
 * (services: array of Service objects of the pod's namespace; may be NULL),
 * envFrom, env (value with $(VAR) expansion, valueFrom fieldRef /
 * configMapKeyRef / secretKeyRef / resourceFieldRef). pod_ip fills
 * status.podIP. Later entries override earlier ones with the same name.
 * 0, or PROTO_ENOTFOUND / PROTO_EINVALID with a Kubernetes-style message
 * in err (`configmap "cfg" not found`); *out new reference on success.
 */
int kubelet_env_build(const json_t *pod, const json_t *ctr, const json_t *image_env,
                      const json_t *services, const char *pod_ip, const char *host_ip,
                      kl_lookup_fn *lookup, void *arg, json_t **out, char *err, size_t errlen);

/* Expands $(VAR) references in s against env ("K=V" array); $$ gives $;
 * unknown references stay as written. Caller frees. */
char *kubelet_expand(const char *s, const json_t *env);

/*
 * Log framing (CRI format): each line is stored as
 *   "<RFC3339Nano> <stdout|stderr> <F|P> <text>\n"
 * (P = partial line, continued by the next record).
 * kubelet_log_frame writes one record for len bytes of text (without the
 * newline) into out (needs len + 64 bytes); returns its length.
 */
size_t kubelet_log_frame(char *out, int64_t wall_ns, const char *stream, bool partial,
                         const char *text, size_t len);

typedef struct kl_log_query {
    bool timestamps;    /* keep the RFC 3339 prefix */
    int64_t tail_lines; /* < 0: all */
    int64_t since_ns;   /* 0: all; else only records at or after this wall time */
    int64_t limit_bytes;/* 0: no limit */
} kl_log_query_t;

/*
 * Renders framed log data (buf, len) for a reader: strips the framing
 * (or keeps the time with timestamps), joins partial records, applies
 * tail/since/limit. Returns a new NUL-terminated string; *outlen its length.
 * Malformed records are passed through as they are.
 */
char *kubelet_log_render(const char *buf, size_t len, const kl_log_query_t *q, size_t *outlen);

/* ---- shared by the kubelet's .c files ---------------------------------- */

#define KL_MAX_NODES 10000
#define KL_NAME_MAX 256
#define KL_LOG_MAX_BYTES (8 << 20) /* one logs reply at most */
#define KL_MAX_STARTS 4 /* container starts in flight per node */

typedef struct kl_opts {
    const char *node;
    const char *driver;       /* runc | process | hollow */
    const char *labels;       /* "k=v,k2=v2" */
    const char *cpu;          /* quantity */
    const char *memory;       /* quantity */
    int max_pods;
    const char *pod_cidr, *cluster_cidr;
    const char *node_ip;
    int count;                /* hollow nodes in this process; 0 = one node named node */
    int heartbeat_s;
    const char *cluster_dns;  /* nameserver for pods' resolv.conf; NULL none */
    const char *cluster_tag;  /* short per-cluster tag (interface, cgroup names) */
} kl_opts_t;

typedef struct kl_kubelet kl_kubelet_t;
typedef struct kl_node kl_node_t;
typedef struct kl_pod kl_pod_t;
typedef struct kl_probe kl_probe_t;

enum { KL_PROBE_LIVENESS = 0, KL_PROBE_READINESS, KL_PROBE_STARTUP, KL_NPROBES };

typedef struct kl_ctr {
    char name[KL_NAME_MAX];
    bool init;
    char id[512];           /* current instance ("" none) */
    int restarts;           /* restartCount */
    int crashes;            /* consecutive, for back-off */
    int64_t backoff_until;  /* monotonic ms; 0 none */
    int64_t started_mono;   /* when the current instance was seen starting */
    kl_status_t st;         /* last polled */
    json_t *state, *last_state; /* Kubernetes container state objects */
    char image[512], image_id[600];
    bool ready, started;
    bool done;              /* init container completed (exit 0) */
    bool exit_seen;         /* the current instance's exit was handled */
    int64_t kill_at;        /* monotonic ms: SIGKILL after (0 none) */
    bool stop_wanted;       /* killed on purpose (liveness / deletion) */
    bool changed;           /* killed because its image changed: restart at once */
    char stop_reason[400];  /* message for lastState after a liveness kill */
    kl_probe_t *probes[KL_NPROBES];
    struct kl_ctr_pending *pending; /* a first start in flight (not started, not polled) */
} kl_ctr_t;

struct kl_pod {
    kl_node_t *n;
    kl_pod_t *next;
    char ns[KL_NAME_MAX], name[KL_NAME_MAX], uid[64];
    char dir[PATH_MAX];
    json_t *pod;            /* latest object from the informer */
    char ip[64];
    bool sandbox;
    char start_time[32];
    kl_ctr_t *ctrs;
    size_t nctrs, ninit;
    json_t *reported;       /* last status written */
    json_t *reported_pending; /* the status write in flight */
    bool status_inflight, status_again;
    bool terminating, killed, finalizing, finalized;
    int64_t kill_at;        /* monotonic ms: SIGKILL after */
    bool gone;              /* informer deleted it; free when idle */
    bool volumes_ready;
    bool mount_warned;      /* a FailedMount event was recorded */
    bool settled;           /* hollow: nothing can change until an event */
};

struct kl_node {
    kl_kubelet_t *k;
    char name[KL_NAME_MAX];
    char dir[PATH_MAX];     /* kubelet/<node> under ZKUBE_HOME */
    char service[KL_NAME_MAX + 16];
    kubelet_driver_t *drv;
    rt_informer_t *inf;
    kl_pod_t *pods;
    json_t *adopt;          /* driver->list at start (containers, sandboxes) */
    bool adopted;           /* orphans cleaned after the first sync */
    bool registered, node_inflight;
    json_t *node_status;    /* last status sent */
    int starts_inflight;    /* container starts in the background (at most KL_MAX_STARTS) */
    bool starts_deferred;   /* a start waited for a free slot */
};

struct kl_kubelet {
    rt_actor_t *a;
    rt_config_t cfg;
    kl_opts_t o;
    char host_ip[64];
    char image_store[PATH_MAX];
    bool hollow;
    kl_node_t **nodes;
    size_t nnodes;
    rt_informer_t *svc_inf, *cm_inf, *secret_inf; /* NULL for hollow */
    json_t *node_info, *resources; /* the machine's, computed once */
    int sync_timer, hb_timer;
};

/* kubelet.c */
int kl_run(const rt_config_t *cfg, const kl_opts_t *o);
kl_node_t *kl_node_find(kl_kubelet_t *k, const char *name);
void kl_node_heartbeat(kl_node_t *n);
json_t *kl_node_object(kl_node_t *n);

/* pods.c */
void kl_pod_upsert(kl_node_t *n, const json_t *pod);
void kl_pod_forget(kl_node_t *n, const json_t *pod);
void kl_pods_sync_all(kl_node_t *n);
void kl_pod_sync(kl_pod_t *p);
kl_pod_t *kl_pod_find(kl_node_t *n, const char *ns, const char *name);
void kl_pods_cleanup_orphans(kl_node_t *n);
/* Syncs pods with a container waiting for a start slot, while slots are free. */
void kl_pods_start_deferred(kl_node_t *n);
void kl_pod_free(kl_pod_t *p);
void kl_ctr_log_path(const kl_pod_t *p, const kl_ctr_t *c, int instance, char *buf, size_t n);

/* containers.c */
void kl_ctr_waiting(kl_ctr_t *c, const char *reason, const char *message);
const json_t *kl_ctr_spec(const kl_pod_t *p, const kl_ctr_t *c);
int kl_ctr_start(kl_pod_t *p, kl_ctr_t *c);
/* A first start: in the background when the driver can (c->pending until
 * the driver reports; then c runs, or waits with RunContainerError and a
 * second's back-off, and p is synced). 0 when started or in flight,
 * -EAGAIN when the caches or the in-flight slots are not ready. */
int kl_ctr_begin(kl_pod_t *p, kl_ctr_t *c);
/* Waits for c's start in flight, if any, to end (pod deletion). */
void kl_ctr_settle(kl_pod_t *p, kl_ctr_t *c);
void kl_ctr_poll(kl_pod_t *p, kl_ctr_t *c);
bool kl_ctr_advance(kl_pod_t *p, kl_ctr_t *c);
void kl_ctr_stop(kl_pod_t *p, kl_ctr_t *c, int64_t grace_s, const char *why);
void kl_ctr_check_spec(kl_pod_t *p, kl_ctr_t *c);

/* events.c: records an Event on p (c: the container it is about, or NULL). */
void kl_event(kl_pod_t *p, const kl_ctr_t *c, const char *type, const char *reason,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* status.c */
void kl_pod_report(kl_pod_t *p);
json_t *kl_ctr_status_json(const kl_pod_t *p, const kl_ctr_t *c);

/* probes.c */
void kl_probes_start(kl_pod_t *p, kl_ctr_t *c);
void kl_probes_stop(kl_ctr_t *c);
void kl_probes_stop_one(kl_ctr_t *c, int kind);
/* Called from probes when liveness fails: kill + restart. */
void kl_ctr_liveness_failed(kl_pod_t *p, kl_ctr_t *c, const char *why);

/* logs.c: serves service kubelet-<node>: op `logs`, and the stream ops (stream.c). */
int kl_logs_serve(kl_node_t *n);

/* exec.c */
/* The argv of body.command (strings borrowed from body; free the array),
 * or NULL with a Status in *err. */
char **kl_exec_argv(const json_t *body, json_t **err);
/* The running container body names (or the pod's first), or NULL with a
 * Status in *err. */
kl_ctr_t *kl_exec_ctr(kl_node_t *n, const json_t *body, json_t **err);

/* stream.c: ops stream.open / stream.io / stream.close (exec with stdin
 * and a terminal, port-forward); takes ownership of *req. */
void kl_stream_handle(kl_node_t *n, rt_req_t **req);
/* Closes every stream of node n (the kubelet is stopping). */
void kl_stream_close_all(kl_node_t *n);

/* driver_process_shim.c */
int kl_shim_main(int argc, char **argv);
/* Start time of pid (clock ticks since boot); 0 when absent or a zombie. */
unsigned long long kl_proc_start(int pid);

/* env.c: base64 (secret data); NULL when malformed; caller frees. */
char *kl_b64dec(const char *in, size_t *outlen);

/* volumes.c: prepares the pod's volume folders (volumes/<kind>/<name>) and
 * its /etc/hosts and resolv.conf; false while a configmap or secret it
 * needs does not exist (a FailedMount event says which). */
bool kl_volumes_prepare(kl_pod_t *p);

/* small helpers (pods.c) */
int kl_mkdirs(const char *path, int mode);

#endif
