/*
 * actors/kubelet/pods.c — pod workers: for each pod bound to this node,
 * desired (the spec from the informer) against actual (the driver's
 * containers). A sync creates the sandbox and volumes, runs init containers
 * one after the other to completion, starts the regular containers,
 * restarts what exited per restartPolicy, and on deletion (deletionTimestamp
 * set by the apiserver) stops everything gracefully — SIGTERM, grace period,
 * SIGKILL — then finishes the deletion with gracePeriodSeconds 0.
 * A new kubelet process adopts the containers its predecessor started.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

int kl_mkdirs(const char *path, int mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST ? -errno : 0;
}

static int s_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

kl_pod_t *kl_pod_find(kl_node_t *n, const char *ns, const char *name)
{
    for (kl_pod_t *p = n->pods; p; p = p->next)
        if (!strcmp(p->ns, ns) && !strcmp(p->name, name))
            return p;
    return NULL;
}

static kl_pod_t *s_find_uid(kl_node_t *n, const char *uid)
{
    for (kl_pod_t *p = n->pods; p; p = p->next)
        if (!strcmp(p->uid, uid))
            return p;
    return NULL;
}

/* ---- creation and adoption ------------------------------------------------ */

static void s_init_ctrs(kl_pod_t *p)
{
    const json_t *inits = proto_obj_get(p->pod, "spec.initContainers");
    const json_t *ctrs = proto_obj_get(p->pod, "spec.containers");
    p->ninit = json_array_size(inits);
    p->nctrs = p->ninit + json_array_size(ctrs);
    p->ctrs = calloc(p->nctrs ? p->nctrs : 1, sizeof *p->ctrs);
    if (!p->ctrs)
        abort();
    for (size_t i = 0; i < p->nctrs; i++) {
        kl_ctr_t *c = &p->ctrs[i];
        const json_t *spec = i < p->ninit ? json_array_get(inits, i)
                                          : json_array_get(ctrs, i - p->ninit);
        c->init = i < p->ninit;
        snprintf(c->name, sizeof c->name, "%s", proto_obj_str(spec, "name") ?: "");
        snprintf(c->image, sizeof c->image, "%s", proto_obj_str(spec, "image") ?: "");
        kl_ctr_waiting(c, c->init || p->ninit == 0 ? "ContainerCreating" : "PodInitializing",
                       NULL);
    }
}

/* The status the apiserver holds for container c (from a previous kubelet). */
static const json_t *s_old_status(const kl_pod_t *p, const kl_ctr_t *c)
{
    const json_t *list = proto_obj_get(p->pod, c->init ? "status.initContainerStatuses"
                                                       : "status.containerStatuses");
    size_t i;
    json_t *st;
    json_array_foreach(list, i, st)
        if (!strcmp(proto_obj_str(st, "name") ?: "", c->name))
            return st;
    return NULL;
}

/* The highest instance of p/c the driver knows of; -1 if none. */
static int s_adoptable(const kl_pod_t *p, const kl_ctr_t *c, char *id, size_t n)
{
    int best = -1;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(p->n->adopt, "containers"), i, x) {
        const char *xid = proto_obj_str(x, "id");
        if (!xid || strcmp(proto_obj_str(x, "pod_uid") ?: "", p->uid) ||
            strcmp(proto_obj_str(x, "name") ?: "", c->name))
            continue;
        const char *dash = strrchr(xid, '-');
        int inst = dash ? atoi(dash + 1) : 0;
        if (inst > best) {
            best = inst;
            snprintf(id, n, "%s", xid);
        }
    }
    return best;
}

static void s_adopt_ctr(kl_pod_t *p, kl_ctr_t *c)
{
    const json_t *old = s_old_status(p, c);
    char id[sizeof c->id];
    int inst = s_adoptable(p, c, id, sizeof id);
    if (c->init && proto_obj_get(old, "state.terminated") &&
        proto_obj_int(old, "state.terminated.exitCode", 1) == 0)
        c->done = true;
    if (old && proto_obj_get(old, "lastState.terminated"))
        c->last_state = json_deep_copy(json_object_get(old, "lastState"));
    if (inst < 0)
        return;
    int64_t rc = proto_obj_int(old, "restartCount", 0);
    c->restarts = inst > rc ? inst : (int)rc;
    snprintf(c->id, sizeof c->id, "%s", id);
    kl_status_t st;
    if (p->n->drv->ops->container_status(p->n->drv, id, &st) == 0 &&
        st.state == KL_STATE_RUNNING) {
        char at[32];
        proto_format_time(st.started_at ? st.started_at : (int64_t)time(NULL), at);
        json_decref(c->state);
        c->state = json_pack("{s:{s:s}}", "running", "startedAt",
                             proto_obj_str(old, "state.running.startedAt") ?: at);
        c->st = st;
        c->started_mono = proto_mono_ms();
        kl_probes_start(p, c);
        rt_info("pod %s/%s: adopted running container %s (%s, restartCount %d)", p->ns, p->name,
                c->name, id, c->restarts);
    }
    /* an exited one is seen exited by the first poll and handled as usual */
}

