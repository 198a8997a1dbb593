/*
 * actors/apiserver/durable.c — waking the loop when batches become
 * durable.
 *
 * A batch is handed to the store's committer thread with
 * store_wtxn_commit_nowait (pipelined commits, store.h), and its replies
 * and events wait in server.c's pending queue. After each group it has
 * committed and synced (or when the store fails) the committer writes to
 * an eventfd; the loop watches it only while batches wait (so a loop busy
 * with reads polls nothing more) and releases every pending batch the
 * store now reports durable.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "actors/apiserver/internal.h"
#include "protocol/status.h"
#include "runtime/log.h"

struct apisrv_syncer {
    int efd;      /* eventfd: the committer's "done" to the loop */
    bool watched; /* efd is on the loop: only while batches wait */
};

/* The loop's side of the eventfd: release what is durable now. */
static void s_on_done(rt_actor_t *a, int fd, short revents, void *arg)
{
    apisrv_t *s = arg;
    uint64_t n;
    (void)a;
    (void)revents;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
    apisrv_release(s, store_failed(s->st));
    if (!s->npend) { /* an answer still due stays counted in efd */
        rt_fd_remove(s->a, fd);
        s->syncer->watched = false;
    }
}

int apisrv_syncer_start(apisrv_t *s)
{
    apisrv_syncer_t *y = calloc(1, sizeof *y);
    if (!y)
        abort();
    y->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (y->efd < 0) {
        int rc = -errno;
        free(y);
        return rc;
    }
    s->syncer = y;
    store_set_notify(s->st, y->efd);
    return 0;
}

void apisrv_syncer_kick(apisrv_t *s)
{
    apisrv_syncer_t *y = s->syncer;
    if (y && !y->watched && rt_fd_add(s->a, y->efd, POLLIN, s_on_done, s) == 0)
        y->watched = true;
    if (!y || !y->watched || !store_pipelined(s->st)) /* no wake-up to wait for: wait here */
        apisrv_release(s, store_sync(s->st));
}

void apisrv_syncer_stop(apisrv_t *s)
{
    apisrv_syncer_t *y = s->syncer;
    if (!y)
        return;
    store_set_notify(s->st, -1); /* the committer writes to efd no more */
    if (s->a && y->watched)
        rt_fd_remove(s->a, y->efd);
    close(y->efd);
    free(y);
    s->syncer = NULL;
}
