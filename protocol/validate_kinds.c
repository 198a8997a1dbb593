/*
 * protocol/validate_kinds — the per-kind rules of Kubernetes' validation
 * (pkg/apis/{core,apps,batch,networking}/validation) for the kinds zkube
 * serves: replicas and selectors of the controllers, Job and CronJob specs,
 * Services, Endpoints, Secrets, ConfigMaps, Ingresses, Bindings, Scales;
 * and the immutability rules of updates.
 */
#include "protocol/kinds_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define S_NONNEG "must be greater than or equal to 0"
#define S_PORT_RANGE "must be between 1 and 65535, inclusive"
#define S_IP_MSG "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
#define S_CONFIG_KEY_MSG                                                                           \
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "           \
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
#define S_MAX_SECRET (1024 * 1024)

static void s_nonneg(proto_vctx_t *v, const json_t *o, const char *key, const char *path)
{
    json_t *x = json_object_get(o, key);
    if (json_is_integer(x) && json_integer_value(x) < 0) {
        char p[700];
        proto_v_invalid_int(v, PROTO_VP(p, "%s.%s", path, key), json_integer_value(x), S_NONNEG);
    }
}

/* ---- controllers ---- */

static const char *const s_always[] = {"Always", NULL};
static const char *const s_job_restart[] = {"OnFailure", "Never", NULL};

static void s_template(const json_t *tmpl, const char *path, proto_vctx_t *v,
                       const char *const *restart)
{
    char p[700];
    proto_v_labels(proto_obj_get(tmpl, "metadata.labels"), PROTO_VP(p, "%s.metadata.labels", path),
                   v);
    json_t *spec = json_object_get(tmpl, "spec");
    proto_v_pod_spec(spec, PROTO_VP(p, "%s.spec", path), v);
    const char *rp = json_string_value(json_object_get(spec, "restartPolicy"));
    if (!restart || !rp || !*rp)
        return;
    for (const char *const *r = restart; *r; r++)
        if (strcmp(*r, rp) == 0)
            return;
    proto_v_unsupported(v, PROTO_VP(p, "%s.spec.restartPolicy", path), rp, restart);
}

static void s_mismatch(proto_vctx_t *v, const json_t *labels, const char *path)
{
    char p[700];
    json_t *empty = json_object();
    proto_v_invalid(v, PROTO_VP(p, "%s.template.metadata.labels", path), labels ? labels : empty,
                    "`selector` does not match template `labels`");
    json_decref(empty);
}

/* apps/v1 and batch/v1 LabelSelector specs: required, non-empty, valid, matching. */
static void s_label_selector_spec(const json_t *spec, const char *path, const char *what,
                                  bool required, proto_vctx_t *v)
{
    char p[700];
    json_t *sel = json_object_get(spec, "selector");
    PROTO_VP(p, "%s.selector", path);
    if (!json_is_object(sel)) {
        if (required)
            proto_v_required(v, p, NULL);
        return;
    }
    if (json_object_size(json_object_get(sel, "matchLabels")) == 0 &&
        json_array_size(json_object_get(sel, "matchExpressions")) == 0) {
        char detail[100];
        snprintf(detail, sizeof detail, "empty selector is invalid for %s", what);
        proto_v_add(v, "FieldValueInvalid", p,
                    "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                    "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: %s",
                    detail);
        return;
    }
    proto_v_label_selector(sel, p, v);
    json_t *labels = proto_obj_get(spec, "template.metadata.labels");
    if (!proto_v_selector_matches(sel, labels))
        s_mismatch(v, labels, path);
}

static void s_replicas(const json_t *spec, proto_vctx_t *v)
{
    s_nonneg(v, spec, "replicas", "spec");
    s_nonneg(v, spec, "minReadySeconds", "spec");
}

