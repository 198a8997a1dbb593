/*
 * protocol/selector_field — field selectors (`metadata.name=x,status.phase!=
 * Running`) with the grammar of k8s.io/apimachinery/pkg/fields (terms split
 * on unescaped commas and sorted, `!=` `==` `=`, escapes `\,` `\=` `\\`) and
 * the per-resource field sets the apiserver supports, so that
 * `kubectl get pods --field-selector` behaves as on Kubernetes.
 */
#include "protocol/selector.h"

#include "protocol/obj.h"
#include "protocol/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FSEL_MAX_INPUT (64 * 1024)
#define FSEL_MAX_TERMS 256

typedef struct fterm {
    char *field, *value;
    bool neq;
} fterm_t;

struct proto_fsel {
    fterm_t *terms;
    size_t n;
};

static void *s_xmalloc(size_t n)
{
    void *r = calloc(1, n ? n : 1);
    if (!r) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return r;
}

static int s_fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
    return PROTO_EBADREQUEST;
}

/* ---- the supported fields ---- */

static const char *s_pod_fields[] = {
    "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
    "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName", NULL};
static const char *s_event_fields[] = {
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
    "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type", NULL};
static const char *s_secret_fields[] = {"type", NULL};
static const char *s_node_fields[] = {"spec.unschedulable", NULL};
static const char *s_ns_fields[] = {"status.phase", NULL};
static const char *s_rs_fields[] = {"status.replicas", NULL};
static const char *s_job_fields[] = {"status.successful", NULL};

static const char **s_fields_of(const char *resource)
{
    static const struct {
        const char *res;
        const char **fields;
    } tab[] = {{"pods", s_pod_fields},       {"events", s_event_fields},
               {"secrets", s_secret_fields}, {"nodes", s_node_fields},
               {"namespaces", s_ns_fields},  {"replicasets", s_rs_fields},
               {"replicationcontrollers", s_rs_fields}, {"jobs", s_job_fields}};
    for (size_t i = 0; resource && i < sizeof tab / sizeof *tab; i++)
        if (strcmp(resource, tab[i].res) == 0)
            return tab[i].fields;
    return NULL;
}

static bool s_supported(const char *resource, const char *field)
{
    if (strcmp(field, "metadata.name") == 0 || strcmp(field, "metadata.namespace") == 0)
        return true;
    const char **f = s_fields_of(resource);
    for (; f && *f; f++)
        if (strcmp(*f, field) == 0)
            return true;
    return false;
}

