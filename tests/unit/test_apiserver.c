/*
 * tests/unit/test_apiserver.c — the apiserver actor end to end: a broker and
 * an apiserver run in forked children (broker_run / apisrv_main) and every
 * operation of the protocol is exercised through rt_call_sync, plus events,
 * group commit and a crash test (kill -9 under load, no acknowledged write
 * lost).
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "actors/apiserver/apiserver.h"
#include "broker/broker.h"
#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/config.h"
#include "store/store.h"

/* ---- harness --------------------------------------------------------------- */

static rt_config_t g_cfg;
static pid_t g_broker, g_api;
static rt_actor_t *g_c;

static pid_t s_spawn_api(bool no_sync)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char *argv[] = {"apiserver", no_sync ? "--unsafe-no-fsync" : NULL, NULL};
        _exit(apisrv_main(no_sync ? 2 : 1, argv) ? 1 : 0);
    }
    return pid;
}

static int s_call(const char *op, json_t *body, json_t **out)
{
    rt_call_opts_t o = {.timeout_ms = 5000, .retries = 0};
    json_t *reply = NULL;
    int code = rt_call_sync(g_c, "apiserver", op, body, &o, &reply);
    json_decref(body);
    if (out)
        *out = reply;
    else
        json_decref(reply);
    return code;
}

/* JSON written with single quotes, for readability. */
static json_t *J(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t e;
    json_t *v = json_loads(d, JSON_DECODE_ANY, &e);
    if (!v)
        fprintf(stderr, "bad test JSON: %s: %s\n", e.text, d);
    free(d);
    return v;
}

static void s_wait_ready(void)
{
    int64_t deadline = proto_mono_ms() + 15000;
    int code = 0;
    while (code != 200 && proto_mono_ms() < deadline) {
        rt_call_opts_t o = {.timeout_ms = 500, .retries = 0};
        json_t *r = NULL;
        code = rt_call_sync(g_c, "apiserver", "version", NULL, &o, &r);
        json_decref(r);
    }
    REQUIRE(code == 200);
}

static void s_up_opts(bool no_sync)
{
    char home[512], err[256];
    REQUIRE(getcwd(home, sizeof home));
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    REQUIRE(rt_config_load(&g_cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&g_cfg) == 0);
    fflush(NULL);
    g_broker = fork();
    if (g_broker == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(broker_run(&g_cfg) ? 1 : 0);
    }
    g_api = s_spawn_api(no_sync);
    REQUIRE(rt_actor_open(&g_c, "test-client", &g_cfg, err, sizeof err) == 0);
    s_wait_ready();
}

static void s_up(void)
{
    s_up_opts(true);
}

static void s_stop(pid_t *pid, int sig)
{
    if (*pid > 0) {
        kill(*pid, sig);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

static void s_down(void)
{
    rt_actor_destroy(&g_c);
    s_stop(&g_api, SIGTERM);
    s_stop(&g_broker, SIGTERM);
}

static json_t *s_body(const char *res, const char *ns, const char *name)
{
    json_t *b = json_pack("{s:s, s:s}", "resource", res, "namespace", ns);
    if (name)
        json_object_set_new(b, "name", json_string(name));
    return b;
}

static int s_create(const char *res, const char *ns, json_t *obj, json_t **out)
{
    json_t *b = s_body(res, ns, NULL);
    json_object_set_new(b, "object", obj);
    return s_call("create", b, out);
}

static int s_get(const char *res, const char *ns, const char *name, json_t **out)
{
    return s_call("get", s_body(res, ns, name), out);
}

static int s_delete(const char *res, const char *ns, const char *name, const char *policy,
                    json_t **out)
{
    json_t *b = s_body(res, ns, name);
    if (policy)
        json_object_set_new(b, "propagationPolicy", json_string(policy));
    return s_call("delete", b, out);
}

static json_t *s_pod(const char *name, const char *app)
{
    json_t *p = J("{'apiVersion':'v1','kind':'Pod','metadata':{'name':'x'},"
                  "'spec':{'containers':[{'name':'main','image':'busybox'}]}}");
    proto_obj_set_str(p, "metadata.name", name);
    if (app)
        proto_obj_set(p, "metadata.labels", json_pack("{s:s}", "app", app));
    return p;
}

static const char *s_msg(const json_t *st)
{
    return json_string_value(json_object_get(st, "message"));
}

/* ---- basics --------------------------------------------------------------- */

TEST(version_resources_and_bootstrap)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_call("version", NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "gitVersion")), "v1.32.0-zkube");
    json_decref(r);
    CHECK_EQ_INT(s_call("resources", NULL, &r), 200);
    CHECK(json_array_size(json_object_get(r, "resources")) >= 10);
    json_decref(r);
    const char *nss[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(s_get("namespaces", "", nss[i], &r), 200);
        CHECK_EQ_STR(proto_obj_str(r, "status.phase"), "Active");
        json_decref(r);
    }
    CHECK_EQ_INT(s_get("services", "default", "kubernetes", &r), 200);
    CHECK_EQ_STR(proto_obj_str(r, "spec.clusterIP"), "10.96.0.1");
    json_decref(r);
    s_down();
}

TEST(pod_crud_and_conflicts)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("pods", "default", s_pod("web", NULL), &r), 201);
    CHECK(proto_obj_uid(r) != NULL);
    CHECK(proto_obj_str(r, "metadata.creationTimestamp") != NULL);
    CHECK_EQ_INT(proto_obj_int(r, "metadata.generation", 0), 1);
    CHECK_EQ_STR(proto_obj_str(r, "status.phase"), "Pending");
    CHECK_EQ_STR(proto_obj_str(r, "spec.restartPolicy"), "Always");
    uint64_t rv1 = proto_obj_rv(r);
    CHECK(rv1 > 0);
    json_t *pod = json_deep_copy(r);
    json_decref(r);
    CHECK_EQ_INT(s_create("pods", "default", s_pod("web", NULL), &r), 409);
    CHECK_EQ_STR(s_msg(r), "pods \"web\" already exists");
    json_decref(r);
    /* update with the current version, then with the stale one */
    proto_obj_set(pod, "metadata.labels", json_pack("{s:s}", "tier", "front"));
    json_t *b = s_body("pods", "default", "web");
    json_object_set(b, "object", pod);
    CHECK_EQ_INT(s_call("update", b, &r), 200);
    CHECK(proto_obj_rv(r) > rv1);
    CHECK_EQ_INT(proto_obj_int(r, "metadata.generation", 0), 1); /* no spec change */
    json_decref(r);
    b = s_body("pods", "default", "web");
    json_object_set(b, "object", pod);
    CHECK_EQ_INT(s_call("update", b, &r), 409);
    CHECK_CONTAINS(s_msg(r), "the object has been modified");
    json_decref(r);
    json_decref(pod);
    CHECK_EQ_INT(s_delete("pods", "default", "web", NULL, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_get("pods", "default", "web", &r), 404);
    CHECK_EQ_STR(s_msg(r), "pods \"web\" not found");
    json_decref(r);
    s_down();
}

