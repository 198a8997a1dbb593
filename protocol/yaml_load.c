/*
 * protocol/yaml_load — manifests (YAML streams or JSON texts) into jansson
 * trees, read the way kubectl reads them (sigs.k8s.io/yaml over go-yaml
 * v2), so that a manifest means the same thing here as on Kubernetes.
 *
 * libyaml's event parser drives a small stack of open containers; scalars
 * resolve through proto_yaml_resolve. Aliases are deep copies (objects stay
 * independent trees for the code that mutates them), charged against an
 * expansion budget so that "billion laughs" ends with an error, not with
 * the memory of the machine. Merge keys (<<) follow the YAML spec: keys of
 * the mapping itself win, then earlier merged maps. Keys that are not
 * strings become their JSON text as sigs.k8s.io/yaml makes them (1 -> "1",
 * y -> "true"). A key given twice is refused, as kubectl's strict field
 * validation refuses it (go-yaml alone would keep the last).
 */
#include "protocol/manifest.h"

#include "protocol/codec.h"
#include "protocol/status.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Nodes that alias expansion may create in one stream (a real manifest
 * uses a few hundred; an attack would need billions). */
#define S_ALIAS_BUDGET 200000

typedef struct s_frame {
    json_t *node;   /* the container being built */
    char *anchor;   /* registered when the container ends */
    char *key;      /* a mapping's pending key (NULL: expecting a key) */
    bool key_merge; /* the pending key is "<<" */
    yaml_mark_t key_mark;
    json_t *merges; /* maps named by "<<", applied when the mapping ends */
} s_frame_t;

typedef struct s_ld {
    yaml_parser_t parser;
    const char *name;
    char *err;
    size_t errlen;
    s_frame_t st[PROTO_MAX_DEPTH];
    int depth;
    json_t *anchors; /* anchor name -> node, for the current document */
    json_t *root;
    long budget;
    json_t *docs;
} s_ld_t;

static int s_err(s_ld_t *ld, yaml_mark_t m, const char *fmt, ...)
{
    if (ld->err && ld->errlen) {
        int n = snprintf(ld->err, ld->errlen, "%s:%zu:%zu: ", ld->name, m.line + 1, m.column + 1);
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < ld->errlen)
            vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return PROTO_EBADREQUEST;
}

/* ------------------------------------------------------------ scalars */

static const char *s_tag_suffix(const char *tag)
{
    static const char core[] = "tag:yaml.org,2002:";
    if (tag && strncmp(tag, core, sizeof core - 1) == 0)
        return tag + sizeof core - 1;
    return NULL;
}

/* Tags go-yaml resolves; any other (!!str, !!binary, !!timestamp, local
 * tags) leaves the scalar as its text. */
static bool s_resolvable(const char *t)
{
    static const char *const r[] = {"int", "float", "bool", "null", "merge", "map", "seq"};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (!strcmp(t, r[i]))
            return true;
    return false;
}

static bool s_kind_fits(const char *t, proto_ykind_t k)
{
    return (strcmp(t, "int") == 0 && k == PROTO_Y_INT) ||
           (strcmp(t, "float") == 0 && (k == PROTO_Y_FLOAT || k == PROTO_Y_INT)) ||
           (strcmp(t, "bool") == 0 && k == PROTO_Y_BOOL) ||
           (strcmp(t, "null") == 0 && k == PROTO_Y_NULL) ||
           (strcmp(t, "merge") == 0 && k == PROTO_Y_MERGE);
}

