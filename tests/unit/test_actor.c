/*
 * tests/unit/test_actor — the actor runtime against a real broker (a forked
 * child): retries with the same id and late replies, timeouts, prefix
 * pub/sub with overlapping subscriptions, bad envelopes sent to a worker,
 * recovery after the broker is killed and restarted, rt_call_sync keeping
 * other traffic for the loop, timers, fds and the batch-end hook.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "broker/broker.h"
#include "protocol/codec.h"
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

static rt_actor_t *s_open(const char *id)
{
    rt_actor_t *a = NULL;
    char err[256] = "";
    if (rt_actor_open(&a, id, &s_cfg, err, sizeof err) != 0)
        T_FAIL("open %s: %s", id, err);
    REQUIRE(a);
    return a;
}

/* Runs a worker actor in a child process: setup registers what it serves. */
static pid_t s_spawn(const char *id, void (*setup)(rt_actor_t *))
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        rt_actor_t *a = NULL;
        if (rt_actor_open(&a, id, &s_cfg, NULL, 0) != 0)
            _exit(2);
        setup(a);
        rt_run(a);
        rt_actor_destroy(&a);
        _exit(0);
    }
    return pid;
}

static bool s_has_worker(rt_actor_t *c, const char *svc)
{
    json_t *st = NULL;
    rt_call_opts_t o = {.timeout_ms = 1000, .retries = 3};
    if (rt_call_sync(c, "broker", "status", NULL, &o, &st) != 200) {
        json_decref(st);
        return false;
    }
    bool found = false;
    size_t i, j;
    json_t *p, *s;
    json_array_foreach(json_object_get(st, "peers"), i, p)
        json_array_foreach(json_object_get(p, "services"), j, s) found |= !strcmp(json_string_value(s), svc);
    json_decref(st);
    return found;
}

static bool s_wait_worker(rt_actor_t *c, const char *svc)
{
    int64_t end = proto_mono_ms() + 5000;
    while (proto_mono_ms() < end) {
        if (s_has_worker(c, svc))
            return true;
        rt_run_for(c, 50);
    }
    return false;
}

/* --- worker behaviours -------------------------------------------------- */

static void s_echo(rt_actor_t *a, rt_req_t *req, void *arg)
{
    rt_reply(a, &req, 200, req->env.body);
}

static void s_setup_echo(rt_actor_t *a)
{
    rt_serve(a, "echo", s_echo, NULL);
}

/* Ignores each request's first attempt; answers the retry (same id), then
 * answers the first attempt late, which the client must ignore. */
static void s_flaky(rt_actor_t *a, rt_req_t *req, void *arg)
{
    static rt_req_t *stash;
    if (!stash || stash->env.id != req->env.id) {
        if (stash)
            rt_reply(a, &stash, 500, NULL);
        stash = req;
        return;
    }
    json_t *b = json_pack("{s:b}", "same_id", 1);
    rt_reply(a, &req, 200, b);
    json_decref(b);
    rt_reply(a, &stash, 299, NULL);
}

static void s_setup_flaky(rt_actor_t *a)
{
    rt_serve(a, "flaky", s_flaky, NULL);
}

static void s_black_hole(rt_actor_t *a, rt_req_t *req, void *arg)
{
    static rt_req_t *keep[64];
    static int n;
    if (n < 64) {
        keep[n++] = req; /* never answered */
        return;
    }
    rt_reply(a, &req, 200, NULL);
    for (int i = 0; i < 64; i++)
        rt_reply(a, &keep[i], 200, NULL);
    n = 0;
}

static void s_setup_hole(rt_actor_t *a)
{
    rt_serve(a, "hole", s_black_hole, NULL);
}

TEST(retry_uses_same_id_and_ignores_late_reply)
{
    s_setup();
    pid_t b = s_spawn_broker(), w = s_spawn("flaky", s_setup_flaky);
    rt_actor_t *c = s_open("client");
    REQUIRE(s_wait_worker(c, "flaky"));
    for (int i = 0; i < 3; i++) {
        json_t *rep = NULL;
        rt_call_opts_t o = {.timeout_ms = 300, .retries = 2};
        CHECK_EQ_INT(rt_call_sync(c, "flaky", "get", NULL, &o, &rep), 200);
        CHECK(json_is_true(json_object_get(rep, "same_id")));
        json_decref(rep);
    }
    rt_run_for(c, 100); /* late 299s arrive and are dropped as unknown ids */
    rt_actor_destroy(&c);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}