static const char *const s_manifests[][3] = {
    {"configmaps", "cm1",
     "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cm1'},"
     "'data':{'a':'b'}}"},
    {"secrets", "s1",
     "{'apiVersion':'v1','kind':'Secret','metadata':{'name':'s1'},"
     "'stringData':{'pw':'hello'}}"},
    {"replicationcontrollers", "kubia",
     "{'apiVersion':'v1','kind':'ReplicationController','metadata':{'name':'kubia'},'spec':{"
     "'replicas':3,'selector':{'app':'kubia'},'template':{'metadata':{'labels':{'app':'kubia'}},"
     "'spec':{'containers':[{'name':'kubia','image':'luksa/kubia'}]}}}}"},
    {"replicasets", "kubia-rs",
     "{'apiVersion':'apps/v1beta2','kind':'ReplicaSet','metadata':{'name':'kubia-rs'},'spec':{"
     "'replicas':3,'selector':{'matchLabels':{'app':'kubia'}},'template':{'metadata':{'labels':"
     "{'app':'kubia'}},'spec':{'containers':[{'name':'kubia','image':'luksa/kubia'}]}}}}"},
    {"deployments", "kubia-d",
     "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'kubia-d'},'spec':{"
     "'replicas':2,'selector':{'matchLabels':{'app':'kd'}},'template':{'metadata':{'labels':"
     "{'app':'kd'}},'spec':{'containers':[{'name':'nodejs','image':'luksa/kubia:v1'}]}}}}"},
    {"daemonsets", "ssd-monitor",
     "{'apiVersion':'apps/v1','kind':'DaemonSet','metadata':{'name':'ssd-monitor'},'spec':{"
     "'selector':{'matchLabels':{'app':'ssd'}},'template':{'metadata':{'labels':{'app':'ssd'}},"
     "'spec':{'nodeSelector':{'disk':'ssd'},'containers':[{'name':'main','image':"
     "'luksa/ssd-monitor'}]}}}}"},
    {"jobs", "batch-job",
     "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'batch-job'},'spec':{'template':"
     "{'metadata':{'labels':{'app':'batch-job'}},'spec':{'restartPolicy':'OnFailure',"
     "'containers':[{'name':'main','image':'luksa/batch-job'}]}}}}"},
    {"cronjobs", "cj",
     "{'apiVersion':'batch/v1beta1','kind':'CronJob','metadata':{'name':'cj'},'spec':{"
     "'schedule':'0,15,30,45 * * * *','jobTemplate':{'spec':{'template':{'metadata':{'labels':"
     "{'app':'cj'}},'spec':{'restartPolicy':'OnFailure','containers':[{'name':'main','image':"
     "'luksa/batch-job'}]}}}}}}"},
    {"services", "kubia-svc",
     "{'apiVersion':'v1','kind':'Service','metadata':{'name':'kubia-svc'},'spec':{'ports':[{"
     "'port':80,'targetPort':8080}],'selector':{'app':'kubia'}}}"},
    {"endpoints", "ext",
     "{'apiVersion':'v1','kind':'Endpoints','metadata':{'name':'ext'},'subsets':[{'addresses':"
     "[{'ip':'11.11.11.11'}],'ports':[{'port':80}]}]}"},
    {"nodes", "n1",
     "{'apiVersion':'v1','kind':'Node','metadata':{'name':'n1'},"
     "'status':{'capacity':{'cpu':'2'}}}"},
    {"namespaces", "custom", "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'custom'}}"},
};

TEST(crud_every_kind)
{
    s_up();
    for (size_t i = 0; i < sizeof s_manifests / sizeof s_manifests[0]; i++) {
        const char *res = s_manifests[i][0], *name = s_manifests[i][1];
        bool cluster = !strcmp(res, "nodes") || !strcmp(res, "namespaces");
        const char *ns = cluster ? "" : "default";
        json_t *r = NULL;
        int code = s_create(res, ns, J(s_manifests[i][2]), &r);
        if (code != 201)
            fprintf(stderr, "  create %s: %d %s\n", res, code, s_msg(r));
        CHECK_EQ_INT(code, 201);
        json_decref(r);
        CHECK_EQ_INT(s_get(res, ns, name, &r), 200);
        CHECK_EQ_STR(proto_obj_name(r), name);
        if (!strcmp(res, "secrets")) {
            CHECK_EQ_STR(proto_obj_str(r, "data.pw"), "aGVsbG8=");
            CHECK(!json_object_get(r, "stringData"));
        }
        if (!strcmp(res, "replicasets"))
            CHECK_EQ_STR(proto_obj_str(r, "apiVersion"), "apps/v1");
        if (!strcmp(res, "services"))
            CHECK_CONTAINS(proto_obj_str(r, "spec.clusterIP"), "10.");
        if (!strcmp(res, "nodes"))
            CHECK_EQ_STR(proto_obj_str(r, "status.capacity.cpu"), "2");
        json_decref(r);
        CHECK_EQ_INT(s_call("list", s_body(res, ns, NULL), &r), 200);
        CHECK(json_array_size(json_object_get(r, "items")) >= 1);
        json_decref(r);
        CHECK_EQ_INT(s_delete(res, ns, name, NULL, &r), 200);
        json_decref(r);
        CHECK_EQ_INT(s_get(res, ns, name, &r), 404);
        json_decref(r);
    }
    s_down();
}

TEST(generate_name_and_dry_run)
{
    s_up();
    json_t *p = s_pod("", NULL), *r = NULL;
    proto_obj_del(p, "metadata.name");
    proto_obj_set_str(p, "metadata.generateName", "web-");
    CHECK_EQ_INT(s_create("pods", "default", p, &r), 201);
    const char *n = proto_obj_name(r);
    CHECK(n && strlen(n) == 9 && !strncmp(n, "web-", 4));
    for (size_t i = 4; n && i < strlen(n); i++)
        CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", n[i]) != NULL);
    json_decref(r);
    json_t *b = s_body("pods", "default", NULL);
    json_object_set_new(b, "object", s_pod("dry", NULL));
    json_object_set_new(b, "dryRun", json_string("All"));
    CHECK_EQ_INT(s_call("create", b, &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_get("pods", "default", "dry", &r), 404);
    json_decref(r);
    s_down();
}

TEST(invalid_and_bad_requests)
{
    s_up();
    json_t *r = NULL;
    json_t *p = s_pod("bad", NULL);
    json_object_set_new(json_object_get(p, "spec"), "containers", json_array());
    CHECK_EQ_INT(s_create("pods", "default", p, &r), 422);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "reason")), "Invalid");
    json_decref(r);
    p = s_pod("unk", NULL);
    proto_obj_set(p, "spec.foo", json_integer(1));
    CHECK_EQ_INT(s_create("pods", "default", p, &r), 400);
    CHECK_CONTAINS(s_msg(r), "unknown field \"spec.foo\"");
    json_decref(r);
    p = s_pod("unk", NULL);
    proto_obj_set(p, "spec.foo", json_integer(1));
    json_t *b = s_body("pods", "default", NULL);
    json_object_set_new(b, "object", p);
    json_object_set_new(b, "fieldValidation", json_string("Ignore"));
    CHECK_EQ_INT(s_call("create", b, &r), 201);
    CHECK(!proto_obj_get(r, "spec.foo"));
    json_decref(r);
    /* bodies of every wrong shape: 400, and the server keeps serving */
    const char *bad[] = {"[1,2]",
                         "{'resource':7}",
                         "{'resource':'frobs'}",
                         "{'resource':'pods','namespace':'default','name':5}",
                         "{'resource':'pods','namespace':'Bad_NS','name':'x'}",
                         "{'resource':'pods','namespace':'default'}",
                         "{'resource':'pods','namespace':'default','object':'str'}",
                         "{'resource':'pods','namespace':'default','name':'a/b'}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(s_call(i == 6 ? "create" : "get", J(bad[i]), &r), 400);
        json_decref(r);
    }
    CHECK_EQ_INT(s_call("frobnicate", json_object(), &r), 400);
    json_decref(r);
    CHECK_EQ_INT(
        s_call("list", J("{'resource':'pods','namespace':'','labelSelector':'a in ('}"), &r), 400);
    json_decref(r);
    CHECK_EQ_INT(s_call("version", NULL, &r), 200);
    json_decref(r);
    s_down();
}

