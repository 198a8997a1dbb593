/*
 * actors/controllers/nodelife.c — the node lifecycle controller. It watches
 * nodes and notes, in its own monotonic clock, when each node's Ready
 * heartbeat (lastHeartbeatTime) last changed — as kube-controller-manager's
 * probeTimestamp, so clock skew between hosts does not matter. A node
 * silent for longer than --node-monitor-grace-period gets Ready=Unknown
 * (reason NodeStatusUnknown) and the taint node.kubernetes.io/unreachable:
 * NoExecute; a node whose kubelet reports Ready=False gets
 * node.kubernetes.io/not-ready:NoExecute. Pods on a node with either taint
 * are deleted (gracePeriodSeconds 0: no kubelet will finish them) once
 * their toleration of it runs out, at most --pod-eviction-timeout after the
 * taint was added, so their controllers recreate them elsewhere. When
 * heartbeats resume, the taints go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/controllers/internal.h"
#include "protocol/obj.h"
#include "runtime/informer.h"
#include "runtime/log.h"

typedef struct s_nl {
    rt_actor_t *a;
    const ctrl_opts_t *o;
    rt_informer_t *nodes, *pods;
    json_t *probes;   /* node -> {hb: lastHeartbeatTime, at: mono ms when it changed} */
    json_t *inflight; /* "node/NAME" or "pod/NS/NAME" -> true while a write runs */
} s_nl_t;

typedef struct s_wctx {
    s_nl_t *nl;
    char what[600];
} s_wctx_t;

static void s_done(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_wctx_t *w = arg;
    if ((code < 200 || code >= 300) && code != 404 && code != 409)
        rt_info("node lifecycle: write for %s failed (%d): %s", w->what, code,
                ctrl_reply_msg(body));
    json_object_del(w->nl->inflight, w->what);
    free(w);
    (void)a;
}

/* Sends op unless a write for `what` is still running. body stolen. */
static void s_write(s_nl_t *nl, const char *what, const char *op, json_t *body)
{
    if (json_object_get(nl->inflight, what)) {
        json_decref(body);
        return;
    }
    s_wctx_t *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->nl = nl;
    snprintf(w->what, sizeof w->what, "%s", what);
    json_object_set_new(nl->inflight, what, json_true());
    ctrl_call(nl->a, op, body, s_done, w);
}

/* A merge patch of node, conditional on its resourceVersion. */
static void s_patch_node(s_nl_t *nl, const json_t *node, const char *sub, json_t *patch)
{
    char what[300];
    snprintf(what, sizeof what, "node/%s", proto_obj_name(node));
    proto_obj_set_str(patch, "metadata.resourceVersion",
                      proto_obj_str(node, "metadata.resourceVersion") ?: "");
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "resource", "nodes", "namespace", "",
                             "name", proto_obj_name(node), "patchType", "merge", "patch", patch);
    if (sub)
        json_object_set_new(body, "subresource", json_string(sub));
    s_write(nl, what, "patch", body);
}

/* True while a write to node is running: its result is not in the cache yet. */
static bool s_busy(const s_nl_t *nl, const json_t *node)
{
    char what[300];
    snprintf(what, sizeof what, "node/%s", proto_obj_name(node));
    return json_object_get(nl->inflight, what) != NULL;
}

static void s_set_taint(s_nl_t *nl, const json_t *node, const char *key, bool add)
{
    char now[32];
    if (s_busy(nl, node))
        return;
    proto_now_rfc3339(now);
    json_t *taints = ctrl_node_taints(node, key, "NoExecute", add, now);
    if (!taints)
        return;
    rt_info("node %s: %s taint %s:NoExecute", proto_obj_name(node), add ? "adding" : "removing",
            key);
    s_patch_node(nl, node, NULL,
                 json_pack("{s:{s:o}}", "spec", "taints",
                           json_array_size(taints) ? taints : (json_decref(taints), json_null())));
}

