/*
 * protocol/selector — label selectors, exactly as k8s.io/apimachinery/pkg/
 * labels parses, validates, matches and prints them (lexer tokens, error
 * words, sorted String()), plus LabelSelector objects (matchLabels +
 * matchExpressions) and plain maps. The apiserver filters lists and
 * deletecollection with these; controllers match pods to their owners.
 * Field selectors are in selector_field.c.
 */
#include "protocol/selector.h"

#include "protocol/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEL_MAX_INPUT (64 * 1024)
#define SEL_MAX_REQS 1024
#define SEL_MAX_VALUES 1024

typedef enum {
    OP_IN, OP_NOTIN, OP_EQ, OP_DEQ, OP_NEQ, OP_EXISTS, OP_NOTEXISTS, OP_GT, OP_LT,
} sel_op_t;

typedef struct sel_req {
    char *key;
    sel_op_t op;
    char **vals; /* sorted, unique (sets.String.List()) */
    size_t nvals;
} sel_req_t;

struct proto_sel {
    sel_req_t *reqs; /* in written order */
    size_t n;
    bool nothing;
};

/* ---- small helpers ---- */

static void *s_xrealloc(void *p, size_t n)
{
    void *r = realloc(p, n ? n : 1);
    if (!r) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return r;
}

static char *s_xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *r = s_xrealloc(NULL, n + 1);
    memcpy(r, s, n + 1);
    return r;
}

typedef struct sbuf {
    char *p;
    size_t n;
} sbuf_t;

