/*
 * tests/unit/test_apply.c — server-side apply and managedFields in the
 * apiserver (actors/apiserver/apply.c): a broker and an apiserver run in
 * forked children, requests go through rt_call_sync. Covers apply-create,
 * no-op re-apply, removal of fields a manager stops applying, conflicts
 * between managers with Kubernetes' 409, force, Update entries of other
 * writes and the status subresource.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "actors/apiserver/apiserver.h"
#include "broker/broker.h"
#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/config.h"

/* ---- harness --------------------------------------------------------------- */

static rt_config_t g_cfg;
static pid_t g_broker, g_api;
static rt_actor_t *g_c;

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
    REQUIRE(v);
    return v;
}

static void s_up(void)
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
    g_api = fork();
    if (g_api == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char *argv[] = {"apiserver", "--unsafe-no-fsync", NULL};
        _exit(apisrv_main(2, argv) ? 1 : 0);
    }
    REQUIRE(rt_actor_open(&g_c, "test-client", &g_cfg, err, sizeof err) == 0);
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
    rt_actor_destroy(&g_c);
    s_stop(&g_api);
    s_stop(&g_broker);
}

static json_t *s_body(const char *res, const char *name, const char *manager)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "resource", res, "namespace", "default", "name", name);
    if (manager)
        json_object_set_new(b, "fieldManager", json_string(manager));
    return b;
}

static int s_apply(const char *manager, json_t *cfg, bool force, json_t **out)
{
    json_t *b = s_body("deployments", proto_obj_name(cfg), manager);
    json_object_set_new(b, "patchType", json_string("apply"));
    json_object_set_new(b, "patch", cfg);
    if (force)
        json_object_set_new(b, "force", json_true());
    return s_call("patch", b, out);
}

static int s_merge(const char *manager, const char *name, json_t *patch, const char *sub,
                   json_t **out)
{
    json_t *b = s_body("deployments", name, manager);
    json_object_set_new(b, "patchType", json_string("merge"));
    json_object_set_new(b, "patch", patch);
    if (sub)
        json_object_set_new(b, "subresource", json_string(sub));
    return s_call("patch", b, out);
}

/* A Deployment configuration as `kubectl apply --server-side` sends it. */
static json_t *s_deploy(int replicas, const char *image, const char *extra_label)
{
    json_t *d = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'kubia',"
                  "'labels':{'app':'kubia'}},'spec':{'selector':{'matchLabels':{'app':'kubia'}},"
                  "'template':{'metadata':{'labels':{'app':'kubia'}},'spec':{'containers':["
                  "{'name':'kubia','image':'luksa/kubia','ports':[{'containerPort':8080}]}]}}}}");
    if (replicas >= 0)
        proto_obj_set(d, "spec.replicas", json_integer(replicas));
    if (image)
        json_object_set_new(proto_obj_get(d, "spec.template.spec.containers.0"), "image",
                            json_string(image));
    if (extra_label)
        proto_obj_set_str(d, "metadata.labels.extra", extra_label);
    return d;
}

/* managedFields entry of manager+operation, borrowed from obj. */
static json_t *s_entry(const json_t *obj, const char *manager, const char *op)
{
    size_t i;
    json_t *e;
    json_array_foreach(proto_obj_get(obj, "metadata.managedFields"), i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "manager")), manager) &&
            !strcmp(json_string_value(json_object_get(e, "operation")), op))
            return e;
    }
    return NULL;
}

static char *s_dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

#define CHECK_JSON(v, text)                                                                        \
    do {                                                                                           \
        char *t_d = s_dump(v);                                                                     \
        CHECK_EQ_STR(t_d, text);                                                                   \
        free(t_d);                                                                                 \
    } while (0)

static const char *s_apply_fields =
    "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{},"
    "\"f:selector\":{},\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
    "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"kubia\\\"}\":{\".\":{},\"f:image\":{},"
    "\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":8080,\\\"protocol\\\":\\\"TCP\\\"}\":{"
    "\".\":{},\"f:containerPort\":{}}}}}}}}}";

/* ---- tests ------------------------------------------------------------------- */

