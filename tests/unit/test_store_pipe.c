/*
 * tests/unit/test_store_pipe.c — the store with pipelined commits: every
 * test of test_store.c again (it is included here with T_STORE_PIPELINE),
 * then what only the pipeline has: a transaction reading the writes of
 * transactions still with the committer, an abort that leaves them
 * visible, many transactions in flight while the committer grows the map,
 * and a close that commits what was handed over.
 */
#define T_STORE_PIPELINE 1
#include "tests/unit/test_store.c"

static uint64_t t_rv_in(store_wtxn_t *t, const char *key)
{
    uint64_t rv = 0;
    return store_wtxn_rev_of(t, key, &rv) == 0 ? rv : 0;
}

TEST(pipe_reads_see_writes_in_flight)
{
    store_opts_t o = {0}; /* durable */
    store_t *s = t_open(&o);
    uint64_t base = store_rev(s);
    t_put_nowait(s, "configmaps/default/a", "1");
    CHECK(store_rev(s) == base + 1);
    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(t_rv_in(t, "configmaps/default/a"), base + 1);
    json_t *o2 = t_cm("a", "2"), *stale = t_cm("a", "x"), *dup = t_cm("a", "y");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", stale, base + 7, false, NULL),
                 PROTO_ECONFLICT);
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", dup, 0, true, NULL), PROTO_EEXISTS);
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", o2, base + 1, false, NULL), 0);
    json_t *got = NULL;
    CHECK_EQ_INT(store_wtxn_get(t, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "2");
    json_decref(got);
    CHECK_EQ_INT(store_wtxn_commit_nowait(&t), 0);
    /* a delete in flight, then a read of it in the next transaction */
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    json_t *last = NULL;
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/a", base + 2, &last, NULL), 0);
    CHECK_EQ_STR(t_data(last), "2");
    json_decref(last);
    CHECK_EQ_INT(store_wtxn_commit_nowait(&t), 0);
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_get(t, "configmaps/default/a", &got), PROTO_ENOTFOUND);
    store_wtxn_abort(&t);
    /* after the sync the store's own reads agree, and all of it is durable */
    CHECK_EQ_INT(store_sync(s), 0);
    CHECK(store_durable_rev(s) == base + 3);
    CHECK(store_rev(s) == base + 3);
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), PROTO_ENOTFOUND);
    json_t *events = NULL;
    CHECK_EQ_INT(store_log_read(s, base, 0, NULL, &events), 0);
    CHECK_EQ_INT(json_array_size(events), 3);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(events, 2), "type")),
                 "DELETED");
    json_decref(events);
    json_decref(o2);
    json_decref(stale);
    json_decref(dup);
    store_destroy(&s);
}

TEST(pipe_abort_keeps_the_sets_in_flight)
{
    store_t *s = t_open_fast();
    t_put_nowait(s, "configmaps/default/a", "1");
    store_wtxn_t *t;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    json_t *o = t_cm("a", "2");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/a", o, 0, false, NULL), 0);
    store_wtxn_abort(&t);
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    json_t *got = NULL;
    CHECK_EQ_INT(store_wtxn_get(t, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "1");
    json_decref(got);
    store_wtxn_abort(&t);
    CHECK_EQ_INT(store_sync(s), 0);
    CHECK_EQ_INT(store_get(s, "configmaps/default/a", &got), 0);
    CHECK_EQ_STR(t_data(got), "1");
    json_decref(got);
    json_decref(o);
    store_destroy(&s);
}

/* 300 transactions of 8 writes handed over without waiting, from a map of
 * 64 KiB: the committer grows it while the writer reads what is in flight
 * (each transaction updates the previous one's objects by revision). */
TEST(pipe_many_in_flight_while_the_map_grows)
{
    store_opts_t o = {.map_size = 64 * 1024};
    store_t *s = t_open(&o);
    uint64_t base = store_rev(s);
    char key[64], val[32];
    for (int b = 0; b < 300; b++) {
        store_wtxn_t *t;
        REQUIRE(store_wtxn_begin(s, &t) == 0);
        for (int i = 0; i < 8; i++) {
            snprintf(key, sizeof key, "configmaps/default/k%d", i);
            snprintf(val, sizeof val, "%d", b);
            uint64_t rv = b ? t_rv_in(t, key) : 0;
            if (b && rv != base + (uint64_t)(b - 1) * 8 + (uint64_t)i + 1)
                T_FAIL("batch %d: %s at revision %llu", b, key, (unsigned long long)rv);
            json_t *obj = t_cm(key + 18, val);
            CHECK_EQ_INT(store_wtxn_put(t, key, obj, rv, b == 0, NULL), 0);
            json_decref(obj);
        }
        CHECK_EQ_INT(store_wtxn_commit_nowait(&t), 0);
    }
    CHECK_EQ_INT(store_sync(s), 0);
    CHECK(store_durable_rev(s) == base + 2400);
    for (int i = 0; i < 8; i++) {
        json_t *got = NULL;
        snprintf(key, sizeof key, "configmaps/default/k%d", i);
        CHECK_EQ_INT(store_get(s, key, &got), 0);
        CHECK_EQ_STR(t_data(got), "299");
        json_decref(got);
    }
    json_t *events = NULL;
    CHECK_EQ_INT(store_log_read(s, base, 100000, NULL, &events), 0);
    CHECK_EQ_INT(json_array_size(events), 2400);
    for (size_t i = 0; i < json_array_size(events); i++)
        if (json_integer_value(json_object_get(json_array_get(events, i), "rev")) !=
            (json_int_t)(base + i + 1)) {
            T_FAIL("log gap at %zu", i);
            break;
        }
    json_decref(events);
    store_destroy(&s);
}

TEST(pipe_close_commits_what_was_handed_over)
{
    store_opts_t o = {0};
    store_t *s = t_open(&o);
    uint64_t base = store_rev(s);
    for (int i = 0; i < 20; i++)
        t_put_nowait(s, "configmaps/default/c", "v");
    store_destroy(&s); /* no sync: the close finishes the committer's queue */
    store_t *d = NULL;
    REQUIRE(store_open(&d, "db", NULL, NULL, 0) == 0);
    CHECK(store_rev(d) == base + 20);
    json_t *got = NULL;
    CHECK_EQ_INT(store_get(d, "configmaps/default/c", &got), 0);
    json_decref(got);
    store_destroy(&d);
}

/* Copies the store's files as a crash would leave them on disk: LMDB as of
 * its last checkpoint, and the write-ahead log. */
static void t_copy_store(const char *from, const char *to)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/data.mdb %s/wal.0 %s/wal.1 %s/", to, from,
             from, from, to);
    REQUIRE(system(cmd) == 0);
}

