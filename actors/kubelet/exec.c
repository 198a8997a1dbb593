/*
 * actors/kubelet/exec.c — the kubelet's `exec` op (what `zkubectl exec`
 * calls on service "kubelet-<node>"): runs a command in a running
 * container of one of this node's pods through the driver's
 * container_exec, without blocking the kubelet's loop. container_exec
 * waits for the command, so a child process makes the call and sends back,
 * on a pipe, a fixed header (driver result, exit code, output length) and
 * the captured output; the reply leaves when the pipe closes.
 *
 *   request: {namespace, name, container?, command: [argv...], timeoutSeconds?}
 *   reply:   {stdout, exitCode} (200), or a Status: 404 unknown pod or
 *            container, 400 empty or malformed command, 409 `container X is
 *            not running`, 504 when the command outlives its timeout.
 *
 * The drivers capture stdout and stderr on one pipe, so both come back
 * interleaved as `stdout`. Output is capped at KL_EXEC_MAX_OUTPUT bytes
 * (the rest is dropped, and `truncated: true` says so); a NUL byte ends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define KL_EXEC_MAX_OUTPUT (4u << 20) /* bytes of output kept */
#define KL_EXEC_MAX_ARGS 1024         /* argv entries */
#define KL_EXEC_MAX_ARGV_BYTES (256u << 10)
#define KL_EXEC_DEFAULT_S 60
#define KL_EXEC_MAX_S 600
#define KL_EXEC_GRACE_MS 5000 /* beyond the command's timeout before the child is killed */

/* What the child writes before the output. */
typedef struct s_xhdr {
    int32_t rc;        /* container_exec's result (0 or a negative code) */
    int32_t exit_code; /* the command's exit status when rc == 0 */
    uint32_t len;      /* bytes of output that follow */
} s_xhdr_t;

/* One exec in flight. */
typedef struct s_xjob {
    rt_actor_t *a;
    rt_req_t *req;
    pid_t pid;
    int fd, timer;
    char *buf; /* header + output, at most sizeof header + KL_EXEC_MAX_OUTPUT */
    size_t len, cap;
    bool killed, truncated;
} s_xjob_t;

/* ---- the request ------------------------------------------------------------ */

static json_t *s_xerr(int code, const char *fmt, const char *a, const char *b)
{
    char msg[1200];
    snprintf(msg, sizeof msg, fmt, a, b);
    return proto_status_new(code, msg, NULL);
}

/* argv from body.command (NULL-terminated, strings borrowed from body);
 * NULL with *err when empty or malformed. */
char **kl_exec_argv(const json_t *body, json_t **err)
{
    const json_t *cmd = json_object_get(body, "command");
    size_t n = json_array_size(cmd), total = 0;
    if (!json_is_array(cmd) || n == 0) {
        *err = proto_status_new(PROTO_EBADREQUEST,
                                "you must specify at least one command for the container", NULL);
        return NULL;
    }
    if (n > KL_EXEC_MAX_ARGS) {
        *err = proto_status_new(PROTO_EBADREQUEST, "command has too many arguments", NULL);
        return NULL;
    }
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(cmd, i));
        total += s ? strlen(s) + 1 : 0;
        if (!s || (i == 0 && !*s) || total > KL_EXEC_MAX_ARGV_BYTES) {
            free(argv);
            *err = proto_status_new(PROTO_EBADREQUEST,
                                    !s || i > 0 || total > KL_EXEC_MAX_ARGV_BYTES
                                        ? "command must be a list of strings of bounded size"
                                        : "you must specify at least one command for the "
                                          "container",
                                    NULL);
            return NULL;
        }
        argv[i] = (char *)s;
    }
    return argv;
}

/* The container named in body (or the first regular one), running; NULL
 * with *err otherwise. */
