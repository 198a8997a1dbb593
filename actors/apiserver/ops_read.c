/*
 * actors/apiserver/ops_read.c — the read operations: get, list (selectors,
 * limit + continue, Table, stream position), watchlog, resources, version.
 * They read committed state (server.c flushes the batch first). A get,
 * list or watchlog that needs no filtering nor Table is answered from the
 * stored msgpack bytes (the *_raw functions), so that a 10,000-pod list
 * never becomes 10,000 trees; the tree functions answer everything else,
 * errors included.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/apiserver/internal.h"
#include "protocol/codec.h"
#include "protocol/obj.h"
#include "protocol/selector.h"
#include "protocol/status.h"
#include "protocol/table.h"

struct apisrv_filter {
    proto_sel_t *labels;
    proto_fsel_t *fields;
};

int apisrv_filter_new(const apisrv_rq_t *r, apisrv_filter_t **out, json_t **err)
{
    char msg[1024] = "";
    apisrv_filter_t *f = calloc(1, sizeof *f);
    if (!f)
        abort();
    const char *ls = json_string_value(json_object_get(r->body, "labelSelector"));
    const char *fs = json_string_value(json_object_get(r->body, "fieldSelector"));
    int rc = 0;
    if (ls && *ls)
        rc = proto_sel_parse(ls, &f->labels, msg, sizeof msg);
    if (rc == 0 && fs && *fs)
        rc = proto_fsel_parse(fs, r->k->resource, &f->fields, msg, sizeof msg);
    if (rc < 0) {
        apisrv_filter_destroy(&f);
        *err = apisrv_status(PROTO_EBADREQUEST, "%s", msg[0] ? msg : "invalid selector");
        return 400;
    }
    *out = f;
    return 0;
}

bool apisrv_filter_keep(const json_t *obj, void *arg)
{
    apisrv_filter_t *f = arg;
    if (f->labels && !proto_sel_match(f->labels, proto_obj_labels(obj)))
        return false;
    return !f->fields || proto_fsel_match(f->fields, obj);
}

void apisrv_filter_destroy(apisrv_filter_t **f)
{
    if (!f || !*f)
        return;
    proto_sel_destroy(&(*f)->labels);
    proto_fsel_destroy(&(*f)->fields);
    free(*f);
    *f = NULL;
}

static bool s_wants_table(const apisrv_rq_t *r)
{
    const char *as = json_string_value(json_object_get(r->body, "as"));
    return as && !strcmp(as, "Table");
}

static json_t *s_table(const apisrv_rq_t *r, const json_t *items)
{
    return proto_table_build(r->k, items, (int64_t)time(NULL), false);
}

int apisrv_op_get(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    if (r->sub && strcmp(r->sub, "status") && strcmp(r->sub, "scale")) {
        *out = apisrv_status(PROTO_EMETHOD,
                             "the server does not allow this method on the requested resource");
        return 405;
    }
    char *key = proto_key(r->k->resource, r->ns, r->name);
    json_t *obj = NULL;
    int rc = store_get(s->st, key, &obj);
    free(key);
    if (rc < 0)
        return apisrv_store_err(s, rc, r->k, r->name, out);
    if (r->sub && !strcmp(r->sub, "scale")) {
        if (!apisrv_has_word(r->k->subresources, "scale")) {
            json_decref(obj);
            *out = apisrv_status(PROTO_ENOTFOUND, "the server could not find the requested "
                                                  "resource");
            return 404;
        }
        *out = apisrv_scale_of(r->k, obj);
        json_decref(obj);
        return 200;
    }
    if (s_wants_table(r)) {
        json_t *items = json_pack("[o]", obj);
        *out = s_table(r, items);
        json_decref(items);
        return 200;
    }
    *out = obj;
    return 200;
}

bool apisrv_get_raw(apisrv_t *s, const apisrv_rq_t *r, rt_req_t **req)
{
    if (r->sub || s_wants_table(r))
        return false;
    char *key = proto_key(r->k->resource, r->ns, r->name), *buf = NULL;
    size_t len = 0;
    int rc = store_get_bytes(s->st, key, &buf, &len);
    free(key);
    if (rc == 0)
        rt_reply_raw(s->a, req, 200, buf, len);
    free(buf);
    return rc == 0; /* NotFound and the rest: the tree path words them */
}

/* ---- list ----------------------------------------------------------------- */

static char *s_prefix(const apisrv_rq_t *r)
{
    char *p = NULL;
    if (r->k->namespaced && !*r->ns) {
        if (asprintf(&p, "%s/", r->k->resource) < 0)
            abort();
    } else if (asprintf(&p, "%s/%s/", r->k->resource, r->ns) < 0) {
        abort();
    }
    return p;
}

