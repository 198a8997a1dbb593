/*
 * actors/gateway/http.c — libmicrohttpd driven by the actor's own loop: the
 * daemon's epoll fd is one more fd of rt_run, MHD's timeouts are a one-shot
 * timer, and a request whose answer needs the apiserver is suspended
 * (MHD_suspend_connection) while its rt_call is in flight, then resumed
 * from the reply callback. Everything runs on the loop's thread.
 *
 * Request life: the access handler is called once with no body (a
 * gw_conn_t is made), once per body chunk (appended, up to GW_MAX_BODY),
 * then once more to act: discovery is answered at once, a resource request
 * becomes one apiserver call (request.c), a watch a stream (watch.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/gateway/internal.h"
#include "actors/gateway/ws.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "protocol/table.h"
#include "runtime/log.h"

/* Per attempt; retried twice on timeout or no apiserver (the apiserver
 * answers a retried write from its reply cache, so retries are safe): an
 * apiserver killed and restarted meanwhile does not fail the request. */
#define S_CALL_TIMEOUT_MS 10000
#define S_CALL_RETRIES 2
#define S_TOO_LARGE "the request body is too large (limit 32 MiB)"

uint64_t gw_next_id(gw_t *g)
{
    return ++g->next_id;
}

static gw_conn_t *s_conn_find(gw_t *g, uint64_t id)
{
    for (gw_conn_t *x = g->conns; x; x = x->next)
        if (x->id == id)
            return x;
    return NULL;
}

/* ---- running MHD ------------------------------------------------------------ */

static void s_on_timer(rt_actor_t *a, void *arg)
{
    gw_t *g = arg;
    (void)a;
    g->timer = 0;
    gw_kick(g);
}

static void s_arm(gw_t *g)
{
    MHD_UNSIGNED_LONG_LONG t = 1000;
    if (MHD_get_timeout(g->d, &t) != MHD_YES || t > 1000)
        t = 1000;
    if (g->timer)
        rt_timer_cancel(g->a, g->timer);
    g->timer = rt_timer_add(g->a, (int)t, false, s_on_timer, g);
    if (g->timer < 0)
        g->timer = 0;
}

void gw_kick(gw_t *g)
{
    if (g->in_mhd) {
        g->rerun = true;
        return;
    }
    do {
        g->rerun = false;
        g->in_mhd = true;
        MHD_run(g->d);
        g->in_mhd = false;
    } while (g->rerun);
    s_arm(g);
}

static void s_on_fd(rt_actor_t *a, int fd, short revents, void *arg)
{
    (void)a;
    (void)fd;
    (void)revents;
    gw_kick(arg);
}

/* ---- responses ------------------------------------------------------------- */

static enum MHD_Result s_send(struct MHD_Connection *c, int code, char *text, size_t len,
                              const char *ctype)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)code, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result gw_send_json(struct MHD_Connection *c, int code, const json_t *body)
{
    if (code < 100 || code > 599)
        code = 500;
    if (json_is_string(body)) { /* health checks answer plain text */
        char *t = strdup(json_string_value(body));
        return s_send(c, code, t, strlen(t), "text/plain; charset=utf-8");
    }
    char *t = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!t && !(t = strdup("{}")))
        abort();
    size_t len = strlen(t);
    return s_send(c, code, t, len, "application/json");
}

static enum MHD_Result s_send_status(struct MHD_Connection *c, int perr, const char *msg)
{
    json_t *st = proto_status_new(perr, msg, NULL);
    enum MHD_Result r = gw_send_json(c, proto_err_http(perr), st);
    json_decref(st);
    return r;
}

/* ---- connections ---------------------------------------------------------- */

static gw_conn_t *s_conn_new(gw_t *g, struct MHD_Connection *c)
{
    gw_conn_t *x = calloc(1, sizeof *x);
    if (!x)
        abort();
    x->id = gw_next_id(g);
    x->g = g;
    x->c = c;
    x->next = g->conns;
    g->conns = x;
    return x;
}

static void s_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode why)
{
    gw_t *g = cls;
    gw_conn_t *x = *con_cls;
    (void)c;
    (void)why;
    if (!x)
        return;
    gw_sub_forget(g, x);
    for (gw_conn_t **pp = &g->conns; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    }
    free(x->body);
    json_decref(x->reply);
    free(x);
    *con_cls = NULL;
}

static void s_append(gw_conn_t *x, const char *data, size_t n)
{
    if (x->too_big || x->len + n > GW_MAX_BODY) {
        x->too_big = true;
        return;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *b = realloc(x->body, cap);
        if (!b)
            abort();
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = 0;
}

static enum MHD_Result s_collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    if (key && strlen(key) < 128 && (!value || strlen(value) < 65536))
        json_object_set_new(cls, key, json_string(value ? value : ""));
    return MHD_YES;
}

