/*
 * protocol/jsonpath_exec — evaluates a compiled kubectl JSONPath template
 * against a jansson tree. It follows client-go's jsonpath.go (FindResults,
 * walk, evalArray, evalFilter, the range/end bookkeeping) literally, and
 * models Go's dynamic values (string, int64, float64, bool, nil, the uint8
 * bytes of a string) so that the printed text is byte-identical to kubectl.
 * Map iteration (`.*`, `..`) is in sorted key order, where Go's is random.
 */
#include "protocol/jsonpath.h"

#include "protocol/jsonpath_int.h"
#include "protocol/status.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's dynamic kinds, as reflect and text/template see them. */
typedef enum { GK_INVALID, GK_NIL, GK_MAP, GK_SLICE, GK_STRING, GK_INT, GK_FLOAT, GK_BOOL, GK_UINT } gk_t;

typedef struct jv {
    gk_t k;
    const json_t *j; /* GK_MAP, GK_SLICE */
    const char *s;   /* GK_STRING */
    size_t slen;
    int64_t i; /* GK_INT, GK_UINT, GK_BOOL */
    double f;
    bool lit_int; /* an IntNode (Go int) rather than int64 */
} jv_t;

typedef struct vlist {
    jv_t *v;
    size_t n, cap;
} vlist_t;

typedef struct ex {
    int begin_range, end_range, in_range, stack;
    jp_node_t *const *last_end;
    bool allow_missing;
    long budget;
    vlist_t *full;
    size_t nfull, capfull;
    char msg[512];
} ex_t;

#define JP_BUDGET 20000000L

static void s_oom(void)
{
    fprintf(stderr, "%s: out of memory\n", __FILE__);
    abort();
}

static void s_push(vlist_t *l, jv_t v)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            s_oom();
    }
    l->v[l->n++] = v;
}

static void s_cat(vlist_t *dst, const vlist_t *src)
{
    for (size_t i = 0; i < src->n; i++)
        s_push(dst, src->v[i]);
}

static int s_err(ex_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof x->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* A jansson value as Go's unstructured decoding sees it (integral floats become int64). */
static jv_t s_from_json(const json_t *j)
{
    jv_t v = {.k = GK_NIL};
    switch (json_typeof(j)) {
    case JSON_OBJECT: v.k = GK_MAP; v.j = j; break;
    case JSON_ARRAY: v.k = GK_SLICE; v.j = j; break;
    case JSON_STRING:
        v.k = GK_STRING;
        v.s = json_string_value(j);
        v.slen = json_string_length(j);
        break;
    case JSON_INTEGER: v.k = GK_INT; v.i = json_integer_value(j); break;
    case JSON_REAL: {
        double d = json_real_value(j);
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            v.k = GK_INT;
            v.i = (int64_t)d;
        } else {
            v.k = GK_FLOAT;
            v.f = d;
        }
        break;
    }
    case JSON_TRUE: v.k = GK_BOOL; v.i = 1; break;
    case JSON_FALSE: v.k = GK_BOOL; v.i = 0; break;
    default: break;
    }
    return v;
}

static size_t s_len(const jv_t *v)
{
    if (v->k == GK_SLICE)
        return json_array_size(v->j);
    if (v->k == GK_STRING)
        return v->slen;
    return 0;
}

static jv_t s_index(const jv_t *v, size_t i)
{
    if (v->k == GK_SLICE)
        return s_from_json(json_array_get(v->j, i));
    jv_t b = {.k = GK_UINT, .i = (unsigned char)v->s[i]};
    return b;
}

static const char *s_type_name(const jv_t *v)
{
    switch (v->k) {
    case GK_MAP: return "map[string]interface {}";
    case GK_SLICE: return "[]interface {}";
    case GK_STRING: return "string";
    case GK_INT: return v->lit_int ? "int" : "int64";
    case GK_FLOAT: return "float64";
    case GK_BOOL: return "bool";
    case GK_UINT: return "uint8";
    case GK_NIL: return "interface {}";
    default: return "<invalid>";
    }
}

