/*
 * actors/kubelet/driver_process.c — the process runtime driver: containers
 * are plain host processes, for machines without root or runc.
 *
 *  - The binary comes from the image's rootfs on the host filesystem (no
 *    chroot): argv[0] is looked up in the rootfs (following its symlinks
 *    inside the rootfs), then on the host. The working directory is the
 *    rootfs path of workingDir.
 *  - Each container runs under a detached shim (driver_process_shim.c)
 *    that frames its output into the log file and records its exit code, so
 *    containers survive a kubelet restart and their exit codes are known.
 *  - State, under state_dir/containers/: ID.json (meta: pod uid, name,
 *    rootfs, cwd, env), ID.pid (pid + start time, of container and shim),
 *    ID.exit. "Running" means: the pid is alive with the recorded start time.
 *    A container whose shim and process are both gone without an exit file
 *    is reported exited with 137 / ContainerStatusUnknown, as Kubernetes
 *    reports containers it lost.
 *  - No network isolation: every pod's IP is 127.0.0.1 (host network;
 *    ports of different pods may collide). Volumes are directories the
 *    kubelet prepares; nothing is mounted.
 */
#include <dirent.h>
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
#include "protocol/obj.h"
#include "protocol/status.h"

#define S_MAX_ARGS 1024

typedef struct s_proc {
    kubelet_driver_t base;
    char dir[PATH_MAX];   /* state_dir/containers */
    char sbdir[PATH_MAX]; /* state_dir/sandboxes */
    char self[PATH_MAX];  /* the zkube binary, to start shims */
} s_proc_t;

static void s_path(const s_proc_t *p, const char *id, const char *ext, char *buf, size_t n)
{
    if (snprintf(buf, n, "%s/%s%s", p->dir, id, ext) >= (int)n)
        buf[0] = '\0'; /* ids are checked to be short; never reached */
}

static bool s_id_ok(const char *id)
{
    if (!id || !*id || strlen(id) > 400 || id[0] == '.')
        return false;
    for (const char *c = id; *c; c++)
        if (*c == '/')
            return false;
    return true;
}

/* ---- sandboxes ------------------------------------------------------------ */

static int s_sandbox_create(kubelet_driver_t *d, const json_t *pod, char *ip, char *err,
                            size_t errlen)
{
    s_proc_t *p = (s_proc_t *)d;
    const char *uid = proto_obj_uid(pod);
    if (!s_id_ok(uid)) {
        snprintf(err, errlen, "pod has no valid uid");
        return PROTO_EINVALID;
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", p->sbdir, uid);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -errno;
    }
    fprintf(f, "127.0.0.1\n");
    fclose(f);
    snprintf(ip, 64, "127.0.0.1");
    return 0;
}

static int s_sandbox_remove(kubelet_driver_t *d, const char *pod_uid)
{
    s_proc_t *p = (s_proc_t *)d;
    if (!s_id_ok(pod_uid))
        return PROTO_EINVALID;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", p->sbdir, pod_uid);
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* ---- finding the binary in the rootfs ------------------------------------- */

/* Follows symlinks of path (already inside rootfs), re-rooting absolute
 * targets at rootfs. true when the result is an executable file. */
static bool s_follow(const char *rootfs, char *path, size_t n)
{
    for (int hops = 0; hops < 16; hops++) {
        struct stat st;
        if (lstat(path, &st) < 0)
            return false;
        if (!S_ISLNK(st.st_mode))
            return S_ISREG(st.st_mode) && access(path, X_OK) == 0;
        char target[PATH_MAX];
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0)
            return false;
        target[len] = '\0';
        char next[PATH_MAX];
        int w;
        if (target[0] == '/') {
            w = snprintf(next, sizeof next, "%s%s", rootfs, target);
        } else {
            char *slash = strrchr(path, '/');
            int dl = slash ? (int)(slash - path) : 0;
            w = snprintf(next, sizeof next, "%.*s/%s", dl, path, target);
        }
        if (w >= (int)sizeof next || snprintf(path, n, "%s", next) >= (int)n)
            return false;
    }
    return false;
}

