/*
 * broker/registry — who is connected and who serves what. Peers are keyed
 * by their ZeroMQ routing id; a service keeps its live workers in an array
 * served round-robin. Peers that fall silent are dropped, which is how a
 * killed worker stops receiving requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "runtime/log.h"

static void s_hex(const void *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void s_svc_free(void **item)
{
    broker_svc_t *s = *item;
    if (!s)
        return;
    free(s->name);
    free(s->w);
    free(s);
    *item = NULL;
}

static void s_peer_free(void **item)
{
    broker_peer_t *p = *item;
    if (!p)
        return;
    for (size_t i = 0; i < p->nsvc; i++)
        free(p->svcs[i]);
    free(p->svcs);
    free(p);
    *item = NULL;
}

int broker_reg_init(broker_t *b)
{
    b->peers = zhashx_new();
    b->svcs = zhashx_new();
    if (!b->peers || !b->svcs)
        return -ENOMEM;
    zhashx_set_destructor(b->peers, s_peer_free);
    zhashx_set_destructor(b->svcs, s_svc_free);
    return 0;
}

void broker_reg_fini(broker_t *b)
{
    zhashx_destroy(&b->peers);
    zhashx_destroy(&b->svcs);
}

/* The actor id is the routing id without the "#suffix" the runtime adds. */
static void s_peer_id(broker_peer_t *p)
{
    size_t n = p->ident_len;
    const uint8_t *hash = memrchr(p->ident, '#', n);
    if (hash)
        n = (size_t)(hash - p->ident);
    if (n >= sizeof p->id)
        n = sizeof p->id - 1;
    for (size_t i = 0; i < n; i++)
        p->id[i] = (p->ident[i] >= 0x20 && p->ident[i] < 0x7f) ? (char)p->ident[i] : '?';
    p->id[n] = '\0';
}

broker_peer_t *broker_peer_find(broker_t *b, const void *ident, size_t len)
{
    if (len == 0 || len > BROKER_IDENT_MAX)
        return NULL;
    char key[2 * BROKER_IDENT_MAX + 1];
    s_hex(ident, len, key);
    return zhashx_lookup(b->peers, key);
}

broker_peer_t *broker_peer_touch(broker_t *b, const void *ident, size_t len)
{
    broker_peer_t *p = broker_peer_find(b, ident, len);
    if (p || len == 0 || len > BROKER_IDENT_MAX)
        return p;
    if (zhashx_size(b->peers) >= BROKER_PEERS_MAX)
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    memcpy(p->ident, ident, len);
    p->ident_len = len;
    s_hex(ident, len, p->key);
    s_peer_id(p);
    zhashx_insert(b->peers, p->key, p);
    return p;
}

static void s_svc_unlink(broker_t *b, broker_peer_t *p, const char *name)
{
    broker_svc_t *s = zhashx_lookup(b->svcs, name);
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->w[i] != p)
            continue;
        memmove(&s->w[i], &s->w[i + 1], (s->n - i - 1) * sizeof s->w[0]);
        s->n--;
        break;
    }
    if (s->n == 0)
        zhashx_delete(b->svcs, name);
}

void broker_peer_drop(broker_t *b, broker_peer_t *p)
{
    for (size_t i = 0; i < p->nsvc; i++)
        s_svc_unlink(b, p, p->svcs[i]);
    zhashx_delete(b->peers, p->key);
}

static broker_svc_t *s_svc_get(broker_t *b, const char *name)
{
    broker_svc_t *s = zhashx_lookup(b->svcs, name);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name))) {
        free(s);
        return NULL;
    }
    zhashx_insert(b->svcs, name, s);
    return s;
}

int broker_svc_add(broker_t *b, broker_peer_t *p, const char *svc)
{
    if (!*svc || strlen(svc) >= PROTO_DST_MAX)
        return -EINVAL;
    for (size_t i = 0; i < p->nsvc; i++)
        if (!strcmp(p->svcs[i], svc))
            return 0;
    if (p->nsvc >= BROKER_SVCS_MAX)
        return -ENOSPC;
    broker_svc_t *s = s_svc_get(b, svc);
    if (!s)
        return -ENOMEM;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        broker_peer_t **w = realloc(s->w, cap * sizeof *w);
        if (!w)
            return -ENOMEM;
        s->w = w, s->cap = cap;
    }
    char **v = realloc(p->svcs, (p->nsvc + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    p->svcs = v;
    if (!(p->svcs[p->nsvc] = strdup(svc)))
        return -ENOMEM;
    p->nsvc++;
    s->w[s->n++] = p;
    return 0;
}

void broker_svc_remove(broker_t *b, broker_peer_t *p, const char *svc)
{
    for (size_t i = 0; i < p->nsvc; i++) {
        if (strcmp(p->svcs[i], svc))
            continue;
        s_svc_unlink(b, p, svc);
        free(p->svcs[i]);
        p->svcs[i] = p->svcs[--p->nsvc];
        return;
    }
}

broker_peer_t *broker_svc_next(broker_t *b, const char *svc)
{
    broker_svc_t *s = zhashx_lookup(b->svcs, svc);
    if (!s || s->n == 0)
        return NULL;
    if (s->next >= s->n)
        s->next = 0;
    return s->w[s->next++];
}

void broker_reg_expire(broker_t *b, int64_t now)
{
    zlistx_t *dead = NULL;
    for (broker_peer_t *p = zhashx_first(b->peers); p; p = zhashx_next(b->peers)) {
        if (now - p->last_seen <= BROKER_PEER_TTL_MS)
            continue;
        if (!dead)
            dead = zlistx_new();
        zlistx_add_end(dead, p);
    }
    if (!dead)
        return;
    for (broker_peer_t *p = zlistx_first(dead); p; p = zlistx_next(dead)) {
        if (p->nsvc)
            rt_debug("worker %s expired", p->id);
        broker_peer_drop(b, p);
    }
    zlistx_destroy(&dead);
}
