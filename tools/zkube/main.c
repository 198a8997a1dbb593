/*
 * tools/zkube — the one binary of zkube's actors and operations:
 * `zkube up|down|status` (supervisor), `zkube broker|apiserver|...` (one
 * actor in the foreground; the supervisor runs these).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actors/apiserver/apiserver.h"
#include "actors/controllers/controllers.h"
#include "actors/kubelet/kubelet.h"
#include "actors/kubelet/runc.h"
#include "actors/scheduler/scheduler.h"
#include "broker/broker.h"
#include "runtime/actor.h"
#include "runtime/config.h"
#include "actors/gateway/gateway.h"
#include "actors/kubelet/image.h"
#include "runtime/supervisor.h"
#include "tools/chaos/chaos.h"
#include "tools/tap/tap.h"

#define ZKUBE_VERSION "v1.32.0-zkube"

typedef int(cmd_fn)(int argc, char **argv);

/* `zkube version`: this binary's version, and the apiserver's when one runs. */
static int s_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("Client Version: %s\n", ZKUBE_VERSION);
    rt_config_t cfg;
    char err[256], id[64];
    rt_actor_t *a = NULL;
    if (rt_config_load(&cfg, err, sizeof err) < 0)
        return 0;
    snprintf(id, sizeof id, "zkube-version-%d", (int)getpid());
    if (rt_actor_open(&a, id, &cfg, err, sizeof err) < 0)
        return 0;
    json_t *reply = NULL;
    rt_call_opts_t o = {.timeout_ms = 1000, .retries = 0};
    if (rt_call_sync(a, "apiserver", "version", NULL, &o, &reply) == 200)
        printf("Server Version: %s\n",
               json_string_value(json_object_get(reply, "gitVersion")) ?: "?");
    else
        printf("Server Version: unavailable (is the cluster up?)\n");
    json_decref(reply);
    rt_actor_destroy(&a);
    return 0;
}

static const struct {
    const char *name;
    cmd_fn *fn;
    const char *help;
} s_cmds[] = {
    {"up", rt_sup_up, "start the actors of this host and supervise them"},
    {"down", rt_sup_down, "stop every actor of this cluster"},
    {"status", rt_sup_status, "list live actors"},
    {"certs", rt_sup_certs, "generate the cluster's CURVE keys ($ZKUBE_HOME/keys)"},
    {"broker", broker_main, "run the broker"},
    {"apiserver", apisrv_main, "run the API server"},
    {"kubelet", kubelet_main, "run a node agent (kubelet --node NAME)"},
    {"runc-cleanup", kubelet_runc_cleanup_main, "remove a node's runc containers and network"},
    {"scheduler", sched_main, "run the scheduler"},
    {"controller", ctrl_main, "run one controller (controller KIND)"},
    {"version", s_version, "print the client and server versions"},
    {"gateway", gw_main, "serve the Kubernetes API over HTTP (for kubectl)"},
    {"image", kubelet_image_main, "local images: ls, build, import, inspect, rm"},
    {"tap", tap_main, "show every message between actors, live"},
    {"kill", chaos_kill_main, "send a signal to one actor (default KILL)"},
    {"chaos", chaos_main, "kill random actors on a seeded schedule"},
};

static int s_usage(FILE *f)
{
    fprintf(f, "usage: zkube COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        fprintf(f, "  %-12s %s\n", s_cmds[i].name, s_cmds[i].help);
    fprintf(f, "\nZKUBE_HOME (default ~/.zkube) selects the cluster.\n");
    return f == stderr ? 2 : 0;
}

static bool s_has_command(const char *name)
{
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        if (!strcmp(s_cmds[i].name, name))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    rt_sup_set_commands(s_has_command);
    if (argc < 2)
        return s_usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return s_usage(stdout);
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        if (!strcmp(argv[1], s_cmds[i].name))
            return s_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "zkube: unknown command \"%s\"\n", argv[1]);
    return s_usage(stderr);
}
