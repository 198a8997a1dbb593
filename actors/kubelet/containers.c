/*
 * actors/kubelet/containers.c — one container of a pod worker: start (image,
 * environment, log file, driver), poll its state, and decide restarts by
 * restartPolicy with exponential back-off (CrashLoopBackOff). States are
 * kept as the Kubernetes JSON the status reports (waiting / running /
 * terminated, lastState). A first start runs in the background when the
 * driver can (runc: the shim's report pipe is watched by the actor loop),
 * at most KL_MAX_STARTS at a time per node, so a burst of pods does not
 * wait behind one `runc run` after another.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/image.h"
#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

int64_t kubelet_backoff_ms(int crashes)
{
    if (crashes <= 0)
        return 0;
    int64_t ms = 10000;
    for (int i = 1; i < crashes && ms < 300000; i++)
        ms *= 2;
    return ms < 300000 ? ms : 300000;
}

void kl_ctr_log_path(const kl_pod_t *p, const kl_ctr_t *c, int instance, char *buf, size_t n)
{
    if (snprintf(buf, n, "%s/%s/%d.log", p->dir, c->name, instance) >= (int)n)
        buf[0] = '\0';
}

static void s_set_state(kl_ctr_t *c, json_t *state)
{
    json_decref(c->state);
    c->state = state;
}

void kl_ctr_waiting(kl_ctr_t *c, const char *reason, const char *message)
{
    json_t *w = json_pack("{s:s}", "reason", reason);
    if (message && *message)
        json_object_set_new(w, "message", json_string(message));
    s_set_state(c, json_pack("{s:o}", "waiting", w));
}

/* A waiting state that is an error: recorded as a Warning Event when the
 * reason is new (retries every sync must not flood the store). */
static void s_fail(kl_pod_t *p, kl_ctr_t *c, const char *reason, const char *event_reason,
                   const char *message)
{
    const char *old = proto_obj_str(c->state, "waiting.reason");
    if (!old || strcmp(old, reason))
        kl_event(p, c, "Warning", event_reason, "%s%s", strcmp(event_reason, "Failed") ? "" :
                 "Error: ", message);
    kl_ctr_waiting(c, reason, message);
}

/* The container's spec within the pod. Borrowed. */
const json_t *kl_ctr_spec(const kl_pod_t *p, const kl_ctr_t *c)
{
    const json_t *list = proto_obj_get(p->pod, c->init ? "spec.initContainers" : "spec.containers");
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
        if (!strcmp(proto_obj_str(x, "name") ?: "", c->name))
            return x;
    return NULL;
}

/* ---- lookups for env ------------------------------------------------------ */

static const json_t *s_lookup(void *arg, const char *resource, const char *ns, const char *name)
{
    kl_kubelet_t *k = arg;
    rt_informer_t *inf = !strcmp(resource, "secrets") ? k->secret_inf : k->cm_inf;
    return inf ? rt_informer_get(inf, ns, name) : NULL;
}

static bool s_collect(void *arg, const json_t *obj)
{
    json_array_append((json_t *)arg, (json_t *)obj);
    return true;
}

static int s_env(kl_pod_t *p, const json_t *spec, const json_t *icfg, json_t **env, char *err,
                 size_t errlen)
{
    kl_kubelet_t *k = p->n->k;
    json_t *svcs = json_array();
    if (k->svc_inf)
        rt_informer_foreach(k->svc_inf, p->ns, NULL, s_collect, svcs);
    int rc = kubelet_env_build(p->pod, spec, json_object_get(icfg, "env"), svcs, p->ip,
                               k->host_ip, s_lookup, k, env, err, errlen);
    json_decref(svcs);
    return rc;
}

/* ---- starting ------------------------------------------------------------- */

