/*
 * tools/zkubectl/exec.c — `zkubectl exec POD [-c C] [-n NS] -- CMD ARGS...`:
 * runs a command in a container through the kubelet of the pod's node
 * (service "kubelet-<node>", a stream: exec_stream.c). -i forwards stdin,
 * -t gives the command a terminal (when ours is one). The command's stdout
 * and stderr go to ours; a non-zero exit prints kubectl's `command
 * terminated with exit code N` on stderr and zkubectl exits with N.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/status.h"
#include "tools/zkubectl/ctl.h"

#define CTL_EXEC_DEFAULT_S 60
#define CTL_EXEC_MAX_S 600

/* logs.c (see the report: to move into ctl.h) */

typedef struct ctl_exec_opts {
    const char *ns, *container, *target;
    char **cmd; /* borrowed from argv, NULL-terminated */
    int ncmd;
    bool in, tty, quiet, help;
    int timeout_s;
} ctl_exec_opts_t;

/* ---- the command line ------------------------------------------------------ */

/* A flag that needs a value: "-n" / "--namespace" etc.; NULL when not one. */
static const char *s_ex_valued(const char *s)
{
    if (!strcmp(s, "-n") || !strcmp(s, "--namespace"))
        return "namespace";
    if (!strcmp(s, "-c") || !strcmp(s, "--container"))
        return "container";
    if (!strcmp(s, "--request-timeout"))
        return "request-timeout";
    return NULL;
}

static int s_ex_set(ctl_exec_opts_t *o, const char *name, const char *v, char *err, size_t n)
{
    if (!strcmp(name, "namespace"))
        o->ns = v;
    else if (!strcmp(name, "container"))
        o->container = v;
    else { /* request-timeout: "30s", or a bare number of seconds */
        int64_t ms = 0;
        char *end = NULL;
        long secs = strtol(v, &end, 10);
        if (*v && !*end && secs >= 0 && secs <= CTL_EXEC_MAX_S)
            ms = secs * 1000;
        else if (ctl_parse_duration(v, &ms) < 0) {
            snprintf(err, n, "invalid argument \"%s\" for \"--request-timeout\" flag: time: "
                             "invalid duration \"%s\"", v, v);
            return -EINVAL;
        }
        o->timeout_s = ms <= 0 ? CTL_EXEC_DEFAULT_S
                       : ms >= CTL_EXEC_MAX_S * 1000 ? CTL_EXEC_MAX_S
                                                     : (int)((ms + 999) / 1000);
    }
    return 0;
}

/* A flag without a value (or with one attached by "="). */
static int s_ex_flag(ctl_exec_opts_t *o, const char *s, char *err, size_t n)
{
    const char *eq = strchr(s, '=');
    if (eq && s[1] == '-') {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)((eq - s) < 60 ? eq - s : 60), s);
        if (s_ex_valued(name))
            return s_ex_set(o, s_ex_valued(name), eq + 1, err, n);
    }
    if (s[1] != '-' && (s[1] == 'n' || s[1] == 'c') && s[2]) /* -nNS, -cNAME */
        return s_ex_set(o, s[1] == 'n' ? "namespace" : "container", s + 2 + (s[2] == '='),
                        err, n);
    if (!strcmp(s, "--stdin") || !strncmp(s, "--stdin=", 8)) {
        o->in = !strstr(s, "=false");
        return 0;
    }
    if (!strcmp(s, "--tty") || !strncmp(s, "--tty=", 6)) {
        o->tty = !strstr(s, "=false");
        return 0;
    }
    if (!strcmp(s, "--quiet") || !strcmp(s, "--help")) {
        o->quiet |= s[2] == 'q';
        o->help |= s[2] == 'h';
        return 0;
    }
    if (s[1] == '-') {
        snprintf(err, n, "unknown flag: %.*s", (int)(eq ? eq - s : (long)strlen(s)), s);
        return -EINVAL;
    }
    for (const char *p = s + 1; *p; p++) {
        if (*p == 'i')
            o->in = true;
        else if (*p == 't')
            o->tty = true;
        else if (*p == 'q')
            o->quiet = true;
        else if (*p == 'h')
            o->help = true;
        else {
            snprintf(err, n, "unknown shorthand flag: '%c' in %s", *p, s);
            return -EINVAL;
        }
    }
    return 0;
}

