/*
 * tests/unit/test_informer_store — the informer's cache (runtime/
 * informer_store.c) in both modes: lookup, replace in place keeping the
 * namespace order, delete, per-namespace iteration, the secondary index
 * (values added, moved and dropped as objects change), and that compact
 * entries decode to the object that was stored.
 */
#include "tests/unit/test.h"

#include <stdio.h>
#include <string.h>

#include "protocol/obj.h"
#include "runtime/informer_store.h"

static json_t *s_pod(const char *ns, const char *name, int rv, const char *node)
{
    char v[32];
    snprintf(v, sizeof v, "%d", rv);
    json_t *p = json_pack("{s:{s:s, s:s, s:s, s:{s:s}}, s:{}}", "metadata", "name", name,
                          "namespace", ns, "resourceVersion", v, "labels", "app", "web", "spec");
    if (node)
        proto_obj_set_str(p, "spec.nodeName", node);
    return p;
}

static void s_by_node(void *arg, const json_t *obj, void (*add)(void *ctx, const char *value),
                      void *ctx)
{
    (void)arg;
    add(ctx, proto_obj_str(obj, "spec.nodeName"));
    add(ctx, "all");
    add(ctx, "all"); /* twice: indexed once */
}

static void s_put(rt_istore_t *s, const char *ns, const char *name, int rv, const char *node)
{
    json_t *p = s_pod(ns, name, rv, node);
    CHECK_EQ_INT(rt_istore_put(s, p), 0);
    json_decref(p);
}

typedef struct s_seen {
    char names[512];
    int n;
} s_seen_t;

static bool s_collect(void *arg, const rt_istore_ent_t *e)
{
    s_seen_t *c = arg;
    size_t len = strlen(c->names);
    snprintf(c->names + len, sizeof c->names - len, "%s%s", len ? "," : "", rt_istore_ent_name(e));
    return ++c->n < 100;
}

static const char *s_names(const rt_istore_t *s, const char *ns, const char *value, s_seen_t *c)
{
    memset(c, 0, sizeof *c);
    if (value)
        rt_istore_each_indexed(s, value, s_collect, c);
    else
        rt_istore_each(s, ns, s_collect, c);
    return c->names;
}

static void s_modes(bool compact)
{
    rt_istore_t *s = rt_istore_new(compact, s_by_node, NULL);
    s_seen_t c;
    s_put(s, "default", "a", 1, "n1");
    s_put(s, "default", "b", 2, "n2");
    s_put(s, "kube-system", "c", 3, "n1");
    s_put(s, "default", "d", 4, NULL);
    CHECK_EQ_INT(rt_istore_count(s), 4);
    CHECK_EQ_STR(s_names(s, "default", NULL, &c), "a,b,d");
    CHECK_EQ_STR(s_names(s, NULL, NULL, &c), "a,b,d,c");
    CHECK_EQ_STR(s_names(s, NULL, "n1", &c), "a,c");
    CHECK_EQ_STR(s_names(s, NULL, "all", &c), "a,b,c,d");
    /* a replaced entry keeps its place; its index values move */
    s_put(s, "default", "a", 5, "n2");
    CHECK_EQ_INT(rt_istore_count(s), 4);
    CHECK_EQ_STR(s_names(s, "default", NULL, &c), "a,b,d");
    CHECK_EQ_STR(s_names(s, NULL, "n1", &c), "c");
    CHECK_EQ_STR(s_names(s, NULL, "n2", &c), "b,a");
    const rt_istore_ent_t *e = rt_istore_find(s, "default", "a");
    REQUIRE(e != NULL);
    CHECK_EQ_INT(rt_istore_ent_rv(e), 5);
    CHECK_EQ_STR(rt_istore_ent_ns(e), "default");
    json_t *o = rt_istore_ent_obj(e), *want = s_pod("default", "a", 5, "n2");
    CHECK(json_equal(o, want));
    json_decref(o);
    json_decref(want);
    CHECK(rt_istore_find(s, "kube-system", "a") == NULL);
    /* deletes: the namespace and the index values go with their last entry */
    CHECK(rt_istore_del(s, "kube-system", "c"));
    CHECK(!rt_istore_del(s, "kube-system", "c"));
    CHECK_EQ_STR(s_names(s, "kube-system", NULL, &c), "");
    CHECK_EQ_STR(s_names(s, NULL, "n1", &c), "");
    CHECK_EQ_STR(s_names(s, NULL, NULL, &c), "a,b,d");
    rt_istore_destroy(&s);
    CHECK(s == NULL);
}

TEST(plain_mode)
{
    s_modes(false);
}

TEST(compact_mode)
{
    s_modes(true);
}

TEST(many_entries_grow_the_tables)
{
    rt_istore_t *s = rt_istore_new(true, s_by_node, NULL);
    char name[32], node[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        snprintf(node, sizeof node, "node-%d", i % 700);
        s_put(s, i % 2 ? "odd" : "even", name, i + 1, node);
    }
    CHECK_EQ_INT(rt_istore_count(s), 5000);
    s_seen_t c;
    s_names(s, NULL, "node-3", &c);
    CHECK_EQ_INT(c.n, 8); /* 3, 703, ..., 4903 */
    for (int i = 0; i < 5000; i += 2) {
        snprintf(name, sizeof name, "pod-%d", i);
        CHECK(rt_istore_del(s, "even", name));
    }
    CHECK_EQ_INT(rt_istore_count(s), 2500);
    s_names(s, "even", NULL, &c);
    CHECK_EQ_INT(c.n, 0);
    CHECK(rt_istore_find(s, "odd", "pod-4999") != NULL);
    rt_istore_destroy(&s);
}

TEST(refuses_nameless)
{
    rt_istore_t *s = rt_istore_new(true, NULL, NULL);
    json_t *o = json_pack("{s:{}}", "metadata");
    CHECK(rt_istore_put(s, o) < 0);
    CHECK_EQ_INT(rt_istore_count(s), 0);
    json_decref(o);
    rt_istore_destroy(&s);
}
