/*
 * actors/kubelet/driver_hollow.c — the hollow runtime driver (kubemark's
 * idea): no processes at all. A container is "running" from its start until
 * it is signalled (then it has exited: 0 for SIGTERM, 128+sig otherwise);
 * exec probes succeed. Scale benchmarks run thousands of hollow nodes in one
 * kubelet process. State lives in memory only, so a restarted hollow
 * kubelet starts its pods' containers again.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/driver.h"
#include "protocol/obj.h"
#include "protocol/status.h"

typedef struct s_hollow {
    kubelet_driver_t base;
    unsigned net[3];   /* first three octets of the node's pod CIDR */
    json_t *ctrs;      /* id -> {pod_uid, name, started, finished, exit, sig} */
    json_t *sandboxes; /* pod uid -> ip */
} s_hollow_t;

static int s_sandbox_create(kubelet_driver_t *d, const json_t *pod, char *ip, char *err,
                            size_t errlen)
{
    s_hollow_t *h = (s_hollow_t *)d;
    const char *uid = proto_obj_uid(pod);
    if (!uid) {
        snprintf(err, errlen, "pod has no uid");
        return PROTO_EINVALID;
    }
    /* a stable address per pod inside the node's pod CIDR (nothing ever
     * connects to it: probes of hollow pods succeed without a network) */
    unsigned hash = 5381;
    for (const char *c = uid; *c; c++)
        hash = hash * 33 + (unsigned char)*c;
    snprintf(ip, 64, "%u.%u.%u.%u", h->net[0], h->net[1], h->net[2], hash % 250 + 2);
    json_object_set_new(h->sandboxes, uid, json_string(ip));
    return 0;
}

static int s_sandbox_remove(kubelet_driver_t *d, const char *pod_uid)
{
    s_hollow_t *h = (s_hollow_t *)d;
    json_object_del(h->sandboxes, pod_uid);
    return 0;
}

static int s_container_start(kubelet_driver_t *d, const kl_container_spec_t *spec, char *err,
                             size_t errlen)
{
    s_hollow_t *h = (s_hollow_t *)d;
    if (!spec->id || !*spec->id) {
        snprintf(err, errlen, "container id missing");
        return PROTO_EINVALID;
    }
    json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:i, s:i}", "pod_uid",
                          proto_obj_uid(spec->pod) ?: "", "name",
                          proto_obj_str(spec->container, "name") ?: "", "started",
                          (json_int_t)time(NULL), "finished", (json_int_t)0, "exit", 0, "sig", 0);
    json_object_set_new(h->ctrs, spec->id, c);
    return 0;
}

static int s_container_status(kubelet_driver_t *d, const char *id, kl_status_t *st)
{
    s_hollow_t *h = (s_hollow_t *)d;
    json_t *c = json_object_get(h->ctrs, id);
    memset(st, 0, sizeof *st);
    if (!c)
        return PROTO_ENOTFOUND;
    st->started_at = proto_obj_int(c, "started", 0);
    st->finished_at = proto_obj_int(c, "finished", 0);
    st->exit_code = (int)proto_obj_int(c, "exit", 0);
    st->signal = (int)proto_obj_int(c, "sig", 0);
    st->state = st->finished_at ? KL_STATE_EXITED : KL_STATE_RUNNING;
    st->pid = 0;
    if (st->state == KL_STATE_EXITED)
        snprintf(st->reason, sizeof st->reason, "%s", st->exit_code ? "Error" : "Completed");
    return 0;
}

static int s_container_signal(kubelet_driver_t *d, const char *id, int sig)
{
    s_hollow_t *h = (s_hollow_t *)d;
    json_t *c = json_object_get(h->ctrs, id);
    if (!c)
        return PROTO_ENOTFOUND;
    if (sig == 0 || proto_obj_int(c, "finished", 0))
        return 0;
    json_object_set_new(c, "finished", json_integer((json_int_t)time(NULL)));
    json_object_set_new(c, "exit", json_integer(sig == SIGTERM ? 0 : 128 + sig));
    json_object_set_new(c, "sig", json_integer(sig));
    return 0;
}

