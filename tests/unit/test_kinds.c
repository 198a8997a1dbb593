/*
 * tests/unit/test_kinds — the kinds registry, conversion of old API
 * versions, defaulting, validation (messages and paths as Kubernetes words
 * them), update rules and the OpenAPI generation. Objects are built with
 * json_loads so that this module is tested on its own; the book's corpus
 * is embedded as JSON below.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/kinds.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <jansson.h>

/* The book's manifests (shared/corpus/kia), converted to JSON by hand-run
 * tooling, used until protocol/manifest.c can load the YAML itself. */
static const struct {
    const char *name;
    const char *json;
} s_kia[] = {
    {"Chapter02/kubia.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"labels\":{\"run\":"
     "\"kubia\"},\"name\":\"kubia\"},\"spec\":{\"replicas\":1,\"selector\":{\"run\":\"kubia\"},"
     "\"template\":{\"metadata\":{\"labels\":{\"run\":\"kubia\"}},\"spec\":{\"containers\":[{"
     "\"image\":\"luksa/"
     "kubia:latest\",\"name\":\"kubia\",\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}]}]"
     "}}}}"},
    {"Chapter03/custom-namespace.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"custom-namespace\"}}"},
    {"Chapter03/kubia-gpu.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-gpu\"},\"spec\":{"
     "\"containers\":[{\"image\":\"luksa/"
     "kubia\",\"name\":\"kubia\"}],\"nodeSelector\":{\"gpu\":\"true\"}}}"},
    {"Chapter03/kubia-manual-custom-namespace.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-manual\","
     "\"namespace\":\"custom-namespace\"},\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "kubia\",\"name\":\"kubia\",\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}]}]}}"},
    {"Chapter03/kubia-manual-with-labels.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"labels\":{\"creation_method\":"
     "\"manual\",\"env\":\"prod\"},\"name\":\"kubia-manual-v2\"},\"spec\":{\"containers\":[{"
     "\"image\":\"luksa/"
     "kubia\",\"name\":\"kubia\",\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}]}]}}"},
    {"Chapter03/kubia-manual.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-manual\"},\"spec\":{"
     "\"containers\":[{\"image\":\"luksa/"
     "kubia\",\"name\":\"kubia\",\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}]}]}}"},
    {"Chapter04/batch-job.yaml",
     "{\"apiVersion\":\"batch/"
     "v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"batch-job\"},\"spec\":{\"template\":{"
     "\"metadata\":{\"labels\":{\"app\":\"batch-job\"}},\"spec\":{\"containers\":[{\"image\":"
     "\"luksa/batch-job\",\"name\":\"main\"}],\"restartPolicy\":\"OnFailure\"}}}}"},
    {"Chapter04/cronjob.yaml",
     "{\"apiVersion\":\"batch/"
     "v1beta1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"batch-job-every-fifteen-minutes\"},"
     "\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":"
     "\"periodic-batch-job\"}},\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "batch-job\",\"name\":\"main\"}],\"restartPolicy\":\"OnFailure\"}}}},\"schedule\":\"0,15,30,"
     "45 * * * *\"}}"},
    {"Chapter04/kubia-liveness-probe-initial-delay.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-liveness\"},\"spec\":{"
     "\"containers\":[{\"image\":\"luksa/"
     "kubia-unhealthy\",\"livenessProbe\":{\"httpGet\":{\"path\":\"/"
     "\",\"port\":8080},\"initialDelaySeconds\":15},\"name\":\"kubia\"}]}}"},
    {"Chapter04/kubia-liveness-probe.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-liveness\"},\"spec\":{"
     "\"containers\":[{\"image\":\"luksa/"
     "kubia-unhealthy\",\"livenessProbe\":{\"httpGet\":{\"path\":\"/"
     "\",\"port\":8080}},\"name\":\"kubia\"}]}}"},
    {"Chapter04/kubia-rc.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":\"kubia\"},"
     "\"spec\":{\"replicas\":3,\"selector\":{\"app\":\"kubia\"},\"template\":{\"metadata\":{"
     "\"labels\":{\"app\":\"kubia\"}},\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "kubia\",\"name\":\"kubia\",\"ports\":[{\"containerPort\":8080}]}]}}}}"},
    {"Chapter04/kubia-replicaset-matchexpressions.yaml",
     "{\"apiVersion\":\"apps/"
     "v1beta2\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"kubia\"},\"spec\":{\"replicas\":3,"
     "\"selector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":["
     "\"kubia\"]}]},\"template\":{\"metadata\":{\"labels\":{\"app\":\"kubia\"}},\"spec\":{"
     "\"containers\":[{\"image\":\"luksa/kubia\",\"name\":\"kubia\"}]}}}}"},
    {"Chapter04/kubia-replicaset.yaml",
     "{\"apiVersion\":\"apps/"
     "v1beta2\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"kubia\"},\"spec\":{\"replicas\":3,"
     "\"selector\":{\"matchLabels\":{\"app\":\"kubia\"}},\"template\":{\"metadata\":{\"labels\":{"
     "\"app\":\"kubia\"}},\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "kubia\",\"name\":\"kubia\"}]}}}}"},
    {"Chapter04/multi-completion-batch-job.yaml",
     "{\"apiVersion\":\"batch/"
     "v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"multi-completion-batch-job\"},\"spec\":{"
     "\"completions\":5,\"template\":{\"metadata\":{\"labels\":{\"app\":\"batch-job\"}},\"spec\":{"
     "\"containers\":[{\"image\":\"luksa/"
     "batch-job\",\"name\":\"main\"}],\"restartPolicy\":\"OnFailure\"}}}}"},
    {"Chapter04/multi-completion-parallel-batch-job.yaml",
     "{\"apiVersion\":\"batch/"
     "v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"multi-completion-batch-job\"},\"spec\":{"
     "\"completions\":5,\"parallelism\":2,\"template\":{\"metadata\":{\"labels\":{\"app\":\"batch-"
     "job\"}},\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "batch-job\",\"name\":\"main\"}],\"restartPolicy\":\"OnFailure\"}}}}"},
    {"Chapter04/ssd-monitor-daemonset.yaml",
     "{\"apiVersion\":\"apps/"
     "v1beta2\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"ssd-monitor\"},\"spec\":{"
     "\"selector\":{\"matchLabels\":{\"app\":\"ssd-monitor\"}},\"template\":{\"metadata\":{"
     "\"labels\":{\"app\":\"ssd-monitor\"}},\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "ssd-monitor\",\"name\":\"main\"}],\"nodeSelector\":{\"disk\":\"ssd\"}}}}}"},
    {"Chapter04/time-limited-batch-job.yaml",
     "{\"apiVersion\":\"batch/"
     "v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"time-limited-batch-job\"},\"spec\":{"
     "\"activeDeadlineSeconds\":30,\"template\":{\"metadata\":{\"labels\":{\"app\":\"batch-job\"}},"
     "\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "batch-job\",\"name\":\"main\"}],\"restartPolicy\":\"OnFailure\"}}}}"},
    {"Chapter05/external-service-endpoints.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"external-service\"},"
     "\"subsets\":[{\"addresses\":[{\"ip\":\"11.11.11.11\"},{\"ip\":\"22.22.22.22\"}],\"ports\":[{"
     "\"port\":80}]}]}"},
    {"Chapter05/external-service-externalname.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"external-service\"},"
     "\"spec\":{\"externalName\":\"api.somecompany.com\",\"ports\":[{\"port\":80}],\"type\":"
     "\"ExternalName\"}}"},
    {"Chapter05/external-service.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"external-service\"},"
     "\"spec\":{\"ports\":[{\"port\":80}]}}"},
    {"Chapter05/kubia-ingress-tls.yaml",
     "{\"apiVersion\":\"extensions/"
     "v1beta1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"kubia\"},\"spec\":{\"rules\":[{"
     "\"host\":\"kubia.example.com\",\"http\":{\"paths\":[{\"backend\":{\"serviceName\":\"kubia-"
     "nodeport\",\"servicePort\":80},\"path\":\"/"
     "\"}]}}],\"tls\":[{\"hosts\":[\"kubia.example.com\"],\"secretName\":\"tls-secret\"}]}}"},
    {"Chapter05/kubia-ingress.yaml",
     "{\"apiVersion\":\"extensions/"
     "v1beta1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"kubia\"},\"spec\":{\"rules\":[{"
     "\"host\":\"kubia.example.com\",\"http\":{\"paths\":[{\"backend\":{\"serviceName\":\"kubia-"
     "nodeport\",\"servicePort\":80},\"path\":\"/\"}]}}]}}"},
    {"Chapter05/kubia-rc-readinessprobe.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":\"kubia\"},"
     "\"spec\":{\"replicas\":3,\"selector\":{\"app\":\"kubia\"},\"template\":{\"metadata\":{"
     "\"labels\":{\"app\":\"kubia\"}},\"spec\":{\"containers\":[{\"image\":\"luksa/"
     "kubia\",\"name\":\"kubia\",\"ports\":[{\"containerPort\":8080,\"name\":\"http\"}],"
     "\"readinessProbe\":{\"exec\":{\"command\":[\"ls\",\"/var/ready\"]}}}]}}}}"},
    {"Chapter05/kubia-svc-client-ip-session-affinity.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia\"},\"spec\":{"
     "\"ports\":[{\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"kubia\"},"
     "\"sessionAffinity\":\"ClientIP\"}}"},
    {"Chapter05/kubia-svc-headless.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia-headless\"},"
     "\"spec\":{\"clusterIP\":\"None\",\"ports\":[{\"port\":80,\"targetPort\":8080}],\"selector\":{"
     "\"app\":\"kubia\"}}}"},
    {"Chapter05/kubia-svc-loadbalancer.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia-loadbalancer\"},"
     "\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"kubia\"},"
     "\"type\":\"LoadBalancer\"}}"},
    {"Chapter05/kubia-svc-named-ports.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia\"},\"spec\":{"
     "\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080},{\"name\":\"https\",\"port\":"
     "443,\"targetPort\":8443}],\"selector\":{\"app\":\"kubia\"}}}"},
    {"Chapter05/kubia-svc-nodeport-onlylocal.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia-nodeport-"
     "onlylocal\"},\"spec\":{\"externalTrafficPolicy\":\"Local\",\"ports\":[{\"nodePort\":30124,"
     "\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"kubia\"},\"type\":\"NodePort\"}}"},
    {"Chapter05/kubia-svc-nodeport.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia-nodeport\"},"
     "\"spec\":{\"ports\":[{\"nodePort\":30123,\"port\":80,\"targetPort\":8080}],\"selector\":{"
     "\"app\":\"kubia\"},\"type\":\"NodePort\"}}"},
    {"Chapter05/kubia-svc-publish-not-ready.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia-all\"},\"spec\":{"
     "\"ports\":[{\"port\":80,\"targetPort\":8080}],\"publishNotReadyEndpoints\":true,\"selector\":"
     "{\"app\":\"kubia\"}}}"},
    {"Chapter05/kubia-svc.yaml",
     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia\"},\"spec\":{"
     "\"ports\":[{\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"kubia\"}}}"},
};

static json_t *s_load(const char *txt)
{
    json_error_t e;
    json_t *o = json_loads(txt, 0, &e);
    if (!o)
        fprintf(stderr, "  bad test JSON: %s (line %d)\n", e.text, e.line);
    return o;
}

/* convert -> defaults -> validate(strict); returns the code, err and first cause. */
static int s_cdv(json_t *o, char *err, size_t n, json_t **causes)
{
    int rc = proto_convert(o, err, n);
    if (rc)
        return rc;
    proto_defaults(o);
    return proto_validate(o, true, causes, err, n);
}

/* Runs s_cdv on txt and checks the error text (and, for 422, a cause) contains want. */
static void s_expect(const char *txt, int want_rc, const char *want)
{
    json_t *o = s_load(txt);
    REQUIRE(o);
    char err[4096] = "";
    json_t *causes = NULL;
    int rc = s_cdv(o, err, sizeof err, &causes);
    CHECK_EQ_INT(rc, want_rc);
    if (rc == PROTO_EINVALID) {
        bool found = false;
        size_t i;
        json_t *c;
        json_array_foreach(causes, i, c)
        {
            char line[4096];
            snprintf(line, sizeof line, "%s: %s", json_string_value(json_object_get(c, "field")),
                     json_string_value(json_object_get(c, "message")));
            found = found || strstr(line, want);
        }
        if (!found) {
            char *d = json_dumps(causes, JSON_COMPACT);
            T_FAIL("no cause contains \"%s\": %s", want, d);
            free(d);
        }
    } else {
        CHECK_CONTAINS(err, want);
    }
    json_decref(causes);
    json_decref(o);
}

#define POD(spec)                                                                                  \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":" spec "}"
#define C1 "{\"name\":\"c\",\"image\":\"busybox\"}"

/* ---- registry ---- */

TEST(registry_lists_all_kinds)
{
    const char *want[] = {"Namespace",  "Node",       "Pod",       "ReplicationController",
                          "ReplicaSet", "Deployment", "DaemonSet", "Job",
                          "CronJob",    "Service",    "Endpoints", "Secret",
                          "ConfigMap",  "Ingress",    "Event",     "Binding",
                          "Scale"};
    CHECK_EQ_INT(proto_kind_count(), 17);
    for (size_t i = 0; i < 17; i++)
        CHECK_EQ_STR(proto_kind_at(i)->kind, want[i]);
    CHECK(proto_kind_at(17) == NULL);
    CHECK(proto_kind_is_stored(proto_kind_find("pods")));
    CHECK(!proto_kind_is_stored(proto_kind_find("Binding")));
}

TEST(registry_finds_by_any_name)
{
    const char *pairs[][2] = {{"po", "Pod"},
                              {"PODS", "Pod"},
                              {"pod", "Pod"},
                              {"Pod", "Pod"},
                              {"svc", "Service"},
                              {"rc", "ReplicationController"},
                              {"rs", "ReplicaSet"},
                              {"deploy", "Deployment"},
                              {"ds", "DaemonSet"},
                              {"job", "Job"},
                              {"cj", "CronJob"},
                              {"ns", "Namespace"},
                              {"no", "Node"},
                              {"ep", "Endpoints"},
                              {"ing", "Ingress"},
                              {"cm", "ConfigMap"},
                              {"secret", "Secret"},
                              {"ev", "Event"},
                              {"deployments.apps", "Deployment"},
                              {"deployments.v1.apps", "Deployment"},
                              {"ingresses.networking.k8s.io", "Ingress"},
                              {"jobs.batch", "Job"},
                              {"pods.v1", "Pod"},
                              {"cronjob.batch", "CronJob"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const proto_kind_t *k = proto_kind_find(pairs[i][0]);
        CHECK(k != NULL);
        if (k)
            CHECK_EQ_STR(k->kind, pairs[i][1]);
    }
    CHECK(proto_kind_find("foo") == NULL);
    CHECK(proto_kind_find("pods.apps") == NULL);
    CHECK(proto_kind_find("") == NULL);
    CHECK(proto_kind_find(NULL) == NULL);
}

TEST(registry_discovery_fields)
{
    const proto_kind_t *k = proto_kind_by_resource("pods");
    REQUIRE(k);
    CHECK(k->namespaced && k->in_all);
    CHECK_EQ_STR(k->subresources, "status,binding,log,exec");
    k = proto_kind_by_resource("deployments");
    REQUIRE(k);
    CHECK_EQ_STR(k->group, "apps");
    CHECK_EQ_STR(k->subresources, "status,scale");
    CHECK_EQ_STR(k->short_names, "deploy");
    k = proto_kind_by_resource("namespaces");
    REQUIRE(k);
    CHECK(!k->namespaced && !k->in_all);
    CHECK(strstr(k->verbs, "deletecollection") == NULL);
    CHECK(proto_kind_by_resource("services")->in_all);
    CHECK(!proto_kind_by_resource("configmaps")->in_all);
    char buf[64];
    CHECK_EQ_STR(proto_kind_api_version(proto_kind_find("ing"), buf), "networking.k8s.io/v1");
    CHECK_EQ_STR(proto_kind_api_version(proto_kind_find("po"), buf), "v1");
    CHECK_EQ_STR(proto_kind_api_version(proto_kind_find("cj"), buf), "batch/v1");
}

TEST(registry_by_kind_and_old_versions)
{
    CHECK(proto_kind_by_kind("apps/v1", "ReplicaSet") != NULL);
    CHECK(proto_kind_by_kind("apps/v1beta2", "ReplicaSet") != NULL);
    CHECK(proto_kind_by_kind("extensions/v1beta1", "Ingress") != NULL);
    CHECK(proto_kind_by_kind("networking.k8s.io/v1beta1", "Ingress") != NULL);
    CHECK(proto_kind_by_kind("batch/v1beta1", "CronJob") != NULL);
    CHECK(proto_kind_by_kind("v1", "ReplicaSet") == NULL);
    CHECK(proto_kind_by_kind("apps/v1", "Pod") == NULL);
    CHECK(proto_kind_by_kind("v1", "pod") == NULL);
}

/* ---- conversion ---- */

TEST(convert_unknown_kind_and_missing)
{
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Foo\",\"metadata\":{\"name\":\"x\"}}",
             PROTO_EBADREQUEST, "no matches for kind \"Foo\" in version \"v1\"");
    s_expect("{\"apiVersion\":\"apps/v9\",\"kind\":\"Deployment\"}", PROTO_EBADREQUEST,
             "no matches for kind \"Deployment\" in version \"apps/v9\"");
    s_expect("{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}", PROTO_EBADREQUEST,
             "Object 'Kind' is missing in");
    s_expect("{\"kind\":\"Pod\"}", PROTO_EBADREQUEST, "Object 'apiVersion' is missing in");
    char err[128];
    json_t *arr = json_array();
    CHECK_EQ_INT(proto_convert(arr, err, sizeof err), PROTO_EBADREQUEST);
    json_decref(arr);
}

TEST(convert_ingress_v1beta1)
{
    json_t *o = s_load("{\"apiVersion\":\"extensions/v1beta1\",\"kind\":\"Ingress\","
                       "\"metadata\":{\"name\":\"i\"},\"spec\":{\"backend\":{\"serviceName\":"
                       "\"d\",\"servicePort\":\"http\"},\"rules\":[{\"host\":\"a.example.com\","
                       "\"http\":{\"paths\":[{\"path\":\"/\",\"backend\":{\"serviceName\":\"s\","
                       "\"servicePort\":80}}]}}]}}");
    char err[256];
    REQUIRE(o);
    CHECK_EQ_INT(proto_convert(o, err, sizeof err), 0);
    CHECK_EQ_STR(proto_obj_str(o, "apiVersion"), "networking.k8s.io/v1");
    json_t *p = proto_obj_get(o, "spec.rules.0.http.paths.0");
    CHECK_EQ_STR(proto_obj_str(p, "backend.service.name"), "s");
    CHECK_EQ_INT(proto_obj_int(p, "backend.service.port.number", 0), 80);
    CHECK_EQ_STR(proto_obj_str(p, "pathType"), "ImplementationSpecific");
    CHECK(proto_obj_get(p, "backend.serviceName") == NULL);
    CHECK_EQ_STR(proto_obj_str(o, "spec.defaultBackend.service.port.name"), "http");
    CHECK(proto_obj_get(o, "spec.backend") == NULL);
    proto_defaults(o);
    json_t *causes = NULL;
    CHECK_EQ_INT(proto_validate(o, true, &causes, err, sizeof err), 0);
    json_decref(o);
}

TEST(convert_apps_and_batch)
{
    json_t *o = s_load("{\"apiVersion\":\"extensions/v1beta1\",\"kind\":\"Deployment\","
                       "\"metadata\":{\"name\":\"d\"},\"spec\":{\"rollbackTo\":{\"revision\":1},"
                       "\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":"
                       "{\"containers\":[" C1 "]}}}}");
    char err[256];
    REQUIRE(o);
    CHECK_EQ_INT(proto_convert(o, err, sizeof err), 0);
    CHECK_EQ_STR(proto_obj_str(o, "apiVersion"), "apps/v1");
    CHECK_EQ_STR(proto_obj_str(o, "spec.selector.matchLabels.app"), "x");
    CHECK_EQ_STR(proto_obj_str(o, "metadata.labels.app"), "x");
    CHECK(proto_obj_get(o, "spec.rollbackTo") == NULL);
    json_decref(o);
    o = s_load("{\"apiVersion\":\"extensions/v1beta1\",\"kind\":\"DaemonSet\",\"metadata\":"
               "{\"name\":\"d\"},\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},"
               "\"spec\":{\"containers\":[" C1 "]}}}}");
    CHECK_EQ_INT(proto_convert(o, err, sizeof err), 0);
    CHECK_EQ_STR(proto_obj_str(o, "spec.updateStrategy.type"), "OnDelete");
    json_decref(o);
    o = s_load("{\"apiVersion\":\"batch/v1beta1\",\"kind\":\"CronJob\"}");
    CHECK_EQ_INT(proto_convert(o, err, sizeof err), 0);
    CHECK_EQ_STR(proto_obj_str(o, "apiVersion"), "batch/v1");
    json_decref(o);
}

TEST(convert_publish_not_ready_alias)
{
    json_t *o = s_load("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
                       "\"spec\":{\"ports\":[{\"port\":80}],\"publishNotReadyEndpoints\":true}}");
    char err[256];
    REQUIRE(o);
    CHECK_EQ_INT(proto_convert(o, err, sizeof err), 0);
    CHECK(json_is_true(proto_obj_get(o, "spec.publishNotReadyAddresses")));
    CHECK(proto_obj_get(o, "spec.publishNotReadyEndpoints") == NULL);
    json_decref(o);
}

/* ---- the book's corpus ---- */

TEST(kia_corpus_converts_and_validates)
{
    for (size_t i = 0; i < sizeof s_kia / sizeof s_kia[0]; i++) {
        json_t *o = s_load(s_kia[i].json);
        REQUIRE(o);
        char err[1024] = "";
        json_t *causes = NULL;
        int rc = s_cdv(o, err, sizeof err, &causes);
        if (rc != 0)
            T_FAIL("%s: %d %s", s_kia[i].name, rc, err);
        CHECK(causes == NULL);
        /* idempotent: defaulting and validating again changes nothing */
        json_t *again = json_deep_copy(o);
        proto_defaults(again);
        CHECK(json_equal(o, again));
        CHECK_EQ_INT(proto_validate(again, true, NULL, err, sizeof err), 0);
        json_decref(again);
        json_decref(o);
    }
}

/* ---- defaults ---- */

TEST(defaults_pod)
{
    json_t *o = s_load(POD("{\"containers\":[{\"name\":\"a\",\"image\":\"busybox\","
                           "\"ports\":[{\"containerPort\":80}],\"livenessProbe\":{\"httpGet\":"
                           "{\"port\":8080}}},{\"name\":\"b\",\"image\":\"x/y:1.2\"},"
                           "{\"name\":\"c\",\"image\":\"reg:5000/y:latest\"},"
                           "{\"name\":\"d\",\"image\":\"reg:5000/y\"}],"
                           "\"volumes\":[{\"name\":\"v\"},{\"name\":\"s\",\"secret\":"
                           "{\"secretName\":\"x\"}}]}"));
    REQUIRE(o);
    proto_defaults(o);
    json_t *s = json_object_get(o, "spec");
    CHECK_EQ_STR(proto_obj_str(s, "restartPolicy"), "Always");
    CHECK_EQ_STR(proto_obj_str(s, "dnsPolicy"), "ClusterFirst");
    CHECK_EQ_INT(proto_obj_int(s, "terminationGracePeriodSeconds", 0), 30);
    CHECK_EQ_STR(proto_obj_str(s, "schedulerName"), "default-scheduler");
    CHECK(json_is_object(proto_obj_get(s, "securityContext")));
    CHECK(json_is_true(proto_obj_get(s, "enableServiceLinks")));
    CHECK_EQ_STR(proto_obj_str(s, "containers.0.imagePullPolicy"), "Always");
    CHECK_EQ_STR(proto_obj_str(s, "containers.1.imagePullPolicy"), "IfNotPresent");
    CHECK_EQ_STR(proto_obj_str(s, "containers.2.imagePullPolicy"), "Always");
    CHECK_EQ_STR(proto_obj_str(s, "containers.3.imagePullPolicy"), "Always");
    CHECK_EQ_STR(proto_obj_str(s, "containers.0.terminationMessagePath"), "/dev/termination-log");
    CHECK_EQ_STR(proto_obj_str(s, "containers.0.terminationMessagePolicy"), "File");
    CHECK(json_is_object(proto_obj_get(s, "containers.0.resources")));
    CHECK_EQ_STR(proto_obj_str(s, "containers.0.ports.0.protocol"), "TCP");
    json_t *p = proto_obj_get(s, "containers.0.livenessProbe");
    CHECK_EQ_INT(proto_obj_int(p, "timeoutSeconds", 0), 1);
    CHECK_EQ_INT(proto_obj_int(p, "periodSeconds", 0), 10);
    CHECK_EQ_INT(proto_obj_int(p, "successThreshold", 0), 1);
    CHECK_EQ_INT(proto_obj_int(p, "failureThreshold", 0), 3);
    CHECK_EQ_STR(proto_obj_str(p, "httpGet.scheme"), "HTTP");
    CHECK_EQ_STR(proto_obj_str(p, "httpGet.path"), "/");
    CHECK(json_is_object(proto_obj_get(s, "volumes.0.emptyDir")));
    CHECK_EQ_INT(proto_obj_int(s, "volumes.1.secret.defaultMode", 0), 0644);
    json_decref(o);
}

TEST(defaults_workloads)
{
    json_t *o = s_load("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
                       "{\"name\":\"d\"},\"spec\":{}}");
    proto_defaults(o);
    CHECK_EQ_INT(proto_obj_int(o, "spec.replicas", 0), 1);
    CHECK_EQ_STR(proto_obj_str(o, "spec.strategy.type"), "RollingUpdate");
    CHECK_EQ_STR(proto_obj_str(o, "spec.strategy.rollingUpdate.maxSurge"), "25%");
    CHECK_EQ_STR(proto_obj_str(o, "spec.strategy.rollingUpdate.maxUnavailable"), "25%");
    CHECK_EQ_INT(proto_obj_int(o, "spec.revisionHistoryLimit", 0), 10);
    CHECK_EQ_INT(proto_obj_int(o, "spec.progressDeadlineSeconds", 0), 600);
    json_decref(o);
    o = s_load("{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"d\"},"
               "\"spec\":{}}");
    proto_defaults(o);
    CHECK_EQ_STR(proto_obj_str(o, "spec.updateStrategy.type"), "RollingUpdate");
    CHECK_EQ_INT(proto_obj_int(o, "spec.updateStrategy.rollingUpdate.maxUnavailable", 0), 1);
    CHECK_EQ_INT(proto_obj_int(o, "spec.revisionHistoryLimit", 0), 10);
    json_decref(o);
    o = s_load(
        "{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":"
        "{\"name\":\"r\"},\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}}}}");
    proto_defaults(o);
    CHECK_EQ_INT(proto_obj_int(o, "spec.replicas", 0), 1);
    CHECK_EQ_STR(proto_obj_str(o, "spec.selector.a"), "b");
    CHECK_EQ_STR(proto_obj_str(o, "metadata.labels.a"), "b");
    json_decref(o);
}

TEST(defaults_job_and_cronjob)
{
    json_t *o =
        s_load("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
               "\"spec\":{}}");
    proto_defaults(o);
    CHECK_EQ_INT(proto_obj_int(o, "spec.completions", 0), 1);
    CHECK_EQ_INT(proto_obj_int(o, "spec.parallelism", 0), 1);
    CHECK_EQ_INT(proto_obj_int(o, "spec.backoffLimit", 0), 6);
    CHECK_EQ_STR(proto_obj_str(o, "spec.completionMode"), "NonIndexed");
    CHECK(json_is_false(proto_obj_get(o, "spec.suspend")));
    json_decref(o);
    o = s_load("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
               "\"spec\":{\"parallelism\":3}}");
    proto_defaults(o);
    CHECK(proto_obj_get(o, "spec.completions") == NULL); /* a work queue */
    CHECK_EQ_INT(proto_obj_int(o, "spec.parallelism", 0), 3);
    json_decref(o);
    o = s_load("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
               "\"spec\":{\"completions\":5}}");
    proto_defaults(o);
    CHECK_EQ_INT(proto_obj_int(o, "spec.completions", 0), 5);
    CHECK_EQ_INT(proto_obj_int(o, "spec.parallelism", 0), 1);
    json_decref(o);
    o = s_load("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"c\"},"
               "\"spec\":{\"schedule\":\"* * * * *\",\"jobTemplate\":{\"spec\":{\"template\":"
               "{\"spec\":{\"containers\":[" C1 "]}}}}}}");
    proto_defaults(o);
    CHECK_EQ_STR(proto_obj_str(o, "spec.concurrencyPolicy"), "Allow");
    CHECK(json_is_false(proto_obj_get(o, "spec.suspend")));
    CHECK_EQ_INT(proto_obj_int(o, "spec.successfulJobsHistoryLimit", 0), 3);
    CHECK_EQ_INT(proto_obj_int(o, "spec.failedJobsHistoryLimit", 0), 1);
    CHECK_EQ_STR(proto_obj_str(o, "spec.jobTemplate.spec.template.spec.dnsPolicy"), "ClusterFirst");
    json_decref(o);
}

TEST(defaults_service_namespace_secret)
{
    json_t *o = s_load("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
                       "\"spec\":{\"type\":\"NodePort\",\"sessionAffinity\":\"ClientIP\","
                       "\"ports\":[{\"port\":80},{\"port\":81,\"targetPort\":\"http\"}]}}");
    proto_defaults(o);
    json_t *s = json_object_get(o, "spec");
    CHECK_EQ_INT(proto_obj_int(s, "ports.0.targetPort", 0), 80);
    CHECK_EQ_STR(proto_obj_str(s, "ports.1.targetPort"), "http");
    CHECK_EQ_STR(proto_obj_str(s, "ports.0.protocol"), "TCP");
    CHECK_EQ_STR(proto_obj_str(s, "externalTrafficPolicy"), "Cluster");
    CHECK_EQ_STR(proto_obj_str(s, "internalTrafficPolicy"), "Cluster");
    CHECK_EQ_STR(proto_obj_str(s, "ipFamilyPolicy"), "SingleStack");
    CHECK_EQ_STR(proto_obj_str(s, "ipFamilies.0"), "IPv4");
    CHECK_EQ_INT(proto_obj_int(s, "sessionAffinityConfig.clientIP.timeoutSeconds", 0), 10800);
    json_decref(o);
    o = s_load("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
               "\"spec\":{\"ports\":[{\"port\":80}]}}");
    proto_defaults(o);
    CHECK_EQ_STR(proto_obj_str(o, "spec.type"), "ClusterIP");
    CHECK_EQ_STR(proto_obj_str(o, "spec.sessionAffinity"), "None");
    CHECK(proto_obj_get(o, "spec.externalTrafficPolicy") == NULL);
    json_decref(o);
    o = s_load("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"n\"}}");
    proto_defaults(o);
    CHECK_EQ_STR(proto_obj_str(o, "spec.finalizers.0"), "kubernetes");
    json_decref(o);
    o = s_load("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"n\"}}");
    proto_defaults(o);
    CHECK_EQ_STR(proto_obj_str(o, "type"), "Opaque");
    json_decref(o);
}

TEST(job_default_selector)
{
    json_t *o =
        s_load("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
               "\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
               "\"containers\":[" C1 "]}}}}");
    CHECK_EQ_INT(proto_job_default_selector(o, "u-1"), 0);
    json_t *ml = proto_obj_get(o, "spec.selector.matchLabels");
    CHECK_EQ_STR(json_string_value(json_object_get(ml, "batch.kubernetes.io/controller-uid")),
                 "u-1");
    json_t *tl = proto_obj_get(o, "spec.template.metadata.labels");
    CHECK_EQ_STR(json_string_value(json_object_get(tl, "batch.kubernetes.io/job-name")), "j");
    CHECK_EQ_STR(json_string_value(json_object_get(tl, "controller-uid")), "u-1");
    char err[256];
    proto_defaults(o);
    CHECK_EQ_INT(proto_validate(o, true, NULL, err, sizeof err), 0);
    json_decref(o);
}

/* ---- validation ---- */

TEST(validate_names)
{
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"Web_1\"},"
             "\"spec\":{\"containers\":[" C1 "]}}",
             PROTO_EINVALID,
             "metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must "
             "consist of lower case alphanumeric characters, '-' or '.', and must start and end "
             "with an alphanumeric character (e.g. 'example.com', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{},\"spec\":{\"containers\":[" C1
             "]}}",
             PROTO_EINVALID, "metadata.name: Required value: name or generateName is required");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a.b\"}}",
             PROTO_EINVALID, "a lowercase RFC 1123 label must consist");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"1abc\"},"
             "\"spec\":{\"ports\":[{\"port\":80}]}}",
             PROTO_EINVALID, "a DNS-1035 label must");
    CHECK(proto_check_dns1123_label("abc-1") == NULL);
    CHECK_CONTAINS(proto_check_dns1123_label(
                       "a123456789012345678901234567890123456789012345678901234567890123"),
                   "must be no more than 63 characters");
    CHECK(proto_check_dns1123_subdomain("a.b-c.d") == NULL);
    CHECK(proto_check_dns1123_subdomain("a..b") != NULL);
    CHECK(proto_check_dns1123_subdomain("-a") != NULL);
    CHECK(proto_check_label_key("example.com/My_Name") == NULL);
    CHECK(proto_check_label_key("app") == NULL);
    CHECK_CONTAINS(proto_check_label_key("a/b/c"), "a qualified name must consist");
    CHECK_CONTAINS(proto_check_label_key("Bad_/x"), "prefix part");
    CHECK_CONTAINS(proto_check_label_key("-x"), "name part must consist");
    CHECK(proto_check_label_value("") == NULL);
    CHECK(proto_check_label_value("v1.2_3") == NULL);
    CHECK_CONTAINS(proto_check_label_value("a b"), "a valid label must be an empty string");
}

