/*
 * protocol/patch_strategic — Kubernetes' strategic merge patch on jansson
 * trees. The list strategies of the built-in kinds (which lists merge, and
 * by which key) are in one table, s_fields, keyed by "Type.field"; the
 * algorithm follows k8s.io/apimachinery/pkg/util/strategicpatch (the apply
 * half): directives $patch, $retainKeys, $setElementOrder/<list> and
 * $deleteFromPrimitiveList/<list>; new list elements come first.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/patch.h"
#include "protocol/status.h"

#define S_DIRECTIVE "$patch"
#define S_RETAIN "$retainKeys"
#define S_ORDER "$setElementOrder/"
#define S_DELPRIM "$deleteFromPrimitiveList/"

/* ---- the schema: which fields are typed, which lists merge by what ---- */

typedef struct s_field {
    const char *type;  /* owner type: a Kind or a Kubernetes type name */
    const char *field; /* JSON field name */
    const char *child; /* type of the value (element type for lists); NULL = untyped */
    const char *key;   /* merge key of a list of objects; "" merges a list of primitives */
} s_field_t;

/* key NULL: not a merged list (objects recurse, lists are replaced). */
static const s_field_t s_fields[] = {
    {"ObjectMeta", "ownerReferences", NULL, "uid"},
    {"ObjectMeta", "finalizers", NULL, ""},
    {"Pod", "spec", "PodSpec", NULL},
    {"Pod", "status", "PodStatus", NULL},
    {"PodTemplate", "template", "PodTemplateSpec", NULL},
    {"PodTemplateSpec", "spec", "PodSpec", NULL},
    {"PodSpec", "containers", "Container", "name"},
    {"PodSpec", "initContainers", "Container", "name"},
    {"PodSpec", "ephemeralContainers", "Container", "name"},
    {"PodSpec", "volumes", NULL, "name"},
    {"PodSpec", "imagePullSecrets", NULL, "name"},
    {"PodSpec", "hostAliases", NULL, "ip"},
    {"PodSpec", "topologySpreadConstraints", NULL, "topologyKey"},
    {"PodSpec", "resourceClaims", NULL, "name"},
    {"PodSpec", "schedulingGates", NULL, "name"},
    {"Container", "ports", NULL, "containerPort"},
    {"Container", "env", NULL, "name"},
    {"Container", "volumeMounts", NULL, "mountPath"},
    {"Container", "volumeDevices", NULL, "devicePath"},
    {"PodStatus", "conditions", NULL, "type"},
    {"PodStatus", "podIPs", NULL, "ip"},
    {"PodStatus", "hostIPs", NULL, "ip"},
    {"PodStatus", "resourceClaimStatuses", NULL, "name"},
    {"ReplicationController", "spec", "WorkloadSpec", NULL},
    {"ReplicationController", "status", "ConditionedStatus", NULL},
    {"ReplicaSet", "spec", "WorkloadSpec", NULL},
    {"ReplicaSet", "status", "ConditionedStatus", NULL},
    {"Deployment", "spec", "WorkloadSpec", NULL},
    {"Deployment", "status", "ConditionedStatus", NULL},
    {"DaemonSet", "spec", "WorkloadSpec", NULL},
    {"DaemonSet", "status", "ConditionedStatus", NULL},
    {"StatefulSet", "spec", "WorkloadSpec", NULL},
    {"StatefulSet", "status", "ConditionedStatus", NULL},
    {"Job", "spec", "WorkloadSpec", NULL},
    {"Job", "status", "ConditionedStatus", NULL},
    {"WorkloadSpec", "template", "PodTemplateSpec", NULL},
    {"CronJob", "spec", "CronJobSpec", NULL},
    {"CronJobSpec", "jobTemplate", "JobTemplateSpec", NULL},
    {"JobTemplateSpec", "spec", "WorkloadSpec", NULL},
    {"ConditionedStatus", "conditions", NULL, "type"},
    {"Service", "spec", "ServiceSpec", NULL},
    {"Service", "status", "ConditionedStatus", NULL},
    {"ServiceSpec", "ports", NULL, "port"},
    {"Node", "spec", "NodeSpec", NULL},
    {"Node", "status", "NodeStatus", NULL},
    {"NodeSpec", "podCIDRs", NULL, ""},
    {"NodeStatus", "conditions", NULL, "type"},
    {"NodeStatus", "addresses", NULL, "type"},
    {"Namespace", "status", "ConditionedStatus", NULL},
};

