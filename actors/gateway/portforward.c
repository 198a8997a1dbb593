/*
 * actors/gateway/portforward.c — the pods' streaming subresources as http.c
 * sees them: which requests go to gw_sub_start (`log`, `exec`,
 * `portforward`), the registry of answers waiting to be queued from MHD's
 * handler (plain bodies, log streams, WebSocket upgrades), helpers logs.c
 * and exec.c share, and `portforward` itself.
 *
 * Port-forward is what kubectl 1.32 asks for first: a WebSocket upgrade
 * with subprotocol `SPDY/3.1+portforward.k8s.io`, then SPDY/3.1 frames
 * (spdy.c) carried as a byte stream in WebSocket binary messages. For each
 * local connection kubectl opens a pair of streams (headers `streamtype`
 * error|data, `port`, `requestid`); the gateway answers each SYN_STREAM
 * with a SYN_REPLY and, once a pair is complete, asks the pod's kubelet
 * for a TCP connection (`stream.open` type portforward), then copies bytes
 * both ways with `stream.io` (one read and one write in flight per pair,
 * at most 64 KiB per write), and ends both streams (FIN) when the pod's
 * side closes. Failures go on the pair's error stream as text, worded as
 * the kubelet of Kubernetes words them; kubectl prints them.
 *
 * Flow control (SPDY/3.1, windows of 64 KiB): the gateway sends
 * WINDOW_UPDATE (stream and connection) as the kubelet takes the client's
 * bytes. kubectl's SPDY library (spdystream) neither sends WINDOW_UPDATE
 * nor honours windows, so the client's windows are enforced only once the
 * client shows it keeps them (a WINDOW_UPDATE or an initial window in
 * SETTINGS); until then the gateway's bound is its own buffers: no read
 * from the kubelet while 512 KiB wait for the socket, and no read from the
 * socket while 1 MiB of the client's bytes wait for the kubelet. kubectl's
 * other transport, a plain `Upgrade: SPDY/3.1` (its fallback, and its
 * only one with KUBECTL_PORT_FORWARD_WEBSOCKETS=false), carries the same
 * frames on the socket itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/gateway/internal.h"
#include "actors/gateway/upgrade.h"
#include "actors/gateway/spdy.h"
#include "actors/gateway/ws.h"
#include "protocol/b64.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

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
    gw_up_stop_all(g); /* exec and port-forward sessions */
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

/* ---- port-forward: state ------------------------------------------------------------ */

#define S_PF_PROTOCOL "SPDY/3.1+portforward.k8s.io"
#define S_PF_STREAM_PROTOCOL "portforward.k8s.io"
#define S_SPDY_UPGRADE "SPDY/3.1"
#define S_STREAM_PROTOCOL_HEADER "X-Stream-Protocol-Version"
#define S_MAX_FRAME (1u << 20)   /* payload bytes of one SPDY frame */
#define S_MAX_WS_MSG (2u << 20)  /* bytes of one reassembled WebSocket message */
#define S_MAX_PAIRS 64           /* forwarded connections per session */
#define S_WRITE_MAX (64u << 10)  /* bytes of one stream.io write */
#define S_CHUNK (32u << 10)      /* payload bytes per DATA frame */
#define S_UP_HIGH (1u << 20)     /* client bytes held before the socket is not read */
#define S_OUT_HIGH (512u << 10)  /* bytes for the socket before the kubelet is not read */
#define S_READ_WAIT_MS 5000      /* a stream.io read's waitMs */
#define S_IO_TIMEOUT_MS 20000    /* of one stream.io call */
#define S_OPEN_TIMEOUT_MS 15000  /* of stream.open */
#define S_PAIR_WAIT_MS 30000     /* for a pair's second stream (the kubelet's default) */
#define S_PF_SVC_MAX (GW_NAME_MAX + 16)

typedef struct s_pf s_pf_t;

/* One forwarded connection: kubectl's error and data streams of one
 * requestid, and the kubelet's stream. */
typedef struct s_pair {
    uint64_t id;
    s_pf_t *pf;
    char req[24];        /* requestid */
    uint32_t esid, dsid; /* error and data stream ids; 0 until they come */
    bool e_gone, d_gone; /* reset by the client */
    int port;
    int timer;           /* waiting for the second stream */
    char *kstream;       /* the kubelet's stream id once open */
    bool opening, ended; /* ended: FIN sent on both streams */
    uint8_t *up;         /* client bytes not yet taken by the kubelet */
    size_t uplen, upcap;
    bool up_fin, writing, close_sent;
    uint8_t *down; /* pod bytes not yet framed (client window) */
    size_t downlen, downoff;
    bool reading, pod_end;
    char *pod_err; /* the kubelet's `error` at the end */
    int64_t dwin;  /* the client's window for the data stream */
    struct s_pair *next;
} s_pair_t;

/* An upgraded connection (or one about to be). */
struct s_pf {
    gw_up_t up; /* first: the socket, WebSocket framing or raw bytes, output */
    char ns[64], name[GW_NAME_MAX + 1], uid[64];
    char svc[S_PF_SVC_MAX];
    bool broken;
    uint8_t *sp; /* SPDY bytes not yet parsed */
    size_t splen, spcap;
    gw_spdy_hdec_t *hdec;
    gw_spdy_henc_t *henc;
    uint32_t last_sid;
    bool goaway, peer_fc;
    int64_t conn_win; /* the client's connection window (when peer_fc) */
    int64_t init_win; /* the client's initial stream window */
    size_t up_total;  /* sum of the pairs' uplen */
    s_pair_t *pairs;
    uint64_t next_pair;
};

