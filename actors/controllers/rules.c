/*
 * actors/controllers/rules.c — the pure decisions of the garbage collector
 * (finalizers, dangling ownerReferences) and of the node lifecycle
 * controller (the conditions of a node that stopped posting status, its
 * taints, when a NoExecute taint evicts a pod).
 */
#include <string.h>

#include "actors/controllers/controllers.h"
#include "protocol/obj.h"

static bool s_streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* ---- garbage collector -------------------------------------------------------- */

bool ctrl_has_finalizer(const json_t *obj, const char *f)
{
    size_t i;
    json_t *v;
    json_array_foreach(proto_obj_get(obj, "metadata.finalizers"), i, v)
        if (s_streq(json_string_value(v), f))
            return true;
    return false;
}

json_t *ctrl_refs_without(const json_t *refs, const json_t *uids)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r)
    {
        const char *uid = json_string_value(json_object_get(r, "uid"));
        if (!uid || !json_object_get(uids, uid))
            json_array_append(out, r);
    }
    return out;
}

/* ---- node lifecycle ------------------------------------------------------------- */

static json_t *s_condition(const json_t *node, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(proto_obj_get(node, "status.conditions"), i, c)
        if (s_streq(json_string_value(json_object_get(c, "type")), type))
            return c;
    return NULL;
}

const char *ctrl_node_ready(const json_t *node)
{
    return json_string_value(json_object_get(s_condition(node, "Ready"), "status"));
}

const char *ctrl_node_heartbeat(const json_t *node)
{
    const char *t =
        json_string_value(json_object_get(s_condition(node, "Ready"), "lastHeartbeatTime"));
    return t ? t : "";
}

static void s_set_unknown(json_t *c, const char *reason, const char *msg, const char *now)
{
    if (!s_streq(json_string_value(json_object_get(c, "status")), "Unknown"))
        json_object_set_new(c, "lastTransitionTime", json_string(now));
    json_object_set_new(c, "status", json_string("Unknown"));
    json_object_set_new(c, "reason", json_string(reason));
    json_object_set_new(c, "message", json_string(msg));
}

json_t *ctrl_node_unknown_conditions(const json_t *node, const char *now_rfc3339)
{
    static const char *const types[] = {"Ready", "MemoryPressure", "DiskPressure",
                                        "PIDPressure"};
    json_t *conds = json_deep_copy(proto_obj_get(node, "status.conditions"));
    if (!json_is_array(conds)) {
        json_decref(conds);
        conds = json_array();
    }
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        json_t *c = NULL;
        size_t i;
        json_t *x;
        json_array_foreach(conds, i, x)
            if (s_streq(json_string_value(json_object_get(x, "type")), types[t]))
                c = x;
        if (c) {
            s_set_unknown(c, "NodeStatusUnknown", "Kubelet stopped posting node status.",
                          now_rfc3339);
            continue;
        }
        c = json_pack("{s:s, s:s}", "type", types[t], "lastHeartbeatTime", now_rfc3339);
        s_set_unknown(c, "NodeStatusNeverUpdated", "Kubelet never posted node status.",
                      now_rfc3339);
        json_array_append_new(conds, c);
    }
    return conds;
}

static bool s_taint_is(const json_t *t, const char *key, const char *effect)
{
    return s_streq(json_string_value(json_object_get(t, "key")), key) &&
           s_streq(json_string_value(json_object_get(t, "effect")), effect);
}

json_t *ctrl_node_taints(const json_t *node, const char *key, const char *effect, bool add,
                         const char *time_added)
{
    json_t *taints = proto_obj_get(node, "spec.taints");
    bool has = false;
    size_t i;
    json_t *t;
    json_array_foreach(taints, i, t)
        if (s_taint_is(t, key, effect))
            has = true;
    if (has == add)
        return NULL;
    json_t *out = json_array();
    json_array_foreach(taints, i, t)
        if (!s_taint_is(t, key, effect))
            json_array_append(out, t);
    if (add) {
        json_t *nt = json_pack("{s:s, s:s}", "key", key, "effect", effect);
        if (time_added)
            json_object_set_new(nt, "timeAdded", json_string(time_added));
        json_array_append_new(out, nt);
    }
    return out;
}

/* Does toleration tol match taint (key, operator Exists/Equal, effect)? */
static bool s_tolerates(const json_t *tol, const json_t *taint)
{
    const char *te = json_string_value(json_object_get(tol, "effect"));
    const char *tk = json_string_value(json_object_get(tol, "key"));
    const char *op = json_string_value(json_object_get(tol, "operator"));
    if (te && *te && !s_streq(te, json_string_value(json_object_get(taint, "effect"))))
        return false;
    if (tk && *tk && !s_streq(tk, json_string_value(json_object_get(taint, "key"))))
        return false;
    if (s_streq(op, "Exists"))
        return true;
    if (!tk || !*tk)
        return false; /* an empty key needs Exists */
    const char *tv = json_string_value(json_object_get(tol, "value"));
    const char *v = json_string_value(json_object_get(taint, "value"));
    return s_streq(tv ? tv : "", v ? v : "");
}

int64_t ctrl_evict_at(const json_t *pod, const json_t *taint, int64_t taint_time,
                      int64_t max_delay_s)
{
    int64_t delay = -1; /* as getMinTolerationTime: the least tolerationSeconds */
    bool matched = false;
    size_t i;
    json_t *tol;
    json_array_foreach(proto_obj_get(pod, "spec.tolerations"), i, tol)
    {
        if (!s_tolerates(tol, taint))
            continue;
        matched = true;
        json_t *secs = json_object_get(tol, "tolerationSeconds");
        if (!json_is_integer(secs))
            continue;
        int64_t s = json_integer_value(secs) < 0 ? 0 : json_integer_value(secs);
        if (delay < 0 || s < delay)
            delay = s;
    }
    if (matched && delay < 0)
        return -1; /* tolerated for ever */
    if (!matched || delay > max_delay_s)
        delay = max_delay_s;
    return taint_time + delay;
}