static int s_image(kl_pod_t *p, kl_ctr_t *c, char *rootfs, size_t n, json_t **icfg)
{
    kl_kubelet_t *k = p->n->k;
    *icfg = NULL;
    rootfs[0] = '\0';
    char norm[512];
    if (kubelet_image_normalize(c->image, norm, sizeof norm) < 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "Failed to apply default image tag \"%s\": invalid reference "
                 "format", c->image);
        s_fail(p, c, "InvalidImageName", "InspectFailed", msg);
        return PROTO_EINVALID;
    }
    snprintf(c->image_id, sizeof c->image_id, "zkube-image://%s", norm);
    if (k->hollow) {
        *icfg = json_object();
        return 0;
    }
    int rc = kubelet_image_resolve(k->image_store, c->image, rootfs, n, icfg);
    if (rc < 0) {
        char msg[700];
        snprintf(msg, sizeof msg,
                 "Container image \"%s\" is not present with pull policy of Never", c->image);
        s_fail(p, c, "ErrImageNeverPull", "ErrImageNeverPull", msg);
        return rc;
    }
    kl_event(p, c, "Normal", "Pulled", "Container image \"%s\" already present on machine",
             c->image);
    if (!*icfg)
        *icfg = json_object();
    return 0;
}

static char **s_strv(const json_t *arr)
{
    size_t n = json_array_size(arr);
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++)
        v[i] = (char *)json_string_value(json_array_get(arr, i));
    return v;
}

static void s_started(kl_pod_t *p, kl_ctr_t *c, const char *id)
{
    snprintf(c->id, sizeof c->id, "%s", id);
    char now[32];
    proto_now_rfc3339(now);
    s_set_state(c, json_pack("{s:{s:s}}", "running", "startedAt", now));
    c->started_mono = proto_mono_ms();
    c->exit_seen = false;
    c->kill_at = 0;
    c->stop_wanted = false;
    c->changed = false;
    c->stop_reason[0] = '\0';
    memset(&c->st, 0, sizeof c->st);
    c->st.state = KL_STATE_RUNNING;
    kl_probes_start(p, c);
}

static void s_start_failed(kl_pod_t *p, kl_ctr_t *c, int rc, const char *err)
{
    rt_warn("pod %s/%s: container %s: start: %s", p->ns, p->name, c->name, err);
    s_fail(p, c, "RunContainerError", "Failed", err[0] ? err : proto_strerror(rc));
}

/* Starts the driver's container: at once, or in the background into st
 * (not NULL) when the driver can. */
static int s_start_driver(kl_pod_t *p, kl_ctr_t *c, const json_t *spec, const char *rootfs,
                          const json_t *icfg, const json_t *env, const char *id, kl_start_t *st)
{
    char log[PATH_MAX + 600], cdir[PATH_MAX + 300], vols[PATH_MAX + 16], hosts[PATH_MAX + 16];
    char resolv[PATH_MAX + 16], err[512] = "";
    snprintf(cdir, sizeof cdir, "%s/%s", p->dir, c->name);
    kl_mkdirs(cdir, 0755);
    kl_ctr_log_path(p, c, c->restarts, log, sizeof log);
    snprintf(vols, sizeof vols, "%s/volumes", p->dir);
    snprintf(hosts, sizeof hosts, "%s/etc-hosts", p->dir);
    snprintf(resolv, sizeof resolv, "%s/resolv.conf", p->dir);
    char **envv = s_strv(env);
    kl_container_spec_t cs = {.pod = p->pod, .container = spec, .id = id, .rootfs = rootfs,
                              .image_config = icfg, .env = envv, .log_path = log,
                              .volumes_dir = vols, .hosts_path = hosts, .resolv_path = resolv};
    kubelet_driver_t *d = p->n->drv;
    d->ops->container_remove(d, id); /* a leftover of the same id (failed start) */
    int rc = st ? d->ops->container_start_async(d, &cs, st, err, sizeof err)
                : d->ops->container_start(d, &cs, err, sizeof err);
    free(envv);
    if (rc < 0)
        s_start_failed(p, c, rc, err);
    return rc;
}

/* Services, configmaps and secrets have been read once (as Kubernetes, a
 * container's environment is not built from a cache still loading). */
static bool s_env_ready(const kl_kubelet_t *k)
{
    return k->hollow || (rt_informer_synced(k->svc_inf) && rt_informer_synced(k->cm_inf) &&
                         rt_informer_synced(k->secret_inf));
}

static void s_on_started(kl_pod_t *p, kl_ctr_t *c, const char *id)
{
    s_started(p, c, id);
    kl_event(p, c, "Normal", "Created", "Created container %s", c->name);
    kl_event(p, c, "Normal", "Started", "Started container %s", c->name);
}

