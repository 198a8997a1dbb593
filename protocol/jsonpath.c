/*
 * protocol/jsonpath — the parser of kubectl's JSONPath templates. It follows
 * k8s.io/client-go/util/jsonpath/parser.go step by step (same tokens, same
 * odd corners, same error words) so that `zkubectl -o jsonpath=...` accepts
 * and rejects exactly what kubectl does. Evaluation is in jsonpath_exec.c.
 */
#include "protocol/jsonpath.h"

#include "protocol/jsonpath_int.h"
#include "protocol/status.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JP_EOF (-1)

typedef struct jp_parser {
    const char *in;
    size_t len, pos, start, width;
    jp_node_t *root;
    int depth;
    char msg[256];
} jp_parser_t;

static int s_inside(jp_parser_t *p, jp_node_t *cur);
static int s_parse_text(jp_parser_t *p);

static void *s_xcalloc(size_t n, size_t sz)
{
    void *r = calloc(n ? n : 1, sz);
    if (!r) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return r;
}

static char *s_xstrndup(const char *s, size_t n)
{
    char *r = s_xcalloc(n + 1, 1);
    memcpy(r, s, n);
    return r;
}

static jp_node_t *s_node(jp_type_t t)
{
    jp_node_t *n = s_xcalloc(1, sizeof *n);
    n->type = t;
    return n;
}

static void s_append(jp_node_t *list, jp_node_t *n)
{
    if (list->nkids == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 4;
        jp_node_t **k = realloc(list->kids, list->cap * sizeof *k);
        if (!k) {
            fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
            abort();
        }
        list->kids = k;
    }
    list->kids[list->nkids++] = n;
}

static void s_free_node(jp_node_t *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        s_free_node(n->kids[i]);
    free(n->kids);
    s_free_node(n->left);
    s_free_node(n->right);
    free(n->text);
    free(n);
}

