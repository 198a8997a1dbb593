/*
 * tools/zkubectl/expose_svc.c — the Service `kubectl expose` makes for an
 * object: its pod selector (an RC's spec.selector, a ReplicaSet's or
 * Deployment's spec.selector.matchLabels, a pod's labels, a service's
 * selector), its ports (--port, or the object's container ports, one port
 * each, split by protocol where a port has several), labels, name, type,
 * target port and addresses, with kubectl's errors word for word. Pure: no
 * I/O, so the unit test compares it with the real kubectl byte for byte.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "tools/zkubectl/ctl.h"

#define S_NAME_MAX 63 /* a DNS-1035 label: kubectl cuts longer names */
#define S_MAX_PORTS 256

typedef struct s_port {
    char port[16];
    const char *protos[8]; /* in the order the object lists them */
    int nprotos;
} s_port_t;

typedef struct s_ports {
    s_port_t p[S_MAX_PORTS];
    int n;
} s_ports_t;

static const char *s_str(const json_t *o, const char *path)
{
    const char *s = proto_obj_str(o, path);
    return s ? s : "";
}

static bool s_empty(const char *s)
{
    return !s || !*s;
}

/* "k=v,k=v" of a string map (kubectl's MakeLabels); caller frees. */
static char *s_make_labels(const json_t *m)
{
    size_t cap = 64, len = 0;
    char *out = calloc(1, cap);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        size_t need = len + strlen(k) + strlen(s) + 3;
        if (need > cap) {
            cap = need * 2;
            out = realloc(out, cap);
        }
        if (!out)
            abort();
        len += (size_t)sprintf(out + len, "%s%s=%s", len ? "," : "", k, s);
    }
    return out;
}

/* Go's %+v of a []LabelSelectorRequirement. */
static void s_exprs_text(const json_t *exprs, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "[");
    size_t i, j;
    json_t *e, *v;
    json_array_foreach(exprs, i, e)
    {
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s{Key:%s Operator:%s Values:[",
                                i ? " " : "", s_str(e, "key"), s_str(e, "operator"));
        json_array_foreach(json_object_get(e, "values"), j, v)
            len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", j ? " " : "",
                                    json_is_string(v) ? json_string_value(v) : "");
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "]}");
    }
    snprintf(buf + (len < n ? len : n - 1), len < n ? n - len : 1, "]");
}

/* kubectl's MapBasedSelectorForObject: the selector as "k=v,...", or NULL
 * with the reason in err. */
static char *s_selector_of(const json_t *obj, const char *kind, char *err, size_t errlen)
{
    if (!strcmp(kind, "Pod")) {
        if (!json_object_size(proto_obj_get(obj, "metadata.labels"))) {
            snprintf(err, errlen, "the pod has no labels and cannot be exposed");
            return NULL;
        }
        return s_make_labels(proto_obj_get(obj, "metadata.labels"));
    }
    if (!strcmp(kind, "Service")) {
        if (!json_is_object(proto_obj_get(obj, "spec.selector"))) {
            snprintf(err, errlen, "the service has no pod selector set");
            return NULL;
        }
        return s_make_labels(proto_obj_get(obj, "spec.selector"));
    }
    if (!strcmp(kind, "ReplicationController"))
        return s_make_labels(proto_obj_get(obj, "spec.selector"));
    /* Deployment, ReplicaSet */
    const json_t *ml = proto_obj_get(obj, "spec.selector.matchLabels");
    const json_t *ex = proto_obj_get(obj, "spec.selector.matchExpressions");
    if (!json_object_size(ml)) {
        snprintf(err, errlen, "invalid %s: no selectors, therefore cannot be exposed",
                 !strcmp(kind, "Deployment") ? "deployment" : "replicaset");
        return NULL;
    }
    if (json_array_size(ex)) {
        char text[1024];
        s_exprs_text(ex, text, sizeof text);
        snprintf(err, errlen, "couldn't convert expressions - \"%s\" to map-based selector "
                 "format", text);
        return NULL;
    }
    return s_make_labels(ml);
}

