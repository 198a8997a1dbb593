/*
 * actors/apiserver/server.c — the apiserver's loop: request dispatch, group
 * commit, the replies kept for retried requests (seen.c), and publishing one event
 * per committed change (plus the 1 s `_sync` beacon and compaction).
 *
 * Group commit: write handlers apply their work to one store write
 * transaction opened lazily for the batch and stage their replies; at the
 * end of the batch (rt_on_batch_end) the transaction commits once, then the
 * staged replies go out, then the events are published. Failed writes wrote
 * nothing (every check runs before the first store write), so their errors
 * are answered at once.
 *
 * Commits are pipelined (store.h): the end of a batch hands its
 * transaction to the store's committer thread, which commits and syncs it
 * while the loop already reads and applies the next batch (whose reads see
 * the batches in flight). The batch waits in the pending queue: no reply
 * and no event leaves before store_durable_rev covers it. A failed commit
 * or sync fails the store for good: the apiserver answers 500 to what
 * waits and exits, to be started again on what is on disk.
 *
 * Reads (get, list, watchlog) first flush the batch (commit + replies +
 * events) and then read committed state: a read that follows a write in
 * the same batch sees it, and a list's revision and stream seq always agree
 * with the events already published. Operations that scan the store
 * (delete cascades, namespace deletion, deletecollection) flush first too.
 *
 * Bytes, not trees, on the hot paths: an object is encoded once, by the
 * store; the reply to its write (when the reply is that very tree) and
 * every event of the change embed those bytes, and the entry kept for
 * retries copies them. Plain gets, lists and watchlogs go out from the stored bytes
 * (ops_read.c) without ever becoming trees.
 */
#include <errno.h>
#include <malloc.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "actors/apiserver/apiserver.h"
#include "actors/apiserver/apply.h"
#include "actors/apiserver/internal.h"
#include "protocol/codec.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/log.h"

#define S_SYNC_MS 1000
#define S_PART 16 /* staged writes handed to the committer as one part */
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

/* ---- replies and retries ------------------------------------------------------ */

/* A retry of an answered request: the same reply again. */
static void s_seen_reply(apisrv_t *s, rt_req_t **req, const apisrv_seen_t *e)
{
    if (e->bytes)
        rt_reply_raw(s->a, req, e->code, e->bytes, e->blen);
    else
        rt_reply(s->a, req, e->code, e->body);
}