static void s_on_code(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    int *out = arg;
    *out = code;
    if (code == 504)
        CHECK_EQ_STR(proto_obj_str(body, "reason"), "Timeout");
}

TEST(timeout_gives_504)
{
    s_setup();
    pid_t b = s_spawn_broker(), w = s_spawn("hole", s_setup_hole);
    rt_actor_t *c = s_open("client");
    REQUIRE(s_wait_worker(c, "hole"));
    json_t *rep = NULL;
    rt_call_opts_t o = {.timeout_ms = 200, .retries = 1};
    int64_t t0 = proto_mono_ms();
    CHECK_EQ_INT(rt_call_sync(c, "hole", "get", NULL, &o, &rep), 504);
    int64_t took = proto_mono_ms() - t0;
    CHECK(took >= 400 && took < 2000);
    CHECK_EQ_STR(proto_obj_str(rep, "reason"), "Timeout");
    json_decref(rep);
    int code = 0;
    REQUIRE(rt_call(c, "hole", "get", NULL, &(rt_call_opts_t){.timeout_ms = 150}, s_on_code,
                    &code) == 0);
    int64_t end = proto_mono_ms() + 3000;
    while (!code && proto_mono_ms() < end)
        rt_run_for(c, 50);
    CHECK_EQ_INT(code, 504);
    rt_actor_destroy(&c);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}

/* --- events -------------------------------------------------------------- */

typedef struct {
    int n1, n2, all;
    char last[128];
} s_evts_t;

static void s_on_n1(rt_actor_t *a, const char *topic, const proto_env_t *e, void *arg)
{
    s_evts_t *ev = arg;
    ev->n1++;
    snprintf(ev->last, sizeof ev->last, "%s %s", topic, e->op);
}

static void s_on_node(rt_actor_t *a, const char *topic, const proto_env_t *e, void *arg)
{
    s_evts_t *ev = arg;
    ev->all++;
    if (!strncmp(topic, "node/n2/", 8))
        ev->n2++;
}

TEST(pubsub_prefix_filter)
{
    s_setup();
    pid_t b = s_spawn_broker();
    rt_actor_t *sub = s_open("sub"), *pub = s_open("pub");
    s_evts_t ev = {0};
    REQUIRE(rt_subscribe(sub, "node/n1/", s_on_n1, &ev) == 0);
    int64_t end = proto_mono_ms() + 5000;
    while (!ev.n1 && proto_mono_ms() < end) { /* subscriptions propagate asynchronously */
        rt_publish(pub, "node/n2/pods/a", "ADDED", NULL);
        rt_publish(pub, "node/n1/pods/a", "ADDED", NULL);
        rt_run_for(sub, 50);
    }
    CHECK(ev.n1 > 0);
    CHECK_EQ_STR(ev.last, "node/n1/pods/a ADDED");
    /* overlapping subscription: both see n1 events, only the wider sees n2 */
    REQUIRE(rt_subscribe(sub, "node/", s_on_node, &ev) == 0);
    ev = (s_evts_t){0};
    end = proto_mono_ms() + 5000;
    while ((!ev.n2 || !ev.n1) && proto_mono_ms() < end) {
        rt_publish(pub, "node/n2/pods/b", "MODIFIED", NULL);
        rt_publish(pub, "node/n1/pods/b", "MODIFIED", NULL);
        rt_run_for(sub, 50);
    }
    CHECK(ev.n1 > 0 && ev.n2 > 0);
    CHECK(ev.all >= ev.n1 + ev.n2 - 1);
    /* after unsubscribing the wide one, n2 no longer arrives */
    REQUIRE(rt_unsubscribe(sub, "node/", s_on_node, &ev) == 0);
    CHECK_EQ_INT(rt_unsubscribe(sub, "node/", s_on_node, &ev), -ENOENT);
    rt_run_for(sub, 200);
    ev = (s_evts_t){0};
    for (int i = 0; i < 10; i++) {
        rt_publish(pub, "node/n2/pods/c", "DELETED", NULL);
        rt_publish(pub, "node/n1/pods/c", "DELETED", NULL);
        rt_run_for(sub, 20);
    }
    rt_run_for(sub, 200);
    CHECK(ev.n1 > 0);
    CHECK_EQ_INT(ev.all, 0);
    rt_actor_destroy(&sub);
    rt_actor_destroy(&pub);
    s_reap(b, SIGTERM);
}

