/*
 * tools/zkubectl/printers.c — output glue: -o json|yaml|name|jsonpath|
 * jsonpath-file|custom-columns over protocol/manifest and protocol/jsonpath,
 * kubectl's List wrapper, and a copy of Go's text/tabwriter layout (what
 * kubectl describe and custom-columns align with).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/jsonpath.h"
#include "protocol/manifest.h"
#include "protocol/obj.h"
#include "tools/zkubectl/ctl.h"

#define S_MAX_TEMPLATE (1u << 20)

/* ---- tabwriter ----------------------------------------------------------- */

struct ctl_tw {
    char **lines;
    size_t n, cap;
    int minwidth, padding;
};

ctl_tw_t *ctl_tw_new(int minwidth, int padding)
{
    ctl_tw_t *tw = calloc(1, sizeof *tw);
    if (!tw)
        abort();
    tw->minwidth = minwidth;
    tw->padding = padding;
    return tw;
}

static void s_tw_add(ctl_tw_t *tw, const char *s, size_t len)
{
    if (tw->n == tw->cap) {
        tw->cap = tw->cap ? tw->cap * 2 : 64;
        tw->lines = realloc(tw->lines, tw->cap * sizeof *tw->lines);
        if (!tw->lines)
            abort();
    }
    tw->lines[tw->n++] = strndup(s, len);
}

void ctl_tw_printf(ctl_tw_t *tw, int indent, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (rc < 0)
        abort();
    char *full = NULL;
    if (asprintf(&full, "%*s%s", indent * 2, "", text) < 0)
        abort();
    free(text);
    for (char *p = full;;) {
        char *nl = strchr(p, '\n');
        s_tw_add(tw, p, nl ? (size_t)(nl - p) : strlen(p));
        if (!nl || !nl[1])
            break;
        p = nl + 1;
    }
    free(full);
}

/* Number of tab-terminated cells of a line, and width of cell col. */
static int s_ncells(const char *l)
{
    int n = 0;
    for (; *l; l++)
        n += *l == '\t';
    return n;
}

static const char *s_cell(const char *l, int col, int *w, int *bytes)
{
    for (int i = 0; i < col; i++)
        l = strchr(l, '\t') + 1;
    const char *e = strchr(l, '\t');
    *bytes = e ? (int)(e - l) : (int)strlen(l);
    *w = 0;
    for (int i = 0; i < *bytes; i++)
        *w += ((unsigned char)l[i] & 0xC0) != 0x80;
    return l;
}

static void s_tw_write(ctl_tw_t *tw, FILE *f, const int *widths, int nw, size_t l0, size_t l1)
{
    for (size_t i = l0; i < l1; i++) {
        const char *l = tw->lines[i];
        int nc = s_ncells(l);
        for (int c = 0; c <= nc; c++) {
            int w, b;
            const char *cell = s_cell(l, c, &w, &b);
            fwrite(cell, 1, (size_t)b, f);
            if (c < nc && c < nw)
                fprintf(f, "%*s", widths[c] - w > 0 ? widths[c] - w : 0, "");
        }
        fputc('\n', f);
    }
}

/* Go's tabwriter.format: column blocks of consecutive lines. */
static size_t s_tw_format(ctl_tw_t *tw, FILE *f, int *widths, int col, size_t l0, size_t l1)
{
    for (size_t t = l0; t < l1; t++) {
        if (col >= s_ncells(tw->lines[t]) || col >= 64)
            continue;
        s_tw_write(tw, f, widths, col, l0, t);
        l0 = t;
        int width = tw->minwidth;
        for (; t < l1 && col < s_ncells(tw->lines[t]); t++) {
            int w, b;
            s_cell(tw->lines[t], col, &w, &b);
            if (w + tw->padding > width)
                width = w + tw->padding;
        }
        widths[col] = width;
        s_tw_format(tw, f, widths, col + 1, l0, t);
        l0 = t;
        t--; /* the loop's ++ resumes at the line that ended the block */
    }
    s_tw_write(tw, f, widths, col, l0, l1);
    return l1;
}

void ctl_tw_flush(ctl_tw_t **twp, FILE *f)
{
    ctl_tw_t *tw = *twp;
    if (!tw)
        return;
    int widths[64] = {0};
    s_tw_format(tw, f, widths, 0, 0, tw->n);
    for (size_t i = 0; i < tw->n; i++)
        free(tw->lines[i]);
    free(tw->lines);
    free(tw);
    *twp = NULL;
}

/* ---- object printers ----------------------------------------------------- */

void ctl_fix_items(json_t *items, const proto_kind_t *k)
{
    char av[64];
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (!json_object_get(it, "kind"))
            json_object_set_new(it, "kind", json_string(k->kind));
        if (!json_object_get(it, "apiVersion"))
            json_object_set_new(it, "apiVersion", json_string(proto_kind_api_version(k, av)));
    }
}

