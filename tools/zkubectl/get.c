/*
 * tools/zkubectl/get.c — `zkubectl get`: tables rendered from the
 * apiserver's server-side Tables (as kubectl does), -o json|yaml|name|
 * jsonpath|custom-columns from the objects, and -w/--watch-only over the
 * event bus: subscribe first, list, then print only events newer than the
 * list's revision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/obj.h"
#include "protocol/selector.h"
#include "protocol/status.h"
#include "protocol/table.h"
#include "runtime/actor.h"
#include "tools/zkubectl/ctl.h"

static bool s_table_mode(const ctl_args_t *a)
{
    return a->out == CTL_OUT_TABLE || a->out == CTL_OUT_WIDE;
}

/* Common list/get body: selectors, table request. */
static json_t *s_req(const ctl_t *c, const proto_kind_t *k, const char *name, bool table)
{
    json_t *b = ctl_body(k, ctl_ns_for(c, k), name);
    if (!name && c->args->selector)
        json_object_set_new(b, "labelSelector", json_string(c->args->selector));
    if (!name && c->args->field_selector)
        json_object_set_new(b, "fieldSelector", json_string(c->args->field_selector));
    if (table) {
        json_object_set_new(b, "as", json_string("Table"));
        if (c->args->out == CTL_OUT_WIDE)
            json_object_set_new(b, "wide", json_true());
    }
    return b;
}

uint64_t ctl_rv_of(const json_t *list)
{
    const json_t *rv = proto_obj_get(list, "metadata.resourceVersion");
    if (json_is_integer(rv))
        return (uint64_t)json_integer_value(rv);
    return json_is_string(rv) ? strtoull(json_string_value(rv), NULL, 10) : 0;
}

/* Fetches the Table (or list) of one target: a list, or one get per name
 * whose rows are merged. Errors are printed; *failed set. */
static json_t *s_fetch(ctl_t *c, const ctl_target_t *t, bool table, bool *failed)
{
    json_t *acc = NULL, *rep = NULL;
    if (t->nnames == 0) {
        json_t *b = s_req(c, t->kind, NULL, table);
        int code = ctl_call(c, "list", b, &rep);
        json_decref(b);
        if (code >= 300) {
            ctl_list_error_context(rep, code, t->kind, c->args);
            ctl_print_status(rep, NULL);
            json_decref(rep);
            *failed = true;
            return NULL;
        }
        if (!table)
            ctl_fix_items(json_object_get(rep, "items"), t->kind);
        return rep;
    }
    for (int i = 0; i < t->nnames; i++) {
        json_t *b = s_req(c, t->kind, t->names[i], table);
        int code = ctl_call(c, "get", b, &rep);
        json_decref(b);
        if (code >= 300) {
            ctl_print_status(rep, NULL);
            *failed = true;
        } else if (table) {
            if (!acc)
                acc = json_incref(rep);
            else if (json_is_array(json_object_get(rep, "rows")))
                json_array_extend(json_object_get(acc, "rows"), json_object_get(rep, "rows"));
        } else {
            if (!acc)
                acc = json_pack("{s:[]}", "items");
            json_t *one = json_array();
            json_array_append(one, rep);
            ctl_fix_items(one, t->kind);
            json_array_extend(json_object_get(acc, "items"), one);
            json_decref(one);
        }
        json_decref(rep);
        rep = NULL;
    }
    return acc;
}

static void s_no_resources(const ctl_t *c, const ctl_target_t *t, int nt)
{
    bool namespaced = false;
    for (int i = 0; i < nt; i++)
        namespaced |= t[i].kind->namespaced;
    if (c->args->all_ns || !namespaced)
        fprintf(stderr, "No resources found\n");
    else
        fprintf(stderr, "No resources found in %s namespace.\n", c->ns);
}

static void s_table_opts(const ctl_t *c, const proto_kind_t *k, bool several, char *pre,
                         size_t n, proto_table_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->wide = c->args->out == CTL_OUT_WIDE;
    o->no_headers = c->args->no_headers;
    o->show_labels = c->args->show_labels;
    o->show_kind = several;
    o->with_namespace = c->args->all_ns && k->namespaced;
    o->kind_prefix = ctl_kind_prefix(k, pre, n);
}

/* kubectl prefixes names with their kind when what it got back (a table
 * per listed kind, an object per name found) holds more than one kind. */
static bool s_several_kinds(const ctl_target_t *t, json_t *const *tabs, int nt)
{
    for (int i = 0; i < nt; i++)
        for (int j = i + 1; tabs[i] && j < nt; j++)
            if (tabs[j] && t[j].kind != t[i].kind)
                return true;
    return false;
}

