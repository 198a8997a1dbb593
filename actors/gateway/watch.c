/*
 * actors/gateway/watch.c — Kubernetes watch streams over HTTP: a chunked
 * response of newline-delimited JSON events ({"type":"ADDED","object":...}),
 * fed from the event bus.
 *
 * Order, as the Clone pattern wants: subscribe to the topic prefix first
 * (`pods/default/` or `pods/`), then either replay the revision log from
 * the client's resourceVersion (`watchlog`; 410 Expired becomes an ERROR
 * event carrying the Status, as Kubernetes sends it) or, when the client
 * gave none or "0", send the current objects as ADDED (`list`). Events that
 * arrive meanwhile wait, and only those newer than what was sent go out.
 * Label/field selectors and the object name filter events here. Losses
 * (a subscription not yet live, a drop on the bus) are repaired from the
 * log when the apiserver's `_sync` beacon shows the store moved on; with
 * allowWatchBookmarks, each such catch-up ends with a BOOKMARK.
 *
 * The response's reader suspends the connection when it has nothing to
 * send; a new event resumes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/gateway/internal.h"
#include "protocol/obj.h"
#include "protocol/selector.h"
#include "protocol/status.h"
#include "protocol/table.h"
#include "runtime/log.h"

#define S_REPLAY_CHUNK 10000       /* events per watchlog call */
#define S_MAX_BUFFERED (64u << 20) /* unsent bytes before the stream is cut */
#define S_MAX_PENDING 100000       /* events held while the snapshot is read */
#define S_PROBE_MS 15000           /* how often idle streams look for a gone client */

struct gw_watch {
    uint64_t id;
    gw_t *g;
    struct MHD_Connection *c;
    const proto_kind_t *k;
    char group[64], version[16]; /* as the client asked (may be an old version) */
    char name[GW_NAME_MAX + 1];
    char prefix[PROTO_DST_MAX];
    proto_sel_t *ls;
    proto_fsel_t *fs;
    bool table, subscribed, synced, suspended, done;
    bool bookmarks; /* allowWatchBookmarks */
    char *buf;
    size_t len, off, cap;
    json_t *pending;  /* events that came while the snapshot was read */
    uint64_t covered; /* every event of the resource up to this revision was seen */
    json_t *seen;     /* revisions above covered already sent (rev string -> true) */
    bool catching;    /* a catch-up watchlog is in flight */
    int timer;
    gw_watch_t *next;
};

static gw_watch_t *s_find(gw_t *g, uint64_t id)
{
    for (gw_watch_t *w = g->watches; w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

/* ---- output ----------------------------------------------------------------- */

/* Resumes a suspended stream. MHD runs later, in s_flush, at the end of
 * the loop callback: running it here could end (and free) streams that
 * the caller is still iterating over. */
static void s_wake(gw_watch_t *w)
{
    if (!w->suspended)
        return;
    w->suspended = false;
    MHD_resume_connection(w->c);
    w->g->dirty = true;
}

/* The last statement of every loop callback of this file. */
static void s_flush(gw_t *g)
{
    if (g->dirty) {
        g->dirty = false;
        gw_kick(g);
    }
}

static void s_end(gw_watch_t *w)
{
    w->done = true;
    s_wake(w);
}

/* Appends n bytes to the unsent output (false when the client is too far
 * behind: the stream is then ended). */
static bool s_append(gw_watch_t *w, const char *data, size_t n)
{
    if (w->len - w->off + n > S_MAX_BUFFERED) { /* a client that does not read */
        rt_warn("watch %s: client too slow, closing the stream", w->prefix);
        s_end(w);
        return false;
    }
    if (w->off) { /* drop what was sent */
        memmove(w->buf, w->buf + w->off, w->len - w->off);
        w->len -= w->off;
        w->off = 0;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 8192;
        while (cap < w->len + n)
            cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b)
            abort();
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
    return true;
}

static void s_write_line(gw_watch_t *w, const char *type, const json_t *obj)
{
    json_t *ev = json_pack("{s:s, s:O}", "type", type, "object", obj);
    char *line = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (line && s_append(w, line, strlen(line)) && s_append(w, "\n", 1))
        s_wake(w);
    free(line);
}

static bool s_keep(const gw_watch_t *w, const json_t *obj)
{
    if (*w->name && (!proto_obj_name(obj) || strcmp(proto_obj_name(obj), w->name)))
        return false;
    if (w->ls && !proto_sel_match(w->ls, proto_obj_labels(obj)))
        return false;
    return !w->fs || proto_fsel_match(w->fs, obj);
}

static void s_send_event(gw_watch_t *w, const char *type, const json_t *obj)
{
    if (!type || !json_is_object(obj) || !s_keep(w, obj))
        return;
    if (!w->table && gw_gv_is_old(w->group, w->version)) {
        json_t *copy = json_deep_copy(obj);
        gw_relabel(copy, w->k, w->group, w->version);
        s_write_line(w, type, copy);
        json_decref(copy);
        return;
    }
    if (!w->table) {
        s_write_line(w, type, obj);
        return;
    }
    json_t *items = json_pack("[O]", obj);
    json_t *t = proto_table_build(w->k, items, (int64_t)time(NULL), false);
    json_decref(items);
    s_write_line(w, type, t);
    json_decref(t);
}

static void s_send_error(gw_watch_t *w, const json_t *status)
{
    s_write_line(w, "ERROR", status);
    s_end(w);
}

/* ---- events ----------------------------------------------------------------- */

static void s_apply(gw_watch_t *w, const json_t *ev)
{
    uint64_t rev = (uint64_t)json_integer_value(json_object_get(ev, "rev"));
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)rev);
    if (rev && (rev <= w->covered || json_object_get(w->seen, key)))
        return; /* already sent (live and replayed both deliver it) */
    if (rev)
        json_object_set_new(w->seen, key, json_true());
    s_send_event(w, json_string_value(json_object_get(ev, "type")), json_object_get(ev, "object"));
}