TEST(apply_creates_and_reapply_is_noop)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(3, NULL, NULL), false, &r), 201);
    CHECK_EQ_INT(json_array_size(proto_obj_get(r, "metadata.managedFields")), 1);
    json_t *e = s_entry(r, "kubectl", "Apply");
    REQUIRE(e);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "apiVersion")), "apps/v1");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "fieldsType")), "FieldsV1");
    CHECK(json_string_value(json_object_get(e, "time")) != NULL);
    CHECK(!json_object_get(e, "subresource"));
    CHECK_JSON(json_object_get(e, "fieldsV1"), s_apply_fields);
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 3);
    uint64_t rv = proto_obj_rv(r);
    json_decref(r);
    /* the same configuration again changes nothing, not even the revision */
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(3, NULL, NULL), false, &r), 200);
    CHECK_EQ_INT(proto_obj_rv(r), rv);
    json_decref(r);
    s_down();
}

TEST(apply_without_a_field_removes_it)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(3, NULL, "yes"), false, &r), 201);
    CHECK_EQ_STR(proto_obj_str(r, "metadata.labels.extra"), "yes");
    json_decref(r);
    /* replicas and the label no longer applied: both go (replicas back to
     * its default) */
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(-1, NULL, NULL), false, &r), 200);
    CHECK(proto_obj_get(r, "metadata.labels.extra") == NULL);
    CHECK_EQ_STR(proto_obj_str(r, "metadata.labels.app"), "kubia");
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 1);
    json_t *e = s_entry(r, "kubectl", "Apply");
    REQUIRE(e);
    CHECK(proto_obj_get(json_object_get(e, "fieldsV1"), "f:spec.f:replicas") == NULL);
    json_decref(r);
    /* a field another manager also applies stays when one stops applying it */
    CHECK_EQ_INT(s_apply("other", s_deploy(-1, NULL, "shared"), false, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(-1, NULL, "shared"), false, &r), 200);
    json_decref(r);
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(-1, NULL, NULL), false, &r), 200);
    CHECK_EQ_STR(proto_obj_str(r, "metadata.labels.extra"), "shared");
    json_decref(r);
    s_down();
}

TEST(update_then_apply_conflicts_with_kubernetes_message)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(3, NULL, NULL), false, &r), 201);
    json_decref(r);
    CHECK_EQ_INT(
        s_merge("kubectl-client-side-apply", "kubia", J("{'spec':{'replicas':5}}"), NULL, &r), 200);
    json_t *e = s_entry(r, "kubectl-client-side-apply", "Update");
    REQUIRE(e);
    CHECK_JSON(json_object_get(e, "fieldsV1"), "{\"f:spec\":{\"f:replicas\":{}}}");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "apiVersion")), "apps/v1");
    /* the updater took replicas from the applier */
    CHECK(proto_obj_get(json_object_get(s_entry(r, "kubectl", "Apply"), "fieldsV1"),
                        "f:spec.f:replicas") == NULL);
    json_decref(r);
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(3, NULL, NULL), false, &r), 409);
    CHECK_EQ_STR(proto_obj_str(r, "reason"), "Conflict");
    CHECK_EQ_INT(proto_obj_int(r, "code", 0), 409);
    CHECK_EQ_STR(proto_obj_str(r, "message"),
                 "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" "
                 "using apps/v1: .spec.replicas");
    CHECK_JSON(proto_obj_get(r, "details.causes"),
               "[{\"type\":\"FieldManagerConflict\",\"message\":\"conflict with "
               "\\\"kubectl-client-side-apply\\\" using apps/v1\",\"field\":\".spec.replicas\"}]");
    json_decref(r);
    /* the same value is no conflict: both own it */
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(5, NULL, NULL), false, &r), 200);
    CHECK(proto_obj_get(json_object_get(s_entry(r, "kubectl", "Apply"), "fieldsV1"),
                        "f:spec.f:replicas") != NULL);
    CHECK(s_entry(r, "kubectl-client-side-apply", "Update") != NULL);
    json_decref(r);
    s_down();
}

