/*
 * tools/zkubectl/describe_node.c — `zkubectl describe node`, laid out as
 * kubectl's node describer: roles from node-role labels, taints, the lease
 * line, conditions, addresses, capacity and allocatable sorted by name,
 * system info, pod CIDRs, the node's non-terminated pods with their
 * requests and limits against allocatable, the totals, and events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/quantity.h"
#include "tools/zkubectl/describe.h"

#define S_ROLE_PREFIX "node-role.kubernetes.io/"

static const char *s_str(const json_t *o, const char *path, const char *def)
{
    const char *s = proto_obj_str(o, path);
    return s && *s ? s : def;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* kubectl's findNodeRoles: node-role.kubernetes.io/ROLE and kubernetes.io/role. */
static void s_roles(ctl_tw_t *tw, const json_t *o)
{
    const char *roles[64];
    size_t n = 0, len = 0;
    const char *k;
    json_t *v;
    json_object_foreach(proto_obj_get(o, "metadata.labels"), k, v)
    {
        if (n < 64 && !strncmp(k, S_ROLE_PREFIX, strlen(S_ROLE_PREFIX)) &&
            k[strlen(S_ROLE_PREFIX)])
            roles[n++] = k + strlen(S_ROLE_PREFIX);
        else if (n < 64 && !strcmp(k, "kubernetes.io/role") && json_string_length(v))
            roles[n++] = json_string_value(v);
    }
    qsort(roles, n, sizeof roles[0], s_cmp_str);
    char buf[1024] = "<none>";
    for (size_t i = 0; i < n && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "", roles[i]);
    ctl_tw_printf(tw, 0, "Roles:\t%s", buf);
}

static void s_taints(ctl_tw_t *tw, const json_t *o)
{
    size_t i;
    json_t *x;
    if (!json_array_size(proto_obj_get(o, "spec.taints")))
        ctl_tw_printf(tw, 0, "Taints:\t<none>");
    json_array_foreach(proto_obj_get(o, "spec.taints"), i, x)
        ctl_tw_printf(tw, 0, "%s\t%s%s%s:%s", i ? "" : "Taints:", s_str(x, "key", ""),
                      proto_obj_str(x, "value") ? "=" : "", s_str(x, "value", ""),
                      s_str(x, "effect", ""));
}

