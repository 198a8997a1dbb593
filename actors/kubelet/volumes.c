/*
 * actors/kubelet/volumes.c — a pod's volumes on the node, before its
 * containers start: folders under <pod dir>/volumes/<kind>/<name> that the
 * driver mounts (emptyDir; configMap and secret filled with their keys, or
 * the listed items), hostPath folders of type DirectoryOrCreate /
 * FileOrCreate, and the pod's /etc/hosts and /etc/resolv.conf files.
 * A configMap or secret that does not exist (and is not optional) keeps the
 * pod in ContainerCreating with a FailedMount event, as Kubernetes does.
 * The process driver mounts nothing: its containers see host paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "runtime/log.h"

static void s_write(const char *path, const char *data, size_t len, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return;
    if (write(fd, data, len) < 0)
        rt_warn("%s: %s", path, strerror(errno));
    close(fd);
}

/* A relative path without ".." parts (item paths come from the manifest). */
static bool s_rel_ok(const char *p)
{
    if (!p || !*p || p[0] == '/' || strlen(p) > 512)
        return false;
    for (const char *c = p; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c))
        if (!strncmp(c, "..", 2) && (c[2] == '/' || c[2] == '\0'))
            return false;
    return true;
}

static void s_write_key(const char *dir, const char *rel, const char *val, bool secret, int mode)
{
    char path[PATH_MAX + 600];
    if (!s_rel_ok(rel) || snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path)
        return;
    char *slash = strrchr(path, '/');
    *slash = '\0';
    kl_mkdirs(path, 0755);
    *slash = '/';
    size_t len = strlen(val);
    char *dec = secret ? kl_b64dec(val, &len) : NULL;
    s_write(path, dec ? dec : val, len, mode);
    free(dec);
}

/* Fills dir with obj's data (all keys, or the items listed). */
static void s_fill(const char *dir, const json_t *src, const json_t *obj, bool secret)
{
    const json_t *data = json_object_get(obj, "data");
    int mode = (int)proto_obj_int(src, "defaultMode", 0644) & 0777;
    const json_t *items = json_object_get(src, "items");
    kl_mkdirs(dir, 0755);
    if (json_array_size(items) == 0) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)data, k, v)
            if (json_is_string(v))
                s_write_key(dir, k, json_string_value(v), secret, mode);
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *v = proto_obj_str(data, proto_obj_str(it, "key") ?: "");
        if (v)
            s_write_key(dir, proto_obj_str(it, "path"), v, secret,
                        (int)proto_obj_int(it, "mode", mode) & 0777);
    }
}

/* configMap / secret: false when the object is missing and required. */
static bool s_projected(kl_pod_t *p, const char *name, const json_t *src, bool secret)
{
    kl_kubelet_t *k = p->n->k;
    const char *oname = proto_obj_str(src, secret ? "secretName" : "name");
    rt_informer_t *inf = secret ? k->secret_inf : k->cm_inf;
    if (inf && !rt_informer_synced(inf))
        return false; /* not read yet: say nothing */
    const json_t *obj = inf && oname ? rt_informer_get(inf, p->ns, oname) : NULL;
    char dir[PATH_MAX + 300];
    snprintf(dir, sizeof dir, "%s/volumes/%s/%s", p->dir, secret ? "secret" : "configMap", name);
    if (obj || json_is_true(json_object_get(src, "optional"))) {
        json_t *none = json_object();
        s_fill(dir, src, obj ? obj : none, secret);
        json_decref(none);
        return true;
    }
    if (!p->mount_warned)
        kl_event(p, NULL, "Warning", "FailedMount",
                 "MountVolume.SetUp failed for volume \"%s\" : %s \"%s\" not found", name,
                 secret ? "secret" : "configmap", oname ? oname : "");
    p->mount_warned = true;
    return false;
}

static void s_host_path(const json_t *v)
{
    const char *hp = proto_obj_str(v, "hostPath.path");
    const char *type = proto_obj_str(v, "hostPath.type") ?: "";
    if (!hp || hp[0] != '/')
        return;
    if (!strcmp(type, "DirectoryOrCreate")) {
        kl_mkdirs(hp, 0755);
    } else if (!strcmp(type, "FileOrCreate")) {
        int fd = open(hp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
    }
}

static void s_write_file(const char *path, const char *text)
{
    s_write(path, text, strlen(text), 0644);
}

static void s_pod_files(kl_pod_t *p)
{
    char path[PATH_MAX + 32], text[2048];
    const char *cdns = p->n->k->o.cluster_dns;
    bool dns = cdns && *cdns;
    snprintf(path, sizeof path, "%s/etc-hosts", p->dir);
    snprintf(text, sizeof text,
             "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost\n%s\t%s\n",
             p->ip[0] ? p->ip : "127.0.0.1", proto_obj_str(p->pod, "spec.hostname") ?: p->name);
    s_write_file(path, text);
    snprintf(path, sizeof path, "%s/resolv.conf", p->dir);
    snprintf(text, sizeof text,
             "search %s.svc.cluster.local svc.cluster.local cluster.local\n%s%s%soptions ndots:5\n",
             p->ns, dns ? "nameserver " : "", dns ? cdns : "", dns ? "\n" : "");
    s_write_file(path, text);
}

bool kl_volumes_prepare(kl_pod_t *p)
{
    size_t i;
    json_t *v;
    bool ok = true;
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/volumes", p->dir);
    kl_mkdirs(path, 0755);
    json_array_foreach(proto_obj_get(p->pod, "spec.volumes"), i, v) {
        const char *name = proto_obj_str(v, "name");
        if (!name || !*name || strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, "."))
            continue;
        if (json_object_get(v, "emptyDir")) {
            snprintf(path, sizeof path, "%s/volumes/emptyDir/%s", p->dir, name);
            kl_mkdirs(path, 0777);
            chmod(path, 0777); /* any container user may write */
        } else if (json_object_get(v, "hostPath")) {
            s_host_path(v);
        } else if (json_object_get(v, "configMap")) {
            ok &= s_projected(p, name, json_object_get(v, "configMap"), false);
        } else if (json_object_get(v, "secret")) {
            ok &= s_projected(p, name, json_object_get(v, "secret"), true);
        }
    }
    s_pod_files(p);
    return ok;
}
