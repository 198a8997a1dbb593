/*
 * protocol/kinds — the registry of the kinds zkube serves (what the real API
 * server's discovery says of them: plural, short names, scope, verbs,
 * subresources, the "all" category) and the lookups by any name a user may
 * type. Conversion, defaulting and validation live in convert.c, defaults.c
 * and validate*.c; the schemas in schema.c.
 */
#include "protocol/kinds_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_VERBS_ALL "create,delete,deletecollection,get,list,patch,update,watch"
#define S_VERBS_NS "create,delete,get,list,patch,update,watch"

/* Stored kinds first (stable order); then the request-only kinds. */
static const proto_kind_t s_kinds[] = {
    {"Namespace", "namespaces", "namespace", "ns", "", "v1", false, false, S_VERBS_NS, "status"},
    {"Node", "nodes", "node", "no", "", "v1", false, false, S_VERBS_ALL, "status"},
    {"Pod", "pods", "pod", "po", "", "v1", true, true, S_VERBS_ALL, "status,binding,log,exec"},
    {"ReplicationController", "replicationcontrollers", "replicationcontroller", "rc", "", "v1",
     true, true, S_VERBS_ALL, "status,scale"},
    {"ReplicaSet", "replicasets", "replicaset", "rs", "apps", "v1", true, true, S_VERBS_ALL,
     "status,scale"},
    {"Deployment", "deployments", "deployment", "deploy", "apps", "v1", true, true, S_VERBS_ALL,
     "status,scale"},
    {"DaemonSet", "daemonsets", "daemonset", "ds", "apps", "v1", true, true, S_VERBS_ALL, "status"},
    {"Job", "jobs", "job", "", "batch", "v1", true, true, S_VERBS_ALL, "status"},
    {"CronJob", "cronjobs", "cronjob", "cj", "batch", "v1", true, true, S_VERBS_ALL, "status"},
    {"Service", "services", "service", "svc", "", "v1", true, true, S_VERBS_ALL, "status"},
    {"Endpoints", "endpoints", "endpoints", "ep", "", "v1", true, false, S_VERBS_ALL, ""},
    {"Secret", "secrets", "secret", "", "", "v1", true, false, S_VERBS_ALL, ""},
    {"ConfigMap", "configmaps", "configmap", "cm", "", "v1", true, false, S_VERBS_ALL, ""},
    {"Ingress", "ingresses", "ingress", "ing", "networking.k8s.io", "v1", true, false, S_VERBS_ALL,
     "status"},
    {"Event", "events", "event", "ev", "", "v1", true, false, S_VERBS_ALL, ""},
    /* not stored: the body of pods/binding, and of the scale subresources */
    {"Binding", "bindings", "binding", "", "", "v1", true, false, "create", ""},
    {"Scale", "scale", "scale", "", "autoscaling", "v1", true, false, "get,patch,update", ""},
};
#define S_NKINDS (sizeof s_kinds / sizeof s_kinds[0])

/* Old apiVersions the book's manifests use, and which kinds each serves. */
static const struct {
    const char *api_version;
    const char *kind;
} s_old[] = {
    {"apps/v1beta1", "Deployment"},
    {"apps/v1beta1", "ReplicaSet"},
    {"apps/v1beta1", "DaemonSet"},
    {"apps/v1beta2", "Deployment"},
    {"apps/v1beta2", "ReplicaSet"},
    {"apps/v1beta2", "DaemonSet"},
    {"extensions/v1beta1", "Deployment"},
    {"extensions/v1beta1", "ReplicaSet"},
    {"extensions/v1beta1", "DaemonSet"},
    {"extensions/v1beta1", "Ingress"},
    {"networking.k8s.io/v1beta1", "Ingress"},
    {"batch/v1beta1", "CronJob"},
    {"batch/v2alpha1", "CronJob"},
};

size_t proto_kind_count(void)
{
    return S_NKINDS;
}

const proto_kind_t *proto_kind_at(size_t i)
{
    return i < S_NKINDS ? &s_kinds[i] : NULL;
}

bool proto_kind_is_stored(const proto_kind_t *k)
{
    return k && strstr(k->verbs, "list") != NULL;
}

/* Is name one of the comma-separated short names (case-insensitive)? */
static bool s_in_list(const char *list, const char *name, size_t len)
{
    const char *p = list;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == len && strncasecmp(p, name, n) == 0)
            return true;
        if (!c)
            break;
        p = c + 1;
    }
    return false;
}

static bool s_name_is(const proto_kind_t *k, const char *name, size_t len)
{
    return (strlen(k->kind) == len && strncasecmp(k->kind, name, len) == 0) ||
           (strlen(k->resource) == len && strncasecmp(k->resource, name, len) == 0) ||
           (strlen(k->singular) == len && strncasecmp(k->singular, name, len) == 0) ||
           s_in_list(k->short_names, name, len);
}

/* Does qualifier ("apps", "v1.apps", "v1") name k's group (or version.group)? */
static bool s_qual_is(const proto_kind_t *k, const char *q)
{
    if (strcasecmp(q, k->group) == 0)
        return true;
    size_t vl = strlen(k->version);
    if (strncasecmp(q, k->version, vl) == 0) {
        if (q[vl] == '\0')
            return k->group[0] == '\0';
        if (q[vl] == '.')
            return strcasecmp(q + vl + 1, k->group) == 0;
    }
    return false;
}

const proto_kind_t *proto_kind_find(const char *name)
{
    if (!name || !*name || strlen(name) > 253)
        return NULL;
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    for (size_t i = 0; i < S_NKINDS; i++) {
        if (!s_name_is(&s_kinds[i], name, len))
            continue;
        if (!dot || s_qual_is(&s_kinds[i], dot + 1))
            return &s_kinds[i];
    }
    return NULL;
}

const proto_kind_t *proto_kind_by_kind(const char *api_version, const char *kind)
{
    if (!api_version || !kind)
        return NULL;
    char buf[64];
    for (size_t i = 0; i < S_NKINDS; i++)
        if (strcmp(s_kinds[i].kind, kind) == 0 &&
            strcmp(proto_kind_api_version(&s_kinds[i], buf), api_version) == 0)
            return &s_kinds[i];
    for (size_t i = 0; i < sizeof s_old / sizeof s_old[0]; i++)
        if (strcmp(s_old[i].kind, kind) == 0 && strcmp(s_old[i].api_version, api_version) == 0)
            return proto_kind_find(kind);
    return NULL;
}

const proto_kind_t *proto_kind_by_resource(const char *resource)
{
    if (!resource)
        return NULL;
    for (size_t i = 0; i < S_NKINDS; i++)
        if (strcmp(s_kinds[i].resource, resource) == 0)
            return &s_kinds[i];
    return NULL;
}

const char *proto_kind_api_version(const proto_kind_t *k, char buf[64])
{
    if (k->group[0])
        snprintf(buf, 64, "%s/%s", k->group, k->version);
    else
        snprintf(buf, 64, "%s", k->version);
    return buf;
}
