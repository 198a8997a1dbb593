/*
 * actors/kubelet/stream.c — the kubelet's streams: `kubectl exec` with
 * stdin and a terminal, and `kubectl port-forward`, carried as plain
 * request/reply over the broker (the gateway is a client like any other,
 * and every exchange shows on the tap). Ops of service kubelet-<node>:
 *
 *   stream.open  {type:"exec", namespace, name, container?, command:[...],
 *                 stdin?, tty?, width?, height?}
 *              | {type:"portforward", namespace, name, port}
 *                → {stream: ID} once the command runs / the connection to
 *                the pod's IP:port is made.
 *   stream.io    write: {stream, data?: base64, close?: true,
 *                resize?: {width, height}} → {} once the bytes are written
 *                (that is the backpressure).
 *                read: {stream, waitMs?} → {stdout?, stderr?: base64,
 *                end?: true, exitCode?, error?} as soon as there is output,
 *                at the end, or after waitMs (default 1 s, at most 5 s).
 *   stream.close {stream} → {}: kills the command / closes the socket.
 *
 * One read and one write may wait per stream (another gets 409). `end`
 * comes once: the command exited and its output is drained (output still
 * held open by a leftover child is cut S_DRAIN_MS after the exit), or the
 * pod closed the connection; the stream is freed with that reply. A stream
 * with no request for S_IDLE_MS is closed. Output waits in the kubelet up
 * to S_BUF_MAX per channel, then the kubelet stops reading (the command
 * blocks) until the client reads. Commands run with stdio on socket pairs
 * (writes never raise SIGPIPE; see s_exec_fds for why not pipes), or with
 * tty on a terminal the kubelet makes (its master carries input and output, stderr included, as in
 * Kubernetes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/b64.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_MAX_STREAMS 64
#define S_BUF_MAX (1u << 20)     /* output held per channel */
#define S_REPLY_MAX (256u << 10) /* output bytes per read reply */
#define S_WRITE_MAX (1u << 20)   /* input bytes per write */
#define S_WAIT_DEFAULT_MS 1000
#define S_WAIT_MAX_MS 5000
#define S_IDLE_MS 60000
#define S_DRAIN_MS 500
#define S_CONNECT_MS 10000

typedef struct s_buf {
    char *d;
    size_t len, cap;
} s_buf_t;

enum { S_OUT = 0, S_ERR, S_IN, S_NFD };

typedef struct s_stream {
    kl_node_t *n;
    struct s_stream *next;
    char id[48];
    bool exec;
    char what[200];   /* "port 80 of pod default/kubia", for messages */
    int fd[S_NFD];    /* out, err, in: -1 when absent; in may equal out */
    short ev[S_NFD];  /* events registered per slot (0 none) */
    bool eof[2];      /* out, err */
    bool in_shut;     /* input closed */
    bool in_close;    /* close input once in is written */
    bool tty, connecting;
    kl_exec_t x;
    int pidfd;
    bool exited;
    int exit_code;
    s_buf_t out[2], in;
    rt_req_t *rd, *wr, *open;
    int rd_timer, idle_timer, aux_timer;
    char error[400];
} s_stream_t;

static s_stream_t *s_streams;
static unsigned s_seq;

static void s_watch(s_stream_t *s);
static void s_settle(s_stream_t *s);

/* ---- buffers ------------------------------------------------------------------ */