/* What a kubelet call's reply needs to find its pair again. */
typedef struct s_ref {
    uint64_t pf, pair;
    size_t n; /* a write: bytes sent */
    char svc[S_PF_SVC_MAX];
} s_ref_t;

static s_pf_t *s_pf_find(uint64_t id)
{
    return (s_pf_t *)gw_up_find(id); /* ids are unique across the gateway's sessions */
}

static s_pair_t *s_ref_pair(const s_ref_t *r)
{
    s_pf_t *pf = s_pf_find(r->pf);
    for (s_pair_t *p = pf ? pf->pairs : NULL; p; p = p->next)
        if (p->id == r->pair)
            return p;
    return NULL;
}

/* The pair of a reply's ref (NULL when gone), and its byte count in *n;
 * frees the ref. */
static s_pair_t *s_ref_take(void *arg, size_t *n)
{
    s_ref_t *r = arg;
    s_pair_t *p = s_ref_pair(r);
    if (n)
        *n = r->n;
    free(r);
    return p;
}

static s_ref_t *s_ref_new(const s_pair_t *p, size_t n)
{
    s_ref_t *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->pf = p->pf->up.id;
    r->pair = p->id;
    r->n = n;
    snprintf(r->svc, sizeof r->svc, "%s", p->pf->svc);
    return r;
}

/* Appends src[0..n) to a growing buffer. */
static void s_buf_put(uint8_t **data, size_t *len, size_t *cap, const void *src, size_t n)
{
    if (!n)
        return;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 16384;
        while (c < *len + n)
            c *= 2;
        uint8_t *d = realloc(*data, c);
        if (!d)
            abort();
        *data = d;
        *cap = c;
    }
    memcpy(*data + *len, src, n);
    *len += n;
}

/* ---- port-forward: output ------------------------------------------------------------ */

/* One SPDY frame (header hdr[0..hl), payload data[0..len)) as one binary
 * WebSocket message. */
static void s_out(s_pf_t *pf, const uint8_t *hdr, size_t hl, const void *data, size_t len)
{
    gw_ws_out_t *o = &pf->up.o;
    if (pf->up.closing)
        return;
    if (!pf->up.raw) {
        gw_ws_out_frame(o, GW_WS_BINARY, hdr, hl, data, len);
        return;
    }
    if (o->off && o->off == o->len) /* everything was written: start over */
        o->off = o->len = 0;
    s_buf_put(&o->data, &o->len, &o->cap, hdr, hl);
    s_buf_put(&o->data, &o->len, &o->cap, data, len);
}

static void s_data_frame(s_pf_t *pf, uint32_t sid, uint8_t flags, const void *data, size_t len)
{
    uint8_t h[GW_SPDY_HEADER_LEN];
    gw_spdy_data_header(h, sid, flags, len);
    s_out(pf, h, sizeof h, data, len);
}

/* Text on a stream in frames of S_CHUNK, then FIN when fin. */
static void s_text(s_pf_t *pf, uint32_t sid, const char *text, size_t len, bool fin)
{
    for (size_t off = 0; off < len; off += S_CHUNK) {
        size_t n = len - off < S_CHUNK ? len - off : S_CHUNK;
        s_data_frame(pf, sid, fin && off + n == len ? GW_SPDY_FLAG_FIN : 0, text + off, n);
    }
    if (fin && !len)
        s_data_frame(pf, sid, GW_SPDY_FLAG_FIN, NULL, 0);
}

static void s_rst(s_pf_t *pf, uint32_t sid, uint32_t status)
{
    uint8_t b[GW_SPDY_CTRL_MAX];
    s_out(pf, b, gw_spdy_rst_stream(b, sid, status), NULL, 0);
}

/* WINDOW_UPDATE for n bytes consumed on stream sid (0: none) and on the
 * connection. */
static void s_consumed(s_pf_t *pf, uint32_t sid, size_t n)
{
    uint8_t b[GW_SPDY_CTRL_MAX];
    if (!n)
        return;
    if (sid)
        s_out(pf, b, gw_spdy_window_update(b, sid, (uint32_t)n), NULL, 0);
    s_out(pf, b, gw_spdy_window_update(b, 0, (uint32_t)n), NULL, 0);
}

static bool s_pf_want_read(const gw_up_t *u)
{
    return ((const s_pf_t *)u)->up_total < S_UP_HIGH;
}

static void s_pump_down_all(s_pf_t *pf);

/* The end of every loop callback: output goes out, a dead session goes. */
static void s_pf_done(s_pf_t *pf)
{
    gw_up_done(&pf->up);
}

/* ---- port-forward: pairs ------------------------------------------------------------- */

static void s_kubelet_close(rt_actor_t *a, const char *svc, const char *stream)
{
    json_t *b = json_pack("{s:s}", "stream", stream);
    rt_call_opts_t o = {.timeout_ms = 5000, .retries = 1};
    rt_call(a, svc, "stream.close", b, &o, NULL, NULL);
    json_decref(b);
}