static void s_add(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_add(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    b->p = s_xrealloc(b->p, b->n + (size_t)k + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* Go's %q for the ASCII-and-UTF-8 strings selectors carry. */
static void s_quote(sbuf_t *b, const char *s)
{
    s_add(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            s_add(b, "\\%c", *c);
        else if (*c == '\n')
            s_add(b, "\\n");
        else if (*c == '\t')
            s_add(b, "\\t");
        else if (*c == '\r')
            s_add(b, "\\r");
        else if (*c < 0x20 || *c == 0x7f)
            s_add(b, "\\x%02x", *c);
        else
            s_add(b, "%c", *c);
    }
    s_add(b, "\"");
}

static int s_fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return PROTO_EBADREQUEST;
}

/* ---- validation, as k8s.io/apimachinery/pkg/util/validation words it ---- */

static const char *s_qname_msg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
static const char *s_dns_msg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char *s_value_msg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

static bool s_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n) */
static bool s_qname_ok(const char *s, size_t n)
{
    if (n == 0 || !s_alnum(s[0]) || !s_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

static bool s_dns_ok(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        size_t len = i - start;
        const char *l = s + start;
        if (len == 0 || !s_alnum(l[0]) || !s_alnum(l[len - 1]))
            return false;
        for (size_t k = 0; k < len; k++)
            if (!((l[k] >= 'a' && l[k] <= 'z') || (l[k] >= '0' && l[k] <= '9') || l[k] == '-'))
                return false;
        start = i + 1;
    }
    return true;
}

/* IsQualifiedName: errors joined by "; " into b; false when invalid. */
static bool s_check_qname(const char *k, sbuf_t *b)
{
    const char *slash = strchr(k, '/');
    if (slash && strchr(slash + 1, '/')) {
        s_add(b, "a qualified name %s with an optional DNS subdomain prefix and '/' (e.g. "
                 "'example.com/MyName')", s_qname_msg);
        return false;
    }
    const char *name = slash ? slash + 1 : k, *sep = "";
    bool ok = true;
    if (slash) {
        size_t pl = (size_t)(slash - k);
        if (pl == 0) {
            s_add(b, "prefix part must be non-empty"), sep = "; ", ok = false;
        } else {
            if (pl > 253)
                s_add(b, "prefix part must be no more than 253 characters"), sep = "; ", ok = false;
            if (!s_dns_ok(k, pl))
                s_add(b, "%sprefix part %s", sep, s_dns_msg), sep = "; ", ok = false;
        }
    }
    size_t nl = strlen(name);
    if (nl == 0)
        s_add(b, "%sname part must be non-empty", sep), sep = "; ", ok = false;
    else if (nl > 63)
        s_add(b, "%sname part must be no more than 63 characters", sep), sep = "; ", ok = false;
    if (!s_qname_ok(name, nl))
        s_add(b, "%sname part %s", sep, s_qname_msg), ok = false;
    return ok;
}

static bool s_check_value(const char *v, sbuf_t *b)
{
    size_t n = strlen(v);
    bool ok = true;
    const char *sep = "";
    if (n > 63)
        s_add(b, "must be no more than 63 characters"), sep = "; ", ok = false;
    if (n && !s_qname_ok(v, n))
        s_add(b, "%s%s", sep, s_value_msg), ok = false;
    return ok;
}

/* field.Invalid(path, key, ...).Error() for a bad key; path NULL prints "<nil>". */
static bool s_key_error(const char *path, const char *key, sbuf_t *out)
{
    sbuf_t why = {0};
    bool ok = s_check_qname(key, &why);
    if (!ok) {
        s_add(out, "%s: Invalid value: ", path ? path : "<nil>");
        s_quote(out, key);
        s_add(out, ": %s", why.p);
    }
    free(why.p);
    return ok;
}

/* ---- requirements ---- */

static void s_req_free(sel_req_t *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvals; i++)
        free(r->vals[i]);
    free(r->vals);
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Inserts v into the sorted unique set of r. */
static void s_req_insert(sel_req_t *r, const char *v)
{
    for (size_t i = 0; i < r->nvals; i++)
        if (strcmp(r->vals[i], v) == 0)
            return;
    r->vals = s_xrealloc(r->vals, (r->nvals + 1) * sizeof *r->vals);
    r->vals[r->nvals++] = s_xstrdup(v);
    qsort(r->vals, r->nvals, sizeof *r->vals, s_cmp_str);
}

static void s_bad_values(sbuf_t *b, char *const *vals, size_t n, bool nil)
{
    if (nil && n == 0) {
        s_add(b, "[]string(nil)");
        return;
    }
    s_add(b, "[]string{");
    for (size_t i = 0; i < n; i++) {
        s_add(b, i ? ", " : "");
        s_quote(b, vals[i]);
    }
    s_add(b, "}");
}

static bool s_is_int64(const char *v)
{
    const char *d = v + (*v == '+' || *v == '-');
    if (!*d || strspn(d, "0123456789") != strlen(d))
        return false;
    errno = 0;
    (void)strtoll(v, NULL, 10);
    return errno == 0;
}

/* Appends one error to an aggregate ("a" or "[a, b]" with duplicates dropped). */
static void s_agg(char ***errs, size_t *n, sbuf_t *e)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*errs)[i], e->p) == 0) {
            free(e->p);
            *e = (sbuf_t){0};
            return;
        }
    *errs = s_xrealloc(*errs, (*n + 1) * sizeof **errs);
    (*errs)[(*n)++] = e->p;
    *e = (sbuf_t){0};
}

/*
 * labels.NewRequirement's checks (key in keypath, operator arity, values):
 * 0, or PROTO_EBADREQUEST with the aggregate error text in err.
 */