static void s_buf_add(s_buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *d = realloc(b->d, cap);
        if (!d)
            abort();
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static void s_buf_drop(s_buf_t *b, size_t n)
{
    memmove(b->d, b->d + n, b->len - n);
    b->len -= n;
}

/* ---- lifetime ----------------------------------------------------------------- */

static s_stream_t *s_find(const char *id)
{
    for (s_stream_t *s = s_streams; s && id; s = s->next)
        if (!strcmp(s->id, id))
            return s;
    return NULL;
}

static int s_count(void)
{
    int k = 0;
    for (s_stream_t *s = s_streams; s; s = s->next)
        k++;
    return k;
}

static rt_actor_t *s_actor(const s_stream_t *s)
{
    return s->n->k->a;
}

static void s_reply_status(rt_actor_t *a, rt_req_t **req, int perr, const char *msg)
{
    json_t *st = proto_status_new(perr, msg, NULL);
    rt_reply(a, req, proto_err_http(perr), st);
    json_decref(st);
}

/* Kills the command (its group and, for runc, the command itself). */
static void s_kill(s_stream_t *s)
{
    if (!s->exec || s->x.pid <= 0 || s->exited)
        return;
    if (s->x.pidfile[0]) {
        FILE *f = fopen(s->x.pidfile, "re");
        int pid = 0;
        if (f && fscanf(f, "%d", &pid) == 1 && pid > 1)
            kill(pid, SIGKILL);
        if (f)
            fclose(f);
    }
    kill(s->x.group ? -s->x.pid : s->x.pid, SIGKILL);
    kill(s->x.pid, SIGKILL);
    while (waitpid(s->x.pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s->exited = true;
}

static void s_free(s_stream_t *s)
{
    rt_actor_t *a = s_actor(s);
    for (s_stream_t **pp = &s_streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    s_kill(s);
    if (s->x.pidfile[0])
        unlink(s->x.pidfile);
    for (int i = 0; i < S_NFD; i++) {
        if (s->ev[i])
            rt_fd_remove(a, s->fd[i]);
        if (s->fd[i] >= 0 && (i != S_IN || s->fd[S_IN] != s->fd[S_OUT]))
            close(s->fd[i]);
    }
    if (s->pidfd >= 0) {
        rt_fd_remove(a, s->pidfd);
        close(s->pidfd);
    }
    int timers[] = {s->rd_timer, s->idle_timer, s->aux_timer};
    for (size_t i = 0; i < 3; i++)
        if (timers[i] > 0)
            rt_timer_cancel(a, timers[i]);
    if (s->rd)
        s_reply_status(a, &s->rd, PROTO_EGONE, "the stream was closed");
    if (s->wr)
        s_reply_status(a, &s->wr, PROTO_EGONE, "the stream was closed");
    if (s->open)
        s_reply_status(a, &s->open, PROTO_EINTERNAL,
                       s->error[0] ? s->error : "the stream was closed");
    free(s->out[0].d);
    free(s->out[1].d);
    free(s->in.d);
    free(s);
}

static void s_on_idle(rt_actor_t *a, void *arg)
{
    s_stream_t *s = arg;
    (void)a;
    s->idle_timer = 0;
    rt_debug("stream %s: idle for %d ms; closed", s->id, S_IDLE_MS);
    s_free(s);
}

static void s_touch(s_stream_t *s)
{
    if (s->idle_timer > 0)
        rt_timer_cancel(s_actor(s), s->idle_timer);
    s->idle_timer = rt_timer_add(s_actor(s), S_IDLE_MS, false, s_on_idle, s);
}

/* ---- reads -------------------------------------------------------------------- */

/* Whether no more output can come and all of it was handed out. */
static bool s_ended(const s_stream_t *s)
{
    if (s->connecting)
        return false;
    bool drained = s->out[0].len == 0 && s->out[1].len == 0;
    if (s->exec)
        return drained && s->exited && s->eof[0] && s->eof[1];
    return drained && s->eof[0];
}

static void s_put(json_t *body, const char *key, s_buf_t *b)
{
    if (!b->len)
        return;
    size_t n = b->len < S_REPLY_MAX ? b->len : S_REPLY_MAX;
    char *enc = proto_b64_encode(b->d, n);
    json_object_set_new(body, key, json_string(enc));
    free(enc);
    s_buf_drop(b, n);
}

/* Answers the waiting read with what there is; frees the stream at its end.
 * Returns false when it freed s. */
static bool s_answer_read(s_stream_t *s)
{
    rt_actor_t *a = s_actor(s);
    if (!s->rd)
        return true;
    if (s->rd_timer > 0)
        rt_timer_cancel(a, s->rd_timer);
    s->rd_timer = 0;
    json_t *body = json_object();
    s_put(body, "stdout", &s->out[0]);
    s_put(body, "stderr", &s->out[1]);
    bool end = s_ended(s);
    if (end) {
        json_object_set_new(body, "end", json_true());
        if (s->exec)
            json_object_set_new(body, "exitCode", json_integer(s->exit_code));
        if (s->error[0])
            json_object_set_new(body, "error", json_string(s->error));
    }
    rt_reply(a, &s->rd, 200, body);
    json_decref(body);
    if (end) {
        s_free(s);
        return false;
    }
    s_watch(s); /* room again: read more */
    return true;
}

static void s_on_read_timer(rt_actor_t *a, void *arg)
{
    s_stream_t *s = arg;
    (void)a;
    s->rd_timer = 0;
    s_answer_read(s);
}

/* Output (or the end) for a waiting read. */
static void s_settle(s_stream_t *s)
{
    if (s->rd && (s->out[0].len || s->out[1].len || s_ended(s)))
        s_answer_read(s);
}

/* ---- the descriptors ---------------------------------------------------------- */

static void s_on_fd(rt_actor_t *a, int fd, short revents, void *arg);

/* Registers each descriptor for what it is wanted for now. */
static void s_watch(s_stream_t *s)
{
    rt_actor_t *a = s_actor(s);
    for (int i = 0; i < S_NFD; i++) {
        int fd = s->fd[i];
        if (fd < 0 || (i == S_IN && fd == s->fd[S_OUT]))
            continue;
        short want = 0;
        if (i < S_IN && !s->eof[i] && s->out[i].len < S_BUF_MAX)
            want |= POLLIN;
        if ((i == S_IN || fd == s->fd[S_IN]) && !s->in_shut && (s->in.len || s->connecting))
            want |= POLLOUT;
        if (want == s->ev[i])
            continue;
        if (s->ev[i])
            rt_fd_remove(a, fd);
        s->ev[i] = 0;
        if (want && rt_fd_add(a, fd, want, s_on_fd, s) == 0)
            s->ev[i] = want;
    }
}

static void s_read_fd(s_stream_t *s, int i)
{
    char buf[65536];
    size_t room = S_BUF_MAX - s->out[i].len;
    ssize_t r = read(s->fd[i], buf, room < sizeof buf ? room : sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r < 0 && errno != EIO) /* EIO: a terminal whose other side closed */
        snprintf(s->error, sizeof s->error, "reading from %s: %s", s->what, strerror(errno));
    if (r <= 0) {
        s->eof[i] = true;
        if (s->fd[i] == s->fd[S_IN])
            s->in_shut = true; /* a terminal or socket that ended takes no more input */
        return;
    }
    s_buf_add(&s->out[i], buf, (size_t)r);
}

/* Input: writes what is pending; replies to the write once all is out. */
static void s_write_in(s_stream_t *s)
{
    while (s->in.len && !s->in_shut) {
        ssize_t w = send(s->fd[S_IN], s->in.d, s->in.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == ENOTSOCK) /* a terminal */
            w = write(s->fd[S_IN], s->in.d, s->in.len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0) { /* the reader is gone: the rest cannot be delivered */
            s->in_shut = true;
            break;
        }
        s_buf_drop(&s->in, (size_t)w);
    }
    if (s->in_shut)
        s->in.len = 0;
    if (!s->in.len && s->in_close && !s->in_shut && !s->tty) {
        if (s->fd[S_IN] == s->fd[S_OUT])
            shutdown(s->fd[S_IN], SHUT_WR);
        else {
            if (s->ev[S_IN])
                rt_fd_remove(s_actor(s), s->fd[S_IN]);
            s->ev[S_IN] = 0;
            close(s->fd[S_IN]);
            s->fd[S_IN] = -1;
        }
        s->in_shut = true;
    }
    if (!s->in.len && s->wr) {
        json_t *ok = json_object();
        rt_reply(s_actor(s), &s->wr, 200, ok);
        json_decref(ok);
    }
}

static void s_connected(s_stream_t *s);

static void s_on_fd(rt_actor_t *a, int fd, short revents, void *arg)
{
    s_stream_t *s = arg;
    (void)a;
    if (s->connecting) {
        s_connected(s);
        return;
    }
    for (int i = 0; i < S_IN; i++)
        if (s->fd[i] == fd && !s->eof[i] && (revents & (POLLIN | POLLHUP | POLLERR)))
            s_read_fd(s, i);
    if (fd == s->fd[S_IN] && (revents & (POLLOUT | POLLERR | POLLHUP)))
        s_write_in(s);
    s_watch(s);
    s_settle(s);
}

/* ---- the command's end --------------------------------------------------------- */

static void s_on_drained(rt_actor_t *a, void *arg)
{
    s_stream_t *s = arg;
    (void)a;
    s->aux_timer = 0;
    s->eof[0] = s->eof[1] = true; /* a leftover child keeps the pipes: cut */
    s_watch(s);
    s_settle(s);
}

static void s_on_exit(rt_actor_t *a, int fd, short revents, void *arg)
{
    s_stream_t *s = arg;
    int st = 0;
    (void)revents;
    rt_fd_remove(a, fd);
    close(fd);
    s->pidfd = -1;
    pid_t r;
    while ((r = waitpid(s->x.pid, &st, 0)) < 0 && errno == EINTR)
        ;
    s->exited = true;
    s->exit_code = r < 0 ? 255 : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
    if (s->x.pidfile[0])
        unlink(s->x.pidfile);
    s->x.pidfile[0] = '\0';
    s->aux_timer = rt_timer_add(a, S_DRAIN_MS, false, s_on_drained, s);
    s_settle(s);
}

/* ---- opening: exec ------------------------------------------------------------- */

/* A terminal pair: *master (kept) and *slave (for the command). */
static int s_openpty(int *master, int *slave, const json_t *body)
{
    char name[128];
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return -errno;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof name) != 0) {
        int e = -errno;
        close(m);
        return e;
    }
    int sl = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (sl < 0) {
        int e = -errno;
        close(m);
        return e;
    }
    json_int_t w = json_integer_value(json_object_get(body, "width"));
    json_int_t h = json_integer_value(json_object_get(body, "height"));
    if (w > 0 && h > 0 && w < 10000 && h < 10000) {
        struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
        ioctl(m, TIOCSWINSZ, &ws);
    }
    *master = m;
    *slave = sl;
    return 0;
}

/* Descriptors for the command: child[] its stdio, s->fd ours. */
static int s_exec_fds(s_stream_t *s, const json_t *body, int child[3])
{
    int sp[2], op[2], ep[2];
    if (s->tty) {
        int m = -1, sl = -1, rc = s_openpty(&m, &sl, body);
        if (rc < 0)
            return rc;
        child[0] = child[1] = child[2] = sl;
        s->fd[S_OUT] = s->fd[S_IN] = m;
        s->eof[1] = true;
        return 0;
    }
    /* sockets, not pipes: a command that splices its input into a pipe
     * (busybox cat's sendfile) holds that pipe's lock while it waits for
     * input, and our read of the pipe would block the kubelet with it */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, op) < 0)
        return -errno;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ep) < 0) {
        int e = -errno;
        close(op[0]);
        close(op[1]);
        return e;
    }
    shutdown(op[0], SHUT_WR); /* ours only read, the command's only write */
    shutdown(ep[0], SHUT_WR);
    child[0] = -1;
    child[1] = op[1];
    child[2] = ep[1];
    s->fd[S_OUT] = op[0];
    s->fd[S_ERR] = ep[0];
    shutdown(op[1], SHUT_RD);
    shutdown(ep[1], SHUT_RD);
    if (json_is_true(json_object_get(body, "stdin"))) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
            return -errno; /* s_free closes ours; the caller the child's */
        child[0] = sp[0];
        s->fd[S_IN] = sp[1];
        shutdown(sp[0], SHUT_WR);
        shutdown(sp[1], SHUT_RD);
    } else
        s->in_shut = true;
    for (int i = 0; i < S_NFD; i++)
        if (s->fd[i] >= 0)
            fcntl(s->fd[i], F_SETFL, fcntl(s->fd[i], F_GETFL) | O_NONBLOCK);
    return 0;
}

