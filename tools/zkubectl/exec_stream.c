/*
 * tools/zkubectl/exec_stream.c — the interactive half of `zkubectl exec`:
 * a stream on the kubelet of the pod's node (ops stream.open / stream.io /
 * stream.close, actors/kubelet/stream.c). One read waits on the kubelet
 * at a time (its stdout goes to our stdout, stderr to stderr); with -i our
 * stdin is read while no write is in flight (that is the backpressure) and
 * its end closes the command's input; with -t the local terminal is put in
 * raw mode for the session (restored at the end, also on SIGINT) and its
 * size is sent, then again on SIGWINCH.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "protocol/b64.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor.h"
#include "tools/zkubectl/ctl.h"

#define S_CHUNK (64u << 10)
#define S_CALL_MS 15000

typedef struct s_xs {
    rt_actor_t *a;
    char svc[300], id[64];
    bool in_open, in_armed, reading, writing, done, failed, tty;
    int exit_code;
    struct termios saved;
    bool raw;
} s_xs_t;

static volatile sig_atomic_t s_xs_stop, s_xs_winch;
static void s_xs_on_sig(int sig)
{
    if (sig == SIGWINCH)
        s_xs_winch = 1;
    else
        s_xs_stop = 1;
}

static void s_xs_out(const json_t *body, const char *key, FILE *f)
{
    const json_t *v = json_object_get(body, key);
    size_t n = 0;
    char *d = json_is_string(v) ? proto_b64_decode(json_string_value(v), json_string_length(v), &n)
                                : NULL;
    if (d && n) {
        fwrite(d, 1, n, f);
        fflush(f);
    }
    free(d);
}

static void s_xs_read(s_xs_t *x);

static void s_xs_on_read(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_xs_t *x = arg;
    (void)a;
    x->reading = false;
    if (code != 200) {
        if (!x->done)
            ctl_print_status(body, NULL);
        x->done = x->failed = true;
        rt_stop(x->a);
        return;
    }
    s_xs_out(body, "stdout", stdout);
    s_xs_out(body, "stderr", stderr);
    if (json_is_true(json_object_get(body, "end"))) {
        x->exit_code = (int)proto_obj_int(body, "exitCode", 0);
        x->done = true;
        rt_stop(x->a);
        return;
    }
    s_xs_read(x);
}

static void s_xs_read(s_xs_t *x)
{
    if (x->done || x->reading)
        return;
    json_t *b = json_pack("{s:s, s:i}", "stream", x->id, "waitMs", 2000);
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
    x->reading = rt_call(x->a, x->svc, "stream.io", b, &o, s_xs_on_read, x) == 0;
    json_decref(b);
    if (!x->reading)
        x->done = x->failed = true;
}

static void s_xs_on_write(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_xs_t *x = arg;
    (void)a;
    (void)body;
    x->writing = false;
    if (code != 200)
        x->in_open = false; /* the command's input is gone: stop reading ours */
    rt_stop(x->a);          /* the loop arms stdin again */
}

static void s_xs_write(s_xs_t *x, json_t *b)
{
    json_object_set_new(b, "stream", json_string(x->id));
    rt_call_opts_t o = {.timeout_ms = S_CALL_MS};
    x->writing = rt_call(x->a, x->svc, "stream.io", b, &o, s_xs_on_write, x) == 0;
    json_decref(b);
}

static json_t *s_xs_size(void)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) < 0 || !ws.ws_col || !ws.ws_row)
        return NULL;
    return json_pack("{s:i, s:i}", "width", ws.ws_col, "height", ws.ws_row);
}

/* Our stdin: one chunk per write; its end closes the command's input. */
static void s_xs_stdin(s_xs_t *x)
{
    char buf[S_CHUNK];
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        x->in_open = false;
        s_xs_write(x, json_pack("{s:b}", "close", 1));
        return;
    }
    char *enc = proto_b64_encode(buf, (size_t)n);
    s_xs_write(x, json_pack("{s:s}", "data", enc));
    free(enc);
}

static void s_xs_on_stdin(rt_actor_t *a, int fd, short revents, void *arg)
{
    s_xs_t *x = arg;
    (void)revents;
    rt_fd_remove(a, fd);
    x->in_armed = false;
    s_xs_stdin(x);
}

static void s_xs_raw(s_xs_t *x)
{
    struct termios t;
    if (tcgetattr(0, &x->saved) < 0)
        return;
    t = x->saved;
    cfmakeraw(&t);
    x->raw = tcsetattr(0, TCSANOW, &t) == 0;
}

/* The stream's loop until its end; returns zkubectl's exit code. */
static int s_xs_loop(s_xs_t *x)
{
    s_xs_read(x);
    while (!x->done) {
        if (s_xs_stop) {
            json_t *b = json_pack("{s:s}", "stream", x->id), *rep = NULL;
            rt_call_opts_t o = {.timeout_ms = 3000};
            rt_call_sync(x->a, x->svc, "stream.close", b, &o, &rep);
            json_decref(b);
            json_decref(rep);
            return 130;
        }
        if (s_xs_winch && !x->writing) {
            s_xs_winch = 0;
            json_t *sz = s_xs_size();
            if (sz)
                s_xs_write(x, json_pack("{s:o}", "resize", sz));
        }
        if (x->in_open && !x->writing && !x->in_armed)
            x->in_armed = rt_fd_add(x->a, 0, POLLIN, s_xs_on_stdin, x) == 0;
        rt_run_for(x->a, 500);
    }
    if (x->in_armed)
        rt_fd_remove(x->a, 0);
    if (x->failed)
        return 1;
    return x->exit_code < 0 || x->exit_code > 255 ? 1 : x->exit_code;
}

int ctl_exec_stream(ctl_t *c, const json_t *pod, json_t *open, bool in, bool tty)
{
    s_xs_t x = {.a = c->actor, .in_open = in};
    snprintf(x.svc, sizeof x.svc, "kubelet-%s", proto_obj_str(pod, "spec.nodeName") ?: "");
    if (tty && !isatty(0)) {
        fprintf(stderr, "Unable to use a TTY - input is not a terminal or the right kind of "
                        "file\n");
        tty = false;
    }
    json_object_set_new(open, "type", json_string("exec"));
    json_object_set_new(open, "stdin", json_boolean(in));
    json_object_set_new(open, "tty", json_boolean(tty));
    if (tty) {
        json_t *sz = s_xs_size();
        if (sz)
            json_object_update(open, sz);
        json_decref(sz);
    }
    json_t *rep = NULL;
    int code = ctl_kubelet_call(c, pod, "stream.open", open, S_CALL_MS, &rep);
    const char *id = json_string_value(json_object_get(rep, "stream"));
    if (code != 200 || !id) {
        ctl_print_status(rep, NULL);
        json_decref(rep);
        return 1;
    }
    snprintf(x.id, sizeof x.id, "%s", id);
    json_decref(rep);
    struct sigaction sa = {.sa_handler = s_xs_on_sig}, old_int, old_term, old_winch;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGWINCH, &sa, &old_winch);
    if (tty)
        s_xs_raw(&x);
    int rc = s_xs_loop(&x);
    if (x.raw)
        tcsetattr(0, TCSANOW, &x.saved);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    if (rc > 0 && rc < 256 && !x.failed && !s_xs_stop)
        fprintf(stderr, "command terminated with exit code %d\n", rc);
    return rc;
}