/* ---- namespaces ------------------------------------------------------------ */

TEST(namespaces_missing_and_deletion)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("pods", "nope", s_pod("p", NULL), &r), 404);
    CHECK_EQ_STR(s_msg(r), "namespaces \"nope\" not found");
    json_decref(r);
    CHECK_EQ_INT(s_create("namespaces", "",
                          J("{'apiVersion':'v1','kind':'Namespace',"
                            "'metadata':{'name':'tmp'}}"),
                          &r),
                 201);
    json_decref(r);
    CHECK_EQ_INT(s_create("pods", "tmp", s_pod("p", NULL), &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_create("configmaps", "tmp", J(s_manifests[0][2]), &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_delete("namespaces", "", "tmp", NULL, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_get("pods", "tmp", "p", &r), 404);
    json_decref(r);
    CHECK_EQ_INT(s_get("configmaps", "tmp", "cm1", &r), 404);
    json_decref(r);
    CHECK_EQ_INT(s_get("namespaces", "", "tmp", &r), 404);
    json_decref(r);
    CHECK_EQ_INT(s_delete("namespaces", "", "default", NULL, &r), 403);
    json_decref(r);
    /* a finalizer keeps a namespace Terminating: nothing new may be created in it */
    CHECK_EQ_INT(s_create("namespaces", "",
                          J("{'apiVersion':'v1','kind':'Namespace','metadata':"
                            "{'name':'held','finalizers':['example.com/x']}}"),
                          &r),
                 201);
    json_decref(r);
    CHECK_EQ_INT(s_delete("namespaces", "", "held", NULL, &r), 200);
    CHECK_EQ_STR(proto_obj_str(r, "status.phase"), "Terminating");
    json_decref(r);
    CHECK_EQ_INT(s_create("pods", "held", s_pod("late", NULL), &r), 403);
    CHECK_EQ_STR(s_msg(r), "pods \"late\" is forbidden: unable to create new content in "
                           "namespace held because it is being terminated");
    json_decref(r);
    CHECK_EQ_INT(s_get("namespaces", "", "held", &r), 200);
    json_object_del(json_object_get(r, "metadata"), "finalizers");
    json_t *b = s_body("namespaces", "", "held");
    json_object_set_new(b, "object", r);
    CHECK_EQ_INT(s_call("update", b, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_get("namespaces", "", "held", &r), 404);
    json_decref(r);
    s_down();
}

/* ---- cascades ------------------------------------------------------------- */

static char *s_make_owner_and_pods(int n)
{
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("replicasets", "default", J(s_manifests[3][2]), &r), 201);
    char *uid = strdup(proto_obj_uid(r));
    json_decref(r);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "kubia-rs-%d", i);
        json_t *p = s_pod(name, "kubia");
        proto_obj_set(p, "metadata.ownerReferences",
                      json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "apps/v1", "kind",
                                "ReplicaSet", "name", "kubia-rs", "uid", uid, "controller", 1));
        CHECK_EQ_INT(s_create("pods", "default", p, &r), 201);
        json_decref(r);
    }
    return uid;
}

static size_t s_count(const char *res, const char *ns)
{
    json_t *r = NULL;
    s_call("list", s_body(res, ns, NULL), &r);
    size_t n = json_array_size(json_object_get(r, "items"));
    json_decref(r);
    return n;
}

