/*
 * tests/unit/test_gateway.c — the HTTP gateway: URL routing, Content-Type
 * and Accept handling, HTTP request -> apiserver operation translation and
 * the discovery documents (pure), then a broker + apiserver + gateway run in
 * forked children, driven over a plain TCP socket on loopback (CRUD,
 * Tables, errors, watch streams).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/test.h"

#include "actors/apiserver/apiserver.h"
#include "actors/gateway/gateway.h"
#include "broker/broker.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor.h"
#include "runtime/config.h"

/* ---- routing ---------------------------------------------------------------- */

static json_t *s_find_res(const json_t *list, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(list, "resources"), i, e)
    {
        if (!strcmp(proto_obj_str(e, "name"), name))
            return e;
    }
    return NULL;
}

TEST(route_discovery_paths)
{
    gw_route_t r;
    CHECK_EQ_INT(gw_route_parse("/version", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_VERSION);
    CHECK_EQ_INT(gw_route_parse("/api", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_API);
    CHECK_EQ_INT(gw_route_parse("/apis/", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_APIS);
    CHECK_EQ_INT(gw_route_parse("/api/v1", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_RESLIST);
    CHECK_EQ_INT(gw_route_parse("/apis/apps", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_GROUP);
    CHECK_EQ_INT(gw_route_parse("/apis/apps/v1", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_RESLIST);
    CHECK_EQ_STR(r.group, "apps");
    CHECK_EQ_INT(gw_route_parse("/openapi/v3", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_OPENAPI_V3);
    CHECK_EQ_INT(gw_route_parse("/openapi/v3/apis/batch/v1", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_OPENAPI_GV);
    CHECK_EQ_INT(gw_route_parse("/openapi/v3/api/v1", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_OPENAPI_GV);
}

TEST(route_unknown_paths)
{
    gw_route_t r;
    CHECK_EQ_INT(gw_route_parse("/", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/nope", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/api/v2", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/apis/foo.io/v1", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/apis/apps/v9", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/apis/extensions/v1beta1/namespaces/d/pods", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/api/v1/widgets", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/api/v1/namespaces/default/nodes", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/api/v1/namespaces/d/pods/a/status/x", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(gw_route_parse("/api/v1/scale", &r), PROTO_ENOTFOUND);
    CHECK_EQ_INT(r.type, GW_R_NOTFOUND);
    CHECK_EQ_INT(gw_route_parse(NULL, &r), PROTO_ENOTFOUND);
    char longp[600] = "/api/v1/namespaces/default/pods/";
    memset(longp + strlen(longp), 'a', 300);
    CHECK_EQ_INT(gw_route_parse(longp, &r), PROTO_EBADREQUEST);
    CHECK_EQ_INT(gw_route_parse("/api/v1/a/b/c/d/e/f/g/h/i/j/k/l/m/n", &r), PROTO_ENOTFOUND);
}

TEST(route_resource_paths)
{
    gw_route_t r;
    CHECK_EQ_INT(gw_route_parse("/api/v1/namespaces/default/pods", &r), 0);
    CHECK_EQ_INT(r.type, GW_R_RESOURCE);
    CHECK_EQ_STR(r.k->resource, "pods");
    CHECK_EQ_STR(r.ns, "default");
    CHECK_EQ_STR(r.name, "");
    CHECK_EQ_INT(gw_route_parse("/api/v1/namespaces/default/pods/web/status", &r), 0);
    CHECK_EQ_STR(r.name, "web");
    CHECK_EQ_STR(r.sub, "status");
    CHECK_EQ_INT(gw_route_parse("/api/v1/pods", &r), 0);
    CHECK_EQ_STR(r.ns, "");
    CHECK_EQ_INT(gw_route_parse("/api/v1/nodes/n1", &r), 0);
    CHECK_EQ_STR(r.name, "n1");
    /* namespaces/X is the namespace X; namespaces/X/status its subresource */
    CHECK_EQ_INT(gw_route_parse("/api/v1/namespaces/kube-system", &r), 0);
    CHECK_EQ_STR(r.k->resource, "namespaces");
    CHECK_EQ_STR(r.name, "kube-system");
    CHECK_EQ_INT(gw_route_parse("/api/v1/namespaces/foo/status", &r), 0);
    CHECK_EQ_STR(r.k->resource, "namespaces");
    CHECK_EQ_STR(r.sub, "status");
    CHECK_EQ_INT(gw_route_parse("/apis/apps/v1/namespaces/ns1/replicasets/rs1/scale", &r), 0);
    CHECK_EQ_STR(r.k->resource, "replicasets");
    CHECK_EQ_STR(r.sub, "scale");
    CHECK_EQ_INT(gw_route_parse("/api/v1/watch/namespaces/default/pods", &r), 0);
    CHECK(r.watch_path);
    CHECK_EQ_STR(r.k->resource, "pods");
    CHECK_EQ_INT(gw_route_parse("/apis/batch/v1/cronjobs", &r), 0);
    CHECK_EQ_STR(r.k->kind, "CronJob");
}

TEST(route_old_versions)
{
    gw_route_t r;
    CHECK_EQ_INT(gw_route_parse("/apis/extensions/v1beta1/namespaces/d/deployments/x", &r), 0);
    CHECK_EQ_STR(r.k->kind, "Deployment");
    CHECK_EQ_STR(r.k->group, "apps");
    CHECK_EQ_INT(gw_route_parse("/apis/apps/v1beta2/namespaces/d/replicasets", &r), 0);
    CHECK_EQ_STR(r.k->kind, "ReplicaSet");
    CHECK_EQ_INT(gw_route_parse("/apis/batch/v1beta1/cronjobs", &r), 0);
    CHECK(gw_gv_is_old("apps", "v1beta2"));
    CHECK(!gw_gv_is_old("apps", "v1"));
    json_t *list = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "kind", "ReplicaSetList", "apiVersion",
                             "apps/v1", "items", "kind", "ReplicaSet", "apiVersion", "apps/v1");
    gw_relabel(list, r.k, "batch", "v1beta1"); /* another kind: untouched */
    CHECK_EQ_STR(proto_obj_str(list, "apiVersion"), "apps/v1");
    REQUIRE(gw_route_parse("/apis/apps/v1beta2/namespaces/d/replicasets", &r) == 0);
    gw_relabel(list, r.k, "apps", "v1beta2");
    CHECK_EQ_STR(proto_obj_str(list, "apiVersion"), "apps/v1beta2");
    CHECK_EQ_STR(proto_obj_str(list, "items.0.apiVersion"), "apps/v1beta2");
    json_decref(list);
    int code;
    REQUIRE(gw_route_parse("/apis/extensions/v1beta1", &r) == 0);
    json_t *d = gw_discovery(&r, &code);
    CHECK_EQ_INT(code, 200);
    CHECK(s_find_res(d, "ingresses"));
    CHECK(!json_object_get(s_find_res(d, "deployments"), "shortNames"));
    json_decref(d);
}

TEST(patch_types_and_accept)
{
    CHECK_EQ_STR(gw_patch_type("application/merge-patch+json"), "merge");
    CHECK_EQ_STR(gw_patch_type("application/json-patch+json; charset=utf-8"), "json");
    CHECK_EQ_STR(gw_patch_type("application/strategic-merge-patch+json"), "strategic");
    CHECK_EQ_STR(gw_patch_type("application/apply-patch+yaml"), "apply");
    CHECK(gw_patch_type("application/json") == NULL);
    CHECK(gw_patch_type(NULL) == NULL);
    CHECK(gw_accept_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
    CHECK(gw_accept_table("application/json;as=Table;g=meta.k8s.io;v=v1"));
    CHECK(!gw_accept_table("application/json"));
    CHECK(!gw_accept_table("application/json;as=Tablex"));
    CHECK(!gw_accept_table(NULL));
}

/* ---- request translation ------------------------------------------------------- */

static int s_build(const char *method, const char *path, const char *query, const char *ctype,
                   const char *body, const char **op, json_t **out)
{
    gw_route_t r;
    json_t *q = query ? json_loads(query, 0, NULL) : NULL;
    if (gw_route_parse(path, &r) < 0) {
        json_decref(q);
        return -1;
    }
    int code = gw_request_build(method, &r, q, ctype, body, body ? strlen(body) : 0, op, out);
    json_decref(q);
    return code;
}

TEST(build_get_list_watch)
{
    const char *op;
    json_t *b = NULL;
    CHECK_EQ_INT(s_build("GET", "/api/v1/namespaces/default/pods/web", NULL, NULL, NULL, &op, &b),
                 0);
    CHECK_EQ_STR(op, "get");
    CHECK_EQ_STR(proto_obj_str(b, "name"), "web");
    CHECK_EQ_STR(proto_obj_str(b, "namespace"), "default");
    json_decref(b);
    CHECK_EQ_INT(s_build("GET", "/api/v1/pods",
                         "{\"labelSelector\":\"app=x\",\"limit\":\"500\",\"continue\":\"abc\"}",
                         NULL, NULL, &op, &b),
                 0);
    CHECK_EQ_STR(op, "list");
    CHECK_EQ_STR(proto_obj_str(b, "namespace"), "");
    CHECK_EQ_STR(proto_obj_str(b, "labelSelector"), "app=x");
    CHECK_EQ_INT(proto_obj_int(b, "limit", -1), 500);
    CHECK_EQ_STR(proto_obj_str(b, "continue"), "abc");
    json_decref(b);
    CHECK_EQ_INT(s_build("GET", "/api/v1/pods", "{\"limit\":\"x\"}", NULL, NULL, &op, &b), 400);
    json_decref(b);
    CHECK_EQ_INT(s_build("GET", "/api/v1/namespaces/default/pods",
                         "{\"watch\":\"true\",\"resourceVersion\":\"12\",\"timeoutSeconds\":\"5\"}",
                         NULL, NULL, &op, &b),
                 0);
    CHECK_EQ_STR(op, "watch");
    CHECK_EQ_STR(proto_obj_str(b, "resourceVersion"), "12");
    CHECK_EQ_INT(proto_obj_int(b, "timeoutSeconds", -1), 5);
    json_decref(b);
    CHECK_EQ_INT(s_build("GET", "/api/v1/watch/pods", NULL, NULL, NULL, &op, &b), 0);
    CHECK_EQ_STR(op, "watch");
    json_decref(b);
}

TEST(build_writes)
{
    const char *op;
    json_t *b = NULL;
    const char *pod = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}";
    CHECK_EQ_INT(s_build("POST", "/api/v1/namespaces/default/pods",
                         "{\"fieldValidation\":\"Strict\",\"dryRun\":\"All\"}", "application/json",
                         pod, &op, &b),
                 0);
    CHECK_EQ_STR(op, "create");
    CHECK_EQ_STR(proto_obj_str(b, "object.metadata.name"), "p");
    CHECK_EQ_STR(proto_obj_str(b, "fieldValidation"), "Strict");
    CHECK_EQ_STR(proto_obj_str(b, "dryRun"), "All");
    json_decref(b);
    CHECK_EQ_INT(s_build("POST", "/api/v1/namespaces/default/pods", NULL, NULL, "{bad", &op, &b),
                 400);
    CHECK_EQ_STR(proto_obj_str(b, "reason"), "BadRequest");
    json_decref(b);
    CHECK_EQ_INT(s_build("POST", "/api/v1/namespaces/other/pods", NULL, NULL,
                         "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"}}", &op, &b),
                 400);
    json_decref(b);
    CHECK_EQ_INT(s_build("POST", "/api/v1/namespaces/default/pods/p/binding", NULL, NULL,
                         "{\"target\":{\"name\":\"n1\"}}", &op, &b),
                 0);
    CHECK_EQ_STR(proto_obj_str(b, "subresource"), "binding");
    json_decref(b);
    CHECK_EQ_INT(s_build("PUT", "/apis/apps/v1/namespaces/default/replicasets/r/scale", NULL, NULL,
                         "{\"spec\":{\"replicas\":3}}", &op, &b),
                 0);
    CHECK_EQ_STR(op, "update");
    CHECK_EQ_STR(proto_obj_str(b, "subresource"), "scale");
    json_decref(b);
    CHECK_EQ_INT(s_build("PUT", "/api/v1/namespaces/default/pods", NULL, NULL, pod, &op, &b), 405);
    json_decref(b);
    CHECK_EQ_INT(s_build("POST", "/api/v1/namespaces", NULL, "application/x-yaml", "a: b", &op, &b),
                 415);
    json_decref(b);
}

TEST(build_patch_and_delete)
{
    const char *op;
    json_t *b = NULL;
    CHECK_EQ_INT(s_build("PATCH", "/api/v1/namespaces/default/pods/p", NULL,
                         "application/strategic-merge-patch+json",
                         "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", &op, &b),
                 0);
    CHECK_EQ_STR(op, "patch");
    CHECK_EQ_STR(proto_obj_str(b, "patchType"), "strategic");
    CHECK_EQ_STR(proto_obj_str(b, "patch.metadata.labels.a"), "b");
    json_decref(b);
    CHECK_EQ_INT(s_build("PATCH", "/api/v1/namespaces/default/pods/p",
                         "{\"fieldManager\":\"kubectl\",\"force\":\"true\"}",
                         "application/apply-patch+yaml",
                         "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", &op, &b),
                 0);
    CHECK_EQ_STR(proto_obj_str(b, "patchType"), "apply");
    CHECK_EQ_STR(proto_obj_str(b, "patch.kind"), "Pod");
    CHECK_EQ_STR(proto_obj_str(b, "fieldManager"), "kubectl");
    CHECK(json_is_true(json_object_get(b, "force")));
    json_decref(b);
    CHECK_EQ_INT(
        s_build("PATCH", "/api/v1/namespaces/default/pods/p", NULL, "text/plain", "{}", &op, &b),
        415);
    json_decref(b);
    CHECK_EQ_INT(
        s_build("DELETE", "/api/v1/namespaces/default/pods/p", "{\"gracePeriodSeconds\":\"0\"}",
                NULL, "{\"kind\":\"DeleteOptions\",\"propagationPolicy\":\"Foreground\"}", &op, &b),
        0);
    CHECK_EQ_STR(op, "delete");
    CHECK_EQ_STR(proto_obj_str(b, "propagationPolicy"), "Foreground");
    CHECK_EQ_INT(proto_obj_int(b, "gracePeriodSeconds", -1), 0);
    json_decref(b);
    CHECK_EQ_INT(s_build("DELETE", "/api/v1/namespaces/default/pods",
                         "{\"labelSelector\":\"app=x\"}", NULL, NULL, &op, &b),
                 0);
    CHECK_EQ_STR(op, "deletecollection");
    CHECK_EQ_STR(proto_obj_str(b, "labelSelector"), "app=x");
    json_decref(b);
    CHECK_EQ_INT(s_build("GET", "/api/v1/namespaces/default/pods/p/log", NULL, NULL, NULL, &op, &b),
                 501);
    json_decref(b);
}

/* "k8s\0" + runtime.Unknown{typeMeta{v1, KIND}, raw} as kubectl's typed
 * clients send it. */
static const char s_pb_ns[] = "k8s\0"
                              "\x0a\x0f\x0a\x02v1\x12\x09Namespace"
                              "\x12\x0f\x0a\x0d\x0a\x03"
                              "foo\x5a\x06\x0a\x01"
                              "a\x12\x01"
                              "b";
static const char s_pb_secret[] = "k8s\0"
                                  "\x0a\x0c\x0a\x02v1\x12\x06Secret"
                                  "\x12\x15\x0a\x05\x0a\x03sec\x12\x08\x0a\x01k\x12\x03\x00\xff\x01"
                                  "\x1a\x02"
                                  "ab";

TEST(protobuf_bodies)
{
    json_t *o = NULL;
    char err[300];
    REQUIRE(gw_pb_decode(s_pb_ns, sizeof s_pb_ns - 1, &o, err, sizeof err) == 0);
    CHECK_EQ_STR(proto_obj_str(o, "kind"), "Namespace");
    CHECK_EQ_STR(proto_obj_str(o, "apiVersion"), "v1");
    CHECK_EQ_STR(proto_obj_str(o, "metadata.name"), "foo");
    CHECK_EQ_STR(proto_obj_str(o, "metadata.labels.a"), "b");
    json_decref(o);
    REQUIRE(gw_pb_decode(s_pb_secret, sizeof s_pb_secret - 1, &o, err, sizeof err) == 0);
    CHECK_EQ_STR(proto_obj_str(o, "metadata.name"), "sec");
    CHECK_EQ_STR(proto_obj_str(o, "data.k"), "AP8B");
    CHECK_EQ_STR(proto_obj_str(o, "type"), "ab");
    json_decref(o);
    /* every truncation of a valid body is refused, never crashes */
    for (size_t n = 0; n < sizeof s_pb_ns - 1; n++) {
        int rc = gw_pb_decode(s_pb_ns, n, &o, err, sizeof err);
        CHECK(rc < 0 || o);
        json_decref(o);
        o = NULL;
    }
    CHECK_EQ_INT(gw_pb_decode("{}", 2, &o, err, sizeof err), PROTO_EBADREQUEST);
    const char pod[] = "k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x00";
    CHECK_EQ_INT(gw_pb_decode(pod, sizeof pod - 1, &o, err, sizeof err), PROTO_EUNSUPPORTED);
    const char *op;
    json_t *b = NULL;
    CHECK_EQ_INT(s_build("POST", "/api/v1/namespaces", NULL, "application/vnd.kubernetes.protobuf",
                         NULL, &op, &b),
                 400);
    json_decref(b);
}

/* ---- discovery ---------------------------------------------------------------- */

TEST(discovery_documents)
{
    gw_route_t r;
    int code;
    REQUIRE(gw_route_parse("/api/v1", &r) == 0);
    json_t *d = gw_discovery(&r, &code);
    CHECK_EQ_INT(code, 200);
    CHECK_EQ_STR(proto_obj_str(d, "kind"), "APIResourceList");
    json_t *pods = s_find_res(d, "pods");
    REQUIRE(pods);
    CHECK_EQ_STR(proto_obj_str(pods, "kind"), "Pod");
    CHECK_EQ_STR(proto_obj_str(pods, "shortNames.0"), "po");
    CHECK_EQ_STR(proto_obj_str(pods, "categories.0"), "all");
    CHECK(s_find_res(d, "pods/status"));
    CHECK_EQ_STR(proto_obj_str(s_find_res(d, "pods/binding"), "kind"), "Binding");
    CHECK(!s_find_res(d, "scale"));
    json_decref(d);
    REQUIRE(gw_route_parse("/apis/apps/v1", &r) == 0);
    d = gw_discovery(&r, &code);
    CHECK_EQ_STR(proto_obj_str(s_find_res(d, "replicasets/scale"), "group"), "autoscaling");
    json_decref(d);
    REQUIRE(gw_route_parse("/apis", &r) == 0);
    d = gw_discovery(&r, &code);
    CHECK_EQ_STR(proto_obj_str(d, "kind"), "APIGroupList");
    CHECK(json_array_size(json_object_get(d, "groups")) >= 3);
    json_decref(d);
    REQUIRE(gw_route_parse("/openapi/v3/apis/apps/v1", &r) == 0);
    d = gw_discovery(&r, &code);
    json_t *p = json_object_get(json_object_get(d, "paths"),
                                "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
    REQUIRE(p);
    CHECK_EQ_STR(proto_obj_str(p, "patch.x-kubernetes-group-version-kind.kind"), "Deployment");
    CHECK_EQ_STR(proto_obj_str(p, "patch.parameters.2.name"), "fieldValidation");
    json_decref(d);
}

/* ---- a live gateway ------------------------------------------------------------- */

static rt_config_t g_cfg;
static pid_t g_broker, g_api, g_gw;
static int g_port;

static pid_t s_fork(int which)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (which == 0)
        _exit(broker_run(&g_cfg) ? 1 : 0);
    if (which == 1) {
        char *argv[] = {"apiserver", "--unsafe-no-fsync", NULL};
        _exit(apisrv_main(2, argv) ? 1 : 0);
    }
    char port[16];
    snprintf(port, sizeof port, "%d", g_port);
    char *argv[] = {"gateway", "--http-port", port, NULL};
    _exit(gw_main(3, argv) ? 1 : 0);
}

/* One HTTP/1.1 exchange with Connection: close; returns the status code and
 * sets *body to the (de-chunked) body. -1 on connection failure. */
static int s_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void s_send_req(int fd, const char *method, const char *path, const char *hdrs,
                       const char *body)
{
    char head[2048];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, hdrs ? hdrs : "", blen);
    if (write(fd, head, (size_t)n) != n || (blen && write(fd, body, blen) != (ssize_t)blen))
        fprintf(stderr, "short write\n");
}

static char *s_dechunk(const char *p)
{
    size_t cap = strlen(p) + 1, len = 0;
    char *out = calloc(1, cap);
    while (*p) {
        char *end;
        unsigned long n = strtoul(p, &end, 16);
        if (end == p || !n || !(p = strstr(end, "\r\n")))
            break;
        p += 2;
        if (strlen(p) < n)
            n = strlen(p);
        memcpy(out + len, p, n);
        len += n;
        p += n;
        if (!strncmp(p, "\r\n", 2))
            p += 2;
    }
    return out;
}

static int s_http(const char *method, const char *path, const char *hdrs, const char *body,
                  char **out)
{
    *out = NULL;
    int fd = s_connect();
    if (fd < 0)
        return -1;
    s_send_req(fd, method, path, hdrs, body);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    close(fd);
    int code = 0;
    sscanf(buf, "HTTP/1.%*d %d", &code);
    char *sep = strstr(buf, "\r\n\r\n");
    const char *b = sep ? sep + 4 : "";
    *out = strcasestr(buf, "Transfer-Encoding: chunked") ? s_dechunk(b) : strdup(b);
    free(buf);
    return code;
}

/* Reads from fd until needle appears or ms pass; true when it did. */
static bool s_read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle, int ms)
{
    int64_t deadline = proto_mono_ms() + ms;
    while (!strstr(buf, needle)) {
        int left = (int)(deadline - proto_mono_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return false;
        ssize_t n = read(fd, buf + *len, cap - *len - 1);
        if (n <= 0)
            return false;
        *len += (size_t)n;
        buf[*len] = 0;
    }
    return true;
}

/* Waits for the gateway to answer; false when it died (port taken). */
static bool s_gw_ready(void)
{
    int64_t deadline = proto_mono_ms() + 15000;
    while (proto_mono_ms() < deadline) {
        if (waitpid(g_gw, NULL, WNOHANG) == g_gw) {
            g_gw = 0;
            return false;
        }
        char *b = NULL;
        int code = s_http("GET", "/api/v1/namespaces/default", NULL, NULL, &b);
        free(b);
        if (code == 200) { /* ours, unless our child dies of a taken port */
            usleep(100 * 1000);
            if (waitpid(g_gw, NULL, WNOHANG) != g_gw)
                return true;
            g_gw = 0;
            return false;
        }
        usleep(50 * 1000);
    }
    return false;
}

static void s_up(void)
{
    char home[512], err[256];
    REQUIRE(getcwd(home, sizeof home));
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    REQUIRE(rt_config_load(&g_cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&g_cfg) == 0);
    g_broker = s_fork(0);
    g_api = s_fork(1);
    bool up = false;
    for (int try = 0; try < 5 && !up; try++) {
        g_port = 20000 + (int)((getpid() + try * 7919) % 10000);
        g_gw = s_fork(2);
        up = s_gw_ready();
    }
    REQUIRE(up);
}

static void s_stop(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

static void s_down(void)
{
    s_stop(&g_gw);
    s_stop(&g_api);
    s_stop(&g_broker);
}

static const char s_pod[] = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                            "\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":"
                            "[{\"name\":\"c\",\"image\":\"busybox\"}]}}";

static int s_create_pod(const char *name, const char *app)
{
    char body[512], *out = NULL;
    snprintf(body, sizeof body, s_pod, name, app);
    int code = s_http("POST", "/api/v1/namespaces/default/pods",
                      "Content-Type: application/json\r\n", body, &out);
    free(out);
    return code;
}

TEST(live_crud_and_errors)
{
    s_up();
    char *out = NULL;
    CHECK_EQ_INT(s_http("GET", "/version", NULL, NULL, &out), 200);
    CHECK_CONTAINS(out, "\"gitVersion\"");
    free(out);
    CHECK_EQ_INT(s_create_pod("web", "a"), 201);
    CHECK_EQ_INT(s_create_pod("web", "a"), 409);
    CHECK_EQ_INT(s_http("GET", "/api/v1/namespaces/default/pods/web", NULL, NULL, &out), 200);
    CHECK_CONTAINS(out, "\"resourceVersion\"");
    free(out);
    CHECK_EQ_INT(s_http("GET", "/api/v1/namespaces/default/pods/nope", NULL, NULL, &out), 404);
    CHECK_CONTAINS(out, "pods \\\"nope\\\" not found");
    free(out);
    CHECK_EQ_INT(s_http("GET", "/api/v1/pods?labelSelector=app%3Da", NULL, NULL, &out), 200);
    CHECK_CONTAINS(out, "\"PodList\"");
    CHECK_CONTAINS(out, "\"web\"");
    free(out);
    CHECK_EQ_INT(s_http("GET", "/api/v1/namespaces/default/pods",
                        "Accept: application/json;as=Table;v=v1;g=meta.k8s.io\r\n", NULL, &out),
                 200);
    CHECK_CONTAINS(out, "\"Table\"");
    CHECK_CONTAINS(out, "\"columnDefinitions\"");
    free(out);
    CHECK_EQ_INT(s_http("PATCH", "/api/v1/namespaces/default/pods/web",
                        "Content-Type: application/merge-patch+json\r\n",
                        "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", &out),
                 200);
    CHECK_CONTAINS(out, "\"x\":\"y\"");
    free(out);
    CHECK_EQ_INT(s_http("POST", "/api/v1/namespaces/default/pods", NULL, "{nope", &out), 400);
    free(out);
    CHECK_EQ_INT(s_http("GET", "/no/such/path", NULL, NULL, &out), 404);
    CHECK_CONTAINS(out, "\"NotFound\"");
    free(out);
    CHECK_EQ_INT(s_http("DELETE", "/api/v1/namespaces/default/pods/web", NULL, NULL, &out), 200);
    free(out);
    CHECK_EQ_INT(s_http("GET", "/api/v1/namespaces/default/pods/web", NULL, NULL, &out), 404);
    free(out);
    s_down();
}

TEST(live_tables_versions_and_protobuf)
{
    s_up();
    char *out = NULL;
    CHECK_EQ_INT(s_create_pod("web", "a"), 201);
    /* includeObject=Object (kubectl --sort-by): the Table is built here */
    CHECK_EQ_INT(s_http("GET", "/api/v1/namespaces/default/pods?includeObject=Object",
                        "Accept: application/json;as=Table;v=v1;g=meta.k8s.io\r\n", NULL, &out),
                 200);
    json_t *t = json_loads(out, 0, NULL);
    free(out);
    CHECK_EQ_STR(proto_obj_str(t, "kind"), "Table");
    CHECK_EQ_STR(proto_obj_str(t, "rows.0.object.kind"), "Pod");
    CHECK_EQ_STR(proto_obj_str(t, "rows.0.object.spec.containers.0.image"), "busybox");
    json_decref(t);
    /* an old group-version: the same objects, labelled as asked */
    const char *rs = "{\"apiVersion\":\"apps/v1beta2\",\"kind\":\"ReplicaSet\",\"metadata\":"
                     "{\"name\":\"rs\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
                     "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":"
                     "{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}";
    CHECK_EQ_INT(
        s_http("POST", "/apis/apps/v1beta2/namespaces/default/replicasets", NULL, rs, &out), 201);
    free(out);
    CHECK_EQ_INT(
        s_http("GET", "/apis/apps/v1beta2/namespaces/default/replicasets/rs", NULL, NULL, &out),
        200);
    CHECK_CONTAINS(out, "\"apiVersion\":\"apps/v1beta2\"");
    free(out);
    CHECK_EQ_INT(s_http("GET", "/apis/apps/v1/namespaces/default/replicasets/rs", NULL, NULL, &out),
                 200);
    CHECK_CONTAINS(out, "\"apiVersion\":\"apps/v1\"");
    free(out);
    /* kubectl create namespace sends protobuf */
    int fd = s_connect();
    REQUIRE(fd >= 0);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Type: application/vnd.kubernetes.protobuf\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     sizeof s_pb_ns - 1);
    CHECK(write(fd, head, (size_t)n) == n);
    CHECK(write(fd, s_pb_ns, sizeof s_pb_ns - 1) == (ssize_t)(sizeof s_pb_ns - 1));
    char buf[4096] = "";
    size_t len = 0;
    CHECK(s_read_until(fd, buf, sizeof buf, &len, "\"foo\"", 5000));
    CHECK_CONTAINS(buf, " 201 ");
    close(fd);
    s_down();
}

TEST(live_body_too_large)
{
    s_up();
    int fd = s_connect();
    REQUIRE(fd >= 0);
    const char *h = "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\nContent-Length: 999999999\r\n\r\n";
    CHECK(write(fd, h, strlen(h)) == (ssize_t)strlen(h));
    char buf[4096] = "";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK(n > 0);
    CHECK_CONTAINS(buf, " 413 ");
    close(fd);
    s_down();
}

TEST(live_watch_stream)
{
    s_up();
    CHECK_EQ_INT(s_create_pod("first", "w"), 201);
    int fd = s_connect();
    REQUIRE(fd >= 0);
    s_send_req(fd, "GET", "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dw", NULL,
               NULL);
    static char buf[1 << 16];
    size_t len = 0;
    CHECK(s_read_until(fd, buf, sizeof buf, &len, "\"name\":\"first\"", 5000));
    CHECK_CONTAINS(buf, "{\"type\":\"ADDED\"");
    CHECK_EQ_INT(s_create_pod("other", "z"), 201); /* filtered out */
    CHECK_EQ_INT(s_create_pod("second", "w"), 201);
    CHECK(s_read_until(fd, buf, sizeof buf, &len, "\"name\":\"second\"", 5000));
    CHECK(!strstr(buf, "\"name\":\"other\""));
    close(fd);
    /* resume from a revision: replay from the log */
    char *out = NULL;
    CHECK_EQ_INT(s_http("GET", "/api/v1/namespaces/default/pods/first", NULL, NULL, &out), 200);
    json_t *pod = json_loads(out, 0, NULL);
    free(out);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=%s",
             proto_obj_str(pod, "metadata.resourceVersion"));
    json_decref(pod);
    fd = s_connect();
    REQUIRE(fd >= 0);
    s_send_req(fd, "GET", path, NULL, NULL);
    len = 0;
    buf[0] = 0;
    CHECK(s_read_until(fd, buf, sizeof buf, &len, "\"name\":\"second\"", 5000));
    CHECK_CONTAINS(buf, "\"name\":\"other\"");
    CHECK(!strstr(buf, "\"name\":\"first\""));
    close(fd);
    s_down();
}

/* kill -9 of the apiserver under a watch: the stream survives, and the
 * first write after the restart (retried by the gateway) shows on it. */
TEST(live_watch_survives_apiserver_restart)
{
    s_up();
    int fd = s_connect();
    REQUIRE(fd >= 0);
    s_send_req(fd, "GET", "/api/v1/namespaces/default/pods?watch=true", NULL, NULL);
    static char buf[1 << 16];
    size_t len = 0;
    CHECK_EQ_INT(s_create_pod("before", "k"), 201);
    CHECK(s_read_until(fd, buf, sizeof buf, &len, "\"name\":\"before\"", 5000));
    kill(g_api, SIGKILL);
    waitpid(g_api, NULL, 0);
    g_api = s_fork(1);
    CHECK_EQ_INT(s_create_pod("after", "k"), 201);
    CHECK(s_read_until(fd, buf, sizeof buf, &len, "\"name\":\"after\"", 10000));
    close(fd);
    s_down();
}

TEST(live_watch_bookmarks)
{
    s_up();
    int fd = s_connect();
    REQUIRE(fd >= 0);
    s_send_req(fd, "GET", "/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=true",
               NULL, NULL);
    char body[512], *out = NULL;
    snprintf(body, sizeof body, s_pod, "elsewhere", "x"); /* the store moves on elsewhere */
    CHECK_EQ_INT(s_http("POST", "/api/v1/namespaces/kube-system/pods", NULL, body, &out), 201);
    free(out);
    static char buf[1 << 16];
    size_t len = 0;
    CHECK(s_read_until(fd, buf, sizeof buf, &len, "{\"type\":\"BOOKMARK\"", 5000));
    CHECK(!strstr(buf, "elsewhere"));
    close(fd);
    s_down();
}

TEST(live_watch_timeout_ends_stream)
{
    s_up();
    char *out = NULL;
    int64_t t0 = proto_mono_ms();
    CHECK_EQ_INT(s_http("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1", NULL,
                        NULL, &out),
                 200);
    CHECK(proto_mono_ms() - t0 < 5000);
    free(out);
    s_down();
}
