/*
 * protocol/convert — conversion of objects written in the old API versions
 * that the book's manifests use (apps/v1beta1, apps/v1beta2,
 * extensions/v1beta1, batch/v1beta1, networking.k8s.io/v1beta1) to the
 * versions zkube stores, as `kubectl convert` and the apiserver's
 * conversion functions do. Fields the old versions defaulted differently
 * keep their old meaning (a selector taken from the template labels,
 * DaemonSet OnDelete in extensions/v1beta1, Ingress pathType
 * ImplementationSpecific).
 */
#include "protocol/kinds_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
}

/* `Object 'Kind' is missing in '{...}'`, the object shortened as needed. */
static int s_missing(const json_t *obj, const char *what, char *err, size_t errlen)
{
    char *txt = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    char shown[200];
    snprintf(shown, sizeof shown, "%s", txt ? txt : "");
    if (txt && strlen(txt) >= sizeof shown)
        memcpy(shown + sizeof shown - 4, "...", 4);
    free(txt);
    s_err(err, errlen, "Object '%s' is missing in '%s'", what, shown);
    return PROTO_EBADREQUEST;
}

static const char *s_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_NULL:
        return "null";
    default:
        return "number";
    }
}

/* What Kubernetes answers when a document's type meta cannot be decoded. */
static int s_not_typed(const json_t *v, const char *field, char *err, size_t errlen)
{
    if (!err || !errlen)
        return PROTO_EBADREQUEST;
    if (field)
        snprintf(err, errlen,
                 "couldn't get version/kind; json parse error: json: cannot unmarshal %s into "
                 "Go struct field .%s of type string",
                 s_json_kind(v), field);
    else
        snprintf(
            err, errlen,
            "couldn't get version/kind; json parse error: json: cannot unmarshal %s into "
            "Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
            "Kind string \"json:\\\"kind,omitempty\\\"\" }",
            v ? s_json_kind(v) : "null");
    return PROTO_EBADREQUEST;
}

/* v1beta1 {serviceName, servicePort} -> v1 {service: {name, port: {number|name}}}. */
static void s_ingress_backend(json_t *b)
{
    if (!json_is_object(b))
        return;
    json_t *name = json_object_get(b, "serviceName");
    json_t *port = json_object_get(b, "servicePort");
    if (!name && !port)
        return;
    json_t *svc = json_object();
    if (name)
        json_object_set(svc, "name", name);
    if (json_is_integer(port))
        json_object_set_new(svc, "port", json_pack("{s:O}", "number", port));
    else if (json_is_string(port))
        json_object_set_new(svc, "port", json_pack("{s:O}", "name", port));
    else if (port)
        json_object_set_new(svc, "port", json_pack("{s:O}", "number", port));
    json_object_del(b, "serviceName");
    json_object_del(b, "servicePort");
    json_object_set_new(b, "service", svc);
}

static void s_convert_ingress(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec))
        return;
    json_t *def = json_object_get(spec, "backend");
    if (def) {
        json_object_set(spec, "defaultBackend", def);
        json_object_del(spec, "backend");
        s_ingress_backend(json_object_get(spec, "defaultBackend"));
    }
    size_t i, j;
    json_t *rule, *path;
    json_array_foreach(json_object_get(spec, "rules"), i, rule)
    {
        json_t *paths = proto_obj_get(rule, "http.paths");
        json_array_foreach(paths, j, path)
        {
            if (!json_is_object(path))
                continue;
            s_ingress_backend(json_object_get(path, "backend"));
            json_t *pt = json_object_get(path, "pathType");
            if (!pt || json_is_null(pt))
                json_object_set_new(path, "pathType", json_string("ImplementationSpecific"));
        }
    }
}

/* extensions/v1beta1 and apps/v1beta1 defaulted the selector and the
 * object's labels from the template's labels; apps/v1 requires them. */
static void s_selector_from_template(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    json_t *tl = proto_obj_get(spec, "template.metadata.labels");
    if (!json_is_object(spec) || !json_is_object(tl) || json_object_size(tl) == 0)
        return;
    json_t *sel = json_object_get(spec, "selector");
    if (!sel || json_is_null(sel))
        json_object_set_new(spec, "selector", json_pack("{s:O}", "matchLabels", tl));
    json_t *labels = proto_obj_get(obj, "metadata.labels");
    if (json_is_object(json_object_get(obj, "metadata")) &&
        (!json_is_object(labels) || json_object_size(labels) == 0))
        proto_obj_set(obj, "metadata.labels", json_deep_copy(tl));
}

