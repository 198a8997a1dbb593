/*
 * actors/gateway/discovery.c — the documents kubectl reads before it
 * touches a resource: /api (APIVersions), /apis (APIGroupList), /apis/G
 * (APIGroup), /api/v1 and /apis/G/V (APIResourceList), and OpenAPI v3
 * (/openapi/v3 index and one document per group-version). All come from the
 * kind registry (protocol/kinds.h), so a kind added there is discovered
 * without touching the gateway.
 *
 * The OpenAPI v3 documents carry, per kind, the PATCH/POST operations with
 * their x-kubernetes-group-version-kind and the fieldValidation parameter:
 * that is what kubectl's field-validation verifier looks for before it
 * sends fieldValidation=Strict and leaves validation to the server. The
 * PATCH operations deliberately declare no request body (so no strategic
 * merge patch support): client-side apply then computes its patches from
 * kubectl's own compiled-in types, exactly as against Kubernetes. The
 * component schemas (from protocol/openapi.c) serve `kubectl explain`.
 */
#include <stdio.h>
#include <string.h>

#include "actors/gateway/gateway.h"
#include "protocol/status.h"

#define S_OPENAPI_HASH "zkube-1-32-0"

static json_t *s_words(const char *list)
{
    json_t *a = json_array();
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len)
            json_array_append_new(a, json_stringn(p, len));
        p = c ? c + 1 : p + len;
    }
    return a;
}

static json_t *s_group_version(const char *group, const char *version)
{
    char gv[96];
    snprintf(gv, sizeof gv, "%s/%s", group, version);
    return json_pack("{s:s, s:s}", "groupVersion", gv, "version", version);
}

static json_t *s_group_entry(json_t *groups, const char *group)
{
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        if (!strcmp(json_string_value(json_object_get(g, "name")), group))
            return g;
    }
    return NULL;
}

static void s_add_gv(json_t *groups, const char *group, const char *version)
{
    json_t *g = s_group_entry(groups, group), *gv = s_group_version(group, version);
    if (!g) {
        json_array_append_new(groups, json_pack("{s:s, s:[O], s:O}", "name", group, "versions", gv,
                                                "preferredVersion", gv));
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(g, "versions"), i, v)
        {
            if (!strcmp(json_string_value(json_object_get(v, "version")), version)) {
                json_decref(gv);
                return;
            }
        }
        json_array_append(json_object_get(g, "versions"), gv);
    }
    json_decref(gv);
}

/* Groups other than core, in registry order; current versions first (and
 * preferred), then the old versions the kinds convert from. */
static json_t *s_groups(void)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (proto_kind_is_stored(k) && *k->group)
            s_add_gv(groups, k->group, k->version);
    }
    char g[64], v[16];
    for (size_t i = 0; i < gw_old_gv_count(); i++)
        if (gw_old_gv_at(i, g, v))
            s_add_gv(groups, g, v);
    return groups;
}

static json_t *s_group_doc(const char *group, int *code)
{
    json_t *groups = s_groups(), *g;
    size_t i;
    json_array_foreach(groups, i, g)
    {
        if (!strcmp(json_string_value(json_object_get(g, "name")), group)) {
            json_t *doc = json_deep_copy(g);
            json_decref(groups);
            json_object_set_new(doc, "kind", json_string("APIGroup"));
            json_object_set_new(doc, "apiVersion", json_string("v1"));
            *code = 200;
            return doc;
        }
    }
    json_decref(groups);
    *code = 404;
    return proto_status_new(PROTO_ENOTFOUND, "the server could not find the requested resource",
                            NULL);
}

/* One APIResource entry for kind k's subresource sub ("status", "scale" ...). */
static json_t *s_subresource(const proto_kind_t *k, const char *sub)
{
    char name[128];
    snprintf(name, sizeof name, "%s/%s", k->resource, sub);
    json_t *e =
        json_pack("{s:s, s:s, s:b}", "name", name, "singularName", "", "namespaced", k->namespaced);
    const char *kind = k->kind, *verbs = "get,patch,update";
    if (!strcmp(sub, "scale")) {
        kind = "Scale";
        json_object_set_new(e, "group", json_string("autoscaling"));
        json_object_set_new(e, "version", json_string("v1"));
    } else if (!strcmp(sub, "binding")) {
        kind = "Binding";
        verbs = "create";
    } else if (!strcmp(sub, "log")) {
        verbs = "get";
    } else if (!strcmp(sub, "exec")) {
        kind = "PodExecOptions";
        verbs = "create,get";
    }
    json_object_set_new(e, "kind", json_string(kind));
    json_object_set_new(e, "verbs", s_words(verbs));
    return e;
}

static json_t *s_resource(const proto_kind_t *k, bool old)
{
    json_t *e =
        json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", k->resource, "singularName", k->singular,
                  "namespaced", k->namespaced, "kind", k->kind, "verbs", s_words(k->verbs));
    if (old) /* short names and "all" stay with the current version */
        return e;
    if (*k->short_names)
        json_object_set_new(e, "shortNames", s_words(k->short_names));
    if (k->in_all)
        json_object_set_new(e, "categories", json_pack("[s]", "all"));
    return e;
}

