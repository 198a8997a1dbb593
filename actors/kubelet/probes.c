/*
 * actors/kubelet/probes.c — liveness, readiness and startup probes. Each
 * probe is a one-shot timer re-armed after every attempt (initialDelay,
 * then periodSeconds), so attempts never overlap and never block the loop:
 *   httpGet / tcpSocket: a non-blocking connect watched with rt_fd_add; for
 *     HTTP we write the GET ourselves and read the status line (200–399 is
 *     success);
 *   exec: a child process runs the driver's container_exec; its end is seen
 *     on a pipe (and reaped with waitpid). The hollow driver answers at once.
 * Every attempt has a timeout (timeoutSeconds). Results count against
 * successThreshold / failureThreshold. Startup gates the other two; a
 * failed liveness (or startup) probe restarts the container; readiness
 * drives the container's ready flag and so the pod's Ready condition.
 * Probes only connect to the pod's own IP or loopback.
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

struct kl_probe {
    kl_pod_t *p;
    kl_ctr_t *c;
    int kind;
    json_t *spec;
    int timer, timeout_timer, connect_timer;
    int successes, failures;
    int fd;       /* socket or exec pipe, -1 when idle */
    pid_t pid;    /* exec child */
    bool http, sent;
    char buf[512];
    size_t len;
};

static const char *const s_field[KL_NPROBES] = {"livenessProbe", "readinessProbe",
                                                "startupProbe"};
static const char *const s_kind_name[KL_NPROBES] = {"Liveness", "Readiness", "Startup"};

static void s_arm(kl_probe_t *pr, int64_t ms);
static void s_result(kl_probe_t *pr, bool ok, const char *why);

static int64_t s_field_int(const kl_probe_t *pr, const char *f, int64_t def, int64_t min)
{
    int64_t v = proto_obj_int(pr->spec, f, def);
    return v < min ? min : v;
}

/* ---- ending an attempt ---------------------------------------------------- */

static void s_idle(kl_probe_t *pr)
{
    rt_actor_t *a = pr->p->n->k->a;
    if (pr->fd >= 0) {
        rt_fd_remove(a, pr->fd);
        close(pr->fd);
        pr->fd = -1;
    }
    if (pr->pid > 0) {
        kill(pr->pid, SIGKILL);
        waitpid(pr->pid, NULL, 0);
        pr->pid = 0;
    }
    if (pr->timeout_timer > 0) {
        rt_timer_cancel(a, pr->timeout_timer);
        pr->timeout_timer = 0;
    }
    if (pr->connect_timer > 0) {
        rt_timer_cancel(a, pr->connect_timer);
        pr->connect_timer = 0;
    }
}

static void s_done(kl_probe_t *pr, bool ok, const char *why)
{
    s_idle(pr);
    s_arm(pr, s_field_int(pr, "periodSeconds", 10, 1) * 1000);
    s_result(pr, ok, why); /* last: it may stop the probe */
}

static void s_on_timeout(rt_actor_t *a, void *arg)
{
    (void)a;
    kl_probe_t *pr = arg;
    pr->timeout_timer = 0;
    s_done(pr, false, "timeout");
}

/* ---- results -------------------------------------------------------------- */

static void s_set_ready(kl_probe_t *pr, bool ready)
{
    if (pr->c->ready != ready) {
        pr->c->ready = ready;
        kl_pod_report(pr->p);
    }
}

static void s_result(kl_probe_t *pr, bool ok, const char *why)
{
    kl_ctr_t *c = pr->c;
    kl_pod_t *p = pr->p;
    pr->successes = ok ? pr->successes + 1 : 0;
    pr->failures = ok ? 0 : pr->failures + 1;
    int64_t sth = s_field_int(pr, "successThreshold", 1, 1);
    int64_t fth = s_field_int(pr, "failureThreshold", 3, 1);
    if (!ok)
        rt_debug("pod %s/%s: %s probe of %s failed: %s", p->ns, p->name, s_kind_name[pr->kind],
                 c->name, why);
    if (pr->kind == KL_PROBE_READINESS) {
        if (pr->successes >= sth) {
            s_set_ready(pr, true);
        } else if (pr->failures >= fth && c->ready) {
            kl_event(p, c, "Warning", "Unhealthy", "Readiness probe failed: %s", why);
            s_set_ready(pr, false);
        }
    } else if (pr->kind == KL_PROBE_STARTUP && pr->successes >= 1) {
        c->started = true;
        if (!c->probes[KL_PROBE_READINESS])
            c->ready = true;
        kl_pod_report(p);
        kl_probes_stop_one(c, KL_PROBE_STARTUP); /* frees pr */
    } else if (pr->failures >= fth) {
        kl_event(p, c, "Warning", "Unhealthy", "%s probe failed: %s", s_kind_name[pr->kind], why);
        kl_ctr_liveness_failed(p, c, why); /* stops every probe of c */
    }
}

/* ---- sockets -------------------------------------------------------------- */

