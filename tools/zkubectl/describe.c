/*
 * tools/zkubectl/describe.c — `zkubectl describe`: kubectl's describe
 * layouts for pods, replication controllers, replica sets, services, nodes
 * and namespaces, a generic key/value layout for every other kind, and the
 * object's events (listed by involvedObject field selector), all aligned
 * with Go's tabwriter as kubectl does.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/obj.h"
#include "protocol/selector.h"
#include "protocol/table.h"
#include "tools/zkubectl/ctl.h"
#include "tools/zkubectl/describe.h"

const char *ctl_desc_time(const char *rfc, char *buf, size_t n)
{
    int64_t t = rfc ? proto_parse_time(rfc) : -1;
    if (t < 0) {
        snprintf(buf, n, "<unset>");
        return buf;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

const char *ctl_desc_age(const char *rfc, char *buf)
{
    int64_t t = rfc ? proto_parse_time(rfc) : -1;
    if (t < 0) {
        snprintf(buf, 32, "<unknown>");
        return buf;
    }
    proto_human_duration((int64_t)time(NULL) - t, buf);
    return buf;
}

/* "Labels:  a=b" then one "\tc=d" line per further key, sorted. */
void ctl_desc_map(ctl_tw_t *tw, int lvl, const char *title, const json_t *m)
{
    if (!json_object_size(m)) {
        ctl_tw_printf(tw, lvl, "%s\t<none>", title);
        return;
    }
    const char *keys[256];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) if (n < 256) keys[n++] = k;
    for (size_t i = 1; i < n; i++) /* insertion sort: few keys */
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(m, keys[i]));
        ctl_tw_printf(tw, lvl, "%s\t%s=%s", i ? "" : title, keys[i], val ? val : "");
    }
}

void ctl_desc_meta(ctl_tw_t *tw, const json_t *o, bool ns)
{
    ctl_tw_printf(tw, 0, "Name:\t%s", proto_obj_name(o) ? proto_obj_name(o) : "");
    if (ns)
        ctl_tw_printf(tw, 0, "Namespace:\t%s", proto_obj_ns(o) ? proto_obj_ns(o) : "");
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* kubectl's printAnnotationsMultiline: "key: value", sorted, without the
 * last-applied configuration; long or multi-line values on lines of their
 * own. */
static void s_annotations(ctl_tw_t *tw, const json_t *m)
{
    const char *keys[256];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) if (n < 256 && strcmp(k, CTL_LAST_APPLIED) &&
                                               json_is_string(v)) keys[n++] = k;
    if (n == 0) {
        ctl_tw_printf(tw, 0, "Annotations:\t<none>");
        return;
    }
    qsort(keys, n, sizeof keys[0], s_cmp_str);
    for (size_t i = 0; i < n; i++) {
        char *val = strdup(json_string_value(json_object_get(m, keys[i])));
        size_t len = strlen(val);
        if (len && val[len - 1] == '\n')
            val[--len] = 0;
        const char *title = i ? "" : "Annotations:";
        if (len + strlen(keys[i]) + 2 > 140 || strchr(val, '\n')) {
            ctl_tw_printf(tw, 0, "%s\t%s:", title, keys[i]);
            for (char *save = NULL, *l = strtok_r(val, "\n", &save); l;
                 l = strtok_r(NULL, "\n", &save))
                ctl_tw_printf(tw, 0, "\t  %.138s", l);
        } else {
            ctl_tw_printf(tw, 0, "%s\t%s: %s", title, keys[i], val);
        }
        free(val);
    }
}

void ctl_desc_annotations(ctl_tw_t *tw, const json_t *o)
{
    s_annotations(tw, proto_obj_get(o, "metadata.annotations"));
}

void ctl_desc_labels_annots(ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_map(tw, 0, "Labels:", proto_obj_get(o, "metadata.labels"));
    s_annotations(tw, proto_obj_get(o, "metadata.annotations"));
}

/* ---- events -------------------------------------------------------------- */

