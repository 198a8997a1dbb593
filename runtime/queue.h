/*
 * runtime/queue — the controllers' work queue: keys ("ns/name") to
 * reconcile, deduplicated (a key queued twice is processed once), never
 * processed twice at the same time, retried with per-key exponential
 * back-off (5 ms doubling to 1000 s, as client-go's default rate limiter)
 * when the handler asks. Processing runs from the actor loop after the
 * current batch of events, so bursts collapse.
 */
#ifndef ZK_RUNTIME_QUEUE_H
#define ZK_RUNTIME_QUEUE_H

#include "runtime/actor.h"

typedef struct rt_queue rt_queue_t;

/* Handler: return 0 when done (forget back-off), < 0 to retry with back-off,
 * > 0 to requeue after that many ms. */
typedef int(rt_queue_fn)(void *arg, const char *key);

rt_queue_t *rt_queue_new(rt_actor_t *a, rt_queue_fn *fn, void *arg);
void rt_queue_destroy(rt_queue_t **q);
void rt_queue_add(rt_queue_t *q, const char *key);
void rt_queue_add_after(rt_queue_t *q, const char *key, int ms);
size_t rt_queue_len(const rt_queue_t *q);

#endif