static int s_req_validate(const sel_req_t *r, bool nil_vals, bool check_key, char *err,
                          size_t errlen)
{
    char **errs = NULL;
    size_t ne = 0;
    sbuf_t e = {0};
    if (check_key && !s_key_error("key", r->key, &e))
        s_agg(&errs, &ne, &e);
    const char *why = NULL;
    if ((r->op == OP_IN || r->op == OP_NOTIN) && r->nvals == 0)
        why = "for 'in', 'notin' operators, values set can't be empty";
    else if ((r->op == OP_EQ || r->op == OP_DEQ || r->op == OP_NEQ) && r->nvals != 1)
        why = "exact-match compatibility requires one single value";
    else if ((r->op == OP_EXISTS || r->op == OP_NOTEXISTS) && r->nvals != 0)
        why = "values set must be empty for exists and does not exist";
    else if ((r->op == OP_GT || r->op == OP_LT) && r->nvals != 1)
        why = "for 'Gt', 'Lt' operators, exactly one value is required";
    if (why) {
        s_add(&e, "values: Invalid value: ");
        s_bad_values(&e, r->vals, r->nvals, nil_vals);
        s_add(&e, ": %s", why);
        s_agg(&errs, &ne, &e);
    }
    for (size_t i = 0; (r->op == OP_GT || r->op == OP_LT) && i < r->nvals; i++)
        if (!s_is_int64(r->vals[i])) {
            s_add(&e, "values[%zu]: Invalid value: ", i);
            s_quote(&e, r->vals[i]);
            s_add(&e, ": for 'Gt', 'Lt' operators, the value must be an integer");
            s_agg(&errs, &ne, &e);
        }
    for (size_t i = 0; i < r->nvals; i++) {
        sbuf_t why2 = {0};
        if (!s_check_value(r->vals[i], &why2)) {
            s_add(&e, "values[%zu][%s]: Invalid value: ", i, r->key);
            s_quote(&e, r->vals[i]);
            s_add(&e, ": %s", why2.p);
            s_agg(&errs, &ne, &e);
        }
        free(why2.p);
    }
    if (ne == 0)
        return 0;
    sbuf_t all = {0};
    s_add(&all, "%s", ne > 1 ? "[" : "");
    for (size_t i = 0; i < ne; i++) {
        s_add(&all, "%s%s", i ? ", " : "", errs[i]);
        free(errs[i]);
    }
    s_add(&all, "%s", ne > 1 ? "]" : "");
    free(errs);
    s_fail(err, errlen, all.p);
    free(all.p);
    return PROTO_EBADREQUEST;
}

static void s_sel_add(proto_sel_t *sel, sel_req_t *r)
{
    sel->reqs = s_xrealloc(sel->reqs, (sel->n + 1) * sizeof *sel->reqs);
    sel->reqs[sel->n++] = *r;
    memset(r, 0, sizeof *r);
}

/* ---- the lexer and parser (labels.Lexer / labels.Parser) ---- */

typedef enum {
    T_ERROR, T_EOS, T_CPAR, T_COMMA, T_NOT, T_DEQ, T_EQ, T_GT, T_ID, T_IN, T_LT, T_NEQ,
    T_NOTIN, T_OPAR,
} tok_t;

typedef struct item {
    tok_t t;
    char *lit;
} item_t;

static bool s_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static bool s_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static tok_t s_keyword(const char *s)
{
    static const struct {
        const char *s;
        tok_t t;
    } kw[] = {{")", T_CPAR}, {",", T_COMMA}, {"!", T_NOT}, {"==", T_DEQ}, {"=", T_EQ},
              {">", T_GT}, {"in", T_IN}, {"<", T_LT}, {"!=", T_NEQ}, {"notin", T_NOTIN},
              {"(", T_OPAR}};
    for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
        if (strcmp(s, kw[i].s) == 0)
            return kw[i].t;
    return T_ID;
}

static item_t s_lex(const char *s, size_t *pos)
{
    while (s_space(s[*pos]))
        (*pos)++;
    if (!s[*pos])
        return (item_t){T_EOS, s_xstrdup("")};
    size_t start = *pos;
    if (!s_special(s[*pos])) {
        while (s[*pos] && !s_special(s[*pos]) && !s_space(s[*pos]))
            (*pos)++;
        char *lit = strndup(s + start, *pos - start);
        if (!lit)
            abort();
        return (item_t){s_keyword(lit), lit};
    }
    char buf[64];
    size_t n = 0, best = 0;
    tok_t last = T_ERROR;
    while (s[*pos] && s_special(s[*pos]) && n < sizeof buf - 1) {
        buf[n++] = s[(*pos)++];
        buf[n] = 0;
        tok_t t = s_keyword(buf);
        if (t != T_ID) {
            last = t, best = n;
        } else if (last != T_ERROR) {
            (*pos)--, n--;
            break;
        }
    }
    buf[n] = 0;
    if (last == T_ERROR) {
        char msg[128];
        snprintf(msg, sizeof msg, "error expected: keyword found '%s'", buf);
        return (item_t){T_ERROR, s_xstrdup(msg)};
    }
    buf[best] = 0;
    return (item_t){last, s_xstrdup(buf)};
}

