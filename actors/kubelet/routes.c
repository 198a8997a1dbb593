/*
 * actors/kubelet/routes — host-gw routes to the other nodes' pod CIDRs
 * (see routes.h). Level-triggered: after every change of the nodes cache the
 * wanted set is recomputed and compared with what is installed; only the
 * differences run `ip`. The installed set is also read back from the kernel
 * at the first sync, so a kubelet restarted after kill -9 removes routes of
 * nodes deleted meanwhile.
 */
#include "actors/kubelet/routes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/obj.h"
#include "runtime/informer.h"
#include "runtime/log.h"
#include "runtime/spec.h"

#define S_MAX_ROUTES 10000
#define S_OUT_MAX (1 << 20)

typedef struct s_route {
    char cidr[20], via[16];
} s_route_t;

typedef struct s_routes {
    rt_actor_t *a;
    rt_informer_t *inf;
    char node[256];
    char cluster[3][20]; /* allowed ranges */
    size_t ncluster;
    const char *ip_bin;
    s_route_t *have; /* installed */
    size_t nhave;
    bool adopted;     /* kernel routes read back */
    int64_t retry_ms; /* after a failed add, none before this (monotonic) */
} s_routes_t;

#define S_RETRY_MS 30000 /* e.g. not root: warn twice a minute, not per heartbeat */

static s_routes_t *s_rt;

static const char *s_find_ip(void)
{
    static const char *paths[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* Runs ip with argv (argv[0] ignored); stdout into out when given. Returns
 * the exit status, or -errno. */
static int s_ip(const char *bin, const char *const *argv, char *out, size_t outcap)
{
    int fds[2] = {-1, -1};
    if (out && pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(out ? fds[1] : nul, STDOUT_FILENO);
        dup2(nul, STDIN_FILENO);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    if (out)
        close(fds[1]);
    size_t len = 0;
    while (out && pid > 0) {
        ssize_t n = read(fds[0], out + len, outcap - 1 - len);
        if (n <= 0 || (len += (size_t)n) >= outcap - 1)
            break;
    }
    if (out) {
        out[len] = '\0';
        close(fds[0]);
    }
    if (pid < 0)
        return -errno;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -ECHILD;
}

/* ---- pure ------------------------------------------------------------------- */

const char *kubelet_node_internal_ip(const json_t *node)
{
    const json_t *addrs = proto_obj_get(node, "status.addresses");
    size_t i;
    const json_t *ad;
    json_array_foreach(addrs, i, ad)
    {
        const char *t = json_string_value(json_object_get(ad, "type"));
        if (t && !strcmp(t, "InternalIP"))
            return json_string_value(json_object_get(ad, "address"));
    }
    return NULL;
}

static bool s_ipv4(const char *s)
{
    char buf[40];
    uint32_t net;
    int len;
    return s && strlen(s) < 16 && snprintf(buf, sizeof buf, "%s/32", s) > 0 &&
           rt_cidr_parse(buf, &net, &len) == 0;
}

bool kubelet_route_for(const json_t *node, const char *self, const char *self_ip,
                       const char *self_cidr, const char *cluster_cidr, char *cidr, char *via)
{
    const char *name = proto_obj_name(node), *pc = proto_obj_str(node, "spec.podCIDR");
    const char *ip = kubelet_node_internal_ip(node);
    if (!name || !strcmp(name, self) || !pc || !ip || !self_ip || !*self_ip)
        return false;
    if (!strcmp(ip, self_ip) || !s_ipv4(ip) || strlen(pc) >= 20)
        return false;
    if (!rt_cidr_within(pc, cluster_cidr))
        return false;
    if (self_cidr && (rt_cidr_within(pc, self_cidr) || rt_cidr_within(self_cidr, pc)))
        return false;
    snprintf(cidr, 20, "%s", pc);
    snprintf(via, 16, "%s", ip);
    return true;
}

/* ---- reconcile ----------------------------------------------------------------- */

typedef struct s_want {
    s_routes_t *r;
    const char *self_ip, *self_cidr;
    s_route_t *v;
    size_t n;
} s_want_t;

static bool s_want_one(void *arg, const json_t *node)
{
    s_want_t *w = arg;
    char cidr[20], via[16];
    for (size_t i = 0; i < w->r->ncluster && w->n < S_MAX_ROUTES; i++)
        if (kubelet_route_for(node, w->r->node, w->self_ip, w->self_cidr, w->r->cluster[i], cidr,
                              via)) {
            memcpy(w->v[w->n].cidr, cidr, sizeof cidr);
            memcpy(w->v[w->n++].via, via, sizeof via);
            break;
        }
    return true;
}

static int s_route_cmd(s_routes_t *r, const char *verb, const s_route_t *rt)
{
    const char *argv[] = {
        "ip", "route", verb, rt->cidr, "via", rt->via, "proto", KUBELET_ROUTE_PROTO, NULL};
    int rc = s_ip(r->ip_bin, argv, NULL, 0);
    if (rc != 0)
        rt_warn("ip route %s %s via %s: %s", verb, rt->cidr, rt->via,
                rc < 0 ? strerror(-rc) : "failed");
    else
        rt_info("route %s %s via %s", verb, rt->cidr, rt->via);
    return rc;
}

static const s_route_t *s_lookup(const s_route_t *v, size_t n, const char *cidr)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].cidr, cidr))
            return &v[i];
    return NULL;
}