/* Everything up to rev has been seen: revisions at or below it need no
 * remembering. */
static void s_cover(gw_watch_t *w, uint64_t rev)
{
    if (rev <= w->covered)
        return;
    w->covered = rev;
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(w->seen, tmp, key, v)
    {
        if (strtoull(key, NULL, 10) <= rev)
            json_object_del(w->seen, key);
    }
}

static void s_on_event(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    gw_watch_t *w = arg;
    gw_t *g = w->g;
    (void)a;
    (void)topic;
    if (w->done || !json_is_object(env->body))
        return;
    if (!w->synced) {
        if (json_array_size(w->pending) < S_MAX_PENDING)
            json_array_append(w->pending, env->body);
        return;
    }
    s_apply(w, env->body);
    s_flush(g);
}

static void s_synced(gw_watch_t *w)
{
    w->synced = true;
    size_t i;
    json_t *ev;
    json_array_foreach(w->pending, i, ev) s_apply(w, ev);
    json_array_clear(w->pending);
}

/* ---- the snapshot: list or log replay ---------------------------------------- */

static void s_replay(gw_watch_t *w);

/* A call's closure: the watch is found again by id (it may be gone). */
typedef struct s_closure {
    gw_t *g;
    uint64_t id;
} s_closure_t;

static gw_watch_t *s_take(void *arg, gw_t **g)
{
    s_closure_t *cl = arg;
    *g = cl->g;
    gw_watch_t *w = s_find(cl->g, cl->id);
    free(cl);
    return w && !w->done ? w : NULL;
}

static void s_call(gw_watch_t *w, const char *op, json_t *body, rt_reply_fn *cb)
{
    s_closure_t *cl = malloc(sizeof *cl);
    if (!cl)
        abort();
    *cl = (s_closure_t){w->g, w->id};
    rt_call_opts_t o = {.timeout_ms = 10000, .retries = 2}; /* reads: retries are safe */
    if (rt_call(w->g->a, "apiserver", op, body, &o, cb, cl) < 0) {
        free(cl);
        json_t *st = proto_status_new(PROTO_EINTERNAL, "cannot reach the apiserver", NULL);
        s_send_error(w, st);
        json_decref(st);
    }
    json_decref(body);
}

static void s_list_done(gw_watch_t *w, int code, const json_t *body)
{
    if (code != 200) {
        s_send_error(w, body);
        return;
    }
    size_t i;
    json_t *obj;
    json_array_foreach(json_object_get(body, "items"), i, obj) s_send_event(w, "ADDED", obj);
    const char *rv = proto_obj_str(body, "metadata.resourceVersion");
    s_cover(w, rv ? strtoull(rv, NULL, 10) : 0);
    s_synced(w);
}

static void s_on_list(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    gw_t *g;
    gw_watch_t *w = s_take(arg, &g);
    (void)a;
    if (w)
        s_list_done(w, code, body);
    s_flush(g);
}

