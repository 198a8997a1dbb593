/*
 * protocol/table — assembles meta.k8s.io/v1 Tables from a kind's printer
 * (table_cols.c), renders them as kubectl's table printer does (Go's
 * tabwriter: minimum width 6, padding 3), and holds the formatting the
 * printers share: ages (duration.HumanDuration), labels, label selectors.
 */
#include "protocol/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/table_int.h"

const char proto_table_desc_name[] =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const char proto_table_desc_age[] =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";

/* ---- durations ----------------------------------------------------------- */

void proto_human_duration(int64_t s, char buf[32])
{
    if (s < -1) {
        snprintf(buf, 32, "<invalid>");
        return;
    }
    if (s < 0)
        s = 0;
    int64_t m = s / 60, h = s / 3600, d = h / 24;
    if (s < 120)
        snprintf(buf, 32, "%llds", (long long)s);
    else if (m < 10)
        snprintf(buf, 32, s % 60 ? "%lldm%llds" : "%lldm", (long long)m, (long long)(s % 60));
    else if (m < 180)
        snprintf(buf, 32, "%lldm", (long long)m);
    else if (h < 8)
        snprintf(buf, 32, m % 60 ? "%lldh%lldm" : "%lldh", (long long)h, (long long)(m % 60));
    else if (h < 48)
        snprintf(buf, 32, "%lldh", (long long)h);
    else if (h < 24 * 8)
        snprintf(buf, 32, h % 24 ? "%lldd%lldh" : "%lldd", (long long)d, (long long)(h % 24));
    else if (h < 24 * 365 * 2)
        snprintf(buf, 32, "%lldd", (long long)d);
    else if (h < 24 * 365 * 8)
        snprintf(buf, 32, d % 365 ? "%lldy%lldd" : "%lldy", (long long)(d / 365),
                 (long long)(d % 365));
    else
        snprintf(buf, 32, "%lldy", (long long)(d / 365));
}

json_t *proto_table_age(const char *rfc3339, int64_t now)
{
    int64_t t = rfc3339 ? proto_parse_time(rfc3339) : -1;
    if (t < 0)
        return json_string("<unknown>");
    char buf[32];
    proto_human_duration(now - t, buf);
    return json_string(buf);
}

/* ---- shared formatting ---------------------------------------------------- */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t s_cap(size_t n)
{
    size_t c = 1;
    while (c < n)
        c <<= 1;
    return c;
}

/*
 * Appends s to a growing string that started as strdup(""): its capacity is
 * the power of two above its length, so appends cost amortised O(1).
 */
static void s_cat(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (s_cap(*len + 1) < *len + n + 1) {
        char *nb = realloc(*buf, s_cap(*len + n + 1));
        if (!nb)
            abort();
        *buf = nb;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

char *proto_table_labels(const json_t *map)
{
    size_t n = json_object_size(map), i = 0, len = 0;
    if (!json_is_object(map) || n == 0)
        return strdup("<none>");
    const char **keys = calloc(n, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof *keys, s_cmp_str);
    char *out = strdup("");
    for (i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(map, keys[i]));
        s_cat(&out, &len, i ? "," : "");
        s_cat(&out, &len, keys[i]);
        s_cat(&out, &len, "=");
        s_cat(&out, &len, val ? val : "");
    }
    free(keys);
    return out;
}

/* One requirement of a label selector as labels.Requirement.String(). */
static char *s_requirement(const json_t *expr)
{
    const char *key = json_string_value(json_object_get(expr, "key"));
    const char *op = json_string_value(json_object_get(expr, "operator"));
    char *out = NULL;
    size_t len = 0;
    if (!key || !op)
        return strdup("<error>");
    if (strcmp(op, "Exists") == 0)
        return strdup(key);
    if (strcmp(op, "DoesNotExist") == 0) {
        if (asprintf(&out, "!%s", key) < 0)
            abort();
        return out;
    }
    json_t *vals = json_object_get(expr, "values");
    size_t n = json_array_size(vals);
    const char **sv = calloc(n ? n : 1, sizeof *sv);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(vals, i));
        sv[i] = s ? s : "";
    }
    qsort(sv, n, sizeof *sv, s_cmp_str);
    out = strdup("");
    s_cat(&out, &len, key);
    s_cat(&out, &len, strcmp(op, "NotIn") == 0 ? " notin (" : " in (");
    for (size_t i = 0; i < n; i++) {
        s_cat(&out, &len, i ? "," : "");
        s_cat(&out, &len, sv[i]);
    }
    s_cat(&out, &len, ")");
    free(sv);
    return out;
}

typedef struct s_req {
    const char *key;
    char *text;
} s_req_t;

static int s_cmp_req(const void *a, const void *b)
{
    return strcmp(((const s_req_t *)a)->key, ((const s_req_t *)b)->key);
}

