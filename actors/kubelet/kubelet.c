/*
 * actors/kubelet/kubelet.c — the kubelet actor: one broker connection,
 * one or more nodes (several only for hollow nodes). Per node: a runtime
 * driver, the Node object (registered with create, or patched when it
 * exists; its status — capacity, conditions, addresses, nodeInfo — sent
 * at start and as the heartbeat every few seconds), the pods informer on
 * the node stream, and the `logs` service. Shared by all nodes: informers
 * on services, configmaps and secrets (for container environments), and a
 * 500 ms timer that syncs every pod worker (level-triggered).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "actors/kubelet/image.h"
#include "actors/kubelet/kubelet.h"
#include "actors/kubelet/routes.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_VERSION "v1.32.0-zkube"

/* ---- the Node object ------------------------------------------------------ */

static void s_machine_memory(char *out, size_t n)
{
    FILE *f = fopen("/proc/meminfo", "r");
    long long kib = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    snprintf(out, n, "%lldKi", kib);
}

static void s_os_image(char *out, size_t n)
{
    FILE *f = fopen("/etc/os-release", "r");
    char line[512];
    snprintf(out, n, "Linux");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "PRETTY_NAME=", 12))
            continue;
        char *v = line + 12;
        v[strcspn(v, "\n")] = '\0';
        if (*v == '"') {
            v++;
            v[strcspn(v, "\"")] = '\0';
        }
        snprintf(out, n, "%s", v);
    }
    if (f)
        fclose(f);
}

static json_t *s_labels(kl_node_t *n)
{
    json_t *l = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kubernetes.io/hostname", n->name,
                          "kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64",
                          "beta.kubernetes.io/os", "linux", "beta.kubernetes.io/arch", "amd64");
    if (n->k->hollow)
        json_object_set_new(l, "node.kubernetes.io/hollow", json_string("true"));
    char buf[4096], *save = NULL;
    snprintf(buf, sizeof buf, "%s", n->k->o.labels ? n->k->o.labels : "");
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        json_object_set_new(l, kv, json_string(eq + 1));
    }
    return l;
}

static json_t *s_resources(kl_kubelet_t *k)
{
    char cpu[32], mem[64], pods[32];
    if (k->o.cpu)
        snprintf(cpu, sizeof cpu, "%s", k->o.cpu);
    else
        snprintf(cpu, sizeof cpu, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    if (k->o.memory)
        snprintf(mem, sizeof mem, "%s", k->o.memory);
    else
        s_machine_memory(mem, sizeof mem);
    snprintf(pods, sizeof pods, "%d", k->o.max_pods > 0 ? k->o.max_pods : 110);
    return json_pack("{s:s, s:s, s:s, s:s}", "cpu", cpu, "memory", mem, "pods", pods,
                     "ephemeral-storage", "100Gi");
}

static json_t *s_cond(const json_t *old, const char *type, const char *status, const char *reason,
                      const char *msg, const char *now)
{
    const char *since = now;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(old, "conditions"), i, c)
        if (!strcmp(proto_obj_str(c, "type") ?: "", type) &&
            !strcmp(proto_obj_str(c, "status") ?: "", status) &&
            proto_obj_str(c, "lastTransitionTime"))
            since = proto_obj_str(c, "lastTransitionTime");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status,
                     "lastHeartbeatTime", now, "lastTransitionTime", since, "reason", reason,
                     "message", msg);
}

static json_t *s_node_info(kl_node_t *n)
{
    struct utsname u;
    char os[512], boot[64] = "";
    uname(&u);
    s_os_image(os, sizeof os);
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (fgets(boot, sizeof boot, f))
            boot[strcspn(boot, "\n")] = '\0';
        fclose(f);
    }
    const char *drv = n->drv->ops->name;
    const char *rt = !strcmp(drv, "runc")      ? "runc://1.1.5"
                     : !strcmp(drv, "process") ? "zkube-process://0.1"
                                               : "zkube-hollow://0.1";
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "machineID", boot,
                     "systemUUID", boot, "bootID", boot, "kernelVersion", u.release, "osImage", os,
                     "containerRuntimeVersion", rt, "kubeletVersion", S_VERSION,
                     "kubeProxyVersion", S_VERSION, "operatingSystem", "linux", "architecture",
                     "amd64");
}

