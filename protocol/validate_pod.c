/*
 * protocol/validate_pod — Kubernetes' ValidatePodSpec for zkube: containers
 * (names, images, ports, env, volume mounts, probes, resources), volumes,
 * scheduling fields, with Kubernetes' messages and paths. Used for Pods and
 * for every pod template (RC, ReplicaSet, Deployment, DaemonSet, Job,
 * CronJob) under its own path prefix.
 */
#include "protocol/kinds_int.h"
#include "protocol/obj.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PORT_RANGE "must be between 1 and 65535, inclusive"
#define S_NONNEG "must be greater than or equal to 0"
#define S_ENV_MSG                                                                                  \
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "  \
    "or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or "         \
    "'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"

typedef struct s_pctx {
    proto_vctx_t *v;
    const json_t *spec;
    const char *prefix; /* "spec" or "spec.template.spec" */
} s_pctx_t;

static void s_nonneg(proto_vctx_t *v, const json_t *o, const char *key, const char *path)
{
    json_t *x = json_object_get(o, key);
    if (json_is_integer(x) && json_integer_value(x) < 0) {
        char p[700];
        proto_v_invalid_int(v, PROTO_VP(p, "%s.%s", path, key), json_integer_value(x), S_NONNEG);
    }
}

/* An int port 1..65535 or an IANA port name, as probes and targetPort take. */
void proto_v_port_num_or_name(proto_vctx_t *v, const json_t *port, const char *path)
{
    if (json_is_integer(port)) {
        json_int_t n = json_integer_value(port);
        if (n < 1 || n > 65535)
            proto_v_invalid_int(v, path, n, S_PORT_RANGE);
    } else if (json_is_string(port)) {
        const char *why = proto_check_port_name(json_string_value(port));
        if (why)
            proto_v_invalid_str(v, path, json_string_value(port), why);
    }
}

static void s_ports(proto_vctx_t *v, const json_t *ports, const char *cpath, bool host_net)
{
    char p[700];
    size_t i, j;
    json_t *pt, *q;
    json_array_foreach(ports, i, pt)
    {
        json_t *cp = json_object_get(pt, "containerPort");
        json_int_t n = json_integer_value(cp);
        if (json_is_integer(cp) && n == 0)
            proto_v_required(v, PROTO_VP(p, "%s.ports[%zu].containerPort", cpath, i), NULL);
        else if (json_is_integer(cp) && (n < 1 || n > 65535))
            proto_v_invalid_int(v, PROTO_VP(p, "%s.ports[%zu].containerPort", cpath, i), n,
                                S_PORT_RANGE);
        json_int_t hp = json_integer_value(json_object_get(pt, "hostPort"));
        if (hp && (hp < 1 || hp > 65535))
            proto_v_invalid_int(v, PROTO_VP(p, "%s.ports[%zu].hostPort", cpath, i), hp,
                                S_PORT_RANGE);
        else if (hp && host_net && hp != n)
            proto_v_invalid_int(v, PROTO_VP(p, "%s.ports[%zu].hostPort", cpath, i), hp,
                                "must match `containerPort` when `hostNetwork` is true");
        const char *name = json_string_value(json_object_get(pt, "name"));
        if (!name || !*name)
            continue;
        PROTO_VP(p, "%s.ports[%zu].name", cpath, i);
        if (proto_check_port_name(name))
            proto_v_invalid_str(v, p, name, proto_check_port_name(name));
        json_array_foreach(ports, j, q)
        {
            const char *other = json_string_value(json_object_get(q, "name"));
            if (j < i && other && strcmp(other, name) == 0) {
                proto_v_duplicate(v, p, json_object_get(pt, "name"));
                break;
            }
        }
    }
}

