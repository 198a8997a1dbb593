/*
 * runtime/supervisor — `zkube up|down|status`. The supervisor starts the
 * actors of this host as child processes of the zkube binary
 * (/proc/self/exe ID...), one log each in $ZKUBE_HOME/logs/ID.log, restarts
 * any that die with exponential back-off (100 ms doubling to 10 s, reset
 * after 10 s of uptime), records run/actors.json after every change and
 * stops them in reverse order on SIGTERM/SIGINT (SIGKILL after 10 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "protocol/obj.h"
#include "protocol/table.h"
#include "runtime/actor.h"
#include "runtime/config.h"
#include "runtime/supervisor.h"

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 10000
#define S_STABLE_MS 10000
#define S_STOP_MS 10000
#define S_UP_WAIT_MS 20000
#define S_MAX_ARGS 8

#define S_MAX_ACTORS 64
#define S_ARG_LEN 128

/* One actor of this host: its id and the arguments after the binary. */
typedef struct s_actor {
    char id[64];
    char args[S_MAX_ARGS][S_ARG_LEN];
    int nargs;
} s_actor_t;

/* Which `zkube` commands this binary has (set by tools/zkube): the plan
 * leaves out actors whose command is not built. */
static bool (*s_has_command)(const char *name);

void rt_sup_set_commands(bool (*has)(const char *name))
{
    s_has_command = has;
}

typedef struct s_child {
    pid_t pid;
    int64_t started_ms;   /* monotonic */
    int64_t started_wall; /* unix seconds */
    int64_t next_ms;      /* monotonic time of the next start */
    int backoff_ms;
    unsigned restarts;
    bool ever_started;
    char last_exit[32];
} s_child_t;

typedef struct s_sup {
    rt_config_t cfg;
    s_actor_t acts[S_MAX_ACTORS];
    s_child_t kids[S_MAX_ACTORS];
    size_t nacts;
    int nodes;
    char driver[32];    /* kubelet driver, "" = kubelet's default */
    char http[64];      /* gateway port, "none" = no gateway */
} s_sup_t;

#define S_NACTORS (sv->nacts)

/* Adds an actor to the plan: id, then its arguments, NULL-terminated. */
static void s_plan_add(s_sup_t *sv, const char *id, ...)
{
    if (sv->nacts >= S_MAX_ACTORS)
        return;
    va_list ap;
    va_start(ap, id);
    const char *cmd = va_arg(ap, const char *);
    if (s_has_command && !s_has_command(cmd)) {
        va_end(ap);
        return;
    }
    s_actor_t *a = &sv->acts[sv->nacts++];
    snprintf(a->id, sizeof a->id, "%s", id);
    for (const char *arg = cmd; arg && a->nargs < S_MAX_ARGS; arg = va_arg(ap, const char *))
        snprintf(a->args[a->nargs++], S_ARG_LEN, "%s", arg);
    va_end(ap);
}

/* A short per-cluster tag and the cluster's pod range, from ZKUBE_HOME, so
 * that two clusters on one machine never share names or addresses. */