static json_t *s_resource_list(const char *group, const char *version)
{
    char gv[96];
    snprintf(gv, sizeof gv, "%s%s%s", group, *group ? "/" : "", version);
    json_t *res = json_array();
    bool old = gw_gv_is_old(group, version);
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (gw_kind_lookup(group, version, k->resource) != k)
            continue;
        json_array_append_new(res, s_resource(k, old));
        json_t *subs = s_words(k->subresources), *s;
        size_t j;
        json_array_foreach(subs, j, s)
            json_array_append_new(res, s_subresource(k, json_string_value(s)));
        json_decref(subs);
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", res);
}

/* ---- OpenAPI v3 ------------------------------------------------------------ */

static void s_index_add(json_t *paths, const char *group, const char *version)
{
    char key[128], url[200];
    if (*group)
        snprintf(key, sizeof key, "apis/%s/%s", group, version);
    else
        snprintf(key, sizeof key, "api/%s", version);
    snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", key, S_OPENAPI_HASH);
    json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
}

static json_t *s_openapi_index(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (proto_kind_is_stored(k))
            s_index_add(paths, k->group, k->version);
    }
    char g[64], v[16];
    for (size_t i = 0; i < gw_old_gv_count(); i++)
        if (gw_old_gv_at(i, g, v))
            s_index_add(paths, g, v);
    return json_pack("{s:o}", "paths", paths);
}

static json_t *s_params(bool patch)
{
    static const char *const names[] = {"dryRun", "fieldManager", "fieldValidation", "force"};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof names / sizeof names[0] - (patch ? 0 : 1); i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", names[i], "in",
                                           "query", "uniqueItems", 1, "schema", "type",
                                           i == 3 ? "boolean" : "string"));
    return a;
}

static json_t *s_operation(const proto_kind_t *k, const char *group, const char *version,
                           const char *action, bool patch)
{
    return json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:{s:{s:s}}}", "operationId", action,
                     "x-kubernetes-action", action, "parameters", s_params(patch),
                     "x-kubernetes-group-version-kind", "group", group, "version", version, "kind",
                     k->kind, "responses", "200", "description", "OK");
}

static void s_openapi_paths(json_t *paths, const proto_kind_t *k, const char *group,
                            const char *version)
{
    char base[160], coll[256], item[300];
    if (*group)
        snprintf(base, sizeof base, "/apis/%s/%s", group, version);
    else
        snprintf(base, sizeof base, "/api/%s", version);
    snprintf(coll, sizeof coll, "%s%s/%s", base, k->namespaced ? "/namespaces/{namespace}" : "",
             k->resource);
    snprintf(item, sizeof item, "%s/{name}", coll);
    json_object_set_new(paths, coll,
                        json_pack("{s:o}", "post", s_operation(k, group, version, "post", false)));
    json_object_set_new(paths, item,
                        json_pack("{s:o, s:o}", "patch",
                                  s_operation(k, group, version, "patch", true), "put",
                                  s_operation(k, group, version, "put", false)));
}

/* The kind's schema (protocol/openapi.c) under a Kubernetes-like name, for
 * `kubectl explain`. */
static void s_openapi_schema(json_t *schemas, const proto_kind_t *k, const char *group,
                             const char *version)
{
    json_t *sch = proto_schema_openapi(k);
    if (!sch)
        return;
    char name[200];
    snprintf(name, sizeof name, "io.k8s.api.%s.%s.%s", *group ? group : "core", version, k->kind);
    json_object_set_new(
        sch, "x-kubernetes-group-version-kind",
        json_pack("[{s:s, s:s, s:s}]", "group", group, "version", version, "kind", k->kind));
    json_object_set_new(schemas, name, sch);
}

static json_t *s_openapi_gv(const char *group, const char *version)
{
    json_t *paths = json_object(), *schemas = json_object();
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (gw_kind_lookup(group, version, k->resource) != k)
            continue;
        s_openapi_paths(paths, k, group, version);
        s_openapi_schema(schemas, k, group, version);
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
                     "Kubernetes", "version", "v1.32.0-zkube", "paths", paths, "components",
                     "schemas", schemas);
}

json_t *gw_discovery(const gw_route_t *r, int *code)
{
    *code = 200;
    switch (r->type) {
    case GW_R_API:
        return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                         "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                         "127.0.0.1:8080");
    case GW_R_APIS:
        return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                         s_groups());
    case GW_R_GROUP:
        return s_group_doc(r->group, code);
    case GW_R_RESLIST:
        return s_resource_list(r->group, r->version);
    case GW_R_OPENAPI_V3:
        return s_openapi_index();
    case GW_R_OPENAPI_GV:
        return s_openapi_gv(r->group, r->version);
    case GW_R_HEALTH:
        return json_string("ok");
    default:
        break;
    }
    *code = 404;
    return proto_status_new(PROTO_ENOTFOUND, "the server could not find the requested resource",
                            NULL);
}
