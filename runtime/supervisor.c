/*
 * runtime/supervisor — `zkube up|down|status`. The supervisor starts the
 * actors of this host as child processes of the zkube binary
 * (/proc/self/exe ID...), one log each in $ZKUBE_HOME/logs/ID.log, restarts
 * any that die with exponential back-off (100 ms doubling to 10 s, reset
 * after 10 s of uptime), records run/actors.json after every change and
 * stops them in reverse order on SIGTERM/SIGINT (SIGKILL after 10 s).
 *
 * Which actors: by default the whole cluster on this host (s_plan); with
 * `--spec FILE --host NAME` only that host's share of a cluster spec
 * (runtime/spec.h), every actor pointed at the spec's broker through
 * $ZKUBE_HOME/config. CURVE (`curve: true` or `--curve`) keeps the keys in
 * $ZKUBE_HOME/keys; `zkube certs` makes them ahead of time.
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
#include "runtime/spec.h"
#include "runtime/supervisor.h"

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 10000
#define S_STABLE_MS 10000
#define S_STOP_MS 10000
#define S_UP_WAIT_MS 20000
#define S_MAX_ARGS 16

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
    char driver[32];              /* kubelet driver, "" = kubelet's default */
    char http[64];                /* gateway port, "none" = no gateway */
    const char *spec_path, *host; /* --spec FILE --host NAME, or NULL */
    rt_spec_t *spec;
    bool curve; /* --curve (single host) */
    bool nodes_given;
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
        s_plan_add(sv, "gateway", "gateway", "--http-port", sv->http[0] ? sv->http : "8080", NULL);
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

/* Adds id with the arguments in args (n of them, at most S_MAX_ARGS). */
static void s_plan_argv(s_sup_t *sv, const char *id, const char **args, int n)
{
    if (sv->nacts >= S_MAX_ACTORS || n < 1 || n > S_MAX_ARGS)
        return;
    if (s_has_command && !s_has_command(args[0]))
        return;
    s_actor_t *a = &sv->acts[sv->nacts++];
    snprintf(a->id, sizeof a->id, "%s", id);
    for (int i = 0; i < n; i++)
        snprintf(a->args[a->nargs++], S_ARG_LEN, "%s", args[i]);
}

static void s_plan_spec_kubelet(s_sup_t *sv, const rt_spec_host_t *h, const char *tag)
{
    const rt_spec_t *sp = sv->spec;
    const char *drv = sv->driver[0] ? sv->driver : h->driver[0] ? h->driver : sp->driver;
    const char *args[S_MAX_ARGS] = {"kubelet",    "--node",        h->name,
                                    "--pod-cidr", h->pod_cidr,     "--cluster-cidr",
                                    sp->pod_cidr, "--cluster-tag", tag};
    int n = 9;
    if (h->address[0])
        args[n++] = "--node-ip", args[n++] = h->address;
    if (drv[0])
        args[n++] = "--driver", args[n++] = drv;
    char id[96];
    snprintf(id, sizeof id, "kubelet-%s", h->name);
    s_plan_argv(sv, id, args, n);
}

static void s_plan_spec_controller(s_sup_t *sv, const char *kind)
{
    const rt_spec_t *sp = sv->spec;
    const char *args[S_MAX_ARGS] = {"controller", kind};
    int n = 2;
    if (!strcmp(kind, "node-lifecycle") && sp->grace[0])
        args[n++] = "--node-monitor-grace-period", args[n++] = sp->grace;
    if (!strcmp(kind, "node-lifecycle") && sp->eviction[0])
        args[n++] = "--pod-eviction-timeout", args[n++] = sp->eviction;
    char id[64];
    snprintf(id, sizeof id, "controller-%s", kind);
    s_plan_argv(sv, id, args, n);
}

