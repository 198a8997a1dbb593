/*
 * actors/kubelet/exec.c — what running a command in a container needs,
 * shared by the kubelet's streams (stream.c: `kubectl exec`, interactive or
 * not) and the drivers: the command from a request body, the running
 * container it names, and the set-up of the child that runs it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#define KL_EXEC_MAX_ARGS 1024 /* argv entries */
#define KL_EXEC_MAX_ARGV_BYTES (256u << 10)

/* ---- the request ------------------------------------------------------------ */

static json_t *s_xerr(int code, const char *fmt, const char *a, const char *b)
{
    char msg[1200];
    snprintf(msg, sizeof msg, fmt, a, b);
    return proto_status_new(code, msg, NULL);
}

/* argv from body.command (NULL-terminated, strings borrowed from body);
 * NULL with *err when empty or malformed. */
char **kl_exec_argv(const json_t *body, json_t **err)
{
    const json_t *cmd = json_object_get(body, "command");
    size_t n = json_array_size(cmd), total = 0;
    if (!json_is_array(cmd) || n == 0) {
        *err = proto_status_new(PROTO_EBADREQUEST,
                                "you must specify at least one command for the container", NULL);
        return NULL;
    }
    if (n > KL_EXEC_MAX_ARGS) {
        *err = proto_status_new(PROTO_EBADREQUEST, "command has too many arguments", NULL);
        return NULL;
    }
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(cmd, i));
        total += s ? strlen(s) + 1 : 0;
        if (!s || (i == 0 && !*s) || total > KL_EXEC_MAX_ARGV_BYTES) {
            free(argv);
            *err = proto_status_new(PROTO_EBADREQUEST,
                                    !s || i > 0 || total > KL_EXEC_MAX_ARGV_BYTES
                                        ? "command must be a list of strings of bounded size"
                                        : "you must specify at least one command for the "
                                          "container",
                                    NULL);
            return NULL;
        }
        argv[i] = (char *)s;
    }
    return argv;
}

/* The container named in body (or the first regular one), running; NULL
 * with *err otherwise. */
kl_ctr_t *kl_exec_ctr(kl_node_t *n, const json_t *body, json_t **err)
{
    const char *ns = json_string_value(json_object_get(body, "namespace"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *cname = json_string_value(json_object_get(body, "container"));
    if (!name || !*name) {
        *err = proto_status_new(PROTO_EBADREQUEST, "name is required", NULL);
        return NULL;
    }
    kl_pod_t *p = kl_pod_find(n, ns && *ns ? ns : "default", name);
    if (!p) {
        *err = proto_status_notfound("pods", NULL, name);
        return NULL;
    }
    kl_ctr_t *c = NULL;
    for (size_t i = 0; i < p->nctrs && !c; i++)
        if (cname && *cname ? !strcmp(p->ctrs[i].name, cname) : !p->ctrs[i].init)
            c = &p->ctrs[i];
    if (!c) {
        *err = s_xerr(PROTO_ENOTFOUND, "container %s is not valid for pod %s",
                      cname && *cname ? cname : "", p->name);
        return NULL;
    }
    if (!c->id[0] || c->st.state != KL_STATE_RUNNING) {
        *err = s_xerr(PROTO_ECONFLICT, "container %s is not running%s", c->name, "");
        return NULL;
    }
    return c;
}

/* ---- the child ----------------------------------------------------------------- */

int kl_exec_child_setup(const int fds[3], bool tty)
{
    if (setsid() < 0)
        return -1;
    if (tty && ioctl(fds[0], TIOCSCTTY, 0) < 0)
        return -1;
    int in = fds[0] >= 0 ? fds[0] : open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
        return -1;
    close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    return 0;
}
