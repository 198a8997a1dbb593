/*
 * runtime/spec — reads and validates a cluster spec (which actors run on
 * which host; see spec.h). Every error names the file and the field, so an
 * operator can fix a spec without reading code. Unknown fields are refused,
 * as in manifests.
 */
#include "runtime/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/manifest.h"
#include "protocol/status.h"

#define S_MAX_KUBELET_HOSTS 255 /* one /24 each inside a /16 at most */

/* The error being built: "NAME: FIELD: reason". */
typedef struct s_ctx {
    const char *name;
    char *err;
    size_t errlen;
} s_ctx_t;

static int s_fail(s_ctx_t *c, const char *field, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s: %s", c->name, field, why);
    return PROTO_EINVALID;
}

static bool s_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return true;
}

/* ---- CIDR ------------------------------------------------------------------- */

static int s_ipv4(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    int parts = 0;
    size_t i = 0;
    while (i < n && parts < 4) {
        unsigned part = 0, digits = 0;
        while (i < n && isdigit((unsigned char)s[i]) && digits < 4)
            part = part * 10 + (unsigned)(s[i++] - '0'), digits++;
        if (!digits || part > 255 || (digits > 1 && s[i - digits] == '0'))
            return -EINVAL;
        v = (v << 8) | part;
        if (++parts < 4 && (i >= n || s[i++] != '.'))
            return -EINVAL;
    }
    if (parts != 4 || i != n)
        return -EINVAL;
    *out = v;
    return 0;
}

int rt_cidr_parse(const char *s, uint32_t *net, int *len)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || !slash[1] || strlen(slash + 1) > 2)
        return -EINVAL;
    uint32_t ip;
    if (s_ipv4(s, (size_t)(slash - s), &ip) < 0)
        return -EINVAL;
    char *end;
    long l = strtol(slash + 1, &end, 10);
    if (*end || l < 0 || l > 32 || !isdigit((unsigned char)slash[1]) ||
        (slash[1] == '0' && slash[2]))
        return -EINVAL;
    uint32_t mask = l ? ~0u << (32 - l) : 0;
    if (ip & ~mask)
        return -EINVAL;
    *net = ip;
    *len = (int)l;
    return 0;
}

bool rt_cidr_within(const char *inner, const char *outer)
{
    uint32_t in, out;
    int il, ol;
    if (rt_cidr_parse(inner, &in, &il) < 0 || rt_cidr_parse(outer, &out, &ol) < 0 || il < ol)
        return false;
    uint32_t mask = ol ? ~0u << (32 - ol) : 0;
    return (in & mask) == out;
}

/* ---- fields ------------------------------------------------------------------- */

/* A string field of at most cap-1 bytes; absent is fine unless required. */
static int s_str(s_ctx_t *c, const json_t *obj, const char *key, const char *field, char *dst,
                 size_t cap, bool required)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? s_fail(c, field, "Required value") : 0;
    if (json_is_integer(v)) { /* httpPort: 8080 */
        snprintf(dst, cap, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (!json_is_string(v))
        return s_fail(c, field, "expected a string");
    if (json_string_length(v) >= cap)
        return s_fail(c, field, "too long (at most %zu characters)", cap - 1);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int s_only_keys(s_ctx_t *c, const json_t *obj, const char *where, const char *const *allowed)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key))
            i++;
        if (!allowed[i]) {
            char field[128];
            snprintf(field, sizeof field, "%s%s%s", where, *where ? "." : "", key);
            return s_fail(c, field, "unknown field");
        }
    }
    return 0;
}

static int s_driver(s_ctx_t *c, const char *field, const char *d)
{
    if (!*d || !strcmp(d, "runc") || !strcmp(d, "process") || !strcmp(d, "hollow"))
        return 0;
    return s_fail(c, field,
                  "Unsupported value \"%s\": supported values: \"runc\", \"process\", "
                  "\"hollow\"",
                  d);
}

static int s_duration(s_ctx_t *c, const char *field, const char *d)
{
    char *end;
    if (!*d)
        return 0;
    double v = strtod(d, &end);
    if (end == d || v < 0 || v > 86400 ||
        (*end && strcmp(end, "s") && strcmp(end, "ms") && strcmp(end, "m")))
        return s_fail(c, field, "invalid duration \"%s\" (like 8s, 500ms, 1m)", d);
    return 0;
}