static void s_pair_free(s_pair_t *p)
{
    s_pf_t *pf = p->pf;
    for (s_pair_t **pp = &pf->pairs; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->kstream && !p->pod_end) /* the kubelet frees a stream at its end itself */
        s_kubelet_close(pf->up.g->a, pf->svc, p->kstream);
    if (p->timer > 0)
        rt_timer_cancel(pf->up.g->a, p->timer);
    pf->up_total -= p->uplen;
    free(p->kstream);
    free(p->pod_err);
    free(p->up);
    free(p->down);
    free(p);
}

/* Done with a pair once both of its streams are over on both sides. */
static void s_pair_maybe_free(s_pair_t *p)
{
    bool client_done = p->d_gone || (p->up_fin && !p->writing && !p->uplen);
    if (p->ended && client_done)
        s_pair_free(p);
}

/* Ends the pair from our side: msg (may be NULL) on the error stream, FIN
 * on both streams. */
static void s_pair_end(s_pair_t *p, const char *msg)
{
    s_pf_t *pf = p->pf;
    if (p->ended)
        return;
    p->ended = true;
    if (p->esid && !p->e_gone)
        s_text(pf, p->esid, msg ? msg : "", msg ? strlen(msg) : 0, true);
    if (p->dsid && !p->d_gone)
        s_data_frame(pf, p->dsid, GW_SPDY_FLAG_FIN, NULL, 0);
    if (msg)
        rt_debug("portforward %s/%s request %s: %s", pf->ns, pf->name, p->req, msg);
}

/* A failure worded as Kubernetes' kubelet words it. */
static void s_pair_fail(s_pair_t *p, const char *why)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "error forwarding port %d to pod %s, uid %s: %s", p->port,
             p->pf->name, p->pf->uid, why);
    s_pair_end(p, msg);
}

static const char *s_message(const json_t *body, const char *dflt)
{
    const char *m = json_string_value(json_object_get(body, "message"));
    return m && *m ? m : dflt;
}

/* Calls the pair's kubelet (body stolen); on a send failure the pair
 * fails. True when the call is on its way. */
static bool s_kcall(s_pair_t *p, const char *op, json_t *body, int timeout_ms, rt_reply_fn *cb,
                    size_t n)
{
    rt_call_opts_t o = {.timeout_ms = timeout_ms};
    s_ref_t *r = s_ref_new(p, n);
    int rc = rt_call(p->pf->up.g->a, p->pf->svc, op, body, &o, cb, r);
    json_decref(body);
    if (rc < 0) {
        free(r);
        s_pair_fail(p, "cannot send the request to the kubelet");
    }
    return rc >= 0;
}

/* ---- port-forward: pod -> client ------------------------------------------------------ */

static void s_pump_down(s_pair_t *p);

/* Frames pending pod bytes as far as the client's windows allow. */
static void s_send_down(s_pair_t *p)
{
    s_pf_t *pf = p->pf;
    while (p->downoff < p->downlen && !p->d_gone) {
        int64_t n = (int64_t)(p->downlen - p->downoff);
        if (n > S_CHUNK)
            n = S_CHUNK;
        if (pf->peer_fc && n > p->dwin)
            n = p->dwin;
        if (pf->peer_fc && n > pf->conn_win)
            n = pf->conn_win;
        if (n <= 0)
            return; /* a WINDOW_UPDATE resumes */
        s_data_frame(pf, p->dsid, 0, p->down + p->downoff, (size_t)n);
        p->downoff += (size_t)n;
        p->dwin -= n;
        pf->conn_win -= n;
    }
    free(p->down);
    p->down = NULL;
    p->downlen = p->downoff = 0;
    if (p->pod_end && p->pod_err)
        s_pair_fail(p, p->pod_err);
    else if (p->pod_end)
        s_pair_end(p, NULL);
    else
        s_pump_down(p);
}

static void s_on_read(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_pair_t *p = s_ref_take(arg, NULL);
    (void)a;
    if (!p)
        return;
    s_pf_t *pf = p->pf;
    p->reading = false;
    if (p->ended || p->d_gone) {
        s_pair_maybe_free(p);
    } else if (code != 200) {
        s_pair_fail(p, s_message(body, "reading from the pod failed"));
        s_pair_maybe_free(p);
    } else {
        const json_t *out = json_object_get(body, "stdout");
        const char *err = json_string_value(json_object_get(body, "error"));
        p->pod_end = json_is_true(json_object_get(body, "end"));
        if (err && *err)
            p->pod_err = strdup(err);
        if (json_is_string(out))
            p->down =
                proto_b64_decode(json_string_value(out), json_string_length(out), &p->downlen);
        if (json_is_string(out) && !p->down)
            p->pod_end = true; /* the kubelet sent what is not base64: give up */
        s_send_down(p);
        s_pair_maybe_free(p);
    }
    s_pf_done(pf);
}