static const char *s_env_path(char *const *env)
{
    for (size_t i = 0; env && env[i]; i++)
        if (!strncmp(env[i], "PATH=", 5))
            return env[i] + 5;
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* The host path to execute for name. 0 or -ENOENT. */
static int s_resolve(const char *rootfs, const char *name, char *const *env, char *out, size_t n)
{
    const char *root = rootfs ? rootfs : "";
    if (strchr(name, '/')) {
        snprintf(out, n, "%s%s%s", root, name[0] == '/' ? "" : "/", name);
        if (*root && s_follow(root, out, n))
            return 0;
        snprintf(out, n, "%s", name);
        return access(out, X_OK) == 0 ? 0 : -ENOENT;
    }
    char paths[4096];
    snprintf(paths, sizeof paths, "%s", s_env_path(env));
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && !*root)
            continue;
        char copy[4096], *save = NULL;
        snprintf(copy, sizeof copy, "%s", paths);
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
            snprintf(out, n, "%s%s/%s", pass == 0 ? root : "", dir, name);
            if (pass == 0 ? s_follow(root, out, n) : access(out, X_OK) == 0)
                return 0;
        }
    }
    return -ENOENT;
}

/* ---- starting ------------------------------------------------------------- */

/* argv from command/args and the image's entrypoint/cmd, as Kubernetes
 * combines them, with $(VAR) expanded against env. */
static json_t *s_argv(const kl_container_spec_t *s, const json_t *envarr)
{
    const json_t *cmd = json_object_get(s->container, "command");
    const json_t *args = json_object_get(s->container, "args");
    const json_t *ep = json_object_get(s->image_config, "entrypoint");
    const json_t *icmd = json_object_get(s->image_config, "cmd");
    json_t *out = json_array();
    const json_t *first = json_array_size(cmd) ? cmd : ep;
    const json_t *rest = json_array_size(cmd) ? args : (json_array_size(args) ? args : icmd);
    const json_t *parts[2] = {first, rest};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(parts[k], i, v) {
            if (!json_is_string(v))
                continue;
            char *x = kubelet_expand(json_string_value(v), envarr);
            json_array_append_new(out, json_string(x));
            free(x);
        }
    }
    return out;
}

static json_t *s_env_array(char *const *env)
{
    json_t *a = json_array();
    for (size_t i = 0; env && env[i]; i++)
        json_array_append_new(a, json_string(env[i]));
    return a;
}

static int s_write_meta(s_proc_t *p, const kl_container_spec_t *s, const char *cwd, json_t *env)
{
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:I}", "id", s->id, "pod_uid",
                          proto_obj_uid(s->pod) ?: "", "name",
                          proto_obj_str(s->container, "name") ?: "", "rootfs",
                          s->rootfs ? s->rootfs : "", "cwd", cwd, "env", env, "created",
                          (json_int_t)time(NULL));
    char path[PATH_MAX + 512];
    s_path(p, s->id, ".json", path, sizeof path);
    int rc = json_dump_file(m, path, JSON_COMPACT) < 0 ? -EIO : 0;
    json_decref(m);
    return rc;
}

static void s_cwd(const kl_container_spec_t *s, char *cwd, size_t n)
{
    const char *wd = proto_obj_str(s->container, "workingDir");
    if (!wd || !*wd)
        wd = proto_obj_str(s->image_config, "workdir");
    if (!wd || !*wd)
        wd = "/";
    const char *root = s->rootfs ? s->rootfs : "";
    snprintf(cwd, n, "%s%s", root, wd);
    struct stat st;
    if (stat(cwd, &st) < 0 || !S_ISDIR(st.st_mode))
        snprintf(cwd, n, "%s", *root ? root : "/");
}

/* Forks an intermediate child that starts the shim detached and exits. */
static int s_fork_shim(s_proc_t *p, char **argv, char *const *env)
{
    pid_t mid = fork();
    if (mid < 0)
        return -errno;
    if (mid == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
        }
        close_range(3, ~0U, 0);
        execve(p->self, argv, env);
        _exit(127);
    }
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

