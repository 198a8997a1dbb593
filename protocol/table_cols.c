/*
 * protocol/table_cols — the columns `kubectl get` shows for each kind and
 * how each cell is computed, as Kubernetes' server-side printers do
 * (pkg/printers/internalversion/printers.go, v1.32). The server always
 * produces the wide cells too; clients hide priority-1 columns.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/table.h"
#include "protocol/table_int.h"

#define S_NAME                                                                                     \
    {                                                                                              \
        "Name", "string", "name", proto_table_desc_name, 0                                         \
    }
#define S_AGE                                                                                      \
    {                                                                                              \
        "Age", "string", "", proto_table_desc_age, 0                                               \
    }
#define S_CONTAINERS                                                                               \
    {                                                                                              \
        "Containers", "string", "", "Names of each container in the template.", 1                  \
    }
#define S_IMAGES                                                                                   \
    {                                                                                              \
        "Images", "string", "", "Images referenced by each container in the template.", 1          \
    }
#define S_NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char *s_str(const json_t *o, const char *path)
{
    return proto_obj_str(o, path);
}

static const char *s_or(const char *s, const char *def)
{
    return s && *s ? s : def;
}

static void s_cell_age(json_t *cells, const json_t *obj, int64_t now)
{
    json_array_append_new(cells, proto_table_age(s_str(obj, "metadata.creationTimestamp"), now));
}

static char *s_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *s_fmt(const char *fmt, ...)
{
    char *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0)
        abort();
    va_end(ap);
    return out;
}

static char *s_since(const char *ts, int64_t now)
{
    json_t *a = proto_table_age(ts, now);
    char *s = strdup(json_string_value(a));
    json_decref(a);
    return s;
}

/* True when conditions has one of type t with status "True". */
static bool s_condition(const json_t *conds, const char *t)
{
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *ct = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        if (ct && st && strcmp(ct, t) == 0 && strcmp(st, "True") == 0)
            return true;
    }
    return false;
}

/* CONTAINERS, IMAGES of a pod spec, then SELECTOR text (owned). */
static void s_cells_template(json_t *cells, const json_t *podspec, char *selector)
{
    json_t *cs = json_object_get(podspec, "containers");
    proto_table_cell_own(cells, proto_table_join(cs, "name", ","));
    proto_table_cell_own(cells, proto_table_join(cs, "image", ","));
    proto_table_cell_own(cells, selector);
}

/* ---- pods ------------------------------------------------------------------- */

typedef struct s_pod {
    char reason[160];
    int64_t restarts, ready, total;
    int64_t last;        /* latest restart (finishedAt of a last termination), -1 if none */
    int64_t ri_restarts; /* restartable (sidecar) init containers' share */
    int64_t ri_last;
} s_pod_t;

static void s_pod_last(const json_t *st, int64_t *last)
{
    const char *f = s_str(st, "lastState.terminated.finishedAt");
    int64_t t = f ? proto_parse_time(f) : -1;
    if (t > *last)
        *last = t;
}

/* The init container of the spec named like status st, when its restartPolicy is Always. */
static bool s_sidecar(const json_t *pod, const json_t *st)
{
    const char *name = json_string_value(json_object_get(st, "name"));
    size_t i;
    json_t *c;
    json_array_foreach(proto_obj_get(pod, "spec.initContainers"), i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        const char *rp = json_string_value(json_object_get(c, "restartPolicy"));
        if (name && n && strcmp(n, name) == 0)
            return rp && strcmp(rp, "Always") == 0;
    }
    return false;
}

/* Reason of a terminated state without one: "Signal:9" / "ExitCode:1" (prefix "Init:"). */
static void s_term_reason(char *buf, size_t len, const json_t *term, const char *prefix)
{
    const char *r = json_string_value(json_object_get(term, "reason"));
    int64_t sig = proto_obj_int(term, "signal", 0), code = proto_obj_int(term, "exitCode", 0);
    if (r && *r)
        snprintf(buf, len, "%s%s", prefix, r);
    else if (sig)
        snprintf(buf, len, "%sSignal:%lld", prefix, (long long)sig);
    else
        snprintf(buf, len, "%sExitCode:%lld", prefix, (long long)code);
}