TEST(cascade_background)
{
    s_up();
    free(s_make_owner_and_pods(3));
    CHECK_EQ_INT(s_count("pods", "default"), 3);
    json_t *r = NULL;
    CHECK_EQ_INT(s_delete("replicasets", "default", "kubia-rs", "Background", &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_count("pods", "default"), 0);
    CHECK_EQ_INT(s_count("replicasets", "default"), 0);
    s_down();
}

TEST(cascade_orphan)
{
    s_up();
    free(s_make_owner_and_pods(2));
    json_t *r = NULL;
    CHECK_EQ_INT(s_delete("replicasets", "default", "kubia-rs", "Orphan", &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_count("pods", "default"), 2);
    CHECK_EQ_INT(s_get("pods", "default", "kubia-rs-0", &r), 200);
    CHECK(!proto_obj_get(r, "metadata.ownerReferences"));
    json_decref(r);
    s_down();
}

TEST(cascade_foreground_and_finalizers)
{
    s_up();
    free(s_make_owner_and_pods(2));
    json_t *r = NULL;
    CHECK_EQ_INT(s_delete("replicasets", "default", "kubia-rs", "Foreground", &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_count("pods", "default"), 0);
    CHECK_EQ_INT(s_count("replicasets", "default"), 0);
    /* a finalizer keeps an object until an update empties the list */
    json_t *cm = J(s_manifests[0][2]);
    proto_obj_set(cm, "metadata.finalizers", json_pack("[s]", "example.com/hold"));
    CHECK_EQ_INT(s_create("configmaps", "default", cm, &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_delete("configmaps", "default", "cm1", NULL, &r), 200);
    CHECK(proto_obj_get(r, "metadata.deletionTimestamp") != NULL);
    json_decref(r);
    CHECK_EQ_INT(s_get("configmaps", "default", "cm1", &r), 200);
    json_object_del(json_object_get(r, "metadata"), "finalizers");
    json_t *b = s_body("configmaps", "default", "cm1");
    json_object_set_new(b, "object", r);
    CHECK_EQ_INT(s_call("update", b, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_get("configmaps", "default", "cm1", &r), 404);
    json_decref(r);
    s_down();
}

TEST(delete_preconditions_and_collection)
{
    s_up();
    json_t *r = NULL;
    for (int i = 0; i < 4; i++) {
        char n[16];
        snprintf(n, sizeof n, "p%d", i);
        CHECK_EQ_INT(s_create("pods", "default", s_pod(n, i % 2 ? "odd" : "even"), &r), 201);
        json_decref(r);
    }
    json_t *b = s_body("pods", "default", "p0");
    json_object_set_new(b, "preconditions", json_pack("{s:s}", "uid", "nope"));
    CHECK_EQ_INT(s_call("delete", b, &r), 409);
    CHECK_CONTAINS(s_msg(r), "Precondition failed: UID in precondition: nope");
    json_decref(r);
    b = s_body("pods", "default", NULL);
    json_object_set_new(b, "labelSelector", json_string("app=odd"));
    CHECK_EQ_INT(s_call("deletecollection", b, &r), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r, "items")), 2);
    json_decref(r);
    CHECK_EQ_INT(s_count("pods", "default"), 2);
    s_down();
}

/* ---- binding, graceful deletion, subresources ----------------------------------- */

static int s_bind(const char *pod, const char *node, json_t **out)
{
    json_t *b = s_body("pods", "default", pod);
    json_object_set_new(b, "subresource", json_string("binding"));
    json_object_set_new(b, "object",
                        json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                                  "Binding", "metadata", "name", pod, "target", "kind", "Node",
                                  "name", node));
    return s_call("create", b, out);
}

TEST(binding_and_graceful_delete)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("pods", "default", s_pod("b1", NULL), &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_bind("b1", "n1", &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_get("pods", "default", "b1", &r), 200);
    CHECK_EQ_STR(proto_obj_str(r, "spec.nodeName"), "n1");
    CHECK_EQ_STR(proto_obj_str(r, "status.conditions.0.type"), "PodScheduled");
    json_decref(r);
    CHECK_EQ_INT(s_bind("b1", "n2", &r), 409);
    CHECK_EQ_STR(s_msg(r), "Operation cannot be fulfilled on pods/binding \"b1\": pod b1 is "
                           "already assigned to node \"n1\"");
    json_decref(r);
    /* a bound pod is deleted gracefully; the kubelet finishes with grace 0 */
    CHECK_EQ_INT(s_delete("pods", "default", "b1", NULL, &r), 200);
    CHECK(proto_obj_get(r, "metadata.deletionTimestamp") != NULL);
    CHECK_EQ_INT(proto_obj_int(r, "metadata.deletionGracePeriodSeconds", -1), 30);
    json_decref(r);
    CHECK_EQ_INT(s_get("pods", "default", "b1", &r), 200);
    json_decref(r);
    json_t *b = s_body("pods", "default", "b1");
    json_object_set_new(b, "gracePeriodSeconds", json_integer(0));
    CHECK_EQ_INT(s_call("delete", b, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_get("pods", "default", "b1", &r), 404);
    json_decref(r);
    s_down();
}

TEST(status_and_scale_subresources)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("replicasets", "default", J(s_manifests[3][2]), &r), 201);
    json_t *rs = r;
    /* status update: only status moves */
    json_t *o = json_deep_copy(rs);
    proto_obj_set(o, "status", json_pack("{s:i}", "replicas", 2));
    proto_obj_set(o, "spec.replicas", json_integer(9));
    json_t *b = s_body("replicasets", "default", "kubia-rs");
    json_object_set_new(b, "subresource", json_string("status"));
    json_object_set_new(b, "object", o);
    CHECK_EQ_INT(s_call("update", b, &r), 200);
    CHECK_EQ_INT(proto_obj_int(r, "status.replicas", -1), 2);
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 3);
    json_decref(r);
    /* main update: status ignored, spec change bumps generation */
    CHECK_EQ_INT(s_get("replicasets", "default", "kubia-rs", &r), 200);
    proto_obj_set(r, "status", json_pack("{s:i}", "replicas", 7));
    proto_obj_set(r, "spec.replicas", json_integer(4));
    b = s_body("replicasets", "default", "kubia-rs");
    json_object_set_new(b, "object", r);
    CHECK_EQ_INT(s_call("update", b, &r), 200);
    CHECK_EQ_INT(proto_obj_int(r, "status.replicas", -1), 2);
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 4);
    CHECK_EQ_INT(proto_obj_int(r, "metadata.generation", -1), 2);
    json_decref(r);
    /* scale */
    b = s_body("replicasets", "default", "kubia-rs");
    json_object_set_new(b, "subresource", json_string("scale"));
    json_object_set_new(b, "object",
                        J("{'kind':'Scale','apiVersion':'autoscaling/v1',"
                          "'spec':{'replicas':5}}"));
    CHECK_EQ_INT(s_call("update", b, &r), 200);
    CHECK_EQ_STR(proto_obj_kind(r), "Scale");
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 5);
    CHECK_EQ_INT(proto_obj_int(r, "status.replicas", -1), 2);
    CHECK_EQ_STR(proto_obj_str(r, "status.selector"), "app=kubia");
    json_decref(r);
    b = s_body("replicasets", "default", "kubia-rs");
    json_object_set_new(b, "subresource", json_string("scale"));
    CHECK_EQ_INT(s_call("get", b, &r), 200);
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 5);
    json_decref(r);
    json_decref(rs);
    s_down();
}

/* ---- patches --------------------------------------------------------------- */

static int s_patch(const char *res, const char *name, const char *type, json_t *patch, json_t **out)
{
    json_t *b = s_body(res, "default", name);
    json_object_set_new(b, "patchType", json_string(type));
    json_object_set_new(b, "patch", patch);
    if (!strcmp(type, "apply"))
        json_object_set_new(b, "fieldManager", json_string("test"));
    return s_call("patch", b, out);
}

TEST(patch_merge_json_strategic_apply)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("deployments", "default", J(s_manifests[4][2]), &r), 201);
    json_decref(r);
    CHECK_EQ_INT(
        s_patch("deployments", "kubia-d", "merge", J("{'metadata':{'labels':{'x':'y'}}}"), &r),
        200);
    CHECK_EQ_STR(proto_obj_str(r, "metadata.labels.x"), "y");
    json_decref(r);
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "json",
                         J("[{'op':'replace','path':'/spec/replicas','value':6}]"), &r),
                 200);
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 6);
    CHECK_EQ_INT(proto_obj_int(r, "metadata.generation", -1), 2);
    json_decref(r);
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "strategic",
                         J("{'spec':{'template':{'spec':{'containers':[{'name':'nodejs',"
                           "'image':'luksa/kubia:v2'}]}}}}"),
                         &r),
                 200);
    CHECK_EQ_STR(proto_obj_str(r, "spec.template.spec.containers.0.image"), "luksa/kubia:v2");
    CHECK_EQ_INT(json_array_size(proto_obj_get(r, "spec.template.spec.containers")), 1);
    json_decref(r);
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "json",
                         J("[{'op':'remove','path':'/metadata/nothere'}]"), &r),
                 400);
    json_decref(r);
    /* apply: creates when absent, merges when present, records the manager */
    CHECK_EQ_INT(s_patch("configmaps", "cm1", "apply", J(s_manifests[0][2]), &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_patch("configmaps", "cm1", "apply",
                         J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cm1'},"
                           "'data':{'c':'d'}}"),
                         &r),
                 200);
    CHECK_EQ_STR(proto_obj_str(r, "data.c"), "d");
    CHECK_EQ_STR(proto_obj_str(r, "metadata.managedFields.0.manager"), "test");
    CHECK_EQ_INT(proto_obj_int(r, "metadata.generation", -1), 1); /* no spec: no bump */
    json_decref(r);
    s_down();
}

/* A merge patch shares the stored object's untouched trees (copy on write):
 * what it changes is defaulted and validated, what it leaves is not redone. */