static int s_wait_pidfile(s_proc_t *p, const char *id)
{
    char pidf[PATH_MAX + 512], exitf[PATH_MAX + 512];
    s_path(p, id, ".pid", pidf, sizeof pidf);
    s_path(p, id, ".exit", exitf, sizeof exitf);
    int64_t deadline = proto_mono_ms() + 3000;
    while (proto_mono_ms() < deadline) {
        if (access(pidf, F_OK) == 0 || access(exitf, F_OK) == 0)
            return 0;
        usleep(2000);
    }
    return -ETIMEDOUT;
}

static int s_container_start(kubelet_driver_t *d, const kl_container_spec_t *s, char *err,
                             size_t errlen)
{
    s_proc_t *p = (s_proc_t *)d;
    if (!s_id_ok(s->id) || !s->log_path) {
        snprintf(err, errlen, "invalid container id or log path");
        return PROTO_EINVALID;
    }
    json_t *env = s_env_array(s->env);
    json_t *av = s_argv(s, env);
    char exe[PATH_MAX], cwd[PATH_MAX];
    int rc = 0;
    if (json_array_size(av) == 0 || json_array_size(av) > S_MAX_ARGS) {
        snprintf(err, errlen, "no command specified");
        rc = PROTO_EINVALID;
    } else if (s_resolve(s->rootfs, json_string_value(json_array_get(av, 0)), s->env, exe,
                         sizeof exe) < 0) {
        snprintf(err, errlen, "exec: \"%s\": executable file not found in $PATH",
                 json_string_value(json_array_get(av, 0)));
        rc = -ENOENT;
    }
    s_cwd(s, cwd, sizeof cwd);
    if (rc == 0)
        rc = s_write_meta(p, s, cwd, env);
    if (rc == 0) {
        char state[PATH_MAX + 512];
        s_path(p, s->id, "", state, sizeof state);
        size_t n = json_array_size(av);
        char **argv = calloc(n + 9, sizeof *argv);
        const char *head[] = {p->self, "kubelet", "shim", state, s->log_path, exe, cwd, "--"};
        for (size_t i = 0; i < 8; i++)
            argv[i] = (char *)head[i];
        for (size_t i = 0; i < n; i++)
            argv[8 + i] = (char *)json_string_value(json_array_get(av, i));
        rc = s_fork_shim(p, argv, s->env);
        free(argv);
        if (rc == 0 && s_wait_pidfile(p, s->id) < 0) {
            snprintf(err, errlen, "container shim did not start");
            rc = -ETIMEDOUT;
        }
    }
    json_decref(av);
    json_decref(env);
    return rc;
}

/* ---- status and signals --------------------------------------------------- */

typedef struct s_pids {
    int pid, shim;
    unsigned long long pid_start, shim_start;
} s_pids_t;