static bool s_env_name_ok(const char *s)
{
    if (!*s || isdigit((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_')
            return false;
    return true;
}

static void s_env(proto_vctx_t *v, const json_t *env, const char *cpath)
{
    char p[700];
    size_t i;
    json_t *e;
    static const char *const srcs[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
                                       "secretKeyRef", NULL};
    json_array_foreach(env, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name && *name && !s_env_name_ok(name))
            proto_v_invalid_str(v, PROTO_VP(p, "%s.env[%zu].name", cpath, i), name, S_ENV_MSG);
        json_t *vf = json_object_get(e, "valueFrom");
        if (!json_is_object(vf))
            continue;
        int n = 0;
        for (const char *const *s = srcs; *s; s++)
            n += json_is_object(json_object_get(vf, *s));
        PROTO_VP(p, "%s.env[%zu].valueFrom", cpath, i);
        const char *val = json_string_value(json_object_get(e, "value"));
        if (val && *val)
            proto_v_invalid_str(v, p, "", "may not be specified when `value` is not empty");
        else if (n == 0)
            proto_v_invalid_str(v, p, "",
                                "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                "`configMapKeyRef` or `secretKeyRef`");
        else if (n > 1)
            proto_v_invalid_str(v, p, "", "may not have more than one field specified at a time");
    }
}

static bool s_has_volume(const json_t *spec, const char *name)
{
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(spec, "volumes"), i, vol)
    {
        const char *n = json_string_value(json_object_get(vol, "name"));
        if (n && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

static void s_mounts(const s_pctx_t *c, const json_t *mounts, const char *cpath)
{
    char p[700];
    size_t i, j;
    json_t *m, *o;
    json_array_foreach(mounts, i, m)
    {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (name && *name && !s_has_volume(c->spec, name))
            proto_v_add(c->v, "FieldValueNotFound",
                        PROTO_VP(p, "%s.volumeMounts[%zu].name", cpath, i), "Not found: \"%s\"",
                        name);
        const char *mp = json_string_value(json_object_get(m, "mountPath"));
        if (!mp || !*mp)
            continue;
        json_array_foreach(mounts, j, o)
        {
            const char *omp = json_string_value(json_object_get(o, "mountPath"));
            if (j < i && omp && strcmp(omp, mp) == 0) {
                proto_v_invalid_str(c->v, PROTO_VP(p, "%s.volumeMounts[%zu].mountPath", cpath, i),
                                    mp, "must be unique");
                break;
            }
        }
    }
}

static void s_probe(proto_vctx_t *v, const json_t *pr, const char *path, bool liveness_like)
{
    static const char *const handlers[] = {"exec", "httpGet", "tcpSocket", "grpc", NULL};
    char p[700];
    int n = 0;
    for (const char *const *h = handlers; *h; h++) {
        if (!json_is_object(json_object_get(pr, *h)))
            continue;
        if (++n > 1)
            proto_v_forbidden(v, PROTO_VP(p, "%s.%s", path, *h),
                              "may not specify more than 1 handler type");
    }
    if (n == 0)
        proto_v_required(v, path, "must specify a handler type");
    proto_v_port_num_or_name(v, proto_obj_get(pr, "httpGet.port"),
                             PROTO_VP(p, "%s.httpGet.port", path));
    proto_v_port_num_or_name(v, proto_obj_get(pr, "tcpSocket.port"),
                             PROTO_VP(p, "%s.tcpSocket.port", path));
    static const char *const timing[] = {"initialDelaySeconds", "timeoutSeconds",   "periodSeconds",
                                         "successThreshold",    "failureThreshold", NULL};
    for (const char *const *t = timing; *t; t++)
        s_nonneg(v, pr, *t, path);
    json_t *st = json_object_get(pr, "successThreshold");
    if (liveness_like && json_is_integer(st) && json_integer_value(st) != 1)
        proto_v_invalid_int(v, PROTO_VP(p, "%s.successThreshold", path), json_integer_value(st),
                            "must be 1");
}

/* Rough numeric value of a quantity (for sign and request <= limit checks). */
static double s_qty_num(const json_t *q)
{
    if (json_is_number(q))
        return json_number_value(q);
    const char *s = json_string_value(q);
    if (!s)
        return 0;
    char *end;
    double d = strtod(s, &end);
    static const struct {
        const char *sfx;
        double mul;
    } m[] = {{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
             {"n", 1e-9},    {"u", 1e-6},       {"m", 1e-3},          {"k", 1e3},
             {"M", 1e6},     {"G", 1e9},        {"T", 1e12},          {"P", 1e15}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(end, m[i].sfx) == 0)
            return d * m[i].mul;
    return d;
}

static bool s_std_resource(const char *name)
{
    return strcmp(name, "cpu") == 0 || strcmp(name, "memory") == 0 ||
           strcmp(name, "ephemeral-storage") == 0 || strncmp(name, "hugepages-", 10) == 0 ||
           (strchr(name, '/') && !proto_check_label_key(name));
}

static void s_resources(proto_vctx_t *v, const json_t *res, const char *cpath)
{
    char p[700];
    static const char *const kinds[] = {"limits", "requests", NULL};
    for (const char *const *k = kinds; *k; k++) {
        const char *name;
        json_t *q;
        json_object_foreach(json_object_get(res, *k), name, q)
        {
            PROTO_VP(p, "%s.resources.%s[%s]", cpath, *k, name);
            if (!s_std_resource(name))
                proto_v_invalid_str(v, p, name,
                                    "must be a standard resource type or fully qualified");
            else if (s_qty_num(q) < 0)
                proto_v_invalid(v, p, q, S_NONNEG);
        }
    }
    const char *name;
    json_t *rq;
    json_object_foreach(json_object_get(res, "requests"), name, rq)
    {
        json_t *lim = json_object_get(json_object_get(res, "limits"), name);
        if (lim && s_qty_num(rq) > s_qty_num(lim)) {
            char detail[200], lr[64];
            proto_v_render(lim, lr, sizeof lr);
            snprintf(detail, sizeof detail, "must be less than or equal to %s limit of %s", name,
                     json_is_string(lim) ? json_string_value(lim) : lr);
            proto_v_invalid(v, PROTO_VP(p, "%s.resources.requests", cpath), rq, detail);
        }
    }
}

static void s_container(const s_pctx_t *c, const json_t *ctr, const char *cpath)
{
    char p[700];
    proto_vctx_t *v = c->v;
    const char *name = json_string_value(json_object_get(ctr, "name"));
    if (name && *name && proto_check_dns1123_label(name))
        proto_v_invalid_str(v, PROTO_VP(p, "%s.name", cpath), name,
                            proto_check_dns1123_label(name));
    const char *image = json_string_value(json_object_get(ctr, "image"));
    if (!image || !*image)
        proto_v_required(v, PROTO_VP(p, "%s.image", cpath), NULL);
    else if (isspace((unsigned char)image[0]) || isspace((unsigned char)image[strlen(image) - 1]))
        proto_v_invalid_str(v, PROTO_VP(p, "%s.image", cpath), image,
                            "must not have leading or trailing whitespace");
    s_ports(v, json_object_get(ctr, "ports"), cpath,
            json_is_true(json_object_get(c->spec, "hostNetwork")));
    s_env(v, json_object_get(ctr, "env"), cpath);
    s_mounts(c, json_object_get(ctr, "volumeMounts"), cpath);
    s_resources(v, json_object_get(ctr, "resources"), cpath);
    static const struct {
        const char *name;
        bool liveness_like;
    } probes[] = {{"livenessProbe", true}, {"readinessProbe", false}, {"startupProbe", true}};
    for (size_t i = 0; i < 3; i++) {
        json_t *pr = json_object_get(ctr, probes[i].name);
        if (json_is_object(pr))
            s_probe(v, pr, PROTO_VP(p, "%s.%s", cpath, probes[i].name), probes[i].liveness_like);
    }
}

/* restartPolicy Always makes an init container a sidecar; only sidecars
 * may have probes, and regular containers may not set it. */
static void s_restart_rules(const s_pctx_t *c, const json_t *ctr, const char *cpath, bool init)
{
    char p[700];
    bool sidecar = json_is_string(json_object_get(ctr, "restartPolicy"));
    if (!init && sidecar)
        proto_v_forbidden(c->v, PROTO_VP(p, "%s.restartPolicy", cpath),
                          "may not be set for non-init containers");
    if (!init || sidecar)
        return;
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe", NULL};
    for (const char *const *pr = probes; *pr; pr++)
        if (json_object_get(ctr, *pr))
            proto_v_forbidden(c->v, PROTO_VP(p, "%s.%s", cpath, *pr),
                              "may not be set for init containers without restartPolicy=Always");
}

/* Container names are unique across initContainers and containers. */
static void s_containers(const s_pctx_t *c, const char *key, json_t *seen)
{
    char p[700];
    size_t i;
    json_t *ctr;
    json_array_foreach(json_object_get(c->spec, key), i, ctr)
    {
        PROTO_VP(p, "%s.%s[%zu]", c->prefix, key, i);
        s_container(c, ctr, p);
        s_restart_rules(c, ctr, p, strcmp(key, "initContainers") == 0);
        const char *name = json_string_value(json_object_get(ctr, "name"));
        if (!name || !*name)
            continue;
        if (json_object_get(seen, name))
            proto_v_duplicate(c->v, PROTO_VP(p, "%s.%s[%zu].name", c->prefix, key, i),
                              json_object_get(ctr, "name"));
        json_object_set_new(seen, name, json_true());
    }
}

static const char *const s_vol_types[] = {
    "hostPath",    "emptyDir",  "secret", "configMap", "persistentVolumeClaim",
    "downwardAPI", "projected", "nfs",    "gitRepo",   "csi",
    "ephemeral",   "image",     NULL};

static void s_volume(proto_vctx_t *v, const json_t *vol, const char *vpath)
{
    char p[700];
    int n = 0;
    for (const char *const *t = s_vol_types; *t; t++) {
        if (!json_is_object(json_object_get(vol, *t)))
            continue;
        if (++n > 1)
            proto_v_forbidden(v, PROTO_VP(p, "%s.%s", vpath, *t),
                              "may not specify more than 1 volume type");
    }
    if (n == 0)
        proto_v_required(v, vpath, "must specify a volume type");
    json_t *sec = json_object_get(vol, "secret");
    const char *sn = json_string_value(json_object_get(sec, "secretName"));
    if (json_is_object(sec) && (!sn || !*sn))
        proto_v_required(v, PROTO_VP(p, "%s.secret.secretName", vpath), NULL);
    json_t *cm = json_object_get(vol, "configMap");
    const char *cn = json_string_value(json_object_get(cm, "name"));
    if (json_is_object(cm) && (!cn || !*cn))
        proto_v_required(v, PROTO_VP(p, "%s.configMap.name", vpath), NULL);
    static const char *const moded[] = {"secret", "configMap", "downwardAPI", "projected", NULL};
    for (const char *const *t = moded; *t; t++) {
        json_t *m = proto_obj_get(json_object_get(vol, *t), "defaultMode");
        if (json_is_integer(m) && (json_integer_value(m) < 0 || json_integer_value(m) > 0777))
            proto_v_invalid_int(v, PROTO_VP(p, "%s.%s.defaultMode", vpath, *t),
                                json_integer_value(m),
                                "must be a number between 0 and 0777 (octal), both inclusive");
    }
}

static void s_volumes(const s_pctx_t *c)
{
    char p[700];
    json_t *seen = json_object();
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(c->spec, "volumes"), i, vol)
    {
        PROTO_VP(p, "%s.volumes[%zu]", c->prefix, i);
        s_volume(c->v, vol, p);
        const char *name = json_string_value(json_object_get(vol, "name"));
        if (!name || !*name)
            continue;
        PROTO_VP(p, "%s.volumes[%zu].name", c->prefix, i);
        if (proto_check_dns1123_label(name))
            proto_v_invalid_str(c->v, p, name, proto_check_dns1123_label(name));
        else if (json_object_get(seen, name))
            proto_v_duplicate(c->v, p, json_object_get(vol, "name"));
        json_object_set_new(seen, name, json_true());
    }
    json_decref(seen);
}

static void s_tolerations(const s_pctx_t *c)
{
    char p[700];
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c->spec, "tolerations"), i, t)
    {
        const char *op = json_string_value(json_object_get(t, "operator"));
        const char *key = json_string_value(json_object_get(t, "key"));
        const char *val = json_string_value(json_object_get(t, "value"));
        PROTO_VP(p, "%s.tolerations[%zu].operator", c->prefix, i);
        if (op && strcmp(op, "Exists") == 0 && val && *val)
            proto_v_invalid_str(c->v, p, val, "value must be empty when `operator` is 'Exists'");
        if ((!key || !*key) && op && strcmp(op, "Equal") == 0)
            proto_v_invalid_str(c->v, p, op,
                                "operator must be Exists when `key` is empty, which "
                                "means \"match all values and all keys\"");
        if (key && *key && proto_check_label_key(key))
            proto_v_invalid_str(c->v, PROTO_VP(p, "%s.tolerations[%zu].key", c->prefix, i), key,
                                proto_check_label_key(key));
    }
}

static void s_affinity(const s_pctx_t *c)
{
    char p[700];
    json_t *na = proto_obj_get(c->spec, "affinity.nodeAffinity");
    json_t *req = json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
    if (json_is_object(req) && json_array_size(json_object_get(req, "nodeSelectorTerms")) == 0)
        proto_v_required(c->v,
                         PROTO_VP(p,
                                  "%s.affinity.nodeAffinity.requiredDuringSchedulingIgnored"
                                  "DuringExecution.nodeSelectorTerms",
                                  c->prefix),
                         "must have at least one node selector term");
    static const char *const kinds[] = {"nodeAffinity", "podAffinity", "podAntiAffinity", NULL};
    for (const char *const *k = kinds; *k; k++) {
        json_t *aff = json_object_get(json_object_get(c->spec, "affinity"), *k);
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(aff, "preferredDuringSchedulingIgnoredDuringExecution"),
                           i, w)
        {
            json_t *wt = json_object_get(w, "weight");
            if (json_is_integer(wt) && (json_integer_value(wt) < 1 || json_integer_value(wt) > 100))
                proto_v_invalid_int(c->v,
                                    PROTO_VP(p,
                                             "%s.affinity.%s.preferredDuringScheduling"
                                             "IgnoredDuringExecution[%zu].weight",
                                             c->prefix, *k, i),
                                    json_integer_value(wt), "must be in the range 1-100");
        }
    }
}

static void s_pod_fields(const s_pctx_t *c)
{
    char p[700];
    const json_t *spec = c->spec;
    json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
    if (json_is_integer(ads) &&
        (json_integer_value(ads) < 1 || json_integer_value(ads) > INT32_MAX))
        proto_v_invalid_int(c->v, PROTO_VP(p, "%s.activeDeadlineSeconds", c->prefix),
                            json_integer_value(ads), "must be between 1 and 2147483647, inclusive");
    s_nonneg(c->v, spec, "terminationGracePeriodSeconds", c->prefix);
    proto_v_labels(json_object_get(spec, "nodeSelector"), PROTO_VP(p, "%s.nodeSelector", c->prefix),
                   c->v);
    static const char *const labels[] = {"hostname", "subdomain", NULL};
    for (const char *const *k = labels; *k; k++) {
        const char *s = json_string_value(json_object_get(spec, *k));
        if (s && *s && proto_check_dns1123_label(s))
            proto_v_invalid_str(c->v, PROTO_VP(p, "%s.%s", c->prefix, *k), s,
                                proto_check_dns1123_label(s));
    }
    static const char *const subs[] = {"serviceAccountName", "priorityClassName", "nodeName", NULL};
    for (const char *const *k = subs; *k; k++) {
        const char *s = json_string_value(json_object_get(spec, *k));
        if (s && *s && proto_check_dns1123_subdomain(s))
            proto_v_invalid_str(c->v, PROTO_VP(p, "%s.%s", c->prefix, *k), s,
                                proto_check_dns1123_subdomain(s));
    }
    const char *dns = json_string_value(json_object_get(spec, "dnsPolicy"));
    if (dns && strcmp(dns, "None") == 0 && !json_is_object(json_object_get(spec, "dnsConfig")))
        proto_v_required(c->v, PROTO_VP(p, "%s.dnsConfig", c->prefix),
                         "must provide `dnsConfig` when `dnsPolicy` is None");
}

void proto_v_pod_spec(const json_t *spec, const char *prefix, proto_vctx_t *v)
{
    json_t *empty = NULL;
    if (!json_is_object(spec))
        spec = empty = json_object();
    s_pctx_t c = {.v = v, .spec = spec, .prefix = prefix};
    char p[700];
    s_volumes(&c);
    if (json_array_size(json_object_get(spec, "containers")) == 0)
        proto_v_required(v, PROTO_VP(p, "%s.containers", prefix), NULL);
    json_t *seen = json_object();
    s_containers(&c, "initContainers", seen);
    s_containers(&c, "containers", seen);
    json_decref(seen);
    s_pod_fields(&c);
    s_tolerations(&c);
    s_affinity(&c);
    json_decref(empty);
}