static void s_add_port(s_ports_t *ps, long long port, const char *proto)
{
    char key[16];
    snprintf(key, sizeof key, "%lld", port);
    int i = 0;
    while (i < ps->n && strcmp(ps->p[i].port, key))
        i++;
    if (i == ps->n) {
        if (ps->n == S_MAX_PORTS)
            return;
        memset(&ps->p[ps->n], 0, sizeof ps->p[0]);
        snprintf(ps->p[ps->n++].port, sizeof ps->p[0].port, "%s", key);
    }
    if (ps->p[i].nprotos < (int)(sizeof ps->p[i].protos / sizeof ps->p[i].protos[0]))
        ps->p[i].protos[ps->p[i].nprotos++] = proto && *proto ? proto : "TCP";
}

/* kubectl's PortsForObject and ProtocolsForObject together: each port once,
 * in the object's order, with the protocols it is listed with. */
static void s_ports_of(const json_t *obj, const char *kind, s_ports_t *ps)
{
    size_t i, j;
    json_t *c, *p;
    ps->n = 0;
    if (!strcmp(kind, "Service")) {
        json_array_foreach(proto_obj_get(obj, "spec.ports"), i, p)
            s_add_port(ps, proto_obj_int(p, "port", 0), s_str(p, "protocol"));
        return;
    }
    const json_t *spec = !strcmp(kind, "Pod") ? json_object_get(obj, "spec")
                                              : proto_obj_get(obj, "spec.template.spec");
    json_array_foreach(json_object_get(spec, "containers"), i, c)
        json_array_foreach(json_object_get(c, "ports"), j, p)
            s_add_port(ps, proto_obj_int(p, "containerPort", 0), s_str(p, "protocol"));
}

/* kubectl expose's parseLabels: "k=v,k=v" into an object. */
static json_t *s_parse_labels(const char *spec, char *err, size_t errlen)
{
    json_t *m = json_object();
    char *dup = strdup(spec);
    if (!dup)
        abort();
    for (char *it = dup, *tok; (tok = strsep(&it, ",")) != NULL;) {
        char *eq = strchr(tok, '=');
        if (!eq || strchr(eq + 1, '=')) {
            snprintf(err, errlen, "unexpected label spec: %s", tok);
            goto fail;
        }
        if (eq == tok) {
            snprintf(err, errlen, "unexpected empty label key");
            goto fail;
        }
        *eq = '\0';
        json_object_set_new(m, tok, json_string(eq + 1));
    }
    free(dup);
    return m;
fail:
    free(dup);
    json_decref(m);
    return NULL;
}

/* Go's strconv.Atoi, then int32() as kubectl converts it. */
static int s_atoi32(const char *s, json_int_t *out, char *err, size_t errlen)
{
    const char *p = s + (*s == '+' || *s == '-');
    bool digits = *p != '\0';
    for (const char *q = p; *q; q++)
        digits &= *q >= '0' && *q <= '9';
    errno = 0;
    long long v = digits ? strtoll(s, NULL, 10) : 0;
    if (!digits || errno) {
        snprintf(err, errlen, "strconv.Atoi: parsing \"%s\": %s", s,
                 digits ? "value out of range" : "invalid syntax");
        return -EINVAL;
    }
    *out = (int32_t)(uint32_t)(unsigned long long)v;
    return 0;
}

static json_t *s_port(const char *name, const char *proto, json_int_t port)
{
    json_t *p = json_object();
    if (name && *name)
        json_object_set_new(p, "name", json_string(name));
    json_object_set_new(p, "protocol", json_string(proto));
    json_object_set_new(p, "port", json_integer(port));
    return p;
}

static const s_port_t *s_find(const s_ports_t *ps, const char *port)
{
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i].port, port))
            return &ps->p[i];
    return NULL;
}