static void s_rc(const json_t *spec, proto_vctx_t *v)
{
    s_replicas(spec, v);
    json_t *sel = json_object_get(spec, "selector");
    json_t *tmpl = json_object_get(spec, "template");
    if (json_object_size(sel) == 0)
        proto_v_required(v, "spec.selector", NULL);
    else
        proto_v_labels(sel, "spec.selector", v);
    if (!json_is_object(tmpl)) {
        proto_v_required(v, "spec.template", NULL);
        return;
    }
    json_t *labels = proto_obj_get(tmpl, "metadata.labels");
    const char *k;
    json_t *x;
    json_object_foreach(sel, k, x)
    {
        json_t *have = json_object_get(labels, k);
        if (!json_is_string(have) || !json_equal(have, x)) {
            s_mismatch(v, labels, "spec");
            break;
        }
    }
    s_template(tmpl, "spec.template", v, s_always);
}

static void s_apps(const json_t *spec, const char *what, proto_vctx_t *v)
{
    s_replicas(spec, v);
    s_nonneg(v, spec, "revisionHistoryLimit", "spec");
    s_label_selector_spec(spec, "spec", what, true, v);
    json_t *tmpl = json_object_get(spec, "template");
    json_t *empty = json_object();
    s_template(json_is_object(tmpl) ? tmpl : empty, "spec.template", v, s_always);
    json_decref(empty);
}

static bool s_is_zero_ios(const json_t *x)
{
    return (json_is_integer(x) && json_integer_value(x) == 0) ||
           (json_is_string(x) && strcmp(json_string_value(x), "0%") == 0);
}

static void s_int_or_percent(const json_t *x, const char *path, proto_vctx_t *v)
{
    if (json_is_integer(x) && json_integer_value(x) < 0)
        proto_v_invalid_int(v, path, json_integer_value(x), S_NONNEG);
    if (!json_is_string(x))
        return;
    const char *s = json_string_value(x);
    size_t n = strlen(s), i = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    if (i == 0 || i + 1 != n || s[i] != '%')
        proto_v_invalid_str(v, path, s,
                            "a valid percent string must be a numeric string followed "
                            "by an ending '%' (e.g. '1%',  or '93%', regex used for "
                            "validation is '[0-9]+%')");
}

static void s_rolling(const json_t *ru, const char *path, bool surge_zero_ok, proto_vctx_t *v)
{
    char p[700];
    json_t *mu = json_object_get(ru, "maxUnavailable"), *ms = json_object_get(ru, "maxSurge");
    s_int_or_percent(mu, PROTO_VP(p, "%s.maxUnavailable", path), v);
    s_int_or_percent(ms, PROTO_VP(p, "%s.maxSurge", path), v);
    if (!surge_zero_ok && mu && ms && s_is_zero_ios(mu) && s_is_zero_ios(ms))
        proto_v_invalid(v, PROTO_VP(p, "%s.maxUnavailable", path), mu,
                        "may not be 0 when `maxSurge` is 0");
}

static void s_deployment(const json_t *spec, proto_vctx_t *v)
{
    s_apps(spec, "deployment", v);
    json_t *st = json_object_get(spec, "strategy");
    const char *type = json_string_value(json_object_get(st, "type"));
    json_t *ru = json_object_get(st, "rollingUpdate");
    if (type && strcmp(type, "Recreate") == 0 && json_is_object(ru))
        proto_v_forbidden(v, "spec.strategy.rollingUpdate",
                          "may not be specified when strategy `type` is 'Recreate'");
    else if (json_is_object(ru))
        s_rolling(ru, "spec.strategy.rollingUpdate", false, v);
    json_t *pds = json_object_get(spec, "progressDeadlineSeconds");
    json_int_t mrs = proto_obj_int(spec, "minReadySeconds", 0);
    if (json_is_integer(pds) && json_integer_value(pds) <= mrs)
        proto_v_invalid_int(v, "spec.progressDeadlineSeconds", json_integer_value(pds),
                            "must be greater than minReadySeconds");
}

