/*
 * actors/apiserver/apply.c — server-side apply and managedFields, as
 * Kubernetes' apiserver keeps them (k8s.io/apiserver fieldmanager over
 * sigs.k8s.io/structured-merge-diff's Updater): entries are identified by
 * manager, operation, subresource and (for Update) apiVersion; an apply sets
 * its entry to exactly the configuration's fields, removes the fields it
 * stopped applying unless someone else owns them, and fails with 409 when
 * it would change a field another manager owns (unless forced, which moves
 * the field); every other write adds what it changed to its Update entry
 * and takes those fields from everyone else. Entries left empty disappear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/apiserver/apply.h"
#include "actors/apiserver/internal.h"
#include "protocol/fieldset.h"
#include "protocol/obj.h"
#include "protocol/status.h"

/* ---- entries ------------------------------------------------------------------ */

/* An entry in memory: {manager, operation, apiVersion, time?, subresource?,
 * set} with set canonical. */
static json_t *s_entry(const char *manager, const char *op, const char *av, const char *sub,
                       json_t *set)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:o}", "manager", manager, "operation", op, "apiVersion",
                          av ? av : "v1", "set", set);
    if (sub && *sub)
        json_object_set_new(e, "subresource", json_string(sub));
    return e;
}

static const char *s_str(const json_t *e, const char *f)
{
    const char *s = json_string_value(json_object_get(e, f));
    return s ? s : "";
}

/* metadata.managedFields into entries; NULL when it does not decode.
 * trusted: mf is the stored object's, written by s_encode, so its sets are
 * canonical already and are kept as they are ("orig"), which lets s_encode
 * reuse the ones a write leaves alone. */
static json_t *s_decode(const json_t *mf, bool trusted)
{
    json_t *ents = json_array();
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)mf, i, e)
    {
        const char *m = json_string_value(json_object_get(e, "manager"));
        const char *op = json_string_value(json_object_get(e, "operation"));
        const char *ft = json_string_value(json_object_get(e, "fieldsType"));
        json_t *set = NULL;
        bool ok = json_is_object(e) && m && op && (!strcmp(op, "Apply") || !strcmp(op, "Update"));
        ok = ok && (!ft || !strcmp(ft, "FieldsV1"));
        json_t *f = json_object_get(e, "fieldsV1");
        if (ok && !f)
            set = json_object();
        else if (ok && trusted && json_is_object(f))
            set = json_incref(f);
        else if (ok)
            ok = proto_fs_decode(f, &set, NULL, 0) == 0;
        if (!ok) {
            json_decref(set);
            json_decref(ents);
            return NULL;
        }
        json_t *n = s_entry(m, op, s_str(e, "apiVersion"), s_str(e, "subresource"), set);
        json_t *t = json_object_get(e, "time");
        if (json_is_string(t))
            json_object_set(n, "time", t);
        if (trusted)
            json_object_set(n, "orig", set);
        json_array_append_new(ents, n);
    }
    return ents;
}

static bool s_same_id(const json_t *e, const char *m, const char *op, const char *sub,
                      const char *av)
{
    return !strcmp(s_str(e, "manager"), m) && !strcmp(s_str(e, "operation"), op) &&
           !strcmp(s_str(e, "subresource"), sub ? sub : "") &&
           (!av || !strcmp(s_str(e, "apiVersion"), av));
}

static json_t *s_find(json_t *ents, const char *m, const char *op, const char *sub, const char *av)
{
    size_t i;
    json_t *e;
    json_array_foreach(ents, i, e)
    {
        if (s_same_id(e, m, op, sub, av))
            return e;
    }
    return NULL;
}

static void s_set_replace(json_t *e, json_t *set)
{
    json_object_set_new(e, "set", set);
}

/* Kubernetes' order: operation, time, manager, apiVersion, subresource. */
static int s_cmp_entries(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    static const char *const f[] = {"operation", "time", "manager", "apiVersion", "subresource"};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        int c = strcmp(s_str(a, f[i]), s_str(b, f[i]));
        if (c)
            return c;
    }
    return 0;
}

static int s_cmp_age(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int c = strcmp(s_str(a, "time"), s_str(b, "time"));
    return c ? c : strcmp(s_str(a, "manager"), s_str(b, "manager"));
}