/* One read in flight, and none while output waits for the socket. */
static void s_pump_down(s_pair_t *p)
{
    s_pf_t *pf = p->pf;
    if (!p->kstream || p->reading || p->ended || p->pod_end || p->d_gone || p->downlen ||
        pf->up.o.len - pf->up.o.off >= S_OUT_HIGH || pf->up.closing)
        return;
    json_t *b = json_pack("{s:s, s:i}", "stream", p->kstream, "waitMs", S_READ_WAIT_MS);
    p->reading = s_kcall(p, "stream.io", b, S_IO_TIMEOUT_MS, s_on_read, 0);
}

static void s_pump_down_all(s_pf_t *pf)
{
    for (s_pair_t *p = pf->pairs; p; p = p->next)
        s_pump_down(p);
}

/* ---- port-forward: client -> pod ------------------------------------------------------ */

static void s_pump_up(s_pair_t *p);

static void s_on_write(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    size_t n = 0;
    s_pair_t *p = s_ref_take(arg, &n);
    (void)a;
    if (!p)
        return;
    s_pf_t *pf = p->pf;
    p->writing = false;
    if (n)
        memmove(p->up, p->up + n, p->uplen - n);
    p->uplen -= n;
    pf->up_total -= n;
    if (!p->d_gone)
        s_consumed(pf, p->dsid, n);
    else
        s_consumed(pf, 0, n);
    if (code != 200 && !p->ended)
        s_pair_fail(p, s_message(body, "writing to the pod failed"));
    if (code != 200) { /* nothing more reaches the pod */
        pf->up_total -= p->uplen;
        p->uplen = 0;
        p->close_sent = true;
    }
    s_pump_up(p);
    s_pair_maybe_free(p);
    s_pf_done(pf);
}

/* One write in flight: the next S_WRITE_MAX bytes, and the half-close
 * once the client's FIN came and everything before it went. */
static void s_pump_up(s_pair_t *p)
{
    if (!p->kstream || p->writing || p->close_sent || (!p->uplen && !p->up_fin))
        return;
    size_t n = p->uplen < S_WRITE_MAX ? p->uplen : S_WRITE_MAX;
    json_t *b = json_pack("{s:s}", "stream", p->kstream);
    if (n) {
        char *enc = proto_b64_encode(p->up, n);
        json_object_set_new(b, "data", json_string(enc));
        free(enc);
    }
    if (p->up_fin && n == p->uplen) {
        json_object_set_new(b, "close", json_true());
        p->close_sent = true;
    }
    p->writing = s_kcall(p, "stream.io", b, S_IO_TIMEOUT_MS, s_on_write, n);
}

/* ---- port-forward: opening -------------------------------------------------------------- */

static void s_on_open(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_ref_t *r = arg;
    s_pair_t *p = s_ref_pair(r);
    const char *ks = json_string_value(json_object_get(body, "stream"));
    if (!p || p->ended || p->d_gone) { /* nobody wants it any more */
        if (code == 200 && ks)
            s_kubelet_close(a, r->svc, ks);
        free(r);
        if (p)
            s_pair_maybe_free(p);
        return;
    }
    free(r);
    s_pf_t *pf = p->pf;
    p->opening = false;
    if (code != 200 || !ks) {
        s_pair_fail(p, s_message(body, "the kubelet did not open the connection"));
    } else {
        p->kstream = strdup(ks);
        s_pump_up(p);
        s_pump_down(p);
    }
    s_pair_maybe_free(p);
    s_pf_done(pf);
}

static void s_open(s_pair_t *p)
{
    s_pf_t *pf = p->pf;
    if (p->timer > 0)
        rt_timer_cancel(pf->up.g->a, p->timer);
    p->timer = 0;
    json_t *b = json_pack("{s:s, s:s, s:s, s:i}", "type", "portforward", "namespace", pf->ns,
                          "name", pf->name, "port", p->port);
    p->opening = s_kcall(p, "stream.open", b, S_OPEN_TIMEOUT_MS, s_on_open, 0);
}

static void s_on_pair_timeout(rt_actor_t *a, void *arg)
{
    s_pair_t *p = arg;
    s_pf_t *pf = p->pf;
    char msg[96];
    (void)a;
    p->timer = 0;
    snprintf(msg, sizeof msg, "timed out waiting for the streams of request %s", p->req);
    s_pair_end(p, msg);
    s_pair_free(p);
    s_pf_done(pf);
}

/* ---- port-forward: SPDY frames from the client ------------------------------------------ */

/* Ends the session after a protocol error: GOAWAY, then the close frame. */
static void s_pf_broken(s_pf_t *pf, uint32_t status, unsigned ws_code, const char *why)
{
    uint8_t b[GW_SPDY_CTRL_MAX];
    rt_debug("portforward %s/%s: %s; closing", pf->ns, pf->name, why);
    if (!pf->broken)
        s_out(pf, b, gw_spdy_goaway(b, pf->last_sid, status), NULL, 0);
    pf->broken = true;
    gw_up_close(&pf->up, ws_code, why);
}

static s_pair_t *s_pair_by_sid(s_pf_t *pf, uint32_t sid, bool *is_data)
{
    for (s_pair_t *p = pf->pairs; p; p = p->next) {
        if (p->dsid == sid || p->esid == sid) {
            *is_data = p->dsid == sid;
            return p;
        }
    }
    return NULL;
}