static void t_put_sync(store_t *s, const char *key, const char *val)
{
    store_wtxn_t *t;
    json_t *o = t_cm(key, val);
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_put(t, key, o, 0, false, NULL), 0);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0); /* durable: in the log */
    json_decref(o);
}

TEST(pipe_durable_writes_come_back_from_the_log)
{
    /* no checkpoint for 10 minutes: what is durable is only in the log */
    store_opts_t o = {.ck_ms = 600000};
    store_t *s = t_open(&o);
    uint64_t base = store_rev(s);
    char key[64];
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "configmaps/default/c%d", i);
        t_put_sync(s, key, i % 2 ? "odd" : "even");
    }
    store_wtxn_t *t;
    json_t *last = NULL;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/c3", 0, &last, NULL), 0);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    json_decref(last);
    /* plain reads see durable writes before LMDB has them */
    json_t *got = NULL;
    CHECK_EQ_INT(store_get(s, "configmaps/default/c4", &got), 0);
    CHECK_EQ_STR(t_data(got), "even");
    json_decref(got);
    CHECK_EQ_INT(store_get(s, "configmaps/default/c3", &got), PROTO_ENOTFOUND);
    t_copy_store("db", "crash");
    /* the crash copy: LMDB without them, the log with them */
    store_t *c = NULL;
    char err[256] = "";
    REQUIRE(store_open(&c, "crash", NULL, err, sizeof err) == 0);
    CHECK(store_rev(c) == base + 31);
    CHECK_EQ_INT(store_get(c, "configmaps/default/c29", &got), 0);
    CHECK_EQ_STR(t_data(got), "odd");
    json_decref(got);
    CHECK_EQ_INT(store_get(c, "configmaps/default/c3", &got), PROTO_ENOTFOUND);
    json_t *evs = NULL;
    CHECK_EQ_INT(store_log_read(c, base, 100, "", &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 31);
    json_decref(evs);
    store_destroy(&c);
    /* a second open replays nothing twice */
    REQUIRE(store_open(&c, "crash", NULL, err, sizeof err) == 0);
    CHECK(store_rev(c) == base + 31);
    store_destroy(&c);
    store_destroy(&s);
}

TEST(pipe_lists_and_the_log_see_durable_writes)
{
    store_opts_t o = {.ck_ms = 600000};
    store_t *s = t_open(&o);
    uint64_t base = store_rev(s);
    t_put_sync(s, "configmaps/default/l1", "a");
    t_put_sync(s, "configmaps/default/l2", "b");
    json_t *items = NULL;
    uint64_t rev = 0;
    CHECK_EQ_INT(store_list(s, "configmaps/default/", NULL, 0, NULL, NULL, &items, &rev, NULL), 0);
    CHECK_EQ_INT(json_array_size(items), 2);
    CHECK(rev == base + 2);
    json_decref(items);
    t_put_sync(s, "configmaps/default/l3", "c");
    json_t *evs = NULL;
    CHECK_EQ_INT(store_log_read(s, base + 2, 10, "", &evs), 0);
    CHECK_EQ_INT(json_array_size(evs), 1);
    json_decref(evs);
    store_destroy(&s);
}

