/*
 * tools/zkubectl/describe_kinds.c — kubectl's describe layouts for the
 * kinds users describe most: Pod, ReplicationController / ReplicaSet,
 * Service, Node and Namespace (pkg/describe in kubectl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/quantity.h"
#include "protocol/selector.h"
#include "tools/zkubectl/describe.h"

static const char *s_str(const json_t *o, const char *path, const char *def)
{
    const char *s = proto_obj_str(o, path);
    return s && *s ? s : def;
}

static void s_controlled_by(ctl_tw_t *tw, const json_t *o)
{
    size_t i;
    json_t *r;
    json_array_foreach(proto_obj_get(o, "metadata.ownerReferences"), i, r)
    {
        if (json_is_true(json_object_get(r, "controller")))
            ctl_tw_printf(tw, 0, "Controlled By:\t%s/%s", s_str(r, "kind", ""),
                          s_str(r, "name", ""));
    }
}

/* "http-get http://:8080/ delay=0s timeout=1s period=10s #success=1 #failure=3" */
static void s_probe(ctl_tw_t *tw, const char *title, const json_t *p)
{
    if (!json_is_object(p))
        return;
    char act[512] = "unknown";
    const json_t *h = json_object_get(p, "httpGet"), *t = json_object_get(p, "tcpSocket");
    const json_t *e = json_object_get(p, "exec");
    char port[64];
    const json_t *pv = json_object_get(h ? h : t, "port");
    if (json_is_integer(pv))
        snprintf(port, sizeof port, "%lld", (long long)json_integer_value(pv));
    else
        snprintf(port, sizeof port, "%s", json_is_string(pv) ? json_string_value(pv) : "");
    if (h) {
        char scheme[16];
        snprintf(scheme, sizeof scheme, "%s", s_str(h, "scheme", "HTTP"));
        for (char *q = scheme; *q; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        snprintf(act, sizeof act, "http-get %s://%s:%s%s", scheme, s_str(h, "host", ""), port,
                 s_str(h, "path", ""));
    } else if (t) {
        snprintf(act, sizeof act, "tcp-socket %s:%s", s_str(t, "host", ""), port);
    } else if (e) {
        char *cmd = json_dumps(json_object_get(e, "command"), JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(act, sizeof act, "exec %s", cmd ? cmd : "[]");
        for (char *q = act; *q; q++)
            if (*q == ',' || *q == '"')
                *q = *q == ',' ? ' ' : '\x01';
        char *w = act;
        for (char *q = act; *q; q++)
            if (*q != '\x01')
                *w++ = *q;
        *w = 0;
        free(cmd);
    }
    ctl_tw_printf(tw, 2, "%s:\t%s delay=%llds timeout=%llds period=%llds #success=%lld "
                  "#failure=%lld", title, act,
                  (long long)proto_obj_int(p, "initialDelaySeconds", 0),
                  (long long)proto_obj_int(p, "timeoutSeconds", 1),
                  (long long)proto_obj_int(p, "periodSeconds", 10),
                  (long long)proto_obj_int(p, "successThreshold", 1),
                  (long long)proto_obj_int(p, "failureThreshold", 3));
}

static void s_ports(ctl_tw_t *tw, const json_t *ports)
{
    size_t n = json_array_size(ports);
    if (n == 0) {
        ctl_tw_printf(tw, 2, "Port:\t<none>");
        ctl_tw_printf(tw, 2, "Host Port:\t<none>");
        return;
    }
    char p[1024] = "", hp[1024] = "";
    size_t lp = 0, lh = 0;
    for (size_t i = 0; i < n && lp < sizeof p && lh < sizeof hp; i++) {
        const json_t *x = json_array_get(ports, i);
        const char *proto = s_str(x, "protocol", "TCP");
        lp += (size_t)snprintf(p + lp, sizeof p - lp, "%s%lld/%s", i ? ", " : "",
                               (long long)proto_obj_int(x, "containerPort", 0), proto);
        lh += (size_t)snprintf(hp + lh, sizeof hp - lh, "%s%lld/%s", i ? ", " : "",
                               (long long)proto_obj_int(x, "hostPort", 0), proto);
    }
    ctl_tw_printf(tw, 2, "%s:\t%s", n > 1 ? "Ports" : "Port", p);
    ctl_tw_printf(tw, 2, "%s:\t%s", n > 1 ? "Host Ports" : "Host Port", hp);
}

static void s_state(ctl_tw_t *tw, const char *title, const json_t *st)
{
    char t1[64], t2[64];
    const json_t *r = json_object_get(st, "running"), *w = json_object_get(st, "waiting");
    const json_t *t = json_object_get(st, "terminated");
    if (r) {
        ctl_tw_printf(tw, 2, "%s:\tRunning", title);
        ctl_tw_printf(tw, 3, "Started:\t%s",
                      ctl_desc_time(proto_obj_str(r, "startedAt"), t1, sizeof t1));
    } else if (w) {
        ctl_tw_printf(tw, 2, "%s:\tWaiting", title);
        if (proto_obj_str(w, "reason"))
            ctl_tw_printf(tw, 3, "Reason:\t%s", proto_obj_str(w, "reason"));
    } else if (t) {
        ctl_tw_printf(tw, 2, "%s:\tTerminated", title);
        if (proto_obj_str(t, "reason"))
            ctl_tw_printf(tw, 3, "Reason:\t%s", proto_obj_str(t, "reason"));
        ctl_tw_printf(tw, 3, "Exit Code:\t%lld", (long long)proto_obj_int(t, "exitCode", 0));
        ctl_tw_printf(tw, 3, "Started:\t%s",
                      ctl_desc_time(proto_obj_str(t, "startedAt"), t1, sizeof t1));
        ctl_tw_printf(tw, 3, "Finished:\t%s",
                      ctl_desc_time(proto_obj_str(t, "finishedAt"), t2, sizeof t2));
    } else if (strcmp(title, "State") == 0) {
        ctl_tw_printf(tw, 2, "%s:\tWaiting", title);
    }
}

static const json_t *s_cstatus(const json_t *statuses, const char *name)
{
    size_t i;
    json_t *s;
    json_array_foreach(statuses, i, s)
    {
        if (proto_obj_str(s, "name") && !strcmp(proto_obj_str(s, "name"), name))
            return s;
    }
    return NULL;
}

static void s_env_mounts(ctl_tw_t *tw, const json_t *c)
{
    const json_t *env = json_object_get(c, "env"), *vm = json_object_get(c, "volumeMounts");
    if (!json_array_size(env)) {
        ctl_tw_printf(tw, 2, "Environment:\t<none>");
    } else {
        ctl_tw_printf(tw, 2, "Environment:");
        size_t i;
        json_t *e;
        json_array_foreach(env, i, e)
            ctl_tw_printf(tw, 3, "%s:\t%s", s_str(e, "name", ""),
                          json_object_get(e, "valueFrom") ? "<set from a source>"
                                                          : s_str(e, "value", ""));
    }
    if (!json_array_size(vm)) {
        ctl_tw_printf(tw, 2, "Mounts:\t<none>");
        return;
    }
    ctl_tw_printf(tw, 2, "Mounts:");
    size_t i;
    json_t *m;
    json_array_foreach(vm, i, m)
        ctl_tw_printf(tw, 3, "%s from %s (%s)", s_str(m, "mountPath", ""), s_str(m, "name", ""),
                      json_is_true(json_object_get(m, "readOnly")) ? "ro" : "rw");
}

/* Containers of a pod (pod != NULL: with status) or of a template. */
/* Command: / Args: with one line per element (and per line within one). */
static void s_lines(ctl_tw_t *tw, const char *title, const json_t *list)
{
    if (!json_array_size(list))
        return;
    ctl_tw_printf(tw, 2, "%s", title);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        for (;;) {
            size_t n = strcspn(s, "\n");
            ctl_tw_printf(tw, 3, "%.*s", (int)n, s);
            if (!s[n])
                break;
            s += n + 1;
        }
    }
}

static int s_cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void ctl_desc_resources(ctl_tw_t *tw, int lvl, const char *title, const json_t *m)
{
    const char *names[32];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) if (n < 32) names[n++] = k;
    if (!n)
        return;
    qsort(names, n, sizeof names[0], s_cmp_key);
    ctl_tw_printf(tw, lvl, "%s", title);
    for (size_t i = 0; i < n; i++) {
        const json_t *q = json_object_get(m, names[i]);
        proto_qty_t qty;
        char buf[64];
        if (json_is_string(q) && proto_qty_parse(json_string_value(q), &qty) == 0)
            proto_qty_format(&qty, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%s", json_is_string(q) ? json_string_value(q) : "");
        ctl_tw_printf(tw, lvl + 1, "%s:\t%s", names[i], buf);
    }
}

/* kubectl's describeContainers: title "Containers" or "Init Containers";
 * statuses is the pod's status list (NULL for a template). */
static void s_containers(ctl_tw_t *tw, const char *title, const json_t *list,
                         const json_t *statuses, bool tmpl)
{
    ctl_tw_printf(tw, tmpl ? 1 : 0, "%s:%s", title, json_array_size(list) ? "" : " <none>");
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *name = s_str(c, "name", "");
        ctl_tw_printf(tw, 0, "%s%s:", tmpl ? "   " : "  ", name);
        /* kubectl shows the runtime's fields only once the container has a status */
        const json_t *st = s_cstatus(statuses, name);
        if (st)
            ctl_tw_printf(tw, 2, "Container ID:\t%s", s_str(st, "containerID", ""));
        ctl_tw_printf(tw, 2, "Image:\t%s", s_str(c, "image", ""));
        if (st)
            ctl_tw_printf(tw, 2, "Image ID:\t%s", s_str(st, "imageID", ""));
        s_ports(tw, json_object_get(c, "ports"));
        s_lines(tw, "Command:", json_object_get(c, "command"));
        s_lines(tw, "Args:", json_object_get(c, "args"));
        if (st) {
            s_state(tw, "State", json_object_get(st, "state"));
            if (json_object_size(json_object_get(st, "lastState")))
                s_state(tw, "Last State", json_object_get(st, "lastState"));
            ctl_tw_printf(tw, 2, "Ready:\t%s",
                          json_is_true(json_object_get(st, "ready")) ? "True" : "False");
            ctl_tw_printf(tw, 2, "Restart Count:\t%lld",
                          (long long)proto_obj_int(st, "restartCount", 0));
        }
        ctl_desc_resources(tw, 2, "Limits:", proto_obj_get(c, "resources.limits"));
        ctl_desc_resources(tw, 2, "Requests:", proto_obj_get(c, "resources.requests"));
        s_probe(tw, "Liveness", json_object_get(c, "livenessProbe"));
        s_probe(tw, "Readiness", json_object_get(c, "readinessProbe"));
        s_probe(tw, "Startup", json_object_get(c, "startupProbe"));
        s_env_mounts(tw, c);
    }
}