TEST(force_takes_ownership)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_apply("alice", s_deploy(2, NULL, NULL), false, &r), 201);
    json_decref(r);
    CHECK_EQ_INT(s_apply("bob", s_deploy(4, "luksa/kubia:v2", NULL), false, &r), 409);
    CHECK_EQ_STR(proto_obj_str(r, "message"),
                 "Apply failed with 2 conflicts: conflicts with \"alice\":\n"
                 "- .spec.replicas\n"
                 "- .spec.template.spec.containers[name=\"kubia\"].image");
    CHECK_EQ_INT(json_array_size(proto_obj_get(r, "details.causes")), 2);
    CHECK_EQ_STR(proto_obj_str(r, "details.causes.1.field"),
                 ".spec.template.spec.containers[name=\"kubia\"].image");
    CHECK_EQ_STR(proto_obj_str(r, "details.causes.1.message"), "conflict with \"alice\"");
    json_decref(r);
    CHECK_EQ_INT(s_apply("bob", s_deploy(4, "luksa/kubia:v2", NULL), true, &r), 200);
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 4);
    CHECK_EQ_STR(proto_obj_str(r, "spec.template.spec.containers.0.image"), "luksa/kubia:v2");
    json_t *a = json_object_get(s_entry(r, "alice", "Apply"), "fieldsV1");
    json_t *b = json_object_get(s_entry(r, "bob", "Apply"), "fieldsV1");
    REQUIRE(a && b);
    CHECK(proto_obj_get(a, "f:spec.f:replicas") == NULL);
    CHECK(proto_obj_get(b, "f:spec.f:replicas") != NULL);
    CHECK(proto_obj_get(a, "f:spec.f:selector") != NULL); /* same value: shared */
    json_decref(r);
    /* alice re-applies her old config: conflicts now with bob */
    CHECK_EQ_INT(s_apply("alice", s_deploy(2, NULL, NULL), false, &r), 409);
    CHECK_CONTAINS(proto_obj_str(r, "message"), "conflicts with \"bob\":");
    json_decref(r);
    s_down();
}

TEST(create_update_and_status_entries)
{
    s_up();
    json_t *r = NULL;
    json_t *b = json_pack("{s:s, s:s, s:s, s:o}", "resource", "deployments", "namespace", "default",
                          "fieldManager", "kubectl-create", "object", s_deploy(2, NULL, NULL));
    CHECK_EQ_INT(s_call("create", b, &r), 201);
    json_t *e = s_entry(r, "kubectl-create", "Update");
    REQUIRE(e);
    json_t *f = json_object_get(e, "fieldsV1");
    /* the creator owns what it set and the defaults; never server fields */
    CHECK(proto_obj_get(f, "f:spec.f:replicas") != NULL);
    CHECK(proto_obj_get(f, "f:spec.f:strategy") != NULL);
    CHECK(proto_obj_get(f, "f:metadata.f:labels.f:app") != NULL);
    CHECK(json_object_get(proto_obj_get(f, "f:metadata.f:labels"), ".") != NULL);
    CHECK(proto_obj_get(f, "f:metadata.f:name") == NULL);
    CHECK(proto_obj_get(f, "f:metadata.f:uid") == NULL);
    CHECK(proto_obj_get(f, "f:status") == NULL);
    CHECK(json_object_get(proto_obj_get(f, "f:spec"), ".") == NULL);
    json_decref(r);
    /* status subresource: its own entry */
    CHECK_EQ_INT(
        s_merge("kube-controller-manager", "kubia", J("{'status':{'replicas':2}}"), "status", &r),
        200);
    e = s_entry(r, "kube-controller-manager", "Update");
    REQUIRE(e);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "subresource")), "status");
    CHECK_JSON(json_object_get(e, "fieldsV1"), "{\"f:status\":{\"f:replicas\":{}}}");
    json_decref(r);
    /* a write without fieldManager still gets an entry */
    CHECK_EQ_INT(s_merge(NULL, "kubia", J("{'metadata':{'labels':{'x':'y'}}}"), NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(proto_obj_get(r, "metadata.managedFields")), 3);
    json_decref(r);
    /* managedFields: [{}] clears them */
    CHECK_EQ_INT(
        s_merge("kubectl-edit", "kubia", J("{'metadata':{'managedFields':[{}]}}"), NULL, &r), 200);
    CHECK(proto_obj_get(r, "metadata.managedFields") == NULL);
    json_decref(r);
    /* first apply to an object nobody manages: everything was before-first-apply's */
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(3, NULL, NULL), false, &r), 409);
    CHECK_EQ_STR(proto_obj_str(r, "message"), "Apply failed with 1 conflict: conflict with "
                                              "\"before-first-apply\" using apps/v1: "
                                              ".spec.replicas");
    json_decref(r);
    s_down();
}

