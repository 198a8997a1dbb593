/*
 * tests/unit/test_scheduler — the scheduler's pure half (actors/scheduler:
 * cache, filters, scores, FailedScheduling text) on JSON node and pod
 * fixtures: node selector and affinity, resources and pod count, host ports,
 * taints and tolerations, readiness and unschedulable nodes, spreading and
 * least-allocated scoring, assume/confirm/expire, and kube-scheduler 1.32's
 * message for mixed reasons. Then the scheduler's pod stream (podwatch.c)
 * against a fake apiserver (a child process behind a real broker) that can
 * lose an event or "restart": sync, events, compact keeping of bound pods,
 * and relists on a seq gap, on the `_sync` beacon and on a new epoch.
 */
#include "tests/unit/test.h"

#include <errno.h>
#include <stdarg.h>

#include "actors/scheduler/sched_int.h"
#include "actors/scheduler/scheduler.h"
#include "broker/broker.h"
#include "protocol/obj.h"
#include "protocol/status.h"

static json_t *s_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *s_json(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    if (!j)
        fprintf(stderr, "bad fixture: %s: %s\n", e.text, buf);
    REQUIRE(j);
    return j;
}

/* A Ready node; extra is spliced into spec (e.g. taints). */
static json_t *s_node(const char *name, const char *cpu, const char *mem, int pods,
                      const char *labels, const char *spec)
{
    return s_json("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
                  "\"labels\":{%s}},\"spec\":{%s},\"status\":{\"allocatable\":{\"cpu\":\"%s\","
                  "\"memory\":\"%s\",\"pods\":\"%d\"},\"conditions\":[{\"type\":\"Ready\","
                  "\"status\":\"True\"}]}}",
                  name, labels, spec, cpu, mem, pods);
}

static void s_add_node(sched_cache_t *c, const char *name, const char *cpu, const char *mem,
                       int pods, const char *labels, const char *spec)
{
    json_t *n = s_node(name, cpu, mem, pods, labels, spec);
    CHECK(sched_cache_node_set(c, n));
    json_decref(n);
}

/* A pod with one container requesting cpu/mem ("" = none); extra is spliced
 * into spec; owner is a controller uid or "". */
static json_t *s_pod(const char *name, const char *cpu, const char *mem, const char *extra,
                     const char *owner)
{
    char req[256] = "", own[256] = "";
    if (*cpu || *mem)
        snprintf(req, sizeof req, "\"resources\":{\"requests\":{%s%s%s%s%s%s%s}}",
                 *cpu ? "\"cpu\":\"" : "", cpu, *cpu ? "\"" : "", *cpu && *mem ? "," : "",
                 *mem ? "\"memory\":\"" : "", mem, *mem ? "\"" : "");
    if (*owner)
        snprintf(own, sizeof own,
                 ",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\","
                 "\"name\":\"rc\",\"uid\":\"%s\",\"controller\":true}]",
                 owner);
    return s_json("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                  "\"namespace\":\"default\"%s},\"spec\":{\"containers\":[{\"name\":\"c\","
                  "\"image\":\"busybox\"%s%s}]%s%s}}",
                  name, own, *req ? "," : "", req, *extra ? "," : "", extra);
}

/* Schedules pod and returns the node ("" when unschedulable, msg set). */
static const char *s_sched(sched_cache_t *c, const json_t *pod, char *msg, size_t n)
{
    static char node[256];
    node[0] = 0;
    msg[0] = 0;
    int rc = sched_cache_schedule(c, pod, node, sizeof node, msg, n);
    if (rc != 0)
        node[0] = 0;
    return node;
}

/* Schedules and assumes; returns the node. */
static const char *s_place(sched_cache_t *c, json_t *pod)
{
    char msg[2048];
    const char *node = s_sched(c, pod, msg, sizeof msg);
    if (*node)
        sched_cache_pod_set(c, pod, node, true);
    json_decref(pod);
    return node;
}

TEST(node_selector_picks_the_labelled_node)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "4", "8Gi", 110, "", "");
    s_add_node(c, "n2", "4", "8Gi", 110, "\"gpu\":\"true\"", "");
    char msg[2048];
    json_t *p = s_pod("p", "", "", "\"nodeSelector\":{\"gpu\":\"true\"}", "");
    for (int i = 0; i < 5; i++)
        CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "n2");
    char why[512];
    CHECK_EQ_INT(sched_cache_fit(c, p, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why, "node(s) didn't match Pod's node affinity/selector");
    CHECK_EQ_INT(sched_cache_fit(c, p, "n2", why, sizeof why), 0);
    CHECK_EQ_INT(sched_cache_fit(c, p, "nope", why, sizeof why), PROTO_ENOTFOUND);
    json_decref(p);
    sched_cache_destroy(&c);
    CHECK(c == NULL);
}

