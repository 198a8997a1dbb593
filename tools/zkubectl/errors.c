/*
 * tools/zkubectl/errors.c — kubectl's rendering of server errors: a Status
 * becomes `Error from server (Reason): [context: ]message`, and an Invalid
 * Status with causes `The Kind "name" is invalid: field: message` (one
 * cause) or a bulleted list (several), as kubectl's cmdutil does; and the
 * context kubectl's resource builder adds to a failed list.
 */
#include <stdio.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/status.h"
#include "tools/zkubectl/ctl.h"

/* "The Pod \"x\" is invalid: f: msg" (kubectl's Invalid rendering). */
static const char *s_invalid_text(const json_t *st, char *buf, size_t n)
{
    const json_t *d = json_object_get(st, "details");
    const char *kind = proto_obj_str(d, "kind"), *name = proto_obj_str(d, "name");
    const json_t *causes = json_object_get(d, "causes");
    size_t len = 0;
    if ((kind && *kind) || (name && *name))
        len = (size_t)snprintf(buf, n, "The %s \"%s\" is invalid: ", kind ? kind : "",
                               name ? name : "");
    else
        len = (size_t)snprintf(buf, n, "The request is invalid: ");
    size_t nc = json_array_size(causes);
    if (nc == 0) {
        snprintf(buf + (len < n ? len : n), len < n ? n - len : 0, "%s",
                 proto_obj_str(st, "message") ? proto_obj_str(st, "message") : "");
        return buf;
    }
    if (nc > 1 && len < n)
        len += (size_t)snprintf(buf + len, n - len, "\n");
    for (size_t i = 0; i < nc && len < n; i++) {
        const json_t *ca = json_array_get(causes, i);
        const char *f = proto_obj_str(ca, "field"), *m = proto_obj_str(ca, "message");
        len += (size_t)snprintf(buf + len, n - len, "%s%s%s%s%s", nc > 1 ? "* " : "",
                                f ? f : "", f ? ": " : "", m ? m : "",
                                nc > 1 && i + 1 < nc ? "\n" : "");
    }
    return buf;
}

const char *ctl_status_text(const json_t *st, const char *ctx, char *buf, size_t n)
{
    const char *reason = proto_obj_str(st, "reason");
    const char *msg = proto_obj_str(st, "message");
    if (reason && !strcmp(reason, "Invalid") && json_object_get(st, "details"))
        return s_invalid_text(st, buf, n);
    if (!msg || !*msg)
        msg = proto_strerror(proto_err_from_status(st));
    if (reason && *reason && strcmp(reason, "Unknown"))
        snprintf(buf, n, "Error from server (%s): %s%s%s", reason, ctx ? ctx : "",
                 ctx ? ": " : "", msg);
    else
        snprintf(buf, n, "Error from server: %s%s%s", ctx ? ctx : "", ctx ? ": " : "", msg);
    return buf;
}

void ctl_print_status(const json_t *status, const char *ctx)
{
    char buf[4096];
    fprintf(stderr, "%s\n", ctl_status_text(status, ctx, buf, sizeof buf));
}

void ctl_list_error_context(json_t *status, int code, const proto_kind_t *k,
                            const ctl_args_t *a)
{
    const char *msg = proto_obj_str(status, "message");
    if ((code != 400 && code != 404) || !msg || !json_is_object(status))
        return;
    char gvr[256], buf[4096];
    snprintf(gvr, sizeof gvr, "%s%s%s, Resource=%s", k->group, "/", k->version, k->resource);
    const char *ls = a->selector ? a->selector : "", *fs = a->field_selector ? a->field_selector : "";
    if (!*ls && !*fs)
        snprintf(buf, sizeof buf, "Unable to list \"%s\": %s", gvr, msg);
    else
        snprintf(buf, sizeof buf, "Unable to find \"%s\" that match label selector \"%s\", "
                 "field selector \"%s\": %s", gvr, ls, fs, msg);
    json_object_set_new(status, "message", json_string(buf));
}
