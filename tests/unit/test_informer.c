/*
 * tests/unit/test_informer — list + watch over the bus against a fake
 * apiserver (a child process) that publishes events exactly as the
 * protocol says and can be told to lose an event or to "restart" (new
 * epoch). Checks sync, ordering, loss detection by seq gap and by the
 * _sync beacon, epoch change, node streams, transforms, and compact caches
 * with an index.
 */
#include "tests/unit/test.h"

#include <signal.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/informer.h"

static pid_t s_broker, s_fake;
static rt_actor_t *s_a;
static rt_config_t s_cfg;

/* ---- the fake apiserver -------------------------------------------------- */

static json_t *s_objs; /* name -> pod */
static json_t *s_seqs; /* stream -> seq */
static uint64_t s_rev;
static char s_epoch[32] = "e1";
static bool s_lose_next;

static uint64_t s_next_seq(const char *stream)
{
    uint64_t n = (uint64_t)json_integer_value(json_object_get(s_seqs, stream)) + 1;
    json_object_set_new(s_seqs, stream, json_integer((json_int_t)n));
    return n;
}

static void s_emit(rt_actor_t *a, const char *stream, const char *topic, const char *type,
                   json_t *obj)
{
    uint64_t seq = s_next_seq(stream);
    if (s_lose_next) { /* the event takes its seq but never leaves */
        s_lose_next = false;
        return;
    }
    json_t *body = json_pack("{s:s, s:O, s:I, s:I, s:s}", "type", type, "object", obj, "rev",
                             (json_int_t)s_rev, "seq", (json_int_t)seq, "epoch", s_epoch);
    rt_publish(a, topic, type, body);
    json_decref(body);
}

static void s_change(rt_actor_t *a, const char *type, json_t *obj)
{
    char rv[32], topic[256];
    s_rev++;
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)s_rev);
    proto_obj_set_str(obj, "metadata.resourceVersion", rv);
    const char *name = proto_obj_name(obj), *node = proto_obj_str(obj, "spec.nodeName");
    snprintf(topic, sizeof topic, "pods/default/%s", name);
    s_emit(a, "pods/", topic, type, obj);
    if (node) {
        char stream[128];
        snprintf(stream, sizeof stream, "node/%s/pods/", node);
        snprintf(topic, sizeof topic, "node/%s/pods/default/%s", node, name);
        s_emit(a, stream, topic, type, obj);
    }
}

static void s_serve_api(rt_actor_t *a, rt_req_t *req, void *arg)
{
    json_t *items = json_array();
    const char *fs = json_string_value(json_object_get(req->env.body, "fieldSelector"));
    const char *stream = json_string_value(json_object_get(req->env.body, "stream"));
    const char *k;
    json_t *o;
    json_object_foreach(s_objs, k, o) {
        const char *node = proto_obj_str(o, "spec.nodeName");
        if (fs && (!node || strcmp(fs + strlen("spec.nodeName="), node) != 0))
            continue;
        json_array_append(items, o);
    }
    char rv[32];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)s_rev);
    json_t *list = json_pack("{s:s, s:s, s:{s:s}, s:o, s:{s:s, s:O}}", "apiVersion", "v1",
                             "kind", "PodList", "metadata", "resourceVersion", rv, "items", items,
                             "zkube", "epoch", s_epoch, "seq",
                             json_object_get(s_seqs, stream ? stream : "") ?: json_integer(0));
    rt_reply(a, &req, 200, list);
    json_decref(list);
    (void)arg;
}

/* ops: add {name, node?, labels?}, update {name, labels}, del {name}, lose, restart */
static void s_serve_fake(rt_actor_t *a, rt_req_t *req, void *arg)
{
    const char *op = req->env.op;
    json_t *b = req->env.body;
    const char *name = json_string_value(json_object_get(b, "name"));
    if (!strcmp(op, "add")) {
        json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s, s:O}}", "apiVersion", "v1", "kind",
                                "Pod", "metadata", "name", name, "namespace", "default",
                                "labels", json_object_get(b, "labels") ?: json_object());
        if (json_object_get(b, "node"))
            proto_obj_set(pod, "spec.nodeName", json_incref(json_object_get(b, "node")));
        json_object_set_new(s_objs, name, pod);
        s_change(a, "ADDED", pod);
    } else if (!strcmp(op, "update")) {
        json_t *pod = json_object_get(s_objs, name);
        proto_obj_set(pod, "metadata.labels", json_incref(json_object_get(b, "labels")));
        s_change(a, "MODIFIED", pod);
    } else if (!strcmp(op, "del")) {
        json_t *pod = json_incref(json_object_get(s_objs, name));
        json_object_del(s_objs, name);
        s_change(a, "DELETED", pod);
        json_decref(pod);
    } else if (!strcmp(op, "lose")) {
        s_lose_next = true;
    } else if (!strcmp(op, "restart")) {
        snprintf(s_epoch, sizeof s_epoch, "e%d", (int)(proto_mono_ms() % 100000));
        json_object_clear(s_seqs);
    }
    rt_reply(a, &req, 200, NULL);
    (void)arg;
}