/* Replies with a tree; e (may be NULL) keeps it for retries. */
static void s_reply(apisrv_t *s, rt_req_t **req, apisrv_seen_t *e, int code, json_t *body)
{
    if (e)
        apisrv_seen_done(&s->seen, e, code, body, NULL, 0);
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

static void s_stage(apisrv_t *s, rt_req_t *req, int code, json_t *body, apisrv_seen_t *seen)
{
    if (!s->staged && s->nspare) { /* no large malloc per batch */
        s->nspare--;
        s->staged = s->spare[s->nspare];
        s->capstaged = s->spare_cap[s->nspare];
    }
    if (s->nstaged == s->capstaged) {
        s->capstaged = s->capstaged ? s->capstaged * 2 : 64;
        s->staged = realloc(s->staged, s->capstaged * sizeof *s->staged);
        if (!s->staged)
            abort();
    }
    s->staged[s->nstaged++] = (apisrv_staged_t){req, code, body, seen};
}

/* A retry of a request seen before: answered with the first copy's reply
 * (after the commit, when that waits for it). True when req was answered. */
static bool s_retry(apisrv_t *s, rt_req_t **req)
{
    apisrv_seen_t *e = apisrv_seen_find(&s->seen, (*req)->env.src, (*req)->env.id);
    if (!e)
        return false;
    if (e->state == APISRV_SEEN_DONE) {
        s_seen_reply(s, req, e);
        return true;
    }
    /* joins the batch of the first copy's reply: staged still, or waiting to be durable */
    const apisrv_staged_t *st = e->state == APISRV_SEEN_STAGED ? &s->staged[e->idx] : NULL;
    s_stage(s, *req, st ? st->code : e->code, json_incref(st ? st->body : e->body), NULL);
    *req = NULL;
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

/* The object's msgpack bytes, encoded once by the store and shared by
 * the reply and every event of the change. */
typedef struct s_bytes {
    const json_t *obj;
    char *buf;
    size_t len;
} s_bytes_t;

static void s_mp_str(msgpack_packer *pk, const char *str)
{
    size_t n = strlen(str);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, str, n);
}

/* A msgpack writer into a buffer sized in advance (no growth, no 8 KiB
 * first allocation as msgpack_sbuffer makes). */
typedef struct s_fixbuf {
    char *p;
    size_t n, cap;
} s_fixbuf_t;

static int s_fix_write(void *data, const char *buf, size_t len)
{
    s_fixbuf_t *f = data;
    if (len > f->cap - f->n)
        return -1; /* cannot happen: the size bound below holds */
    memcpy(f->p + f->n, buf, len);
    f->n += len;
    return 0;
}

/* Event body {type, object, rev, seq, epoch}, the object embedded as is. */
static void s_emit(apisrv_t *s, const char *topic, const char *stream, const char *type,
                   const s_bytes_t *ob, json_int_t rev)
{
    /* keys and type (< 64), two int64 (18), epoch (< 48): 160 is ample */
    s_fixbuf_t f = {malloc(ob->len + 160), 0, ob->len + 160};
    if (!f.p)
        abort();
    msgpack_packer pk;
    msgpack_packer_init(&pk, &f, s_fix_write);
    msgpack_pack_map(&pk, 5);
    s_mp_str(&pk, "type");
    s_mp_str(&pk, type);
    s_mp_str(&pk, "object");
    s_fix_write(&f, ob->buf, ob->len);
    s_mp_str(&pk, "rev");
    msgpack_pack_int64(&pk, rev);
    s_mp_str(&pk, "seq");
    msgpack_pack_int64(&pk, (int64_t)s_next_seq(s, stream));
    s_mp_str(&pk, "epoch");
    s_mp_str(&pk, s->epoch);
    rt_publish_raw(s->a, topic, type, f.p, f.n);
    free(f.p);
}

static void s_emit_node(apisrv_t *s, const char *node, const char *ns, const char *name,
                        const char *type, const s_bytes_t *obj, json_int_t rev)
{
    char topic[PROTO_DST_MAX], stream[PROTO_DST_MAX];
    snprintf(stream, sizeof stream, "node/%s/pods/", node);
    snprintf(topic, sizeof topic, "node/%s/pods/%s/%s", node, ns, name);
    s_emit(s, topic, stream, type, obj, rev);
}

/* Pods also go to their node's stream; a pod leaving a node is DELETED there. */
static void s_publish_pod(apisrv_t *s, const char *key, const char *ns, const char *name,
                          const char *type, const s_bytes_t *obj, json_int_t rev)
{
    const char *nn = proto_obj_str(obj->obj, "spec.nodeName");
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

static void s_publish(apisrv_t *s, const json_t *ev, const s_bytes_t *ob)
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
    s_emit(s, key, stream, type, ob, rev);
    apisrv_owners_note(s, key, obj, !strcmp(type, "DELETED"));
    if (!strcmp(res, "pods"))
        s_publish_pod(s, key, ns, name, type, ob, rev);
}

/* ---- flush ---------------------------------------------------------------- */

/* A block of at least n bytes, from the spares of released batches when
 * one is big enough: a batch's event bytes cost no large malloc (each
 * would sweep the allocator's fast bins) and no malloc per event. */
static void *s_blob_get(apisrv_t *s, size_t n, size_t *cap)
{
    for (size_t i = 0; i < s->nblob; i++) {
        if (s->blob_cap[i] < n)
            continue;
        void *b = s->blob[i];
        *cap = s->blob_cap[i];
        s->nblob--;
        s->blob[i] = s->blob[s->nblob];
        s->blob_cap[i] = s->blob_cap[s->nblob];
        return b;
    }
    *cap = n < 64 * 1024 ? 64 * 1024 : n;
    void *b = malloc(*cap);
    if (!b)
        abort();
    return b;
}

static void s_blob_put(apisrv_t *s, void *b, size_t cap)
{
    size_t max = sizeof s->blob / sizeof s->blob[0];
    if (b && s->nblob < max && cap <= ((size_t)8 << 20)) {
        s->blob[s->nblob] = b;
        s->blob_cap[s->nblob++] = cap;
    } else {
        free(b);
    }
}

/* Copies each event's object bytes out of the transaction before it ends,
 * into one block: the s_bytes_t array, then the bytes. NULL when none. */
static s_bytes_t *s_event_bytes(apisrv_t *s, const json_t *events, size_t *cap)
{
    size_t n = json_array_size(events), total = n * sizeof(s_bytes_t);
    const void *p;
    size_t len;
    *cap = 0;
    if (!n)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (store_wtxn_event_bytes(s->txn, i, &p, &len) < 0)
            abort(); /* i < n: cannot fail */
        total += len;
    }
    s_bytes_t *b = s_blob_get(s, total, cap);
    char *data = (char *)(b + n);
    for (size_t i = 0; i < n; i++) {
        store_wtxn_event_bytes(s->txn, i, &p, &len);
        b[i] = (s_bytes_t){json_object_get(json_array_get(events, i), "object"), data, len};
        memcpy(data, p, len);
        data += len;
    }
    return b;
}

