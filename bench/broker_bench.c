/*
 * bench/broker_bench — request/reply round trips per second through a real
 * broker: one broker, W echo workers and C clients, each a process, in a
 * temporary ZKUBE_HOME. Every client makes blocking calls for the duration
 * (at most 10 s) and reports its count through a pipe.
 *
 *   broker_bench [-c CLIENTS] [-w WORKERS] [-d SECONDS] [-s BODY_BYTES]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/broker.h"
#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/config.h"

#define S_MAX_PROCS 64

static rt_config_t s_cfg;

static void s_echo(rt_actor_t *a, rt_req_t *req, void *arg)
{
    rt_reply(a, &req, 200, req->env.body);
}

static pid_t s_fork(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    return pid;
}

static pid_t s_worker(int i)
{
    pid_t pid = s_fork();
    if (pid != 0)
        return pid;
    char id[32];
    snprintf(id, sizeof id, "bench-w%d", i);
    rt_actor_t *a = NULL;
    if (rt_actor_open(&a, id, &s_cfg, NULL, 0) || rt_serve(a, "bench", s_echo, NULL))
        _exit(2);
    rt_run(a);
    rt_actor_destroy(&a);
    _exit(0);
}

static pid_t s_client(int i, int secs, size_t body_bytes, int wfd)
{
    pid_t pid = s_fork();
    if (pid != 0)
        return pid;
    char id[32];
    snprintf(id, sizeof id, "bench-c%d", i);
    rt_actor_t *a = NULL;
    if (rt_actor_open(&a, id, &s_cfg, NULL, 0))
        _exit(2);
    char *pad = calloc(1, body_bytes + 1);
    memset(pad, 'x', body_bytes);
    json_t *body = json_pack("{s:s}", "pad", pad);
    free(pad);
    json_t *rep = NULL;
    /* warm up: the first call waits for a worker */
    rt_call_sync(a, "bench", "echo", body, &(rt_call_opts_t){.timeout_ms = 5000}, &rep);
    json_decref(rep);
    uint64_t n = 0, fails = 0;
    int64_t end = proto_mono_ms() + secs * 1000;
    while (proto_mono_ms() < end) {
        rep = NULL;
        if (rt_call_sync(a, "bench", "echo", body, NULL, &rep) == 200)
            n++;
        else
            fails++;
        json_decref(rep);
    }
    uint64_t out[2] = {n, fails};
    if (write(wfd, out, sizeof out) != (ssize_t)sizeof out)
        _exit(3);
    json_decref(body);
    rt_actor_destroy(&a);
    _exit(0);
}

static void s_reap(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int s_args(int argc, char **argv, int *clients, int *workers, int *secs, long *bytes)
{
    int opt;
    while ((opt = getopt(argc, argv, "c:w:d:s:")) != -1) {
        switch (opt) {
        case 'c': *clients = atoi(optarg); break;
        case 'w': *workers = atoi(optarg); break;
        case 'd': *secs = atoi(optarg); break;
        case 's': *bytes = atol(optarg); break;
        default: return -1;
        }
    }
    if (*clients < 1 || *workers < 1 || *clients + *workers > S_MAX_PROCS - 1 || *secs < 1 ||
        *secs > 10 || *bytes < 0 || *bytes > (1 << 20))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    int clients = 4, workers = 1, secs = 3;
    long bytes = 64;
    if (s_args(argc, argv, &clients, &workers, &secs, &bytes)) {
        fprintf(stderr, "usage: broker_bench [-c 1..] [-w 1..] [-d 1..10] [-s 0..1048576]\n");
        return 2;
    }
    char home[] = "/tmp/zkbench-XXXXXX";
    if (!mkdtemp(home))
        return 1;
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    setenv("ZKUBE_LOG", "error", 0);
    char err[256];
    if (rt_config_load(&s_cfg, err, sizeof err) || rt_config_mkdirs(&s_cfg)) {
        fprintf(stderr, "broker_bench: %s\n", err);
        return 1;
    }
    pid_t pids[S_MAX_PROCS];
    int np = 0, fds[2];
    if ((pids[np++] = s_fork()) == 0)
        _exit(broker_run(&s_cfg) ? 1 : 0);
    for (int i = 0; i < workers; i++)
        pids[np++] = s_worker(i);
    /* only the clients may hold the write end, or the read below never ends */
    if (pipe(fds))
        return 1;
    alarm((unsigned)secs + 30); /* a bound even if a client hangs */
    for (int i = 0; i < clients; i++)
        pids[np++] = s_client(i, secs, (size_t)bytes, fds[1]);
    close(fds[1]);
    uint64_t total = 0, fails = 0, got[2];
    while (read(fds[0], got, sizeof got) == (ssize_t)sizeof got)
        total += got[0], fails += got[1];
    for (int i = np - 1; i >= 0; i--)
        s_reap(pids[i]);
    printf("broker_bench: %d clients, %d workers, %ld-byte bodies, %d s: %.0f req/s "
           "(%llu ok, %llu failed)\n",
           clients, workers, bytes, secs, (double)total / secs, (unsigned long long)total,
           (unsigned long long)fails);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    return system(cmd) == 0 && fails == 0 ? 0 : 1;
}