static void s_beacon(rt_actor_t *a, void *arg)
{
    json_t *b = json_pack("{s:s, s:I, s:O}", "epoch", s_epoch, "rev", (json_int_t)s_rev, "seqs",
                          s_seqs);
    rt_publish(a, "_sync", "sync", b);
    json_decref(b);
    (void)arg;
}

static void s_fake_main(void)
{
    rt_actor_t *a;
    char err[256];
    s_objs = json_object();
    s_seqs = json_object();
    if (rt_actor_open(&a, "fake-apiserver", &s_cfg, err, sizeof err) < 0)
        _exit(1);
    rt_serve(a, "apiserver", s_serve_api, NULL);
    rt_serve(a, "fake", s_serve_fake, NULL);
    rt_timer_add(a, 100, true, s_beacon, NULL);
    rt_run(a);
    rt_actor_destroy(&a);
    _exit(0);
}

/* ---- the test side ------------------------------------------------------- */

typedef struct {
    int added, updated, deleted, synced;
} s_counts_t;

static void s_added(void *arg, const json_t *o) { ((s_counts_t *)arg)->added++; (void)o; }
static void s_updated(void *arg, const json_t *a, const json_t *b)
{
    ((s_counts_t *)arg)->updated++;
    (void)a;
    (void)b;
}
static void s_deleted(void *arg, const json_t *o) { ((s_counts_t *)arg)->deleted++; (void)o; }
static void s_synced(void *arg) { ((s_counts_t *)arg)->synced++; }
static const rt_informer_handlers_t s_h = {s_added, s_updated, s_deleted, s_synced};

static void s_start(void)
{
    char home[512], err[256];
    snprintf(home, sizeof home, "%s/home", t_tmpdir());
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    REQUIRE(rt_config_load(&s_cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&s_cfg) == 0);
    s_broker = fork();
    if (s_broker == 0)
        _exit(broker_run(&s_cfg) ? 1 : 0);
    s_fake = fork();
    if (s_fake == 0)
        s_fake_main();
    REQUIRE(rt_actor_open(&s_a, "informer-test", &s_cfg, err, sizeof err) == 0);
}

static void s_stop(void)
{
    rt_actor_destroy(&s_a);
    kill(s_fake, SIGTERM);
    waitpid(s_fake, NULL, 0);
    kill(s_broker, SIGTERM);
    waitpid(s_broker, NULL, 0);
}

static void s_fake_op(const char *op, json_t *body)
{
    json_t *reply = NULL;
    rt_call_opts_t o = {.timeout_ms = 3000};
    int code = rt_call_sync(s_a, "fake", op, body, &o, &reply);
    CHECK_EQ_INT(code, 200);
    json_decref(reply);
    json_decref(body);
}

#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        int64_t t_end = proto_mono_ms() + 5000;                                                    \
        while (!(cond) && proto_mono_ms() < t_end)                                                 \
            rt_run_for(s_a, 10);                                                                   \
        CHECK(cond);                                                                               \
    } while (0)

TEST(syncs_and_follows_events)
{
    s_start();
    s_fake_op("add", json_pack("{s:s}", "name", "before"));
    s_counts_t c = {0};
    rt_informer_t *inf;
    REQUIRE(rt_informer_new(&inf, s_a, "pods", NULL, &s_h, &c) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    CHECK(rt_informer_get(inf, "default", "before") != NULL);
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "web", "labels", "app", "kubia"));
    WAIT_FOR(rt_informer_get(inf, "default", "web") != NULL);
    s_fake_op("update", json_pack("{s:s, s:{s:s}}", "name", "web", "labels", "app", "other"));
    WAIT_FOR(c.updated == 1);
    const json_t *web = rt_informer_get(inf, "default", "web");
    CHECK_EQ_STR(proto_obj_str(web, "metadata.labels.app"), "other");
    s_fake_op("del", json_pack("{s:s}", "name", "before"));
    WAIT_FOR(c.deleted == 1);
    CHECK_EQ_INT(rt_informer_count(inf), 1);
    CHECK_EQ_INT(c.added, 2);
    CHECK_EQ_INT(rt_informer_relists(inf), 0);
    rt_informer_destroy(&inf);
    s_stop();
}

