/*
 * actors/scheduler/podwatch.c — the scheduler's pod stream: list + watch of
 * "pods/" with the same Clone-pattern loss detection as runtime/informer
 * (subscribe, list with the stream's seq, apply newer events; a seq gap, a
 * new apiserver epoch, a `_sync` beacon ahead, or a broker reconnect makes
 * it relist and report the differences).
 *
 * Why not runtime/informer: the informer keeps every pod as a jansson tree,
 * about 7 KB a pod, 70 MB at 10,000 pods — for a scheduler that only needs
 * the pods waiting for a node. Here only those are kept whole; every other
 * pod is one resourceVersion (about 100 bytes), its resources being
 * accounted in the scheduling cache. (To fold back into runtime/informer
 * once it can keep objects in a reduced form.)
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/scheduler/sched_int.h"
#include "protocol/obj.h"
#include "runtime/log.h"

#define S_STREAM "pods/"
#define S_LIST_TIMEOUT_MS 30000
#define S_RETRY_MIN_MS 100
#define S_RETRY_MAX_MS 5000
#define S_BUFFER_MAX 100000 /* events buffered while a list is in flight */

struct sched_pw {
    rt_actor_t *a;
    char name[64]; /* scheduler name: which pods are kept whole */
    sched_pw_handlers_t h;
    void *arg;
    json_t *known; /* "ns/name" -> whole pod (waiting) or resourceVersion (integer) */
    json_t *buffer;
    bool synced, listing;
    uint64_t rev, seq, relists, gen;
    char epoch[64];
    int retry_timer, retry_ms;
};

typedef struct s_list_ctx {
    sched_pw_t *pw;
    uint64_t gen;
} s_list_ctx_t;

static sched_pw_t *s_live; /* one per process: a late list reply finds it gone */

static bool s_key(const json_t *pod, char *key, size_t n)
{
    const char *ns = proto_obj_ns(pod), *name = proto_obj_name(pod);
    if (!name || !ns)
        return false;
    return (size_t)snprintf(key, n, "%s/%s", ns, name) < n;
}

static uint64_t s_rv_of(const json_t *entry)
{
    return json_is_integer(entry) ? (uint64_t)json_integer_value(entry) : proto_obj_rv(entry);
}

/* What the map keeps for pod: the pod itself when it waits for a node. */
static json_t *s_entry(const sched_pw_t *pw, json_t *pod)
{
    if (sched_pod_wants_scheduling(pod, pw->name))
        return json_incref(pod);
    return json_integer((json_int_t)proto_obj_rv(pod));
}

/* A stand-in for a pod known only by its key, for the deleted handler. */
static json_t *s_stub(const char *key)
{
    const char *slash = strchr(key, '/');
    char ns[256];
    snprintf(ns, sizeof ns, "%.*s", (int)(slash ? slash - key : 0), key);
    return json_pack("{s:{s:s, s:s}}", "metadata", "name", slash ? slash + 1 : key, "namespace",
                     ns);
}

static void s_deleted(sched_pw_t *pw, const char *key, json_t *entry)
{
    if (!pw->h.deleted)
        return;
    if (json_is_object(entry)) {
        pw->h.deleted(pw->arg, entry);
        return;
    }
    json_t *stub = s_stub(key);
    pw->h.deleted(pw->arg, stub);
    json_decref(stub);
}

/* Applies one event {type, object, rev}. */
static void s_apply(sched_pw_t *pw, const char *type, json_t *pod, uint64_t rev)
{
    char key[600];
    if (!s_key(pod, key, sizeof key))
        return;
    json_t *old = json_object_get(pw->known, key);
    if (rev > pw->rev)
        pw->rev = rev;
    if (old && rev && s_rv_of(old) >= rev)
        return; /* already reflected */
    if (!strcmp(type, "DELETED")) {
        if (!old)
            return;
        json_object_del(pw->known, key);
        if (pw->h.deleted)
            pw->h.deleted(pw->arg, pod);
        return;
    }
    json_object_set_new(pw->known, key, s_entry(pw, pod));
    if (pw->h.seen)
        pw->h.seen(pw->arg, pod);
}

