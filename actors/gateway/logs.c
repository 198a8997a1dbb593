/*
 * actors/gateway/logs.c — GET /api/v1/namespaces/{ns}/pods/{name}/log, as
 * `kubectl logs` calls it: the pod is read from the apiserver (to check the
 * container and find the node), then the kubelet of that node is asked
 * (service `kubelet-<node>`, op `logs`, docs/architecture.md) and the log
 * goes back as text/plain. Query parameters are Kubernetes' (container,
 * follow, previous, timestamps, tailLines, sinceSeconds, sinceTime,
 * limitBytes); bad values are a 422 Invalid PodLogOptions.
 *
 * follow=true becomes a chunked response fed by polling the kubelet with
 * the byte offset of its previous answer every S_POLL_MS, until the
 * container stops (or is replaced by a restart), the pod goes away, or the
 * client closes the connection — noticed by peeking at the socket, since a
 * suspended MHD connection is not polled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "actors/gateway/internal.h"
#include "actors/gateway/ws.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_POLL_MS 200
#define S_CALL_MS 5000
#define S_MAX_FAILS 50             /* failed polls in a row (10 s) before a follow ends */
#define S_MAX_BUFFERED (16u << 20) /* unsent bytes before a follow is cut */
#define S_SVC_MAX (GW_NAME_MAX + 16)

/* A request until its first kubelet answer (the calls' closure). */
typedef struct s_req {
    gw_sub_t sub;   /* used when the answer is a stream */
    json_t *params; /* the kubelet's `logs` body */
    bool follow;
    char svc[S_SVC_MAX];
    json_t *first; /* the kubelet's first answer, for a follow */
} s_req_t;

/* A follow stream, owned by its MHD response. */
typedef struct s_stream {
    uint64_t id;
    gw_t *g;
    struct MHD_Connection *c;
    char svc[S_SVC_MAX];
    json_t *params; /* with the offset of the next poll */
    json_int_t restarts;
    int64_t remaining; /* limitBytes still allowed; -1 without a limit */
    char *buf;
    size_t len, off, cap;
    bool done, gone, suspended, inflight;
    int timer, fails;
    struct s_stream *next;
} s_stream_t;

static s_stream_t *s_streams;

static void s_req_destroy(gw_sub_t *sub)
{
    s_req_t *r = (s_req_t *)sub;
    json_decref(r->params);
    json_decref(r->first);
    free(r);
}

/* Answers the suspended request (reply stolen) and frees r. */
static void s_done(s_req_t *r, int code, json_t *reply)
{
    gw_t *g = r->sub.g;
    uint64_t id = r->sub.id;
    s_req_destroy(&r->sub);
    gw_sub_reply(g, id, code, reply);
}

/* ---- the query ---------------------------------------------------------------- */

static const char *s_arg(gw_conn_t *x, const char *key)
{
    const char *v = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, key);
    return v && *v ? v : NULL;
}

static void s_cause(json_t *causes, const char *field, const char *msg)
{
    json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason", "FieldValueInvalid",
                                            "message", msg, "field", field));
}

/* An integer parameter into params; a cause when it is not one or < min. */
static void s_int(gw_conn_t *x, json_t *params, const char *key, long long min, json_t *causes)
{
    const char *v = s_arg(x, key);
    if (!v)
        return;
    char *end, msg[200];
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n > 1000000000000LL) {
        snprintf(msg, sizeof msg, "Invalid value: \"%.64s\": must be an integer", v);
        s_cause(causes, key, msg);
    } else if (n < min) {
        snprintf(msg, sizeof msg, "Invalid value: %lld: must be greater than%s %lld", n,
                 min ? "" : " or equal to", min ? min - 1 : min);
        s_cause(causes, key, msg);
    } else {
        json_object_set_new(params, key, json_integer(n));
    }
}

/* sinceTime (RFC 3339) as sinceSeconds from now; at most one of the two. */
static void s_since_time(gw_conn_t *x, json_t *params, json_t *causes)
{
    const char *v = s_arg(x, "sinceTime");
    if (!v)
        return;
    int64_t t = proto_parse_time(v);
    if (json_object_get(params, "sinceSeconds")) {
        s_cause(causes, "sinceTime",
                "at most one of `sinceTime` or `sinceSeconds` may be specified");
    } else if (t < 0) {
        s_cause(causes, "sinceTime", "must be an RFC 3339 time");
    } else {
        int64_t secs = (int64_t)time(NULL) - t;
        json_object_set_new(params, "sinceSeconds", json_integer(secs < 1 ? 1 : secs));
    }
}

/* The kubelet's body from the query; NULL with *err on a bad value. */
static json_t *s_params(gw_conn_t *x, json_t **err)
{
    json_t *p = json_pack("{s:s, s:s, s:b, s:b}", "namespace", x->route.ns, "name", x->route.name,
                          "previous", gw_sub_truthy(s_arg(x, "previous")), "timestamps",
                          gw_sub_truthy(s_arg(x, "timestamps")));
    json_t *causes = json_array();
    s_int(x, p, "tailLines", 0, causes);
    s_int(x, p, "sinceSeconds", 1, causes);
    s_int(x, p, "limitBytes", 1, causes);
    s_since_time(x, p, causes);
    if (s_arg(x, "container"))
        json_object_set_new(p, "container", json_string(s_arg(x, "container")));
    if (!json_array_size(causes)) {
        json_decref(causes);
        return p;
    }
    json_decref(p);
    *err = proto_status_invalid("PodLogOptions", NULL, x->route.name, causes);
    return NULL;
}

