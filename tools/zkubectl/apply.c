/*
 * tools/zkubectl/apply.c — the manifest verbs: `create -f`, `apply -f`
 * (create, or a three-way merge patch keeping kubectl's last-applied
 * annotation; "unchanged" when there is nothing to send) and `replace -f`,
 * with kubectl's messages and per-file error context.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/manifest.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "tools/zkubectl/ctl.h"

int ctl_load_files(const ctl_args_t *a, json_t **out)
{
    char err[CTL_ERR] = "";
    *out = NULL;
    if (a->nfiles == 0) {
        fprintf(stderr, "error: must specify one of -f and -k\n");
        return 1;
    }
    json_t *all = json_array();
    for (int i = 0; i < a->nfiles; i++) {
        json_t *docs = NULL;
        int rc = proto_manifest_load(a->files[i], a->recursive, &docs, err, sizeof err);
        if (rc == -ENOENT)
            fprintf(stderr, "error: the path \"%s\" does not exist\n", a->files[i]);
        else if (rc != 0)
            fprintf(stderr, "error: %s\n", err);
        if (rc != 0) {
            json_decref(docs);
            json_decref(all);
            return 1;
        }
        size_t j;
        json_t *d;
        json_array_foreach(docs, j, d)
            json_array_append_new(all, json_pack("{s:s, s:O}", "file", a->files[i], "doc", d));
        json_decref(docs);
    }
    if (json_array_size(all) == 0) {
        fprintf(stderr, "error: no objects passed to %s\n", a->verb);
        json_decref(all);
        return 1;
    }
    *out = all;
    return 0;
}

const proto_kind_t *ctl_doc_kind(const json_t *doc, const char *file)
{
    const char *av = proto_obj_str(doc, "apiVersion"), *kind = proto_obj_kind(doc);
    if (!json_is_object(doc) || !av || !kind) {
        fprintf(stderr, "error: error validating \"%s\": error validating data: [%s%s%s]\n",
                file, !av ? "apiVersion not set" : "", !av && !kind ? ", " : "",
                !kind ? "kind not set" : "");
        return NULL;
    }
    const proto_kind_t *k = proto_kind_by_kind(av, kind);
    if (!k) {
        const char *name = proto_obj_name(doc), *ns = proto_obj_ns(doc);
        fprintf(stderr,
                "error: resource mapping not found for name: \"%s\" namespace: \"%s\" from "
                "\"%s\": no matches for kind \"%s\" in version \"%s\"\nensure CRDs are "
                "installed first\n",
                name ? name : "", ns ? ns : "", file, kind, av);
    }
    return k;
}

int ctl_doc_ns(const ctl_t *c, const proto_kind_t *k, json_t *doc, const char **ns)
{
    *ns = "";
    if (!k->namespaced)
        return 0;
    const char *own = proto_obj_ns(doc);
    if (own && *own && c->args->ns && *c->args->ns && strcmp(own, c->args->ns)) {
        fprintf(stderr,
                "error: the namespace from the provided object \"%s\" does not match the "
                "namespace \"%s\". You must pass '--namespace=%s' to perform this operation.\n",
                own, c->args->ns, own);
        return 1;
    }
    if (!own || !*own)
        proto_obj_set_str(doc, "metadata.namespace", c->ns);
    *ns = proto_obj_ns(doc);
    return 0;
}

int ctl_each_doc(ctl_t *c, ctl_doc_fn *fn)
{
    json_t *docs = NULL;
    if (ctl_load_files(c->args, &docs))
        return 1;
    int rc = 0;
    size_t i;
    json_t *e;
    json_array_foreach(docs, i, e)
    {
        json_t *doc = json_object_get(e, "doc");
        const char *file = json_string_value(json_object_get(e, "file")), *ns = "";
        const proto_kind_t *k = ctl_doc_kind(doc, file);
        if (!k || ctl_doc_ns(c, k, doc, &ns)) {
            rc = 1;
            continue;
        }
        rc |= fn(c, k, ns, doc, file);
    }
    json_decref(docs);
    return rc;
}

static void s_done(const proto_kind_t *k, const json_t *doc, const char *what)
{
    char pre[128];
    printf("%s/%s %s\n", ctl_kind_prefix(k, pre, sizeof pre),
           proto_obj_name(doc) ? proto_obj_name(doc) : "", what);
}

/* Sends op with {resource, namespace, [name], object}; prints errors. */
static int s_write(ctl_t *c, const char *op, const proto_kind_t *k, const char *ns,
                   const json_t *obj, const char *file, const char *verbing, const char *done)
{
    const char *name = proto_obj_name(obj);
    json_t *b = ctl_body(k, ns, strcmp(op, "create") ? name : NULL), *rep = NULL;
    json_object_set(b, "object", (json_t *)obj);
    int code = ctl_call(c, op, b, &rep);
    json_decref(b);
    char ctx[1024];
    snprintf(ctx, sizeof ctx, "error when %s \"%s\"", verbing, file);
    if (code >= 300)
        ctl_print_status(rep, *file ? ctx : NULL);
    else
        s_done(k, obj, done);
    json_decref(rep);
    return code >= 300;
}