/* This host's share of the spec, in the same start order as s_plan. */
static void s_plan_spec(s_sup_t *sv, const rt_spec_host_t *h)
{
    char tag[8];
    snprintf(tag, sizeof tag, "%04x", s_cluster_hash(&sv->cfg) & 0xffff);
    const char *http = sv->http[0] ? sv->http : sv->spec->http_port;
    if (rt_spec_runs(h, "broker"))
        s_plan_add(sv, "broker", "broker", NULL);
    if (rt_spec_runs(h, "apiserver"))
        s_plan_add(sv, "apiserver", "apiserver", NULL);
    if (rt_spec_runs(h, "gateway") && strcmp(http, "none") != 0)
        s_plan_add(sv, "gateway", "gateway", "--http-port", http[0] ? http : "8080", NULL);
    if (rt_spec_runs(h, "scheduler"))
        s_plan_add(sv, "scheduler", "scheduler", NULL);
    static const char *ctrls[] = {"replicationcontroller", "replicaset", "garbage-collector",
                                  "node-lifecycle"};
    for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
        char id[64];
        snprintf(id, sizeof id, "controller-%s", ctrls[i]);
        if (rt_spec_runs(h, id))
            s_plan_spec_controller(sv, ctrls[i]);
    }
    if (rt_spec_runs(h, "kubelet"))
        s_plan_spec_kubelet(sv, h, tag);
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
    if (sv->spec) {
        json_object_set_new(m, "spec", json_string(sv->spec_path));
        json_object_set_new(m, "host", json_string(sv->host));
        json_object_set_new(m, "cluster", json_string(sv->spec->cluster));
    }
    json_object_set_new(m, "broker", json_string(sv->cfg.broker));
    json_object_set_new(m, "curve", json_boolean(sv->cfg.curve_dir[0] != 0));
    char *text = json_dumps(m, JSON_INDENT(2));
    s_write_file(rt_path(&sv->cfg, "run/supervisor.json", path, sizeof path), text);
    free(text);
    json_decref(m);
}

/* Rewrites $ZKUBE_HOME/config with broker= and curve_dir= (none when
 * curve_dir is ""), keeping the lines of other keys. */
static int s_write_config(const rt_config_t *cfg, const char *broker, const char *curve_dir)
{
    char path[PATH_MAX], line[4096];
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    len += (size_t)snprintf(text, cap, "broker=%s\n", broker);
    if (curve_dir[0])
        len += (size_t)snprintf(text + len, cap - len, "curve_dir=%s\n", curve_dir);
    FILE *f = fopen(rt_path(cfg, "config", path, sizeof path), "r");
    while (f && fgets(line, sizeof line, f)) {
        const char *k = line + strspn(line, " \t");
        if (!strncmp(k, "broker", 6) || !strncmp(k, "curve_dir", 9))
            continue;
        size_t n = strlen(line);
        if (len + n + 2 >= cap)
            break; /* other modules' keys beyond 8 KiB are not ours to keep */
        memcpy(text + len, line, n + 1);
        len += n;
    }
    if (f)
        fclose(f);
    int rc = s_write_file(path, text);
    free(text);
    return rc;
}

/* CURVE keys in home/keys: generated on the broker's host (keygen keeps
 * existing keys), required elsewhere. 0 or -errno with a reason in err. */
static int s_curve_keys(const rt_config_t *cfg, bool broker_host, char *dir, size_t dirlen,
                        char *err, size_t errlen)
{
    unsigned char k[32];
    if (!rt_path(cfg, "keys", dir, dirlen)) {
        snprintf(err, errlen, "ZKUBE_HOME path too long");
        return -ENAMETOOLONG;
    }
    if (broker_host)
        return rt_curve_keygen(dir, err, errlen);
    static const char *need[] = {"broker.pub", "client.pub", "client.key"};
    for (size_t i = 0; i < 3; i++) {
        int rc = rt_curve_read(dir, need[i], k, err, errlen);
        if (rc) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n,
                     " (copy $ZKUBE_HOME/keys from the broker's host, made there by `zkube "
                     "certs` or `zkube up`)");
            return rc;
        }
    }
    return 0;
}

/* --spec: this host's share; config points at the spec's broker. */
static int s_prepare_spec(s_sup_t *sv, char *err, size_t errlen)
{
    int rc = rt_spec_load(sv->spec_path, &sv->spec, err, errlen);
    if (rc)
        return rc;
    const rt_spec_host_t *h = rt_spec_host(sv->spec, sv->host);
    if (!h) {
        snprintf(err, errlen, "%s: hosts: no host named \"%s\"", sv->spec_path, sv->host);
        return -ENOENT;
    }
    char dir[PATH_MAX] = "";
    rc = rt_config_mkdirs(&sv->cfg);
    if (!rc && sv->spec->curve)
        rc = s_curve_keys(&sv->cfg, rt_spec_runs(h, "broker"), dir, sizeof dir, err, errlen);
    else if (rc)
        snprintf(err, errlen, "%s: %s", sv->cfg.home, strerror(-rc));
    if (!rc && (rc = s_write_config(&sv->cfg, sv->spec->broker, dir)) < 0)
        snprintf(err, errlen, "%s/config: %s", sv->cfg.home, strerror(-rc));
    if (!rc)
        rc = rt_config_load(&sv->cfg, err, errlen);
    if (!rc)
        s_plan_spec(sv, h);
    return rc;
}