static int s_read_pids(s_proc_t *p, const char *id, s_pids_t *x)
{
    char path[PATH_MAX + 512];
    s_path(p, id, ".pid", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    int n = fscanf(f, "%d %llu %d %llu", &x->pid, &x->pid_start, &x->shim, &x->shim_start);
    fclose(f);
    return n == 4 && x->pid > 0 ? 0 : -EINVAL;
}

static bool s_alive(int pid, unsigned long long start)
{
    return pid > 0 && start && kl_proc_start(pid) == start;
}

static bool s_read_exit(s_proc_t *p, const char *id, kl_status_t *st)
{
    char path[PATH_MAX + 512];
    s_path(p, id, ".exit", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    long long fin = 0;
    int n = fscanf(f, "%d %d %lld", &st->exit_code, &st->signal, &fin);
    fclose(f);
    if (n != 3)
        return false;
    st->state = KL_STATE_EXITED;
    st->finished_at = fin;
    snprintf(st->reason, sizeof st->reason, "%s",
             st->exit_code == 0 ? "Completed" : (st->exit_code == 127 ? "StartError" : "Error"));
    return true;
}

static int s_container_status(kubelet_driver_t *d, const char *id, kl_status_t *st)
{
    s_proc_t *p = (s_proc_t *)d;
    memset(st, 0, sizeof *st);
    if (!s_id_ok(id))
        return PROTO_EINVALID;
    char path[PATH_MAX + 512];
    s_path(p, id, ".json", path, sizeof path);
    json_t *m = json_load_file(path, 0, NULL);
    if (!m)
        return PROTO_ENOTFOUND;
    st->started_at = proto_obj_int(m, "created", 0);
    json_decref(m);
    s_pids_t x = {0};
    bool have = s_read_pids(p, id, &x) == 0;
    st->pid = have ? x.pid : 0;
    if (s_read_exit(p, id, st))
        return 0;
    if (have && (s_alive(x.pid, x.pid_start) || s_alive(x.shim, x.shim_start))) {
        st->state = KL_STATE_RUNNING;
        return 0;
    }
    if (!have && time(NULL) - st->started_at < 5) {
        st->state = KL_STATE_CREATED;
        return 0;
    }
    /* lost: neither the process nor its shim, and no exit record */
    st->state = KL_STATE_EXITED;
    st->exit_code = 137;
    st->finished_at = time(NULL);
    snprintf(st->reason, sizeof st->reason, "ContainerStatusUnknown");
    return 0;
}

static int s_container_signal(kubelet_driver_t *d, const char *id, int sig)
{
    s_proc_t *p = (s_proc_t *)d;
    s_pids_t x = {0};
    if (!s_id_ok(id))
        return PROTO_EINVALID;
    if (s_read_pids(p, id, &x) < 0)
        return PROTO_ENOTFOUND;
    if (!s_alive(x.pid, x.pid_start))
        return 0; /* already gone */
    /* the whole process group, as a PID namespace's members all get it */
    if (kill(-x.pid, sig) < 0 && kill(x.pid, sig) < 0)
        return -errno;
    return 0;
}

static int s_container_remove(kubelet_driver_t *d, const char *id)
{
    s_proc_t *p = (s_proc_t *)d;
    if (!s_id_ok(id))
        return PROTO_EINVALID;
    /* nothing of it may outlive its records: the shim first (it would
     * write the exit record after us), then what is left of the group */
    s_pids_t x = {0};
    if (s_read_pids(p, id, &x) == 0) {
        if (s_alive(x.shim, x.shim_start))
            kill(x.shim, SIGKILL);
        if (s_alive(x.pid, x.pid_start))
            kill(-x.pid, SIGKILL);
    }
    static const char *const ext[] = {".pid", ".exit", ".json", ".exit.tmp", ".pid.tmp"};
    char path[PATH_MAX + 512];
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        s_path(p, id, ext[i], path, sizeof path);
        unlink(path);
    }
    return 0;
}

/* ---- exec ----------------------------------------------------------------- */

/* Reads the child's output until it exits or the deadline passes. */
static int s_exec_wait(pid_t pid, int fd, int timeout_ms, int *exit_code, char *output,
                       size_t outlen)
{
    size_t used = 0;
    int64_t deadline = proto_mono_ms() + timeout_ms;
    int st = 0;
    bool open_fd = true;
    for (;;) {
        if (open_fd) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, 20) > 0) {
                char tmp[1024];
                ssize_t n = read(fd, tmp, sizeof tmp);
                if (n <= 0)
                    open_fd = false;
                else if (output && used + 1 < outlen) {
                    size_t k = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
                    memcpy(output + used, tmp, k);
                    used += k;
                }
            }
        } else {
            usleep(5000);
        }
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        if (proto_mono_ms() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -ETIMEDOUT;
        }
    }
    if (output && outlen)
        output[used] = '\0';
    *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

static char **s_strv(const json_t *arr)
{
    size_t n = json_array_size(arr);
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (char *)json_string_value(json_array_get(arr, i));
    return v;
}