static void s_daemonset(const json_t *spec, proto_vctx_t *v)
{
    s_apps(spec, "daemonset", v);
    json_t *ru = proto_obj_get(spec, "updateStrategy.rollingUpdate");
    const char *type = proto_obj_str(spec, "updateStrategy.type");
    if (json_is_object(ru) && type && strcmp(type, "OnDelete") == 0)
        proto_v_forbidden(v, "spec.updateStrategy.rollingUpdate",
                          "may not be specified when strategy `type` is 'OnDelete'");
    else if (json_is_object(ru))
        s_rolling(ru, "spec.updateStrategy.rollingUpdate", false, v);
}

/* ---- jobs ---- */

static void s_job_spec(const json_t *spec, const char *path, bool top, proto_vctx_t *v)
{
    static const char *const nn[] = {"parallelism",
                                     "completions",
                                     "backoffLimit",
                                     "activeDeadlineSeconds",
                                     "ttlSecondsAfterFinished",
                                     NULL};
    for (const char *const *k = nn; *k; k++)
        s_nonneg(v, spec, *k, path);
    char p[700];
    const char *mode = json_string_value(json_object_get(spec, "completionMode"));
    if (mode && strcmp(mode, "Indexed") == 0 &&
        !json_is_integer(json_object_get(spec, "completions")))
        proto_v_required(v, PROTO_VP(p, "%s.completions", path), "when completion mode is Indexed");
    if (top)
        s_label_selector_spec(spec, path, "job", false, v);
    json_t *tmpl = json_object_get(spec, "template");
    json_t *empty = json_object();
    s_template(json_is_object(tmpl) ? tmpl : empty, PROTO_VP(p, "%s.template", path), v,
               s_job_restart);
    json_decref(empty);
}

static bool s_cron_field_ok(const char *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)f[i]) && !strchr("*/,-?", f[i]))
            return false;
    return n > 0;
}

static void s_schedule(const char *s, proto_vctx_t *v)
{
    if (s[0] == '@') {
        static const char *const d[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                        "@daily",  "@midnight", "@hourly",  NULL};
        for (const char *const *x = d; *x; x++)
            if (strcmp(*x, s) == 0)
                return;
        if (strncmp(s, "@every ", 7) == 0)
            return;
        proto_v_invalid_str(v, "spec.schedule", s, "unrecognized descriptor");
        return;
    }
    int fields = 0;
    bool bad = false;
    for (const char *p = s; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " \t");
        bad = bad || !s_cron_field_ok(p, n);
        fields++;
        p += n;
    }
    char why[300];
    if (fields != 5) {
        snprintf(why, sizeof why, "expected exactly 5 fields, found %d: %.200s", fields, s);
        proto_v_invalid_str(v, "spec.schedule", s, why);
    } else if (bad) {
        proto_v_invalid_str(v, "spec.schedule", s, "unparseable schedule");
    }
}

static void s_cronjob(const json_t *spec, proto_vctx_t *v)
{
    const char *sched = json_string_value(json_object_get(spec, "schedule"));
    if (!sched || !*sched)
        proto_v_required(v, "spec.schedule", NULL);
    else
        s_schedule(sched, v);
    s_nonneg(v, spec, "startingDeadlineSeconds", "spec");
    s_nonneg(v, spec, "successfulJobsHistoryLimit", "spec");
    s_nonneg(v, spec, "failedJobsHistoryLimit", "spec");
    json_t *js = proto_obj_get(spec, "jobTemplate.spec");
    json_t *empty = json_object();
    s_job_spec(json_is_object(js) ? js : empty, "spec.jobTemplate.spec", false, v);
    json_decref(empty);
}

/* ---- services, endpoints ---- */

