/*
 * actors/gateway/portforward.c — the pods' streaming subresources as http.c
 * sees them: which requests go to gw_sub_start (`log`, `exec`,
 * `portforward`), the registry of answers waiting to be queued from MHD's
 * handler (plain bodies, log streams, WebSocket upgrades), helpers logs.c
 * and exec.c share, and `portforward` itself, which zkube
 * does not serve: kubectl 1.32 speaks SPDY for it (tunnelled over
 * WebSocket), a second multiplexing protocol the gateway does not
 * implement, and the kubelet has no op that carries a TCP stream. It is
 * answered 501 with a Status saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gateway/internal.h"
#include "actors/gateway/ws.h"
#include "protocol/obj.h"
#include "protocol/status.h"

/* Answers waiting for the handler, over all gateways of the process. */
static gw_sub_t *s_subs;

bool gw_sub_handles(const char *resource, const char *sub)
{
    return resource && sub && !strcmp(resource, "pods") &&
           (!strcmp(sub, "log") || !strcmp(sub, "exec") || !strcmp(sub, "portforward"));
}

bool gw_sub_truthy(const char *v)
{
    return v && (!strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "T") || !strcmp(v, "true") ||
                 !strcmp(v, "TRUE") || !strcmp(v, "True"));
}

/* ---- the registry --------------------------------------------------------------- */

static gw_sub_t *s_find(gw_t *g, uint64_t id)
{
    for (gw_sub_t *s = s_subs; s; s = s->next)
        if (s->g == g && s->id == id)
            return s;
    return NULL;
}

static void s_unlink(gw_sub_t *s)
{
    for (gw_sub_t **pp = &s_subs; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    s->next = NULL;
}

static gw_conn_t *s_conn(gw_t *g, uint64_t id)
{
    for (gw_conn_t *x = g->conns; x; x = x->next)
        if (x->id == id)
            return x;
    return NULL;
}

void gw_sub_ready(gw_sub_t *s)
{
    gw_t *g = s->g;
    gw_conn_t *x = s_conn(g, s->id);
    if (!x || x->state != GW_C_WAIT || s_find(g, s->id)) {
        s->destroy(s);
        return;
    }
    s->next = s_subs;
    s_subs = s;
    MHD_resume_connection(x->c);
    gw_kick(g);
}

/* A plain answer: JSON, or text/plain for a JSON string. */
typedef struct s_plain {
    gw_sub_t sub;
    int code;
    json_t *reply;
} s_plain_t;

static void s_plain_destroy(gw_sub_t *sub)
{
    json_decref(((s_plain_t *)sub)->reply);
    free(sub);
}

static enum MHD_Result s_send_text(struct MHD_Connection *c, int code, const json_t *text)
{
    size_t len = json_string_length(text);
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    memcpy(copy, json_string_value(text), len + 1);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(copy);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result s_plain_answer(gw_sub_t *sub, struct MHD_Connection *c)
{
    s_plain_t *p = (s_plain_t *)sub;
    enum MHD_Result r = json_is_string(p->reply) ? s_send_text(c, p->code, p->reply)
                                                 : gw_send_json(c, p->code, p->reply);
    sub->destroy(sub);
    return r;
}

void gw_sub_reply(gw_t *g, uint64_t id, int code, json_t *reply)
{
    s_plain_t *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->sub = (gw_sub_t){.g = g, .id = id, .answer = s_plain_answer, .destroy = s_plain_destroy};
    p->code = code;
    p->reply = reply ? reply : proto_status_new(PROTO_EINTERNAL, "no answer", NULL);
    gw_sub_ready(&p->sub);
}

bool gw_sub_pending(gw_t *g, const gw_conn_t *x)
{
    return s_find(g, x->id) != NULL;
}

enum MHD_Result gw_sub_resume(gw_t *g, gw_conn_t *x)
{
    gw_sub_t *s = s_find(g, x->id);
    if (!s)
        return MHD_YES;
    s_unlink(s);
    x->state = GW_C_SENT;
    return s->answer(s, x->c);
}

void gw_sub_forget(gw_t *g, const gw_conn_t *x)
{
    gw_sub_t *s = s_find(g, x->id);
    if (!s)
        return;
    s_unlink(s);
    s->destroy(s);
}

void gw_sub_stop_all(gw_t *g)
{
    gw_logs_stop_all(g);
    gw_exec_stop_all(g);
}

/* ---- containers ------------------------------------------------------------------- */

/* "[a b]" (Go's fmt of a []string) of the names in list. */
static void s_names(const json_t *list, char *buf, size_t n)
{
    size_t i, len = 1;
    json_t *c;
    snprintf(buf, n, "[");
    json_array_foreach(list, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? " " : "", name ? name : "");
    }
    if (len < n)
        snprintf(buf + len, n - len, "]");
}

static bool s_has(const json_t *list, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *cn = json_string_value(json_object_get(c, "name"));
        if (cn && !strcmp(cn, name))
            return true;
    }
    return false;
}

const char *gw_sub_container(const json_t *pod, const char *name, json_t **err)
{
    const json_t *ctrs = proto_obj_get(pod, "spec.containers");
    const json_t *init = proto_obj_get(pod, "spec.initContainers");
    const char *pname = proto_obj_name(pod) ? proto_obj_name(pod) : "";
    char msg[2600], a[1200], b[1200];
    if (name && *name) {
        if (s_has(ctrs, name) || s_has(init, name))
            return name;
        snprintf(msg, sizeof msg, "container %s is not valid for pod %s", name, pname);
    } else if (json_array_size(ctrs) == 1) {
        return json_string_value(json_object_get(json_array_get(ctrs, 0), "name"));
    } else {
        s_names(ctrs, a, sizeof a);
        s_names(init, b, sizeof b);
        snprintf(msg, sizeof msg,
                 "a container name must be specified for pod %s, choose one of: %s%s%s", pname, a,
                 json_array_size(init) ? " or one of the init containers: " : "",
                 json_array_size(init) ? b : "");
    }
    *err = proto_status_new(PROTO_EBADREQUEST, msg, NULL);
    return NULL;
}

/* ---- dispatch ------------------------------------------------------------------- */

static enum MHD_Result s_portforward(gw_conn_t *x)
{
    json_t *st = gw_status_http(501, "NotImplemented",
                                "pods/portforward is not implemented by zkube's gateway: "
                                "port-forward needs SPDY streams, which zkube does not speak; "
                                "the process driver's pods listen on the node's addresses");
    x->state = GW_C_SENT;
    enum MHD_Result r = gw_send_json(x->c, 501, st);
    json_decref(st);
    return r;
}

enum MHD_Result gw_sub_start(gw_t *g, gw_conn_t *x, const char *method)
{
    if (!strcmp(x->route.sub, "log"))
        return gw_logs_start(g, x, method);
    if (!strcmp(x->route.sub, "exec"))
        return gw_exec_start(g, x, method);
    return s_portforward(x);
}