/* Init containers; true while the pod is still initializing. */
static bool s_pod_init(const json_t *pod, s_pod_t *p)
{
    json_t *sts = proto_obj_get(pod, "status.initContainerStatuses"), *st;
    size_t i, ninit = json_array_size(proto_obj_get(pod, "spec.initContainers"));
    json_array_foreach(sts, i, st)
    {
        bool sidecar = s_sidecar(pod, st);
        p->restarts += proto_obj_int(st, "restartCount", 0);
        s_pod_last(st, &p->last);
        if (sidecar) {
            p->ri_restarts += proto_obj_int(st, "restartCount", 0);
            s_pod_last(st, &p->ri_last);
        }
        json_t *term = proto_obj_get(st, "state.terminated");
        const char *wr = s_str(st, "state.waiting.reason");
        if (term && proto_obj_int(term, "exitCode", 0) == 0)
            continue;
        if (sidecar && json_is_true(json_object_get(st, "started"))) {
            p->ready += json_is_true(json_object_get(st, "ready"));
            continue;
        }
        if (term)
            s_term_reason(p->reason, sizeof p->reason, term, "Init:");
        else if (wr && *wr && strcmp(wr, "PodInitializing") != 0)
            snprintf(p->reason, sizeof p->reason, "Init:%s", wr);
        else
            snprintf(p->reason, sizeof p->reason, "Init:%zu/%zu", i, ninit);
        return true;
    }
    return false;
}

static void s_pod_containers(const json_t *pod, s_pod_t *p)
{
    json_t *sts = proto_obj_get(pod, "status.containerStatuses");
    bool running = false;
    p->restarts = p->ri_restarts;
    p->last = p->ri_last;
    for (size_t i = json_array_size(sts); i-- > 0;) {
        json_t *st = json_array_get(sts, i);
        p->restarts += proto_obj_int(st, "restartCount", 0);
        s_pod_last(st, &p->last);
        const char *wr = s_str(st, "state.waiting.reason");
        json_t *term = proto_obj_get(st, "state.terminated");
        if (wr && *wr)
            snprintf(p->reason, sizeof p->reason, "%s", wr);
        else if (term)
            s_term_reason(p->reason, sizeof p->reason, term, "");
        else if (json_is_true(json_object_get(st, "ready")) && proto_obj_get(st, "state.running")) {
            running = true;
            p->ready++;
        }
    }
    if (strcmp(p->reason, "Completed") == 0 && running)
        snprintf(p->reason, sizeof p->reason, "%s",
                 s_condition(proto_obj_get(pod, "status.conditions"), "Ready") ? "Running"
                                                                               : "NotReady");
}

static void s_pod_status(const json_t *pod, s_pod_t *p)
{
    const char *phase = s_or(s_str(pod, "status.phase"), "");
    json_t *conds = proto_obj_get(pod, "status.conditions"), *c;
    size_t i;
    snprintf(p->reason, sizeof p->reason, "%s", s_or(s_str(pod, "status.reason"), phase));
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *r = json_string_value(json_object_get(c, "reason"));
        if (t && r && strcmp(t, "PodScheduled") == 0 && strcmp(r, "SchedulingGated") == 0)
            snprintf(p->reason, sizeof p->reason, "SchedulingGated");
    }
    size_t ni;
    json_array_foreach(proto_obj_get(pod, "spec.initContainers"), ni, c)
    {
        const char *rp = json_string_value(json_object_get(c, "restartPolicy"));
        p->total += rp && strcmp(rp, "Always") == 0;
    }
    bool initializing = s_pod_init(pod, p);
    if (!initializing || s_condition(conds, "Initialized"))
        s_pod_containers(pod, p);
    bool terminal = strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
    if (proto_obj_get(pod, "metadata.deletionTimestamp")) {
        const char *sr = s_str(pod, "status.reason");
        if (sr && strcmp(sr, "NodeLost") == 0)
            snprintf(p->reason, sizeof p->reason, "Unknown");
        else if (!terminal)
            snprintf(p->reason, sizeof p->reason, "Terminating");
    }
}

static char *s_pod_gates(const json_t *pod)
{
    json_t *gates = proto_obj_get(pod, "spec.readinessGates"), *g;
    json_t *conds = proto_obj_get(pod, "status.conditions");
    size_t i, ok = 0;
    if (json_array_size(gates) == 0)
        return strdup("<none>");
    json_array_foreach(gates, i, g)
    {
        const char *t = json_string_value(json_object_get(g, "conditionType"));
        ok += t && s_condition(conds, t);
    }
    return s_fmt("%zu/%zu", ok, json_array_size(gates));
}