static void s_mark_unknown(s_nl_t *nl, const json_t *node)
{
    char now[32];
    if (s_busy(nl, node))
        return;
    proto_now_rfc3339(now);
    rt_warn("node %s: no heartbeat for %lld ms: Ready=Unknown", proto_obj_name(node),
            (long long)nl->o->grace_ms);
    s_patch_node(nl, node, "status",
                 json_pack("{s:{s:o}}", "status", "conditions",
                           ctrl_node_unknown_conditions(node, now)));
}

/* ---- eviction ---------------------------------------------------------------------- */

typedef struct s_evict {
    s_nl_t *nl;
    const char *node;
    const json_t *taint;
    int64_t since, now;
} s_evict_t;

static bool s_evict_one(void *arg, const json_t *pod)
{
    s_evict_t *e = arg;
    int64_t at = ctrl_evict_at(pod, e->taint, e->since, e->nl->o->eviction_s);
    if (at < 0 || at > e->now)
        return true;
    char what[600];
    snprintf(what, sizeof what, "pod/%s/%s", proto_obj_ns(pod) ?: "", proto_obj_name(pod) ?: "");
    if (!json_object_get(e->nl->inflight, what))
        rt_info("evicting pod %s/%s from unreachable node %s", proto_obj_ns(pod),
                proto_obj_name(pod), e->node);
    s_write(e->nl, what, "delete",
            json_pack("{s:s, s:s, s:s, s:i, s:{s:s}}", "resource", "pods", "namespace",
                      proto_obj_ns(pod) ?: "", "name", proto_obj_name(pod) ?: "",
                      "gracePeriodSeconds", 0, "preconditions", "uid",
                      proto_obj_uid(pod) ?: ""));
    return true;
}

/* The NoExecute taint this controller manages on node, or NULL. */
static const json_t *s_noexecute(const json_t *node)
{
    size_t i;
    json_t *t;
    json_array_foreach(proto_obj_get(node, "spec.taints"), i, t)
    {
        const char *k = json_string_value(json_object_get(t, "key"));
        const char *e = json_string_value(json_object_get(t, "effect"));
        if (k && e && !strcmp(e, "NoExecute") &&
            (!strcmp(k, CTRL_TAINT_UNREACHABLE) || !strcmp(k, CTRL_TAINT_NOT_READY)))
            return t;
    }
    return NULL;
}

/* probe: the node's entry in nl->probes, which remembers when a taint
 * without timeAdded was first seen. */
static void s_evict(s_nl_t *nl, const json_t *node, const json_t *taint, json_t *probe)
{
    const char *added = json_string_value(json_object_get(taint, "timeAdded"));
    int64_t since = added ? proto_parse_time(added) : -1;
    if (since < 0) {
        if (!json_object_get(probe, "tainted"))
            json_object_set_new(probe, "tainted", json_integer((json_int_t)time(NULL)));
        since = json_integer_value(json_object_get(probe, "tainted"));
    }
    s_evict_t e = {nl, proto_obj_name(node), taint, since, (int64_t)time(NULL)};
    rt_informer_foreach_indexed(nl->pods, e.node, s_evict_one, &e); /* pods by node */
}

/* ---- the monitor ---------------------------------------------------------------------- */

/* The node's probe entry, updated with its current heartbeat. */
static json_t *s_probe(s_nl_t *nl, const json_t *node, int64_t now)
{
    const char *name = proto_obj_name(node), *hb = ctrl_node_heartbeat(node);
    json_t *p = json_object_get(nl->probes, name);
    if (!p || strcmp(json_string_value(json_object_get(p, "hb")) ?: "", hb)) {
        p = json_pack("{s:s, s:I}", "hb", hb, "at", (json_int_t)now);
        json_object_set_new(nl->probes, name, p);
    }
    if (!s_noexecute(node))
        json_object_del(p, "tainted");
    return p;
}

