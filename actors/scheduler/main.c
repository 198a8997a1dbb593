/*
 * actors/scheduler/main.c — `zkube scheduler [--scheduler-name NAME]`: reads
 * the cluster's configuration and runs the scheduler actor (sched.c) until
 * SIGTERM.
 */
#include <stdio.h>
#include <string.h>

#include "actors/scheduler/sched_int.h"
#include "runtime/log.h"

static int s_usage(void)
{
    fprintf(stderr, "usage: zkube scheduler [--scheduler-name NAME]\n");
    return 2;
}

int sched_main(int argc, char **argv)
{
    const char *name = SCHED_DEFAULT_NAME;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scheduler-name") && i + 1 < argc && *argv[i + 1] &&
            strlen(argv[i + 1]) < 64)
            name = argv[++i];
        else
            return s_usage();
    }
    rt_log_init("scheduler");
    rt_config_t cfg;
    char err[256] = "";
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube scheduler: %s\n", err);
        return 1;
    }
    return sched_run(&cfg, name) < 0 ? 1 : 0;
}
