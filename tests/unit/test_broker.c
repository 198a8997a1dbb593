/*
 * tests/unit/test_broker — the broker as a real process (a forked child
 * running broker_run in the test's temporary ZKUBE_HOME), with workers in
 * child processes and clients in the test process: routing, load balancing,
 * 503 after the queue timeout, late registration, garbage frames, the tap
 * and the "broker" service's status op.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "broker/broker.h"
#include "protocol/envelope.h"
#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/config.h"

static rt_config_t s_cfg;

static void s_setup(void)
{
    char home[PATH_MAX];
    snprintf(home, sizeof home, "%s/h", t_tmpdir());
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    if (!getenv("ZKUBE_LOG"))
        setenv("ZKUBE_LOG", "error", 1);
    char err[256];
    REQUIRE(rt_config_load(&s_cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&s_cfg) == 0);
}

static pid_t s_spawn_broker(void)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(broker_run(&s_cfg) == 0 ? 0 : 1);
    }
    return pid;
}

static void s_reap(pid_t pid, int sig)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    int64_t end = proto_mono_ms() + 3000;
    while (proto_mono_ms() < end) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void s_echo(rt_actor_t *a, rt_req_t *req, void *arg)
{
    json_t *body = json_pack("{s:s, s:s, s:O?}", "worker", rt_actor_id(a), "op", req->env.op,
                             "body", req->env.body);
    rt_reply(a, &req, 200, body);
    json_decref(body);
}

static pid_t s_spawn_worker(const char *id, const char *service)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        rt_actor_t *a = NULL;
        if (rt_actor_open(&a, id, &s_cfg, NULL, 0) != 0 || rt_serve(a, service, s_echo, NULL))
            _exit(2);
        rt_run(a);
        rt_actor_destroy(&a);
        _exit(0);
    }
    return pid;
}

static rt_actor_t *s_client(const char *id)
{
    rt_actor_t *a = NULL;
    char err[256] = "";
    if (rt_actor_open(&a, id, &s_cfg, err, sizeof err) != 0)
        T_FAIL("open %s: %s", id, err);
    REQUIRE(a);
    return a;
}

static json_t *s_status(rt_actor_t *c)
{
    json_t *rep = NULL;
    rt_call_opts_t o = {.timeout_ms = 2000, .retries = 2};
    int code = rt_call_sync(c, "broker", "status", NULL, &o, &rep);
    CHECK_EQ_INT(code, 200);
    return rep;
}

static int s_workers_of(const json_t *st, const char *svc)
{
    int n = 0;
    size_t i, j;
    json_t *p, *s;
    json_array_foreach(json_object_get(st, "peers"), i, p)
        json_array_foreach(json_object_get(p, "services"), j, s) n += !strcmp(json_string_value(s), svc);
    return n;
}

/* Polls the broker until svc has n workers (deadline 5 s). */
static bool s_wait_workers(rt_actor_t *c, const char *svc, int n)
{
    int64_t end = proto_mono_ms() + 5000;
    while (proto_mono_ms() < end) {
        json_t *st = s_status(c);
        int have = s_workers_of(st, svc);
        json_decref(st);
        if (have >= n)
            return true;
        rt_run_for(c, 50);
    }
    return false;
}

TEST(status_op)
{
    s_setup();
    pid_t b = s_spawn_broker();
    rt_actor_t *c = s_client("statc");
    json_t *st = s_status(c);
    REQUIRE(st);
    CHECK_EQ_INT(strlen(json_string_value(json_object_get(st, "epoch"))), 16);
    CHECK(json_is_integer(json_object_get(st, "tap_dropped")));
    size_t i;
    json_t *p;
    bool found = false;
    json_array_foreach(json_object_get(st, "peers"), i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "id")), "statc") != 0)
            continue;
        found = true;
        CHECK(json_integer_value(json_object_get(p, "msgs_in")) >= 1);
        CHECK(json_integer_value(json_object_get(p, "bytes_in")) > 0);
        CHECK_CONTAINS(json_string_value(json_object_get(p, "identity")), "statc#");
        CHECK(json_is_array(json_object_get(p, "services")));
        CHECK(json_is_integer(json_object_get(p, "last_seen_ms")));
    }
    CHECK(found);
    json_decref(st);
    json_t *rep = NULL;
    CHECK_EQ_INT(rt_call_sync(c, "broker", "nope", NULL, NULL, &rep), 400);
    CHECK_EQ_STR(proto_obj_str(rep, "reason"), "BadRequest");
    json_decref(rep);
    rt_actor_destroy(&c);
    s_reap(b, SIGTERM);
}

