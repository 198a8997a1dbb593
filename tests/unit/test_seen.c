/*
 * tests/unit/test_seen.c — the apiserver's table of write requests seen
 * (actors/apiserver/seen): found by source and id, through its states
 * (staged, pending, answered), grown past its first size, and the oldest
 * answered entries evicted once more than APISRV_SEEN_DONE_MAX are kept.
 */
#include "actors/apiserver/seen.h"
#include "tests/unit/test.h"

#include <stdio.h>

TEST(found_by_source_and_id_through_its_states)
{
    apisrv_seentab_t *t = calloc(1, sizeof *t);
    CHECK(apisrv_seen_find(t, "a", 1) == NULL);
    apisrv_seen_t *e = apisrv_seen_add(t, "a", 1, 7);
    apisrv_seen_t *f = apisrv_seen_add(t, "b", 1, 8);
    CHECK(apisrv_seen_find(t, "a", 1) == e);
    CHECK(apisrv_seen_find(t, "b", 1) == f);
    CHECK(apisrv_seen_find(t, "a", 2) == NULL);
    CHECK(apisrv_seen_find(t, "ab", 1) == NULL);
    CHECK_EQ_INT(e->state, APISRV_SEEN_STAGED);
    CHECK_EQ_INT((int)e->idx, 7);
    json_t *body = json_pack("{s:s}", "kind", "Pod");
    apisrv_seen_pending(e, 201, body);
    CHECK_EQ_INT(e->state, APISRV_SEEN_PENDING);
    CHECK(e->body == body);
    apisrv_seen_done(t, e, 201, NULL, "\x81\xa1k\xa1v", 5);
    CHECK_EQ_INT(e->state, APISRV_SEEN_DONE);
    CHECK(e->body == NULL && e->blen == 5 && !memcmp(e->bytes, "\x81\xa1k\xa1v", 5));
    CHECK_EQ_INT((int)body->refcount, 1); /* the entry let go of the tree */
    apisrv_seen_drop(t, e);               /* answered: stays for retries */
    CHECK(apisrv_seen_find(t, "a", 1) == e);
    apisrv_seen_drop(t, f); /* never carried out: gone */
    CHECK(apisrv_seen_find(t, "b", 1) == NULL);
    CHECK_EQ_INT((int)t->n, 1);
    json_decref(body);
    apisrv_seen_free(t);
    free(t);
}

TEST(many_entries_and_the_oldest_answered_evicted)
{
    apisrv_seentab_t *t = calloc(1, sizeof *t);
    int n = APISRV_SEEN_DONE_MAX + 1000;
    json_t *st = json_pack("{s:s}", "kind", "Status");
    for (int i = 0; i < n; i++) {
        char src[32];
        snprintf(src, sizeof src, "client-%d", i % 7);
        apisrv_seen_t *e = apisrv_seen_add(t, src, (uint64_t)i, 0);
        apisrv_seen_done(t, e, 409, st, NULL, 0);
    }
    apisrv_seen_t *pend = apisrv_seen_add(t, "client-x", 1, 0); /* not answered: never evicted */
    for (int i = 0; i < n; i++) {
        char src[32];
        snprintf(src, sizeof src, "client-%d", i % 7);
        apisrv_seen_t *e = apisrv_seen_find(t, src, (uint64_t)i);
        if (i < n - APISRV_SEEN_DONE_MAX) {
            CHECK(e == NULL);
        } else {
            REQUIRE(e != NULL);
            CHECK_EQ_INT(e->code, 409);
            CHECK(e->body == st);
        }
    }
    CHECK(apisrv_seen_find(t, "client-x", 1) == pend);
    CHECK_EQ_INT((int)t->n, APISRV_SEEN_DONE_MAX + 1);
    CHECK_EQ_INT((int)st->refcount, APISRV_SEEN_DONE_MAX + 1);
    apisrv_seen_free(t);
    CHECK_EQ_INT((int)st->refcount, 1);
    json_decref(st);
    free(t);
}