kl_ctr_t *kl_exec_ctr(kl_node_t *n, const json_t *body, json_t **err)
{
    const char *ns = json_string_value(json_object_get(body, "namespace"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *cname = json_string_value(json_object_get(body, "container"));
    if (!name || !*name) {
        *err = proto_status_new(PROTO_EBADREQUEST, "name is required", NULL);
        return NULL;
    }
    kl_pod_t *p = kl_pod_find(n, ns && *ns ? ns : "default", name);
    if (!p) {
        *err = proto_status_notfound("pods", NULL, name);
        return NULL;
    }
    kl_ctr_t *c = NULL;
    for (size_t i = 0; i < p->nctrs && !c; i++)
        if (cname && *cname ? !strcmp(p->ctrs[i].name, cname) : !p->ctrs[i].init)
            c = &p->ctrs[i];
    if (!c) {
        *err = s_xerr(PROTO_ENOTFOUND, "container %s is not valid for pod %s",
                      cname && *cname ? cname : "", p->name);
        return NULL;
    }
    if (!c->id[0] || c->st.state != KL_STATE_RUNNING) {
        *err = s_xerr(PROTO_ECONFLICT, "container %s is not running%s", c->name, "");
        return NULL;
    }
    return c;
}

/* timeoutSeconds: default 60 s, at most 10 min. */
static int s_xtimeout_ms(const json_t *body)
{
    const json_t *t = json_object_get(body, "timeoutSeconds");
    json_int_t s = json_is_integer(t) ? json_integer_value(t) : KL_EXEC_DEFAULT_S;
    if (s <= 0)
        s = KL_EXEC_DEFAULT_S;
    if (s > KL_EXEC_MAX_S)
        s = KL_EXEC_MAX_S;
    return (int)s * 1000;
}

/* ---- the reply -------------------------------------------------------------- */

/* Copies s (len bytes) replacing bytes that are not valid UTF-8 with '?',
 * so that the output is a valid string for JSON printers. */
static char *s_utf8_clean(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        abort();
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = k > 0 && i + k <= len && (k == 1 || c >= 0xc2);
        for (size_t j = 1; ok && j < k; j++)
            ok = ((unsigned char)s[i + j] >> 6) == 2;
        if (!ok) {
            out[i++] = '?';
            continue;
        }
        memcpy(out + i, s + i, k);
        i += k;
    }
    out[len] = '\0';
    return out;
}

/*
 * The reply for what the child sent (buf, len; truncated when more was
 * dropped; killed when our own deadline fired). Sets *code.
 */
static json_t *s_xresult(const char *buf, size_t len, bool truncated, bool killed, int *code)
{
    s_xhdr_t h;
    *code = 500;
    if (killed) {
        *code = 504;
        return proto_status_new(PROTO_ETIMEOUT, "command timed out", NULL);
    }
    if (len < sizeof h)
        return proto_status_new(PROTO_EINTERNAL, "exec: no result from the runtime", NULL);
    memcpy(&h, buf, sizeof h);
    if (h.rc == -ETIMEDOUT || h.rc == PROTO_ETIMEOUT) {
        *code = 504;
        return proto_status_new(PROTO_ETIMEOUT, "command timed out", NULL);
    }
    if (h.rc == -ESRCH || h.rc == PROTO_ENOTFOUND) {
        *code = 409;
        return proto_status_new(PROTO_ECONFLICT, "container is not running", NULL);
    }
    if (h.rc < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "exec: %s", proto_strerror(h.rc));
        return proto_status_new(PROTO_EINTERNAL, msg, NULL);
    }
    size_t n = len - sizeof h;
    if (n < h.len)
        truncated = true;
    else
        n = h.len;
    const char *out = buf + sizeof h;
    const char *nul = memchr(out, '\0', n);
    if (nul)
        n = (size_t)(nul - out);
    char *text = s_utf8_clean(out, n);
    json_t *r = json_pack("{s:s, s:i}", "stdout", text, "exitCode", (int)h.exit_code);
    free(text);
    if (truncated)
        json_object_set_new(r, "truncated", json_true());
    *code = 200;
    return r;
}

/* ---- the child and the pipe ------------------------------------------------- */

int kl_exec_child_setup(const int fds[3], bool tty)
{
    if (setsid() < 0)
        return -1;
    if (tty && ioctl(fds[0], TIOCSCTTY, 0) < 0)
        return -1;
    int in = fds[0] >= 0 ? fds[0] : open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
        return -1;
    close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    return 0;
}

static void s_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