static int s_cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of a map in sorted order; caller frees the array (keys are borrowed). */
static const char **s_sorted_keys(const json_t *obj, size_t *n)
{
    *n = json_object_size(obj);
    const char **keys = malloc((*n ? *n : 1) * sizeof *keys);
    if (!keys)
        s_oom();
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)obj, k, val) keys[i++] = k;
    qsort(keys, *n, sizeof *keys, s_cmp_keys);
    return keys;
}

static int s_walk(ex_t *x, const vlist_t *in, const jp_node_t *node, vlist_t *out);
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf_t;
static void s_put(sbuf_t *b, const char *s, size_t n);
static void s_gofmt(sbuf_t *b, const json_t *j, int depth);
static void s_text(sbuf_t *b, const jv_t *v);

static int s_eval_list(ex_t *x, const vlist_t *in, const jp_node_t *list, vlist_t *out)
{
    vlist_t cur = {0};
    s_cat(&cur, in);
    for (size_t i = 0; i < list->nkids; i++) {
        vlist_t next = {0};
        int rc = s_walk(x, &cur, list->kids[i], &next);
        free(cur.v);
        cur = next;
        if (rc < 0) {
            *out = cur;
            return rc;
        }
    }
    *out = cur;
    return 0;
}

static int s_eval_field(ex_t *x, const vlist_t *in, const jp_node_t *node, vlist_t *out)
{
    if (in->n == 0)
        return 0;
    for (size_t i = 0; i < in->n; i++) {
        if (in->v[i].k != GK_MAP)
            continue;
        json_t *r = json_object_getn(in->v[i].j, node->text, node->tlen);
        if (r)
            s_push(out, s_from_json(r));
    }
    if (out->n == 0 && !x->allow_missing)
        return s_err(x, "%s is not found", node->text);
    return 0;
}

static int s_array_bounds(ex_t *x, const jp_node_t *node, int64_t len, int64_t p[3], bool *empty)
{
    jp_param_t pr[3];
    memcpy(pr, node->params, sizeof pr);
    if (!pr[0].known)
        pr[0].value = 0;
    if (pr[0].value < 0)
        pr[0].value += len;
    if (!pr[1].known)
        pr[1].value = len;
    if (pr[1].value < 0 || (pr[1].value == 0 && pr[1].derived))
        pr[1].value += len;
    *empty = pr[1].value == pr[0].value;
    if (*empty)
        return 0;
    if (pr[0].value >= len || pr[0].value < 0)
        return s_err(x, "array index out of bounds: index %lld, length %lld",
                     (long long)pr[0].value, (long long)len);
    if (pr[1].value > len || pr[1].value < 0)
        return s_err(x, "array index out of bounds: index %lld, length %lld",
                     (long long)pr[1].value - 1, (long long)len);
    if (pr[0].value > pr[1].value)
        return s_err(x, "starting index %lld is greater than ending index %lld",
                     (long long)pr[0].value, (long long)pr[1].value);
    if (pr[2].known && pr[2].value <= 0)
        return s_err(x, "step must be > 0");
    p[0] = pr[0].value;
    p[1] = pr[1].value;
    p[2] = pr[2].known ? pr[2].value : 1;
    return 0;
}

static int s_eval_array(ex_t *x, const vlist_t *in, const jp_node_t *node, vlist_t *out)
{
    for (size_t i = 0; i < in->n; i++) {
        const jv_t *v = &in->v[i];
        if (v->k == GK_NIL)
            continue;
        if (v->k != GK_SLICE) {
            s_cat(out, in);
            return s_err(x, "%s is not array or slice", s_type_name(v));
        }
        int64_t p[3] = {0, 0, 1};
        bool empty;
        if (s_array_bounds(x, node, (int64_t)s_len(v), p, &empty) < 0) {
            out->n = 0;
            s_cat(out, in);
            return -1;
        }
        if (empty)
            return 0;
        for (int64_t k = p[0]; k < p[1]; k += p[2])
            s_push(out, s_index(v, (size_t)k));
    }
    return 0;
}