static bool s_known_actor(const char *a)
{
    static const char *const names[] = {"broker",      "apiserver", "gateway", "scheduler",
                                        "controllers", "kubelet",   NULL};
    static const char *const ctrls[] = {"replicationcontroller", "replicaset", "garbage-collector",
                                        "node-lifecycle", NULL};
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(a, names[i]))
            return true;
    if (strncmp(a, "controller-", 11))
        return false;
    for (size_t i = 0; ctrls[i]; i++)
        if (!strcmp(a + 11, ctrls[i]))
            return true;
    return false;
}

/* ---- hosts -------------------------------------------------------------------- */

static int s_host_actors(s_ctx_t *c, const json_t *arr, const char *where, rt_spec_host_t *h)
{
    char field[96];
    snprintf(field, sizeof field, "%s.actors", where);
    if (!json_is_array(arr))
        return s_fail(c, field, arr ? "expected a list" : "Required value");
    if (json_array_size(arr) > RT_SPEC_MAX_ACTORS)
        return s_fail(c, field, "too many actors (at most %d)", RT_SPEC_MAX_ACTORS);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *a = json_string_value(json_array_get(arr, i));
        snprintf(field, sizeof field, "%s.actors[%zu]", where, i);
        if (!a)
            return s_fail(c, field, "expected a string");
        if (!s_known_actor(a))
            return s_fail(c, field,
                          "unknown actor \"%s\" (broker, apiserver, gateway, scheduler, "
                          "controllers, controller-KIND, kubelet)",
                          a);
        for (size_t k = 0; k < h->nactors; k++)
            if (!strcmp(h->actors[k], a))
                return s_fail(c, field, "Duplicate value: \"%s\"", a);
        snprintf(h->actors[h->nactors++], sizeof h->actors[0], "%s", a);
    }
    return 0;
}

static int s_host(s_ctx_t *c, const json_t *o, size_t idx, rt_spec_host_t *h)
{
    static const char *const keys[] = {"name", "address", "actors", "podCIDR", "driver", NULL};
    char where[48], field[96];
    snprintf(where, sizeof where, "hosts[%zu]", idx);
    if (!json_is_object(o))
        return s_fail(c, where, "expected a map");
    int rc = s_only_keys(c, o, where, keys);
#define S_FIELD(k) (snprintf(field, sizeof field, "%s.%s", where, k), field)
    if (!rc)
        rc = s_str(c, o, "name", S_FIELD("name"), h->name, sizeof h->name, true);
    if (!rc && !s_dns_label(h->name))
        rc =
            s_fail(c, S_FIELD("name"), "Invalid value \"%s\": a lowercase RFC 1123 label", h->name);
    if (!rc)
        rc = s_str(c, o, "address", S_FIELD("address"), h->address, sizeof h->address, false);
    uint32_t ip;
    if (!rc && h->address[0] && s_ipv4(h->address, strlen(h->address), &ip) < 0)
        rc = s_fail(c, S_FIELD("address"), "Invalid value \"%s\": an IPv4 address", h->address);
    if (!rc)
        rc = s_str(c, o, "podCIDR", S_FIELD("podCIDR"), h->pod_cidr, sizeof h->pod_cidr, false);
    if (!rc)
        rc = s_str(c, o, "driver", S_FIELD("driver"), h->driver, sizeof h->driver, false);
    if (!rc)
        rc = s_driver(c, S_FIELD("driver"), h->driver);
    if (!rc)
        rc = s_host_actors(c, json_object_get(o, "actors"), where, h);
#undef S_FIELD
    return rc;
}