static s_pair_t *s_pair_get(s_pf_t *pf, const char *req, int port)
{
    size_t n = 0;
    for (s_pair_t *p = pf->pairs; p; p = p->next, n++)
        if (!strcmp(p->req, req))
            return p;
    if (n >= S_MAX_PAIRS)
        return NULL;
    s_pair_t *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->id = ++pf->next_pair;
    p->pf = pf;
    snprintf(p->req, sizeof p->req, "%s", req);
    p->port = port;
    p->dwin = pf->init_win;
    p->next = pf->pairs;
    pf->pairs = p;
    p->timer = rt_timer_add(pf->up.g->a, S_PAIR_WAIT_MS, false, s_on_pair_timeout, p);
    return p;
}

/* The stream's headers as the kubelet checks them; NULL when fine. */
static const char *s_stream_why(const gw_spdy_headers_t *h, int *port, bool *data, char *why,
                                size_t wl)
{
    size_t pl = 0, tl = 0;
    const char *ps = gw_spdy_header(h, "port", &pl), *t = gw_spdy_header(h, "streamtype", &tl);
    char num[8];
    char *end = NULL;
    if (!ps || !pl)
        return "\"port\" header is required";
    snprintf(num, sizeof num, "%.*s", (int)(pl < 7 ? pl : 7), ps);
    long v = strtol(num, &end, 10);
    if (pl > 5 || !end || *end || num[0] == '-' || num[0] == '+' || v > 65535) {
        snprintf(why, wl, "unable to parse \"%.*s\" as a port", (int)(pl < 16 ? pl : 16), ps);
        return why;
    }
    if (v < 1) {
        snprintf(why, wl, "port \"%s\" must be > 0", num);
        return why;
    }
    *port = (int)v;
    if (!t || !tl)
        return "\"streamtype\" header is required";
    *data = tl == 4 && !memcmp(t, "data", 4);
    if (!*data && !(tl == 5 && !memcmp(t, "error", 5))) {
        snprintf(why, wl, "invalid stream type \"%.*s\"", (int)(tl < 16 ? tl : 16), t);
        return why;
    }
    return NULL;
}

/* The pair's key: requestid, or for clients that send none the id kubelets
 * derive from the stream id (error: id, data: id - 2). */
static void s_request_id(const gw_spdy_headers_t *h, uint32_t sid, bool data, char *out, size_t n)
{
    size_t l = 0;
    const char *r = gw_spdy_header(h, "requestid", &l);
    if (r && l)
        snprintf(out, n, "%.*s", (int)(l < n - 1 ? l : n - 1), r);
    else
        snprintf(out, n, "%u", data ? sid - 2 : sid);
}

/* Adds stream sid (headers checked) to its pair; replies first, as
 * Kubernetes does, so a duplicate's error reaches the pair's error
 * stream. */
static void s_add_stream(s_pf_t *pf, uint32_t sid, const gw_spdy_headers_t *h, int port, bool data,
                         bool fin)
{
    char req[24], msg[160];
    uint8_t b[256];
    s_request_id(h, sid, data, req, sizeof req);
    s_pair_t *p = s_pair_get(pf, req, port);
    if (!p) {
        s_rst(pf, sid, GW_SPDY_RST_REFUSED_STREAM);
        return;
    }
    ssize_t n = gw_spdy_henc_frame(pf->henc, GW_SPDY_SYN_REPLY, 0, sid, NULL, 0, b, sizeof b);
    if (n < 0) {
        s_pf_broken(pf, GW_SPDY_GOAWAY_INTERNAL_ERROR, GW_WS_CLOSE_INTERNAL, "header encoder");
        return;
    }
    s_out(pf, b, (size_t)n, NULL, 0);
    uint32_t *slot = data ? &p->dsid : &p->esid;
    if (*slot) {
        snprintf(msg, sizeof msg,
                 "error processing stream for request %s: %s stream already "
                 "assigned",
                 req, data ? "data" : "error");
        if (p->esid && !p->e_gone && !p->ended)
            s_text(pf, p->esid, msg, strlen(msg), false);
        return;
    }
    *slot = sid;
    if (data) { /* the kubelet forwards to the data stream's port */
        p->port = port;
        p->up_fin = fin;
    }
    if (p->esid && p->dsid && !p->opening && !p->kstream && !p->ended)
        s_open(p);
}

static void s_syn_stream(s_pf_t *pf, const gw_spdy_frame_t *f)
{
    gw_spdy_headers_t h;
    char why[80];
    int port = 0;
    bool data = false;
    int rc = gw_spdy_hdec_decode(pf->hdec, f->data, f->len, &h);
    if (rc < 0) { /* the shared zlib stream is lost */
        s_pf_broken(pf, GW_SPDY_GOAWAY_PROTOCOL_ERROR, GW_WS_CLOSE_PROTOCOL, "bad header block");
        return;
    }
    if (!(f->stream & 1) || f->stream <= pf->last_sid) {
        s_rst(pf, f->stream, GW_SPDY_RST_PROTOCOL_ERROR);
        return;
    }
    pf->last_sid = f->stream;
    const char *bad = s_stream_why(&h, &port, &data, why, sizeof why);
    if (pf->goaway || bad) {
        if (bad)
            rt_debug("portforward %s/%s: stream %u refused: %s", pf->ns, pf->name, f->stream, bad);
        s_rst(pf, f->stream, GW_SPDY_RST_REFUSED_STREAM);
        return;
    }
    s_add_stream(pf, f->stream, &h, port, data, f->flags & GW_SPDY_FLAG_FIN);
}