/* Routes of our proto inside our ranges, as the kernel has them. */
static void s_adopt(s_routes_t *r)
{
    char *out = malloc(S_OUT_MAX);
    const char *argv[] = {"ip", "-4", "route", "show", "proto", KUBELET_ROUTE_PROTO, NULL};
    if (!out || s_ip(r->ip_bin, argv, out, S_OUT_MAX) != 0) {
        free(out);
        return;
    }
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        s_route_t rt = {{0}, {0}};
        if (sscanf(line, "%19s via %15s", rt.cidr, rt.via) != 2 || r->nhave >= S_MAX_ROUTES)
            continue;
        for (size_t i = 0; i < r->ncluster; i++)
            if (rt_cidr_within(rt.cidr, r->cluster[i]) && !s_lookup(r->have, r->nhave, rt.cidr)) {
                r->have[r->nhave++] = rt;
                break;
            }
    }
    free(out);
}

static void s_reconcile(s_routes_t *r)
{
    const json_t *me = rt_informer_get(r->inf, "", r->node);
    s_want_t w = {r, me ? kubelet_node_internal_ip(me) : NULL,
                  me ? proto_obj_str(me, "spec.podCIDR") : NULL, NULL, 0};
    if (!w.self_ip || !rt_informer_synced(r->inf))
        return; /* our own address decides which nodes are remote */
    if (!r->adopted) {
        s_adopt(r);
        r->adopted = true;
    }
    w.v = calloc(rt_informer_count(r->inf) + 1, sizeof *w.v);
    if (!w.v)
        return;
    rt_informer_foreach(r->inf, NULL, NULL, s_want_one, &w);
    for (size_t i = 0; i < r->nhave;) { /* gone or moved: delete */
        const s_route_t *x = s_lookup(w.v, w.n, r->have[i].cidr);
        if (!x || strcmp(x->via, r->have[i].via)) {
            s_route_cmd(r, "del", &r->have[i]);
            r->have[i] = r->have[--r->nhave];
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < w.n && proto_mono_ms() >= r->retry_ms; i++) { /* new: add */
        if (s_lookup(r->have, r->nhave, w.v[i].cidr))
            continue;
        if (s_route_cmd(r, "replace", &w.v[i]) != 0)
            r->retry_ms = proto_mono_ms() + S_RETRY_MS;
        else if (r->nhave < S_MAX_ROUTES)
            r->have[r->nhave++] = w.v[i];
    }
    free(w.v);
}

static void s_on_add(void *arg, const json_t *obj)
{
    (void)obj;
    s_reconcile(arg);
}

static void s_on_update(void *arg, const json_t *old_obj, const json_t *obj)
{
    (void)old_obj;
    (void)obj;
    s_reconcile(arg);
}

static void s_on_synced(void *arg)
{
    s_reconcile(arg);
}

/* ---- start / stop ----------------------------------------------------------------- */

int kubelet_routes_start_in(rt_actor_t *a, const char *node, const char *cluster_cidr, char *err,
                            size_t errlen)
{
    static const char *priv[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"};
    uint32_t net;
    int len;
    if (s_rt) {
        snprintf(err, errlen, "routes already started");
        return -EALREADY;
    }
    if (!node || strlen(node) >= sizeof s_rt->node ||
        (cluster_cidr && rt_cidr_parse(cluster_cidr, &net, &len) < 0)) {
        snprintf(err, errlen, "routes: bad node name or cluster CIDR \"%s\"",
                 cluster_cidr ? cluster_cidr : "");
        return -EINVAL;
    }
    s_routes_t *r = calloc(1, sizeof *r);
    if (!r || !(r->have = calloc(S_MAX_ROUTES, sizeof *r->have))) {
        free(r);
        return -ENOMEM;
    }
    r->a = a;
    snprintf(r->node, sizeof r->node, "%s", node);
    for (size_t i = 0; i < (cluster_cidr ? 1 : 3); i++)
        snprintf(r->cluster[r->ncluster++], 20, "%s", cluster_cidr ? cluster_cidr : priv[i]);
    if (!(r->ip_bin = s_find_ip())) {
        snprintf(err, errlen, "routes: no `ip` binary (iproute2) found");
        free(r->have);
        free(r);
        return -ENOENT;
    }
    rt_informer_handlers_t h = {s_on_add, s_on_update, s_on_add, s_on_synced};
    int rc = rt_informer_new(&r->inf, a, "nodes", NULL, &h, r);
    if (rc < 0) {
        snprintf(err, errlen, "routes: nodes informer: %s", strerror(-rc));
        free(r->have);
        free(r);
        return rc;
    }
    s_rt = r;
    return 0;
}

int kubelet_routes_start(rt_actor_t *a, const char *node, char *err, size_t errlen)
{
    return kubelet_routes_start_in(a, node, NULL, err, errlen);
}

void kubelet_routes_stop(void)
{
    s_routes_t *r = s_rt;
    if (!r)
        return;
    for (size_t i = 0; i < r->nhave; i++)
        s_route_cmd(r, "del", &r->have[i]);
    rt_informer_destroy(&r->inf);
    free(r->have);
    free(r);
    s_rt = NULL;
}
