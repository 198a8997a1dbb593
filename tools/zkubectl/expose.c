/*
 * tools/zkubectl/expose.c — `zkubectl expose (rc|rs|deployment|pod|service)
 * NAME` or `expose -f FILE`: reads the object (from the apiserver, or as the
 * file has it, as kubectl does), makes the Service kubectl would make
 * (expose_svc.c) and creates it, printing `service/NAME exposed`; with
 * --dry-run=client it prints the Service instead, with --dry-run=server
 * the apiserver checks it without storing it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/manifest.h"
#include "protocol/obj.h"
#include "tools/zkubectl/ctl.h"

static ctl_expose_opts_t s_opts(const ctl_args_t *a)
{
    return (ctl_expose_opts_t){
        .port = a->port, .target_port = a->target_port, .protocol = a->protocol,
        .type = a->patch_type, .name = a->name, .selector = a->selector, .labels = a->labels,
        .external_ip = a->external_ip, .cluster_ip = a->cluster_ip,
        .session_affinity = a->session_affinity, .load_balancer_ip = a->load_balancer_ip,
        .ns = a->ns,
    };
}

/* kubectl prints the typed Service it made: JSON in field order, not the
 * sorted keys of the objects it reads back from a server. */
static int s_print_local(const ctl_args_t *a, const json_t *svc)
{
    if (!a->out_set) {
        printf("service/%s exposed (dry run)\n", proto_obj_name(svc));
        return 0;
    }
    if (a->out != CTL_OUT_JSON) {
        json_t *one = json_pack("[O]", svc);
        int rc = ctl_print_objects(a, one, false);
        json_decref(one);
        return rc;
    }
    char *s = json_dumps(svc, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    printf("%s\n", s ? s : "");
    free(s);
    return 0;
}

/* Creates svc (dry run on the server when asked); prints what kubectl does. */
static int s_create(ctl_t *c, json_t *svc)
{
    const proto_kind_t *k = proto_kind_find("services");
    if (!k)
        return 1;
    json_object_del(json_object_get(svc, "metadata"), "creationTimestamp");
    json_object_del(svc, "status");
    bool server_dry = c->args->dry_run && !strcmp(c->args->dry_run, "server");
    json_t *b = ctl_body(k, ctl_ns_for(c, k), NULL), *rep = NULL;
    json_object_set(b, "object", svc);
    if (server_dry)
        json_object_set_new(b, "dryRun", json_true());
    int code = ctl_call(c, "create", b, &rep);
    json_decref(b);
    int rc = 0;
    if (code >= 300) {
        ctl_print_status(rep, NULL);
        rc = 1;
    } else if (c->args->out_set) {
        json_t *one = json_pack("[O]", rep);
        rc = ctl_print_objects(c->args, one, false);
        json_decref(one);
    } else {
        printf("service/%s exposed%s\n", proto_obj_name(rep) ? proto_obj_name(rep) : "",
               server_dry ? " (server dry run)" : "");
    }
    json_decref(rep);
    return rc;
}

static int s_expose_one(ctl_t *c, const json_t *obj)
{
    ctl_expose_opts_t o = s_opts(c->args);
    json_t *svc = NULL;
    char err[2048];
    if (ctl_expose_service(obj, &o, &svc, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    const char *dr = c->args->dry_run;
    bool local = dr && (!strcmp(dr, "client") || !strcmp(dr, "unchanged") || !strcmp(dr, "true"));
    int rc = local ? s_print_local(c->args, svc) : s_create(c, svc);
    json_decref(svc);
    return rc;
}

/* -f: the objects as the files have them (kubectl does not read them back). */
static int s_expose_doc(ctl_t *c, const proto_kind_t *k, const char *ns, json_t *doc,
                        const char *file)
{
    return s_expose_one(c, doc);
}

/* TYPE NAME... or TYPE/NAME...: the objects as the apiserver has them. */
static int s_expose_args(ctl_t *c)
{
    ctl_target_t t[CTL_MAX_TARGETS];
    int nt = 0, rc = 0;
    char err[CTL_ERR];
    if (ctl_targets_parse(c->args->pos, c->args->npos, t, CTL_MAX_TARGETS, &nt, NULL, err,
                          sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    for (int i = 0; i < nt; i++)
        if (!t[i].nnames) {
            fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
            return 1;
        }
    for (int i = 0; i < nt; i++) {
        for (int j = 0; j < t[i].nnames; j++) {
            json_t *b = ctl_body(t[i].kind, ctl_ns_for(c, t[i].kind), t[i].names[j]);
            json_t *obj = NULL;
            int code = ctl_call(c, "get", b, &obj);
            json_decref(b);
            if (code >= 300) {
                ctl_print_status(obj, NULL);
                rc = 1;
            } else {
                json_t *one = json_pack("[O]", obj); /* kind and apiVersion, if missing */
                ctl_fix_items(one, t[i].kind);
                json_decref(one);
                rc |= s_expose_one(c, obj);
            }
            json_decref(obj);
        }
    }
    return rc;
}

int ctl_cmd_expose(ctl_t *c)
{
    if (c->args->nfiles == 0 && c->args->npos == 0)
        return ctl_no_resources();
    return c->args->nfiles ? ctl_each_doc(c, s_expose_doc) : s_expose_args(c);
}