/* --curve on one host: keys in home/keys, curve_dir in config. */
static int s_prepare_curve(s_sup_t *sv, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    int rc = s_curve_keys(&sv->cfg, true, dir, sizeof dir, err, errlen);
    if (!rc && (rc = s_write_config(&sv->cfg, sv->cfg.broker, dir)) < 0)
        snprintf(err, errlen, "%s/config: %s", sv->cfg.home, strerror(-rc));
    return rc ? rc : rt_config_load(&sv->cfg, err, errlen);
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

/*
 * After the kubelets have stopped: remove what their drivers left on this
 * host (containers, sandboxes, bridges, veths, mounts, cgroups) — a
 * kubelet's own shutdown leaves containers running on purpose, so that a
 * restarted kubelet adopts them. Runs `zkube runc-cleanup` with each
 * kubelet's own flags.
 */
static bool s_cleanup_flag(const char *flag)
{
    static const char *const ok[] = {
        "--node", "--pod-cidr", "--cluster-cidr", "--cluster-tag", "--driver", "--state-dir", NULL};
    for (size_t i = 0; ok[i]; i++)
        if (!strcmp(flag, ok[i]))
            return true;
    return false;
}

static void s_cleanup_nodes(const s_sup_t *sv)
{
    for (size_t i = 0; i < S_NACTORS; i++) {
        const s_actor_t *a = &sv->acts[i];
        if (a->nargs < 1 || strcmp(a->args[0], "kubelet") != 0)
            continue;
        if (s_has_command && !s_has_command("runc-cleanup"))
            return;
        const char *argv[S_MAX_ARGS + 2] = {"zkube", "runc-cleanup"};
        int n = 2;
        for (int k = 1; k + 1 < a->nargs; k += 2) /* only the flags runc-cleanup takes */
            if (s_cleanup_flag(a->args[k]))
                argv[n++] = a->args[k], argv[n++] = a->args[k + 1];
        pid_t pid = fork();
        if (pid == 0) {
            execv("/proc/self/exe", (char *const *)argv);
            _exit(127);
        }
        int st;
        if (pid > 0)
            waitpid(pid, &st, 0);
    }
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
    fprintf(stderr, "supervisor: pid %d, ZKUBE_HOME=%s, broker %s%s, %s\n", (int)getpid(),
            sv->cfg.home, sv->cfg.broker, sv->cfg.curve_dir[0] ? " (CURVE)" : "",
            sv->host ? sv->host : "single host");
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
    s_cleanup_nodes(sv);
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
            sv->nodes_given = true;
        } else if (!strcmp(argv[i], "--spec") && i + 1 < argc) {
            sv->spec_path = argv[++i];
        } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
            sv->host = argv[++i];
        } else if (!strcmp(argv[i], "--curve")) {
            sv->curve = true;
        } else {
            return -1;
        }
    }
    /* a spec says everything --nodes and --curve would */
    if (!sv->spec_path != !sv->host || (sv->spec_path && (sv->nodes_given || sv->curve)))
        return -1;
    return 0;
}

/* Config, keys and the plan of this host. 0, or a reason in err. */
static int s_prepare(s_sup_t *sv, char *err, size_t errlen)
{
    int rc = rt_config_load(&sv->cfg, err, errlen);
    if (rc)
        return rc;
    pid_t pid = s_running(&sv->cfg);
    if (pid) {
        snprintf(err, errlen, "already running (supervisor pid %d)", (int)pid);
        return -EEXIST;
    }
    if (sv->spec_path)
        return s_prepare_spec(sv, err, errlen);
    if ((rc = s_ensure_config(&sv->cfg)) < 0) {
        snprintf(err, errlen, "cannot prepare %s: %s", sv->cfg.home, strerror(-rc));
        return rc;
    }
    if (sv->curve && (rc = s_prepare_curve(sv, err, errlen)) < 0)
        return rc;
    s_plan(sv);
    return 0;
}

