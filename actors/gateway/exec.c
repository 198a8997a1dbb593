/*
 * actors/gateway/exec.c — `pods/{name}/exec` over WebSocket, as kubectl
 * 1.32 calls it (`GET ...?command=sh&command=-c&command=...&container=c&
 * stdin=true&stdout=true&stderr=true&tty=true`, subprotocol
 * v5.channel.k8s.io, else v4.channel.k8s.io).
 *
 * Before the upgrade, everything that can fail is checked and answered as a
 * Kubernetes Status (so kubectl's SPDY fallback, which follows a refused
 * upgrade, prints the same reason): the flags, the pod, its container and
 * node, the handshake. Then MHD sends 101 and hands over the socket, and the
 * session drives a stream on the pod's kubelet (actors/kubelet/stream.c):
 * `stream.open` runs the command (with a terminal when tty); one
 * `stream.io` read waits at a time and its stdout goes out on channel 1,
 * stderr on channel 2; channel 0 (stdin) is written with `stream.io`
 * writes, one at a time, while the socket is read only as long as little
 * input waits (backpressure both ways); channel 4 (resize) becomes a write's
 * resize; v5's CLOSE signal on channel 255 closes the command's input. At
 * the end the metav1.Status goes on channel 3 (Success, or NonZeroExitCode
 * with the exit code as an ExitCode cause — what kubectl turns into its own
 * exit code), and the session closes with 1000. A client that goes away
 * closes the stream (the kubelet kills the command).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/gateway/internal.h"
#include "actors/gateway/upgrade.h"
#include "actors/gateway/ws.h"
#include "protocol/b64.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_MAX_ARGS 1024      /* command entries */
#define S_MAX_ARGV_BYTES (256u << 10)
#define S_MAX_IN (2u << 20)        /* unparsed input bytes held */
#define S_CHUNK (32u << 10)        /* payload bytes per data frame */
#define S_IN_HIGH (1u << 20)       /* stdin held before the socket is no longer read */
#define S_OUT_HIGH (1u << 20)      /* output held before no more is asked for */
#define S_WRITE_MAX (64u << 10)    /* stdin bytes per kubelet write */
#define S_CALL_MS 15000
#define S_SVC_MAX (GW_NAME_MAX + 16)

static const char *const s_protocols[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};

/* A request until MHD upgrades it. */
typedef struct s_req {
    gw_sub_t sub;
    json_t *body; /* the kubelet's `stream.open` body */
    bool out, err;
    int ws;        /* gw_ws_check_upgrade's verdict */
    char why[160]; /* ... and its reason */
    const char *proto;
    char accept[GW_WS_ACCEPT_LEN + 1];
    char svc[S_SVC_MAX]; /* kubelet-<node> */
} s_req_t;

/* An upgraded connection. */
typedef struct s_sess {
    gw_up_t up; /* first: the socket, framing, output */
    json_t *body;
    char svc[S_SVC_MAX];
    char stream[64]; /* the kubelet's stream id ("" until open, and after the end) */
    bool out, err;
    bool reading, writing, in_closed, close_sent;
    uint8_t *pin; /* stdin waiting for the kubelet */
    size_t pinlen, pincap;
    json_t *resize; /* a resize waiting for the kubelet */
} s_sess_t;

static void s_req_destroy(gw_sub_t *sub)
{
    s_req_t *r = (s_req_t *)sub;
    json_decref(r->body);
    free(r);
}

/* Answers the suspended request with a Status (stolen) and frees r. */
static void s_done(s_req_t *r, int code, json_t *status)
{
    gw_t *g = r->sub.g;
    uint64_t id = r->sub.id;
    s_req_destroy(&r->sub);
    gw_sub_reply(g, id, code, status);
}

/* ---- the session as gw_up sees it ---------------------------------------------------- */