char *proto_table_selector(const json_t *sel)
{
    json_t *ml = json_object_get(sel, "matchLabels"),
           *me = json_object_get(sel, "matchExpressions");
    size_t n = json_object_size(ml) + json_array_size(me), i = 0, len = 0;
    if (n == 0)
        return strdup("<none>");
    s_req_t *reqs = calloc(n, sizeof *reqs);
    const char *k;
    json_t *v;
    json_object_foreach(ml, k, v)
    {
        reqs[i].key = k;
        if (asprintf(&reqs[i++].text, "%s=%s", k,
                     json_string_value(v) ? json_string_value(v) : "") < 0)
            abort();
    }
    size_t j;
    json_array_foreach(me, j, v)
    {
        const char *key = json_string_value(json_object_get(v, "key"));
        reqs[i].key = key ? key : "";
        reqs[i++].text = s_requirement(v);
    }
    qsort(reqs, n, sizeof *reqs, s_cmp_req);
    char *out = strdup("");
    for (i = 0; i < n; i++) {
        s_cat(&out, &len, i ? "," : "");
        s_cat(&out, &len, reqs[i].text);
        free(reqs[i].text);
    }
    free(reqs);
    return out;
}

char *proto_table_join(const json_t *array, const char *field, const char *sep)
{
    char *out = strdup("");
    size_t len = 0, i, n = 0;
    json_t *m;
    json_array_foreach(array, i, m)
    {
        const char *s = json_string_value(field ? json_object_get(m, field) : m);
        s_cat(&out, &len, n++ ? sep : "");
        s_cat(&out, &len, s ? s : "");
    }
    return out;
}

void proto_table_cell_str(json_t *cells, const char *s)
{
    json_array_append_new(cells, json_string(s ? s : ""));
}

void proto_table_cell_own(json_t *cells, char *s)
{
    proto_table_cell_str(cells, s);
    free(s);
}

void proto_table_cell_int(json_t *cells, int64_t v)
{
    json_array_append_new(cells, json_integer((json_int_t)v));
}

/* ---- building ------------------------------------------------------------- */

static json_t *s_columns(const proto_table_printer_t *p)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < p->ncols; i++) {
        const proto_table_col_t *c = &p->cols[i];
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name, "type",
                                              c->type, "format", c->format, "description", c->desc,
                                              "priority", c->priority));
    }
    return cols;
}

static json_t *s_row_object(const json_t *obj, bool include_object)
{
    if (include_object)
        return json_deep_copy(obj);
    json_t *meta = json_object_get(obj, "metadata");
    return json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                     "meta.k8s.io/v1", "metadata",
                     json_is_object(meta) ? json_deep_copy(meta) : json_object());
}

json_t *proto_table_build(const proto_kind_t *k, const json_t *items, int64_t now,
                          bool include_object)
{
    const proto_table_printer_t *p = proto_table_printer(k ? k->resource : "");
    json_t *rows = json_array();
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj)
    {
        if (!json_is_object(obj))
            continue;
        json_t *cells = json_array();
        p->row(obj, now, cells);
        json_array_append_new(rows, json_pack("{s:o, s:o}", "cells", cells, "object",
                                              s_row_object(obj, include_object)));
    }
    return json_pack("{s:s, s:s, s:{}, s:o, s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                     "metadata", "columnDefinitions", s_columns(p), "rows", rows);
}

/* ---- rendering -------------------------------------------------------------- */

typedef struct s_grid {
    char ***lines; /* lines[i][j] */
    size_t *ncells;
    size_t nlines, cap;
} s_grid_t;

static void s_grid_add(s_grid_t *g, char **cells, size_t n)
{
    if (g->nlines == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->lines = realloc(g->lines, g->cap * sizeof *g->lines);
        g->ncells = realloc(g->ncells, g->cap * sizeof *g->ncells);
        if (!g->lines || !g->ncells)
            abort();
    }
    g->lines[g->nlines] = cells;
    g->ncells[g->nlines++] = n;
}

/* kubectl's EscapeTerminal: ESC as "^[", CR as "\\r"; frees in. */
static char *s_escape(char *in)
{
    size_t len = 0;
    char *out = strdup("");
    for (const char *p = in; *p; p++) {
        char one[2] = {*p, 0};
        s_cat(&out, &len, *p == '\x1b' ? "^[" : *p == '\r' ? "\\r" : one);
    }
    free(in);
    return out;
}

/* A cell as kubectl prints it: strings cut at the first line break ("..."). */
static char *s_cell_text(const json_t *c)
{
    char *out = NULL;
    if (json_is_string(c)) {
        const char *s = json_string_value(c);
        size_t cut = strcspn(s, "\f\n\r");
        if (asprintf(&out, "%.*s%s", (int)cut, s, s[cut] ? "..." : "") < 0)
            abort();
    } else if (json_is_integer(c)) {
        if (asprintf(&out, "%lld", (long long)json_integer_value(c)) < 0)
            abort();
    } else if (json_is_real(c)) {
        if (asprintf(&out, "%g", json_real_value(c)) < 0)
            abort();
    } else if (json_is_boolean(c)) {
        out = strdup(json_is_true(c) ? "true" : "false");
    } else if (c && !json_is_null(c)) {
        out = json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);
    } else {
        out = strdup("");
    }
    return s_escape(out);
}

