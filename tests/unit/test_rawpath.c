/*
 * tests/unit/test_rawpath.c — the paths that move stored msgpack bytes
 * without decoding them: store_list_raw and store_wtxn_event_bytes,
 * proto_env_pack_raw, and through a running broker + apiserver the plain
 * list (raw) against the same list taken by the tree path (a selector that
 * keeps everything), create replies and published events.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "actors/apiserver/apiserver.h"
#include "broker/broker.h"
#include "protocol/codec.h"
#include "protocol/envelope.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor.h"
#include "runtime/config.h"
#include "store/store.h"

/* ---- envelope ------------------------------------------------------------- */

TEST(env_pack_raw_matches_tree_pack)
{
    json_t *body = json_pack("{s:s, s:[i, s, n, b], s:{s:f}}", "kind", "Pod", "a", 1, "x",
                             true, "m", "r", 1.5);
    char *bb = NULL, *raw = NULL, *tree = NULL;
    size_t blen = 0, rlen = 0, tlen = 0;
    REQUIRE(proto_mp_pack(body, &bb, &blen) == 0);
    proto_env_t e;
    proto_env_init(&e, PROTO_T_REP, 42, "apiserver", "client#1", "get", body);
    e.code = 201;
    CHECK_EQ_INT(proto_env_pack_raw(&e, bb, blen, &raw, &rlen), 0);
    CHECK_EQ_INT(proto_env_pack(&e, &tree, &tlen), 0);
    CHECK_EQ_INT((long)rlen, (long)tlen);
    CHECK(rlen == tlen && memcmp(raw, tree, rlen) == 0);
    proto_env_t d;
    char err[128] = "";
    CHECK_EQ_INT(proto_env_unpack(raw, rlen, &d, err, sizeof err), 0);
    CHECK(json_equal(d.body, body));
    CHECK_EQ_INT(d.code, 201);
    CHECK_EQ_INT((long)d.id, 42);
    proto_env_clear(&d);
    proto_env_clear(&e);
    free(bb);
    free(raw);
    free(tree);
    json_decref(body);
}

TEST(env_pack_raw_limits)
{
    proto_env_t e;
    char big[PROTO_DST_MAX + 50];
    memset(big, 'd', sizeof big - 1);
    big[sizeof big - 1] = 0;
    proto_env_init(&e, PROTO_T_EVT, UINT64_C(1) << 62, big, big, big, NULL);
    char *buf = NULL;
    size_t len = 0;
    CHECK_EQ_INT(proto_env_pack_raw(&e, "\xc0", 1, &buf, &len), 0); /* longest header */
    proto_env_t d;
    CHECK_EQ_INT(proto_env_unpack(buf, len, &d, NULL, 0), 0);
    CHECK_EQ_INT((long)strlen(d.dst), PROTO_DST_MAX - 1);
    CHECK(d.body == NULL || json_is_null(d.body));
    proto_env_clear(&d);
    free(buf);
    CHECK_EQ_INT(proto_env_pack_raw(&e, "", 0, &buf, &len), PROTO_EINVALID);
    CHECK(buf == NULL);
    CHECK_EQ_INT(proto_env_pack_raw(&e, "x", (size_t)PROTO_MAX_MSG + 1, &buf, &len),
                 PROTO_ETOOLARGE);
    CHECK(buf == NULL && len == 0);
    proto_env_clear(&e);
}

/* The decoder's ASCII fast path (8 bytes at a time) must not skip a bad
 * or a multi-byte sequence at any offset. */
TEST(codec_utf8_at_every_offset)
{
    for (size_t len = 1; len <= 24; len++) {
        for (size_t at = 0; at < len; at++) {
            unsigned char msg[32];
            msg[0] = (unsigned char)(0xa0 | (len + 1)); /* fixstr of len + 1 bytes */
            memset(msg + 1, 'a', len + 1);
            msg[1 + at] = 0xc3; /* é: valid two-byte sequence */
            msg[2 + at] = 0xa9;
            json_t *v = NULL;
            CHECK_EQ_INT(proto_mp_unpack(msg, len + 2, &v, NULL, 0), 0);
            CHECK_EQ_INT((long)json_string_length(v), (long)len + 1);
            json_decref(v);
            msg[2 + at] = 'a'; /* truncated sequence */
            CHECK_EQ_INT(proto_mp_unpack(msg, len + 2, &v, NULL, 0), PROTO_EBADREQUEST);
            msg[1 + at] = 0xff; /* never valid */
            CHECK_EQ_INT(proto_mp_unpack(msg, len + 2, &v, NULL, 0), PROTO_EBADREQUEST);
        }
    }
}