static int s_commit(apisrv_t *s, json_t **events, s_bytes_t **bytes, size_t *bcap)
{
    *events = NULL;
    *bytes = NULL;
    *bcap = 0;
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
        /* The events hold the trees the handlers put (and replied with);
         * nothing modifies them until they are published. */
        *events = json_incref((json_t *)store_wtxn_events(s->txn));
        *bytes = s_event_bytes(s, *events, bcap);
        rc = store_wtxn_commit_nowait(&s->txn);
        if (rc < 0) {
            rt_err("commit failed: %s", proto_strerror(rc));
            s_blob_put(s, *bytes, *bcap);
            json_decref(*events);
            *events = NULL;
            *bytes = NULL;
        }
    }
    s->txn = NULL;
    s->poisoned = false;
    if (rc < 0) {
        apisrv_alloc_load(s); /* allocations made in the lost batch are void */
        json_object_clear(s->ns_ok); /* its revisions will be taken again */
    }
    return rc;
}

/* The stored bytes of body when it is the very tree an event carries;
 * *cur walks along, as replies and events mostly come in the same order. */
static const s_bytes_t *s_find_bytes(const s_bytes_t *b, size_t n, const json_t *body,
                                     size_t *cur)
{
    for (size_t k = 0; body && k < n; k++) {
        size_t i = (*cur + k) % n;
        if (b[i].obj == body) {
            *cur = i + 1;
            return &b[i];
        }
    }
    return NULL;
}

json_t *apisrv_bind_ok(apisrv_t *s)
{
    if (!s->bind_ok) {
        s->bind_ok = proto_status_success(201, NULL);
        if (proto_mp_pack(s->bind_ok, &s->bind_ok_mp, &s->bind_ok_len) < 0)
            s->bind_ok_mp = NULL;
    }
    return s->bind_ok;
}

static void s_reply_staged(apisrv_t *s, apisrv_staged_t *st, const s_bytes_t *ob)
{
    s_bytes_t fixed;
    if (!ob && st->body && st->body == s->bind_ok && s->bind_ok_mp) {
        fixed = (s_bytes_t){s->bind_ok, s->bind_ok_mp, s->bind_ok_len};
        ob = &fixed;
    }
    if (!ob) {
        s_reply(s, &st->req, st->seen, st->code, st->body);
        return;
    }
    if (st->seen)
        apisrv_seen_done(&s->seen, st->seen, st->code, NULL, ob->buf, ob->len);
    rt_reply_raw(s->a, &st->req, st->code, ob->buf, ob->len);
}

/* ---- pending batches ------------------------------------------------------ */

/* A committed batch: its replies and events go out once the store reports
 * its revision durable (durable.c), in commit order. */
struct apisrv_pend {
    uint64_t rev;
    apisrv_staged_t *st;
    size_t n, cap;
    json_t *events;
    s_bytes_t *bytes;
    size_t bytes_cap;
};

/* Replies to and publishes one batch; rc < 0: 500s instead of replies
 * (events still go out when the commit itself succeeded: readers see it). */
static void s_release_one(apisrv_t *s, apisrv_pend_t *p, int rc)
{
    size_t nev = json_array_size(p->events), cur = 0;
    for (size_t i = 0; i < p->n; i++) {
        apisrv_staged_t *st = &p->st[i];
        if (rc < 0) {
            json_t *e = apisrv_status(PROTO_EINTERNAL, "storage commit failed: %s",
                                      proto_strerror(rc));
            rt_reply(s->a, &st->req, 500, e);
            json_decref(e);
            apisrv_seen_drop(&s->seen, st->seen); /* not carried out: a retry runs it */
        } else {
            s_reply_staged(s, st, s_find_bytes(p->bytes, nev, st->body, &cur));
        }
        json_decref(st->body);
    }
    if (p->st && s->nspare < sizeof s->spare / sizeof s->spare[0]) {
        s->spare[s->nspare] = p->st;
        s->spare_cap[s->nspare++] = p->cap;
    } else {
        free(p->st);
    }
    size_t i;
    json_t *ev;
    if (rc == 0) /* a failed batch is not in the store: no event tells of it */
        json_array_foreach(p->events, i, ev) s_publish(s, ev, &p->bytes[i]);
    s_blob_put(s, p->bytes, p->bytes_cap);
    json_decref(p->events);
}

