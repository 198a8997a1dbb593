/*
 * tests/unit/test_store.c — the LMDB store: CRUD, revisions, preconditions,
 * list/continue/filter, the revision log and compaction, group-commit
 * batches, reopen, metadata, map growth, and readers racing a writer.
 * Each test runs in its own temporary directory (the store lives in "db").
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/obj.h"
#include "protocol/status.h"
#include "store/store.h"
#include "store/wal.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

/* test_store_pipe.c includes this file with T_STORE_PIPELINE: every test
 * again with pipelined commits. */
#ifdef T_STORE_PIPELINE
#define T_PIPE true
#else
#define T_PIPE false
#endif

static store_t *t_open(const store_opts_t *o)
{
    store_t *s = NULL;
    char err[256] = "";
    store_opts_t po = o ? *o : (store_opts_t){0};
    po.pipeline = T_PIPE;
    int rc = store_open(&s, "db", &po, err, sizeof err);
    if (rc)
        T_FAIL("store_open: %d %s", rc, err);
    REQUIRE(s);
    return s;
}

static store_t *t_open_fast(void)
{
    store_opts_t o = {.no_sync = true};
    return t_open(&o);
}

static json_t *t_cm(const char *name, const char *val)
{
    return json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                     "metadata", "name", name, "namespace", "default", "data", "v", val);
}

/* One put in its own txn; returns the revision (0 on failure). */
static uint64_t t_put(store_t *s, const char *key, json_t *obj, uint64_t expect, bool create,
                      int *rc_out)
{
    store_wtxn_t *t;
    uint64_t rev = 0;
    int rc = store_wtxn_begin(s, &t);
    REQUIRE(rc == 0);
    rc = store_wtxn_put(t, key, obj, expect, create, &rev);
    if (rc == 0)
        rc = store_wtxn_commit(&t);
    else
        store_wtxn_abort(&t);
    if (rc_out)
        *rc_out = rc;
    return rc ? 0 : rev;
}

static const char *t_data(const json_t *obj)
{
    return proto_obj_str(obj, "data.v");
}

TEST(crud_roundtrip)
{
    store_t *s = t_open_fast();
    json_t *o = t_cm("a", "1");
    int rc;
    CHECK_EQ_INT(t_put(s, "configmaps/default/a", o, 0, true, &rc), 1);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(proto_obj_str(o, "metadata.resourceVersion"), "1");
    json_t *got = NULL;
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "1");
    CHECK_EQ_STR(proto_obj_str(got, "metadata.resourceVersion"), "1");
    CHECK(json_equal(got, o));
    json_decref(got);

    proto_obj_set_str(o, "data.v", "2");
    CHECK_EQ_INT(t_put(s, "configmaps/default/a", o, 0, false, &rc), 2);
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "2");
    json_decref(got);

    store_wtxn_t *t;
    json_t *last = NULL;
    uint64_t rev = 0;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/a", 0, &last, &rev), 0);
    CHECK_EQ_INT(rev, 3);
    CHECK_EQ_STR(t_data(last), "2");
    CHECK_EQ_STR(proto_obj_str(last, "metadata.resourceVersion"), "3");
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/a", 0, NULL, NULL), PROTO_ENOTFOUND);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    CHECK(t == NULL);
    json_decref(last);
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), PROTO_ENOTFOUND);
    CHECK(got == NULL);
    CHECK_EQ_INT(store_rev(s), 3);
    json_decref(o);
    store_destroy(&s);
    CHECK(s == NULL);
    store_destroy(&s);
}