/* The value of a scalar event; *merge when it is the merge key "<<". */
static int s_scalar_value(s_ld_t *ld, const yaml_event_t *ev, json_t **out, bool *merge)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag, *t = s_tag_suffix(tag);
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    *merge = false;
    if ((!tag && !plain) || (tag && !t) || (t && !s_resolvable(t))) {
        *out = json_stringn(s, n); /* quoted, !!str, or a tag go-yaml keeps as text */
        return 0;
    }
    if (t && (!strcmp(t, "map") || !strcmp(t, "seq")))
        return s_err(ld, ev->start_mark, "cannot decode !!%s from a scalar", t);
    proto_ykind_t k = proto_yaml_resolve(s, n, out);
    if (t && !s_kind_fits(t, k)) {
        json_decref(*out);
        *out = NULL;
        return s_err(ld, ev->start_mark, "cannot decode !!%s `%.*s`", t, (int)(n > 40 ? 40 : n), s);
    }
    if (t && !strcmp(t, "float") && json_is_integer(*out)) {
        json_t *r = json_real((double)json_integer_value(*out));
        json_decref(*out);
        *out = r;
    }
    if (!*out)
        return s_err(ld, ev->start_mark, "%.*s cannot be represented in JSON", (int)n, s);
    *merge = k == PROTO_Y_MERGE;
    return 0;
}

/* ------------------------------------------------------------ aliases */

/* Deep copy of an anchored node at nesting depth, charged to the budget. */
static json_t *s_copy(s_ld_t *ld, const json_t *v, int depth, yaml_mark_t m, int *rc)
{
    if (--ld->budget < 0) {
        *rc = s_err(ld, m, "alias expansion exceeds %d nodes", S_ALIAS_BUDGET);
        return NULL;
    }
    if (!json_is_object(v) && !json_is_array(v))
        return json_copy((json_t *)v);
    if (depth >= PROTO_MAX_DEPTH) {
        *rc = s_err(ld, m, "nesting deeper than %d", PROTO_MAX_DEPTH);
        return NULL;
    }
    json_t *c = json_is_object(v) ? json_object() : json_array();
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            json_t *y = s_copy(ld, x, depth + 1, m, rc);
            if (!y || json_object_set_new(c, k, y) != 0)
                goto fail;
        }
        return c;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *y = s_copy(ld, json_array_get(v, i), depth + 1, m, rc);
        if (!y || json_array_append_new(c, y) != 0)
            goto fail;
    }
    return c;
fail:
    json_decref(c);
    return NULL;
}

/* ------------------------------------------------------------ building */

/* A mapping key as sigs.k8s.io/yaml turns it into a JSON key. */
static int s_key_text(s_ld_t *ld, json_t *v, yaml_mark_t m, char **out)
{
    char tmp[64];
    const char *s = tmp;
    size_t n;
    if (json_is_string(v)) {
        s = json_string_value(v);
        n = json_string_length(v);
        if (memchr(s, 0, n))
            return s_err(ld, m, "mapping key contains a NUL character");
    } else if (json_is_integer(v)) {
        n = (size_t)snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_boolean(v)) {
        n = (size_t)snprintf(tmp, sizeof tmp, "%s", json_is_true(v) ? "true" : "false");
    } else if (json_is_real(v)) {
        n = (size_t)snprintf(tmp, sizeof tmp, "%g", json_real_value(v));
    } else if (json_is_null(v)) {
        return s_err(ld, m, "mapping key null is not supported");
    } else {
        return s_err(ld, m, "mapping key is not a scalar");
    }
    *out = strndup(s, n);
    return 0;
}

static int s_merge_add(s_ld_t *ld, s_frame_t *f, json_t *v, yaml_mark_t m)
{
    bool ok = json_is_object(v) || json_is_array(v);
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
        ok = ok && json_is_object(json_array_get(v, i));
    if (!ok) {
        json_decref(v);
        return s_err(ld, m, "map merge requires map or sequence of maps as the value");
    }
    if (!f->merges)
        f->merges = json_array();
    if (json_is_object(v)) {
        json_array_append_new(f->merges, v);
    } else {
        json_array_extend(f->merges, v);
        json_decref(v);
    }
    return 0;
}