/* The object's value of a selectable field as Kubernetes renders it; buf for numbers. */
static const char *s_value(const json_t *obj, const char *field, char *buf, size_t n)
{
    const char *path = field;
    if (strcmp(field, "source") == 0)
        path = "source.component";
    else if (strcmp(field, "reportingComponent") == 0)
        path = "reportingController";
    const json_t *v = proto_obj_get(obj, path);
    if (strcmp(field, "spec.unschedulable") == 0 || strcmp(field, "spec.hostNetwork") == 0)
        return json_is_true(v) ? "true" : "false";
    if (json_is_integer(v)) {
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (!v && (strcmp(field, "status.replicas") == 0 || strcmp(field, "status.successful") == 0))
        return "0";
    const char *s = json_string_value(v);
    return s ? s : "";
}

/* ---- parsing ---- */

/* UnescapeValue: 0, or an error text. */
static int s_unescape(const char *s, char **out, char *err, size_t errlen)
{
    char *o = s_xmalloc(strlen(s) + 1), *w = o;
    for (const char *c = s; *c; c++) {
        if (*c == '\\') {
            if (c[1] == '\\' || c[1] == ',' || c[1] == '=') {
                *w++ = *++c;
                continue;
            }
            char seq[8] = "\\";
            if (c[1])
                memcpy(seq + 1, c + 1, (((unsigned char)c[1] >> 6) == 3) ? 2 : 1);
            free(o);
            return s_fail(err, errlen, "invalid field selector: invalid escape sequence: %s%s", seq,
                          "");
        }
        if (*c == ',' || *c == '=') {
            char r[2] = {*c, 0};
            free(o);
            return s_fail(err, errlen, "invalid field selector: unescaped character in value: %s%s",
                          r, "");
        }
        *w++ = *c;
    }
    *w = 0;
    *out = o;
    return 0;
}

/* splitTerm: the first position where "!=", "==" or "=" starts. */
static bool s_split_term(const char *t, size_t *lhs, size_t *oplen, bool *neq)
{
    for (size_t i = 0; t[i]; i++) {
        if (strncmp(t + i, "!=", 2) == 0 || strncmp(t + i, "==", 2) == 0) {
            *lhs = i, *oplen = 2, *neq = t[i] == '!';
            return true;
        }
        if (t[i] == '=') {
            *lhs = i, *oplen = 1, *neq = false;
            return true;
        }
    }
    return false;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* splitTerms: on unescaped commas, keeping escapes; sorted as the parser sorts them. */
static char **s_split_terms(const char *s, size_t *n)
{
    size_t cap = 1;
    for (const char *c = s; *c; c++)
        cap += *c == ',';
    char **parts = s_xmalloc(cap * sizeof *parts);
    *n = 0;
    const char *start = s;
    bool slash = false;
    for (const char *c = s;; c++) {
        if (slash) {
            slash = false;
            if (*c)
                continue;
        } else if (*c == '\\') {
            slash = true;
            continue;
        }
        if (*c == ',' || !*c) {
            parts[*n] = strndup(start, (size_t)(c - start));
            if (!parts[(*n)++])
                abort();
            start = c + 1;
        }
        if (!*c)
            break;
    }
    qsort(parts, *n, sizeof *parts, s_cmp_str);
    return parts;
}

static int s_parse_term(proto_fsel_t *sel, const char *all, const char *part, char *err,
                        size_t errlen)
{
    size_t lhs, oplen;
    bool neq;
    if (!s_split_term(part, &lhs, &oplen, &neq))
        return s_fail(err, errlen, "invalid selector: '%s'; can't understand '%s'", all, part);
    char *value = NULL;
    int rc = s_unescape(part + lhs + oplen, &value, err, errlen);
    if (rc < 0)
        return rc;
    fterm_t *t = &sel->terms[sel->n++];
    t->field = strndup(part, lhs);
    if (!t->field)
        abort();
    t->value = value;
    t->neq = neq;
    return 0;
}

int proto_fsel_parse(const char *s, const char *resource, proto_fsel_t **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    if (!s)
        s = "";
    if (strlen(s) > FSEL_MAX_INPUT)
        return s_fail(err, errlen, "field selector too long%s%s", "", "");
    size_t n = 0;
    char **parts = *s ? s_split_terms(s, &n) : NULL;
    proto_fsel_t *sel = s_xmalloc(sizeof *sel);
    sel->terms = s_xmalloc((n ? n : 1) * sizeof *sel->terms);
    int rc = n > FSEL_MAX_TERMS ? s_fail(err, errlen, "too many field selector terms%s%s", "", "")
                                : 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (parts[i][0])
            rc = s_parse_term(sel, s, parts[i], err, errlen);
    for (size_t i = 0; rc == 0 && i < sel->n; i++)
        if (!s_supported(resource, sel->terms[i].field))
            rc = s_fail(err, errlen, "field label not supported: %s%s", sel->terms[i].field, "");
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    free(parts);
    if (rc < 0) {
        proto_fsel_destroy(&sel);
        return rc;
    }
    *out = sel;
    return 0;
}

bool proto_fsel_match(const proto_fsel_t *sel, const json_t *obj)
{
    char buf[32];
    for (size_t i = 0; sel && i < sel->n; i++) {
        const char *v = s_value(obj, sel->terms[i].field, buf, sizeof buf);
        if ((strcmp(v, sel->terms[i].value) == 0) == sel->terms[i].neq)
            return false;
    }
    return true;
}

bool proto_fsel_empty(const proto_fsel_t *sel)
{
    return !sel || sel->n == 0;
}

char *proto_fsel_string(const proto_fsel_t *sel)
{
    size_t len = 1;
    for (size_t i = 0; sel && i < sel->n; i++)
        len += strlen(sel->terms[i].field) + 2 * strlen(sel->terms[i].value) + 4;
    char *out = s_xmalloc(len), *w = out;
    for (size_t i = 0; sel && i < sel->n; i++) {
        w += sprintf(w, "%s%s%s", i ? "," : "", sel->terms[i].field, sel->terms[i].neq ? "!=" : "=");
        for (const char *c = sel->terms[i].value; *c; c++) {
            if (*c == '\\' || *c == ',' || *c == '=')
                *w++ = '\\';
            *w++ = *c;
        }
    }
    *w = 0;
    return out;
}

void proto_fsel_destroy(proto_fsel_t **sel)
{
    if (!sel || !*sel)
        return;
    for (size_t i = 0; i < (*sel)->n; i++) {
        free((*sel)->terms[i].field);
        free((*sel)->terms[i].value);
    }
    free((*sel)->terms);
    free(*sel);
    *sel = NULL;
}
