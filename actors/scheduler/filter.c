/*
 * actors/scheduler/filter.c — the object-level predicates of scheduling that
 * need no cache: is a pod ours to place, does a toleration tolerate a taint,
 * does a node's label set satisfy a NodeSelectorTerm. Semantics as
 * k8s.io/component-helpers (scheduling/corev1) and kube-scheduler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/scheduler/cache_int.h"
#include "protocol/obj.h"

bool sched_pod_wants_scheduling(const json_t *pod, const char *name)
{
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (node && *node)
        return false;
    const char *sn = proto_obj_str(pod, "spec.schedulerName");
    if (sn && *sn && strcmp(sn, name ? name : SCHED_DEFAULT_NAME) != 0)
        return false;
    if (proto_obj_get(pod, "metadata.deletionTimestamp"))
        return false;
    const char *phase = proto_obj_str(pod, "status.phase");
    return !phase || (strcmp(phase, "Succeeded") && strcmp(phase, "Failed"));
}

static const char *s_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

bool sched_tolerates_kv(const json_t *tol, const char *key, const char *value,
                        const char *effect)
{
    const char *teff = s_str(tol, "effect");
    if (*teff && strcmp(teff, effect) != 0)
        return false;
    const char *tkey = s_str(tol, "key"), *op = s_str(tol, "operator");
    if (*tkey && strcmp(tkey, key) != 0)
        return false;
    if (!strcmp(op, "Exists"))
        return true;
    if (*op && strcmp(op, "Equal") != 0)
        return false;
    /* Equal (the default): an empty key only goes with Exists */
    return *tkey && !strcmp(s_str(tol, "value"), value);
}

bool sched_tolerates(const json_t *tol, const json_t *taint)
{
    return sched_tolerates_kv(tol, s_str(taint, "key"), s_str(taint, "value"),
                              s_str(taint, "effect"));
}

static bool s_in_values(const json_t *values, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(values, i, x) {
        const char *s = json_string_value(x);
        if (s && !strcmp(s, v))
            return true;
    }
    return false;
}

/* Gt/Lt: the label and the single value must both be integers. */
static bool s_int_cmp(const json_t *values, const char *label, bool gt)
{
    if (json_array_size(values) != 1 || !label)
        return false;
    const char *v = json_string_value(json_array_get(values, 0));
    if (!v || !*v || !*label)
        return false;
    char *e1, *e2;
    errno = 0;
    long long want = strtoll(v, &e1, 10), have = strtoll(label, &e2, 10);
    if (errno || *e1 || *e2)
        return false;
    return gt ? have > want : have < want;
}

/* One NodeSelectorRequirement against a value (NULL when the key is absent). */
static bool s_req_matches(const json_t *req, const char *have)
{
    const char *op = s_str(req, "operator");
    const json_t *values = json_object_get(req, "values");
    if (!strcmp(op, "In"))
        return have && s_in_values(values, have);
    if (!strcmp(op, "NotIn"))
        return !have || !s_in_values(values, have);
    if (!strcmp(op, "Exists"))
        return have != NULL;
    if (!strcmp(op, "DoesNotExist"))
        return have == NULL;
    if (!strcmp(op, "Gt"))
        return s_int_cmp(values, have, true);
    if (!strcmp(op, "Lt"))
        return s_int_cmp(values, have, false);
    return false;
}

bool sched_term_matches(const json_t *term, const json_t *labels, const char *node_name)
{
    const json_t *exprs = json_object_get(term, "matchExpressions");
    const json_t *fields = json_object_get(term, "matchFields");
    if (!json_array_size(exprs) && !json_array_size(fields))
        return false; /* an empty term matches nothing */
    size_t i;
    json_t *r;
    json_array_foreach(exprs, i, r) {
        const char *have = json_string_value(json_object_get(labels, s_str(r, "key")));
        if (!s_req_matches(r, have))
            return false;
    }
    json_array_foreach(fields, i, r) {
        if (strcmp(s_str(r, "key"), "metadata.name") != 0)
            return false;
        if (!s_req_matches(r, node_name))
            return false;
    }
    return true;
}

/* ---- slimming for the cache ------------------------------------------------ */

static void s_copy(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    if (v)
        json_object_set_new(dst, key, json_deep_copy(v));
}

/* A container reduced to its name, resources and host ports. */
static json_t *s_slim_ctr(const json_t *ctr)
{
    json_t *c = json_object();
    s_copy(c, ctr, "name");
    s_copy(c, ctr, "resources");
    json_t *ports = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ctr, "ports"), i, p)
        if (json_integer_value(json_object_get(p, "hostPort")) > 0)
            json_array_append_new(ports, json_deep_copy(p));
    if (json_array_size(ports))
        json_object_set_new(c, "ports", ports);
    else
        json_decref(ports);
    return c;
}

static json_t *s_slim_ctrs(const json_t *arr)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        json_array_append_new(out, s_slim_ctr(c));
    }
    return out;
}

json_t *sched_pod_slim(const json_t *pod)
{
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (!node || !*node)
        return json_deep_copy(pod); /* waiting pods are kept whole */
    json_t *md = json_object(), *spec = json_object(), *st = json_object();
    const json_t *omd = json_object_get(pod, "metadata"), *osp = json_object_get(pod, "spec");
    static const char *const mkeys[] = {"name", "namespace", "uid", "resourceVersion",
                                        "deletionTimestamp", "ownerReferences"};
    for (size_t i = 0; i < sizeof mkeys / sizeof mkeys[0]; i++)
        s_copy(md, omd, mkeys[i]);
    static const char *const skeys[] = {"nodeName", "schedulerName", "overhead",
                                        "preemptionPolicy"};
    for (size_t i = 0; i < sizeof skeys / sizeof skeys[0]; i++)
        s_copy(spec, osp, skeys[i]);
    json_object_set_new(spec, "containers", s_slim_ctrs(json_object_get(osp, "containers")));
    if (json_object_get(osp, "initContainers"))
        json_object_set_new(spec, "initContainers",
                            s_slim_ctrs(json_object_get(osp, "initContainers")));
    s_copy(st, json_object_get(pod, "status"), "phase");
    return json_pack("{s:o, s:o, s:o}", "metadata", md, "spec", spec, "status", st);
}

json_t *sched_node_slim(const json_t *node)
{
    json_t *md = json_object(), *spec = json_object(), *st = json_object();
    const json_t *omd = json_object_get(node, "metadata"), *osp = json_object_get(node, "spec");
    const json_t *ost = json_object_get(node, "status");
    static const char *const mkeys[] = {"name", "uid", "resourceVersion", "labels"};
    for (size_t i = 0; i < sizeof mkeys / sizeof mkeys[0]; i++)
        s_copy(md, omd, mkeys[i]);
    s_copy(spec, osp, "unschedulable");
    s_copy(spec, osp, "taints");
    static const char *const skeys[] = {"allocatable", "capacity", "conditions"};
    for (size_t i = 0; i < sizeof skeys / sizeof skeys[0]; i++)
        s_copy(st, ost, skeys[i]);
    return json_pack("{s:o, s:o, s:o}", "metadata", md, "spec", spec, "status", st);
}