static int s_get_tables(ctl_t *c, const ctl_target_t *t, int nt)
{
    bool failed = false, any_names = false;
    size_t shown = 0;
    json_t *tabs[CTL_MAX_TARGETS] = {NULL};
    for (int i = 0; i < nt && i < CTL_MAX_TARGETS; i++)
        tabs[i] = s_fetch(c, &t[i], true, &failed);
    bool several = s_several_kinds(t, tabs, nt);
    for (int i = 0; i < nt && i < CTL_MAX_TARGETS; i++) {
        any_names |= t[i].nnames > 0;
        json_t *tab = tabs[i];
        size_t rows = json_array_size(json_object_get(tab, "rows"));
        if (rows > 0) {
            char pre[128];
            proto_table_opts_t o;
            s_table_opts(c, t[i].kind, several, pre, sizeof pre, &o);
            char *s = proto_table_render(tab, &o);
            if (shown > 0)
                fputc('\n', stdout);
            fputs(s ? s : "", stdout);
            free(s);
        }
        shown += rows;
        json_decref(tab);
    }
    if (shown == 0 && !any_names && !failed)
        s_no_resources(c, t, nt);
    return failed;
}

static int s_get_objects(ctl_t *c, const ctl_target_t *t, int nt, bool several)
{
    bool failed = false;
    json_t *items = json_array();
    for (int i = 0; i < nt; i++) {
        json_t *l = s_fetch(c, &t[i], false, &failed);
        json_array_extend(items, json_object_get(l, "items"));
        json_decref(l);
    }
    bool single = nt == 1 && t[0].nnames == 1 && !several;
    int rc = 0;
    /* kubectl prints nothing at all for -o name of an empty list */
    if (json_array_size(items) == 0 && (single || c->args->out == CTL_OUT_NAME))
        rc = 0;
    else
        rc = ctl_print_objects(c->args, items, !single);
    json_decref(items);
    return failed || rc;
}

/* ---- watch --------------------------------------------------------------- */

typedef struct s_watch {
    ctl_t *c;
    const ctl_target_t *t;
    uint64_t rev;
    proto_sel_t *sel;
    proto_fsel_t *fsel;
    json_t *acc; /* table mode: the rows printed so far */
} s_watch_t;

static bool s_watch_wants(const s_watch_t *w, const json_t *obj)
{
    if (w->sel && !proto_sel_match(w->sel, proto_obj_labels(obj)))
        return false;
    if (w->fsel && !proto_fsel_match(w->fsel, obj))
        return false;
    if (w->t->nnames == 0)
        return true;
    for (int i = 0; i < w->t->nnames; i++)
        if (proto_obj_name(obj) && !strcmp(proto_obj_name(obj), w->t->names[i]))
            return true;
    return false;
}

/* Prints the last line of text (the newest row). */
static void s_print_last_line(const char *s, bool with_header)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '\n')
        n--;
    const char *start = s + n;
    while (start > s && start[-1] != '\n')
        start--;
    if (with_header && start > s) /* header and row, both new */
        start = s;
    fwrite(start, 1, (size_t)(s + n - start), stdout);
    fputc('\n', stdout);
}

/*
 * kubectl's watch rows keep the columns of what was printed before (its
 * tabwriter remembers widths): the rows so far are kept in w->acc, the
 * whole table is rendered and only its newest line is printed.
 */
static void s_watch_row(s_watch_t *w, json_t *one)
{
    char pre[128];
    proto_table_opts_t o;
    s_table_opts(w->c, w->t->kind, false, pre, sizeof pre, &o);
    json_t *tab = proto_table_build(w->t->kind, one, (int64_t)time(NULL), false);
    bool first = !w->acc;
    if (first)
        w->acc = json_incref(tab);
    else
        json_array_extend(json_object_get(w->acc, "rows"), json_object_get(tab, "rows"));
    char *s = proto_table_render(w->acc, &o);
    if (s)
        s_print_last_line(s, first && !o.no_headers);
    free(s);
    json_decref(tab);
}

static void s_watch_print(s_watch_t *w, const json_t *obj)
{
    json_t *one = json_array();
    json_array_append(one, (json_t *)obj);
    if (s_table_mode(w->c->args)) {
        s_watch_row(w, one);
    } else {
        ctl_fix_items(one, w->t->kind);
        ctl_print_objects(w->c->args, one, false);
    }
    json_decref(one);
    fflush(stdout);
}

static void s_on_event(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    s_watch_t *w = arg;
    const json_t *rev = json_object_get(env->body, "rev");
    const json_t *obj = json_object_get(env->body, "object");
    if (!json_is_integer(rev) || !json_is_object(obj))
        return;
    if ((uint64_t)json_integer_value(rev) <= w->rev || !s_watch_wants(w, obj))
        return;
    w->rev = (uint64_t)json_integer_value(rev);
    s_watch_print(w, obj);
}