TEST(request_reply)
{
    s_setup();
    pid_t b = s_spawn_broker(), w = s_spawn_worker("w1", "echo");
    rt_actor_t *c = s_client("client");
    json_t *body = json_pack("{s:i}", "n", 42), *rep = NULL;
    rt_call_opts_t o = {.timeout_ms = 5000};
    CHECK_EQ_INT(rt_call_sync(c, "echo", "ping", body, &o, &rep), 200);
    CHECK_EQ_STR(proto_obj_str(rep, "worker"), "w1");
    CHECK_EQ_STR(proto_obj_str(rep, "op"), "ping");
    CHECK_EQ_INT(proto_obj_int(rep, "body.n", 0), 42);
    json_decref(rep);
    json_decref(body);
    rt_stats_t s;
    rt_actor_stats(c, &s);
    CHECK(s.msgs_in >= 1 && s.msgs_out >= 1);
    rt_actor_destroy(&c);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}

TEST(load_balancing)
{
    s_setup();
    pid_t b = s_spawn_broker();
    pid_t w1 = s_spawn_worker("w1", "echo"), w2 = s_spawn_worker("w2", "echo");
    rt_actor_t *c = s_client("client");
    REQUIRE(s_wait_workers(c, "echo", 2));
    int n1 = 0, n2 = 0;
    for (int i = 0; i < 20; i++) {
        json_t *rep = NULL;
        CHECK_EQ_INT(rt_call_sync(c, "echo", "ping", NULL, NULL, &rep), 200);
        const char *who = proto_obj_str(rep, "worker");
        n1 += who && !strcmp(who, "w1");
        n2 += who && !strcmp(who, "w2");
        json_decref(rep);
    }
    CHECK_EQ_INT(n1 + n2, 20);
    CHECK(n1 >= 5 && n2 >= 5);
    rt_actor_destroy(&c);
    s_reap(w1, SIGTERM);
    s_reap(w2, SIGTERM);
    s_reap(b, SIGTERM);
}

TEST(no_worker_gets_503)
{
    s_setup();
    pid_t b = s_spawn_broker();
    rt_actor_t *c = s_client("client");
    json_t *rep = NULL;
    rt_call_opts_t o = {.timeout_ms = 9000};
    int64_t t0 = proto_mono_ms();
    CHECK_EQ_INT(rt_call_sync(c, "nobody", "get", NULL, &o, &rep), 503);
    int64_t took = proto_mono_ms() - t0;
    CHECK(took >= 4500 && took < 8000);
    CHECK_EQ_STR(proto_obj_str(rep, "reason"), "ServiceUnavailable");
    CHECK_CONTAINS(proto_obj_str(rep, "message"), "no worker for service nobody");
    json_decref(rep);
    rt_actor_destroy(&c);
    s_reap(b, SIGTERM);
}

static void s_on_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    int *out = arg;
    *out = code;
    rt_stop(a);
}

TEST(queued_until_worker_registers)
{
    s_setup();
    pid_t b = s_spawn_broker();
    rt_actor_t *c = s_client("client");
    int code = 0;
    rt_call_opts_t o = {.timeout_ms = 8000};
    REQUIRE(rt_call(c, "late", "get", NULL, &o, s_on_reply, &code) == 0);
    json_t *st = s_status(c); /* the request has reached the broker before... */
    CHECK_EQ_INT(json_integer_value(json_object_get(st, "queued")), 1);
    json_decref(st);
    pid_t w = s_spawn_worker("w1", "late"); /* ...the worker exists */
    int64_t end = proto_mono_ms() + 7000;
    while (!code && proto_mono_ms() < end)
        rt_run_for(c, 100);
    CHECK_EQ_INT(code, 200);
    rt_actor_destroy(&c);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}

static void s_send_raw(void *s, int n, const char **frames, const size_t *lens)
{
    for (int i = 0; i < n; i++)
        zmq_send(s, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0);
}

