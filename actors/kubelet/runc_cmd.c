/*
 * actors/kubelet/runc_cmd — how the runc driver runs its helpers (runc, ip):
 * fork/exec with an argv array (never a shell), optionally inside a pod's
 * network namespace, output captured, bounded in time; plus a tree removal
 * that never crosses into another mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/kubelet/runc.h"
#include "protocol/obj.h"

#define S_MAX_INPUT (32 * 1024)

/* In the child: enter netns, wire stdio, exec. Only async-signal-safe calls. */
static void s_child(char *const argv[], const char *netns, int in_fd, int out_fd)
{
    if (netns) {
        int fd = open(netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
            _exit(126);
    }
    if (in_fd < 0)
        in_fd = open("/dev/null", O_RDONLY);
    if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(126);
    close_range(3, ~0U, 0);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    execvp(argv[0], argv);
    _exit(127);
}

/* Reads the child's output until EOF or the deadline; 0 or -ETIMEDOUT. */
static int s_drain(int fd, int64_t deadline, char *out, size_t outlen)
{
    size_t used = 0;
    char sink[4096];
    for (;;) {
        int64_t left = deadline - proto_mono_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return -ETIMEDOUT;
        char *dst = sink;
        size_t room = sizeof sink;
        if (out && outlen > 1 && used < outlen - 1) {
            dst = out + used;
            room = outlen - 1 - used;
        }
        ssize_t n = read(fd, dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (dst != sink)
            used += (size_t)n;
        if (out && outlen)
            out[used] = 0;
    }
}

static int s_wait_status(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

int kubelet_runc_cmd(char *const argv[], const char *netns, const char *input, int timeout_ms,
                     char *out, size_t outlen, int *status)
{
    if (out && outlen)
        out[0] = 0;
    size_t inlen = input ? strlen(input) : 0;
    if (!argv || !argv[0] || inlen > S_MAX_INPUT)
        return -EINVAL;
    int op[2], ip[2] = {-1, -1};
    if (pipe2(op, O_CLOEXEC) < 0)
        return -errno;
    /* stdin is a socket so that send(MSG_NOSIGNAL) can never raise SIGPIPE
     * in the kubelet when the command exits without reading it all */
    if (input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ip) < 0) {
        int e = -errno;
        close(op[0]);
        close(op[1]);
        return e;
    }
    pid_t pid = fork();
    if (pid == 0)
        s_child(argv, netns, ip[0], op[1]);
    int e = pid < 0 ? -errno : 0;
    close(op[1]);
    if (ip[0] >= 0)
        close(ip[0]);
    if (pid > 0 && input) {
        /* fits in the socket buffer: S_MAX_INPUT is 32 KiB */
        if (send(ip[1], input, inlen, MSG_NOSIGNAL) != (ssize_t)inlen)
            e = -EIO;
        shutdown(ip[1], SHUT_WR);
    }
    if (ip[1] >= 0)
        close(ip[1]);
    if (pid < 0) {
        close(op[0]);
        return e;
    }
    int dr = s_drain(op[0], proto_mono_ms() + (timeout_ms > 0 ? timeout_ms : 30000), out, outlen);
    close(op[0]);
    if (dr == -ETIMEDOUT)
        kill(pid, SIGKILL);
    int st = s_wait_status(pid);
    if (status)
        *status = st;
    if (dr < 0)
        return dr;
    return e < 0 ? e : st == 0 ? 0 : -EIO;
}

/* "`a b c`" of an argv into buf. */
static void s_argv_text(char *const argv[], char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; argv[i] && used + 1 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? " " : "", argv[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int kubelet_runc_cmd_err(char *const argv[], const char *netns, const char *input, int timeout_ms,
                         char *err, size_t errlen)
{
    char out[1024], line[512];
    int st = 0;
    int rc = kubelet_runc_cmd(argv, netns, input, timeout_ms, out, sizeof out, &st);
    if (rc == 0 || !err || !errlen)
        return rc;
    s_argv_text(argv, line, sizeof line);
    size_t l = strlen(out);
    while (l && (out[l - 1] == '\n' || out[l - 1] == ' '))
        out[--l] = 0;
    if (rc == -EIO)
        snprintf(err, errlen, "`%s` failed (exit %d): %s", line, st, out);
    else
        snprintf(err, errlen, "`%s` failed: %s %s", line, strerror(-rc), out);
    return rc;
}

int kubelet_runc_which(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "");
    char *save = NULL;
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (!*d)
            continue;
        if ((size_t)snprintf(out, n, "%s/%s", d, name) >= n)
            continue;
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -ENOENT;
}

static int s_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(p) < 0 && errno != ENOENT ? -1 : 0;
    return unlink(p) < 0 && errno != ENOENT ? -1 : 0;
}

int kubelet_runc_rmtree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (nftw(path, s_rm, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
        return errno ? -errno : -EIO;
    return 0;
}