TEST(revisions_monotone_gapless)
{
    store_t *s = t_open_fast();
    uint64_t prev = 0;
    for (int b = 0; b < 20; b++) {
        store_wtxn_t *t;
        REQUIRE(store_wtxn_begin(s, &t) == 0);
        for (int i = 0; i < 5; i++) {
            char key[64];
            snprintf(key, sizeof key, "configmaps/default/k%d", (b * 7 + i) % 13);
            json_t *o = t_cm("x", "v");
            uint64_t rev = 0;
            CHECK_EQ_INT(store_wtxn_put(t, key, o, 0, false, &rev), 0);
            CHECK_EQ_INT(rev, prev + 1);
            CHECK_EQ_INT(proto_obj_rv(o), rev);
            prev = rev;
            json_decref(o);
        }
        CHECK_EQ_INT(store_wtxn_commit(&t), 0);
        CHECK_EQ_INT(store_rev(s), prev);
    }
    json_t *evs = NULL;
    CHECK_EQ_INT(store_log_read(s, 0, 0, NULL, &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 100);
    for (size_t i = 0; i < json_array_size(evs); i++)
        CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(evs, i), "rev")), i + 1);
    json_decref(evs);
    store_destroy(&s);
}

TEST(conflict_and_notfound_preconditions)
{
    store_t *s = t_open_fast();
    json_t *o = t_cm("a", "1");
    int rc;
    uint64_t r1 = t_put(s, "configmaps/default/a", o, 0, true, &rc);
    uint64_t r2 = t_put(s, "configmaps/default/a", o, r1, false, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(r2, r1 + 1);
    /* stale: expects r1 but the object is at r2; caller's tree untouched */
    json_t *stale = t_cm("a", "stale");
    proto_obj_set_str(stale, "metadata.resourceVersion", "1");
    t_put(s, "configmaps/default/a", stale, r1, false, &rc);
    CHECK_EQ_INT(rc, PROTO_ECONFLICT);
    CHECK_EQ_STR(proto_obj_str(stale, "metadata.resourceVersion"), "1");
    t_put(s, "configmaps/default/missing", stale, 5, false, &rc);
    CHECK_EQ_INT(rc, PROTO_ENOTFOUND);

    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/a", r1, NULL, NULL), PROTO_ECONFLICT);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/a", r2, NULL, NULL), 0);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    CHECK_EQ_INT(store_rev(s), r2 + 1);
    json_decref(o);
    json_decref(stale);
    store_destroy(&s);
}

TEST(must_create_exists)
{
    store_t *s = t_open_fast();
    json_t *o = t_cm("a", "1");
    int rc;
    t_put(s, "configmaps/default/a", o, 0, true, &rc);
    CHECK_EQ_INT(rc, 0);
    json_t *o2 = t_cm("a", "2");
    t_put(s, "configmaps/default/a", o2, 0, true, &rc);
    CHECK_EQ_INT(rc, PROTO_EEXISTS);
    CHECK(proto_obj_str(o2, "metadata.resourceVersion") == NULL);
    json_t *got;
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "1");
    json_decref(got);
    CHECK_EQ_INT(store_rev(s), 1);
    json_decref(o);
    json_decref(o2);
    store_destroy(&s);
}

static void t_fill(store_t *s)
{
    const char *keys[] = {"pods/default/a", "pods/default/b",     "pods/default/c", "pods/kube/d",
                          "pods/kube/e",    "services/default/a", "nodes//n1"};
    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *o = t_cm(strrchr(keys[i], '/') + 1, i % 2 ? "odd" : "even");
        CHECK_EQ_INT(store_wtxn_put(t, keys[i], o, 0, true, NULL), 0);
        json_decref(o);
    }
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
}

static bool t_keep_even(const json_t *obj, void *arg)
{
    (*(int *)arg)++;
    return strcmp(t_data(obj), "even") == 0;
}

static void t_check_names(json_t *items, const char *want)
{
    char got[256] = "";
    for (size_t i = 0; i < json_array_size(items); i++) {
        strcat(got, proto_obj_name(json_array_get(items, i)));
        strcat(got, ",");
    }
    CHECK_EQ_STR(got, want);
}