/* text/template basicKind: false for kinds it cannot compare. */
static bool s_basic(const jv_t *v)
{
    return v->k >= GK_STRING;
}

static int s_eq(ex_t *x, const jv_t *a, const jv_t *b, bool *res)
{
    *res = false;
    bool ab = s_basic(a), bb = s_basic(b);
    gk_t ka = ab ? a->k : GK_INVALID, kb = bb ? b->k : GK_INVALID;
    if (ka != kb) {
        if ((ka == GK_INT && kb == GK_UINT) || (ka == GK_UINT && kb == GK_INT)) {
            *res = a->i == b->i;
            return 0;
        }
        bool va = a->k != GK_NIL && a->k != GK_INVALID, vb = b->k != GK_NIL && b->k != GK_INVALID;
        if (va && vb)
            return s_err(x, "incompatible types for comparison");
        return 0;
    }
    switch (ka) {
    case GK_STRING: *res = a->slen == b->slen && memcmp(a->s, b->s, a->slen) == 0; break;
    case GK_FLOAT: *res = a->f == b->f; break;
    case GK_INT: case GK_UINT: case GK_BOOL: *res = a->i == b->i; break;
    default: {
        bool na = a->k == GK_NIL || a->k == GK_INVALID, nb = b->k == GK_NIL || b->k == GK_INVALID;
        if (na || nb) {
            *res = na == nb;
            return 0;
        }
        return s_err(x, "non-comparable types %s, %s", s_type_name(a), s_type_name(b));
    }
    }
    return 0;
}

static int s_lt(ex_t *x, const jv_t *a, const jv_t *b, bool *res)
{
    *res = false;
    if (!s_basic(a) || !s_basic(b))
        return s_err(x, "invalid type for comparison");
    if (a->k != b->k) {
        if ((a->k == GK_INT && b->k == GK_UINT) || (a->k == GK_UINT && b->k == GK_INT)) {
            *res = a->i < b->i;
            return 0;
        }
        return s_err(x, "incompatible types for comparison");
    }
    switch (a->k) {
    case GK_BOOL: return s_err(x, "invalid type for comparison");
    case GK_FLOAT: *res = a->f < b->f; break;
    case GK_STRING: {
        size_t n = a->slen < b->slen ? a->slen : b->slen;
        int c = memcmp(a->s, b->s, n);
        *res = c < 0 || (c == 0 && a->slen < b->slen);
        break;
    }
    default: *res = a->i < b->i; break;
    }
    return 0;
}

static int s_compare(ex_t *x, const char *op, const jv_t *a, const jv_t *b, bool *pass)
{
    bool r = false;
    int rc = 0;
    if (strcmp(op, "<") == 0) {
        rc = s_lt(x, a, b, pass);
    } else if (strcmp(op, ">") == 0 || strcmp(op, "<=") == 0) {
        rc = s_lt(x, a, b, &r);
        if (rc == 0 && !r)
            rc = s_eq(x, a, b, &r);
        *pass = op[0] == '>' ? !r : r;
        if (rc < 0)
            *pass = false;
    } else if (strcmp(op, "==") == 0 || strcmp(op, "!=") == 0) {
        rc = s_eq(x, a, b, &r);
        *pass = op[0] == '=' ? r : !r;
    } else if (strcmp(op, ">=") == 0) {
        rc = s_lt(x, a, b, &r);
        *pass = rc == 0 && !r;
    } else {
        return s_err(x, "unrecognized filter operator %s", op);
    }
    return rc;
}