const char *ctl_obj_ref(const json_t *obj, char *buf, size_t n)
{
    const char *kind = proto_obj_kind(obj), *av = proto_obj_str(obj, "apiVersion");
    const proto_kind_t *k = kind ? proto_kind_by_kind(av ? av : "", kind) : NULL;
    if (!k && kind)
        k = proto_kind_find(kind);
    char pre[128];
    snprintf(buf, n, "%s/%s", k ? ctl_kind_prefix(k, pre, sizeof pre) : (kind ? kind : ""),
             proto_obj_name(obj) ? proto_obj_name(obj) : "");
    return buf;
}

static json_t *s_list(const json_t *items)
{
    return json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items", items, "kind",
                     "List", "metadata", "resourceVersion", "");
}

static char *s_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(S_MAX_TEMPLATE + 1);
    if (!buf)
        abort();
    size_t n = fread(buf, 1, S_MAX_TEMPLATE, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int s_print_jsonpath(const char *tmpl, const json_t *data)
{
    char err[CTL_ERR] = "";
    proto_jp_t *jp = NULL;
    char *out = NULL;
    if (proto_jp_compile(tmpl, &jp, err, sizeof err) != 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    int rc = proto_jp_exec(jp, data, 1, &out, err, sizeof err);
    proto_jp_destroy(&jp);
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    fputs(out, stdout);
    free(out);
    return 0;
}

/* custom-columns=HDR:.path,HDR2:{.path} */
static int s_print_custom(const ctl_args_t *a, const json_t *items)
{
    char *spec = strdup(a->out_arg), *save = NULL;
    const char *hdr[32];
    proto_jp_t *jps[32];
    int nc = 0, rc = 0;
    char err[CTL_ERR] = "", tmpl[1024];
    for (char *t = strtok_r(spec, ",", &save); t && nc < 32; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':');
        if (!colon) {
            fprintf(stderr, "error: expected <header>:<json-path-expr>, got %s\n", t);
            rc = 1;
            goto out;
        }
        *colon = 0;
        const char *p = colon + 1;
        if (p[0] == '{')
            snprintf(tmpl, sizeof tmpl, "%s", p);
        else
            snprintf(tmpl, sizeof tmpl, "{%s%s}", p[0] == '.' ? "" : ".", p);
        if (proto_jp_compile(tmpl, &jps[nc], err, sizeof err) != 0) {
            fprintf(stderr, "error: %s\n", err);
            rc = 1;
            goto out;
        }
        hdr[nc++] = t;
    }
    ctl_tw_t *tw = ctl_tw_new(6, 3); /* kubectl printers: minwidth 6, padding 3 */
    char line[8192];
    size_t len = 0;
    for (int i = 0; i < nc && !a->no_headers && len < sizeof line; i++)
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", hdr[i],
                                i + 1 < nc ? "\t" : "");
    if (!a->no_headers)
        ctl_tw_printf(tw, 0, "%s", line);
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        len = 0;
        for (int c = 0; c < nc && len < sizeof line; c++) {
            char *v = NULL;
            if (proto_jp_exec(jps[c], it, 1, &v, err, sizeof err) != 0 || !v || !*v) {
                free(v);
                v = strdup("<none>");
            }
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", v,
                                    c + 1 < nc ? "\t" : "");
            free(v);
        }
        ctl_tw_printf(tw, 0, "%s", line);
    }
    ctl_tw_flush(&tw, stdout);
out:
    for (int c = 0; c < nc; c++)
        proto_jp_destroy(&jps[c]);
    free(spec);
    return rc;
}

/* Copy of items without metadata.managedFields: kubectl hides them unless
 * --show-managed-fields. */
static json_t *s_omit_managed(const json_t *items)
{
    json_t *out = json_deep_copy(items);
    size_t i;
    json_t *it;
    json_array_foreach(out, i, it) json_object_del(json_object_get(it, "metadata"), "managedFields");
    return out;
}

int ctl_print_objects(const ctl_args_t *a, const json_t *all, bool list)
{
    char ref[512];
    int rc = 0;
    json_t *items = s_omit_managed(all);
    json_t *data = list ? s_list(items) : json_incref(json_array_get(items, 0));
    if (!data) {
        json_decref(items);
        return 0;
    }
    char *s = NULL;
    switch (a->out) {
    case CTL_OUT_JSON:
        s = proto_json_dump(data);
        break;
    case CTL_OUT_YAML:
        s = proto_yaml_dump(data);
        break;
    case CTL_OUT_NAME: {
        size_t i;
        const json_t *it;
        json_array_foreach(items, i, it) printf("%s\n", ctl_obj_ref(it, ref, sizeof ref));
        break;
    }
    case CTL_OUT_JSONPATH:
        rc = s_print_jsonpath(a->out_arg, data);
        break;
    case CTL_OUT_JSONPATH_FILE: {
        char *t = s_read_file(a->out_arg);
        if (!t) {
            fprintf(stderr, "error: error reading --template %s: %m\n", a->out_arg);
            rc = 1;
            break;
        }
        rc = s_print_jsonpath(t, data);
        free(t);
        break;
    }
    case CTL_OUT_CUSTOM:
        rc = s_print_custom(a, items);
        break;
    default:
        break;
    }
    if (s)
        fputs(s, stdout);
    free(s);
    json_decref(data);
    json_decref(items);
    return rc;
}
