/*
 * tests/unit/test_controllers — the controllers' pure decisions, on JSON
 * fixtures: which pods are active/ready/available, the order surplus pods
 * are deleted in (Kubernetes' ActivePods), expectations, claiming (own,
 * adopt, release, ignore), selectors of RC and RS, the pod a template makes,
 * replica status, ownerReference and finalizer helpers, and the node
 * lifecycle's conditions, taints and eviction times.
 */
#include "tests/unit/test.h"

#include "actors/controllers/controllers.h"
#include "protocol/obj.h"

/* A pod from a compact description. node may be NULL, phase NULL; ready
 * "T"/"F"/NULL; ready_at/created RFC 3339 or NULL. */
static json_t *s_pod(const char *name, const char *node, const char *phase, const char *ready,
                     const char *ready_at, const char *created, int restarts)
{
    json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{}, s:{}}", "apiVersion", "v1",
                          "kind", "Pod", "metadata", "name", name, "namespace", "default",
                          "labels", "app", "kubia", "spec", "status");
    if (node)
        proto_obj_set_str(p, "spec.nodeName", node);
    if (phase)
        proto_obj_set_str(p, "status.phase", phase);
    if (created)
        proto_obj_set_str(p, "metadata.creationTimestamp", created);
    if (ready)
        proto_obj_set(p, "status.conditions",
                      json_pack("[{s:s, s:s, s:s}]", "type", "Ready", "status",
                                ready[0] == 'T' ? "True" : "False", "lastTransitionTime",
                                ready_at ? ready_at : "2026-01-01T00:00:00Z"));
    if (restarts)
        proto_obj_set(p, "status.containerStatuses",
                      json_pack("[{s:s, s:i}]", "name", "c", "restartCount", restarts));
    return p;
}

static json_t *s_owner(const char *uid)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:i}, s:{s:i, s:{s:s}, s:{s:{s:{s:s}, "
                     "s:[s], s:{s:s}}, s:{s:[{s:s, s:s}]}}}}",
                     "apiVersion", "v1", "kind", "ReplicationController", "metadata", "name",
                     "kubia", "namespace", "default", "uid", uid, "generation", 2, "spec",
                     "replicas", 3, "selector", "app", "kubia", "template", "metadata", "labels",
                     "app", "kubia", "finalizers", "example.com/f", "annotations", "a", "b",
                     "spec", "containers", "name", "kubia", "image", "luksa/kubia");
}

static void s_own(json_t *pod, const char *uid)
{
    proto_obj_set(pod, "metadata.ownerReferences",
                  json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "v1", "kind",
                            "ReplicationController", "name", "kubia", "uid", uid, "controller",
                            1));
}

/* ---- pods ------------------------------------------------------------------- */

