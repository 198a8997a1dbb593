/*
 * tests/unit/test_fieldset.c — protocol/fieldset: field sets of applied
 * configurations (associative lists, atomic lists and selectors), set
 * algebra, FieldsV1 decoding/encoding, comparison, merge and removal as
 * structured-merge-diff does them for server-side apply.
 */
#include "tests/unit/test.h"

#include <jansson.h>

#include "protocol/fieldset.h"
#include "protocol/status.h"

static json_t *s_j(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fprintf(stderr, "bad JSON in test: %s: %s\n", text, e.text);
    REQUIRE(v);
    return v;
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

static const char *s_pod =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia\","
    "\"labels\":{\"app\":\"kubia\"}},\"spec\":{\"containers\":[{\"name\":\"kubia\","
    "\"image\":\"luksa/kubia\",\"args\":[\"a\",\"b\"],\"ports\":[{\"containerPort\":8080}]}]}}";

TEST(set_of_pod_configuration)
{
    json_t *pod = s_j(s_pod), *set = NULL;
    REQUIRE(proto_fs_of_object(pod, "Pod", &set, NULL, 0) == 0);
    json_t *enc = proto_fs_encode(set);
    CHECK_JSON(enc,
               "{\"f:apiVersion\":{},\"f:kind\":{},\"f:metadata\":{\"f:labels\":{\"f:app\":{}},"
               "\"f:name\":{}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"kubia\\\"}\":"
               "{\".\":{},\"f:args\":{},\"f:image\":{},\"f:name\":{},\"f:ports\":{"
               "\"k:{\\\"containerPort\\\":8080,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
               "\"f:containerPort\":{}}}}}}}");
    json_decref(enc);
    json_decref(set);
    json_decref(pod);
}

TEST(set_selectors_finalizers_ownerrefs)
{
    json_t *o = s_j("{\"metadata\":{\"finalizers\":[\"a\",\"b\"],\"ownerReferences\":[{\"uid\":"
                    "\"u1\",\"kind\":\"ReplicaSet\",\"name\":\"r\"}]},\"spec\":{\"replicas\":3,"
                    "\"selector\":{\"matchLabels\":{\"app\":\"x\"}},\"template\":{\"spec\":{"
                    "\"tolerations\":[{\"key\":\"k\"}]}}}}");
    json_t *set = NULL;
    REQUIRE(proto_fs_of_object(o, "ReplicaSet", &set, NULL, 0) == 0);
    json_t *enc = proto_fs_encode(set);
    CHECK_JSON(enc, "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a\\\"\":{},\"v:\\\"b\\\"\":{}},"
                    "\"f:ownerReferences\":{\"k:{\\\"uid\\\":\\\"u1\\\"}\":{}}},\"f:spec\":{"
                    "\"f:replicas\":{},\"f:selector\":{},\"f:template\":{\"f:spec\":{"
                    "\"f:tolerations\":{}}}}}");
    json_decref(enc);
    json_decref(set);
    json_decref(o);
    /* an RC's selector is a map: owned key by key */
    o = s_j("{\"spec\":{\"selector\":{\"app\":\"x\"}}}");
    REQUIRE(proto_fs_of_object(o, "ReplicationController", &set, NULL, 0) == 0);
    CHECK_JSON(set, "{\"f:spec\":{\"f:selector\":{\"f:app\":{}}}}");
    json_decref(set);
    json_decref(o);
}

TEST(set_refuses_keyless_and_duplicate_items)
{
    char err[300] = "";
    json_t *set = NULL;
    json_t *o = s_j("{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}");
    CHECK_EQ_INT(proto_fs_of_object(o, "Pod", &set, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, ".spec.containers: element 0: associative list with keys has an element "
                      "that omits key field \"name\"");
    CHECK(set == NULL);
    json_decref(o);
    o = s_j("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"a\"}]}}");
    CHECK_EQ_INT(proto_fs_of_object(o, "Pod", &set, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "duplicate entries for key");
    json_decref(o);
}

TEST(algebra)
{
    json_t *a = s_j("{\"f:spec\":{\"f:replicas\":{},\"f:x\":{\".\":{},\"f:y\":{}}}}");
    json_t *b = s_j("{\"f:spec\":{\"f:x\":{},\"f:z\":{}},\"f:data\":{}}");
    json_t *u = proto_fs_union(a, b);
    json_t *ue = proto_fs_encode(u);
    CHECK_JSON(ue, "{\"f:data\":{},\"f:spec\":{\"f:replicas\":{},\"f:x\":{\".\":{},\"f:y\":{}},"
                   "\"f:z\":{}}}");
    json_t *d = proto_fs_difference(a, b);
    CHECK_JSON(d, "{\"f:spec\":{\"f:replicas\":{},\"f:x\":{\"f:y\":{}}}}");
    json_t *i = proto_fs_intersection(a, b);
    CHECK_JSON(i, "{\"f:spec\":{\"f:x\":{}}}");
    json_t *none = proto_fs_difference(a, a);
    CHECK(proto_fs_empty(none));
    CHECK_JSON(none, "{}");
    json_t *n = proto_fs_named_members(d);
    json_t *ne = proto_fs_encode(n);
    CHECK_JSON(ne, "{\"f:spec\":{\".\":{},\"f:replicas\":{},\"f:x\":{\".\":{},\"f:y\":{}}}}");
    json_t *p = proto_fs_paths(u);
    CHECK_JSON(p, "[\".data\",\".spec.replicas\",\".spec.x\",\".spec.z\",\".spec.x.y\"]");
    json_decref(p);
    json_decref(ne);
    json_decref(n);
    json_decref(none);
    json_decref(i);
    json_decref(d);
    json_decref(ue);
    json_decref(u);
    json_decref(b);
    json_decref(a);
}

TEST(fieldsv1_round_trip_and_canonical)
{
    const char *v1 = "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{"
                     "\"f:containers\":{\"k:{\\\"name\\\":\\\"kubia\\\"}\":{\".\":{},"
                     "\"f:image\":{},\"f:ports\":{\".\":{},\"k:{\\\"containerPort\\\":8080,"
                     "\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}}}}";
    json_t *in = s_j(v1), *set = NULL;
    REQUIRE(proto_fs_decode(in, &set, NULL, 0) == 0);
    json_t *out = proto_fs_encode(set);
    CHECK(json_equal(in, out));
    CHECK_JSON(out, v1);
    json_decref(out);
    json_decref(set);
    json_decref(in);
    /* spaces and key order inside k: are canonicalized; a lone "." is a leaf */
    in = s_j("{\"f:spec\":{\"f:ports\":{\"k:{ \\\"protocol\\\": \\\"TCP\\\", \\\"port\\\": 80}\":"
             "{\".\":{}}}}}");
    REQUIRE(proto_fs_decode(in, &set, NULL, 0) == 0);
    CHECK_JSON(set, "{\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}"
                    "\":{}}}}");
    json_t *p = proto_fs_paths(set);
    CHECK_JSON(p, "[\".spec.ports[port=80,protocol=\\\"TCP\\\"]\"]");
    json_decref(p);
    json_decref(set);
    json_decref(in);
}

TEST(fieldsv1_order_is_kubernetes_order)
{
    json_t *in = s_j("{\"i:10\":{},\"v:2\":{},\"k:{\\\"port\\\":10000}\":{},\"i:9\":{},"
                     "\"k:{\\\"port\\\":8080}\":{},\"f:b\":{},\"f:a\":{}}");
    json_t *set = NULL;
    REQUIRE(proto_fs_decode(in, &set, NULL, 0) == 0);
    json_t *out = proto_fs_encode(set);
    CHECK_JSON(out, "{\"f:a\":{},\"f:b\":{},\"k:{\\\"port\\\":8080}\":{},"
                    "\"k:{\\\"port\\\":10000}\":{},\"v:2\":{},\"i:9\":{},\"i:10\":{}}");
    json_decref(out);
    json_decref(set);
    json_decref(in);
}

TEST(fieldsv1_rejects_bad_input)
{
    static const char *const bad[] = {
        "[]", "{\"x:a\":{}}", "{\"f:a\":1}", "{\"k:{nope\":{}}", "{\"k:[1]\":{}}", "{\"i:-1\":{}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *in = s_j(bad[i]), *set = NULL;
        char err[200] = "";
        CHECK_EQ_INT(proto_fs_decode(in, &set, err, sizeof err), PROTO_EBADREQUEST);
        CHECK(set == NULL);
        CHECK(err[0] != 0);
        json_decref(in);
    }
    /* deeper than the limit */
    json_t *deep = json_object(), *cur = deep;
    for (int i = 0; i < PROTO_FS_MAX_DEPTH + 5; i++) {
        json_t *n = json_object();
        json_object_set_new(cur, "f:a", n);
        cur = n;
    }
    json_t *set = NULL;
    CHECK_EQ_INT(proto_fs_decode(deep, &set, NULL, 0), PROTO_EBADREQUEST);
    json_decref(deep);
}

TEST(compare_added_modified_removed)
{
    json_t *l = s_j("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{"
                    "\"replicas\":1,\"containers\":[{\"name\":\"c\",\"image\":\"i1\"}]}}");
    json_t *r = s_j("{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"spec\":{\"replicas\":2,"
                    "\"containers\":[{\"name\":\"c\",\"image\":\"i1\"},{\"name\":\"d\","
                    "\"image\":\"i2\",\"ports\":[{\"containerPort\":80}]}]}}");
    json_t *ch = NULL, *rm = NULL;
    proto_fs_compare(l, r, "Pod", &ch, &rm);
    json_t *che = proto_fs_encode(ch);
    CHECK_JSON(che, "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"d\\\"}\":{\".\":{},"
                    "\"f:image\":{},\"f:name\":{},\"f:ports\":{\".\":{},\"k:{\\\"containerPort\\\""
                    ":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}},"
                    "\"f:replicas\":{}}}");
    CHECK_JSON(rm, "{\"f:metadata\":{\"f:labels\":{\"f:b\":{}}}}");
    json_decref(che);
    json_decref(ch);
    json_decref(rm);
    /* identical objects: nothing */
    proto_fs_compare(l, l, "Pod", &ch, &rm);
    CHECK(proto_fs_empty(ch) && proto_fs_empty(rm));
    json_decref(ch);
    json_decref(rm);
    json_decref(l);
    json_decref(r);
}

TEST(merge_keeps_order_and_merges_items)
{
    json_t *live = s_j("{\"spec\":{\"replicas\":1,\"containers\":[{\"name\":\"a\",\"image\":"
                       "\"ia\",\"imagePullPolicy\":\"Always\",\"args\":[\"1\",\"2\"]},{\"name\":"
                       "\"b\",\"image\":\"ib\"}]}}");
    json_t *cfg = s_j("{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"ic\"},{\"name\":"
                      "\"a\",\"image\":\"ia2\",\"args\":[\"3\"]}],\"replicas\":null}}");
    REQUIRE(proto_fs_merge(live, cfg, "Pod", NULL, 0) == 0);
    CHECK_JSON(live, "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"ic\"},{\"name\":\"a\","
                     "\"image\":\"ia2\",\"imagePullPolicy\":\"Always\",\"args\":[\"3\"]},"
                     "{\"name\":\"b\",\"image\":\"ib\"}]}}");
    json_decref(cfg);
    /* a new item after the shared ones goes after live's items */
    cfg = s_j("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"d\"}]}}");
    REQUIRE(proto_fs_merge(live, cfg, "Pod", NULL, 0) == 0);
    json_t *names = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(live, "spec"), "containers"), i, c)
        json_array_append(names, json_object_get(c, "name"));
    CHECK_JSON(names, "[\"c\",\"a\",\"b\",\"d\"]");
    json_decref(names);
    json_decref(cfg);
    char err[200] = "";
    cfg = s_j("{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}");
    CHECK_EQ_INT(proto_fs_merge(live, cfg, "Pod", err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "omits key field \"name\"");
    json_decref(cfg);
    json_decref(live);
}

TEST(remove_members_and_items)
{
    json_t *o = s_j("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{"
                    "\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
                    "80,\"protocol\":\"TCP\"},{\"containerPort\":81,\"protocol\":\"TCP\"}]},"
                    "{\"name\":\"b\"}]}}");
    json_t *set = s_j("{\"f:metadata\":{\"f:labels\":{\"f:b\":{}}},\"f:spec\":{\"f:containers\":{"
                      "\"k:{\\\"name\\\":\\\"b\\\"}\":{},\"k:{\\\"name\\\":\\\"a\\\"}\":{"
                      "\"f:ports\":{\"k:{\\\"containerPort\\\":81,\\\"protocol\\\":\\\"TCP\\\"}\""
                      ":{}}}}}}");
    proto_fs_remove(o, set, "Pod");
    CHECK_JSON(o,
               "{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"spec\":{\"containers\":[{\"name\":"
               "\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}]}]}}");
    json_decref(set);
    json_decref(o);
}