/* ---- starts in the background --------------------------------------------- */

typedef struct kl_ctr_pending {
    kl_start_t st;
    kl_pod_t *p;
    kl_ctr_t *c;
} kl_ctr_pending_t;

/* The driver has reported on c's start (rc as container_start_poll). */
static void s_finish(kl_ctr_pending_t *w, int rc, const char *err)
{
    kl_pod_t *p = w->p;
    kl_ctr_t *c = w->c;
    rt_fd_remove(p->n->k->a, w->st.fd);
    close(w->st.fd);
    c->pending = NULL;
    p->n->starts_inflight--;
    if (rc == 0) {
        s_on_started(p, c, w->st.id);
    } else {
        s_start_failed(p, c, rc, err);
        c->backoff_until = proto_mono_ms() + 1000; /* as a failed first start */
    }
    free(w);
}

static void s_on_report(rt_actor_t *a, int fd, short revents, void *arg)
{
    (void)a;
    (void)fd;
    (void)revents;
    kl_ctr_pending_t *w = arg;
    kl_pod_t *p = w->p;
    kubelet_driver_t *d = p->n->drv;
    char err[512] = "";
    int rc = d->ops->container_start_poll(d, &w->st, 0, err, sizeof err);
    if (rc == -EAGAIN)
        return;
    s_finish(w, rc, err);
    kl_pod_sync(p);
    kl_pods_start_deferred(p->n);
}

void kl_ctr_settle(kl_pod_t *p, kl_ctr_t *c)
{
    kl_ctr_pending_t *w = c->pending;
    if (!w)
        return;
    kubelet_driver_t *d = p->n->drv;
    char err[512] = "";
    int rc;
    while ((rc = d->ops->container_start_poll(d, &w->st, 1000, err, sizeof err)) == -EAGAIN)
        ;
    s_finish(w, rc, err);
}

/* Starts instance c->restarts of c (into w when given). 0, -EAGAIN when
 * the caches are not ready yet, or < 0 with c's waiting state set. */
static int s_ctr_start(kl_pod_t *p, kl_ctr_t *c, kl_ctr_pending_t *w)
{
    const json_t *spec = kl_ctr_spec(p, c);
    if (!spec)
        return PROTO_EINVALID;
    if (!s_env_ready(p->n->k))
        return -EAGAIN;
    char rootfs[PATH_MAX], err[512] = "", id[sizeof c->id];
    json_t *icfg = NULL, *env = NULL;
    int rc = s_image(p, c, rootfs, sizeof rootfs, &icfg);
    if (rc == 0 && !p->n->k->hollow) {
        rc = s_env(p, spec, icfg, &env, err, sizeof err);
        if (rc < 0)
            s_fail(p, c, "CreateContainerConfigError", "Failed", err);
    }
    if (rc == 0) {
        snprintf(id, sizeof id, "%s-%s-%d", p->uid, c->name, c->restarts);
        rc = s_start_driver(p, c, spec, rootfs[0] ? rootfs : NULL, icfg, env, id,
                            w ? &w->st : NULL);
    }
    if (rc == 0 && !w)
        s_on_started(p, c, id);
    json_decref(icfg);
    json_decref(env);
    return rc;
}

/* A restart: at once, as Kubernetes reports it (restartCount, lastState). */
int kl_ctr_start(kl_pod_t *p, kl_ctr_t *c)
{
    return s_ctr_start(p, c, NULL);
}

int kl_ctr_begin(kl_pod_t *p, kl_ctr_t *c)
{
    const kubelet_driver_ops_t *ops = p->n->drv->ops;
    if (c->pending) { /* its report is awaited: only a deadline can end it here */
        char err[512] = "";
        int rc = ops->container_start_poll(p->n->drv, &c->pending->st, 0, err, sizeof err);
        if (rc != -EAGAIN)
            s_finish(c->pending, rc, err);
        return rc == -EAGAIN ? 0 : rc;
    }
    if (!ops->container_start_async || !ops->container_start_poll)
        return s_ctr_start(p, c, NULL);
    if (p->n->starts_inflight >= KL_MAX_STARTS) {
        p->n->starts_deferred = true;
        return -EAGAIN;
    }
    kl_ctr_pending_t *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->p = p;
    w->c = c;
    int rc = s_ctr_start(p, c, w);
    if (rc < 0) {
        free(w);
        return rc;
    }
    c->pending = w;
    p->n->starts_inflight++;
    if (rt_fd_add(p->n->k->a, w->st.fd, POLLIN, s_on_report, w) < 0)
        kl_ctr_settle(p, c); /* cannot watch it: wait for it here */
    return 0;
}