/* BOOKMARK {kind, apiVersion, metadata.resourceVersion}: the client may
 * resume from here (Kubernetes sends these when allowWatchBookmarks). */
static void s_bookmark(gw_watch_t *w)
{
    char av[96], rv[24];
    snprintf(av, sizeof av, "%s%s%s", w->group, *w->group ? "/" : "", w->version);
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)w->covered);
    json_t *o = json_pack("{s:s, s:s, s:{s:s}}", "kind", w->k->kind, "apiVersion", av,
                          "metadata", "resourceVersion", rv);
    s_write_line(w, "BOOKMARK", o);
    json_decref(o);
}

static void s_log_done(gw_watch_t *w, int code, const json_t *body)
{
    if (code != 200) {
        s_send_error(w, body);
        return;
    }
    json_t *events = json_object_get(body, "events"), *ev;
    size_t i, n = json_array_size(events);
    json_array_foreach(events, i, ev) s_apply(w, ev);
    if (n >= S_REPLAY_CHUNK) { /* more to read after the last one */
        json_t *last = json_array_get(events, n - 1);
        s_cover(w, (uint64_t)json_integer_value(json_object_get(last, "rev")));
        s_replay(w);
        return;
    }
    uint64_t before = w->covered;
    s_cover(w, (uint64_t)json_integer_value(json_object_get(body, "rev")));
    w->catching = false;
    if (!w->synced)
        s_synced(w);
    else if (w->bookmarks && !w->table && w->covered > before)
        s_bookmark(w);
}

static void s_on_log(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    gw_t *g;
    gw_watch_t *w = s_take(arg, &g);
    (void)a;
    if (w)
        s_log_done(w, code, body);
    s_flush(g);
}

static json_t *s_target(const gw_watch_t *w, const char *ns)
{
    return json_pack("{s:s, s:s}", "resource", w->k->resource, "namespace", ns);
}

static void s_replay(gw_watch_t *w)
{
    json_t *b = json_pack("{s:s, s:I, s:i}", "resource", w->k->resource, "from",
                          (json_int_t)w->covered, "limit", S_REPLAY_CHUNK);
    const char *ns = strchr(w->prefix, '/') + 1;
    if (*ns) {
        size_t n = strlen(ns) - 1; /* without the trailing '/' */
        json_object_set_new(b, "namespace", json_stringn(ns, n));
    }
    s_call(w, "watchlog", b, s_on_log);
}

static void s_list(gw_watch_t *w, const json_t *p)
{
    const char *ns = json_string_value(json_object_get(p, "namespace"));
    json_t *b = s_target(w, ns ? ns : "");
    static const char *const keys[] = {"labelSelector", "fieldSelector"};
    for (size_t i = 0; i < 2; i++)
        if (json_is_string(json_object_get(p, keys[i])))
            json_object_set(b, keys[i], json_object_get(p, keys[i]));
    s_call(w, "list", b, s_on_list);
}

/*
 * The apiserver's `_sync` beacon (every second) carries the store revision.
 * A subscription becomes live a little after rt_subscribe returns, and the
 * bus may drop under load: whenever the store has moved past what a stream
 * is known to have seen, read the log for its resource from there. Events
 * seen both ways go out once.
 */
static void s_on_sync(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg)
{
    gw_t *g = arg;
    (void)a;
    (void)topic;
    uint64_t rev = (uint64_t)json_integer_value(json_object_get(env->body, "rev"));
    for (gw_watch_t *w = g->watches; w; w = w->next) {
        if (w->synced && !w->done && !w->catching && rev > w->covered) {
            w->catching = true;
            s_replay(w);
        }
    }
    s_flush(g);
}

/*
 * A suspended connection is not polled, so a client that went away is only
 * noticed when something is written to it: every S_PROBE_MS, idle streams
 * get a newline (whitespace between JSON values, which watch decoders
 * skip); a closed socket then ends the stream.
 */
static void s_on_probe(rt_actor_t *a, void *arg)
{
    gw_t *g = arg;
    (void)a;
    for (gw_watch_t *w = g->watches; w; w = w->next)
        if (w->synced && !w->done && w->off == w->len && s_append(w, "\n", 1))
            s_wake(w);
    s_flush(g);
}

/* ---- the stream --------------------------------------------------------------- */

static ssize_t s_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    gw_watch_t *w = cls;
    (void)pos;
    if (w->off < w->len) {
        size_t n = w->len - w->off < max ? w->len - w->off : max;
        memcpy(buf, w->buf + w->off, n);
        w->off += n;
        return (ssize_t)n;
    }
    if (w->done)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (!w->suspended) {
        w->suspended = true;
        MHD_suspend_connection(w->c);
    }
    return 0;
}