static void s_monitor_one(s_nl_t *nl, const json_t *node, int64_t now)
{
    json_t *p = s_probe(nl, node, now);
    const char *ready = ctrl_node_ready(node);
    bool stale = now - json_integer_value(json_object_get(p, "at")) > nl->o->grace_ms;
    if (stale && (!ready || strcmp(ready, "Unknown"))) {
        s_mark_unknown(nl, node);
        return; /* the taint follows once the status is seen */
    }
    bool unreachable = ready && !strcmp(ready, "Unknown");
    bool not_ready = ready && !strcmp(ready, "False");
    /* one write per node at a time (s_write): the taints move one by one */
    json_t *t1 = ctrl_node_taints(node, CTRL_TAINT_UNREACHABLE, "NoExecute", unreachable, NULL);
    json_t *t2 = ctrl_node_taints(node, CTRL_TAINT_NOT_READY, "NoExecute", not_ready, NULL);
    if (t1)
        s_set_taint(nl, node, CTRL_TAINT_UNREACHABLE, unreachable);
    else if (t2)
        s_set_taint(nl, node, CTRL_TAINT_NOT_READY, not_ready);
    json_decref(t1);
    json_decref(t2);
    const json_t *taint = s_noexecute(node);
    if (taint && (unreachable || not_ready))
        s_evict(nl, node, taint, p);
}

static bool s_monitor_visit(void *arg, const json_t *node)
{
    s_nl_t *nl = arg;
    if (proto_obj_name(node))
        s_monitor_one(nl, node, proto_mono_ms());
    return true;
}

static void s_tick(rt_actor_t *a, void *arg)
{
    s_nl_t *nl = arg;
    (void)a;
    if (rt_informer_synced(nl->nodes) && rt_informer_synced(nl->pods))
        rt_informer_foreach(nl->nodes, NULL, NULL, s_monitor_visit, nl);
}

static void s_node_deleted(void *arg, const json_t *node)
{
    s_nl_t *nl = arg;
    if (proto_obj_name(node))
        json_object_del(nl->probes, proto_obj_name(node));
}

static void s_node_seen(void *arg, const json_t *node)
{
    s_nl_t *nl = arg;
    if (proto_obj_name(node) && rt_informer_synced(nl->pods))
        s_monitor_one(nl, node, proto_mono_ms());
}

static void s_node_updated(void *arg, const json_t *old, const json_t *node)
{
    (void)old;
    s_node_seen(arg, node);
}

int ctrl_nl_run(const rt_config_t *cfg, const ctrl_opts_t *o)
{
    static const rt_informer_handlers_t nh = {s_node_seen, s_node_updated, s_node_deleted, NULL};
    static const rt_informer_handlers_t ph = {NULL, NULL, NULL, NULL};
    s_nl_t nl = {.o = o, .probes = json_object(), .inflight = json_object()};
    char err[256];
    if (rt_actor_open(&nl.a, "controller-node-lifecycle", cfg, err, sizeof err) < 0) {
        rt_err("cannot reach the broker: %s", err);
        json_decref(nl.probes);
        json_decref(nl.inflight);
        return -1;
    }
    /* pods: briefs indexed by node; nodes: what the monitor reads (caches.c);
     * both compact (a node costs one decode per monitor tick) */
    static const rt_informer_opts_t s_pod_opts = {
        .transform = ctrl_nl_pod_brief, .compact = true, .index = ctrl_nl_pod_index};
    static const rt_informer_opts_t s_node_opts = {.transform = ctrl_nl_node_brief,
                                                   .compact = true};
    int rc = rt_informer_new(&nl.nodes, nl.a, "nodes", &s_node_opts, &nh, &nl);
    if (rc == 0)
        rc = rt_informer_new(&nl.pods, nl.a, "pods", &s_pod_opts, &ph, &nl);
    if (rc == 0) {
        rt_timer_add(nl.a, (int)o->monitor_ms, true, s_tick, &nl);
        rt_info("node lifecycle running: grace %lld ms, eviction after %lld s",
                (long long)o->grace_ms, (long long)o->eviction_s);
        rt_run(nl.a);
    } else {
        rt_err("cannot start informers: %d", rc);
    }
    rt_informer_destroy(&nl.pods);
    rt_informer_destroy(&nl.nodes);
    rt_actor_destroy(&nl.a);
    json_decref(nl.probes);
    json_decref(nl.inflight);
    return rc;
}
