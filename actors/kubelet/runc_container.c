/*
 * actors/kubelet/runc_container — the containers of the runc driver. Each
 * container is an OCI bundle under state_dir/containers/<id>/: config.json
 * (oci.c), rootfs/ an overlay of the image (read-only lower) with upper/
 * and work/ beside it (a copy of the image when overlay cannot be
 * mounted), meta.json, and what the shim writes: pid, exit. It is started
 * by a shim (runc_shim.c) so that its exit status outlives the kubelet;
 * status comes from those files and /proc, never from a runc call, so
 * polling it is cheap.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/runc_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#define S_START_MS 30000
#define S_RUNC_MS 15000
#define S_MAX_EXEC_ARGS 256

const char *kubelet_runc_state_name(kl_state_t s)
{
    switch (s) {
    case KL_STATE_CREATED:
        return "created";
    case KL_STATE_RUNNING:
        return "running";
    case KL_STATE_EXITED:
        return "exited";
    default:
        return "unknown";
    }
}

static int s_read_int(const char *path)
{
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? atoi(buf) : 0;
}

/* A live (not zombie) process. */
static bool s_alive(int pid)
{
    char path[64], buf[256];
    if (pid <= 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* ---- rootfs --------------------------------------------------------------------- */

/* Overlay of the image at cdir/rootfs; falls back to a copy. *overlay tells which. */
static int s_rootfs(kl_runc_t *d, const char *cdir, const char *image, bool *overlay, char *err,
                    size_t errlen)
{
    char root[4096], up[4096], wk[4096], opts[16384];
    snprintf(root, sizeof root, "%s/rootfs", cdir);
    snprintf(up, sizeof up, "%s/upper", cdir);
    snprintf(wk, sizeof wk, "%s/work", cdir);
    if ((mkdir(root, 0755) < 0 && errno != EEXIST))
        return -errno;
    *overlay = false;
    if (!strpbrk(image, ",:") && mkdir(up, 0755) == 0 && mkdir(wk, 0755) == 0) {
        snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", image, up, wk);
        if (mount("overlay", root, "overlay", 0, opts) == 0) {
            *overlay = true;
            return 0;
        }
    }
    /* no overlay here: a private copy of the image */
    char src[4096];
    snprintf(src, sizeof src, "%s/.", image);
    char *const cp[] = {"cp", "-a", src, root, NULL};
    return kubelet_runc_cmd_err(cp, NULL, NULL, S_START_MS, err, errlen);
}

static void s_unmount_rootfs(const char *cdir)
{
    char root[4096];
    snprintf(root, sizeof root, "%s/rootfs", cdir);
    while (umount2(root, 0) == 0 || (errno == EBUSY && umount2(root, MNT_DETACH) == 0))
        ;
}

/* ---- start ---------------------------------------------------------------------- */

/* The last runc error message (msg="…") of runc.log into err. */
static void s_runc_error(const char *cdir, const char *what, char *err, size_t errlen)
{
    char path[4096], line[1024], last[1024] = "", stage[128];
    snprintf(stage, sizeof stage, "%s", what);
    snprintf(path, sizeof path, "%s/runc.log", cdir);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "level=error"))
            snprintf(last, sizeof last, "%s", line);
    if (f)
        fclose(f);
    char *m = strstr(last, "msg=\"");
    if (m) {
        m += 5;
        char *q = strrchr(m, '"');
        if (q)
            *q = 0;
    }
    snprintf(err, errlen, "%s: %s", stage, m ? m : "(no message from runc)");
}

static int s_write_config(kl_runc_t *d, const kl_container_spec_t *spec, const char *uid,
                          const char *cdir, char *err, size_t errlen)
{
    char nsdir[2048], net[4096], ipc[4096], uts[4096], cg[512], root[4096], cfgp[4096];
    kubelet_runc_path(d, "sandboxes", uid, "ns", nsdir, sizeof nsdir);
    snprintf(net, sizeof net, "%s/net", nsdir);
    snprintf(ipc, sizeof ipc, "%s/ipc", nsdir);
    snprintf(uts, sizeof uts, "%s/uts", nsdir);
    snprintf(root, sizeof root, "%s/rootfs", cdir);
    snprintf(cfgp, sizeof cfgp, "%s/config.json", cdir);
    kubelet_cg_path(d->tag, uid, spec->id, cg, sizeof cg);
    bool hostnet = json_is_true(proto_obj_get(spec->pod, "spec.hostNetwork"));
    kl_oci_in_t in = {.spec = spec,
                      .root_path = root,
                      .netns = hostnet ? NULL : net,
                      .ipcns = ipc,
                      .utsns = uts,
                      .hostname = hostnet ? d->node : NULL,
                      .cgroups_path = cg,
                      .nofile = d->nofile};
    json_t *cfg = NULL;
    int rc = kubelet_oci_config(&in, &cfg, err, errlen);
    if (rc == 0 && (rc = kubelet_runc_save_json(cfgp, cfg)) < 0)
        snprintf(err, errlen, "writing %s: %s", cfgp, strerror(-rc));
    json_decref(cfg);
    return rc;
}

