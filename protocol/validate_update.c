/*
 * protocol/validate_update — what an update may not change (Kubernetes'
 * ValidateObjectMetaUpdate and the kinds' ValidateXUpdate): identity fields
 * of metadata, most of a Pod's spec, a Job's selector and template, the
 * selectors of apps controllers, a Service's clusterIP once set, immutable
 * Secrets and ConfigMaps.
 */
#include "protocol/kinds_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <string.h>

#define S_IMMUTABLE "field is immutable"

static void s_immutable(proto_vctx_t *v, const json_t *o, const json_t *n, const char *path)
{
    json_t *a = proto_obj_get(o, path), *b = proto_obj_get(n, path);
    if ((a || b) && !(a && b && json_equal(a, b))) {
        json_t *null = json_null();
        char field[256];
        /* proto_obj_get paths use dots for indexes; ours are plain dotted fields */
        PROTO_VP(field, "%s", path);
        proto_v_invalid(v, field, b ? b : null, S_IMMUTABLE);
    }
}

static bool s_in_list(const char *k, const char *const *l)
{
    for (; l && *l; l++)
        if (!strcmp(k, *l))
            return true;
    return false;
}

static const char *const s_pod_mutable[] = {"activeDeadlineSeconds", "tolerations", NULL};
static const char *const s_pod_lists[] = {"containers", "initContainers", NULL};
static const char *const s_ctr_mutable[] = {"image", NULL};

static bool s_eq_except(const json_t *a, const json_t *b, const char *const *skip,
                        const char *const *lists);

/* Two container lists, equal but for images. */
static bool s_eq_containers(const json_t *a, const json_t *b)
{
    if (!json_is_array(a) || !json_is_array(b) || json_array_size(a) != json_array_size(b))
        return json_equal(a, b);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
        bool eq = json_is_object(x) && json_is_object(y) ? s_eq_except(x, y, s_ctr_mutable, NULL)
                                                         : json_equal(x, y);
        if (!eq)
            return false;
    }
    return true;
}

/* json_equal of two objects with the keys in skip left out; the keys in
 * lists hold container lists (compared images aside). Walks both trees
 * without copying them: updates of pods are frequent (status, bindings). */
static bool s_eq_except(const json_t *a, const json_t *b, const char *const *skip,
                        const char *const *lists)
{
    if (a == b) /* shared with the stored object: not touched by the update */
        return a != NULL;
    if (!json_is_object(a) || !json_is_object(b))
        return a && b && json_equal(a, b);
    const char *k;
    json_t *x;
    size_t na = 0, nb = 0;
    json_object_foreach((json_t *)a, k, x)
    {
        if (s_in_list(k, skip))
            continue;
        na++;
        json_t *y = json_object_get(b, k);
        if (!y || !(s_in_list(k, lists) ? s_eq_containers(x, y) : json_equal(x, y)))
            return false;
    }
    json_object_foreach((json_t *)b, k, x) nb += !s_in_list(k, skip);
    return na == nb;
}

/* Pod spec: only images, activeDeadlineSeconds and added tolerations may change. */
static void s_pod(proto_vctx_t *v, const json_t *o, const json_t *n)
{
    if (!s_eq_except(json_object_get(o, "spec"), json_object_get(n, "spec"), s_pod_mutable,
                     s_pod_lists))
        proto_v_forbidden(v, "spec",
                          "pod updates may not change fields other than "
                          "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                          "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                          "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it "
                          "to be set to 1 if it was previously negative)");
}

static void s_service(proto_vctx_t *v, const json_t *o, const json_t *n)
{
    const char *a = proto_obj_str(o, "spec.clusterIP");
    const char *b = proto_obj_str(n, "spec.clusterIP");
    /* an update that leaves clusterIP out keeps the old one (the apiserver copies it) */
    if (a && *a && b && *b && strcmp(a, b) != 0) {
        json_t *ips = json_pack("[s]", b);
        proto_v_invalid(v, "spec.clusterIPs[0]", ips, "may not change once set");
        json_decref(ips);
    }
}

static void s_config(proto_vctx_t *v, const json_t *o, const json_t *n)
{
    if (!json_is_true(json_object_get(o, "immutable")))
        return;
    static const char *const f[] = {"data", "binaryData", "stringData", NULL};
    for (const char *const *k = f; *k; k++)
        if (!json_equal(json_object_get(o, *k) ? json_object_get(o, *k) : json_null(),
                        json_object_get(n, *k) ? json_object_get(n, *k) : json_null()))
            proto_v_forbidden(v, *k, "field is immutable when `immutable` is set");
    if (!json_is_true(json_object_get(n, "immutable")))
        proto_v_forbidden(v, "immutable", "field is immutable when `immutable` is set");
}

int proto_validate_update(const json_t *old_obj, const json_t *new_obj, json_t **causes)
{
    if (causes)
        *causes = NULL;
    const char *kind = proto_obj_kind(new_obj);
    if (!json_is_object(old_obj) || !json_is_object(new_obj) || !kind)
        return PROTO_EBADREQUEST;
    proto_vctx_t v = {.causes = json_array()};
    s_immutable(&v, old_obj, new_obj, "metadata.name");
    s_immutable(&v, old_obj, new_obj, "metadata.namespace");
    const char *ou = proto_obj_uid(old_obj), *nu = proto_obj_uid(new_obj);
    if (ou && nu && strcmp(ou, nu) != 0)
        proto_v_invalid_str(&v, "metadata.uid", nu, S_IMMUTABLE);
    if (strcmp(kind, "Pod") == 0)
        s_pod(&v, old_obj, new_obj);
    else if (strcmp(kind, "Job") == 0) {
        s_immutable(&v, old_obj, new_obj, "spec.selector");
        s_immutable(&v, old_obj, new_obj, "spec.template");
        s_immutable(&v, old_obj, new_obj, "spec.completions");
    } else if (strcmp(kind, "ReplicaSet") == 0 || strcmp(kind, "Deployment") == 0 ||
               strcmp(kind, "DaemonSet") == 0)
        s_immutable(&v, old_obj, new_obj, "spec.selector");
    else if (strcmp(kind, "Service") == 0)
        s_service(&v, old_obj, new_obj);
    else if (strcmp(kind, "Secret") == 0 || strcmp(kind, "ConfigMap") == 0) {
        s_config(&v, old_obj, new_obj);
        if (strcmp(kind, "Secret") == 0)
            s_immutable(&v, old_obj, new_obj, "type");
    }
    if (json_array_size(v.causes) == 0) {
        json_decref(v.causes);
        return 0;
    }
    if (causes)
        *causes = v.causes;
    else
        json_decref(v.causes);
    return PROTO_EINVALID;
}
