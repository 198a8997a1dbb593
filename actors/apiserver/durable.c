/*
 * actors/apiserver/durable.c — the apiserver's sync thread: the last step
 * of a group commit's durability, off the loop.
 *
 * A batch commits with store_wtxn_commit_nowait (its data is synced; its
 * LMDB meta page is written but not yet synced), and its replies and
 * events wait in server.c's pending queue. This thread then runs
 * store_sync() while the loop already reads and applies the next batch,
 * and wakes the loop through an eventfd (watched only while batches wait,
 * so a loop busy with reads polls nothing more); the loop releases every
 * pending batch the store now reports durable. The thread touches nothing but
 * store_sync (which may run beside the writer) and its own fields.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "actors/apiserver/internal.h"
#include "protocol/status.h"
#include "runtime/log.h"

struct apisrv_syncer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool want; /* a commit is waiting for its sync */
    bool stop;
    int err;   /* first failed sync, reported once to the loop */
    int efd;   /* eventfd: the thread's "done" to the loop */
    bool watched; /* efd is on the loop: only while batches wait for a sync */
    store_t *st;
};

static void *s_thread(void *arg)
{
    apisrv_syncer_t *y = arg;
    pthread_mutex_lock(&y->mu);
    for (;;) {
        while (!y->want && !y->stop)
            pthread_cond_wait(&y->cv, &y->mu);
        if (y->stop)
            break;
        y->want = false;
        pthread_mutex_unlock(&y->mu);
        int rc = store_sync(y->st);
        uint64_t one = 1;
        pthread_mutex_lock(&y->mu);
        if (rc < 0 && !y->err)
            y->err = rc;
        if (write(y->efd, &one, sizeof one) < 0 && errno != EAGAIN)
            rt_err("sync thread cannot wake the loop: %s", strerror(errno));
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

/* The loop's side of the eventfd: release what is durable now. */
static void s_on_done(rt_actor_t *a, int fd, short revents, void *arg)
{
    apisrv_t *s = arg;
    apisrv_syncer_t *y = s->syncer;
    uint64_t n;
    (void)a;
    (void)revents;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&y->mu);
    int err = y->err;
    y->err = 0;
    pthread_mutex_unlock(&y->mu);
    if (err)
        rt_err("storage sync failed: %s", proto_strerror(err));
    apisrv_note_overlap(s);
    apisrv_release(s, err);
    if (!s->npend) { /* an answer still due stays counted in efd */
        rt_fd_remove(s->a, y->efd);
        y->watched = false;
    }
}

int apisrv_syncer_start(apisrv_t *s)
{
    apisrv_syncer_t *y = calloc(1, sizeof *y);
    if (!y)
        abort();
    y->st = s->st;
    y->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (y->efd < 0) {
        int rc = -errno;
        free(y);
        return rc;
    }
    pthread_mutex_init(&y->mu, NULL);
    pthread_cond_init(&y->cv, NULL);
    int rc = -pthread_create(&y->th, NULL, s_thread, y);
    if (rc < 0) {
        s->syncer = y;
        apisrv_syncer_stop(s);
        return rc;
    }
    s->syncer = y;
    return 0;
}

/* Wakes the thread for a sync, or to stop. */
static void s_signal(apisrv_syncer_t *y, bool stop)
{
    pthread_mutex_lock(&y->mu);
    if (stop)
        y->stop = true;
    else
        y->want = true;
    pthread_cond_signal(&y->cv);
    pthread_mutex_unlock(&y->mu);
}

void apisrv_syncer_kick(apisrv_t *s)
{
    apisrv_syncer_t *y = s->syncer;
    if (!y)
        return;
    if (!y->watched && rt_fd_add(s->a, y->efd, POLLIN, s_on_done, s) == 0)
        y->watched = true;
    if (y->watched)
        s_signal(y, false);
    else /* cannot watch the thread's answer: sync here */
        apisrv_release(s, store_sync(s->st));
}

void apisrv_syncer_stop(apisrv_t *s)
{
    apisrv_syncer_t *y = s->syncer;
    if (!y)
        return;
    s_signal(y, true);
    if (y->th)
        pthread_join(y->th, NULL);
    if (s->a && y->watched)
        rt_fd_remove(s->a, y->efd);
    close(y->efd);
    pthread_cond_destroy(&y->cv);
    pthread_mutex_destroy(&y->mu);
    free(y);
    s->syncer = NULL;
}