static int s_cmp_events(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *tx = proto_obj_str(x, "lastTimestamp"), *ty = proto_obj_str(y, "lastTimestamp");
    if (!tx)
        tx = proto_obj_str(x, "eventTime");
    if (!ty)
        ty = proto_obj_str(y, "eventTime");
    return strcmp(tx ? tx : "", ty ? ty : "");
}

static void s_event_row(ctl_tw_t *tw, const json_t *e)
{
    char age[32], first[32], buf[96];
    const char *last = proto_obj_str(e, "lastTimestamp");
    if (!last)
        last = proto_obj_str(e, "eventTime");
    ctl_desc_age(last, age);
    long count = (long)proto_obj_int(e, "count", 1);
    if (count > 1) {
        ctl_desc_age(proto_obj_str(e, "firstTimestamp"), first);
        snprintf(buf, sizeof buf, "%s (x%ld over %s)", age, count, first);
    } else {
        snprintf(buf, sizeof buf, "%s", age);
    }
    const char *from = proto_obj_str(e, "source.component");
    if (!from || !*from)
        from = proto_obj_str(e, "reportingComponent");
    const char *msg = proto_obj_str(e, "message");
    char m[1024];
    snprintf(m, sizeof m, "%s", msg ? msg : "");
    for (size_t i = strlen(m); i > 0 && isspace((unsigned char)m[i - 1]); i--)
        m[i - 1] = 0;
    ctl_tw_printf(tw, 1, "%s\t%s\t%s\t%s\t%s",
                  proto_obj_str(e, "type") ? proto_obj_str(e, "type") : "",
                  proto_obj_str(e, "reason") ? proto_obj_str(e, "reason") : "", buf,
                  from ? from : "", m);
}

void ctl_desc_events(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    char fs[1024];
    const char *ns = proto_obj_ns(o), *uid = proto_obj_uid(o);
    size_t len = (size_t)snprintf(fs, sizeof fs, "involvedObject.name=%s",
                                  proto_obj_name(o) ? proto_obj_name(o) : "");
    if (ns && *ns)
        len += (size_t)snprintf(fs + len, sizeof fs - len, ",involvedObject.namespace=%s", ns);
    if (uid && len < sizeof fs)
        snprintf(fs + len, sizeof fs - len, ",involvedObject.uid=%s", uid);
    json_t *b = json_pack("{s:s, s:s, s:s}", "resource", "events", "namespace", ns ? ns : "",
                          "fieldSelector", fs),
           *rep = NULL;
    int code = ctl_call(c, "list", b, &rep);
    json_decref(b);
    json_t *items = code < 300 ? json_object_get(rep, "items") : NULL;
    size_t n = json_array_size(items);
    if (n == 0) {
        ctl_tw_printf(tw, 0, "Events:\t<none>");
        json_decref(rep);
        return;
    }
    json_t **ev = calloc(n, sizeof *ev);
    if (!ev)
        abort();
    for (size_t i = 0; i < n; i++)
        ev[i] = json_array_get(items, i);
    qsort(ev, n, sizeof *ev, s_cmp_events);
    ctl_tw_printf(tw, 0, "Events:");
    ctl_tw_printf(tw, 1, "Type\tReason\tAge\tFrom\tMessage");
    ctl_tw_printf(tw, 1, "----\t------\t----\t----\t-------");
    for (size_t i = 0; i < n; i++)
        s_event_row(tw, ev[i]);
    free(ev);
    json_decref(rep);
}

/* ---- generic layout ------------------------------------------------------ */

/* camelcase.Split's classes: a run ends where the class changes. */
static int s_class(char ch)
{
    return islower((unsigned char)ch) ? 1 : isupper((unsigned char)ch) ? 2 : 3;
}

/* kubectl's smartLabelFor: "apiVersion" -> "API Version", "podIP" -> "Pod
 * IP"; a field with characters other than letters and '-' stays as is. */
