/*
 * actors/gateway/versions.c — which group-versions the gateway serves: the
 * current version of every kind, plus the old versions the kinds convert
 * from (apps/v1beta2, extensions/v1beta1, batch/v1beta1 ...), so that the
 * real kubectl accepts the book's manifests unmodified: its discovery-based
 * REST mapping must find the manifest's apiVersion. Requests on an old
 * version reach the same kind (the apiserver converts written objects);
 * replies are labelled with the requested apiVersion (gw_relabel), and an
 * Ingress read through an old version gets its v1beta1 backends back
 * (serviceName/servicePort), so that kubectl's three-way apply sees no
 * change where there is none. Writes are converted by the apiserver.
 */
#include <stdio.h>
#include <string.h>

#include "actors/gateway/gateway.h"

/* Candidates for old versions; a candidate is served only when
 * proto_kind_by_kind() resolves some kind in it (the registry decides). */
static const char *const s_old_gvs[] = {
    "apps/v1beta2",  "apps/v1beta1",   "extensions/v1beta1", "networking.k8s.io/v1beta1",
    "batch/v1beta1", "batch/v2alpha1",
};

static bool s_gv_split(const char *gv, char *group, size_t gn, char *version, size_t vn)
{
    const char *slash = strchr(gv, '/');
    if (!slash || (size_t)(slash - gv) >= gn || strlen(slash + 1) >= vn)
        return false;
    snprintf(group, gn, "%.*s", (int)(slash - gv), gv);
    snprintf(version, vn, "%s", slash + 1);
    return true;
}

const proto_kind_t *gw_kind_lookup(const char *group, const char *version, const char *resource)
{
    char gv[96];
    snprintf(gv, sizeof gv, "%s%s%s", group, *group ? "/" : "", version);
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (!proto_kind_is_stored(k) || (resource && strcmp(k->resource, resource)))
            continue;
        if (!strcmp(k->group, group) && !strcmp(k->version, version))
            return k;
        if (*group && proto_kind_by_kind(gv, k->kind) == k)
            return k;
    }
    return NULL;
}

bool gw_gv_served(const char *group, const char *version)
{
    return gw_kind_lookup(group, version, NULL) != NULL;
}

bool gw_gv_is_old(const char *group, const char *version)
{
    for (size_t i = 0; i < sizeof s_old_gvs / sizeof s_old_gvs[0]; i++) {
        char g[64], v[16];
        if (s_gv_split(s_old_gvs[i], g, sizeof g, v, sizeof v) && !strcmp(g, group) &&
            !strcmp(v, version))
            return true;
    }
    return false;
}

size_t gw_old_gv_count(void)
{
    return sizeof s_old_gvs / sizeof s_old_gvs[0];
}

bool gw_old_gv_at(size_t i, char group[64], char version[16])
{
    return i < gw_old_gv_count() && s_gv_split(s_old_gvs[i], group, 64, version, 16) &&
           gw_gv_served(group, version);
}

/* networking.k8s.io/v1 backend {service: {name, port: {number|name}}} back
 * to the v1beta1 shape {serviceName, servicePort}. */
static void s_backend_down(json_t *b)
{
    json_t *svc = json_object_get(b, "service");
    if (!json_is_object(svc))
        return;
    json_t *port = json_object_get(svc, "port");
    json_t *pv = json_object_get(port, "number");
    if (!pv)
        pv = json_object_get(port, "name");
    json_object_set(b, "serviceName", json_object_get(svc, "name"));
    if (pv)
        json_object_set(b, "servicePort", pv);
    json_object_del(b, "service");
}

static void s_ingress_down(json_t *ing)
{
    json_t *spec = json_object_get(ing, "spec"), *rule, *path;
    size_t i, j;
    json_t *def = json_object_get(spec, "defaultBackend");
    if (json_is_object(def)) {
        s_backend_down(def);
        json_object_set(spec, "backend", def);
        json_object_del(spec, "defaultBackend");
    }
    json_array_foreach(json_object_get(spec, "rules"), i, rule)
    {
        json_array_foreach(json_object_get(json_object_get(rule, "http"), "paths"), j, path)
            s_backend_down(json_object_get(path, "backend"));
    }
}

/* The inverse, for patches sent through an old version: v1beta1 backends
 * become v1 ones, and paths get the pathType the conversion gives them. */
static void s_backend_up(json_t *b)
{
    json_t *name = json_object_get(b, "serviceName"), *port = json_object_get(b, "servicePort");
    if (!json_is_object(b) || (!name && !port))
        return;
    json_t *svc = json_object();
    if (name)
        json_object_set(svc, "name", name);
    if (json_is_integer(port))
        json_object_set_new(svc, "port", json_pack("{s:O}", "number", port));
    else if (json_is_string(port))
        json_object_set_new(svc, "port", json_pack("{s:O}", "name", port));
    json_object_set_new(b, "service", svc);
    json_object_del(b, "serviceName");
    json_object_del(b, "servicePort");
}

void gw_patch_up(json_t *patch, const proto_kind_t *k, const char *group, const char *version)
{
    if (!json_is_object(patch) || !k || strcmp(k->kind, "Ingress") || !gw_gv_is_old(group, version))
        return;
    json_t *spec = json_object_get(patch, "spec"), *rule, *path;
    size_t i, j;
    json_t *def = json_object_get(spec, "backend");
    if (json_is_object(def)) {
        s_backend_up(def);
        json_object_set(spec, "defaultBackend", def);
        json_object_del(spec, "backend");
    }
    json_array_foreach(json_object_get(spec, "rules"), i, rule)
    {
        json_array_foreach(json_object_get(json_object_get(rule, "http"), "paths"), j, path)
        {
            s_backend_up(json_object_get(path, "backend"));
            if (json_is_object(path) && !json_object_get(path, "pathType"))
                json_object_set_new(path, "pathType", json_string("ImplementationSpecific"));
        }
    }
}

static void s_relabel_one(json_t *obj, const char *kind, const char *api_version)
{
    const char *k = json_string_value(json_object_get(obj, "kind"));
    if (!k || strcmp(k, kind))
        return;
    json_object_set_new(obj, "apiVersion", json_string(api_version));
    if (!strcmp(kind, "Ingress"))
        s_ingress_down(obj);
}

void gw_relabel(json_t *body, const proto_kind_t *k, const char *group, const char *version)
{
    if (!json_is_object(body) || !k || (!strcmp(k->group, group) && !strcmp(k->version, version)))
        return;
    char av[96], list[160];
    snprintf(av, sizeof av, "%s%s%s", group, *group ? "/" : "", version);
    snprintf(list, sizeof list, "%sList", k->kind);
    s_relabel_one(body, k->kind, av);
    s_relabel_one(body, list, av);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(body, "items"), i, it) s_relabel_one(it, k->kind, av);
}