/* At most APISRV_MAX_UPDATERS Update entries, as Kubernetes caps them
 * (capManagersManager): oldest first, an entry is merged into the
 * "ancient-changes" entry of its apiVersion, which the first entry of that
 * version seen becomes. */
static void s_cap_updaters(json_t *ents)
{
    size_t n = 0, i;
    json_t *e, **ups = calloc(json_array_size(ents) + 1, sizeof *ups);
    if (!ups)
        abort();
    json_array_foreach(ents, i, e)
    {
        if (!strcmp(s_str(e, "operation"), "Update") && !proto_fs_empty(json_object_get(e, "set")))
            ups[n++] = e;
    }
    qsort(ups, n, sizeof *ups, s_cmp_age);
    json_t *first = json_object(); /* apiVersion -> bucket */
    for (i = 0; i < n; i++)
        if (!strcmp(s_str(ups[i], "manager"), "ancient-changes") && !*s_str(ups[i], "subresource"))
            json_object_set(first, s_str(ups[i], "apiVersion"), ups[i]);
    for (size_t len = n, j = 0; j < n && len > APISRV_MAX_UPDATERS; j++) {
        json_t *b = json_object_get(first, s_str(ups[j], "apiVersion"));
        if (b == ups[j])
            continue;
        if (!b) {
            json_object_set(first, s_str(ups[j], "apiVersion"), ups[j]);
            continue;
        }
        json_object_set_new(b, "manager", json_string("ancient-changes"));
        json_object_del(b, "subresource");
        s_set_replace(b, proto_fs_union(json_object_get(b, "set"), json_object_get(ups[j], "set")));
        json_object_set(b, "time", json_object_get(ups[j], "time"));
        s_set_replace(ups[j], json_object()); /* empty: dropped by s_encode */
        len--;
    }
    json_decref(first);
    free(ups);
}

/* Writes the non-empty entries into obj's metadata.managedFields. */
static void s_encode(json_t *obj, json_t *ents)
{
    s_cap_updaters(ents);
    size_t n = json_array_size(ents), m = 0;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!proto_fs_empty(json_object_get(json_array_get(ents, i), "set")))
            v[m++] = json_array_get(ents, i);
    qsort(v, m, sizeof *v, s_cmp_entries);
    json_t *mf = json_array();
    for (size_t i = 0; i < m; i++) {
        json_t *e = json_pack("{s:s, s:s, s:s}", "manager", s_str(v[i], "manager"), "operation",
                              s_str(v[i], "operation"), "apiVersion", s_str(v[i], "apiVersion"));
        if (*s_str(v[i], "time"))
            json_object_set(e, "time", json_object_get(v[i], "time"));
        json_object_set_new(e, "fieldsType", json_string("FieldsV1"));
        json_t *set = json_object_get(v[i], "set");
        if (set == json_object_get(v[i], "orig"))
            json_object_set(e, "fieldsV1", set); /* untouched: stored sets are immutable */
        else
            json_object_set_new(e, "fieldsV1", proto_fs_encode(set));
        if (*s_str(v[i], "subresource"))
            json_object_set(e, "subresource", json_object_get(v[i], "subresource"));
        json_array_append_new(mf, e);
    }
    free(v);
    if (json_array_size(mf))
        proto_obj_set(obj, "metadata.managedFields", mf);
    else {
        json_decref(mf);
        proto_obj_del(obj, "metadata.managedFields");
    }
}

static void s_touch(json_t *e)
{
    char now[32];
    proto_now_rfc3339(now);
    json_object_set_new(e, "time", json_string(now));
}

/* ---- what field sets leave out ------------------------------------------------- */

/* Fields the server owns never appear in a set (Kubernetes' strip set), nor
 * the fields the request cannot change (status on the main resource of a
 * kind with a status subresource, everything but status on status). */