/* ---- apiserver replies ------------------------------------------------------ */

/* includeObject=Object: the Table is built here from the plain object(s). */
static json_t *s_local_table(const gw_route_t *r, const json_t *reply)
{
    json_t *items =
        *r->name ? json_pack("[O]", reply) : json_incref(json_object_get(reply, "items"));
    json_t *t = proto_table_build(r->k, items ? items : json_array(), (int64_t)time(NULL), true);
    json_decref(items);
    json_t *md = json_object_get(reply, "metadata");
    if (!*r->name && json_is_object(md))
        json_object_set(t, "metadata", md);
    return t;
}

/* The closure of a call: the connection is found again by id, so a reply
 * for a connection that is gone is dropped. */
typedef struct s_closure {
    gw_t *g;
    uint64_t id;
} s_closure_t;

static void s_on_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_closure_t *cl = arg;
    gw_t *gw = cl->g;
    gw_conn_t *x = s_conn_find(gw, cl->id);
    (void)a;
    free(cl);
    if (!x || x->state != GW_C_WAIT)
        return;
    x->code = code;
    if (x->local_table && code == 200 && body) {
        x->reply = s_local_table(&x->route, body);
    } else if (body && gw_gv_is_old(x->route.group, x->route.version)) {
        x->reply = json_deep_copy(body);
        gw_relabel(x->reply, x->route.k, x->route.group, x->route.version);
    } else {
        x->reply = body ? json_incref((json_t *)body) : NULL;
    }
    x->state = GW_C_DONE;
    MHD_resume_connection(x->c);
    gw_kick(gw);
}

static enum MHD_Result s_call(gw_t *g, gw_conn_t *x, const char *op, const json_t *body)
{
    s_closure_t *arg = malloc(sizeof *arg);
    if (!arg)
        abort();
    *arg = (s_closure_t){g, x->id};
    rt_call_opts_t o = {.timeout_ms = S_CALL_TIMEOUT_MS, .retries = S_CALL_RETRIES};
    int rc = rt_call(g->a, "apiserver", op, body, &o, s_on_reply, arg);
    if (rc < 0) {
        free(arg);
        return s_send_status(x->c, PROTO_EINTERNAL, "cannot send the request to the apiserver");
    }
    x->state = GW_C_WAIT;
    MHD_suspend_connection(x->c);
    return MHD_YES;
}

void gw_conn_done(gw_t *g, uint64_t id, int code, json_t *reply)
{
    gw_conn_t *x = s_conn_find(g, id);
    if (!x || x->state != GW_C_WAIT) {
        json_decref(reply);
        return;
    }
    x->code = code;
    x->reply = reply;
    x->state = GW_C_DONE;
    MHD_resume_connection(x->c);
    gw_kick(g);
}

/* ---- dispatch -------------------------------------------------------------- */

/* As Kubernetes' prefixFromUserAgent: a write without fieldManager is
 * managed by the client program ("kubectl/v1.32.4 (linux/amd64) ..." ->
 * "kubectl"). */
static void s_default_manager(struct MHD_Connection *c, json_t *query)
{
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
    if (json_object_get(query, "fieldManager") || !ua || !*ua)
        return;
    char name[128];
    size_t n = strcspn(ua, "/ ");
    snprintf(name, sizeof name, "%.*s", (int)(n < 127 ? n : 127), ua);
    json_object_set_new(query, "fieldManager", json_string(name));
}

static enum MHD_Result s_resource(gw_t *g, gw_conn_t *x, const char *method)
{
    json_t *query = json_object(), *body = NULL;
    MHD_get_connection_values(x->c, MHD_GET_ARGUMENT_KIND, s_collect_query, query);
    s_default_manager(x->c, query);
    const char *ctype = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Content-Type");
    const char *accept = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Accept");
    const char *op = NULL;
    int code = gw_request_build(method, &x->route, query, ctype, x->body, x->len, &op, &body);
    bool table = !code && gw_accept_table(accept);
    const char *inc = json_string_value(json_object_get(query, "includeObject"));
    bool with_objects = inc && !strcmp(inc, "Object");
    json_decref(query);
    enum MHD_Result res;
    if (code) {
        res = gw_send_json(x->c, code, body);
    } else if (!strcmp(op, "watch")) {
        res = gw_watch_start(g, x, body, table);
    } else {
        if (table && (!strcmp(op, "get") || !strcmp(op, "list"))) {
            if (with_objects)
                x->local_table = true;
            else
                json_object_set_new(body, "as", json_string("Table"));
        }
        res = s_call(g, x, op, body);
    }
    json_decref(body);
    return res;
}

