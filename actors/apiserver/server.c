/*
 * actors/apiserver/server.c — the apiserver's loop: request dispatch, group
 * commit, the reply cache for retried requests, and publishing one event
 * per committed change (plus the 1 s `_sync` beacon and compaction).
 *
 * Group commit: write handlers apply their work to one store write
 * transaction opened lazily for the batch and stage their replies; at the
 * end of the batch (rt_on_batch_end) the transaction commits once, then the
 * staged replies go out, then the events are published. Failed writes wrote
 * nothing (every check runs before the first store write), so their errors
 * are answered at once.
 *
 * Reads (get, list, watchlog) first flush the batch (commit + replies +
 * events) and then read committed state: a read that follows a write in
 * the same batch sees it, and a list's revision and stream seq always agree
 * with the events already published. Operations that scan the store
 * (delete cascades, namespace deletion, deletecollection) flush first too.
 */
#include <malloc.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "actors/apiserver/apiserver.h"
#include "actors/apiserver/apply.h"
#include "actors/apiserver/internal.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_SYNC_MS 1000
#define S_COMPACT_MS 60000

typedef int(s_op_fn)(apisrv_t *s, const apisrv_rq_t *r, json_t **out);

static const struct {
    const char *op;
    s_op_fn *fn;
    bool write;
    const char *verb; /* checked against the kind's verbs; NULL = none */
} s_ops[] = {
    {"get", apisrv_op_get, false, "get"},
    {"list", apisrv_op_list, false, "list"},
    {"watchlog", apisrv_op_watchlog, false, NULL},
    {"resources", apisrv_op_resources, false, NULL},
    {"version", apisrv_op_version, false, NULL},
    {"create", apisrv_op_create, true, "create"},
    {"update", apisrv_op_update, true, "update"},
    {"patch", apisrv_op_patch, true, "patch"},
    {"delete", apisrv_op_delete, true, "delete"},
    {"deletecollection", apisrv_op_deletecollection, true, "deletecollection"},
};

/* ---- reply cache ---------------------------------------------------------- */

static void s_cache_put(apisrv_t *s, const char *key, int code, const json_t *body)
{
    if (!key || json_object_get(s->cache, key))
        return;
    size_t slot = s->cache_next++ % APISRV_CACHE_SLOTS;
    if (s->cache_ring[slot]) {
        json_object_del(s->cache, s->cache_ring[slot]);
        free(s->cache_ring[slot]);
    }
    s->cache_ring[slot] = strdup(key);
    if (!s->cache_ring[slot])
        abort();
    json_object_set_new(s->cache, key, json_pack("[i,O?]", code, body));
}

static void s_reply(apisrv_t *s, rt_req_t **req, const char *key, int code, const json_t *body)
{
    s_cache_put(s, key, code, body);
    rt_reply(s->a, req, code, body);
}

/* ---- transaction and staging ------------------------------------------------ */

store_wtxn_t *apisrv_txn(apisrv_t *s)
{
    if (s->poisoned)
        return NULL;
    if (!s->txn) {
        int rc = store_wtxn_begin(s->st, &s->txn);
        if (rc < 0) {
            rt_err("cannot begin write transaction: %s", proto_strerror(rc));
            s->txn = NULL;
            s->poisoned = true;
        }
    }
    return s->txn;
}

void apisrv_poison(apisrv_t *s, int rc)
{
    rt_err("store write failed, aborting the batch: %s", proto_strerror(rc));
    s->poisoned = true;
}

static void s_stage(apisrv_t *s, rt_req_t *req, int code, json_t *body, const char *key)
{
    if (s->nstaged == s->capstaged) {
        s->capstaged = s->capstaged ? s->capstaged * 2 : 64;
        s->staged = realloc(s->staged, s->capstaged * sizeof *s->staged);
        if (!s->staged)
            abort();
    }
    if (key)
        json_object_set_new(s->staged_keys, key, json_integer((json_int_t)s->nstaged));
    s->staged[s->nstaged++] = (apisrv_staged_t){req, code, body, key ? strdup(key) : NULL};
}

/* A retry arriving while its first copy waits for the commit. */
static bool s_stage_dup(apisrv_t *s, rt_req_t *req, const char *key)
{
    json_t *idx = json_object_get(s->staged_keys, key);
    if (!idx)
        return false;
    apisrv_staged_t *st = &s->staged[json_integer_value(idx)];
    s_stage(s, req, st->code, json_incref(st->body), NULL);
    return true;
}

uint64_t apisrv_stream_seq(apisrv_t *s, const char *stream)
{
    return (uint64_t)json_integer_value(json_object_get(s->seqs, stream));
}