static void s_strip(json_t *set, const proto_kind_t *k, const char *sub)
{
    static const char *const meta[] = {
        "f:name",        "f:namespace",  "f:creationTimestamp", "f:selfLink",        "f:uid",
        "f:clusterName", "f:generation", "f:managedFields",     "f:resourceVersion", "."};
    json_object_del(set, "f:apiVersion");
    json_object_del(set, "f:kind");
    json_t *md = json_object_get(set, "f:metadata");
    for (size_t i = 0; md && i < sizeof meta / sizeof meta[0]; i++)
        json_object_del(md, meta[i]);
    if (md && json_object_size(md) == 0)
        json_object_del(set, "f:metadata");
    if (sub && !strcmp(sub, "status")) {
        json_t *st = json_incref(json_object_get(set, "f:status"));
        json_object_clear(set);
        if (st)
            json_object_set_new(set, "f:status", st);
    } else if (apisrv_has_word(k->subresources, "status")) {
        json_object_del(set, "f:status");
    }
}

/* What Kubernetes compares a created object with: the zero value of its Go
 * type as its unstructured converter writes it — struct fields (even
 * omitempty ones) are there, so a create does not count them as added and
 * they get no "." of their own. Kinds not listed have metadata and spec. */
#define S_TPL "{\"metadata\":{},\"spec\":{\"containers\":[]}}"
static const struct {
    const char *kind;
    const char *zero;
} s_zero[] = {
    {"Pod", "{\"spec\":{\"containers\":[]}}"},
    {"PodTemplate", "{\"template\":" S_TPL "}"},
    {"ReplicaSet", "{\"spec\":{\"template\":" S_TPL "}}"},
    {"Deployment", "{\"spec\":{\"strategy\":{},\"template\":" S_TPL "}}"},
    {"DaemonSet", "{\"spec\":{\"updateStrategy\":{},\"template\":" S_TPL "}}"},
    {"StatefulSet", "{\"spec\":{\"updateStrategy\":{},\"template\":" S_TPL "}}"},
    {"Job", "{\"spec\":{\"template\":" S_TPL "}}"},
    {"CronJob", "{\"spec\":{\"jobTemplate\":{\"metadata\":{},\"spec\":{\"template\":" S_TPL "}}}}"},
    {"ConfigMap", "{}"},
    {"Secret", "{}"},
    {"Endpoints", "{}"},
    {"Event", "{}"},
    {"ServiceAccount", "{}"},
};

static json_t *s_empty_like(const proto_kind_t *k, const json_t *obj)
{
    json_t *e = NULL;
    for (size_t i = 0; !e && i < sizeof s_zero / sizeof s_zero[0]; i++)
        if (!strcmp(s_zero[i].kind, k->kind))
            e = json_loads(s_zero[i].zero, 0, NULL);
    if (!e) {
        e = json_object();
        if (json_is_object(json_object_get(obj, "spec")))
            json_object_set_new(e, "spec", json_object());
    }
    json_object_set_new(e, "metadata", json_object());
    if (json_is_object(json_object_get(obj, "status")))
        json_object_set_new(e, "status", json_object());
    return e;
}

/* A shallow view of obj with only what the write may change (s_strip's
 * rule), so that the comparison does not walk what it would drop. */
static json_t *s_view(const proto_kind_t *k, const json_t *obj, const char *sub)
{
    if (sub && !strcmp(sub, "status")) {
        json_t *st = json_object_get(obj, "status");
        return st ? json_pack("{s:O}", "status", st) : json_object();
    }
    json_t *v = json_copy((json_t *)obj);
    if (apisrv_has_word(k->subresources, "status"))
        json_object_del(v, "status");
    return v;
}

static void s_compare(const proto_kind_t *k, const json_t *old, const json_t *obj, const char *sub,
                      json_t **ch, json_t **rm)
{
    json_t *base = old ? NULL : s_empty_like(k, obj);
    json_t *l = s_view(k, old ? old : base, sub), *r = s_view(k, obj, sub);
    proto_fs_compare(l, r, k->kind, ch, rm);
    json_decref(l);
    json_decref(r);
    json_decref(base);
    s_strip(*ch, k, sub);
    if (rm)
        s_strip(*rm, k, sub);
}

/* Takes set away from every entry but keep. */
static void s_take(json_t *ents, const json_t *set, const json_t *keep)
{
    if (proto_fs_empty(set))
        return;
    size_t i;
    json_t *e;
    json_array_foreach(ents, i, e)
    {
        json_t *have = json_object_get(e, "set");
        if (e != keep && proto_fs_intersects(have, set))
            s_set_replace(e, proto_fs_difference(have, set));
    }
}

