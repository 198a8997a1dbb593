/*
 * actors/controllers/pods.c — the replica manager's pure decisions: which
 * pods are active, ready and available; the order in which surplus pods go
 * (Kubernetes' ActivePods); which pods a controller owns, adopts or
 * releases; the pod a template makes; the status a controller reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/controllers/controllers.h"
#include "protocol/obj.h"

static bool s_streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

bool ctrl_pod_active(const json_t *pod)
{
    const char *phase = proto_obj_str(pod, "status.phase");
    if (proto_obj_get(pod, "metadata.deletionTimestamp"))
        return false;
    return !s_streq(phase, "Succeeded") && !s_streq(phase, "Failed");
}

static const json_t *s_condition(const json_t *obj, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(proto_obj_get(obj, "status.conditions"), i, c)
        if (s_streq(json_string_value(json_object_get(c, "type")), type))
            return c;
    return NULL;
}

bool ctrl_pod_ready(const json_t *pod)
{
    const json_t *c = s_condition(pod, "Ready");
    return c && s_streq(json_string_value(json_object_get(c, "status")), "True");
}

/* When the pod became ready (Unix s), or -1 when unknown. */
static int64_t s_ready_since(const json_t *pod)
{
    const json_t *c = s_condition(pod, "Ready");
    const char *t = c ? json_string_value(json_object_get(c, "lastTransitionTime")) : NULL;
    return t ? proto_parse_time(t) : -1;
}

bool ctrl_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now)
{
    if (!ctrl_pod_ready(pod))
        return false;
    if (min_ready_s <= 0)
        return true;
    int64_t since = s_ready_since(pod);
    return since >= 0 && since + min_ready_s <= now;
}

static int s_phase_ordinal(const json_t *pod)
{
    const char *p = proto_obj_str(pod, "status.phase");
    if (s_streq(p, "Running"))
        return 2;
    if (s_streq(p, "Unknown"))
        return 1;
    return 0; /* Pending, or no phase yet */
}

static int64_t s_max_restarts(const json_t *pod)
{
    int64_t m = 0;
    size_t i;
    json_t *cs;
    json_array_foreach(proto_obj_get(pod, "status.containerStatuses"), i, cs)
    {
        json_t *n = json_object_get(cs, "restartCount");
        if (json_is_integer(n) && json_integer_value(n) > m)
            m = json_integer_value(n);
    }
    return m;
}

/* afterOrZero: an empty time (-1) sorts first, then later times. */
static int s_cmp_time_desc(int64_t a, int64_t b)
{
    if (a == b)
        return 0;
    if (a < 0 || b < 0)
        return a < 0 ? -1 : 1;
    return a > b ? -1 : 1;
}

static int64_t s_created(const json_t *pod)
{
    const char *t = proto_obj_str(pod, "metadata.creationTimestamp");
    return t ? proto_parse_time(t) : -1;
}

int ctrl_pod_cmp(const json_t *a, const json_t *b)
{
    const char *na = proto_obj_str(a, "spec.nodeName"), *nb = proto_obj_str(b, "spec.nodeName");
    bool ua = !na || !*na, ub = !nb || !*nb;
    if (ua != ub)
        return ua ? -1 : 1;
    int pa = s_phase_ordinal(a), pb = s_phase_ordinal(b);
    if (pa != pb)
        return pa < pb ? -1 : 1;
    bool ra = ctrl_pod_ready(a), rb = ctrl_pod_ready(b);
    if (ra != rb)
        return ra ? 1 : -1;
    if (ra && rb) {
        int c = s_cmp_time_desc(s_ready_since(a), s_ready_since(b));
        if (c)
            return c;
    }
    int64_t xa = s_max_restarts(a), xb = s_max_restarts(b);
    if (xa != xb)
        return xa > xb ? -1 : 1;
    int c = s_cmp_time_desc(s_created(a), s_created(b));
    if (c)
        return c;
    return strcmp(proto_obj_name(a) ?: "", proto_obj_name(b) ?: "");
}

static int s_qcmp(const void *x, const void *y)
{
    return ctrl_pod_cmp(*(json_t *const *)x, *(json_t *const *)y);
}

void ctrl_pods_sort(json_t *pods)
{
    size_t n = json_array_size(pods);
    if (n < 2)
        return;
    json_t **v = calloc(n, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(pods, i));
    qsort(v, n, sizeof *v, s_qcmp);
    json_array_clear(pods);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(pods, v[i]);
    free(v);
}