TEST(node_selector_message_is_kube_schedulers)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "4", "8Gi", 110, "", "");
    s_add_node(c, "n2", "4", "8Gi", 110, "\"gpu\":\"false\"", "");
    char msg[2048];
    json_t *p = s_pod("p", "", "", "\"nodeSelector\":{\"gpu\":\"true\"}", "");
    CHECK_EQ_INT(sched_cache_schedule(c, p, (char[64]){0}, 64, msg, sizeof msg),
                 PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(msg, "0/2 nodes are available: 2 node(s) didn't match Pod's node "
                      "affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is "
                      "not helpful for scheduling.");
    /* labelling a node is a change that matters; the pod then fits */
    json_t *n = s_node("n1", "4", "8Gi", 110, "\"gpu\":\"true\"", "");
    CHECK(sched_cache_node_set(c, n));
    CHECK(!sched_cache_node_set(c, n)); /* same again: nothing changed */
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "n1");
    json_decref(n);
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(resources_are_accounted_and_refused)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "1", "1Gi", 110, "", "");
    CHECK_EQ_STR(s_place(c, s_pod("a", "600m", "100Mi", "", "")), "n1");
    char msg[2048];
    json_t *b = s_pod("b", "600m", "", "", "");
    CHECK_EQ_STR(s_sched(c, b, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                      "available: 1 No preemption victims found for incoming pod.");
    json_t *m = s_pod("m", "100m", "1000Mi", "", "");
    char why[256];
    CHECK_EQ_INT(sched_cache_fit(c, m, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why, "Insufficient memory");
    /* the first pod goes away: the second fits */
    CHECK(sched_cache_pod_del(c, "default", "a"));
    CHECK(!sched_cache_pod_del(c, "default", "a"));
    CHECK_EQ_STR(s_sched(c, b, msg, sizeof msg), "n1");
    /* limits stand in for absent requests */
    json_t *l = s_json("{\"metadata\":{\"name\":\"l\",\"namespace\":\"default\"},\"spec\":"
                       "{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":"
                       "{\"cpu\":\"2\"}}}]}}");
    CHECK_EQ_INT(sched_cache_fit(c, l, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why, "Insufficient cpu");
    json_decref(l);
    json_decref(m);
    json_decref(b);
    sched_cache_destroy(&c);
}

TEST(init_containers_take_the_max)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "2", "1Gi", 110, "", "");
    json_t *p = s_pod("p", "500m", "", "\"initContainers\":[{\"name\":\"i\",\"resources\":"
                                        "{\"requests\":{\"cpu\":\"3\"}}}]",
                      "");
    char why[256];
    CHECK_EQ_INT(sched_cache_fit(c, p, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why, "Insufficient cpu");
    json_decref(p);
    p = s_pod("p", "500m", "", "\"initContainers\":[{\"name\":\"i\",\"resources\":"
                               "{\"requests\":{\"cpu\":\"1500m\"}}}]",
              "");
    CHECK_EQ_INT(sched_cache_fit(c, p, "n1", why, sizeof why), 0);
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(pod_count_against_allocatable_pods)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "4", "8Gi", 2, "", "");
    CHECK_EQ_STR(s_place(c, s_pod("a", "", "", "", "")), "n1");
    CHECK_EQ_STR(s_place(c, s_pod("b", "", "", "", "")), "n1");
    char msg[2048];
    json_t *p = s_pod("c", "", "", "", "");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are "
                      "available: 1 No preemption victims found for incoming pod.");
    json_decref(p);
    sched_cache_destroy(&c);
}

static json_t *s_port_pod(const char *name, int port, const char *proto, const char *ip)
{
    char extra[512];
    snprintf(extra, sizeof extra,
             "\"hostNetwork\":false,\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":"
             "80,\"hostPort\":%d,\"protocol\":\"%s\"%s%s%s}]}]",
             port, proto, *ip ? ",\"hostIP\":\"" : "", ip, *ip ? "\"" : "");
    return s_json("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\"},\"spec\":{%s}}",
                  name, extra);
}