/* ---- store ---------------------------------------------------------------- */

static store_t *s_store(void)
{
    store_t *s = NULL;
    char err[256] = "";
    store_opts_t o = {.no_sync = true};
    if (store_open(&s, "db", &o, err, sizeof err) < 0)
        T_FAIL("store_open: %s", err);
    return s;
}

static void s_put_cms(store_t *s, int n)
{
    store_wtxn_t *t = NULL;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    for (int i = 0; i < n; i++) {
        char name[32], key[64];
        snprintf(name, sizeof name, "cm%02d", i);
        snprintf(key, sizeof key, "configmaps/default/%s", name);
        json_t *o = json_pack("{s:s, s:{s:s, s:s}, s:{s:i}}", "kind", "ConfigMap", "metadata",
                              "name", name, "namespace", "default", "data", "i", i);
        REQUIRE(store_wtxn_put(t, key, o, 0, true, NULL) == 0);
        json_decref(o);
    }
    REQUIRE(store_wtxn_commit(&t) == 0);
}

typedef struct s_collect {
    json_t *items;
    int skip_odd, stop_at;
    int seen;
} s_collect_t;

static int s_collect(const char *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    s_collect_t *c = arg;
    json_t *o = NULL;
    if (proto_mp_unpack(val, vlen, &o, NULL, 0) != 0 || klen == 0 || !key)
        return PROTO_EINTERNAL;
    int i = c->seen++;
    if (c->stop_at && i == c->stop_at) {
        json_decref(o);
        return -ECANCELED;
    }
    if (c->skip_odd && i % 2) {
        json_decref(o);
        return 1;
    }
    json_array_append_new(c->items, o);
    return 0;
}

TEST(store_list_raw_equals_store_list)
{
    store_t *s = s_store();
    s_put_cms(s, 12);
    json_t *tree = NULL;
    uint64_t r1 = 0, r2 = 0;
    char *n1 = NULL, *n2 = NULL;
    REQUIRE(store_list(s, "configmaps/", NULL, 5, NULL, NULL, &tree, &r1, &n1) == 0);
    s_collect_t c = {.items = json_array()};
    CHECK_EQ_INT(store_list_raw(s, "configmaps/", NULL, 5, s_collect, &c, &r2, &n2), 0);
    CHECK(json_equal(tree, c.items));
    CHECK_EQ_INT((long)r1, (long)r2);
    CHECK_EQ_STR(n1, n2);
    json_decref(tree);
    json_decref(c.items);
    /* from the continue key to the end */
    s_collect_t rest = {.items = json_array()};
    char *n3 = NULL;
    CHECK_EQ_INT(store_list_raw(s, "configmaps/", n2, 0, s_collect, &rest, NULL, &n3), 0);
    CHECK_EQ_INT((long)json_array_size(rest.items), 7);
    CHECK(n3 == NULL);
    json_decref(rest.items);
    free(n1);
    free(n2);
    store_destroy(&s);
}

TEST(store_list_raw_skip_and_stop)
{
    store_t *s = s_store();
    s_put_cms(s, 10);
    s_collect_t c = {.items = json_array(), .skip_odd = 1};
    char *next = NULL;
    /* skipped objects do not count against the limit */
    CHECK_EQ_INT(store_list_raw(s, "configmaps/", NULL, 3, s_collect, &c, NULL, &next), 0);
    CHECK_EQ_INT((long)json_array_size(c.items), 3);
    CHECK_EQ_STR(next, "configmaps/default/cm05");
    free(next);
    json_decref(c.items);
    s_collect_t st = {.items = json_array(), .stop_at = 4};
    next = NULL;
    CHECK_EQ_INT(store_list_raw(s, "configmaps/", NULL, 0, s_collect, &st, NULL, &next),
                 -ECANCELED);
    CHECK(next == NULL);
    json_decref(st.items);
    s_collect_t none = {.items = json_array()};
    CHECK_EQ_INT(store_list_raw(s, "secrets/", NULL, 0, s_collect, &none, NULL, NULL), 0);
    CHECK_EQ_INT(none.seen, 0);
    json_decref(none.items);
    store_destroy(&s);
}