static void s_svc_port(const json_t *pt, size_t i, size_t n, const char *type, proto_vctx_t *v)
{
    char p[200];
    json_t *port = json_object_get(pt, "port");
    json_int_t pn = json_integer_value(port);
    if (pn < 1 || pn > 65535)
        proto_v_invalid_int(v, PROTO_VP(p, "spec.ports[%zu].port", i), pn, S_PORT_RANGE);
    const char *name = json_string_value(json_object_get(pt, "name"));
    if (n > 1 && (!name || !*name))
        proto_v_required(v, PROTO_VP(p, "spec.ports[%zu].name", i), NULL);
    else if (name && *name && proto_check_dns1123_label(name))
        proto_v_invalid_str(v, PROTO_VP(p, "spec.ports[%zu].name", i), name,
                            proto_check_dns1123_label(name));
    proto_v_port_num_or_name(v, json_object_get(pt, "targetPort"),
                             PROTO_VP(p, "spec.ports[%zu].targetPort", i));
    json_int_t np = json_integer_value(json_object_get(pt, "nodePort"));
    PROTO_VP(p, "spec.ports[%zu].nodePort", i);
    if (np && type && strcmp(type, "ClusterIP") == 0)
        proto_v_forbidden(v, p, "may not be used when `type` is 'ClusterIP'");
    else if (np && (np < 1 || np > 65535))
        proto_v_invalid_int(v, p, np, S_PORT_RANGE);
}

static void s_svc_ports(const json_t *spec, const char *type, proto_vctx_t *v)
{
    json_t *ports = json_object_get(spec, "ports");
    json_t *seen = json_object();
    size_t i, n = json_array_size(ports);
    json_t *pt;
    json_array_foreach(ports, i, pt)
    {
        s_svc_port(pt, i, n, type, v);
        const char *name = json_string_value(json_object_get(pt, "name"));
        if (name && *name && json_object_get(seen, name)) {
            char p[100];
            proto_v_duplicate(v, PROTO_VP(p, "spec.ports[%zu].name", i),
                              json_object_get(pt, "name"));
        }
        if (name && *name)
            json_object_set_new(seen, name, json_true());
    }
    json_decref(seen);
}

static void s_svc_ips(const json_t *spec, const char *type, proto_vctx_t *v)
{
    const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
    bool ext = type && strcmp(type, "ExternalName") == 0;
    if (cip && *cip && ext)
        proto_v_invalid(v, "spec.clusterIPs", json_object_get(spec, "clusterIP"),
                        "may not be set for ExternalName services");
    else if (cip && *cip && strcmp(cip, "None") != 0 && !proto_check_ip(cip))
        proto_v_invalid_str(v, "spec.clusterIPs[0]", cip, S_IP_MSG);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(spec, "externalIPs"), i, x)
    {
        char p[100];
        const char *s = json_string_value(x);
        if (s && !proto_check_ip(s))
            proto_v_invalid_str(v, PROTO_VP(p, "spec.externalIPs[%zu]", i), s, S_IP_MSG);
    }
}

static void s_service(const json_t *spec, proto_vctx_t *v)
{
    const char *type = json_string_value(json_object_get(spec, "type"));
    const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
    bool ext = type && strcmp(type, "ExternalName") == 0;
    bool headless = cip && strcmp(cip, "None") == 0;
    if (ext) {
        const char *en = json_string_value(json_object_get(spec, "externalName"));
        if (!en || !*en) {
            proto_v_required(v, "spec.externalName", NULL);
        } else {
            char buf[300];
            snprintf(buf, sizeof buf, "%s", en);
            size_t n = strlen(buf);
            if (n && buf[n - 1] == '.')
                buf[n - 1] = '\0';
            if (proto_check_dns1123_subdomain(buf))
                proto_v_invalid_str(v, "spec.externalName", en, proto_check_dns1123_subdomain(buf));
        }
    } else if (json_array_size(json_object_get(spec, "ports")) == 0 && !headless) {
        proto_v_required(v, "spec.ports", NULL);
    }
    s_svc_ports(spec, type, v);
    s_svc_ips(spec, type, v);
    proto_v_labels(json_object_get(spec, "selector"), "spec.selector", v);
    const char *etp = json_string_value(json_object_get(spec, "externalTrafficPolicy"));
    bool lb = type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
    if (etp && *etp && !lb)
        proto_v_invalid_str(v, "spec.externalTrafficPolicy", etp,
                            "may only be set when `type` is 'NodePort' or 'LoadBalancer'");
    json_t *to = proto_obj_get(spec, "sessionAffinityConfig.clientIP.timeoutSeconds");
    if (json_is_integer(to) && (json_integer_value(to) <= 0 || json_integer_value(to) > 86400))
        proto_v_invalid_int(v, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                            json_integer_value(to), "must be greater than 0 and less than 86400");
}