/* In the child: runs the command and writes header + output to fd. */
static void s_xchild(kubelet_driver_t *d, const char *id, char **argv, int timeout_ms, int fd)
{
    signal(SIGPIPE, SIG_IGN);
    char *out = malloc(KL_EXEC_MAX_OUTPUT + 1);
    s_xhdr_t h = {0};
    int code = 0;
    if (!out)
        _exit(1);
    out[0] = '\0';
    h.rc = d->ops->container_exec(d, id, argv, timeout_ms, &code, out, KL_EXEC_MAX_OUTPUT + 1);
    h.exit_code = code;
    h.len = h.rc == 0 ? (uint32_t)strnlen(out, KL_EXEC_MAX_OUTPUT) : 0;
    s_write_all(fd, &h, sizeof h);
    s_write_all(fd, out, h.len);
    _exit(0);
}

static void s_xfinish(s_xjob_t *j)
{
    if (j->timer > 0)
        rt_timer_cancel(j->a, j->timer);
    rt_fd_remove(j->a, j->fd);
    close(j->fd);
    if (j->pid > 0) {
        if (j->killed)
            kill(j->pid, SIGKILL);
        waitpid(j->pid, NULL, 0);
    }
    int code;
    json_t *body = s_xresult(j->buf, j->len, j->truncated, j->killed, &code);
    rt_reply(j->a, &j->req, code, body);
    json_decref(body);
    free(j->buf);
    free(j);
}

static void s_xon_data(rt_actor_t *a, int fd, short revents, void *arg)
{
    (void)a;
    (void)revents;
    s_xjob_t *j = arg;
    char tmp[65536];
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        s_xfinish(j);
        return;
    }
    size_t keep = (size_t)r;
    if (j->len + keep > j->cap) {
        keep = j->cap - j->len;
        j->truncated = true;
    }
    memcpy(j->buf + j->len, tmp, keep);
    j->len += keep;
}

static void s_xon_deadline(rt_actor_t *a, void *arg)
{
    (void)a;
    s_xjob_t *j = arg;
    j->timer = 0;
    j->killed = true;
    rt_warn("exec: pid %d outlived its deadline; killed", (int)j->pid);
    s_xfinish(j);
}

/* Forks the child that runs argv in container id; the job replies later.
 * 0, or a negative code (the request is still the caller's). */
static int s_xstart(rt_actor_t *a, kubelet_driver_t *d, const char *id, char **argv,
                    int timeout_ms, rt_req_t **req)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        s_xchild(d, id, argv, timeout_ms, fds[1]);
    }
    close(fds[1]);
    if (pid < 0) {
        int rc = -errno;
        close(fds[0]);
        return rc;
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    s_xjob_t *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    *j = (s_xjob_t){.a = a, .req = *req, .pid = pid, .fd = fds[0]};
    j->cap = sizeof(s_xhdr_t) + KL_EXEC_MAX_OUTPUT;
    j->buf = malloc(j->cap);
    if (!j->buf)
        abort();
    *req = NULL;
    j->timer = rt_timer_add(a, timeout_ms + KL_EXEC_GRACE_MS, false, s_xon_deadline, j);
    rt_fd_add(a, j->fd, POLLIN, s_xon_data, j);
    return 0;
}

void kl_exec_handle(kl_node_t *n, rt_req_t **req)
{
    rt_actor_t *a = n->k->a;
    const json_t *body = (*req)->env.body;
    json_t *err = NULL;
    char **argv = NULL;
    kl_ctr_t *c = NULL;
    if (!json_is_object(body))
        err = proto_status_new(PROTO_EBADREQUEST, "exec: body must be a map", NULL);
    else if ((argv = kl_exec_argv(body, &err)) && !(c = kl_exec_ctr(n, body, &err))) {
        free(argv);
        argv = NULL;
    }
    if (argv) {
        int rc = s_xstart(a, n->drv, c->id, argv, s_xtimeout_ms(body), req);
        free(argv);
        if (rc == 0)
            return;
        err = proto_status_new(PROTO_EINTERNAL, proto_strerror(rc), NULL);
    }
    rt_reply(a, req, proto_err_http(proto_err_from_status(err)), err);
    json_decref(err);
}