/* ---- Update ------------------------------------------------------------------------ */

static bool s_is_reset(const json_t *mf)
{
    return json_array_size(mf) == 1 && json_is_object(json_array_get(mf, 0)) &&
           json_object_size(json_array_get(mf, 0)) == 0;
}

/* The entries a write starts from: the request's when it sets some (on the
 * main resource), else the stored object's. */
static json_t *s_start(const json_t *old, const json_t *obj, const char *sub)
{
    json_t *mf = proto_obj_get(obj, "metadata.managedFields");
    json_t *omf = old ? proto_obj_get(old, "metadata.managedFields") : NULL;
    json_t *ents = NULL;
    if (!sub && json_array_size(mf))
        ents = s_decode(mf, omf && (mf == omf || json_equal(mf, omf)));
    if (!ents && omf)
        ents = s_decode(omf, true);
    return ents ? ents : json_array();
}

void apisrv_track_update(const proto_kind_t *k, const json_t *old, json_t *obj, const char *manager,
                         const char *sub)
{
    if (s_is_reset(proto_obj_get(obj, "metadata.managedFields"))) {
        proto_obj_del(obj, "metadata.managedFields");
        return;
    }
    json_t *ents = s_start(old, obj, sub);
    json_t *ch = NULL, *rm = NULL;
    s_compare(k, old, obj, sub, &ch, &rm);
    const char *av = s_str(obj, "apiVersion");
    json_t *self = s_find(ents, manager, "Update", sub, av);
    /* (self − changed) ∪ changed is self ∪ changed: self keeps its set
     * untouched (and encoded as it was) when it owns the changes already */
    s_take(ents, ch, self);
    s_take(ents, rm, NULL);
    if (!proto_fs_empty(ch)) {
        json_t *have = self ? json_object_get(self, "set") : NULL;
        if (self && !proto_fs_covers(have, ch))
            s_set_replace(self, proto_fs_union(have, ch));
        else if (!self)
            json_array_append_new(ents,
                                  self = s_entry(manager, "Update", av, sub, json_incref(ch)));
        s_touch(self);
    }
    s_encode(obj, ents);
    json_decref(ch);
    json_decref(rm);
    json_decref(ents);
}

/* ---- Apply -------------------------------------------------------------------------- */

/* `"kubectl"`, `"kubelet" with subresource "status"`, `"x" using v1`. */
static void s_print_manager(const json_t *e, char *buf, size_t len)
{
    int n = snprintf(buf, len, "\"%s\"", s_str(e, "manager"));
    if (*s_str(e, "subresource") && n >= 0 && (size_t)n < len)
        n +=
            snprintf(buf + n, len - (size_t)n, " with subresource \"%s\"", s_str(e, "subresource"));
    if (!strcmp(s_str(e, "operation"), "Update") && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " using %s", s_str(e, "apiVersion"));
}

/* The 409 of Kubernetes' fieldmanager (NewConflictError). conflicts is
 * [[entry, set]], sorted by manager. */
static json_t *s_conflict_status(const json_t *conflicts)
{
    size_t total = 0, i;
    json_t *c, *causes = json_array(), *lines = json_array();
    char who[400];
    json_array_foreach((json_t *)conflicts, i, c)
    {
        s_print_manager(json_array_get(c, 0), who, sizeof who);
        json_t *paths = proto_fs_paths(json_array_get(c, 1));
        json_array_append_new(lines, json_sprintf("conflicts with %s:", who));
        size_t j;
        json_t *p;
        json_array_foreach(paths, j, p)
        {
            json_array_append_new(causes,
                                  json_pack("{s:s, s:s+, s:O}", "type", "FieldManagerConflict",
                                            "message", "conflict with ", who, "field", p));
            json_array_append_new(lines, json_sprintf("- %s", json_string_value(p)));
            total++;
        }
        json_decref(paths);
    }
    char *msg = NULL;
    if (total == 1) {
        json_t *c0 = json_array_get(causes, 0);
        if (asprintf(&msg, "Apply failed with 1 conflict: %s: %s", s_str(c0, "message"),
                     s_str(c0, "field")) < 0)
            abort();
    } else {
        size_t len = 64;
        json_array_foreach(lines, i, c) len += json_string_length(c) + 1;
        msg = malloc(len);
        if (!msg)
            abort();
        int n = snprintf(msg, len, "Apply failed with %zu conflicts: ", total);
        json_array_foreach(lines, i, c) n +=
            snprintf(msg + n, len - (size_t)n, "%s%s", i ? "\n" : "", json_string_value(c));
    }
    json_t *st = proto_status_new(PROTO_ECONFLICT, msg, json_pack("{s:o}", "causes", causes));
    free(msg);
    json_decref(lines);
    return st;
}

