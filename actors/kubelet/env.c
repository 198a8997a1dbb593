/*
 * actors/kubelet/env.c — a container's environment, as the kubelet builds
 * it: the image's env, service variables of the pod's namespace, envFrom,
 * then env (with $(VAR) expansion and valueFrom). Pure functions: the
 * caller supplies the services and a lookup for configmaps and secrets
 * (the kubelet's informer caches), so this never blocks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/b64.h"
#include "protocol/obj.h"
#include "protocol/quantity.h"
#include "protocol/status.h"

/* ---- $(VAR) expansion ----------------------------------------------------- */

static const char *s_lookup_env(const json_t *env, const char *name, size_t nlen)
{
    /* the last definition wins */
    for (size_t i = json_array_size(env); i-- > 0;) {
        const char *kv = json_string_value(json_array_get(env, i));
        if (kv && !strncmp(kv, name, nlen) && kv[nlen] == '=')
            return kv + nlen + 1;
    }
    return NULL;
}

char *kubelet_expand(const char *s, const json_t *env)
{
    size_t cap = strlen(s) + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
#define S_PUT(p, n)                                                                                \
    do {                                                                                           \
        if (len + (n) + 1 > cap) {                                                                 \
            cap = (len + (n) + 1) * 2;                                                             \
            out = realloc(out, cap);                                                               \
            if (!out)                                                                              \
                abort();                                                                           \
        }                                                                                          \
        memcpy(out + len, (p), (n));                                                               \
        len += (n);                                                                                \
    } while (0)
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '$') {
            S_PUT("$", 1);
            p += 2;
        } else if (p[0] == '$' && p[1] == '(') {
            const char *close = strchr(p + 2, ')');
            const char *val = close ? s_lookup_env(env, p + 2, (size_t)(close - p - 2)) : NULL;
            if (val) {
                S_PUT(val, strlen(val));
                p = close + 1;
            } else {
                size_t n = close ? (size_t)(close - p + 1) : strlen(p);
                S_PUT(p, n);
                p += n;
            }
        } else {
            S_PUT(p, 1);
            p++;
        }
    }
#undef S_PUT
    out[len] = '\0';
    return out;
}

/* ---- helpers -------------------------------------------------------------- */