/* Pod CIDRs: explicit ones inside the cluster range, the others the Nth /24. */
static int s_pod_cidrs(s_ctx_t *c, rt_spec_t *s)
{
    uint32_t net;
    int len, n = 0;
    if (rt_cidr_parse(s->pod_cidr, &net, &len) < 0 || len > 16)
        return s_fail(c, "podCIDR", "Invalid value \"%s\": an IPv4 CIDR of /16 or larger",
                      s->pod_cidr);
    for (size_t i = 0; i < s->nhosts; i++) {
        rt_spec_host_t *h = &s->hosts[i];
        char field[96];
        snprintf(field, sizeof field, "hosts[%zu].podCIDR", i);
        if (!rt_spec_runs(h, "kubelet")) {
            if (h->pod_cidr[0])
                return s_fail(c, field, "only a host that runs a kubelet has a pod CIDR");
            continue;
        }
        if (++n > S_MAX_KUBELET_HOSTS)
            return s_fail(c, "hosts", "too many kubelet hosts (at most %d)", S_MAX_KUBELET_HOSTS);
        if (h->pod_cidr[0] && !rt_cidr_within(h->pod_cidr, s->pod_cidr))
            return s_fail(c, field, "Invalid value \"%s\": not inside the cluster's podCIDR %s",
                          h->pod_cidr, s->pod_cidr);
        if (!h->pod_cidr[0]) {
            uint32_t sub = net | ((uint32_t)n << 8);
            snprintf(h->pod_cidr, sizeof h->pod_cidr, "%u.%u.%u.0/24", sub >> 24, (sub >> 16) & 255,
                     (sub >> 8) & 255);
        }
    }
    for (size_t i = 0; i < s->nhosts; i++)
        for (size_t k = 0; k < i; k++)
            if (s->hosts[i].pod_cidr[0] && s->hosts[k].pod_cidr[0] &&
                (rt_cidr_within(s->hosts[i].pod_cidr, s->hosts[k].pod_cidr) ||
                 rt_cidr_within(s->hosts[k].pod_cidr, s->hosts[i].pod_cidr))) {
                char field[96];
                snprintf(field, sizeof field, "hosts[%zu].podCIDR", i);
                return s_fail(c, field, "%s overlaps hosts[%zu]'s %s", s->hosts[i].pod_cidr, k,
                              s->hosts[k].pod_cidr);
            }
    return 0;
}

/* Host names unique; exactly one broker and one apiserver in the cluster. */
static int s_cross_check(s_ctx_t *c, rt_spec_t *s)
{
    size_t brokers = 0, apis = 0;
    for (size_t i = 0; i < s->nhosts; i++) {
        for (size_t k = 0; k < i; k++)
            if (!strcmp(s->hosts[i].name, s->hosts[k].name)) {
                char field[64];
                snprintf(field, sizeof field, "hosts[%zu].name", i);
                return s_fail(c, field, "Duplicate value: \"%s\"", s->hosts[i].name);
            }
        brokers += rt_spec_runs(&s->hosts[i], "broker");
        apis += rt_spec_runs(&s->hosts[i], "apiserver");
    }
    if (brokers != 1)
        return s_fail(c, "hosts", "exactly one host must run the broker (found %zu)", brokers);
    if (apis != 1)
        return s_fail(c, "hosts", "exactly one host must run the apiserver (found %zu)", apis);
    if (!strncmp(s->broker, "ipc://", 6) && s->nhosts > 1)
        return s_fail(c, "broker",
                      "an ipc:// broker cannot be reached from other hosts; use "
                      "tcp://ADDRESS:PORT");
    return 0;
}

/* Kubelets on different machines reach each other's pods through routes
 * via their addresses, so with two or more kubelet hosts each needs one —
 * unless the broker is on loopback (every "host" on one machine). */
static int s_addresses(s_ctx_t *c, const rt_spec_t *s)
{
    size_t kubelets = 0;
    for (size_t i = 0; i < s->nhosts; i++)
        kubelets += rt_spec_runs(&s->hosts[i], "kubelet");
    if (kubelets < 2 || !strncmp(s->broker, "ipc://", 6) || !strncmp(s->broker, "tcp://127.", 10) ||
        !strncmp(s->broker, "tcp://localhost:", 16))
        return 0;
    for (size_t i = 0; i < s->nhosts; i++)
        if (rt_spec_runs(&s->hosts[i], "kubelet") && !s->hosts[i].address[0]) {
            char field[64];
            snprintf(field, sizeof field, "hosts[%zu].address", i);
            return s_fail(c, field,
                          "Required value: a kubelet host of a multi-host cluster needs "
                          "its address (its node's InternalIP, for pod routes)");
        }
    return 0;
}

/* ---- top level ------------------------------------------------------------------ */

