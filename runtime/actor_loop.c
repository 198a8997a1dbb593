/*
 * runtime/actor_loop — the one poll loop of an actor: the broker's DEALER
 * and SUB sockets, extra fds, a signal self-pipe (SIGTERM/SIGINT stop the
 * loop), timers in a due-sorted list, request deadlines and heartbeats.
 * Each wake-up drains up to RT_BATCH_MAX messages, then runs the batch-end
 * hooks, which is where the apiserver's group commit and the controllers'
 * work queues run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/obj.h"
#include "runtime/actor_int.h"
#include "runtime/log.h"

#define S_MAX_FDS 64

static volatile sig_atomic_t s_sig_stop;
static int s_sig_pipe[2] = {-1, -1};

static void s_on_signal(int sig)
{
    (void)sig;
    int e = errno;
    s_sig_stop = 1;
    if (s_sig_pipe[1] >= 0 && write(s_sig_pipe[1], "x", 1) < 0) {
        /* full: a wake-up is pending anyway */
    }
    errno = e;
}

/* Installed when a loop first runs: a plain client that never runs the loop
 * keeps the default "die on Ctrl-C". */
static void s_signals_install(void)
{
    if (s_sig_pipe[0] >= 0)
        return;
    if (pipe2(s_sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return;
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

bool rt__signalled(void)
{
    return s_sig_stop != 0;
}

/* --- timers -------------------------------------------------------------- */

static void s_timer_insert(rt_actor_t *a, rt_timer_s_t *t)
{
    rt_timer_s_t **pp = &a->timers;
    while (*pp && (*pp)->due <= t->due)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

int rt_timer_add(rt_actor_t *a, int ms, bool repeat, rt_timer_fn *fn, void *arg)
{
    if (!fn || ms < 0 || (repeat && ms == 0))
        return -EINVAL;
    rt_timer_s_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    if (++a->timer_seq <= 0)
        a->timer_seq = 1;
    *t = (rt_timer_s_t){.id = a->timer_seq, .ms = ms, .repeat = repeat,
                        .due = proto_mono_ms() + ms, .fn = fn, .arg = arg};
    s_timer_insert(a, t);
    return t->id;
}

void rt_timer_cancel(rt_actor_t *a, int id)
{
    for (rt_timer_s_t **pp = &a->timers; *pp; pp = &(*pp)->next) {
        if ((*pp)->id != id)
            continue;
        rt_timer_s_t *t = *pp;
        *pp = t->next;
        free(t);
        return;
    }
}

void rt__timers_free(rt_actor_t *a)
{
    while (a->timers) {
        rt_timer_s_t *t = a->timers;
        a->timers = t->next;
        free(t);
    }
}

/* Fires the timers due now; returns how many fired. A timer's callback may
 * add or cancel timers, itself included. */
static int s_timers_fire(rt_actor_t *a, int64_t now)
{
    /* only the timers due when the pass starts: a 0 ms timer that re-adds
     * itself runs once per pass instead of spinning */
    int due = 0, fired = 0;
    for (rt_timer_s_t *t = a->timers; t && t->due <= now; t = t->next)
        due++;
    for (; fired < due && a->timers && a->timers->due <= now;) {
        rt_timer_s_t *t = a->timers;
        a->timers = t->next;
        rt_timer_fn *fn = t->fn;
        void *arg = t->arg;
        if (t->repeat) {
            t->due = now + t->ms;
            s_timer_insert(a, t);
        } else {
            free(t);
        }
        fn(a, arg);
        fired++;
    }
    return fired;
}

/* --- fds ----------------------------------------------------------------- */

/* rt_fd_add speaks poll(2)'s POLLIN/POLLOUT; zmq_poll has its own bits. */
static short s_zmq_events(short ev)
{
    return (short)(((ev & POLLIN) ? ZMQ_POLLIN : 0) | ((ev & POLLOUT) ? ZMQ_POLLOUT : 0));
}

static short s_poll_events(short zev)
{
    return (short)(((zev & ZMQ_POLLIN) ? POLLIN : 0) | ((zev & ZMQ_POLLOUT) ? POLLOUT : 0) |
                   ((zev & ZMQ_POLLERR) ? POLLERR : 0));
}

int rt_fd_add(rt_actor_t *a, int fd, short events, rt_fd_fn *fn, void *arg)
{
    if (fd < 0 || !fn)
        return -EINVAL;
    for (size_t i = 0; i < a->nfd; i++)
        if (a->fds[i].fd == fd)
            return -EEXIST;
    if (a->nfd >= S_MAX_FDS)
        return -ENOSPC;
    rt_fdw_s_t *v = realloc(a->fds, (a->nfd + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    a->fds = v;
    v[a->nfd++] = (rt_fdw_s_t){fd, events, fn, arg};
    return 0;
}

void rt_fd_remove(rt_actor_t *a, int fd)
{
    for (size_t i = 0; i < a->nfd; i++) {
        if (a->fds[i].fd != fd)
            continue;
        memmove(&a->fds[i], &a->fds[i + 1], (a->nfd - i - 1) * sizeof a->fds[0]);
        a->nfd--;
        return;
    }
}

static int s_fds_dispatch(rt_actor_t *a, zmq_pollitem_t *it, int n)
{
    int done = 0;
    for (int i = 0; i < n; i++) {
        if (!it[i].revents)
            continue;
        for (size_t j = 0; j < a->nfd; j++) { /* look again: a handler may remove fds */
            if (a->fds[j].fd != it[i].fd)
                continue;
            a->fds[j].fn(a, it[i].fd, s_poll_events(it[i].revents), a->fds[j].arg);
            done++;
            break;
        }
    }
    return done;
}

/* --- heartbeats and hooks ------------------------------------------------ */

void rt__hb_maybe(rt_actor_t *a, int64_t now)
{
    if (now < a->next_hb)
        return;
    rt__send(a, "HB", "", 0, NULL, 0);
    a->next_hb = now + RT_HB_MS;
}

static void s_hooks(rt_actor_t *a, rt_hook_s_t *v, size_t n)
{
    /* copy: a hook may register or remove hooks */
    rt_hook_s_t local[32];
    if (n == 0)
        return;
    if (n > 32)
        n = 32;
    memcpy(local, v, n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        local[i].fn(a, local[i].arg);
}

/* --- the loop ------------------------------------------------------------ */

static int s_backlog_dispatch(rt_actor_t *a)
{
    int n = 0;
    while (a->bl_head && n < RT_BATCH_MAX) {
        rt_backlog_s_t *b = a->bl_head;
        a->bl_head = b->next;
        if (!a->bl_head)
            a->bl_tail = NULL;
        rt__on_dealer(a, b->f, b->n);
        rt__close_frames(b->f, b->n);
        free(b);
        n++;
    }
    return n;
}

static int s_drain(rt_actor_t *a)
{
    int n = s_backlog_dispatch(a);
    bool more_d = true, more_s = true;
    while (n < RT_BATCH_MAX && (more_d || more_s) && !a->stop) {
        if (more_d) {
            zmq_msg_t f[3];
            int k = rt__recv(a->dealer, f, 3);
            if (k == 0) {
                more_d = false;
            } else if (k > 3) {
                a->stats.dropped_bad++;
            } else {
                rt__on_dealer(a, f, k);
                rt__close_frames(f, k);
            }
            n += k != 0;
        }
        if (more_s) {
            uint64_t before = a->stats.msgs_in + a->stats.dropped_bad;
            rt__on_sub(a);
            more_s = a->stats.msgs_in + a->stats.dropped_bad != before;
            n += more_s;
        }
    }
    return n;
}

static long s_timeout(rt_actor_t *a, int64_t now, int64_t until)
{
    if (a->bl_head || a->reconnect_pending)
        return 0;
    int64_t t = a->next_hb;
    if (a->timers && a->timers->due < t)
        t = a->timers->due;
    int64_t c = rt__calls_next_deadline(a);
    if (c < t)
        t = c;
    if (until < t)
        t = until;
    return t <= now ? 0 : (long)(t - now);
}

static void s_once(rt_actor_t *a, int64_t until)
{
    zmq_pollitem_t it[S_MAX_FDS + 3] = {
        {a->dealer, 0, ZMQ_POLLIN, 0},
        {a->sub, 0, ZMQ_POLLIN, 0},
        {NULL, s_sig_pipe[0], ZMQ_POLLIN, 0},
    };
    int nfd = (int)a->nfd;
    for (int i = 0; i < nfd; i++)
        it[3 + i] = (zmq_pollitem_t){NULL, a->fds[i].fd, s_zmq_events(a->fds[i].events), 0};
    int64_t now = proto_mono_ms();
    if (zmq_poll(it, 3 + nfd, s_timeout(a, now, until)) < 0 && errno != EINTR)
        return;
    int work = s_drain(a);
    work += s_fds_dispatch(a, it + 3, nfd);
    if (a->reconnect_pending) {
        a->reconnect_pending = false;
        s_hooks(a, a->reconn, a->nreconn);
        work++;
    }
    now = proto_mono_ms();
    work += s_timers_fire(a, now);
    rt__calls_sweep(a, now);
    rt__hb_maybe(a, now);
    if (work)
        s_hooks(a, a->batch, a->nbatch);
}

static int s_run_until(rt_actor_t *a, int64_t until)
{
    s_signals_install();
    a->stop = false;
    do /* at least one pass, so rt_run_for(a, 0) polls once */
        s_once(a, until);
    while (!a->stop && !s_sig_stop && proto_mono_ms() < until);
    return 0;
}

int rt_run(rt_actor_t *a)
{
    return s_run_until(a, INT64_MAX);
}

int rt_run_for(rt_actor_t *a, int ms)
{
    return s_run_until(a, proto_mono_ms() + (ms > 0 ? ms : 0));
}

void rt_stop(rt_actor_t *a)
{
    a->stop = true;
}
