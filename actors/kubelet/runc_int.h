/*
 * actors/kubelet/runc_int — the runc driver's private state, shared by its
 * sandbox half (driver_runc.c) and its container half (runc_container.c).
 */
#ifndef ZK_ACTORS_KUBELET_RUNC_INT_H
#define ZK_ACTORS_KUBELET_RUNC_INT_H

#include <limits.h>

#include "actors/kubelet/runc.h"

typedef struct kl_runc {
    kubelet_driver_t base;
    char node[256];
    char dir[1024]; /* state_dir */
    char tag[16];
    char runc[256];
    char ip[256];
    kl_cidr_t pod, cluster;
    char bridge[16];
    long nofile;
} kl_runc_t;

/* "<dir>/<sub>/<name>[/<file>]" into buf; false when it does not fit. */
bool kubelet_runc_path(const kl_runc_t *d, const char *sub, const char *name, const char *file,
                       char *buf, size_t n);
/* An id / uid usable in paths and runc: [A-Za-z0-9_.-]{1,200}, not "." or "..". */
bool kubelet_runc_id_ok(const char *id);
/* Writes a JSON object to path atomically (tmp + rename). */
int kubelet_runc_save_json(const char *path, const json_t *obj);
/* Reads a small JSON object; NULL if absent or bad. Caller owns. */
json_t *kubelet_runc_load_json(const char *path);

/* Container operations (runc_container.c). */
int kubelet_runc_container_start(kubelet_driver_t *drv, const kl_container_spec_t *spec, char *err,
                                 size_t errlen);
int kubelet_runc_container_start_async(kubelet_driver_t *drv, const kl_container_spec_t *spec,
                                       kl_start_t *st, char *err, size_t errlen);
int kubelet_runc_container_start_poll(kubelet_driver_t *drv, kl_start_t *st, int wait_ms,
                                      char *err, size_t errlen);
int kubelet_runc_container_status(kubelet_driver_t *drv, const char *id, kl_status_t *st);
int kubelet_runc_container_signal(kubelet_driver_t *drv, const char *id, int sig);
int kubelet_runc_container_remove(kubelet_driver_t *drv, const char *id);
int kubelet_runc_container_exec(kubelet_driver_t *drv, const char *id, char *const argv[],
                                int timeout_ms, int *exit_code, char *output, size_t outlen);
int kubelet_runc_container_exec_start(kubelet_driver_t *drv, const char *id, char *const argv[],
                                      const int fds[3], bool tty, kl_exec_t *x, char *err,
                                      size_t errlen);
/* The state word of kl_state_t for list(): "created", "running", … */
const char *kubelet_runc_state_name(kl_state_t s);

#endif