TEST(patch_checks_what_it_changes_and_keeps_the_rest)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("deployments", "default", J(s_manifests[4][2]), &r), 201);
    json_t *spec0 = json_deep_copy(json_object_get(r, "spec"));
    json_decref(r);
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "merge", J("{'spec':{'replicas':-1}}"), &r),
                 422);
    CHECK_EQ_STR(proto_obj_str(r, "details.causes.0.field"), "spec.replicas");
    json_decref(r);
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "merge",
                         J("{'spec':{'template':{'spec':{'restartPolicy':'Sometimes'}}}}"), &r),
                 422);
    json_decref(r);
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "merge", J("{'spec':{'bogus':1}}"), &r), 400);
    CHECK_CONTAINS(json_string_value(json_object_get(r, "message")),
                   "unknown field \"spec.bogus\"");
    json_decref(r);
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "merge",
                         J("{'metadata':{'labels':{'bad key':'x'}}}"), &r),
                 422);
    json_decref(r);
    /* a metadata patch: the spec stays as stored, defaults and all */
    CHECK_EQ_INT(
        s_patch("deployments", "kubia-d", "merge", J("{'metadata':{'annotations':{'a':'1'}}}"), &r),
        200);
    CHECK(json_equal(json_object_get(r, "spec"), spec0));
    CHECK_EQ_INT(proto_obj_int(r, "metadata.generation", -1), 1);
    json_decref(r);
    /* a spec patch is defaulted anew: the dropped strategy comes back */
    CHECK_EQ_INT(s_patch("deployments", "kubia-d", "merge", J("{'spec':{'strategy':null}}"), &r),
                 200);
    CHECK_EQ_STR(proto_obj_str(r, "spec.strategy.type"), "RollingUpdate");
    json_decref(r);
    json_decref(spec0);
    s_down();
}

/* ---- lists ----------------------------------------------------------------- */

TEST(list_selectors_pages_table_stream)
{
    s_up();
    json_t *r = NULL;
    for (int i = 0; i < 5; i++) {
        char n[16];
        snprintf(n, sizeof n, "l%d", i);
        CHECK_EQ_INT(s_create("pods", "default", s_pod(n, i < 2 ? "a" : "b"), &r), 201);
        json_decref(r);
    }
    CHECK_EQ_INT(
        s_call("list", J("{'resource':'pods','namespace':'','labelSelector':'app=a'}"), &r), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r, "items")), 2);
    CHECK_EQ_STR(proto_obj_kind(r), "PodList");
    CHECK(proto_obj_str(r, "metadata.resourceVersion") != NULL);
    json_decref(r);
    CHECK_EQ_INT(s_call("list",
                        J("{'resource':'pods','namespace':'default',"
                          "'fieldSelector':'metadata.name=l3'}"),
                        &r),
                 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r, "items")), 1);
    json_decref(r);
    /* pages of 2 */
    size_t seen = 0;
    char *cont = NULL;
    for (int page = 0; page < 5; page++) {
        json_t *b = J("{'resource':'pods','namespace':'default','limit':2}");
        if (cont)
            json_object_set_new(b, "continue", json_string(cont));
        free(cont);
        cont = NULL;
        CHECK_EQ_INT(s_call("list", b, &r), 200);
        seen += json_array_size(json_object_get(r, "items"));
        const char *c = proto_obj_str(r, "metadata.continue");
        cont = c ? strdup(c) : NULL;
        json_decref(r);
        if (!cont)
            break;
    }
    CHECK_EQ_INT(seen, 5);
    free(cont);
    CHECK_EQ_INT(s_call("list", J("{'resource':'pods','namespace':'default','continue':'xx'}"), &r),
                 400);
    json_decref(r);
    CHECK_EQ_INT(s_call("list", J("{'resource':'pods','namespace':'default','as':'Table'}"), &r),
                 200);
    CHECK_EQ_STR(proto_obj_kind(r), "Table");
    CHECK_EQ_INT(json_array_size(json_object_get(r, "rows")), 5);
    json_decref(r);
    CHECK_EQ_INT(s_call("list", J("{'resource':'pods','namespace':'','stream':'pods/'}"), &r), 200);
    CHECK(proto_obj_str(r, "zkube.epoch") != NULL);
    CHECK_EQ_INT(proto_obj_int(r, "zkube.seq", -1), 5);
    json_decref(r);
    s_down();
}

TEST(watchlog_and_expired)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("pods", "default", s_pod("w0", NULL), &r), 201);
    uint64_t rv = proto_obj_rv(r);
    json_decref(r);
    for (int i = 1; i < 4; i++) {
        char n[16];
        snprintf(n, sizeof n, "w%d", i);
        CHECK_EQ_INT(s_create("pods", "default", s_pod(n, NULL), &r), 201);
        json_decref(r);
    }
    json_t *b = json_pack("{s:I, s:s, s:s}", "from", (json_int_t)rv, "resource", "pods",
                          "namespace", "default");
    CHECK_EQ_INT(s_call("watchlog", b, &r), 200);
    json_t *evs = json_object_get(r, "events");
    CHECK_EQ_INT(json_array_size(evs), 3);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(evs, 0), "type")), "ADDED");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(evs, 0), "rev")), rv + 1);
    json_decref(r);
    /* compact with the apiserver stopped, then a watch from before: 410 */
    s_stop(&g_api, SIGTERM);
    store_t *st = NULL;
    char err[256], dir[PATH_MAX];
    REQUIRE(store_open(&st, rt_path(&g_cfg, "data", dir, sizeof dir), NULL, err, sizeof err) == 0);
    CHECK_EQ_INT(store_compact(st, 2), 0);
    uint64_t oldest = store_oldest_rev(st);
    store_destroy(&st);
    g_api = s_spawn_api(true);
    s_wait_ready();
    CHECK_EQ_INT(s_call("watchlog", json_pack("{s:i}", "from", 1), &r), 410);
    char want[128];
    snprintf(want, sizeof want, "too old resource version: 1 (%llu)", (unsigned long long)oldest);
    CHECK_EQ_STR(s_msg(r), want);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "reason")), "Expired");
    json_decref(r);
    s_down();
}

/* ---- services -------------------------------------------------------------- */

