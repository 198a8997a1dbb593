/*
 * tests/unit/test_wal.c — the store's write-ahead log: records come back in
 * order across the two files, a torn or corrupted tail ends the log, stale
 * records of an earlier turn of a file are never replayed, and what the
 * checkpoint covers is skipped.
 */
#include "store/wal.h"
#include "tests/unit/test.h"

#include <fcntl.h>

typedef struct t_got {
    uint64_t seq[64];
    char data[64][32];
    int n;
} t_got_t;

static int t_collect(uint64_t seq, const void *payload, size_t len, void *arg)
{
    t_got_t *g = arg;
    if (g->n == 64 || len >= 32)
        return -1;
    g->seq[g->n] = seq;
    memcpy(g->data[g->n], payload, len);
    g->data[g->n][len] = 0;
    g->n++;
    return 0;
}

static void t_append(store_wal_t *w, uint64_t seq, const char *s)
{
    CHECK_EQ_INT(wal_append(w, seq, s, strlen(s)), 0);
}

static t_got_t t_replay(uint64_t after, uint64_t *last, uint64_t *seen)
{
    t_got_t g = {0};
    char err[256] = "";
    int rc = wal_replay(".", after, t_collect, &g, last, seen, err, sizeof err);
    if (rc)
        T_FAIL("wal_replay: %d %s", rc, err);
    return g;
}

TEST(records_come_back_in_order_after_the_checkpoint)
{
    store_wal_t *w = NULL;
    char err[256] = "";
    REQUIRE(wal_open(&w, ".", true, err, sizeof err) == 0);
    t_append(w, 1, "one");
    t_append(w, 2, "two");
    t_append(w, 3, "three");
    wal_close(&w);
    uint64_t last, seen;
    t_got_t g = t_replay(0, &last, &seen);
    CHECK_EQ_INT(g.n, 3);
    CHECK_EQ_STR(g.data[0], "one");
    CHECK_EQ_STR(g.data[2], "three");
    CHECK(last == 3 && seen == 3);
    g = t_replay(2, &last, &seen); /* the checkpoint has 1 and 2 */
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_STR(g.data[0], "three");
}

TEST(a_torn_tail_ends_the_log)
{
    store_wal_t *w = NULL;
    REQUIRE(wal_open(&w, ".", true, NULL, 0) == 0);
    t_append(w, 1, "one");
    t_append(w, 2, "two");
    wal_close(&w);
    /* the second record's last payload byte flipped: its CRC fails */
    int fd = open("wal.0", O_RDWR);
    REQUIRE(fd >= 0);
    off_t at = (off_t)(2 * WAL_HEADER + 3 + 3 - 1);
    char c;
    REQUIRE(pread(fd, &c, 1, at) == 1);
    c ^= 0x20;
    REQUIRE(pwrite(fd, &c, 1, at) == 1);
    close(fd);
    uint64_t last, seen;
    t_got_t g = t_replay(0, &last, &seen);
    CHECK_EQ_INT(g.n, 1);
    CHECK(last == 1);
}

TEST(stale_records_of_an_earlier_turn_are_not_replayed)
{
    store_wal_t *w = NULL;
    REQUIRE(wal_open(&w, ".", true, NULL, 0) == 0);
    for (uint64_t i = 1; i <= 5; i++)
        t_append(w, i, "old-turn");
    wal_close(&w);
    /* reopened after a checkpoint at 5: writing starts over at wal.0's
     * start, over the old records */
    REQUIRE(wal_open(&w, ".", true, NULL, 0) == 0);
    t_append(w, 6, "new");
    wal_close(&w);
    uint64_t last, seen;
    t_got_t g = t_replay(5, &last, &seen);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_STR(g.data[0], "new");
    CHECK(last == 6);
    /* what follows the new record in the file (old 2..5) is not a run */
    g = t_replay(0, &last, &seen);
    CHECK_EQ_INT(g.n, 0); /* seq 1 is gone: nothing follows the checkpoint 0 */
    CHECK(seen == 6);
}

TEST(records_continue_in_the_other_file)
{
    store_wal_t *w = NULL;
    REQUIRE(wal_open(&w, ".", true, NULL, 0) == 0);
    static char big[1 << 20];
    memset(big, 'b', sizeof big);
    uint64_t seq = 0, other = 0;
    int switched = 0;
    for (int i = 0; i < 12; i++) {
        if (wal_needs_switch(w, sizeof big, &other))
            switched++;
        CHECK_EQ_INT(wal_append(w, ++seq, big, sizeof big), 0);
    }
    t_append(w, ++seq, "tail");
    wal_close(&w);
    CHECK(switched == 1);
    uint64_t last, seen;
    t_got_t g = {0};
    char err[256];
    /* records 1..12 are 1 MiB: only count them, the collector refuses
     * big ones, so start after them */
    CHECK_EQ_INT(wal_replay(".", 12, t_collect, &g, &last, &seen, err, sizeof err), 0);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_STR(g.data[0], "tail");
    CHECK(last == 13 && seen == 13);
}

TEST(missing_files_are_an_empty_log)
{
    uint64_t last = 7, seen = 7;
    t_got_t g = t_replay(4, &last, &seen);
    CHECK_EQ_INT(g.n, 0);
    CHECK(last == 4 && seen == 0);
}