typedef struct parser {
    item_t *items;
    size_t n, pos;
    char msg[8192];
} parser_t;

/* lookahead/consume in the Values context: in/notin read as identifiers. */
static tok_t s_look(const parser_t *p, const char **lit, bool values)
{
    const item_t *it = &p->items[p->pos < p->n ? p->pos : p->n - 1];
    if (lit)
        *lit = it->lit;
    return values && (it->t == T_IN || it->t == T_NOTIN) ? T_ID : it->t;
}

static tok_t s_take(parser_t *p, const char **lit, bool values)
{
    tok_t t = s_look(p, lit, values);
    if (p->pos < p->n - 1)
        p->pos++;
    return t;
}

static int s_perr(parser_t *p, const char *fmt, const char *lit)
{
    snprintf(p->msg, sizeof p->msg, fmt, lit);
    return -1;
}

static int s_parse_ids(parser_t *p, sel_req_t *r)
{
    const char *lit, *lit2;
    for (int guard = 0; guard < SEL_MAX_VALUES * 2; guard++) {
        tok_t t = s_take(p, &lit, true);
        if (t == T_ID) {
            s_req_insert(r, lit);
            tok_t t2 = s_look(p, &lit2, true);
            if (t2 == T_COMMA)
                continue;
            if (t2 == T_CPAR)
                return 0;
            return s_perr(p, "found '%s', expected: ',' or ')'", lit2);
        } else if (t == T_COMMA) {
            if (r->nvals == 0)
                s_req_insert(r, "");
            tok_t t2 = s_look(p, NULL, true);
            if (t2 == T_CPAR) {
                s_req_insert(r, "");
                return 0;
            }
            if (t2 == T_COMMA) {
                s_take(p, NULL, true);
                s_req_insert(r, "");
            }
        } else {
            return s_perr(p, "found '%s', expected: ',', or identifier", lit);
        }
    }
    return s_perr(p, "too many values%s", "");
}

static int s_parse_values(parser_t *p, sel_req_t *r)
{
    const char *lit;
    if (s_take(p, &lit, true) != T_OPAR)
        return s_perr(p, "found '%s' expected: '('", lit);
    tok_t t = s_look(p, &lit, true);
    if (t == T_ID || t == T_COMMA) {
        if (s_parse_ids(p, r) < 0)
            return -1;
        if (s_take(p, NULL, true) != T_CPAR)
            return s_perr(p, "found '%s', expected: ')'", lit);
        return 0;
    }
    if (t == T_CPAR) {
        s_take(p, NULL, true);
        s_req_insert(r, "");
        return 0;
    }
    return s_perr(p, "found '%s', expected: ',', ')' or identifier", lit);
}