/* ---- ownership --------------------------------------------------------------- */

const json_t *ctrl_controller_ref(const json_t *obj)
{
    size_t i;
    json_t *r;
    json_array_foreach(proto_obj_get(obj, "metadata.ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller")))
            return r;
    return NULL;
}

ctrl_claim_t ctrl_claim(const json_t *pod, const char *uid, const proto_sel_t *sel,
                        bool owner_deleting)
{
    const json_t *ref = ctrl_controller_ref(pod);
    bool match = sel && !proto_sel_empty(sel) && proto_sel_match(sel, proto_obj_labels(pod));
    if (ref) {
        if (!s_streq(json_string_value(json_object_get(ref, "uid")), uid))
            return CTRL_CLAIM_IGNORE;
        if (match)
            return CTRL_CLAIM_OWNED;
        /* an owner being deleted releases nothing: the GC takes its pods */
        return owner_deleting || proto_obj_get(pod, "metadata.deletionTimestamp")
                   ? CTRL_CLAIM_IGNORE
                   : CTRL_CLAIM_RELEASE;
    }
    if (!match || owner_deleting || proto_obj_get(pod, "metadata.deletionTimestamp"))
        return CTRL_CLAIM_IGNORE;
    return CTRL_CLAIM_ADOPT;
}

int ctrl_owner_selector(const json_t *owner, bool is_rc, proto_sel_t **out, char *err,
                        size_t errlen)
{
    json_t *sel = proto_obj_get(owner, "spec.selector");
    if (is_rc) {
        if (!json_is_object(sel) || json_object_size(sel) == 0)
            sel = proto_obj_get(owner, "spec.template.metadata.labels");
        return proto_sel_from_map(sel, out, err, errlen);
    }
    return proto_sel_from_label_selector(sel, out, err, errlen);
}

/* ---- making pods ----------------------------------------------------------------- */

json_t *ctrl_owner_ref(const json_t *owner)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion",
                     proto_obj_str(owner, "apiVersion") ?: "v1", "kind",
                     proto_obj_kind(owner) ?: "", "name", proto_obj_name(owner) ?: "", "uid",
                     proto_obj_uid(owner) ?: "", "controller", 1, "blockOwnerDeletion", 1);
}

json_t *ctrl_pod_from_template(const json_t *owner)
{
    char gen[300];
    snprintf(gen, sizeof gen, "%.250s-", proto_obj_name(owner) ?: "pod");
    json_t *tmd = proto_obj_get(owner, "spec.template.metadata");
    json_t *spec = proto_obj_get(owner, "spec.template.spec");
    json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "v1", "kind", "Pod",
                            "metadata", "generateName", gen, "namespace",
                            proto_obj_ns(owner) ?: "default", "spec",
                            spec ? json_deep_copy(spec) : json_object());
    static const char *const copied[] = {"labels", "annotations", "finalizers"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        json_t *v = json_object_get(tmd, copied[i]);
        if (v && !json_is_null(v))
            json_object_set_new(json_object_get(pod, "metadata"), copied[i], json_deep_copy(v));
    }
    proto_obj_set(pod, "metadata.ownerReferences", json_pack("[o]", ctrl_owner_ref(owner)));
    return pod;
}

json_t *ctrl_replica_status(const json_t *owner, const json_t *pods, int64_t now)
{
    json_int_t replicas = 0, labeled = 0, ready = 0, available = 0;
    int64_t min_ready = proto_obj_int(owner, "spec.minReadySeconds", 0);
    char err[128];
    proto_sel_t *tsel = NULL;
    json_t *tl = proto_obj_get(owner, "spec.template.metadata.labels");
    if (proto_sel_from_map(json_is_object(tl) ? tl : NULL, &tsel, err, sizeof err) < 0)
        tsel = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p)
    {
        if (!ctrl_pod_active(p))
            continue;
        replicas++;
        if (tsel && proto_sel_match(tsel, proto_obj_labels(p)))
            labeled++;
        if (ctrl_pod_ready(p))
            ready++;
        if (ctrl_pod_available(p, min_ready, now))
            available++;
    }
    proto_sel_destroy(&tsel);
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "replicas", replicas, "fullyLabeledReplicas",
                     labeled, "readyReplicas", ready, "availableReplicas", available,
                     "observedGeneration",
                     (json_int_t)proto_obj_int(owner, "metadata.generation", 1));
}
