/*
 * actors/kubelet/events.c — the Events a kubelet records on its pods
 * (what `kubectl describe pod` lists): Pulled, Created, Started, Killing,
 * BackOff, Unhealthy, Failed. Fire-and-forget creates, named as client-go's
 * recorder names them ("<pod>.<unix ns in hex>"). Hollow nodes record none,
 * so that scale benchmarks measure the control plane, not event writes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "runtime/log.h"

static void s_done(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a;
    (void)arg;
    if (code >= 300 && code != 404)
        rt_debug("event: %d %s", code, json_string_value(json_object_get(body, "message")) ?: "");
}

static json_t *s_involved(const kl_pod_t *p, const kl_ctr_t *c)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "apiVersion", "v1", "kind", "Pod", "name",
                          p->name, "namespace", p->ns, "uid", p->uid);
    if (c) {
        char fp[KL_NAME_MAX + 32];
        snprintf(fp, sizeof fp, "spec.%s{%s}", c->init ? "initContainers" : "containers",
                 c->name);
        json_object_set_new(o, "fieldPath", json_string(fp));
    }
    return o;
}

void kl_event(kl_pod_t *p, const kl_ctr_t *c, const char *type, const char *reason,
              const char *fmt, ...)
{
    kl_node_t *n = p->n;
    if (n->k->hollow)
        return;
    char msg[1024], now[32], name[KL_NAME_MAX + 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    proto_now_rfc3339(now);
    snprintf(name, sizeof name, "%.200s.%llx", p->name,
             (unsigned long long)proto_wall_us() * 1000ull);
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s,"
                           " s:i, s:s, s:s}",
                           "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
                           "namespace", p->ns, "involvedObject", s_involved(p, c), "reason",
                           reason, "message", msg, "type", type, "source", "component", "kubelet",
                           "host", n->name, "firstTimestamp", now, "lastTimestamp", now, "count",
                           1, "reportingComponent", "kubelet", "reportingInstance", n->name);
    json_t *body = json_pack("{s:s, s:s, s:o}", "resource", "events", "namespace", p->ns,
                             "object", ev);
    rt_call(n->k->a, "apiserver", "create", body, NULL, s_done, NULL);
    json_decref(body);
}
