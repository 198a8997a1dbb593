/*
 * actors/kubelet/runc — the pieces of the runc driver (driver.h's
 * kubelet_driver_runc): running helper commands, the OCI config, the pod
 * network (bridge, veth, file-based IPAM), cgroups and the per-container
 * shim. Exported for the driver's own files, for tests, and for the
 * cluster-wide cleanup that `zkube down` needs.
 *
 * State under the driver's state_dir (per node):
 *   runc/                     runc --root
 *   ipam/<ip>                 one file per allocated pod IP, holding the pod uid
 *   sandboxes/<pod uid>/      sandbox.json, ns/{net,ipc,uts} (bind-mounted ns files)
 *   containers/<id>/          config.json, rootfs/ (overlay), upper/, work/,
 *                             meta.json, pid, shim.pid, exit, runc.log
 */
#ifndef ZK_ACTORS_KUBELET_RUNC_H
#define ZK_ACTORS_KUBELET_RUNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/kubelet/driver.h"

/* ---- commands (runc_cmd.c) --------------------------------------------------- */

/*
 * Runs argv (argv[0] an absolute path or a name searched in PATH), never
 * through a shell. netns: a network namespace file to enter first, or
 * NULL. input: text for its stdin (at most 32 KiB), or NULL for
 * /dev/null. Its stdout+stderr are captured into out (up to outlen-1 bytes,
 * NUL-terminated; may be NULL). *status (may be NULL) gets the exit status
 * (128+signal when killed). Returns 0 when it exited 0, -EIO when it
 * exited otherwise, -ETIMEDOUT (after SIGKILL) past timeout_ms, or -errno.
 */
int kubelet_runc_cmd(char *const argv[], const char *netns, const char *input, int timeout_ms,
                     char *out, size_t outlen, int *status);
/* As kubelet_runc_cmd; on failure writes "`argv…` failed (exit N): output"
 * into err. */
int kubelet_runc_cmd_err(char *const argv[], const char *netns, const char *input, int timeout_ms,
                         char *err, size_t errlen);
/* Finds an executable in PATH, then /usr/sbin:/sbin:/usr/bin:/bin.
 * 0 or -ENOENT. */
int kubelet_runc_which(const char *name, char *out, size_t n);
/* Removes a directory tree without crossing into other mounts. 0 or -errno. */
int kubelet_runc_rmtree(const char *path);

/* ---- network (net.c) --------------------------------------------------------- */

typedef struct kl_cidr {
    uint32_t net; /* host byte order, host bits cleared */
    int prefix;   /* 0..32 */
} kl_cidr_t;

/* "10.123.1.0/24" → cidr. PROTO_EINVALID when malformed or host bits set. */
int kubelet_net_parse_cidr(const char *s, kl_cidr_t *out);
/* Dotted quad of a host-order address into buf (16 bytes). */
void kubelet_net_ntoa(uint32_t a, char buf[16]);

/* Interface names (≤ 15 chars) that are unique per cluster tag and node
 * (bridge: from the node's pod CIDR) or pod (veth: from its IP). */
void kubelet_net_bridge_name(const char *tag, const kl_cidr_t *pod_cidr, char out[16]);
void kubelet_net_veth_name(const char *tag, uint32_t ip, char out[16]);

/*
 * File-based IPAM over a pod CIDR (prefix ≤ 30): the first address is the
 * gateway, the last the broadcast; the rest are handed out round-robin,
 * one file per address in dir (created if missing), holding owner (a pod
 * uid). Allocation is idempotent per owner and survives restarts.
 * alloc: 0, -ENOSPC when full, PROTO_EINVALID for a bad owner, -errno.
 */
int kubelet_ipam_alloc(const char *dir, const kl_cidr_t *c, const char *owner, uint32_t *ip);
/* The address held by owner: 0 or PROTO_ENOTFOUND. */
int kubelet_ipam_find(const char *dir, const char *owner, uint32_t *ip);
/* Releases every address held by owner; 0 also when it held none. */
int kubelet_ipam_release(const char *dir, const char *owner);

/* Node network: bridge with the gateway address, ip_forward, and an
 * unreachable route for the cluster CIDR. Idempotent. */
int kubelet_net_node_up(const char *ip_bin, const char *bridge, const kl_cidr_t *pod,
                        const kl_cidr_t *cluster, char *err, size_t errlen);
/* Removes the bridge and the unreachable route (absent is fine). */
int kubelet_net_node_down(const char *ip_bin, const char *bridge, const kl_cidr_t *cluster);
/* Wires a pod network namespace: veth (host end on the bridge, pod end eth0
 * with ip), lo up, default route via the gateway. */