static int s_fail(jp_parser_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decodes one UTF-8 rune at s (n bytes left); invalid bytes give U+FFFD, width 1. */
static int s_rune(const unsigned char *s, size_t n, size_t *w)
{
    *w = 1;
    if (s[0] < 0x80)
        return s[0];
    int need = (s[0] & 0xE0) == 0xC0 ? 1 : (s[0] & 0xF0) == 0xE0 ? 2 : (s[0] & 0xF8) == 0xF0 ? 3 : -1;
    if (need < 0 || (size_t)need >= n)
        return 0xFFFD;
    int r = s[0] & (0x3F >> need);
    for (int i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        r = (r << 6) | (s[i] & 0x3F);
    }
    static const int min[] = {0, 0x80, 0x800, 0x10000};
    if (r < min[need] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        return 0xFFFD;
    *w = (size_t)need + 1;
    return r;
}

static int s_next(jp_parser_t *p)
{
    if (p->pos >= p->len) {
        p->width = 0;
        return JP_EOF;
    }
    int r = s_rune((const unsigned char *)p->in + p->pos, p->len - p->pos, &p->width);
    p->pos += p->width;
    return r;
}

static int s_peek(jp_parser_t *p)
{
    size_t pos = p->pos, w = p->width;
    int r = s_next(p);
    p->pos = pos;
    p->width = w;
    return r;
}

static void s_backup(jp_parser_t *p)
{
    p->pos -= p->width;
}

static char *s_consume(jp_parser_t *p, size_t *n)
{
    size_t len = p->pos - p->start;
    char *r = s_xstrndup(p->in + p->start, len);
    p->start = p->pos;
    if (n)
        *n = len;
    return r;
}

static void s_skip(jp_parser_t *p)
{
    p->start = p->pos;
}

static bool s_prefix(const jp_parser_t *p, const char *pre)
{
    size_t n = strlen(pre);
    return p->len - p->pos >= n && memcmp(p->in + p->pos, pre, n) == 0;
}

/* unicode.IsLetter/IsDigit approximated: every non-ASCII rune counts as a letter. */
static bool s_alnum(int r)
{
    return r == '_' || (r >= 0 && r < 0x80 && isalnum(r)) || r >= 0x80;
}

static bool s_terminator(int r)
{
    switch (r) {
    case ' ': case '\t': case '\r': case '\n': case JP_EOF:
    case '.': case ',': case '[': case ']': case '$': case '@': case '{': case '}':
        return true;
    }
    return false;
}

/* A sub-parser over text + "}" whose root is a fresh list (parseAction). */
static int s_parse_action(jp_parser_t *p, const char *text, size_t n, jp_node_t **out)
{
    if (p->depth >= JP_MAX_DEPTH)
        return s_fail(p, "template nested too deeply");
    bool add = n == 0 || text[n - 1] != '}';
    char *buf = s_xcalloc(n + 2, 1);
    memcpy(buf, text, n);
    if (add)
        buf[n++] = '}';
    jp_parser_t sub = {.in = buf, .len = n, .depth = p->depth + 1};
    sub.root = s_node(JP_LIST);
    int rc = s_inside(&sub, sub.root);
    if (rc == 1)
        rc = s_parse_text(&sub);
    free(buf);
    if (rc < 0) {
        memcpy(p->msg, sub.msg, sizeof p->msg);
        s_free_node(sub.root);
        return -1;
    }
    *out = sub.root;
    return 0;
}

static void s_rune_utf8(int r, char *buf, size_t *n)
{
    if (r < 0x80) {
        buf[(*n)++] = (char)r;
    } else if (r < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (r >> 6));
        buf[(*n)++] = (char)(0x80 | (r & 0x3F));
    } else if (r < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (r >> 12));
        buf[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (r & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (r >> 18));
        buf[(*n)++] = (char)(0x80 | ((r >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (r & 0x3F));
    }
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* strconv.UnquoteChar for one escape after the backslash at s[0]; -1 = ErrSyntax. */
static int s_unescape(const char *s, size_t n, char quote, char *out, size_t *o, size_t *used)
{
    if (n < 2)
        return -1;
    char c = s[1];
    static const char from[] = "abfnrtv\\", to[] = "\a\b\f\n\r\t\v\\";
    const char *f = strchr(from, c);
    if (c && f) {
        out[(*o)++] = to[f - from];
        *used = 2;
        return 0;
    }
    if (c == '\'' || c == '"') {
        if (c != quote)
            return -1;
        out[(*o)++] = c;
        *used = 2;
        return 0;
    }
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : (c >= '0' && c <= '7') ? 3 : 0;
    if (!digits || n < (size_t)(digits + (c >= '0' && c <= '7' ? 1 : 2)))
        return -1;
    long v = 0;
    if (c >= '0' && c <= '7') {
        for (int i = 1; i <= 3; i++) {
            if (s[i] < '0' || s[i] > '7')
                return -1;
            v = v * 8 + (s[i] - '0');
        }
        if (v > 255)
            return -1;
        out[(*o)++] = (char)v;
        *used = 4;
        return 0;
    }
    for (int i = 2; i < 2 + digits; i++) {
        int h = s_hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    *used = (size_t)digits + 2;
    if (c == 'x') {
        out[(*o)++] = (char)v;
        return 0;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    s_rune_utf8((int)v, out, o);
    return 0;
}

/* UnquoteExtend: s includes its quotes. */
static int s_unquote(const char *s, size_t n, char **out, size_t *outn)
{
    if (n < 2 || s[0] != s[n - 1] || (s[0] != '"' && s[0] != '\''))
        return -1;
    char quote = s[0];
    s++;
    n -= 2;
    char *buf = s_xcalloc(n * 4 + 1, 1);
    size_t o = 0;
    bool trivial = !memchr(s, '\\', n) && !memchr(s, quote, n);
    for (size_t i = 0; i < n;) {
        if (trivial || s[i] != '\\') {
            if (!trivial && s[i] == quote) {
                free(buf);
                return -1;
            }
            size_t w;
            int r = s_rune((const unsigned char *)s + i, n - i, &w);
            if (trivial || r != 0xFFFD || w != 1) {
                memcpy(buf + o, s + i, w);
                o += w;
            } else {
                s_rune_utf8(r, buf, &o);
            }
            i += w;
            continue;
        }
        size_t used = 0;
        if (s_unescape(s + i, n - i, quote, buf, &o, &used) < 0) {
            free(buf);
            return -1;
        }
        i += used;
    }
    *out = buf;
    *outn = o;
    return 0;
}

static int s_parse_quote(jp_parser_t *p, jp_node_t *cur, int end)
{
    for (;;) {
        int r = s_next(p);
        if (r == JP_EOF || r == '\n')
            return s_fail(p, "unterminated quoted string");
        if (r == end && p->in[p->pos - 2] != '\\')
            break;
    }
    size_t n;
    char *value = s_consume(p, &n);
    jp_node_t *t = s_node(JP_TEXT);
    if (s_unquote(value, n, &t->text, &t->tlen) < 0) {
        s_fail(p, "unquote string %s error invalid syntax", value);
        free(value);
        s_free_node(t);
        return -1;
    }
    free(value);
    s_append(cur, t);
    return 0;
}

static int s_parse_field(jp_parser_t *p, jp_node_t *cur)
{
    s_skip(p);
    for (;;) {
        int r = s_next(p);
        if (r == '\\') {
            s_next(p);
        } else if (s_terminator(r)) {
            s_backup(p);
            break;
        }
    }
    size_t n;
    char *value = s_consume(p, &n);
    if (strcmp(value, "*") == 0) {
        free(value);
        s_append(cur, s_node(JP_WILDCARD));
        return 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (value[i] != '\\')
            value[o++] = value[i];
    value[o] = 0;
    jp_node_t *f = s_node(JP_FIELD);
    f->text = value;
    f->tlen = o;
    s_append(cur, f);
    return 0;
}

static int s_parse_recursive(jp_parser_t *p, jp_node_t *cur)
{
    if (cur->nkids && cur->kids[cur->nkids - 1]->type == JP_RECURSIVE)
        return s_fail(p, "invalid multiple recursive descent");
    p->pos += 2;
    s_skip(p);
    s_append(cur, s_node(JP_RECURSIVE));
    if (s_alnum(s_peek(p)))
        return s_parse_field(p, cur);
    return 0;
}

/* strconv.Atoi: optional sign, decimal digits, no overflow. */
static bool s_atoi(const char *s, int64_t *v)
{
    const char *d = s + (*s == '+' || *s == '-');
    if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 18)
        return false;
    *v = strtoll(s, NULL, 10);
    return true;
}

static int s_parse_number(jp_parser_t *p, jp_node_t *cur)
{
    int r = s_peek(p);
    if (r == '+' || r == '-')
        s_next(p);
    for (;;) {
        r = s_next(p);
        if (r != '.' && !(r >= '0' && r <= '9')) {
            s_backup(p);
            break;
        }
    }
    char *value = s_consume(p, NULL);
    int64_t i;
    if (s_atoi(value, &i)) {
        jp_node_t *n = s_node(JP_INT);
        n->ival = i;
        s_append(cur, n);
        free(value);
        return 0;
    }
    const char *d = value + (*value == '+' || *value == '-');
    char *end = NULL;
    double f = strtod(value, &end);
    /* ParseFloat accepts digits with at most one dot and at least one digit */
    if (*d && strchr(d, '.') == strrchr(d, '.') && strcmp(d, ".") != 0 && end && !*end) {
        jp_node_t *n = s_node(JP_FLOAT);
        n->fval = f;
        s_append(cur, n);
        free(value);
        return 0;
    }
    s_fail(p, "cannot parse number %s", value);
    free(value);
    return -1;
}

static int s_parse_identifier(jp_parser_t *p, jp_node_t *cur)
{
    for (;;) {
        int r = s_next(p);
        if (s_terminator(r)) {
            s_backup(p);
            break;
        }
    }
    size_t n;
    char *value = s_consume(p, &n);
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        jp_node_t *b = s_node(JP_BOOL);
        b->bval = value[0] == 't';
        free(value);
        s_append(cur, b);
        return 0;
    }
    jp_node_t *id = s_node(JP_IDENT);
    id->text = value;
    id->tlen = n;
    s_append(cur, id);
    return 0;
}

/* ^(-?[\d]*)(:-?[\d]*)?(:-?[\d]*)?$ split into three groups; false if no match. */
static bool s_slice_groups(const char *t, char g[3][32])
{
    memset(g, 0, 3 * 32);
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*t != ':')
                break;
        }
        const char *s = t;
        if (i > 0)
            t++;
        if (*t == '-')
            t++;
        t += strspn(t, "0123456789");
        if ((size_t)(t - s) >= 32)
            return false;
        memcpy(g[i], s, (size_t)(t - s));
    }
    return *t == 0;
}

static int s_parse_slice(jp_parser_t *p, jp_node_t *cur, const char *text)
{
    char g[3][32];
    if (!s_slice_groups(text, g))
        return s_fail(p, "invalid array index %s", text);
    jp_node_t *a = s_node(JP_ARRAY);
    for (int i = 0; i < 3; i++) {
        const char *v = g[i];
        if (*v) {
            if (i > 0)
                v++;
            if (i > 0 && !*v) {
                a->params[i].known = false;
            } else {
                a->params[i].known = true;
                if (!s_atoi(v, &a->params[i].value)) {
                    s_free_node(a);
                    return s_fail(p, "array index %s is not a number", v);
                }
            }
        } else if (i == 1) {
            a->params[1].known = true;
            a->params[1].value = a->params[0].value + 1;
            a->params[1].derived = true;
        }
    }
    s_append(cur, a);
    return 0;
}

static int s_parse_union(jp_parser_t *p, jp_node_t *cur, const char *text)
{
    jp_node_t *u = s_node(JP_UNION);
    const char *s = text;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && *s == ' ')
            s++, n--;
        while (n && s[n - 1] == ' ')
            n--;
        char *part = s_xcalloc(n + 3, 1);
        part[0] = '[';
        memcpy(part + 1, s, n);
        part[n + 1] = ']';
        jp_node_t *root = NULL;
        int rc = s_parse_action(p, part, n + 2, &root);
        free(part);
        if (rc < 0) {
            s_free_node(u);
            return -1;
        }
        s_append(u, root);
        if (!e)
            break;
        s = e + 1;
    }
    s_append(cur, u);
    return 0;
}