static int s_cmp_conflicts(const void *pa, const void *pb)
{
    const json_t *a = json_array_get(*(json_t *const *)pa, 0);
    const json_t *b = json_array_get(*(json_t *const *)pb, 0);
    int c = strcmp(s_str(a, "manager"), s_str(b, "manager"));
    return c ? c : strcmp(s_str(a, "operation"), s_str(b, "operation"));
}

/* [[entry, fields]] of the other managers that own fields of changed. */
static json_t *s_conflicts(json_t *ents, const json_t *self, const json_t *changed)
{
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(ents, i, e)
    {
        if (e == self)
            continue;
        json_t *c = proto_fs_intersection(json_object_get(e, "set"), changed);
        if (proto_fs_empty(c))
            json_decref(c);
        else
            json_array_append_new(out, json_pack("[O, o]", e, c));
    }
    size_t n = json_array_size(out);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        abort();
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(out, i));
    qsort(v, n, sizeof *v, s_cmp_conflicts);
    json_array_clear(out);
    for (i = 0; i < n; i++)
        json_array_append_new(out, v[i]);
    free(v);
    return out;
}

/* Removes from merged the fields self applied last time and nobody owns now. */
static void s_prune(json_t *merged, const proto_kind_t *k, const json_t *ents, const json_t *last)
{
    if (proto_fs_empty(last))
        return;
    json_t *all = json_object();
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)ents, i, e)
    {
        json_t *u = proto_fs_union(all, json_object_get(e, "set"));
        json_decref(all);
        all = u;
    }
    json_t *nl = proto_fs_named_members(last), *na = proto_fs_named_members(all);
    json_t *gone = proto_fs_difference(nl, na);
    proto_fs_remove(merged, gone, k->kind);
    json_decref(gone);
    json_decref(nl);
    json_decref(na);
    json_decref(all);
}

/* The entries of old; an object never managed before is owned by
 * "before-first-apply" (Kubernetes' skipNonAppliedManager). */
static json_t *s_apply_start(const proto_kind_t *k, const json_t *old)
{
    json_t *ents = old ? s_decode(proto_obj_get(old, "metadata.managedFields"), true) : NULL;
    if (!ents)
        ents = json_array();
    if (old && json_array_size(ents) == 0) {
        json_t *ch = NULL;
        s_compare(k, NULL, old, NULL, &ch, NULL);
        json_array_append_new(
            ents, s_entry("before-first-apply", "Update", s_str(old, "apiVersion"), NULL, ch));
    }
    return ents;
}

static int s_bad(json_t **out, const char *fmt, const char *arg)
{
    char msg[1200];
    snprintf(msg, sizeof msg, fmt, arg);
    *out = proto_status_new(PROTO_EBADREQUEST, msg, NULL);
    return 400;
}

/* The converted configuration and its field set; 0 or an HTTP code. */
static int s_config(const proto_kind_t *k, const json_t *config, const char *sub, json_t **cfg,
                    json_t **set, json_t **out)
{
    char err[1024] = "";
    if (!json_is_object(config))
        return s_bad(out, "%s", "the apply configuration must be a map");
    if (proto_obj_get(config, "metadata.managedFields"))
        return s_bad(out, "%s", "metadata.managedFields must be nil");
    *cfg = json_deep_copy(config);
    int code = apisrv_convert(k, *cfg, out);
    if (!code && proto_fs_of_object(*cfg, k->kind, set, err, sizeof err) < 0)
        code = s_bad(out, "failed to create typed patch object: %s", err);
    if (code) {
        json_decref(*cfg);
        *cfg = NULL;
        return code;
    }
    s_strip(*set, k, sub);
    return 0;
}