TEST(active_excludes_terminating_and_finished)
{
    json_t *a = s_pod("a", NULL, "Running", NULL, NULL, NULL, 0);
    json_t *b = s_pod("b", NULL, "Succeeded", NULL, NULL, NULL, 0);
    json_t *c = s_pod("c", NULL, "Failed", NULL, NULL, NULL, 0);
    json_t *d = s_pod("d", NULL, "Running", NULL, NULL, NULL, 0);
    proto_obj_set_str(d, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z");
    json_t *e = s_pod("e", NULL, NULL, NULL, NULL, NULL, 0);
    CHECK(ctrl_pod_active(a));
    CHECK(!ctrl_pod_active(b));
    CHECK(!ctrl_pod_active(c));
    CHECK(!ctrl_pod_active(d));
    CHECK(ctrl_pod_active(e));
    json_decref(a), json_decref(b), json_decref(c), json_decref(d), json_decref(e);
}

TEST(available_needs_min_ready_seconds)
{
    json_t *p = s_pod("a", "n1", "Running", "T", "2026-01-01T00:00:00Z", NULL, 0);
    int64_t t0 = proto_parse_time("2026-01-01T00:00:00Z");
    CHECK(ctrl_pod_ready(p));
    CHECK(ctrl_pod_available(p, 0, t0));
    CHECK(!ctrl_pod_available(p, 10, t0 + 9));
    CHECK(ctrl_pod_available(p, 10, t0 + 10));
    json_t *q = s_pod("b", "n1", "Running", "F", NULL, NULL, 0);
    CHECK(!ctrl_pod_ready(q));
    CHECK(!ctrl_pod_available(q, 0, t0));
    json_decref(p), json_decref(q);
}

TEST(rank_unscheduled_pending_notready_first)
{
    json_t *unsched = s_pod("u", NULL, "Pending", NULL, NULL, "2026-01-01T00:00:00Z", 0);
    json_t *pending = s_pod("p", "n1", "Pending", NULL, NULL, "2026-01-01T00:00:00Z", 0);
    json_t *unknown = s_pod("k", "n1", "Unknown", NULL, NULL, "2026-01-01T00:00:00Z", 0);
    json_t *notready = s_pod("r", "n1", "Running", "F", NULL, "2026-01-01T00:00:00Z", 0);
    json_t *ready = s_pod("y", "n1", "Running", "T", NULL, "2026-01-01T00:00:00Z", 0);
    CHECK(ctrl_pod_cmp(unsched, pending) < 0);
    CHECK(ctrl_pod_cmp(pending, unsched) > 0);
    CHECK(ctrl_pod_cmp(pending, unknown) < 0);
    CHECK(ctrl_pod_cmp(unknown, notready) < 0);
    CHECK(ctrl_pod_cmp(notready, ready) < 0);
    CHECK(ctrl_pod_cmp(ready, ready) == 0);
    json_t *all = json_pack("[O, O, O, O, O]", ready, notready, unknown, pending, unsched);
    ctrl_pods_sort(all);
    CHECK_EQ_STR(proto_obj_name(json_array_get(all, 0)), "u");
    CHECK_EQ_STR(proto_obj_name(json_array_get(all, 1)), "p");
    CHECK_EQ_STR(proto_obj_name(json_array_get(all, 2)), "k");
    CHECK_EQ_STR(proto_obj_name(json_array_get(all, 3)), "r");
    CHECK_EQ_STR(proto_obj_name(json_array_get(all, 4)), "y");
    json_decref(all);
    json_decref(unsched), json_decref(pending), json_decref(unknown);
    json_decref(notready), json_decref(ready);
}

TEST(rank_ready_time_restarts_then_newer_first)
{
    json_t *young = s_pod("young", "n1", "Running", "T", "2026-01-01T10:00:00Z",
                          "2026-01-01T00:00:00Z", 0);
    json_t *old = s_pod("old", "n1", "Running", "T", "2026-01-01T09:00:00Z",
                        "2026-01-01T00:00:00Z", 0);
    CHECK(ctrl_pod_cmp(young, old) < 0); /* ready for less time goes first */
    json_t *crashy = s_pod("crashy", "n1", "Running", "F", NULL, "2026-01-01T00:00:00Z", 5);
    json_t *calm = s_pod("calm", "n1", "Running", "F", NULL, "2026-01-01T00:00:00Z", 1);
    CHECK(ctrl_pod_cmp(crashy, calm) < 0);
    json_t *newer = s_pod("newer", NULL, NULL, NULL, NULL, "2026-01-02T00:00:00Z", 0);
    json_t *older = s_pod("older", NULL, NULL, NULL, NULL, "2026-01-01T00:00:00Z", 0);
    json_t *notime = s_pod("notime", NULL, NULL, NULL, NULL, NULL, 0);
    CHECK(ctrl_pod_cmp(newer, older) < 0);
    CHECK(ctrl_pod_cmp(notime, newer) < 0);
    CHECK(ctrl_pod_cmp(older, newer) > 0);
    json_decref(young), json_decref(old), json_decref(crashy), json_decref(calm);
    json_decref(newer), json_decref(older), json_decref(notime);
}

/* ---- expectations -------------------------------------------------------------- */

TEST(expectations_wait_for_observed_creates)
{
    ctrl_exp_t *e = ctrl_exp_new();
    CHECK(ctrl_exp_satisfied(e, "default/kubia", 0));
    ctrl_exp_expect_adds(e, "default/kubia", 2, 1000);
    CHECK(!ctrl_exp_satisfied(e, "default/kubia", 1000));
    CHECK(ctrl_exp_satisfied(e, "default/other", 1000));
    ctrl_exp_observe_add(e, "default/kubia");
    CHECK(!ctrl_exp_satisfied(e, "default/kubia", 1000));
    ctrl_exp_observe_add(e, "default/kubia");
    CHECK(ctrl_exp_satisfied(e, "default/kubia", 1000));
    ctrl_exp_observe_add(e, "default/kubia"); /* never below zero */
    int adds = -1, dels = -1;
    ctrl_exp_pending(e, "default/kubia", &adds, &dels);
    CHECK_EQ_INT(adds, 0);
    CHECK_EQ_INT(dels, 0);
    ctrl_exp_destroy(&e);
    CHECK(e == NULL);
    ctrl_exp_destroy(&e);
}

TEST(expectations_track_deletes_by_key)
{
    ctrl_exp_t *e = ctrl_exp_new();
    ctrl_exp_expect_del(e, "ns/rc", "ns/p1", 0);
    ctrl_exp_expect_del(e, "ns/rc", "ns/p2", 0);
    CHECK(!ctrl_exp_satisfied(e, "ns/rc", 10));
    ctrl_exp_observe_del(e, "ns/rc", "ns/p1");
    ctrl_exp_observe_del(e, "ns/rc", "ns/p1"); /* marked, then gone: counted once */
    CHECK(!ctrl_exp_satisfied(e, "ns/rc", 10));
    ctrl_exp_observe_del(e, "ns/rc", "ns/p3"); /* someone else's deletion */
    CHECK(!ctrl_exp_satisfied(e, "ns/rc", 10));
    ctrl_exp_observe_del(e, "ns/rc", "ns/p2");
    CHECK(ctrl_exp_satisfied(e, "ns/rc", 10));
    ctrl_exp_destroy(&e);
}

TEST(expectations_expire_and_forget)
{
    ctrl_exp_t *e = ctrl_exp_new();
    ctrl_exp_expect_adds(e, "ns/rc", 5, 1000);
    CHECK(!ctrl_exp_satisfied(e, "ns/rc", 1000 + CTRL_EXP_TIMEOUT_MS));
    CHECK(ctrl_exp_satisfied(e, "ns/rc", 1001 + CTRL_EXP_TIMEOUT_MS));
    ctrl_exp_expect_adds(e, "ns/rc2", 1, 0);
    ctrl_exp_forget(e, "ns/rc2");
    CHECK(ctrl_exp_satisfied(e, "ns/rc2", 0));
    ctrl_exp_destroy(&e);
}

/* ---- claiming ---------------------------------------------------------------------- */

TEST(claim_own_adopt_release_ignore)
{
    char err[256];
    json_t *owner = s_owner("uid-1");
    proto_sel_t *sel = NULL;
    REQUIRE(ctrl_owner_selector(owner, true, &sel, err, sizeof err) == 0);
    json_t *orphan = s_pod("o", NULL, NULL, NULL, NULL, NULL, 0);
    CHECK_EQ_INT(ctrl_claim(orphan, "uid-1", sel, false), CTRL_CLAIM_ADOPT);
    CHECK_EQ_INT(ctrl_claim(orphan, "uid-1", sel, true), CTRL_CLAIM_IGNORE);
    json_t *mine = s_pod("m", NULL, NULL, NULL, NULL, NULL, 0);
    s_own(mine, "uid-1");
    CHECK_EQ_INT(ctrl_claim(mine, "uid-1", sel, false), CTRL_CLAIM_OWNED);
    proto_obj_set_str(mine, "metadata.labels.app", "foo"); /* relabelled */
    CHECK_EQ_INT(ctrl_claim(mine, "uid-1", sel, false), CTRL_CLAIM_RELEASE);
    CHECK_EQ_INT(ctrl_claim(mine, "uid-1", sel, true), CTRL_CLAIM_IGNORE);
    json_t *theirs = s_pod("t", NULL, NULL, NULL, NULL, NULL, 0);
    s_own(theirs, "uid-2");
    CHECK_EQ_INT(ctrl_claim(theirs, "uid-1", sel, false), CTRL_CLAIM_IGNORE);
    json_t *going = s_pod("g", NULL, NULL, NULL, NULL, NULL, 0);
    proto_obj_set_str(going, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z");
    CHECK_EQ_INT(ctrl_claim(going, "uid-1", sel, false), CTRL_CLAIM_IGNORE);
    json_t *other = s_pod("x", NULL, NULL, NULL, NULL, NULL, 0);
    proto_obj_set_str(other, "metadata.labels.app", "other");
    CHECK_EQ_INT(ctrl_claim(other, "uid-1", sel, false), CTRL_CLAIM_IGNORE);
    proto_sel_destroy(&sel);
    json_decref(owner), json_decref(orphan), json_decref(mine), json_decref(theirs);
    json_decref(going), json_decref(other);
}

TEST(replicaset_selector_match_expressions)
{
    char err[256];
    json_t *rs = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:{s:[{s:s, s:s, s:[s]}]}}}", "apiVersion",
                           "apps/v1", "kind", "ReplicaSet", "metadata", "name", "kubia", "uid",
                           "rs-1", "spec", "selector", "matchExpressions", "key", "app",
                           "operator", "In", "values", "kubia");
    proto_sel_t *sel = NULL;
    REQUIRE(ctrl_owner_selector(rs, false, &sel, err, sizeof err) == 0);
    json_t *p = s_pod("p", NULL, NULL, NULL, NULL, NULL, 0);
    CHECK_EQ_INT(ctrl_claim(p, "rs-1", sel, false), CTRL_CLAIM_ADOPT);
    proto_obj_set_str(p, "metadata.labels.app", "kubia2");
    CHECK_EQ_INT(ctrl_claim(p, "rs-1", sel, false), CTRL_CLAIM_IGNORE);
    proto_sel_destroy(&sel);
    /* a bad operator is an error, not a crash */
    proto_obj_set_str(json_array_get(proto_obj_get(rs, "spec.selector.matchExpressions"), 0),
                      "operator", "Sometimes");
    CHECK(ctrl_owner_selector(rs, false, &sel, err, sizeof err) < 0);
    json_decref(rs), json_decref(p);
}