static kl_pod_t *s_pod_new(kl_node_t *n, const json_t *pod)
{
    kl_pod_t *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->n = n;
    snprintf(p->ns, sizeof p->ns, "%s", proto_obj_ns(pod) ?: "default");
    snprintf(p->name, sizeof p->name, "%s", proto_obj_name(pod) ?: "");
    snprintf(p->uid, sizeof p->uid, "%s", proto_obj_uid(pod) ?: "");
    if (snprintf(p->dir, sizeof p->dir, "%s/pods/%s_%s_%s", n->dir, p->ns, p->name, p->uid) >=
        (int)sizeof p->dir)
        p->dir[0] = '\0';
    p->pod = json_deep_copy(pod);
    const char *st = proto_obj_str(pod, "status.startTime");
    if (st)
        snprintf(p->start_time, sizeof p->start_time, "%s", st);
    else
        proto_now_rfc3339(p->start_time);
    s_init_ctrs(p);
    for (size_t i = 0; i < p->nctrs; i++)
        s_adopt_ctr(p, &p->ctrs[i]);
    p->next = n->pods;
    n->pods = p;
    return p;
}

void kl_pod_free(kl_pod_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nctrs; i++) {
        kl_ctr_settle(p, &p->ctrs[i]);
        kl_probes_stop(&p->ctrs[i]);
        json_decref(p->ctrs[i].state);
        json_decref(p->ctrs[i].last_state);
    }
    free(p->ctrs);
    json_decref(p->pod);
    json_decref(p->reported);
    json_decref(p->reported_pending);
    free(p);
}