TEST(list_prefix_limit_continue_filter)
{
    store_t *s = t_open_fast();
    t_fill(s);
    json_t *items;
    uint64_t rev = 0;
    char *next = NULL;
    CHECK_EQ_INT(store_list(s, "pods/", NULL, 0, NULL, NULL, &items, &rev, &next), 0);
    t_check_names(items, "a,b,c,d,e,");
    CHECK_EQ_INT(rev, 7);
    CHECK(next == NULL);
    json_decref(items);

    CHECK_EQ_INT(store_list(s, "pods/default/", NULL, 0, NULL, NULL, &items, &rev, &next), 0);
    t_check_names(items, "a,b,c,");
    json_decref(items);

    /* pages of 2 */
    CHECK_EQ_INT(store_list(s, "pods/", NULL, 2, NULL, NULL, &items, &rev, &next), 0);
    t_check_names(items, "a,b,");
    CHECK_EQ_STR(next, "pods/default/c");
    json_decref(items);
    char *k2 = next;
    CHECK_EQ_INT(store_list(s, "pods/", k2, 2, NULL, NULL, &items, &rev, &next), 0);
    t_check_names(items, "c,d,");
    CHECK_EQ_STR(next, "pods/kube/e");
    free(k2);
    json_decref(items);
    k2 = next;
    CHECK_EQ_INT(store_list(s, "pods/", k2, 2, NULL, NULL, &items, &rev, &next), 0);
    t_check_names(items, "e,");
    CHECK(next == NULL);
    free(k2);
    json_decref(items);

    /* filter: keys 0,2,4 are "even": a, c, pods/kube/e */
    int calls = 0;
    CHECK_EQ_INT(store_list(s, "pods/", NULL, 0, t_keep_even, &calls, &items, &rev, NULL), 0);
    t_check_names(items, "a,c,e,");
    CHECK_EQ_INT(calls, 5);
    json_decref(items);

    /* whole store, empty prefix, nothing under an unknown prefix */
    CHECK_EQ_INT(store_list(s, "", NULL, 0, NULL, NULL, &items, &rev, NULL), 0);
    CHECK_EQ_INT(json_array_size(items), 7);
    json_decref(items);
    CHECK_EQ_INT(store_list(s, "secrets/", NULL, 0, NULL, NULL, &items, &rev, &next), 0);
    CHECK_EQ_INT(json_array_size(items), 0);
    CHECK(next == NULL);
    json_decref(items);
    store_destroy(&s);
}