static void s_on_read(rt_actor_t *a, int fd, short revents, void *arg)
{
    (void)a;
    (void)revents;
    kl_probe_t *pr = arg;
    ssize_t n = recv(fd, pr->buf + pr->len, sizeof pr->buf - 1 - pr->len, 0);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n > 0)
        pr->len += (size_t)n;
    pr->buf[pr->len] = '\0';
    int code = 0;
    if (strstr(pr->buf, "\r\n") || n <= 0 || pr->len == sizeof pr->buf - 1) {
        if (sscanf(pr->buf, "HTTP/%*d.%*d %d", &code) == 1 && code >= 200 && code < 400)
            s_done(pr, true, NULL);
        else {
            char why[64];
            snprintf(why, sizeof why, "HTTP probe failed with statuscode: %d", code);
            s_done(pr, false, why);
        }
    }
}

/* The connection is made (or failed): TCP is done; HTTP sends its request
 * and waits for the status line. */
static void s_connected(kl_probe_t *pr)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        s_done(pr, false, strerror(err));
        return;
    }
    if (!pr->http) {
        s_done(pr, true, NULL);
        return;
    }
    if (send(pr->fd, pr->buf, pr->len, MSG_NOSIGNAL) != (ssize_t)pr->len) {
        s_done(pr, false, "cannot send request");
        return;
    }
    pr->len = 0;
    pr->sent = true;
    if (rt_fd_add(pr->p->n->k->a, pr->fd, POLLIN, s_on_read, pr) < 0) {
        close(pr->fd);
        pr->fd = -1;
        s_idle(pr);
        s_arm(pr, 1000); /* too busy now: try again soon, no verdict */
    }
}

/* A connect in progress is checked from a 10 ms timer with a zero-timeout
 * poll (rt_fd_add is only used for reading). */
static void s_on_connecting(rt_actor_t *a, void *arg)
{
    (void)a;
    kl_probe_t *pr = arg;
    struct pollfd pf = {.fd = pr->fd, .events = POLLOUT};
    if (poll(&pf, 1, 0) == 0)
        return;
    rt_timer_cancel(pr->p->n->k->a, pr->connect_timer);
    pr->connect_timer = 0;
    s_connected(pr);
}

/* The probe's port (number or a named container port); 0 if unknown. */
static int s_port(kl_probe_t *pr, const json_t *action)
{
    const json_t *port = json_object_get(action, "port");
    if (json_is_integer(port))
        return (int)json_integer_value(port);
    const char *name = json_string_value(port);
    size_t i;
    json_t *cp;
    json_array_foreach(proto_obj_get(kl_ctr_spec(pr->p, pr->c), "ports"), i, cp)
        if (name && !strcmp(proto_obj_str(cp, "name") ?: "", name))
            return (int)proto_obj_int(cp, "containerPort", 0);
    return name ? atoi(name) : 0;
}

static void s_http_request(kl_probe_t *pr, const json_t *hg, const char *host, int port)
{
    const char *path = proto_obj_str(hg, "path") ?: "/";
    int n = snprintf(pr->buf, sizeof pr->buf,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kube-probe/1.32\r\n"
                     "Accept: */*\r\nConnection: close\r\n",
                     path, host, port);
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(hg, "httpHeaders"), i, h)
        if (n > 0 && (size_t)n < sizeof pr->buf)
            n += snprintf(pr->buf + n, sizeof pr->buf - (size_t)n, "%s: %s\r\n",
                          proto_obj_str(h, "name") ?: "X", proto_obj_str(h, "value") ?: "");
    if (n > 0 && (size_t)n + 2 < sizeof pr->buf)
        n += snprintf(pr->buf + n, sizeof pr->buf - (size_t)n, "\r\n");
    pr->len = n > 0 && (size_t)n < sizeof pr->buf ? (size_t)n : sizeof pr->buf - 1;
}

static void s_connect(kl_probe_t *pr, const json_t *action, bool http)
{
    const char *host = proto_obj_str(action, "host");
    if (!host || !*host)
        host = pr->p->ip[0] ? pr->p->ip : "127.0.0.1";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s_port(pr, action))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        (strcmp(host, pr->p->ip) && strncmp(host, "127.", 4))) {
        s_done(pr, false, "probe host must be the pod IP or loopback");
        return;
    }
    pr->http = http;
    pr->sent = false;
    if (http)
        s_http_request(pr, action, host, ntohs(sa.sin_port));
    pr->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = pr->fd < 0 ? -1 : connect(pr->fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc < 0 && errno != EINPROGRESS) {
        s_done(pr, false, strerror(errno));
        return;
    }
    if (rc == 0)
        s_connected(pr);
    else
        pr->connect_timer = rt_timer_add(pr->p->n->k->a, 10, true, s_on_connecting, pr);
}

/* ---- exec ----------------------------------------------------------------- */