static int s_create_one(ctl_t *c, const proto_kind_t *k, const char *ns, json_t *doc,
                        const char *file)
{
    return s_write(c, "create", k, ns, doc, file, "creating", "created");
}

static int s_replace_one(ctl_t *c, const proto_kind_t *k, const char *ns, json_t *doc,
                         const char *file)
{
    return s_write(c, "update", k, ns, doc, file, "replacing", "replaced");
}

/* `create namespace NAME`, the one generator the book uses. */
static int s_create_namespace(ctl_t *c)
{
    const proto_kind_t *k = proto_kind_find("namespaces");
    if (!k)
        return 1;
    json_t *obj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                            "metadata", "name", c->args->pos[1]);
    int rc = s_write(c, "create", k, "", obj, "", "creating", "created");
    json_decref(obj);
    return rc;
}

int ctl_cmd_create(ctl_t *c)
{
    const ctl_args_t *a = c->args;
    if (a->nfiles == 0 && a->npos == 2 &&
        (!strcmp(a->pos[0], "namespace") || !strcmp(a->pos[0], "ns")))
        return s_create_namespace(c);
    return ctl_each_doc(c, s_create_one);
}

int ctl_cmd_replace(ctl_t *c)
{
    return ctl_each_doc(c, s_replace_one);
}

/* The annotation's key has dots, so dotted-path accessors cannot reach it. */
static const char *s_last_applied_of(const json_t *obj)
{
    return json_string_value(
        json_object_get(proto_obj_get(obj, "metadata.annotations"), CTL_LAST_APPLIED));
}

static void s_set_last_applied(json_t *obj, const char *val)
{
    json_t *an = proto_obj_get(obj, "metadata.annotations");
    if (!json_is_object(an)) {
        an = json_object();
        proto_obj_set(obj, "metadata.annotations", an);
    }
    json_object_set_new(an, CTL_LAST_APPLIED, json_string(val));
}

/* Converted copy (old apiVersions to current) for comparing with live. */
static json_t *s_converted(const json_t *obj)
{
    if (!json_is_object(obj))
        return NULL;
    char err[CTL_ERR];
    json_t *cp = json_deep_copy(obj);
    if (proto_convert(cp, err, sizeof err) != 0) {
        json_decref(cp);
        return NULL;
    }
    return cp;
}