static void s_close_child(int child[3])
{
    for (int i = 0; i < 3; i++)
        if (child[i] >= 0 && (i == 0 || child[i] != child[i - 1]))
            close(child[i]);
}

/* 0 with the command running, or a Status in *err. */
static int s_open_exec(s_stream_t *s, const json_t *body, json_t **err)
{
    kl_ctr_t *c = NULL;
    char **argv = kl_exec_argv(body, err);
    if (!argv || !(c = kl_exec_ctr(s->n, body, err))) {
        free(argv);
        return -1;
    }
    s->tty = json_is_true(json_object_get(body, "tty"));
    int child[3] = {-1, -1, -1};
    char why[400] = "";
    int rc = s_exec_fds(s, body, child);
    if (rc == 0)
        rc = s->n->drv->ops->container_exec_start(s->n->drv, c->id, argv, child, s->tty, &s->x,
                                                   why, sizeof why);
    s_close_child(child);
    free(argv);
    if (rc == 0 && (s->pidfd = (int)syscall(SYS_pidfd_open, s->x.pid, 0)) < 0)
        rc = -errno;
    if (rc < 0) {
        if (!why[0])
            snprintf(why, sizeof why, "exec: %s", proto_strerror(rc));
        *err = proto_status_new(rc == -ESRCH ? PROTO_ECONFLICT : PROTO_EINTERNAL, why, NULL);
        return -1;
    }
    rt_fd_add(s_actor(s), s->pidfd, POLLIN, s_on_exit, s);
    return 0;
}