/* Spawns the shim; st->fd gets its report pipe. */
static int s_launch(kl_runc_t *d, const kl_container_spec_t *spec, const char *cdir, int log_fd,
                    kl_start_t *st)
{
    char root[1100], logp[4096], pidp[4096], exitp[4096], cg[512], oom[1024];
    snprintf(root, sizeof root, "%s/runc", d->dir);
    snprintf(logp, sizeof logp, "%s/runc.log", cdir);
    snprintf(pidp, sizeof pidp, "%s/pid", cdir);
    snprintf(exitp, sizeof exitp, "%s/exit", cdir);
    kubelet_cg_path(d->tag, proto_obj_uid(spec->pod), spec->id, cg, sizeof cg);
    kubelet_cg_oom_file(cg, oom, sizeof oom);
    /* `run --detach` is create + start in one runc process (one Go start-up
     * less than two calls); the init still ends up the shim's child. */
    char *const create[] = {d->runc, "--root",         root,       "--log",      logp,
                            "run",   "--detach",       "--bundle", (char *)cdir, "--pid-file",
                            pidp,    (char *)spec->id, NULL};
    kl_shim_args_t a = {.create_argv = create,
                        .start_argv = NULL,
                        .pid_path = pidp,
                        .exit_path = exitp,
                        .oom_file = oom,
                        .log_fd = log_fd};
    return kubelet_runc_shim_begin(&a, &st->fd);
}

/* The shim reported success: records its pid and the start time. */
static void s_launched(const char *cdir, int shim)
{
    char metap[4096], shimp[4096];
    snprintf(metap, sizeof metap, "%s/meta.json", cdir);
    snprintf(shimp, sizeof shimp, "%s/shim.pid", cdir);
    FILE *f = fopen(shimp, "we");
    if (f) {
        fprintf(f, "%d\n", shim);
        fclose(f);
    }
    json_t *m = kubelet_runc_load_json(metap);
    if (m) {
        json_object_set_new(m, "started", json_integer((json_int_t)time(NULL)));
        kubelet_runc_save_json(metap, m);
        json_decref(m);
    }
}

static int s_open_log(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        snprintf(err, errlen, "opening the log file %s: %s", path, strerror(errno));
    return fd < 0 ? -errno : fd;
}

/* Creates the directories of emptyDir volumes (and hostPath ones of type
 * DirectoryOrCreate) that the container mounts, if the kubelet has not. */
static void s_volume_dirs(const kl_container_spec_t *spec)
{
    const json_t *vols = proto_obj_get(spec->pod, "spec.volumes"), *v;
    size_t i;
    json_array_foreach(vols, i, v)
    {
        const char *name = proto_obj_str(v, "name"), *hp = proto_obj_str(v, "hostPath.path");
        const char *type = proto_obj_str(v, "hostPath.type");
        char p[4096];
        if (json_object_get(v, "emptyDir") && name && spec->volumes_dir && !strchr(name, '/') &&
            strcmp(name, "..") && strcmp(name, ".")) {
            snprintf(p, sizeof p, "%s/emptyDir", spec->volumes_dir);
            mkdir(spec->volumes_dir, 0755);
            mkdir(p, 0755);
            snprintf(p, sizeof p, "%s/emptyDir/%s", spec->volumes_dir, name);
            mkdir(p, 0777);
        } else if (hp && type && !strcmp(type, "DirectoryOrCreate") && hp[0] == '/') {
            char *const mk[] = {"mkdir", "-p", (char *)hp, NULL};
            kubelet_runc_cmd(mk, NULL, NULL, 5000, NULL, 0, NULL);
        }
    }
}