static void s_volumes(ctl_tw_t *tw, int lvl, const json_t *vols)
{
    if (!json_array_size(vols)) {
        ctl_tw_printf(tw, lvl, "Volumes:\t<none>");
        return;
    }
    ctl_tw_printf(tw, lvl, "Volumes:");
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
    {
        ctl_tw_printf(tw, lvl + 1, "%s:", s_str(v, "name", ""));
        const char *k;
        json_t *src;
        json_object_foreach(v, k, src) if (strcmp(k, "name"))
            ctl_tw_printf(tw, lvl + 2, "Type:\t%s", k);
    }
}

static void s_tolerations(ctl_tw_t *tw, int lvl, const json_t *tol)
{
    if (!json_array_size(tol)) {
        ctl_tw_printf(tw, lvl, "Tolerations:\t<none>");
        return;
    }
    size_t i;
    json_t *t;
    json_array_foreach(tol, i, t)
    {
        char buf[512];
        const char *key = s_str(t, "key", ""), *val = s_str(t, "value", "");
        const char *eff = s_str(t, "effect", ""), *op = s_str(t, "operator", "Equal");
        size_t l = (size_t)snprintf(buf, sizeof buf, "%s%s%s%s%s", key, *val ? "=" : "", val,
                                    *eff ? ":" : "", eff);
        if (!strcmp(op, "Exists") && !*val)
            l += (size_t)snprintf(buf + l, sizeof buf - l, " op=Exists");
        if (json_object_get(t, "tolerationSeconds") && l < sizeof buf)
            snprintf(buf + l, sizeof buf - l, " for %llds",
                     (long long)proto_obj_int(t, "tolerationSeconds", 0));
        ctl_tw_printf(tw, lvl, "%s\t%s", i ? "" : "Tolerations:", buf);
    }
}

