/*
 * protocol/defaults — Kubernetes' defaulting (the SetDefaults_* functions of
 * k8s.io/kubernetes/pkg/apis/{core,apps,batch,networking}/v1, plus what the
 * registry strategies fill in on create) for the kinds zkube serves. Applied
 * after conversion, before validation. A field set to null or, for strings,
 * to "" counts as unset, as it does for Go's zero values.
 *
 * Not here, because they belong to the apiserver: clusterIP allocation,
 * nodePort allocation, Job selector generation (proto_job_default_selector
 * is provided for it), uid/creationTimestamp/generation.
 */
#include "protocol/kinds_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <string.h>

static bool s_unset(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

/* Sets o[key] = val (stolen) when o is an object and o[key] is unset. */
static void s_def(json_t *o, const char *key, json_t *val)
{
    if (json_is_object(o) && s_unset(json_object_get(o, key)))
        json_object_set_new(o, key, val);
    else
        json_decref(val);
}

/* The value is only made when it is wanted: defaulting a stored object
 * again (every update does) then allocates nothing. */
static bool s_wants(const json_t *o, const char *key)
{
    return json_is_object(o) && s_unset(json_object_get(o, key));
}

static void s_def_str(json_t *o, const char *key, const char *s)
{
    if (s_wants(o, key))
        json_object_set_new(o, key, json_string(s));
}

static void s_def_int(json_t *o, const char *key, json_int_t n)
{
    if (s_wants(o, key))
        json_object_set_new(o, key, json_integer(n));
}

static void s_def_obj(json_t *o, const char *key)
{
    if (s_wants(o, key))
        json_object_set_new(o, key, json_object());
}

static void s_http_get(json_t *h)
{
    s_def_str(h, "path", "/");
    s_def_str(h, "scheme", "HTTP");
}

static void s_probe(json_t *p)
{
    if (!json_is_object(p))
        return;
    s_def_int(p, "timeoutSeconds", 1);
    s_def_int(p, "periodSeconds", 10);
    s_def_int(p, "successThreshold", 1);
    s_def_int(p, "failureThreshold", 3);
    s_http_get(json_object_get(p, "httpGet"));
}

static void s_lifecycle(json_t *lc)
{
    s_http_get(proto_obj_get(lc, "postStart.httpGet"));
    s_http_get(proto_obj_get(lc, "preStop.httpGet"));
}

/* imagePullPolicy: Always for ":latest" or no tag (and no digest), else IfNotPresent. */
static const char *s_pull_policy(const char *image)
{
    if (!image)
        return "IfNotPresent";
    if (strchr(image, '@'))
        return "IfNotPresent";
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    if (!colon || strcmp(colon, ":latest") == 0)
        return "Always";
    return "IfNotPresent";
}

static void s_env(json_t *env)
{
    size_t i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        s_def_str(proto_obj_get(e, "valueFrom.fieldRef"), "apiVersion", "v1");
    }
}

static void s_container(json_t *c, bool host_network)
{
    if (!json_is_object(c))
        return;
    s_def_str(c, "imagePullPolicy", s_pull_policy(json_string_value(json_object_get(c, "image"))));
    s_def_str(c, "terminationMessagePath", "/dev/termination-log");
    s_def_str(c, "terminationMessagePolicy", "File");
    s_def_obj(c, "resources");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c, "ports"), i, p)
    {
        s_def_str(p, "protocol", "TCP");
        if (host_network && json_is_object(p) &&
            !json_integer_value(json_object_get(p, "hostPort")))
            s_def(p, "hostPort", json_copy(json_object_get(p, "containerPort")));
    }
    s_env(json_object_get(c, "env"));
    s_probe(json_object_get(c, "livenessProbe"));
    s_probe(json_object_get(c, "readinessProbe"));
    s_probe(json_object_get(c, "startupProbe"));
    s_lifecycle(json_object_get(c, "lifecycle"));
}

static void s_items_mode(json_t *items)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        s_def_str(json_object_get(it, "fieldRef"), "apiVersion", "v1");
    }
}

static const char *const s_vol_sources[] = {
    "hostPath",    "emptyDir",  "secret", "configMap", "persistentVolumeClaim",
    "downwardAPI", "projected", "nfs",    "gitRepo",   "csi",
    "ephemeral",   "image",     NULL};