int rt_sup_up(int argc, char **argv)
{
    static s_sup_t sv;
    bool detach = false;
    char err[PATH_MAX + 512];
    rt_spec_destroy(&sv.spec); /* static for its size; each call starts afresh */
    memset(&sv, 0, sizeof sv);
    sv.nodes = 2;
    if (s_up_args(argc, argv, &sv, &detach) < 0) {
        fprintf(stderr, "usage: zkube up [--nodes N] [--curve] [--detach] "
                        "[--driver runc|process|hollow] [--http-port PORT|none]\n"
                        "       zkube up --spec FILE --host NAME [--detach] [--driver D] "
                        "[--http-port PORT|none]\n");
        return 2;
    }
    if (s_prepare(&sv, err, sizeof err) < 0) {
        fprintf(stderr, "zkube up: %s\n", err);
        return 1;
    }
    pid_t pid;
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

/* The broker's `status` reply (peers, curve, auth_denied ...), or NULL. */
static json_t *s_broker_status(const rt_config_t *cfg)
{
    char id[64], err[256];
    snprintf(id, sizeof id, "zkube-status-%d", (int)getpid());
    rt_actor_t *a = NULL;
    if (rt_actor_open(&a, id, cfg, err, sizeof err) < 0)
        return NULL;
    json_t *body = json_object(), *reply = NULL;
    rt_call_opts_t o = {.timeout_ms = 1000, .retries = 0};
    if (rt_call_sync(a, "broker", "status", body, &o, &reply) != 200) {
        json_decref(reply);
        reply = NULL;
    }
    json_decref(body);
    rt_actor_destroy(&a);
    return reply;
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

/* For a share of a cluster spec: which cluster, host and broker. */
static void s_print_share(const rt_config_t *cfg)
{
    char path[PATH_MAX];
    json_t *meta = json_load_file(rt_path(cfg, "run/supervisor.json", path, sizeof path), 0, NULL);
    const char *host = json_string_value(json_object_get(meta, "host"));
    if (host)
        printf("cluster %s, host %s, broker %s\n",
               json_string_value(json_object_get(meta, "cluster")) ?: "?", host, cfg->broker);
    json_decref(meta);
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
    s_print_share(&cfg);
    json_t *bst = s_broker_status(&cfg), *peers = json_object_get(bst, "peers");
    size_t i;
    json_t *a;
    int w = 16; /* the ID column fits the longest id */
    json_array_foreach(actors, i, a)
    {
        size_t n = strlen(json_string_value(json_object_get(a, "id")) ?: "");
        if (n > (size_t)w && n < 64)
            w = (int)n;
    }
    printf("%-*s %-8s %-8s %-9s %-10s %-9s %s\n", w, "ID", "PID", "UPTIME", "RESTARTS", "LAST-EXIT",
           "MSGS-IN", "MSGS-OUT");
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
        printf("%-*s %-8d %-8s %-9lld %-10s %-9s %s\n", w, id ? id : "?", pid, up,
               (long long)json_integer_value(json_object_get(a, "restarts")),
               last && *last ? last : "-", in, out);
    }
    if (json_is_true(json_object_get(bst, "curve")))
        printf("broker: CURVE on, %lld connection(s) refused for an unknown client key\n",
               (long long)json_integer_value(json_object_get(bst, "auth_denied")));
    json_decref(actors);
    json_decref(bst);
    return 0;
}

/* ---- certs ------------------------------------------------------------------------ */

int rt_sup_certs(int argc, char **argv)
{
    rt_config_t cfg;
    char err[PATH_MAX + 128], dir[PATH_MAX] = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc && strlen(argv[i + 1]) < sizeof dir) {
            snprintf(dir, sizeof dir, "%s", argv[++i]);
        } else {
            fprintf(stderr, "usage: zkube certs [--dir DIR]   (default $ZKUBE_HOME/keys)\n");
            return 2;
        }
    }
    if (!dir[0]) {
        int rc = rt_config_load(&cfg, err, sizeof err);
        if (!rc && (rc = rt_config_mkdirs(&cfg)) < 0)
            snprintf(err, sizeof err, "%s: %s", cfg.home, strerror(-rc));
        if (rc) {
            fprintf(stderr, "zkube certs: %s\n", err);
            return 1;
        }
        rt_path(&cfg, "keys", dir, sizeof dir);
    }
    if (rt_curve_keygen(dir, err, sizeof err) < 0) {
        fprintf(stderr, "zkube certs: %s\n", err);
        return 1;
    }
    printf("CURVE keys in %s: broker.pub broker.key client.pub client.key\n"
           "(existing keys are kept). Copy this folder to $ZKUBE_HOME/keys on every host of "
           "the cluster;\nhosts without the broker need only broker.pub, client.pub, "
           "client.key.\n",
           dir);
    return 0;
}