static int s_container_exec(kubelet_driver_t *d, const char *id, char *const argv[],
                            int timeout_ms, int *exit_code, char *output, size_t outlen)
{
    s_proc_t *p = (s_proc_t *)d;
    char path[PATH_MAX + 512], exe[PATH_MAX];
    if (!s_id_ok(id) || !argv || !argv[0])
        return PROTO_EINVALID;
    s_path(p, id, ".json", path, sizeof path);
    json_t *m = json_load_file(path, 0, NULL);
    if (!m)
        return PROTO_ENOTFOUND;
    char **env = s_strv(json_object_get(m, "env"));
    int rc = s_resolve(proto_obj_str(m, "rootfs"), argv[0], env, exe, sizeof exe);
    int fds[2] = {-1, -1};
    if (rc == 0 && pipe2(fds, O_CLOEXEC) < 0)
        rc = -errno;
    pid_t pid = rc == 0 ? fork() : -1;
    if (pid == 0) {
        setpgid(0, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        const char *cwd = proto_obj_str(m, "cwd");
        if (cwd && chdir(cwd) < 0)
            _exit(126);
        execve(exe, argv, env);
        _exit(127);
    }
    if (rc == 0 && pid < 0)
        rc = -errno;
    if (fds[1] >= 0)
        close(fds[1]);
    if (rc == 0)
        rc = s_exec_wait(pid, fds[0], timeout_ms > 0 ? timeout_ms : 1000, exit_code, output,
                         outlen);
    else if (rc == -ENOENT) {
        *exit_code = 127; /* as a shell reports a missing command */
        if (output && outlen)
            snprintf(output, outlen, "exec: \"%s\": executable file not found", argv[0]);
        rc = 0;
    }
    if (fds[0] >= 0)
        close(fds[0]);
    free(env);
    json_decref(m);
    return rc;
}

static int s_container_exec_start(kubelet_driver_t *d, const char *id, char *const argv[],
                                  const int fds[3], bool tty, kl_exec_t *x, char *err,
                                  size_t errlen)
{
    s_proc_t *p = (s_proc_t *)d;
    char path[PATH_MAX + 512], exe[PATH_MAX];
    *x = (kl_exec_t){.pid = -1};
    if (!s_id_ok(id) || !argv || !argv[0])
        return PROTO_EINVALID;
    s_path(p, id, ".json", path, sizeof path);
    json_t *m = json_load_file(path, 0, NULL);
    if (!m) {
        snprintf(err, errlen, "container is not running");
        return PROTO_ENOTFOUND;
    }
    char **env = s_strv(json_object_get(m, "env"));
    int found = s_resolve(proto_obj_str(m, "rootfs"), argv[0], env, exe, sizeof exe);
    const char *cwd = proto_obj_str(m, "cwd");
    pid_t pid = fork();
    if (pid == 0) {
        if (kl_exec_child_setup(fds, tty) < 0 || (cwd && chdir(cwd) < 0))
            _exit(126);
        if (found == 0)
            execve(exe, argv, env);
        dprintf(2, "exec: \"%s\": executable file not found\n", argv[0]);
        _exit(127); /* as a shell reports a missing command */
    }
    int rc = pid < 0 ? -errno : 0;
    if (rc < 0)
        snprintf(err, errlen, "fork: %s", strerror(-rc));
    free(env);
    json_decref(m);
    x->pid = pid;
    x->group = true;
    return rc;
}

/* ---- listing -------------------------------------------------------------- */

static const char *s_state_name(kl_state_t s)
{
    return s == KL_STATE_RUNNING   ? "running"
           : s == KL_STATE_EXITED  ? "exited"
           : s == KL_STATE_CREATED ? "created"
                                   : "unknown";
}

static void s_list_containers(s_proc_t *p, json_t *out)
{
    DIR *dir = opendir(p->dir);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
            continue;
        char id[512], path[PATH_MAX + 512];
        snprintf(id, sizeof id, "%.*s", (int)(len - 5), e->d_name);
        s_path(p, id, ".json", path, sizeof path);
        json_t *m = json_load_file(path, 0, NULL);
        kl_status_t st;
        if (m && s_container_status(&p->base, id, &st) == 0)
            json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:s}", "id", id, "pod_uid",
                                                 json_object_get(m, "pod_uid"), "name",
                                                 json_object_get(m, "name"), "state",
                                                 s_state_name(st.state)));
        json_decref(m);
    }
    if (dir)
        closedir(dir);
}