TEST(rc_selector_defaults_to_template_labels)
{
    char err[256];
    json_t *rc = s_owner("u");
    proto_obj_del(rc, "spec.selector");
    proto_sel_t *sel = NULL;
    REQUIRE(ctrl_owner_selector(rc, true, &sel, err, sizeof err) == 0);
    char *s = proto_sel_string(sel);
    CHECK_EQ_STR(s, "app=kubia");
    free(s);
    proto_sel_destroy(&sel);
    json_decref(rc);
}

TEST(pod_from_template)
{
    json_t *owner = s_owner("uid-9");
    json_t *pod = ctrl_pod_from_template(owner);
    CHECK_EQ_STR(proto_obj_str(pod, "kind"), "Pod");
    CHECK_EQ_STR(proto_obj_str(pod, "metadata.generateName"), "kubia-");
    CHECK(proto_obj_name(pod) == NULL);
    CHECK_EQ_STR(proto_obj_ns(pod), "default");
    CHECK_EQ_STR(proto_obj_str(pod, "metadata.labels.app"), "kubia");
    CHECK_EQ_STR(proto_obj_str(pod, "metadata.annotations.a"), "b");
    CHECK_EQ_STR(proto_obj_str(pod, "metadata.finalizers.0"), "example.com/f");
    CHECK_EQ_STR(proto_obj_str(pod, "spec.containers.0.image"), "luksa/kubia");
    const json_t *ref = ctrl_controller_ref(pod);
    REQUIRE(ref != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(ref, "uid")), "uid-9");
    CHECK_EQ_STR(json_string_value(json_object_get(ref, "kind")), "ReplicationController");
    CHECK_EQ_STR(json_string_value(json_object_get(ref, "name")), "kubia");
    CHECK_EQ_STR(json_string_value(json_object_get(ref, "apiVersion")), "v1");
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    /* the template is copied, not shared */
    proto_obj_set_str(pod, "spec.containers.0.image", "changed");
    CHECK_EQ_STR(proto_obj_str(owner, "spec.template.spec.containers.0.image"), "luksa/kubia");
    json_decref(pod);
    json_decref(owner);
}