/* Places a finished value (stolen) into the open container or as root. */
static int s_attach(s_ld_t *ld, json_t *v, bool merge, yaml_mark_t m)
{
    if (ld->depth == 0) {
        json_decref(ld->root);
        ld->root = v;
        return 0;
    }
    s_frame_t *f = &ld->st[ld->depth - 1];
    if (json_array_size(f->node) >= PROTO_MAX_ITEMS ||
        json_object_size(f->node) >= PROTO_MAX_ITEMS) {
        json_decref(v);
        return s_err(ld, m, "more than %u items in one collection", PROTO_MAX_ITEMS);
    }
    if (json_is_array(f->node))
        return json_array_append_new(f->node, v), 0;
    if (!f->key) {
        int rc = s_key_text(ld, v, m, &f->key);
        f->key_merge = merge;
        f->key_mark = m;
        json_decref(v);
        return rc;
    }
    char *key = f->key;
    f->key = NULL;
    int rc = 0;
    if (f->key_merge)
        rc = s_merge_add(ld, f, v, m);
    else if (json_object_get(f->node, key))
        rc = s_err(ld, f->key_mark, "key \"%s\" already set in map", key), json_decref(v);
    else
        json_object_set_new(f->node, key, v);
    free(key);
    return rc;
}

static int s_open(s_ld_t *ld, const yaml_event_t *ev, bool map)
{
    if (ld->depth >= PROTO_MAX_DEPTH)
        return s_err(ld, ev->start_mark, "nesting deeper than %d", PROTO_MAX_DEPTH);
    const yaml_char_t *anchor =
        map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    s_frame_t *f = &ld->st[ld->depth++];
    memset(f, 0, sizeof *f);
    f->node = map ? json_object() : json_array();
    f->anchor = anchor ? strdup((const char *)anchor) : NULL;
    return 0;
}

/* Keys of the mapping itself win over merged ones; earlier merges win. */
static void s_apply_merges(s_frame_t *f)
{
    for (size_t i = 0; i < json_array_size(f->merges); i++) {
        const char *k;
        json_t *x;
        json_object_foreach(json_array_get(f->merges, i), k, x)
        {
            if (!json_object_get(f->node, k))
                json_object_set(f->node, k, x);
        }
    }
}

static void s_frame_free(s_frame_t *f)
{
    json_decref(f->node);
    json_decref(f->merges);
    free(f->anchor);
    free(f->key);
    memset(f, 0, sizeof *f);
}

static int s_close(s_ld_t *ld, const yaml_event_t *ev)
{
    s_frame_t f = ld->st[--ld->depth];
    memset(&ld->st[ld->depth], 0, sizeof f);
    if (f.key) {
        s_frame_free(&f);
        return s_err(ld, ev->start_mark, "mapping key without a value");
    }
    s_apply_merges(&f);
    if (f.anchor)
        json_object_set(ld->anchors, f.anchor, f.node);
    json_t *node = f.node;
    f.node = NULL;
    s_frame_free(&f);
    return s_attach(ld, node, false, ev->start_mark);
}

/* ------------------------------------------------------------ documents */

/* Appends a document root (stolen), expanding List kinds into items. */
static void s_add_doc(json_t *docs, json_t *root)
{
    const char *kind = json_string_value(json_object_get(root, "kind"));
    json_t *items = json_object_get(root, "items");
    size_t kl = kind ? strlen(kind) : 0;
    bool list = kind && (strcmp(kind, "List") == 0 ||
                         (kl > 4 && strcmp(kind + kl - 4, "List") == 0 && json_is_array(items)));
    if (!root || json_is_null(root)) {
        json_decref(root);
        return;
    }
    if (list && json_is_array(items))
        json_array_extend(docs, items);
    else if (!list)
        json_array_append(docs, root);
    json_decref(root);
}