static void s_ep_subset(const json_t *ss, size_t i, proto_vctx_t *v)
{
    char p[200];
    static const char *const lists[] = {"addresses", "notReadyAddresses", NULL};
    for (const char *const *l = lists; *l; l++) {
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(ss, *l), j, a)
        {
            const char *ip = json_string_value(json_object_get(a, "ip"));
            if (ip && *ip && !proto_check_ip(ip))
                proto_v_invalid_str(v, PROTO_VP(p, "subsets[%zu].%s[%zu].ip", i, *l, j), ip,
                                    S_IP_MSG);
        }
    }
    json_t *ports = json_object_get(ss, "ports");
    size_t j, n = json_array_size(ports);
    json_t *pt;
    json_array_foreach(ports, j, pt)
    {
        json_int_t pn = json_integer_value(json_object_get(pt, "port"));
        if (pn < 1 || pn > 65535)
            proto_v_invalid_int(v, PROTO_VP(p, "subsets[%zu].ports[%zu].port", i, j), pn,
                                S_PORT_RANGE);
        const char *name = json_string_value(json_object_get(pt, "name"));
        if (n > 1 && (!name || !*name))
            proto_v_required(v, PROTO_VP(p, "subsets[%zu].ports[%zu].name", i, j), NULL);
    }
}

/* ---- config ---- */

static void s_config_keys(const json_t *obj, const char *field, bool b64, size_t *total,
                          proto_vctx_t *v)
{
    const char *k;
    json_t *x;
    json_object_foreach(json_object_get(obj, field), k, x)
    {
        char p[400];
        PROTO_VP(p, "%s[%s]", field, k);
        size_t n = strlen(k);
        if (n > 253)
            proto_v_invalid_str(v, p, k, "must be no more than 253 characters");
        else if (strcmp(k, ".") == 0)
            proto_v_invalid_str(v, p, k, "must not be '.'");
        else if (strcmp(k, "..") == 0)
            proto_v_invalid_str(v, p, k, "must not be '..'");
        else if (strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") !=
                     n ||
                 n == 0)
            proto_v_invalid_str(v, p, k, S_CONFIG_KEY_MSG);
        /* sizes count decoded bytes */
        *total += b64 ? json_string_length(x) / 4 * 3 : json_string_length(x);
    }
}

static void s_secret(const json_t *obj, proto_vctx_t *v)
{
    size_t total = 0;
    s_config_keys(obj, "data", true, &total, v);
    s_config_keys(obj, "stringData", false, &total, v);
    if (total > S_MAX_SECRET)
        proto_v_add(v, "FieldValueTooLong", "data", "Too long: must have at most %d bytes",
                    S_MAX_SECRET);
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type && strcmp(type, "kubernetes.io/tls") == 0) {
        static const char *const keys[] = {"tls.crt", "tls.key", NULL};
        for (const char *const *k = keys; *k; k++)
            if (!json_object_get(json_object_get(obj, "data"), *k) &&
                !json_object_get(json_object_get(obj, "stringData"), *k)) {
                char p[64];
                proto_v_required(v, PROTO_VP(p, "data[%s]", *k), NULL);
            }
    }
}

