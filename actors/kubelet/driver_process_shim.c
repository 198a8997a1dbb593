/*
 * actors/kubelet/driver_process_shim.c — `zkube kubelet shim STATE LOG EXE
 * CWD -- ARGV...`: the small parent of one process-driver container (like
 * containerd's shim). It runs detached from the kubelet (its own session),
 * so a kubelet killed with -9 leaves its containers running:
 *   - starts the container in a new process group with stdout/stderr piped;
 *   - writes STATE.pid ("PID PIDSTART SHIMPID SHIMSTART") once started;
 *   - frames every output line into LOG in the CRI log format;
 *   - reaps the container, kills what is left of its process group (as a
 *     PID namespace would), and writes STATE.exit ("CODE SIGNAL FINISHED").
 * The environment it was started with is the container's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"

#define S_LINE_MAX 16384

extern char **environ;

typedef struct s_stream {
    int fd;
    const char *name;
    char buf[S_LINE_MAX];
    size_t len;
} s_stream_t;

/* Field 22 of /proc/PID/stat. */
unsigned long long kl_proc_start(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    /* after ") " come fields 3.. : state is field 3, starttime field 22 */
    p += 2;
    if (*p == 'Z' || *p == 'X')
        return 0; /* a zombie is not running */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

static int64_t s_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void s_emit(int logfd, const char *stream, bool partial, const char *text, size_t len)
{
    static char rec[S_LINE_MAX + 128];
    size_t n = kubelet_log_frame(rec, s_wall_ns(), stream, partial, text, len);
    if (write(logfd, rec, n) < 0) {
        /* nowhere to report: the log disk is full or gone */
    }
}

/* Reads what is available on s; emits complete lines (and full buffers as
 * partial records). Returns false at EOF. */
static bool s_pump(s_stream_t *s, int logfd)
{
    ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0) {
        if (s->len)
            s_emit(logfd, s->name, false, s->buf, s->len);
        s->len = 0;
        return false;
    }
    s->len += (size_t)n;
    size_t start = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->buf[i] == '\n') {
            s_emit(logfd, s->name, false, s->buf + start, i - start);
            start = i + 1;
        }
    }
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
    if (s->len == sizeof s->buf) {
        s_emit(logfd, s->name, true, s->buf, s->len);
        s->len = 0;
    }
    return true;
}

static int s_write_atomic(const char *path, const char *text)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    fsync(fd);
    close(fd);
    if (n < 0 || rename(tmp, path) < 0)
        return -errno;
    return 0;
}

static pid_t s_spawn(const char *exe, const char *cwd, char **argv, int out[2], int errp[2])
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setpgid(0, 0);
    for (int sig = 1; sig < NSIG; sig++) /* a container starts with default signals */
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    dup2(out[1], 1);
    dup2(errp[1], 2);
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
        dup2(nul, 0);
    close_range(3, ~0U, 0);
    if (cwd && *cwd && chdir(cwd) < 0)
        dprintf(2, "zkube: chdir %s: %s\n", cwd, strerror(errno));
    execve(exe, argv, environ);
    dprintf(2, "zkube: exec %s: %s\n", exe, strerror(errno));
    _exit(127);
}

/* Pumps output until the container exits; returns its wait status. */
static int s_supervise(pid_t pid, s_stream_t *ss, int logfd)
{
    int status = 0, open_streams = 2;
    bool exited = false;
    int64_t drain_until = 0;
    for (;;) {
        struct pollfd pf[2];
        int idx[2], np = 0;
        for (int i = 0; i < 2; i++)
            if (ss[i].fd >= 0) {
                idx[np] = i;
                pf[np++] = (struct pollfd){.fd = ss[i].fd, .events = POLLIN};
            }
        poll(pf, (nfds_t)np, 200);
        for (int k = 0; k < np; k++) {
            s_stream_t *st = &ss[idx[k]];
            if (pf[k].revents && !s_pump(st, logfd)) {
                close(st->fd);
                st->fd = -1;
                open_streams--;
            }
        }
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            kill(-pid, SIGKILL); /* the rest of the group dies with its main process */
            drain_until = s_wall_ns() + 200000000;
        }
        if (exited && (open_streams == 0 || s_wall_ns() > drain_until))
            return status;
    }
}

int kl_shim_main(int argc, char **argv)
{
    /* argv: shim STATE LOG EXE CWD -- ARGV... */
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: zkube kubelet shim STATE LOG EXE CWD -- ARGV...\n");
        return 2;
    }
    const char *state = argv[1], *log = argv[2], *exe = argv[3], *cwd = argv[4];
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, SIG_IGN); /* the container is signalled, not its shim */
    signal(SIGHUP, SIG_IGN);
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    int out[2], errp[2];
    if (logfd < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        return 1;
    fcntl(out[0], F_SETFL, O_NONBLOCK); /* a poll never leads to a blocking read */
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
    pid_t pid = s_spawn(exe, cwd, argv + 6, out, errp);
    char path[PATH_MAX + 16], text[256];
    if (pid < 0) {
        snprintf(path, sizeof path, "%s.exit", state);
        snprintf(text, sizeof text, "128 0 %lld\n", (long long)time(NULL));
        s_write_atomic(path, text);
        return 1;
    }
    close(out[1]);
    close(errp[1]);
    /* the start time of a just-forked child is readable at once */
    snprintf(text, sizeof text, "%d %llu %d %llu\n", (int)pid, kl_proc_start(pid), (int)getpid(),
             kl_proc_start(getpid()));
    snprintf(path, sizeof path, "%s.pid", state);
    s_write_atomic(path, text);
    s_stream_t ss[2] = {{.fd = out[0], .name = "stdout"}, {.fd = errp[0], .name = "stderr"}};
    int status = s_supervise(pid, ss, logfd);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    snprintf(text, sizeof text, "%d %d %lld\n", code, sig, (long long)time(NULL));
    snprintf(path, sizeof path, "%s.exit", state);
    s_write_atomic(path, text);
    close(logfd);
    return 0;
}