TEST(log_read_events_and_prefix)
{
    store_t *s = t_open_fast();
    t_fill(s);
    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_del(t, "pods/kube/d", 0, NULL, NULL), 0);
    json_t *o = t_cm("a", "changed");
    CHECK_EQ_INT(store_wtxn_put(t, "pods/default/a", o, 0, false, NULL), 0);
    json_decref(o);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);

    json_t *evs;
    CHECK_EQ_INT(store_log_read(s, 7, 0, NULL, &evs), 0);
    REQUIRE(json_array_size(evs) == 2);
    json_t *e0 = json_array_get(evs, 0), *e1 = json_array_get(evs, 1);
    CHECK_EQ_STR(json_string_value(json_object_get(e0, "type")), "DELETED");
    CHECK_EQ_STR(json_string_value(json_object_get(e0, "key")), "pods/kube/d");
    CHECK_EQ_INT(json_integer_value(json_object_get(e0, "rev")), 8);
    CHECK_EQ_STR(proto_obj_str(json_object_get(e0, "object"), "metadata.resourceVersion"), "8");
    CHECK_EQ_STR(json_string_value(json_object_get(e1, "type")), "MODIFIED");
    CHECK_EQ_STR(t_data(json_object_get(e1, "object")), "changed");
    json_decref(evs);

    CHECK_EQ_INT(store_log_read(s, 0, 0, "pods/default/", &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 4); /* a, b, c added, a modified */
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(evs, 0), "type")), "ADDED");
    json_decref(evs);
    CHECK_EQ_INT(store_log_read(s, 0, 3, NULL, &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 3);
    json_decref(evs);
    CHECK_EQ_INT(store_log_read(s, 9, 0, NULL, &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 0);
    json_decref(evs);
    store_destroy(&s);
}

TEST(compaction_expires_old_revisions)
{
    store_opts_t o = {.no_sync = true, .keep_revs = 10};
    store_t *s = t_open(&o);
    for (int i = 0; i < 50; i++) {
        json_t *cm = t_cm("a", "v");
        int rc;
        t_put(s, "configmaps/default/a", cm, 0, false, &rc);
        CHECK_EQ_INT(rc, 0);
        json_decref(cm);
    }
    CHECK_EQ_INT(store_oldest_rev(s), 1);
    CHECK_EQ_INT(store_compact(s, 0), 0);
    CHECK_EQ_INT(store_oldest_rev(s), 41);
    json_t *evs = NULL;
    CHECK_EQ_INT(store_log_read(s, 10, 0, NULL, &evs), PROTO_EEXPIRED);
    CHECK(evs == NULL);
    CHECK_EQ_INT(store_log_read(s, 39, 0, NULL, &evs), PROTO_EEXPIRED);
    CHECK_EQ_INT(store_log_read(s, 40, 0, NULL, &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 10);
    json_decref(evs);
    char buf[32];
    CHECK_EQ_INT(store_meta_get(s, "compacted", buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "40");
    /* the current object survives; compacting again is a no-op */
    json_t *got;
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), 0);
    json_decref(got);
    CHECK_EQ_INT(store_compact(s, 10), 0);
    CHECK_EQ_INT(store_compact(s, 3), 0);
    CHECK_EQ_INT(store_oldest_rev(s), 48);
    store_destroy(&s);
    /* reopen: compaction is durable and consistent */
    s = t_open(&o);
    CHECK_EQ_INT(store_oldest_rev(s), 48);
    CHECK_EQ_INT(store_rev(s), 50);
    store_destroy(&s);
}

TEST(txn_events_in_order)
{
    store_t *s = t_open_fast();
    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    json_t *a = t_cm("a", "1");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", a, 0, true, NULL), 0);
    /* the event shares the tree put: a second version is a copy */
    json_t *a2 = json_deep_copy(a);
    proto_obj_set_str(a2, "data.v", "2");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", a2, 1, false, NULL), 0);
    json_decref(a2);
    json_t *got;
    CHECK_EQ_INT(store_wtxn_get(t, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "2");
    json_decref(got);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/a", 0, NULL, NULL), 0);
    json_t *evs = json_incref((json_t *)store_wtxn_events(t));
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    REQUIRE(json_array_size(evs) == 3);
    const char *want[] = {"ADDED", "MODIFIED", "DELETED"};
    const char *data[] = {"1", "2", "2"};
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(evs, i);
        CHECK_EQ_STR(json_string_value(json_object_get(e, "type")), want[i]);
        CHECK_EQ_INT(json_integer_value(json_object_get(e, "rev")), i + 1);
        CHECK_EQ_INT(proto_obj_rv(json_object_get(e, "object")), i + 1);
        CHECK_EQ_STR(t_data(json_object_get(e, "object")), data[i]);
        CHECK_EQ_STR(json_string_value(json_object_get(e, "key")), "configmaps/default/a");
    }
    /* the store's log has the same events */
    json_t *log;
    CHECK_EQ_INT(store_log_read(s, 0, 0, NULL, &log), 0);
    CHECK(json_equal(log, evs));
    json_decref(log);
    json_decref(evs);
    json_decref(a);
    store_destroy(&s);
}

TEST(abort_discards)
{
    store_t *s = t_open_fast();
    store_wtxn_t *t, *t2;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_begin(s, &t2), -EBUSY);
    json_t *a = t_cm("a", "1");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", a, 0, true, NULL), 0);
    store_wtxn_abort(&t);
    CHECK(t == NULL);
    json_t *got = NULL;
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), PROTO_ENOTFOUND);
    CHECK_EQ_INT(store_rev(s), 0);
    /* the next txn starts again at revision 1 */
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    uint64_t rev = 0;
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/b", a, 0, true, &rev), 0);
    CHECK_EQ_INT(rev, 1);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    /* an empty txn commits as a no-op */
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    CHECK_EQ_INT(store_rev(s), 1);
    json_decref(a);
    store_destroy(&s);
}

