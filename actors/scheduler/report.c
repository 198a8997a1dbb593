/*
 * actors/scheduler/report.c — what the scheduler tells about pods, as
 * kube-scheduler does: a Normal Event "Scheduled" for a pod bound; for a pod
 * it cannot place, a Warning Event "FailedScheduling" (repeats counted on
 * the same event) and the condition PodScheduled=False, reason
 * Unschedulable, with the same message (written only when it changes, so a
 * retry in back-off does not rewrite the pod). Event writes are capped in
 * flight and dropped beyond, so that they never slow binding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/scheduler/sched_int.h"
#include "protocol/obj.h"
#include "runtime/log.h"

static void s_cond_done(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    if (code >= 300 && code != 404 && code != 409)
        rt_info("PodScheduled condition of %s failed (%d): %s", (const char *)arg, code,
                json_string_value(json_object_get(body, "message")) ?: "");
    free(arg);
    (void)a;
}

static void s_ev_done(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    sched_t *s = arg;
    s->ev_inflight--;
    if (code >= 300 && code != 404 && code != 409)
        rt_debug("event write failed (%d): %s", code,
                 json_string_value(json_object_get(body, "message")) ?: "");
    (void)a;
}

/* Sends an event write unless too many are in flight: like client-go's
 * broadcaster, events are dropped under pressure rather than slow the
 * scheduler. body is stolen. False when dropped. */
static bool s_ev_send(sched_t *s, const char *op, json_t *body)
{
    bool sent = false;
    if (s->ev_inflight < SCHED_MAX_EVENTS_INFLIGHT &&
        rt_call(s->a, "apiserver", op, body, NULL, s_ev_done, s) == 0) {
        s->ev_inflight++;
        sent = true;
    } else {
        s->ev_dropped++;
    }
    json_decref(body);
    return sent;
}

/* An Event on pod ns/name (uid, rv may be NULL) named ename. */
static json_t *s_ev_obj(const sched_t *s, const char *ns, const char *name, const char *uid,
                        const char *rv, const char *type, const char *reason, const char *action,
                        const char *msg, const char *ename)
{
    char now[32];
    proto_now_rfc3339(now);
    json_t *obj = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s},"
        " s:s, s:s, s:i, s:s, s:s, s:s}",
        "apiVersion", "v1", "kind", "Event", "metadata", "name", ename, "namespace", ns,
        "involvedObject", "apiVersion", "v1", "kind", "Pod", "name", name, "namespace", ns, "uid",
        uid ? uid : "", "reason", reason, "message", msg, "type", type, "source", "component",
        s->name, "firstTimestamp", now, "lastTimestamp", now, "count", 1, "action", action,
        "reportingComponent", s->name, "reportingInstance", s->name);
    if (rv && *rv)
        proto_obj_set_str(obj, "involvedObject.resourceVersion", rv);
    return json_pack("{s:s, s:s, s:o}", "resource", "events", "namespace", ns, "object", obj);
}

/* client-go's recorder names events "<object name>.<unix nanoseconds in hex>". */
static void s_ev_name(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%.200s.%llx", name, (unsigned long long)proto_wall_us() * 1000ull);
}

/* The same message again: count it on the event already written. */
static void s_event_again(sched_t *s, const json_t *pod, sched_evstate_t *ev)
{
    char now[32];
    proto_now_rfc3339(now);
    ev->count++;
    s_ev_send(s, "patch",
              json_pack("{s:s, s:s, s:s, s:s, s:{s:i, s:s}}", "resource", "events", "namespace",
                        proto_obj_ns(pod), "name", ev->name, "patchType", "merge", "patch",
                        "count", ev->count, "lastTimestamp", now));
}

static void s_event(sched_t *s, const json_t *pod, const char *msg, sched_evstate_t *ev)
{
    const char *ns = proto_obj_ns(pod), *name = proto_obj_name(pod);
    char ename[300];
    if (ev->name[0] && ev->msg && !strcmp(ev->msg, msg)) {
        s_event_again(s, pod, ev);
        return;
    }
    s_ev_name(name, ename, sizeof ename);
    json_t *body = s_ev_obj(s, ns, name, proto_obj_uid(pod),
                            proto_obj_str(pod, "metadata.resourceVersion"), "Warning",
                            "FailedScheduling", "Scheduling", msg, ename);
    if (!s_ev_send(s, "create", body))
        return; /* dropped: the next attempt writes a new one */
    snprintf(ev->name, sizeof ev->name, "%s", ename);
    free(ev->msg);
    ev->msg = strdup(msg);
    ev->count = 1;
}

void sched_report_scheduled(sched_t *s, const char *ns, const char *name, const char *uid,
                            const char *node)
{
    char ename[300], msg[1024];
    s_ev_name(name, ename, sizeof ename);
    snprintf(msg, sizeof msg, "Successfully assigned %s/%s to %s", ns, name, node);
    s_ev_send(s, "create", s_ev_obj(s, ns, name, uid, NULL, "Normal", "Scheduled", "Binding", msg,
                                    ename));
}

/* The current PodScheduled condition already says msg? */
static bool s_condition_same(const json_t *pod, const char *msg)
{
    size_t i;
    json_t *cd;
    json_array_foreach(proto_obj_get(pod, "status.conditions"), i, cd) {
        const char *t = json_string_value(json_object_get(cd, "type"));
        if (!t || strcmp(t, "PodScheduled") != 0)
            continue;
        const char *st = json_string_value(json_object_get(cd, "status"));
        const char *m = json_string_value(json_object_get(cd, "message"));
        return st && !strcmp(st, "False") && m && !strcmp(m, msg);
    }
    return false;
}

static void s_condition(sched_t *s, const json_t *pod, const char *msg)
{
    char now[32];
    proto_now_rfc3339(now);
    json_t *patch = json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:n, s:s}]}}", "status", "conditions",
                              "type", "PodScheduled", "status", "False", "reason", "Unschedulable",
                              "message", msg, "lastProbeTime", "lastTransitionTime", now);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "resource", "pods", "namespace",
                             proto_obj_ns(pod), "name", proto_obj_name(pod), "subresource",
                             "status", "patchType", "strategic", "patch", patch);
    char *what = NULL;
    if (asprintf(&what, "%s/%s", proto_obj_ns(pod), proto_obj_name(pod)) < 0)
        abort();
    rt_call(s->a, "apiserver", "patch", body, NULL, s_cond_done, what);
    json_decref(body);
}

void sched_report_unschedulable(sched_t *s, const json_t *pod, const char *msg,
                                sched_evstate_t *ev)
{
    rt_debug("%s/%s unschedulable: %s", proto_obj_ns(pod), proto_obj_name(pod), msg);
    s_event(s, pod, msg, ev);
    if (!s_condition_same(pod, msg))
        s_condition(s, pod, msg);
}