static json_t *s_node_status(kl_node_t *n)
{
    char now[32];
    proto_now_rfc3339(now);
    const json_t *old = n->node_status;
    json_t *conds = json_pack(
        "[o, o, o, o]",
        s_cond(old, "MemoryPressure", "False", "KubeletHasSufficientMemory",
               "kubelet has sufficient memory available", now),
        s_cond(old, "DiskPressure", "False", "KubeletHasNoDiskPressure",
               "kubelet has no disk pressure", now),
        s_cond(old, "PIDPressure", "False", "KubeletHasSufficientPID",
               "kubelet has sufficient PID available", now),
        s_cond(old, "Ready", "True", "KubeletReady", "kubelet is posting ready status", now));
    kl_kubelet_t *k = n->k;
    if (!k->resources)
        k->resources = s_resources(k);
    if (!k->node_info)
        k->node_info = s_node_info(n);
    json_t *res = k->resources;
    return json_pack("{s:O, s:O, s:o, s:[{s:s, s:s}, {s:s, s:s}], s:{s:{s:i}}, s:O}",
                     "capacity", res, "allocatable", res, "conditions", conds, "addresses",
                     "type", "InternalIP", "address", n->k->host_ip, "type", "Hostname",
                     "address", n->name, "daemonEndpoints", "kubeletEndpoint", "Port", 10250,
                     "nodeInfo", k->node_info);
}

json_t *kl_node_object(kl_node_t *n)
{
    json_t *node = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{}}", "apiVersion", "v1", "kind", "Node",
                             "metadata", "name", n->name, "labels", s_labels(n), "spec");
    const char *cidr = n->k->o.pod_cidr;
    if (cidr && *cidr) {
        proto_obj_set_str(node, "spec.podCIDR", cidr);
        proto_obj_set(node, "spec.podCIDRs", json_pack("[s]", cidr));
    }
    return node;
}

/* ---- registration and heartbeats ------------------------------------------ */

static void s_send_status(kl_node_t *n);

static void s_on_status(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a;
    kl_node_t *n = arg;
    n->node_inflight = false;
    if (code == 404) {
        rt_warn("node %s: deleted from the store; registering again", n->name);
        n->registered = false;
    } else if (code != 200) {
        rt_warn("node %s: status update: %d %s", n->name, code,
                json_string_value(json_object_get(body, "message")) ?: "");
    } else {
        json_decref(n->node_status);
        n->node_status = json_incref(json_object_get((json_t *)body, "status"));
    }
}

static void s_send_status(kl_node_t *n)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:{s:s}, s:o}}", "resource",
                             "nodes", "namespace", "", "name", n->name, "subresource", "status",
                             "object", "apiVersion", "v1", "kind", "Node", "metadata", "name",
                             n->name, "status", s_node_status(n));
    n->node_inflight = true;
    if (rt_call(n->k->a, "apiserver", "update", body, NULL, s_on_status, n) < 0)
        n->node_inflight = false;
    json_decref(body);
}

static void s_on_registered(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a;
    kl_node_t *n = arg;
    n->node_inflight = false;
    if (code != 200 && code != 201) {
        rt_warn("node %s: register: %d %s", n->name, code,
                json_string_value(json_object_get(body, "message")) ?: "");
        return;
    }
    rt_info("node %s: registered", n->name);
    n->registered = true;
    s_send_status(n);
}

static void s_on_create(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    kl_node_t *n = arg;
    if (code != 409) {
        s_on_registered(a, code, body, arg);
        return;
    }
    /* it exists (a restarted kubelet): bring labels and podCIDR up to date */
    json_t *node = kl_node_object(n);
    json_t *patch = json_pack("{s:{s:O}}", "metadata", "labels",
                              proto_obj_get(node, "metadata.labels"));
    if (proto_obj_get(node, "spec.podCIDR"))
        json_object_set(patch, "spec", json_object_get(node, "spec"));
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:o}", "resource", "nodes", "namespace", "",
                            "name", n->name, "patchType", "merge", "patch", patch);
    if (rt_call(n->k->a, "apiserver", "patch", req, NULL, s_on_registered, n) < 0)
        n->node_inflight = false;
    json_decref(req);
    json_decref(node);
}

