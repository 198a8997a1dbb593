/*
 * actors/kubelet/driver_runc — the runc driver (driver.h): real OCI
 * containers driven with `runc`, pods in their own network, IPC and UTS
 * namespaces. This half holds the constructor, the pod sandbox and the
 * listing used for adoption; runc_container.c holds the containers.
 *
 * A sandbox is three namespace files bind-mounted under
 * state_dir/sandboxes/<pod uid>/ns/ (made by a short-lived child that
 * unshares them, as `ip netns add` does) — no long-lived pause process is
 * needed, and a restarted kubelet finds them again by path. Its network:
 * an address from the node's pod CIDR (IPAM files), a veth to the node
 * bridge (net.c). Everything is undone by sandbox_remove.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/runc_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

static const char *const s_ns_names[] = {"net", "ipc", "uts"};

/* ---- helpers shared with runc_container.c ------------------------------------- */

bool kubelet_runc_path(const kl_runc_t *d, const char *sub, const char *name, const char *file,
                       char *buf, size_t n)
{
    int w = file ? snprintf(buf, n, "%s/%s/%s/%s", d->dir, sub, name, file)
                 : snprintf(buf, n, "%s/%s/%s", d->dir, sub, name);
    return w > 0 && (size_t)w < n;
}

bool kubelet_runc_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 200 || !strcmp(id, ".") || !strcmp(id, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

int kubelet_runc_save_json(const char *path, const json_t *obj)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(obj, tmp, JSON_COMPACT) < 0)
        return -EIO;
    return rename(tmp, path) < 0 ? -errno : 0;
}