TEST(pipe_log_files_turn_over_under_load)
{
    /* a few times the two files' size goes through: the committer moves
     * to the other file only once the checkpointer has what it holds */
    store_opts_t o = {.no_sync = true};
    store_t *s = t_open(&o);
    uint64_t base = store_rev(s);
    char big[16384];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    int n = (int)(3 * 2 * WAL_FILE_MAX / sizeof big);
    for (int i = 0; i < n; i++)
        t_put_nowait(s, "configmaps/default/big", big);
    REQUIRE(store_sync(s) == 0);
    t_copy_store("db", "crash");
    store_destroy(&s);
    store_t *c = NULL;
    REQUIRE(store_open(&c, "crash", NULL, NULL, 0) == 0);
    CHECK(store_rev(c) == base + (uint64_t)n);
    store_destroy(&c);
}

TEST(pipe_reads_follow_the_newest_write_while_sets_come_and_go)
{
    /* checkpoints every millisecond: sets leave the writer's index while
     * newer ones on the same keys arrive; every read must see the newest */
    store_opts_t o = {.no_sync = true, .ck_ms = 1};
    store_t *s = t_open(&o);
    enum { KEYS = 300, ROUNDS = 4000 };
    static int model[KEYS]; /* last value written, 0: never */
    unsigned seed = 12345;
    char key[64], val[16];
    for (int r = 1; r <= ROUNDS; r++) {
        store_wtxn_t *t;
        REQUIRE(store_wtxn_begin(s, &t) == 0);
        int k = (int)(rand_r(&seed) % KEYS);
        snprintf(key, sizeof key, "configmaps/default/k%d", k);
        json_t *got = NULL;
        int rc = store_wtxn_get(t, key, &got);
        if (model[k]) {
            snprintf(val, sizeof val, "%d", model[k]);
            REQUIRE(rc == 0);
            CHECK_EQ_STR(t_data(got), val);
        } else {
            CHECK_EQ_INT(rc, PROTO_ENOTFOUND);
        }
        json_decref(got);
        int w = (int)(rand_r(&seed) % KEYS);
        snprintf(key, sizeof key, "configmaps/default/k%d", w);
        snprintf(val, sizeof val, "%d", r);
        json_t *obj = t_cm(key, val);
        CHECK_EQ_INT(store_wtxn_put(t, key, obj, 0, false, NULL), 0);
        json_decref(obj);
        model[w] = r;
        CHECK_EQ_INT(store_wtxn_commit_nowait(&t), 0);
    }
    REQUIRE(store_sync(s) == 0);
    for (int k = 0; k < KEYS; k++) {
        if (!model[k])
            continue;
        snprintf(key, sizeof key, "configmaps/default/k%d", k);
        snprintf(val, sizeof val, "%d", model[k]);
        json_t *got = NULL;
        REQUIRE(store_get(s, key, &got) == 0);
        CHECK_EQ_STR(t_data(got), val);
        json_decref(got);
    }
    store_destroy(&s);
}

/* A transaction remembers the last object it read from LMDB (a patch reads
 * its object, then checks its precondition: one lookup). The memory must
 * never outlive a write: once a write of the key has gone through the
 * checkpoint (out of the writer's index), a read sees it, not the memory. */
TEST(pipe_last_read_never_outlives_a_write)
{
    store_opts_t o = {.no_sync = true, .ck_ms = 1};
    store_t *s = t_open(&o);
    const char *key = "configmaps/default/m";
    t_put_sync(s, key, "1");
    for (int i = 2; i < 40; i++) {
        char want[16], val[16];
        snprintf(want, sizeof want, "%d", i - 1);
        store_wtxn_t *t;
        REQUIRE(store_wtxn_begin(s, &t) == 0);
        json_t *got = NULL;
        REQUIRE(store_wtxn_get(t, key, &got) == 0); /* from LMDB: remembered */
        CHECK_EQ_STR(t_data(got), want);
        uint64_t rv = proto_obj_rv(got);
        json_decref(got);
        CHECK_EQ_INT((int)t_rv_in(t, key), (int)rv); /* the same, remembered */
        snprintf(val, sizeof val, "%d", i);
        json_t *obj = t_cm(key, val);
        CHECK_EQ_INT(store_wtxn_put(t, key, obj, rv + 1, false, NULL), PROTO_ECONFLICT);
        CHECK_EQ_INT(store_wtxn_put(t, key, obj, rv, false, NULL), 0);
        json_decref(obj);
        CHECK_EQ_INT(store_wtxn_commit(&t), 0);
        REQUIRE(store_sync(s) == 0); /* logged */
        char mb[32];
        store_meta_get(s, "none", mb, sizeof mb); /* has the checkpointer catch up */
        REQUIRE(store_wtxn_begin(s, &t) == 0);    /* prunes: the read goes to LMDB */
        REQUIRE(store_wtxn_get(t, key, &got) == 0);
        CHECK_EQ_STR(t_data(got), val);
        json_decref(got);
        store_wtxn_abort(&t);
    }
    store_destroy(&s);
}