TEST(host_ports_conflict)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "4", "8Gi", 110, "", "");
    CHECK_EQ_STR(s_place(c, s_port_pod("a", 8080, "TCP", "")), "n1");
    char why[256], msg[2048];
    json_t *same = s_port_pod("b", 8080, "TCP", "");
    CHECK_EQ_INT(sched_cache_fit(c, same, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why, "node(s) didn't have free ports for the requested pod ports");
    CHECK_EQ_STR(s_sched(c, same, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "0/1 nodes are available: 1 node(s) didn't have free ports for the "
                      "requested pod ports. preemption: 0/1 nodes are available: 1 No preemption "
                      "victims found for incoming pod.");
    json_t *udp = s_port_pod("c", 8080, "UDP", "");
    json_t *other = s_port_pod("d", 8081, "TCP", "");
    json_t *ip = s_port_pod("e", 8080, "TCP", "127.0.0.2");
    CHECK_EQ_INT(sched_cache_fit(c, udp, "n1", why, sizeof why), 0);
    CHECK_EQ_INT(sched_cache_fit(c, other, "n1", why, sizeof why), 0);
    /* a specific address clashes with the wildcard in use */
    CHECK_EQ_INT(sched_cache_fit(c, ip, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    sched_cache_pod_del(c, "default", "a");
    CHECK_EQ_STR(s_place(c, s_port_pod("f", 8080, "TCP", "127.0.0.3")), "n1");
    CHECK_EQ_INT(sched_cache_fit(c, ip, "n1", why, sizeof why), 0); /* two specific addresses */
    CHECK_EQ_INT(sched_cache_fit(c, same, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    json_decref(same);
    json_decref(udp);
    json_decref(other);
    json_decref(ip);
    sched_cache_destroy(&c);
}

TEST(taints_and_tolerations)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "4", "8Gi", 110, "",
               "\"taints\":[{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"},"
               "{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]");
    char why[256], msg[2048];
    json_t *p = s_pod("p", "", "", "", "");
    CHECK_EQ_INT(sched_cache_fit(c, p, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why, "node(s) had untolerated taint {dedicated: gpu}");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}."
                      " preemption: 0/1 nodes are available: 1 Preemption is not helpful for "
                      "scheduling.");
    json_decref(p);
    static const char *const ok[] = {
        "{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}",
        "{\"key\":\"dedicated\",\"value\":\"gpu\"}",
        "{\"key\":\"dedicated\",\"operator\":\"Exists\"}",
        "{\"operator\":\"Exists\"}",
    };
    static const char *const bad[] = {
        "{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"cpu\"}",
        "{\"key\":\"dedicated\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}",
        "{\"key\":\"other\",\"operator\":\"Exists\"}",
        "{\"operator\":\"Equal\",\"value\":\"gpu\"}",
    };
    char extra[512];
    for (size_t i = 0; i < 4; i++) {
        snprintf(extra, sizeof extra, "\"tolerations\":[%s]", ok[i]);
        p = s_pod("p", "", "", extra, "");
        CHECK_EQ_INT(sched_cache_fit(c, p, "n1", why, sizeof why), 0);
        json_decref(p);
        snprintf(extra, sizeof extra, "\"tolerations\":[%s]", bad[i]);
        p = s_pod("p", "", "", extra, "");
        CHECK_EQ_INT(sched_cache_fit(c, p, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
        json_decref(p);
    }
    sched_cache_destroy(&c);
}

TEST(not_ready_and_unschedulable_nodes)
{
    sched_cache_t *c = sched_cache_new(1);
    json_t *n = s_node("n1", "4", "8Gi", 110, "", "");
    json_object_set_new(json_array_get(proto_obj_get(n, "status.conditions"), 0), "status",
                        json_string("False"));
    CHECK(sched_cache_node_set(c, n));
    json_decref(n);
    s_add_node(c, "n2", "4", "8Gi", 110, "", "\"unschedulable\":true");
    char msg[2048];
    json_t *p = s_pod("p", "", "", "", "");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "0/2 nodes are available: 1 node(s) had untolerated taint "
                      "{node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. "
                      "preemption: 0/2 nodes are available: 2 Preemption is not helpful for "
                      "scheduling.");
    json_decref(p);
    p = s_pod("p", "", "", "\"tolerations\":[{\"key\":\"node.kubernetes.io/unschedulable\","
                           "\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]",
              "");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "n2");
    json_decref(p);
    sched_cache_node_del(c, "n2");
    sched_cache_node_del(c, "n1");
    CHECK_EQ_INT(sched_cache_node_count(c), 0);
    p = s_pod("p", "", "", "", "");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "no nodes available to schedule pods");
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(mixed_reasons_message)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "8", "8Gi", 110, "\"disk\":\"ssd\"", "\"unschedulable\":true");
    s_add_node(c, "n2", "8", "8Gi", 110, "\"disk\":\"ssd\"",
               "\"taints\":[{\"key\":\"a\",\"value\":\"b\",\"effect\":\"NoExecute\"}]");
    s_add_node(c, "n3", "1", "8Gi", 110, "\"disk\":\"ssd\"", "");
    s_add_node(c, "n4", "8", "8Gi", 110, "\"disk\":\"hdd\"", "");
    s_add_node(c, "n5", "1", "1Gi", 110, "\"disk\":\"ssd\"", "");
    char msg[2048];
    json_t *p = s_pod("p", "2", "2Gi", "\"nodeSelector\":{\"disk\":\"ssd\"}", "");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "0/5 nodes are available: 1 Insufficient memory, 1 node(s) didn't match "
                      "Pod's node affinity/selector, 1 node(s) had untolerated taint {a: b}, 1 "
                      "node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/5 nodes are "
                      "available: 2 No preemption victims found for incoming pod, 3 Preemption "
                      "is not helpful for scheduling.");
    json_decref(p);
    p = s_pod("p", "2", "", "\"preemptionPolicy\":\"Never\"", "");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "n4");
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(node_affinity_expressions)
{
    json_t *labels = s_json("{\"zone\":\"a\",\"cores\":\"16\"}");
    static const struct {
        const char *term;
        bool want;
    } cases[] = {
        {"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]}", true},
        {"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"b\"]}]}", false},
        {"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"b\"]}]}", true},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"NotIn\",\"values\":[\"b\"]}]}", true},
        {"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Exists\"}]}", true},
        {"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}]}", false},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"DoesNotExist\"}]}", true},
        {"{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"8\"]}]}", true},
        {"{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"8\"]}]}", false},
        {"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Gt\",\"values\":[\"8\"]}]}", false},
        {"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]},"
         "{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"8\"]}]}", false},
        {"{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n1\"]}]}", true},
        {"{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n2\"]}]}", false},
        {"{}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *t = s_json("%s", cases[i].term);
        if (sched_term_matches(t, labels, "n1") != cases[i].want)
            T_FAIL("term %s: want %d", cases[i].term, cases[i].want);
        json_decref(t);
    }
    json_decref(labels);
    /* through the cache: terms are ORed */
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "4", "8Gi", 110, "\"zone\":\"a\"", "");
    s_add_node(c, "n2", "4", "8Gi", 110, "\"zone\":\"b\"", "");
    json_t *p = s_pod("p", "", "",
                      "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuring"
                      "Execution\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"zone\","
                      "\"operator\":\"In\",\"values\":[\"c\"]}]},{\"matchExpressions\":[{\"key\":"
                      "\"zone\",\"operator\":\"NotIn\",\"values\":[\"a\"]}]}]}}}",
                      "");
    char msg[2048];
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "n2");
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(spreading_pods_of_one_owner)
{
    sched_cache_t *c = sched_cache_new(7);
    s_add_node(c, "n1", "4", "8Gi", 110, "", "");
    s_add_node(c, "n2", "4", "8Gi", 110, "", "");
    s_add_node(c, "n3", "4", "8Gi", 110, "", "");
    int on[3] = {0};
    for (int i = 0; i < 9; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        const char *n = s_place(c, s_pod(name, "", "", "", "rc-uid-1"));
        REQUIRE(*n == 'n');
        on[n[1] - '1']++;
    }
    CHECK_EQ_INT(on[0], 3);
    CHECK_EQ_INT(on[1], 3);
    CHECK_EQ_INT(on[2], 3);
    /* a pod of that owner scores higher where the owner has fewer pods */
    sched_cache_pod_del(c, "default", "p0");
    json_t *p = s_pod("x", "", "", "", "rc-uid-1");
    const char *where = sched_cache_pod_node(c, "default", "p1", NULL);
    REQUIRE(where);
    int s1 = sched_cache_score(c, p, "n1"), s2 = sched_cache_score(c, p, "n2");
    CHECK(s1 >= 0 && s2 >= 0);
    CHECK_EQ_INT(sched_cache_score(c, p, "nope"), -1);
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(least_allocated_prefers_the_emptier_node)
{
    sched_cache_t *c = sched_cache_new(3);
    s_add_node(c, "n1", "4", "8Gi", 110, "", "");
    s_add_node(c, "n2", "4", "8Gi", 110, "", "");
    json_t *big = s_pod("big", "3", "6Gi", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"x\"}", "");
    sched_cache_pod_set(c, big, "n1", false);
    json_decref(big);
    json_t *p = s_pod("p", "500m", "1Gi", "", "");
    CHECK(sched_cache_score(c, p, "n2") > sched_cache_score(c, p, "n1"));
    char msg[2048];
    for (int i = 0; i < 5; i++)
        CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "n2");
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(assume_confirm_and_expire)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "1", "1Gi", 110, "", "");
    json_t *p = s_pod("p", "800m", "", "", "");
    bool assumed = false;
    CHECK(sched_cache_pod_node(c, "default", "p", &assumed) == NULL);
    sched_cache_pod_set(c, p, "n1", true);
    CHECK_EQ_STR(sched_cache_pod_node(c, "default", "p", &assumed), "n1");
    CHECK(assumed);
    /* the burst cannot overcommit while the binding is in flight */
    json_t *q = s_pod("q", "800m", "", "", "");
    char why[256];
    CHECK_EQ_INT(sched_cache_fit(c, q, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    /* the assumption expires */
    CHECK_EQ_INT(sched_cache_expire(c, proto_mono_ms() + 60000, 30000), 1);
    CHECK(sched_cache_pod_node(c, "default", "p", NULL) == NULL);
    CHECK_EQ_INT(sched_cache_fit(c, q, "n1", why, sizeof why), 0);
    /* confirmed pods never expire */
    sched_cache_pod_set(c, p, "n1", true);
    sched_cache_pod_set(c, p, "n1", false);
    CHECK_EQ_STR(sched_cache_pod_node(c, "default", "p", &assumed), "n1");
    CHECK(!assumed);
    CHECK_EQ_INT(sched_cache_expire(c, proto_mono_ms() + 60000, 30000), 0);
    /* a node deleted and re-added keeps the pods accounted on it */
    sched_cache_node_del(c, "n1");
    s_add_node(c, "n1", "1", "1Gi", 110, "", "");
    CHECK_EQ_INT(sched_cache_fit(c, q, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    json_decref(p);
    json_decref(q);
    sched_cache_destroy(&c);
}

TEST(which_pods_are_ours)
{
    json_t *p = s_pod("p", "", "", "", "");
    CHECK(sched_pod_wants_scheduling(p, SCHED_DEFAULT_NAME));
    proto_obj_set_str(p, "spec.schedulerName", "default-scheduler");
    CHECK(sched_pod_wants_scheduling(p, SCHED_DEFAULT_NAME));
    proto_obj_set_str(p, "spec.schedulerName", "other");
    CHECK(!sched_pod_wants_scheduling(p, SCHED_DEFAULT_NAME));
    proto_obj_del(p, "spec.schedulerName");
    proto_obj_set_str(p, "spec.nodeName", "n1");
    CHECK(!sched_pod_wants_scheduling(p, SCHED_DEFAULT_NAME));
    proto_obj_set_str(p, "spec.nodeName", "");
    CHECK(sched_pod_wants_scheduling(p, SCHED_DEFAULT_NAME));
    proto_obj_set_str(p, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z");
    CHECK(!sched_pod_wants_scheduling(p, SCHED_DEFAULT_NAME));
    proto_obj_del(p, "metadata.deletionTimestamp");
    proto_obj_set_str(p, "status.phase", "Failed");
    CHECK(!sched_pod_wants_scheduling(p, SCHED_DEFAULT_NAME));
    json_decref(p);
}

TEST(bad_quantities_are_refused_not_crashed)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "4", "8Gi", 110, "", "");
    json_t *p = s_pod("p", "lots", "", "", "");
    char node[64], msg[512];
    CHECK_EQ_INT(sched_cache_schedule(c, p, node, sizeof node, msg, sizeof msg), PROTO_EINVALID);
    CHECK_CONTAINS(msg, "invalid cpu request");
    sched_cache_pod_set(c, p, "n1", false); /* accounted as requesting nothing */
    json_decref(p);
    p = s_pod("neg", "-1", "", "", "");
    CHECK_EQ_INT(sched_cache_schedule(c, p, node, sizeof node, msg, sizeof msg), PROTO_EINVALID);
    json_decref(p);
    /* absurdly large requests are capped, never overflow: they just do not fit */
    p = s_pod("huge", "1E", "1E", "", "");
    static const char *const hn[] = {"h1", "h2", "h3"};
    for (int i = 0; i < 3; i++) {
        proto_obj_set_str(p, "metadata.name", hn[i]);
        sched_cache_pod_set(c, p, "n1", false);
    }
    char why0[256];
    CHECK_EQ_INT(sched_cache_fit(c, p, "n1", why0, sizeof why0), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why0, "Insufficient cpu, Insufficient memory");
    json_decref(p);
    /* a node with garbage allocatable fits nothing that requests */
    json_t *n = s_node("n2", "x", "8Gi", 110, "", "");
    sched_cache_node_set(c, n);
    json_decref(n);
    p = s_pod("q", "100m", "", "", "");
    char why[256];
    CHECK_EQ_INT(sched_cache_fit(c, p, "n2", why, sizeof why), PROTO_EUNAVAILABLE);
    json_decref(p);
    sched_cache_destroy(&c);
}

TEST(thousand_nodes_filled_exactly_and_fast)
{
    sched_cache_t *c = sched_cache_new(11);
    char name[32], msg[2048];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "node-%d", i);
        s_add_node(c, name, "32", "128Gi", 5, "", "");
    }
    int64_t t0 = proto_mono_ms();
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "p%d", i);
        const char *n = s_place(c, s_pod(name, "100m", "64Mi", "", ""));
        if (!*n)
            T_FAIL("pod %d not placed", i);
    }
    int64_t ms = proto_mono_ms() - t0;
    fprintf(stderr, "  5000 pods on 1000 nodes: %lld ms\n", (long long)ms);
    /* every slot is used exactly once: the next pod fits nowhere */
    json_t *p = s_pod("last", "", "", "", "");
    CHECK_EQ_STR(s_sched(c, p, msg, sizeof msg), "");
    CHECK_EQ_STR(msg, "0/1000 nodes are available: 1000 Too many pods. preemption: 0/1000 nodes "
                      "are available: 1000 No preemption victims found for incoming pod.");
    json_decref(p);
    CHECK(ms < 20000);
    sched_cache_destroy(&c);
}

