/*
 * actors/gateway/route.c — the pure half of the gateway: which Kubernetes
 * REST path names what (discovery, OpenAPI, resources), and how one HTTP
 * request on a resource becomes one apiserver operation (docs/architecture.md
 * "The apiserver protocol"). No I/O here, so tests/unit/test_gateway.c can
 * check it all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/gateway/gateway.h"
#include "protocol/manifest.h"
#include "protocol/status.h"

#define S_MAX_SEGS 12

typedef struct s_path {
    const char *seg[S_MAX_SEGS];
    size_t len[S_MAX_SEGS];
    int n;
} s_path_t;

/* Splits on '/', skipping empty segments; -1 when there are too many. */
static int s_split(const char *path, s_path_t *p)
{
    p->n = 0;
    for (const char *c = path; *c;) {
        while (*c == '/')
            c++;
        if (!*c)
            break;
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (p->n == S_MAX_SEGS)
            return -1;
        p->seg[p->n] = c;
        p->len[p->n++] = len;
        c += len;
    }
    return 0;
}

static bool s_is(const s_path_t *p, int i, const char *word)
{
    return i < p->n && p->len[i] == strlen(word) && !strncmp(p->seg[i], word, p->len[i]);
}

/* Copies segment i into buf; PROTO_EBADREQUEST when it does not fit. */
static int s_copy(const s_path_t *p, int i, char *buf, size_t n)
{
    if (p->len[i] >= n)
        return PROTO_EBADREQUEST;
    memcpy(buf, p->seg[i], p->len[i]);
    buf[p->len[i]] = 0;
    return 0;
}

static bool s_group_known(const char *group, const char *version)
{
    if (version)
        return gw_gv_served(group, version);
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (proto_kind_is_stored(k) && !strcmp(k->group, group))
            return true;
    }
    char g[64], v[16];
    for (size_t i = 0; i < gw_old_gv_count(); i++)
        if (gw_old_gv_at(i, g, v) && !strcmp(g, group))
            return true;
    return false;
}

/* The part after /api/v1 or /apis/G/V: [watch/][namespaces/NS/]RES[/NAME[/SUB]]. */
static int s_parse_resource(const s_path_t *p, int i, gw_route_t *r)
{
    char res[64];
    if (s_is(p, i, "watch")) {
        r->watch_path = true;
        i++;
    }
    /* namespaces/NS/RES... unless RES is a subresource of the namespace itself */
    if (s_is(p, i, "namespaces") && p->n - i >= 3 && !s_is(p, i + 2, "status") &&
        !s_is(p, i + 2, "finalize")) {
        if (s_copy(p, i + 1, r->ns, sizeof r->ns) < 0)
            return PROTO_EBADREQUEST;
        i += 2;
    }
    if (i >= p->n || p->n - i > 3 || s_copy(p, i, res, sizeof res) < 0)
        return PROTO_ENOTFOUND;
    r->k = gw_kind_lookup(r->group, r->version, res);
    if (!r->k || (*r->ns && !r->k->namespaced))
        return PROTO_ENOTFOUND;
    if (i + 1 < p->n && s_copy(p, i + 1, r->name, sizeof r->name) < 0)
        return PROTO_EBADREQUEST;
    if (i + 2 < p->n && s_copy(p, i + 2, r->sub, sizeof r->sub) < 0)
        return PROTO_ENOTFOUND;
    if (!strcmp(r->name, ".") || !strcmp(r->name, ".."))
        return PROTO_EBADREQUEST;
    r->type = GW_R_RESOURCE;
    return 0;
}