/* Schema entry for type.field, or NULL. Every object's metadata is ObjectMeta. */
static const s_field_t *s_lookup(const char *type, const char *field)
{
    static const s_field_t meta = {"", "metadata", "ObjectMeta", NULL};
    if (!type)
        return NULL;
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++)
        if (strcmp(s_fields[i].type, type) == 0 && strcmp(s_fields[i].field, field) == 0)
            return &s_fields[i];
    if (strcmp(field, "metadata") == 0 && strcmp(type, "ObjectMeta") != 0)
        return &meta;
    return NULL;
}

/* ---- errors, worded as Go prints them ---------------------------------- */

typedef struct s_ctx {
    char *err;
    size_t errlen;
} s_ctx_t;

static int s_fail(s_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int s_fail(s_ctx_t *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return PROTO_EBADREQUEST;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's %v of a decoded JSON value ("map[image:k name:a]"), truncated to len. */
static void s_gofmt(const json_t *v, char *buf, size_t len, int depth)
{
    size_t n = 0;
    buf[0] = 0;
    if (depth > 8 || len < 8) {
        snprintf(buf, len, "...");
        return;
    }
    if (json_is_object(v)) {
        size_t cnt = json_object_size(v), i = 0;
        const char **keys = calloc(cnt ? cnt : 1, sizeof *keys);
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
        {
            keys[i++] = k;
        }
        qsort(keys, cnt, sizeof *keys, s_cmp_str);
        n += (size_t)snprintf(buf + n, len - n, "map[");
        for (i = 0; i < cnt && n < len; i++) {
            char sub[256];
            s_gofmt(json_object_get(v, keys[i]), sub, sizeof sub, depth + 1);
            n += (size_t)snprintf(buf + n, len - n, "%s%s:%s", i ? " " : "", keys[i], sub);
        }
        if (n < len)
            snprintf(buf + n, len - n, "]");
        free(keys);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        n += (size_t)snprintf(buf, len, "[");
        json_array_foreach(v, i, m)
        {
            char sub[256];
            s_gofmt(m, sub, sizeof sub, depth + 1);
            if (n < len)
                n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", sub);
        }
        if (n < len)
            snprintf(buf + n, len - n, "]");
    } else if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, len, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    } else {
        snprintf(buf, len, "<nil>");
    }
}

static int s_no_merge_key(s_ctx_t *c, const json_t *m, const char *key)
{
    char b[512];
    s_gofmt(m, b, sizeof b, 0);
    return s_fail(c, "map: %s does not contain declared merge key: %s", b, key);
}

static int s_bad_patch_type(s_ctx_t *c, const json_t *directive, const json_t *m)
{
    char d[128], b[512];
    s_gofmt(directive, d, sizeof d, 0);
    s_gofmt(m, b, sizeof b, 0);
    return s_fail(c, "unknown patch type: %s in map: %s", d, b);
}

/* ---- value helpers ------------------------------------------------------ */

/* Removes null members of objects, at every depth, in place. */
static void s_discard_nulls(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, m)
        {
            if (json_is_null(m))
                json_object_del(v, k);
            else
                s_discard_nulls(m);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
        {
            s_discard_nulls(m);
        }
    }
}