static int s_parse_op(parser_t *p, sel_req_t *r)
{
    const char *lit;
    switch (s_take(p, &lit, false)) {
    case T_IN: r->op = OP_IN; break;
    case T_EQ: r->op = OP_EQ; break;
    case T_DEQ: r->op = OP_DEQ; break;
    case T_GT: r->op = OP_GT; break;
    case T_LT: r->op = OP_LT; break;
    case T_NOTIN: r->op = OP_NOTIN; break;
    case T_NEQ: r->op = OP_NEQ; break;
    default: return s_perr(p, "found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
    }
    return 0;
}

static int s_parse_requirement(parser_t *p, sel_req_t *r)
{
    const char *lit;
    bool notexists = false;
    tok_t t = s_take(p, &lit, true);
    if (t == T_NOT) {
        notexists = true;
        t = s_take(p, &lit, true);
    }
    if (t != T_ID)
        return s_perr(p, "found '%s', expected: identifier", lit);
    sbuf_t e = {0};
    if (!s_key_error(NULL, lit, &e)) {
        snprintf(p->msg, sizeof p->msg, "%s", e.p);
        free(e.p);
        return -1;
    }
    r->key = s_xstrdup(lit);
    tok_t la = s_look(p, NULL, true);
    if (notexists || la == T_EOS || la == T_COMMA) {
        r->op = notexists ? OP_NOTEXISTS : OP_EXISTS;
    } else {
        if (s_parse_op(p, r) < 0)
            return -1;
        if (r->op == OP_IN || r->op == OP_NOTIN) {
            if (s_parse_values(p, r) < 0)
                return -1;
        } else {
            la = s_look(p, NULL, true);
            if (la == T_EOS || la == T_COMMA) {
                s_req_insert(r, "");
            } else if (s_take(p, &lit, true) == T_ID) {
                s_req_insert(r, lit);
            } else {
                return s_perr(p, "found '%s', expected: identifier", lit);
            }
        }
    }
    return s_req_validate(r, false, false, p->msg, sizeof p->msg) < 0 ? -1 : 0;
}

static int s_parse_all(parser_t *p, proto_sel_t *sel)
{
    const char *lit;
    for (;;) {
        tok_t t = s_look(p, &lit, true);
        if (t == T_EOS)
            return 0;
        if (t != T_ID && t != T_NOT)
            return s_perr(p, "found '%s', expected: !, identifier, or 'end of string'", lit);
        sel_req_t r = {0};
        if (s_parse_requirement(p, &r) < 0) {
            static const char pre[] = "unable to parse requirement: ";
            size_t len = strnlen(p->msg, sizeof p->msg - sizeof pre);
            memmove(p->msg + sizeof pre - 1, p->msg, len);
            memcpy(p->msg, pre, sizeof pre - 1);
            p->msg[len + sizeof pre - 1] = 0;
            s_req_free(&r);
            return -1;
        }
        s_sel_add(sel, &r);
        if (sel->n > SEL_MAX_REQS)
            return s_perr(p, "too many requirements%s", "");
        t = s_take(p, &lit, true);
        if (t == T_EOS)
            return 0;
        if (t != T_COMMA)
            return s_perr(p, "found '%s', expected: ',' or 'end of string'", lit);
        tok_t t2 = s_look(p, &lit, true);
        if (t2 != T_ID && t2 != T_NOT)
            return s_perr(p, "found '%s', expected: identifier after ','", lit);
    }
}

static proto_sel_t *s_sel_new(void)
{
    proto_sel_t *s = s_xrealloc(NULL, sizeof *s);
    memset(s, 0, sizeof *s);
    return s;
}

int proto_sel_parse(const char *s, proto_sel_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!s)
        s = "";
    if (strlen(s) > SEL_MAX_INPUT)
        return s_fail(err, errlen, "label selector too long");
    parser_t p = {0};
    size_t pos = 0;
    for (;;) {
        item_t it = s_lex(s, &pos);
        p.items = s_xrealloc(p.items, (p.n + 1) * sizeof *p.items);
        p.items[p.n++] = it;
        if (it.t == T_EOS)
            break;
    }
    proto_sel_t *sel = s_sel_new();
    int rc = s_parse_all(&p, sel);
    for (size_t i = 0; i < p.n; i++)
        free(p.items[i].lit);
    free(p.items);
    if (rc < 0) {
        proto_sel_destroy(&sel);
        return s_fail(err, errlen, p.msg);
    }
    *out = sel;
    return 0;
}

/* ---- building from objects ---- */

static int s_op_from_str(const char *s, sel_op_t *op)
{
    static const struct {
        const char *s;
        sel_op_t op;
    } ops[] = {{"In", OP_IN}, {"NotIn", OP_NOTIN}, {"Exists", OP_EXISTS},
               {"DoesNotExist", OP_NOTEXISTS}};
    for (size_t i = 0; s && i < 4; i++)
        if (strcmp(s, ops[i].s) == 0) {
            *op = ops[i].op;
            return 0;
        }
    return -1;
}

