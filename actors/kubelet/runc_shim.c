/*
 * actors/kubelet/runc_shim — the per-container shim of the runc driver (the
 * role containerd-shim plays): a double-forked process in its own session
 * that is a child subreaper, so the container's init — orphaned when the
 * detached runc exits — becomes its child. It runs `runc run --detach` (or
 * `create` then `start`; the container's stdout/stderr are the log file,
 * inherited through runc), reports the outcome on a pipe, then waits for
 * the init and writes its exit status to a file. The shim outlives the kubelet, so an
 * exit code is never lost across a kubelet restart.
 *
 * The shim is a fork of the kubelet (no exec): it prepares nothing itself,
 * and uses only system calls and the caller's prepared arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/runc.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#define S_REPORT_FD 3

/* Runs argv with the shim's stdio; its exit status (128+sig when killed). */
static int s_run(char *const argv[])
{
    pid_t p = fork();
    if (p < 0)
        return 255;
    if (p == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR)
            return 255;
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* Writes to the kubelet, which may have died meanwhile: SIGPIPE is held
 * and dropped here rather than ignored, since an ignored signal would be
 * inherited by the container. */
static void s_report(const char *msg)
{
    sigset_t pipe, old;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe, &old);
    ssize_t n = write(S_REPORT_FD, msg, strlen(msg));
    (void)n;
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE)
        ;
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static int s_read_pid(const char *path)
{
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? atoi(buf) : 0;
}

/* Waits for the container's init (reaping any other orphan), records it. */
static void s_wait_and_record(const kl_shim_args_t *a, pid_t init)
{
    int st = 0;
    for (;;) {
        pid_t r = waitpid(-1, &st, 0);
        if (r == init)
            break;
        if (r < 0 && errno == ECHILD)
            return; /* not ours: nothing to record */
    }
    int code = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    long oom = a->oom_file ? kubelet_cg_oom_count(a->oom_file) : 0;
    char tmp[4096], line[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->exit_path);
    int n = snprintf(line, sizeof line, "%d %d %lld %ld\n", code, sig, (long long)time(NULL), oom);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n);
        if (fsync(fd) == 0 && w == n)
            rename(tmp, a->exit_path);
        close(fd);
    }
}

/* The shim's body; never returns. */
static void s_shim(const kl_shim_args_t *a, int report_fd)
{
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    prctl(PR_SET_NAME, "zkube-shim");
    if (chdir("/") < 0)
        _exit(1);
    /* move both above the stdio range first, so no dup2 below clobbers them */
    int lfd = fcntl(a->log_fd, F_DUPFD_CLOEXEC, 10), rfd = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (lfd < 0 || rfd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0 ||
        dup2(rfd, S_REPORT_FD) < 0)
        _exit(1);
    fcntl(S_REPORT_FD, F_SETFD, FD_CLOEXEC);
    close_range(S_REPORT_FD + 1, ~0U, 0);
    char msg[64];
    snprintf(msg, sizeof msg, "shim %d\n", (int)getpid());
    s_report(msg);
    int rc = s_run(a->create_argv);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "fail create %d\n", rc);
        s_report(msg);
        _exit(1);
    }
    pid_t init = s_read_pid(a->pid_path);
    rc = a->start_argv ? s_run(a->start_argv) : 0;
    if (rc != 0 || init <= 0) {
        snprintf(msg, sizeof msg, "fail start %d\n", rc);
        s_report(msg);
        _exit(1);
    }
    snprintf(msg, sizeof msg, "started %d\n", (int)init);
    s_report(msg);
    close(S_REPORT_FD);
    s_wait_and_record(a, init);
    _exit(0);
}

/* The shim's report so far (buf, NUL-terminated): 0 with the pids once
 * "started", a failure with its reason, or -EAGAIN while incomplete. */
static int s_parse(char *buf, int *shim_pid, int *pid, char *err, size_t errlen)
{
    char *s = strstr(buf, "shim ");
    if (s)
        *shim_pid = atoi(s + 5);
    if ((s = strstr(buf, "started ")) && strchr(s, '\n')) {
        *pid = atoi(s + 8);
        return 0;
    }
    if ((s = strstr(buf, "fail ")) && strchr(s, '\n')) {
        *strchr(s, '\n') = 0;
        snprintf(err, errlen, "runc %s", s + 5);
        return PROTO_EINTERNAL;
    }
    return -EAGAIN;
}

int kubelet_runc_shim_read(int fd, char *buf, size_t cap, size_t *used, int wait_ms,
                           int *shim_pid, int *pid, char *err, size_t errlen)
{
    for (;;) {
        buf[*used] = 0;
        int rc = s_parse(buf, shim_pid, pid, err, errlen);
        if (rc != -EAGAIN)
            return rc;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, wait_ms > 0 ? wait_ms : 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EAGAIN;
        ssize_t r = read(fd, buf + *used, cap - 1 - *used);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0 || *used + (size_t)r >= cap - 1) {
            snprintf(err, errlen, "the container shim died before reporting");
            return PROTO_EINTERNAL;
        }
        *used += (size_t)r;
        wait_ms = 0; /* the caller waits again with what is left of its time */
    }
}

int kubelet_runc_shim_begin(const kl_shim_args_t *a, int *fd)
{
    int p[2];
    *fd = -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t mid = fork();
    if (mid == 0) {
        close(p[0]);
        setsid();
        pid_t s = fork();
        if (s == 0)
            s_shim(a, p[1]);
        _exit(s < 0 ? 1 : 0);
    }
    close(p[1]);
    if (mid < 0) {
        int e = -errno;
        close(p[0]);
        return e;
    }
    int st = 0;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
        ;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    *fd = p[0];
    return 0;
}
