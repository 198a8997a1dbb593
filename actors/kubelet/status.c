/*
 * actors/kubelet/status.c — pod status as Kubernetes reports it: phase
 * (getPhase's rules), conditions with lastTransitionTime kept while a
 * condition holds, container statuses, IPs and start time; written to the
 * `status` subresource only when it changed, one write in flight per pod.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

/* ---- phase ---------------------------------------------------------------- */

static const char *s_policy(const json_t *pod)
{
    return proto_obj_str(pod, "spec.restartPolicy") ?: "Always";
}

/* Exit code of a terminated state, or of lastState when waiting to
 * restart; -1 when the container has not terminated. */
static int s_term_code(const json_t *st)
{
    json_t *t = proto_obj_get(st, "state.terminated");
    if (!t && proto_obj_get(st, "state.waiting"))
        t = proto_obj_get(st, "lastState.terminated");
    return t ? (int)proto_obj_int(t, "exitCode", 0) : -1;
}

/* 1 when every init container completed, 0 when some are still due,
 * -1 when one failed for good (restartPolicy Never). */
static int s_init_state(const json_t *pod, const json_t *init_statuses)
{
    size_t want = json_array_size(proto_obj_get(pod, "spec.initContainers"));
    bool never = !strcmp(s_policy(pod), "Never");
    size_t done = 0, i;
    json_t *st;
    json_array_foreach(init_statuses, i, st) {
        int code = s_term_code(st);
        if (proto_obj_get(st, "state.terminated") && code == 0)
            done++;
        else if (code > 0 && never)
            return -1;
    }
    return done >= want ? 1 : 0;
}

const char *kubelet_pod_phase(const json_t *pod, const json_t *init_statuses,
                              const json_t *statuses)
{
    int init = s_init_state(pod, init_statuses);
    if (init < 0)
        return "Failed";
    if (init == 0)
        return "Pending";
    size_t want = json_array_size(proto_obj_get(pod, "spec.containers"));
    int running = 0, waiting = 0, stopped = 0, succeeded = 0, unknown = 0;
    size_t i;
    json_t *st;
    json_array_foreach(statuses, i, st) {
        if (proto_obj_get(st, "state.running")) {
            running++;
        } else if (proto_obj_get(st, "state.terminated") ||
                   (proto_obj_get(st, "state.waiting") &&
                    proto_obj_get(st, "lastState.terminated"))) {
            stopped++;
            succeeded += s_term_code(st) == 0;
        } else if (proto_obj_get(st, "state.waiting")) {
            waiting++;
        } else {
            unknown++;
        }
    }
    if (json_array_size(statuses) < want)
        waiting += (int)(want - json_array_size(statuses));
    if (waiting > 0)
        return "Pending";
    if (running > 0 && unknown == 0)
        return "Running";
    if (running == 0 && stopped > 0 && unknown == 0) {
        const char *pol = s_policy(pod);
        if (!strcmp(pol, "Always"))
            return "Running";
        if (stopped == succeeded)
            return "Succeeded";
        if (!strcmp(pol, "Never"))
            return "Failed";
        return "Running";
    }
    return "Pending";
}

/* ---- conditions ----------------------------------------------------------- */

static json_t *s_cond(const char *type, bool ok, const char *reason, const char *message,
                      const json_t *old_conditions, const char *now)
{
    const char *status = ok ? "True" : "False";
    const char *since = now;
    size_t i;
    json_t *oc;
    json_array_foreach(old_conditions, i, oc) {
        if (!strcmp(proto_obj_str(oc, "type") ?: "", type) &&
            !strcmp(proto_obj_str(oc, "status") ?: "", status) &&
            proto_obj_str(oc, "lastTransitionTime"))
            since = proto_obj_str(oc, "lastTransitionTime");
    }
    json_t *c = json_pack("{s:s, s:s, s:n, s:s}", "type", type, "status", status,
                          "lastProbeTime", "lastTransitionTime", since);
    if (reason)
        json_object_set_new(c, "reason", json_string(reason));
    if (message)
        json_object_set_new(c, "message", json_string(message));
    return c;
}

/* Names of the statuses failing pred, as "[a b]"; empty when none. */
static void s_names(const json_t *statuses, bool (*pred)(const json_t *), char *out, size_t n)
{
    size_t i, len = 0;
    json_t *st;
    out[0] = '\0';
    json_array_foreach(statuses, i, st) {
        if (pred(st))
            continue;
        int w = snprintf(out + len, n - len, "%s%s", len ? " " : "[",
                         proto_obj_str(st, "name") ?: "");
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
    }
    if (len && len + 1 < n)
        snprintf(out + len, n - len, "]");
}

static bool s_is_ready(const json_t *st)
{
    return json_is_true(json_object_get(st, "ready"));
}

static bool s_is_done(const json_t *st)
{
    return proto_obj_get(st, "state.terminated") && s_term_code(st) == 0;
}

json_t *kubelet_pod_conditions(const json_t *pod, const char *phase, const json_t *init_statuses,
                               const json_t *statuses, const json_t *old_conditions,
                               const char *now)
{
    json_t *conds = json_array();
    char names[1024], msg[1200];
    bool inited = s_init_state(pod, init_statuses) == 1;
    s_names(init_statuses, s_is_done, names, sizeof names);
    snprintf(msg, sizeof msg, "containers with incomplete status: %s", names);
    json_array_append_new(conds, s_cond("Initialized", inited,
                                        inited ? NULL : "ContainersNotInitialized",
                                        inited ? NULL : msg, old_conditions, now));
    bool completed = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
    s_names(statuses, s_is_ready, names, sizeof names);
    bool ready = !completed && names[0] == '\0' &&
                 json_array_size(statuses) ==
                     json_array_size(proto_obj_get(pod, "spec.containers"));
    snprintf(msg, sizeof msg, "containers with unready status: %s", names);
    const char *reason = completed ? "PodCompleted" : "ContainersNotReady";
    json_array_append_new(conds, s_cond("Ready", ready, ready ? NULL : reason,
                                        ready || completed ? NULL : msg, old_conditions, now));
    json_array_append_new(conds, s_cond("ContainersReady", ready, ready ? NULL : reason,
                                        ready || completed ? NULL : msg, old_conditions, now));
    json_array_append_new(conds, s_cond("PodScheduled", true, NULL, NULL, old_conditions, now));
    return conds;
}

