/*
 * tools/zkubectl/client.c — zkubectl's one connection to the cluster: an
 * actor "zkubectl-<pid>" on the broker of $ZKUBE_HOME, requests to the
 * "apiserver" service (reads retried, writes sent once), and kubectl's
 * rendering of server errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor.h"
#include "runtime/config.h"
#include "tools/zkubectl/ctl.h"

#define S_TIMEOUT_MS 10000

int ctl_open(ctl_t *c, const ctl_args_t *a)
{
    rt_config_t cfg;
    char err[CTL_ERR] = "", id[64];
    memset(c, 0, sizeof *c);
    c->args = a;
    c->ns = a->ns && *a->ns ? a->ns : "default";
    setenv("ZKUBE_LOG", "error", 0); /* a CLI's stderr is for the user's errors */
    if (rt_config_load(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    rt_endpoints_t eps;
    if (rt_endpoints_from(cfg.broker, &eps) == 0 && !strncmp(eps.router, "ipc://", 6) &&
        access(eps.router + 6, F_OK) != 0) {
        /* no broker socket: fail now as kubectl does, not after the timeouts */
        fprintf(stderr, "The connection to the server %s was refused - did you specify the "
                        "right host or port?\n", cfg.broker);
        return 1;
    }
    snprintf(id, sizeof id, "zkubectl-%d", (int)getpid());
    rt_actor_t *act = NULL;
    if (rt_actor_open(&act, id, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "Unable to connect to the server: %s\n", err);
        return 1;
    }
    c->actor = act;
    return 0;
}

void ctl_close(ctl_t *c)
{
    rt_actor_t *act = c->actor;
    rt_actor_destroy(&act);
    c->actor = NULL;
}

static bool s_is_read(const char *op)
{
    return !strcmp(op, "get") || !strcmp(op, "list") || !strcmp(op, "resources") ||
           !strcmp(op, "version") || !strcmp(op, "watchlog");
}

int ctl_call(ctl_t *c, const char *op, const json_t *body, json_t **reply)
{
    rt_call_opts_t o = {.timeout_ms = S_TIMEOUT_MS, .retries = s_is_read(op) ? 2 : 0};
    *reply = NULL;
    int code = rt_call_sync(c->actor, "apiserver", op, body, &o, reply);
    if (code < 100) { /* a local failure: make it look like a server Status */
        json_decref(*reply);
        *reply = proto_status_new(code < 0 ? code : PROTO_EINTERNAL, proto_strerror(code), NULL);
        return 500;
    }
    if (!*reply)
        *reply = json_object();
    return code;
}

json_t *ctl_body(const proto_kind_t *k, const char *ns, const char *name)
{
    json_t *b = json_pack("{s:s, s:s}", "resource", k->resource, "namespace",
                          k->namespaced && ns ? ns : "");
    if (name)
        json_object_set_new(b, "name", json_string(name));
    return b;
}

const char *ctl_ns_for(const ctl_t *c, const proto_kind_t *k)
{
    if (!k->namespaced || c->args->all_ns)
        return "";
    return c->ns;
}