/* One array element through the filter: 1 keep, 0 drop, -1 error. */
static int s_filter_one(ex_t *x, const jp_node_t *node, jv_t elem)
{
    vlist_t temp = {0}, lefts = {0}, rights = {0};
    s_push(&temp, elem);
    int rc = s_eval_list(x, &temp, node->left, &lefts), keep = 0;
    if (strcmp(node->text, "exists") == 0) {
        keep = lefts.n > 0;
        goto done;
    }
    if (rc < 0 || lefts.n == 0)
        goto done;
    if (lefts.n > 1) {
        rc = s_err(x, "can only compare one element at a time");
        goto done;
    }
    rc = s_eval_list(x, &temp, node->right, &rights);
    if (rc < 0 || rights.n == 0)
        goto done;
    if (rights.n > 1) {
        rc = s_err(x, "can only compare one element at a time");
        goto done;
    }
    bool pass = false;
    rc = s_compare(x, node->text, &lefts.v[0], &rights.v[0], &pass);
    keep = pass;
done:
    free(temp.v);
    free(lefts.v);
    free(rights.v);
    if (strcmp(node->text, "exists") == 0)
        return keep;
    return rc < 0 ? -1 : keep;
}

static int s_eval_filter(ex_t *x, const vlist_t *in, const jp_node_t *node, vlist_t *out)
{
    for (size_t i = 0; i < in->n; i++) {
        const jv_t *v = &in->v[i];
        if (v->k != GK_SLICE) {
            s_cat(out, in);
            sbuf_t b = {0};
            s_put(&b, "", 0);
            if (v->k == GK_MAP || v->k == GK_NIL)
                s_gofmt(&b, v->k == GK_MAP ? v->j : NULL, 0);
            else
                s_text(&b, v);
            s_err(x, "%s is not array or slice and cannot be filtered", b.p);
            free(b.p);
            return -1;
        }
        for (size_t k = 0; k < json_array_size(v->j); k++) {
            jv_t e = s_index(v, k);
            int keep = s_filter_one(x, node, e);
            if (keep < 0)
                return -1;
            if (keep)
                s_push(out, e);
        }
    }
    return 0;
}

/* The children of a value (map values in key order, slice items, string bytes). */
static void s_children(const jv_t *v, vlist_t *out)
{
    if (v->k == GK_MAP) {
        size_t n;
        const char **keys = s_sorted_keys(v->j, &n);
        for (size_t i = 0; i < n; i++)
            s_push(out, s_from_json(json_object_get(v->j, keys[i])));
        free(keys);
    } else if (v->k == GK_SLICE || v->k == GK_STRING) {
        for (size_t i = 0; i < s_len(v); i++)
            s_push(out, s_index(v, i));
    }
}

static void s_eval_recursive(ex_t *x, const vlist_t *in, vlist_t *out)
{
    for (size_t i = 0; i < in->n; i++) {
        vlist_t kids = {0};
        s_children(&in->v[i], &kids);
        x->budget -= (long)kids.n;
        if (kids.n && x->budget > 0) {
            s_push(out, in->v[i]);
            s_eval_recursive(x, &kids, out);
        }
        free(kids.v);
    }
}

static int s_eval_ident(ex_t *x, const vlist_t *in, const jp_node_t *node, vlist_t *out)
{
    if (strcmp(node->text, "range") == 0) {
        x->stack++;
        x->begin_range++;
        s_cat(out, in);
        return 0;
    }
    if (strcmp(node->text, "end") == 0) {
        if (x->end_range < x->in_range) {
            x->end_range++;
            return 0;
        }
        if (x->stack > 0) {
            x->stack--;
            return 0;
        }
        return s_err(x, "not in range, nothing to end");
    }
    s_cat(out, in);
    return s_err(x, "unrecognized identifier %s", node->text);
}

