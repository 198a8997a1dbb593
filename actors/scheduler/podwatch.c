/*
 * actors/scheduler/podwatch.c — the scheduler's pod stream: a runtime
 * informer on "pods/" (list + watch with the Clone pattern's loss
 * detection) whose cache keeps a pod waiting for a node whole and every
 * other pod reduced to what accounting it on its node needs
 * (sched_pod_slim), both as compact msgpack bytes — a few hundred bytes a
 * bound pod, one allocation each, so 10,000 pods stay a few MB and a burst
 * of waiting pods does not leave the heap fragmented once they are bound.
 * Handlers see the object as cached: whole while it waits, slim after.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "actors/scheduler/sched_int.h"

struct sched_pw {
    rt_informer_t *inf;
    char name[64]; /* scheduler name: which pods are kept whole */
    sched_pw_handlers_t h;
    void *arg;
};

static sched_pw_t *s_live; /* one per process */

static json_t *s_keep(void *arg, const json_t *pod)
{
    sched_pw_t *pw = arg;
    if (sched_pod_wants_scheduling(pod, pw->name))
        return json_incref((json_t *)pod);
    return sched_pod_slim(pod);
}

static void s_added(void *arg, const json_t *pod)
{
    sched_pw_t *pw = arg;
    if (pw->h.seen)
        pw->h.seen(pw->arg, pod);
}

static void s_updated(void *arg, const json_t *old, const json_t *pod)
{
    (void)old;
    s_added(arg, pod);
}

static void s_deleted(void *arg, const json_t *pod)
{
    sched_pw_t *pw = arg;
    if (pw->h.deleted)
        pw->h.deleted(pw->arg, pod);
}

static void s_synced(void *arg)
{
    sched_pw_t *pw = arg;
    if (pw->h.synced)
        pw->h.synced(pw->arg);
}

int sched_pw_new(sched_pw_t **out, rt_actor_t *a, const char *name, const sched_pw_handlers_t *h,
                 void *arg)
{
    static const rt_informer_handlers_t ih = {s_added, s_updated, s_deleted, s_synced};
    static const rt_informer_opts_t opts = {.transform = s_keep, .compact = true, .no_old = true};
    if (s_live)
        return -EBUSY;
    sched_pw_t *pw = calloc(1, sizeof *pw);
    if (!pw)
        abort();
    snprintf(pw->name, sizeof pw->name, "%s", name);
    pw->h = *h;
    pw->arg = arg;
    s_live = pw;
    int rc = rt_informer_new(&pw->inf, a, "pods", &opts, &ih, pw);
    if (rc < 0) {
        s_live = NULL;
        free(pw);
        return rc;
    }
    *out = pw;
    return 0;
}

void sched_pw_destroy(sched_pw_t **pwp)
{
    if (!pwp || !*pwp)
        return;
    rt_informer_destroy(&(*pwp)->inf);
    free(*pwp);
    s_live = NULL;
    *pwp = NULL;
}

void sched_pw_relist(sched_pw_t *pw)
{
    rt_informer_relist(pw->inf);
}

bool sched_pw_synced(const sched_pw_t *pw)
{
    return rt_informer_synced(pw->inf);
}

const json_t *sched_pw_get(const sched_pw_t *pw, const char *ns, const char *name)
{
    const json_t *pod = rt_informer_get(pw->inf, ns, name);
    return pod && sched_pod_wants_scheduling(pod, pw->name) ? pod : NULL;
}

size_t sched_pw_count(const sched_pw_t *pw)
{
    return rt_informer_count(pw->inf);
}

uint64_t sched_pw_relists(const sched_pw_t *pw)
{
    return rt_informer_relists(pw->inf) + 1; /* the first list counts here */
}