static int s_parse_array(jp_parser_t *p, jp_node_t *cur)
{
    for (;;) {
        int r = s_next(p);
        if (r == JP_EOF || r == '\n')
            return s_fail(p, "unterminated array");
        if (r == ']')
            break;
    }
    size_t n;
    char *full = s_consume(p, &n);
    char *text = full + 1;
    full[n - 1] = 0;
    int rc;
    if (strcmp(text, "*") == 0)
        text = ":";
    if (strchr(text, ',')) {
        rc = s_parse_union(p, cur, text);
    } else {
        size_t tl = strlen(text);
        if (tl >= 2 && text[0] == '\'' && text[tl - 1] == '\'' && !memchr(text + 1, '\'', tl - 2)) {
            char *dot = s_xcalloc(tl + 1, 1);
            dot[0] = '.';
            memcpy(dot + 1, text + 1, tl - 2);
            jp_node_t *root = NULL;
            rc = s_parse_action(p, dot, tl - 1, &root);
            free(dot);
            if (rc == 0) {
                for (size_t i = 0; i < root->nkids; i++)
                    s_append(cur, root->kids[i]);
                root->nkids = 0;
                s_free_node(root);
            }
        } else {
            rc = s_parse_slice(p, cur, text);
        }
    }
    free(full);
    return rc;
}