/* Drops objects carrying "$patch" (and their slot), in place; false: drop v itself. */
static bool s_remove_directives(json_t *v)
{
    if (json_is_object(v)) {
        if (json_object_get(v, S_DIRECTIVE))
            return false;
        const char *k;
        json_t *m;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, m)
        {
            if (!s_remove_directives(m))
                json_object_del(v, k);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v);) {
            if (!s_remove_directives(json_array_get(v, i)))
                json_array_remove(v, i);
            else
                i++;
        }
    }
    return true;
}

/* The value a patch sets where the target has nothing (or another type). */
static void s_set_new(json_t *orig, const char *k, const json_t *pv)
{
    json_t *v = json_deep_copy(pv);
    s_discard_nulls(v);
    if (s_remove_directives(v))
        json_object_set_new(orig, k, v);
    else {
        json_decref(v);
        json_object_del(orig, k);
    }
}

/* Go reflect kinds of decoded JSON: numbers are all float64. */
static int s_kind(const json_t *v)
{
    if (json_is_number(v))
        return JSON_REAL;
    if (json_is_boolean(v))
        return JSON_TRUE;
    return v ? (int)json_typeof(v) : -1;
}

/* ---- list order ---------------------------------------------------------- */

/* Position in list of the element matching item (by key, or by value when key is ""). */
static long s_index_of(const json_t *list, const json_t *item, const char *key)
{
    size_t i;
    json_t *m;
    const json_t *want = *key ? json_object_get(item, key) : item;
    if (!want)
        return -1;
    json_array_foreach(list, i, m)
    {
        const json_t *have = *key ? json_object_get(m, key) : m;
        if (have && json_equal(have, want))
            return (long)i;
    }
    return -1;
}

/* Stable sort of items by their position in order (unknown ones last). */
static void s_sort_by(json_t *items, const json_t *order, const char *key)
{
    size_t n = json_array_size(items);
    for (size_t i = 1; i < n; i++) {
        json_t *cur = json_incref(json_array_get(items, i));
        long ci = s_index_of(order, cur, key);
        size_t j = i;
        while (j > 0) {
            long pj = s_index_of(order, json_array_get(items, j - 1), key);
            if (ci < 0 || (pj >= 0 && pj <= ci))
                break;
            json_array_set(items, j, json_array_get(items, j - 1));
            j--;
        }
        json_array_set_new(items, j, cur);
    }
}

/*
 * Splits merged into the elements present in by (patch items) and the
 * others (server-only), sorts each by its own order, then interleaves them:
 * a server-only element goes first only when the server order puts it
 * before the next patch element. Returns a new array.
 */
static json_t *s_normalize(const json_t *merged, const json_t *by, const json_t *patch_order,
                           const json_t *server_order, const char *key)
{
    json_t *pitems = json_array(), *sonly = json_array(), *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(merged, i, m)
        json_array_append(s_index_of(by, m, key) >= 0 ? pitems : sonly, m);
    s_sort_by(pitems, patch_order, key);
    s_sort_by(sonly, server_order, key);
    size_t a = 0, b = 0, na = json_array_size(sonly), nb = json_array_size(pitems);
    while (a < na || b < nb) {
        bool left;
        if (a >= na)
            left = false;
        else if (b >= nb)
            left = true;
        else {
            long li = s_index_of(server_order, json_array_get(sonly, a), key);
            long ri = s_index_of(server_order, json_array_get(pitems, b), key);
            left = li >= 0 && ri >= 0 && li < ri;
        }
        json_array_append(out, left ? json_array_get(sonly, a++) : json_array_get(pitems, b++));
    }
    json_decref(pitems);
    json_decref(sonly);
    return out;
}

/* ---- merging -------------------------------------------------------------- */

static int s_merge_map(json_t *orig, const json_t *patch, const char *type, s_ctx_t *c, int depth);

