/*
 * actors/kubelet/image_cli — `zkube image ls|import|build|inspect|rm`: the command
 * line over the local image store (image.c), printing as `docker images`
 * and `docker rmi` do.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "actors/kubelet/image.h"
#include "protocol/obj.h"
#include "protocol/status.h"

/* "library/busybox" → "busybox", as Docker shows Docker Hub's official images. */
static const char *s_familiar(const char *repo)
{
    if (!strncmp(repo, "library/", 8) && !strchr(repo + 8, '/'))
        return repo + 8;
    return repo;
}

/* "4.26MB": SI units, 3 significant digits, as Docker prints sizes. */
static void s_human_size(int64_t size, char *out, size_t n)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)size;
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000;
        u++;
    }
    snprintf(out, n, "%.3g%s", v, units[u]);
}

/* "2 minutes ago", as Docker prints ages. */
static void s_human_age(int64_t created, char *out, size_t n)
{
    int64_t s = (int64_t)time(NULL) - created;
    int64_t m = s / 60, h = (s + 1800) / 3600;
    if (created < 0)
        snprintf(out, n, "N/A");
    else if (s < 1)
        snprintf(out, n, "Less than a second ago");
    else if (s < 60)
        snprintf(out, n, "%lld second%s ago", (long long)s, s == 1 ? "" : "s");
    else if (m == 1)
        snprintf(out, n, "About a minute ago");
    else if (m < 60)
        snprintf(out, n, "%lld minutes ago", (long long)m);
    else if (h == 1)
        snprintf(out, n, "About an hour ago");
    else if (h < 48)
        snprintf(out, n, "%lld hours ago", (long long)h);
    else if (h < 24 * 7 * 2)
        snprintf(out, n, "%lld days ago", (long long)(h / 24));
    else if (h < 24 * 30 * 2)
        snprintf(out, n, "%lld weeks ago", (long long)(h / 24 / 7));
    else if (h < 24 * 365 * 2)
        snprintf(out, n, "%lld months ago", (long long)(h / 24 / 30));
    else
        snprintf(out, n, "%lld years ago", (long long)(h / 24 / 365));
}

static int s_width(json_t *rows, const char *key, int min)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *v = proto_obj_str(r, key) ?: "";
        if (!strcmp(key, "repository"))
            v = s_familiar(v);
        min = (int)strlen(v) > min ? (int)strlen(v) : min;
    }
    return min;
}

static int s_cmd_ls(const char *store)
{
    json_t *rows = kubelet_image_list(store), *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        char age[40];
        s_human_age(proto_parse_time(proto_obj_str(r, "created") ?: ""), age, sizeof age);
        json_object_set_new(r, "age", json_string(age));
    }
    int wr = s_width(rows, "repository", 10), wt = s_width(rows, "tag", 3);
    int wc = s_width(rows, "age", 7);
    printf("%-*s   %-*s   %-12s   %-*s   %s\n", wr, "REPOSITORY", wt, "TAG", "IMAGE ID", wc,
           "CREATED", "SIZE");
    json_array_foreach(rows, i, r)
    {
        char size[16];
        s_human_size(proto_obj_int(r, "size", 0), size, sizeof size);
        printf("%-*s   %-*s   %-12.12s   %-*s   %s\n", wr,
               s_familiar(proto_obj_str(r, "repository")), wt, proto_obj_str(r, "tag"),
               proto_obj_str(r, "id"), wc, proto_obj_str(r, "age"), size);
    }
    json_decref(rows);
    return 0;
}

static int s_usage(FILE *f)
{
    fprintf(f, "usage: zkube image ls\n"
               "       zkube image import REF TAR|DIR [--entrypoint CMD] [--cmd CMD]"
               " [--env K=V]... [--workdir DIR]\n"
               "       zkube image build DIR...   (DIR/Recipe: see deploy/images/README.md)\n"
               "       zkube image inspect REF\n"
               "       zkube image rm REF...\n\n"
               "The store is $ZKUBE_IMAGES, else /var/lib/zkube/images as root, else\n"
               "$ZKUBE_HOME/images. CMD is a JSON array of strings, or words split on blanks.\n");
    return f == stderr ? 2 : 0;
}