static void s_destroy(gw_up_t *u)
{
    s_sess_t *s = (s_sess_t *)u;
    if (s->stream[0]) { /* the client went away: the kubelet ends the command */
        json_t *b = json_pack("{s:s}", "stream", s->stream);
        rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
        rt_call(u->g->a, s->svc, "stream.close", b, &o, NULL, NULL);
        json_decref(b);
    }
    json_decref(s->body);
    json_decref(s->resize);
    free(s->pin);
    free(s);
}

static bool s_want_read(const gw_up_t *u)
{
    return ((const s_sess_t *)u)->pinlen < S_IN_HIGH; /* the rest waits in the socket */
}

/* Input for the command: channel 0 (stdin), 4 (resize), 255 (v5 CLOSE). */
static void s_input(gw_up_t *u, int opcode, const uint8_t *d, size_t len)
{
    s_sess_t *s = (s_sess_t *)u;
    (void)opcode;
    if (len < 1)
        return;
    if (d[0] == 0 && !s->in_closed) {
        if (s->pinlen + len - 1 > s->pincap) {
            size_t cap = s->pincap ? s->pincap : 16384;
            while (cap < s->pinlen + len - 1)
                cap *= 2;
            uint8_t *p = realloc(s->pin, cap);
            if (!p)
                abort();
            s->pin = p;
            s->pincap = cap;
        }
        memcpy(s->pin + s->pinlen, d + 1, len - 1);
        s->pinlen += len - 1;
    } else if (d[0] == 4) { /* {"Width":80,"Height":24} */
        json_t *v = json_loadb((const char *)d + 1, len - 1, 0, NULL);
        json_int_t w = json_integer_value(json_object_get(v, "Width"));
        json_int_t h = json_integer_value(json_object_get(v, "Height"));
        if (w > 0 && h > 0 && w < 10000 && h < 10000) {
            json_decref(s->resize);
            s->resize = json_pack("{s:I, s:I}", "width", w, "height", h);
        }
        json_decref(v);
    } else if (d[0] == 255 && len >= 2 && d[1] == 0) /* v5: stdin is closed */
        s->in_closed = true;
}

static void s_pump(gw_up_t *u);
static void s_run(gw_up_t *u);

static const gw_up_ops_t s_ops = {
    .input = s_input, .want_read = s_want_read, .started = s_run, .pump = s_pump,
    .destroy = s_destroy};

/* ---- the stream's output ---------------------------------------------------------- */

static void s_data(s_sess_t *s, uint8_t channel, const char *text, size_t len)
{
    for (size_t off = 0; off < len; off += S_CHUNK) {
        size_t n = len - off < S_CHUNK ? len - off : S_CHUNK;
        gw_ws_out_frame(&s->up.o, GW_WS_BINARY, &channel, 1, text + off, n);
    }
}

/* Decodes the base64 member key of body onto channel. */
static void s_data_b64(s_sess_t *s, uint8_t channel, const json_t *body, const char *key)
{
    const json_t *v = json_object_get(body, key);
    size_t n = 0;
    char *d = json_is_string(v) ? proto_b64_decode(json_string_value(v), json_string_length(v), &n)
                                : NULL;
    if (d && n)
        s_data(s, channel, d, n);
    free(d);
}

/* The metav1.Status of channel 3 for the command's exit code. */
static json_t *s_exit_status(const s_sess_t *s, int rc)
{
    if (rc == 0)
        return proto_status_success(200, NULL);
    char msg[300], num[8];
    char *argv = json_dumps(json_object_get(s->body, "command"), JSON_COMPACT);
    snprintf(msg, sizeof msg,
             "command terminated with non-zero exit code: error executing command %.200s, "
             "exit code %d",
             argv ? argv : "[]", rc);
    free(argv);
    snprintf(num, sizeof num, "%d", rc);
    return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "kind", "Status",
                     "apiVersion", "v1", "metadata", "status", "Failure", "message", msg,
                     "reason", "NonZeroExitCode", "details", "causes", "reason", "ExitCode",
                     "message", num);
}

/* Ends the session with st (stolen) on channel 3. */
static void s_finish(s_sess_t *s, json_t *st)
{
    char *text = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    s_data(s, 3, text ? text : "", text ? strlen(text) : 0);
    free(text);
    s->stream[0] = '\0'; /* ended (or never opened): nothing to close */
    gw_up_close(&s->up, GW_WS_CLOSE_NORMAL, "");
}