static unsigned s_cluster_hash(const rt_config_t *cfg)
{
    unsigned h = 2166136261u;
    for (const char *p = cfg->home; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* The actors of this host, in start order (stopped in reverse). */
static void s_plan(s_sup_t *sv)
{
    unsigned h = s_cluster_hash(&sv->cfg);
    char tag[8], cluster[32];
    snprintf(tag, sizeof tag, "%04x", h & 0xffff);
    snprintf(cluster, sizeof cluster, "10.%u.0.0/16", 100 + (h >> 16) % 100);
    s_plan_add(sv, "broker", "broker", NULL);
    s_plan_add(sv, "apiserver", "apiserver", NULL);
    if (strcmp(sv->http, "none") != 0)
        s_plan_add(sv, "gateway", "gateway", "--http-port", sv->http[0] ? sv->http : "8080",
                   NULL);
    s_plan_add(sv, "scheduler", "scheduler", NULL);
    static const char *ctrls[] = {"replicationcontroller", "replicaset", "garbage-collector",
                                  "node-lifecycle"};
    for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
        char id[64];
        snprintf(id, sizeof id, "controller-%s", ctrls[i]);
        s_plan_add(sv, id, "controller", ctrls[i], NULL);
    }
    for (int n = 1; n <= sv->nodes; n++) {
        char id[64], node[32], cidr[32];
        snprintf(node, sizeof node, "node%d", n);
        snprintf(id, sizeof id, "kubelet-%s", node);
        snprintf(cidr, sizeof cidr, "10.%u.%d.0/24", 100 + (h >> 16) % 100, n);
        if (sv->driver[0])
            s_plan_add(sv, id, "kubelet", "--node", node, "--pod-cidr", cidr, "--cluster-cidr",
                       cluster, "--cluster-tag", tag, "--driver", sv->driver, NULL);
        else
            s_plan_add(sv, id, "kubelet", "--node", node, "--pod-cidr", cidr, "--cluster-cidr",
                       cluster, "--cluster-tag", tag, NULL);
    }
}

/* ---- files ------------------------------------------------------------------ */

static int s_write_file(const char *path, const char *text)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -errno;
    return 0;
}

static pid_t s_read_pid(const rt_config_t *cfg)
{
    char path[PATH_MAX];
    FILE *f = fopen(rt_path(cfg, "run/supervisor.pid", path, sizeof path), "r");
    long pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 1 || pid > 1 << 22)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

/* The live supervisor's pid, or 0 (a stale pid file is removed). */
static pid_t s_running(const rt_config_t *cfg)
{
    pid_t pid = s_read_pid(cfg);
    if (pid && (kill(pid, 0) == 0 || errno == EPERM))
        return pid;
    char path[PATH_MAX];
    if (pid)
        unlink(rt_path(cfg, "run/supervisor.pid", path, sizeof path));
    return 0;
}

static void s_save(const s_sup_t *sv)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < S_NACTORS; i++) {
        const s_child_t *c = &sv->kids[i];
        char ts[32] = "";
        if (c->ever_started)
            proto_format_time(c->started_wall, ts);
        json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:I, s:i, s:s}", "id", sv->acts[i].id,
                                             "pid", (int)c->pid, "started", ts, "startedUnix",
                                             (json_int_t)c->started_wall, "restarts",
                                             (int)c->restarts, "lastExit", c->last_exit));
    }
    char *text = json_dumps(arr, JSON_INDENT(2));
    char path[PATH_MAX];
    s_write_file(rt_path(&sv->cfg, "run/actors.json", path, sizeof path), text);
    free(text);
    json_decref(arr);
}

/* run/supervisor.json: how this cluster was started (--nodes is kept for the
 * issues that add kubelets). */
static void s_save_meta(const s_sup_t *sv)
{
    char path[PATH_MAX], ts[32];
    proto_now_rfc3339(ts);
    json_t *m =
        json_pack("{s:i, s:i, s:s}", "pid", (int)getpid(), "nodes", sv->nodes, "started", ts);
    char *text = json_dumps(m, JSON_INDENT(2));
    s_write_file(rt_path(&sv->cfg, "run/supervisor.json", path, sizeof path), text);
    free(text);
    json_decref(m);
}

static int s_ensure_config(rt_config_t *cfg)
{
    char path[PATH_MAX], err[256], text[PATH_MAX + 32];
    int rc = rt_config_mkdirs(cfg);
    if (rc < 0)
        return rc;
    rt_path(cfg, "config", path, sizeof path);
    if (access(path, F_OK) != 0) {
        snprintf(text, sizeof text, "broker=ipc://%s/run/broker\n", cfg->home);
        if ((rc = s_write_file(path, text)) < 0)
            return rc;
    }
    return rt_config_load(cfg, err, sizeof err);
}

/* ---- children ---------------------------------------------------------------- */

