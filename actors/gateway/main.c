/*
 * actors/gateway/main.c — `zkube gateway [--http-port N] [--http-bind ADDR]`:
 * reads the cluster's configuration and flags, connects to the broker as
 * actor "gateway", serves HTTP (http.c) on the actor's loop until SIGTERM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gateway/gateway.h"
#include "actors/gateway/internal.h"
#include "runtime/config.h"
#include "runtime/log.h"

static int s_usage(void)
{
    fprintf(stderr, "usage: zkube gateway [--http-port N] [--http-bind ADDR]\n"
                    "  serves the Kubernetes API over HTTP (default 127.0.0.1:8080)\n");
    return 2;
}

static int s_port(const char *s, int *port)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 65535)
        return -EINVAL;
    *port = (int)v;
    return 0;
}

static int s_run(const rt_config_t *cfg, const char *bind, int port)
{
    gw_t g = {0};
    char err[256] = "";
    int rc = rt_actor_open(&g.a, "gateway", cfg, err, sizeof err);
    if (rc < 0) {
        rt_err("cannot connect to the broker: %s", err);
        return 1;
    }
    rc = gw_http_start(&g, bind, port, err, sizeof err);
    if (rc < 0) {
        rt_err("%s", err);
        rt_actor_destroy(&g.a);
        return 1;
    }
    rt_info("serving the Kubernetes API on http://%s:%d", bind, port);
    rt_run(g.a);
    gw_http_stop(&g);
    rt_actor_destroy(&g.a);
    return 0;
}

int gw_main(int argc, char **argv)
{
    const char *bind = "127.0.0.1";
    int port = 8080;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--http-port") && i + 1 < argc) {
            if (s_port(argv[++i], &port) < 0)
                return s_usage();
        } else if (!strcmp(argv[i], "--http-bind") && i + 1 < argc) {
            bind = argv[++i];
        } else {
            return s_usage();
        }
    }
    rt_log_init("gateway");
    rt_config_t cfg;
    char err[256] = "";
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube gateway: %s\n", err);
        return 1;
    }
    return s_run(&cfg, bind, port);
}
