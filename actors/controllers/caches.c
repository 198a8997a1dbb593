/*
 * actors/controllers/caches.c — what each controller keeps of the objects it
 * watches. With 10,000 pods, a controller's pod cache is most of its memory,
 * so each keeps only the fields its decisions read (informer transforms),
 * stored compactly, and finds pods through an index instead of scanning:
 *   replica manager   pods by controller (ns + uid), orphans by namespace;
 *   garbage collector objects by their own uid and by each owner's uid;
 *   node lifecycle    pods by node.
 */
#include <stdio.h>
#include <string.h>

#include "actors/controllers/internal.h"
#include "protocol/obj.h"

/* Copies the listed keys of src (an object) that are present into a new object. */
static json_t *s_pick(const json_t *src, const char *const *keys)
{
    json_t *out = json_object();
    for (; *keys; keys++) {
        json_t *v = json_object_get(src, *keys);
        if (v)
            json_object_set(out, *keys, v);
    }
    return out;
}

static json_t *s_meta(const json_t *obj, const char *const *keys)
{
    return json_pack("{s:o}", "metadata", s_pick(json_object_get(obj, "metadata"), keys));
}

/* ---- replica manager --------------------------------------------------------------- */

json_t *ctrl_rm_pod_brief(void *arg, const json_t *pod)
{
    static const char *const mk[] = {"name",
                                     "namespace",
                                     "uid",
                                     "resourceVersion",
                                     "creationTimestamp",
                                     "deletionTimestamp",
                                     "labels",
                                     "ownerReferences",
                                     NULL};
    (void)arg;
    json_t *out = s_meta(pod, mk);
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (node)
        json_object_set_new(out, "spec", json_pack("{s:s}", "nodeName", node));
    json_t *st = json_object();
    const char *phase = proto_obj_str(pod, "status.phase");
    if (phase)
        json_object_set_new(st, "phase", json_string(phase));
    /* ready, ready since when, most restarts: what ActivePods ranks by */
    size_t i;
    json_t *c;
    json_array_foreach(proto_obj_get(pod, "status.conditions"), i, c)
    {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type && !strcmp(type, "Ready")) {
            static const char *const ck[] = {"type", "status", "lastTransitionTime", NULL};
            json_object_set_new(st, "conditions", json_pack("[o]", s_pick(c, ck)));
            break;
        }
    }
    json_int_t restarts = -1;
    json_array_foreach(proto_obj_get(pod, "status.containerStatuses"), i, c)
    {
        json_t *n = json_object_get(c, "restartCount");
        if (json_is_integer(n) && json_integer_value(n) > restarts)
            restarts = json_integer_value(n);
    }
    if (restarts >= 0)
        json_object_set_new(st, "containerStatuses",
                            json_pack("[{s:I}]", "restartCount", restarts));
    json_object_set_new(out, "status", st);
    return out;
}

void ctrl_rm_index_key(char *buf, size_t n, const char *ns, const char *uid)
{
    if (uid)
        snprintf(buf, n, "c:%s/%s", ns, uid);
    else
        snprintf(buf, n, "o:%s", ns);
}

void ctrl_rm_pod_index(void *arg, const json_t *pod, void (*add)(void *ctx, const char *value),
                       void *ctx)
{
    char v[600];
    const json_t *ref = ctrl_controller_ref(pod);
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    (void)arg;
    if (ref && !uid)
        return; /* a controller without uid: nobody's to claim */
    ctrl_rm_index_key(v, sizeof v, proto_obj_ns(pod) ?: "", uid);
    add(ctx, v);
}

/* ---- garbage collector -------------------------------------------------------------- */

json_t *ctrl_gc_brief(void *arg, const json_t *obj)
{
    static const char *const mk[] = {
        "name",       "namespace", "uid", "resourceVersion", "deletionTimestamp", "ownerReferences",
        "finalizers", NULL};
    (void)arg;
    return s_meta(obj, mk);
}

void ctrl_gc_index(void *arg, const json_t *obj, void (*add)(void *ctx, const char *value),
                   void *ctx)
{
    char v[600];
    const char *uid = proto_obj_uid(obj);
    (void)arg;
    if (uid) {
        snprintf(v, sizeof v, "u:%s", uid);
        add(ctx, v);
    }
    size_t i;
    json_t *r;
    json_array_foreach(proto_obj_get(obj, "metadata.ownerReferences"), i, r)
    {
        const char *u = json_string_value(json_object_get(r, "uid"));
        if (u) {
            snprintf(v, sizeof v, "d:%s", u);
            add(ctx, v);
        }
    }
}

/* ---- node lifecycle ---------------------------------------------------------------- */

json_t *ctrl_nl_pod_brief(void *arg, const json_t *pod)
{
    static const char *const mk[] = {"name", "namespace", "uid", "resourceVersion", NULL};
    static const char *const sk[] = {"nodeName", "tolerations", NULL};
    (void)arg;
    json_t *out = s_meta(pod, mk);
    json_object_set_new(out, "spec", s_pick(json_object_get(pod, "spec"), sk));
    return out;
}

void ctrl_nl_pod_index(void *arg, const json_t *pod, void (*add)(void *ctx, const char *value),
                       void *ctx)
{
    const char *node = proto_obj_str(pod, "spec.nodeName");
    (void)arg;
    if (node && *node)
        add(ctx, node);
}

json_t *ctrl_nl_node_brief(void *arg, const json_t *node)
{
    static const char *const mk[] = {"name", "uid", "resourceVersion", NULL};
    json_t *out = s_meta(node, mk);
    json_t *taints = proto_obj_get(node, "spec.taints");
    json_t *conds = proto_obj_get(node, "status.conditions");
    (void)arg;
    if (taints)
        json_object_set_new(out, "spec", json_pack("{s:O}", "taints", taints));
    if (conds)
        json_object_set_new(out, "status", json_pack("{s:O}", "conditions", conds));
    return out;
}