TEST(reopen_sees_data)
{
    store_opts_t o = {0}; /* durable */
    store_t *s = t_open(&o);
    t_fill(s);
    CHECK_EQ_INT(store_meta_set(s, "cluster-uid", "abc-123"), 0);
    store_destroy(&s);
    s = t_open(&o);
    CHECK_EQ_INT(store_rev(s), 7);
    json_t *got;
    CHECK_EQ_INT(store_get(s, "nodes//n1", &got), 0);
    CHECK_EQ_STR(proto_obj_name(got), "n1");
    CHECK_EQ_STR(proto_obj_str(got, "metadata.resourceVersion"), "7");
    json_decref(got);
    char buf[64];
    CHECK_EQ_INT(store_meta_get(s, "cluster-uid", buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "abc-123");
    json_t *a = t_cm("z", "1");
    uint64_t rev = 0;
    int rc;
    rev = t_put(s, "configmaps/default/z", a, 0, true, &rc);
    CHECK_EQ_INT(rev, 8);
    json_decref(a);
    store_destroy(&s);
}

TEST(batch_with_failing_op_commits_others)
{
    store_t *s = t_open_fast();
    json_t *a = t_cm("a", "1");
    int rc;
    t_put(s, "configmaps/default/a", a, 0, true, &rc);
    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    json_t *b = t_cm("b", "1"), *a2 = t_cm("a", "2"), *c = t_cm("c", "1");
    uint64_t rb = 0, rc2 = 0;
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/b", b, 0, true, &rb), 0);
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", a2, 0, true, NULL), PROTO_EEXISTS);
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", a2, 99, false, NULL), PROTO_ECONFLICT);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/nope", 0, NULL, NULL), PROTO_ENOTFOUND);
    CHECK_EQ_INT(store_wtxn_put(t, "", a2, 0, false, NULL), PROTO_EINVALID);
    char longkey[600];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    CHECK_EQ_INT(store_wtxn_put(t, longkey, a2, 0, false, NULL), PROTO_EINVALID);
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a b", a2, 0, false, NULL), PROTO_EINVALID);
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/\xc3\xa9", a2, 0, false, NULL),
                 PROTO_EINVALID);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/\xff", 0, NULL, NULL), PROTO_EINVALID);
    json_t *notobj = json_string("x");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/x", notobj, 0, false, NULL), PROTO_EINVALID);
    json_decref(notobj);
    /* too deep to encode: refused, and the caller's tree keeps no revision */
    json_t *deep = t_cm("deep", "1"), *leaf = json_object();
    json_object_set_new(deep, "x", leaf);
    for (int i = 0; i < 80; i++) {
        json_t *n = json_object();
        json_object_set_new(leaf, "x", n);
        leaf = n;
    }
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/deep", deep, 0, false, NULL),
                 PROTO_EINVALID);
    CHECK(proto_obj_str(deep, "metadata.resourceVersion") == NULL);
    json_decref(deep);
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/c", c, 0, true, &rc2), 0);
    CHECK_EQ_INT(rb, 2);
    CHECK_EQ_INT(rc2, 3);
    CHECK_EQ_INT(json_array_size(store_wtxn_events(t)), 2);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    json_t *got;
    CHECK_EQ_INT(store_get(s, "configmaps/default/c", &got), 0);
    json_decref(got);
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "1");
    json_decref(got);
    CHECK_EQ_INT(store_rev(s), 3);
    json_t *evs;
    CHECK_EQ_INT(store_log_read(s, 0, 0, NULL, &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 3);
    json_decref(evs);
    json_decref(a);
    json_decref(a2);
    json_decref(b);
    json_decref(c);
    store_destroy(&s);
}