/* ^([^!<>=]+)([!<>=]+)(.+?)$ */
static bool s_filter_split(const char *t, size_t *l, size_t *op)
{
    size_t a = strcspn(t, "!<>=");
    if (a == 0 || !t[a])
        return false;
    size_t b = strspn(t + a, "!<>=");
    if (!t[a + b] || strchr(t + a + b, '\n'))
        return false;
    *l = a;
    *op = b;
    return true;
}

static int s_filter_scan(jp_parser_t *p)
{
    bool begin = false, end = false;
    int pair = 0;
    for (;;) {
        int r = s_next(p);
        if (r == JP_EOF || r == '\n')
            return s_fail(p, "unterminated filter");
        if (r == '"' || r == '\'') {
            if (!begin) {
                begin = true;
                pair = r;
                continue;
            }
            if (p->in[p->pos - 2] != '\\' && r == pair)
                end = true;
        } else if (r == ')' && begin == end) {
            break;
        }
    }
    if (s_next(p) != ']')
        return s_fail(p, "unclosed array expect ]");
    return 0;
}

static int s_parse_filter(jp_parser_t *p, jp_node_t *cur)
{
    p->pos += 3;
    s_skip(p);
    if (s_filter_scan(p) < 0)
        return -1;
    size_t n;
    char *text = s_consume(p, &n);
    text[n - 2] = 0;
    size_t l, op;
    jp_node_t *f = s_node(JP_FILTER);
    int rc;
    if (!s_filter_split(text, &l, &op)) {
        f->text = s_xstrndup("exists", 6);
        rc = s_parse_action(p, text, n - 2, &f->left);
        if (rc == 0)
            f->right = s_node(JP_LIST);
    } else {
        f->text = s_xstrndup(text + l, op);
        rc = s_parse_action(p, text, l, &f->left);
        if (rc == 0)
            rc = s_parse_action(p, text + l + op, n - 2 - l - op, &f->right);
    }
    free(text);
    if (rc < 0) {
        s_free_node(f);
        return -1;
    }
    s_append(cur, f);
    return 0;
}