static void s_data_in(s_pf_t *pf, const gw_spdy_frame_t *f)
{
    bool is_data = false;
    s_pair_t *p = s_pair_by_sid(pf, f->stream, &is_data);
    bool fin = f->flags & GW_SPDY_FLAG_FIN;
    if (!p || !is_data || p->ended || p->d_gone || p->up_fin || p->close_sent) {
        s_consumed(pf, p && !p->ended ? f->stream : 0, f->len); /* read and dropped */
        if (p && is_data && fin)
            p->up_fin = true;
        if (p)
            s_pair_maybe_free(p);
        return;
    }
    s_buf_put(&p->up, &p->uplen, &p->upcap, f->data, f->len);
    pf->up_total += f->len;
    p->up_fin = fin;
    s_pump_up(p);
}

static void s_rst_in(s_pf_t *pf, const gw_spdy_frame_t *f)
{
    bool is_data = false;
    s_pair_t *p = s_pair_by_sid(pf, f->stream, &is_data);
    if (!p)
        return;
    if (!is_data) {
        p->e_gone = true;
        return;
    }
    p->d_gone = true; /* kubectl resets the data stream when it is done with it */
    pf->up_total -= p->uplen;
    p->uplen = 0;
    p->ended = true;
    s_pair_free(p);
}

/* The client's windows, once it shows that it keeps them. */
static void s_window_in(s_pf_t *pf, const gw_spdy_frame_t *f)
{
    uint32_t v = 0;
    if (f->type == GW_SPDY_SETTINGS) {
        if (!gw_spdy_setting(f, GW_SPDY_SETTINGS_INITIAL_WINDOW_SIZE, &v) || v > 0x7fffffff)
            return;
        for (s_pair_t *p = pf->pairs; p; p = p->next)
            p->dwin += (int64_t)v - pf->init_win;
        pf->init_win = v;
    } else if (!f->stream) {
        pf->conn_win += f->value;
    } else {
        bool is_data = false;
        s_pair_t *p = s_pair_by_sid(pf, f->stream, &is_data);
        if (!p || !is_data)
            return;
        p->dwin += f->value;
        if (p->dwin > GW_SPDY_MAX_WINDOW) {
            s_rst(pf, f->stream, GW_SPDY_RST_FLOW_CONTROL_ERROR);
            p->d_gone = true;
            p->ended = true;
            s_pair_free(p);
            return;
        }
    }
    pf->peer_fc = true;
    for (s_pair_t *p = pf->pairs; p; p = p->next)
        if (p->downlen)
            s_send_down(p);
}

static void s_frame(s_pf_t *pf, const gw_spdy_frame_t *f)
{
    uint8_t b[GW_SPDY_CTRL_MAX];
    gw_spdy_headers_t h;
    switch (f->type) {
    case GW_SPDY_SYN_STREAM:
        s_syn_stream(pf, f);
        break;
    case GW_SPDY_DATA:
        s_data_in(pf, f);
        break;
    case GW_SPDY_RST_STREAM:
        s_rst_in(pf, f);
        break;
    case GW_SPDY_PING: /* the client's are odd: answered; ours would be even */
        if (f->value & 1)
            s_out(pf, b, gw_spdy_ping(b, f->value), NULL, 0);
        break;
    case GW_SPDY_GOAWAY:
        pf->goaway = true;
        break;
    case GW_SPDY_SETTINGS:
    case GW_SPDY_WINDOW_UPDATE:
        s_window_in(pf, f);
        break;
    case GW_SPDY_SYN_REPLY: /* none expected; the zlib stream must stay in step */
    case GW_SPDY_HEADERS:
        if (gw_spdy_hdec_decode(pf->hdec, f->data, f->len, &h) < 0)
            s_pf_broken(pf, GW_SPDY_GOAWAY_PROTOCOL_ERROR, GW_WS_CLOSE_PROTOCOL,
                        "bad header block");
        break;
    default: /* unknown control frames are ignored (SPDY/3 §2.2.1) */
        break;
    }
}

/* Appends a binary message's bytes to the SPDY input and handles every
 * whole frame. */
static void s_spdy_input(s_pf_t *pf, const uint8_t *data, size_t len)
{
    if (pf->broken)
        return;
    s_buf_put(&pf->sp, &pf->splen, &pf->spcap, data, len);
    size_t used = 0;
    while (!pf->broken && used < pf->splen) {
        gw_spdy_frame_t f;
        ssize_t n = gw_spdy_parse(pf->sp + used, pf->splen - used, S_MAX_FRAME, &f);
        if (n == GW_SPDY_PARTIAL)
            break;
        if (n < 0) {
            s_pf_broken(pf, GW_SPDY_GOAWAY_PROTOCOL_ERROR, GW_WS_CLOSE_PROTOCOL,
                        n == GW_SPDY_ETOOBIG ? "SPDY frame too large" : "bad SPDY frame");
            break;
        }
        s_frame(pf, &f);
        used += (size_t)n;
    }
    if (pf->broken)
        used = pf->splen;
    memmove(pf->sp, pf->sp + used, pf->splen - used);
    pf->splen -= used;
}

