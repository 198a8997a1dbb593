/*
 * actors/kubelet/logs.c — container logs: the CRI line framing written by
 * the process shim (and readable from any driver that writes it), its
 * rendering for readers (timestamps, tail, since, limit), the kubelet's
 * `logs` service op, and the client `zkube kubelet logs`.
 *
 * Follow (`-f`) is done by the client polling with an offset: a request
 * with `offset` returns the complete records written since that byte
 * offset and the next offset — simple, stateless at the kubelet and robust
 * to lost messages. The reply says whether the container still runs
 * (`running`) and which instance it is (`restartCount`) so the client stops
 * when the container it follows ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

/* ---- framing -------------------------------------------------------------- */

size_t kubelet_log_frame(char *out, int64_t wall_ns, const char *stream, bool partial,
                         const char *text, size_t len)
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int n = (int)strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    n += sprintf(out + n, ".%09lldZ %s %c ", (long long)(wall_ns % 1000000000), stream,
                 partial ? 'P' : 'F');
    memcpy(out + n, text, len);
    out[(size_t)n + len] = '\n';
    return (size_t)n + len + 1;
}

/* "2026-11-27T06:00:00.123456789Z" to ns since the epoch; -1 when malformed. */
static int64_t s_parse_ts(const char *s, size_t len)
{
    struct tm tm = {0};
    char buf[40];
    if (len < 20 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *rest = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return -1;
    int64_t ns = 0;
    if (*rest == '.') {
        int digits = 0;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*rest - '0');
        for (; digits < 9; digits++)
            ns *= 10;
    }
    if (strcmp(rest, "Z") != 0)
        return -1;
    return (int64_t)timegm(&tm) * 1000000000 + ns;
}

typedef struct s_rec {
    const char *ts, *text;
    size_t ts_len, text_len;
    bool partial;
    int64_t ns;
} s_rec_t;

/* Splits one framed line; false when it is not a CRI record. */
static bool s_parse_rec(const char *line, size_t len, s_rec_t *r)
{
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1)
        return false;
    const char *p = sp1 + 1, *end = line + len;
    const char *sp2 = memchr(p, ' ', (size_t)(end - p));
    if (!sp2 || sp2 + 1 >= end || (sp2[1] != 'F' && sp2[1] != 'P'))
        return false;
    if (sp2 + 2 < end && sp2[2] != ' ')
        return false;
    r->ts = line;
    r->ts_len = (size_t)(sp1 - line);
    r->ns = s_parse_ts(line, r->ts_len);
    if (r->ns < 0)
        return false;
    r->partial = sp2[1] == 'P';
    r->text = sp2 + 3 <= end ? sp2 + 3 : end;
    r->text_len = (size_t)(end - r->text);
    return true;
}

typedef struct s_out {
    char *buf;
    size_t len, cap;
    size_t *lines; /* start offset of each output line */
    size_t nlines, lcap;
} s_out_t;

static void s_put(s_out_t *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->buf = realloc(o->buf, o->cap);
        if (!o->buf)
            abort();
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void s_line_start(s_out_t *o)
{
    if (o->nlines == o->lcap) {
        o->lcap = o->lcap ? o->lcap * 2 : 64;
        o->lines = realloc(o->lines, o->lcap * sizeof *o->lines);
        if (!o->lines)
            abort();
    }
    o->lines[o->nlines++] = o->len;
}

char *kubelet_log_render(const char *buf, size_t len, const kl_log_query_t *q, size_t *outlen)
{
    s_out_t o = {0};
    bool continuing = false;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        s_rec_t r;
        if (!s_parse_rec(buf + pos, ll, &r)) {
            s_line_start(&o);
            s_put(&o, buf + pos, ll);
            s_put(&o, "\n", 1);
            continuing = false;
        } else if (!q->since_ns || r.ns >= q->since_ns || continuing) {
            if (!continuing) {
                s_line_start(&o);
                if (q->timestamps) {
                    s_put(&o, r.ts, r.ts_len);
                    s_put(&o, " ", 1);
                }
            }
            s_put(&o, r.text, r.text_len);
            if (!r.partial)
                s_put(&o, "\n", 1);
            continuing = r.partial;
        }
        pos += ll + 1;
    }
    size_t from = 0;
    if (q->tail_lines >= 0 && (size_t)q->tail_lines < o.nlines)
        from = q->tail_lines == 0 ? o.len : o.lines[o.nlines - (size_t)q->tail_lines];
    size_t n = o.len - from;
    if (q->limit_bytes > 0 && (size_t)q->limit_bytes < n)
        n = (size_t)q->limit_bytes;
    char *res = malloc(n + 1);
    if (!res)
        abort();
    if (n)
        memcpy(res, o.buf + from, n);
    res[n] = '\0';
    free(o.buf);
    free(o.lines);
    *outlen = n;
    return res;
}