static void s_row_pod(const json_t *pod, int64_t now, json_t *cells)
{
    s_pod_t p = {.last = -1, .ri_last = -1};
    p.total = (int64_t)json_array_size(proto_obj_get(pod, "spec.containers"));
    s_pod_status(pod, &p);
    proto_table_cell_str(cells, proto_obj_name(pod));
    proto_table_cell_own(cells, s_fmt("%lld/%lld", (long long)p.ready, (long long)p.total));
    proto_table_cell_str(cells, p.reason);
    if (p.restarts && p.last >= 0) {
        char ago[32];
        proto_human_duration(now - p.last, ago);
        proto_table_cell_own(cells, s_fmt("%lld (%s ago)", (long long)p.restarts, ago));
    } else {
        proto_table_cell_own(cells, s_fmt("%lld", (long long)p.restarts));
    }
    s_cell_age(cells, pod, now);
    const char *ip = s_str(pod, "status.podIPs.0.ip");
    proto_table_cell_str(cells, s_or(ip ? ip : s_str(pod, "status.podIP"), "<none>"));
    proto_table_cell_str(cells, s_or(s_str(pod, "spec.nodeName"), "<none>"));
    proto_table_cell_str(cells, s_or(s_str(pod, "status.nominatedNodeName"), "<none>"));
    proto_table_cell_own(cells, s_pod_gates(pod));
}

static const proto_table_col_t s_cols_pod[] = {
    S_NAME,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    S_AGE,
    {"IP", "string", "",
     "podIP address allocated to the pod. Routable at least within the "
     "cluster. Empty if not yet allocated.",
     1},
    {"Node", "string", "", "NodeName indicates in which node this pod is scheduled.", 1},
    {"Nominated Node", "string", "",
     "nominatedNodeName is set only when this pod preempts "
     "other pods on the node, but it cannot be scheduled right away as preemption victims "
     "receive their graceful termination periods.",
     1},
    {"Readiness Gates", "string", "",
     "If specified, all readiness gates will be evaluated for "
     "pod readiness.",
     1},
};

/* ---- workloads ---------------------------------------------------------- */

#define S_INT(name, desc)                                                                          \
    {                                                                                              \
        name, "integer", "", desc, 0                                                               \
    }

static void s_row_rc(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_int(cells, proto_obj_int(o, "spec.replicas", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.replicas", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.readyReplicas", 0));
    s_cell_age(cells, o, now);
    s_cells_template(cells, proto_obj_get(o, "spec.template.spec"),
                     proto_table_labels(proto_obj_get(o, "spec.selector")));
}

static void s_row_rs(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_int(cells, proto_obj_int(o, "spec.replicas", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.replicas", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.readyReplicas", 0));
    s_cell_age(cells, o, now);
    s_cells_template(cells, proto_obj_get(o, "spec.template.spec"),
                     proto_table_selector(proto_obj_get(o, "spec.selector")));
}

static const proto_table_col_t s_cols_rc[] = {
    S_NAME,
    S_INT("Desired", "Replicas is the number of desired replicas."),
    S_INT("Current", "Replicas is the most recently observed number of replicas."),
    S_INT("Ready", "The number of ready replicas for this controller."),
    S_AGE,
    S_CONTAINERS,
    S_IMAGES,
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the "
     "Replicas count.",
     1},
};