json_t *kubelet_runc_load_json(const char *path)
{
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int s_mkdir(const char *p)
{
    return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* ---- namespaces ---------------------------------------------------------------- */

/* Child: unshares the namespaces and pins them to the files. Never returns. */
static void s_ns_child(const char *nsdir, bool hostnet, const char *hostname)
{
    int flags = CLONE_NEWIPC | CLONE_NEWUTS | (hostnet ? 0 : CLONE_NEWNET);
    if (unshare(flags) < 0)
        _exit(10);
    if (sethostname(hostname, strlen(hostname)) < 0)
        _exit(11);
    for (int i = hostnet ? 1 : 0; i < 3; i++) {
        char src[64], dst[4096];
        snprintf(src, sizeof src, "/proc/self/ns/%s", s_ns_names[i]);
        snprintf(dst, sizeof dst, "%s/%s", nsdir, s_ns_names[i]);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
            _exit(12 + i);
    }
    _exit(0);
}

static void s_ns_release(const char *nsdir)
{
    for (int i = 0; i < 3; i++) {
        char f[4096];
        snprintf(f, sizeof f, "%s/%s", nsdir, s_ns_names[i]);
        while (umount2(f, MNT_DETACH) == 0)
            ;
        unlink(f);
    }
    rmdir(nsdir);
}

static int s_ns_create(const char *nsdir, bool hostnet, const char *hostname, char *err,
                       size_t errlen)
{
    if (s_mkdir(nsdir) < 0)
        return -errno;
    for (int i = 0; i < 3; i++) {
        char f[4096];
        snprintf(f, sizeof f, "%s/%s", nsdir, s_ns_names[i]);
        int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd < 0)
            return -errno;
        close(fd);
    }
    pid_t p = fork();
    if (p == 0)
        s_ns_child(nsdir, hostnet, hostname);
    if (p < 0)
        return -errno;
    int st = 0;
    while (waitpid(p, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    snprintf(err, errlen, "creating the pod namespaces failed (step %d)",
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    s_ns_release(nsdir);
    return PROTO_EINTERNAL;
}

/* ---- sandbox ------------------------------------------------------------------- */

static int s_node_up(kl_runc_t *d, char *err, size_t errlen)
{
    return kubelet_net_node_up(d->ip, d->bridge, &d->pod, &d->cluster, err, errlen);
}

/* Tears down whatever exists of a sandbox. */
static void s_sandbox_teardown(kl_runc_t *d, const char *uid)
{
    char p[2048], ipam[1100];
    uint32_t ip;
    snprintf(ipam, sizeof ipam, "%s/ipam", d->dir);
    if (kubelet_ipam_find(ipam, uid, &ip) == 0) {
        char veth[16];
        kubelet_net_veth_name(d->tag, ip, veth);
        kubelet_net_pod_down(d->ip, veth);
    }
    if (kubelet_runc_path(d, "sandboxes", uid, "ns", p, sizeof p))
        s_ns_release(p);
    kubelet_ipam_release(ipam, uid);
    kubelet_cg_remove(d->tag, uid);
    if (kubelet_runc_path(d, "sandboxes", uid, NULL, p, sizeof p))
        kubelet_runc_rmtree(p);
}

static int s_sandbox_net(kl_runc_t *d, const char *uid, const char *nsdir, uint32_t *ip, char *err,
                         size_t errlen)
{
    char ipam[1100], netns[4096], veth[16];
    int rc = s_node_up(d, err, errlen);
    if (rc < 0)
        return rc;
    snprintf(ipam, sizeof ipam, "%s/ipam", d->dir);
    rc = kubelet_ipam_alloc(ipam, &d->pod, uid, ip);
    if (rc < 0) {
        snprintf(err, errlen, "no pod IP left in %s: %s", d->node, proto_strerror(rc));
        return rc;
    }
    snprintf(netns, sizeof netns, "%s/net", nsdir);
    kubelet_net_veth_name(d->tag, *ip, veth);
    return kubelet_net_pod_up(d->ip, netns, d->bridge, veth, &d->pod, *ip, err, errlen);
}

static int s_sandbox_build(kl_runc_t *d, const json_t *pod, const char *uid, char *ip, char *err,
                           size_t errlen)
{
    char dir[2048], nsdir[2048], file[2048];
    bool hostnet = json_is_true(proto_obj_get(pod, "spec.hostNetwork"));
    const char *name = proto_obj_name(pod);
    if (!kubelet_runc_path(d, "sandboxes", uid, NULL, dir, sizeof dir) ||
        !kubelet_runc_path(d, "sandboxes", uid, "ns", nsdir, sizeof nsdir) ||
        !kubelet_runc_path(d, "sandboxes", uid, "sandbox.json", file, sizeof file))
        return -ENAMETOOLONG;
    int rc = s_mkdir(dir);
    if (rc == 0)
        rc = s_ns_create(nsdir, hostnet, hostnet ? d->node : (name ? name : "pod"), err, errlen);
    uint32_t addr = 0;
    ip[0] = 0;
    if (rc == 0 && !hostnet && (rc = s_sandbox_net(d, uid, nsdir, &addr, err, errlen)) == 0)
        kubelet_net_ntoa(addr, ip);
    if (rc == 0) {
        json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "pod_uid", uid, "name",
                              name ? name : "", "namespace", proto_obj_ns(pod) ?: "", "ip", ip,
                              "hostNetwork", hostnet, "created", (json_int_t)time(NULL));
        rc = kubelet_runc_save_json(file, s);
        json_decref(s);
    }
    return rc;
}

/* True when the sandbox's namespace files are still mounted nsfs files. */
static bool s_ns_pinned(kl_runc_t *d, const char *uid, bool hostnet)
{
    char nsdir[2048], f[4096];
    if (!kubelet_runc_path(d, "sandboxes", uid, "ns", nsdir, sizeof nsdir))
        return false;
    for (int i = hostnet ? 1 : 0; i < 3; i++) {
        struct statfs sf;
        snprintf(f, sizeof f, "%s/%s", nsdir, s_ns_names[i]);
        if (statfs(f, &sf) < 0 || sf.f_type != NSFS_MAGIC)
            return false;
    }
    return true;
}

static int s_sandbox_create(kubelet_driver_t *drv, const json_t *pod, char *ip, char *err,
                            size_t errlen)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    char tmp[8];
    if (!err) {
        err = tmp;
        errlen = sizeof tmp;
    }
    const char *uid = proto_obj_uid(pod);
    if (!kubelet_runc_id_ok(uid)) {
        snprintf(err, errlen, "pod has no usable metadata.uid");
        return PROTO_EINVALID;
    }
    char file[2048];
    kubelet_runc_path(d, "sandboxes", uid, "sandbox.json", file, sizeof file);
    json_t *have = kubelet_runc_load_json(file);
    if (have && !s_ns_pinned(d, uid, json_is_true(json_object_get(have, "hostNetwork")))) {
        /* its namespaces are gone (a reboot): build it again */
        json_decref(have);
        have = NULL;
        s_sandbox_teardown(d, uid);
    }
    if (have) {
        snprintf(ip, 64, "%s", proto_obj_str(have, "ip") ?: "");
        json_decref(have);
        return 0;
    }
    s_sandbox_teardown(d, uid); /* the remains of a build cut short by a crash */
    int rc = s_sandbox_build(d, pod, uid, ip, err, errlen);
    if (rc < 0)
        s_sandbox_teardown(d, uid);
    return rc;
}

/* The ids of the containers of a pod (all when uid is NULL). New array. */
static json_t *s_container_ids(kl_runc_t *d, const char *uid)
{
    json_t *ids = json_array();
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/containers", d->dir);
    DIR *dp = opendir(dir);
    struct dirent *e;
    while (dp && (e = readdir(dp))) {
        char meta[2048];
        if (!kubelet_runc_id_ok(e->d_name) ||
            !kubelet_runc_path(d, "containers", e->d_name, "meta.json", meta, sizeof meta))
            continue;
        json_t *m = kubelet_runc_load_json(meta);
        const char *pu = proto_obj_str(m, "pod_uid");
        if (!uid || (pu && !strcmp(pu, uid)) || (!m && !uid))
            json_array_append_new(ids, json_string(e->d_name));
        json_decref(m);
    }
    if (dp)
        closedir(dp);
    return ids;
}

static int s_sandbox_remove(kubelet_driver_t *drv, const char *pod_uid)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    if (!kubelet_runc_id_ok(pod_uid))
        return PROTO_EINVALID;
    json_t *ids = s_container_ids(d, pod_uid), *v;
    size_t i;
    json_array_foreach(ids, i, v) kubelet_runc_container_remove(drv, json_string_value(v));
    json_decref(ids);
    s_sandbox_teardown(d, pod_uid);
    return 0;
}

/* ---- list ---------------------------------------------------------------------- */

static void s_list_sandboxes(kl_runc_t *d, json_t *out)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/sandboxes", d->dir);
    DIR *dp = opendir(dir);
    struct dirent *e;
    while (dp && (e = readdir(dp))) {
        char file[2048];
        if (!kubelet_runc_id_ok(e->d_name) ||
            !kubelet_runc_path(d, "sandboxes", e->d_name, "sandbox.json", file, sizeof file))
            continue;
        json_t *s = kubelet_runc_load_json(file);
        if (s)
            json_array_append_new(out, json_pack("{s:s, s:s}", "pod_uid", e->d_name, "ip",
                                                 proto_obj_str(s, "ip") ?: ""));
        json_decref(s);
    }
    if (dp)
        closedir(dp);
}