/* ---- publishing ----------------------------------------------------------- */

static uint64_t s_next_seq(apisrv_t *s, const char *stream)
{
    uint64_t seq = apisrv_stream_seq(s, stream) + 1;
    json_object_set_new(s->seqs, stream, json_integer((json_int_t)seq));
    return seq;
}

static void s_emit(apisrv_t *s, const char *topic, const char *stream, const char *type,
                   const json_t *obj, json_int_t rev)
{
    json_t *body = json_pack("{s:s, s:O, s:I, s:I, s:s}", "type", type, "object", obj, "rev", rev,
                             "seq", (json_int_t)s_next_seq(s, stream), "epoch", s->epoch);
    rt_publish(s->a, topic, type, body);
    json_decref(body);
}

static void s_emit_node(apisrv_t *s, const char *node, const char *ns, const char *name,
                        const char *type, const json_t *obj, json_int_t rev)
{
    char topic[PROTO_DST_MAX], stream[PROTO_DST_MAX];
    snprintf(stream, sizeof stream, "node/%s/pods/", node);
    snprintf(topic, sizeof topic, "node/%s/pods/%s/%s", node, ns, name);
    s_emit(s, topic, stream, type, obj, rev);
}

/* Pods also go to their node's stream; a pod leaving a node is DELETED there. */
static void s_publish_pod(apisrv_t *s, const char *key, const char *ns, const char *name,
                          const char *type, const json_t *obj, json_int_t rev)
{
    const char *nn = proto_obj_str(obj, "spec.nodeName");
    const char *on = json_string_value(json_object_get(s->pod_nodes, key));
    char *new_node = nn && *nn ? strdup(nn) : NULL;
    char *old_node = on ? strdup(on) : NULL;
    if (!strcmp(type, "DELETED")) {
        const char *node = new_node ? new_node : old_node;
        if (node)
            s_emit_node(s, node, ns, name, "DELETED", obj, rev);
        json_object_del(s->pod_nodes, key);
    } else {
        if (old_node && (!new_node || strcmp(old_node, new_node)))
            s_emit_node(s, old_node, ns, name, "DELETED", obj, rev);
        if (new_node) {
            bool same = old_node && !strcmp(old_node, new_node);
            s_emit_node(s, new_node, ns, name, same ? type : "ADDED", obj, rev);
            json_object_set_new(s->pod_nodes, key, json_string(new_node));
        } else {
            json_object_del(s->pod_nodes, key);
        }
    }
    free(new_node);
    free(old_node);
}

static void s_publish(apisrv_t *s, const json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *key = json_string_value(json_object_get(ev, "key"));
    json_t *obj = json_object_get(ev, "object");
    json_int_t rev = json_integer_value(json_object_get(ev, "rev"));
    char res[PROTO_DST_MAX], stream[PROTO_DST_MAX + 2];
    if (!type || !key || !obj || strlen(key) >= sizeof res)
        return;
    snprintf(res, sizeof res, "%s", key);
    char *ns = strchr(res, '/');
    char *name = ns ? strchr(ns + 1, '/') : NULL;
    if (!name)
        return;
    *ns++ = 0;
    *name++ = 0;
    snprintf(stream, sizeof stream, "%s/", res);
    s_emit(s, key, stream, type, obj, rev);
    apisrv_owners_note(s, key, obj, !strcmp(type, "DELETED"));
    if (!strcmp(res, "pods"))
        s_publish_pod(s, key, ns, name, type, obj, rev);
}

/* ---- flush ---------------------------------------------------------------- */

static int s_commit(apisrv_t *s, json_t **events)
{
    *events = NULL;
    if (!s->txn) {
        int rc = s->poisoned ? PROTO_EINTERNAL : 0;
        s->poisoned = false;
        return rc;
    }
    int rc = 0;
    if (s->poisoned) {
        store_wtxn_abort(&s->txn);
        rc = PROTO_EINTERNAL;
    } else {
        *events = json_deep_copy(store_wtxn_events(s->txn));
        rc = store_wtxn_commit(&s->txn);
        if (rc < 0) {
            rt_err("commit failed: %s", proto_strerror(rc));
            json_decref(*events);
            *events = NULL;
        }
    }
    s->txn = NULL;
    s->poisoned = false;
    if (rc < 0)
        apisrv_alloc_load(s); /* allocations made in the lost batch are void */
    return rc;
}