TEST(garbage_frames_do_not_hurt)
{
    s_setup();
    pid_t b = s_spawn_broker(), w = s_spawn_worker("w1", "echo");
    rt_endpoints_t eps;
    REQUIRE(rt_endpoints_from(s_cfg.broker, &eps) == 0);
    void *ctx = zmq_ctx_new(), *raw = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof zero);
    REQUIRE(zmq_connect(raw, eps.router) == 0);
    size_t big = 1 << 20;
    char *blob = calloc(1, big);
    const char *f1[] = {"hello"};
    s_send_raw(raw, 1, f1, (size_t[]){5});
    const char *f7[] = {"REQ", "echo", "a", "b", "c", "d", "e"};
    s_send_raw(raw, 7, f7, (size_t[]){3, 4, 1, 1, 1, 1, 1});
    const char *fu[] = {"NOPE", "x", "y"};
    s_send_raw(raw, 3, fu, (size_t[]){4, 1, 1});
    const char *fb[] = {"REQ", "broker", "\xc1junk"};
    s_send_raw(raw, 3, fb, (size_t[]){3, 6, 5});
    const char *fr[] = {"RDY", ""};
    s_send_raw(raw, 2, fr, (size_t[]){3, 0});
    const char *fp[] = {"REP", "", "x"};
    s_send_raw(raw, 3, fp, (size_t[]){3, 0, 1});
    const char *fz[] = {"REQ", "echo", blob};
    s_send_raw(raw, 3, fz, (size_t[]){3, 4, big}); /* reaches the worker: it must cope */
    const char *fe[] = {"", "", ""};
    s_send_raw(raw, 3, fe, (size_t[]){0, 0, 0});
    free(blob);
    rt_actor_t *c = s_client("client");
    json_t *rep = NULL;
    CHECK_EQ_INT(rt_call_sync(c, "echo", "ping", NULL, NULL, &rep), 200);
    json_decref(rep);
    /* the raw socket's messages race the client's: wait for all 7 drops */
    int64_t garbage = 0, end = proto_mono_ms() + 5000;
    while (garbage < 7 && proto_mono_ms() < end) {
        json_t *st = s_status(c);
        garbage = json_integer_value(json_object_get(st, "garbage"));
        json_decref(st);
    }
    CHECK_EQ_INT(garbage, 7);
    CHECK_EQ_INT(waitpid(b, NULL, WNOHANG), 0); /* still alive */
    CHECK_EQ_INT(waitpid(w, NULL, WNOHANG), 0);
    rt_actor_destroy(&c);
    zmq_close(raw);
    zmq_ctx_term(ctx);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}

/* Reads one tap message: returns its frame count, dir and first frames. */
static int s_tap_read(void *tap, char dir[8], char peer[128], char cmd[8])
{
    zmq_pollitem_t it = {tap, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 100) <= 0)
        return 0;
    int n = 0, more = 1;
    while (more) {
        char buf[128] = "";
        int len = zmq_recv(tap, buf, sizeof buf - 1, 0);
        if (len < 0)
            break;
        buf[len < (int)sizeof buf - 1 ? len : (int)sizeof buf - 1] = '\0';
        char *dst[] = {dir, peer, cmd};
        size_t cap[] = {8, 128, 8};
        if (n < 3)
            snprintf(dst[n], cap[n], "%s", buf);
        n++;
        size_t sz = sizeof more;
        zmq_getsockopt(tap, ZMQ_RCVMORE, &more, &sz);
    }
    return n;
}

static void s_on_evt(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    (*(int *)arg)++;
}