static void s_volume(json_t *v)
{
    if (!json_is_object(v))
        return;
    bool any = false;
    for (const char *const *s = s_vol_sources; *s; s++)
        any = any || !s_unset(json_object_get(v, *s));
    if (!any) /* SetDefaults_Volume: no source means an emptyDir */
        json_object_set_new(v, "emptyDir", json_object());
    s_def_int(json_object_get(v, "secret"), "defaultMode", 0644);
    s_def_int(json_object_get(v, "configMap"), "defaultMode", 0644);
    json_t *dapi = json_object_get(v, "downwardAPI");
    s_def_int(dapi, "defaultMode", 0644);
    s_items_mode(json_object_get(dapi, "items"));
    json_t *proj = json_object_get(v, "projected");
    s_def_int(proj, "defaultMode", 0644);
    size_t i;
    json_t *src;
    json_array_foreach(json_object_get(proj, "sources"), i, src)
    {
        s_items_mode(proto_obj_get(src, "downwardAPI.items"));
        s_def_int(json_object_get(src, "serviceAccountToken"), "expirationSeconds", 3600);
    }
    s_def_str(json_object_get(v, "hostPath"), "type", "");
}

void proto_defaults_pod_spec(json_t *spec)
{
    if (!json_is_object(spec))
        return;
    bool hn = json_is_true(json_object_get(spec, "hostNetwork"));
    s_def_str(spec, "restartPolicy", "Always");
    s_def_str(spec, "dnsPolicy", "ClusterFirst");
    s_def_int(spec, "terminationGracePeriodSeconds", 30);
    s_def_str(spec, "schedulerName", "default-scheduler");
    s_def_obj(spec, "securityContext");
    s_def(spec, "enableServiceLinks", json_true());
    json_t *sa = json_object_get(spec, "serviceAccount");
    if (json_is_string(sa) && json_string_length(sa))
        s_def(spec, "serviceAccountName", json_copy(sa)); /* deprecated alias */
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c) s_container(c, hn);
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) s_container(c, hn);
    json_array_foreach(json_object_get(spec, "volumes"), i, c) s_volume(c);
    json_array_foreach(json_object_get(spec, "tolerations"), i, c)
    {
        if (json_is_object(c) && s_unset(json_object_get(c, "operator")))
            s_def_str(c, "operator", "Equal");
    }
}

static void s_template(json_t *spec)
{
    proto_defaults_pod_spec(proto_obj_get(spec, "template.spec"));
}

static void s_rc(json_t *obj, json_t *spec)
{
    s_def_int(spec, "replicas", 1);
    json_t *tl = proto_obj_get(spec, "template.metadata.labels");
    if (json_is_object(tl) && json_object_size(tl)) {
        json_t *sel = json_object_get(spec, "selector");
        if (!json_is_object(sel) || json_object_size(sel) == 0)
            json_object_set_new(spec, "selector", json_deep_copy(tl));
        json_t *l = proto_obj_get(obj, "metadata.labels");
        if (json_is_object(json_object_get(obj, "metadata")) &&
            (!json_is_object(l) || json_object_size(l) == 0))
            proto_obj_set(obj, "metadata.labels", json_deep_copy(tl));
    }
    s_template(spec);
}

static void s_deployment(json_t *spec)
{
    s_def_int(spec, "replicas", 1);
    s_def_obj(spec, "strategy");
    json_t *st = json_object_get(spec, "strategy");
    s_def_str(st, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(st, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0) {
        s_def_obj(st, "rollingUpdate");
        json_t *ru = json_object_get(st, "rollingUpdate");
        s_def_str(ru, "maxUnavailable", "25%");
        s_def_str(ru, "maxSurge", "25%");
    }
    s_def_int(spec, "revisionHistoryLimit", 10);
    s_def_int(spec, "progressDeadlineSeconds", 600);
    s_template(spec);
}

static void s_daemonset(json_t *spec)
{
    s_def_obj(spec, "updateStrategy");
    json_t *st = json_object_get(spec, "updateStrategy");
    s_def_str(st, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(st, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0) {
        s_def_obj(st, "rollingUpdate");
        json_t *ru = json_object_get(st, "rollingUpdate");
        s_def_int(ru, "maxUnavailable", 1);
        s_def_int(ru, "maxSurge", 0);
    }
    s_def_int(spec, "revisionHistoryLimit", 10);
    s_template(spec);
}

/* SetDefaults_Job: both completions and parallelism default to 1 only when
 * both are unset; parallelism alone defaults to 1 (completions then stays
 * unset: a work-queue job). */
static void s_job(json_t *obj, json_t *spec)
{
    if (!json_is_object(spec))
        return;
    if (s_unset(json_object_get(spec, "completions")) &&
        s_unset(json_object_get(spec, "parallelism")))
        s_def_int(spec, "completions", 1);
    s_def_int(spec, "parallelism", 1);
    s_def_int(spec, "backoffLimit", 6);
    s_def_str(spec, "completionMode", "NonIndexed");
    s_def(spec, "suspend", json_false());
    s_def_str(spec, "podReplacementPolicy",
              s_unset(json_object_get(spec, "podFailurePolicy")) ? "TerminatingOrFailed"
                                                                 : "Failed");
    json_t *tl = proto_obj_get(spec, "template.metadata.labels");
    json_t *l = proto_obj_get(obj, "metadata.labels");
    if (json_is_object(tl) && json_object_size(tl) &&
        json_is_object(json_object_get(obj, "metadata")) &&
        (!json_is_object(l) || json_object_size(l) == 0))
        proto_obj_set(obj, "metadata.labels", json_deep_copy(tl));
    s_template(spec);
}

static void s_cronjob(json_t *spec)
{
    s_def_str(spec, "concurrencyPolicy", "Allow");
    s_def(spec, "suspend", json_false());
    s_def_int(spec, "successfulJobsHistoryLimit", 3);
    s_def_int(spec, "failedJobsHistoryLimit", 1);
    proto_defaults_pod_spec(proto_obj_get(spec, "jobTemplate.spec.template.spec"));
}

static void s_service_ports(json_t *spec)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (!json_is_object(p))
            continue;
        s_def_str(p, "protocol", "TCP");
        json_t *tp = json_object_get(p, "targetPort");
        if (s_unset(tp) || (json_is_integer(tp) && json_integer_value(tp) == 0))
            json_object_set(p, "targetPort", json_object_get(p, "port"));
    }
}