void apisrv_flush(apisrv_t *s)
{
    json_t *events;
    int rc = s_commit(s, &events);
    apisrv_staged_t *st = s->staged;
    size_t n = s->nstaged;
    s->staged = NULL;
    s->nstaged = s->capstaged = 0;
    json_object_clear(s->staged_keys);
    for (size_t i = 0; i < n; i++) {
        if (rc < 0) {
            json_t *e =
                apisrv_status(PROTO_EINTERNAL, "storage commit failed: %s", proto_strerror(rc));
            rt_reply(s->a, &st[i].req, 500, e);
            json_decref(e);
        } else {
            s_reply(s, &st[i].req, st[i].cache_key, st[i].code, st[i].body);
        }
        json_decref(st[i].body);
        free(st[i].cache_key);
    }
    free(st);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) s_publish(s, ev);
    json_decref(events);
}

/* ---- dispatch ------------------------------------------------------------- */

static int s_find_op(const char *op)
{
    for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (!strcmp(s_ops[i].op, op))
            return (int)i;
    return -1;
}

static int s_run_op(apisrv_t *s, int oi, const json_t *body, json_t **out)
{
    apisrv_rq_t rq;
    int code = apisrv_parse_rq(s_ops[oi].op, body, &rq, out);
    if (code)
        return code;
    if (rq.k && s_ops[oi].verb && !apisrv_has_word(rq.k->verbs, s_ops[oi].verb)) {
        *out = apisrv_status(PROTO_EMETHOD,
                             "the server does not allow this method on the requested resource");
        return 405;
    }
    return s_ops[oi].fn(s, &rq, out);
}

static void s_on_req(rt_actor_t *a, rt_req_t *req, void *arg)
{
    apisrv_t *s = arg;
    (void)a;
    int oi = s_find_op(req->env.op);
    if (oi < 0) {
        json_t *e = apisrv_status(PROTO_EBADREQUEST, "unknown operation \"%s\"", req->env.op);
        rt_reply(s->a, &req, 400, e);
        json_decref(e);
        return;
    }
    char key[PROTO_ID_MAX + 32];
    const char *ck = NULL;
    if (s_ops[oi].write && req->env.src[0] && req->env.id) {
        snprintf(key, sizeof key, "%s#%llu", req->env.src, (unsigned long long)req->env.id);
        ck = key;
        json_t *hit = json_object_get(s->cache, key);
        if (hit) {
            rt_reply(s->a, &req, (int)json_integer_value(json_array_get(hit, 0)),
                     json_array_get(hit, 1));
            return;
        }
        if (s_stage_dup(s, req, key))
            return;
    }
    if (!s_ops[oi].write)
        apisrv_flush(s);
    json_t *out = NULL;
    apisrv_fm_client(req->env.src); /* default field manager: the requesting actor */
    int code = s_run_op(s, oi, req->env.body, &out);
    if (s_ops[oi].write && code < 300) {
        s_stage(s, req, code, out, ck);
        return;
    }
    s_reply(s, &req, ck, code, out);
    size_t big = json_array_size(json_object_get(out, "items")) +
                 json_array_size(json_object_get(out, "rows"));
    json_decref(out);
    if (big > 500)
        malloc_trim(0); /* give a large list's memory back to the system now */
}

static void s_on_batch_end(rt_actor_t *a, void *arg)
{
    (void)a;
    apisrv_flush(arg);
}

static void s_on_sync(rt_actor_t *a, void *arg)
{
    apisrv_t *s = arg;
    apisrv_flush(s);
    json_t *body = json_pack("{s:s, s:I, s:O}", "epoch", s->epoch, "rev",
                             (json_int_t)store_rev(s->st), "seqs", s->seqs);
    rt_publish(a, "_sync", "SYNC", body);
    json_decref(body);
}

static void s_on_compact(rt_actor_t *a, void *arg)
{
    apisrv_t *s = arg;
    (void)a;
    apisrv_flush(s);
    int rc = store_compact(s->st, s->keep_revs);
    if (rc < 0)
        rt_warn("compaction failed: %s", proto_strerror(rc));
}

/* ---- start-up ------------------------------------------------------------- */

static int s_load_pod_nodes(apisrv_t *s)
{
    json_t *items = NULL;
    uint64_t rev;
    char *next = NULL;
    int rc = store_list(s->st, "pods/", NULL, 0, NULL, NULL, &items, &rev, &next);
    free(next);
    if (rc < 0)
        return rc;
    size_t i;
    json_t *pod;
    json_array_foreach(items, i, pod)
    {
        const char *node = proto_obj_str(pod, "spec.nodeName");
        if (node && *node) {
            char *k = proto_key("pods", proto_obj_ns(pod), proto_obj_name(pod));
            json_object_set_new(s->pod_nodes, k, json_string(node));
            free(k);
        }
    }
    json_decref(items);
    return 0;
}