static void s_configmap(const json_t *obj, proto_vctx_t *v)
{
    size_t total = 0;
    s_config_keys(obj, "data", false, &total, v);
    s_config_keys(obj, "binaryData", true, &total, v);
    if (total > S_MAX_SECRET)
        proto_v_add(v, "FieldValueTooLong", "", "Too long: must have at most %d bytes",
                    S_MAX_SECRET);
    const char *k;
    json_t *x;
    json_object_foreach(json_object_get(obj, "data"), k, x)
    {
        if (json_object_get(json_object_get(obj, "binaryData"), k)) {
            char p[400];
            proto_v_invalid_str(v, PROTO_VP(p, "data[%s]", k), k,
                                "duplicate of key present in binaryData");
        }
    }
}

/* ---- ingress ---- */

static void s_ing_backend(const json_t *b, const char *path, proto_vctx_t *v)
{
    char p[700];
    json_t *svc = json_object_get(b, "service"), *res = json_object_get(b, "resource");
    if (svc && res) {
        proto_v_invalid_str(v, path, "", "cannot set both service and resource backends");
        return;
    }
    if (!svc && !res) {
        proto_v_required(v, path, "one of `service` or `resource` must be specified");
        return;
    }
    if (!svc)
        return;
    const char *name = json_string_value(json_object_get(svc, "name"));
    if (name && *name && proto_check_dns1035_label(name))
        proto_v_invalid_str(v, PROTO_VP(p, "%s.service.name", path), name,
                            proto_check_dns1035_label(name));
    json_t *port = json_object_get(svc, "port");
    const char *pname = json_string_value(json_object_get(port, "name"));
    json_t *num = json_object_get(port, "number");
    PROTO_VP(p, "%s.service.port", path);
    if (pname && *pname && num)
        proto_v_invalid(v, p, port, "cannot set both port name & port number");
    else if ((!pname || !*pname) && !num)
        proto_v_required(v, p, "port name or number is required");
    else if (num)
        proto_v_port_num_or_name(v, num, PROTO_VP(p, "%s.service.port.number", path));
    else if (proto_check_port_name(pname))
        proto_v_invalid_str(v, PROTO_VP(p, "%s.service.port.name", path), pname,
                            proto_check_port_name(pname));
}

static void s_ing_host(const char *host, const char *path, proto_vctx_t *v)
{
    if (!host || !*host)
        return;
    if (proto_check_ip(host)) {
        proto_v_invalid_str(v, path, host, "must be a DNS name, not an IP address");
        return;
    }
    const char *h = strncmp(host, "*.", 2) == 0 ? host + 2 : host;
    if (proto_check_dns1123_subdomain(h))
        proto_v_invalid_str(v, path, host, proto_check_dns1123_subdomain(h));
}

static void s_ing_path(const json_t *pth, const char *path, proto_vctx_t *v)
{
    char p[700];
    const char *pt = json_string_value(json_object_get(pth, "pathType"));
    const char *s = json_string_value(json_object_get(pth, "path"));
    if (!pt || !*pt)
        proto_v_required(v, PROTO_VP(p, "%s.pathType", path), "pathType must be specified");
    bool strict = pt && (strcmp(pt, "Exact") == 0 || strcmp(pt, "Prefix") == 0);
    if ((strict && (!s || s[0] != '/')) || (!strict && s && *s && s[0] != '/'))
        proto_v_invalid_str(v, PROTO_VP(p, "%s.path", path), s ? s : "",
                            "must be an absolute path");
    json_t *b = json_object_get(pth, "backend");
    if (json_is_object(b))
        s_ing_backend(b, PROTO_VP(p, "%s.backend", path), v);
}