static const char *s_smart_label(const char *k, char *buf, size_t n)
{
    static const char *const acronyms[] = {"API", "URL", "UID", "OSB", "GUID"};
    for (const char *p = k; *p; p++)
        if (!isalpha((unsigned char)*p) && *p != '-')
            return k;
    size_t j = 0, len = strlen(k);
    for (size_t i = 0; i < len && j + 2 < n;) {
        size_t e = i + 1;
        while (e < len && s_class(k[e]) == s_class(k[i]))
            e++;
        /* a capital before lower case starts a word: "HTTPServer", "apiVersion" */
        if (s_class(k[i]) == 2 && e < len && s_class(k[e]) == 1) {
            if (e - i > 1)
                e--;
            else
                while (e < len && s_class(k[e]) == 1)
                    e++;
        }
        char part[128];
        size_t pl = e - i < sizeof part - 1 ? e - i : sizeof part - 1, a = 0;
        for (size_t x = 0; x < pl; x++)
            part[x] = (char)toupper((unsigned char)k[i + x]);
        part[pl] = 0;
        while (a < sizeof acronyms / sizeof acronyms[0] && strcmp(part, acronyms[a]))
            a++;
        if (a == sizeof acronyms / sizeof acronyms[0]) { /* strings.Title */
            memcpy(part, k + i, pl);
            part[0] = (char)toupper((unsigned char)part[0]);
        }
        j += (size_t)snprintf(buf + j, n - j, "%s%s", j ? " " : "", part);
        i = e;
    }
    return buf;
}

static void s_generic_value(ctl_tw_t *tw, int lvl, const char *label, const json_t *v,
                            const char *path);

static int s_cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fields in sorted order, minus what the header already showed. */
static void s_generic_map(ctl_tw_t *tw, int lvl, const json_t *m, const char *path)
{
    static const char *const skip[] = {".metadata.name", ".metadata.namespace",
                                       ".metadata.labels", ".metadata.annotations",
                                       ".metadata.managedFields"};
    size_t n = json_object_size(m), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    if (!keys)
        abort();
    json_object_foreach((json_t *)m, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, s_cmp_keys);
    for (i = 0; i < n; i++) {
        char sub[512], lab[256];
        snprintf(sub, sizeof sub, "%s.%s", path, keys[i]);
        size_t s = 0;
        while (s < sizeof skip / sizeof skip[0] && strcmp(sub, skip[s]))
            s++;
        if (s == sizeof skip / sizeof skip[0])
            s_generic_value(tw, lvl, s_smart_label(keys[i], lab, sizeof lab),
                            json_object_get(m, keys[i]), sub);
    }
    free(keys);
}

/* A scalar as Go's %v prints what encoding/json decoded. */
static char *s_scalar(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_null(v))
        return strdup("<nil>");
    if (json_is_real(v)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%g", json_real_value(v));
        return strdup(buf);
    }
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static void s_generic_value(ctl_tw_t *tw, int lvl, const char *label, const json_t *v,
                            const char *path)
{
    if (lvl > 20)
        return;
    if (json_is_object(v)) {
        ctl_tw_printf(tw, lvl, "%s:", label);
        s_generic_map(tw, lvl + 1, v, path);
    } else if (json_is_array(v)) {
        ctl_tw_printf(tw, lvl, "%s:", label);
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it)
        {
            if (json_is_object(it))
                s_generic_map(tw, lvl + 1, it, path);
            else
                s_generic_value(tw, lvl + 1, "", it, path);
        }
    } else {
        char *s = s_scalar(v);
        if (*label)
            ctl_tw_printf(tw, lvl, "%s:\t%s", label, s ? s : "");
        else
            ctl_tw_printf(tw, lvl, "%s", s ? s : "");
        free(s);
    }
}

/* kubectl's generic describer: the header, then every field, sorted. */
static void s_describe_generic(ctl_t *c, ctl_tw_t *tw, const json_t *o, const proto_kind_t *k)
{
    ctl_desc_meta(tw, o, true);
    ctl_desc_labels_annots(tw, o);
    s_generic_map(tw, 0, o, "");
    ctl_desc_events(c, tw, o);
}