TEST(service_ips_and_node_ports)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("services", "default",
                          J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'np'},"
                            "'spec':{'type':'NodePort','ports':[{'port':80,'nodePort':30123}]}}"),
                          &r),
                 201);
    CHECK_EQ_INT(proto_obj_int(r, "spec.ports.0.nodePort", 0), 30123);
    json_decref(r);
    CHECK_EQ_INT(s_create("services", "default",
                          J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'np2'},"
                            "'spec':{'type':'NodePort','ports':[{'port':80,'nodePort':30123}]}}"),
                          &r),
                 422);
    CHECK_CONTAINS(s_msg(r), "provided port is already allocated");
    json_decref(r);
    CHECK_EQ_INT(s_create("services", "default",
                          J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'np3'},"
                            "'spec':{'type':'NodePort','ports':[{'port':80}]}}"),
                          &r),
                 201);
    json_int_t np = proto_obj_int(r, "spec.ports.0.nodePort", 0);
    CHECK(np >= 30000 && np <= 32767 && np != 30123);
    json_decref(r);
    CHECK_EQ_INT(s_create("services", "default",
                          J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'ip'},"
                            "'spec':{'clusterIP':'10.96.0.1','ports':[{'port':80}]}}"),
                          &r),
                 422);
    CHECK_CONTAINS(s_msg(r), "provided IP is already allocated");
    json_decref(r);
    CHECK_EQ_INT(s_create("services", "default",
                          J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'hl'},"
                            "'spec':{'clusterIP':'None','ports':[{'port':80}]}}"),
                          &r),
                 201);
    CHECK_EQ_STR(proto_obj_str(r, "spec.clusterIP"), "None");
    json_decref(r);
    CHECK_EQ_INT(s_create("services", "default",
                          J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'ext'},"
                            "'spec':{'type':'ExternalName','externalName':'api.example.com'}}"),
                          &r),
                 201);
    CHECK(!proto_obj_str(r, "spec.clusterIP") || !*proto_obj_str(r, "spec.clusterIP"));
    json_decref(r);
    /* an update that omits clusterIP keeps it; leaving NodePort frees the port */
    CHECK_EQ_INT(s_get("services", "default", "np3", &r), 200);
    char ip[32];
    snprintf(ip, sizeof ip, "%s", proto_obj_str(r, "spec.clusterIP"));
    json_decref(r);
    json_t *b = s_body("services", "default", "np3");
    json_object_set_new(b, "object",
                        J("{'apiVersion':'v1','kind':'Service','metadata':{'name':"
                          "'np3'},'spec':{'type':'ClusterIP','ports':[{'port':80}]}}"));
    CHECK_EQ_INT(s_call("update", b, &r), 200);
    CHECK_EQ_STR(proto_obj_str(r, "spec.clusterIP"), ip);
    CHECK(!proto_obj_get(r, "spec.ports.0.nodePort"));
    json_decref(r);
    json_t *taker = J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'np4'},"
                      "'spec':{'type':'NodePort','ports':[{'port':80}]}}");
    json_object_set_new(json_array_get(proto_obj_get(taker, "spec.ports"), 0), "nodePort",
                        json_integer(np));
    CHECK_EQ_INT(s_create("services", "default", taker, &r), 201);
    json_decref(r);
    /* a deleted service's node port is free again */
    CHECK_EQ_INT(s_delete("services", "default", "np", NULL, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_create("services", "default",
                          J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'np2'},"
                            "'spec':{'type':'NodePort','ports':[{'port':80,'nodePort':30123}]}}"),
                          &r),
                 201);
    json_decref(r);
    s_down();
}

/* ---- events and group commit ------------------------------------------------- */

typedef struct s_seen {
    json_t *events; /* [{topic, type, seq, rev}] */
} s_seen_t;

static void s_on_event(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    (void)a;
    s_seen_t *s = arg;
    json_array_append_new(s->events,
                          json_pack("{s:s, s:s?, s:I, s:I, s:s?}", "topic", topic, "type",
                                    json_string_value(json_object_get(env->body, "type")), "seq",
                                    json_integer_value(json_object_get(env->body, "seq")), "rev",
                                    json_integer_value(json_object_get(env->body, "rev")), "name",
                                    proto_obj_name(json_object_get(env->body, "object"))));
}

static void s_wait_events(s_seen_t *seen, size_t n)
{
    int64_t deadline = proto_mono_ms() + 5000;
    while (json_array_size(seen->events) < n && proto_mono_ms() < deadline)
        rt_run_for(g_c, 50);
}

TEST(events_in_order_with_gapless_seqs)
{
    s_up();
    s_seen_t seen = {json_array()}, node = {json_array()};
    REQUIRE(rt_subscribe(g_c, "pods/", s_on_event, &seen) == 0);
    REQUIRE(rt_subscribe(g_c, "node/n1/pods/", s_on_event, &node) == 0);
    json_t *r = NULL;
    /* the subscription reaches the broker asynchronously: probe until seen */
    for (int i = 0; i < 50 && json_array_size(seen.events) == 0; i++) {
        char n[16];
        snprintf(n, sizeof n, "probe%d", i);
        s_create("pods", "default", s_pod(n, NULL), NULL);
        rt_run_for(g_c, 100);
    }
    REQUIRE(json_array_size(seen.events) > 0);
    s_wait_events(&seen, 0);
    rt_run_for(g_c, 200);
    size_t base = json_array_size(seen.events);
    for (int i = 0; i < 10; i++) {
        char n[16];
        snprintf(n, sizeof n, "e%d", i);
        CHECK_EQ_INT(s_create("pods", "default", s_pod(n, NULL), &r), 201);
        json_decref(r);
    }
    CHECK_EQ_INT(s_bind("e0", "n1", &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_delete("pods", "default", "e1", NULL, &r), 200);
    json_decref(r);
    json_t *b = s_body("pods", "default", "e0");
    json_object_set_new(b, "gracePeriodSeconds", json_integer(0));
    CHECK_EQ_INT(s_call("delete", b, &r), 200);
    json_decref(r);
    s_wait_events(&seen, base + 13);
    s_wait_events(&node, 2);
    CHECK_EQ_INT(json_array_size(seen.events), base + 13);
    json_int_t prev_seq = 0, prev_rev = 0;
    size_t i;
    json_t *e;
    json_array_foreach(seen.events, i, e)
    {
        json_int_t seq = json_integer_value(json_object_get(e, "seq"));
        json_int_t rev = json_integer_value(json_object_get(e, "rev"));
        if (i > 0) {
            CHECK_EQ_INT(seq, prev_seq + 1);
            CHECK(rev > prev_rev);
        }
        prev_seq = seq;
        prev_rev = rev;
    }
    json_t *last = json_array_get(seen.events, base + 12);
    CHECK_EQ_STR(json_string_value(json_object_get(last, "type")), "DELETED");
    CHECK_EQ_STR(json_string_value(json_object_get(last, "topic")), "pods/default/e0");
    CHECK_EQ_INT(json_array_size(node.events), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(node.events, 0), "type")),
                 "ADDED");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(node.events, 1), "type")),
                 "DELETED");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(node.events, 1), "seq")), 2);
    json_decref(seen.events);
    json_decref(node.events);
    s_down();
}

typedef struct s_acks {
    int n, ok;
    json_t *revs;
} s_acks_t;

static void s_on_ack(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a;
    s_acks_t *acks = arg;
    acks->n++;
    if (code == 201) {
        acks->ok++;
        json_array_append_new(acks->revs, json_integer((json_int_t)proto_obj_rv(body)));
    }
}

static int s_cmp_int(const void *x, const void *y)
{
    json_int_t a = *(const json_int_t *)x, b = *(const json_int_t *)y;
    return a < b ? -1 : a > b;
}