static void s_register(kl_node_t *n)
{
    json_t *req = json_pack("{s:s, s:s, s:o}", "resource", "nodes", "namespace", "", "object",
                            kl_node_object(n));
    n->node_inflight = true;
    if (rt_call(n->k->a, "apiserver", "create", req, NULL, s_on_create, n) < 0)
        n->node_inflight = false;
    json_decref(req);
}

void kl_node_heartbeat(kl_node_t *n)
{
    if (n->node_inflight)
        return;
    if (!n->registered)
        s_register(n);
    else
        s_send_status(n);
}

kl_node_t *kl_node_find(kl_kubelet_t *k, const char *name)
{
    for (size_t i = 0; i < k->nnodes; i++)
        if (!strcmp(k->nodes[i]->name, name))
            return k->nodes[i];
    return NULL;
}

/* ---- informers and timers ------------------------------------------------- */

static void s_pod_added(void *arg, const json_t *obj)
{
    kl_pod_upsert(arg, obj);
}

static void s_pod_updated(void *arg, const json_t *old_obj, const json_t *obj)
{
    (void)old_obj;
    kl_pod_upsert(arg, obj);
}

static void s_pod_deleted(void *arg, const json_t *obj)
{
    kl_pod_forget(arg, obj);
}

static void s_pods_synced(void *arg)
{
    kl_node_t *n = arg;
    if (!n->adopted) {
        kl_pods_cleanup_orphans(n);
        n->adopted = true;
    }
}

static void s_on_sync(rt_actor_t *a, void *arg)
{
    (void)a;
    kl_kubelet_t *k = arg;
    for (size_t i = 0; i < k->nnodes; i++)
        kl_pods_sync_all(k->nodes[i]);
}

static void s_on_heartbeat(rt_actor_t *a, void *arg)
{
    (void)a;
    kl_kubelet_t *k = arg;
    for (size_t i = 0; i < k->nnodes; i++)
        kl_node_heartbeat(k->nodes[i]);
}

/* ---- set-up --------------------------------------------------------------- */

static int s_driver(kl_node_t *n, char *err, size_t errlen)
{
    char state[PATH_MAX + 16];
    snprintf(state, sizeof state, "%s/driver", n->dir);
    kl_mkdirs(state, 0755);
    kl_driver_config_t dc = {.node = n->name, .state_dir = state, .pod_cidr = n->k->o.pod_cidr,
                             .cluster_cidr = n->k->o.cluster_cidr, .cluster_tag = NULL};
    /* a short tag keeps two clusters on one machine apart; the supervisor
     * passes one, else it comes from ZKUBE_HOME */
    char tag[16];
    unsigned h = 5381;
    for (const char *c = n->k->cfg.home; *c; c++)
        h = h * 33 + (unsigned char)*c;
    snprintf(tag, sizeof tag, "%04x", h & 0xffff);
    dc.cluster_tag = n->k->o.cluster_tag ? n->k->o.cluster_tag : tag;
    const char *d = n->k->o.driver;
    if (!strcmp(d, "process"))
        return kubelet_driver_process(&n->drv, &dc, err, errlen);
    if (!strcmp(d, "hollow"))
        return kubelet_driver_hollow(&n->drv, &dc, err, errlen);
    if (!strcmp(d, "runc"))
        return kubelet_driver_runc(&n->drv, &dc, err, errlen);
    snprintf(err, errlen, "unknown driver \"%s\" (runc, process, hollow)", d);
    return -EINVAL;
}

static int s_node_open(kl_kubelet_t *k, const char *name, kl_node_t **out)
{
    char err[512] = "", rel[PATH_MAX];
    kl_node_t *n = calloc(1, sizeof *n);
    if (!n)
        abort();
    n->k = k;
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->service, sizeof n->service, "kubelet-%s", name);
    snprintf(rel, sizeof rel, "kubelet/%s", name);
    rt_path(&k->cfg, rel, n->dir, sizeof n->dir);
    kl_mkdirs(n->dir, 0755);
    int rc = s_driver(n, err, sizeof err);
    if (rc < 0) {
        rt_err("node %s: driver %s: %s", name, k->o.driver, err);
        free(n);
        return rc;
    }
    if (n->drv->ops->list(n->drv, &n->adopt) < 0)
        n->adopt = json_object();
    kl_logs_serve(n);
    rt_informer_handlers_t h = {s_pod_added, s_pod_updated, s_pod_deleted, s_pods_synced};
    rt_informer_opts_t io = {.node = n->name};
    rc = rt_informer_new(&n->inf, k->a, "pods", &io, &h, n);
    if (rc < 0) {
        rt_err("node %s: pods informer: %s", name, proto_strerror(rc));
        return rc;
    }
    kl_node_heartbeat(n);
    *out = n;
    return 0;
}