static void s_conditions(ctl_tw_t *tw, const json_t *conds)
{
    char t1[64], t2[64];
    size_t i;
    json_t *x;
    if (!json_array_size(conds))
        return;
    ctl_tw_printf(tw, 0, "Conditions:");
    ctl_tw_printf(tw, 1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage");
    ctl_tw_printf(tw, 1, "----\t------\t-----------------\t------------------\t------\t-------");
    json_array_foreach(conds, i, x)
        ctl_tw_printf(tw, 1, "%s \t%s \t%s \t%s \t%s \t%s", s_str(x, "type", ""),
                      s_str(x, "status", ""),
                      ctl_desc_time(proto_obj_str(x, "lastHeartbeatTime"), t1, sizeof t1),
                      ctl_desc_time(proto_obj_str(x, "lastTransitionTime"), t2, sizeof t2),
                      s_str(x, "reason", ""), s_str(x, "message", ""));
}

static void s_system_info(ctl_tw_t *tw, const json_t *o)
{
    static const struct {
        const char *title, *field;
    } f[] = {
        {"Machine ID", "machineID"},
        {"System UUID", "systemUUID"},
        {"Boot ID", "bootID"},
        {"Kernel Version", "kernelVersion"},
        {"OS Image", "osImage"},
        {"Operating System", "operatingSystem"},
        {"Architecture", "architecture"},
        {"Container Runtime Version", "containerRuntimeVersion"},
        {"Kubelet Version", "kubeletVersion"},
        {"Kube-Proxy Version", "kubeProxyVersion"},
    };
    const json_t *info = proto_obj_get(o, "status.nodeInfo");
    ctl_tw_printf(tw, 0, "System Info:");
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        ctl_tw_printf(tw, 0, "  %s:\t%s", f[i].title, s_str(info, f[i].field, ""));
}

/* ---- requests and limits ------------------------------------------------ */

enum { S_CPU, S_MEM, S_EPH, S_NRES };
static const char *const s_res[S_NRES] = {"cpu", "memory", "ephemeral-storage"};

typedef struct s_sum {
    proto_qty_t q[S_NRES];
    bool set[S_NRES];
} s_sum_t;

/* Adds (or, for an init container, raises to) the quantities of list. */
static void s_add_list(s_sum_t *s, const json_t *list, bool max)
{
    for (int r = 0; r < S_NRES; r++) {
        const json_t *v = json_object_get(list, s_res[r]);
        proto_qty_t q;
        if (!json_is_string(v) || proto_qty_parse(json_string_value(v), &q) != 0)
            continue;
        if (!s->set[r] || (max && proto_qty_cmp(&q, &s->q[r]) > 0))
            s->q[r] = q; /* the first keeps its text, as Kubernetes copies it */
        else if (!max)
            proto_qty_add(&s->q[r], &q);
        s->set[r] = true;
    }
}

/* kubectl's PodRequestsAndLimits: containers summed, init containers as a
 * floor, the pod's overhead on top. */
static void s_pod_totals(const json_t *pod, s_sum_t *req, s_sum_t *lim)
{
    memset(req, 0, sizeof *req);
    memset(lim, 0, sizeof *lim);
    size_t i;
    json_t *c;
    json_array_foreach(proto_obj_get(pod, "spec.containers"), i, c)
    {
        s_add_list(req, proto_obj_get(c, "resources.requests"), false);
        s_add_list(lim, proto_obj_get(c, "resources.limits"), false);
    }
    json_array_foreach(proto_obj_get(pod, "spec.initContainers"), i, c)
    {
        s_add_list(req, proto_obj_get(c, "resources.requests"), true);
        s_add_list(lim, proto_obj_get(c, "resources.limits"), true);
    }
    s_add_list(req, proto_obj_get(pod, "spec.overhead"), false);
    s_add_list(lim, proto_obj_get(pod, "spec.overhead"), false);
}

/* "100m (5%)": q against the allocatable amount of resource r. */
static const char *s_frac(const s_sum_t *s, int r, const json_t *alloc, char *buf, size_t n)
{
    proto_qty_t zero, a;
    memset(&zero, 0, sizeof zero);
    const proto_qty_t *q = s->set[r] ? &s->q[r] : &zero;
    const json_t *av = json_object_get(alloc, s_res[r]);
    double total = 0, part = 0;
    if (json_is_string(av) && proto_qty_parse(json_string_value(av), &a) == 0)
        total = r == S_CPU ? (double)proto_qty_milli(&a) : (double)proto_qty_value(&a);
    part = r == S_CPU ? (double)proto_qty_milli(q) : (double)proto_qty_value(q);
    char qs[64];
    proto_qty_format(q, qs, sizeof qs);
    snprintf(buf, n, "%s (%lld%%)", qs, total > 0 ? (long long)(part / total * 100) : 0LL);
    return buf;
}

/* Adds a pod's totals into the node's (the first copied, as kubectl does). */
static void s_merge(s_sum_t *total, const s_sum_t *pod)
{
    for (int r = 0; r < S_NRES; r++) {
        if (!pod->set[r])
            continue;
        if (total->set[r])
            proto_qty_add(&total->q[r], &pod->q[r]);
        else
            total->q[r] = pod->q[r];
        total->set[r] = true;
    }
}

static void s_pod_row(ctl_tw_t *tw, const json_t *pod, const json_t *alloc, s_sum_t *treq,
                      s_sum_t *tlim)
{
    s_sum_t req, lim;
    s_pod_totals(pod, &req, &lim);
    char a[80], b[80], c[80], d[80], age[32];
    ctl_tw_printf(tw, 1, "%s\t%s\t\t%s\t%s\t%s\t%s\t%s", s_str(pod, "metadata.namespace", ""),
                  s_str(pod, "metadata.name", ""), s_frac(&req, S_CPU, alloc, a, sizeof a),
                  s_frac(&lim, S_CPU, alloc, b, sizeof b),
                  s_frac(&req, S_MEM, alloc, c, sizeof c),
                  s_frac(&lim, S_MEM, alloc, d, sizeof d),
                  ctl_desc_age(proto_obj_str(pod, "metadata.creationTimestamp"), age));
    s_merge(treq, &req);
    s_merge(tlim, &lim);
}

/* kubectl's describeNodeResource over the node's non-terminated pods. */
static void s_node_pods(ctl_tw_t *tw, const json_t *node, const json_t *pods)
{
    const json_t *alloc = proto_obj_get(node, "status.allocatable");
    if (!json_object_size(alloc))
        alloc = proto_obj_get(node, "status.capacity");
    ctl_tw_printf(tw, 0, "Non-terminated Pods:\t(%zu in total)", json_array_size(pods));
    ctl_tw_printf(tw, 1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\t"
                         "Memory Limits\tAge");
    ctl_tw_printf(tw, 1, "---------\t----\t\t------------\t----------\t---------------\t"
                         "-------------\t---");
    s_sum_t treq, tlim;
    memset(&treq, 0, sizeof treq);
    memset(&tlim, 0, sizeof tlim);
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p) s_pod_row(tw, p, alloc, &treq, &tlim);
    ctl_tw_printf(tw, 0, "Allocated resources:");
    ctl_tw_printf(tw, 0, "  (Total limits may be over 100 percent, i.e., overcommitted.)");
    ctl_tw_printf(tw, 1, "Resource\tRequests\tLimits");
    ctl_tw_printf(tw, 1, "--------\t--------\t------");
    for (int r = 0; r < S_NRES; r++) {
        char a[80], b[80];
        ctl_tw_printf(tw, 1, "%s\t%s\t%s", s_res[r], s_frac(&treq, r, alloc, a, sizeof a),
                      s_frac(&tlim, r, alloc, b, sizeof b));
    }
}

