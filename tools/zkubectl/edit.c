/*
 * tools/zkubectl/edit.c — the verbs that change parts of live objects:
 * `label` and `annotate` (k=v, k-, --overwrite, -l, --all), `scale`
 * (the scale subresource, --current-replicas precondition) and `patch`
 * (-p with --type merge|json|strategic), with kubectl's messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/manifest.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "tools/zkubectl/ctl.h"

/* Positional arguments split into resources and k=v / k- changes. */
static int s_split_changes(const ctl_args_t *a, const char **res, int *nres, json_t *set,
                           json_t *del)
{
    *nres = 0;
    for (int i = 0; i < a->npos; i++) {
        const char *s = a->pos[i], *eq = strchr(s, '=');
        size_t n = strlen(s);
        if (eq && eq != s) { /* k=v; keys may carry a prefix (example.com/k=v) */
            char key[512];
            snprintf(key, sizeof key, "%.*s", (int)(eq - s), s);
            json_object_set_new(set, key, json_string(eq + 1));
        } else if (n > 1 && s[n - 1] == '-' && *nres > 0) {
            char key[512];
            snprintf(key, sizeof key, "%.*s", (int)(n - 1), s);
            json_array_append_new(del, json_string(key));
        } else {
            res[(*nres)++] = s;
        }
    }
    return 0;
}

/* kubectl's overwrite check; 0 or 1 with the error printed. */
static int s_check_overwrite(const json_t *cur, const json_t *set, bool labels)
{
    const char *k;
    json_t *v;
    char msg[2048] = "";
    size_t len = 0;
    json_object_foreach((json_t *)set, k, v)
    {
        const char *old = json_string_value(json_object_get(cur, k));
        if (!old || !strcmp(old, json_string_value(v)))
            continue;
        if (labels)
            len += (size_t)snprintf(msg + len, len < sizeof msg ? sizeof msg - len : 0,
                                    "%s'%s' already has a value (%s), and --overwrite is false",
                                    len ? "\n" : "", k, old);
        else
            len += (size_t)snprintf(msg + len, len < sizeof msg ? sizeof msg - len : 0,
                                    "%s'%s' already has a value (%s)", len ? "; " : "", k, old);
    }
    if (!len)
        return 0;
    if (labels)
        fprintf(stderr, "error: %s\n", msg);
    else
        fprintf(stderr, "error: --overwrite is false but found the following declared "
                        "annotation(s): %s\n", msg);
    return 1;
}

/* Compact JSON length of a label map, as the object's encoding would grow
 * or shrink with it (an empty map is left out of the object). */
static size_t s_map_len(const json_t *m)
{
    if (!json_object_size(m))
        return 0;
    char *s = json_dumps(m, JSON_COMPACT);
    size_t n = s ? strlen(s) + sizeof "\"labels\":," : 0;
    free(s);
    return n;
}

/* kubectl label's message: "not labeled" when nothing changes; without
 * --overwrite, "unlabeled" when the object's encoding got shorter (it
 * compares the lengths of the old and new JSON); otherwise "labeled". */
static const char *s_label_msg(const json_t *cur, const json_t *patch, bool changed,
                               bool overwrite)
{
    if (!changed)
        return "not labeled";
    if (overwrite)
        return "labeled";
    json_t *after = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v)
    {
        if (json_is_null(v))
            json_object_del(after, key);
        else
            json_object_set(after, key, v);
    }
    bool shorter = s_map_len(after) < s_map_len(cur);
    json_decref(after);
    return shorter ? "unlabeled" : "labeled";
}

/* Patches one object's labels/annotations. */
static int s_label_obj(ctl_t *c, const proto_kind_t *k, const json_t *obj, const json_t *set,
                       const json_t *del, bool labels)
{
    const char *field = labels ? "labels" : "annotations";
    json_t *cur = json_object_get(json_object_get(obj, "metadata"), field);
    if (!c->args->overwrite && s_check_overwrite(cur, set, labels))
        return 1;
    json_t *m = json_deep_copy(set);
    size_t i;
    json_t *d;
    bool changed = false;
    json_array_foreach(del, i, d)
    {
        changed |= json_object_get(cur, json_string_value(d)) != NULL;
        json_object_set_new(m, json_string_value(d), json_null());
    }
    const char *key;
    json_t *v;
    json_object_foreach(m, key, v) if (!json_is_null(v)) changed |=
        !json_equal(v, json_object_get(cur, key));
    const char *msg = !labels ? "annotated" : s_label_msg(cur, m, changed, c->args->overwrite);
    json_t *b = ctl_body(k, proto_obj_ns(obj), proto_obj_name(obj)), *rep = NULL;
    json_object_set_new(b, "patchType", json_string("merge"));
    json_object_set_new(b, "patch", json_pack("{s:{s:o}}", "metadata", field, m));
    int code = ctl_call(c, "patch", b, &rep);
    json_decref(b);
    char ref[512];
    if (code >= 300)
        ctl_print_status(rep, NULL);
    else
        printf("%s %s\n", ctl_obj_ref(rep, ref, sizeof ref), msg);
    json_decref(rep);
    return code >= 300;
}