static void s_service(json_t *spec)
{
    if (!json_is_object(spec))
        return;
    s_def_str(spec, "type", "ClusterIP");
    s_def_str(spec, "sessionAffinity", "None");
    const char *type = json_string_value(json_object_get(spec, "type"));
    const char *aff = json_string_value(json_object_get(spec, "sessionAffinity"));
    if (aff && strcmp(aff, "ClientIP") == 0) {
        s_def_obj(spec, "sessionAffinityConfig");
        json_t *cfg = json_object_get(spec, "sessionAffinityConfig");
        s_def_obj(cfg, "clientIP");
        s_def_int(json_object_get(cfg, "clientIP"), "timeoutSeconds", 10800);
    }
    s_service_ports(spec);
    if (!type)
        return;
    bool ext = strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0;
    if (ext)
        s_def_str(spec, "externalTrafficPolicy", "Cluster");
    if (strcmp(type, "LoadBalancer") == 0)
        s_def(spec, "allocateLoadBalancerNodePorts", json_true());
    if (strcmp(type, "ExternalName") != 0) {
        s_def_str(spec, "internalTrafficPolicy", "Cluster");
        /* a headless Service without selector may carry any family */
        const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
        bool open = cip && strcmp(cip, "None") == 0 &&
                    json_object_size(json_object_get(spec, "selector")) == 0;
        s_def_str(spec, "ipFamilyPolicy", open ? "RequireDualStack" : "SingleStack");
        json_t *fam = json_object_get(spec, "ipFamilies");
        if (!json_is_array(fam) || json_array_size(fam) == 0)
            json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
    }
}

static void s_endpoints(json_t *obj)
{
    size_t i, j;
    json_t *ss, *p;
    json_array_foreach(json_object_get(obj, "subsets"), i, ss)
    {
        json_array_foreach(json_object_get(ss, "ports"), j, p) s_def_str(p, "protocol", "TCP");
    }
}

static void s_namespace(json_t *obj)
{
    if (!json_is_object(json_object_get(obj, "spec")))
        json_object_set_new(obj, "spec", json_object());
    json_t *spec = json_object_get(obj, "spec");
    json_t *fin = json_object_get(spec, "finalizers");
    if (!json_is_array(fin) || json_array_size(fin) == 0)
        json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
    if (!json_is_object(json_object_get(obj, "status")))
        json_object_set_new(obj, "status", json_object());
    s_def_str(json_object_get(obj, "status"), "phase", "Active");
}

void proto_defaults(json_t *obj)
{
    proto_defaults_since(obj, NULL);
}

static void s_replicaset(json_t *spec)
{
    s_def_int(spec, "replicas", 1);
    s_template(spec);
}

/* The kinds whose defaults read and write spec alone. */
static const struct {
    const char *kind;
    void (*fn)(json_t *spec);
} s_spec_only[] = {
    {"Pod", proto_defaults_pod_spec}, {"ReplicaSet", s_replicaset}, {"Deployment", s_deployment},
    {"DaemonSet", s_daemonset},       {"CronJob", s_cronjob},       {"Service", s_service},
};