TEST(replica_status_counts)
{
    json_t *owner = s_owner("u");
    proto_obj_set(owner, "spec.minReadySeconds", json_integer(30));
    int64_t now = proto_parse_time("2026-01-01T01:00:00Z");
    json_t *pods = json_array();
    json_array_append_new(pods, s_pod("a", "n", "Running", "T", "2026-01-01T00:00:00Z", NULL, 0));
    json_array_append_new(pods, s_pod("b", "n", "Running", "T", "2026-01-01T00:59:50Z", NULL, 0));
    json_array_append_new(pods, s_pod("c", "n", "Pending", NULL, NULL, NULL, 0));
    json_t *d = s_pod("d", "n", "Running", "T", "2026-01-01T00:00:00Z", NULL, 0);
    proto_obj_set_str(d, "metadata.labels.app", "other");
    proto_obj_set_str(d, "metadata.labels.tier", "x");
    json_array_append_new(pods, d);
    json_array_append_new(pods, s_pod("e", "n", "Failed", NULL, NULL, NULL, 0));
    json_t *st = ctrl_replica_status(owner, pods, now);
    CHECK_EQ_INT(proto_obj_int(st, "replicas", -1), 4);
    CHECK_EQ_INT(proto_obj_int(st, "fullyLabeledReplicas", -1), 3);
    CHECK_EQ_INT(proto_obj_int(st, "readyReplicas", -1), 3);
    CHECK_EQ_INT(proto_obj_int(st, "availableReplicas", -1), 2);
    CHECK_EQ_INT(proto_obj_int(st, "observedGeneration", -1), 2);
    json_decref(st), json_decref(pods), json_decref(owner);
}