void ctl_desc_pod(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char t[64];
    ctl_desc_meta(tw, o, true);
    /* kubectl prints these only when the pod has them */
    if (json_is_integer(proto_obj_get(o, "spec.priority")))
        ctl_tw_printf(tw, 0, "Priority:\t%lld", (long long)proto_obj_int(o, "spec.priority", 0));
    if (*s_str(o, "spec.priorityClassName", ""))
        ctl_tw_printf(tw, 0, "Priority Class Name:\t%s", s_str(o, "spec.priorityClassName", ""));
    if (*s_str(o, "spec.runtimeClassName", ""))
        ctl_tw_printf(tw, 0, "Runtime Class Name:\t%s", s_str(o, "spec.runtimeClassName", ""));
    if (*s_str(o, "spec.serviceAccountName", ""))
        ctl_tw_printf(tw, 0, "Service Account:\t%s", s_str(o, "spec.serviceAccountName", ""));
    const char *node = s_str(o, "spec.nodeName", NULL), *hip = s_str(o, "status.hostIP", NULL);
    ctl_tw_printf(tw, 0, "Node:\t%s%s%s", node ? node : "<none>", node && hip ? "/" : "",
                  node && hip ? hip : "");
    if (proto_obj_str(o, "status.startTime"))
        ctl_tw_printf(tw, 0, "Start Time:\t%s",
                      ctl_desc_time(proto_obj_str(o, "status.startTime"), t, sizeof t));
    ctl_desc_labels_annots(tw, o);
    if (proto_obj_str(o, "metadata.deletionTimestamp"))
        ctl_tw_printf(tw, 0, "Status:\tTerminating (lasts %s)",
                      ctl_desc_age(proto_obj_str(o, "metadata.deletionTimestamp"), t));
    else
        ctl_tw_printf(tw, 0, "Status:\t%s", s_str(o, "status.phase", "Pending"));
    if (proto_obj_str(o, "status.reason"))
        ctl_tw_printf(tw, 0, "Reason:\t%s", proto_obj_str(o, "status.reason"));
    if (proto_obj_str(o, "status.message"))
        ctl_tw_printf(tw, 0, "Message:\t%s", proto_obj_str(o, "status.message"));
    ctl_tw_printf(tw, 0, "IP:\t%s", s_str(o, "status.podIP", ""));
    const json_t *ips = proto_obj_get(o, "status.podIPs");
    if (json_array_size(ips)) {
        ctl_tw_printf(tw, 0, "IPs:");
        size_t i;
        json_t *ip;
        json_array_foreach(ips, i, ip) ctl_tw_printf(tw, 1, "IP:\t%s", s_str(ip, "ip", ""));
    } else {
        ctl_tw_printf(tw, 0, "IPs:\t<none>");
    }
    s_controlled_by(tw, o);
    if (json_array_size(proto_obj_get(o, "spec.initContainers")))
        s_containers(tw, "Init Containers", proto_obj_get(o, "spec.initContainers"),
                     proto_obj_get(o, "status.initContainerStatuses"), false);
    s_containers(tw, "Containers", proto_obj_get(o, "spec.containers"),
                 proto_obj_get(o, "status.containerStatuses"), false);
    const json_t *conds = proto_obj_get(o, "status.conditions");
    if (json_array_size(conds)) {
        ctl_tw_printf(tw, 0, "Conditions:");
        ctl_tw_printf(tw, 1, "Type\tStatus");
        size_t i;
        json_t *cd;
        json_array_foreach(conds, i, cd)
            ctl_tw_printf(tw, 1, "%s \t%s ", s_str(cd, "type", ""), s_str(cd, "status", ""));
    }
    s_volumes(tw, 0, proto_obj_get(o, "spec.volumes"));
    ctl_tw_printf(tw, 0, "QoS Class:\t%s", s_str(o, "status.qosClass", "BestEffort"));
    ctl_desc_map(tw, 0, "Node-Selectors:", proto_obj_get(o, "spec.nodeSelector"));
    s_tolerations(tw, 0, proto_obj_get(o, "spec.tolerations"));
    ctl_desc_events(c, tw, o);
}