/* A kubelet error as the Status of channel 3. */
static json_t *s_call_status(int code, const json_t *body)
{
    const char *msg = json_string_value(json_object_get(body, "message"));
    int perr = code >= 100 ? proto_err_from_status(body) : PROTO_EUNAVAILABLE;
    return proto_status_new(perr ? perr : PROTO_EINTERNAL, msg ? msg : "exec failed", NULL);
}

/* rt_call's arg: the session by id (it may be gone when the reply comes). */
static uint64_t *s_idp(const s_sess_t *s)
{
    uint64_t *idp = malloc(sizeof *idp);
    if (!idp)
        abort();
    *idp = s->up.id;
    return idp;
}

static s_sess_t *s_from(void *arg)
{
    gw_up_t *u = gw_up_find(*(uint64_t *)arg);
    free(arg);
    return u && !u->dead && !u->closing ? (s_sess_t *)u : NULL;
}

static void s_on_read(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_sess_t *s = s_from(arg);
    (void)a;
    if (!s)
        return;
    s->reading = false;
    if (code != 200)
        s_finish(s, s_call_status(code, body));
    else {
        if (s->out)
            s_data_b64(s, 1, body, "stdout");
        if (s->err)
            s_data_b64(s, 2, body, "stderr");
        if (json_is_true(json_object_get(body, "end"))) {
            json_int_t rc = json_integer_value(json_object_get(body, "exitCode"));
            s_finish(s, s_exit_status(s, rc >= 0 && rc <= 255 ? (int)rc : 255));
        }
    }
    gw_up_done(&s->up);
}

static void s_on_write(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_sess_t *s = s_from(arg);
    (void)a;
    (void)body;
    if (!s)
        return;
    s->writing = false;
    if (code != 200) /* the command's input is gone: drop what waits */
        s->pinlen = 0;
    gw_up_done(&s->up);
}

static void s_call_io(s_sess_t *s, json_t *b, rt_reply_fn *fn)
{
    json_object_set_new(b, "stream", json_string(s->stream));
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
    uint64_t *idp = s_idp(s);
    int rc = rt_call(s->up.g->a, s->svc, "stream.io", b, &o, fn, idp);
    json_decref(b);
    if (rc < 0) {
        free(idp);
        s_finish(s, proto_status_new(PROTO_EINTERNAL, "cannot send the request to the kubelet",
                                     NULL));
    }
}

/* Keeps one read and one write in flight while there is work for them. */
static void s_pump(gw_up_t *u)
{
    s_sess_t *s = (s_sess_t *)u;
    if (!s->stream[0] || u->dead || u->closing)
        return;
    if (!s->writing && (s->pinlen || s->resize || (s->in_closed && !s->close_sent))) {
        json_t *b = json_object();
        size_t n = s->pinlen < S_WRITE_MAX ? s->pinlen : S_WRITE_MAX;
        if (n) {
            char *enc = proto_b64_encode(s->pin, n);
            json_object_set_new(b, "data", json_string(enc));
            free(enc);
            memmove(s->pin, s->pin + n, s->pinlen - n);
            s->pinlen -= n;
        }
        if (s->resize) {
            json_object_set_new(b, "resize", s->resize);
            s->resize = NULL;
        }
        if (s->in_closed && !s->pinlen && !s->close_sent) {
            json_object_set_new(b, "close", json_true());
            s->close_sent = true;
        }
        s->writing = true;
        s_call_io(s, b, s_on_write);
    }
    if (!s->reading && !u->closing && u->o.len - u->o.off < S_OUT_HIGH) {
        s->reading = true;
        s_call_io(s, json_pack("{s:i}", "waitMs", 2000), s_on_read);
    }
}