/* One entry of the port list ("80"); appends to ports. */
static int s_one_port(json_t *ports, const char *s, int i, int n, const ctl_expose_opts_t *o,
                      const s_ports_t *protos, char *err, size_t errlen)
{
    json_int_t port = 0;
    if (s_atoi32(s, &port, err, errlen))
        return -EINVAL;
    char name[32] = "";
    if (n > 1)
        snprintf(name, sizeof name, "port-%d", i + 1);
    const s_port_t *known = s_empty(o->protocol) ? s_find(protos, s) : NULL;
    if (known && known->nprotos > 1) {
        for (int j = 0; j < known->nprotos; j++) {
            char lower[16];
            size_t k = 0;
            for (; known->protos[j][k] && k + 1 < sizeof lower; k++)
                lower[k] = (char)tolower((unsigned char)known->protos[j][k]);
            lower[k] = '\0';
            snprintf(name, sizeof name, "port-%d-%s", i + 1, lower);
            json_array_append_new(ports, s_port(name, known->protos[j], port));
        }
        return 0;
    }
    const char *proto = !s_empty(o->protocol) ? o->protocol : known ? known->protos[0] : "TCP";
    json_array_append_new(ports, s_port(name, proto, port));
    return 0;
}

/* The port list: --port (or what the object has), then the target port. */
static json_t *s_ports(const char *list, const ctl_expose_opts_t *o, const s_ports_t *protos,
                       char *err, size_t errlen)
{
    json_t *ports = json_array();
    int n = 1;
    for (const char *q = list; *q; q++)
        n += *q == ',';
    char *dup = strdup(list);
    if (!dup)
        abort();
    int i = 0, rc = 0;
    for (char *it = dup, *tok; !rc && *list && (tok = strsep(&it, ",")) != NULL; i++)
        rc = s_one_port(ports, tok, i, n, o, protos, err, errlen);
    free(dup);
    if (rc) {
        json_decref(ports);
        return NULL;
    }
    size_t j;
    json_t *p;
    json_int_t tp = 0;
    char scratch[8];
    json_array_foreach(ports, j, p)
    {
        if (s_empty(o->target_port))
            json_object_set(p, "targetPort", json_object_get(p, "port"));
        else if (s_atoi32(o->target_port, &tp, scratch, sizeof scratch) == 0)
            json_object_set_new(p, "targetPort", json_integer(tp));
        else
            json_object_set_new(p, "targetPort", json_string(o->target_port));
    }
    return ports;
}

static bool s_exposable(const char *group, const char *kind)
{
    if (!*group)
        return !strcmp(kind, "ReplicationController") || !strcmp(kind, "Service") ||
               !strcmp(kind, "Pod");
    return (!strcmp(group, "apps") || !strcmp(group, "extensions")) &&
           (!strcmp(kind, "Deployment") || !strcmp(kind, "ReplicaSet"));
}

/* The spec's fields that come from flags alone, in the order kubectl's
 * typed Service prints them in JSON. */
static int s_spec_flags(json_t *spec, const ctl_expose_opts_t *o, char *err, size_t errlen)
{
    const char *aff = o->session_affinity;
    if (!s_empty(aff) && strcmp(aff, "None") && strcmp(aff, "ClientIP")) {
        snprintf(err, errlen, "unknown session affinity: %s", aff);
        return -EINVAL;
    }
    if (!s_empty(o->cluster_ip))
        json_object_set_new(spec, "clusterIP", json_string(o->cluster_ip));
    if (!s_empty(o->type))
        json_object_set_new(spec, "type", json_string(o->type));
    if (!s_empty(o->external_ip))
        json_object_set_new(spec, "externalIPs", json_pack("[s]", o->external_ip));
    if (!s_empty(aff))
        json_object_set_new(spec, "sessionAffinity", json_string(aff));
    if (!s_empty(o->type) && !strcmp(o->type, "LoadBalancer") && !s_empty(o->load_balancer_ip))
        json_object_set_new(spec, "loadBalancerIP", json_string(o->load_balancer_ip));
    return 0;
}

/* kubectl's createService over what the object gave (selector, port list,
 * labels already resolved). */