static void s_exec_child(const s_sup_t *sv, size_t i, const sigset_t *old)
{
    char path[PATH_MAX], rel[64];
    snprintf(rel, sizeof rel, "logs/%s.log", sv->acts[i].id);
    int fd = open(rt_path(&sv->cfg, rel, path, sizeof path),
                  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int nul = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    if (nul >= 0)
        dup2(nul, STDIN_FILENO);
    setpgid(0, 0);                    /* Ctrl-C reaches the supervisor only */
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* ... and its death reaches us */
    sigprocmask(SIG_SETMASK, old, NULL);
    const char *argv[S_MAX_ARGS + 2] = {"zkube"};
    for (int a = 0; a < sv->acts[i].nargs; a++)
        argv[a + 1] = sv->acts[i].args[a];
    execv("/proc/self/exe", (char *const *)argv);
    _exit(127);
}

static void s_start(s_sup_t *sv, size_t i, const sigset_t *old)
{
    s_child_t *c = &sv->kids[i];
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        s_exec_child(sv, i, old);
    if (pid < 0) {
        fprintf(stderr, "supervisor: cannot start %s: %s\n", sv->acts[i].id, strerror(errno));
        c->next_ms = proto_mono_ms() + S_BACKOFF_MAX_MS;
        return;
    }
    if (c->ever_started)
        c->restarts++;
    c->ever_started = true;
    c->pid = pid;
    c->started_ms = proto_mono_ms();
    c->started_wall = (int64_t)time(NULL);
    fprintf(stderr, "supervisor: started %s (pid %d)\n", sv->acts[i].id, (int)pid);
}

static void s_exited(s_sup_t *sv, pid_t pid, int st)
{
    for (size_t i = 0; i < S_NACTORS; i++) {
        s_child_t *c = &sv->kids[i];
        if (c->pid != pid)
            continue;
        if (WIFSIGNALED(st))
            snprintf(c->last_exit, sizeof c->last_exit, "signal %d", WTERMSIG(st));
        else
            snprintf(c->last_exit, sizeof c->last_exit, "exit %d", WEXITSTATUS(st));
        int64_t now = proto_mono_ms();
        if (now - c->started_ms >= S_STABLE_MS || !c->backoff_ms)
            c->backoff_ms = S_BACKOFF_MIN_MS;
        else if ((c->backoff_ms *= 2) > S_BACKOFF_MAX_MS)
            c->backoff_ms = S_BACKOFF_MAX_MS;
        c->next_ms = now + c->backoff_ms;
        c->pid = 0;
        fprintf(stderr, "supervisor: %s (pid %d) ended: %s; restart in %d ms\n", sv->acts[i].id,
                (int)pid, c->last_exit, c->backoff_ms);
    }
}

static bool s_reap(s_sup_t *sv)
{
    bool changed = false;
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        s_exited(sv, pid, st);
        changed = true;
    }
    return changed;
}

static void s_stop_all(s_sup_t *sv)
{
    for (size_t i = S_NACTORS; i-- > 0;)
        if (sv->kids[i].pid > 0)
            kill(sv->kids[i].pid, SIGTERM);
    int64_t deadline = proto_mono_ms() + S_STOP_MS;
    bool killed = false;
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid > 0)
            s_exited(sv, pid, st);
        bool left = false;
        for (size_t i = 0; i < S_NACTORS; i++)
            left = left || sv->kids[i].pid > 0;
        if (!left)
            break;
        if (!killed && proto_mono_ms() >= deadline) {
            for (size_t i = 0; i < S_NACTORS; i++)
                if (sv->kids[i].pid > 0)
                    kill(sv->kids[i].pid, SIGKILL);
            killed = true; /* only reaping is left */
        }
        if (pid <= 0)
            usleep(20000);
    }
}

static int s_supervise(s_sup_t *sv)
{
    char path[PATH_MAX], text[32];
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &old);
    snprintf(text, sizeof text, "%d\n", (int)getpid());
    s_write_file(rt_path(&sv->cfg, "run/supervisor.pid", path, sizeof path), text);
    s_save_meta(sv);
    setenv("ZKUBE_HOME", sv->cfg.home, 1);
    fprintf(stderr, "supervisor: pid %d, ZKUBE_HOME=%s, nodes %d\n", (int)getpid(), sv->cfg.home,
            sv->nodes);
    for (bool stop = false; !stop;) {
        bool changed = s_reap(sv);
        int64_t now = proto_mono_ms();
        for (size_t i = 0; i < S_NACTORS; i++)
            if (sv->kids[i].pid == 0 && now >= sv->kids[i].next_ms) {
                s_start(sv, i, &old);
                changed = true;
            }
        if (changed)
            s_save(sv);
        struct timespec ts = {0, 50 * 1000000};
        int sig = sigtimedwait(&set, NULL, &ts);
        stop = sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
    }
    fprintf(stderr, "supervisor: stopping\n");
    s_stop_all(sv);
    s_save(sv);
    unlink(rt_path(&sv->cfg, "run/supervisor.pid", path, sizeof path));
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}