static void s_on_open(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_sess_t *s = s_from(arg);
    (void)a;
    if (!s)
        return;
    const char *id = json_string_value(json_object_get(body, "stream"));
    if (code != 200 || !id)
        s_finish(s, s_call_status(code, body));
    else
        snprintf(s->stream, sizeof s->stream, "%s", id);
    gw_up_done(&s->up);
}

static void s_run(gw_up_t *u)
{
    s_sess_t *s = (s_sess_t *)u;
    uint64_t *idp = s_idp(s);
    /* no retries: running a command twice is not idempotent */
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
    if (rt_call(u->g->a, s->svc, "stream.open", s->body, &o, s_on_open, idp) < 0) {
        free(idp);
        s_finish(s, proto_status_new(PROTO_EINTERNAL, "cannot send the request to the kubelet",
                                     NULL));
    }
}

/* ---- the upgrade ----------------------------------------------------------------- */

static enum MHD_Result s_answer_upgrade(gw_sub_t *sub, struct MHD_Connection *c)
{
    s_req_t *r = (s_req_t *)sub;
    s_sess_t *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    gw_up_init(&s->up, sub->g, &s_ops, false, S_MAX_IN);
    s->body = json_incref(r->body);
    snprintf(s->svc, sizeof s->svc, "%s", r->svc);
    s->out = r->out;
    s->err = r->err;
    const char *headers[] = {MHD_HTTP_HEADER_UPGRADE, "websocket", "Sec-WebSocket-Accept",
                             r->accept, "Sec-WebSocket-Protocol", r->proto, NULL};
    enum MHD_Result ok = gw_up_answer(&s->up, c, headers);
    sub->destroy(sub);
    return ok;
}

/* ---- before the upgrade ------------------------------------------------------------ */

static void s_on_pod(rt_actor_t *a, int code, const json_t *pod, void *arg)
{
    s_req_t *r = arg;
    json_t *err = NULL;
    char msg[400];
    (void)a;
    if (code != 200 || !json_is_object(pod)) {
        s_done(r, code, pod ? json_incref((json_t *)pod) : NULL);
        return;
    }
    const char *ctr =
        gw_sub_container(pod, json_string_value(json_object_get(r->body, "container")), &err);
    if (!ctr) {
        s_done(r, 400, err);
        return;
    }
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (!node || !*node || strlen(node) > GW_NAME_MAX) {
        snprintf(msg, sizeof msg, "pod %s does not have a host assigned",
                 proto_obj_name(pod) ? proto_obj_name(pod) : "");
        s_done(r, 400, proto_status_new(PROTO_EBADREQUEST, msg, NULL));
        return;
    }
    if (r->ws != 1) {
        s_done(r, 400, proto_status_new(PROTO_EBADREQUEST, r->why, NULL));
        return;
    }
    snprintf(r->svc, sizeof r->svc, "kubelet-%s", node);
    json_object_set_new(r->body, "container", json_string(ctr));
    r->sub.answer = s_answer_upgrade;
    gw_sub_ready(&r->sub);
}

static enum MHD_Result s_collect_cmd(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    if (key && !strcmp(key, "command") && json_array_size(cls) <= S_MAX_ARGS)
        json_array_append_new(cls, json_string(value ? value : ""));
    return MHD_YES;
}

/* The command from the query; NULL with a reason in why. */
static json_t *s_command(gw_conn_t *x, const char **why)
{
    json_t *cmd = json_array();
    size_t i, total = 0;
    json_t *v;
    MHD_get_connection_values(x->c, MHD_GET_ARGUMENT_KIND, s_collect_cmd, cmd);
    json_array_foreach(cmd, i, v) total += json_string_length(v) + 1;
    *why = !json_array_size(cmd) || !json_string_length(json_array_get(cmd, 0))
               ? "you must specify at least one command for the container"
           : json_array_size(cmd) > S_MAX_ARGS || total > S_MAX_ARGV_BYTES
               ? "the command is too long"
               : NULL;
    if (*why) {
        json_decref(cmd);
        return NULL;
    }
    return cmd;
}

static const char *s_arg(gw_conn_t *x, const char *key)
{
    return MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, key);
}