TEST(validate_pod_rules)
{
    s_expect(POD("{\"containers\":[{\"name\":\"c\"}]}"), PROTO_EINVALID,
             "spec.containers[0].image: Required value");
    s_expect(POD("{\"containers\":[]}"), PROTO_EINVALID, "spec.containers: Required value");
    s_expect(POD("{\"restartPolicy\":\"Sometimes\",\"containers\":[" C1 "]}"), PROTO_EINVALID,
             "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
             "\"Always\", \"Never\", \"OnFailure\"");
    s_expect(POD("{\"containers\":[" C1 "," C1 "]}"), PROTO_EINVALID,
             "spec.containers[1].name: Duplicate value: \"c\"");
    s_expect(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"containerPort\":"
                 "80},{\"containerPort\":70000}]}]}"),
             PROTO_EINVALID,
             "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between "
             "1 and 65535, inclusive");
    s_expect(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"livenessProbe\":{}}]}"),
             PROTO_EINVALID,
             "spec.containers[0].livenessProbe: Required value: must specify a handler type");
    s_expect(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"volumeMounts\":[{\"name\":"
                 "\"v\",\"mountPath\":\"/v\"}]}]}"),
             PROTO_EINVALID, "spec.containers[0].volumeMounts[0].name: Not found: \"v\"");
    s_expect(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[{\"name\":\"1X\"}]}]}"),
             PROTO_EINVALID, "spec.containers[0].env[0].name: Invalid value: \"1X\"");
    s_expect(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"requests\":"
                 "{\"cpu\":\"2\"},\"limits\":{\"cpu\":\"1\"}}}]}"),
             PROTO_EINVALID, "must be less than or equal to cpu limit of 1");
    s_expect(POD("{\"activeDeadlineSeconds\":0,\"containers\":[" C1 "]}"), PROTO_EINVALID,
             "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647");
    s_expect(POD("{\"initContainers\":[{\"name\":\"i\",\"image\":\"i\",\"readinessProbe\":"
                 "{\"exec\":{\"command\":[\"x\"]}}}],\"containers\":[" C1 "]}"),
             PROTO_EINVALID,
             "spec.initContainers[0].readinessProbe: Forbidden: may not be set "
             "for init containers without restartPolicy=Always");
    s_expect(
        POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"restartPolicy\":\"Always\"}]}"),
        PROTO_EINVALID,
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers");
    s_expect(POD("{\"nodeSelector\":{\"gpu\":\"yes please\"},\"containers\":[" C1 "]}"),
             PROTO_EINVALID, "spec.nodeSelector: Invalid value: \"yes please\"");
}