/* The continue token: base64 of {"k": next key, "rv": list revision}. */
static char *s_token_make(const char *next_key, uint64_t rev)
{
    json_t *t = json_pack("{s:s, s:I}", "k", next_key, "rv", (json_int_t)rev);
    char *js = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    char *tok = apisrv_b64_encode(js, strlen(js));
    free(js);
    return tok;
}

static char *s_token_parse(const char *tok, const char *prefix)
{
    size_t len = 0;
    char *raw = strlen(tok) < 4096 ? apisrv_b64_decode(tok, &len) : NULL;
    json_t *t = raw ? json_loadb(raw, len, 0, NULL) : NULL;
    free(raw);
    const char *k = json_string_value(json_object_get(t, "k"));
    char *key = k && !strncmp(k, prefix, strlen(prefix)) ? strdup(k) : NULL;
    json_decref(t);
    return key;
}

static json_t *s_list_object(const apisrv_rq_t *r, json_t *items, uint64_t rev,
                             const char *next_key)
{
    char av[64], kind[128], rv[32];
    snprintf(kind, sizeof kind, "%sList", r->k->kind);
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    json_t *md = json_pack("{s:s}", "resourceVersion", rv);
    if (next_key) {
        char *tok = s_token_make(next_key, rev);
        json_object_set_new(md, "continue", json_string(tok));
        free(tok);
    }
    if (s_wants_table(r)) {
        json_t *t = s_table(r, items);
        json_decref(items);
        json_object_set_new(t, "metadata", md);
        return t;
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "kind", kind, "apiVersion",
                     apisrv_api_version(r->k, av), "metadata", md, "items", items);
}

static int s_list_args(const apisrv_rq_t *r, const char *prefix, char **start, json_t **out)
{
    json_int_t lim = json_integer_value(json_object_get(r->body, "limit"));
    const char *cont = json_string_value(json_object_get(r->body, "continue"));
    if (lim > APISRV_MAX_LIST) {
        *out = apisrv_status(PROTO_EBADREQUEST, "limit must be at most %d", APISRV_MAX_LIST);
        return 400;
    }
    *start = NULL;
    if (cont && *cont && !(*start = s_token_parse(cont, prefix))) {
        *out = apisrv_status(PROTO_EBADREQUEST, "continue key is not valid: incorrect encoded "
                                                "start resourceVersion (version meta.k8s.io/v1)");
        return 400;
    }
    return 0;
}

int apisrv_op_list(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    char *prefix = s_prefix(r), *start = NULL, *next = NULL;
    apisrv_filter_t *f = NULL;
    int code = s_list_args(r, prefix, &start, out);
    if (!code)
        code = apisrv_filter_new(r, &f, out);
    if (code) {
        free(prefix);
        free(start);
        return code;
    }
    json_t *items = NULL;
    uint64_t rev = 0;
    size_t lim = (size_t)json_integer_value(json_object_get(r->body, "limit"));
    int rc = store_list(s->st, prefix, start, lim, apisrv_filter_keep, f, &items, &rev, &next);
    apisrv_filter_destroy(&f);
    free(prefix);
    free(start);
    if (rc < 0) {
        free(next);
        return apisrv_store_err(s, rc, r->k, "", out);
    }
    *out = s_list_object(r, items, rev, next);
    free(next);
    const char *stream = json_string_value(json_object_get(r->body, "stream"));
    if (stream)
        json_object_set_new(*out, "zkube",
                            json_pack("{s:s, s:I}", "epoch", s->epoch, "seq",
                                      (json_int_t)apisrv_stream_seq(s, stream)));
    return 200;
}

/* ---- list without decoding ------------------------------------------------- */

/* The items array is written with a 32-bit count patched after the scan. */
typedef struct s_raw_list {
    msgpack_sbuffer sb;
    size_t count_at; /* offset of the array32 count */
    uint32_t n;
} s_raw_list_t;

static int s_raw_item(const char *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    s_raw_list_t *l = arg;
    if (l->sb.size + vlen > PROTO_MAX_MSG)
        return PROTO_ETOOLARGE;
    proto_mp_sbuffer_write(&l->sb, val, vlen);
    l->n++;
    return 0;
}

static void s_raw_str(msgpack_packer *pk, const char *str)
{
    size_t n = strlen(str);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, str, n);
}

/* Map head, kind, apiVersion, then "items" with a placeholder count. The
 * metadata (it needs the revision) and zkube keys follow the items. */