static const char *s_hdr(gw_conn_t *x, const char *key)
{
    return MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, key);
}

/* A reason to refuse the flags; NULL when all is well. */
static const char *s_flags_why(gw_conn_t *x)
{
    bool in = gw_sub_truthy(s_arg(x, "stdin")), out = gw_sub_truthy(s_arg(x, "stdout"));
    bool err = gw_sub_truthy(s_arg(x, "stderr"));
    if (!in && !out && !err)
        return "you must specify at least one of stdin, stdout, stderr";
    return NULL;
}

/* The handshake's verdict, kept until the pod has been checked. */
static void s_handshake(s_req_t *r, gw_conn_t *x, const char *method)
{
    r->ws = gw_ws_check_upgrade(method, s_hdr(x, "Upgrade"), s_hdr(x, "Connection"),
                                s_hdr(x, "Sec-WebSocket-Version"), s_hdr(x, "Sec-WebSocket-Key"),
                                r->why, sizeof r->why);
    if (r->ws == 0)
        snprintf(r->why, sizeof r->why,
                 "zkube's gateway serves exec over WebSocket only (%s or %s); SPDY is not "
                 "supported",
                 s_protocols[0], s_protocols[1]);
    if (r->ws != 1)
        return;
    r->proto = gw_ws_pick_protocol(s_hdr(x, "Sec-WebSocket-Protocol"), s_protocols);
    if (!r->proto) {
        r->ws = PROTO_EBADREQUEST;
        snprintf(r->why, sizeof r->why, "exec needs the WebSocket subprotocol %s or %s",
                 s_protocols[0], s_protocols[1]);
        return;
    }
    gw_ws_accept(s_hdr(x, "Sec-WebSocket-Key"), r->accept);
}

static enum MHD_Result s_reply_now(gw_conn_t *x, int perr, const char *msg)
{
    json_t *st = proto_status_new(perr, msg, NULL);
    x->state = GW_C_SENT;
    enum MHD_Result r = gw_send_json(x->c, proto_err_http(perr), st);
    json_decref(st);
    return r;
}

enum MHD_Result gw_exec_start(gw_t *g, gw_conn_t *x, const char *method)
{
    const char *why = NULL;
    if (strcmp(method, "GET") && strcmp(method, "POST"))
        return s_reply_now(x, PROTO_EMETHOD,
                           "the server does not allow this method on the requested resource");
    if (!*x->route.name || !*x->route.ns)
        return s_reply_now(x, PROTO_ENOTFOUND, "the server could not find the requested resource");
    json_t *cmd = s_command(x, &why);
    if (!why)
        why = s_flags_why(x);
    if (why) {
        json_decref(cmd);
        return s_reply_now(x, PROTO_EBADREQUEST, why);
    }
    s_req_t *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->sub = (gw_sub_t){.g = g, .id = x->id, .destroy = s_req_destroy};
    r->body = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "type", "exec", "namespace",
                        x->route.ns, "name", x->route.name, "command", cmd, "stdin",
                        gw_sub_truthy(s_arg(x, "stdin")), "tty", gw_sub_truthy(s_arg(x, "tty")));
    const char *ctr = s_arg(x, "container");
    if (ctr && *ctr)
        json_object_set_new(r->body, "container", json_string(ctr));
    r->out = gw_sub_truthy(s_arg(x, "stdout"));
    r->err = gw_sub_truthy(s_arg(x, "stderr"));
    s_handshake(r, x, method);
    json_t *get = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", x->route.ns, "name",
                            x->route.name);
    rt_call_opts_t o = {.timeout_ms = 10000, .retries = 2};
    int rc = rt_call(g->a, "apiserver", "get", get, &o, s_on_pod, r);
    json_decref(get);
    if (rc < 0) {
        s_req_destroy(&r->sub);
        return s_reply_now(x, PROTO_EINTERNAL, "cannot send the request to the apiserver");
    }
    x->state = GW_C_WAIT;
    MHD_suspend_connection(x->c);
    return MHD_YES;
}