static json_t *s_service(const char *name, const char *selector, const char *labels,
                         const char *portlist, const ctl_expose_opts_t *o,
                         const s_ports_t *protos, char *err, size_t errlen)
{
    if (s_empty(selector)) {
        snprintf(err, errlen, "selector must be specified");
        return NULL;
    }
    json_t *sel = s_parse_labels(selector, err, errlen), *lab = NULL, *ports = NULL;
    if (!sel)
        return NULL;
    if (!s_empty(labels) && !(lab = s_parse_labels(labels, err, errlen)))
        goto fail;
    if (s_empty(name)) {
        snprintf(err, errlen, "name must be specified");
        goto fail;
    }
    if (!(ports = s_ports(portlist, o, protos, err, errlen)))
        goto fail;
    json_t *meta = json_pack("{s:s}", "name", name);
    if (!s_empty(o->ns))
        json_object_set_new(meta, "namespace", json_string(o->ns));
    json_object_set_new(meta, "creationTimestamp", json_null());
    if (lab)
        json_object_set_new(meta, "labels", lab);
    json_t *spec = json_object();
    if (json_array_size(ports))
        json_object_set(spec, "ports", ports);
    json_object_set_new(spec, "selector", sel);
    json_decref(ports);
    json_t *svc = json_pack("{s:s, s:s, s:o, s:o, s:{s:{}}}", "kind", "Service", "apiVersion",
                            "v1", "metadata", meta, "spec", spec, "status", "loadBalancer");
    if (s_spec_flags(spec, o, err, errlen)) {
        json_decref(svc);
        return NULL;
    }
    return svc;
fail:
    json_decref(sel);
    json_decref(lab);
    return NULL;
}

/* The port list kubectl settles on: --port, else the object's ports. */
static int s_port_list(const ctl_expose_opts_t *o, const s_ports_t *ps, char *buf, size_t n,
                       char *err, size_t errlen)
{
    if (!s_empty(o->port)) {
        snprintf(buf, n, "%s", o->port);
        return 0;
    }
    if (ps->n == 0 && !(o->cluster_ip && !strcmp(o->cluster_ip, "None"))) {
        snprintf(err, errlen, "couldn't find port via --port flag or introspection");
        return -EINVAL;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < ps->n && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "," : "", ps->p[i].port);
    return 0;
}

int ctl_expose_service(const json_t *obj, const ctl_expose_opts_t *o, json_t **svc, char *err,
                       size_t errlen)
{
    *svc = NULL;
    const char *kind = s_str(obj, "kind"), *av = s_str(obj, "apiVersion");
    const char *slash = strchr(av, '/');
    char group[128];
    snprintf(group, sizeof group, "%.*s", slash ? (int)(slash - av) : 0, av);
    if (!s_exposable(group, kind)) {
        snprintf(err, errlen, "cannot expose a %s%s%s", kind, *group ? "." : "", group);
        return -EINVAL;
    }
    char dflt[S_NAME_MAX + 1], why[1536], portlist[S_MAX_PORTS * 12];
    snprintf(dflt, sizeof dflt, "%s", s_str(obj, "metadata.name"));
    const char *name = !s_empty(o->name) ? o->name : dflt;
    char *sel = !s_empty(o->selector) ? strdup(o->selector) : s_selector_of(obj, kind, why,
                                                                            sizeof why);
    if (!sel) {
        snprintf(err, errlen, "couldn't retrieve selectors via --selector flag or "
                 "introspection: %s", why);
        return -EINVAL;
    }
    s_ports_t ps; /* about 22 KiB */
    s_ports_of(obj, kind, &ps);
    char *labels = !s_empty(o->labels) ? strdup(o->labels)
                                       : s_make_labels(proto_obj_get(obj, "metadata.labels"));
    int rc = s_port_list(o, &ps, portlist, sizeof portlist, err, errlen);
    if (rc == 0) {
        *svc = s_service(name, sel, labels, portlist, o, &ps, err, errlen);
        rc = *svc ? 0 : -EINVAL;
    }
    free(sel);
    free(labels);
    return rc;
}