TEST(group_commit_many_async_creates)
{
    s_up();
    enum { N = 60 };
    s_acks_t acks = {0, 0, json_array()};
    for (int i = 0; i < N; i++) {
        char n[16];
        snprintf(n, sizeof n, "g%d", i);
        json_t *b = s_body("pods", "default", NULL);
        json_object_set_new(b, "object", s_pod(n, NULL));
        REQUIRE(rt_call(g_c, "apiserver", "create", b, NULL, s_on_ack, &acks) == 0);
        json_decref(b);
    }
    int64_t deadline = proto_mono_ms() + 10000;
    while (acks.n < N && proto_mono_ms() < deadline)
        rt_run_for(g_c, 50);
    CHECK_EQ_INT(acks.ok, N);
    json_int_t revs[N];
    for (size_t i = 0; i < N && i < json_array_size(acks.revs); i++)
        revs[i] = json_integer_value(json_array_get(acks.revs, i));
    qsort(revs, (size_t)acks.ok, sizeof revs[0], s_cmp_int);
    for (int i = 1; i < acks.ok; i++)
        CHECK_EQ_INT(revs[i], revs[i - 1] + 1);
    json_decref(acks.revs);
    CHECK_EQ_INT(s_count("pods", "default"), N);
    s_down();
}

/* ---- crash: kill -9 under load, no acknowledged write lost --------------------- */

static void s_writer(const char *ackfile)
{
    char err[256];
    rt_actor_t *c = NULL;
    if (rt_actor_open(&c, "crash-writer", &g_cfg, err, sizeof err) < 0)
        _exit(2);
    FILE *f = fopen(ackfile, "w");
    for (int i = 0; access("stop", F_OK) != 0 && i < 100000; i++) {
        char n[32];
        snprintf(n, sizeof n, "c%d", i);
        json_t *b = s_body("configmaps", "default", NULL);
        json_object_set_new(b, "object",
                            json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind",
                                      "ConfigMap", "metadata", "name", n, "data", "i", n));
        rt_call_opts_t o = {.timeout_ms = 1500, .retries = 1};
        json_t *r = NULL;
        int code = rt_call_sync(c, "apiserver", "create", b, &o, &r);
        json_decref(b);
        json_decref(r);
        if (code == 201) {
            fprintf(f, "%s\n", n);
            fflush(f);
        }
    }
    fclose(f);
    rt_actor_destroy(&c);
    _exit(0);
}

TEST(crash_kill9_loses_no_acknowledged_write)
{
    s_up_opts(false);
    fflush(NULL);
    pid_t w = fork();
    if (w == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        s_writer("acks");
    }
    int64_t end = proto_mono_ms() + 20000;
    int kills = 0;
    while (kills < 12 && proto_mono_ms() < end) {
        usleep(250000 + (unsigned)(rand() % 300000));
        kill(g_api, SIGKILL);
        waitpid(g_api, NULL, 0);
        kills++;
        g_api = s_spawn_api(false);
        usleep(100000);
    }
    CHECK(kills >= 10);
    s_wait_ready();
    usleep(500000);
    FILE *stop = fopen("stop", "w");
    if (stop)
        fclose(stop);
    int st = 0;
    waitpid(w, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    json_t *r = NULL;
    CHECK_EQ_INT(s_call("list", J("{'resource':'configmaps','namespace':'default'}"), &r), 200);
    json_t *have = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "items"), i, o)
        json_object_set_new(have, proto_obj_name(o), json_true());
    json_decref(r);
    FILE *f = fopen("acks", "r");
    REQUIRE(f);
    char line[64];
    int acked = 0, lost = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        acked++;
        if (!json_object_get(have, line)) {
            lost++;
            fprintf(stderr, "  lost acknowledged write %s\n", line);
        }
    }
    fclose(f);
    json_decref(have);
    fprintf(stderr, "  crash test: %d kills, %d acknowledged writes, %d lost\n", kills, acked,
            lost);
    CHECK(acked > 0);
    CHECK_EQ_INT(lost, 0);
    s_down();
    /* the store opens cleanly afterwards */
    store_t *s = NULL;
    char err[256], dir[PATH_MAX];
    CHECK_EQ_INT(store_open(&s, rt_path(&g_cfg, "data", dir, sizeof dir), NULL, err, sizeof err),
                 0);
    store_destroy(&s);
}

/* ---- retried requests: answered from the reply cache ---------------------------- */

/* A DEALER with routing id rid, connected to the broker; NULL on failure. */
static void *s_raw_dealer(void *ctx, const char *rid)
{
    rt_endpoints_t eps;
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(d, ZMQ_ROUTING_ID, rid, strlen(rid));
    if (rt_endpoints_from(g_cfg.broker, &eps) == 0 && zmq_connect(d, eps.router) == 0)
        return d;
    zmq_close(d);
    return NULL;
}

static int s_raw_send(void *dealer, uint64_t id, const char *name)
{
    json_t *b = s_body("configmaps", "default", NULL);
    json_object_set_new(b, "object",
                        json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                                  "metadata", "name", name));
    proto_env_t e;
    proto_env_init(&e, PROTO_T_REQ, id, "dup-client", "apiserver", "create", b);
    json_decref(b);
    char *buf = NULL;
    size_t len = 0;
    int rc = proto_env_pack(&e, &buf, &len);
    proto_env_clear(&e);
    if (rc < 0)
        return rc;
    zmq_send(dealer, "REQ", 3, ZMQ_SNDMORE);
    zmq_send(dealer, "apiserver", 9, ZMQ_SNDMORE);
    zmq_send(dealer, buf, len, 0);
    free(buf);
    return 0;
}

/* The next reply (heartbeats skipped): its code, body and request id. */
static int s_raw_recv(void *dealer, json_t **reply, uint64_t *id)
{
    int timeout = 5000;
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    for (;;) { /* the reply is [REP][service][envelope] */
        zmq_msg_t f[3];
        int n = 0, more = 1, rc;
        proto_env_t e;
        while (more && n < 3) {
            zmq_msg_init(&f[n]);
            if (zmq_msg_recv(&f[n], dealer, 0) < 0)
                return -1;
            more = zmq_msg_more(&f[n]);
            n++;
        }
        bool rep = n == 3 && zmq_msg_size(&f[0]) == 3 && !memcmp(zmq_msg_data(&f[0]), "REP", 3);
        char err[128];
        rc = rep ? proto_env_unpack(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]), &e, err, sizeof err)
                 : -1;
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        if (rep && rc == 0) {
            *reply = json_incref(e.body);
            *id = e.id;
            int code = e.code;
            proto_env_clear(&e);
            return code;
        }
    }
}

static int s_raw_create(void *dealer, uint64_t id, const char *name, json_t **reply)
{
    uint64_t got;
    int rc = s_raw_send(dealer, id, name);
    return rc < 0 ? rc : s_raw_recv(dealer, reply, &got);
}

TEST(retried_request_answered_from_cache)
{
    s_up();
    void *ctx = zmq_ctx_new();
    void *d = s_raw_dealer(ctx, "dup-client#1");
    REQUIRE(d != NULL);
    json_t *r1 = NULL, *r2 = NULL, *r3 = NULL;
    CHECK_EQ_INT(s_raw_create(d, 77, "dup", &r1), 201);
    CHECK_EQ_INT(s_raw_create(d, 77, "dup", &r2), 201); /* same id: same answer */
    CHECK_EQ_STR(proto_obj_uid(r2), proto_obj_uid(r1));
    CHECK_EQ_INT(s_raw_create(d, 78, "dup", &r3), 409); /* new id: applied again */
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    zmq_close(d);
    zmq_ctx_term(ctx);
    s_down();
}