static int s_add_expr(proto_sel_t *sel, const json_t *expr, char *err, size_t errlen)
{
    const char *key = json_string_value(json_object_get(expr, "key"));
    const char *ops = json_string_value(json_object_get(expr, "operator"));
    const json_t *vals = json_object_get(expr, "values");
    sel_req_t r = {0};
    if (!json_is_object(expr) || s_op_from_str(ops, &r.op) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "\"%s\" is not a valid label selector operator", ops ? ops : "");
        return s_fail(err, errlen, msg);
    }
    if (vals && !json_is_array(vals) && !json_is_null(vals))
        return s_fail(err, errlen, "matchExpressions values must be an array of strings");
    if (json_array_size(vals) > SEL_MAX_VALUES)
        return s_fail(err, errlen, "too many values in a label selector requirement");
    r.key = s_xstrdup(key ? key : "");
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)vals, i, v) {
        if (!json_is_string(v)) {
            s_req_free(&r);
            return s_fail(err, errlen, "matchExpressions values must be an array of strings");
        }
        s_req_insert(&r, json_string_value(v));
    }
    int rc = s_req_validate(&r, true, true, err, errlen);
    if (rc < 0) {
        s_req_free(&r);
        return rc;
    }
    s_sel_add(sel, &r);
    return 0;
}

static int s_add_equals(proto_sel_t *sel, const char *k, const json_t *v, bool validate,
                        char *err, size_t errlen)
{
    if (!json_is_string(v))
        return s_fail(err, errlen, "selector values must be strings");
    sel_req_t r = {.key = s_xstrdup(k), .op = OP_EQ};
    s_req_insert(&r, json_string_value(v));
    int rc = validate ? s_req_validate(&r, false, true, err, errlen) : 0;
    if (rc < 0) {
        s_req_free(&r);
        return rc;
    }
    s_sel_add(sel, &r);
    return 0;
}

int proto_sel_from_label_selector(const json_t *ls, proto_sel_t **out, char *err, size_t errlen)
{
    *out = s_sel_new();
    if (!ls || json_is_null(ls)) {
        (*out)->nothing = true;
        return 0;
    }
    int rc = json_is_object(ls) ? 0 : s_fail(err, errlen, "a label selector must be an object");
    const json_t *ml = json_object_get(ls, "matchLabels");
    const json_t *me = json_object_get(ls, "matchExpressions");
    if (rc == 0 && ((ml && !json_is_object(ml) && !json_is_null(ml)) ||
                    (me && !json_is_array(me) && !json_is_null(me))))
        rc = s_fail(err, errlen, "matchLabels must be a map and matchExpressions a list");
    if (rc == 0 && json_object_size(ml) + json_array_size(me) > SEL_MAX_REQS)
        rc = s_fail(err, errlen, "too many label selector requirements");
    const char *k;
    json_t *v;
    if (rc == 0) {
        json_object_foreach((json_t *)ml, k, v) {
            if ((rc = s_add_equals(*out, k, v, true, err, errlen)) < 0)
                break;
        }
    }
    size_t i;
    if (rc == 0) {
        json_array_foreach((json_t *)me, i, v) {
            if ((rc = s_add_expr(*out, v, err, errlen)) < 0)
                break;
        }
    }
    if (rc < 0)
        proto_sel_destroy(out);
    return rc;
}

int proto_sel_from_map(const json_t *map, proto_sel_t **out, char *err, size_t errlen)
{
    *out = s_sel_new();
    if (map && !json_is_object(map) && !json_is_null(map)) {
        proto_sel_destroy(out);
        return s_fail(err, errlen, "a selector must be a map of strings");
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v) {
        int rc = s_add_equals(*out, k, v, false, err, errlen);
        if (rc < 0) {
            proto_sel_destroy(out);
            return rc;
        }
    }
    return 0;
}

/* ---- matching and printing ---- */

static bool s_has_value(const sel_req_t *r, const char *v)
{
    return bsearch(&v, r->vals, r->nvals, sizeof *r->vals, s_cmp_str) != NULL;
}

static bool s_req_match(const sel_req_t *r, const json_t *labels)
{
    const json_t *lv = json_object_get(labels, r->key);
    const char *v = json_string_value(lv);
    bool has = v != NULL;
    switch (r->op) {
    case OP_IN: case OP_EQ: case OP_DEQ: return has && s_has_value(r, v);
    case OP_NOTIN: case OP_NEQ: return !has || !s_has_value(r, v);
    case OP_EXISTS: return has;
    case OP_NOTEXISTS: return !has;
    case OP_GT: case OP_LT: {
        if (!has || r->nvals != 1 || !s_is_int64(v) || !s_is_int64(r->vals[0]))
            return false;
        long long a = strtoll(v, NULL, 10), b = strtoll(r->vals[0], NULL, 10);
        return r->op == OP_GT ? a > b : a < b;
    }
    }
    return false;
}