/* Objects named by targets (or -l / --all), fetched; errors printed, or
 * kept in *errs (the Status replies) when errs is not NULL. */
static json_t *s_fetch_targets(ctl_t *c, const char *const *res, int nres, int *rc,
                               json_t *errs)
{
    ctl_target_t t[CTL_MAX_TARGETS];
    int nt = 0;
    char err[CTL_ERR];
    json_t *out = json_array();
    if (ctl_targets_parse(res, nres, t, CTL_MAX_TARGETS, &nt, NULL, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        *rc = 1;
        return out;
    }
    bool bulk = c->args->all || c->args->selector;
    for (int i = 0; i < nt; i++) {
        if (!t[i].nnames && !bulk) {
            fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
            *rc = 1;
        }
        json_t *b = ctl_body(t[i].kind, ctl_ns_for(c, t[i].kind), NULL), *rep = NULL;
        if (bulk && c->args->selector)
            json_object_set_new(b, "labelSelector", json_string(c->args->selector));
        for (int j = 0; j < (bulk ? 1 : t[i].nnames); j++) {
            if (!bulk)
                json_object_set_new(b, "name", json_string(t[i].names[j]));
            int code = ctl_call(c, bulk ? "list" : "get", b, &rep);
            if (code >= 300) {
                if (bulk)
                    ctl_list_error_context(rep, code, t[i].kind, c->args);
                if (errs)
                    json_array_append(errs, rep);
                else
                    ctl_print_status(rep, NULL);
                *rc = 1;
            } else if (bulk) {
                ctl_fix_items(json_object_get(rep, "items"), t[i].kind);
                json_array_extend(out, json_object_get(rep, "items"));
            } else {
                json_array_append(out, rep);
            }
            json_decref(rep);
        }
        json_decref(b);
    }
    return out;
}

int ctl_cmd_label(ctl_t *c)
{
    bool labels = !strcmp(c->args->verb, "label");
    const char *res[CTL_MAX_ARGS];
    int nres = 0, rc = 0;
    json_t *set = json_object(), *del = json_array();
    s_split_changes(c->args, res, &nres, set, del);
    if (nres == 0) {
        fprintf(stderr, "error: one or more resources must be specified as <resource> <name> "
                        "or <resource>/<name>\n");
        rc = 1;
    } else if (json_object_size(set) + json_array_size(del) == 0) {
        fprintf(stderr, "error: at least one %s update is required\n",
                labels ? "label" : "annotation");
        rc = 1;
    }
    json_t *objs = rc ? json_array() : s_fetch_targets(c, res, nres, &rc, NULL);
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const proto_kind_t *k = proto_kind_find(proto_obj_kind(o) ? proto_obj_kind(o) : "");
        if (k)
            rc |= s_label_obj(c, k, o, set, del, labels);
    }
    json_decref(objs);
    json_decref(set);
    json_decref(del);
    return rc;
}

/* ---- scale ----------------------------------------------------------------- */

static int s_scale_one(ctl_t *c, const proto_kind_t *k, const json_t *obj)
{
    long cur = (long)proto_obj_int(obj, "spec.replicas", 1);
    if (c->args->current_replicas >= 0 && cur != c->args->current_replicas) {
        fprintf(stderr, "error: Expected replicas to be %ld, was %ld\n",
                c->args->current_replicas, cur);
        return 1;
    }
    const char *ns = proto_obj_ns(obj) ? proto_obj_ns(obj) : "", *name = proto_obj_name(obj);
    json_t *b = ctl_body(k, ns, name), *rep = NULL;
    json_object_set_new(b, "subresource", json_string("scale"));
    json_t *scale = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:I}}", "apiVersion",
                              "autoscaling/v1", "kind", "Scale", "metadata", "name", name,
                              "namespace", ns, "spec", "replicas", (json_int_t)c->args->replicas);
    const char *rv = proto_obj_str(obj, "metadata.resourceVersion");
    if (c->args->current_replicas >= 0 && rv) /* the precondition holds for this version */
        proto_obj_set_str(scale, "metadata.resourceVersion", rv);
    json_object_set_new(b, "object", scale);
    int code = ctl_call(c, "update", b, &rep);
    json_decref(b);
    char ref[512];
    if (code >= 300)
        ctl_print_status(rep, NULL);
    else
        printf("%s scaled\n", ctl_obj_ref(obj, ref, sizeof ref));
    json_decref(rep);
    return code >= 300;
}