/* ---- port-forward: the session as gw_up sees it ------------------------------------------ */

static void s_pf_destroy(gw_up_t *u)
{
    s_pf_t *pf = (s_pf_t *)u;
    while (pf->pairs)
        s_pair_free(pf->pairs);
    gw_spdy_hdec_destroy(&pf->hdec);
    gw_spdy_henc_destroy(&pf->henc);
    free(pf->sp);
    free(pf);
}

/* SPDY bytes: binary WebSocket messages, or the socket's own bytes. */
static void s_pf_input(gw_up_t *u, int opcode, const uint8_t *data, size_t len)
{
    s_pf_t *pf = (s_pf_t *)u;
    if (u->raw || opcode == GW_WS_BINARY)
        s_spdy_input(pf, data, len);
    else /* kubectl's tunnel refuses anything but binary messages too */
        s_pf_broken(pf, GW_SPDY_GOAWAY_PROTOCOL_ERROR, GW_WS_CLOSE_PROTOCOL,
                    "text message in a SPDY tunnel");
}

static void s_pf_on_broken(gw_up_t *u, unsigned code, const char *why)
{
    s_pf_broken((s_pf_t *)u, GW_SPDY_GOAWAY_PROTOCOL_ERROR, code, why);
}

static void s_pf_pump(gw_up_t *u)
{
    s_pump_down_all((s_pf_t *)u);
}

static const gw_up_ops_t s_pf_ops = {.input = s_pf_input,
                                     .broken = s_pf_on_broken,
                                     .want_read = s_pf_want_read,
                                     .pump = s_pf_pump,
                                     .destroy = s_pf_destroy};

/* ---- port-forward: the upgrade -------------------------------------------------------- */

/* A request until MHD upgrades it. */
typedef struct s_pfreq {
    gw_sub_t sub;
    char ns[64], name[GW_NAME_MAX + 1];
    int ws;        /* 1: an upgrade we serve; else PROTO_EBADREQUEST */
    bool raw;      /* ... to SPDY/3.1 itself, not to a WebSocket */
    char why[200]; /* ... and its reason */
    char accept[GW_WS_ACCEPT_LEN + 1];
    char uid[64];           /* the pod's, for error messages */
    char svc[S_PF_SVC_MAX]; /* kubelet-<node> */
} s_pfreq_t;

static void s_pfreq_destroy(gw_sub_t *sub)
{
    free(sub);
}

static s_pf_t *s_pf_new(gw_t *g, const s_pfreq_t *r)
{
    s_pf_t *pf = calloc(1, sizeof *pf);
    if (!pf)
        abort();
    gw_up_init(&pf->up, g, &s_pf_ops, r->raw, S_MAX_WS_MSG);
    snprintf(pf->ns, sizeof pf->ns, "%s", r->ns);
    snprintf(pf->name, sizeof pf->name, "%s", r->name);
    snprintf(pf->uid, sizeof pf->uid, "%s", r->uid);
    snprintf(pf->svc, sizeof pf->svc, "%s", r->svc);
    pf->hdec = gw_spdy_hdec_new();
    pf->henc = gw_spdy_henc_new();
    pf->init_win = GW_SPDY_INITIAL_WINDOW;
    pf->conn_win = GW_SPDY_INITIAL_WINDOW;
    return pf;
}

static enum MHD_Result s_pf_answer(gw_sub_t *sub, struct MHD_Connection *c)
{
    s_pfreq_t *r = (s_pfreq_t *)sub;
    s_pf_t *pf = s_pf_new(sub->g, r);
    const char *spdy[] = {MHD_HTTP_HEADER_UPGRADE, S_SPDY_UPGRADE, S_STREAM_PROTOCOL_HEADER,
                          S_PF_STREAM_PROTOCOL, NULL};
    const char *ws[] = {MHD_HTTP_HEADER_UPGRADE, "websocket", "Sec-WebSocket-Accept", r->accept,
                        "Sec-WebSocket-Protocol", S_PF_PROTOCOL, NULL};
    enum MHD_Result ok = gw_up_answer(&pf->up, c, r->raw ? spdy : ws);
    sub->destroy(sub);
    return ok;
}

/* ---- port-forward: before the upgrade --------------------------------------------------- */

static void s_pf_on_pod(rt_actor_t *a, int code, const json_t *pod, void *arg)
{
    s_pfreq_t *r = arg;
    gw_t *g = r->sub.g;
    uint64_t id = r->sub.id;
    char msg[400];
    (void)a;
    const char *node = proto_obj_str(pod, "spec.nodeName");
    const char *uid = proto_obj_str(pod, "metadata.uid");
    json_t *st = NULL;
    if (code != 200 || !json_is_object(pod)) {
        st = pod ? json_incref((json_t *)pod) : NULL;
    } else if (!node || !*node || strlen(node) > GW_NAME_MAX) {
        snprintf(msg, sizeof msg, "pod %s does not have a host assigned", r->name);
        st = proto_status_new(PROTO_EBADREQUEST, msg, NULL);
        code = 400;
    } else if (r->ws != 1) {
        st = proto_status_new(PROTO_EBADREQUEST, r->why, NULL);
        code = 400;
    }
    if (st || code != 200) {
        s_pfreq_destroy(&r->sub);
        gw_sub_reply(g, id, code, st);
        return;
    }
    snprintf(r->uid, sizeof r->uid, "%s", uid ? uid : "");
    snprintf(r->svc, sizeof r->svc, "kubelet-%s", node);
    r->sub.answer = s_pf_answer;
    gw_sub_ready(&r->sub);
}