static int s_walk(ex_t *x, const vlist_t *in, const jp_node_t *node, vlist_t *out)
{
    if (--x->budget < 0 || out->n > 1000000)
        return s_err(x, "jsonpath evaluation exceeds its budget");
    x->budget -= (long)in->n;
    switch (node->type) {
    case JP_LIST: return s_eval_list(x, in, node, out);
    case JP_TEXT:
        s_push(out, (jv_t){.k = GK_STRING, .s = node->text, .slen = node->tlen});
        return 0;
    case JP_FIELD: return s_eval_field(x, in, node, out);
    case JP_ARRAY: return s_eval_array(x, in, node, out);
    case JP_FILTER: return s_eval_filter(x, in, node, out);
    case JP_INT: case JP_FLOAT: case JP_BOOL:
        for (size_t i = 0; i < in->n; i++) {
            jv_t v = {.k = GK_INT, .i = node->ival, .lit_int = true};
            if (node->type == JP_FLOAT)
                v = (jv_t){.k = GK_FLOAT, .f = node->fval};
            else if (node->type == JP_BOOL)
                v = (jv_t){.k = GK_BOOL, .i = node->bval};
            s_push(out, v);
        }
        return 0;
    case JP_WILDCARD:
        for (size_t i = 0; i < in->n; i++)
            s_children(&in->v[i], out);
        return 0;
    case JP_RECURSIVE: s_eval_recursive(x, in, out); return 0;
    case JP_UNION:
        for (size_t i = 0; i < node->nkids; i++) {
            vlist_t t = {0};
            int rc = s_eval_list(x, in, node->kids[i], &t);
            if (rc == 0)
                s_cat(out, &t);
            free(t.v);
            if (rc < 0) {
                out->n = 0;
                s_cat(out, in);
                return rc;
            }
        }
        return 0;
    case JP_IDENT: return s_eval_ident(x, in, node, out);
    }
    return s_err(x, "unexpected Node");
}

static void s_add_full(ex_t *x, vlist_t *l)
{
    if (x->nfull == x->capfull) {
        x->capfull = x->capfull ? x->capfull * 2 : 8;
        x->full = realloc(x->full, x->capfull * sizeof *x->full);
        if (!x->full)
            s_oom();
    }
    x->full[x->nfull++] = *l;
    *l = (vlist_t){0};
}

/* FindResults over nodes[0..n); keep=false discards results (the empty range pass). */
static int s_find(ex_t *x, jp_node_t *const *nodes, size_t n, jv_t data, bool keep)
{
    vlist_t cur = {0};
    s_push(&cur, data);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        vlist_t res = {0};
        rc = s_walk(x, &cur, nodes[i], &res);
        if (rc < 0) {
            free(res.v);
            break;
        }
        if (x->end_range > 0 && x->end_range <= x->in_range) {
            x->end_range--;
            x->last_end = &nodes[i];
            free(res.v);
            break;
        }
        if (x->begin_range > 0) {
            x->begin_range--;
            if (++x->in_range > JP_MAX_DEPTH)
                rc = s_err(x, "range nested too deeply");
            for (size_t k = 0; rc == 0 && k < res.n; k++)
                rc = s_find(x, nodes + i + 1, n - i - 1, res.v[k], keep);
            if (rc == 0 && res.n == 0)
                rc = s_find(x, nodes + i + 1, n - i - 1, (jv_t){.k = GK_INVALID}, false);
            x->in_range--;
            for (size_t k = i + 1; k < n; k++) {
                if (&nodes[k] == x->last_end) {
                    i = k;
                    break;
                }
            }
            free(res.v);
            continue;
        }
        if (keep)
            s_add_full(x, &res);
        free(res.v);
    }
    free(cur.v);
    return rc;
}

/* ---- printing, as Go's fmt.Fprint and encoding/json do ---- */



static void s_put(sbuf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            s_oom();
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void s_puts(sbuf_t *b, const char *s)
{
    s_put(b, s, strlen(s));
}

/* Shortest round-trip digits of d>0: digits (no dot) and decimal exponent e (d = 0.D * 10^e). */
static int s_shortest(double d, char *digits, int *dp)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d || prec == 17)
            break;
    }
    char *e = strchr(tmp, 'e');
    int exp = atoi(e + 1), nd = 0;
    for (char *c = tmp; c < e; c++)
        if (*c >= '0' && *c <= '9')
            digits[nd++] = *c;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    *dp = exp + 1;
    return nd;
}