/* ---- opening: port-forward ----------------------------------------------------- */

static void s_connected(s_stream_t *s)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(s->fd[S_OUT], SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e == EINPROGRESS)
        return;
    s->connecting = false;
    if (s->aux_timer > 0)
        rt_timer_cancel(s_actor(s), s->aux_timer);
    s->aux_timer = 0;
    if (e) {
        snprintf(s->error, sizeof s->error, "failed to connect to %s: %s", s->what, strerror(e));
        s_free(s); /* answers the open with s->error */
        return;
    }
    json_t *ok = json_pack("{s:s}", "stream", s->id);
    rt_reply(s_actor(s), &s->open, 200, ok);
    json_decref(ok);
    s_touch(s);
    s_watch(s);
}

static void s_on_connect_timeout(rt_actor_t *a, void *arg)
{
    s_stream_t *s = arg;
    (void)a;
    s->aux_timer = 0;
    snprintf(s->error, sizeof s->error, "failed to connect to %s: timed out", s->what);
    s_free(s);
}

/* Starts the connection to the pod's port; 0, or a Status in *err. */
static int s_open_pf(s_stream_t *s, const json_t *body, json_t **err)
{
    const char *ns = json_string_value(json_object_get(body, "namespace"));
    const char *name = json_string_value(json_object_get(body, "name"));
    json_int_t port = json_integer_value(json_object_get(body, "port"));
    kl_pod_t *p = name ? kl_pod_find(s->n, ns && *ns ? ns : "default", name) : NULL;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (port < 1 || port > 65535) {
        *err = proto_status_new(PROTO_EBADREQUEST, "port must be between 1 and 65535", NULL);
        return -1;
    }
    if (!p) {
        *err = proto_status_notfound("pods", NULL, name ? name : "");
        return -1;
    }
    const char *ip = p->ip[0] ? p->ip : "127.0.0.1"; /* host network: the node's loopback */
    if (!strcmp(s->n->drv->ops->name, "hollow") || !p->sandbox ||
        inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
        *err = proto_status_new(PROTO_EBADREQUEST, "the pod has no network to forward to", NULL);
        return -1;
    }
    snprintf(s->what, sizeof s->what, "port %d of pod %.80s/%.80s", (int)port, p->ns, p->name);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS)) {
        char msg[600];
        snprintf(msg, sizeof msg, "failed to connect to %s: %s", s->what, strerror(errno));
        if (fd >= 0)
            close(fd);
        *err = proto_status_new(PROTO_EINTERNAL, msg, NULL);
        return -1;
    }
    s->fd[S_OUT] = s->fd[S_IN] = fd;
    s->eof[1] = true;
    s->connecting = true;
    s->aux_timer = rt_timer_add(s_actor(s), S_CONNECT_MS, false, s_on_connect_timeout, s);
    return 0;
}