static int s_list(kubelet_driver_t *d, json_t **out)
{
    s_proc_t *p = (s_proc_t *)d;
    json_t *ctrs = json_array(), *sbs = json_array();
    s_list_containers(p, ctrs);
    DIR *dir = opendir(p->sbdir);
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (e->d_name[0] != '.')
            json_array_append_new(sbs, json_pack("{s:s, s:s}", "pod_uid", e->d_name, "ip",
                                                 "127.0.0.1"));
    if (dir)
        closedir(dir);
    *out = json_pack("{s:o, s:o}", "containers", ctrs, "sandboxes", sbs);
    return 0;
}

static void s_destroy(kubelet_driver_t **d)
{
    if (!d || !*d)
        return;
    free(*d);
    *d = NULL;
}

static const kubelet_driver_ops_t s_ops = {
    .name = "process",
    .sandbox_create = s_sandbox_create,
    .sandbox_remove = s_sandbox_remove,
    .container_start = s_container_start,
    .container_status = s_container_status,
    .container_signal = s_container_signal,
    .container_remove = s_container_remove,
    .container_exec = s_container_exec,
    .container_exec_start = s_container_exec_start,
    .list = s_list,
    .destroy = s_destroy,
};

/* The marker that says a state folder belongs to the process driver. */
static void s_marker(const char *state_dir, char *buf, size_t n)
{
    if (snprintf(buf, n, "%s/process-driver", state_dir) >= (int)n)
        buf[0] = '\0';
}

int kubelet_process_cleanup(const char *state_dir)
{
    kubelet_driver_t *d = NULL;
    char err[256], marker[PATH_MAX];
    s_marker(state_dir, marker, sizeof marker);
    if (access(marker, F_OK) < 0)
        return 0; /* another driver's (or no) state */
    kl_driver_config_t cfg = {.state_dir = state_dir};
    int rc = kubelet_driver_process(&d, &cfg, err, sizeof err);
    if (rc < 0)
        return rc;
    json_t *list = NULL;
    s_list(d, &list);
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(list, "containers"), i, x) {
        const char *id = proto_obj_str(x, "id");
        s_pids_t pids = {0};
        if (!id)
            continue;
        if (s_read_pids((s_proc_t *)d, id, &pids) == 0) {
            /* the shim first, so that it writes no exit record afterwards */
            if (s_alive(pids.shim, pids.shim_start))
                kill(pids.shim, SIGKILL);
            if (s_alive(pids.pid, pids.pid_start))
                kill(-pids.pid, SIGKILL), n++;
        }
        s_container_remove(d, id);
    }
    json_array_foreach(json_object_get(list, "sandboxes"), i, x)
        s_sandbox_remove(d, proto_obj_str(x, "pod_uid") ?: "");
    json_decref(list);
    s_destroy(&d);
    return n;
}

int kubelet_driver_process(kubelet_driver_t **out, const kl_driver_config_t *cfg, char *err,
                           size_t errlen)
{
    s_proc_t *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->base.ops = &s_ops;
    snprintf(p->dir, sizeof p->dir, "%s/containers", cfg->state_dir);
    snprintf(p->sbdir, sizeof p->sbdir, "%s/sandboxes", cfg->state_dir);
    ssize_t n = readlink("/proc/self/exe", p->self, sizeof p->self - 1);
    if (n > 0)
        p->self[n] = '\0';
    char marker[PATH_MAX];
    s_marker(cfg->state_dir, marker, sizeof marker);
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    if (n <= 0 || kl_mkdirs(p->dir, 0755) < 0 || kl_mkdirs(p->sbdir, 0755) < 0) {
        snprintf(err, errlen, "process driver: cannot prepare %s: %s", cfg->state_dir,
                 strerror(errno));
        free(p);
        return -EIO;
    }
    *out = &p->base;
    return 0;
}