static void s_boot_one(apisrv_t *s, const char *resource, json_t *obj)
{
    const proto_kind_t *k = proto_kind_by_resource(resource);
    char *key = proto_key(resource, proto_obj_ns(obj), proto_obj_name(obj));
    json_t *have = NULL, *out = NULL;
    store_wtxn_t *t = apisrv_txn(s);
    if (k && t && store_wtxn_get(t, key, &have) == PROTO_ENOTFOUND) {
        int code = apisrv_create_obj(s, k, obj, false, false, &out);
        if (code >= 300)
            rt_err("bootstrap %s: %s", key, json_string_value(json_object_get(out, "message")));
    }
    json_decref(have);
    json_decref(out);
    json_decref(obj);
    free(key);
}

/* The namespaces and the `kubernetes` Service every cluster starts with. */
static void s_bootstrap(apisrv_t *s)
{
    static const char *const nss[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
    for (size_t i = 0; i < sizeof nss / sizeof nss[0]; i++)
        s_boot_one(s, "namespaces",
                   json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                             "metadata", "name", nss[i]));
    s_boot_one(s, "services",
               json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:s, s:[{s:s, s:i, "
                         "s:s, s:i}]}}",
                         "apiVersion", "v1", "kind", "Service", "metadata", "name", "kubernetes",
                         "namespace", "default", "labels", "component", "apiserver", "provider",
                         "kubernetes", "spec", "type", "ClusterIP", "clusterIP", "10.96.0.1",
                         "ports", "name", "https", "port", 443, "protocol", "TCP", "targetPort",
                         6443));
    apisrv_flush(s);
}

static int s_init(apisrv_t *s, const char *data_dir, uint64_t keep, bool no_sync)
{
    unsigned char r[8] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -EIO;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(s->epoch + 2 * i, 3, "%02x", r[i]);
    s->seqs = json_object();
    s->pod_nodes = json_object();
    s->cache = json_object();
    s->staged_keys = json_object();
    s->owned = json_object();
    s->owners_by_key = json_object();
    s->keep_revs = keep;
    char err[256] = "";
    store_opts_t o = {.keep_revs = keep, .no_sync = no_sync};
    int rc = store_open(&s->st, data_dir, &o, err, sizeof err);
    if (rc < 0) {
        rt_err("cannot open the store in %s: %s %s", data_dir, proto_strerror(rc), err);
        return rc;
    }
    if ((rc = apisrv_alloc_init(&s->alloc, "10.96.0.0/12")) < 0 ||
        (rc = apisrv_alloc_load(s)) < 0 || (rc = s_load_pod_nodes(s)) < 0 ||
        (rc = apisrv_owners_load(s)) < 0)
        rt_err("cannot load the store's state: %s", proto_strerror(rc));
    return rc;
}

static void s_fini(apisrv_t *s)
{
    apisrv_flush(s);
    store_destroy(&s->st);
    apisrv_alloc_fini(&s->alloc);
    for (size_t i = 0; i < APISRV_CACHE_SLOTS; i++)
        free(s->cache_ring[i]);
    json_decref(s->seqs);
    json_decref(s->pod_nodes);
    json_decref(s->cache);
    json_decref(s->staged_keys);
    json_decref(s->owned);
    json_decref(s->owners_by_key);
}

static int s_serve(apisrv_t *s, const rt_config_t *cfg)
{
    char err[256] = "";
    int rc = rt_actor_open(&s->a, "apiserver", cfg, err, sizeof err);
    if (rc < 0) {
        rt_err("cannot connect to the broker: %s", err);
        return rc;
    }
    s_bootstrap(s);
    rt_on_batch_end(s->a, s_on_batch_end, s);
    rt_timer_add(s->a, S_SYNC_MS, true, s_on_sync, s);
    rt_timer_add(s->a, S_COMPACT_MS, true, s_on_compact, s);
    rc = rt_serve(s->a, "apiserver", s_on_req, s);
    if (rc == 0) {
        rt_info("serving (epoch %s, revision %llu)", s->epoch,
                (unsigned long long)store_rev(s->st));
        rt_run(s->a);
    }
    apisrv_flush(s); /* SIGTERM: finish the batch, commit, reply */
    rt_actor_destroy(&s->a);
    return rc;
}

int apisrv_run(const rt_config_t *cfg, const char *data_dir, uint64_t keep_revs, bool no_sync)
{
    apisrv_t *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    int rc = s_init(s, data_dir, keep_revs, no_sync);
    if (rc == 0)
        rc = s_serve(s, cfg);
    s_fini(s);
    free(s);
    return rc;
}
