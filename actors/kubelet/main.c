/*
 * actors/kubelet/main.c — `zkube kubelet`: flags of the node agent, the
 * logs client (`zkube kubelet logs`) and the process driver's container
 * shim (`zkube kubelet shim`, started by the driver itself).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/quantity.h"
#include "runtime/config.h"
#include "runtime/log.h"

static int s_usage(void)
{
    fprintf(stderr,
            "usage: zkube kubelet --node NAME [--driver runc|process|hollow] [--labels k=v,...]\n"
            "         [--cpu N] [--memory Q] [--max-pods N] [--pod-cidr CIDR]\n"
            "         [--cluster-cidr CIDR] [--cluster-tag TAG] [--node-ip IP] [--cluster-dns IP]\n"
            "         [--heartbeat SECONDS] [--count N]\n"
            "       zkube kubelet logs [-n NS] POD [-c CONTAINER] [-p] [-f] [--tail N]\n"
            "         [--since SECONDS] [--timestamps]\n"
            "       zkube kubelet cleanup [--node NAME]   (stop process-driver containers)\n");
    return 2;
}

static bool s_int(const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static bool s_on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096], *save = NULL, full[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(full, sizeof full, "%s/%s", d, prog);
        if (access(full, X_OK) == 0)
            return true;
    }
    return false;
}

static bool s_qty_ok(const char *s)
{
    proto_qty_t q;
    return proto_qty_parse(s, &q) == 0;
}

/* One flag with its value at argv[*i + 1]; false when unknown or invalid. */
static bool s_flag(kl_opts_t *o, int argc, char **argv, int *i)
{
    const char *f = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!v)
        return false;
    (*i)++;
    if (!strcmp(f, "--node"))
        o->node = v;
    else if (!strcmp(f, "--driver"))
        o->driver = v;
    else if (!strcmp(f, "--labels"))
        o->labels = v;
    else if (!strcmp(f, "--cpu") && s_qty_ok(v))
        o->cpu = v;
    else if (!strcmp(f, "--memory") && s_qty_ok(v))
        o->memory = v;
    else if (!strcmp(f, "--max-pods"))
        return s_int(v, 1, 100000, &o->max_pods);
    else if (!strcmp(f, "--pod-cidr"))
        o->pod_cidr = v;
    else if (!strcmp(f, "--cluster-cidr"))
        o->cluster_cidr = v;
    else if (!strcmp(f, "--node-ip"))
        o->node_ip = v;
    else if (!strcmp(f, "--cluster-dns"))
        o->cluster_dns = v;
    else if (!strcmp(f, "--cluster-tag"))
        o->cluster_tag = v;
    else if (!strcmp(f, "--heartbeat"))
        return s_int(v, 1, 3600, &o->heartbeat_s);
    else if (!strcmp(f, "--count"))
        return s_int(v, 1, KL_MAX_NODES, &o->count);
    else
        return false;
    return true;
}

static bool s_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 200)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '.'))
            return false;
    return true;
}

/* `zkube kubelet logs ...` */
static int s_logs_main(int argc, char **argv)
{
    json_t *q = json_pack("{s:s}", "namespace", "default");
    bool follow = false;
    int n;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(a, "-n") || !strcmp(a, "--namespace")) && v && ++i)
            json_object_set_new(q, "namespace", json_string(v));
        else if ((!strcmp(a, "-c") || !strcmp(a, "--container")) && v && ++i)
            json_object_set_new(q, "container", json_string(v));
        else if (!strcmp(a, "-p") || !strcmp(a, "--previous"))
            json_object_set_new(q, "previous", json_true());
        else if (!strcmp(a, "-f") || !strcmp(a, "--follow"))
            follow = true;
        else if (!strcmp(a, "--timestamps"))
            json_object_set_new(q, "timestamps", json_true());
        else if (!strcmp(a, "--tail") && v && s_int(v, -1, INT_MAX, &n) && ++i)
            json_object_set_new(q, "tailLines", json_integer(n));
        else if (!strcmp(a, "--since") && v && s_int(v, 1, INT_MAX, &n) && ++i)
            json_object_set_new(q, "sinceSeconds", json_integer(n));
        else if (a[0] != '-' && !json_object_get(q, "name"))
            json_object_set_new(q, "name", json_string(a));
        else {
            json_decref(q);
            return s_usage();
        }
    }
    if (!json_object_get(q, "name")) {
        json_decref(q);
        return s_usage();
    }
    rt_config_t cfg;
    char err[256], id[64];
    rt_actor_t *a = NULL;
    snprintf(id, sizeof id, "zkube-logs-%d", (int)getpid());
    if (rt_config_load(&cfg, err, sizeof err) < 0 || rt_actor_open(&a, id, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube kubelet logs: %s\n", err);
        json_decref(q);
        return 1;
    }
    int rc = kubelet_logs_client(a, q, follow);
    json_decref(q);
    rt_actor_destroy(&a);
    return rc ? 1 : 0;
}

/* `zkube kubelet cleanup [--node NAME]`: kills the process-driver
 * containers of one node, or of every node of this ZKUBE_HOME. */
static int s_cleanup_main(int argc, char **argv)
{
    const char *node = NULL;
    if (argc == 3 && !strcmp(argv[1], "--node") && s_name_ok(argv[2]))
        node = argv[2];
    else if (argc != 1)
        return s_usage();
    rt_config_t cfg;
    char err[256], dir[PATH_MAX], state[PATH_MAX + 300];
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube kubelet cleanup: %s\n", err);
        return 1;
    }
    rt_path(&cfg, "kubelet", dir, sizeof dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    int total = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || (node && strcmp(node, e->d_name)))
            continue;
        snprintf(state, sizeof state, "%s/%s/driver", dir, e->d_name);
        int n = kubelet_process_cleanup(state);
        total += n > 0 ? n : 0;
    }
    if (d)
        closedir(d);
    printf("%d container(s) stopped\n", total);
    return 0;
}

int kubelet_main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "cleanup"))
        return s_cleanup_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "shim"))
        return kl_shim_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "logs"))
        return s_logs_main(argc - 1, argv + 1);
    kl_opts_t o = {.heartbeat_s = 5};
    for (int i = 1; i < argc; i++)
        if (!s_flag(&o, argc, argv, &i))
            return s_usage();
    if (!s_name_ok(o.node))
        return s_usage();
    if (!o.driver)
        o.driver = geteuid() == 0 && s_on_path("runc") ? "runc" : "process";
    char tag[KL_NAME_MAX + 16];
    snprintf(tag, sizeof tag, "kubelet-%s", o.node);
    rt_log_init(tag);
    rt_config_t cfg;
    char err[256] = "";
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube kubelet: %s\n", err);
        return 1;
    }
    rt_config_mkdirs(&cfg);
    return kl_run(&cfg, &o) < 0 ? 1 : 0;
}