void proto_defaults_since(json_t *obj, const json_t *stored)
{
    const char *kind = proto_obj_kind(obj);
    if (!json_is_object(obj) || !kind)
        return;
    json_t *spec = json_object_get(obj, "spec");
    for (size_t i = 0; i < sizeof s_spec_only / sizeof s_spec_only[0]; i++) {
        if (strcmp(kind, s_spec_only[i].kind) != 0)
            continue;
        /* a spec already stored has had these defaults */
        if (!spec || !json_is_object(stored) || spec != json_object_get(stored, "spec"))
            s_spec_only[i].fn(spec);
        return;
    }
    if (strcmp(kind, "ReplicationController") == 0)
        s_rc(obj, spec);
    else if (strcmp(kind, "Job") == 0)
        s_job(obj, spec);
    else if (strcmp(kind, "Endpoints") == 0)
        s_endpoints(obj);
    else if (strcmp(kind, "Namespace") == 0)
        s_namespace(obj);
    else if (strcmp(kind, "Secret") == 0)
        s_def_str(obj, "type", "Opaque");
}

/* Sets o[key] = s unless o already has key. */
static void s_keep_set(json_t *o, const char *key, const char *s)
{
    if (!json_object_get(o, key))
        json_object_set_new(o, key, json_string(s));
}

/* o[key] as an object, created when absent or null; NULL when it is something else. */
static json_t *s_obj_at(json_t *o, const char *key)
{
    json_t *x = json_object_get(o, key);
    if (!x || json_is_null(x)) {
        x = json_object();
        json_object_set_new(o, key, x);
    }
    return json_is_object(x) ? x : NULL;
}

int proto_job_default_selector(json_t *job, const char *uid)
{
    const char *name = proto_obj_name(job);
    json_t *spec = json_object_get(job, "spec");
    if (!name || !uid || !json_is_object(spec))
        return PROTO_EINVALID;
    if (json_is_true(json_object_get(spec, "manualSelector")))
        return 0;
    json_t *tmpl = s_obj_at(spec, "template");
    json_t *meta = tmpl ? s_obj_at(tmpl, "metadata") : NULL;
    json_t *labels = meta ? s_obj_at(meta, "labels") : NULL;
    json_t *sel = s_obj_at(spec, "selector");
    json_t *ml = sel ? s_obj_at(sel, "matchLabels") : NULL;
    if (!labels || !ml)
        return PROTO_EINVALID;
    s_keep_set(labels, "controller-uid", uid);
    s_keep_set(labels, "batch.kubernetes.io/controller-uid", uid);
    s_keep_set(labels, "job-name", name);
    s_keep_set(labels, "batch.kubernetes.io/job-name", name);
    s_keep_set(ml, "batch.kubernetes.io/controller-uid", uid);
    return 0;
}

static bool s_tolerates(const json_t *tols, const char *key)
{
    size_t i;
    json_t *t;
    json_array_foreach(tols, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "key"));
        const char *op = json_string_value(json_object_get(t, "operator"));
        const char *eff = json_string_value(json_object_get(t, "effect"));
        bool any_key = (!k || !*k) && op && strcmp(op, "Exists") == 0;
        bool effect_ok = !eff || !*eff || strcmp(eff, "NoExecute") == 0;
        if ((any_key || (k && strcmp(k, key) == 0)) && effect_ok)
            return true;
    }
    return false;
}

void proto_admission_defaults(json_t *obj)
{
    const char *kind = proto_obj_kind(obj);
    json_t *spec = json_object_get(obj, "spec");
    if (!kind || strcmp(kind, "Pod") != 0 || !json_is_object(spec))
        return;
    s_def_str(spec, "serviceAccountName", "default");
    s_def(spec, "serviceAccount", json_copy(json_object_get(spec, "serviceAccountName")));
    if (s_unset(json_object_get(spec, "priorityClassName"))) {
        s_def_int(spec, "priority", 0);
        s_def_str(spec, "preemptionPolicy", "PreemptLowerPriority");
    }
    json_t *tols = json_object_get(spec, "tolerations");
    if (!tols || json_is_null(tols)) {
        tols = json_array();
        json_object_set_new(spec, "tolerations", tols);
    }
    if (!json_is_array(tols))
        return;
    static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                       "node.kubernetes.io/unreachable", NULL};
    for (const char *const *k = keys; *k; k++)
        if (!s_tolerates(tols, *k))
            json_array_append_new(tols,
                                  json_pack("{s:s, s:s, s:s, s:i}", "key", *k, "operator", "Exists",
                                            "effect", "NoExecute", "tolerationSeconds", 300));
}
