/*
 * tests/unit/test_store_crash.c — kill -9 never loses an acknowledged write.
 *
 * A child process opens the store (durable: fsync on) and commits batches
 * in a loop (creates, a counter update with a precondition, deletes, now and
 * then a compaction; on odd rounds from a small map that must grow; every other pair of rounds
 * with pipelined commits, three batches in flight before one store_sync). Only after the commit
 * is durable does it report each write over a pipe, as the apiserver replies only then. The
 * parent kills it with SIGKILL at a random moment, reopens the store, and
 * checks that every reported write is there, that the revision counters
 * agree with the log, and that the log has no gap.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/obj.h"
#include "protocol/status.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <time.h>

#define T_ROUNDS 24
#define T_MAX_ROUND_MS 300
#define T_BATCH 4
#define T_MAX_ACKS 200000

enum { T_PUT, T_DEL, T_COUNTER };

/* One acknowledged write, as the child reports it (fixed size, so one
 * batch is one atomic pipe write). */
typedef struct t_ack {
    uint64_t rev;
    uint32_t kind;
    uint32_t counter;
    char key[48];
} t_ack_t;

static t_ack_t *t_acks;
static size_t t_nacks;

static json_t *t_obj(const char *key, const char *val)
{
    return json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                     "metadata", "name", strrchr(key, '/') + 1, "namespace", "crash", "data", "v",
                     val);
}

/* ---- the child: writes until killed ---- */

static int t_child_batch(store_t *s, int round, int b, t_ack_t *acks, size_t *n, bool pipe)
{
    store_wtxn_t *t;
    int rc = store_wtxn_begin(s, &t);
    if (rc)
        return rc;
    *n = 0;
    for (int i = 0; i < T_BATCH; i++) {
        t_ack_t *a = &acks[(*n)++];
        memset(a, 0, sizeof *a);
        a->kind = T_PUT;
        snprintf(a->key, sizeof a->key, "configmaps/crash/r%d-b%d-i%d", round, b, i);
        json_t *o = t_obj(a->key, a->key);
        rc = store_wtxn_put(t, a->key, o, 0, true, &a->rev);
        json_decref(o);
        if (rc)
            goto fail;
    }
    if (b > 0) { /* delete the first key of the previous batch */
        t_ack_t *a = &acks[(*n)++];
        memset(a, 0, sizeof *a);
        a->kind = T_DEL;
        snprintf(a->key, sizeof a->key, "configmaps/crash/r%d-b%d-i0", round, b - 1);
        if ((rc = store_wtxn_del(t, a->key, 0, NULL, &a->rev)) != 0)
            goto fail;
    }
    json_t *cur = NULL;
    uint32_t next = 1;
    if (store_wtxn_get(t, "configmaps/crash/counter", &cur) == 0)
        next = (uint32_t)atoi(proto_obj_str(cur, "data.v")) + 1;
    char val[16];
    snprintf(val, sizeof val, "%u", next);
    json_t *o = t_obj("configmaps/crash/counter", val);
    t_ack_t *a = &acks[(*n)++];
    memset(a, 0, sizeof *a);
    a->kind = T_COUNTER;
    a->counter = next;
    snprintf(a->key, sizeof a->key, "configmaps/crash/counter");
    rc = store_wtxn_put(t, a->key, o, cur ? proto_obj_rv(cur) : 0, !cur, &a->rev);
    json_decref(o);
    json_decref(cur);
    if (rc)
        goto fail;
    return pipe ? store_wtxn_commit_nowait(&t) : store_wtxn_commit(&t);
fail:
    store_wtxn_abort(&t);
    return rc;
}

static void t_child(int wfd, int round)
{
    store_t *s;
    char err[256];
    /* odd rounds start from a small map, so kills also land in map growth
     * (abort, resize, journal replay) */
    /* rounds 2-3, 6-7, ... commit pipelined: three batches handed over
     * (each reading the one before it while that is still in flight),
     * then one sync acknowledges them together */
    bool pipe = round / 2 % 2 == 1;
    store_opts_t o = {.map_size = round % 2 ? 64 * 1024 : 0, .pipeline = pipe};
    if (store_open(&s, "db", &o, err, sizeof err) != 0) {
        fprintf(stderr, "  child: %s\n", err);
        _exit(2);
    }
    t_ack_t acks[3 * (T_BATCH + 2)];
    size_t have = 0;
    for (int b = 0;; b++) {
        size_t n;
        int rc = t_child_batch(s, round, b, acks + have, &n, pipe);
        if (rc) {
            fprintf(stderr, "  child: batch %d: %s\n", b, proto_strerror(rc));
            _exit(3);
        }
        have += n;
        if (pipe && b % 3 != 2)
            continue;
        if (pipe && store_sync(s) != 0)
            _exit(6);
        /* acknowledged only now, after the durable commit */
        if (write(wfd, acks, have * sizeof *acks) != (ssize_t)(have * sizeof *acks))
            _exit(4);
        have = 0;
        if (b % 16 == 15 && store_compact(s, 40) != 0)
            _exit(5);
    }
}

/* ---- the parent ---- */

static void t_take(const char *buf, size_t len)
{
    for (size_t off = 0; off + sizeof(t_ack_t) <= len; off += sizeof(t_ack_t)) {
        REQUIRE(t_nacks < T_MAX_ACKS);
        memcpy(&t_acks[t_nacks++], buf + off, sizeof(t_ack_t));
    }
}

/* Reads acks until the deadline (kill_ms from now) or EOF; keeps partial
 * records for the next read. */