static int s_list(kubelet_driver_t *drv, json_t **out)
{
    kl_runc_t *d = (kl_runc_t *)drv;
    json_t *cs = json_array(), *ss = json_array(), *ids = s_container_ids(d, NULL), *v;
    size_t i;
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        char meta[2048];
        kubelet_runc_path(d, "containers", id, "meta.json", meta, sizeof meta);
        json_t *m = kubelet_runc_load_json(meta);
        kl_status_t st;
        if (kubelet_runc_container_status(drv, id, &st) < 0)
            st.state = KL_STATE_UNKNOWN;
        json_array_append_new(cs, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "pod_uid",
                                            proto_obj_str(m, "pod_uid") ?: "", "name",
                                            proto_obj_str(m, "name") ?: "", "state",
                                            kubelet_runc_state_name(st.state)));
        json_decref(m);
    }
    json_decref(ids);
    s_list_sandboxes(d, ss);
    *out = json_pack("{s:o, s:o}", "containers", cs, "sandboxes", ss);
    return 0;
}

static void s_destroy(kubelet_driver_t **drv)
{
    if (!drv || !*drv)
        return;
    free(*drv);
    *drv = NULL;
}

static const kubelet_driver_ops_t s_ops = {
    .name = "runc",
    .sandbox_create = s_sandbox_create,
    .sandbox_remove = s_sandbox_remove,
    .container_start = kubelet_runc_container_start,
    .container_start_async = kubelet_runc_container_start_async,
    .container_start_poll = kubelet_runc_container_start_poll,
    .container_status = kubelet_runc_container_status,
    .container_signal = kubelet_runc_container_signal,
    .container_remove = kubelet_runc_container_remove,
    .container_exec = kubelet_runc_container_exec,
    .container_exec_start = kubelet_runc_container_exec_start,
    .list = s_list,
    .destroy = s_destroy,
};

/* ---- constructor --------------------------------------------------------------- */

/* NOFILE for containers: 1048576 as containerd gives, but never above the
 * kubelet's own hard limit (raising it needs CAP_SYS_RESOURCE, which a
 * kubelet in a container may lack). */
static long s_nofile(void)
{
    long v = 1048576;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < v)
        v = (long)rl.rlim_max;
    return v;
}