static int s_cmd_build(const char *store, int argc, char **argv)
{
    if (argc < 1)
        return s_usage(stderr);
    for (int i = 0; i < argc; i++) {
        char name[512], err[1024] = "";
        bool built = false;
        if (kubelet_image_build(store, argv[i], name, sizeof name, &built, err, sizeof err) < 0) {
            fprintf(stderr, "zkube image build: %s\n", err);
            return 1;
        }
        printf("%s: %s\n", s_familiar(name), built ? "built" : "up to date");
    }
    return 0;
}

static int s_cmd_import(const char *store, int argc, char **argv)
{
    char err[1024] = "";
    if (argc < 2 || (argc - 2) % 2)
        return s_usage(stderr);
    json_t *config = kubelet_image_config_new();
    int rc = 0;
    for (int i = 2; rc == 0 && i + 1 < argc; i += 2) {
        const char *opt = argv[i];
        if (strcmp(opt, "--entrypoint") && strcmp(opt, "--cmd") && strcmp(opt, "--env") &&
            strcmp(opt, "--workdir")) {
            snprintf(err, sizeof err, "unknown option %s", opt);
            rc = PROTO_EINVALID;
        } else {
            rc = kubelet_image_config_set(config, opt + 2, argv[i + 1], err, sizeof err);
        }
    }
    if (rc == 0)
        rc = kubelet_image_import(store, argv[0], argv[1], config, err, sizeof err);
    json_decref(config);
    if (rc < 0) {
        fprintf(stderr, "zkube image import: %s\n", err);
        return 1;
    }
    printf("%s: imported\n", argv[0]);
    return 0;
}

static int s_cmd_rm(const char *store, int argc, char **argv)
{
    int bad = 0;
    if (argc < 1)
        return s_usage(stderr);
    for (int i = 0; i < argc; i++) {
        int rc = kubelet_image_remove(store, argv[i]);
        if (rc == PROTO_EINVALID) {
            fprintf(stderr, "Error: invalid reference format: \"%s\"\n", argv[i]);
            bad = 1;
        } else if (rc < 0) {
            fprintf(stderr, "Error: No such image: %s\n", argv[i]);
            bad = 1;
        } else {
            printf("Untagged: %s\n", argv[i]);
        }
    }
    return bad;
}

/* `zkube image inspect REF`: {name, rootfs, config} as JSON. */
static int s_cmd_inspect(const char *store, int argc, char **argv)
{
    char norm[512], rootfs[PATH_MAX];
    json_t *config = NULL;
    if (argc != 1)
        return s_usage(stderr);
    int rc = kubelet_image_normalize(argv[0], norm, sizeof norm);
    if (rc == 0)
        rc = kubelet_image_resolve(store, argv[0], rootfs, sizeof rootfs, &config);
    if (rc < 0) {
        fprintf(stderr, "Error: No such image: %s\n", argv[0]);
        return 1;
    }
    json_t *out = json_pack("{s:s, s:s, s:o}", "name", norm, "rootfs", rootfs, "config", config);
    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    printf("\n");
    json_decref(out);
    return 0;
}

int kubelet_image_main(int argc, char **argv)
{
    char store[PATH_MAX];
    if (argc < 2)
        return s_usage(stderr);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help"))
        return s_usage(stdout);
    kubelet_image_store(store, sizeof store);
    if (!strcmp(cmd, "ls") || !strcmp(cmd, "list"))
        return s_cmd_ls(store);
    if (!strcmp(cmd, "build"))
        return s_cmd_build(store, argc - 2, argv + 2);
    if (!strcmp(cmd, "import"))
        return s_cmd_import(store, argc - 2, argv + 2);
    if (!strcmp(cmd, "inspect"))
        return s_cmd_inspect(store, argc - 2, argv + 2);
    if (!strcmp(cmd, "rm") || !strcmp(cmd, "rmi"))
        return s_cmd_rm(store, argc - 2, argv + 2);
    fprintf(stderr, "zkube image: unknown command \"%s\"\n", cmd);
    return s_usage(stderr);
}