TEST(slim_pods_account_the_same)
{
    sched_cache_t *c = sched_cache_new(1);
    s_add_node(c, "n1", "1", "1Gi", 110, "", "");
    json_t *full = s_json(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
        "\"default\",\"uid\":\"u1\",\"resourceVersion\":\"7\",\"labels\":{\"a\":\"b\"},"
        "\"annotations\":{\"x\":\"y\"},\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":"
        "\"ReplicationController\",\"name\":\"rc\",\"uid\":\"rc1\",\"controller\":true}]},"
        "\"spec\":{\"nodeName\":\"n1\",\"restartPolicy\":\"Always\",\"containers\":[{\"name\":"
        "\"c\",\"image\":\"busybox\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"resources\":"
        "{\"requests\":{\"cpu\":\"600m\",\"memory\":\"100Mi\"}},\"ports\":[{\"containerPort\":80},"
        "{\"containerPort\":81,\"hostPort\":8081}]}]},\"status\":{\"phase\":\"Running\","
        "\"podIP\":\"10.0.0.1\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    json_t *slim = sched_pod_slim(full);
    CHECK_EQ_STR(proto_obj_str(slim, "metadata.resourceVersion"), "7");
    CHECK_EQ_STR(proto_obj_str(slim, "metadata.ownerReferences.0.uid"), "rc1");
    CHECK_EQ_STR(proto_obj_str(slim, "status.phase"), "Running");
    CHECK(proto_obj_get(slim, "metadata.labels") == NULL);
    CHECK(proto_obj_get(slim, "spec.containers.0.env") == NULL);
    CHECK(proto_obj_get(slim, "status.podIP") == NULL);
    CHECK_EQ_INT(json_array_size(proto_obj_get(slim, "spec.containers.0.ports")), 1);
    /* accounted from the slim copy: same refusal as from the full pod */
    sched_cache_pod_set(c, slim, "n1", false);
    json_t *q = s_port_pod("q", 8081, "TCP", "");
    char why[256];
    CHECK_EQ_INT(sched_cache_fit(c, q, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    json_decref(q);
    q = s_pod("q2", "600m", "", "", "");
    CHECK_EQ_INT(sched_cache_fit(c, q, "n1", why, sizeof why), PROTO_EUNAVAILABLE);
    CHECK_EQ_STR(why, "Insufficient cpu");
    json_decref(q);
    /* an unbound pod is kept whole */
    proto_obj_del(full, "spec.nodeName");
    json_t *whole = sched_pod_slim(full);
    CHECK(json_equal(whole, full));
    json_decref(whole);
    json_decref(slim);
    json_decref(full);
    sched_cache_destroy(&c);
}

/* The informer keeps nodes as sched_node_slim: the cache must read the
 * same node from it (a change of the slim copy is a change of the node). */
TEST(node_slim_keeps_what_the_cache_reads)
{
    json_t *full = s_node("n1", "2", "1Gi", 110, "\"disk\":\"ssd\"",
                          "\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]");
    proto_obj_set_str(full, "status.nodeInfo.kubeletVersion", "v1.31");
    json_t *slim = sched_node_slim(full);
    CHECK(proto_obj_get(slim, "status.nodeInfo") == NULL);
    CHECK(
        json_equal(proto_obj_get(slim, "metadata.labels"), proto_obj_get(full, "metadata.labels")));
    CHECK(json_equal(proto_obj_get(slim, "spec.taints"), proto_obj_get(full, "spec.taints")));
    sched_cache_t *a = sched_cache_new(1), *b = sched_cache_new(1);
    CHECK(sched_cache_node_set(a, full));
    CHECK(sched_cache_node_set(b, slim));
    CHECK(!sched_cache_node_set(a, slim)); /* the same node, as far as the cache knows */
    json_t *p = s_pod("p", "1500m", "", "", "");
    char w1[256] = "", w2[256] = "";
    CHECK_EQ_INT(sched_cache_fit(a, p, "n1", w1, sizeof w1),
                 sched_cache_fit(b, p, "n1", w2, sizeof w2));
    CHECK_EQ_STR(w1, w2);
    json_decref(p);
    sched_cache_destroy(&a);
    sched_cache_destroy(&b);
    json_decref(slim);
    json_decref(full);
}

/* ---- the pod stream against a fake apiserver ------------------------------- */

static pid_t s_broker_pid, s_fake_pid;
static rt_actor_t *s_a;
static rt_config_t s_cfg;
static json_t *s_objs, *s_seqs;
static uint64_t s_rev;
static char s_epoch[32] = "e1";
static bool s_lose_next;

static void s_emit(rt_actor_t *a, const char *type, json_t *pod)
{
    char rv[32], topic[256];
    s_rev++;
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)s_rev);
    proto_obj_set_str(pod, "metadata.resourceVersion", rv);
    json_int_t seq = json_integer_value(json_object_get(s_seqs, "pods/")) + 1;
    json_object_set_new(s_seqs, "pods/", json_integer(seq));
    if (s_lose_next) { /* the event takes its seq but never leaves */
        s_lose_next = false;
        return;
    }
    snprintf(topic, sizeof topic, "pods/default/%s", proto_obj_name(pod));
    json_t *body = json_pack("{s:s, s:O, s:I, s:I, s:s}", "type", type, "object", pod, "rev",
                             (json_int_t)s_rev, "seq", seq, "epoch", s_epoch);
    rt_publish(a, topic, type, body);
    json_decref(body);
}

static void s_fake_list(rt_actor_t *a, rt_req_t *req, void *arg)
{
    json_t *items = json_array();
    const char *k;
    json_t *o;
    json_object_foreach(s_objs, k, o) json_array_append(items, o);
    char rv[32];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)s_rev);
    json_t *list = json_pack("{s:s, s:s, s:{s:s}, s:o, s:{s:s, s:I}}", "apiVersion", "v1", "kind",
                             "PodList", "metadata", "resourceVersion", rv, "items", items, "zkube",
                             "epoch", s_epoch, "seq",
                             json_integer_value(json_object_get(s_seqs, "pods/")));
    rt_reply(a, &req, 200, list);
    json_decref(list);
    (void)arg;
}

