/*
 * protocol/manifest — where manifests come from: a file, a directory of
 * .yaml/.yml/.json files (name order, optionally recursive, like kubectl
 * -f DIR [-R]) or "-" for stdin. Parsing is in yaml_load.c, printing in
 * yaml_dump.c.
 */
#include "protocol/manifest.h"

#include "protocol/status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_DIR_DEPTH 32 /* symlinked directory loops end here */

static int s_syserr(int e, const char *path, const char *why, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path, why ? why : strerror(e));
    return -e;
}

/* Reads all of fd, refusing more than PROTO_MAX_MANIFEST bytes. */
static int s_read_all(int fd, const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b)
        abort();
    for (;;) {
        if (n == cap) {
            cap = cap * 2 > PROTO_MAX_MANIFEST + 1 ? PROTO_MAX_MANIFEST + 1 : cap * 2;
            char *nb = realloc(b, cap);
            if (!nb)
                abort();
            b = nb;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            return s_syserr(e, path, NULL, err, errlen);
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > PROTO_MAX_MANIFEST) {
            free(b);
            return s_syserr(EFBIG, path, "file larger than 32 MiB", err, errlen);
        }
    }
    *out = b;
    *len = n;
    return 0;
}

static int s_load_file(const char *path, json_t *docs, char *err, size_t errlen)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_syserr(errno, path, NULL, err, errlen);
    char *buf = NULL;
    size_t len = 0;
    int rc = s_read_all(fd, path, &buf, &len, err, errlen);
    if (!is_stdin)
        close(fd);
    if (rc != 0)
        return rc;
    json_t *got = NULL;
    rc = proto_manifest_parse(buf, len, is_stdin ? "<stdin>" : path, &got, err, errlen);
    free(buf);
    if (rc == 0)
        json_array_extend(docs, got);
    json_decref(got);
    return rc;
}

static bool s_manifest_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

static int s_cmp_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int s_load_dir(const char *path, int recursive, int level, json_t *docs, char *err,
                      size_t errlen)
{
    struct dirent **ents;
    if (level > S_MAX_DIR_DEPTH)
        return s_syserr(ELOOP, path, NULL, err, errlen);
    int n = scandir(path, &ents, NULL, s_cmp_names), rc = 0;
    if (n < 0)
        return s_syserr(errno, path, NULL, err, errlen);
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        char *sub = NULL;
        struct stat st;
        if (rc != 0 || !strcmp(nm, ".") || !strcmp(nm, ".."))
            goto next;
        if (asprintf(&sub, "%s/%s", path, nm) < 0)
            abort();
        if (stat(sub, &st) != 0)
            rc = s_syserr(errno, sub, NULL, err, errlen);
        else if (S_ISDIR(st.st_mode) && recursive)
            rc = s_load_dir(sub, recursive, level + 1, docs, err, errlen);
        else if (S_ISREG(st.st_mode) && s_manifest_name(nm))
            rc = s_load_file(sub, docs, err, errlen);
    next:
        free(sub);
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int proto_manifest_load(const char *path, int recursive, json_t **docs, char *err, size_t errlen)
{
    struct stat st;
    json_t *got = json_array();
    int rc;
    if (err && errlen)
        err[0] = 0;
    if (strcmp(path, "-") != 0 && stat(path, &st) != 0)
        rc = s_syserr(errno, path, NULL, err, errlen);
    else if (strcmp(path, "-") != 0 && S_ISDIR(st.st_mode))
        rc = s_load_dir(path, recursive, 0, got, err, errlen);
    else
        rc = s_load_file(path, got, err, errlen);
    if (rc == 0) {
        if (!*docs)
            *docs = json_array();
        json_array_extend(*docs, got);
    }
    json_decref(got);
    return rc;
}