/* --- bad input to a worker --------------------------------------------- */

static int s_raw_reply(void *raw, proto_env_t *e)
{
    char f[3][512];
    int n = 0, more = 1, len[3] = {0};
    while (more && n < 3) {
        len[n] = zmq_recv(raw, f[n], sizeof f[n], ZMQ_DONTWAIT);
        if (len[n] < 0)
            return -1;
        n++;
        size_t sz = sizeof more;
        zmq_getsockopt(raw, ZMQ_RCVMORE, &more, &sz);
    }
    if (n != 3 || len[0] != 3 || memcmp(f[0], "REP", 3) != 0)
        return -1;
    return proto_env_unpack(f[2], (size_t)len[2], e, NULL, 0);
}

TEST(bad_envelope_to_worker)
{
    s_setup();
    pid_t b = s_spawn_broker();
    rt_actor_t *w = s_open("worker");
    REQUIRE(rt_serve(w, "echo", s_echo, NULL) == 0);
    REQUIRE(s_wait_worker(w, "echo"));
    rt_endpoints_t eps;
    REQUIRE(rt_endpoints_from(s_cfg.broker, &eps) == 0);
    void *ctx = zmq_ctx_new(), *raw = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof zero);
    REQUIRE(zmq_connect(raw, eps.router) == 0);
    /* a map with an id but missing fields: answered 400 with that id */
    json_t *bad = json_pack("{s:i, s:s}", "id", 77, "t", "req");
    char *buf;
    size_t len;
    REQUIRE(proto_mp_pack(bad, &buf, &len) == 0);
    json_decref(bad);
    zmq_send(raw, "REQ", 3, ZMQ_SNDMORE);
    zmq_send(raw, "echo", 4, ZMQ_SNDMORE);
    zmq_send(raw, buf, len, 0);
    free(buf);
    /* bytes that are not msgpack: no id to answer, a counted drop */
    zmq_send(raw, "REQ", 3, ZMQ_SNDMORE);
    zmq_send(raw, "echo", 4, ZMQ_SNDMORE);
    zmq_send(raw, "\xc1\xc1\xc1", 3, 0);
    proto_env_t e = {0};
    bool got = false;
    rt_stats_t st = {0};
    int64_t end = proto_mono_ms() + 5000;
    while ((!got || st.dropped_bad < 1) && proto_mono_ms() < end) {
        rt_run_for(w, 20);
        if (!got && s_raw_reply(raw, &e) == 0)
            got = true;
        rt_actor_stats(w, &st);
    }
    REQUIRE(got);
    CHECK_EQ_INT(e.id, 77);
    CHECK_EQ_INT(e.code, 400);
    CHECK_EQ_STR(proto_obj_str(e.body, "reason"), "BadRequest");
    proto_env_clear(&e);
    CHECK(st.dropped_bad >= 1);
    /* and the worker still serves */
    json_t *rep = NULL;
    CHECK(s_has_worker(w, "echo"));
    zmq_close(raw);
    zmq_ctx_term(ctx);
    json_decref(rep);
    rt_actor_destroy(&w);
    s_reap(b, SIGTERM);
}

/* --- broker restart ------------------------------------------------------ */

static int s_reconnects;

static void s_count_reconnect(rt_actor_t *a, void *arg)
{
    (*(int *)arg)++;
}

static void s_report(rt_actor_t *a, rt_req_t *req, void *arg)
{
    json_t *b = json_pack("{s:i}", "reconnects", s_reconnects);
    rt_reply(a, &req, 200, b);
    json_decref(b);
}

static void s_ping(rt_actor_t *a, const char *topic, const proto_env_t *e, void *arg)
{
    rt_publish(a, "pong/1", "ADDED", NULL);
}

static void s_setup_restartable(rt_actor_t *a)
{
    rt_serve(a, "report", s_report, NULL);
    rt_on_reconnect(a, s_count_reconnect, &s_reconnects);
    rt_subscribe(a, "ping/", s_ping, NULL);
}