static void s_row_deploy(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_own(cells,
                         s_fmt("%lld/%lld", (long long)proto_obj_int(o, "status.readyReplicas", 0),
                               (long long)proto_obj_int(o, "spec.replicas", 0)));
    proto_table_cell_int(cells, proto_obj_int(o, "status.updatedReplicas", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.availableReplicas", 0));
    s_cell_age(cells, o, now);
    s_cells_template(cells, proto_obj_get(o, "spec.template.spec"),
                     proto_table_selector(proto_obj_get(o, "spec.selector")));
}

static const proto_table_col_t s_cols_deploy[] = {
    S_NAME,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    S_INT("Up-to-date", "Total number of non-terminated pods targeted by this deployment that "
                        "have the desired template spec."),
    S_INT("Available", "Total number of available pods (ready for at least minReadySeconds) "
                       "targeted by this deployment."),
    S_AGE,
    S_CONTAINERS,
    S_IMAGES,
    {"Selector", "string", "",
     "Label selector for pods. Existing ReplicaSets whose pods are "
     "selected by this will be the ones affected by this deployment.",
     1},
};

static void s_row_ds(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_int(cells, proto_obj_int(o, "status.desiredNumberScheduled", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.currentNumberScheduled", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.numberReady", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.updatedNumberScheduled", 0));
    proto_table_cell_int(cells, proto_obj_int(o, "status.numberAvailable", 0));
    proto_table_cell_own(cells,
                         proto_table_labels(proto_obj_get(o, "spec.template.spec.nodeSelector")));
    s_cell_age(cells, o, now);
    s_cells_template(cells, proto_obj_get(o, "spec.template.spec"),
                     proto_table_selector(proto_obj_get(o, "spec.selector")));
}

static const proto_table_col_t s_cols_ds[] = {
    S_NAME,
    S_INT("Desired", "The total number of nodes that should be running the daemon pod "
                     "(including nodes correctly running the daemon pod)."),
    S_INT("Current", "The number of nodes that are running at least 1 daemon pod and are "
                     "supposed to run the daemon pod."),
    S_INT("Ready", "The number of nodes that should be running the daemon pod and have one or "
                   "more of the daemon pod running with a Ready Condition."),
    S_INT("Up-to-date", "The total number of nodes that are running updated daemon pod"),
    S_INT("Available", "The number of nodes that should be running the daemon pod and have one "
                       "or more of the daemon pod running and available (ready for at least "
                       "spec.minReadySeconds)"),
    {"Node Selector", "string", "",
     "NodeSelector is a selector which must be true for the pod "
     "to fit on a node.",
     0},
    S_AGE,
    S_CONTAINERS,
    S_IMAGES,
    {"Selector", "string", "", "A label query over pods that are managed by the daemon set.", 1},
};

static const char *s_job_status(const json_t *o)
{
    json_t *conds = proto_obj_get(o, "status.conditions");
    if (s_condition(conds, "Complete"))
        return "Complete";
    if (s_condition(conds, "Failed"))
        return "Failed";
    if (proto_obj_get(o, "metadata.deletionTimestamp"))
        return "Terminating";
    if (s_condition(conds, "Suspended"))
        return "Suspended";
    if (s_condition(conds, "FailureTarget"))
        return "FailureTarget";
    if (s_condition(conds, "SuccessCriteriaMet"))
        return "SuccessCriteriaMet";
    return "Running";
}

static void s_row_job(const json_t *o, int64_t now, json_t *cells)
{
    int64_t ok = proto_obj_int(o, "status.succeeded", 0);
    int64_t par = proto_obj_int(o, "spec.parallelism", 0);
    json_t *comp = proto_obj_get(o, "spec.completions");
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_str(cells, s_job_status(o));
    if (json_is_integer(comp))
        proto_table_cell_own(
            cells, s_fmt("%lld/%lld", (long long)ok, (long long)json_integer_value(comp)));
    else if (par > 1)
        proto_table_cell_own(cells, s_fmt("%lld/1 of %lld", (long long)ok, (long long)par));
    else
        proto_table_cell_own(cells, s_fmt("%lld/1", (long long)ok));
    const char *st = s_str(o, "status.startTime"), *ct = s_str(o, "status.completionTime");
    int64_t start = st ? proto_parse_time(st) : -1, end = ct ? proto_parse_time(ct) : now;
    char dur[32] = "";
    if (start >= 0 && end >= 0)
        proto_human_duration(end - start, dur);
    proto_table_cell_str(cells, dur);
    s_cell_age(cells, o, now);
    s_cells_template(cells, proto_obj_get(o, "spec.template.spec"),
                     proto_table_selector(proto_obj_get(o, "spec.selector")));
}

static const proto_table_col_t s_cols_job[] = {
    S_NAME,
    {"Status", "string", "", "Status of the job.", 0},
    {"Completions", "string", "", "The successful completions of the job.", 0},
    {"Duration", "string", "", "Time required to complete the job.", 0},
    S_AGE,
    S_CONTAINERS,
    S_IMAGES,
    {"Selector", "string", "", "A label query over pods that should match the pod count.", 1},
};

static void s_row_cronjob(const json_t *o, int64_t now, json_t *cells)
{
    json_t *susp = proto_obj_get(o, "spec.suspend");
    const char *last = s_str(o, "status.lastScheduleTime");
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_str(cells, s_str(o, "spec.schedule"));
    proto_table_cell_str(cells, s_or(s_str(o, "spec.timeZone"), "<none>"));
    proto_table_cell_str(cells, !json_is_boolean(susp) ? "<unset>"
                                : json_is_true(susp)   ? "True"
                                                       : "False");
    proto_table_cell_int(cells, (int64_t)json_array_size(proto_obj_get(o, "status.active")));
    proto_table_cell_own(cells, last ? s_since(last, now) : strdup("<none>"));
    s_cell_age(cells, o, now);
    s_cells_template(cells, proto_obj_get(o, "spec.jobTemplate.spec.template.spec"),
                     proto_table_selector(proto_obj_get(o, "spec.jobTemplate.spec.selector")));
}

static const proto_table_col_t s_cols_cronjob[] = {
    S_NAME,
    {"Schedule", "string", "",
     "The schedule in Cron format, see "
     "https://en.wikipedia.org/wiki/Cron.",
     0},
    {"Timezone", "string", "",
     "The time zone name for the given schedule, see "
     "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
     0},
    {"Suspend", "boolean", "",
     "This flag tells the controller to suspend subsequent "
     "executions, it does not apply to already started executions.  Defaults to false.",
     0},
    S_INT("Active", "A list of pointers to currently running jobs."),
    {"Last Schedule", "string", "",
     "Information when was the last time the job was "
     "successfully scheduled.",
     0},
    S_AGE,
    S_CONTAINERS,
    S_IMAGES,
    {"Selector", "string", "", "A label query over pods that should match the pod count.", 1},
};

/* ---- services and networking --------------------------------------------------- */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Load-balancer ingress IPs or hostnames, sorted and unique, comma-joined. */
static char *s_lb_ingress(const json_t *ingress)
{
    size_t n = json_array_size(ingress), k = 0, i, len = 0;
    const char **sv = calloc(n ? n : 1, sizeof *sv);
    json_t *e;
    json_array_foreach(ingress, i, e)
    {
        const char *ip = json_string_value(json_object_get(e, "ip"));
        const char *h = json_string_value(json_object_get(e, "hostname"));
        const char *v = ip && *ip ? ip : h;
        if (v && *v)
            sv[k++] = v;
    }
    qsort(sv, k, sizeof *sv, s_cmp_str);
    char *out = calloc(1, 1);
    for (i = 0; i < k; i++) {
        if (i && strcmp(sv[i], sv[i - 1]) == 0)
            continue;
        char *nx = s_fmt("%s%s%s", out, len ? "," : "", sv[i]);
        free(out);
        out = nx;
        len = strlen(out);
    }
    free(sv);
    return out;
}

static char *s_svc_external(const json_t *o)
{
    const char *type = s_or(s_str(o, "spec.type"), "");
    json_t *eips = proto_obj_get(o, "spec.externalIPs");
    char *eip = proto_table_join(eips, NULL, ",");
    if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0) {
        if (*eip)
            return eip;
        free(eip);
        return strdup("<none>");
    }
    if (strcmp(type, "LoadBalancer") == 0) {
        char *lb = s_lb_ingress(proto_obj_get(o, "status.loadBalancer.ingress"));
        char *r = *eip ? s_fmt("%s%s%s", lb, *lb ? "," : "", eip)
                       : (*lb ? strdup(lb) : strdup("<pending>"));
        free(lb);
        free(eip);
        return r;
    }
    free(eip);
    if (strcmp(type, "ExternalName") == 0)
        return strdup(s_or(s_str(o, "spec.externalName"), ""));
    return strdup("<unknown>");
}

static char *s_svc_ports(const json_t *o)
{
    json_t *ports = proto_obj_get(o, "spec.ports"), *p;
    size_t i;
    char *out = calloc(1, 1);
    json_array_foreach(ports, i, p)
    {
        const char *proto = s_or(json_string_value(json_object_get(p, "protocol")), "");
        int64_t port = proto_obj_int(p, "port", 0), np = proto_obj_int(p, "nodePort", 0);
        char *piece = np > 0 ? s_fmt("%lld:%lld/%s", (long long)port, (long long)np, proto)
                             : s_fmt("%lld/%s", (long long)port, proto);
        char *nx = s_fmt("%s%s%s", out, i ? "," : "", piece);
        free(piece);
        free(out);
        out = nx;
    }
    if (!*out) {
        free(out);
        out = strdup("<none>");
    }
    return out;
}

static void s_row_svc(const json_t *o, int64_t now, json_t *cells)
{
    const char *cip = s_str(o, "spec.clusterIPs.0");
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_str(cells, s_str(o, "spec.type"));
    proto_table_cell_str(cells, s_or(cip ? cip : s_str(o, "spec.clusterIP"), "<none>"));
    proto_table_cell_own(cells, s_svc_external(o));
    proto_table_cell_own(cells, s_svc_ports(o));
    s_cell_age(cells, o, now);
    proto_table_cell_own(cells, proto_table_labels(proto_obj_get(o, "spec.selector")));
}

static const proto_table_col_t s_cols_svc[] = {
    S_NAME,
    {"Type", "string", "", "type determines how the Service is exposed. Defaults to ClusterIP.", 0},
    {"Cluster-IP", "string", "",
     "clusterIP is the IP address of the service and is usually "
     "assigned randomly.",
     0},
    {"External-IP", "string", "",
     "externalIPs is a list of IP addresses for which nodes in the "
     "cluster will also accept traffic for this service.",
     0},
    {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
    S_AGE,
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values "
     "matching this selector.",
     1},
};

/* Appends "ip:port" ("[ip]:port" for IPv6) to out, comma-separated. */
static char *s_hostport(char *out, const json_t *addr, const json_t *port)
{
    const char *ip = s_or(json_string_value(json_object_get(addr, "ip")), "");
    long long pn = (long long)proto_obj_int(port, "port", 0);
    char *nx = strchr(ip, ':') ? s_fmt("%s%s[%s]:%lld", out, *out ? "," : "", ip, pn)
                               : s_fmt("%s%s%s:%lld", out, *out ? "," : "", ip, pn);
    free(out);
    return nx;
}

/* formatEndpoints: up to 3 "ip:port", then " + N more...". */
static char *s_endpoints(const json_t *o)
{
    json_t *subsets = proto_obj_get(o, "subsets"), *ss, *port, *addr;
    size_t i, j, k, count = 0;
    if (json_array_size(subsets) == 0)
        return strdup("<none>");
    char *out = calloc(1, 1);
    json_array_foreach(subsets, i, ss)
    {
        json_array_foreach(json_object_get(ss, "ports"), j, port)
        {
            json_array_foreach(json_object_get(ss, "addresses"), k, addr)
            {
                if (count++ < 3)
                    out = s_hostport(out, addr, port);
            }
        }
    }
    if (count > 3) {
        char *nx = s_fmt("%s + %zu more...", out, count - 3);
        free(out);
        out = nx;
    }
    return out;
}

static void s_row_ep(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_own(cells, s_endpoints(o));
    s_cell_age(cells, o, now);
}

static const proto_table_col_t s_cols_ep[] = {
    S_NAME,
    {"Endpoints", "string", "", "Endpoints is the list of endpoints for this service.", 0},
    S_AGE,
};

static char *s_ing_hosts(const json_t *rules)
{
    size_t i, n = 0, total = json_array_size(rules);
    bool more = false;
    json_t *r;
    char *out = calloc(1, 1);
    json_array_foreach(rules, i, r)
    {
        if (n == 3)
            more = true;
        const char *h = json_string_value(json_object_get(r, "host"));
        if (!more && h && *h) {
            char *nx = s_fmt("%s%s%s", out, n ? "," : "", h);
            free(out);
            out = nx;
            n++;
        }
    }
    if (n == 0) {
        free(out);
        return strdup("*");
    }
    if (more) {
        char *nx = s_fmt("%s + %zu more...", out, total - 3);
        free(out);
        out = nx;
    }
    return out;
}

static void s_row_ing(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_str(cells, s_or(s_str(o, "spec.ingressClassName"), "<none>"));
    proto_table_cell_own(cells, s_ing_hosts(proto_obj_get(o, "spec.rules")));
    proto_table_cell_own(cells, s_lb_ingress(proto_obj_get(o, "status.loadBalancer.ingress")));
    proto_table_cell_str(cells, json_array_size(proto_obj_get(o, "spec.tls")) ? "80, 443" : "80");
    s_cell_age(cells, o, now);
}

static const proto_table_col_t s_cols_ing[] = {
    S_NAME,
    {"Class", "string", "",
     "The name of the IngressClass resource that should be used for "
     "this Ingress",
     0},
    {"Hosts", "string", "",
     "Hosts that incoming requests are matched against before the "
     "ingress rule",
     0},
    {"Address", "string", "",
     "Address is a list containing ingress points for the "
     "load-balancer",
     0},
    {"Ports", "string", "", "Ports of TLS configurations that open", 0},
    S_AGE,
};

/* ---- cluster and config kinds ---------------------------------------------------- */

static char *s_node_status(const json_t *o)
{
    json_t *conds = proto_obj_get(o, "status.conditions"), *c;
    size_t i;
    const char *st = NULL;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, "Ready") == 0)
            st = s_or(json_string_value(json_object_get(c, "status")), "");
    }
    const char *base = !st ? "Unknown" : strcmp(st, "True") == 0 ? "Ready" : "NotReady";
    bool unsched = json_is_true(proto_obj_get(o, "spec.unschedulable"));
    return s_fmt("%s%s", base, unsched ? ",SchedulingDisabled" : "");
}