static void s_convert_apps(json_t *obj, const char *from, const char *kind)
{
    bool legacy = strcmp(from, "extensions/v1beta1") == 0 || strcmp(from, "apps/v1beta1") == 0;
    if (legacy)
        s_selector_from_template(obj);
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec))
        return;
    json_object_del(spec, "rollbackTo");         /* removed in apps/v1 */
    json_object_del(spec, "templateGeneration"); /* removed in apps/v1 */
    if (strcmp(kind, "DaemonSet") == 0 && strcmp(from, "extensions/v1beta1") == 0 &&
        !json_object_get(spec, "updateStrategy"))
        json_object_set_new(spec, "updateStrategy", json_pack("{s:s}", "type", "OnDelete"));
}

/*
 * The book's kubia-svc-publish-not-ready.yaml sets spec.publishNotReadyEndpoints,
 * a field Kubernetes' Service never had (the real one is
 * publishNotReadyAddresses; Kubernetes of the book's time silently dropped
 * it). zkube refuses unknown fields, yet must accept the book's corpus
 * unmodified, so it takes this one name as a legacy alias and converts it,
 * honouring what the manifest plainly means. The real field wins when both
 * are set.
 */
static void s_convert_service(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    json_t *alias = json_object_get(spec, "publishNotReadyEndpoints");
    if (!alias)
        return;
    if (!json_object_get(spec, "publishNotReadyAddresses"))
        json_object_set(spec, "publishNotReadyAddresses", alias);
    json_object_del(spec, "publishNotReadyEndpoints");
}

static char *s_base64(const char *in, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        abort();
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        *o++ = tbl[(v >> 18) & 63];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? tbl[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* Secret stringData is write-only: the v1 conversion merges it into data
 * (base64), stringData winning, and drops it. */
static void s_convert_secret(json_t *obj)
{
    json_t *sd = json_object_get(obj, "stringData");
    if (!json_is_object(sd))
        return;
    json_t *data = json_object_get(obj, "data");
    if (!data || json_is_null(data)) {
        data = json_object();
        json_object_set_new(obj, "data", data);
    }
    if (!json_is_object(data))
        return; /* a type error, reported by validation */
    const char *k;
    json_t *v;
    json_object_foreach(sd, k, v)
    {
        if (!json_is_string(v))
            return; /* a type error, reported by validation */
    }
    json_object_foreach(sd, k, v)
    {
        char *b = s_base64(json_string_value(v), json_string_length(v));
        json_object_set_new(data, k, json_string(b));
        free(b);
    }
    json_object_del(obj, "stringData");
}

int proto_convert(json_t *obj, char *err, size_t errlen)
{
    if (!json_is_object(obj))
        return s_not_typed(obj, NULL, err, errlen);
    json_t *jk = json_object_get(obj, "kind"), *jv = json_object_get(obj, "apiVersion");
    if (jk && !json_is_string(jk) && !json_is_null(jk))
        return s_not_typed(jk, "kind", err, errlen);
    if (jv && !json_is_string(jv) && !json_is_null(jv))
        return s_not_typed(jv, "apiVersion", err, errlen);
    const char *kind = json_string_value(jk);
    const char *av = json_string_value(jv);
    if (!kind || !*kind)
        return s_missing(obj, "Kind", err, errlen);
    if (!av || !*av)
        return s_missing(obj, "apiVersion", err, errlen);
    const proto_kind_t *k = proto_kind_by_kind(av, kind);
    if (!k) {
        s_err(err, errlen, "no matches for kind \"%s\" in version \"%s\"", kind, av);
        return PROTO_EBADREQUEST;
    }
    char cur[64];
    proto_kind_api_version(k, cur);
    if (strcmp(av, cur) != 0) {
        char from[64];
        snprintf(from, sizeof from, "%s", av);
        if (strcmp(kind, "Ingress") == 0)
            s_convert_ingress(obj);
        else if (strcmp(k->group, "apps") == 0)
            s_convert_apps(obj, from, kind);
        json_object_set_new(obj, "apiVersion", json_string(cur));
    }
    if (strcmp(kind, "Service") == 0)
        s_convert_service(obj);
    else if (strcmp(kind, "Secret") == 0)
        s_convert_secret(obj);
    return 0;
}