TEST(meta_set_get)
{
    store_t *s = t_open_fast();
    char buf[16];
    CHECK_EQ_INT(store_meta_get(s, "cluster-uid", buf, sizeof buf), PROTO_ENOTFOUND);
    CHECK_EQ_INT(store_meta_set(s, "cluster-uid", "u1"), 0);
    CHECK_EQ_INT(store_meta_set(s, "cluster-uid", "u2"), 0);
    CHECK_EQ_INT(store_meta_get(s, "cluster-uid", buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "u2");
    CHECK_EQ_INT(store_meta_set(s, "long", "0123456789abcdefXYZ"), 0);
    CHECK_EQ_INT(store_meta_get(s, "long", buf, sizeof buf), -ERANGE);
    CHECK_EQ_INT(store_meta_set(s, "rev", "999"), PROTO_EINVALID);
    CHECK_EQ_INT(store_meta_set(s, "compacted", "9"), PROTO_EINVALID);
    CHECK_EQ_INT(store_meta_set(s, "", "x"), PROTO_EINVALID);
    /* meta writes take no revision; "rev" is readable */
    CHECK_EQ_INT(store_rev(s), 0);
    t_fill(s);
    CHECK_EQ_INT(store_meta_get(s, "rev", buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "7");
    /* no meta write while the write txn is open on this thread */
    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_meta_set(s, "x", "y"), -EBUSY);
    CHECK_EQ_INT(store_compact(s, 1), -EBUSY);
    store_wtxn_abort(&t);
    store_destroy(&s);
}

TEST(map_grows_with_many_objects)
{
    store_opts_t o = {.no_sync = true, .map_size = 256 * 1024};
    store_t *s = t_open(&o);
    char big[2048];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    int n = 0;
    for (int b = 0; b < 40; b++) {
        store_wtxn_t *t;
        REQUIRE(store_wtxn_begin(s, &t) == 0);
        for (int i = 0; i < 100; i++, n++) {
            char key[64];
            snprintf(key, sizeof key, "configmaps/default/o%05d", n);
            json_t *cm = t_cm(key + 19, big);
            CHECK_EQ_INT(store_wtxn_put(t, key, cm, 0, true, NULL), 0);
            json_decref(cm);
        }
        CHECK_EQ_INT(json_array_size(store_wtxn_events(t)), 100);
        CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    }
    CHECK_EQ_INT(store_rev(s), 4000);
    json_t *items;
    uint64_t rev;
    CHECK_EQ_INT(store_list(s, "configmaps/", NULL, 0, NULL, NULL, &items, &rev, NULL), 0);
    CHECK_EQ_INT(json_array_size(items), 4000);
    CHECK_EQ_INT(rev, 4000);
    json_decref(items);
    json_t *evs;
    CHECK_EQ_INT(store_log_read(s, 0, 5000, NULL, &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 4000);
    json_decref(evs);
    store_destroy(&s);
    s = t_open(&o); /* reopens with a small configured map: takes the file's */
    CHECK_EQ_INT(store_rev(s), 4000);
    json_t *got;
    CHECK_EQ_INT(store_get(s, "configmaps/default/o03999", &got), 0);
    json_decref(got);
    store_destroy(&s);
}

typedef struct t_reader {
    store_t *s;
    atomic_int stop;
    int bad;
    long reads;
} t_reader_t;

static void *t_reader_main(void *arg)
{
    t_reader_t *r = arg;
    while (!atomic_load(&r->stop)) {
        json_t *items;
        uint64_t rev;
        if (store_list(r->s, "configmaps/", NULL, 50, NULL, NULL, &items, &rev, NULL))
            r->bad++;
        else if (json_array_size(items) > rev)
            r->bad++;
        json_decref(items);
        r->reads++;
    }
    return NULL;
}

TEST(readers_race_writer_and_map_growth)
{
    store_opts_t o = {.no_sync = true, .map_size = 128 * 1024};
    store_t *s = t_open(&o);
    t_reader_t r = {.s = s};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, t_reader_main, &r) == 0);
    char big[1024];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int b = 0; b < 30; b++) {
        store_wtxn_t *t;
        REQUIRE(store_wtxn_begin(s, &t) == 0);
        for (int i = 0; i < 50; i++) {
            char key[64];
            snprintf(key, sizeof key, "configmaps/default/r%d-%d", b, i);
            json_t *cm = t_cm("r", big);
            CHECK_EQ_INT(store_wtxn_put(t, key, cm, 0, false, NULL), 0);
            json_decref(cm);
        }
        CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    }
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ_INT(r.bad, 0);
    CHECK(r.reads > 0);
    CHECK_EQ_INT(store_rev(s), 1500);
    store_destroy(&s);
}