/* Sets name=value in env (an array of "K=V"), replacing an earlier value. */
static void s_set(json_t *env, const char *name, const char *value)
{
    size_t nlen = strlen(name);
    char *kv = NULL;
    if (asprintf(&kv, "%s=%s", name, value) < 0)
        abort();
    for (size_t i = 0; i < json_array_size(env); i++) {
        const char *e = json_string_value(json_array_get(env, i));
        if (e && !strncmp(e, name, nlen) && e[nlen] == '=') {
            json_array_set_new(env, i, json_string(kv));
            free(kv);
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
    free(kv);
}

static bool s_env_name_ok(const char *k)
{
    if (!k || !*k || isdigit((unsigned char)k[0]))
        return false;
    for (const char *c = k; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
            return false;
    return true;
}

char *kl_b64dec(const char *in, size_t *outlen)
{
    return proto_b64_decode(in, strlen(in), outlen);
}

/* ---- service variables ---------------------------------------------------- */

static void s_svc_prefix(const char *name, char *out, size_t n)
{
    size_t i = 0;
    for (; name[i] && i + 1 < n; i++)
        out[i] = name[i] == '-' || name[i] == '.' ? '_' : (char)toupper((unsigned char)name[i]);
    out[i] = '\0';
}

static void s_svc_port_env(json_t *env, const char *pre, const char *ip, const json_t *port)
{
    char k[600], v[300], proto_l[16], proto_u[16];
    const char *proto = proto_obj_str(port, "protocol") ?: "TCP";
    long long num = proto_obj_int(port, "port", 0);
    snprintf(proto_u, sizeof proto_u, "%s", proto);
    for (size_t i = 0; proto_u[i]; i++) {
        proto_u[i] = (char)toupper((unsigned char)proto_u[i]);
        proto_l[i] = (char)tolower((unsigned char)proto_u[i]);
        proto_l[i + 1] = '\0';
    }
    snprintf(k, sizeof k, "%s_PORT_%lld_%s", pre, num, proto_u);
    snprintf(v, sizeof v, "%s://%s:%lld", proto_l, ip, num);
    s_set(env, k, v);
    snprintf(k, sizeof k, "%s_PORT_%lld_%s_PROTO", pre, num, proto_u);
    s_set(env, k, proto_l);
    snprintf(k, sizeof k, "%s_PORT_%lld_%s_PORT", pre, num, proto_u);
    snprintf(v, sizeof v, "%lld", num);
    s_set(env, k, v);
    snprintf(k, sizeof k, "%s_PORT_%lld_%s_ADDR", pre, num, proto_u);
    s_set(env, k, ip);
}

void kubelet_service_env(json_t *env, const json_t *svc)
{
    const char *ip = proto_obj_str(svc, "spec.clusterIP");
    const char *name = proto_obj_name(svc);
    const json_t *ports = proto_obj_get(svc, "spec.ports");
    if (!ip || !*ip || !strcmp(ip, "None") || !name || json_array_size(ports) == 0)
        return;
    char pre[300], k[600], v[300];
    s_svc_prefix(name, pre, sizeof pre);
    snprintf(k, sizeof k, "%s_SERVICE_HOST", pre);
    s_set(env, k, ip);
    const json_t *p0 = json_array_get(ports, 0);
    snprintf(v, sizeof v, "%lld", (long long)proto_obj_int(p0, "port", 0));
    snprintf(k, sizeof k, "%s_SERVICE_PORT", pre);
    s_set(env, k, v);
    size_t i;
    json_t *port;
    json_array_foreach(ports, i, port) {
        const char *pn = proto_obj_str(port, "name");
        if (pn && *pn) {
            char upn[256];
            s_svc_prefix(pn, upn, sizeof upn);
            snprintf(k, sizeof k, "%s_SERVICE_PORT_%s", pre, upn);
            snprintf(v, sizeof v, "%lld", (long long)proto_obj_int(port, "port", 0));
            s_set(env, k, v);
        }
    }
    const char *proto = proto_obj_str(p0, "protocol") ?: "TCP";
    char lower[16];
    size_t j = 0;
    for (; proto[j] && j + 1 < sizeof lower; j++)
        lower[j] = (char)tolower((unsigned char)proto[j]);
    lower[j] = '\0';
    snprintf(k, sizeof k, "%s_PORT", pre);
    snprintf(v, sizeof v, "%s://%s:%lld", lower, ip, (long long)proto_obj_int(p0, "port", 0));
    s_set(env, k, v);
    json_array_foreach(ports, i, port)
        s_svc_port_env(env, pre, ip, port);
}

/* ---- valueFrom ------------------------------------------------------------ */

typedef struct s_ctx {
    const json_t *pod, *ctr;
    const char *ns, *pod_ip, *host_ip;
    kl_lookup_fn *lookup;
    void *arg;
    char *err;
    size_t errlen;
} s_ctx_t;

/* metadata.labels['app'] style paths. */
static const char *s_field_map(const json_t *pod, const char *path, const char *map)
{
    size_t ml = strlen(map);
    if (strncmp(path, map, ml) || strncmp(path + ml, "['", 2))
        return NULL;
    const char *k = path + ml + 2, *end = strstr(k, "']");
    if (!end)
        return NULL;
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(end - k), k);
    const json_t *m = proto_obj_get(pod, map);
    return json_string_value(json_object_get(m, key));
}

static int s_field_ref(s_ctx_t *c, const json_t *ref, char *out, size_t n)
{
    const char *fp = proto_obj_str(ref, "fieldPath");
    const char *v = NULL;
    if (!fp) {
        snprintf(c->err, c->errlen, "fieldRef.fieldPath: Required value");
        return PROTO_EINVALID;
    }
    if (!strcmp(fp, "status.podIP") || !strcmp(fp, "status.podIPs"))
        v = c->pod_ip;
    else if (!strcmp(fp, "status.hostIP") || !strcmp(fp, "status.hostIPs"))
        v = c->host_ip;
    else if (!strcmp(fp, "spec.serviceAccountName"))
        v = proto_obj_str(c->pod, fp) ?: "default";
    else if (!strncmp(fp, "metadata.labels[", 16) || !strncmp(fp, "metadata.annotations[", 21))
        v = s_field_map(c->pod, fp, fp[9] == 'l' ? "metadata.labels" : "metadata.annotations")
                ?: "";
    else if (!strcmp(fp, "metadata.name") || !strcmp(fp, "metadata.namespace") ||
             !strcmp(fp, "metadata.uid") || !strcmp(fp, "spec.nodeName"))
        v = proto_obj_str(c->pod, fp);
    if (!v) {
        snprintf(c->err, c->errlen, "unsupported fieldPath: %s", fp);
        return PROTO_EINVALID;
    }
    snprintf(out, n, "%s", v);
    return 0;
}

static int s_resource_ref(s_ctx_t *c, const json_t *ref, char *out, size_t n)
{
    const char *res = proto_obj_str(ref, "resource") ?: "";
    const char *dot = strchr(res, '.');
    char path[128];
    snprintf(path, sizeof path, "resources.%s", res);
    const char *q = dot ? proto_obj_str(c->ctr, path) : NULL;
    bool cpu = dot && !strcmp(dot + 1, "cpu");
    proto_qty_t qty;
    if (q && proto_qty_parse(q, &qty) == 0) {
        if (cpu)
            snprintf(out, n, "%lld", (long long)((proto_qty_milli(&qty) + 999) / 1000));
        else
            snprintf(out, n, "%lld", (long long)proto_qty_value(&qty));
    } else if (cpu) {
        snprintf(out, n, "%ld", sysconf(_SC_NPROCESSORS_ONLN)); /* node allocatable */
    } else {
        snprintf(out, n, "%lld", (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE));
    }
    return 0;
}

/* configMapKeyRef / secretKeyRef: 0, 1 (optional and missing: skip), < 0. */
static int s_key_ref(s_ctx_t *c, const json_t *ref, bool secret, char **out)
{
    const char *name = proto_obj_str(ref, "name"), *key = proto_obj_str(ref, "key");
    bool optional = json_is_true(json_object_get(ref, "optional"));
    const char *res = secret ? "secrets" : "configmaps";
    const json_t *obj = name ? c->lookup(c->arg, res, c->ns, name) : NULL;
    const char *v = obj ? proto_obj_str(json_object_get(obj, "data"), key ?: "") : NULL;
    if (!v && obj && !secret)
        v = proto_obj_str(json_object_get(obj, "binaryData"), key ?: "");
    if (!v) {
        if (optional)
            return 1;
        if (!obj)
            snprintf(c->err, c->errlen, "%s \"%s\" not found", secret ? "secret" : "configmap",
                     name ?: "");
        else
            snprintf(c->err, c->errlen, "couldn't find key %s in %s %s/%s", key ?: "",
                     secret ? "Secret" : "ConfigMap", c->ns, name);
        return PROTO_ENOTFOUND;
    }
    *out = secret ? kl_b64dec(v, NULL) : strdup(v);
    if (!*out)
        *out = strdup(v);
    return 0;
}

static int s_value_from(s_ctx_t *c, const json_t *vf, char **out)
{
    char buf[1024];
    json_t *x;
    int rc;
    if ((x = json_object_get(vf, "fieldRef")))
        rc = s_field_ref(c, x, buf, sizeof buf);
    else if ((x = json_object_get(vf, "resourceFieldRef")))
        rc = s_resource_ref(c, x, buf, sizeof buf);
    else if ((x = json_object_get(vf, "configMapKeyRef")))
        return s_key_ref(c, x, false, out);
    else if ((x = json_object_get(vf, "secretKeyRef")))
        return s_key_ref(c, x, true, out);
    else {
        snprintf(c->err, c->errlen, "valueFrom: unsupported source");
        return PROTO_EINVALID;
    }
    if (rc == 0)
        *out = strdup(buf);
    return rc;
}

static int s_env_from(s_ctx_t *c, json_t *env, const json_t *src)
{
    const char *prefix = proto_obj_str(src, "prefix") ?: "";
    const json_t *ref = json_object_get(src, "configMapRef");
    bool secret = false;
    if (!ref) {
        ref = json_object_get(src, "secretRef");
        secret = true;
    }
    const char *name = proto_obj_str(ref, "name");
    const json_t *obj = name ? c->lookup(c->arg, secret ? "secrets" : "configmaps", c->ns, name)
                             : NULL;
    if (!obj) {
        if (json_is_true(json_object_get(ref, "optional")))
            return 0;
        snprintf(c->err, c->errlen, "%s \"%s\" not found", secret ? "secret" : "configmap",
                 name ?: "");
        return PROTO_ENOTFOUND;
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(obj, "data"), k, v) {
        char full[512];
        snprintf(full, sizeof full, "%s%s", prefix, k);
        if (!s_env_name_ok(full) || !json_is_string(v))
            continue; /* Kubernetes skips invalid names (with an event) */
        char *val = secret ? kl_b64dec(json_string_value(v), NULL) : strdup(json_string_value(v));
        s_set(env, full, val ? val : "");
        free(val);
    }
    return 0;
}

static int s_env_entry(s_ctx_t *c, json_t *env, const json_t *e)
{
    const char *name = proto_obj_str(e, "name");
    if (!name)
        return 0;
    const json_t *vf = json_object_get(e, "valueFrom");
    char *val = NULL;
    if (vf) {
        int rc = s_value_from(c, vf, &val);
        if (rc != 0)
            return rc > 0 ? 0 : rc;
    } else {
        val = kubelet_expand(proto_obj_str(e, "value") ?: "", env);
    }
    s_set(env, name, val);
    free(val);
    return 0;
}

int kubelet_env_build(const json_t *pod, const json_t *ctr, const json_t *image_env,
                      const json_t *services, const char *pod_ip, const char *host_ip,
                      kl_lookup_fn *lookup, void *arg, json_t **out, char *err, size_t errlen)
{
    s_ctx_t c = {pod, ctr, proto_obj_ns(pod) ?: "default", pod_ip ?: "", host_ip ?: "",
                 lookup, arg, err, errlen};
    json_t *env = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(image_env, i, x) {
        const char *kv = json_string_value(x), *eq = kv ? strchr(kv, '=') : NULL;
        if (eq) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
            s_set(env, name, eq + 1);
        }
    }
    /* what a container runtime sets: the pod's host name */
    const char *host = proto_obj_str(pod, "spec.hostname") ?: proto_obj_name(pod);
    if (host)
        s_set(env, "HOSTNAME", host);
    if (!json_is_false(proto_obj_get(pod, "spec.enableServiceLinks")))
        json_array_foreach(services, i, x)
            kubelet_service_env(env, x);
    int rc = 0;
    json_array_foreach(json_object_get(ctr, "envFrom"), i, x)
        if (rc == 0)
            rc = s_env_from(&c, env, x);
    json_array_foreach(json_object_get(ctr, "env"), i, x)
        if (rc == 0)
            rc = s_env_entry(&c, env, x);
    if (rc < 0) {
        json_decref(env);
        return rc;
    }
    *out = env;
    return 0;
}