static void s_on_pong(rt_actor_t *a, const char *topic, const proto_env_t *e, void *arg)
{
    (*(int *)arg)++;
}

/* Publishes pings until a pong comes back (deadline ms). */
static bool s_ping_pong(rt_actor_t *c, int *pongs, int ms)
{
    *pongs = 0;
    int64_t end = proto_mono_ms() + ms;
    while (!*pongs && proto_mono_ms() < end) {
        rt_publish(c, "ping/1", "ADDED", NULL);
        rt_run_for(c, 100);
    }
    return *pongs > 0;
}

TEST(broker_restart_recovers)
{
    s_setup();
    pid_t b = s_spawn_broker(), w = s_spawn("worker", s_setup_restartable);
    rt_actor_t *c = s_open("client");
    int pongs = 0, mine = 0;
    rt_subscribe(c, "pong/", s_on_pong, &pongs);
    rt_on_reconnect(c, s_count_reconnect, &mine);
    REQUIRE(s_wait_worker(c, "report"));
    CHECK(s_ping_pong(c, &pongs, 5000));
    rt_run_for(c, 1200); /* the client learns the first epoch */
    s_reap(b, SIGKILL);
    b = s_spawn_broker();
    int reconnects = -1;
    int64_t end = proto_mono_ms() + 15000;
    while (reconnects < 1 && proto_mono_ms() < end) {
        json_t *rep = NULL;
        rt_call_opts_t o = {.timeout_ms = 1000};
        if (rt_call_sync(c, "report", "get", NULL, &o, &rep) == 200)
            reconnects = (int)proto_obj_int(rep, "reconnects", -1);
        json_decref(rep);
        rt_run_for(c, 50);
    }
    CHECK(reconnects >= 1);
    CHECK(s_ping_pong(c, &pongs, 8000)); /* both ends resubscribed by themselves */
    end = proto_mono_ms() + 3000;
    while (!mine && proto_mono_ms() < end)
        rt_run_for(c, 100);
    CHECK(mine >= 1);
    rt_actor_destroy(&c);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}

/* --- rt_call_sync and the loop -------------------------------------------- */

TEST(sync_call_keeps_other_traffic)
{
    s_setup();
    pid_t b = s_spawn_broker(), w = s_spawn("echo", s_setup_echo);
    rt_actor_t *c = s_open("client");
    REQUIRE(s_wait_worker(c, "echo"));
    int code = 0;
    json_t *b1 = json_pack("{s:i}", "n", 1), *b2 = json_pack("{s:i}", "n", 2), *rep = NULL;
    REQUIRE(rt_call(c, "echo", "get", b1, NULL, s_on_code, &code) == 0);
    CHECK_EQ_INT(rt_call_sync(c, "echo", "get", b2, NULL, &rep), 200);
    CHECK_EQ_INT(proto_obj_int(rep, "n", 0), 2);
    CHECK_EQ_INT(code, 0); /* the async reply waits for the loop */
    int64_t end = proto_mono_ms() + 3000;
    while (!code && proto_mono_ms() < end)
        rt_run_for(c, 50);
    CHECK_EQ_INT(code, 200);
    json_decref(rep);
    json_decref(b1);
    json_decref(b2);
    rt_actor_destroy(&c);
    s_reap(w, SIGTERM);
    s_reap(b, SIGTERM);
}

typedef struct {
    int once, rep, fd, batches, rep_id;
} s_loopst_t;

static void s_t_once(rt_actor_t *a, void *arg)
{
    ((s_loopst_t *)arg)->once++;
}

static void s_t_rep(rt_actor_t *a, void *arg)
{
    s_loopst_t *s = arg;
    if (++s->rep == 3)
        rt_timer_cancel(a, s->rep_id);
}

static void s_on_fd(rt_actor_t *a, int fd, short revents, void *arg)
{
    char buf[16];
    if (read(fd, buf, sizeof buf) > 0)
        ((s_loopst_t *)arg)->fd++;
    rt_stop(a);
}

static void s_on_batch(rt_actor_t *a, void *arg)
{
    ((s_loopst_t *)arg)->batches++;
}