/* parseInsideAction as a loop: 0 never; 1 when the right delimiter was met; -1 error. */
static int s_inside(jp_parser_t *p, jp_node_t *cur)
{
    for (;;) {
        int rc = 0;
        if (s_prefix(p, "}")) {
            p->pos += 1;
            s_skip(p);
            return 1;
        }
        if (s_prefix(p, "[?(")) {
            rc = s_parse_filter(p, cur);
        } else if (s_prefix(p, "..")) {
            rc = s_parse_recursive(p, cur);
        } else {
            int r = s_next(p);
            if (r == JP_EOF || r == '\r' || r == '\n')
                return s_fail(p, "unclosed action");
            if (r == ' ' || r == '@' || r == '$') {
                s_skip(p);
            } else if (r == '[') {
                rc = s_parse_array(p, cur);
            } else if (r == '"' || r == '\'') {
                rc = s_parse_quote(p, cur, r);
            } else if (r == '.') {
                rc = s_parse_field(p, cur);
            } else if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
                s_backup(p);
                rc = s_parse_number(p, cur);
            } else if (s_alnum(r)) {
                s_backup(p);
                rc = s_parse_identifier(p, cur);
            } else if (r >= 0x20 && r != 0x7F && (r < 0x80 || r >= 0xA0)) {
                return s_fail(p, "unrecognized character in action: U+%04X '%.*s'", (unsigned)r,
                              (int)p->width, p->in + p->pos - p->width);
            } else {
                return s_fail(p, "unrecognized character in action: U+%04X", (unsigned)r);
            }
        }
        if (rc < 0)
            return rc;
    }
}

/* parseText + parseLeftDelim, looping instead of Go's mutual recursion. */
static int s_parse_text(jp_parser_t *p)
{
    for (;;) {
        while (!s_prefix(p, "{")) {
            if (s_next(p) == JP_EOF) {
                if (p->pos > p->start) {
                    jp_node_t *t = s_node(JP_TEXT);
                    t->text = s_consume(p, &t->tlen);
                    s_append(p->root, t);
                }
                return 0;
            }
        }
        if (p->pos > p->start) {
            jp_node_t *t = s_node(JP_TEXT);
            t->text = s_consume(p, &t->tlen);
            s_append(p->root, t);
        }
        p->pos += 1;
        s_skip(p);
        jp_node_t *list = s_node(JP_LIST);
        s_append(p->root, list);
        int rc = s_inside(p, list);
        if (rc < 0)
            return rc;
    }
}

int proto_jp_compile(const char *tmpl, proto_jp_t **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t n = tmpl ? strlen(tmpl) : 0;
    if (n > JP_MAX_TEMPLATE) {
        if (err && errlen)
            snprintf(err, errlen, "error parsing jsonpath: template longer than %d bytes",
                     JP_MAX_TEMPLATE);
        return PROTO_EBADREQUEST;
    }
    if (n == 0) {
        /* the library parses "", but kubectl refuses it before parsing */
        if (err && errlen)
            snprintf(err, errlen, "template format specified but no template given");
        return PROTO_EBADREQUEST;
    }
    jp_parser_t p = {.in = tmpl, .len = n};
    p.root = s_node(JP_LIST);
    if (s_parse_text(&p) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "error parsing jsonpath %s, %s", p.in, p.msg);
        s_free_node(p.root);
        return PROTO_EBADREQUEST;
    }
    proto_jp_t *jp = s_xcalloc(1, sizeof *jp);
    jp->raw = s_xstrndup(p.in, n);
    jp->root = p.root;
    *out = jp;
    return 0;
}

void proto_jp_destroy(proto_jp_t **jp)
{
    if (!jp || !*jp)
        return;
    s_free_node((*jp)->root);
    free((*jp)->raw);
    free(*jp);
    *jp = NULL;
}