static int s_watch(ctl_t *c, const ctl_target_t *t)
{
    s_watch_t w = {.c = c, .t = t};
    char topic[512], err[CTL_ERR] = "";
    const char *ns = ctl_ns_for(c, t->kind);
    snprintf(topic, sizeof topic, "%s/%s%s", t->kind->resource, ns, *ns ? "/" : "");
    if ((c->args->selector && proto_sel_parse(c->args->selector, &w.sel, err, sizeof err)) ||
        (c->args->field_selector &&
         proto_fsel_parse(c->args->field_selector, t->kind->resource, &w.fsel, err, sizeof err))) {
        fprintf(stderr, "error: %s\n", err);
        proto_sel_destroy(&w.sel);
        return 1;
    }
    rt_subscribe(c->actor, topic, s_on_event, &w);
    bool failed = false;
    bool table = s_table_mode(c->args);
    json_t *l = s_fetch(c, t, table && !c->args->watch_only, &failed);
    if (failed && !l) {
        proto_sel_destroy(&w.sel);
        proto_fsel_destroy(&w.fsel);
        return 1;
    }
    w.rev = ctl_rv_of(l);
    if (!c->args->watch_only && table && json_array_size(json_object_get(l, "rows"))) {
        char pre[128];
        proto_table_opts_t o;
        s_table_opts(c, t->kind, false, pre, sizeof pre, &o);
        char *s = proto_table_render(l, &o);
        fputs(s ? s : "", stdout);
        free(s);
        w.acc = json_incref(l);
    } else if (!c->args->watch_only && !table) {
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(l, "items"), i, it) s_watch_print(&w, it);
    }
    fflush(stdout);
    json_decref(l);
    rt_run(c->actor); /* until SIGINT / SIGTERM */
    proto_sel_destroy(&w.sel);
    proto_fsel_destroy(&w.fsel);
    json_decref(w.acc);
    return 0;
}

/* get -f FILE: the objects the manifests name, in their own namespace. */
static int s_get_files(ctl_t *c)
{
    json_t *docs = NULL;
    if (ctl_load_files(c->args, &docs))
        return 1;
    ctl_target_t t[CTL_MAX_TARGETS];
    int nt = 0, rc = 0;
    ctl_t c2 = *c;
    size_t i;
    json_t *e;
    json_array_foreach(docs, i, e)
    {
        json_t *doc = json_object_get(e, "doc");
        const char *file = json_string_value(json_object_get(e, "file")), *ns = "";
        const proto_kind_t *k = ctl_doc_kind(doc, file);
        if (!k || ctl_doc_ns(c, k, doc, &ns) || !proto_obj_name(doc)) {
            rc = 1;
            continue;
        }
        if (*ns)
            c2.ns = ns;
        int j = 0;
        while (j < nt && t[j].kind != k)
            j++;
        if (j == nt && nt < CTL_MAX_TARGETS)
            t[nt++] = (ctl_target_t){.kind = k};
        if (j < nt && t[j].nnames < CTL_MAX_ARGS)
            t[j].names[t[j].nnames++] = proto_obj_name(doc);
    }
    bool several = nt > 1;
    if (nt)
        rc |= s_table_mode(c->args) ? s_get_tables(&c2, t, nt)
                                    : s_get_objects(&c2, t, nt, several);
    json_decref(docs);
    return rc;
}

int ctl_cmd_get(ctl_t *c)
{
    const ctl_args_t *a = c->args;
    ctl_target_t t[CTL_MAX_TARGETS];
    int nt = 0;
    bool several = false;
    char err[CTL_ERR] = "";
    if (a->nfiles)
        return s_get_files(c);
    if (a->npos == 0) {
        fprintf(stderr, "You must specify the type of resource to get. Use \"kubectl "
                        "api-resources\" for a complete list of supported resources.\n\n"
                        "error: Required resource not specified.\nUse \"kubectl explain "
                        "<resource>\" for a detailed description of that resource (e.g. "
                        "kubectl explain pods).\nSee 'kubectl get -h' for help and examples\n");
        return 1;
    }
    if (ctl_targets_parse(a->pos, a->npos, t, CTL_MAX_TARGETS, &nt, &several, err,
                          sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    for (int i = 0; i < nt && a->all_ns; i++)
        if (t[i].nnames && t[i].kind->namespaced) {
            fprintf(stderr, "error: a resource cannot be retrieved by name across all "
                            "namespaces\n");
            return 1;
        }
    if (a->watch || a->watch_only) {
        if (nt != 1) {
            fprintf(stderr, "error: you may only specify a single resource type\n");
            return 1;
        }
        return s_watch(c, &t[0]);
    }
    return s_table_mode(a) ? s_get_tables(c, t, nt) : s_get_objects(c, t, nt, several);
}