TEST(timers_fds_and_batch_hook)
{
    s_setup(); /* no broker needed: the loop runs without one */
    rt_actor_t *a = s_open("loop");
    s_loopst_t s = {0};
    CHECK(rt_timer_add(a, 20, false, s_t_once, &s) > 0);
    s.rep_id = rt_timer_add(a, 10, true, s_t_rep, &s);
    int cancelled = rt_timer_add(a, 10, false, s_t_once, &s);
    rt_timer_cancel(a, cancelled);
    rt_on_batch_end(a, s_on_batch, &s);
    CHECK_EQ_INT(rt_timer_add(a, 0, true, s_t_rep, &s), -EINVAL);
    rt_run_for(a, 200);
    CHECK_EQ_INT(s.once, 1);
    CHECK_EQ_INT(s.rep, 3);
    CHECK(s.batches >= 1);
    int p[2];
    REQUIRE(pipe(p) == 0);
    REQUIRE(rt_fd_add(a, p[0], POLLIN, s_on_fd, &s) == 0);
    CHECK_EQ_INT(rt_fd_add(a, p[0], POLLIN, s_on_fd, &s), -EEXIST);
    CHECK(write(p[1], "x", 1) == 1);
    int64_t t0 = proto_mono_ms();
    rt_run(a); /* s_on_fd stops it */
    CHECK(proto_mono_ms() - t0 < 1000);
    CHECK_EQ_INT(s.fd, 1);
    rt_fd_remove(a, p[0]);
    rt_off_batch_end(a, s_on_batch, &s);
    int before = s.batches;
    rt_timer_add(a, 1, false, s_t_once, &s);
    rt_run_for(a, 50);
    CHECK_EQ_INT(s.batches, before);
    close(p[0]);
    close(p[1]);
    rt_actor_destroy(&a);
    CHECK(a == NULL);
    rt_actor_destroy(&a); /* NULL is fine */
}

TEST(open_rejects_bad_input)
{
    s_setup();
    rt_actor_t *a = NULL;
    char err[256] = "";
    char longid[100];
    memset(longid, 'x', sizeof longid - 1);
    longid[99] = '\0';
    CHECK_EQ_INT(rt_actor_open(&a, longid, &s_cfg, err, sizeof err), -EINVAL);
    CHECK_EQ_INT(rt_actor_open(&a, "", &s_cfg, err, sizeof err), -EINVAL);
    rt_config_t bad = s_cfg;
    snprintf(bad.broker, sizeof bad.broker, "nope://x");
    CHECK_EQ_INT(rt_actor_open(&a, "x", &bad, err, sizeof err), -EINVAL);
    CHECK_CONTAINS(err, "nope://x");
    a = s_open("ok");
    CHECK_EQ_STR(rt_actor_id(a), "ok");
    CHECK_EQ_INT(rt_call(a, "", "get", NULL, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(rt_serve(a, "", s_echo, NULL), -EINVAL);
    CHECK_EQ_INT(rt_publish(a, "", "x", NULL), -EINVAL);
    rt_actor_destroy(&a);
}

/* The scheduling policy of this process's first thread whose name starts
 * with name (field 41 of /proc/self/task/TID/stat), or -1. */
static int s_policy_of(const char *name)
{
    int found = -1;
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    while (d && found < 0 && (de = readdir(d))) {
        char path[300], comm[64] = "", buf[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        bool match = fgets(comm, sizeof comm, f) && !strncmp(comm, name, strlen(name));
        fclose(f);
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
        f = match ? fopen(path, "r") : NULL;
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = 0;
        const char *p = n ? strrchr(buf, ')') : NULL; /* field 2 ends here */
        int field = 2;
        for (; p && *p && field < 41; p++)
            field += *p == ' ';
        if (p && field == 41)
            found = atoi(p);
    }
    if (d)
        closedir(d);
    return found;
}

/* The context's I/O thread does not preempt the loop on wake-up. */
TEST(io_thread_runs_as_sched_batch)
{
    s_setup();
    pid_t b = s_spawn_broker();
    rt_actor_t *c = s_open("batch-client");
    rt_run_for(c, 50);
    CHECK_EQ_INT(s_policy_of("ZMQbg/IO"), SCHED_BATCH);
    CHECK_EQ_INT(sched_getscheduler(0), SCHED_OTHER); /* the loop's own thread: as it was */
    rt_actor_destroy(&c);
    s_reap(b, SIGTERM);
}