/* Merges cfg into a copy of old (without managedFields); 0 or 400. */
static int s_merged(const proto_kind_t *k, const json_t *old, const json_t *cfg, json_t **merged,
                    json_t **out)
{
    char err[1024] = "";
    *merged = old ? json_deep_copy(old) : json_object();
    proto_obj_del(*merged, "metadata.managedFields");
    if (proto_fs_merge(*merged, cfg, k->kind, err, sizeof err) < 0) {
        json_decref(*merged);
        *merged = NULL;
        return s_bad(out, "failed to merge the apply configuration: %s", err);
    }
    return 0;
}

/* Ownership after the apply: conflicts (409 unless forced), then the
 * changed and removed fields leave the other entries. */
static int s_settle(const proto_kind_t *k, const json_t *old, const json_t *merged, json_t *ents,
                    json_t *self, bool force, const char *sub, json_t **out)
{
    if (!old)
        return 0;
    json_t *ch = NULL, *rm = NULL;
    s_compare(k, old, merged, sub, &ch, &rm);
    json_t *conf = s_conflicts(ents, self, ch);
    int code = 0;
    if (json_array_size(conf) && !force) {
        *out = s_conflict_status(conf);
        code = 409;
    } else {
        s_take(ents, ch, self);
        s_take(ents, rm, self);
        if (!proto_fs_empty(ch) || !proto_fs_empty(rm))
            s_touch(self);
    }
    json_decref(conf);
    json_decref(ch);
    json_decref(rm);
    return code;
}

int apisrv_apply(const proto_kind_t *k, const json_t *old, const json_t *config,
                 const char *manager, bool force, const char *sub, json_t **out)
{
    json_t *cfg = NULL, *set = NULL, *merged = NULL;
    int code = s_config(k, config, sub, &cfg, &set, out);
    if (!code)
        code = s_merged(k, old, cfg, &merged, out);
    if (code) {
        json_decref(cfg);
        json_decref(set);
        return code;
    }
    json_t *ents = s_apply_start(k, old);
    json_t *self = s_find(ents, manager, "Apply", sub, NULL);
    json_t *last = self ? json_incref(json_object_get(self, "set")) : NULL;
    if (!self) {
        json_array_append_new(
            ents, self = s_entry(manager, "Apply", s_str(cfg, "apiVersion"), sub, json_object()));
        s_touch(self);
    }
    json_object_set_new(self, "apiVersion", json_string(s_str(cfg, "apiVersion")));
    s_set_replace(self, set);
    s_prune(merged, k, ents, last);
    code = s_settle(k, old, merged, ents, self, force, sub, out);
    if (!code) {
        s_encode(merged, ents);
        *out = merged;
    } else {
        json_decref(merged);
    }
    json_decref(last);
    json_decref(ents);
    json_decref(cfg);
    return code;
}

bool apisrv_fm_wanted(const json_t *body, const json_t *old, const json_t *obj)
{
    const char *m = json_string_value(json_object_get(body, "fieldManager"));
    return (m && *m) || json_array_size(proto_obj_get(old, "metadata.managedFields")) > 0 ||
           json_array_size(proto_obj_get(obj, "metadata.managedFields")) > 0;
}

bool apisrv_apply_noop(const json_t *old, const json_t *n)
{
    return old && n && json_equal(old, n);
}

/* ---- manager names -------------------------------------------------------------------- */

static char s_client[APISRV_MANAGER_MAX + 1];

void apisrv_fm_client(const char *src)
{
    snprintf(s_client, sizeof s_client, "%s", src ? src : "");
}

const char *apisrv_fm_name(const json_t *body, char buf[APISRV_MANAGER_MAX + 1])
{
    const char *m = json_string_value(json_object_get(body, "fieldManager"));
    if (m && *m) {
        snprintf(buf, APISRV_MANAGER_MAX + 1, "%s", m);
        return buf;
    }
    if (!s_client[0]) {
        snprintf(buf, APISRV_MANAGER_MAX + 1, "unknown");
        return buf;
    }
    /* "zkubectl-4711" is the process zkubectl: the pid is not the manager */
    snprintf(buf, APISRV_MANAGER_MAX + 1, "%s", s_client);
    char *dash = strrchr(buf, '-');
    if (dash && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1))
        *dash = 0;
    return buf;
}
