/*
 * tools/zkubectl/misc.c — discovery verbs: `api-resources` (kubectl's
 * NAME SHORTNAMES APIVERSION NAMESPACED KIND table from the apiserver's
 * `resources` reply) and `version`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/manifest.h"
#include "protocol/obj.h"
#include "tools/zkubectl/ctl.h"

#define CTL_CLIENT_VERSION "v0.1.0-zkube"

static int s_cmp_res(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *gx = proto_obj_str(x, "group"), *gy = proto_obj_str(y, "group");
    int c = strcmp(gx ? gx : "", gy ? gy : "");
    if (c)
        return c;
    const char *nx = proto_obj_str(x, "name"), *ny = proto_obj_str(y, "name");
    return strcmp(nx ? nx : "", ny ? ny : "");
}

static void s_res_row(ctl_tw_t *tw, const json_t *r, ctl_out_t out)
{
    const char *name = proto_obj_str(r, "name"), *group = proto_obj_str(r, "group");
    const char *ver = proto_obj_str(r, "version");
    if (!name || strchr(name, '/')) /* subresources are not listed */
        return;
    if (out == CTL_OUT_NAME) {
        ctl_tw_printf(tw, 0, "%s%s%s", name, group && *group ? "." : "", group ? group : "");
        return;
    }
    char shorts[256] = "";
    size_t len = 0, i;
    json_t *s;
    json_array_foreach(json_object_get(r, "shortNames"), i, s) if (len < sizeof shorts)
        len += (size_t)snprintf(shorts + len, sizeof shorts - len, "%s%s", i ? "," : "",
                                json_string_value(s) ? json_string_value(s) : "");
    ctl_tw_printf(tw, 0, "%s\t%s\t%s%s%s\t%s\t%s", name, shorts, group && *group ? group : "",
                  group && *group ? "/" : "", ver ? ver : "v1",
                  json_is_true(json_object_get(r, "namespaced")) ? "true" : "false",
                  proto_obj_str(r, "kind") ? proto_obj_str(r, "kind") : "");
}

int ctl_cmd_api_resources(ctl_t *c)
{
    json_t *b = json_object(), *rep = NULL;
    int code = ctl_call(c, "resources", b, &rep);
    json_decref(b);
    if (code >= 300) {
        ctl_print_status(rep, NULL);
        json_decref(rep);
        return 1;
    }
    json_t *list = json_object_get(rep, "resources");
    size_t n = json_array_size(list);
    json_t **rs = calloc(n + 1, sizeof *rs);
    if (!rs)
        abort();
    for (size_t i = 0; i < n; i++)
        rs[i] = json_array_get(list, i);
    qsort(rs, n, sizeof *rs, s_cmp_res);
    ctl_tw_t *tw = ctl_tw_new(6, 3);
    if (!c->args->no_headers && c->args->out != CTL_OUT_NAME)
        ctl_tw_printf(tw, 0, "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND");
    for (size_t i = 0; i < n; i++)
        s_res_row(tw, rs[i], c->args->out);
    ctl_tw_flush(&tw, stdout);
    free(rs);
    json_decref(rep);
    return 0;
}

int ctl_cmd_version(ctl_t *c)
{
    json_t *b = json_object(), *rep = NULL;
    int code = ctl_call(c, "version", b, &rep);
    json_decref(b);
    if (c->args->out == CTL_OUT_JSON || c->args->out == CTL_OUT_YAML) {
        json_t *v = json_pack("{s:{s:s}}", "clientVersion", "gitVersion", CTL_CLIENT_VERSION);
        if (code < 300)
            json_object_set(v, "serverVersion", rep);
        char *s = c->args->out == CTL_OUT_JSON ? proto_json_dump(v) : proto_yaml_dump(v);
        fputs(s ? s : "", stdout);
        free(s);
        json_decref(v);
    } else {
        printf("Client Version: %s\n", CTL_CLIENT_VERSION);
        if (code < 300)
            printf("Server Version: %s\n", proto_obj_str(rep, "gitVersion")
                                               ? proto_obj_str(rep, "gitVersion")
                                               : "unknown");
    }
    if (code >= 300)
        ctl_print_status(rep, NULL);
    json_decref(rep);
    return code >= 300;
}