/* ---- up ------------------------------------------------------------------------ */

/* Waits until the apiserver answers `version` through the broker. */
static int s_wait_ready(const rt_config_t *cfg)
{
    char id[64], err[256];
    snprintf(id, sizeof id, "zkube-up-%d", (int)getpid());
    rt_actor_t *a = NULL;
    if (rt_actor_open(&a, id, cfg, err, sizeof err) < 0)
        return -1;
    int64_t deadline = proto_mono_ms() + S_UP_WAIT_MS;
    int code = 0;
    json_t *body = json_object();
    while (code != 200 && proto_mono_ms() < deadline) {
        json_t *reply = NULL;
        rt_call_opts_t o = {.timeout_ms = 1000, .retries = 0};
        code = rt_call_sync(a, "apiserver", "version", body, &o, &reply);
        json_decref(reply);
        if (code != 200)
            usleep(200000);
    }
    json_decref(body);
    rt_actor_destroy(&a);
    return code == 200 ? 0 : -1;
}

static void s_daemonize(s_sup_t *sv)
{
    char path[PATH_MAX];
    if (setsid() < 0 || fork() != 0)
        _exit(0);
    int fd = open(rt_path(&sv->cfg, "logs/supervisor.log", path, sizeof path),
                  O_WRONLY | O_CREAT | O_APPEND, 0644);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0)
        dup2(nul, STDIN_FILENO);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    for (int i = 3; i < 1024; i++) /* nothing of the caller's stays open */
        if (i != fd && i != nul)
            close(i);
    if (chdir("/") != 0)
        _exit(1);
    _exit(s_supervise(sv));
}

static int s_up_args(int argc, char **argv, s_sup_t *sv, bool *detach)
{
    int *nodes = &sv->nodes;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--detach") || !strcmp(argv[i], "-d")) {
            *detach = true;
        } else if (!strcmp(argv[i], "--driver") && i + 1 < argc) {
            snprintf(sv->driver, sizeof sv->driver, "%s", argv[++i]);
        } else if (!strcmp(argv[i], "--http-port") && i + 1 < argc) {
            snprintf(sv->http, sizeof sv->http, "%s", argv[++i]);
        } else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > 10000)
                return -1;
            *nodes = (int)n;
        } else if ((!strcmp(argv[i], "--spec") || !strcmp(argv[i], "--host")) && i + 1 < argc) {
            i++; /* cluster specs come with a later issue */
        } else {
            return -1;
        }
    }
    return 0;
}

int rt_sup_up(int argc, char **argv)
{
    static s_sup_t sv;
    bool detach = false;
    char err[256];
    sv.nodes = 2;
    if (s_up_args(argc, argv, &sv, &detach) < 0) {
        fprintf(stderr, "usage: zkube up [--nodes N] [--detach] [--driver runc|process|hollow] "
                        "[--http-port PORT|none]\n");
        return 2;
    }
    if (rt_config_load(&sv.cfg, err, sizeof err) < 0 || s_ensure_config(&sv.cfg) < 0) {
        fprintf(stderr, "zkube up: cannot prepare %s: %s\n", sv.cfg.home, err);
        return 1;
    }
    s_plan(&sv);
    pid_t pid = s_running(&sv.cfg);
    if (pid) {
        fprintf(stderr, "zkube: already running (supervisor pid %d)\n", (int)pid);
        return 1;
    }
    if (!detach)
        return s_supervise(&sv);
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        s_daemonize(&sv);
    waitpid(pid, NULL, 0);
    if (s_wait_ready(&sv.cfg) < 0) {
        fprintf(stderr, "zkube up: the apiserver did not answer within %d s (logs in %s/logs)\n",
                S_UP_WAIT_MS / 1000, sv.cfg.home);
        return 1;
    }
    printf("zkube is up (ZKUBE_HOME=%s)\n", sv.cfg.home);
    return 0;
}

