/*
 * actors/kubelet/oci — the OCI runtime config (config.json) of one
 * container, from its Pod spec and image config: process (args as
 * Kubernetes combines command/args with the image's entrypoint/cmd, env,
 * workingDir, user, capabilities, NOFILE), root, hostname, mounts (/proc,
 * /dev, /sys ro, /etc/hosts, /etc/resolv.conf, volumeMounts), namespaces
 * (pid, mount, cgroup new; network, IPC, UTS joined from the pod sandbox),
 * cgroupsPath and resources from resources.limits/requests. Pure: no
 * system calls, so it is unit-tested on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/kubelet/runc.h"
#include "protocol/obj.h"
#include "protocol/quantity.h"
#include "protocol/status.h"

#define S_MAX_ARGS 4096
#define S_MAX_ARG_LEN (128 * 1024)

static const char *const s_default_caps[] = {"CAP_CHOWN",
                                             "CAP_DAC_OVERRIDE",
                                             "CAP_FSETID",
                                             "CAP_FOWNER",
                                             "CAP_MKNOD",
                                             "CAP_NET_RAW",
                                             "CAP_SETGID",
                                             "CAP_SETUID",
                                             "CAP_SETFCAP",
                                             "CAP_SETPCAP",
                                             "CAP_NET_BIND_SERVICE",
                                             "CAP_SYS_CHROOT",
                                             "CAP_KILL",
                                             "CAP_AUDIT_WRITE",
                                             NULL};

static const char *const s_masked[] = {"/proc/acpi",
                                       "/proc/asound",
                                       "/proc/kcore",
                                       "/proc/keys",
                                       "/proc/latency_stats",
                                       "/proc/timer_list",
                                       "/proc/timer_stats",
                                       "/proc/sched_debug",
                                       "/proc/scsi",
                                       "/sys/firmware",
                                       NULL};

static const char *const s_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

static json_t *s_strings(const char *const *v)
{
    json_t *a = json_array();
    for (; *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

/* ---- args ------------------------------------------------------------------- */

/* The value of NAME (len n) in env, or NULL. */
static const char *s_env_lookup(char *const *env, const char *name, size_t n)
{
    for (; env && *env; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

/* Kubernetes' $(VAR) expansion: $(NAME) → value when defined (else kept),
 * $$ → $. NULL when the result would exceed the limit. */
static json_t *s_expand(const char *s, char *const *env)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (const char *p = s; *p; p++) {
        if (p[0] == '$' && p[1] == '$') {
            fputc('$', f);
            p++;
        } else if (p[0] == '$' && p[1] == '(' && strchr(p + 2, ')')) {
            const char *name = p + 2, *close = strchr(name, ')');
            const char *v = s_env_lookup(env, name, (size_t)(close - name));
            if (v)
                fputs(v, f);
            else
                fwrite(p, 1, (size_t)(close - p + 1), f);
            p = close;
        } else {
            fputc(*p, f);
        }
    }
    fclose(f);
    json_t *out = len <= S_MAX_ARG_LEN ? json_string(buf) : NULL;
    free(buf);
    return out;
}

/* Appends the strings of arr (expanding when env) to out; -1 on bad input. */
static int s_append(json_t *out, const json_t *arr, char *const *env, bool expand)
{
    size_t i;
    json_t *v;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return -1;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || json_array_size(out) >= S_MAX_ARGS)
            return -1;
        json_t *s = expand ? s_expand(json_string_value(v), env) : json_incref(v);
        if (!s)
            return -1;
        json_array_append_new(out, s);
    }
    return 0;
}

static bool s_nonempty(const json_t *a)
{
    return json_is_array(a) && json_array_size(a) > 0;
}

int kubelet_oci_args(const json_t *container, const json_t *image_config, char *const *env,
                     json_t **out, char *err, size_t errlen)
{
    const json_t *cmd = json_object_get(container, "command");
    const json_t *args = json_object_get(container, "args");
    const json_t *ient = image_config ? json_object_get(image_config, "entrypoint") : NULL;
    const json_t *icmd = image_config ? json_object_get(image_config, "cmd") : NULL;
    json_t *a = json_array();
    int rc = 0;
    if (s_nonempty(cmd)) {
        rc |= s_append(a, cmd, env, true);
        rc |= s_append(a, args, env, true);
    } else {
        rc |= s_append(a, ient, env, false);
        rc |= s_append(a, s_nonempty(args) ? args : icmd, env, s_nonempty(args));
    }
    if (rc == 0 && json_array_size(a) == 0) {
        snprintf(err, errlen, "no command specified (neither the container nor its image has one)");
        rc = -1;
    } else if (rc) {
        snprintf(err, errlen, "command/args: not a list of strings, or too long");
    }
    if (rc) {
        json_decref(a);
        return PROTO_EINVALID;
    }
    *out = a;
    return 0;
}

