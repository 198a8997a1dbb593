/*
 * protocol/validate_meta — the syntax checks Kubernetes applies to names,
 * label and annotation keys and values, label selectors, port names and IP
 * addresses (k8s.io/apimachinery/pkg/util/validation and
 * pkg/api/validation), with Kubernetes' own wording, and the ObjectMeta
 * rules shared by every kind.
 */
#include "protocol/kinds_int.h"
#include "protocol/obj.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define S_DNS1123_LABEL_MSG                                                                        \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define S_DNS1123_SUB_MSG                                                                          \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define S_DNS1035_MSG                                                                              \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "           \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define S_QNAME_PART_MSG                                                                           \
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "  \
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "     \
    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define S_QNAME_MSG                                                                                \
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "   \
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "  \
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "     \
    "subdomain prefix and '/' (e.g. 'example.com/MyName')"
#define S_LABEL_VALUE_MSG                                                                          \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static bool s_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool s_label_ok(const char *s, size_t n)
{
    if (n == 0 || !s_lower_alnum(s[0]) || !s_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

const char *proto_check_dns1123_label(const char *s)
{
    size_t n = strlen(s);
    if (n > 63)
        return "must be no more than 63 characters";
    return s_label_ok(s, n) ? NULL : S_DNS1123_LABEL_MSG;
}

const char *proto_check_dns1123_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n > 253)
        return "must be no more than 253 characters";
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!s_label_ok(p, len))
            return S_DNS1123_SUB_MSG;
        if (!dot)
            return NULL;
        p = dot + 1;
    }
}