void apisrv_release(apisrv_t *s, int sync_rc)
{
    if (sync_rc < 0 && !s->store_failed) {
        /* The store failed for good (a commit or a sync): answer what
         * waits, then stop; the supervisor starts the apiserver again and
         * it reopens the store from what is on disk. */
        rt_err("storage failed, the apiserver stops: %s", proto_strerror(sync_rc));
        s->store_failed = sync_rc;
        if (s->a)
            rt_stop(s->a);
    }
    uint64_t durable = store_durable_rev(s->st);
    size_t k = 0;
    /* one at a time: a reply may not re-enter, but stay safe if it does */
    while (k < s->npend && (sync_rc < 0 || s->pend[k].rev <= durable)) {
        apisrv_pend_t p = s->pend[k++];
        s_release_one(s, &p, p.rev <= durable ? 0 : sync_rc);
    }
    memmove(s->pend, s->pend + k, (s->npend - k) * sizeof *s->pend);
    s->npend -= k;
}

/* Moves the staged replies and the batch's events to the pending queue. */
static void s_pend_push(apisrv_t *s, json_t *events, s_bytes_t *bytes, size_t bcap)
{
    if (s->npend == s->cappend) {
        s->cappend = s->cappend ? s->cappend * 2 : 8;
        s->pend = realloc(s->pend, s->cappend * sizeof *s->pend);
        if (!s->pend)
            abort();
    }
    for (size_t i = 0; i < s->nstaged; i++) {
        apisrv_staged_t *st = &s->staged[i];
        if (st->seen)
            apisrv_seen_pending(st->seen, st->code, st->body);
    }
    s->pend[s->npend++] =
        (apisrv_pend_t){store_rev(s->st), s->staged, s->nstaged, s->capstaged, events, bytes, bcap};
    s->staged = NULL;
    s->nstaged = s->capstaged = 0;
}

/* Commits the batch without waiting for its last sync; what it made
 * durable (the batches before it) goes out at once. */
static void s_commit_batch(apisrv_t *s)
{
    if (!s->txn && !s->poisoned && !s->nstaged)
        return;
    json_t *events;
    s_bytes_t *bytes;
    size_t bcap;
    int rc = s_commit(s, &events, &bytes, &bcap);
    if (rc < 0) { /* nothing of it was written: answer now */
        apisrv_pend_t p = {0, s->staged, s->nstaged, s->capstaged, NULL, NULL, 0};
        s->staged = NULL;
        s->nstaged = s->capstaged = 0;
        s_release_one(s, &p, rc);
    } else {
        s_pend_push(s, events, bytes, bcap);
    }
    apisrv_release(s, 0);
}