static void t_drain(int rfd, int64_t until_ms, char *buf, size_t *have)
{
    for (;;) {
        int64_t left = until_ms - proto_mono_ms();
        if (until_ms >= 0 && left <= 0)
            return;
        struct pollfd p = {rfd, POLLIN, 0};
        if (poll(&p, 1, until_ms >= 0 ? (int)left : 2000) <= 0)
            return;
        ssize_t r = read(rfd, buf + *have, 8192 - *have);
        if (r <= 0)
            return;
        *have += (size_t)r;
        size_t whole = *have / sizeof(t_ack_t) * sizeof(t_ack_t);
        t_take(buf, whole);
        memmove(buf, buf + whole, *have - whole);
        *have -= whole;
    }
}

static void t_run_round(int round, unsigned *seed)
{
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        t_child(fds[1], round);
        _exit(0);
    }
    close(fds[1]);
    char buf[8192];
    size_t have = 0;
    int ms = (int)(rand_r(seed) % T_MAX_ROUND_MS);
    t_drain(fds[0], proto_mono_ms() + ms, buf, &have);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFSIGNALED(st))
        T_FAIL("round %d: child exited by itself (status %d)", round, WEXITSTATUS(st));
    t_drain(fds[0], -1, buf, &have); /* what was written before the kill */
    close(fds[0]);
}

/* The last write acknowledged for each key decides what must be there. */
static void t_check_acks(store_t *s)
{
    uint64_t maxrev = 0, lastcount = 0, lastcount_rev = 0;
    for (size_t i = 0; i < t_nacks; i++) {
        t_ack_t *a = &t_acks[i];
        CHECK(a->rev > maxrev); /* acknowledged revisions only grow */
        maxrev = a->rev;
        if (a->kind == T_COUNTER) {
            lastcount = a->counter;
            lastcount_rev = a->rev;
            continue;
        }
        bool deleted = a->kind == T_DEL, maybe_deleted = false;
        if (a->kind == T_PUT && strstr(a->key, "-i0")) {
            /* the next batch deletes it: acknowledged (then it must be
             * gone), or committed just before the kill (then it may be) */
            for (size_t j = i + 1; j < t_nacks && j < i + 2 * (T_BATCH + 2) && !deleted; j++)
                deleted = t_acks[j].kind == T_DEL && !strcmp(t_acks[j].key, a->key);
            maybe_deleted = !deleted;
        }
        json_t *got = NULL;
        int rc = store_get(s, a->key, &got);
        if (deleted || (maybe_deleted && rc == PROTO_ENOTFOUND)) {
            CHECK_EQ_INT(rc, PROTO_ENOTFOUND);
        } else if (rc) {
            T_FAIL("acknowledged %s at rev %" PRIu64 " lost: %s", a->key, a->rev,
                   proto_strerror(rc));
        } else {
            CHECK_EQ_STR(proto_obj_str(got, "data.v"), a->key);
            CHECK_EQ_INT(proto_obj_rv(got), a->rev);
        }
        json_decref(got);
    }
    CHECK(store_rev(s) >= maxrev);
    json_t *cnt = NULL;
    if (lastcount) {
        REQUIRE(store_get(s, "configmaps/crash/counter", &cnt) == 0);
        CHECK(strtoull(proto_obj_str(cnt, "data.v"), NULL, 10) >= lastcount);
        CHECK(proto_obj_rv(cnt) >= lastcount_rev);
        json_decref(cnt);
    }
}

/* meta rev == the last log revision, and the log is gapless from the
 * oldest readable revision. */
static void t_check_log(store_t *s)
{
    uint64_t rev = store_rev(s), next = store_oldest_rev(s);
    if (rev == 0)
        return;
    json_t *evs = NULL;
    while (next <= rev) {
        REQUIRE(store_log_read(s, next - 1, 1000, NULL, &evs) == 0);
        REQUIRE(json_array_size(evs) > 0);
        for (size_t i = 0; i < json_array_size(evs); i++) {
            uint64_t r =
                (uint64_t)json_integer_value(json_object_get(json_array_get(evs, i), "rev"));
            if (r != next)
                T_FAIL("log gap: expected rev %" PRIu64 ", got %" PRIu64, next, r);
            next = r + 1;
        }
        json_decref(evs);
    }
    CHECK_EQ_INT(next - 1, rev);
    REQUIRE(store_log_read(s, rev, 0, NULL, &evs) == 0);
    CHECK_EQ_INT(json_array_size(evs), 0);
    json_decref(evs);
}

TEST(kill9_never_loses_acknowledged_writes)
{
    t_acks = calloc(T_MAX_ACKS, sizeof *t_acks);
    REQUIRE(t_acks);
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr, "  seed %u\n", seed);
    int64_t t0 = proto_mono_ms();
    int rounds = 0;
    for (; rounds < T_ROUNDS && proto_mono_ms() - t0 < 15000; rounds++) {
        t_run_round(rounds, &seed);
        store_t *s = NULL;
        char err[256] = "";
        int rc = store_open(&s, "db", NULL, err, sizeof err);
        if (rc) {
            T_FAIL("round %d: reopen: %s (%s)", rounds, proto_strerror(rc), err);
            break;
        }
        t_check_acks(s);
        t_check_log(s);
        store_destroy(&s);
    }
    fprintf(stderr, "  %d rounds, %zu acknowledged writes\n", rounds, t_nacks);
    CHECK(rounds >= 20);
    CHECK(t_nacks > 0);
    free(t_acks);
}
