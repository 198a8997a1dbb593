/*
 * actors/kubelet/cgroup — cgroup paths of the runc driver. Every container
 * lives at /zkube-<cluster tag>/pod<uid>/<id> (absolute, so that a kubelet
 * restarted elsewhere in the tree finds its containers, and two clusters
 * never share a path). runc creates the leaves and removes them on delete;
 * this file removes the pod and cluster levels, in every hierarchy (cgroup
 * v1 controllers or the v2 unified tree), and reads OOM kill counts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/kubelet/runc.h"

void kubelet_cg_path(const char *tag, const char *pod_uid, const char *id, char *out, size_t n)
{
    snprintf(out, n, "/zkube-%s/pod%s/%s", tag, pod_uid, id);
}

typedef int (*s_mount_fn)(const char *mnt, void *arg);

/* Calls fn for the mount point of every cgroup hierarchy (v1 or v2). */
static int s_each_hierarchy(s_mount_fn fn, void *arg)
{
    FILE *f = fopen("/proc/self/mounts", "re");
    if (!f)
        return -errno;
    char line[4096];
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        char dev[256], mnt[2048], type[64];
        if (sscanf(line, "%255s %2047s %63s", dev, mnt, type) != 3)
            continue;
        if (strcmp(type, "cgroup") != 0 && strcmp(type, "cgroup2") != 0)
            continue;
        int r = fn(mnt, arg);
        if (r < 0 && rc == 0)
            rc = r;
    }
    fclose(f);
    return rc;
}

/* rmdir of a cgroup directory and everything below it (depth first). */
static int s_rmdir_tree(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        int r = depth < 8 ? s_rmdir_tree(sub, depth + 1) : -ELOOP;
        if (r < 0 && rc == 0)
            rc = r;
    }
    closedir(d);
    if (rmdir(path) < 0 && errno != ENOENT && rc == 0)
        rc = -errno;
    return rc;
}

typedef struct {
    const char *tag;
    const char *pod_uid;
    bool gone;
} s_cg_arg_t;

static int s_remove_in(const char *mnt, void *arg)
{
    s_cg_arg_t *a = arg;
    char path[4096];
    if (a->pod_uid) {
        snprintf(path, sizeof path, "%s/zkube-%s/pod%s", mnt, a->tag, a->pod_uid);
        return s_rmdir_tree(path, 0);
    }
    snprintf(path, sizeof path, "%s/zkube-%s", mnt, a->tag);
    return s_rmdir_tree(path, 0);
}

int kubelet_cg_remove(const char *tag, const char *pod_uid)
{
    if (!tag || !*tag || strchr(tag, '/') || (pod_uid && strchr(pod_uid, '/')))
        return -EINVAL;
    s_cg_arg_t a = {.tag = tag, .pod_uid = pod_uid};
    return s_each_hierarchy(s_remove_in, &a);
}

static int s_check_in(const char *mnt, void *arg)
{
    s_cg_arg_t *a = arg;
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/zkube-%s", mnt, a->tag);
    if (stat(path, &sb) == 0)
        a->gone = false;
    return 0;
}

bool kubelet_cg_gone(const char *tag)
{
    s_cg_arg_t a = {.tag = tag, .gone = true};
    s_each_hierarchy(s_check_in, &a);
    return a.gone;
}

void kubelet_cg_oom_file(const char *cg_path, char *out, size_t n)
{
    struct stat sb;
    if (stat("/sys/fs/cgroup/cgroup.controllers", &sb) == 0)
        snprintf(out, n, "/sys/fs/cgroup%s/memory.events", cg_path);
    else
        snprintf(out, n, "/sys/fs/cgroup/memory%s/memory.oom_control", cg_path);
}

long kubelet_cg_oom_count(const char *file)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return 0;
    char key[64];
    long v, found = 0;
    while (fscanf(f, "%63s %ld", key, &v) == 2)
        if (strcmp(key, "oom_kill") == 0)
            found = v;
    fclose(f);
    return found;
}