TEST(tap_mirrors_traffic)
{
    s_setup();
    pid_t b = s_spawn_broker();
    rt_endpoints_t eps;
    REQUIRE(rt_endpoints_from(s_cfg.broker, &eps) == 0);
    void *ctx = zmq_ctx_new(), *tap = zmq_socket(ctx, ZMQ_SUB);
    int zero = 0;
    zmq_setsockopt(tap, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(tap, ZMQ_SUBSCRIBE, "", 0);
    REQUIRE(zmq_connect(tap, eps.tap) == 0);
    rt_actor_t *c = s_client("tapc");
    int evts = 0;
    rt_subscribe(c, "x/", s_on_evt, &evts);
    bool in = false, out = false, evt = false;
    int64_t end = proto_mono_ms() + 8000;
    while (!(in && out && evt) && proto_mono_ms() < end) {
        json_decref(s_status(c));
        rt_publish(c, "x/1", "ADDED", NULL);
        char dir[8], peer[128], cmd[8];
        int n;
        while ((n = s_tap_read(tap, dir, peer, cmd)) > 0) {
            if (!strcmp(dir, "in") && !strncmp(peer, "tapc#", 5) && !strcmp(cmd, "REQ"))
                in = in || n == 5; /* dir peer REQ service envelope */
            if (!strcmp(dir, "out") && !strncmp(peer, "tapc#", 5) && !strcmp(cmd, "REP"))
                out = out || n == 5;
            if (!strcmp(dir, "evt") && !strcmp(cmd, "x/1"))
                evt = evt || n == 4; /* dir peer topic envelope */
        }
    }
    CHECK(in);
    CHECK(out);
    CHECK(evt);
    json_t *st = s_status(c);
    CHECK(json_integer_value(json_object_get(st, "tap_sent")) > 0);
    json_decref(st);
    rt_actor_destroy(&c);
    zmq_close(tap);
    zmq_ctx_term(ctx);
    s_reap(b, SIGTERM);
}

TEST(dead_worker_is_dropped)
{
    s_setup();
    pid_t b = s_spawn_broker();
    pid_t w1 = s_spawn_worker("w1", "echo"), w2 = s_spawn_worker("w2", "echo");
    rt_actor_t *c = s_client("client");
    REQUIRE(s_wait_workers(c, "echo", 2));
    s_reap(w1, SIGKILL); /* no BYE: only silence tells */
    int64_t end = proto_mono_ms() + 6000;
    int n = 2;
    while (n != 1 && proto_mono_ms() < end) {
        json_t *st = s_status(c);
        n = s_workers_of(st, "echo");
        json_decref(st);
        rt_run_for(c, 100);
    }
    CHECK_EQ_INT(n, 1);
    for (int i = 0; i < 4; i++) {
        json_t *rep = NULL;
        rt_call_opts_t o = {.timeout_ms = 2000};
        CHECK_EQ_INT(rt_call_sync(c, "echo", "ping", NULL, &o, &rep), 200);
        CHECK_EQ_STR(proto_obj_str(rep, "worker"), "w2");
        json_decref(rep);
    }
    rt_actor_destroy(&c);
    s_reap(w2, SIGTERM);
    s_reap(b, SIGTERM);
}

TEST(curve_keeps_out_unknown_keys)
{
    s_setup();
    char keys[PATH_MAX + 8], other[PATH_MAX], err[256] = "";
    snprintf(keys, sizeof keys, "%s/keys", s_cfg.home);
    snprintf(other, sizeof other, "%s/other", t_tmpdir());
    REQUIRE(rt_curve_keygen(keys, err, sizeof err) == 0);
    REQUIRE(rt_curve_keygen(keys, err, sizeof err) == 0); /* keeps existing keys */
    REQUIRE(rt_curve_keygen(other, err, sizeof err) == 0);
    /* the intruder knows the broker's public key, not the cluster's client key */
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cp '%s/broker.pub' '%s/broker.pub'", keys, other);
    REQUIRE(system(cmd) == 0);
    REQUIRE(snprintf(s_cfg.curve_dir, sizeof s_cfg.curve_dir, "%s", keys) <
            (int)sizeof s_cfg.curve_dir);
    pid_t b = s_spawn_broker();
    rt_actor_t *c = s_client("good");
    json_t *st = s_status(c);
    CHECK(json_is_true(json_object_get(st, "curve")));
    json_decref(st);
    rt_config_t bad = s_cfg;
    snprintf(bad.curve_dir, sizeof bad.curve_dir, "%s", other);
    rt_actor_t *x = NULL;
    REQUIRE(rt_actor_open(&x, "intruder", &bad, err, sizeof err) == 0);
    json_t *rep = NULL;
    rt_call_opts_t o = {.timeout_ms = 500};
    CHECK_EQ_INT(rt_call_sync(x, "broker", "status", NULL, &o, &rep), 504);
    json_decref(rep);
    rt_actor_destroy(&x);
    bad.curve_dir[0] = '\0'; /* and one without CURVE at all */
    REQUIRE(rt_actor_open(&x, "plain", &bad, err, sizeof err) == 0);
    CHECK_EQ_INT(rt_call_sync(x, "broker", "status", NULL, &o, &rep), 504);
    json_decref(rep);
    rt_actor_destroy(&x);
    st = s_status(c);
    CHECK(json_integer_value(json_object_get(st, "auth_denied")) >= 1);
    json_decref(st);
    snprintf(bad.curve_dir, sizeof bad.curve_dir, "%s/missing", t_tmpdir());
    CHECK(rt_actor_open(&x, "nokeys", &bad, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "broker.pub");
    rt_actor_destroy(&c);
    s_reap(b, SIGTERM);
}

TEST(request_reply_over_tcp_loopback)
{
    s_setup();
    /* four consecutive loopback ports, spread by pid to avoid other tests */
    int port = 30000 + (int)(getpid() % 8000) * 4;
    snprintf(s_cfg.broker, sizeof s_cfg.broker, "tcp://127.0.0.1:%d", port);
    pid_t b = s_spawn_broker(), w = s_spawn_worker("w1", "echo");
    rt_actor_t *c = s_client("client");
    json_t *rep = NULL;
    CHECK_EQ_INT(rt_call_sync(c, "echo", "ping", NULL, NULL, &rep), 200);
    CHECK_EQ_STR(proto_obj_str(rep, "worker"), "w1");
    json_decref(rep);
    rt_actor_destroy(&c);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}