static int s_container_remove(kubelet_driver_t *d, const char *id)
{
    s_hollow_t *h = (s_hollow_t *)d;
    json_object_del(h->ctrs, id);
    return 0;
}

static int s_container_exec(kubelet_driver_t *d, const char *id, char *const argv[],
                            int timeout_ms, int *exit_code, char *output, size_t outlen)
{
    s_hollow_t *h = (s_hollow_t *)d;
    if (!json_object_get(h->ctrs, id))
        return PROTO_ENOTFOUND;
    *exit_code = 0;
    if (output && outlen)
        output[0] = '\0';
    return 0;
}

/* A hollow container has no processes: the command "runs" and exits 0 at
 * once, with no output. */
static int s_container_exec_start(kubelet_driver_t *d, const char *id, char *const argv[],
                                  const int fds[3], bool tty, kl_exec_t *x, char *err,
                                  size_t errlen)
{
    s_hollow_t *h = (s_hollow_t *)d;
    (void)argv;
    (void)fds;
    (void)tty;
    *x = (kl_exec_t){.pid = -1};
    if (!json_object_get(h->ctrs, id)) {
        snprintf(err, errlen, "container is not running");
        return PROTO_ENOTFOUND;
    }
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -errno;
    }
    x->pid = pid;
    return 0;
}

static int s_list(kubelet_driver_t *d, json_t **out)
{
    s_hollow_t *h = (s_hollow_t *)d;
    json_t *ctrs = json_array(), *sbs = json_array(), *c;
    const char *id;
    json_object_foreach(h->ctrs, id, c) {
        json_array_append_new(
            ctrs, json_pack("{s:s, s:O, s:O, s:s}", "id", id, "pod_uid",
                            json_object_get(c, "pod_uid"), "name", json_object_get(c, "name"),
                            "state", proto_obj_int(c, "finished", 0) ? "exited" : "running"));
    }
    json_object_foreach(h->sandboxes, id, c)
        json_array_append_new(sbs, json_pack("{s:s, s:O}", "pod_uid", id, "ip", c));
    *out = json_pack("{s:o, s:o}", "containers", ctrs, "sandboxes", sbs);
    return 0;
}

static void s_destroy(kubelet_driver_t **d)
{
    if (!d || !*d)
        return;
    s_hollow_t *h = (s_hollow_t *)*d;
    json_decref(h->ctrs);
    json_decref(h->sandboxes);
    free(h);
    *d = NULL;
}

static const kubelet_driver_ops_t s_ops = {
    .name = "hollow",
    .sandbox_create = s_sandbox_create,
    .sandbox_remove = s_sandbox_remove,
    .container_start = s_container_start,
    .container_status = s_container_status,
    .container_signal = s_container_signal,
    .container_remove = s_container_remove,
    .container_exec = s_container_exec,
    .container_exec_start = s_container_exec_start,
    .list = s_list,
    .destroy = s_destroy,
};

int kubelet_driver_hollow(kubelet_driver_t **out, const kl_driver_config_t *cfg, char *err,
                          size_t errlen)
{
    (void)err;
    (void)errlen;
    s_hollow_t *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    unsigned a = 10, b = 244, c = 0, len = 24;
    if (cfg && cfg->pod_cidr &&
        sscanf(cfg->pod_cidr, "%u.%u.%u.%*u/%u", &a, &b, &c, &len) == 4 && a < 256 && b < 256 &&
        c < 256 && len <= 24) {
        h->net[0] = a, h->net[1] = b, h->net[2] = c;
    } else {
        h->net[0] = 10, h->net[1] = 244, h->net[2] = 0;
    }
    h->base.ops = &s_ops;
    h->ctrs = json_object();
    h->sandboxes = json_object();
    *out = &h->base;
    return 0;
}