/* kubectl's DescribePodTemplate, for controllers and jobs. */
static void s_pod_template(ctl_tw_t *tw, const json_t *t)
{
    ctl_tw_printf(tw, 0, "Pod Template:");
    ctl_desc_map(tw, 1, "Labels:", proto_obj_get(t, "metadata.labels"));
    if (proto_obj_str(t, "spec.serviceAccountName"))
        ctl_tw_printf(tw, 1, "Service Account:\t%s", proto_obj_str(t, "spec.serviceAccountName"));
    if (json_array_size(proto_obj_get(t, "spec.initContainers")))
        s_containers(tw, "Init Containers", proto_obj_get(t, "spec.initContainers"), NULL, true);
    s_containers(tw, "Containers", proto_obj_get(t, "spec.containers"), NULL, true);
    s_volumes(tw, 1, proto_obj_get(t, "spec.volumes"));
    ctl_desc_map(tw, 1, "Node-Selectors:", proto_obj_get(t, "spec.nodeSelector"));
    s_tolerations(tw, 1, proto_obj_get(t, "spec.tolerations"));
}

/* "3 Running / 0 Waiting / 0 Succeeded / 0 Failed" over the selected pods. */
/* The pod's controller ownerReference has this uid. */
static bool s_controlled_by_uid(const json_t *pod, const char *uid)
{
    size_t i;
    json_t *r;
    json_array_foreach(proto_obj_get(pod, "metadata.ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller")))
            return uid && !strcmp(s_str(r, "uid", ""), uid);
    return false;
}

static void s_pods_status(ctl_t *c, ctl_tw_t *tw, const json_t *o, const char *sel)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace",
                          s_str(o, "metadata.namespace", ""), "labelSelector", sel),
           *rep = NULL;
    int n[4] = {0}, code = ctl_call(c, "list", b, &rep);
    json_decref(b);
    size_t i;
    json_t *p;
    json_array_foreach(code < 300 ? json_object_get(rep, "items") : NULL, i, p)
    {
        if (!s_controlled_by_uid(p, proto_obj_uid(o)))
            continue; /* kubectl counts only the pods this controller owns */
        const char *ph = s_str(p, "status.phase", "Pending");
        n[!strcmp(ph, "Running") ? 0 : !strcmp(ph, "Succeeded") ? 2 : !strcmp(ph, "Failed") ? 3
                                                                                            : 1]++;
    }
    json_decref(rep);
    ctl_tw_printf(tw, 0, "Pods Status:\t%d Running / %d Waiting / %d Succeeded / %d Failed", n[0],
                  n[1], n[2], n[3]);
}

void ctl_desc_rc(ctl_t *c, ctl_tw_t *tw, const json_t *o, const proto_kind_t *k)
{
    char err[CTL_ERR];
    proto_sel_t *sel = NULL;
    const json_t *s = proto_obj_get(o, "spec.selector");
    int rc = !strcmp(k->kind, "ReplicaSet") ? proto_sel_from_label_selector(s, &sel, err, sizeof err)
                                            : proto_sel_from_map(s, &sel, err, sizeof err);
    char *ss = rc == 0 ? proto_sel_string(sel) : NULL;
    proto_sel_destroy(&sel);
    ctl_desc_meta(tw, o, true);
    ctl_tw_printf(tw, 0, "Selector:\t%s", ss && *ss ? ss : "<none>");
    ctl_desc_labels_annots(tw, o);
    s_controlled_by(tw, o);
    ctl_tw_printf(tw, 0, "Replicas:\t%lld current / %lld desired",
                  (long long)proto_obj_int(o, "status.replicas", 0),
                  (long long)proto_obj_int(o, "spec.replicas", 1));
    s_pods_status(c, tw, o, ss ? ss : "");
    free(ss);
    s_pod_template(tw, proto_obj_get(o, "spec.template"));
    ctl_desc_events(c, tw, o);
}

/* An intstr as Go prints it: "25%" or "1". */
static const char *s_intstr(const json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, n, "%s", json_is_string(v) ? json_string_value(v) : "");
    return buf;
}

/* rs's pod template is d's (the pod-template-hash label aside). */
static bool s_same_template(const json_t *d, const json_t *rs)
{
    json_t *t = json_deep_copy(proto_obj_get(rs, "spec.template"));
    json_t *labels = json_object_get(json_object_get(t, "metadata"), "labels");
    json_object_del(labels, "pod-template-hash");
    if (labels && !json_object_size(labels))
        json_object_del(json_object_get(t, "metadata"), "labels");
    bool same = json_equal(t, proto_obj_get(d, "spec.template"));
    json_decref(t);
    return same;
}

static int s_cmp_created(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int c = strcmp(s_str(x, "metadata.creationTimestamp", ""),
                   s_str(y, "metadata.creationTimestamp", ""));
    return c ? c : strcmp(s_str(x, "metadata.name", ""), s_str(y, "metadata.name", ""));
}

/* "name (2/3 replicas created), ..." or <none>. */
static void s_rs_line(ctl_tw_t *tw, const char *title, json_t *const *rs, size_t n)
{
    char buf[2048] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s (%lld/%lld replicas created)",
                                i ? ", " : "", s_str(rs[i], "metadata.name", ""),
                                (long long)proto_obj_int(rs[i], "status.replicas", 0),
                                (long long)proto_obj_int(rs[i], "spec.replicas", 0));
    ctl_tw_printf(tw, 0, "%s:\t%s", title, len ? buf : "<none>");
}