/* ops: put {name, node?} (add or replace), del {name}, lose, restart */
static void s_fake_ctl(rt_actor_t *a, rt_req_t *req, void *arg)
{
    const char *op = req->env.op;
    json_t *b = req->env.body;
    const char *name = json_string_value(json_object_get(b, "name"));
    if (!strcmp(op, "put")) {
        bool had = json_object_get(s_objs, name) != NULL;
        json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:[{s:s}]}}", "apiVersion", "v1",
                                "kind", "Pod", "metadata", "name", name, "namespace", "default",
                                "spec", "containers", "name", "c");
        if (json_object_get(b, "node"))
            proto_obj_set(pod, "spec.nodeName", json_incref(json_object_get(b, "node")));
        json_object_set_new(s_objs, name, pod);
        s_emit(a, had ? "MODIFIED" : "ADDED", pod);
    } else if (!strcmp(op, "del")) {
        json_t *pod = json_incref(json_object_get(s_objs, name));
        json_object_del(s_objs, name);
        if (pod)
            s_emit(a, "DELETED", pod);
        json_decref(pod);
    } else if (!strcmp(op, "lose")) {
        s_lose_next = true;
    } else if (!strcmp(op, "restart")) {
        snprintf(s_epoch, sizeof s_epoch, "e%lld", (long long)(proto_mono_ms() % 100000) + 2);
        json_object_clear(s_seqs);
    }
    rt_reply(a, &req, 200, NULL);
    (void)arg;
}