/* kubectl scale reports a target it could not read inside "no objects
 * passed to scale" when nothing was read at all. */
static void s_scale_errors(const json_t *objs, const json_t *errs)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (json_array_size(objs) == 0 && i == 0 && msg)
            fprintf(stderr, "error: no objects passed to scale %s\n", msg);
        else if (json_array_size(objs))
            ctl_print_status(e, NULL);
    }
}

int ctl_cmd_scale(ctl_t *c)
{
    int rc = 0;
    if (c->args->replicas < 0) {
        fprintf(stderr, "error: required flag(s) \"replicas\" not set\n");
        return 1;
    }
    json_t *objs = json_array(), *errs = json_array();
    if (c->args->nfiles) {
        json_t *docs = NULL;
        if (ctl_load_files(c->args, &docs))
            return 1;
        const char *res[CTL_MAX_ARGS];
        char bufs[CTL_MAX_ARGS][320];
        int n = 0;
        size_t i;
        json_t *e;
        json_array_foreach(docs, i, e) if (n < CTL_MAX_ARGS)
        {
            json_t *d = json_object_get(e, "doc");
            const proto_kind_t *k = ctl_doc_kind(d, json_string_value(json_object_get(e, "file")));
            if (!k || !proto_obj_name(d))
                continue;
            snprintf(bufs[n], sizeof bufs[n], "%s/%s", k->resource, proto_obj_name(d));
            res[n] = bufs[n];
            n++;
        }
        json_decref(objs);
        objs = n ? s_fetch_targets(c, res, n, &rc, errs) : json_array();
        json_decref(docs);
    } else {
        json_decref(objs);
        objs = s_fetch_targets(c, c->args->pos, c->args->npos, &rc, errs);
    }
    s_scale_errors(objs, errs);
    json_decref(errs);
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const proto_kind_t *k = proto_kind_find(proto_obj_kind(o) ? proto_obj_kind(o) : "");
        if (k)
            rc |= s_scale_one(c, k, o);
    }
    json_decref(objs);
    return rc;
}

/* ---- patch ----------------------------------------------------------------- */

static json_t *s_parse_patch(const char *p)
{
    json_t *v = json_loads(p, JSON_DECODE_ANY, NULL);
    if (v)
        return v;
    json_t *docs = NULL;
    char err[CTL_ERR];
    if (proto_manifest_parse(p, strlen(p), "patch", &docs, err, sizeof err) == 0 &&
        json_array_size(docs) == 1)
        v = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return v;
}

/* kubectl says "(no change)" when the patched object equals the one it
 * read; a write that only moved resourceVersion or managedFields changed
 * nothing the user can see. */
static bool s_same_object(const json_t *a, const json_t *b)
{
    json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
    const char *drop[] = {"resourceVersion", "managedFields"};
    for (size_t i = 0; i < 2; i++) {
        json_object_del(json_object_get(x, "metadata"), drop[i]);
        json_object_del(json_object_get(y, "metadata"), drop[i]);
    }
    bool same = json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

int ctl_cmd_patch(ctl_t *c)
{
    const ctl_args_t *a = c->args;
    const char *type = a->patch_type ? a->patch_type : "strategic";
    if (strcmp(type, "merge") && strcmp(type, "json") && strcmp(type, "strategic")) {
        fprintf(stderr, "error: --type must be one of [json merge strategic], not \"%s\"\n",
                type);
        return 1;
    }
    if (!a->patch) {
        fprintf(stderr, "error: must specify --patch or --patch-file containing the contents "
                        "of the patch\n");
        return 1;
    }
    json_t *p = s_parse_patch(a->patch);
    if (!p) {
        fprintf(stderr, "error: unable to parse \"%s\": yaml: did not find expected node "
                        "content\n", a->patch);
        return 1;
    }
    int rc = 0;
    json_t *objs = s_fetch_targets(c, a->pos, a->npos, &rc, NULL);
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const proto_kind_t *k = proto_kind_find(proto_obj_kind(o) ? proto_obj_kind(o) : "");
        if (!k)
            continue;
        json_t *b = ctl_body(k, proto_obj_ns(o), proto_obj_name(o)), *rep = NULL;
        json_object_set_new(b, "patchType", json_string(type));
        json_object_set(b, "patch", p);
        int code = ctl_call(c, "patch", b, &rep);
        json_decref(b);
        char ref[512];
        if (code >= 300) {
            ctl_print_status(rep, NULL);
            rc = 1;
        } else {
            printf("%s patched%s\n", ctl_obj_ref(o, ref, sizeof ref),
                   s_same_object(rep, o) ? " (no change)" : "");
        }
        json_decref(rep);
    }
    json_decref(objs);
    json_decref(p);
    return rc;
}