static int s_open_nodes(kl_kubelet_t *k)
{
    size_t count = k->o.count > 0 ? (size_t)k->o.count : 1;
    k->nodes = calloc(count, sizeof *k->nodes);
    if (!k->nodes)
        abort();
    for (size_t i = 0; i < count; i++) {
        char name[KL_NAME_MAX];
        if (k->o.count > 0)
            snprintf(name, sizeof name, "%s-%zu", k->o.node, i);
        else
            snprintf(name, sizeof name, "%s", k->o.node);
        int rc = s_node_open(k, name, &k->nodes[k->nnodes]);
        if (rc < 0)
            return rc;
        k->nnodes++;
    }
    return 0;
}

static void s_close(kl_kubelet_t *k)
{
    for (size_t i = 0; i < k->nnodes; i++) {
        kl_node_t *n = k->nodes[i];
        kl_stream_close_all(n); /* before the pods: streams point at them */
        rt_informer_destroy(&n->inf);
        while (n->pods) { /* containers keep running: the next kubelet adopts them */
            kl_pod_t *p = n->pods;
            n->pods = p->next;
            kl_pod_free(p);
        }
        if (n->drv)
            n->drv->ops->destroy(&n->drv);
        json_decref(n->adopt);
        json_decref(n->node_status);
        free(n);
    }
    free(k->nodes);
    rt_informer_destroy(&k->svc_inf);
    rt_informer_destroy(&k->cm_inf);
    rt_informer_destroy(&k->secret_inf);
    json_decref(k->node_info);
    json_decref(k->resources);
    kubelet_routes_stop();
    rt_actor_destroy(&k->a);
}

int kl_run(const rt_config_t *cfg, const kl_opts_t *o)
{
    kl_kubelet_t k = {.cfg = *cfg, .o = *o};
    char id[KL_NAME_MAX + 16], err[512] = "";
    snprintf(k.host_ip, sizeof k.host_ip, "%s", o->node_ip ? o->node_ip : "127.0.0.1");
    kubelet_image_store(k.image_store, sizeof k.image_store);
    k.hollow = !strcmp(o->driver, "hollow");
    snprintf(id, sizeof id, "kubelet-%s", o->node);
    if (rt_actor_open(&k.a, id, cfg, err, sizeof err) < 0) {
        rt_err("%s", err);
        return -EIO;
    }
    int rc = 0;
    if (!k.hollow) {
        rt_informer_handlers_t none = {0};
        rc = rt_informer_new(&k.svc_inf, k.a, "services", NULL, &none, &k);
        if (rc == 0)
            rc = rt_informer_new(&k.cm_inf, k.a, "configmaps", NULL, &none, &k);
        if (rc == 0)
            rc = rt_informer_new(&k.secret_inf, k.a, "secrets", NULL, &none, &k);
    }
    if (rc == 0)
        rc = s_open_nodes(&k);
    /* host-gw: routes to the pod CIDRs of nodes on other hosts */
    if (rc == 0 && !o->count && !k.hollow && o->cluster_cidr &&
        kubelet_routes_start_in(k.a, o->node, o->cluster_cidr, err, sizeof err) < 0)
        rt_warn("%s (pods on other hosts are not reachable by pod IP)", err);
    if (rc == 0) {
        rt_info("kubelet %s: %zu node(s), driver %s", o->node, k.nnodes, o->driver);
        k.sync_timer = rt_timer_add(k.a, 500, true, s_on_sync, &k);
        k.hb_timer = rt_timer_add(k.a, (o->heartbeat_s > 0 ? o->heartbeat_s : 5) * 1000, true,
                                  s_on_heartbeat, &k);
        rt_run(k.a);
    }
    s_close(&k);
    return rc;
}