static void s_beacon(rt_actor_t *a, void *arg)
{
    json_t *b = json_pack("{s:s, s:I, s:O}", "epoch", s_epoch, "rev", (json_int_t)s_rev, "seqs",
                          s_seqs);
    rt_publish(a, "_sync", "sync", b);
    json_decref(b);
    (void)arg;
}

static void s_fake_main(void)
{
    rt_actor_t *a;
    char err[256];
    s_objs = json_object();
    s_seqs = json_object();
    if (rt_actor_open(&a, "fake-apiserver", &s_cfg, err, sizeof err) < 0)
        _exit(1);
    rt_serve(a, "apiserver", s_fake_list, NULL);
    rt_serve(a, "fake", s_fake_ctl, NULL);
    rt_timer_add(a, 100, true, s_beacon, NULL);
    rt_run(a);
    rt_actor_destroy(&a);
    _exit(0);
}

static void s_start(void)
{
    char home[512], err[256];
    snprintf(home, sizeof home, "%s/home", t_tmpdir());
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    REQUIRE(rt_config_load(&s_cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&s_cfg) == 0);
    s_broker_pid = fork();
    if (s_broker_pid == 0)
        _exit(broker_run(&s_cfg) ? 1 : 0);
    s_fake_pid = fork();
    if (s_fake_pid == 0)
        s_fake_main();
    REQUIRE(rt_actor_open(&s_a, "podwatch-test", &s_cfg, err, sizeof err) == 0);
}

