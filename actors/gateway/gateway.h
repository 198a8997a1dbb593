/*
 * actors/gateway — the Kubernetes REST API over HTTP/1.1 (libmicrohttpd),
 * for the real `kubectl` and `curl`. Each HTTP request becomes one request
 * of the apiserver protocol (docs/architecture.md) sent through the broker
 * as actor "gateway", so the tap shows it; watches are fed from the event
 * bus. The gateway keeps no state of its own.
 *
 * The pure parts (URL routing, request translation, discovery documents)
 * are exported here so that tests can check them without a network.
 */
#ifndef ZK_ACTORS_GATEWAY_H
#define ZK_ACTORS_GATEWAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol/kinds.h"

#define GW_MAX_BODY (32u << 20) /* bytes of one request body (else 413) */
#define GW_NAME_MAX 253

/* `zkube gateway [--http-port N] [--http-bind ADDR]` (default 127.0.0.1:8080). */
int gw_main(int argc, char **argv);

/* What an HTTP path names. */
typedef enum gw_route_type {
    GW_R_NOTFOUND = 0,
    GW_R_VERSION,    /* /version */
    GW_R_API,        /* /api: APIVersions */
    GW_R_APIS,       /* /apis: APIGroupList */
    GW_R_GROUP,      /* /apis/{group}: APIGroup */
    GW_R_RESLIST,    /* /api/v1, /apis/{group}/{version}: APIResourceList */
    GW_R_OPENAPI_V2, /* /openapi/v2 */
    GW_R_OPENAPI_V3, /* /openapi/v3: the index of group-versions */
    GW_R_OPENAPI_GV, /* /openapi/v3/api/v1, /openapi/v3/apis/{group}/{version} */
    GW_R_RESOURCE,   /* a resource path (collection, object or subresource) */
    GW_R_HEALTH,     /* /healthz, /livez, /readyz */
} gw_route_type_t;

typedef struct gw_route {
    gw_route_type_t type;
    char group[64];             /* "" for the core group */
    char version[16];           /* "v1" */
    const proto_kind_t *k;      /* GW_R_RESOURCE: the kind of the resource */
    char ns[64];                /* "" when the path names no namespace */
    char name[GW_NAME_MAX + 1]; /* "" for a collection */
    char sub[32];               /* subresource ("status", "scale", "binding", "log" ...) or "" */
    bool watch_path;            /* legacy /watch/ prefix */
} gw_route_t;

/*
 * Parses an HTTP path (already percent-decoded, without the query) into r.
 * Returns 0, or PROTO_ENOTFOUND when the path names nothing zkube serves
 * (r->type is then GW_R_NOTFOUND), or PROTO_EBADREQUEST for a malformed
 * segment (too long, empty name).
 */
int gw_route_parse(const char *path, gw_route_t *r);

/* PATCH Content-Type to the apiserver's patchType ("merge", "json",
 * "strategic", "apply"); NULL when unsupported (415). Parameters after ';'
 * are ignored. */
const char *gw_patch_type(const char *content_type);

/* True when an Accept header asks for a meta.k8s.io Table (`as=Table`). */
bool gw_accept_table(const char *accept);

/*
 * Translates one resource request into an apiserver operation.
 *   method: "GET" "POST" "PUT" "PATCH" "DELETE"; r: a GW_R_RESOURCE route;
 *   query: the query parameters as a JSON object of strings (may be NULL);
 *   ctype: the Content-Type header (may be NULL); body/len: the request body.
 * On success returns 0 and sets *op (static string: "get", "list", "watch"
 * for a watch, "create" ...) and *out (new object: the apiserver request
 * body; for "watch" the list/watch parameters). On failure returns the HTTP
 * code and sets *out to a Kubernetes Status (caller owns).
 */
int gw_request_build(const char *method, const gw_route_t *r, const json_t *query,
                     const char *ctype, const char *body, size_t len, const char **op,
                     json_t **out);

/*
 * Discovery and OpenAPI documents for a discovery route (every type but
 * GW_R_RESOURCE and GW_R_NOTFOUND). Returns a new object and sets *code
 * (200, or 404 with a Status when the group or version is unknown).
 */
json_t *gw_discovery(const gw_route_t *r, int *code);

/*
 * Served group-versions (versions.c): each kind's current one and the old
 * ones it converts from. gw_kind_lookup finds the kind served as resource
 * (NULL: any resource) in group/version, or NULL.
 */
const proto_kind_t *gw_kind_lookup(const char *group, const char *version, const char *resource);
bool gw_gv_served(const char *group, const char *version);
/* True for an old (converted) group-version such as apps/v1beta2. */
bool gw_gv_is_old(const char *group, const char *version);
/* The i-th old group-version candidate; false when i is out of range or
 * the version serves no kind. */
size_t gw_old_gv_count(void);
bool gw_old_gv_at(size_t i, char group[64], char version[16]);
/* Labels an object (or a list and its items) of kind k with the apiVersion
 * group/version the client asked for, when it is not k's current one. */
void gw_relabel(json_t *body, const proto_kind_t *k, const char *group, const char *version);

/* A merge/strategic patch sent through an old version, converted in place
 * to the current version's shape (Ingress backends); no-op otherwise. */
void gw_patch_up(json_t *patch, const proto_kind_t *k, const char *group, const char *version);

/*
 * Decodes a Kubernetes protobuf request body ("k8s\0" + runtime.Unknown) of
 * the kinds kubectl's `create` generators send (Namespace, Secret,
 * ConfigMap) into the object's JSON form (*out, caller owns). Returns 0,
 * PROTO_EBADREQUEST when malformed, PROTO_EUNSUPPORTED for other kinds;
 * err says why.
 */
int gw_pb_decode(const char *body, size_t len, json_t **out, char *err, size_t errlen);

/* A Status object for an HTTP code with no PROTO_E* counterpart (e.g. 501
 * NotImplemented). Caller owns. */
json_t *gw_status_http(int http, const char *reason, const char *message);

#endif