static char *s_node_roles(const json_t *o)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    json_t *labels = proto_obj_labels(o), *v;
    const char *k, **roles = calloc(json_object_size(labels) + 1, sizeof *roles);
    size_t n = 0;
    json_object_foreach(labels, k, v)
    {
        const char *val = json_string_value(v);
        if (strncmp(k, prefix, sizeof prefix - 1) == 0 && k[sizeof prefix - 1])
            roles[n++] = k + sizeof prefix - 1;
        else if (strcmp(k, "kubernetes.io/role") == 0 && val && *val)
            roles[n++] = val;
    }
    qsort(roles, n, sizeof *roles, s_cmp_str);
    char *out = calloc(1, 1);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(roles[i], roles[i - 1]) == 0)
            continue;
        char *nx = s_fmt("%s%s%s", out, *out ? "," : "", roles[i]);
        free(out);
        out = nx;
    }
    free(roles);
    if (!*out) {
        free(out);
        out = strdup("<none>");
    }
    return out;
}

static const char *s_node_addr(const json_t *o, const char *type)
{
    json_t *addrs = proto_obj_get(o, "status.addresses"), *a;
    size_t i;
    json_array_foreach(addrs, i, a)
    {
        const char *t = json_string_value(json_object_get(a, "type"));
        if (t && strcmp(t, type) == 0)
            return s_or(json_string_value(json_object_get(a, "address")), "<none>");
    }
    return "<none>";
}

