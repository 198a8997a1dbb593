/*
 * actors/apiserver/seen — the write requests seen, by source actor and
 * request id, so that a retry (same id, see runtime/actor_call) gets the
 * reply of its first copy instead of running twice: while the first copy
 * is staged in the batch (its index there), while its commit waits to be
 * durable (its code and reply), and once answered (its code and reply: the
 * stored bytes it went out from, or a tree), among the last
 * APISRV_SEEN_DONE_MAX answered. A chained hash table and a ring; no
 * allocation beyond one entry per request.
 */
#ifndef ZKUBE_APISRV_SEEN_H
#define ZKUBE_APISRV_SEEN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define APISRV_SEEN_DONE_MAX 4096 /* answered requests kept for retries */

typedef enum { APISRV_SEEN_STAGED, APISRV_SEEN_PENDING, APISRV_SEEN_DONE } apisrv_seen_state_t;

typedef struct apisrv_seen {
    struct apisrv_seen *next; /* hash chain */
    uint64_t hash, id;
    apisrv_seen_state_t state;
    int code;     /* PENDING, DONE */
    size_t idx;   /* STAGED: index in the batch */
    json_t *body; /* PENDING, DONE: the reply (NULL when none, or when bytes) */
    char *bytes;  /* DONE: the reply as it went out, msgpack */
    size_t blen;
    char src[]; /* the source actor */
} apisrv_seen_t;

typedef struct apisrv_seentab {
    apisrv_seen_t **b;
    size_t nb, n;
    apisrv_seen_t *ring[APISRV_SEEN_DONE_MAX]; /* answered, the oldest evicted first */
    size_t next;
} apisrv_seentab_t;

/* The entry of (src, id), or NULL. */
apisrv_seen_t *apisrv_seen_find(const apisrv_seentab_t *t, const char *src, uint64_t id);
/* A new entry, STAGED at idx (the caller made sure there is none). */
apisrv_seen_t *apisrv_seen_add(apisrv_seentab_t *t, const char *src, uint64_t id, size_t idx);
/* STAGED -> PENDING: its reply waits for the commit to be durable (body borrowed). */
void apisrv_seen_pending(apisrv_seen_t *e, int code, json_t *body);
/* -> DONE with the reply that went out: bytes (copied) when given, else body
 * (borrowed, may be NULL); the oldest answered entry beyond the ring goes. */
void apisrv_seen_done(apisrv_seentab_t *t, apisrv_seen_t *e, int code, json_t *body,
                      const char *bytes, size_t blen);
/* Removes an entry that is not DONE (its request was not carried out). */
void apisrv_seen_drop(apisrv_seentab_t *t, apisrv_seen_t *e);
/* Frees every entry. */
void apisrv_seen_free(apisrv_seentab_t *t);

#endif