/* Kubernetes: all elements of both lists have one type, and are not lists. */
static int s_element_kind(const json_t *a, const json_t *b, s_ctx_t *c, int *kind)
{
    const json_t *lists[2] = {a, b};
    *kind = -2;
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *m;
        json_array_foreach(lists[l], i, m)
        {
            if (*kind == -2 && json_is_array(m))
                return s_fail(c, "lists of lists are not supported");
            if (*kind != -2 && *kind != s_kind(m)) {
                char ga[400], gb[400];
                s_gofmt(a, ga, sizeof ga, 0);
                s_gofmt(b, gb, sizeof gb, 0);
                return s_fail(c, "list element types are not identical: [%s %s]", ga, gb);
            }
            *kind = s_kind(m);
        }
    }
    if (*kind == -2)
        return s_fail(c, "no elements in any of the given slices");
    return 0;
}

/* Primitive lists: union keeping first occurrences, or deletion. New array. */
static json_t *s_merge_primitives(const json_t *orig, const json_t *patch, bool del)
{
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(orig, i, m)
    {
        bool drop = del && s_index_of(patch, m, "") >= 0;
        if (!drop && (del || s_index_of(out, m, "") < 0))
            json_array_append(out, m);
    }
    if (del)
        return out;
    json_array_foreach(patch, i, m)
    {
        if (s_index_of(out, m, "") < 0)
            json_array_append(out, m);
    }
    return out;
}

/* Applies $patch elements of a list of objects; *work is the list being built. */
static int s_special_elements(json_t **work, const json_t *patch, const char *key, json_t *plain,
                              s_ctx_t *c)
{
    bool replace = false;
    size_t i;
    json_t *m;
    json_array_foreach(patch, i, m)
    {
        json_t *d = json_object_get(m, S_DIRECTIVE);
        if (!d) {
            json_array_append(plain, m);
            continue;
        }
        const char *ds = json_string_value(d);
        if (ds && strcmp(ds, "delete") == 0) {
            json_t *kv = json_object_get(m, key);
            if (!kv)
                return s_no_merge_key(c, m, key);
            for (size_t j = 0; j < json_array_size(*work);) {
                json_t *have = json_object_get(json_array_get(*work, j), key);
                if (have && json_equal(have, kv))
                    json_array_remove(*work, j);
                else
                    j++;
            }
        } else if (ds && strcmp(ds, "replace") == 0) {
            replace = true;
        } else if (ds && strcmp(ds, "merge") == 0) {
            return s_fail(c, "merging lists cannot yet be specified in the patch");
        } else {
            return s_bad_patch_type(c, d, m);
        }
    }
    if (replace) {
        json_array_clear(*work);
        json_array_extend(*work, plain);
        json_array_clear(plain);
    }
    return 0;
}

/* Lists of objects merged by key. Returns a new array in *out. */
static int s_merge_objects(const json_t *orig, const json_t *patch, const s_field_t *f, s_ctx_t *c,
                           int depth, json_t **out)
{
    json_t *work = json_deep_copy(orig), *plain = json_array();
    int rc = s_special_elements(&work, patch, f->key, plain, c);
    json_t *server = json_copy(work); /* the order the server had, after deletions */
    size_t i;
    json_t *m;
    json_array_foreach(plain, i, m)
    {
        if (rc)
            break;
        json_t *kv = json_object_get(m, f->key);
        if (!kv) {
            rc = s_no_merge_key(c, m, f->key);
            break;
        }
        long at = s_index_of(work, m, f->key);
        if (at >= 0)
            rc = s_merge_map(json_array_get(work, (size_t)at), m, f->child, c, depth + 1);
        else
            json_array_append_new(work, json_deep_copy(m));
    }
    json_array_foreach(work, i, m)
    {
        if (rc == 0 && !json_object_get(m, f->key))
            rc = s_no_merge_key(c, m, f->key);
    }
    if (rc == 0)
        *out = s_normalize(work, plain, plain, server, f->key);
    json_decref(server);
    json_decref(work);
    json_decref(plain);
    return rc;
}

