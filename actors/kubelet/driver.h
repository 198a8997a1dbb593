/*
 * actors/kubelet/driver — the container runtime interface of the kubelet.
 * Three drivers implement it: runc (real OCI containers, pod network
 * namespaces), process (plain child processes, no root needed) and hollow
 * (no processes at all, for scale tests). The kubelet's pod workers speak
 * only this interface.
 *
 * A pod has one sandbox (its network/IPC/UTS namespaces and IP); each
 * container runs inside it. Every call is synchronous and quick (no call
 * waits for a container to exit; a driver may start containers in the
 * background, container_start_async); the kubelet polls container_state.
 * All functions return 0 or a negative code (-errno, PROTO_E*), with a
 * human reason in err where given.
 */
#ifndef ZK_ACTORS_KUBELET_DRIVER_H
#define ZK_ACTORS_KUBELET_DRIVER_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct kubelet_driver kubelet_driver_t;

typedef enum {
    KL_STATE_CREATED = 1, /* exists, not started */
    KL_STATE_RUNNING,
    KL_STATE_EXITED,
    KL_STATE_UNKNOWN,
} kl_state_t;

typedef struct kl_status {
    kl_state_t state;
    int pid;              /* host pid of the container's main process, 0 if none */
    int exit_code;        /* valid when EXITED; 128+signal when killed */
    int signal;           /* the signal that ended it, 0 if none */
    int64_t started_at;   /* Unix seconds, 0 if never started */
    int64_t finished_at;  /* Unix seconds, 0 if not exited */
    char reason[64];      /* "Completed", "Error", "OOMKilled" … when exited */
} kl_status_t;

/* What a driver needs to start one container. Borrowed for the call. */
typedef struct kl_container_spec {
    const json_t *pod;       /* the whole Pod object */
    const json_t *container; /* the container's spec within the pod */
    const char *id;          /* the container id chosen by the kubelet: "<pod uid>-<name>-<n>" */
    const char *rootfs;      /* the image's root filesystem (directory), read-only */
    const json_t *image_config; /* the image's config: {entrypoint:[], cmd:[], env:[], workdir} */
    char *const *env;        /* resolved environment "K=V", NULL-terminated (service vars, env, envFrom) */
    const char *log_path;    /* append the container's stdout and stderr here */
    const char *volumes_dir; /* the pod's volume directory (emptyDir/<name>, …) */
    const char *hosts_path;  /* file to bind at /etc/hosts */
    const char *resolv_path; /* file to bind at /etc/resolv.conf */
} kl_container_spec_t;

/* A container start in flight (container_start_async). The caller owns it
 * and closes fd once container_start_poll has returned other than -EAGAIN. */
typedef struct kl_start {
    int fd;              /* readable when the start may have progressed; -1 none */
    char id[512];        /* the container's id */
    char buf[512];       /* the driver's progress */
    size_t used;
    int64_t deadline_ms; /* proto_mono_ms after which the start has failed */
} kl_start_t;

/* A command started by container_exec_start. */
typedef struct kl_exec {
    pid_t pid;               /* the process to wait for (a child of the caller) */
    bool group;              /* pid leads its own process group */
    char pidfile[PATH_MAX];  /* where the command's own pid is written ("" none) */
} kl_exec_t;

typedef struct kubelet_driver_ops {
    const char *name; /* "runc", "process", "hollow" */
    /* Creates the pod sandbox; writes its IP ("" when the pod uses the host
     * network) into ip (at least 64 bytes). Idempotent for an existing sandbox. */
    int (*sandbox_create)(kubelet_driver_t *d, const json_t *pod, char *ip, char *err,
                          size_t errlen);
    /* Removes the sandbox and everything in it (containers must be stopped). */
    int (*sandbox_remove)(kubelet_driver_t *d, const char *pod_uid);
    /* Creates and starts a container in the pod's sandbox. */
    int (*container_start)(kubelet_driver_t *d, const kl_container_spec_t *spec, char *err,
                           size_t errlen);
    /* Optional (NULL: container_start only). Begins what container_start
     * does and returns at once: 0 with st->fd to watch, or a negative code
     * with err (nothing left to clean up). */
    int (*container_start_async)(kubelet_driver_t *d, const kl_container_spec_t *spec,
                                 kl_start_t *st, char *err, size_t errlen);
    /* Advances st, waiting at most wait_ms: 0 when the container has
     * started, -EAGAIN while in flight, else the start failed (err says
     * why; the container is removed) — also once st->deadline_ms passed. */
    int (*container_start_poll)(kubelet_driver_t *d, kl_start_t *st, int wait_ms, char *err,
                                size_t errlen);
    int (*container_status)(kubelet_driver_t *d, const char *id, kl_status_t *st);
    /* Sends a signal to the container's main process. */
    int (*container_signal)(kubelet_driver_t *d, const char *id, int sig);
    /* Forgets an exited container (its log file stays). */
    int (*container_remove)(kubelet_driver_t *d, const char *id);
    /* Runs argv inside the container's namespaces (exec probes, kubectl exec),
     * waiting at most timeout_ms; *exit_code gets its status; output (may be
     * NULL) gets up to outlen-1 bytes of its stdout+stderr. */
    int (*container_exec)(kubelet_driver_t *d, const char *id, char *const argv[],
                          int timeout_ms, int *exit_code, char *output, size_t outlen);
    /* Starts argv inside the container's namespaces and returns at once
     * (the kubelet's exec streams): its stdin, stdout and stderr are
     * fds[0..2] (duplicated; the caller closes its own). With tty, fds are
     * the slave of a terminal the caller made, which becomes the
     * command's controlling terminal. x->pid is the process to wait for:
     * its exit status is the command's. 0, or a negative code with a
     * reason in err. */
    int (*container_exec_start)(kubelet_driver_t *d, const char *id, char *const argv[],
                                const int fds[3], bool tty, kl_exec_t *x, char *err,
                                size_t errlen);
    /* The ids of every container and sandbox this driver knows of, including
     * ones started by a previous kubelet process (adoption):
     * {"containers": [{id, pod_uid, name, state}], "sandboxes": [{pod_uid, ip}]}. */
    int (*list)(kubelet_driver_t *d, json_t **out);
    void (*destroy)(kubelet_driver_t **d);
} kubelet_driver_ops_t;

struct kubelet_driver {
    const kubelet_driver_ops_t *ops;
};

typedef struct kl_driver_config {
    const char *node;        /* node name */
    const char *state_dir;   /* driver state under ZKUBE_HOME (per node) */
    const char *pod_cidr;    /* this node's pod CIDR ("10.123.1.0/24") */
    const char *cluster_cidr;/* all nodes' pod CIDRs ("10.123.0.0/16") */
    const char *cluster_tag; /* short per-cluster tag for interface and cgroup names */
} kl_driver_config_t;

/* In a child forked for container_exec_start: a new session; fds[0..2]
 * (fds[0] -1: /dev/null) become stdin, stdout and stderr, the terminal
 * the controlling one with tty; other descriptors closed, signals reset.
 * 0, or -1 (the child should exit). */
int kl_exec_child_setup(const int fds[3], bool tty);

/* Constructors; each returns 0 or a negative code with err. */
int kubelet_driver_runc(kubelet_driver_t **out, const kl_driver_config_t *cfg, char *err,
                        size_t errlen);
int kubelet_driver_process(kubelet_driver_t **out, const kl_driver_config_t *cfg, char *err,
                           size_t errlen);
int kubelet_driver_hollow(kubelet_driver_t **out, const kl_driver_config_t *cfg, char *err,
                          size_t errlen);

#endif