/* ---- command --------------------------------------------------------------- */

static void s_desc_rc(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_rc(c, tw, o, proto_kind_find("replicationcontrollers"));
}

static void s_desc_rs(ctl_t *c, ctl_tw_t *tw, const json_t *o)
{
    ctl_desc_rc(c, tw, o, proto_kind_find("replicasets"));
}

/* kubectl's describers by kind; any other kind gets the generic layout. */
static const struct {
    const char *kind;
    void (*fn)(ctl_t *c, ctl_tw_t *tw, const json_t *o);
} s_describers[] = {
    {"Pod", ctl_desc_pod},
    {"ReplicationController", s_desc_rc},
    {"ReplicaSet", s_desc_rs},
    {"Service", ctl_desc_service},
    {"Node", ctl_desc_node},
    {"Namespace", ctl_desc_namespace},
    {"Job", ctl_desc_job},
    {"CronJob", ctl_desc_cronjob},
    {"Deployment", ctl_desc_deployment},
    {"DaemonSet", ctl_desc_daemonset},
    {"Endpoints", ctl_desc_endpoints},
    {"Ingress", ctl_desc_ingress},
    {"ConfigMap", ctl_desc_configmap},
    {"Secret", ctl_desc_secret},
};

static void s_describe_obj(ctl_t *c, const proto_kind_t *k, const json_t *o)
{
    ctl_tw_t *tw = ctl_tw_new(0, 2);
    size_t i = 0, n = sizeof s_describers / sizeof s_describers[0];
    while (i < n && strcmp(k->kind, s_describers[i].kind))
        i++;
    if (i < n)
        s_describers[i].fn(c, tw, o);
    else
        s_describe_generic(c, tw, o, k);
    ctl_tw_flush(&tw, stdout);
}

static int s_describe_target(ctl_t *c, const ctl_target_t *t, bool *first)
{
    json_t *b = ctl_body(t->kind, ctl_ns_for(c, t->kind), NULL), *rep = NULL;
    int rc = 0;
    if (t->nnames == 0 && c->args->selector)
        json_object_set_new(b, "labelSelector", json_string(c->args->selector));
    for (int i = 0; i < (t->nnames ? t->nnames : 1); i++) {
        if (t->nnames)
            json_object_set_new(b, "name", json_string(t->names[i]));
        int code = ctl_call(c, t->nnames ? "get" : "list", b, &rep);
        if (code >= 300) {
            ctl_print_status(rep, NULL);
            rc = 1;
        } else {
            json_t *items = t->nnames ? json_pack("[O]", rep)
                                      : json_incref(json_object_get(rep, "items"));
            size_t j;
            json_t *o;
            json_array_foreach(items, j, o)
            {
                if (!*first)
                    fputs("\n\n", stdout);
                *first = false;
                s_describe_obj(c, t->kind, o);
            }
            json_decref(items);
        }
        json_decref(rep);
        rep = NULL;
    }
    json_decref(b);
    return rc;
}

int ctl_cmd_describe(ctl_t *c)
{
    ctl_target_t t[CTL_MAX_TARGETS];
    int nt = 0, rc = 0;
    char err[CTL_ERR];
    if (c->args->npos == 0) {
        fprintf(stderr, "error: You must specify the type of resource to describe. Use "
                        "\"kubectl api-resources\" for a complete list of supported "
                        "resources.\n");
        return 1;
    }
    if (ctl_targets_parse(c->args->pos, c->args->npos, t, CTL_MAX_TARGETS, &nt, NULL, err,
                          sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    bool first = true;
    for (int i = 0; i < nt; i++)
        rc |= s_describe_target(c, &t[i], &first);
    if (first && !rc) {
        if (c->args->all_ns || !t[0].kind->namespaced)
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n", c->ns);
    }
    return rc;
}
