/*
 * tools/zkubectl/describe_ingress.c — `zkubectl describe ingress`, laid out
 * as kubectl's networking/v1 ingress describer: address, class, default
 * backend, TLS, one block of paths per host, annotations, events. kubectl
 * shows each service backend with its endpoints, read from EndpointSlices.
 */
#include <stdio.h>
#include <string.h>

#include "protocol/obj.h"
#include "tools/zkubectl/describe.h"

static const char *s_str(const json_t *o, const char *path, const char *def)
{
    const char *s = proto_obj_str(o, path);
    return s && *s ? s : def;
}

/* "svc:80 (endpoints)"; zkube serves no EndpointSlice kind, so kubectl's
 * lookup of the endpoints fails with a 404 for the whole resource, which it
 * prints in place of them. */
static const char *s_backend(const json_t *b, char *buf, size_t n)
{
    const json_t *svc = json_object_get(b, "service");
    if (!svc) {
        const json_t *r = json_object_get(b, "resource");
        if (r)
            snprintf(buf, n, "APIGroup: %s, Kind: %s, Name: %s", s_str(r, "apiGroup", ""),
                     s_str(r, "kind", ""), s_str(r, "name", ""));
        else
            snprintf(buf, n, "%s", "");
        return buf;
    }
    char port[64];
    if (proto_obj_int(svc, "port.number", 0))
        snprintf(port, sizeof port, "%lld", (long long)proto_obj_int(svc, "port.number", 0));
    else
        snprintf(port, sizeof port, "%s", s_str(svc, "port.name", ""));
    snprintf(buf, n, "%s:%s%s", s_str(svc, "name", ""), port,
             proto_kind_find("endpointslices")
                 ? ""
                 : " (<error: the server could not find the requested resource>)");
    return buf;
}

/* "a,b" of a string list. */
static const char *s_join(const json_t *list, char *buf, size_t n)
{
    size_t len = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(list, i, v) if (len < n) len +=
        (size_t)snprintf(buf + len, n - len, "%s%s", i ? "," : "",
                         json_is_string(v) ? json_string_value(v) : "");
    return buf;
}

static void s_tls(ctl_tw_t *tw, const json_t *tls)
{
    if (!json_array_size(tls))
        return;
    ctl_tw_printf(tw, 0, "TLS:");
    size_t i;
    json_t *t;
    char hosts[1024];
    json_array_foreach(tls, i, t)
    {
        s_join(json_object_get(t, "hosts"), hosts, sizeof hosts);
        if (*s_str(t, "secretName", ""))
            ctl_tw_printf(tw, 1, "%s terminates %s", s_str(t, "secretName", ""), hosts);
        else
            ctl_tw_printf(tw, 1, "SNI routes %s", hosts);
    }
}

static void s_rules(ctl_tw_t *tw, const json_t *o)
{
    char b[512];
    ctl_tw_printf(tw, 0, "Rules:");
    ctl_tw_printf(tw, 1, "Host\tPath\tBackends");
    ctl_tw_printf(tw, 1, "----\t----\t--------");
    int count = 0;
    size_t i, j;
    json_t *r, *p;
    json_array_foreach(proto_obj_get(o, "spec.rules"), i, r)
    {
        if (!json_object_get(r, "http"))
            continue;
        count++;
        ctl_tw_printf(tw, 1, "%s\t", s_str(r, "host", "*"));
        json_array_foreach(proto_obj_get(r, "http.paths"), j, p)
            ctl_tw_printf(tw, 2, "\t%s \t%s", s_str(p, "path", ""),
                          s_backend(json_object_get(p, "backend"), b, sizeof b));
    }
    if (!count)
        ctl_tw_printf(tw, 1, "*\t*\t%s", s_backend(proto_obj_get(o, "spec.defaultBackend"), b,
                                                   sizeof b));
}

void ctl_desc_ingress(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char buf[1024];
    size_t len = 0, i;
    json_t *x;
    ctl_tw_printf(tw, 0, "Name:\t%s", s_str(o, "metadata.name", ""));
    ctl_desc_map(tw, 0, "Labels:", proto_obj_get(o, "metadata.labels"));
    ctl_tw_printf(tw, 0, "Namespace:\t%s", s_str(o, "metadata.namespace", ""));
    buf[0] = '\0';
    json_array_foreach(proto_obj_get(o, "status.loadBalancer.ingress"), i, x) if (len <
                                                                                 sizeof buf) len +=
        (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? "," : "",
                         s_str(x, "ip", s_str(x, "hostname", "")));
    ctl_tw_printf(tw, 0, "Address:\t%s", buf);
    ctl_tw_printf(tw, 0, "Ingress Class:\t%s", s_str(o, "spec.ingressClassName", "<none>"));
    const json_t *def = proto_obj_get(o, "spec.defaultBackend");
    ctl_tw_printf(tw, 0, "Default backend:\t%s", def ? s_backend(def, buf, sizeof buf)
                                                    : "<default>");
    s_tls(tw, proto_obj_get(o, "spec.tls"));
    s_rules(tw, o);
    ctl_desc_annotations(tw, o);
    ctl_desc_events(c, tw, o);
}