/* ---- the stream ----------------------------------------------------------------- */

static s_stream_t *s_stream_find(uint64_t id)
{
    for (s_stream_t *st = s_streams; st; st = st->next)
        if (st->id == id)
            return st;
    return NULL;
}

static void s_wake(s_stream_t *st)
{
    if (!st->suspended)
        return;
    st->suspended = false;
    MHD_resume_connection(st->c);
}

static void s_end(s_stream_t *st)
{
    st->done = true;
    s_wake(st);
}

static void s_append(s_stream_t *st, const char *text, size_t n)
{
    if (st->remaining >= 0 && (int64_t)n > st->remaining)
        n = (size_t)st->remaining;
    if (st->remaining >= 0)
        st->remaining -= (int64_t)n;
    if (!n)
        return;
    if (st->len - st->off + n > S_MAX_BUFFERED) {
        rt_warn("logs from %s: client too slow, closing the stream", st->svc);
        st->gone = true;
        s_end(st);
        return;
    }
    if (st->off) {
        memmove(st->buf, st->buf + st->off, st->len - st->off);
        st->len -= st->off;
        st->off = 0;
    }
    if (st->len + n > st->cap) {
        size_t cap = st->cap ? st->cap : 8192;
        while (cap < st->len + n)
            cap *= 2;
        char *b = realloc(st->buf, cap);
        if (!b)
            abort();
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, text, n);
    st->len += n;
    s_wake(st);
}

/* One kubelet answer: the text, the next offset, whether to go on. */
static void s_take_reply(s_stream_t *st, const json_t *body)
{
    json_int_t rc = json_integer_value(json_object_get(body, "restartCount"));
    if (rc != st->restarts) { /* the container followed has ended; this is the next one */
        s_end(st);
        return;
    }
    const json_t *log = json_object_get(body, "log");
    if (json_is_string(log))
        s_append(st, json_string_value(log), json_string_length(log));
    json_object_set(st->params, "offset", json_object_get(body, "offset"));
    if (!json_is_true(json_object_get(body, "running")) || !st->remaining)
        s_end(st);
}

static void s_on_poll(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    uint64_t *idp = arg;
    s_stream_t *st = s_stream_find(*idp);
    (void)a;
    free(idp);
    if (!st)
        return;
    gw_t *g = st->g;
    st->inflight = false;
    if (code == 200) {
        st->fails = 0;
        s_take_reply(st, body);
    } else if (code == 404 || code == 400 || ++st->fails >= S_MAX_FAILS) {
        rt_debug("logs from %s: the stream ends on %d", st->svc, code);
        s_end(st);
    }
    gw_kick(g);
}

/* A suspended connection is not polled: a client that closed its end is
 * seen here as end-of-file on the socket. */
static bool s_client_gone(s_stream_t *st)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(st->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    char b;
    if (!ci)
        return true;
    ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void s_on_tick(rt_actor_t *a, void *arg)
{
    s_stream_t *st = arg;
    gw_t *g = st->g;
    if (st->done)
        return;
    if (st->suspended && s_client_gone(st)) {
        st->gone = true;
        s_end(st);
        gw_kick(g);
        return;
    }
    if (st->inflight)
        return;
    uint64_t *idp = malloc(sizeof *idp);
    if (!idp)
        abort();
    *idp = st->id;
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
    if (rt_call(a, st->svc, "logs", st->params, &o, s_on_poll, idp) < 0) {
        free(idp);
        return;
    }
    st->inflight = true;
}

static ssize_t s_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    s_stream_t *st = cls;
    (void)pos;
    if (st->gone)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (st->off < st->len) {
        size_t n = st->len - st->off < max ? st->len - st->off : max;
        memcpy(buf, st->buf + st->off, n);
        st->off += n;
        return (ssize_t)n;
    }
    if (st->done)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (!st->suspended) {
        st->suspended = true;
        MHD_suspend_connection(st->c);
    }
    return 0;
}