static int s_check_cfg(const kl_driver_config_t *cfg, kl_runc_t *d, char *err, size_t errlen)
{
    if (!cfg || !cfg->state_dir || !cfg->node || !cfg->cluster_tag || !*cfg->cluster_tag ||
        strlen(cfg->state_dir) > 900 || strlen(cfg->node) >= sizeof d->node ||
        strlen(cfg->cluster_tag) >= sizeof d->tag || strchr(cfg->cluster_tag, '/')) {
        snprintf(err, errlen, "runc driver: node, state_dir and cluster_tag are required");
        return PROTO_EINVALID;
    }
    if (kubelet_net_parse_cidr(cfg->pod_cidr, &d->pod) < 0 || d->pod.prefix > 30 ||
        d->pod.prefix < 8 || kubelet_net_parse_cidr(cfg->cluster_cidr, &d->cluster) < 0) {
        snprintf(err, errlen, "runc driver: bad pod CIDR \"%s\" or cluster CIDR \"%s\"",
                 cfg->pod_cidr ?: "", cfg->cluster_cidr ?: "");
        return PROTO_EINVALID;
    }
    if (geteuid() != 0) {
        snprintf(err, errlen, "runc driver: needs root");
        return -EPERM;
    }
    if (kubelet_runc_which("runc", d->runc, sizeof d->runc) < 0 ||
        kubelet_runc_which("ip", d->ip, sizeof d->ip) < 0) {
        snprintf(err, errlen, "runc driver: `runc` and `ip` (iproute2) must be installed");
        return -ENOENT;
    }
    return 0;
}

int kubelet_driver_runc(kubelet_driver_t **out, const kl_driver_config_t *cfg, char *err,
                        size_t errlen)
{
    char tmp[8];
    if (!err) {
        err = tmp;
        errlen = sizeof tmp;
    }
    kl_runc_t *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    int rc = s_check_cfg(cfg, d, err, errlen);
    if (rc < 0) {
        free(d);
        return rc;
    }
    d->base.ops = &s_ops;
    snprintf(d->node, sizeof d->node, "%s", cfg->node);
    snprintf(d->dir, sizeof d->dir, "%s", cfg->state_dir);
    snprintf(d->tag, sizeof d->tag, "%s", cfg->cluster_tag);
    kubelet_net_bridge_name(d->tag, &d->pod, d->bridge);
    d->nofile = s_nofile();
    const char *subs[] = {"", "/runc", "/ipam", "/sandboxes", "/containers"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0] && rc == 0; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s%s", d->dir, subs[i]);
        if ((rc = s_mkdir(p)) < 0)
            snprintf(err, errlen, "runc driver: mkdir %s: %s", p, strerror(-rc));
    }
    if (rc < 0) {
        free(d);
        return rc;
    }
    *out = &d->base;
    return 0;
}

/* Containers runc knows that have no bundle of ours left (a crash between
 * the two): `runc list -q`, then delete each. */
static void s_delete_runc_leftovers(kl_runc_t *d)
{
    char root[1100], out[16384];
    snprintf(root, sizeof root, "%s/runc", d->dir);
    char *const list[] = {d->runc, "--root", root, "list", "-q", NULL};
    if (kubelet_runc_cmd(list, NULL, NULL, 10000, out, sizeof out, NULL) < 0)
        return;
    char *save = NULL;
    for (char *id = strtok_r(out, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
        if (!kubelet_runc_id_ok(id))
            continue;
        char *const del[] = {d->runc, "--root", root, "delete", "--force", id, NULL};
        kubelet_runc_cmd(del, NULL, NULL, 10000, NULL, 0, NULL);
    }
}

int kubelet_runc_cleanup(const kl_driver_config_t *cfg, char *err, size_t errlen)
{
    kubelet_driver_t *drv = NULL;
    int rc = kubelet_driver_runc(&drv, cfg, err, errlen);
    if (rc < 0)
        return rc;
    kl_runc_t *d = (kl_runc_t *)drv;
    json_t *ids = s_container_ids(d, NULL), *v, *list = NULL;
    size_t i;
    json_array_foreach(ids, i, v) kubelet_runc_container_remove(drv, json_string_value(v));
    json_decref(ids);
    s_list(drv, &list);
    json_array_foreach(json_object_get(list, "sandboxes"), i, v)
        s_sandbox_remove(drv, proto_obj_str(v, "pod_uid"));
    json_decref(list);
    s_delete_runc_leftovers(d);
    kubelet_net_node_down(d->ip, d->bridge, &d->cluster);
    rc = kubelet_cg_remove(d->tag, NULL);
    const char *subs[] = {"runc", "ipam", "sandboxes", "containers"};
    for (size_t k = 0; k < 4; k++) {
        char p[1100];
        snprintf(p, sizeof p, "%s/%s", d->dir, subs[k]);
        int r = kubelet_runc_rmtree(p);
        if (r < 0 && rc == 0)
            rc = r;
    }
    if (rc < 0 && err)
        snprintf(err, errlen, "runc driver cleanup: %s", strerror(-rc));
    s_destroy(&drv);
    return rc;
}