static size_t s_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Go's text/tabwriter with kubectl's settings: minwidth 6, padding 3, spaces. */
static char *s_tabwrite(const s_grid_t *g)
{
    size_t maxc = 0, len = 0;
    for (size_t i = 0; i < g->nlines; i++)
        maxc = g->ncells[i] > maxc ? g->ncells[i] : maxc;
    size_t *w = calloc(maxc ? maxc : 1, sizeof *w);
    for (size_t i = 0; i < g->nlines; i++)
        for (size_t j = 0; j + 1 < g->ncells[i]; j++) {
            size_t cw = s_width(g->lines[i][j]) + 3;
            w[j] = cw > w[j] ? cw : w[j];
        }
    char *out = strdup("");
    for (size_t i = 0; i < g->nlines; i++) {
        for (size_t j = 0; j < g->ncells[i]; j++) {
            s_cat(&out, &len, g->lines[i][j]);
            if (j + 1 == g->ncells[i])
                break;
            size_t pad = (w[j] < 6 ? 6 : w[j]) - s_width(g->lines[i][j]);
            for (size_t k = 0; k < pad; k++)
                s_cat(&out, &len, " ");
        }
        s_cat(&out, &len, "\n");
    }
    free(w);
    return out;
}

static char *s_upper(const char *s)
{
    char *u = strdup(s ? s : "");
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

static bool s_visible(const json_t *col, const proto_table_opts_t *o)
{
    return o->wide || json_integer_value(json_object_get(col, "priority")) == 0;
}

static void s_header(s_grid_t *g, const json_t *cols, const proto_table_opts_t *o)
{
    size_t n = 0, i;
    char **cells = calloc(json_array_size(cols) + 2, sizeof *cells);
    json_t *c;
    if (o->with_namespace)
        cells[n++] = strdup("NAMESPACE");
    json_array_foreach(cols, i, c)
    {
        if (s_visible(c, o))
            cells[n++] = s_upper(json_string_value(json_object_get(c, "name")));
    }
    if (o->show_labels)
        cells[n++] = strdup("LABELS");
    s_grid_add(g, cells, n);
}

/* Index of the column kubectl prefixes with "kind/" (format name, type string). */
static long s_name_column(const json_t *cols)
{
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
    {
        const char *f = json_string_value(json_object_get(c, "format"));
        const char *t = json_string_value(json_object_get(c, "type"));
        if (f && t && strcmp(f, "name") == 0 && strcmp(t, "string") == 0)
            return (long)i;
    }
    return -1;
}

static void s_row(s_grid_t *g, const json_t *row, const json_t *cols, long namecol,
                  const proto_table_opts_t *o)
{
    json_t *rcells = json_object_get(row, "cells"), *c;
    json_t *meta = json_object_get(json_object_get(row, "object"), "metadata");
    size_t n = 0, i;
    char **cells = calloc(json_array_size(cols) + 2, sizeof *cells);
    if (o->with_namespace) {
        const char *ns = json_string_value(json_object_get(meta, "namespace"));
        cells[n++] = strdup(ns ? ns : "");
    }
    bool decorated = o->with_namespace || o->show_labels; /* kubectl pads short rows then */
    json_array_foreach(cols, i, c)
    {
        if (i >= json_array_size(rcells) && !decorated)
            break; /* kubectl prints only the cells a row has */
        if (!s_visible(c, o))
            continue;
        char *t = s_cell_text(json_array_get(rcells, i));
        if ((long)i == namecol && o->show_kind && o->kind_prefix && *o->kind_prefix) {
            char *k = NULL;
            if (asprintf(&k, "%s/%s", o->kind_prefix, t) < 0)
                abort();
            free(t);
            t = k;
        }
        cells[n++] = t;
    }
    if (o->show_labels)
        cells[n++] = proto_table_labels(json_object_get(meta, "labels"));
    s_grid_add(g, cells, n);
}

char *proto_table_render(const json_t *table, const proto_table_opts_t *o)
{
    static const proto_table_opts_t none = {0};
    json_t *cols = json_object_get(table, "columnDefinitions");
    json_t *rows = json_object_get(table, "rows"), *row;
    s_grid_t g = {0};
    size_t i;
    o = o ? o : &none;
    if (json_array_size(rows) == 0)
        return strdup(""); /* kubectl prints no header without rows */
    if (!o->no_headers)
        s_header(&g, cols, o);
    long namecol = s_name_column(cols);
    json_array_foreach(rows, i, row)
    {
        s_row(&g, row, cols, namecol, o);
    }
    char *out = s_tabwrite(&g);
    for (i = 0; i < g.nlines; i++) {
        for (size_t j = 0; j < g.ncells[i]; j++)
            free(g.lines[i][j]);
        free(g.lines[i]);
    }
    free(g.lines);
    free(g.ncells);
    return out;
}