static void s_stream_free(void *cls)
{
    s_stream_t *st = cls;
    for (s_stream_t **pp = &s_streams; *pp; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    if (st->timer > 0)
        rt_timer_cancel(st->g->a, st->timer);
    json_decref(st->params);
    free(st->buf);
    free(st);
}

static s_stream_t *s_stream_new(s_req_t *r, struct MHD_Connection *c)
{
    s_stream_t *st = calloc(1, sizeof *st);
    if (!st)
        abort();
    st->id = gw_next_id(r->sub.g);
    st->g = r->sub.g;
    st->c = c;
    snprintf(st->svc, sizeof st->svc, "%s", r->svc);
    json_int_t limit = json_integer_value(json_object_get(r->params, "limitBytes"));
    st->remaining = limit > 0 ? limit : -1;
    st->params = json_deep_copy(r->params);
    json_object_del(st->params, "tailLines"); /* the first answer applied them */
    json_object_del(st->params, "limitBytes");
    st->restarts = json_integer_value(json_object_get(r->first, "restartCount"));
    s_take_reply(st, r->first);
    st->next = s_streams;
    s_streams = st;
    st->timer = rt_timer_add(st->g->a, S_POLL_MS, true, s_on_tick, st);
    return st;
}

/* The first answer came from a running container: the stream starts with
 * it, and polls go on from its offset (gw_sub_resume calls this from
 * MHD's handler). */
static enum MHD_Result s_answer_stream(gw_sub_t *sub, struct MHD_Connection *c)
{
    s_stream_t *st = s_stream_new((s_req_t *)sub, c);
    sub->destroy(sub);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, s_read, st, s_stream_free);
    if (!resp) {
        s_stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    enum MHD_Result ok = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

void gw_logs_stop_all(gw_t *g)
{
    for (s_stream_t *st = s_streams; st; st = st->next)
        if (st->g == g)
            s_end(st);
}

/* ---- the calls ----------------------------------------------------------------- */

static void s_on_logs(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_req_t *r = arg;
    (void)a;
    if (code != 200 || !json_is_object(body)) {
        s_done(r, code, body ? json_incref((json_t *)body) : NULL);
        return;
    }
    if (r->follow && json_is_true(json_object_get(body, "running"))) {
        r->first = json_incref((json_t *)body);
        r->sub.answer = s_answer_stream;
        gw_sub_ready(&r->sub);
        return;
    }
    const json_t *log = json_object_get(body, "log");
    s_done(r, 200,
           json_stringn(json_string_value(log) ? json_string_value(log) : "",
                        json_string_length(log)));
}

/* The pod's node, or a 400 Status when it has none yet. */
static const char *s_node(const json_t *pod, const char *ctr, json_t **err)
{
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (node && *node && strlen(node) <= GW_NAME_MAX)
        return node;
    char msg[700];
    snprintf(msg, sizeof msg, "container \"%s\" in pod \"%s\" is waiting to start: %s", ctr,
             proto_obj_name(pod) ? proto_obj_name(pod) : "", "ContainerCreating");
    *err = proto_status_new(PROTO_EBADREQUEST, msg, NULL);
    return NULL;
}

static void s_on_pod(rt_actor_t *a, int code, const json_t *pod, void *arg)
{
    s_req_t *r = arg;
    json_t *err = NULL;
    if (code != 200 || !json_is_object(pod)) {
        s_done(r, code, pod ? json_incref((json_t *)pod) : NULL);
        return;
    }
    const char *ctr =
        gw_sub_container(pod, json_string_value(json_object_get(r->params, "container")), &err);
    const char *node = ctr ? s_node(pod, ctr, &err) : NULL;
    if (!node) {
        s_done(r, 400, err);
        return;
    }
    json_object_set_new(r->params, "container", json_string(ctr));
    snprintf(r->svc, sizeof r->svc, "kubelet-%s", node);
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS, .retries = 1}; /* a read: retries are safe */
    if (rt_call(a, r->svc, "logs", r->params, &o, s_on_logs, r) < 0)
        s_done(r, 500,
               proto_status_new(PROTO_EINTERNAL, "cannot send the request to the kubelet", NULL));
}

static enum MHD_Result s_reply_now(gw_conn_t *x, int code, json_t *status)
{
    x->state = GW_C_SENT;
    enum MHD_Result res = gw_send_json(x->c, code, status);
    json_decref(status);
    return res;
}

enum MHD_Result gw_logs_start(gw_t *g, gw_conn_t *x, const char *method)
{
    json_t *err = NULL;
    if (!*x->route.ns || !*x->route.name)
        return s_reply_now(x, 404,
                           proto_status_new(PROTO_ENOTFOUND,
                                            "the server could not find the requested resource",
                                            NULL));
    if (strcmp(method, "GET"))
        return s_reply_now(x, 405,
                           proto_status_new(PROTO_EMETHOD,
                                            "the server does not allow this method "
                                            "on the requested resource",
                                            NULL));
    json_t *params = s_params(x, &err);
    if (!params)
        return s_reply_now(x, 422, err);
    s_req_t *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->sub = (gw_sub_t){.g = g, .id = x->id, .destroy = s_req_destroy};
    r->params = params;
    r->follow = gw_sub_truthy(s_arg(x, "follow"));
    json_t *get = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", x->route.ns, "name",
                            x->route.name);
    rt_call_opts_t o = {.timeout_ms = 10000, .retries = 2};
    int rc = rt_call(g->a, "apiserver", "get", get, &o, s_on_pod, r);
    json_decref(get);
    if (rc < 0) {
        s_req_destroy(&r->sub);
        return s_reply_now(
            x, 500,
            proto_status_new(PROTO_EINTERNAL, "cannot send the request to the apiserver", NULL));
    }
    x->state = GW_C_WAIT;
    MHD_suspend_connection(x->c);
    return MHD_YES;
}