static void s_free(void *cls)
{
    gw_watch_t *w = cls;
    gw_t *g = w->g;
    rt_debug("watch on %s ended", w->prefix);
    for (gw_watch_t **pp = &g->watches; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    if (w->subscribed)
        rt_unsubscribe(g->a, w->prefix, s_on_event, w);
    if (w->timer)
        rt_timer_cancel(g->a, w->timer);
    proto_sel_destroy(&w->ls);
    proto_fsel_destroy(&w->fs);
    json_decref(w->pending);
    json_decref(w->seen);
    free(w->buf);
    free(w);
}

static void s_on_timeout(rt_actor_t *a, void *arg)
{
    gw_watch_t *w = arg;
    gw_t *g = w->g;
    (void)a;
    w->timer = 0;
    s_end(w);
    s_flush(g);
}

static int s_selectors(gw_watch_t *w, const json_t *p, json_t **err)
{
    char msg[512] = "";
    const char *ls = json_string_value(json_object_get(p, "labelSelector"));
    const char *fs = json_string_value(json_object_get(p, "fieldSelector"));
    int rc = 0;
    if (ls && *ls)
        rc = proto_sel_parse(ls, &w->ls, msg, sizeof msg);
    if (!rc && fs && *fs)
        rc = proto_fsel_parse(fs, w->k->resource, &w->fs, msg, sizeof msg);
    if (rc < 0)
        *err = proto_status_new(PROTO_EBADREQUEST, msg[0] ? msg : "invalid selector", NULL);
    return rc;
}

static gw_watch_t *s_new(gw_t *g, gw_conn_t *x, const json_t *p, bool table)
{
    gw_watch_t *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->id = gw_next_id(g);
    w->g = g;
    w->c = x->c;
    w->k = x->route.k;
    snprintf(w->group, sizeof w->group, "%s", x->route.group);
    snprintf(w->version, sizeof w->version, "%s", x->route.version);
    w->table = table;
    w->bookmarks = json_is_true(json_object_get(p, "allowWatchBookmarks"));
    w->pending = json_array();
    w->seen = json_object();
    snprintf(w->name, sizeof w->name, "%s", json_string_value(json_object_get(p, "name")) ?: "");
    if (*x->route.ns)
        snprintf(w->prefix, sizeof w->prefix, "%s/%s/", w->k->resource, x->route.ns);
    else
        snprintf(w->prefix, sizeof w->prefix, "%s/", w->k->resource);
    return w;
}

static enum MHD_Result s_queue(gw_watch_t *w)
{
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, s_read, w, s_free);
    if (!r) {
        s_free(w);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    enum MHD_Result ok = MHD_queue_response(w->c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result gw_watch_start(gw_t *g, gw_conn_t *x, const json_t *p, bool table)
{
    gw_watch_t *w = s_new(g, x, p, table);
    json_t *err = NULL;
    if (s_selectors(w, p, &err) < 0) {
        s_free(w);
        enum MHD_Result r = gw_send_json(x->c, 400, err);
        json_decref(err);
        return r;
    }
    w->next = g->watches;
    g->watches = w;
    w->subscribed = rt_subscribe(g->a, w->prefix, s_on_event, w) == 0;
    if (!g->sync_sub) {
        g->sync_sub = rt_subscribe(g->a, "_sync", s_on_sync, g) == 0;
        rt_timer_add(g->a, S_PROBE_MS, true, s_on_probe, g);
    }
    json_int_t secs = json_integer_value(json_object_get(p, "timeoutSeconds"));
    if (secs > 0)
        w->timer =
            rt_timer_add(g->a, (int)(secs > 86400 ? 86400 : secs) * 1000, false, s_on_timeout, w);
    if (w->timer < 0)
        w->timer = 0;
    const char *rv = json_string_value(json_object_get(p, "resourceVersion"));
    char *end = NULL;
    unsigned long long from = rv && *rv ? strtoull(rv, &end, 10) : 0;
    if (from && end && !*end) {
        w->covered = from;
        s_replay(w);
    } else {
        s_list(w, p);
    }
    return s_queue(w);
}

void gw_watch_stop_all(gw_t *g)
{
    for (gw_watch_t *w = g->watches; w; w = w->next) {
        w->done = true;
        if (w->suspended) {
            w->suspended = false;
            MHD_resume_connection(w->c);
        }
    }
}