#define RS(spec)                                                                                   \
    "{\"apiVersion\":\"apps/"                                                                      \
    "v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"r\"},\"spec\":" spec "}"
#define TMPL(labels)                                                                               \
    "\"template\":{\"metadata\":{\"labels\":" labels "},\"spec\":{\"containers\":[" C1 "]}}"

TEST(validate_controllers)
{
    s_expect(RS("{\"replicas\":-1,\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL(
                 "{\"app\":\"x\"}") "}"),
             PROTO_EINVALID,
             "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
    s_expect(RS("{\"selector\":{\"matchLabels\":{\"app\":\"y\"}}," TMPL("{\"app\":\"x\"}") "}"),
             PROTO_EINVALID,
             "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: "
             "`selector` does not match template `labels`");
    s_expect(RS("{" TMPL("{\"app\":\"x\"}") "}"), PROTO_EINVALID, "spec.selector: Required value");
    s_expect(RS("{\"selector\":{}," TMPL("{\"app\":\"x\"}") "}"), PROTO_EINVALID,
             "empty selector is invalid");
    s_expect(
        RS("{\"selector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\"}]}," TMPL(
            "{\"app\":\"x\"}") "}"),
        PROTO_EINVALID, "spec.selector.matchExpressions[0].values: Required value");
    s_expect(RS("{\"selector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Is\","
                "\"values\":[\"x\"]}]}," TMPL("{\"app\":\"x\"}") "}"),
             PROTO_EINVALID,
             "spec.selector.matchExpressions[0].operator: Unsupported value: \"Is\"");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":"
             "\"r\"},\"spec\":{\"selector\":{\"app\":\"y\"}," TMPL("{\"app\":\"x\"}") "}}",
             PROTO_EINVALID, "`selector` does not match template `labels`");
    s_expect(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
        "\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"strategy\":{\"rollingUpdate\":"
        "{\"maxSurge\":0,\"maxUnavailable\":0}}," TMPL("{\"a\":\"b\"}") "}}",
        PROTO_EINVALID,
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
        "`maxSurge` is 0");
    s_expect("{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"d\"},"
             "\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":"
             "{\"labels\":{\"a\":\"b\"}},\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[" C1
             "]}}}}",
             PROTO_EINVALID,
             "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: "
             "\"Always\"");
}