/* OldReplicaSets / NewReplicaSet: the deployment's own replica sets, oldest
 * first; the new one has its pod template. Nothing when it has none. */
static void s_deploy_rs(ctl_t *c, ctl_tw_t *tw, const json_t *d, const char *sel)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "resource", "replicasets", "namespace",
                          s_str(d, "metadata.namespace", ""), "labelSelector", sel),
           *rep = NULL;
    int code = ctl_call(c, "list", b, &rep);
    json_decref(b);
    json_t *mine[256], *old[256], *new_rs = NULL;
    size_t n = 0, nold = 0, i;
    json_t *rs;
    json_array_foreach(code < 300 ? json_object_get(rep, "items") : NULL, i, rs)
        if (n < 256 && s_controlled_by_uid(rs, proto_obj_uid(d)))
            mine[n++] = rs;
    qsort(mine, n, sizeof mine[0], s_cmp_created);
    for (i = 0; i < n; i++) {
        if (!new_rs && s_same_template(d, mine[i]))
            new_rs = mine[i];
        else
            old[nold++] = mine[i];
    }
    if (n) {
        s_rs_line(tw, "OldReplicaSets", old, nold);
        s_rs_line(tw, "NewReplicaSet", &new_rs, new_rs ? 1 : 0);
    }
    json_decref(rep);
}

/* kubectl's DeploymentDescriber. */
void ctl_desc_deployment(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char err[CTL_ERR], t[64], a[32], b[32];
    proto_sel_t *sel = NULL;
    char *ss = proto_sel_from_label_selector(proto_obj_get(o, "spec.selector"), &sel, err,
                                             sizeof err) == 0
                   ? proto_sel_string(sel)
                   : NULL;
    proto_sel_destroy(&sel);
    ctl_desc_meta(tw, o, true);
    ctl_tw_printf(tw, 0, "CreationTimestamp:\t%s",
                  ctl_desc_time(proto_obj_str(o, "metadata.creationTimestamp"), t, sizeof t));
    ctl_desc_labels_annots(tw, o);
    ctl_tw_printf(tw, 0, "Selector:\t%s", ss ? ss : "");
    ctl_tw_printf(tw, 0, "Replicas:\t%lld desired | %lld updated | %lld total | %lld available | "
                  "%lld unavailable", (long long)proto_obj_int(o, "spec.replicas", 1),
                  (long long)proto_obj_int(o, "status.updatedReplicas", 0),
                  (long long)proto_obj_int(o, "status.replicas", 0),
                  (long long)proto_obj_int(o, "status.availableReplicas", 0),
                  (long long)proto_obj_int(o, "status.unavailableReplicas", 0));
    ctl_tw_printf(tw, 0, "StrategyType:\t%s", s_str(o, "spec.strategy.type", ""));
    ctl_tw_printf(tw, 0, "MinReadySeconds:\t%lld",
                  (long long)proto_obj_int(o, "spec.minReadySeconds", 0));
    const json_t *ru = proto_obj_get(o, "spec.strategy.rollingUpdate");
    if (ru)
        ctl_tw_printf(tw, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge",
                      s_intstr(json_object_get(ru, "maxUnavailable"), a, sizeof a),
                      s_intstr(json_object_get(ru, "maxSurge"), b, sizeof b));
    s_pod_template(tw, proto_obj_get(o, "spec.template"));
    const json_t *conds = proto_obj_get(o, "status.conditions");
    if (json_array_size(conds)) {
        ctl_tw_printf(tw, 0, "Conditions:");
        ctl_tw_printf(tw, 1, "Type\tStatus\tReason");
        ctl_tw_printf(tw, 1, "----\t------\t------");
        size_t i;
        json_t *x;
        json_array_foreach(conds, i, x)
            ctl_tw_printf(tw, 1, "%s \t%s\t%s", s_str(x, "type", ""), s_str(x, "status", ""),
                          s_str(x, "reason", ""));
    }
    s_deploy_rs(c, tw, o, ss ? ss : "");
    free(ss);
    ctl_desc_events(c, tw, o);
}