static void s_on_exec(rt_actor_t *a, int fd, short revents, void *arg)
{
    (void)a;
    (void)fd;
    (void)revents;
    kl_probe_t *pr = arg;
    int st = 0;
    if (waitpid(pr->pid, &st, WNOHANG) != pr->pid)
        waitpid(pr->pid, &st, 0); /* the pipe closed: it is exiting now */
    pr->pid = 0;
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    s_done(pr, ok, ok ? NULL : "command failed");
}

static void s_exec(kl_probe_t *pr, const json_t *action)
{
    const json_t *cmd = json_object_get(action, "command");
    size_t n = json_array_size(cmd);
    kubelet_driver_t *d = pr->p->n->drv;
    int timeout_ms = (int)s_field_int(pr, "timeoutSeconds", 1, 1) * 1000;
    char **argv = calloc(n + 1, sizeof *argv);
    for (size_t i = 0; i < n; i++)
        argv[i] = (char *)json_string_value(json_array_get(cmd, i));
    int code = -1, fds[2];
    if (n == 0 || !argv[0]) {
        free(argv);
        s_done(pr, false, "exec probe without command");
        return;
    }
    if (!strcmp(d->ops->name, "hollow")) { /* answers at once */
        d->ops->container_exec(d, pr->c->id, argv, timeout_ms, &code, NULL, 0);
        free(argv);
        s_done(pr, code == 0, "command failed");
        return;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        free(argv);
        s_arm(pr, 1000);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) { /* keeps fds[1] open until it exits */
        int rc = d->ops->container_exec(d, pr->c->id, argv, timeout_ms, &code, NULL, 0);
        _exit(rc == 0 && code == 0 ? 0 : 1);
    }
    free(argv);
    close(fds[1]);
    pr->pid = pid > 0 ? pid : 0;
    pr->fd = fds[0];
    if (pid < 0 || rt_fd_add(pr->p->n->k->a, pr->fd, POLLIN, s_on_exec, pr) < 0) {
        s_idle(pr);
        s_arm(pr, 1000);
    }
}

/* ---- scheduling ----------------------------------------------------------- */

static void s_attempt(rt_actor_t *a, void *arg)
{
    kl_probe_t *pr = arg;
    pr->timer = 0;
    kl_ctr_t *c = pr->c;
    if (pr->kind != KL_PROBE_STARTUP && !c->started) {
        s_arm(pr, s_field_int(pr, "periodSeconds", 10, 1) * 1000);
        return;
    }
    if (!strcmp(pr->p->n->drv->ops->name, "hollow")) {
        s_done(pr, true, NULL); /* hollow pods have no network to probe */
        return;
    }
    int64_t to = s_field_int(pr, "timeoutSeconds", 1, 1) * 1000;
    pr->timeout_timer = rt_timer_add(a, (int)to + 200, false, s_on_timeout, pr);
    json_t *x;
    if ((x = json_object_get(pr->spec, "exec")))
        s_exec(pr, x);
    else if ((x = json_object_get(pr->spec, "httpGet")))
        s_connect(pr, x, true);
    else if ((x = json_object_get(pr->spec, "tcpSocket")))
        s_connect(pr, x, false);
    else
        s_done(pr, false, "probe has no action");
}

static void s_arm(kl_probe_t *pr, int64_t ms)
{
    if (pr->timer > 0)
        rt_timer_cancel(pr->p->n->k->a, pr->timer);
    pr->timer = rt_timer_add(pr->p->n->k->a, (int)(ms > 0 ? ms : 1), false, s_attempt, pr);
}

void kl_probes_start(kl_pod_t *p, kl_ctr_t *c)
{
    kl_probes_stop(c);
    const json_t *spec = kl_ctr_spec(p, c);
    for (int k = 0; k < KL_NPROBES; k++) {
        const json_t *ps = c->init ? NULL : json_object_get(spec, s_field[k]);
        if (!json_is_object(ps))
            continue;
        kl_probe_t *pr = calloc(1, sizeof *pr);
        if (!pr)
            abort();
        *pr = (kl_probe_t){.p = p, .c = c, .kind = k, .spec = json_deep_copy(ps), .fd = -1};
        c->probes[k] = pr;
        s_arm(pr, s_field_int(pr, "initialDelaySeconds", 0, 0) * 1000);
    }
    c->started = !c->probes[KL_PROBE_STARTUP];
    c->ready = c->started && !c->probes[KL_PROBE_READINESS];
}

void kl_probes_stop_one(kl_ctr_t *c, int kind)
{
    kl_probe_t *pr = c->probes[kind];
    if (!pr)
        return;
    s_idle(pr);
    if (pr->timer > 0)
        rt_timer_cancel(pr->p->n->k->a, pr->timer);
    json_decref(pr->spec);
    free(pr);
    c->probes[kind] = NULL;
}

void kl_probes_stop(kl_ctr_t *c)
{
    for (int k = 0; k < KL_NPROBES; k++)
        kl_probes_stop_one(c, k);
}