/* ---- down ------------------------------------------------------------------------ */

int rt_sup_down(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    rt_config_t cfg;
    char err[256];
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube down: %s\n", err);
        return 1;
    }
    pid_t pid = s_running(&cfg);
    if (!pid) {
        printf("zkube is not running\n");
        return 0;
    }
    kill(pid, SIGTERM);
    int64_t deadline = proto_mono_ms() + S_STOP_MS + 5000;
    while (kill(pid, 0) == 0 && proto_mono_ms() < deadline)
        usleep(50000);
    if (kill(pid, 0) == 0) {
        fprintf(stderr, "zkube down: supervisor %d did not stop; killing it\n", (int)pid);
        kill(pid, SIGKILL);
        return 1;
    }
    printf("zkube is down\n");
    return 0;
}

/* ---- status ---------------------------------------------------------------------- */

static json_t *s_broker_peers(const rt_config_t *cfg)
{
    char id[64], err[256];
    snprintf(id, sizeof id, "zkube-status-%d", (int)getpid());
    rt_actor_t *a = NULL;
    if (rt_actor_open(&a, id, cfg, err, sizeof err) < 0)
        return NULL;
    json_t *body = json_object(), *reply = NULL, *peers = NULL;
    rt_call_opts_t o = {.timeout_ms = 1000, .retries = 0};
    if (rt_call_sync(a, "broker", "status", body, &o, &reply) == 200)
        peers = json_incref(json_object_get(reply, "peers"));
    json_decref(reply);
    json_decref(body);
    rt_actor_destroy(&a);
    return peers;
}

static void s_counts(const json_t *peers, const char *id, char in[24], char out[24])
{
    size_t i;
    json_t *p;
    snprintf(in, 24, "-");
    snprintf(out, 24, "-");
    json_array_foreach(peers, i, p)
    {
        const char *pid = json_string_value(json_object_get(p, "id"));
        if (pid && !strcmp(pid, id)) {
            snprintf(in, 24, "%lld", (long long)json_integer_value(json_object_get(p, "msgs_in")));
            snprintf(out, 24, "%lld",
                     (long long)json_integer_value(json_object_get(p, "msgs_out")));
        }
    }
}

int rt_sup_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    rt_config_t cfg;
    char err[256], path[PATH_MAX];
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube status: %s\n", err);
        return 1;
    }
    if (!s_running(&cfg)) {
        printf("zkube is not running\n");
        return 1;
    }
    json_t *actors = json_load_file(rt_path(&cfg, "run/actors.json", path, sizeof path), 0, NULL);
    json_t *peers = s_broker_peers(&cfg);
    printf("%-16s %-8s %-8s %-9s %-10s %-9s %s\n", "ID", "PID", "UPTIME", "RESTARTS", "LAST-EXIT",
           "MSGS-IN", "MSGS-OUT");
    size_t i;
    json_t *a;
    json_array_foreach(actors, i, a)
    {
        const char *id = json_string_value(json_object_get(a, "id"));
        int pid = (int)json_integer_value(json_object_get(a, "pid"));
        const char *last = json_string_value(json_object_get(a, "lastExit"));
        char up[32] = "-", in[24], out[24];
        if (pid > 0)
            proto_human_duration(
                (int64_t)time(NULL) - json_integer_value(json_object_get(a, "startedUnix")), up);
        s_counts(peers, id ? id : "", in, out);
        printf("%-16s %-8d %-8s %-9lld %-10s %-9s %s\n", id ? id : "?", pid, up,
               (long long)json_integer_value(json_object_get(a, "restarts")),
               last && *last ? last : "-", in, out);
    }
    json_decref(actors);
    json_decref(peers);
    return 0;
}