static void s_unlink(kl_node_t *n, kl_pod_t *p)
{
    for (kl_pod_t **pp = &n->pods; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

/* Kills and forgets everything of p at once (pod gone from the store). */
static void s_teardown(kl_pod_t *p)
{
    kubelet_driver_t *d = p->n->drv;
    for (size_t i = 0; i < p->nctrs; i++) {
        kl_ctr_t *c = &p->ctrs[i];
        kl_ctr_settle(p, c);
        kl_probes_stop(c);
        if (c->id[0]) {
            d->ops->container_signal(d, c->id, SIGKILL);
            d->ops->container_remove(d, c->id);
        }
    }
    d->ops->sandbox_remove(d, p->uid);
    if (p->dir[0])
        nftw(p->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

void kl_pod_forget(kl_node_t *n, const json_t *pod)
{
    kl_pod_t *p = kl_pod_find(n, proto_obj_ns(pod) ?: "default", proto_obj_name(pod) ?: "");
    if (!p || strcmp(p->uid, proto_obj_uid(pod) ?: ""))
        return;
    rt_info("pod %s/%s: removed", p->ns, p->name);
    s_teardown(p);
    s_unlink(n, p);
    p->gone = true;
    p->finalized = true;
    if (!p->status_inflight)
        kl_pod_free(p);
}

void kl_pod_upsert(kl_node_t *n, const json_t *pod)
{
    const char *ns = proto_obj_ns(pod) ?: "default", *name = proto_obj_name(pod);
    if (!name)
        return;
    kl_pod_t *p = kl_pod_find(n, ns, name);
    if (p && strcmp(p->uid, proto_obj_uid(pod) ?: "")) {
        kl_pod_forget(n, p->pod); /* same name, new pod */
        p = NULL;
    }
    if (!p) {
        p = s_pod_new(n, pod);
    } else {
        json_decref(p->pod);
        p->pod = json_deep_copy(pod);
    }
    kl_pod_sync(p);
}

/* ---- volumes and sandbox -------------------------------------------------- */

static bool s_sandbox(kl_pod_t *p)
{
    if (p->sandbox)
        return true;
    char err[512] = "";
    kl_mkdirs(p->dir, 0755);
    kubelet_driver_t *d = p->n->drv;
    int rc = d->ops->sandbox_create(d, p->pod, p->ip, err, sizeof err);
    if (rc < 0) {
        rt_warn("pod %s/%s: sandbox: %s", p->ns, p->name, err);
        for (size_t i = 0; i < p->nctrs; i++)
            if (!p->ctrs[i].id[0])
                kl_ctr_waiting(&p->ctrs[i], "ContainerCreating", err);
        return false;
    }
    p->sandbox = true;
    return true;
}

/* ---- termination ---------------------------------------------------------- */

static void s_on_deleted(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a;
    (void)body;
    kl_pod_t *p = arg;
    p->status_inflight = false;
    if (code == 200 || code == 404)
        p->finalized = true; /* the informer's DELETED removes it */
    else
        p->finalizing = false; /* try again at the next sync */
    if (p->gone)
        kl_pod_free(p);
}

static void s_finish_delete(kl_pod_t *p)
{
    if (p->finalizing || p->status_inflight)
        return;
    p->finalizing = true;
    p->status_inflight = true; /* one request at a time per pod */
    json_t *body = json_pack("{s:s, s:s, s:s, s:i, s:{s:s}}", "resource", "pods", "namespace",
                             p->ns, "name", p->name, "gracePeriodSeconds", 0, "preconditions",
                             "uid", p->uid);
    if (rt_call(p->n->k->a, "apiserver", "delete", body, NULL, s_on_deleted, p) < 0) {
        p->finalizing = false;
        p->status_inflight = false;
    }
    json_decref(body);
}

static void s_terminate(kl_pod_t *p)
{
    if (!p->terminating) {
        p->terminating = true;
        int64_t grace = proto_obj_int(p->pod, "metadata.deletionGracePeriodSeconds",
                                      proto_obj_int(p->pod, "spec.terminationGracePeriodSeconds",
                                                    30));
        rt_info("pod %s/%s: stopping (grace %llds)", p->ns, p->name, (long long)grace);
        for (size_t i = 0; i < p->nctrs; i++) {
            kl_ctr_settle(p, &p->ctrs[i]); /* a start in flight ends first, then stops */
            kl_ctr_stop(p, &p->ctrs[i], grace, NULL);
        }
    }
    bool running = false;
    for (size_t i = 0; i < p->nctrs; i++) {
        kl_ctr_poll(p, &p->ctrs[i]);
        running |= p->ctrs[i].id[0] && !p->ctrs[i].exit_seen;
    }
    if (running || p->finalizing || p->finalized)
        return;
    s_finish_delete(p);
}

/* ---- the sync ------------------------------------------------------------- */

/* A container's first start (in the background when the driver can); a
 * failure is retried a second later (the waiting reason says why), a cache
 * still loading or all start slots taken at the next tick. */
static void s_first_start(kl_pod_t *p, kl_ctr_t *c)
{
    if (proto_mono_ms() < c->backoff_until)
        return;
    int rc = kl_ctr_begin(p, c);
    if (rc < 0 && rc != -EAGAIN)
        c->backoff_until = proto_mono_ms() + 1000;
}

/* A container's start is in flight. */
static bool s_starting(const kl_pod_t *p)
{
    for (size_t i = 0; i < p->nctrs; i++)
        if (p->ctrs[i].pending)
            return true;
    return false;
}

/* A container not started yet, nor being started. */
static bool s_awaits_start(const kl_pod_t *p)
{
    for (size_t i = 0; i < p->nctrs; i++)
        if (!p->ctrs[i].id[0] && !p->ctrs[i].pending)
            return true;
    return false;
}

/* All start slots are taken: a pod without its sandbox yet waits for one
 * (its sandbox is made when it can start at once, keeping the loop free). */
static bool s_no_slot(kl_pod_t *p)
{
    kl_node_t *n = p->n;
    if (p->sandbox || n->starts_inflight < KL_MAX_STARTS)
        return false;
    n->starts_deferred = true;
    return true;
}

/* Oldest first (n->pods is newest first). */
void kl_pods_start_deferred(kl_node_t *n)
{
    if (!n->starts_deferred)
        return;
    n->starts_deferred = false;
    size_t np = 0, i = 0;
    for (kl_pod_t *p = n->pods; p; p = p->next)
        np += s_awaits_start(p);
    kl_pod_t **v = calloc(np ? np : 1, sizeof *v);
    if (!v)
        abort();
    for (kl_pod_t *p = n->pods; p && i < np; p = p->next)
        if (s_awaits_start(p))
            v[i++] = p;
    while (i > 0 && n->starts_inflight < KL_MAX_STARTS)
        kl_pod_sync(v[--i]);
    if (i > 0)
        n->starts_deferred = true; /* the rest waits for the next free slot */
    free(v);
}

/* Runs init containers in order. true once all have completed. */
static bool s_sync_init(kl_pod_t *p)
{
    for (size_t i = 0; i < p->ninit; i++) {
        kl_ctr_t *c = &p->ctrs[i];
        if (c->done)
            continue;
        if (!c->id[0]) {
            s_first_start(p, c);
            return false;
        }
        kl_ctr_poll(p, c);
        if (c->done)
            continue;
        kl_ctr_advance(p, c);
        return false;
    }
    return true;
}

static void s_sync_main(kl_pod_t *p)
{
    for (size_t i = p->ninit; i < p->nctrs; i++) {
        kl_ctr_t *c = &p->ctrs[i];
        kl_ctr_check_spec(p, c);
        if (!c->id[0]) {
            s_first_start(p, c);
            continue;
        }
        kl_ctr_poll(p, c);
        kl_ctr_advance(p, c);
    }
}

static bool s_init_failed(const kl_pod_t *p)
{
    const char *pol = proto_obj_str(p->pod, "spec.restartPolicy") ?: "Always";
    if (strcmp(pol, "Never"))
        return false;
    for (size_t i = 0; i < p->ninit; i++)
        if (p->ctrs[i].exit_seen && !p->ctrs[i].done)
            return true;
    return false;
}

/* A hollow pod whose containers all run (or are done) changes only when
 * an event comes: the periodic sync skips it. */
static bool s_settled(const kl_pod_t *p)
{
    if (!p->n->k->hollow || p->terminating || p->status_inflight || !p->reported)
        return false;
    for (size_t i = 0; i < p->nctrs; i++)
        if (!p->ctrs[i].id[0] || (p->ctrs[i].exit_seen && !p->ctrs[i].done))
            return false;
    return true;
}

void kl_pod_sync(kl_pod_t *p)
{
    if (p->finalized || p->gone)
        return;
    p->settled = false;
    bool wait_slot = false;
    if (proto_obj_get(p->pod, "metadata.deletionTimestamp")) {
        s_terminate(p);
    } else if ((wait_slot = s_no_slot(p))) {
        ; /* synced again when a start ends (kl_pods_start_deferred) */
    } else if (s_sandbox(p)) {
        if (!p->volumes_ready)
            p->volumes_ready = kl_volumes_prepare(p);
        if (!p->volumes_ready)
            ; /* waits for its configmaps / secrets (FailedMount) */
        else if (s_init_failed(p))
            ; /* Failed for good: nothing more runs */
        else if (s_sync_init(p))
            s_sync_main(p);
    }
    /* the status once the starts have ended, as when they were synchronous
     * (one write, not "ContainerCreating" then "Running") */
    if (!wait_slot && !s_starting(p))
        kl_pod_report(p);
    p->settled = s_settled(p);
}

void kl_pods_sync_all(kl_node_t *n)
{
    for (kl_pod_t *p = n->pods, *next; p; p = next) {
        next = p->next;
        if (!p->settled)
            kl_pod_sync(p);
    }
}

/* After the first list: containers and sandboxes of pods this node no
 * longer runs are removed; the rest was adopted by the pod workers. */
void kl_pods_cleanup_orphans(kl_node_t *n)
{
    kubelet_driver_t *d = n->drv;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(n->adopt, "containers"), i, x) {
        const char *id = proto_obj_str(x, "id");
        kl_pod_t *p = s_find_uid(n, proto_obj_str(x, "pod_uid") ?: "");
        bool current = false;
        for (size_t k = 0; p && k < p->nctrs; k++)
            current |= !strcmp(p->ctrs[k].id, id ?: "");
        if (!id || current)
            continue;
        rt_info("removing container %s (no longer wanted)", id);
        d->ops->container_signal(d, id, SIGKILL);
        d->ops->container_remove(d, id);
    }
    json_array_foreach(json_object_get(n->adopt, "sandboxes"), i, x) {
        const char *uid = proto_obj_str(x, "pod_uid");
        if (uid && !s_find_uid(n, uid))
            d->ops->sandbox_remove(d, uid);
    }
    json_decref(n->adopt);
    n->adopt = NULL;
}