/* ---- the ops ------------------------------------------------------------------- */

static void s_op_open(kl_node_t *n, rt_req_t **req)
{
    rt_actor_t *a = n->k->a;
    const json_t *body = (*req)->env.body;
    const char *type = json_string_value(json_object_get(body, "type"));
    json_t *err = NULL;
    if (!type || (strcmp(type, "exec") && strcmp(type, "portforward"))) {
        s_reply_status(a, req, PROTO_EBADREQUEST, "type must be exec or portforward");
        return;
    }
    if (s_count() >= S_MAX_STREAMS) {
        s_reply_status(a, req, PROTO_EUNAVAILABLE, "too many streams on this kubelet");
        return;
    }
    s_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->n = n;
    s->exec = !strcmp(type, "exec");
    s->fd[0] = s->fd[1] = s->fd[2] = -1;
    s->pidfd = -1;
    snprintf(s->id, sizeof s->id, "%s-%u-%lld", s->exec ? "exec" : "pf", ++s_seq, (long long)proto_mono_ms());
    snprintf(s->what, sizeof s->what, "the command");
    s->next = s_streams;
    s_streams = s;
    int rc = s->exec ? s_open_exec(s, body, &err) : s_open_pf(s, body, &err);
    if (rc < 0) {
        rt_reply(a, req, proto_err_http(proto_err_from_status(err)), err);
        json_decref(err);
        s_free(s);
        return;
    }
    if (s->connecting) { /* answered when the connection is made */
        s->open = *req;
        *req = NULL;
        s_watch(s);
        return;
    }
    json_t *ok = json_pack("{s:s}", "stream", s->id);
    rt_reply(a, req, 200, ok);
    json_decref(ok);
    s_touch(s);
    s_watch(s);
}