TEST(validate_jobs)
{
    s_expect("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},\"spec\":"
             "{\"template\":{\"spec\":{\"restartPolicy\":\"Always\",\"containers\":[" C1 "]}}}}",
             PROTO_EINVALID,
             "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: "
             "\"OnFailure\", \"Never\"");
    s_expect("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},\"spec\":"
             "{\"backoffLimit\":-2,\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
             "\"containers\":[" C1 "]}}}}",
             PROTO_EINVALID, "spec.backoffLimit: Invalid value: -2");
    s_expect("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"c\"},"
             "\"spec\":{\"schedule\":\"every minute\",\"jobTemplate\":{\"spec\":{\"template\":"
             "{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[" C1 "]}}}}}}",
             PROTO_EINVALID,
             "spec.schedule: Invalid value: \"every minute\": expected exactly 5 fields, found 2");
    s_expect("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"c\"},"
             "\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":"
             "\"Never\",\"containers\":[{\"name\":\"c\"}]}}}}}}",
             PROTO_EINVALID,
             "spec.jobTemplate.spec.template.spec.containers[0].image: Required value");
}

#define SVC(spec)                                                                                  \
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":" spec "}"

TEST(validate_services_and_endpoints)
{
    s_expect(SVC("{\"selector\":{\"a\":\"b\"}}"), PROTO_EINVALID, "spec.ports: Required value");
    s_expect(SVC("{\"type\":\"ExternalName\"}"), PROTO_EINVALID,
             "spec.externalName: Required value");
    s_expect(SVC("{\"ports\":[{\"port\":0}]}"), PROTO_EINVALID,
             "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
    s_expect(SVC("{\"ports\":[{\"port\":80},{\"port\":81}]}"), PROTO_EINVALID,
             "spec.ports[0].name: Required value");
    s_expect(SVC("{\"ports\":[{\"name\":\"a\",\"port\":80},{\"name\":\"a\",\"port\":81}]}"),
             PROTO_EINVALID, "spec.ports[1].name: Duplicate value: \"a\"");
    s_expect(SVC("{\"ports\":[{\"port\":80,\"nodePort\":30000}]}"), PROTO_EINVALID,
             "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
    s_expect(SVC("{\"type\":\"Balanced\",\"ports\":[{\"port\":80}]}"), PROTO_EINVALID,
             "spec.type: Unsupported value: \"Balanced\": supported values: \"ClusterIP\", "
             "\"ExternalName\", \"LoadBalancer\", \"NodePort\"");
    s_expect(SVC("{\"externalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":80}]}"), PROTO_EINVALID,
             "may only be set when `type` is 'NodePort' or 'LoadBalancer'");
    json_t *o = s_load(SVC("{\"clusterIP\":\"None\",\"selector\":{\"a\":\"b\"}}"));
    char err[512];
    CHECK_EQ_INT(s_cdv(o, err, sizeof err, NULL), 0);
    json_decref(o);
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"e\"},"
             "\"subsets\":[{\"addresses\":[{\"ip\":\"1.2.3\"}],\"ports\":[{\"port\":80}]}]}",
             PROTO_EINVALID,
             "subsets[0].addresses[0].ip: Invalid value: \"1.2.3\": must be a valid IP address");
}