/* Retries: the copy arrives while the first waits in the batch, for the
 * sync of its commit, or after its reply (delays 0 to 2 ms spread over
 * those); every time one write, the same answer. */
TEST(retried_request_while_first_is_pending)
{
    s_up_opts(false); /* with fsync: committed batches wait for the committer */
    void *ctx = zmq_ctx_new();
    void *d = s_raw_dealer(ctx, "dup-client#2");
    REQUIRE(d != NULL);
    for (int i = 0; i < 100; i++) { /* the loop syncs itself but for 1 batch in 16 */
        char name[32];
        snprintf(name, sizeof name, "pend-%d", i);
        CHECK_EQ_INT(s_raw_send(d, 1000 + (uint64_t)i, name), 0);
        struct timespec ts = {0, (long)(i % 20) * 100000};
        nanosleep(&ts, NULL);
        CHECK_EQ_INT(s_raw_send(d, 1000 + (uint64_t)i, "pend-other-name"), 0); /* the retry */
        json_t *r1 = NULL, *r2 = NULL;
        uint64_t id1 = 0, id2 = 0;
        CHECK_EQ_INT(s_raw_recv(d, &r1, &id1), 201);
        CHECK_EQ_INT(s_raw_recv(d, &r2, &id2), 201);
        CHECK(id1 == 1000 + (uint64_t)i && id2 == id1);
        CHECK_EQ_STR(proto_obj_uid(r2), proto_obj_uid(r1));
        json_decref(r1);
        json_decref(r2);
    }
    json_t *o = NULL;
    CHECK_EQ_INT(s_call("get", s_body("configmaps", "default", "pend-other-name"), &o), 404);
    json_decref(o);
    zmq_close(d);
    zmq_ctx_term(ctx);
    s_down();
}

/* ---- bad input never crashes the server ---------------------------------------- */

TEST(odd_bodies_for_every_op)
{
    s_up();
    const char *ops[] = {"get",   "list",   "create",           "update",
                         "patch", "delete", "deletecollection", "watchlog"};
    const char *bodies[] = {
        "null",
        "3",
        "'str'",
        "[]",
        "{}",
        "{'resource':null}",
        "{'resource':'pods'}",
        "{'resource':'pods','namespace':'default','name':'x','object':{'metadata':'m'}}",
        "{'resource':'pods','namespace':'default','name':'x','object':{'metadata':{'name':7}}}",
        "{'resource':'pods','namespace':'default','name':'x','object':{'kind':'Service'}}",
        "{'resource':'pods','namespace':'default','name':'x','object':{'apiVersion':3}}",
        "{'resource':'services','namespace':'default','name':'x','object':{'spec':{'ports':"
        "'p','clusterIP':5}}}",
        "{'resource':'pods','namespace':'default','name':'x','patchType':'json','patch':{}}",
        "{'resource':'pods','namespace':'default','name':'x','patchType':'merge','patch':null}",
        "{'resource':'pods','namespace':'default','name':'x','patchType':'x','patch':{}}",
        "{'resource':'pods','namespace':'default','name':'x','subresource':'log'}",
        "{'resource':'pods','namespace':'default','name':'x','subresource':'binding',"
        "'object':{'target':5}}",
        "{'resource':'pods','namespace':'default','limit':-1}",
        "{'resource':'pods','namespace':'default','limit':'a'}",
        "{'resource':'pods','namespace':'default','continue':'%%%%'}",
        "{'resource':'pods','namespace':'default','propagationPolicy':'Sideways','name':'x'}",
        "{'resource':'pods','namespace':'default','preconditions':{'uid':5},'name':'x'}",
        "{'from':-5}",
        "{'from':'1'}",
        "{'from':0,'resource':'nodes','limit':99999999}",
        "{'resource':'bindings','namespace':'default','name':'x'}",
        "{'resource':'scale','namespace':'default','name':'x','object':{}}",
    };
    json_t *r = NULL;
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
            int code = s_call(ops[o], J(bodies[b]), &r);
            if (code < 200 || code >= 500 ||
                (code >= 200 && code < 300 && strcmp(ops[o], "list") &&
                 strcmp(ops[o], "watchlog") && strcmp(ops[o], "deletecollection")))
                fprintf(stderr, "  %s %s -> %d %s\n", ops[o], bodies[b], code, s_msg(r));
            CHECK(code >= 200 && code < 500);
            json_decref(r);
        }
    CHECK_EQ_INT(s_call("version", NULL, &r), 200);
    json_decref(r);
    s_down();
}

/* ---- owners across restarts, chains, and the _sync beacon ------------------------ */

TEST(cascade_chain_after_restart)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_create("deployments", "default", J(s_manifests[4][2]), &r), 201);
    char *duid = strdup(proto_obj_uid(r));
    json_decref(r);
    json_t *rs = J(s_manifests[3][2]);
    proto_obj_set(rs, "metadata.ownerReferences",
                  json_pack("[{s:s, s:s, s:s, s:s}]", "apiVersion", "apps/v1", "kind", "Deployment",
                            "name", "kubia-d", "uid", duid));
    CHECK_EQ_INT(s_create("replicasets", "default", rs, &r), 201);
    char *rsuid = strdup(proto_obj_uid(r));
    json_decref(r);
    json_t *p = s_pod("chain-0", "kubia");
    proto_obj_set(p, "metadata.ownerReferences",
                  json_pack("[{s:s, s:s, s:s, s:s}]", "apiVersion", "apps/v1", "kind", "ReplicaSet",
                            "name", "kubia-rs", "uid", rsuid));
    CHECK_EQ_INT(s_create("pods", "default", p, &r), 201);
    json_decref(r);
    /* the owner index is rebuilt from the store by a new apiserver */
    s_stop(&g_api, SIGTERM);
    g_api = s_spawn_api(true);
    s_wait_ready();
    CHECK_EQ_INT(s_delete("deployments", "default", "kubia-d", NULL, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_count("replicasets", "default"), 0);
    CHECK_EQ_INT(s_count("pods", "default"), 0);
    free(duid);
    free(rsuid);
    s_down();
}

static void s_on_sync_evt(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    (void)a;
    (void)topic;
    json_t **last = arg;
    json_decref(*last);
    *last = json_incref(env->body);
}

TEST(sync_beacon_every_second)
{
    s_up();
    json_t *beacon = NULL, *r = NULL;
    REQUIRE(rt_subscribe(g_c, "_sync", s_on_sync_evt, &beacon) == 0);
    CHECK_EQ_INT(s_create("pods", "default", s_pod("s1", NULL), &r), 201);
    json_decref(r);
    int64_t deadline = proto_mono_ms() + 4000;
    while (!beacon && proto_mono_ms() < deadline)
        rt_run_for(g_c, 100);
    REQUIRE(beacon != NULL);
    CHECK_EQ_INT(s_call("list", J("{'resource':'pods','namespace':'','stream':'pods/'}"), &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(beacon, "epoch")),
                 proto_obj_str(r, "zkube.epoch"));
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(beacon, "seqs"), "pods/")), 1);
    CHECK(json_integer_value(json_object_get(beacon, "rev")) >= 6);
    json_decref(r);
    json_decref(beacon);
    s_down();
}
