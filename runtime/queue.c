/*
 * runtime/queue — the controllers' work queue: deduplicated keys, processed
 * one at a time from the actor loop (after the current batch of events, via
 * a 0 ms timer), retried with per-key exponential back-off.
 */
#include "runtime/queue.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define S_TURN_MAX 100            /* keys processed per loop turn */
#define S_BACKOFF_BASE_MS 5       /* client-go's default item back-off */
#define S_BACKOFF_MAX_MS 1000000  /* 1000 s */

typedef struct s_delayed {
    struct s_delayed *next;
    rt_queue_t *q;
    int timer;
    char key[];
} s_delayed_t;

struct rt_queue {
    rt_actor_t *a;
    rt_queue_fn *fn;
    void *arg;
    json_t *queued;   /* set of keys waiting: key -> true */
    char **fifo;      /* ring of keys in arrival order */
    size_t head, len, cap;
    json_t *failures; /* key -> consecutive failures */
    s_delayed_t *delayed;
    int turn_timer;   /* 0 when no turn is scheduled */
};

static void s_turn(rt_actor_t *a, void *arg);

static void s_schedule(rt_queue_t *q)
{
    if (!q->turn_timer && q->len)
        q->turn_timer = rt_timer_add(q->a, 0, false, s_turn, q);
}

static void s_push(rt_queue_t *q, const char *key)
{
    if (json_object_get(q->queued, key))
        return;
    if (q->len == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        char **nf = calloc(ncap, sizeof *nf);
        if (!nf)
            abort();
        for (size_t i = 0; i < q->len; i++)
            nf[i] = q->fifo[(q->head + i) % q->cap];
        free(q->fifo);
        q->fifo = nf;
        q->cap = ncap;
        q->head = 0;
    }
    char *k = strdup(key);
    if (!k)
        abort();
    q->fifo[(q->head + q->len) % q->cap] = k;
    q->len++;
    json_object_set_new(q->queued, key, json_true());
    s_schedule(q);
}

static char *s_pop(rt_queue_t *q)
{
    char *k = q->fifo[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    json_object_del(q->queued, k);
    return k;
}

static int s_backoff_ms(rt_queue_t *q, const char *key)
{
    json_int_t n = json_integer_value(json_object_get(q->failures, key));
    json_object_set_new(q->failures, key, json_integer(n + 1));
    long long ms = S_BACKOFF_BASE_MS;
    for (json_int_t i = 0; i < n && ms < S_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return (int)(ms > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : ms);
}

static void s_turn(rt_actor_t *a, void *arg)
{
    rt_queue_t *q = arg;
    q->turn_timer = 0;
    for (int i = 0; i < S_TURN_MAX && q->len; i++) {
        char *key = s_pop(q);
        int rc = q->fn(q->arg, key);
        if (rc == 0)
            json_object_del(q->failures, key);
        else if (rc < 0)
            rt_queue_add_after(q, key, s_backoff_ms(q, key));
        else
            rt_queue_add_after(q, key, rc);
        free(key);
    }
    s_schedule(q);
    (void)a;
}

rt_queue_t *rt_queue_new(rt_actor_t *a, rt_queue_fn *fn, void *arg)
{
    rt_queue_t *q = calloc(1, sizeof *q);
    if (!q)
        abort();
    q->a = a;
    q->fn = fn;
    q->arg = arg;
    q->queued = json_object();
    q->failures = json_object();
    return q;
}

void rt_queue_destroy(rt_queue_t **qp)
{
    rt_queue_t *q = qp ? *qp : NULL;
    if (!q)
        return;
    if (q->turn_timer)
        rt_timer_cancel(q->a, q->turn_timer);
    while (q->delayed) {
        s_delayed_t *d = q->delayed;
        q->delayed = d->next;
        rt_timer_cancel(q->a, d->timer);
        free(d);
    }
    while (q->len)
        free(s_pop(q));
    free(q->fifo);
    json_decref(q->queued);
    json_decref(q->failures);
    free(q);
    *qp = NULL;
}

void rt_queue_add(rt_queue_t *q, const char *key)
{
    s_push(q, key);
}

static void s_delayed_fire(rt_actor_t *a, void *arg)
{
    s_delayed_t *d = arg;
    rt_queue_t *q = d->q;
    for (s_delayed_t **pp = &q->delayed; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    s_push(q, d->key);
    free(d);
    (void)a;
}

void rt_queue_add_after(rt_queue_t *q, const char *key, int ms)
{
    if (ms <= 0) {
        s_push(q, key);
        return;
    }
    size_t n = strlen(key) + 1;
    s_delayed_t *d = malloc(sizeof *d + n);
    if (!d)
        abort();
    memcpy(d->key, key, n);
    d->q = q;
    d->timer = rt_timer_add(q->a, ms, false, s_delayed_fire, d);
    d->next = q->delayed;
    q->delayed = d;
}

size_t rt_queue_len(const rt_queue_t *q)
{
    return q->len;
}