TEST(apply_errors)
{
    s_up();
    json_t *r = NULL;
    json_t *d = s_deploy(1, NULL, NULL);
    json_array_append_new(proto_obj_get(d, "spec.template.spec.containers"), J("{'image':'x'}"));
    CHECK_EQ_INT(s_apply("kubectl", d, false, &r), 400);
    CHECK_CONTAINS(proto_obj_str(r, "message"),
                   ".spec.template.spec.containers: element 1: associative list with keys has "
                   "an element that omits key field \"name\"");
    json_decref(r);
    json_t *b = s_body("deployments", "kubia", NULL);
    json_object_set_new(b, "patchType", json_string("apply"));
    json_object_set_new(b, "patch", s_deploy(1, NULL, NULL));
    CHECK_EQ_INT(s_call("patch", b, &r), 400);
    CHECK_CONTAINS(proto_obj_str(r, "message"), "fieldManager: Required value");
    json_decref(r);
    s_down();
}

TEST(unmanaged_objects_stay_lean_until_applied)
{
    s_up();
    json_t *r = NULL;
    /* no fieldManager, object never managed: no managedFields at all */
    json_t *b = json_pack("{s:s, s:s, s:o}", "resource", "deployments", "namespace", "default",
                          "object", s_deploy(2, NULL, NULL));
    CHECK_EQ_INT(s_call("create", b, &r), 201);
    CHECK(proto_obj_get(r, "metadata.managedFields") == NULL);
    json_decref(r);
    CHECK_EQ_INT(s_merge(NULL, "kubia", J("{'spec':{'replicas':4}}"), NULL, &r), 200);
    CHECK(proto_obj_get(r, "metadata.managedFields") == NULL);
    json_decref(r);
    /* the first apply: before-first-apply owns what was there */
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(4, NULL, NULL), false, &r), 200);
    CHECK(s_entry(r, "before-first-apply", "Update") != NULL);
    CHECK(s_entry(r, "kubectl", "Apply") != NULL);
    json_decref(r);
    /* from now on every write is tracked, with or without fieldManager */
    CHECK_EQ_INT(s_merge(NULL, "kubia", J("{'spec':{'replicas':6}}"), NULL, &r), 200);
    json_t *e = s_entry(r, "test-client", "Update");
    REQUIRE(e);
    CHECK_JSON(json_object_get(e, "fieldsV1"), "{\"f:spec\":{\"f:replicas\":{}}}");
    json_decref(r);
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(4, NULL, NULL), false, &r), 409);
    CHECK_EQ_STR(proto_obj_str(r, "message"), "Apply failed with 1 conflict: conflict with "
                                              "\"test-client\" using apps/v1: .spec.replicas");
    json_decref(r);
    s_down();
}