/* ---- polling and exits ---------------------------------------------------- */

static json_t *s_terminated(const kl_ctr_t *c, const kl_status_t *st)
{
    char fin[32], cid[600];
    proto_format_time(st->finished_at ? st->finished_at : (int64_t)time(NULL), fin);
    const char *started = proto_obj_str(c->state, "running.startedAt") ?: fin;
    const char *reason = st->reason[0] ? st->reason : (st->exit_code ? "Error" : "Completed");
    snprintf(cid, sizeof cid, "zkube://%s", c->id);
    json_t *t = json_pack("{s:i, s:s, s:s, s:s, s:s}", "exitCode", st->exit_code, "reason",
                          reason, "startedAt", started, "finishedAt", fin, "containerID", cid);
    if (st->signal)
        json_object_set_new(t, "signal", json_integer(st->signal));
    if (c->stop_reason[0])
        json_object_set_new(t, "message", json_string(c->stop_reason));
    return json_pack("{s:o}", "terminated", t);
}

static bool s_should_restart(const kl_pod_t *p, const kl_ctr_t *c, int exit_code)
{
    const char *pol = proto_obj_str(p->pod, "spec.restartPolicy") ?: "Always";
    if (c->changed)
        return true;
    if (c->init) /* init containers rerun on failure unless Never */
        return exit_code != 0 && strcmp(pol, "Never") != 0;
    return !strcmp(pol, "Always") || (!strcmp(pol, "OnFailure") && exit_code != 0);
}

/* The current instance has exited: record it and plan a restart. */
static void s_on_exit(kl_pod_t *p, kl_ctr_t *c)
{
    c->exit_seen = true;
    c->ready = false;
    c->started = false;
    kl_probes_stop(c);
    s_set_state(c, s_terminated(c, &c->st));
    rt_info("pod %s/%s: container %s exited with %d", p->ns, p->name, c->name, c->st.exit_code);
    if (c->init && c->st.exit_code == 0)
        c->done = true;
    if (!s_should_restart(p, c, c->st.exit_code))
        return;
    if (c->changed) {
        c->backoff_until = 0; /* not a crash */
        return;
    }
    if (c->started_mono && proto_mono_ms() - c->started_mono >= KUBELET_BACKOFF_RESET_MS)
        c->crashes = 0;
    c->backoff_until = proto_mono_ms() + kubelet_backoff_ms(c->crashes);
    c->crashes++;
}

/* Polls the driver; handles a new exit and a pending SIGKILL. */
void kl_ctr_poll(kl_pod_t *p, kl_ctr_t *c)
{
    if (!c->id[0] || c->exit_seen)
        return;
    kubelet_driver_t *d = p->n->drv;
    kl_status_t st;
    int rc = d->ops->container_status(d, c->id, &st);
    if (rc == PROTO_ENOTFOUND) {
        memset(&st, 0, sizeof st);
        st.state = KL_STATE_EXITED;
        st.exit_code = 137;
        snprintf(st.reason, sizeof st.reason, "ContainerStatusUnknown");
        snprintf(c->stop_reason, sizeof c->stop_reason,
                 "The container could not be located when the pod was terminated");
    } else if (rc < 0) {
        return;
    }
    c->st = st;
    if (st.state == KL_STATE_EXITED) {
        s_on_exit(p, c);
        return;
    }
    if (c->kill_at && proto_mono_ms() >= c->kill_at) {
        d->ops->container_signal(d, c->id, SIGKILL);
        c->kill_at = 0;
    }
}

/* Advances an exited container: restart when its back-off has passed,
 * else report CrashLoopBackOff. true when it is (again) running. */