/* Merges the list patch into the list orig of field f; new array in *out. */
static int s_merge_list(const json_t *orig, const json_t *patch, const s_field_t *f, bool del,
                        s_ctx_t *c, int depth, json_t **out)
{
    int kind;
    if (json_array_size(orig) == 0 && json_array_size(patch) == 0) {
        *out = json_incref((json_t *)orig);
        return 0;
    }
    int rc = s_element_kind(orig, patch, c, &kind);
    if (rc)
        return rc;
    if (kind != JSON_OBJECT) {
        json_t *merged = s_merge_primitives(orig, patch, del);
        if (del) {
            *out = merged;
            return 0;
        }
        *out = s_normalize(merged, patch, patch, orig, "");
        json_decref(merged);
        return 0;
    }
    if (!*f->key)
        return s_fail(c, "cannot merge lists without merge key for %s", f->field);
    return s_merge_objects(orig, patch, f, c, depth, out);
}

/* $patch in a map: replace it by the patch, or delete it. */
static int s_map_directive(json_t *orig, const json_t *patch, const json_t *d, s_ctx_t *c)
{
    const char *ds = json_string_value(d);
    if (ds && strcmp(ds, "replace") == 0) {
        json_t *copy = json_deep_copy(patch);
        json_object_del(copy, S_DIRECTIVE);
        json_object_clear(orig);
        json_object_update(orig, copy);
        json_decref(copy);
        return 0;
    }
    if (ds && strcmp(ds, "delete") == 0) {
        json_object_clear(orig);
        return 0;
    }
    return s_bad_patch_type(c, d, patch);
}

/* $retainKeys: drops the members of orig not listed; p loses the directive. */
static int s_retain_keys(json_t *orig, json_t *p, s_ctx_t *c)
{
    json_t *list = json_object_get(p, S_RETAIN);
    if (!list)
        return 0;
    list = json_incref(list);
    json_object_del(p, S_RETAIN);
    int rc = 0;
    const char *k;
    json_t *v;
    void *tmp;
    if (!json_is_array(list)) {
        rc = s_fail(c, "invalid patch format of retainKeys");
        goto out;
    }
    json_object_foreach(p, k, v)
    {
        json_t *ks = json_string(k);
        bool listed = s_index_of(list, ks, "") >= 0;
        json_decref(ks);
        if (!json_is_null(v) && strncmp(k, S_DELPRIM, strlen(S_DELPRIM)) != 0 &&
            strncmp(k, S_ORDER, strlen(S_ORDER)) != 0 && !listed) {
            rc = s_fail(c, "invalid patch format of retainKeys");
            goto out;
        }
    }
    json_object_foreach_safe(orig, tmp, k, v)
    {
        json_t *ks = json_string(k);
        if (s_index_of(list, ks, "") < 0)
            json_object_del(orig, k);
        json_decref(ks);
    }
out:
    json_decref(list);
    return rc;
}

/* One $setElementOrder/<field>: merges that list now and orders it as told. */
static int s_element_order(json_t *orig, json_t *p, const char *dkey, const json_t *order,
                           const char *type, s_ctx_t *c, int depth)
{
    const char *field = dkey + strlen(S_ORDER);
    json_t *ol = json_object_get(orig, field), *pl = json_object_get(p, field);
    if (!json_is_array(order) || (ol && !json_is_array(ol)) || (pl && !json_is_array(pl)))
        return s_fail(c, "invalid patch format of setElementOrder list");
    if (!ol && !pl)
        return 0;
    const s_field_t *f = s_lookup(type, field);
    const char *key = f && f->key ? f->key : "";
    json_t *merged = NULL, *empty = json_array();
    int kind, rc = s_element_kind(ol ? ol : empty, pl ? pl : empty, c, &kind);
    if (rc == 0 && ol && pl && f && f->key)
        rc = s_merge_list(ol, pl, f, false, c, depth, &merged);
    else if (rc == 0 && pl) {
        merged = json_deep_copy(pl);
        s_remove_directives(merged);
    } else if (rc == 0)
        merged = json_incref(ol);
    if (rc == 0) {
        json_t *both = s_normalize(merged, order, order, ol ? ol : empty, key);
        json_object_set_new(orig, field, both);
        json_object_del(p, field);
    }
    json_decref(merged);
    json_decref(empty);
    return rc;
}

