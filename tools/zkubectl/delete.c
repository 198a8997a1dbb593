/*
 * tools/zkubectl/delete.c — `zkubectl delete`: by name, TYPE/NAME, -f,
 * -l / --all (list then delete each, as kubectl does), with --cascade,
 * --grace-period, --now, --force, and kubectl's wait for the objects to be
 * gone (--wait=false skips it).
 */
#include <stdio.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor.h"
#include "tools/zkubectl/ctl.h"

#define S_WAIT_MS (120 * 1000)
#define S_POLL_MS 100

/* Deleted objects still to wait for: {resource, namespace, name, uid}. */
static json_t *s_pending;

static json_t *s_delete_body(const ctl_t *c, const proto_kind_t *k, const char *ns,
                             const char *name)
{
    const ctl_args_t *a = c->args;
    json_t *b = ctl_body(k, ns, name);
    const char *cas = a->cascade ? a->cascade : "background";
    const char *pol = !strcmp(cas, "foreground")                           ? "Foreground"
                      : !strcmp(cas, "orphan") || !strcmp(cas, "false") ? "Orphan"
                                                                           : "Background";
    json_object_set_new(b, "propagationPolicy", json_string(pol));
    int grace = a->grace;
    if (a->now)
        grace = 1;
    if (a->force && grace < 0)
        grace = 0;
    if (grace >= 0)
        json_object_set_new(b, "gracePeriodSeconds", json_integer(grace));
    return b;
}

static int s_delete_one(ctl_t *c, const proto_kind_t *k, const char *ns, const char *name,
                        const char *file)
{
    json_t *b = s_delete_body(c, k, ns, name), *rep = NULL;
    int code = ctl_call(c, "delete", b, &rep);
    json_decref(b);
    if (code >= 300) {
        char ctx[1024];
        snprintf(ctx, sizeof ctx, "error when deleting \"%s\"", file ? file : "");
        ctl_print_status(rep, file ? ctx : NULL);
        json_decref(rep);
        return 1;
    }
    char pre[128];
    bool forced = c->args->grace == 0 || (c->args->force && c->args->grace < 0);
    printf("%s \"%s\" %s\n", ctl_kind_prefix(k, pre, sizeof pre), name,
           forced ? "force deleted" : "deleted");
    fflush(stdout);
    if (c->args->wait)
        json_array_append_new(s_pending,
                              json_pack("{s:s, s:s, s:s, s:s?}", "resource", k->resource,
                                        "namespace", ns, "name", name, "uid",
                                        proto_obj_uid(rep)));
    json_decref(rep);
    return 0;
}

/* Is the object (same uid) still there? */
static bool s_still_there(ctl_t *c, const json_t *p)
{
    const proto_kind_t *k = proto_kind_by_resource(proto_obj_str(p, "resource"));
    if (!k)
        return false;
    json_t *b = ctl_body(k, proto_obj_str(p, "namespace"), proto_obj_str(p, "name")), *rep;
    int code = ctl_call(c, "get", b, &rep);
    json_decref(b);
    const char *uid = proto_obj_str(p, "uid"), *now = proto_obj_uid(rep);
    bool there = code < 300 && (!uid || (now && !strcmp(uid, now)));
    json_decref(rep);
    return there;
}

static int s_wait_gone(ctl_t *c)
{
    int64_t deadline = proto_mono_ms() + S_WAIT_MS;
    while (json_array_size(s_pending) > 0) {
        if (!s_still_there(c, json_array_get(s_pending, 0))) {
            json_array_remove(s_pending, 0);
            continue;
        }
        if (proto_mono_ms() > deadline) {
            fprintf(stderr, "error: timed out waiting for the condition\n");
            return 1;
        }
        rt_run_for(c->actor, S_POLL_MS);
    }
    return 0;
}

static int s_delete_doc(ctl_t *c, const proto_kind_t *k, const char *ns, json_t *doc,
                        const char *file)
{
    return s_delete_one(c, k, ns, proto_obj_name(doc) ? proto_obj_name(doc) : "", file);
}

/* -l / --all: list the kind, delete each. */
static int s_delete_matching(ctl_t *c, const proto_kind_t *k, int *found)
{
    json_t *b = ctl_body(k, ctl_ns_for(c, k), NULL), *rep = NULL;
    if (c->args->selector)
        json_object_set_new(b, "labelSelector", json_string(c->args->selector));
    if (c->args->field_selector)
        json_object_set_new(b, "fieldSelector", json_string(c->args->field_selector));
    int code = ctl_call(c, "list", b, &rep), rc = 0;
    json_decref(b);
    if (code >= 300) {
        ctl_list_error_context(rep, code, k, c->args);
        ctl_print_status(rep, NULL);
        json_decref(rep);
        return 1;
    }
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(rep, "items"), i, it)
    {
        (*found)++;
        const char *ns = proto_obj_ns(it);
        rc |= s_delete_one(c, k, ns ? ns : "", proto_obj_name(it), NULL);
    }
    json_decref(rep);
    return rc;
}

static int s_delete_args(ctl_t *c)
{
    const ctl_args_t *a = c->args;
    ctl_target_t t[CTL_MAX_TARGETS];
    int nt = 0, rc = 0, found = 0;
    char err[CTL_ERR];
    if (ctl_targets_parse(a->pos, a->npos, t, CTL_MAX_TARGETS, &nt, NULL, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    bool bulk = a->all || a->selector || a->field_selector;
    for (int i = 0; i < nt; i++) {
        if (t[i].nnames && bulk) {
            fprintf(stderr, "error: name cannot be provided when a selector is specified\n");
            return 1;
        }
        if (!t[i].nnames && !bulk) {
            fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
            return 1;
        }
    }
    for (int i = 0; i < nt; i++) {
        if (bulk)
            rc |= s_delete_matching(c, t[i].kind, &found);
        for (int j = 0; j < t[i].nnames; j++)
            rc |= s_delete_one(c, t[i].kind, ctl_ns_for(c, t[i].kind), t[i].names[j], NULL);
    }
    if (bulk && found == 0 && !rc)
        printf("No resources found\n"); /* kubectl delete says it on stdout */
    return rc;
}

int ctl_no_resources(void)
{
    fprintf(stderr, "error: You must provide one or more resources by argument or "
                    "filename.\nExample resource specifications include:\n   '-f "
                    "rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   "
                    "'<resource>'\n");
    return 1;
}

int ctl_cmd_delete(ctl_t *c)
{
    const ctl_args_t *a = c->args;
    if (a->nfiles == 0 && a->npos == 0)
        return ctl_no_resources();
    if (a->force && a->grace == 0)
        fprintf(stderr, "Warning: Immediate deletion does not wait for confirmation that the "
                        "running resource has been terminated. The resource may continue to "
                        "run on the cluster indefinitely.\n");
    s_pending = json_array();
    int rc = a->nfiles ? ctl_each_doc(c, s_delete_doc) : s_delete_args(c);
    rc |= s_wait_gone(c);
    json_decref(s_pending);
    s_pending = NULL;
    return rc;
}