TEST(store_event_bytes_match_events)
{
    store_t *s = s_store();
    s_put_cms(s, 3);
    store_wtxn_t *t = NULL;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    json_t *o = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", "cm00", "data", "k", "v");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/cm00", o, 0, false, NULL), 0);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/cm01", 0, NULL, NULL), 0);
    json_t *o2 = json_pack("{s:{s:s}}", "metadata", "name", "cm02");
    CHECK_EQ_INT(store_wtxn_put(t, "configmaps/default/cm02", o2, 0, true, NULL),
                 PROTO_EEXISTS); /* refused: no event */
    json_decref(o2);
    const json_t *evs = store_wtxn_events(t);
    CHECK_EQ_INT((long)json_array_size(evs), 2);
    for (size_t i = 0; i < json_array_size(evs); i++) {
        const void *b = NULL;
        size_t n = 0;
        json_t *d = NULL;
        CHECK_EQ_INT(store_wtxn_event_bytes(t, i, &b, &n), 0);
        CHECK(b && proto_mp_unpack(b, n, &d, NULL, 0) == 0);
        CHECK(json_equal(d, json_object_get(json_array_get(evs, i), "object")));
        json_decref(d);
    }
    const void *b = NULL;
    size_t n = 0;
    CHECK_EQ_INT(store_wtxn_event_bytes(t, 2, &b, &n), PROTO_ENOTFOUND);
    CHECK_EQ_INT(store_wtxn_commit(&t), 0);
    json_decref(o);
    store_destroy(&s);
}

typedef struct s_logc {
    json_t *evs;
    int stop_at;
} s_logc_t;

static int s_log_collect(uint64_t rev, const char *type, size_t tlen, const char *key, size_t klen,
                         const void *obj, size_t olen, void *arg)
{
    s_logc_t *c = arg;
    json_t *o = NULL;
    if (proto_mp_unpack(obj, olen, &o, NULL, 0) != 0)
        return PROTO_EINTERNAL;
    if (c->stop_at < 0) {
        json_decref(o);
        return 1;
    }
    if (c->stop_at && json_array_size(c->evs) == (size_t)c->stop_at) {
        json_decref(o);
        return -ECANCELED;
    }
    json_array_append_new(c->evs, json_pack("{s:s%, s:s%, s:I, s:o}", "type", type, tlen, "key",
                                            key, klen, "rev", (json_int_t)rev, "object", o));
    return 0;
}

TEST(store_log_read_raw_equals_log_read)
{
    store_t *s = s_store();
    s_put_cms(s, 6);
    store_wtxn_t *t = NULL;
    REQUIRE(store_wtxn_begin(s, &t) == 0);
    CHECK_EQ_INT(store_wtxn_del(t, "configmaps/default/cm03", 0, NULL, NULL), 0);
    REQUIRE(store_wtxn_commit(&t) == 0);
    json_t *tree = NULL;
    REQUIRE(store_log_read(s, 2, 3, "configmaps/", &tree) == 0);
    s_logc_t c = {json_array(), 0};
    CHECK_EQ_INT(store_log_read_raw(s, 2, 3, "configmaps/", s_log_collect, &c), 0);
    CHECK(json_equal(tree, c.evs));
    CHECK_EQ_INT((long)json_array_size(c.evs), 3);
    json_decref(tree);
    json_decref(c.evs);
    s_logc_t all = {json_array(), 0};
    CHECK_EQ_INT(store_log_read_raw(s, 0, 0, NULL, s_log_collect, &all), 0);
    CHECK_EQ_INT((long)json_array_size(all.evs), 7);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(all.evs, 6), "type")),
                 "DELETED");
    json_decref(all.evs);
    s_logc_t skip = {json_array(), -1}; /* skip all: nothing counts, the read goes on */
    CHECK_EQ_INT(store_log_read_raw(s, 0, 2, NULL, s_log_collect, &skip), 0);
    CHECK_EQ_INT((long)json_array_size(skip.evs), 0);
    json_decref(skip.evs);
    s_logc_t stop = {json_array(), 2};
    CHECK_EQ_INT(store_log_read_raw(s, 0, 0, NULL, s_log_collect, &stop), -ECANCELED);
    json_decref(stop.evs);
    store_destroy(&s);
}