TEST(validate_config_and_ingress)
{
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":"
             "{\"a b\":\"eA==\"}}",
             PROTO_EINVALID, "data[a b]: Invalid value: \"a b\": a valid config key");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":"
             "{\"k\":\"not base64!\"}}",
             PROTO_EBADREQUEST, "illegal base64 data at input byte 3");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":"
             "\"kubernetes.io/tls\",\"data\":{}}",
             PROTO_EINVALID, "data[tls.crt]: Required value");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":"
             "{\"..\":\"x\"}}",
             PROTO_EINVALID, "data[..]: Invalid value: \"..\": must not be '..'");
    s_expect("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":"
             "\"i\"},\"spec\":{\"rules\":[{\"http\":{\"paths\":[{\"path\":\"/\",\"backend\":{"
             "\"service\":{\"name\":\"s\",\"port\":{\"number\":80}}}}]}}]}}",
             PROTO_EINVALID, "spec.rules[0].http.paths[0].pathType: Required value");
    s_expect(
        "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":"
        "\"i\"},\"spec\":{\"rules\":[{\"host\":\"1.2.3.4\",\"http\":{\"paths\":[{\"path\":"
        "\"x\",\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"s\"}}}]}}]}}",
        PROTO_EINVALID,
        "spec.rules[0].host: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address");
    s_expect("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":"
             "\"i\"},\"spec\":{\"rules\":[{\"http\":{\"paths\":[{\"path\":\"x\",\"pathType\":"
             "\"Prefix\",\"backend\":{\"service\":{\"name\":\"s\",\"port\":{\"number\":1}}}}]}}]}}",
             PROTO_EINVALID,
             "spec.rules[0].http.paths[0].path: Invalid value: \"x\": must be an absolute path");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"p\"},"
             "\"target\":{\"kind\":\"Node\"}}",
             PROTO_EINVALID, "target.name: Required value");
    s_expect("{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"metadata\":{\"name\":\"p\"},"
             "\"spec\":{\"replicas\":-1}}",
             PROTO_EINVALID, "spec.replicas: Invalid value: -1");
}