/* One event body; false when loss was detected. */
static bool s_event(sched_pw_t *pw, const json_t *body)
{
    const char *epoch = json_string_value(json_object_get(body, "epoch"));
    const char *type = json_string_value(json_object_get(body, "type"));
    json_t *obj = json_object_get(body, "object");
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(body, "seq"));
    uint64_t rev = (uint64_t)json_integer_value(json_object_get(body, "rev"));
    if (!epoch || !type || !json_is_object(obj))
        return true; /* malformed: ignored */
    if (strcmp(epoch, pw->epoch) != 0)
        return false;
    if (seq <= pw->seq)
        return true; /* duplicate, or already in the list */
    if (seq != pw->seq + 1) {
        rt_warn("pods: stream gap (seq %llu after %llu), relisting", (unsigned long long)seq,
                (unsigned long long)pw->seq);
        return false;
    }
    pw->seq = seq;
    s_apply(pw, type, obj, rev);
    return true;
}

/* Replaces the map with a list, reporting the differences. */
static void s_replace(sched_pw_t *pw, const json_t *items)
{
    json_t *old = pw->known, *fresh = json_object();
    size_t i;
    json_t *pod;
    char key[600];
    pw->known = fresh;
    json_array_foreach(items, i, pod) {
        if (!s_key(pod, key, sizeof key))
            continue;
        json_t *prev = json_object_get(old, key);
        json_object_set_new(fresh, key, s_entry(pw, pod));
        if ((!prev || s_rv_of(prev) != proto_obj_rv(pod)) && pw->h.seen)
            pw->h.seen(pw->arg, pod);
    }
    const char *k;
    json_t *v;
    json_object_foreach(old, k, v) {
        if (!json_object_get(fresh, k))
            s_deleted(pw, k, v);
    }
    json_decref(old);
}

static void s_list(sched_pw_t *pw);

static void s_retry_fire(rt_actor_t *a, void *arg)
{
    sched_pw_t *pw = arg;
    pw->retry_timer = 0;
    s_list(pw);
    (void)a;
}

static void s_trim(rt_actor_t *a, void *arg)
{
    (void)a;
    (void)arg;
    malloc_trim(0);
}

static void s_list_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_list_ctx_t *ctx = arg;
    sched_pw_t *pw = ctx->pw;
    uint64_t gen = ctx->gen;
    free(ctx);
    if (pw != s_live || gen != pw->gen)
        return; /* destroyed, or a newer list is in flight */
    json_t *zk = json_object_get(body, "zkube");
    const char *epoch = json_string_value(json_object_get(zk, "epoch"));
    const char *rv = proto_obj_str(body, "metadata.resourceVersion");
    json_t *items = json_object_get(body, "items");
    if (code != 200 || !epoch || !rv || !json_is_array(items)) {
        rt_warn("pods: list failed (%d), retrying", code);
        pw->retry_ms = pw->retry_ms ? pw->retry_ms * 2 : S_RETRY_MIN_MS;
        pw->retry_ms = pw->retry_ms > S_RETRY_MAX_MS ? S_RETRY_MAX_MS : pw->retry_ms;
        if (!pw->retry_timer)
            pw->retry_timer = rt_timer_add(pw->a, pw->retry_ms, false, s_retry_fire, pw);
        return;
    }
    snprintf(pw->epoch, sizeof pw->epoch, "%s", epoch);
    pw->seq = (uint64_t)json_integer_value(json_object_get(zk, "seq"));
    pw->rev = strtoull(rv, NULL, 10);
    pw->retry_ms = 0;
    pw->listing = false;
    s_replace(pw, items);
    json_t *buffered = pw->buffer;
    pw->buffer = json_array();
    size_t i;
    json_t *ev;
    bool ok = true;
    json_array_foreach(buffered, i, ev) {
        if (ok)
            ok = s_event(pw, ev);
    }
    json_decref(buffered);
    pw->synced = true;
    if (pw->h.synced)
        pw->h.synced(pw->arg);
    if (json_array_size(json_object_get(body, "items")) > 500) /* a big list is transient: */
        rt_timer_add(pw->a, 0, false, s_trim, NULL); /* return it once it is freed */
    if (!ok)
        sched_pw_relist(pw);
    (void)a;
}