/* ---- apiserver -------------------------------------------------------------- */

static rt_config_t g_cfg;
static pid_t g_broker, g_api;
static rt_actor_t *g_c;

static int s_call(const char *op, json_t *body, json_t **out)
{
    rt_call_opts_t o = {.timeout_ms = 5000, .retries = 0};
    json_t *reply = NULL;
    int code = rt_call_sync(g_c, "apiserver", op, body, &o, &reply);
    json_decref(body);
    if (out)
        *out = reply;
    else
        json_decref(reply);
    return code;
}

static void s_up(void)
{
    char home[512], err[256];
    REQUIRE(getcwd(home, sizeof home));
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    REQUIRE(rt_config_load(&g_cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&g_cfg) == 0);
    fflush(NULL);
    if ((g_broker = fork()) == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(broker_run(&g_cfg) ? 1 : 0);
    }
    if ((g_api = fork()) == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char *argv[] = {"apiserver", "--unsafe-no-fsync", NULL};
        _exit(apisrv_main(2, argv) ? 1 : 0);
    }
    REQUIRE(rt_actor_open(&g_c, "test-raw", &g_cfg, err, sizeof err) == 0);
    int64_t deadline = proto_mono_ms() + 15000;
    int code = 0;
    while (code != 200 && proto_mono_ms() < deadline) {
        rt_call_opts_t o = {.timeout_ms = 500, .retries = 0};
        json_t *r = NULL;
        code = rt_call_sync(g_c, "apiserver", "version", NULL, &o, &r);
        json_decref(r);
    }
    REQUIRE(code == 200);
}

static void s_down(void)
{
    rt_actor_destroy(&g_c);
    pid_t p[2] = {g_api, g_broker};
    for (int i = 0; i < 2; i++)
        if (p[i] > 0) {
            kill(p[i], SIGTERM);
            waitpid(p[i], NULL, 0);
        }
}

static json_t *s_list_body(const char *sel, int limit, const char *cont)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", "default",
                          "stream", "pods/");
    if (sel)
        json_object_set_new(b, "fieldSelector", json_string(sel));
    if (limit)
        json_object_set_new(b, "limit", json_integer(limit));
    if (cont)
        json_object_set_new(b, "continue", json_string(cont));
    return b;
}

typedef struct s_evs {
    json_t *objs;
} s_evs_t;

static void s_on_event(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    (void)a;
    (void)topic;
    s_evs_t *e = arg;
    json_array_append(e->objs, json_object_get(env->body, "object"));
}

static void s_on_sync(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    (void)a;
    (void)topic;
    (void)env;
    *(bool *)arg = true;
}