TEST(validate_labels_and_annotations)
{
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
             "\"labels\":{\"bad key\":\"v\"}}}",
             PROTO_EINVALID, "metadata.labels: Invalid value: \"bad key\": name part must consist");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
             "\"labels\":{\"k\":\"-v\"}}}",
             PROTO_EINVALID, "metadata.labels: Invalid value: \"-v\": a valid label must be");
    json_t *o = s_load("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
                       "\"annotations\":{}}}");
    char *big = malloc(300000);
    memset(big, 'x', 299999);
    big[299999] = '\0';
    json_object_set_new(proto_obj_get(o, "metadata.annotations"), "a", json_string(big));
    free(big);
    char err[512];
    json_t *causes = NULL;
    CHECK_EQ_INT(s_cdv(o, err, sizeof err, &causes), PROTO_EINVALID);
    CHECK_CONTAINS(err, "metadata.annotations: Too long: must have at most 262144 bytes");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(causes, 0), "reason")),
                 "FieldValueTooLong");
    json_decref(causes);
    json_decref(o);
}

TEST(validate_type_errors)
{
    s_expect(RS("{\"replicas\":\"three\"}"), PROTO_EBADREQUEST,
             "ReplicaSet in version \"v1\" cannot be handled as a ReplicaSet: json: cannot "
             "unmarshal string into Go struct field spec.replicas of type int32");
    s_expect(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"containerPort\":"
                 "true}]}]}"),
             PROTO_EBADREQUEST, "field spec.containers[0].ports[0].containerPort of type int32");
    s_expect(POD("{\"containers\":{}}"), PROTO_EBADREQUEST,
             "cannot unmarshal object into Go struct field spec.containers of type array");
    s_expect(POD("{\"nodeSelector\":{\"gpu\":true},\"containers\":[" C1 "]}"), PROTO_EBADREQUEST,
             "cannot unmarshal bool into Go struct field spec.nodeSelector of type string");
    s_expect(RS("{\"replicas\":9999999999}"), PROTO_EBADREQUEST,
             "cannot unmarshal number 9999999999 into Go struct field spec.replicas of type int32");
    s_expect(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"limits\":"
                 "{\"cpu\":\"lots\"}}}]}"),
             PROTO_EBADREQUEST, "quantities must match the regular expression");
}