/* The pods bound to the node that have not ended, all namespaces. */
static json_t *s_list_pods(ctl_t *c, const char *node)
{
    char fs[512];
    snprintf(fs, sizeof fs, "spec.nodeName=%s,status.phase!=Failed,status.phase!=Succeeded",
             node);
    json_t *b = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", "",
                          "fieldSelector", fs),
           *rep = NULL;
    int code = ctl_call(c, "list", b, &rep);
    json_decref(b);
    json_t *items = code < 300 ? json_incref(json_object_get(rep, "items")) : NULL;
    json_decref(rep);
    return items;
}

void ctl_desc_node(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char t1[64];
    ctl_desc_meta(tw, o, false);
    s_roles(tw, o);
    ctl_desc_labels_annots(tw, o);
    ctl_tw_printf(tw, 0, "CreationTimestamp:\t%s",
                  ctl_desc_time(proto_obj_str(o, "metadata.creationTimestamp"), t1, sizeof t1));
    s_taints(tw, o);
    ctl_tw_printf(tw, 0, "Unschedulable:\t%s",
                  json_is_true(proto_obj_get(o, "spec.unschedulable")) ? "true" : "false");
    /* zkube serves no Lease kind: kubectl, asking for the node's lease,
     * gets a 404 for the whole resource and prints this */
    if (!proto_kind_find("leases"))
        ctl_tw_printf(tw, 0, "Lease:\tFailed to get lease: the server could not find the "
                             "requested resource");
    s_conditions(tw, proto_obj_get(o, "status.conditions"));
    ctl_tw_printf(tw, 0, "Addresses:");
    size_t i;
    json_t *x;
    json_array_foreach(proto_obj_get(o, "status.addresses"), i, x)
        ctl_tw_printf(tw, 1, "%s:\t%s", s_str(x, "type", ""), s_str(x, "address", ""));
    ctl_desc_resources(tw, 0, "Capacity:", proto_obj_get(o, "status.capacity"));
    ctl_desc_resources(tw, 0, "Allocatable:", proto_obj_get(o, "status.allocatable"));
    s_system_info(tw, o);
    if (proto_obj_str(o, "spec.podCIDR"))
        ctl_tw_printf(tw, 0, "PodCIDR:\t%s", s_str(o, "spec.podCIDR", ""));
    const json_t *cidrs = proto_obj_get(o, "spec.podCIDRs");
    if (json_array_size(cidrs)) {
        char buf[512] = "";
        size_t len = 0;
        json_array_foreach(cidrs, i, x) if (len < sizeof buf) len +=
            (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "",
                             json_is_string(x) ? json_string_value(x) : "");
        ctl_tw_printf(tw, 0, "PodCIDRs:\t%s", buf);
    }
    if (proto_obj_str(o, "spec.providerID"))
        ctl_tw_printf(tw, 0, "ProviderID:\t%s", s_str(o, "spec.providerID", ""));
    json_t *pods = s_list_pods(c, proto_obj_name(o) ? proto_obj_name(o) : "");
    if (pods)
        s_node_pods(tw, o, pods);
    else
        ctl_tw_printf(tw, 0, "Pods:\tnot authorized");
    json_decref(pods);
    ctl_desc_events(c, tw, o);
}