static void s_ingress(const json_t *spec, proto_vctx_t *v)
{
    char p[300];
    json_t *rules = json_object_get(spec, "rules"), *def = json_object_get(spec, "defaultBackend");
    if (json_array_size(rules) == 0 && !json_is_object(def))
        proto_v_invalid_str(v, "spec", "", "either `defaultBackend` or `rules` must be specified");
    if (json_is_object(def))
        s_ing_backend(def, "spec.defaultBackend", v);
    size_t i, j;
    json_t *r, *pth;
    json_array_foreach(rules, i, r)
    {
        s_ing_host(json_string_value(json_object_get(r, "host")),
                   PROTO_VP(p, "spec.rules[%zu].host", i), v);
        json_array_foreach(proto_obj_get(r, "http.paths"), j, pth)
            s_ing_path(pth, PROTO_VP(p, "spec.rules[%zu].http.paths[%zu]", i, j), v);
    }
    json_array_foreach(json_object_get(spec, "tls"), i, r)
    {
        json_array_foreach(json_object_get(r, "hosts"), j, pth)
            s_ing_host(json_string_value(pth), PROTO_VP(p, "spec.tls[%zu].hosts[%zu]", i, j), v);
    }
    const char *cls = json_string_value(json_object_get(spec, "ingressClassName"));
    if (cls && *cls && proto_check_dns1123_subdomain(cls))
        proto_v_invalid_str(v, "spec.ingressClassName", cls, proto_check_dns1123_subdomain(cls));
}

/* ---- binding, scale ---- */

static void s_binding(const json_t *obj, proto_vctx_t *v)
{
    json_t *t = json_object_get(obj, "target");
    if (!json_is_object(t))
        return; /* reported by the schema walk */
    const char *name = json_string_value(json_object_get(t, "name"));
    const char *kind = json_string_value(json_object_get(t, "kind"));
    if (!name || !*name)
        proto_v_required(v, "target.name", NULL);
    if (kind && *kind && strcmp(kind, "Node") != 0)
        proto_v_invalid_str(v, "target.kind", kind, "must be empty or 'Node'");
}

/* The rules of the kinds whose rules read spec alone. */
static void s_v_spec(const char *kind, const json_t *spec, proto_vctx_t *v)
{
    if (strcmp(kind, "Pod") == 0)
        proto_v_pod_spec(spec, "spec", v);
    else if (strcmp(kind, "ReplicationController") == 0)
        s_rc(spec, v);
    else if (strcmp(kind, "ReplicaSet") == 0)
        s_apps(spec, "deployment", v); /* Kubernetes reuses the Deployment wording */
    else if (strcmp(kind, "Deployment") == 0)
        s_deployment(spec, v);
    else if (strcmp(kind, "DaemonSet") == 0)
        s_daemonset(spec, v);
    else if (strcmp(kind, "Job") == 0)
        s_job_spec(spec, "spec", true, v);
    else if (strcmp(kind, "CronJob") == 0)
        s_cronjob(spec, v);
    else if (strcmp(kind, "Service") == 0)
        s_service(spec, v);
    else if (strcmp(kind, "Ingress") == 0)
        s_ingress(spec, v);
    else if (strcmp(kind, "Scale") == 0)
        s_nonneg(v, spec, "replicas", "spec");
}

void proto_v_kind(const proto_kind_t *k, const json_t *obj, proto_vctx_t *v)
{
    proto_v_object_meta(k, json_object_get(obj, "metadata"), v);
    const json_t *spec = json_object_get(obj, "spec");
    const char *kind = k->kind;
    /* a spec that is the very one stored passed these rules when it was written */
    if (!spec || !v->stored || spec != json_object_get(v->stored, "spec"))
        s_v_spec(kind, spec, v);
    if (strcmp(kind, "Endpoints") == 0) {
        size_t i;
        json_t *ss;
        json_array_foreach(json_object_get(obj, "subsets"), i, ss) s_ep_subset(ss, i, v);
    } else if (strcmp(kind, "Secret") == 0)
        s_secret(obj, v);
    else if (strcmp(kind, "ConfigMap") == 0)
        s_configmap(obj, v);
    else if (strcmp(kind, "Binding") == 0)
        s_binding(obj, v);
}