static void s_row_node(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_own(cells, s_node_status(o));
    proto_table_cell_own(cells, s_node_roles(o));
    s_cell_age(cells, o, now);
    proto_table_cell_str(cells, s_str(o, "status.nodeInfo.kubeletVersion"));
    proto_table_cell_str(cells, s_node_addr(o, "InternalIP"));
    proto_table_cell_str(cells, s_node_addr(o, "ExternalIP"));
    proto_table_cell_str(cells, s_or(s_str(o, "status.nodeInfo.osImage"), "<unknown>"));
    proto_table_cell_str(cells, s_or(s_str(o, "status.nodeInfo.kernelVersion"), "<unknown>"));
    proto_table_cell_str(cells,
                         s_or(s_str(o, "status.nodeInfo.containerRuntimeVersion"), "<unknown>"));
}

static const proto_table_col_t s_cols_node[] = {
    S_NAME,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    S_AGE,
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", "List of addresses reachable to the node.", 1},
    {"External-IP", "string", "", "List of addresses reachable to the node.", 1},
    {"OS-Image", "string", "",
     "OS Image reported by the node from /etc/os-release (e.g. "
     "Debian GNU/Linux 7 (wheezy)).",
     1},
    {"Kernel-Version", "string", "",
     "Kernel Version reported by the node from 'uname -r' "
     "(e.g. 3.16.0-0.bpo.4-amd64).",
     1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through "
     "runtime remote API (e.g. containerd://1.4.2).",
     1},
};