/* ---- garbage collector helpers --------------------------------------------------------- */

TEST(refs_without_and_finalizers)
{
    json_t *refs = json_pack("[{s:s}, {s:s}, {s:s}]", "uid", "a", "uid", "b", "uid", "c");
    json_t *gone = json_pack("{s:b, s:b}", "a", 1, "c", 1);
    json_t *rest = ctrl_refs_without(refs, gone);
    CHECK_EQ_INT(json_array_size(rest), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(rest, 0), "uid")), "b");
    CHECK_EQ_INT(json_array_size(refs), 3);
    json_t *none = ctrl_refs_without(NULL, gone);
    CHECK_EQ_INT(json_array_size(none), 0);
    json_t *obj = json_pack("{s:{s:[s, s]}}", "metadata", "finalizers", "orphan", "x/y");
    CHECK(ctrl_has_finalizer(obj, "orphan"));
    CHECK(!ctrl_has_finalizer(obj, "foregroundDeletion"));
    json_decref(refs), json_decref(gone), json_decref(rest), json_decref(none), json_decref(obj);
}

/* ---- node lifecycle ---------------------------------------------------------------------- */

static json_t *s_node(const char *ready, const char *hb)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s}]}}",
                     "apiVersion", "v1", "kind", "Node", "metadata", "name", "n1", "status",
                     "conditions", "type", "Ready", "status", ready, "lastHeartbeatTime", hb,
                     "lastTransitionTime", hb, "reason", "KubeletReady", "type",
                     "MemoryPressure", "status", "False");
}

TEST(node_unknown_conditions)
{
    json_t *n = s_node("True", "2026-01-01T00:00:00Z");
    CHECK_EQ_STR(ctrl_node_ready(n), "True");
    CHECK_EQ_STR(ctrl_node_heartbeat(n), "2026-01-01T00:00:00Z");
    json_t *c = ctrl_node_unknown_conditions(n, "2026-01-01T00:01:00Z");
    CHECK_EQ_INT(json_array_size(c), 4);
    json_t *ready = json_array_get(c, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(ready, "status")), "Unknown");
    CHECK_EQ_STR(json_string_value(json_object_get(ready, "reason")), "NodeStatusUnknown");
    CHECK_EQ_STR(json_string_value(json_object_get(ready, "message")),
                 "Kubelet stopped posting node status.");
    CHECK_EQ_STR(json_string_value(json_object_get(ready, "lastTransitionTime")),
                 "2026-01-01T00:01:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(ready, "lastHeartbeatTime")),
                 "2026-01-01T00:00:00Z"); /* not a heartbeat */
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(c, 2), "reason")),
                 "NodeStatusNeverUpdated");
    CHECK_EQ_STR(ctrl_node_ready(n), "True"); /* input untouched */
    json_t *bare = json_pack("{s:{s:s}}", "metadata", "name", "n2");
    CHECK(ctrl_node_ready(bare) == NULL);
    CHECK_EQ_STR(ctrl_node_heartbeat(bare), "");
    json_t *c2 = ctrl_node_unknown_conditions(bare, "2026-01-01T00:01:00Z");
    CHECK_EQ_INT(json_array_size(c2), 4);
    json_decref(c), json_decref(c2), json_decref(n), json_decref(bare);
}