/* kubectl's DaemonSetDescriber (it prints no namespace). */
void ctl_desc_daemonset(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char err[CTL_ERR];
    proto_sel_t *sel = NULL;
    int rc = proto_sel_from_label_selector(proto_obj_get(o, "spec.selector"), &sel, err,
                                           sizeof err);
    char *ss = rc == 0 ? proto_sel_string(sel) : NULL;
    proto_sel_destroy(&sel);
    proto_sel_t *ns = NULL;
    rc = proto_sel_from_map(proto_obj_get(o, "spec.template.spec.nodeSelector"), &ns, err,
                            sizeof err);
    char *nss = rc == 0 ? proto_sel_string(ns) : NULL;
    proto_sel_destroy(&ns);
    ctl_tw_printf(tw, 0, "Name:\t%s", s_str(o, "metadata.name", ""));
    ctl_tw_printf(tw, 0, "Selector:\t%s", ss ? ss : "");
    ctl_tw_printf(tw, 0, "Node-Selector:\t%s", nss && *nss ? nss : "<none>");
    ctl_desc_labels_annots(tw, o);
    static const struct {
        const char *title, *field;
    } counts[] = {
        {"Desired Number of Nodes Scheduled", "status.desiredNumberScheduled"},
        {"Current Number of Nodes Scheduled", "status.currentNumberScheduled"},
        {"Number of Nodes Scheduled with Up-to-date Pods", "status.updatedNumberScheduled"},
        {"Number of Nodes Scheduled with Available Pods", "status.numberAvailable"},
        {"Number of Nodes Misscheduled", "status.numberMisscheduled"},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        ctl_tw_printf(tw, 0, "%s: %lld", counts[i].title,
                      (long long)proto_obj_int(o, counts[i].field, 0));
    s_pods_status(c, tw, o, ss ? ss : "");
    free(ss);
    free(nss);
    s_pod_template(tw, proto_obj_get(o, "spec.template"));
    ctl_desc_events(c, tw, o);
}

/* "Title:\tN" (with a unit), or <unset> when the field is absent. */
static void s_opt_int(ctl_tw_t *tw, const char *title, const json_t *o, const char *path,
                      const char *unit)
{
    const json_t *v = proto_obj_get(o, path);
    if (json_is_integer(v))
        ctl_tw_printf(tw, 0, "%s:\t%lld%s", title, (long long)json_integer_value(v), unit);
    else
        ctl_tw_printf(tw, 0, "%s:\t<unset>", title);
}

/* kubectl's describeJobTemplate. */
static void s_job_template(ctl_tw_t *tw, const json_t *jt)
{
    const json_t *sel = proto_obj_get(jt, "spec.selector");
    if (sel) {
        char err[CTL_ERR];
        proto_sel_t *ps = NULL;
        char *ss = proto_sel_from_label_selector(sel, &ps, err, sizeof err) == 0
                       ? proto_sel_string(ps)
                       : NULL;
        proto_sel_destroy(&ps);
        ctl_tw_printf(tw, 0, "Selector:\t%s", ss ? ss : "");
        free(ss);
    } else {
        ctl_tw_printf(tw, 0, "Selector:\t<unset>");
    }
    s_opt_int(tw, "Parallelism", jt, "spec.parallelism", "");
    s_opt_int(tw, "Completions", jt, "spec.completions", "");
    if (proto_obj_get(jt, "spec.activeDeadlineSeconds"))
        s_opt_int(tw, "Active Deadline Seconds", jt, "spec.activeDeadlineSeconds", "s");
    s_pod_template(tw, proto_obj_get(jt, "spec.template"));
}

/* kubectl's describeCronJob. */
void ctl_desc_cronjob(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char t[64];
    ctl_desc_meta(tw, o, true);
    ctl_desc_labels_annots(tw, o);
    ctl_tw_printf(tw, 0, "Schedule:\t%s", s_str(o, "spec.schedule", ""));
    ctl_tw_printf(tw, 0, "Concurrency Policy:\t%s", s_str(o, "spec.concurrencyPolicy", ""));
    const json_t *sus = proto_obj_get(o, "spec.suspend");
    ctl_tw_printf(tw, 0, "Suspend:\t%s",
                  json_is_boolean(sus) ? (json_is_true(sus) ? "True" : "False") : "<unset>");
    s_opt_int(tw, "Successful Job History Limit", o, "spec.successfulJobsHistoryLimit", "");
    s_opt_int(tw, "Failed Job History Limit", o, "spec.failedJobsHistoryLimit", "");
    s_opt_int(tw, "Starting Deadline Seconds", o, "spec.startingDeadlineSeconds", "s");
    s_job_template(tw, proto_obj_get(o, "spec.jobTemplate"));
    const char *last = proto_obj_str(o, "status.lastScheduleTime");
    ctl_tw_printf(tw, 0, "Last Schedule Time:\t%s",
                  last ? ctl_desc_time(last, t, sizeof t) : "<unset>");
    char jobs[2048] = "";
    size_t len = 0, i;
    json_t *j;
    json_array_foreach(proto_obj_get(o, "status.active"), i, j) if (len < sizeof jobs) len +=
        (size_t)snprintf(jobs + len, sizeof jobs - len, "%s%s", i ? ", " : "",
                         s_str(j, "name", ""));
    ctl_tw_printf(tw, 0, "Active Jobs:\t%s", len ? jobs : "<none>");
    ctl_desc_events(c, tw, o);
}

/* kubectl's describeEndpoints: one block per subset. */
void ctl_desc_endpoints(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_meta(tw, o, true);
    ctl_desc_labels_annots(tw, o);
    ctl_tw_printf(tw, 0, "Subsets:");
    size_t i, j;
    json_t *ss, *x;
    json_array_foreach(json_object_get(o, "subsets"), i, ss)
    {
        static const char *const kinds[2][2] = {{"addresses", "Addresses:"},
                                                {"notReadyAddresses", "NotReadyAddresses:"}};
        for (int k = 0; k < 2; k++) {
            char buf[2048] = "";
            size_t len = 0;
            json_array_foreach(json_object_get(ss, kinds[k][0]), j, x) if (len < sizeof buf) len +=
                (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", j ? "," : "",
                                 s_str(x, "ip", ""));
            ctl_tw_printf(tw, 1, "%s\t%s", kinds[k][1], len ? buf : "<none>");
        }
        if (json_array_size(json_object_get(ss, "ports"))) {
            ctl_tw_printf(tw, 1, "Ports:");
            ctl_tw_printf(tw, 2, "Name\tPort\tProtocol");
            ctl_tw_printf(tw, 2, "----\t----\t--------");
        }
        json_array_foreach(json_object_get(ss, "ports"), j, x)
            ctl_tw_printf(tw, 2, "%s\t%lld\t%s", s_str(x, "name", "<unset>"),
                          (long long)proto_obj_int(x, "port", 0), s_str(x, "protocol", ""));
        ctl_tw_printf(tw, 0, "%s", "");
    }
    ctl_desc_events(c, tw, o);
}

void ctl_desc_job(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char err[CTL_ERR], t1[64], t2[64];
    proto_sel_t *sel = NULL;
    int rc = proto_sel_from_label_selector(proto_obj_get(o, "spec.selector"), &sel, err,
                                           sizeof err);
    char *ss = rc == 0 ? proto_sel_string(sel) : NULL;
    proto_sel_destroy(&sel);
    ctl_desc_meta(tw, o, true);
    ctl_tw_printf(tw, 0, "Selector:\t%s", ss ? ss : "<none>");
    free(ss);
    ctl_desc_labels_annots(tw, o);
    s_controlled_by(tw, o);
    ctl_tw_printf(tw, 0, "Parallelism:\t%lld", (long long)proto_obj_int(o, "spec.parallelism", 1));
    if (proto_obj_get(o, "spec.completions"))
        ctl_tw_printf(tw, 0, "Completions:\t%lld",
                      (long long)proto_obj_int(o, "spec.completions", 1));
    else
        ctl_tw_printf(tw, 0, "Completions:\t<unset>");
    ctl_tw_printf(tw, 0, "Completion Mode:\t%s", s_str(o, "spec.completionMode", "NonIndexed"));
    ctl_tw_printf(tw, 0, "Suspend:\t%s",
                  json_is_true(proto_obj_get(o, "spec.suspend")) ? "true" : "false");
    ctl_tw_printf(tw, 0, "Backoff Limit:\t%lld", (long long)proto_obj_int(o, "spec.backoffLimit", 6));
    if (proto_obj_str(o, "status.startTime"))
        ctl_tw_printf(tw, 0, "Start Time:\t%s",
                      ctl_desc_time(proto_obj_str(o, "status.startTime"), t1, sizeof t1));
    if (proto_obj_str(o, "status.completionTime"))
        ctl_tw_printf(tw, 0, "Completed At:\t%s",
                      ctl_desc_time(proto_obj_str(o, "status.completionTime"), t2, sizeof t2));
    if (proto_obj_get(o, "spec.activeDeadlineSeconds"))
        ctl_tw_printf(tw, 0, "Active Deadline Seconds:\t%llds",
                      (long long)proto_obj_int(o, "spec.activeDeadlineSeconds", 0));
    char ready[48] = ""; /* kubectl shows it only once the job controller sets it */
    if (json_is_integer(proto_obj_get(o, "status.ready")))
        snprintf(ready, sizeof ready, " (%lld Ready)",
                 (long long)proto_obj_int(o, "status.ready", 0));
    ctl_tw_printf(tw, 0, "Pods Statuses:\t%lld Active%s / %lld Succeeded / %lld Failed",
                  (long long)proto_obj_int(o, "status.active", 0), ready,
                  (long long)proto_obj_int(o, "status.succeeded", 0),
                  (long long)proto_obj_int(o, "status.failed", 0));
    s_pod_template(tw, proto_obj_get(o, "spec.template"));
    ctl_desc_events(c, tw, o);
}

/* kubectl's ConfigMap layout: Data, ====, then "key:", "----", value. */
/* Bytes a base64 string decodes to. */
static size_t s_b64_len(const json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    size_t n = strlen(s), pad = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
        pad++;
    return n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) - (n % 4 ? 0 : pad);
}

