/*
 * actors/controllers/main.c — `zkube controller KIND [flags]`: reads the
 * cluster's configuration and runs the controller actor of KIND
 * (replicationcontroller, replicaset, garbage-collector, node-lifecycle)
 * until SIGTERM. Also the small helpers the controller actors share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/controllers/internal.h"
#include "protocol/obj.h"
#include "runtime/log.h"

static int s_usage(void)
{
    fprintf(stderr,
            "usage: zkube controller KIND [flags]\n"
            "  KIND: replicationcontroller | replicaset | garbage-collector | node-lifecycle\n"
            "  --node-monitor-grace-period DUR  node-lifecycle: heartbeat age before a node\n"
            "                                   turns Unknown (default 40s)\n"
            "  --pod-eviction-timeout DUR       node-lifecycle: how long pods stay on an\n"
            "                                   unreachable node (default 5m)\n"
            "  --node-monitor-period DUR        node-lifecycle: check interval (default 1s)\n"
            "  --resync-period DUR              re-examine everything this often (default 30s)\n"
            "DUR: 500ms, 3s, 5m, 1h (a bare number is seconds)\n");
    return 2;
}

/* A duration with one unit ("500ms", "3s", "5m", "1h"; bare = seconds): ms, or -1. */
static int64_t s_duration_ms(const char *s)
{
    char *end = NULL;
    if (!s || !*s || strlen(s) > 20)
        return -1;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0 && v <= 1e9)) /* also NaN */
        return -1;
    double mul = 1000;
    if (!strcmp(end, "ms"))
        mul = 1;
    else if (!strcmp(end, "s") || !*end)
        mul = 1000;
    else if (!strcmp(end, "m"))
        mul = 60000;
    else if (!strcmp(end, "h"))
        mul = 3600000;
    else
        return -1;
    return (int64_t)(v * mul);
}

static int s_parse(int argc, char **argv, ctrl_opts_t *o)
{
    for (int i = 2; i < argc; i += 2) { /* every flag takes a value */
        int64_t *dst = NULL;
        if (!strcmp(argv[i], "--node-monitor-grace-period"))
            dst = &o->grace_ms;
        else if (!strcmp(argv[i], "--pod-eviction-timeout"))
            dst = &o->eviction_s;
        else if (!strcmp(argv[i], "--node-monitor-period"))
            dst = &o->monitor_ms;
        else if (!strcmp(argv[i], "--resync-period"))
            dst = &o->resync_ms;
        int64_t ms = dst && i + 1 < argc ? s_duration_ms(argv[i + 1]) : -1;
        if (ms < 0) {
            fprintf(stderr, "zkube controller: bad flag or value: %s\n", argv[i]);
            return -1;
        }
        *dst = dst == &o->eviction_s ? (ms + 999) / 1000 : ms;
    }
    if (o->monitor_ms < 50)
        o->monitor_ms = 50;
    if (o->resync_ms < 100)
        o->resync_ms = 100;
    return 0;
}

int ctrl_main(int argc, char **argv)
{
    ctrl_opts_t o = {.grace_ms = 40000, .eviction_s = 300, .monitor_ms = 1000, .resync_ms = 30000};
    if (argc < 2 || s_parse(argc, argv, &o) < 0)
        return s_usage();
    const char *kind = argv[1];
    static const char *const kinds[] = {"replicationcontroller", "replicaset",
                                        "garbage-collector", "node-lifecycle"};
    size_t k = 0;
    while (k < 4 && strcmp(kind, kinds[k]))
        k++;
    if (k == 4)
        return s_usage();
    char id[64];
    snprintf(id, sizeof id, "controller-%s", kind);
    rt_log_init(id);
    rt_config_t cfg;
    char err[256] = "";
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube controller: %s\n", err);
        return 1;
    }
    int rc = k < 2 ? ctrl_rm_run(&cfg, k == 0, &o)
             : k == 2 ? ctrl_gc_run(&cfg, &o)
                      : ctrl_nl_run(&cfg, &o);
    return rc < 0 ? 1 : 0;
}

/* ---- shared helpers ------------------------------------------------------------ */

void ctrl_key_of(const json_t *obj, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", proto_obj_ns(obj) ?: "", proto_obj_name(obj) ?: "");
}

int ctrl_key_split(const char *key, char *ns, size_t nsn, char *name, size_t namen)
{
    const char *slash = key ? strchr(key, '/') : NULL;
    if (!slash || (size_t)(slash - key) >= nsn || strlen(slash + 1) >= namen || !slash[1])
        return -1;
    snprintf(ns, nsn, "%.*s", (int)(slash - key), key);
    snprintf(name, namen, "%s", slash + 1);
    return 0;
}

int ctrl_call(rt_actor_t *a, const char *op, json_t *body, rt_reply_fn *cb, void *arg)
{
    rt_call_opts_t opts = {.timeout_ms = 5000, .retries = 2};
    int rc = rt_call(a, "apiserver", op, body, &opts, cb, arg);
    json_decref(body);
    if (rc < 0 && cb)
        cb(a, 500, NULL, arg); /* the callback always runs once: it frees its context */
    return rc;
}

const char *ctrl_reply_msg(const json_t *body)
{
    return json_string_value(json_object_get(body, "message")) ?: "";
}