static void s_raw_head(s_raw_list_t *l, msgpack_packer *pk, const apisrv_rq_t *r, bool stream)
{
    char av[64], kind[128];
    snprintf(kind, sizeof kind, "%sList", r->k->kind);
    msgpack_pack_map(pk, stream ? 5 : 4);
    s_raw_str(pk, "kind");
    s_raw_str(pk, kind);
    s_raw_str(pk, "apiVersion");
    s_raw_str(pk, apisrv_api_version(r->k, av));
    s_raw_str(pk, "items");
    static const char a32[5] = {(char)0xdd, 0, 0, 0, 0};
    l->count_at = l->sb.size + 1;
    proto_mp_sbuffer_write(&l->sb, a32, sizeof a32);
}

static void s_raw_tail(apisrv_t *s, s_raw_list_t *l, msgpack_packer *pk, const char *stream,
                       uint64_t rev, const char *next)
{
    unsigned char *c = (unsigned char *)l->sb.data + l->count_at;
    c[0] = (unsigned char)(l->n >> 24), c[1] = (unsigned char)(l->n >> 16);
    c[2] = (unsigned char)(l->n >> 8), c[3] = (unsigned char)l->n;
    char rv[32];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    json_t *md = json_pack("{s:s}", "resourceVersion", rv);
    if (next) {
        char *tok = s_token_make(next, rev);
        json_object_set_new(md, "continue", json_string(tok));
        free(tok);
    }
    s_raw_str(pk, "metadata");
    proto_mp_pack_into(pk, md, 1);
    json_decref(md);
    if (stream) {
        json_t *z = json_pack("{s:s, s:I}", "epoch", s->epoch, "seq",
                              (json_int_t)apisrv_stream_seq(s, stream));
        s_raw_str(pk, "zkube");
        proto_mp_pack_into(pk, z, 1);
        json_decref(z);
    }
}

static bool s_plain_list(const apisrv_rq_t *r)
{
    const char *ls = json_string_value(json_object_get(r->body, "labelSelector"));
    const char *fs = json_string_value(json_object_get(r->body, "fieldSelector"));
    return !(ls && *ls) && !(fs && *fs) && !s_wants_table(r);
}

bool apisrv_list_raw(apisrv_t *s, const apisrv_rq_t *r, rt_req_t **req)
{
    json_t *err = NULL;
    char *start = NULL, *next = NULL, *prefix = s_prefix(r);
    if (!s_plain_list(r) || s_list_args(r, prefix, &start, &err)) {
        json_decref(err);
        free(prefix);
        return false; /* the tree path answers (and words any error) */
    }
    const char *stream = json_string_value(json_object_get(r->body, "stream"));
    size_t lim = (size_t)json_integer_value(json_object_get(r->body, "limit"));
    s_raw_list_t l = {.n = 0};
    msgpack_packer pk;
    msgpack_sbuffer_init(&l.sb);
    msgpack_packer_init(&pk, &l.sb, proto_mp_sbuffer_write);
    s_raw_head(&l, &pk, r, stream != NULL);
    uint64_t rev = 0;
    int rc = store_list_raw(s->st, prefix, start, lim, s_raw_item, &l, &rev, &next);
    free(prefix);
    free(start);
    if (rc == 0) {
        s_raw_tail(s, &l, &pk, stream, rev, next);
        rt_reply_raw(s->a, req, 200, l.sb.data, l.sb.size);
    } else {
        json_t *out = NULL;
        int code = rc == PROTO_ETOOLARGE ? 413 : apisrv_store_err(s, rc, r->k, "", &out);
        if (!out)
            out = proto_status_new(PROTO_ETOOLARGE, "reply too large", NULL);
        rt_reply(s->a, req, code, out);
        json_decref(out);
    }
    free(next);
    msgpack_sbuffer_destroy(&l.sb);
    return true;
}

/* watchlog from the log's bytes: {events: [{type, object, rev}], rev}. */
static int s_raw_event(uint64_t rev, const char *type, size_t tlen, const char *key, size_t klen,
                       const void *obj, size_t olen, void *arg)
{
    (void)key;
    (void)klen;
    s_raw_list_t *l = arg;
    if (l->sb.size + olen + tlen + 64 > PROTO_MAX_MSG)
        return PROTO_ETOOLARGE;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &l->sb, proto_mp_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    s_raw_str(&pk, "type");
    msgpack_pack_str(&pk, tlen);
    msgpack_pack_str_body(&pk, type, tlen);
    s_raw_str(&pk, "object");
    proto_mp_sbuffer_write(&l->sb, obj, olen);
    s_raw_str(&pk, "rev");
    msgpack_pack_int64(&pk, (int64_t)rev);
    l->n++;
    return 0;
}