static void s_stop(void)
{
    rt_actor_destroy(&s_a);
    kill(s_fake_pid, SIGTERM);
    waitpid(s_fake_pid, NULL, 0);
    kill(s_broker_pid, SIGTERM);
    waitpid(s_broker_pid, NULL, 0);
}

static void s_fake(const char *op, json_t *body)
{
    json_t *reply = NULL;
    rt_call_opts_t o = {.timeout_ms = 3000};
    CHECK_EQ_INT(rt_call_sync(s_a, "fake", op, body, &o, &reply), 200);
    json_decref(reply);
    json_decref(body);
}

typedef struct {
    int seen, deleted, synced;
    char last_deleted[64];
} s_pwc_t;

static void s_pw_seen(void *arg, const json_t *pod)
{
    ((s_pwc_t *)arg)->seen++;
    (void)pod;
}
static void s_pw_deleted(void *arg, const json_t *pod)
{
    s_pwc_t *c = arg;
    c->deleted++;
    snprintf(c->last_deleted, sizeof c->last_deleted, "%s", proto_obj_name(pod) ?: "?");
}
static void s_pw_synced(void *arg)
{
    ((s_pwc_t *)arg)->synced++;
}
static const sched_pw_handlers_t s_pwh = {s_pw_seen, s_pw_deleted, s_pw_synced};