/* ---- container statuses --------------------------------------------------- */

json_t *kl_ctr_status_json(const kl_pod_t *p, const kl_ctr_t *c)
{
    (void)p;
    json_t *st = json_pack("{s:s, s:s, s:s, s:b, s:b, s:i}", "name", c->name, "image", c->image,
                           "imageID", c->image_id, "ready", c->ready, "started", c->started,
                           "restartCount", c->restarts);
    if (c->id[0]) {
        char cid[600];
        snprintf(cid, sizeof cid, "zkube://%s", c->id);
        json_object_set_new(st, "containerID", json_string(cid));
    }
    json_object_set_new(st, "state",
                        c->state ? json_deep_copy(c->state)
                                 : json_pack("{s:{s:s}}", "waiting", "reason",
                                             "ContainerCreating"));
    json_object_set_new(st, "lastState", c->last_state ? json_deep_copy(c->last_state)
                                                       : json_object());
    return st;
}

static const char *s_qos(const json_t *pod)
{
    bool any = false, guaranteed = true;
    size_t i;
    json_t *c;
    json_array_foreach(proto_obj_get(pod, "spec.containers"), i, c) {
        json_t *req = proto_obj_get(c, "resources.requests");
        json_t *lim = proto_obj_get(c, "resources.limits");
        any |= json_object_size(req) > 0 || json_object_size(lim) > 0;
        for (int k = 0; k < 2; k++) {
            const char *r = k ? "memory" : "cpu";
            json_t *l = json_object_get(lim, r), *q = json_object_get(req, r);
            if (!l || (q && !json_equal(l, q)))
                guaranteed = false;
        }
    }
    return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

static json_t *s_build(kl_pod_t *p)
{
    json_t *inits = json_array(), *ctrs = json_array();
    for (size_t i = 0; i < p->nctrs; i++)
        json_array_append_new(p->ctrs[i].init ? inits : ctrs, kl_ctr_status_json(p, &p->ctrs[i]));
    const char *phase = kubelet_pod_phase(p->pod, inits, ctrs);
    char now[32];
    proto_now_rfc3339(now);
    const json_t *old = p->reported ? p->reported : proto_obj_get(p->pod, "status");
    json_t *st = json_pack("{s:s, s:o, s:s, s:[{s:s}], s:s, s:s}", "phase", phase, "conditions",
                           kubelet_pod_conditions(p->pod, phase, inits, ctrs,
                                                  json_object_get(old, "conditions"), now),
                           "hostIP", p->n->k->host_ip, "hostIPs", "ip", p->n->k->host_ip,
                           "startTime", p->start_time, "qosClass", s_qos(p->pod));
    if (p->ip[0]) {
        json_object_set_new(st, "podIP", json_string(p->ip));
        json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", p->ip));
    }
    if (json_array_size(inits))
        json_object_set(st, "initContainerStatuses", inits);
    json_object_set(st, "containerStatuses", ctrs);
    json_decref(inits);
    json_decref(ctrs);
    return st;
}

static void s_on_reply(rt_actor_t *a, int code, const json_t *body, void *arg);

static void s_send(kl_pod_t *p, json_t *st)
{
    json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:O}", "apiVersion", "v1", "kind",
                            "Pod", "metadata", "name", p->name, "namespace", p->ns, "uid", p->uid,
                            "status", st);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "resource", "pods", "namespace", p->ns,
                             "name", p->name, "subresource", "status", "object", obj);
    p->status_inflight = true;
    /* what we sent becomes `reported` once acknowledged */
    json_decref(p->reported_pending);
    p->reported_pending = json_incref(st);
    rt_call_opts_t o = {.timeout_ms = 5000, .retries = 0};
    if (rt_call(p->n->k->a, "apiserver", "update", body, &o, s_on_reply, p) < 0)
        p->status_inflight = false;
    json_decref(body);
}

static void s_on_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a;
    kl_pod_t *p = arg;
    p->status_inflight = false;
    p->settled = false; /* the next tick looks again */
    if (code == 200) {
        json_decref(p->reported);
        p->reported = p->reported_pending;
        p->reported_pending = NULL;
    } else {
        json_decref(p->reported_pending);
        p->reported_pending = NULL;
        /* the next sync tick sends it again */
        if (code != 404)
            rt_warn("pod %s/%s: status update: %d %s", p->ns, p->name, code,
                    json_string_value(json_object_get(body, "message")) ?: "");
    }
    if (p->gone) {
        kl_pod_free(p);
        return;
    }
    if (p->status_again) {
        p->status_again = false;
        kl_pod_report(p);
    }
}

void kl_pod_report(kl_pod_t *p)
{
    if (p->finalized)
        return;
    if (p->status_inflight) {
        p->status_again = true;
        return;
    }
    json_t *st = s_build(p);
    if (p->reported && json_equal(st, p->reported)) {
        json_decref(st);
        return;
    }
    s_send(p, st);
    json_decref(st);
}