static int s_top(s_ctx_t *c, const json_t *doc, rt_spec_t *s)
{
    static const char *const keys[] = {"cluster",  "broker",        "curve", "podCIDR", "driver",
                                       "httpPort", "nodeLifecycle", "hosts", NULL};
    static const char *const nl_keys[] = {"gracePeriod", "evictionTimeout", NULL};
    rt_endpoints_t eps;
    if (!json_is_object(doc))
        return s_fail(c, "(document)", "expected a map");
    int rc = s_only_keys(c, doc, "", keys);
    if (!rc)
        rc = s_str(c, doc, "cluster", "cluster", s->cluster, sizeof s->cluster, true);
    if (!rc && !s_dns_label(s->cluster))
        rc = s_fail(c, "cluster", "Invalid value \"%s\": a lowercase RFC 1123 label", s->cluster);
    if (!rc)
        rc = s_str(c, doc, "broker", "broker", s->broker, sizeof s->broker, true);
    if (!rc && rt_endpoints_from(s->broker, &eps) < 0)
        rc = s_fail(c, "broker",
                    "Invalid value \"%s\": expected tcp://ADDRESS:PORT (ports "
                    "PORT..PORT+3) or ipc://PATH",
                    s->broker);
    const json_t *cv = json_object_get(doc, "curve");
    if (!rc && cv && !json_is_boolean(cv))
        rc = s_fail(c, "curve", "expected true or false");
    s->curve = json_is_true(cv);
    if (!rc)
        rc = s_str(c, doc, "podCIDR", "podCIDR", s->pod_cidr, sizeof s->pod_cidr, true);
    if (!rc)
        rc = s_str(c, doc, "driver", "driver", s->driver, sizeof s->driver, false);
    if (!rc)
        rc = s_driver(c, "driver", s->driver);
    if (!rc)
        rc = s_str(c, doc, "httpPort", "httpPort", s->http_port, sizeof s->http_port, false);
    const json_t *nl = json_object_get(doc, "nodeLifecycle");
    if (!rc && nl && !json_is_object(nl))
        rc = s_fail(c, "nodeLifecycle", "expected a map");
    if (!rc && nl)
        rc = s_only_keys(c, nl, "nodeLifecycle", nl_keys);
    if (!rc && nl)
        rc = s_str(c, nl, "gracePeriod", "nodeLifecycle.gracePeriod", s->grace, sizeof s->grace,
                   false);
    if (!rc && nl)
        rc = s_str(c, nl, "evictionTimeout", "nodeLifecycle.evictionTimeout", s->eviction,
                   sizeof s->eviction, false);
    if (!rc)
        rc = s_duration(c, "nodeLifecycle.gracePeriod", s->grace);
    if (!rc)
        rc = s_duration(c, "nodeLifecycle.evictionTimeout", s->eviction);
    return rc;
}

static int s_hosts(s_ctx_t *c, const json_t *arr, rt_spec_t *s)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return s_fail(c, "hosts", arr ? "expected a non-empty list" : "Required value");
    if (json_array_size(arr) > RT_SPEC_MAX_HOSTS)
        return s_fail(c, "hosts", "too many hosts (at most %d)", RT_SPEC_MAX_HOSTS);
    s->hosts = calloc(json_array_size(arr), sizeof *s->hosts);
    if (!s->hosts) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        int rc = s_host(c, json_array_get(arr, i), i, &s->hosts[i]);
        s->nhosts = i + 1;
        if (rc)
            return rc;
    }
    return 0;
}

int rt_spec_parse(const json_t *doc, const char *name, rt_spec_t **out, char *err, size_t errlen)
{
    char dummy[8];
    s_ctx_t c = {name ? name : "spec", err ? err : dummy, err ? errlen : sizeof dummy};
    rt_spec_t *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    int rc = s_top(&c, doc, s);
    if (!rc)
        rc = s_hosts(&c, json_object_get(doc, "hosts"), s);
    if (!rc)
        rc = s_cross_check(&c, s);
    if (!rc)
        rc = s_pod_cidrs(&c, s);
    if (!rc)
        rc = s_addresses(&c, s);
    if (rc) {
        rt_spec_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

int rt_spec_load(const char *path, rt_spec_t **out, char *err, size_t errlen)
{
    json_t *docs = NULL;
    int rc = proto_manifest_load(path, 0, &docs, err, errlen);
    if (rc) {
        json_decref(docs);
        return rc;
    }
    if (json_array_size(docs) != 1) {
        snprintf(err, errlen, "%s: expected one YAML document, found %zu", path,
                 json_array_size(docs));
        json_decref(docs);
        return PROTO_EINVALID;
    }
    rc = rt_spec_parse(json_array_get(docs, 0), path, out, err, errlen);
    json_decref(docs);
    return rc;
}

void rt_spec_destroy(rt_spec_t **s)
{
    if (!s || !*s)
        return;
    free((*s)->hosts);
    free(*s);
    *s = NULL;
}

const rt_spec_host_t *rt_spec_host(const rt_spec_t *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->nhosts; i++)
        if (!strcmp(s->hosts[i].name, name))
            return &s->hosts[i];
    return NULL;
}

bool rt_spec_runs(const rt_spec_host_t *h, const char *actor)
{
    bool ctrl = !strncmp(actor, "controller-", 11);
    for (size_t i = 0; h && i < h->nactors; i++)
        if (!strcmp(h->actors[i], actor) || (ctrl && !strcmp(h->actors[i], "controllers")))
            return true;
    return false;
}
