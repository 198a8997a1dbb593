/*
 * tools/zkubectl/main.c — zkubectl, the kubectl-compatible client of zkube:
 * parses kubectl's command line, connects one actor to the cluster named by
 * ZKUBE_HOME, and runs the verb. Exit codes as kubectl: 0, or 1 on any
 * error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/zkubectl/ctl.h"

typedef int(s_cmd_fn)(ctl_t *c);

/* logs.c, exec.c: verbs with their own flags (-c, -f, -p mean other things
 * there); they connect by themselves and return the exit code. */

static const struct {
    const char *name;
    s_cmd_fn *fn;
    const char *help;
} s_cmds[] = {
    {"get", ctl_cmd_get, "Display one or many resources"},
    {"describe", ctl_cmd_describe, "Show details of a specific resource or group of resources"},
    {"create", ctl_cmd_create, "Create a resource from a file or from stdin"},
    {"apply", ctl_cmd_apply, "Apply a configuration to a resource by file name or stdin"},
    {"replace", ctl_cmd_replace, "Replace a resource by file name or stdin"},
    {"delete", ctl_cmd_delete, "Delete resources by file names, stdin, resources and names, or "
                               "by resources and label selector"},
    {"label", ctl_cmd_label, "Update the labels on a resource"},
    {"annotate", ctl_cmd_label, "Update the annotations on a resource"},
    {"scale", ctl_cmd_scale, "Set a new size for a replication controller or replica set"},
    {"expose", ctl_cmd_expose, "Take a replication controller, service, deployment or pod and "
                               "expose it as a new Kubernetes service"},
    {"patch", ctl_cmd_patch, "Update fields of a resource"},
    {"api-resources", ctl_cmd_api_resources, "Print the supported API resources on the server"},
    {"version", ctl_cmd_version, "Print the client and server version information"},
    {"logs", NULL, "Print the logs for a container in a pod"},
    {"exec", NULL, "Execute a command in a container"},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

static int s_usage(FILE *f)
{
    fprintf(f, "zkubectl controls the zkube cluster manager (kubectl's commands over "
               "zkube's actor protocol).\n\nCommands:\n");
    for (size_t i = 0; i < S_NCMDS; i++)
        fprintf(f, "  %-15s %s\n", s_cmds[i].name, s_cmds[i].help);
    fprintf(f, "\nUsage:\n  zkubectl [flags] [options]\n\nZKUBE_HOME (default ~/.zkube) "
               "selects the cluster.\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *raw = ctl_raw_verb(argc, argv);
    if (raw && !strcmp(raw, "logs"))
        return ctl_logs_main(argc, argv);
    if (raw && !strcmp(raw, "exec"))
        return ctl_exec_main(argc, argv);
    ctl_args_t a;
    char err[CTL_ERR] = "";
    int rc = ctl_args_parse(argc, argv, &a, err, sizeof err);
    if (rc == -EDOM) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "Error: %s\nSee 'kubectl %s --help' for usage.\n", err,
                a.verb ? a.verb : "");
        return 1;
    }
    if (ctl_args_check_dry_run(&a, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (!a.verb || (a.help && !a.verb))
        return s_usage(stdout);
    for (size_t i = 0; i < S_NCMDS; i++) {
        if (strcmp(a.verb, s_cmds[i].name) || !s_cmds[i].fn)
            continue;
        if (a.help) {
            printf("%s.\n\nUsage:\n  zkubectl %s [flags]\n", s_cmds[i].help, a.verb);
            return 0;
        }
        ctl_t c;
        if (ctl_open(&c, &a))
            return 1;
        rc = s_cmds[i].fn(&c);
        fflush(stdout);
        ctl_close(&c);
        return rc ? 1 : 0;
    }
    fprintf(stderr, "error: unknown command \"%s\" for \"kubectl\"\nRun 'kubectl --help' for "
                    "usage.\n", a.verb);
    return 1;
}