TEST(gap_triggers_relist)
{
    s_start();
    s_counts_t c = {0};
    rt_informer_t *inf;
    REQUIRE(rt_informer_new(&inf, s_a, "pods", NULL, &s_h, &c) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    s_fake_op("lose", json_object());
    s_fake_op("add", json_pack("{s:s}", "name", "lost"));
    s_fake_op("add", json_pack("{s:s}", "name", "next"));
    WAIT_FOR(rt_informer_get(inf, "default", "lost") && rt_informer_get(inf, "default", "next"));
    CHECK(rt_informer_relists(inf) >= 1);
    CHECK_EQ_INT(c.added, 2);
    rt_informer_destroy(&inf);
    s_stop();
}

TEST(last_event_lost_caught_by_beacon)
{
    s_start();
    s_counts_t c = {0};
    rt_informer_t *inf;
    REQUIRE(rt_informer_new(&inf, s_a, "pods", NULL, &s_h, &c) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    s_fake_op("lose", json_object());
    s_fake_op("add", json_pack("{s:s}", "name", "only"));
    WAIT_FOR(rt_informer_get(inf, "default", "only") != NULL);
    CHECK(rt_informer_relists(inf) >= 1);
    rt_informer_destroy(&inf);
    s_stop();
}

TEST(epoch_change_relists)
{
    s_start();
    s_counts_t c = {0};
    rt_informer_t *inf;
    REQUIRE(rt_informer_new(&inf, s_a, "pods", NULL, &s_h, &c) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    s_fake_op("add", json_pack("{s:s}", "name", "a"));
    WAIT_FOR(c.added == 1);
    s_fake_op("restart", json_object());
    WAIT_FOR(rt_informer_relists(inf) >= 1);
    s_fake_op("add", json_pack("{s:s}", "name", "b"));
    WAIT_FOR(rt_informer_get(inf, "default", "b") != NULL);
    CHECK_EQ_INT(rt_informer_count(inf), 2);
    rt_informer_destroy(&inf);
    s_stop();
}

TEST(node_stream_sees_only_its_pods)
{
    s_start();
    s_counts_t c = {0};
    rt_informer_t *inf;
    rt_informer_opts_t opts = {.node = "n1"};
    s_fake_op("add", json_pack("{s:s, s:s}", "name", "p0", "node", "n1"));
    REQUIRE(rt_informer_new(&inf, s_a, "pods", &opts, &s_h, &c) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    CHECK(rt_informer_get(inf, "default", "p0") != NULL);
    s_fake_op("add", json_pack("{s:s, s:s}", "name", "other", "node", "n2"));
    s_fake_op("add", json_pack("{s:s}", "name", "unbound"));
    s_fake_op("add", json_pack("{s:s, s:s}", "name", "mine", "node", "n1"));
    WAIT_FOR(rt_informer_get(inf, "default", "mine") != NULL);
    CHECK(rt_informer_get(inf, "default", "other") == NULL);
    CHECK(rt_informer_get(inf, "default", "unbound") == NULL);
    CHECK_EQ_INT(rt_informer_count(inf), 2);
    CHECK_EQ_INT(rt_informer_relists(inf), 0);
    rt_informer_destroy(&inf);
    s_stop();
}

static bool s_count_cb(void *arg, const json_t *o)
{
    (*(int *)arg)++;
    (void)o;
    return true;
}

TEST(foreach_filters_by_selector)
{
    s_start();
    s_counts_t c = {0};
    rt_informer_t *inf;
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "a", "labels", "app", "kubia"));
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "b", "labels", "app", "other"));
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "c", "labels", "app", "kubia"));
    REQUIRE(rt_informer_new(&inf, s_a, "pods", NULL, &s_h, &c) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    proto_sel_t *sel;
    char err[128];
    REQUIRE(proto_sel_parse("app=kubia", &sel, err, sizeof err) == 0);
    int n = 0;
    rt_informer_foreach(inf, "default", sel, s_count_cb, &n);
    CHECK_EQ_INT(n, 2);
    n = 0;
    rt_informer_foreach(inf, NULL, NULL, s_count_cb, &n);
    CHECK_EQ_INT(n, 3);
    n = 0;
    rt_informer_foreach(inf, "elsewhere", NULL, s_count_cb, &n);
    CHECK_EQ_INT(n, 0);
    proto_sel_destroy(&sel);
    rt_informer_destroy(&inf);
    s_stop();
}