/* ---- the kubelet service: `logs` (here) and `exec` (exec.c) --------------- */

/* Reads [from, end of file) up to KL_LOG_MAX_BYTES (the last bytes when
 * reading a whole file); *next gets the offset after the last complete line. */
static char *s_read_file(const char *path, int64_t from, size_t *len, int64_t *next)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    *len = 0;
    *next = from;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    int64_t size = st.st_size;
    if (from > size)
        from = size;
    if (from < 0)
        from = size - KL_LOG_MAX_BYTES > 0 ? size - KL_LOG_MAX_BYTES : 0;
    size_t want = (size_t)(size - from);
    if (want > KL_LOG_MAX_BYTES)
        want = KL_LOG_MAX_BYTES;
    char *buf = malloc(want + 1);
    ssize_t got = buf ? pread(fd, buf, want, from) : -1;
    close(fd);
    if (got < 0)
        got = 0;
    size_t keep = (size_t)got;
    while (keep > 0 && buf[keep - 1] != '\n')
        keep--; /* a record still being written waits for the next poll */
    *len = keep;
    *next = from + (int64_t)keep;
    return buf;
}

static json_t *s_bad(int code, const char *fmt, const char *a, const char *b)
{
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, a, b);
    return proto_status_new(code, msg, NULL);
}

/* The container asked for, or the only one; NULL with *err set otherwise. */
static kl_ctr_t *s_pick(kl_pod_t *p, const char *cname, json_t **err)
{
    if (!cname || !*cname) {
        if (p->nctrs - p->ninit == 1)
            return &p->ctrs[p->ninit];
        char names[1024] = "";
        for (size_t i = p->ninit; i < p->nctrs; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     i > p->ninit ? " " : "", p->ctrs[i].name);
        char msg[1400];
        snprintf(msg, sizeof msg,
                 "a container name must be specified for pod %s, choose one of: [%s]", p->name,
                 names);
        *err = proto_status_new(PROTO_EBADREQUEST, msg, NULL);
        return NULL;
    }
    for (size_t i = 0; i < p->nctrs; i++)
        if (!strcmp(p->ctrs[i].name, cname))
            return &p->ctrs[i];
    *err = s_bad(PROTO_EBADREQUEST, "container %s is not valid for pod %s", cname, p->name);
    return NULL;
}

static void s_query(const json_t *b, kl_log_query_t *q)
{
    json_t *tail = json_object_get(b, "tailLines"), *since = json_object_get(b, "sinceSeconds");
    json_t *lim = json_object_get(b, "limitBytes");
    q->timestamps = json_is_true(json_object_get(b, "timestamps"));
    q->tail_lines = json_is_integer(tail) ? json_integer_value(tail) : -1;
    q->since_ns = json_is_integer(since) && json_integer_value(since) > 0
                      ? proto_wall_us() * 1000 - json_integer_value(since) * 1000000000LL
                      : 0;
    q->limit_bytes = json_is_integer(lim) && json_integer_value(lim) > 0 ? json_integer_value(lim)
                                                                         : 0;
}