bool proto_sel_match(const proto_sel_t *sel, const json_t *labels)
{
    if (!sel || sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n; i++)
        if (!s_req_match(&sel->reqs[i], json_is_object(labels) ? labels : NULL))
            return false;
    return true;
}

bool proto_sel_empty(const proto_sel_t *sel)
{
    return sel && !sel->nothing && sel->n == 0;
}

bool proto_sel_nothing(const proto_sel_t *sel)
{
    return !sel || sel->nothing;
}

static int s_cmp_req(const void *a, const void *b)
{
    const sel_req_t *x = *(const sel_req_t *const *)a, *y = *(const sel_req_t *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x < y ? -1 : x > y);
}

char *proto_sel_string(const proto_sel_t *sel)
{
    static const char *opstr[] = {" in ", " notin ", "=", "==", "!=", "", "", ">", "<"};
    sbuf_t b = {0};
    s_add(&b, "%s", "");
    if (!sel || sel->nothing)
        return b.p;
    const sel_req_t **order = s_xrealloc(NULL, sel->n * sizeof *order);
    for (size_t i = 0; i < sel->n; i++)
        order[i] = &sel->reqs[i];
    qsort(order, sel->n, sizeof *order, s_cmp_req);
    for (size_t i = 0; i < sel->n; i++) {
        const sel_req_t *r = order[i];
        s_add(&b, "%s%s%s%s", i ? "," : "", r->op == OP_NOTEXISTS ? "!" : "", r->key, opstr[r->op]);
        if (r->op == OP_EXISTS || r->op == OP_NOTEXISTS)
            continue;
        bool set = r->op == OP_IN || r->op == OP_NOTIN;
        s_add(&b, "%s", set ? "(" : "");
        for (size_t k = 0; k < r->nvals; k++)
            s_add(&b, "%s%s", k ? "," : "", r->vals[k]);
        s_add(&b, "%s", set ? ")" : "");
    }
    free(order);
    return b.p;
}

int proto_sel_to_label_selector(const proto_sel_t *sel, json_t **out, char *err, size_t errlen)
{
    static const char *opname[] = {"In", "NotIn", "", "", "!=", "Exists", "DoesNotExist", "gt",
                                   "lt"};
    *out = NULL;
    json_t *ml = json_object(), *me = json_array();
    for (size_t i = 0; sel && i < sel->n; i++) {
        const sel_req_t *r = &sel->reqs[i];
        if (r->op == OP_EQ || r->op == OP_DEQ) {
            json_object_set_new(ml, r->key, json_string(r->nvals ? r->vals[0] : ""));
            continue;
        }
        if (r->op == OP_NEQ || r->op == OP_GT || r->op == OP_LT) {
            char msg[64];
            snprintf(msg, sizeof msg, "\"%s\" %s", opname[r->op],
                     r->op == OP_NEQ ? "is not a valid label selector operator"
                                     : "isn't supported in label selectors");
            json_decref(ml);
            json_decref(me);
            return s_fail(err, errlen, msg);
        }
        json_t *e = json_pack("{s:s, s:s}", "key", r->key, "operator", opname[r->op]);
        if (r->nvals) {
            json_t *vals = json_array();
            for (size_t k = 0; k < r->nvals; k++)
                json_array_append_new(vals, json_string(r->vals[k]));
            json_object_set_new(e, "values", vals);
        }
        json_array_append_new(me, e);
    }
    json_t *ls = json_object();
    if (json_object_size(ml))
        json_object_set(ls, "matchLabels", ml);
    if (json_array_size(me))
        json_object_set(ls, "matchExpressions", me);
    json_decref(ml);
    json_decref(me);
    *out = ls;
    return 0;
}

void proto_sel_destroy(proto_sel_t **sel)
{
    if (!sel || !*sel)
        return;
    for (size_t i = 0; i < (*sel)->n; i++)
        s_req_free(&(*sel)->reqs[i]);
    free((*sel)->reqs);
    free(*sel);
    *sel = NULL;
}