static json_t *s_slim(void *arg, const json_t *obj)
{
    (void)arg;
    return json_pack("{s:{s:O, s:O, s:O}}", "metadata", "name",
                     proto_obj_get(obj, "metadata.name"), "namespace",
                     proto_obj_get(obj, "metadata.namespace"), "resourceVersion",
                     proto_obj_get(obj, "metadata.resourceVersion"));
}

TEST(transform_reduces_cached_objects)
{
    s_start();
    s_counts_t c = {0};
    rt_informer_t *inf;
    rt_informer_opts_t opts = {.transform = s_slim};
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "listed", "labels", "app", "kubia"));
    REQUIRE(rt_informer_new(&inf, s_a, "pods", &opts, &s_h, &c) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "watched", "labels", "app", "kubia"));
    WAIT_FOR(rt_informer_get(inf, "default", "watched") != NULL);
    const json_t *l = rt_informer_get(inf, "default", "listed");
    const json_t *w = rt_informer_get(inf, "default", "watched");
    CHECK(l && !proto_obj_get(l, "metadata.labels") && !json_object_get(l, "kind"));
    CHECK(w && !proto_obj_get(w, "metadata.labels"));
    CHECK_EQ_STR(proto_obj_name(w), "watched");
    CHECK(proto_obj_rv(w) > 0);
    rt_informer_destroy(&inf);
    s_stop();
}

static void s_by_app(void *arg, const json_t *obj, void (*add)(void *ctx, const char *value),
                     void *ctx)
{
    (void)arg;
    add(ctx, proto_obj_str(obj, "metadata.labels.app"));
}

typedef struct s_upd {
    int updated;
    char old_app[32], new_app[32];
} s_upd_t;

static void s_upd_updated(void *arg, const json_t *old, const json_t *obj)
{
    s_upd_t *u = arg;
    u->updated++;
    snprintf(u->old_app, sizeof u->old_app, "%s", proto_obj_str(old, "metadata.labels.app") ?: "");
    snprintf(u->new_app, sizeof u->new_app, "%s", proto_obj_str(obj, "metadata.labels.app") ?: "");
}

/* A compact informer decodes what it is asked for: lookups, iteration and
 * handlers (old and new objects) see the objects as stored, and the index
 * follows their changes, relists included. */
TEST(compact_cache_with_index)
{
    s_start();
    s_upd_t u = {0};
    rt_informer_handlers_t h = {NULL, s_upd_updated, NULL, NULL};
    rt_informer_t *inf;
    rt_informer_opts_t opts = {.compact = true, .index = s_by_app};
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "a", "labels", "app", "kubia"));
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "b", "labels", "app", "other"));
    REQUIRE(rt_informer_new(&inf, s_a, "pods", &opts, &h, &u) == 0);
    WAIT_FOR(rt_informer_synced(inf));
    s_fake_op("add", json_pack("{s:s, s:{s:s}}", "name", "c", "labels", "app", "kubia"));
    WAIT_FOR(rt_informer_get(inf, "default", "c") != NULL);
    const json_t *a = rt_informer_get(inf, "default", "a");
    CHECK(a && !strcmp(proto_obj_str(a, "kind") ?: "", "Pod"));
    int n = 0;
    rt_informer_foreach_indexed(inf, "kubia", s_count_cb, &n);
    CHECK_EQ_INT(n, 2);
    s_fake_op("update", json_pack("{s:s, s:{s:s}}", "name", "a", "labels", "app", "other"));
    WAIT_FOR(u.updated == 1);
    CHECK_EQ_STR(u.old_app, "kubia");
    CHECK_EQ_STR(u.new_app, "other");
    n = 0;
    rt_informer_foreach_indexed(inf, "other", s_count_cb, &n);
    CHECK_EQ_INT(n, 2);
    s_fake_op("del", json_pack("{s:s}", "name", "b"));
    s_fake_op("lose", json_object()); /* c's deletion is lost: the relist finds it */
    s_fake_op("del", json_pack("{s:s}", "name", "c"));
    WAIT_FOR(rt_informer_count(inf) == 1 && rt_informer_relists(inf) >= 1);
    n = 0;
    rt_informer_foreach_indexed(inf, "kubia", s_count_cb, &n);
    CHECK_EQ_INT(n, 0);
    n = 0;
    rt_informer_foreach(inf, NULL, NULL, s_count_cb, &n);
    CHECK_EQ_INT(n, 1);
    rt_informer_destroy(&inf);
    s_stop();
}