static void s_resize(s_stream_t *s, const json_t *r)
{
    json_int_t w = json_integer_value(json_object_get(r, "width"));
    json_int_t h = json_integer_value(json_object_get(r, "height"));
    if (!s->tty || w <= 0 || h <= 0 || w >= 10000 || h >= 10000)
        return;
    struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
    ioctl(s->fd[S_OUT], TIOCSWINSZ, &ws);
}

static void s_op_write(s_stream_t *s, rt_req_t **req, const json_t *body)
{
    rt_actor_t *a = s_actor(s);
    const json_t *data = json_object_get(body, "data");
    if (s->wr) {
        s_reply_status(a, req, PROTO_ECONFLICT, "a write is already waiting on this stream");
        return;
    }
    if (data && (!json_is_string(data) || json_string_length(data) > S_WRITE_MAX / 3 * 4 + 4)) {
        s_reply_status(a, req, PROTO_EBADREQUEST, "data must be base64 of at most 1 MiB");
        return;
    }
    size_t len = 0;
    char *bytes = data ? proto_b64_decode(json_string_value(data), json_string_length(data), &len)
                       : NULL;
    if (data && !bytes) {
        s_reply_status(a, req, PROTO_EBADREQUEST, "data is not valid base64");
        return;
    }
    if (!s->in_shut)
        s_buf_add(&s->in, bytes ? bytes : "", len);
    free(bytes);
    if (json_is_true(json_object_get(body, "close")))
        s->in_close = true;
    if (json_object_get(body, "resize"))
        s_resize(s, json_object_get(body, "resize"));
    s->wr = *req;
    *req = NULL;
    s_write_in(s); /* replies once all is written */
    s_watch(s);
}

static void s_op_read(s_stream_t *s, rt_req_t **req, const json_t *body)
{
    rt_actor_t *a = s_actor(s);
    if (s->rd) {
        s_reply_status(a, req, PROTO_ECONFLICT, "a read is already waiting on this stream");
        return;
    }
    json_int_t wait = json_is_integer(json_object_get(body, "waitMs"))
                          ? json_integer_value(json_object_get(body, "waitMs"))
                          : S_WAIT_DEFAULT_MS;
    if (wait < 0)
        wait = 0;
    if (wait > S_WAIT_MAX_MS)
        wait = S_WAIT_MAX_MS;
    s->rd = *req;
    *req = NULL;
    if (s->out[0].len || s->out[1].len || s_ended(s) || wait == 0) {
        s_answer_read(s);
        return;
    }
    s->rd_timer = rt_timer_add(a, (int)wait, false, s_on_read_timer, s);
}

void kl_stream_handle(kl_node_t *n, rt_req_t **req)
{
    rt_actor_t *a = n->k->a;
    const char *op = (*req)->env.op;
    const json_t *body = (*req)->env.body;
    if (!strcmp(op, "stream.open")) {
        s_op_open(n, req);
        return;
    }
    const char *id = json_string_value(json_object_get(body, "stream"));
    s_stream_t *s = s_find(id);
    if (!s || s->n != n || s->connecting) {
        s_reply_status(a, req, PROTO_ENOTFOUND, "no such stream on this kubelet");
        return;
    }
    s_touch(s);
    if (!strcmp(op, "stream.close")) {
        s_free(s); /* the command is gone when the reply leaves */
        json_t *ok = json_object();
        rt_reply(a, req, 200, ok);
        json_decref(ok);
    } else if (strcmp(op, "stream.io"))
        s_reply_status(a, req, PROTO_EBADREQUEST, "unknown operation");
    else if (json_object_get(body, "data") || json_object_get(body, "close") ||
             json_object_get(body, "resize"))
        s_op_write(s, req, body);
    else
        s_op_read(s, req, body);
}

void kl_stream_close_all(kl_node_t *n)
{
    for (s_stream_t *s = s_streams, *next; s; s = next) {
        next = s->next;
        if (s->n == n)
            s_free(s);
    }
}
