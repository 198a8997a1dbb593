/*
 * tools/zkube — the one binary of zkube's actors and operations:
 * `zkube up|down|status` (supervisor), `zkube broker|apiserver|...` (one
 * actor in the foreground; the supervisor runs these).
 */
#include <stdio.h>
#include <string.h>

#include "actors/apiserver/apiserver.h"
#include "broker/broker.h"
#include "runtime/supervisor.h"

typedef int(cmd_fn)(int argc, char **argv);

static const struct {
    const char *name;
    cmd_fn *fn;
    const char *help;
} s_cmds[] = {
    {"up", rt_sup_up, "start the actors of this host and supervise them"},
    {"down", rt_sup_down, "stop every actor of this cluster"},
    {"status", rt_sup_status, "list live actors"},
    {"broker", broker_main, "run the broker"},
    {"apiserver", apisrv_main, "run the API server"},
};

static int s_usage(FILE *f)
{
    fprintf(f, "usage: zkube COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        fprintf(f, "  %-12s %s\n", s_cmds[i].name, s_cmds[i].help);
    fprintf(f, "\nZKUBE_HOME (default ~/.zkube) selects the cluster.\n");
    return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
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