/* kubectl's describeSecret: sizes only, never the values. */
void ctl_desc_secret(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_meta(tw, o, true);
    ctl_desc_labels_annots(tw, o);
    ctl_tw_printf(tw, 0, "%s", "");
    ctl_tw_printf(tw, 0, "Type:\t%s", s_str(o, "type", ""));
    ctl_tw_printf(tw, 0, "%s", "");
    ctl_tw_printf(tw, 0, "Data\n====");
    const char *k;
    json_t *v;
    json_object_foreach(proto_obj_get(o, "data"), k, v)
        ctl_tw_printf(tw, 0, "%s:\t%zu bytes", k, s_b64_len(v));
}

void ctl_desc_configmap(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_meta(tw, o, true);
    ctl_desc_labels_annots(tw, o);
    ctl_tw_printf(tw, 0, "%s", "");
    ctl_tw_printf(tw, 0, "Data\n====");
    const char *k;
    json_t *v;
    json_object_foreach(proto_obj_get(o, "data"), k, v)
    {
        const char *val = json_is_string(v) ? json_string_value(v) : "";
        ctl_tw_printf(tw, 0, "%s:\n----", k);
        ctl_tw_printf(tw, 0, "%s", val);
        if (*val && val[strlen(val) - 1] == '\n') /* kubectl adds its newline to the value's */
            ctl_tw_printf(tw, 0, "%s", "");
        ctl_tw_printf(tw, 0, "%s", "");
    }
    ctl_tw_printf(tw, 0, "%s", "");
    ctl_tw_printf(tw, 0, "BinaryData\n====");
    json_object_foreach(proto_obj_get(o, "binaryData"), k, v)
    {
        ctl_tw_printf(tw, 0, "%s: %zu bytes", k, s_b64_len(v));
    }
    ctl_tw_printf(tw, 0, "%s", "");
    ctl_desc_events(c, tw, o);
}

/* "10.244.1.5:8080,10.244.2.3:8080" from the Endpoints of the same name.
 * kubectl 1.32 reads a service's endpoints from its EndpointSlices only:
 * zkube serves no EndpointSlice kind, so kubectl prints <none>, and so do
 * we until it does. */