static void s_row_ns(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_str(cells, s_str(o, "status.phase"));
    s_cell_age(cells, o, now);
}

static const proto_table_col_t s_cols_ns[] = {
    S_NAME,
    {"Status", "string", "", "The status of the namespace", 0},
    S_AGE,
};

static void s_row_secret(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_str(cells, s_str(o, "type"));
    proto_table_cell_int(cells, (int64_t)json_object_size(proto_obj_get(o, "data")));
    s_cell_age(cells, o, now);
}

static const proto_table_col_t s_cols_secret[] = {
    S_NAME,
    {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
    {"Data", "string", "", "Data contains the secret data.", 0},
    S_AGE,
};

static void s_row_cm(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    proto_table_cell_int(cells, (int64_t)(json_object_size(proto_obj_get(o, "data")) +
                                          json_object_size(proto_obj_get(o, "binaryData"))));
    s_cell_age(cells, o, now);
}

static const proto_table_col_t s_cols_cm[] = {
    S_NAME,
    {"Data", "string", "", "Data contains the configuration data.", 0},
    S_AGE,
};

/* ---- events ----------------------------------------------------------------------- */

static void s_row_event(const json_t *o, int64_t now, json_t *cells)
{
    const char *ft = s_str(o, "firstTimestamp"), *lt = s_str(o, "lastTimestamp");
    char *first = s_since(ft ? ft : s_str(o, "eventTime"), now);
    char *last = lt ? s_since(lt, now) : strdup(first);
    int64_t count = proto_obj_int(o, "count", 0);
    if (proto_obj_get(o, "series")) {
        free(last);
        last = s_since(s_str(o, "series.lastObservedTime"), now);
        count = proto_obj_int(o, "series.count", 0);
    } else if (count == 0) {
        count = 1;
    }
    char *kind = strdup(s_or(s_str(o, "involvedObject.kind"), ""));
    for (char *p = kind; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    const char *name = s_str(o, "involvedObject.name");
    char *target = name && *name ? s_fmt("%s/%s", kind, name) : strdup(kind);
    const char *comp = s_or(s_str(o, "source.component"), s_str(o, "reportingComponent"));
    const char *inst = s_or(s_str(o, "source.host"), s_str(o, "reportingInstance"));
    char *msg = strdup(s_or(s_str(o, "message"), ""));
    size_t b = strspn(msg, " \t\r\n\v\f"), e = strlen(msg);
    while (e > b && strchr(" \t\r\n\v\f", msg[e - 1]))
        e--;
    proto_table_cell_own(cells, last);
    proto_table_cell_str(cells, s_str(o, "type"));
    proto_table_cell_str(cells, s_str(o, "reason"));
    proto_table_cell_own(cells, target);
    proto_table_cell_str(cells, s_str(o, "involvedObject.fieldPath"));
    proto_table_cell_own(cells, inst && *inst ? s_fmt("%s, %s", s_or(comp, ""), inst)
                                              : strdup(s_or(comp, "")));
    proto_table_cell_own(cells, s_fmt("%.*s", (int)(e - b), msg + b));
    proto_table_cell_own(cells, first);
    proto_table_cell_int(cells, count);
    proto_table_cell_str(cells, proto_obj_name(o));
    free(msg);
    free(kind);
}

static const proto_table_col_t s_cols_event[] = {
    {"Last Seen", "string", "",
     "Deprecated field assuring backward compatibility with "
     "core.v1 Event type",
     0},
    {"Type", "string", "",
     "type is the type of this event (Normal, Warning), new types could "
     "be added in the future. It is machine-readable.",
     0},
    {"Reason", "string", "", "reason is why the action was taken. It is human-readable.", 0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "", "The part of the object this event is about.", 1},
    {"Source", "string", "", "The component reporting this event.", 1},
    {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "Deprecated field assuring backward compatibility with "
     "core.v1 Event type",
     1},
    {"Count", "string", "",
     "Deprecated field assuring backward compatibility with core.v1 "
     "Event type",
     1},
    {"Name", "string", "name", proto_table_desc_name, 1},
};

/* ---- registry ------------------------------------------------------------------------ */

static void s_row_default(const json_t *o, int64_t now, json_t *cells)
{
    proto_table_cell_str(cells, proto_obj_name(o));
    s_cell_age(cells, o, now);
}

static const proto_table_col_t s_cols_default[] = {S_NAME, S_AGE};

#define S_PRINTER(res, cols, fn)                                                                   \
    {                                                                                              \
        res, cols, S_NCOLS(cols), fn                                                               \
    }

static const proto_table_printer_t s_printers[] = {
    S_PRINTER("pods", s_cols_pod, s_row_pod),
    S_PRINTER("replicationcontrollers", s_cols_rc, s_row_rc),
    S_PRINTER("replicasets", s_cols_rc, s_row_rs),
    S_PRINTER("deployments", s_cols_deploy, s_row_deploy),
    S_PRINTER("daemonsets", s_cols_ds, s_row_ds),
    S_PRINTER("jobs", s_cols_job, s_row_job),
    S_PRINTER("cronjobs", s_cols_cronjob, s_row_cronjob),
    S_PRINTER("services", s_cols_svc, s_row_svc),
    S_PRINTER("endpoints", s_cols_ep, s_row_ep),
    S_PRINTER("ingresses", s_cols_ing, s_row_ing),
    S_PRINTER("nodes", s_cols_node, s_row_node),
    S_PRINTER("namespaces", s_cols_ns, s_row_ns),
    S_PRINTER("secrets", s_cols_secret, s_row_secret),
    S_PRINTER("configmaps", s_cols_cm, s_row_cm),
    S_PRINTER("events", s_cols_event, s_row_event),
};

static const proto_table_printer_t s_default = S_PRINTER("", s_cols_default, s_row_default);

const proto_table_printer_t *proto_table_printer(const char *resource)
{
    for (size_t i = 0; resource && i < S_NCOLS(s_printers); i++)
        if (strcmp(s_printers[i].resource, resource) == 0)
            return &s_printers[i];
    return &s_default;
}