const char *proto_check_dns1035_label(const char *s)
{
    size_t n = strlen(s);
    if (n > 63)
        return "must be no more than 63 characters";
    if (!s_label_ok(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
        return S_DNS1035_MSG;
    return NULL;
}

static bool s_alnum(char c)
{
    return isalnum((unsigned char)c) != 0;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool s_qname_ok(const char *s, size_t n)
{
    if (n == 0 || !s_alnum(s[0]) || !s_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

const char *proto_check_label_key(const char *s)
{
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash) {
        if (strchr(slash + 1, '/'))
            return S_QNAME_MSG;
        size_t plen = (size_t)(slash - s);
        if (plen == 0)
            return "prefix part must be non-empty";
        char prefix[300];
        if (plen >= sizeof prefix)
            return "prefix part must be no more than 253 characters";
        memcpy(prefix, s, plen);
        prefix[plen] = '\0';
        if (proto_check_dns1123_subdomain(prefix)) {
            static const char msg[] = "prefix part " S_DNS1123_SUB_MSG;
            return plen > 253 ? "prefix part must be no more than 253 characters" : msg;
        }
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0)
        return "name part must be non-empty";
    if (n > 63)
        return "name part must be no more than 63 characters";
    return s_qname_ok(name, n) ? NULL : S_QNAME_PART_MSG;
}

const char *proto_check_label_value(const char *s)
{
    size_t n = strlen(s);
    if (n > 63)
        return "must be no more than 63 characters";
    if (n == 0 || s_qname_ok(s, n))
        return NULL;
    return S_LABEL_VALUE_MSG;
}

const char *proto_check_port_name(const char *s)
{
    size_t n = strlen(s);
    if (n > 15)
        return "must be no more than 15 characters";
    bool letter = false;
    for (size_t i = 0; i < n; i++) {
        if (!s_lower_alnum(s[i]) && s[i] != '-')
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        letter = letter || (s[i] >= 'a' && s[i] <= 'z');
    }
    if (!letter)
        return "must contain at least one letter (a-z)";
    if (strstr(s, "--"))
        return "must not contain consecutive hyphens";
    if (n && (s[0] == '-' || s[n - 1] == '-'))
        return "must not begin or end with a hyphen";
    return NULL;
}

bool proto_check_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ---- labels, annotations, selectors ---- */

void proto_v_labels(const json_t *labels, const char *path, proto_vctx_t *v)
{
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)labels, k, x)
    {
        const char *why = proto_check_label_key(k);
        if (why)
            proto_v_invalid_str(v, path, k, why);
        const char *val = json_string_value(x);
        if (val && (why = proto_check_label_value(val)))
            proto_v_invalid_str(v, path, val, why);
    }
}

#define S_MAX_ANNOTATIONS (256 * 1024)

static void s_annotations(const json_t *ann, proto_vctx_t *v)
{
    const char *k;
    json_t *x;
    size_t total = 0;
    json_object_foreach((json_t *)ann, k, x)
    {
        char low[320];
        size_t n = strlen(k);
        total += n + json_string_length(x);
        if (n >= sizeof low) {
            proto_v_invalid_str(v, "metadata.annotations", k,
                                "name part must be no more than 63 characters");
            continue;
        }
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)tolower((unsigned char)k[i]);
        const char *why = proto_check_label_key(low);
        if (why)
            proto_v_invalid_str(v, "metadata.annotations", k, why);
    }
    if (total > S_MAX_ANNOTATIONS)
        proto_v_add(v, "FieldValueTooLong", "metadata.annotations",
                    "Too long: must have at most %d bytes", S_MAX_ANNOTATIONS);
}

static void s_sel_expr(const json_t *e, const char *path, proto_vctx_t *v)
{
    char p[600];
    const char *op = json_string_value(json_object_get(e, "operator"));
    const char *key = json_string_value(json_object_get(e, "key"));
    json_t *vals = json_object_get(e, "values");
    if (key && *key && proto_check_label_key(key)) {
        PROTO_VP(p, "%s.key", path);
        proto_v_invalid_str(v, p, key, proto_check_label_key(key));
    }
    if (!op)
        return;
    PROTO_VP(p, "%s.values", path);
    bool in = strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0;
    bool ex = strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0;
    if (in && json_array_size(vals) == 0)
        proto_v_required(v, p, "must be specified when `operator` is 'In' or 'NotIn'");
    if (ex && json_array_size(vals) > 0)
        proto_v_forbidden(v, p,
                          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    size_t i;
    json_t *x;
    json_array_foreach(vals, i, x)
    {
        const char *s = json_string_value(x);
        if (s && proto_check_label_value(s)) {
            PROTO_VP(p, "%s.values[%zu]", path, i);
            proto_v_invalid_str(v, p, s, proto_check_label_value(s));
        }
    }
}

void proto_v_label_selector(const json_t *sel, const char *path, proto_vctx_t *v)
{
    char p[600];
    PROTO_VP(p, "%s.matchLabels", path);
    proto_v_labels(json_object_get(sel, "matchLabels"), p, v);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, e)
    {
        PROTO_VP(p, "%s.matchExpressions[%zu]", path, i);
        s_sel_expr(e, p, v);
    }
}

static bool s_in_values(const json_t *vals, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(vals, i, x)
    {
        if (s && json_is_string(x) && strcmp(json_string_value(x), s) == 0)
            return true;
    }
    return false;
}

bool proto_v_selector_matches(const json_t *sel, const json_t *labels)
{
    const char *k;
    json_t *x;
    json_object_foreach(json_object_get(sel, "matchLabels"), k, x)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || !json_is_string(x) || strcmp(have, json_string_value(x)) != 0)
            return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, e)
    {
        const char *op = json_string_value(json_object_get(e, "operator"));
        const char *key = json_string_value(json_object_get(e, "key"));
        if (!op || !key)
            return false;
        const char *have = json_string_value(json_object_get(labels, key));
        json_t *vals = json_object_get(e, "values");
        bool ok = strcmp(op, "In") == 0       ? s_in_values(vals, have)
                  : strcmp(op, "NotIn") == 0  ? !s_in_values(vals, have)
                  : strcmp(op, "Exists") == 0 ? have != NULL
                                              : have == NULL;
        if (!ok)
            return false;
    }
    return true;
}

/* ---- ObjectMeta ---- */

static const char *s_name_check(const proto_kind_t *k, const char *name)
{
    if (strcmp(k->kind, "Namespace") == 0)
        return proto_check_dns1123_label(name);
    if (strcmp(k->kind, "Service") == 0)
        return proto_check_dns1035_label(name);
    if (strcmp(k->kind, "CronJob") == 0 && strlen(name) > 52)
        return "must be no more than 52 characters";
    return proto_check_dns1123_subdomain(name);
}

void proto_v_object_meta(const proto_kind_t *k, const json_t *meta, proto_vctx_t *v)
{
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *gen = json_string_value(json_object_get(meta, "generateName"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    if ((!name || !*name) && (!gen || !*gen))
        proto_v_required(v, "metadata.name", "name or generateName is required");
    else if (name && *name) {
        const char *why = s_name_check(k, name);
        if (why)
            proto_v_invalid_str(v, "metadata.name", name, why);
    }
    if (k->namespaced && ns && *ns && proto_check_dns1123_label(ns))
        proto_v_invalid_str(v, "metadata.namespace", ns, proto_check_dns1123_label(ns));
    proto_v_labels(json_object_get(meta, "labels"), "metadata.labels", v);
    s_annotations(json_object_get(meta, "annotations"), v);
}