TEST(apiserver_raw_list_equals_tree_list)
{
    s_up();
    s_evs_t evs = {json_array()};
    bool synced = false;
    REQUIRE(rt_subscribe(g_c, "pods/", s_on_event, &evs) == 0);
    REQUIRE(rt_subscribe(g_c, "_sync", s_on_sync, &synced) == 0);
    /* a _sync beacon (every second) shows the subscriptions reached the bus */
    int64_t until = proto_mono_ms() + 5000;
    while (!synced && proto_mono_ms() < until)
        rt_run_for(g_c, 50);
    REQUIRE(synced);
    json_t *created = json_array();
    for (int i = 0; i < 7; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        json_t *pod = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:s}]}}", "apiVersion", "v1",
                                "kind", "Pod", "metadata", "name", name, "spec", "containers",
                                "name", "c", "image", "busybox");
        json_t *b = json_pack("{s:s, s:s, s:o}", "resource", "pods", "namespace", "default",
                              "object", pod);
        json_t *out = NULL;
        CHECK_EQ_INT(s_call("create", b, &out), 201);
        json_array_append_new(created, out);
    }
    json_t *raw = NULL, *tree = NULL;
    CHECK_EQ_INT(s_call("list", s_list_body(NULL, 0, NULL), &raw), 200);
    CHECK_EQ_INT(s_call("list", s_list_body("metadata.namespace=default", 0, NULL), &tree), 200);
    CHECK(json_equal(raw, tree));
    CHECK(json_equal(json_object_get(raw, "items"), created)); /* replies = stored objects */
    CHECK_EQ_STR(json_string_value(json_object_get(raw, "kind")), "PodList");
    CHECK_EQ_INT((long)json_integer_value(proto_obj_get(raw, "zkube.seq")), 7);
    json_decref(raw);
    json_decref(tree);
    /* pages: same tokens, same items */
    CHECK_EQ_INT(s_call("list", s_list_body(NULL, 3, NULL), &raw), 200);
    CHECK_EQ_INT(s_call("list", s_list_body("metadata.namespace=default", 3, NULL), &tree), 200);
    CHECK(json_equal(raw, tree));
    const char *tok = proto_obj_str(raw, "metadata.continue");
    CHECK(tok && *tok);
    json_t *raw2 = NULL;
    CHECK_EQ_INT(s_call("list", s_list_body(NULL, 0, tok), &raw2), 200);
    CHECK_EQ_INT((long)json_array_size(json_object_get(raw2, "items")), 4);
    CHECK(proto_obj_get(raw2, "metadata.continue") == NULL);
    CHECK_EQ_INT(s_call("list", s_list_body(NULL, 0, "!!bad"), NULL), 400);
    json_decref(raw);
    json_decref(raw2);
    json_decref(tree);
    /* get from the stored bytes; the tree path for errors, Table, subresources */
    json_t *g = NULL;
    CHECK_EQ_INT(s_call("get", json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace",
                                         "default", "name", "p3"), &g), 200);
    CHECK(json_equal(g, json_array_get(created, 3)));
    json_decref(g);
    CHECK_EQ_INT(s_call("get", json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace",
                                         "default", "name", "nope"), &g), 404);
    CHECK_EQ_STR(json_string_value(json_object_get(g, "reason")), "NotFound");
    json_decref(g);
    CHECK_EQ_INT(s_call("get", json_pack("{s:s, s:s, s:s, s:s}", "resource", "pods", "namespace",
                                         "default", "name", "p3", "as", "Table"), &g), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(g, "kind")), "Table");
    json_decref(g);
    /* watchlog from the log's bytes */
    json_t *wl = NULL;
    json_t *wb = json_pack("{s:i, s:s, s:s}", "from", 0, "resource", "pods", "namespace",
                           "default");
    CHECK_EQ_INT(s_call("watchlog", wb, &wl), 200);
    json_t *wev = json_object_get(wl, "events");
    CHECK_EQ_INT((long)json_array_size(wev), 7);
    for (size_t i = 0; i < json_array_size(wev); i++) {
        json_t *ev = json_array_get(wev, i);
        CHECK(json_equal(json_object_get(ev, "object"), json_array_get(created, i)));
        CHECK_EQ_STR(json_string_value(json_object_get(ev, "type")), "ADDED");
        CHECK(json_object_get(ev, "key") == NULL);
        CHECK_EQ_INT((long)json_integer_value(json_object_get(ev, "rev")),
                     (long)proto_obj_rv(json_array_get(created, i)));
    }
    CHECK(json_integer_value(json_object_get(wl, "rev")) >=
          json_integer_value(json_object_get(json_array_get(wev, 6), "rev")));
    json_decref(wl);
    CHECK_EQ_INT(s_call("watchlog", json_pack("{s:i}", "from", -1), NULL), 400);
    /* events carry the stored object */
    int64_t deadline = proto_mono_ms() + 5000;
    while (json_array_size(evs.objs) < 7 && proto_mono_ms() < deadline)
        rt_run_for(g_c, 50);
    CHECK(json_equal(evs.objs, created));
    json_decref(evs.objs);
    json_decref(created);
    s_down();
}