TEST(apply_to_status_subresource)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(1, NULL, NULL), false, &r), 201);
    json_decref(r);
    json_t *b = s_body("deployments", "kubia", "ctrl");
    json_object_set_new(b, "patchType", json_string("apply"));
    json_object_set_new(b, "subresource", json_string("status"));
    json_object_set_new(b, "patch", J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':"
                                      "{'name':'kubia'},'spec':{'replicas':9},'status':{"
                                      "'replicas':1,'readyReplicas':1}}"));
    CHECK_EQ_INT(s_call("patch", b, &r), 200);
    CHECK_EQ_INT(proto_obj_int(r, "status.readyReplicas", -1), 1);
    CHECK_EQ_INT(proto_obj_int(r, "spec.replicas", -1), 1); /* spec is not the status' */
    json_t *e = s_entry(r, "ctrl", "Apply");
    REQUIRE(e);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "subresource")), "status");
    CHECK_JSON(json_object_get(e, "fieldsV1"),
               "{\"f:status\":{\"f:readyReplicas\":{},\"f:replicas\":{}}}");
    json_decref(r);
    /* another status writer changing an owned field conflicts, naming the subresource */
    b = s_body("deployments", "kubia", "other");
    json_object_set_new(b, "patchType", json_string("apply"));
    json_object_set_new(b, "subresource", json_string("status"));
    json_object_set_new(b, "patch", J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':"
                                      "{'name':'kubia'},'status':{'replicas':3}}"));
    CHECK_EQ_INT(s_call("patch", b, &r), 409);
    CHECK_EQ_STR(proto_obj_str(r, "message"), "Apply failed with 1 conflict: conflict with "
                                              "\"ctrl\" with subresource \"status\": "
                                              ".status.replicas");
    json_decref(r);
    s_down();
}

TEST(create_records_what_kubernetes_records)
{
    s_up();
    json_t *r = NULL;
    json_t *pod = J("{'apiVersion':'v1','kind':'Pod','metadata':{'name':'kubia','labels':{'app':"
                    "'kubia'}},'spec':{'containers':[{'name':'kubia','image':'luksa/kubia',"
                    "'ports':[{'containerPort':8080}]}]}}");
    json_t *b = json_pack("{s:s, s:s, s:s, s:o}", "resource", "pods", "namespace", "default",
                          "fieldManager", "kubectl-create", "object", pod);
    CHECK_EQ_INT(s_call("create", b, &r), 201);
    json_t *e = s_entry(r, "kubectl-create", "Update");
    REQUIRE(e);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "apiVersion")), "v1");
    /* the fieldsV1 `kubectl create -f kubia-manual.yaml` gets from Kubernetes */
    CHECK_JSON(json_object_get(e, "fieldsV1"),
               "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{"
               "\"f:containers\":{\"k:{\\\"name\\\":\\\"kubia\\\"}\":{\".\":{},\"f:image\":{},"
               "\"f:imagePullPolicy\":{},\"f:name\":{},\"f:ports\":{\".\":{},"
               "\"k:{\\\"containerPort\\\":8080,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
               "\"f:containerPort\":{},\"f:protocol\":{}}},\"f:resources\":{},"
               "\"f:terminationMessagePath\":{},\"f:terminationMessagePolicy\":{}}},"
               "\"f:dnsPolicy\":{},\"f:enableServiceLinks\":{},\"f:restartPolicy\":{},"
               "\"f:schedulerName\":{},\"f:securityContext\":{},"
               "\"f:terminationGracePeriodSeconds\":{}}}");
    json_decref(r);
    s_down();
}

TEST(update_managers_are_capped)
{
    s_up();
    json_t *r = NULL;
    CHECK_EQ_INT(s_apply("kubectl", s_deploy(1, NULL, NULL), false, &r), 201);
    json_decref(r);
    for (int i = 0; i < 12; i++) {
        char m[16], p[80];
        snprintf(m, sizeof m, "m%02d", i);
        snprintf(p, sizeof p, "{'metadata':{'labels':{'l%02d':'v'}}}", i);
        CHECK_EQ_INT(s_merge(m, "kubia", J(p), NULL, &r), 200);
        if (i < 11)
            json_decref(r);
    }
    size_t updaters = 0, i;
    json_t *e;
    json_array_foreach(proto_obj_get(r, "metadata.managedFields"), i, e)
        updaters += !strcmp(json_string_value(json_object_get(e, "operation")), "Update");
    CHECK_EQ_INT(updaters, 10);
    e = s_entry(r, "ancient-changes", "Update");
    REQUIRE(e);
    /* m00, m01 and m02 merged into it */
    CHECK_JSON(proto_obj_get(json_object_get(e, "fieldsV1"), "f:metadata"),
               "{\"f:labels\":{\"f:l00\":{},\"f:l01\":{},\"f:l02\":{}}}");
    CHECK(s_entry(r, "m03", "Update") != NULL);
    CHECK(s_entry(r, "m00", "Update") == NULL);
    json_decref(r);
    s_down();
}