bool apisrv_watchlog_raw(apisrv_t *s, const apisrv_rq_t *r, rt_req_t **req)
{
    json_t *fromv = json_object_get(r->body, "from");
    json_int_t from = json_integer_value(fromv);
    json_int_t lim = json_integer_value(json_object_get(r->body, "limit"));
    if (!json_is_integer(fromv) || from < 0 || lim > APISRV_MAX_WATCH)
        return false;
    char *prefix = r->k ? s_prefix(r) : NULL;
    s_raw_list_t l = {.n = 0};
    msgpack_packer pk;
    msgpack_sbuffer_init(&l.sb);
    msgpack_packer_init(&pk, &l.sb, proto_mp_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    s_raw_str(&pk, "events");
    static const char a32[5] = {(char)0xdd, 0, 0, 0, 0};
    l.count_at = l.sb.size + 1;
    proto_mp_sbuffer_write(&l.sb, a32, sizeof a32);
    int rc = store_log_read_raw(s->st, (uint64_t)from, (size_t)lim, prefix, s_raw_event, &l);
    free(prefix);
    if (rc == 0) {
        unsigned char *c = (unsigned char *)l.sb.data + l.count_at;
        c[0] = (unsigned char)(l.n >> 24), c[1] = (unsigned char)(l.n >> 16);
        c[2] = (unsigned char)(l.n >> 8), c[3] = (unsigned char)l.n;
        s_raw_str(&pk, "rev");
        msgpack_pack_int64(&pk, (int64_t)store_rev(s->st));
        rt_reply_raw(s->a, req, 200, l.sb.data, l.sb.size);
    }
    msgpack_sbuffer_destroy(&l.sb);
    return rc == 0; /* errors: the tree path words them */
}

/* ---- watchlog, resources, version ---------------------------------------------- */

int apisrv_op_watchlog(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    json_t *fromv = json_object_get(r->body, "from");
    json_int_t from = json_integer_value(fromv);
    json_int_t lim = json_integer_value(json_object_get(r->body, "limit"));
    if (!json_is_integer(fromv) || from < 0 || lim > APISRV_MAX_WATCH) {
        *out = apisrv_status(PROTO_EBADREQUEST,
                             "invalid request: from must be a revision and "
                             "limit at most %d",
                             APISRV_MAX_WATCH);
        return 400;
    }
    char *prefix = NULL;
    if (r->k)
        prefix = s_prefix(r);
    json_t *events = NULL;
    int rc = store_log_read(s->st, (uint64_t)from, (size_t)lim, prefix, &events);
    free(prefix);
    if (rc == PROTO_EEXPIRED) {
        *out = apisrv_status(PROTO_EEXPIRED, "too old resource version: %lld (%llu)",
                             (long long)from, (unsigned long long)store_oldest_rev(s->st));
        return 410;
    }
    if (rc < 0) {
        *out = apisrv_status(PROTO_EINTERNAL, "storage error: %s", proto_strerror(rc));
        return 500;
    }
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) json_object_del(ev, "key");
    *out = json_pack("{s:o, s:I}", "events", events, "rev", (json_int_t)store_rev(s->st));
    return 200;
}

static json_t *s_words(const char *list)
{
    json_t *a = json_array();
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len)
            json_array_append_new(a, json_stringn(p, len));
        p = c ? c + 1 : p + len;
    }
    return a;
}

int apisrv_op_resources(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    (void)s;
    (void)r;
    json_t *list = json_array();
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (!proto_kind_is_stored(k) && !apisrv_has_word(k->verbs, "create"))
            continue; /* Scale is a subresource's body, not a resource */
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o}", "name",
                            k->resource, "singularName", k->singular, "kind", k->kind, "group",
                            k->group, "version", k->version, "namespaced", k->namespaced,
                            "shortNames", s_words(k->short_names), "verbs", s_words(k->verbs),
                            "categories", k->in_all ? json_pack("[s]", "all") : json_array(),
                            "subresources", s_words(k->subresources)));
    }
    *out = json_pack("{s:o}", "resources", list);
    return 200;
}

int apisrv_op_version(apisrv_t *s, const apisrv_rq_t *r, json_t **out)
{
    (void)s;
    (void)r;
    *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor", "32",
                     "gitVersion", "v1.32.0-zkube", "gitCommit", "", "gitTreeState", "clean",
                     "buildDate", __DATE__, "goVersion", "", "compiler", "cc", "platform",
                     "linux/amd64");
    return 200;
}