#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        int64_t t_end = proto_mono_ms() + 5000;                                                    \
        while (!(cond) && proto_mono_ms() < t_end)                                                 \
            rt_run_for(s_a, 10);                                                                   \
        CHECK(cond);                                                                               \
    } while (0)

TEST(podwatch_keeps_only_waiting_pods_whole)
{
    s_start();
    s_fake("put", json_pack("{s:s}", "name", "waiting"));
    s_fake("put", json_pack("{s:s, s:s}", "name", "bound", "node", "n1"));
    s_pwc_t c = {0};
    sched_pw_t *pw;
    REQUIRE(sched_pw_new(&pw, s_a, SCHED_DEFAULT_NAME, &s_pwh, &c) == 0);
    sched_pw_t *second;
    CHECK_EQ_INT(sched_pw_new(&second, s_a, SCHED_DEFAULT_NAME, &s_pwh, &c), -EBUSY);
    WAIT_FOR(sched_pw_synced(pw));
    CHECK_EQ_INT(c.seen, 2);
    CHECK_EQ_INT(sched_pw_count(pw), 2);
    CHECK(sched_pw_get(pw, "default", "waiting") != NULL);
    CHECK(sched_pw_get(pw, "default", "bound") == NULL);
    /* binding the waiting pod: no longer kept whole */
    s_fake("put", json_pack("{s:s, s:s}", "name", "waiting", "node", "n2"));
    WAIT_FOR(c.seen == 3);
    CHECK(sched_pw_get(pw, "default", "waiting") == NULL);
    s_fake("put", json_pack("{s:s}", "name", "new"));
    WAIT_FOR(sched_pw_get(pw, "default", "new") != NULL);
    s_fake("del", json_pack("{s:s}", "name", "bound"));
    WAIT_FOR(c.deleted == 1);
    CHECK_EQ_STR(c.last_deleted, "bound");
    CHECK_EQ_INT(sched_pw_count(pw), 2);
    CHECK_EQ_INT(sched_pw_relists(pw), 1); /* the first list only */
    sched_pw_destroy(&pw);
    CHECK(pw == NULL);
    s_stop();
}

TEST(podwatch_gap_relists_and_reports_differences)
{
    s_start();
    s_fake("put", json_pack("{s:s, s:s}", "name", "gone", "node", "n1"));
    s_pwc_t c = {0};
    sched_pw_t *pw;
    REQUIRE(sched_pw_new(&pw, s_a, SCHED_DEFAULT_NAME, &s_pwh, &c) == 0);
    WAIT_FOR(sched_pw_synced(pw));
    s_fake("lose", json_object());
    s_fake("del", json_pack("{s:s}", "name", "gone")); /* this event is lost */
    s_fake("put", json_pack("{s:s}", "name", "next"));
    WAIT_FOR(sched_pw_get(pw, "default", "next") != NULL && c.deleted == 1);
    CHECK(sched_pw_relists(pw) >= 2);
    CHECK_EQ_STR(c.last_deleted, "gone"); /* a stub with the name, from the relist */
    CHECK_EQ_INT(sched_pw_count(pw), 1);
    sched_pw_destroy(&pw);
    s_stop();
}

TEST(podwatch_last_event_lost_caught_by_beacon)
{
    s_start();
    s_pwc_t c = {0};
    sched_pw_t *pw;
    REQUIRE(sched_pw_new(&pw, s_a, SCHED_DEFAULT_NAME, &s_pwh, &c) == 0);
    WAIT_FOR(sched_pw_synced(pw));
    s_fake("lose", json_object());
    s_fake("put", json_pack("{s:s}", "name", "only"));
    WAIT_FOR(sched_pw_get(pw, "default", "only") != NULL);
    CHECK(sched_pw_relists(pw) >= 2);
    sched_pw_destroy(&pw);
    s_stop();
}

TEST(podwatch_epoch_change_relists)
{
    s_start();
    s_pwc_t c = {0};
    sched_pw_t *pw;
    REQUIRE(sched_pw_new(&pw, s_a, SCHED_DEFAULT_NAME, &s_pwh, &c) == 0);
    WAIT_FOR(sched_pw_synced(pw));
    s_fake("put", json_pack("{s:s}", "name", "a"));
    WAIT_FOR(c.seen == 1);
    s_fake("restart", json_object());
    WAIT_FOR(sched_pw_relists(pw) >= 2);
    s_fake("put", json_pack("{s:s}", "name", "b"));
    WAIT_FOR(sched_pw_get(pw, "default", "b") != NULL);
    CHECK_EQ_INT(sched_pw_count(pw), 2);
    sched_pw_destroy(&pw);
    s_stop();
}