/* Patch for an existing object; NULL when there is nothing to change. */
static json_t *s_apply_patch(const json_t *doc, const json_t *live, const char *applied)
{
    const char *old = s_last_applied_of(live);
    json_t *orig = old ? json_loads(old, 0, NULL) : NULL;
    /* modified as kubectl computes it: the new annotation's content, so that
     * original and modified are normalised alike */
    json_t *given = json_loads(applied, 0, NULL);
    json_t *mod = s_converted(given ? given : doc), *ocv = s_converted(orig);
    json_decref(given);
    json_t *p = ctl_three_way(ocv, mod ? mod : doc, live);
    json_decref(orig);
    json_decref(ocv);
    json_decref(mod);
    if (!old || strcmp(old, applied))
        s_set_last_applied(p, applied);
    if (json_object_size(p) == 0) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static int s_apply_existing(ctl_t *c, const proto_kind_t *k, const char *ns, const json_t *doc,
                            const json_t *live, const char *applied, const char *file)
{
    char ref[512];
    /* kubectl names the object by its resource here ("pods/x"), not its kind */
    snprintf(ref, sizeof ref, "%s/%s", k->resource, proto_obj_name(live));
    if (!s_last_applied_of(live))
        fprintf(stderr,
                "Warning: resource %s is missing the %s annotation which is required by "
                "kubectl apply. kubectl apply should only be used on resources created "
                "declaratively by either kubectl create --save-config or kubectl apply. The "
                "missing annotation will be patched automatically.\n",
                ref, CTL_LAST_APPLIED);
    json_t *p = s_apply_patch(doc, live, applied);
    if (!p) {
        s_done(k, doc, "unchanged");
        return 0;
    }
    json_t *b = ctl_body(k, ns, proto_obj_name(doc)), *rep = NULL;
    json_object_set_new(b, "patchType", json_string("merge"));
    json_object_set_new(b, "patch", p);
    int code = ctl_call(c, "patch", b, &rep);
    json_decref(b);
    char ctx[1024];
    snprintf(ctx, sizeof ctx, "error when applying patch:\n%s\n\nto:\nResource: \"%s\", "
             "Name: \"%s\", Namespace: \"%s\"\nfor: \"%s\"", applied, k->resource,
             proto_obj_name(doc), ns, file);
    if (code >= 300)
        ctl_print_status(rep, ctx);
    else
        s_done(k, doc, "configured");
    json_decref(rep);
    return code >= 300;
}

static int s_apply_one(ctl_t *c, const proto_kind_t *k, const char *ns, json_t *doc,
                       const char *file)
{
    const char *name = proto_obj_name(doc);
    if (!name || !*name) {
        fprintf(stderr, "error: error when retrieving current configuration of:\n"
                        "Resource: \"%s\", Name: \"\", Namespace: \"%s\"\nfrom server for: "
                        "\"%s\": resource name may not be empty\n", k->resource, ns, file);
        return 1;
    }
    char *applied = ctl_last_applied(doc);
    json_t *b = ctl_body(k, ns, name), *live = NULL;
    int code = ctl_call(c, "get", b, &live), rc;
    json_decref(b);
    if (code == 404) {
        json_t *obj = json_deep_copy(doc);
        s_set_last_applied(obj, applied);
        rc = s_write(c, "create", k, ns, obj, file, "creating", "created");
        json_decref(obj);
    } else if (code >= 300) {
        char ctx[1024];
        snprintf(ctx, sizeof ctx, "error when retrieving current configuration of:\n"
                 "Resource: \"%s\", Name: \"%s\", Namespace: \"%s\"\nfrom server for: \"%s\"",
                 k->resource, name, ns, file);
        ctl_print_status(live, ctx);
        rc = 1;
    } else {
        rc = s_apply_existing(c, k, ns, doc, live, applied, file);
    }
    json_decref(live);
    free(applied);
    return rc;
}

/* `apply --server-side`: the manifest goes to the apiserver as an apply
 * patch; the server merges, tracks field owners and reports conflicts. */
static int s_apply_server_side(ctl_t *c, const proto_kind_t *k, const char *ns, json_t *doc,
                               const char *file)
{
    const char *name = proto_obj_name(doc);
    const char *manager = c->args->field_manager ? c->args->field_manager : "kubectl";
    json_t *b = ctl_body(k, ns, name ? name : ""), *rep = NULL;
    json_object_set_new(b, "patchType", json_string("apply"));
    json_object_set(b, "patch", doc);
    json_object_set_new(b, "fieldManager", json_string(manager));
    if (c->args->force_conflicts)
        json_object_set_new(b, "force", json_true());
    int code = ctl_call(c, "patch", b, &rep);
    json_decref(b);
    char ctx[1024];
    snprintf(ctx, sizeof ctx, "error when applying \"%s\"", file);
    if (code >= 300)
        ctl_print_status(rep, *file ? ctx : NULL);
    else
        s_done(k, doc, "serverside-applied");
    json_decref(rep);
    return code >= 300;
}

int ctl_cmd_apply(ctl_t *c)
{
    if (c->args->force_conflicts && !c->args->server_side) {
        fprintf(stderr, "error: --force-conflicts only works with --server-side\n");
        return 1;
    }
    return ctl_each_doc(c, c->args->server_side ? s_apply_server_side : s_apply_one);
}