static int s_prepare(kl_runc_t *d, const kl_container_spec_t *spec, const char *uid,
                     const char *cdir, char *err, size_t errlen)
{
    bool overlay = false;
    if (mkdir(cdir, 0755) < 0) {
        snprintf(err, errlen, "container %s: %s", spec->id, strerror(errno));
        return errno == EEXIST ? PROTO_EEXISTS : -errno;
    }
    s_volume_dirs(spec);
    int rc = s_rootfs(d, cdir, spec->rootfs, &overlay, err, errlen);
    if (rc == 0)
        rc = s_write_config(d, spec, uid, cdir, err, errlen);
    char metap[4096];
    snprintf(metap, sizeof metap, "%s/meta.json", cdir);
    json_t *m = json_pack("{s:s, s:s, s:s, s:b, s:I}", "id", spec->id, "pod_uid", uid, "name",
                          proto_obj_str(spec->container, "name") ?: "", "overlay", overlay,
                          "created", (json_int_t)time(NULL));
    if (rc == 0 && (rc = kubelet_runc_save_json(metap, m)) < 0)
        snprintf(err, errlen, "writing %s: %s", metap, strerror(-rc));
    json_decref(m);
    return rc;
}

int kubelet_runc_container_start_async(kubelet_driver_t *drv, const kl_container_spec_t *spec,
                                       kl_start_t *st, char *err, size_t errlen)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    char cdir[2048], sbx[2048];
    struct stat sb;
    memset(st, 0, sizeof *st);
    st->fd = -1;
    const char *uid = proto_obj_uid(spec->pod);
    if (!kubelet_runc_id_ok(spec->id) || !kubelet_runc_id_ok(uid) || !spec->rootfs ||
        !spec->log_path || !kubelet_runc_path(d, "containers", spec->id, NULL, cdir, sizeof cdir)) {
        snprintf(err, errlen, "container: bad id, pod uid, rootfs or log path");
        return PROTO_EINVALID;
    }
    kubelet_runc_path(d, "sandboxes", uid, "sandbox.json", sbx, sizeof sbx);
    if (stat(sbx, &sb) < 0) {
        snprintf(err, errlen, "the sandbox of pod %s does not exist", uid);
        return PROTO_ENOTFOUND;
    }
    int rc = s_prepare(d, spec, uid, cdir, err, errlen);
    if (rc == PROTO_EEXISTS)
        return rc;
    int log_fd = rc == 0 ? s_open_log(spec->log_path, err, errlen) : rc;
    if (log_fd >= 0) {
        rc = s_launch(d, spec, cdir, log_fd, st);
        close(log_fd);
        if (rc < 0)
            snprintf(err, errlen, "starting the container shim: %s", strerror(-rc));
    } else {
        rc = log_fd;
    }
    if (rc < 0) {
        kubelet_runc_container_remove(drv, spec->id);
        return rc;
    }
    snprintf(st->id, sizeof st->id, "%s", spec->id);
    st->deadline_ms = proto_mono_ms() + S_START_MS;
    return 0;
}

int kubelet_runc_container_start_poll(kubelet_driver_t *drv, kl_start_t *st, int wait_ms,
                                      char *err, size_t errlen)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    char cdir[2048];
    int shim = 0, pid = 0;
    kubelet_runc_path(d, "containers", st->id, NULL, cdir, sizeof cdir);
    int rc = kubelet_runc_shim_read(st->fd, st->buf, sizeof st->buf, &st->used, wait_ms, &shim,
                                    &pid, err, errlen);
    if (rc == -EAGAIN && proto_mono_ms() >= st->deadline_ms) {
        snprintf(err, errlen, "runc create/start did not finish within %d ms", S_START_MS);
        rc = -ETIMEDOUT;
    }
    if (rc == 0)
        s_launched(cdir, shim);
    else if (rc == PROTO_EINTERNAL && strstr(err, "runc "))
        s_runc_error(cdir, err, err, errlen);
    if (rc < 0 && rc != -EAGAIN)
        kubelet_runc_container_remove(drv, st->id);
    return rc;
}