static enum MHD_Result s_act(gw_t *g, gw_conn_t *x, const char *url, const char *method)
{
    if (x->too_big)
        return s_send_status(x->c, PROTO_ETOOLARGE, S_TOO_LARGE);
    int rc = gw_route_parse(url, &x->route);
    if (rc == PROTO_EBADREQUEST)
        return s_send_status(x->c, rc, "the request path is malformed");
    if (rc < 0)
        return s_send_status(x->c, PROTO_ENOTFOUND,
                             "the server could not find the requested "
                             "resource");
    if (x->route.type == GW_R_RESOURCE && gw_sub_handles(x->route.k->resource, x->route.sub))
        return gw_sub_start(g, x, method); /* log, exec, portforward */
    if (x->route.type == GW_R_RESOURCE)
        return s_resource(g, x, method);
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return s_send_status(x->c, PROTO_EMETHOD,
                             "the server does not allow this method on "
                             "the requested resource");
    if (x->route.type == GW_R_VERSION)
        return s_call(g, x, "version", NULL);
    int code = 200;
    json_t *doc = gw_discovery(&x->route, &code);
    enum MHD_Result res = gw_send_json(x->c, code, doc);
    json_decref(doc);
    return res;
}

static bool s_declared_too_big(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    return cl && strtoull(cl, NULL, 10) > GW_MAX_BODY;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    gw_t *g = cls;
    gw_conn_t *x = *con_cls;
    (void)version;
    if (!x) {
        *con_cls = s_conn_new(g, c);
        if (s_declared_too_big(c))
            return s_send_status(c, PROTO_ETOOLARGE, S_TOO_LARGE);
        return MHD_YES;
    }
    if (*upload_size) {
        s_append(x, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (gw_sub_pending(g, x)) /* a log answer or stream, an exec upgrade (ws.h) */
        return gw_sub_resume(g, x);
    if (x->state == GW_C_DONE) {
        x->state = GW_C_SENT;
        return gw_send_json(c, x->code, x->reply);
    }
    if (x->state != GW_C_NEW)
        return MHD_YES;
    return s_act(g, x, url, method);
}

/* ---- daemon ---------------------------------------------------------------- */

static int s_sockaddr(const char *bind, int port, struct sockaddr_storage *ss, bool *v6)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    *v6 = strchr(bind, ':') != NULL;
    if (!*v6 && inet_pton(AF_INET, bind, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (*v6 && inet_pton(AF_INET6, bind, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    return -EINVAL;
}

int gw_http_start(gw_t *g, const char *bind, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    bool v6;
    if (s_sockaddr(bind, port, &ss, &v6) < 0) {
        snprintf(err, errlen, "invalid --http-bind address \"%s\"", bind);
        return -EINVAL;
    }
    /* upgrade: exec's WebSocket (exec.c) */
    unsigned flags =
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE | (v6 ? MHD_USE_IPv6 : 0);
    g->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, s_handler, g, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, g,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_END);
    if (!g->d) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", bind, port, strerror(errno));
        return errno ? -errno : -EADDRINUSE;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(g->d, MHD_DAEMON_INFO_EPOLL_FD);
    int rc = di ? rt_fd_add(g->a, di->epoll_fd, POLLIN, s_on_fd, g) : -EINVAL;
    if (rc < 0) {
        snprintf(err, errlen, "cannot watch the HTTP server's epoll fd");
        MHD_stop_daemon(g->d);
        g->d = NULL;
        return rc;
    }
    s_arm(g);
    return 0;
}

void gw_http_stop(gw_t *g)
{
    if (!g->d)
        return;
    gw_watch_stop_all(g);
    gw_sub_stop_all(g); /* MHD_stop_daemon must find no suspended connection */
    for (gw_conn_t *x = g->conns; x; x = x->next) {
        if (x->state == GW_C_WAIT) {
            x->state = GW_C_DONE;
            x->code = 503;
            x->reply = proto_status_new(PROTO_EUNAVAILABLE, "the gateway is shutting down", NULL);
            MHD_resume_connection(x->c);
        }
    }
    MHD_run(g->d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(g->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (di)
        rt_fd_remove(g->a, di->epoll_fd);
    if (g->timer)
        rt_timer_cancel(g->a, g->timer);
    g->timer = 0;
    MHD_stop_daemon(g->d);
    g->d = NULL;
}