static void s_fmt_e(sbuf_t *b, const char *dg, int nd, int dp, bool go_json)
{
    char out[64];
    int o = 0, exp = dp - 1;
    out[o++] = dg[0];
    if (nd > 1) {
        out[o++] = '.';
        for (int i = 1; i < nd; i++)
            out[o++] = dg[i];
    }
    o += snprintf(out + o, sizeof out - (size_t)o, "e%c%0*d", exp < 0 ? '-' : '+',
                  go_json && exp < 0 ? 1 : 2, exp < 0 ? -exp : exp);
    s_put(b, out, (size_t)o);
}

static void s_fmt_f(sbuf_t *b, const char *dg, int nd, int dp)
{
    if (dp <= 0) {
        s_puts(b, "0.");
        for (int i = 0; i < -dp; i++)
            s_puts(b, "0");
        s_put(b, dg, (size_t)nd);
        return;
    }
    for (int i = 0; i < dp; i++)
        s_put(b, i < nd ? &dg[i] : "0", 1);
    if (nd > dp) {
        s_puts(b, ".");
        s_put(b, dg + dp, (size_t)(nd - dp));
    }
}

/* go_json: encoding/json's float format; otherwise fmt's %v. */
static void s_fmt_float(sbuf_t *b, double d, bool go_json)
{
    if (isnan(d) || isinf(d)) {
        s_puts(b, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (d == 0) {
        s_puts(b, signbit(d) ? "-0" : "0");
        return;
    }
    if (d < 0)
        s_puts(b, "-");
    double a = fabs(d);
    char dg[32];
    int dp, nd = s_shortest(a, dg, &dp), exp = dp - 1;
    /* encoding/json switches to %e outside [1e-6, 1e21); fmt's %v (%g, shortest) when
     * the exponent is below -4 or at least 6 */
    bool use_e = go_json ? (a < 1e-6 || a >= 1e21) : (exp < -4 || exp >= 6);
    if (use_e)
        s_fmt_e(b, dg, nd, dp, go_json);
    else
        s_fmt_f(b, dg, nd, dp);
}

static void s_json_string(sbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    s_puts(b, "\"");
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            s_put(b, esc, 2);
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
            s_put(b, esc, 2);
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            snprintf(esc, sizeof esc, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            s_put(b, esc, 6);
        } else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
            s_puts(b, (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
            i += 3;
            continue;
        } else {
            s_put(b, (const char *)&c, 1);
        }
        i++;
    }
    s_puts(b, "\"");
}

static void s_json(sbuf_t *b, const json_t *j, int depth)
{
    jv_t v = s_from_json(j);
    char num[32];
    if (depth > 4096) {
        s_puts(b, "null");
        return;
    }
    switch (v.k) {
    case GK_MAP: {
        size_t n;
        const char **keys = s_sorted_keys(j, &n);
        s_puts(b, "{");
        for (size_t i = 0; i < n; i++) {
            if (i)
                s_puts(b, ",");
            s_json_string(b, keys[i], strlen(keys[i]));
            s_puts(b, ":");
            s_json(b, json_object_get(j, keys[i]), depth + 1);
        }
        s_puts(b, "}");
        free(keys);
        break;
    }
    case GK_SLICE:
        s_puts(b, "[");
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i)
                s_puts(b, ",");
            s_json(b, json_array_get(j, i), depth + 1);
        }
        s_puts(b, "]");
        break;
    case GK_STRING: s_json_string(b, v.s, v.slen); break;
    case GK_INT:
        snprintf(num, sizeof num, "%lld", (long long)v.i);
        s_puts(b, num);
        break;
    case GK_FLOAT: s_fmt_float(b, v.f, true); break;
    case GK_BOOL: s_puts(b, v.i ? "true" : "false"); break;
    default: s_puts(b, "null"); break;
    }
}