int kubelet_runc_container_start(kubelet_driver_t *drv, const kl_container_spec_t *spec, char *err,
                                 size_t errlen)
{
    char tmp[8];
    kl_start_t st;
    if (!err) {
        err = tmp;
        errlen = sizeof tmp;
    }
    int rc = kubelet_runc_container_start_async(drv, spec, &st, err, errlen);
    if (rc == 0)
        do
            rc = kubelet_runc_container_start_poll(drv, &st, 1000, err, errlen);
        while (rc == -EAGAIN);
    if (st.fd >= 0)
        close(st.fd);
    return rc;
}

/* ---- status --------------------------------------------------------------------- */

/* Fills st from the shim's exit record; false when there is none. */
static bool s_read_exit(const char *cdir, kl_status_t *st)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/exit", cdir);
    FILE *f = fopen(p, "re");
    if (!f)
        return false;
    int code = 0, sig = 0;
    long long fin = 0;
    long oom = 0;
    int n = fscanf(f, "%d %d %lld %ld", &code, &sig, &fin, &oom);
    fclose(f);
    if (n < 3)
        return false;
    st->state = KL_STATE_EXITED;
    st->exit_code = code;
    st->signal = sig;
    st->finished_at = fin;
    snprintf(st->reason, sizeof st->reason, "%s",
             oom > 0     ? "OOMKilled"
             : code == 0 ? "Completed"
                         : "Error");
    return true;
}

int kubelet_runc_container_status(kubelet_driver_t *drv, const char *id, kl_status_t *st)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    char cdir[2048], p[4096];
    memset(st, 0, sizeof *st);
    if (!kubelet_runc_id_ok(id) || !kubelet_runc_path(d, "containers", id, NULL, cdir, sizeof cdir))
        return PROTO_EINVALID;
    snprintf(p, sizeof p, "%s/meta.json", cdir);
    json_t *m = kubelet_runc_load_json(p);
    if (!m)
        return PROTO_ENOTFOUND;
    st->started_at = proto_obj_int(m, "started", 0);
    json_decref(m);
    snprintf(p, sizeof p, "%s/shim.pid", cdir);
    int shim = s_read_int(p);
    snprintf(p, sizeof p, "%s/pid", cdir);
    int pid = s_read_int(p);
    struct stat sb;
    if (!st->started_at && pid > 0 && stat(p, &sb) == 0)
        st->started_at = sb.st_mtime; /* a kubelet died between start and its record */
    /* a dead init the shim has not recorded yet: give it a moment */
    for (int i = 0; i < 40; i++) {
        if (s_read_exit(cdir, st))
            return 0;
        if (s_alive(pid)) {
            st->state = KL_STATE_RUNNING;
            st->pid = pid;
            return 0;
        }
        if (!shim || !s_alive(shim))
            break;
        usleep(5000);
    }
    if (s_read_exit(cdir, st))
        return 0;
    st->state = st->started_at ? KL_STATE_EXITED : KL_STATE_CREATED;
    if (st->started_at) { /* the shim is gone without a record */
        st->exit_code = 255;
        snprintf(st->reason, sizeof st->reason, "Unknown");
    }
    return 0;
}

int kubelet_runc_container_signal(kubelet_driver_t *drv, const char *id, int sig)
{
    kl_status_t st;
    int rc = kubelet_runc_container_status(drv, id, &st);
    if (rc < 0)
        return rc;
    if (st.state != KL_STATE_RUNNING)
        return 0; /* nothing left to signal */
    /* the shim has not reaped it (no exit record), so the pid is still its */
    return kill(st.pid, sig) < 0 && errno != ESRCH ? -errno : 0;
}

/* ---- remove, exec --------------------------------------------------------------- */

int kubelet_runc_container_remove(kubelet_driver_t *drv, const char *id)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    char cdir[2048], root[1100], p[4096];
    struct stat sb;
    if (!kubelet_runc_id_ok(id) || !kubelet_runc_path(d, "containers", id, NULL, cdir, sizeof cdir))
        return PROTO_EINVALID;
    snprintf(root, sizeof root, "%s/runc", d->dir);
    snprintf(p, sizeof p, "%s/%s", root, id);
    bool known = stat(p, &sb) == 0;
    if (!known && stat(cdir, &sb) < 0)
        return 0; /* neither runc nor we know it: nothing to do, and quickly */
    char *const del[] = {d->runc, "--root", root, "delete", "--force", (char *)id, NULL};
    if (known)
        kubelet_runc_cmd(del, NULL, NULL, S_RUNC_MS, NULL, 0, NULL);
    snprintf(p, sizeof p, "%s/shim.pid", cdir);
    int shim = s_read_int(p);
    int64_t deadline = proto_mono_ms() + 3000;
    while (s_alive(shim) && proto_mono_ms() < deadline)
        usleep(2000);
    if (stat(cdir, &sb) < 0)
        return 0;
    s_unmount_rootfs(cdir);
    int rc = kubelet_runc_rmtree(cdir);
    return rc;
}