static int s_parse_openapi(const s_path_t *p, gw_route_t *r)
{
    if (s_is(p, 1, "v2") && p->n == 2) {
        r->type = GW_R_OPENAPI_V2;
        return 0;
    }
    if (!s_is(p, 1, "v3"))
        return PROTO_ENOTFOUND;
    if (p->n == 2) {
        r->type = GW_R_OPENAPI_V3;
        return 0;
    }
    if (s_is(p, 2, "api") && p->n == 4 && !s_copy(p, 3, r->version, sizeof r->version)) {
        r->type = GW_R_OPENAPI_GV;
        return s_group_known("", r->version) ? 0 : PROTO_ENOTFOUND;
    }
    if (s_is(p, 2, "apis") && p->n == 5 && !s_copy(p, 3, r->group, sizeof r->group) &&
        !s_copy(p, 4, r->version, sizeof r->version) && *r->group) {
        r->type = GW_R_OPENAPI_GV;
        return s_group_known(r->group, r->version) ? 0 : PROTO_ENOTFOUND;
    }
    return PROTO_ENOTFOUND;
}

static int s_parse_api(const s_path_t *p, gw_route_t *r)
{
    if (p->n == 1) {
        r->type = GW_R_API;
        return 0;
    }
    if (s_copy(p, 1, r->version, sizeof r->version) < 0 || !s_group_known("", r->version))
        return PROTO_ENOTFOUND;
    if (p->n == 2) {
        r->type = GW_R_RESLIST;
        return 0;
    }
    return s_parse_resource(p, 2, r);
}

static int s_parse_apis(const s_path_t *p, gw_route_t *r)
{
    if (p->n == 1) {
        r->type = GW_R_APIS;
        return 0;
    }
    if (s_copy(p, 1, r->group, sizeof r->group) < 0 || !*r->group || !s_group_known(r->group, NULL))
        return PROTO_ENOTFOUND;
    if (p->n == 2) {
        r->type = GW_R_GROUP;
        return 0;
    }
    if (s_copy(p, 2, r->version, sizeof r->version) < 0 || !s_group_known(r->group, r->version))
        return PROTO_ENOTFOUND;
    if (p->n == 3) {
        r->type = GW_R_RESLIST;
        return 0;
    }
    return s_parse_resource(p, 3, r);
}

int gw_route_parse(const char *path, gw_route_t *r)
{
    s_path_t p;
    memset(r, 0, sizeof *r);
    if (!path || s_split(path, &p) < 0 || p.n == 0)
        return PROTO_ENOTFOUND;
    int rc = PROTO_ENOTFOUND;
    if (s_is(&p, 0, "version") && p.n == 1) {
        r->type = GW_R_VERSION;
        rc = 0;
    } else if ((s_is(&p, 0, "healthz") || s_is(&p, 0, "livez") || s_is(&p, 0, "readyz")) &&
               p.n == 1) {
        r->type = GW_R_HEALTH;
        rc = 0;
    } else if (s_is(&p, 0, "api")) {
        rc = s_parse_api(&p, r);
    } else if (s_is(&p, 0, "apis")) {
        rc = s_parse_apis(&p, r);
    } else if (s_is(&p, 0, "openapi")) {
        rc = s_parse_openapi(&p, r);
    }
    if (rc < 0)
        r->type = GW_R_NOTFOUND;
    return rc;
}

/* ---- headers ------------------------------------------------------------- */

const char *gw_patch_type(const char *ct)
{
    static const struct {
        const char *mime, *type;
    } map[] = {
        {"application/merge-patch+json", "merge"},
        {"application/json-patch+json", "json"},
        {"application/strategic-merge-patch+json", "strategic"},
        {"application/apply-patch+yaml", "apply"},
        {"application/apply-patch+json", "apply"},
    };
    if (!ct)
        return NULL;
    while (*ct == ' ')
        ct++;
    size_t len = strcspn(ct, "; ");
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].mime) == len && !strncasecmp(ct, map[i].mime, len))
            return map[i].type;
    return NULL;
}

bool gw_accept_table(const char *accept)
{
    if (!accept)
        return false;
    /* each media range: application/json;as=Table;v=v1;g=meta.k8s.io */
    for (const char *c = accept; (c = strstr(c, "as=Table")); c += 8) {
        char end = c[8];
        if (end == 0 || end == ';' || end == ',' || end == ' ')
            return true;
    }
    return false;
}

json_t *gw_status_http(int http, const char *reason, const char *message)
{
    return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                     "metadata", "status", "Failure", "message", message, "reason", reason, "code",
                     http);
}
