/*
 * actors/apiserver/seen — the write requests seen (seen.h): a chained hash
 * table keyed by (source actor, request id), doubled when it holds as many
 * entries as buckets, and a ring of the answered ones for eviction.
 */
#include "actors/apiserver/seen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *s_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (!p) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return p;
}

/* FNV-1a over src, then id mixed in (splitmix64's finaliser). */
static uint64_t s_hash(const char *src, uint64_t id)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h ^= id + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

static apisrv_seen_t **s_slot(const apisrv_seentab_t *t, uint64_t h)
{
    return &t->b[h & (t->nb - 1)];
}

apisrv_seen_t *apisrv_seen_find(const apisrv_seentab_t *t, const char *src, uint64_t id)
{
    if (!t->nb)
        return NULL;
    uint64_t h = s_hash(src, id);
    for (apisrv_seen_t *e = *s_slot(t, h); e; e = e->next)
        if (e->hash == h && e->id == id && !strcmp(e->src, src))
            return e;
    return NULL;
}

static void s_grow(apisrv_seentab_t *t)
{
    size_t nb = t->nb ? t->nb * 2 : 1024;
    apisrv_seen_t **b = s_xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nb; i++)
        for (apisrv_seen_t *e = t->b[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
}

apisrv_seen_t *apisrv_seen_add(apisrv_seentab_t *t, const char *src, uint64_t id, size_t idx)
{
    if (t->n >= t->nb)
        s_grow(t);
    size_t len = strlen(src);
    apisrv_seen_t *e = s_xcalloc(1, sizeof *e + len + 1);
    memcpy(e->src, src, len + 1);
    e->hash = s_hash(src, id);
    e->id = id;
    e->state = APISRV_SEEN_STAGED;
    e->idx = idx;
    apisrv_seen_t **slot = s_slot(t, e->hash);
    e->next = *slot;
    *slot = e;
    t->n++;
    return e;
}

void apisrv_seen_pending(apisrv_seen_t *e, int code, json_t *body)
{
    e->state = APISRV_SEEN_PENDING;
    e->code = code;
    e->body = json_incref(body);
}

/* Unlinks e from the table and frees it. */
static void s_remove(apisrv_seentab_t *t, apisrv_seen_t *e)
{
    for (apisrv_seen_t **p = s_slot(t, e->hash); *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            t->n--;
            break;
        }
    json_decref(e->body);
    free(e->bytes);
    free(e);
}

void apisrv_seen_done(apisrv_seentab_t *t, apisrv_seen_t *e, int code, json_t *body,
                      const char *bytes, size_t blen)
{
    json_decref(e->body);
    e->body = NULL;
    e->state = APISRV_SEEN_DONE;
    e->code = code;
    if (bytes) {
        e->bytes = malloc(blen ? blen : 1);
        if (!e->bytes) {
            fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
            abort();
        }
        memcpy(e->bytes, bytes, blen);
        e->blen = blen;
    } else {
        e->body = json_incref(body);
    }
    apisrv_seen_t **slot = &t->ring[t->next++ % APISRV_SEEN_DONE_MAX];
    if (*slot)
        s_remove(t, *slot);
    *slot = e;
}

void apisrv_seen_drop(apisrv_seentab_t *t, apisrv_seen_t *e)
{
    if (e && e->state != APISRV_SEEN_DONE)
        s_remove(t, e);
}

void apisrv_seen_free(apisrv_seentab_t *t)
{
    for (size_t i = 0; i < t->nb; i++)
        for (apisrv_seen_t *e = t->b[i], *next; e; e = next) {
            next = e->next;
            json_decref(e->body);
            free(e->bytes);
            free(e);
        }
    free(t->b);
    memset(t, 0, sizeof *t);
}