/* ---- env -------------------------------------------------------------------- */

/* Sets "K=V" in the env array, replacing an earlier K. */
static void s_env_set(json_t *arr, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return;
    size_t n = (size_t)(eq - kv) + 1, i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strncmp(json_string_value(v), kv, n) == 0) {
            json_array_set_new(arr, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(arr, json_string(kv));
}

/* PATH default, the image's env, HOSTNAME, then the container's. */
static json_t *s_env(const kl_container_spec_t *s, const char *hostname)
{
    json_t *e = json_array(), *v;
    size_t i;
    s_env_set(e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    const json_t *ie = s->image_config ? json_object_get(s->image_config, "env") : NULL;
    json_array_foreach(ie, i, v)
    {
        if (json_is_string(v))
            s_env_set(e, json_string_value(v));
    }
    const char *pod = hostname ? hostname : proto_obj_name(s->pod);
    if (pod) {
        char h[300];
        snprintf(h, sizeof h, "HOSTNAME=%s", pod);
        s_env_set(e, h);
    }
    for (char *const *p = s->env; p && *p; p++)
        s_env_set(e, *p);
    return e;
}

/* ---- process ---------------------------------------------------------------- */

/* The default capabilities with securityContext.capabilities add/drop. */
static json_t *s_caps(const json_t *container)
{
    json_t *caps = s_strings(s_default_caps), *v;
    const json_t *sc = json_object_get(container, "securityContext");
    bool priv = json_is_true(json_object_get(sc, "privileged"));
    const json_t *add = proto_obj_get(sc, "capabilities.add");
    const json_t *drop = proto_obj_get(sc, "capabilities.drop");
    size_t i;
    json_array_foreach(add, i, v)
    {
        char c[64];
        if (!json_is_string(v))
            continue;
        const char *n = json_string_value(v);
        snprintf(c, sizeof c, "%s%s", strncmp(n, "CAP_", 4) ? "CAP_" : "", n);
        bool have = false;
        for (size_t j = 0; j < json_array_size(caps) && !have; j++)
            have = !strcmp(json_string_value(json_array_get(caps, j)), c);
        if (!have)
            json_array_append_new(caps, json_string(c));
    }
    if (priv)
        json_array_append_new(caps, json_string("CAP_SYS_ADMIN"));
    json_array_foreach(drop, i, v)
    {
        const char *n = json_string_value(v);
        if (!n)
            continue;
        for (size_t j = json_array_size(caps); j-- > 0;) {
            const char *c = json_string_value(json_array_get(caps, j));
            if (!strcasecmp(n, "ALL") || !strcmp(c + 4, n) || !strcmp(c, n))
                json_array_remove(caps, j);
        }
    }
    return caps;
}

static json_t *s_process(const kl_oci_in_t *in, json_t *args)
{
    const json_t *c = in->spec->container;
    const char *cwd = proto_obj_str(c, "workingDir");
    if (!cwd || !*cwd)
        cwd = in->spec->image_config ? proto_obj_str(in->spec->image_config, "workdir") : NULL;
    if (!cwd || cwd[0] != '/')
        cwd = "/";
    int64_t uid = proto_obj_int(c, "securityContext.runAsUser",
                                proto_obj_int(in->spec->pod, "spec.securityContext.runAsUser", 0));
    int64_t gid = proto_obj_int(c, "securityContext.runAsGroup",
                                proto_obj_int(in->spec->pod, "spec.securityContext.runAsGroup", 0));
    json_t *caps = s_caps(c);
    json_t *p =
        json_pack("{s:b, s:{s:I, s:I}, s:o, s:o, s:s, s:{s:O, s:O, s:O}, s:[{s:s, s:I, s:I}]}",
                  "terminal", 0, "user", "uid", (json_int_t)uid, "gid", (json_int_t)gid, "args",
                  args, "env", s_env(in->spec, in->hostname), "cwd", cwd, "capabilities",
                  "bounding", caps, "effective", caps, "permitted", caps, "rlimits", "type",
                  "RLIMIT_NOFILE", "hard", (json_int_t)in->nofile, "soft", (json_int_t)in->nofile);
    json_decref(caps);
    return p;
}

/* ---- mounts ----------------------------------------------------------------- */

static void s_mount(json_t *m, const char *dst, const char *type, const char *src, const char *opts)
{
    json_t *o = json_array();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", opts);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(o, json_string(t));
    json_array_append_new(m, json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type,
                                       "source", src, "options", o));
}

/* A path inside a container or volume: absolute (or relative for subPath),
 * no "..", bounded. */
static bool s_path_ok(const char *p, bool absolute)
{
    if (!p || !*p || strlen(p) > 1024 || (absolute && p[0] != '/') || (!absolute && p[0] == '/'))
        return false;
    for (const char *q = p; (q = strstr(q, "..")); q += 2)
        if ((q == p || q[-1] == '/') && (q[2] == 0 || q[2] == '/'))
            return false;
    return true;
}

static const json_t *s_find_volume(const json_t *pod, const char *name)
{
    const json_t *vols = proto_obj_get(pod, "spec.volumes"), *v;
    size_t i;
    json_array_foreach(vols, i, v)
    {
        const char *n = proto_obj_str(v, "name");
        if (n && strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

/* The host directory backing a volume (hostPath as is, others under volumes_dir). */
static int s_volume_source(const kl_container_spec_t *s, const json_t *vol, char *out, size_t n)
{
    const char *name = proto_obj_str(vol, "name");
    const char *hp = proto_obj_str(vol, "hostPath.path");
    if (hp) {
        if (!s_path_ok(hp, true))
            return -1;
        snprintf(out, n, "%s", hp);
        return 0;
    }
    const char *kind = NULL;
    const char *kinds[] = {"emptyDir",    "configMap", "secret",
                           "downwardAPI", "projected", "persistentVolumeClaim",
                           "gitRepo",     NULL};
    for (int i = 0; kinds[i] && !kind; i++)
        if (json_object_get(vol, kinds[i]))
            kind = kinds[i];
    if (!kind || !s->volumes_dir || !s_path_ok(name, false) || strchr(name, '/'))
        return -1;
    snprintf(out, n, "%s/%s/%s", s->volumes_dir, kind, name);
    return 0;
}

static int s_volume_mounts(json_t *m, const kl_container_spec_t *s, char *err, size_t errlen)
{
    const json_t *vms = json_object_get(s->container, "volumeMounts"), *vm;
    size_t i;
    json_array_foreach(vms, i, vm)
    {
        const char *name = proto_obj_str(vm, "name"), *dst = proto_obj_str(vm, "mountPath");
        const char *sub = proto_obj_str(vm, "subPath");
        const json_t *vol = name ? s_find_volume(s->pod, name) : NULL;
        char src[4096];
        if (!vol || !s_path_ok(dst, true) || (sub && *sub && !s_path_ok(sub, false)) ||
            s_volume_source(s, vol, src, sizeof src) < 0) {
            snprintf(err, errlen, "volumeMounts[%zu] (%s): unknown volume or bad path", i,
                     name ? name : "?");
            return PROTO_EINVALID;
        }
        if (sub && *sub && strlen(src) + strlen(sub) + 2 < sizeof src)
            strcat(strcat(src, "/"), sub);
        bool ro = json_is_true(json_object_get(vm, "readOnly"));
        s_mount(m, dst, "bind", src, ro ? "rbind,rprivate,ro" : "rbind,rprivate");
    }
    return 0;
}

static json_t *s_mounts(const kl_oci_in_t *in, char *err, size_t errlen)
{
    json_t *m = json_array();
    s_mount(m, "/proc", "proc", "proc", "nosuid,noexec,nodev");
    s_mount(m, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
    s_mount(m, "/dev/pts", "devpts", "devpts",
            "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
    s_mount(m, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
    s_mount(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
    s_mount(m, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
    s_mount(m, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro");
    if (in->spec->hosts_path)
        s_mount(m, "/etc/hosts", "bind", in->spec->hosts_path, "rbind,rprivate,ro");
    if (in->spec->resolv_path)
        s_mount(m, "/etc/resolv.conf", "bind", in->spec->resolv_path, "rbind,rprivate,ro");
    if (s_volume_mounts(m, in->spec, err, errlen) < 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

/* ---- linux ------------------------------------------------------------------ */

/* A quantity at resources.<which>.<name>: 0 absent, 1 set, -1 invalid. */
static int s_qty(const json_t *c, const char *path, proto_qty_t *q)
{
    const json_t *v = proto_obj_get(c, path);
    if (!v)
        return 0;
    char buf[64];
    if (json_is_string(v))
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else
        return -1;
    return proto_qty_parse(buf, q) == 0 ? 1 : -1;
}

static json_t *s_resources(const json_t *c, char *err, size_t errlen)
{
    proto_qty_t cpu, mem, req;
    int hc = s_qty(c, "resources.limits.cpu", &cpu), hm = s_qty(c, "resources.limits.memory", &mem);
    int hr = s_qty(c, "resources.requests.cpu", &req);
    if (hc < 0 || hm < 0 || hr < 0) {
        snprintf(err, errlen, "resources: invalid quantity");
        return NULL;
    }
    json_t *r = json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm");
    json_t *cpuj = json_object();
    if (hc > 0) {
        int64_t quota = proto_qty_milli(&cpu) * 100; /* period 100 ms: 1 cpu = 100000 µs */
        json_object_set_new(cpuj, "quota", json_integer(quota < 1000 ? 1000 : quota));
        json_object_set_new(cpuj, "period", json_integer(100000));
    }
    if (hr > 0 || hc > 0) {
        int64_t shares = proto_qty_milli(hr > 0 ? &req : &cpu) * 1024 / 1000;
        json_object_set_new(cpuj, "shares", json_integer(shares < 2 ? 2 : shares));
    }
    if (json_object_size(cpuj))
        json_object_set_new(r, "cpu", cpuj);
    else
        json_decref(cpuj);
    if (hm > 0) {
        int64_t lim = proto_qty_value(&mem);
        json_object_set_new(r, "memory",
                            json_pack("{s:I}", "limit", (json_int_t)(lim < 4096 ? 4096 : lim)));
    }
    return r;
}

static void s_ns(json_t *a, const char *type, const char *path)
{
    json_t *n = json_pack("{s:s}", "type", type);
    if (path)
        json_object_set_new(n, "path", json_string(path));
    json_array_append_new(a, n);
}

static json_t *s_linux(const kl_oci_in_t *in, char *err, size_t errlen)
{
    json_t *res = s_resources(in->spec->container, err, errlen);
    if (!res)
        return NULL;
    json_t *ns = json_array();
    s_ns(ns, "pid", NULL);
    s_ns(ns, "mount", NULL);
    s_ns(ns, "cgroup", NULL);
    if (in->netns)
        s_ns(ns, "network", in->netns);
    s_ns(ns, "ipc", in->ipcns);
    s_ns(ns, "uts", in->utsns);
    return json_pack("{s:o, s:s, s:o, s:o, s:o}", "namespaces", ns, "cgroupsPath", in->cgroups_path,
                     "resources", res, "maskedPaths", s_strings(s_masked), "readonlyPaths",
                     s_strings(s_readonly));
}

int kubelet_oci_config(const kl_oci_in_t *in, json_t **out, char *err, size_t errlen)
{
    const kl_container_spec_t *s = in->spec;
    json_t *args = NULL;
    int rc = kubelet_oci_args(s->container, s->image_config, s->env, &args, err, errlen);
    if (rc < 0)
        return rc;
    json_t *proc = s_process(in, args);
    json_t *mounts = s_mounts(in, err, errlen);
    json_t *lin = mounts ? s_linux(in, err, errlen) : NULL;
    if (!proc || !lin) {
        json_decref(proc);
        json_decref(mounts);
        return PROTO_EINVALID;
    }
    const char *host = in->hostname ? in->hostname : proto_obj_name(s->pod);
    *out = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2", "process",
                     proc, "root", "path", in->root_path, "readonly", 0, "hostname",
                     host ? host : "pod", "mounts", mounts, "linux", lin);
    return *out ? 0 : PROTO_EINTERNAL;
}
