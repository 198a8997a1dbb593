/*
 * actors/scheduler/watch.c — what the scheduler does with what it watches:
 * nodes (runtime informer) and pods (podwatch.c) keep the scheduling cache
 * true to the store, confirm or contradict assumed bindings, and decide
 * which pods wait for placement. A node that is added or changes in a way
 * that matters, and a bound pod that goes away, send the pods in back-off
 * back to the active queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/scheduler/sched_int.h"
#include "protocol/obj.h"
#include "runtime/log.h"

static json_t *s_node_slim(void *arg, const json_t *node)
{
    (void)arg;
    return sched_node_slim(node);
}

static void s_node_added(void *arg, const json_t *node)
{
    sched_t *s = arg;
    if (sched_cache_node_set(s->cache, node))
        sched_move_all(s);
}

static void s_node_updated(void *arg, const json_t *old, const json_t *node)
{
    (void)old;
    s_node_added(arg, node);
}

static void s_node_deleted(void *arg, const json_t *node)
{
    sched_t *s = arg;
    const char *name = proto_obj_name(node);
    if (name)
        sched_cache_node_del(s->cache, name);
}

static bool s_terminal(const json_t *pod)
{
    const char *phase = proto_obj_str(pod, "status.phase");
    return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
}

static void s_key(const json_t *pod, char *key, size_t n)
{
    snprintf(key, n, "%s/%s", proto_obj_ns(pod) ?: "", proto_obj_name(pod) ?: "");
}

/* A pod with spec.nodeName: account it (confirming an assumption), unless it
 * has finished, which frees its resources. */
static void s_pod_bound(sched_t *s, const json_t *pod, const char *node)
{
    const char *ns = proto_obj_ns(pod), *name = proto_obj_name(pod);
    bool assumed;
    const char *on = sched_cache_pod_node(s->cache, ns, name, &assumed);
    if (s_terminal(pod)) {
        if (on) {
            sched_cache_pod_del(s->cache, ns, name);
            sched_move_all(s);
        }
        return;
    }
    if (!on || assumed || strcmp(on, node) != 0)
        sched_cache_pod_set(s->cache, pod, node, false);
}

static void s_pod_seen(void *arg, const json_t *pod)
{
    sched_t *s = arg;
    char key[600];
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (!proto_obj_name(pod))
        return;
    s_key(pod, key, sizeof key);
    if (node && *node) {
        s_pod_bound(s, pod, node);
        return;
    }
    /* unbound: an assumed pod waits for its binding to show up */
    if (sched_cache_pod_node(s->cache, proto_obj_ns(pod), proto_obj_name(pod), NULL))
        return;
    if (sched_pod_wants_scheduling(pod, s->name)) {
        if (!json_object_get(s->items, key))
            sched_enqueue(s, key);
    }
}

static void s_pod_deleted(void *arg, const json_t *pod)
{
    sched_t *s = arg;
    if (!proto_obj_name(pod))
        return;
    char key[600];
    s_key(pod, key, sizeof key);
    sched_forget(s, key);
    if (sched_cache_pod_del(s->cache, proto_obj_ns(pod), proto_obj_name(pod)))
        sched_move_all(s);
}

static void s_synced(void *arg)
{
    sched_t *s = arg;
    if (s->pods && sched_pw_synced(s->pods) && rt_informer_synced(s->nodes)) {
        rt_debug("caches synced: %zu nodes, %zu pods", sched_cache_node_count(s->cache),
                 sched_pw_count(s->pods));
        sched_move_all(s);
        sched_kick(s);
    }
}

int sched_informers_start(sched_t *s)
{
    static const rt_informer_handlers_t nh = {s_node_added, s_node_updated, s_node_deleted,
                                              s_synced};
    static const sched_pw_handlers_t ph = {s_pod_seen, s_pod_deleted, s_synced};
    /* nodes are parsed into the scheduling cache on every change; the
     * informer only keeps what that parse reads, compactly */
    static const rt_informer_opts_t nopts = {.transform = s_node_slim, .compact = true};
    int rc = rt_informer_new(&s->nodes, s->a, "nodes", &nopts, &nh, s);
    if (rc == 0)
        rc = sched_pw_new(&s->pods, s->a, s->name, &ph, s);
    if (rc < 0)
        rt_err("cannot start informers: %d", rc);
    return rc;
}

void sched_informers_stop(sched_t *s)
{
    sched_pw_destroy(&s->pods);
    rt_informer_destroy(&s->nodes);
}