static int s_exec_argv(kl_runc_t *d, const char *id, const char *pidf, char *const argv[],
                       char *root, char **out, size_t max)
{
    size_t n = 0;
    char *head[] = {d->runc, "--root", root, "exec", "--pid-file", (char *)pidf, (char *)id};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        out[n++] = head[i];
    for (size_t i = 0; argv[i]; i++) {
        if (n + 1 >= max || (i == 0 && argv[0][0] == '-'))
            return -E2BIG;
        out[n++] = argv[i];
    }
    out[n] = NULL;
    return 0;
}

int kubelet_runc_container_exec(kubelet_driver_t *drv, const char *id, char *const argv[],
                                int timeout_ms, int *exit_code, char *output, size_t outlen)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    kl_status_t st;
    char cdir[2048], pidf[4096], root[1100];
    char *full[S_MAX_EXEC_ARGS + 8];
    if (!argv || !argv[0])
        return PROTO_EINVALID;
    int rc = kubelet_runc_container_status(drv, id, &st);
    if (rc < 0)
        return rc;
    if (st.state != KL_STATE_RUNNING)
        return -ESRCH;
    kubelet_runc_path(d, "containers", id, NULL, cdir, sizeof cdir);
    snprintf(pidf, sizeof pidf, "%s/exec.%d.%lld.pid", cdir, (int)getpid(),
             (long long)proto_mono_ms());
    snprintf(root, sizeof root, "%s/runc", d->dir);
    if (s_exec_argv(d, id, pidf, argv, root, full, sizeof full / sizeof full[0]) < 0)
        return PROTO_EINVALID;
    int status = 0;
    rc = kubelet_runc_cmd(full, NULL, NULL, timeout_ms > 0 ? timeout_ms : 10000, output, outlen,
                          &status);
    if (rc == -ETIMEDOUT) {
        int pid = s_read_int(pidf);
        if (pid > 0)
            kill(pid, SIGKILL);
    }
    unlink(pidf);
    if (rc == -ETIMEDOUT)
        return PROTO_ETIMEOUT;
    if (rc < 0 && rc != -EIO)
        return rc;
    if (exit_code)
        *exit_code = status;
    return 0;
}

int kubelet_runc_container_exec_start(kubelet_driver_t *drv, const char *id, char *const argv[],
                                      const int fds[3], bool tty, kl_exec_t *x, char *err,
                                      size_t errlen)
{
    static unsigned s_seq;
    kl_runc_t *d = (kl_runc_t *)drv;
    kl_status_t st;
    char cdir[2048], root[1100];
    char *full[S_MAX_EXEC_ARGS + 10];
    *x = (kl_exec_t){.pid = -1};
    if (!argv || !argv[0])
        return PROTO_EINVALID;
    int rc = kubelet_runc_container_status(drv, id, &st);
    if (rc < 0 || st.state != KL_STATE_RUNNING) {
        snprintf(err, errlen, "container is not running");
        return rc < 0 ? rc : -ESRCH;
    }
    kubelet_runc_path(d, "containers", id, NULL, cdir, sizeof cdir);
    snprintf(x->pidfile, sizeof x->pidfile, "%s/exec.%d.%u.pid", cdir, (int)getpid(), ++s_seq);
    snprintf(root, sizeof root, "%s/runc", d->dir);
    if (s_exec_argv(d, id, x->pidfile, argv, root, full + 1, sizeof full / sizeof full[0] - 1) <
        0) {
        snprintf(err, errlen, "the command is too long");
        return PROTO_EINVALID;
    }
    char **args = full + 1;
    if (tty) { /* `runc exec --tty`: runc relays between our terminal and the container's */
        full[0] = full[1];
        full[1] = full[2];
        full[2] = full[3];
        full[3] = full[4];
        full[4] = "--tty";
        args = full;
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (kl_exec_child_setup(fds, tty) == 0)
            execvp(args[0], args);
        _exit(127);
    }
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -errno;
    }
    x->pid = pid;
    x->group = true;
    return 0;
}