static const char *s_pf_hdr(gw_conn_t *x, const char *key)
{
    return MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, key);
}

/* A plain SPDY/3.1 upgrade: kubectl's fallback when the WebSocket one is
 * refused, and kubectl before 1.31 (or with
 * KUBECTL_PORT_FORWARD_WEBSOCKETS=false). */
static void s_pf_spdy_handshake(s_pfreq_t *r, gw_conn_t *x)
{
    static const char *const spdy[] = {S_SPDY_UPGRADE, NULL}, *const up[] = {"upgrade", NULL};
    static const char *const ours[] = {S_PF_STREAM_PROTOCOL, NULL};
    const char *proto = s_pf_hdr(x, S_STREAM_PROTOCOL_HEADER);
    r->ws = PROTO_EBADREQUEST;
    if (!gw_ws_pick_protocol(s_pf_hdr(x, "Upgrade"), spdy) ||
        !gw_ws_pick_protocol(s_pf_hdr(x, "Connection"), up)) {
        snprintf(r->why, sizeof r->why, "Upgrade request required");
    } else if (proto && !gw_ws_pick_protocol(proto, ours)) {
        snprintf(r->why, sizeof r->why,
                 "unable to upgrade: unable to negotiate protocol: client supports [%.80s], "
                 "server accepts [%s]",
                 proto, S_PF_STREAM_PROTOCOL);
    } else {
        r->ws = 1;
        r->raw = true;
    }
}

/* The handshake's verdict, kept until the pod has been checked. */
static void s_pf_handshake(s_pfreq_t *r, gw_conn_t *x, const char *method)
{
    static const char *const ours[] = {S_PF_PROTOCOL, NULL};
    r->ws = gw_ws_check_upgrade(method, s_pf_hdr(x, "Upgrade"), s_pf_hdr(x, "Connection"),
                                s_pf_hdr(x, "Sec-WebSocket-Version"),
                                s_pf_hdr(x, "Sec-WebSocket-Key"), r->why, sizeof r->why);
    if (r->ws == 0) {
        s_pf_spdy_handshake(r, x);
        return;
    }
    if (r->ws != 1)
        return;
    if (!gw_ws_pick_protocol(s_pf_hdr(x, "Sec-WebSocket-Protocol"), ours)) {
        r->ws = PROTO_EBADREQUEST;
        snprintf(r->why, sizeof r->why, "port-forward needs the WebSocket subprotocol %s",
                 S_PF_PROTOCOL);
        return;
    }
    gw_ws_accept(s_pf_hdr(x, "Sec-WebSocket-Key"), r->accept);
}

static enum MHD_Result s_pf_reply_now(gw_conn_t *x, int perr, const char *msg)
{
    json_t *st = proto_status_new(perr, msg, NULL);
    x->state = GW_C_SENT;
    enum MHD_Result r = gw_send_json(x->c, proto_err_http(perr), st);
    json_decref(st);
    return r;
}

static enum MHD_Result s_portforward(gw_t *g, gw_conn_t *x, const char *method)
{
    if (strcmp(method, "GET") && strcmp(method, "POST"))
        return s_pf_reply_now(x, PROTO_EMETHOD,
                              "the server does not allow this method on the requested resource");
    if (!*x->route.name || !*x->route.ns)
        return s_pf_reply_now(x, PROTO_ENOTFOUND,
                              "the server could not find the requested resource");
    s_pfreq_t *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->sub = (gw_sub_t){.g = g, .id = x->id, .destroy = s_pfreq_destroy};
    snprintf(r->ns, sizeof r->ns, "%s", x->route.ns);
    snprintf(r->name, sizeof r->name, "%s", x->route.name);
    s_pf_handshake(r, x, method);
    json_t *get = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", x->route.ns, "name",
                            x->route.name);
    rt_call_opts_t o = {.timeout_ms = 10000, .retries = 2};
    int rc = rt_call(g->a, "apiserver", "get", get, &o, s_pf_on_pod, r);
    json_decref(get);
    if (rc < 0) {
        s_pfreq_destroy(&r->sub);
        return s_pf_reply_now(x, PROTO_EINTERNAL, "cannot send the request to the apiserver");
    }
    x->state = GW_C_WAIT;
    MHD_suspend_connection(x->c);
    return MHD_YES;
}

/* ---- dispatch ------------------------------------------------------------------- */

enum MHD_Result gw_sub_start(gw_t *g, gw_conn_t *x, const char *method)
{
    if (!strcmp(x->route.sub, "log"))
        return gw_logs_start(g, x, method);
    if (!strcmp(x->route.sub, "exec"))
        return gw_exec_start(g, x, method);
    return s_portforward(g, x, method);
}