int kubelet_net_pod_up(const char *ip_bin, const char *netns, const char *bridge, const char *veth,
                       const kl_cidr_t *pod, uint32_t ip, char *err, size_t errlen);
/* Deletes the pod's host veth (and so its pair); absent is fine. */
int kubelet_net_pod_down(const char *ip_bin, const char *veth);

/* ---- cgroups (cgroup.c) ------------------------------------------------------ */

/* cgroupsPath of a container: "/zkube-<tag>/pod<uid>/<id>". */
void kubelet_cg_path(const char *tag, const char *pod_uid, const char *id, char *out, size_t n);
/* Removes /zkube-<tag>/pod<uid> (pod_uid NULL: all of /zkube-<tag>) in
 * every cgroup hierarchy; they must hold no process. 0 or the first -errno. */
int kubelet_cg_remove(const char *tag, const char *pod_uid);
/* True when no directory of /zkube-<tag> is left in any hierarchy. */
bool kubelet_cg_gone(const char *tag);
/* The file that counts OOM kills of a cgroupsPath (v1 memory.oom_control
 * or v2 memory.events) into out. */
void kubelet_cg_oom_file(const char *cg_path, char *out, size_t n);
/* The oom_kill count in such a file, 0 when unreadable. */
long kubelet_cg_oom_count(const char *file);

/* ---- OCI config (oci.c) ------------------------------------------------------ */

typedef struct kl_oci_in {
    const kl_container_spec_t *spec;
    const char *root_path; /* the container's (mounted) root filesystem */
    const char *netns;     /* pod namespace files, NULL to use the host's */
    const char *ipcns;
    const char *utsns;
    const char *hostname; /* NULL: the pod's name */
    const char *cgroups_path;
    long nofile; /* RLIMIT_NOFILE, soft = hard */
} kl_oci_in_t;

/*
 * The OCI runtime config (config.json) of one container, as described in
 * driver_runc.c's header. *out is new (caller owns). PROTO_EINVALID with
 * err for a container that cannot run (no command, bad volume mount, bad
 * quantity…).
 */
int kubelet_oci_config(const kl_oci_in_t *in, json_t **out, char *err, size_t errlen);
/* The process args as Kubernetes combines command/args with the image's
 * entrypoint/cmd, with $(VAR) references expanded from env. New array. */
int kubelet_oci_args(const json_t *container, const json_t *image_config, char *const *env,
                     json_t **out, char *err, size_t errlen);

/* ---- shim (runc_shim.c) ------------------------------------------------------ */

typedef struct kl_shim_args {
    char *const *create_argv; /* runc … create (or run --detach) --bundle B --pid-file P ID */
    char *const *start_argv;  /* runc … start ID, or NULL after run --detach */
    const char *pid_path;     /* the pid file runc create writes */
    const char *exit_path;    /* where the exit record goes */
    const char *oom_file;     /* kubelet_cg_oom_file of the container, or NULL */
    int log_fd;               /* the container's stdout and stderr */
} kl_shim_args_t;

/*
 * Starts a shim: a double-forked process (its own session, a child
 * subreaper) that runs create_argv (+ start_argv), reports, then waits for
 * the container's init and writes "exit_code signal finished_at oom" to
 * exit_path. It outlives the caller, so exit codes survive a kubelet
 * restart. *fd gets the read end of the shim's report pipe (non-blocking,
 * close-on-exec; the caller closes it), read with kubelet_runc_shim_read.
 */
int kubelet_runc_shim_begin(const kl_shim_args_t *a, int *fd);
/* Reads the shim's report (waiting at most wait_ms for more) into buf
 * (cap bytes, *used so far): 0 once the container has started, with
 * *shim_pid and *pid its shim's and its own host pids; -EAGAIN while the
 * report is incomplete; a negative code with err when the start failed. */
int kubelet_runc_shim_read(int fd, char *buf, size_t cap, size_t *used, int wait_ms,
                           int *shim_pid, int *pid, char *err, size_t errlen);

/* ---- driver-wide ------------------------------------------------------------- */

/*
 * Removes everything the runc driver of cfg created: containers (killed),
 * sandboxes, IPs, the bridge and route, cgroups, and state_dir's runc
 * state. For `zkube down` and tests; not called by the kubelet's normal
 * shutdown (containers outlive a kubelet restart).
 */
int kubelet_runc_cleanup(const kl_driver_config_t *cfg, char *err, size_t errlen);
/* `zkube runc-cleanup --state-dir D --node N --pod-cidr C --cluster-cidr C
 * --cluster-tag T`: kubelet_runc_cleanup from the command line. */
int kubelet_runc_cleanup_main(int argc, char **argv);

#endif