static void s_text(sbuf_t *b, const jv_t *v)
{
    char num[32];
    switch (v->k) {
    case GK_MAP: case GK_SLICE: s_json(b, v->j, 0); break;
    case GK_STRING: s_put(b, v->s, v->slen); break;
    case GK_INT: case GK_UINT:
        snprintf(num, sizeof num, "%lld", (long long)v->i);
        s_puts(b, num);
        break;
    case GK_FLOAT: s_fmt_float(b, v->f, false); break;
    case GK_BOOL: s_puts(b, v->i ? "true" : "false"); break;
    case GK_NIL: s_puts(b, "null"); break;
    default: s_puts(b, "<no value>"); break;
    }
}

/* fmt's %v of a value (map[k:v ...], [a b], <nil>), for error texts. */
static void s_gofmt(sbuf_t *b, const json_t *j, int depth)
{
    jv_t v = s_from_json(j);
    if (depth > 64) {
        s_puts(b, "...");
        return;
    }
    if (v.k == GK_MAP) {
        size_t n;
        const char **keys = s_sorted_keys(j, &n);
        s_puts(b, "map[");
        for (size_t i = 0; i < n; i++) {
            s_puts(b, i ? " " : "");
            s_puts(b, keys[i]);
            s_puts(b, ":");
            s_gofmt(b, json_object_get(j, keys[i]), depth + 1);
        }
        s_puts(b, "]");
        free(keys);
    } else if (v.k == GK_SLICE) {
        s_puts(b, "[");
        for (size_t i = 0; i < json_array_size(j); i++) {
            s_puts(b, i ? " " : "");
            s_gofmt(b, json_array_get(j, i), depth + 1);
        }
        s_puts(b, "]");
    } else if (v.k == GK_NIL) {
        s_puts(b, "<nil>");
    } else {
        s_text(b, &v);
    }
}

/* strconv.Quote, as kubectl's %q prints the template. */
static void s_goquote(sbuf_t *b, const char *s)
{
    s_puts(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char e[8];
        const char *m = strchr("\a\b\f\n\r\t\v", *c);
        if (*c == '"' || *c == '\\') {
            e[0] = '\\', e[1] = (char)*c;
            s_put(b, e, 2);
        } else if (*c && m) {
            e[0] = '\\', e[1] = "abfnrtv"[m - "\a\b\f\n\r\t\v"];
            s_put(b, e, 2);
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(e, sizeof e, "\\x%02x", *c);
            s_puts(b, e);
        } else {
            s_put(b, (const char *)c, 1);
        }
    }
    s_puts(b, "\"");
}

char *proto_jp_json_compact(const json_t *v)
{
    sbuf_t b = {0};
    s_put(&b, "", 0);
    s_json(&b, v, 0);
    return b.p;
}

void proto_jp_go_float(double d, char *buf, size_t n)
{
    sbuf_t b = {0};
    s_fmt_float(&b, d, false);
    snprintf(buf, n, "%s", b.p);
    free(b.p);
}

int proto_jp_exec(const proto_jp_t *jp, const json_t *data, int allow_missing, char **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    ex_t x = {.allow_missing = allow_missing != 0, .budget = JP_BUDGET};
    jv_t root = data ? s_from_json(data) : (jv_t){.k = GK_NIL};
    int rc = s_find(&x, (jp_node_t *const *)jp->root->kids, jp->root->nkids, root, true);
    sbuf_t b = {0};
    s_put(&b, "", 0);
    for (size_t i = 0; i < x.nfull; i++) {
        for (size_t k = 0; rc == 0 && k < x.full[i].n; k++) {
            if (k)
                s_puts(&b, " ");
            s_text(&b, &x.full[i].v[k]);
        }
        free(x.full[i].v);
    }
    free(x.full);
    if (rc < 0) {
        free(b.p);
        if (err && errlen) {
            sbuf_t q = {0};
            s_goquote(&q, jp->raw);
            snprintf(err, errlen, "error executing jsonpath %s: Error executing template: %s", q.p,
                     x.msg);
            free(q.p);
        }
        return strstr(x.msg, "is not found") ? PROTO_ENOTFOUND : PROTO_EBADREQUEST;
    }
    *out = b.p;
    return 0;
}