static void s_list(sched_pw_t *pw)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", "", "stream",
                             S_STREAM);
    s_list_ctx_t *ctx = malloc(sizeof *ctx);
    if (!ctx || !body)
        abort();
    *ctx = (s_list_ctx_t){pw, pw->gen};
    rt_call_opts_t o = {.timeout_ms = S_LIST_TIMEOUT_MS, .retries = 1};
    if (rt_call(pw->a, "apiserver", "list", body, &o, s_list_reply, ctx) < 0)
        s_list_reply(pw->a, 500, NULL, ctx);
    json_decref(body);
}

void sched_pw_relist(sched_pw_t *pw)
{
    pw->relists++;
    pw->listing = true;
    pw->gen++;
    json_array_clear(pw->buffer);
    if (pw->retry_timer) {
        rt_timer_cancel(pw->a, pw->retry_timer);
        pw->retry_timer = 0;
    }
    s_list(pw);
}

static void s_on_event(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    sched_pw_t *pw = arg;
    if (!json_is_object(env->body))
        return;
    if (pw->listing) {
        if (json_array_size(pw->buffer) < S_BUFFER_MAX)
            json_array_append(pw->buffer, env->body);
        return; /* an overflow shows as a seq gap after the list */
    }
    if (!s_event(pw, env->body))
        sched_pw_relist(pw);
    (void)a;
    (void)topic;
}

static void s_on_sync(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    sched_pw_t *pw = arg;
    if (pw->listing || !pw->synced || strcmp(topic, "_sync") != 0)
        return;
    const char *epoch = json_string_value(json_object_get(env->body, "epoch"));
    json_t *seqs = json_object_get(env->body, "seqs");
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(seqs, S_STREAM));
    if (!epoch)
        return;
    if (strcmp(epoch, pw->epoch) != 0 || seq > pw->seq) {
        rt_warn("pods: %s, relisting", strcmp(epoch, pw->epoch) ? "apiserver restarted"
                                                                 : "missed events");
        sched_pw_relist(pw);
    }
    (void)a;
}

static void s_on_reconnect(rt_actor_t *a, void *arg)
{
    sched_pw_relist(arg);
    (void)a;
}

int sched_pw_new(sched_pw_t **out, rt_actor_t *a, const char *name, const sched_pw_handlers_t *h,
                 void *arg)
{
    if (s_live)
        return -EBUSY;
    sched_pw_t *pw = calloc(1, sizeof *pw);
    if (!pw)
        abort();
    pw->a = a;
    snprintf(pw->name, sizeof pw->name, "%s", name);
    pw->h = *h;
    pw->arg = arg;
    pw->known = json_object();
    pw->buffer = json_array();
    int rc = rt_subscribe(a, S_STREAM, s_on_event, pw);
    if (rc == 0)
        rc = rt_subscribe(a, "_sync", s_on_sync, pw);
    if (rc < 0) {
        rt_unsubscribe(a, S_STREAM, s_on_event, pw);
        json_decref(pw->known);
        json_decref(pw->buffer);
        free(pw);
        return rc;
    }
    rt_on_reconnect(a, s_on_reconnect, pw);
    s_live = pw;
    sched_pw_relist(pw);
    *out = pw;
    return 0;
}

void sched_pw_destroy(sched_pw_t **pwp)
{
    if (!pwp || !*pwp)
        return;
    sched_pw_t *pw = *pwp;
    rt_unsubscribe(pw->a, S_STREAM, s_on_event, pw);
    rt_unsubscribe(pw->a, "_sync", s_on_sync, pw);
    rt_off_reconnect(pw->a, s_on_reconnect, pw);
    if (pw->retry_timer)
        rt_timer_cancel(pw->a, pw->retry_timer);
    json_decref(pw->known);
    json_decref(pw->buffer);
    s_live = NULL;
    free(pw);
    *pwp = NULL;
}

bool sched_pw_synced(const sched_pw_t *pw)
{
    return pw->synced;
}

const json_t *sched_pw_get(const sched_pw_t *pw, const char *ns, const char *name)
{
    char key[600];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    json_t *e = json_object_get(pw->known, key);
    return json_is_object(e) ? e : NULL;
}

size_t sched_pw_count(const sched_pw_t *pw)
{
    return json_object_size(pw->known);
}

uint64_t sched_pw_relists(const sched_pw_t *pw)
{
    return pw->relists;
}