TEST(validate_unknown_fields)
{
    s_expect(POD("{\"foo\":1,\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"imagePullPolice\":"
                 "\"x\",\"livenessProbe\":{\"httpGet\":{\"port\":1,\"bar\":2}}}]}"),
             PROTO_EBADREQUEST,
             "strict decoding error: unknown field \"spec.foo\", unknown field "
             "\"spec.containers[0].imagePullPolice\", unknown field "
             "\"spec.containers[0].livenessProbe.httpGet.bar\"");
    s_expect("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
             "\"lables\":{}}}",
             PROTO_EBADREQUEST, "unknown field \"metadata.lables\"");
    /* not strict: accepted; status is not checked */
    json_t *o = s_load(POD("{\"foo\":1,\"containers\":[" C1 "]}"));
    char err[512];
    CHECK_EQ_INT(proto_validate(o, false, NULL, err, sizeof err), 0);
    json_object_set_new(o, "status", json_pack("{s:i}", "whatever", 1));
    json_object_del(json_object_get(o, "spec"), "foo");
    CHECK_EQ_INT(proto_validate(o, true, NULL, err, sizeof err), 0);
    /* pruning */
    json_object_set_new(json_object_get(o, "spec"), "foo", json_integer(1));
    json_t *paths = NULL;
    CHECK_EQ_INT(proto_prune_unknown(o, &paths), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(paths, 0)), "spec.foo");
    CHECK_EQ_STR(json_string_value(json_array_get(paths, 1)), "status.whatever");
    CHECK(proto_obj_get(o, "spec.foo") == NULL);
    json_decref(paths);
    json_decref(o);
}