TEST(open_errors)
{
    store_t *s = NULL;
    char err[256] = "";
    CHECK(store_open(&s, "", NULL, err, sizeof err) != 0);
    CHECK(s == NULL);
    /* a regular file where the directory should be */
    FILE *f = fopen("notadir", "w");
    REQUIRE(f);
    fclose(f);
    CHECK(store_open(&s, "notadir", NULL, err, sizeof err) != 0);
    CHECK(s == NULL);
    CHECK(err[0] != 0);
    /* under a regular file: cannot be created */
    CHECK(store_open(&s, "notadir/db", NULL, err, sizeof err) != 0);
    CHECK(s == NULL);
    /* missing parents are created */
    CHECK_EQ_INT(store_open(&s, "a/b/c", NULL, err, sizeof err), 0);
    store_destroy(&s);
}

TEST(compaction_in_chunks)
{
    store_opts_t o = {.no_sync = true};
    store_t *s = t_open(&o);
    json_t *cm = t_cm("a", "v"); /* events unused: one tree serves every put */
    for (int b = 0; b < 25; b++) {
        store_wtxn_t *t;
        REQUIRE(store_wtxn_begin(s, &t) == 0);
        for (int i = 0; i < 1000; i++)
            CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", cm, 0, false, NULL), 0);
        CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    }
    json_decref(cm);
    CHECK_EQ_INT(store_compact(s, 10), 0);
    CHECK_EQ_INT(store_oldest_rev(s), 24991);
    json_t *evs;
    CHECK_EQ_INT(store_log_read(s, 24990, 0, NULL, &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 10);
    json_decref(evs);
    store_destroy(&s);
    s = t_open(&o);
    CHECK_EQ_INT(store_oldest_rev(s), 24991);
    store_destroy(&s);
}

TEST(open_detects_inconsistent_meta)
{
    store_t *s = t_open_fast();
    t_fill(s);
    store_destroy(&s);
    /* tamper: claim a revision the log does not have */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    REQUIRE(mdb_env_create(&env) == 0);
    mdb_env_set_maxdbs(env, 4);
    REQUIRE(mdb_env_open(env, "db", 0, 0600) == 0);
    REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    MDB_val k = {3, "rev"}, v = {3, "999"};
    REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
    char err[256] = "";
    CHECK_EQ_INT(store_open(&s, "db", NULL, err, sizeof err), PROTO_EINTERNAL);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "inconsistent");
}