void apisrv_flush(apisrv_t *s)
{
    s_commit_batch(s);
    if (s->npend)
        apisrv_release(s, store_sync(s->st));
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

/* A plain get, list or watchlog goes out from the stored bytes; anything
 * unusual (errors included) takes the tree path. True when req was
 * answered. */
static bool s_read_fast(apisrv_t *s, int oi, rt_req_t **req)
{
    apisrv_rq_t rq;
    json_t *err = NULL;
    const char *op = s_ops[oi].op;
    if ((strcmp(op, "list") && strcmp(op, "get") && strcmp(op, "watchlog")) ||
        apisrv_parse_rq(op, (*req)->env.body, &rq, &err)) {
        json_decref(err);
        return false;
    }
    if (!strcmp(op, "watchlog"))
        return apisrv_watchlog_raw(s, &rq, req);
    if (!rq.k || !apisrv_has_word(rq.k->verbs, op))
        return false;
    return !strcmp(op, "get") ? apisrv_get_raw(s, &rq, req) : apisrv_list_raw(s, &rq, req);
}

static void s_on_batch_end(rt_actor_t *a, void *arg);

static void s_on_req(rt_actor_t *a, rt_req_t *req, void *arg)
{
    apisrv_t *s = arg;
    (void)a;
    /* The loop reads a whole batch before it looks at the committer's
     * eventfd: what became durable meanwhile goes out now, not after it. */
    if (s->npend && store_durable_rev(s->st) >= s->pend[0].rev)
        apisrv_release(s, 0);
    /* A long batch goes to the committer in parts: the first writes need
     * not wait for the last to be applied (the committer still syncs all
     * that waits at once). */
    if (s->nstaged >= S_PART)
        s_on_batch_end(a, s);
    int oi = s_find_op(req->env.op);
    if (oi < 0) {
        json_t *e = apisrv_status(PROTO_EBADREQUEST, "unknown operation \"%s\"", req->env.op);
        rt_reply(s->a, &req, 400, e);
        json_decref(e);
        return;
    }
    bool keep = s_ops[oi].write && req->env.src[0] && req->env.id; /* for retries */
    if (keep && s_retry(s, &req))
        return;
    if (!s_ops[oi].write)
        apisrv_flush(s);
    if (s_read_fast(s, oi, &req))
        return;
    json_t *out = NULL;
    apisrv_fm_client(req->env.src); /* default field manager: the requesting actor */
    int code = s_run_op(s, oi, req->env.body, &out);
    apisrv_seen_t *seen =
        keep ? apisrv_seen_add(&s->seen, req->env.src, req->env.id, s->nstaged) : NULL;
    if (s_ops[oi].write && code < 300) {
        s_stage(s, req, code, out, seen);
        return;
    }
    s_reply(s, &req, seen, code, out);
    size_t big = json_array_size(json_object_get(out, "items")) +
                 json_array_size(json_object_get(out, "rows"));
    json_decref(out);
    if (big > 500)
        malloc_trim(0); /* give a large list's memory back to the system now */
}

/* The end of a batch: hand it to the store's committer and go on; the
 * committer wakes the loop (durable.c) once it is durable, to
 * release its replies and events. */
static void s_on_batch_end(rt_actor_t *a, void *arg)
{
    apisrv_t *s = arg;
    (void)a;
    s_commit_batch(s);
    if (s->npend)
        apisrv_syncer_kick(s);
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
    s->owned = json_object();
    s->owners_by_key = json_object();
    s->ns_ok = json_object();
    s->keep_revs = keep;
    char err[256] = "";
    store_opts_t o = {.keep_revs = keep, .no_sync = no_sync, .pipeline = true};
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
    free(s->staged);
    s->staged = NULL;
    free(s->pend);
    while (s->nspare)
        free(s->spare[--s->nspare]);
    while (s->nblob)
        free(s->blob[--s->nblob]);
    json_decref(s->bind_ok);
    free(s->bind_ok_mp);
    store_destroy(&s->st);
    apisrv_alloc_fini(&s->alloc);
    json_decref(s->seqs);
    json_decref(s->pod_nodes);
    json_decref(s->owned);
    json_decref(s->owners_by_key);
    json_decref(s->ns_ok);
    apisrv_seen_free(&s->seen);
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
    rc = apisrv_syncer_start(s);
    if (rc < 0) {
        rt_err("cannot set up the commit wake-ups: %s", proto_strerror(rc));
        rt_actor_destroy(&s->a);
        return rc;
    }
    rt_on_batch_end(s->a, s_on_batch_end, s);
    rt_timer_add(s->a, S_SYNC_MS, true, s_on_sync, s);
    rt_timer_add(s->a, S_COMPACT_MS, true, s_on_compact, s);
    rc = rt_serve(s->a, "apiserver", s_on_req, s);
    if (rc == 0) {
        rt_info("serving (epoch %s, revision %llu)", s->epoch,
                (unsigned long long)store_rev(s->st));
        rt_run(s->a);
    }
    apisrv_syncer_stop(s);
    apisrv_flush(s); /* SIGTERM: finish the batch, commit, reply */
    rt_actor_destroy(&s->a);
    return s->store_failed ? s->store_failed : rc;
}

int apisrv_run(const rt_config_t *cfg, const char *data_dir, uint64_t keep_revs, bool no_sync)
{
    /* A fixed threshold (glibc's moves up to 32 MiB after the first big
     * free): a large list's buffers are always mapped and unmapped on free,
     * never left as heap the process keeps. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
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