TEST(validate_update_rules)
{
    json_t *a = s_load(POD("{\"containers\":[" C1 "]}"));
    proto_defaults(a);
    json_t *b = json_deep_copy(a);
    json_object_set_new(proto_obj_get(b, "spec.containers.0"), "image", json_string("busybox:2"));
    json_t *causes = NULL;
    CHECK_EQ_INT(proto_validate_update(a, b, &causes), 0);
    proto_obj_set_str(b, "spec.restartPolicy", "Never");
    CHECK_EQ_INT(proto_validate_update(a, b, &causes), PROTO_EINVALID);
    CHECK_CONTAINS(json_string_value(json_object_get(json_array_get(causes, 0), "message")),
                   "Forbidden: pod updates may not change fields");
    json_decref(causes);
    json_decref(b);
    b = json_deep_copy(a);
    proto_obj_set_str(b, "metadata.name", "q");
    CHECK_EQ_INT(proto_validate_update(a, b, &causes), PROTO_EINVALID);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(causes, 0), "field")),
                 "metadata.name");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(causes, 0), "message")),
                 "Invalid value: \"q\": field is immutable");
    json_decref(causes);
    json_decref(a);
    json_decref(b);
    a = s_load(SVC("{\"clusterIP\":\"10.0.0.5\",\"ports\":[{\"port\":80}]}"));
    b = json_deep_copy(a);
    proto_obj_set_str(b, "spec.clusterIP", "10.0.0.6");
    CHECK_EQ_INT(proto_validate_update(a, b, &causes), PROTO_EINVALID);
    CHECK_CONTAINS(json_string_value(json_object_get(json_array_get(causes, 0), "message")),
                   "may not change once set");
    json_decref(causes);
    json_decref(a);
    json_decref(b);
}

TEST(openapi_from_schema)
{
    json_t *s = proto_schema_openapi(proto_kind_find("deploy"));
    REQUIRE(s);
    CHECK_EQ_STR(proto_obj_str(s, "properties.spec.properties.replicas.format"), "int32");
    json_t *e = proto_obj_get(s, "properties.spec.properties.strategy.properties.type.enum");
    CHECK_EQ_INT(json_array_size(e), 2);
    json_t *c = proto_obj_get(s, "properties.spec.properties.template.properties.spec.properties."
                                 "containers.items.required");
    CHECK_EQ_STR(json_string_value(json_array_get(c, 0)), "name");
    json_decref(s);
    CHECK(proto_schema_openapi(NULL) == NULL);
}

TEST(garbage_never_crashes)
{
    const char *bad[] = {"{}",
                         "[]",
                         "1",
                         "{\"apiVersion\":1,\"kind\":[]}",
                         POD("null"),
                         POD("[]"),
                         POD("{\"containers\":[null,1,\"x\",[]]}"),
                         RS("{\"selector\":{\"matchExpressions\":[1,{\"key\":1}]}}"),
                         SVC("{\"ports\":[null,{\"port\":null}]}")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        char err[256];
        json_t *causes = NULL;
        if (proto_convert(o, err, sizeof err) == 0) {
            proto_defaults(o);
            CHECK(proto_validate(o, true, &causes, err, sizeof err) != 0);
        }
        json_decref(causes);
        json_decref(o);
    }
}

TEST(convert_secret_string_data)
{
    json_t *o = s_load("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
                       "\"data\":{\"a\":\"eA==\",\"b\":\"eA==\"},\"stringData\":{\"b\":\"hello\","
                       "\"c\":\"ab\"}}");
    char err[256];
    CHECK_EQ_INT(s_cdv(o, err, sizeof err, NULL), 0);
    CHECK_EQ_STR(proto_obj_str(o, "data.a"), "eA==");
    CHECK_EQ_STR(proto_obj_str(o, "data.b"), "aGVsbG8=");
    CHECK_EQ_STR(proto_obj_str(o, "data.c"), "YWI=");
    CHECK(proto_obj_get(o, "stringData") == NULL);
    json_decref(o);
}

TEST(validate_status_writes)
{
    json_t *o = s_load(POD("{\"containers\":[" C1 "]}"));
    char err[512];
    json_object_set_new(o, "status",
                        json_pack("{s:s, s:[{s:s, s:i, s:b}]}", "phase", "Running",
                                  "containerStatuses", "name", "c", "restartCount", 2, "ready", 1));
    CHECK_EQ_INT(proto_validate_status(o, true, err, sizeof err), 0);
    json_object_set_new(json_object_get(o, "status"), "phaze", json_string("x"));
    CHECK_EQ_INT(proto_validate_status(o, true, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "unknown field \"status.phaze\"");
    CHECK_EQ_INT(proto_validate_status(o, false, err, sizeof err), 0);
    json_object_set_new(proto_obj_get(o, "status.containerStatuses.0"), "restartCount",
                        json_string("two"));
    CHECK_EQ_INT(proto_validate_status(o, false, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "Go struct field status.containerStatuses[0].restartCount of type int32");
    json_decref(o);
}

TEST(admission_defaults_pod)
{
    json_t *o = s_load(POD("{\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\","
                           "\"operator\":\"Exists\",\"effect\":\"NoExecute\","
                           "\"tolerationSeconds\":5}],\"containers\":[" C1 "]}"));
    proto_defaults(o);
    proto_admission_defaults(o);
    json_t *s = json_object_get(o, "spec");
    CHECK_EQ_STR(proto_obj_str(s, "serviceAccountName"), "default");
    CHECK_EQ_STR(proto_obj_str(s, "serviceAccount"), "default");
    CHECK_EQ_INT(proto_obj_int(s, "priority", -1), 0);
    CHECK_EQ_STR(proto_obj_str(s, "preemptionPolicy"), "PreemptLowerPriority");
    json_t *t = json_object_get(s, "tolerations");
    CHECK_EQ_INT(json_array_size(t), 2);
    CHECK_EQ_INT(proto_obj_int(json_array_get(t, 0), "tolerationSeconds", 0), 5);
    CHECK_EQ_STR(proto_obj_str(json_array_get(t, 1), "key"), "node.kubernetes.io/not-ready");
    CHECK_EQ_INT(proto_obj_int(json_array_get(t, 1), "tolerationSeconds", 0), 300);
    char err[256];
    CHECK_EQ_INT(proto_validate(o, true, NULL, err, sizeof err), 0);
    json_t *again = json_deep_copy(o);
    proto_admission_defaults(again);
    CHECK(json_equal(o, again));
    json_decref(again);
    json_decref(o);
}

TEST(job_default_selector_keeps_user_values)
{
    json_t *o =
        s_load("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
               "\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{"
               "\"metadata\":{\"labels\":{\"a\":\"b\",\"job-name\":\"mine\"}}}}}");
    CHECK_EQ_INT(proto_job_default_selector(o, "u-2"), 0);
    json_t *ml = proto_obj_get(o, "spec.selector.matchLabels");
    CHECK_EQ_STR(json_string_value(json_object_get(ml, "a")), "b");
    CHECK_EQ_STR(json_string_value(json_object_get(ml, "batch.kubernetes.io/controller-uid")),
                 "u-2");
    json_t *tl = proto_obj_get(o, "spec.template.metadata.labels");
    CHECK_EQ_STR(json_string_value(json_object_get(tl, "job-name")), "mine");
    CHECK_EQ_STR(json_string_value(json_object_get(tl, "batch.kubernetes.io/job-name")), "j");
    json_object_set_new(json_object_get(o, "spec"), "manualSelector", json_true());
    json_object_del(tl, "controller-uid");
    CHECK_EQ_INT(proto_job_default_selector(o, "u-3"), 0);
    CHECK(json_object_get(tl, "controller-uid") == NULL);
    CHECK_EQ_INT(proto_job_default_selector(o, NULL), PROTO_EINVALID);
    json_decref(o);
}