TEST(second_open_of_a_directory_is_refused)
{
    store_t *s = t_open_fast(), *s2 = NULL;
    char err[256] = "";
    CHECK_EQ_INT(store_open(&s2, "db", NULL, err, sizeof err), -EBUSY);
    CHECK(s2 == NULL);
    CHECK_CONTAINS(err, "in use");
    /* from another process too; and free again once the holder is gone */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        store_t *c = NULL;
        _exit(store_open(&c, "db", NULL, NULL, 0) == -EBUSY ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    store_destroy(&s);
    CHECK_EQ_INT(store_open(&s2, "db", NULL, err, sizeof err), 0);
    store_destroy(&s2);
}

/* Preconditions read the stored revision without decoding the object:
 * every kind of value may come before metadata in the encoding. */
TEST(precondition_skips_every_value_type)
{
    store_t *s = t_open_fast();
    char big[70000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    json_t *arr = json_array();
    for (int i = 0; i < 20; i++)
        json_array_append_new(arr, json_integer(i * 1000003));
    json_t *o = json_pack(
        "{s:i,s:i,s:I,s:I,s:f,s:b,s:n,s:s,s:s,s:o,s:{s:[{s:[]},{}],s:{}},s:{s:s},s:{s:s}}", "a", -5,
        "b", 200, "c", (json_int_t)-3000000000LL, "d", (json_int_t)9000000000LL, "e", 1.5, "f", 1,
        "g", "h", "", "i", big, "j", arr, "k", "x", "y", "q", "metadata", "name", "v", "spec", "z",
        "w");
    REQUIRE(o);
    int rc;
    uint64_t r1 = t_put(s, "configmaps/default/v", o, 0, true, &rc);
    CHECK_EQ_INT(rc, 0);
    json_t *stale = json_deep_copy(o);
    uint64_t r2 = t_put(s, "configmaps/default/v", o, r1, false, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(r2, r1 + 1);
    t_put(s, "configmaps/default/v", stale, r1, false, &rc);
    CHECK_EQ_INT(rc, PROTO_ECONFLICT);
    t_put(s, "configmaps/default/v", stale, r2 + 1, false, &rc);
    CHECK_EQ_INT(rc, PROTO_ECONFLICT);
    json_t *got;
    CHECK_EQ_INT(store_get(s, "configmaps/default/v", &got), 0);
    CHECK(json_equal(got, o));
    json_decref(got);
    json_decref(stale);
    json_decref(o);
    store_destroy(&s);
}

/* One put committed with store_wtxn_commit_nowait. */
static void t_put_nowait(store_t *s, const char *key, const char *val)
{
    store_wtxn_t *t;
    json_t *o = t_cm(key, val);
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_put(t, key, o, 0, false, NULL), 0);
    CHECK_EQ_INT(store_wtxn_commit_nowait(&t), 0);
    json_decref(o);
}

#ifndef T_STORE_PIPELINE /* pipelined: see test_store_pipe.c */
TEST(nowait_commit_durable_after_sync_or_next_commit)
{
    store_opts_t o = {0}; /* durable */
    store_t *s = t_open(&o);
    uint64_t base = store_rev(s);
    CHECK(store_durable_rev(s) == base);
    t_put_nowait(s, "configmaps/default/a", "1");
    CHECK(store_rev(s) == base + 1);
    CHECK(store_durable_rev(s) == base); /* its meta page is not synced yet */
    json_t *got = NULL;
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), 0); /* but readers see it */
    json_decref(got);
    t_put_nowait(s, "configmaps/default/b", "2");
    CHECK(store_durable_rev(s) == base + 1); /* the next commit's data sync covered it */
    CHECK_EQ_INT(store_sync(s), 0);
    CHECK(store_durable_rev(s) == base + 2);
    CHECK_EQ_INT(store_sync(s), 0); /* nothing left to sync */
    t_put_nowait(s, "configmaps/default/e", "5");
    CHECK_EQ_INT(store_meta_set(s, "k", "v"), 0); /* a durable commit, rev unchanged */
    CHECK(store_durable_rev(s) == store_rev(s));
    t_put_nowait(s, "configmaps/default/c", "3");
    json_t *d = t_cm("d", "4");
    t_put(s, "configmaps/default/d", d, 0, true, NULL); /* a full commit: all durable */
    json_decref(d);
    CHECK(store_durable_rev(s) == store_rev(s));
    store_destroy(&s);
    s = t_open(&o);
    CHECK(store_rev(s) == base + 5);
    CHECK(store_durable_rev(s) == base + 5);
    store_destroy(&s);
}

#endif

TEST(rev_of_reads_resource_version_without_decoding)
{
    store_t *s = t_open_fast();
    json_t *a = t_cm("a", "1");
    uint64_t rev = t_put(s, "configmaps/default/a", a, 0, true, NULL);
    json_decref(a);
    store_wtxn_t *t;
    uint64_t rv = 0;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_rev_of(t, "configmaps/default/a", &rv), 0);
    CHECK(rv == rev);
    json_t *b = t_cm("a", "2");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", b, 0, false, NULL), 0);
    CHECK_EQ_INT(store_wtxn_rev_of(t, "configmaps/default/a", &rv), 0);
    CHECK(rv == rev + 1); /* sees the transaction's own write */
    CHECK_EQ_INT(store_wtxn_rev_of(t, "configmaps/default/none", &rv), PROTO_ENOTFOUND);
    CHECK_EQ_INT(store_wtxn_rev_of(t, "", &rv), PROTO_EINVALID);
    store_wtxn_abort(&t);
    json_decref(b);
    CHECK(store_durable_rev(s) == store_rev(s)); /* no_sync: always durable */
    store_destroy(&s);
}