static void s_endpoints(ctl_t *c, ctl_tw_t *tw, const json_t *svc)
{
    if (!proto_kind_find("endpointslices")) {
        ctl_tw_printf(tw, 0, "Endpoints:\t<none>");
        return;
    }
    json_t *b = json_pack("{s:s, s:s, s:s}", "resource", "endpoints", "namespace",
                          s_str(svc, "metadata.namespace", ""), "name", s_str(svc, "metadata.name", "")),
           *rep = NULL;
    int code = ctl_call(c, "get", b, &rep);
    json_decref(b);
    char buf[2048] = "";
    size_t len = 0, i, j, p;
    json_t *ss, *a, *pt;
    json_array_foreach(code < 300 ? json_object_get(rep, "subsets") : NULL, i, ss)
        json_array_foreach(json_object_get(ss, "addresses"), j, a)
            json_array_foreach(json_object_get(ss, "ports"), p, pt) if (len < sizeof buf)
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s:%lld",
                                        len ? "," : "", s_str(a, "ip", ""),
                                        (long long)proto_obj_int(pt, "port", 0));
    json_decref(rep);
    ctl_tw_printf(tw, 0, "Endpoints:\t%s", len ? buf : "<none>");
}

static void s_svc_ports(ctl_tw_t *tw, const json_t *o)
{
    size_t i;
    json_t *p;
    json_array_foreach(proto_obj_get(o, "spec.ports"), i, p)
    {
        const char *proto = s_str(p, "protocol", "TCP");
        ctl_tw_printf(tw, 0, "Port:\t%s  %lld/%s", s_str(p, "name", "<unset>"),
                      (long long)proto_obj_int(p, "port", 0), proto);
        const json_t *tp = json_object_get(p, "targetPort");
        if (json_is_string(tp))
            ctl_tw_printf(tw, 0, "TargetPort:\t%s/%s", json_string_value(tp), proto);
        else
            ctl_tw_printf(tw, 0, "TargetPort:\t%lld/%s",
                          (long long)(tp ? json_integer_value(tp) : proto_obj_int(p, "port", 0)),
                          proto);
        if (json_object_get(p, "nodePort"))
            ctl_tw_printf(tw, 0, "NodePort:\t%s  %lld/%s", s_str(p, "name", "<unset>"),
                          (long long)proto_obj_int(p, "nodePort", 0), proto);
    }
}

void ctl_desc_service(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_meta(tw, o, true);
    ctl_desc_labels_annots(tw, o);
    const json_t *sel = proto_obj_get(o, "spec.selector");
    char buf[1024] = "";
    size_t len = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)sel, k, v) if (len < sizeof buf)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=%s", len ? "," : "", k,
                                json_string_value(v) ? json_string_value(v) : "");
    ctl_tw_printf(tw, 0, "Selector:\t%s", len ? buf : "<none>");
    const char *type = s_str(o, "spec.type", "ClusterIP");
    ctl_tw_printf(tw, 0, "Type:\t%s", type);
    if (!strcmp(type, "ExternalName")) {
        ctl_tw_printf(tw, 0, "External Name:\t%s", s_str(o, "spec.externalName", ""));
    } else {
        ctl_tw_printf(tw, 0, "IP Family Policy:\t%s", s_str(o, "spec.ipFamilyPolicy", "SingleStack"));
        ctl_tw_printf(tw, 0, "IP Families:\tIPv4");
        ctl_tw_printf(tw, 0, "IP:\t%s", s_str(o, "spec.clusterIP", "None"));
        ctl_tw_printf(tw, 0, "IPs:\t%s", s_str(o, "spec.clusterIP", "None"));
    }
    size_t i;
    json_t *ip;
    json_array_foreach(proto_obj_get(o, "spec.externalIPs"), i, ip)
        ctl_tw_printf(tw, 0, "%s\t%s", i ? "" : "External IPs:", json_string_value(ip));
    json_array_foreach(proto_obj_get(o, "status.loadBalancer.ingress"), i, ip)
        ctl_tw_printf(tw, 0, "LoadBalancer Ingress:\t%s", s_str(ip, "ip", s_str(ip, "hostname", "")));
    s_svc_ports(tw, o);
    if (strcmp(type, "ExternalName"))
        s_endpoints(c, tw, o);
    ctl_tw_printf(tw, 0, "Session Affinity:\t%s", s_str(o, "spec.sessionAffinity", "None"));
    if (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"))
        ctl_tw_printf(tw, 0, "External Traffic Policy:\t%s",
                      s_str(o, "spec.externalTrafficPolicy", "Cluster"));
    if (strcmp(type, "ExternalName"))
        ctl_tw_printf(tw, 0, "Internal Traffic Policy:\t%s",
                      s_str(o, "spec.internalTrafficPolicy", "Cluster"));
    ctl_desc_events(c, tw, o);
}

void ctl_desc_namespace(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_meta(tw, o, false);
    ctl_desc_labels_annots(tw, o);
    ctl_tw_printf(tw, 0, "Status:\t%s", s_str(o, "status.phase", "Active"));
    /* kubectl lists quotas and limit ranges only where the server has them;
     * zkube serves neither kind, so they print only if one day it does */
    if (proto_kind_find("resourcequotas")) {
        ctl_tw_printf(tw, 0, "%s", "");
        ctl_tw_printf(tw, 0, "No resource quota.");
    }
    if (proto_kind_find("limitranges")) {
        ctl_tw_printf(tw, 0, "%s", "");
        ctl_tw_printf(tw, 0, "No LimitRange resource.");
    }
}