static json_t *s_logs(kl_node_t *n, const json_t *b, int *code)
{
    const char *ns = json_string_value(json_object_get(b, "namespace"));
    const char *name = json_string_value(json_object_get(b, "name"));
    json_t *err = NULL;
    *code = 400;
    if (!name || !*name)
        return proto_status_new(PROTO_EBADREQUEST, "name is required", NULL);
    kl_pod_t *p = kl_pod_find(n, ns && *ns ? ns : "default", name);
    if (!p) {
        *code = 404;
        return proto_status_notfound("pods", NULL, name);
    }
    kl_ctr_t *c = s_pick(p, json_string_value(json_object_get(b, "container")), &err);
    if (!c)
        return err;
    bool previous = json_is_true(json_object_get(b, "previous"));
    if (previous && c->restarts == 0)
        return s_bad(PROTO_EBADREQUEST,
                     "previous terminated container \"%s\" in pod \"%s\" not found", c->name,
                     p->name);
    if (!previous && !c->id[0]) {
        const char *why = proto_obj_str(c->state, "waiting.reason") ?: "ContainerCreating";
        char msg[1024];
        snprintf(msg, sizeof msg, "container \"%s\" in pod \"%s\" is waiting to start: %s",
                 c->name, p->name, why);
        return proto_status_new(PROTO_EBADREQUEST, msg, NULL);
    }
    char path[PATH_MAX + 600];
    kl_ctr_log_path(p, c, previous ? c->restarts - 1 : c->restarts, path, sizeof path);
    json_t *off = json_object_get(b, "offset");
    int64_t from = json_is_integer(off) ? json_integer_value(off) : -1, next;
    kl_log_query_t q;
    s_query(b, &q);
    if (from >= 0)
        q.tail_lines = -1;
    size_t len, outlen;
    char *raw = s_read_file(path, from, &len, &next);
    char *text = kubelet_log_render(raw ? raw : "", len, &q, &outlen);
    free(raw);
    json_t *reply = json_pack("{s:s%, s:I, s:b, s:i}", "log", text, outlen, "offset",
                              (json_int_t)next, "running",
                              !previous && c->st.state == KL_STATE_RUNNING, "restartCount",
                              c->restarts);
    free(text);
    *code = 200;
    return reply;
}

static void s_on_req(rt_actor_t *a, rt_req_t *req, void *arg)
{
    kl_node_t *n = arg;
    int code = 400;
    json_t *body;
    if (!strncmp(req->env.op, "stream.", 7) && json_is_object(req->env.body)) {
        kl_stream_handle(n, &req); /* exec with stdin, port-forward (stream.c) */
        return;
    }
    if (strcmp(req->env.op, "logs") != 0 || !json_is_object(req->env.body))
        body = proto_status_new(PROTO_EBADREQUEST, "unknown operation", NULL);
    else
        body = s_logs(n, req->env.body, &code);
    rt_reply(a, &req, code, body);
    json_decref(body);
}

int kl_logs_serve(kl_node_t *n)
{
    return rt_serve(n->k->a, n->service, s_on_req, n);
}

/* ---- client --------------------------------------------------------------- */

static volatile sig_atomic_t s_interrupted;
static void s_on_int(int sig)
{
    (void)sig;
    s_interrupted = 1;
}

static int s_fail(int code, const json_t *body)
{
    const char *msg = json_string_value(json_object_get(body, "message"));
    fprintf(stderr, "Error from server: %s\n", msg ? msg : "request failed");
    return code;
}

static int s_node_of(rt_actor_t *a, const json_t *q, char *node, size_t n)
{
    json_t *get = json_pack("{s:s, s:O, s:O}", "resource", "pods", "namespace",
                            json_object_get(q, "namespace"), "name", json_object_get(q, "name"));
    json_t *pod = NULL;
    int code = rt_call_sync(a, "apiserver", "get", get, NULL, &pod);
    json_decref(get);
    if (code != 200) {
        code = s_fail(code, pod);
        json_decref(pod);
        return code;
    }
    const char *nn = proto_obj_str(pod, "spec.nodeName");
    if (!nn || !*nn) {
        fprintf(stderr, "Error from server (BadRequest): pod %s does not have a host assigned\n",
                proto_obj_name(pod));
        json_decref(pod);
        return 400;
    }
    snprintf(node, n, "kubelet-%s", nn);
    json_decref(pod);
    return 0;
}

int kubelet_logs_client(rt_actor_t *a, const json_t *q, bool follow)
{
    char svc[KL_NAME_MAX + 16];
    int code = s_node_of(a, q, svc, sizeof svc);
    if (code)
        return code;
    json_t *req = json_deep_copy(q);
    signal(SIGINT, s_on_int);
    for (;;) {
        json_t *rep = NULL;
        rt_call_opts_t o = {.timeout_ms = 5000, .retries = 1};
        code = rt_call_sync(a, svc, "logs", req, &o, &rep);
        if (code != 200) {
            code = s_fail(code, rep);
            json_decref(rep);
            break;
        }
        fputs(json_string_value(json_object_get(rep, "log")) ?: "", stdout);
        fflush(stdout);
        bool more = follow && json_is_true(json_object_get(rep, "running"));
        json_object_set(req, "offset", json_object_get(rep, "offset"));
        json_decref(rep);
        code = 0;
        if (!more || s_interrupted)
            break;
        rt_run_for(a, 500);
        if (s_interrupted)
            break;
    }
    json_decref(req);
    return code;
}