TEST(node_taints_add_remove)
{
    json_t *n = s_node("Unknown", "2026-01-01T00:00:00Z");
    proto_obj_set(n, "spec.taints",
                  json_pack("[{s:s, s:s}]", "key", "dedicated", "effect", "NoSchedule"));
    json_t *t = ctrl_node_taints(n, CTRL_TAINT_UNREACHABLE, "NoExecute", true,
                                 "2026-01-01T00:00:40Z");
    REQUIRE(t != NULL);
    CHECK_EQ_INT(json_array_size(t), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(t, 1), "key")),
                 CTRL_TAINT_UNREACHABLE);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(t, 1), "timeAdded")),
                 "2026-01-01T00:00:40Z");
    CHECK(ctrl_node_taints(n, CTRL_TAINT_UNREACHABLE, "NoExecute", false, NULL) == NULL);
    proto_obj_set(n, "spec.taints", t);
    CHECK(ctrl_node_taints(n, CTRL_TAINT_UNREACHABLE, "NoExecute", true, NULL) == NULL);
    json_t *r = ctrl_node_taints(n, CTRL_TAINT_UNREACHABLE, "NoExecute", false, NULL);
    REQUIRE(r != NULL);
    CHECK_EQ_INT(json_array_size(r), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(r, 0), "key")), "dedicated");
    json_decref(r), json_decref(n);
}

TEST(eviction_time_from_tolerations)
{
    json_t *taint = json_pack("{s:s, s:s}", "key", CTRL_TAINT_UNREACHABLE, "effect", "NoExecute");
    json_t *pod = s_pod("p", "n1", "Running", NULL, NULL, NULL, 0);
    CHECK_EQ_INT(ctrl_evict_at(pod, taint, 1000, 300), 1300); /* no toleration: the timeout */
    proto_obj_set(pod, "spec.tolerations",
                  json_pack("[{s:s, s:s, s:s, s:i}]", "key", CTRL_TAINT_UNREACHABLE, "operator",
                            "Exists", "effect", "NoExecute", "tolerationSeconds", 300));
    CHECK_EQ_INT(ctrl_evict_at(pod, taint, 1000, 5), 1005); /* capped by the timeout */
    CHECK_EQ_INT(ctrl_evict_at(pod, taint, 1000, 600), 1300);
    json_array_append_new(proto_obj_get(pod, "spec.tolerations"),
                          json_pack("{s:s, s:s, s:i}", "operator", "Exists", "effect",
                                    "NoExecute", "tolerationSeconds", 2));
    CHECK_EQ_INT(ctrl_evict_at(pod, taint, 1000, 600), 1002); /* the least wins */
    proto_obj_set(pod, "spec.tolerations",
                  json_pack("[{s:s, s:s}]", "key", CTRL_TAINT_UNREACHABLE, "operator", "Exists"));
    CHECK_EQ_INT(ctrl_evict_at(pod, taint, 1000, 300), -1); /* for ever */
    proto_obj_set(pod, "spec.tolerations",
                  json_pack("[{s:s, s:s, s:s, s:s}]", "key", CTRL_TAINT_UNREACHABLE, "operator",
                            "Equal", "value", "other", "effect", "NoExecute"));
    CHECK_EQ_INT(ctrl_evict_at(pod, taint, 1000, 300), 1300); /* does not match */
    json_decref(pod), json_decref(taint);
}