static int s_event(s_ld_t *ld, yaml_event_t *ev)
{
    json_t *v = NULL;
    bool merge = false;
    int rc;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        json_object_clear(ld->anchors);
        json_decref(ld->root);
        ld->root = NULL;
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        s_add_doc(ld->docs, ld->root);
        ld->root = NULL;
        return 0;
    case YAML_MAPPING_START_EVENT:
        return s_open(ld, ev, true);
    case YAML_SEQUENCE_START_EVENT:
        return s_open(ld, ev, false);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        return s_close(ld, ev);
    case YAML_SCALAR_EVENT:
        if ((rc = s_scalar_value(ld, ev, &v, &merge)) != 0)
            return rc;
        if (ev->data.scalar.anchor)
            json_object_set(ld->anchors, (const char *)ev->data.scalar.anchor, v);
        return s_attach(ld, v, merge, ev->start_mark);
    case YAML_ALIAS_EVENT: {
        json_t *a = json_object_get(ld->anchors, (const char *)ev->data.alias.anchor);
        if (!a)
            return s_err(ld, ev->start_mark, "unknown anchor '%s' referenced",
                         (const char *)ev->data.alias.anchor);
        rc = 0;
        if (!(v = s_copy(ld, a, ld->depth, ev->start_mark, &rc)))
            return rc;
        return s_attach(ld, v, false, ev->start_mark);
    }
    default:
        return 0;
    }
}

static int s_parse_yaml(s_ld_t *ld, const char *buf, size_t len)
{
    yaml_event_t ev;
    int rc = 0;
    if (!yaml_parser_initialize(&ld->parser))
        abort();
    yaml_parser_set_input_string(&ld->parser, (const unsigned char *)buf, len);
    for (bool done = false; !done && rc == 0;) {
        if (!yaml_parser_parse(&ld->parser, &ev)) {
            rc = s_err(ld, ld->parser.problem_mark, "%s",
                       ld->parser.problem ? ld->parser.problem : "invalid YAML");
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = s_event(ld, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&ld->parser);
    while (ld->depth > 0)
        s_frame_free(&ld->st[--ld->depth]);
    return rc;
}

/* Depth of a parsed JSON value, counting containers. */
static int s_depth(const json_t *v)
{
    int d = 0, c;
    const char *k;
    json_t *x;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) if ((c = s_depth(x)) > d) d = c;
        return d + 1;
    }
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
        if ((c = s_depth(json_array_get(v, i))) > d)
            d = c;
    return json_is_array(v) ? d + 1 : 0;
}

/*
 * JSON texts (one or several concatenated) through jansson, which is much
 * faster than the YAML parser. Anything it does not take - big integers,
 * duplicate keys, deep nesting, syntax errors - goes to the YAML path,
 * which reads JSON too and reports errors with their position.
 */
static bool s_parse_json(json_t *docs, const char *buf, size_t len)
{
    json_t *out = json_array();
    size_t off = 0;
    for (;;) {
        while (off < len && strchr(" \t\r\n", buf[off]) && buf[off])
            off++;
        if (off == len)
            break;
        json_error_t je;
        json_t *v = json_loadb(buf + off, len - off,
                               JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
                                   JSON_ALLOW_NUL,
                               &je);
        if (!v || s_depth(v) > PROTO_MAX_DEPTH) {
            json_decref(v);
            json_decref(out);
            return false;
        }
        off += je.position;
        s_add_doc(out, v);
    }
    json_array_extend(docs, out);
    json_decref(out);
    return true;
}

int proto_manifest_parse(const char *buf, size_t len, const char *name, json_t **docs, char *err,
                         size_t errlen)
{
    s_ld_t ld = {
        .name = name ? name : "<input>", .err = err, .errlen = errlen, .budget = S_ALIAS_BUDGET};
    *docs = NULL;
    if (err && errlen)
        err[0] = 0;
    if (len > PROTO_MAX_MANIFEST) {
        yaml_mark_t m = {0};
        return s_err(&ld, m, "manifest of %zu bytes over limit of %u", len, PROTO_MAX_MANIFEST);
    }
    ld.docs = json_array();
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", buf[i]) && buf[i])
        i++;
    if (i < len && (buf[i] == '{' || buf[i] == '[') && s_parse_json(ld.docs, buf, len)) {
        *docs = ld.docs;
        return 0;
    }
    ld.anchors = json_object();
    int rc = s_parse_yaml(&ld, buf, len);
    json_decref(ld.anchors);
    json_decref(ld.root);
    if (rc != 0) {
        json_decref(ld.docs);
        return rc;
    }
    *docs = ld.docs;
    return 0;
}