static int s_element_orders(json_t *orig, json_t *p, const char *type, s_ctx_t *c, int depth)
{
    /* collect first: handling one directive also removes its list from p */
    json_t *keys = json_array(), *kv;
    const char *k;
    json_t *v;
    size_t i;
    int rc = 0;
    json_object_foreach(p, k, v)
    {
        if (strncmp(k, S_ORDER, strlen(S_ORDER)) == 0)
            json_array_append_new(keys, json_string(k));
    }
    json_array_foreach(keys, i, kv)
    {
        const char *dkey = json_string_value(kv);
        json_t *order = json_incref(json_object_get(p, dkey));
        json_object_del(p, dkey);
        if (order && rc == 0)
            rc = s_element_order(orig, p, dkey, order, type, c, depth);
        json_decref(order);
    }
    json_decref(keys);
    return rc;
}

/* One member of a map patch. */
static int s_merge_member(json_t *orig, const char *k, const json_t *pv, const char *type,
                          s_ctx_t *c, int depth)
{
    bool del = false;
    if (strncmp(k, S_DELPRIM, strlen(S_DELPRIM)) == 0) {
        k += strlen(S_DELPRIM);
        del = true;
    }
    if (json_is_null(pv)) {
        json_object_del(orig, k);
        return 0;
    }
    json_t *ov = json_object_get(orig, k);
    if (!ov || s_kind(ov) != s_kind(pv)) {
        if (!del)
            s_set_new(orig, k, pv);
        return 0;
    }
    const s_field_t *f = s_lookup(type, k);
    if (json_is_object(ov))
        return s_merge_map(ov, pv, f ? f->child : NULL, c, depth + 1);
    if (!json_is_array(ov) || !f || !f->key) {
        if (!del)
            json_object_set_new(orig, k, json_deep_copy(pv));
        return 0;
    }
    json_t *out = NULL;
    int rc = s_merge_list(ov, pv, f, del, c, depth + 1, &out);
    if (rc == 0)
        json_object_set_new(orig, k, out);
    return rc;
}

static int s_merge_map(json_t *orig, const json_t *patch, const char *type, s_ctx_t *c, int depth)
{
    if (depth > PROTO_PATCH_MAX_DEPTH)
        return s_fail(c, "patch nested deeper than %d levels", PROTO_PATCH_MAX_DEPTH);
    json_t *d = json_object_get(patch, S_DIRECTIVE);
    if (d)
        return s_map_directive(orig, patch, d, c);
    json_t *p = json_copy((json_t *)patch); /* shallow: directives are removed from it */
    int rc = s_retain_keys(orig, p, c);
    if (rc == 0)
        rc = s_element_orders(orig, p, type, c, depth);
    const char *k;
    json_t *pv;
    json_object_foreach(p, k, pv)
    {
        if (rc)
            break;
        rc = s_merge_member(orig, k, pv, type, c, depth);
    }
    json_decref(p);
    return rc;
}

int proto_patch_strategic(json_t *target, const json_t *patch, const char *kind, char *err,
                          size_t errlen)
{
    s_ctx_t c = {err, errlen};
    if (!json_is_object(target))
        return s_fail(&c, "the object to patch is not a JSON object");
    if (!json_is_object(patch))
        return s_fail(&c,
                      "json: cannot unmarshal %s into Go value of type "
                      "map[string]interface {}",
                      json_is_array(patch) ? "array" : "value");
    return s_merge_map(target, patch, kind, &c, 0);
}

const char *proto_patch_merge_key(const char *type, const char *field, const char **child)
{
    const s_field_t *f = field ? s_lookup(type, field) : NULL;
    if (child)
        *child = f ? f->child : NULL;
    return f ? f->key : NULL;
}