/* `exec [flags] POD -- CMD...`. 0 or -EINVAL with kubectl's wording in err. */
static int s_exec_parse(int argc, char **argv, ctl_exec_opts_t *o, char *err, size_t n)
{
    int npos = 0;
    memset(o, 0, sizeof *o);
    o->timeout_s = CTL_EXEC_DEFAULT_S;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--")) {
            o->cmd = argv + i + 1;
            o->ncmd = argc - i - 1;
            break;
        }
        const char *name = s_ex_valued(s);
        if (name && i + 1 >= argc) {
            snprintf(err, n, "flag needs an argument: %s", s);
            return -EINVAL;
        }
        int rc = 0;
        if (name)
            rc = s_ex_set(o, name, argv[++i], err, n);
        else if (s[0] == '-' && s[1])
            rc = s_ex_flag(o, s, err, n);
        else if (++npos == 2) /* the first positional is the verb */
            o->target = s;
        if (rc < 0)
            return rc;
        if (npos > 2) {
            snprintf(err, n, "exec [POD] [COMMAND] is not supported anymore. Use exec [POD] "
                             "-- [COMMAND] instead");
            return -EINVAL;
        }
    }
    if (o->help)
        return 0;
    if (!o->target) {
        snprintf(err, n, "expected 'exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND "
                         "[args...]'.\nPOD or TYPE/NAME is a required argument for the exec "
                         "command");
        return -EINVAL;
    }
    if (o->ncmd == 0) {
        snprintf(err, n, "you must specify at least one command for the container");
        return -EINVAL;
    }
    return 0;
}

/* ---- the container ---------------------------------------------------------- */

/*
 * The container exec runs in: want, else the default-container annotation,
 * else the first one (kubectl prints which when there are several).
 * 0 with *name, or 1 with the error printed.
 */
static int s_ex_container(const json_t *pod, const char *want, bool quiet, const char **name)
{
    const json_t *ctrs = proto_obj_get(pod, "spec.containers"), *ct;
    const char *pname = proto_obj_name(pod) ?: "";
    const char *phase = proto_obj_str(pod, "status.phase") ?: "";
    const char *def = json_string_value(json_object_get(
        proto_obj_get(pod, "metadata.annotations"), "kubectl.kubernetes.io/default-container"));
    char msg[CTL_ERR];
    size_t i;
    if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")) {
        fprintf(stderr, "error: cannot exec into a container in a completed pod; current phase "
                        "is %s\n", phase);
        return 1;
    }
    *name = want && *want ? want : def && *def ? def
                                              : proto_obj_str(json_array_get(ctrs, 0), "name");
    if (!want && !def && json_array_size(ctrs) > 1 && !quiet) {
        size_t len = (size_t)snprintf(msg, sizeof msg, "Defaulted container \"%s\" out of: ",
                                      *name ? *name : "");
        json_array_foreach(ctrs, i, ct)
            if (len < sizeof msg)
                len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", i ? ", " : "",
                                        proto_obj_str(ct, "name") ?: "");
        fprintf(stderr, "%s\n", msg);
    }
    bool found = false;
    json_array_foreach(ctrs, i, ct) found |= !strcmp(proto_obj_str(ct, "name") ?: "",
                                                     *name ? *name : "");
    json_array_foreach(proto_obj_get(pod, "spec.initContainers"), i, ct)
        found |= !strcmp(proto_obj_str(ct, "name") ?: "", *name ? *name : "");
    if (!found) {
        snprintf(msg, sizeof msg, "container %s is not valid for pod %s", *name ? *name : "",
                 pname);
        json_t *st = proto_status_new(PROTO_EBADREQUEST, msg, NULL);
        ctl_print_status(st, NULL);
        json_decref(st);
        return 1;
    }
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (!node || !*node) {
        fprintf(stderr, "error: unable to upgrade connection: pod %s does not have a host "
                        "assigned\n", pname);
        return 1;
    }
    return 0;
}

/* ---- the verb --------------------------------------------------------------- */

static int s_exec_run(ctl_t *c, const ctl_exec_opts_t *o)
{
    json_t *pod = NULL;
    const char *ctr = NULL;
    if (ctl_pod_resolve(c, o->target, &pod))
        return 1;
    if (s_ex_container(pod, o->container, o->quiet, &ctr)) {
        json_decref(pod);
        return 1;
    }
    json_t *cmd = json_array();
    for (int i = 0; i < o->ncmd; i++)
        json_array_append_new(cmd, json_string(o->cmd[i]));
    json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "namespace", proto_obj_ns(pod) ?: "default",
                             "name", proto_obj_name(pod), "container", ctr, "command", cmd);
    int rc = ctl_exec_stream(c, pod, body, o->in, o->tty && o->in);
    json_decref(body);
    json_decref(pod);
    return rc;
}

int ctl_exec_main(int argc, char **argv)
{
    ctl_exec_opts_t o;
    char err[CTL_ERR] = "";
    if (s_exec_parse(argc, argv, &o, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\nSee 'kubectl exec -h' for help and examples\n", err);
        return 1;
    }
    if (o.help) {
        printf("Execute a command in a container.\n"
               "\nUsage:\n  zkubectl exec (POD | TYPE/NAME) [-c CONTAINER] [-n NAMESPACE] "
               "[-i] [-t] -- COMMAND [args...]\n");
        return 0;
    }
    ctl_args_t a;
    memset(&a, 0, sizeof a);
    a.verb = "exec";
    a.ns = o.ns;
    ctl_t c;
    if (ctl_open(&c, &a))
        return 1;
    int rc = s_exec_run(&c, &o);
    fflush(stdout);
    ctl_close(&c);
    return rc;
}