bool kl_ctr_advance(kl_pod_t *p, kl_ctr_t *c)
{
    if (!c->exit_seen)
        return c->id[0] != 0;
    int code = (int)proto_obj_int(c->state, "terminated.exitCode", c->st.exit_code);
    if (!proto_obj_get(c->state, "terminated") && !proto_obj_get(c->state, "waiting"))
        return false;
    if (!s_should_restart(p, c, code) || (c->init && c->done))
        return false;
    if (proto_obj_get(c->state, "terminated")) {
        json_decref(c->last_state);
        c->last_state = json_incref(c->state);
    }
    if (proto_mono_ms() < c->backoff_until) {
        char msg[1024];
        snprintf(msg, sizeof msg, "back-off %llds restarting failed container=%s pod=%s_%s(%s)",
                 (long long)(kubelet_backoff_ms(c->crashes - 1) / 1000), c->name, p->name, p->ns,
                 p->uid);
        if (!proto_obj_get(c->state, "waiting"))
            kl_event(p, c, "Warning", "BackOff",
                     "Back-off restarting failed container %s in pod %s_%s(%s)", c->name,
                     p->name, p->ns, p->uid);
        kl_ctr_waiting(c, "CrashLoopBackOff", msg);
        return false;
    }
    char old[sizeof c->id], path[PATH_MAX + 600];
    snprintf(old, sizeof old, "%s", c->id);
    c->restarts++;
    int rc = kl_ctr_start(p, c);
    if (rc < 0) {
        c->restarts--; /* the instance never ran */
        if (rc != -EAGAIN)
            c->backoff_until = proto_mono_ms() + kubelet_backoff_ms(c->crashes++);
        return false;
    }
    p->n->drv->ops->container_remove(p->n->drv, old);
    if (c->restarts >= 2) { /* keep the current and the previous log */
        kl_ctr_log_path(p, c, c->restarts - 2, path, sizeof path);
        unlink(path);
    }
    return true;
}

/* Asks a running container to stop: SIGTERM now, SIGKILL after grace_s. */
void kl_ctr_stop(kl_pod_t *p, kl_ctr_t *c, int64_t grace_s, const char *why)
{
    if (!c->id[0] || c->exit_seen)
        return;
    kubelet_driver_t *d = p->n->drv;
    c->stop_wanted = true;
    if (why)
        snprintf(c->stop_reason, sizeof c->stop_reason, "%s", why);
    kl_probes_stop(c);
    if (why)
        kl_event(p, c, "Normal", "Killing", "%s", why);
    else
        kl_event(p, c, "Normal", "Killing", "Stopping container %s", c->name);
    if (grace_s <= 0) {
        d->ops->container_signal(d, c->id, SIGKILL);
        return;
    }
    d->ops->container_signal(d, c->id, SIGTERM);
    c->kill_at = proto_mono_ms() + grace_s * 1000;
}

/* The pod's spec now names another image (the only mutable field of a
 * container): the running instance is replaced, as Kubernetes does. */
void kl_ctr_check_spec(kl_pod_t *p, kl_ctr_t *c)
{
    const char *img = proto_obj_str(kl_ctr_spec(p, c), "image");
    if (!img || !strcmp(img, c->image))
        return;
    snprintf(c->image, sizeof c->image, "%s", img);
    if (!c->id[0] || c->exit_seen)
        return;
    char msg[400];
    snprintf(msg, sizeof msg, "Container %s definition changed, will be restarted", c->name);
    rt_info("pod %s/%s: %s", p->ns, p->name, msg);
    c->changed = true;
    kl_ctr_stop(p, c, proto_obj_int(p->pod, "spec.terminationGracePeriodSeconds", 30), msg);
}

void kl_ctr_liveness_failed(kl_pod_t *p, kl_ctr_t *c, const char *why)
{
    char msg[400];
    snprintf(msg, sizeof msg, "Container %s failed liveness probe, will be restarted", c->name);
    rt_info("pod %s/%s: %s: %s", p->ns, p->name, msg, why);
    kl_ctr_stop(p, c, proto_obj_int(p->pod, "spec.terminationGracePeriodSeconds", 30), msg);
}
