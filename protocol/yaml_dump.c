/*
 * protocol/yaml_dump — objects printed exactly as `kubectl get -o yaml` and
 * `-o json` print them, byte for byte, so that users and scripts see the
 * same text from zkubectl. kubectl marshals to JSON with Go's encoding/json
 * (sorted keys, HTML-safe escapes, shortest floats), then for YAML re-reads
 * that JSON with go-yaml v2 and emits it with go-yaml's port of libyaml's
 * emitter. We drive libyaml's own emitter with the same events and styles,
 * and reproduce Go's number formatting and go-yaml's key order here.
 */
#include "protocol/manifest.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------ buffer */

typedef struct s_buf {
    char *p;
    size_t n, cap;
} s_buf_t;

static void s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
            abort();
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void s_puts(s_buf_t *b, const char *s)
{
    s_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s[i] (n bytes in all), 0 when the
 * byte starts none: Go then substitutes U+FFFD for that one byte. */
static size_t s_utf8_at(const unsigned char *s, size_t n, size_t i)
{
    unsigned c = s[i];
    size_t k = c < 0x80                 ? 0
               : c >= 0xc2 && c <= 0xdf ? 1
               : c >= 0xe0 && c <= 0xef ? 2
               : c >= 0xf0 && c <= 0xf4 ? 3
                                        : 9;
    if (k == 9 || n - i <= k)
        return k == 0 ? 1 : 0;
    uint32_t cp = c & (0x7f >> (k + 1));
    for (size_t j = 1; j <= k; j++) {
        if ((s[i + j] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + j] & 0x3f);
    }
    if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k + 1;
}

/* s with each invalid UTF-8 byte replaced by U+FFFD, as Go's JSON encoder
 * does before kubectl prints YAML; NULL when s is valid. Caller frees. */
static char *s_utf8_fix(const char *s, size_t n, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k;
    while (i < n && (k = s_utf8_at(u, n, i)) != 0)
        i += k;
    if (i == n)
        return NULL;
    s_buf_t b = {0};
    for (i = 0; i < n; i += k ? k : 1) {
        k = s_utf8_at(u, n, i);
        s_put(&b, k ? s + i : "\xef\xbf\xbd", k ? k : 3);
    }
    *outlen = b.n;
    return b.p;
}

/* ------------------------------------------------------------ Go floats */

/* Shortest digits that read back as x: x = 0.DIGITS * 10^(*dp). */
static void s_shortest(double x, char *digits, int *dp)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
        if (strtod(tmp, NULL) == x || prec == 17)
            break;
    }
    /* tmp is "d.ddde±XX" (x > 0 here) */
    char *e = strchr(tmp, 'e');
    int n = 0;
    for (char *p = tmp; p < e; p++)
        if (*p != '.')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = 0;
    *dp = atoi(e + 1) + 1;
}

/* strconv.FormatFloat(x, fmt, -1, 64) for fmt 'e', 'f' or 'g'. */
static void s_go_float(double x, char fmt, char *out, size_t cap)
{
    char d[24];
    int dp;
    const char *sign = signbit(x) ? "-" : "";
    if (x == 0) {
        snprintf(out, cap, "%s0%s", sign, fmt == 'e' ? "e+00" : "");
        return;
    }
    s_shortest(fabs(x), d, &dp);
    int nd = (int)strlen(d), exp = dp - 1;
    if (fmt == 'g')
        fmt = (exp < -4 || exp >= 6) ? 'e' : 'f'; /* shortest: eprec 6 */
    if (fmt == 'e') {
        snprintf(out, cap, "%s%c%s%se%c%02d", sign, d[0], nd > 1 ? "." : "", d + 1,
                 exp < 0 ? '-' : '+', abs(exp));
    } else if (dp <= 0) {
        snprintf(out, cap, "%s0.%0*d%s", sign, -dp, 0, d);
        if (dp == 0) /* "%0*d" with width 0 still prints one zero */
            snprintf(out, cap, "%s0.%s", sign, d);
    } else if (dp >= nd) {
        snprintf(out, cap, "%s%s%0*d", sign, d, dp - nd, 0);
        if (dp == nd)
            snprintf(out, cap, "%s%s", sign, d);
    } else {
        snprintf(out, cap, "%s%.*s.%s", sign, dp, d, d + dp);
    }
}

/* encoding/json's float64: 'f' unless tiny or huge, then 'e' with e-7. */
static void s_json_float(double x, char *out, size_t cap)
{
    double a = fabs(x);
    if (x == 0)
        x = 0; /* kubectl prints -0 as 0 */
    s_go_float(x, (a != 0 && (a < 1e-6 || a >= 1e21)) ? 'e' : 'f', out, cap);
    size_t n = strlen(out);
    if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
        out[n - 2] = out[n - 1];
        out[n - 1] = 0;
    }
}

/* ------------------------------------------------------------ JSON */

/* encoding/json's string escaping with HTML-safe escapes (kubectl's). */
static void s_json_str(s_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    s_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        bool ls = c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                  ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9);
        size_t k = c >= 0x80 ? s_utf8_at((const unsigned char *)s, n, i) : 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            snprintf(u, sizeof u, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            esc = u;
        } else if (ls) {
            esc = (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
        } else if (k == 0) {
            esc = "\\ufffd";
        }
        if (!esc) {
            i += k > 1 ? k - 1 : 0;
            continue;
        }
        s_put(b, s + start, i - start);
        s_puts(b, esc);
        i += ls ? 2 : 0;
        start = i + 1;
    }
    s_put(b, s + start, n - start);
    s_put(b, "\"", 1);
}

static void s_indent(s_buf_t *b, int level)
{
    static const char sp[] = "                                ";
    s_put(b, "\n", 1);
    for (int i = 0; i < level * 4; i += 32)
        s_put(b, sp, level * 4 - i < 32 ? (size_t)(level * 4 - i) : 32);
}

static int s_cmp_bytes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of o, sorted by cmp; caller frees the array (not the keys). */
static const char **s_keys(const json_t *o, int (*cmp)(const void *, const void *))
{
    size_t n = json_object_size(o), i = 0;
    const char **k = malloc((n ? n : 1) * sizeof *k);
    const char *key;
    json_t *v;
    if (!k)
        abort();
    json_object_foreach((json_t *)o, key, v)
    {
        (void)v;
        k[i++] = key;
    }
    qsort(k, n, sizeof *k, cmp);
    return k;
}

static void s_json(s_buf_t *b, const json_t *v, int level);

static void s_json_object(s_buf_t *b, const json_t *v, int level)
{
    size_t n = json_object_size(v);
    if (!n) {
        s_puts(b, "{}");
        return;
    }
    const char **k = s_keys(v, s_cmp_bytes);
    s_put(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        s_indent(b, level + 1);
        s_json_str(b, k[i], strlen(k[i]));
        s_put(b, ": ", 2);
        s_json(b, json_object_get(v, k[i]), level + 1);
        if (i + 1 < n)
            s_put(b, ",", 1);
    }
    s_indent(b, level);
    s_put(b, "}", 1);
    free(k);
}

static void s_json(s_buf_t *b, const json_t *v, int level)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        s_json_object(b, v, level);
        return;
    case JSON_ARRAY:
        if (!json_array_size(v)) {
            s_puts(b, "[]");
            return;
        }
        s_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            s_indent(b, level + 1);
            s_json(b, json_array_get(v, i), level + 1);
            if (i + 1 < json_array_size(v))
                s_put(b, ",", 1);
        }
        s_indent(b, level);
        s_put(b, "]", 1);
        return;
    case JSON_STRING:
        s_json_str(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s_puts(b, num);
        return;
    case JSON_REAL:
        s_json_float(json_real_value(v), num, sizeof num);
        s_puts(b, num);
        return;
    case JSON_TRUE:
        s_puts(b, "true");
        return;
    case JSON_FALSE:
        s_puts(b, "false");
        return;
    case JSON_NULL:
        s_puts(b, "null");
        return;
    }
}

char *proto_json_dump(const json_t *obj)
{
    s_buf_t b = {0};
    if (obj)
        s_json(&b, obj, 0);
    else
        s_puts(&b, "null");
    s_put(&b, "\n", 1);
    return b.p;
}

/* ------------------------------------------------------------ YAML */

/* Next code point of a UTF-8 string (strings here are valid UTF-8). */
static uint32_t s_rune(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = *s++;
    int k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (k)
        c &= 0x3f >> k;
    for (; k > 0 && (*s & 0xc0) == 0x80; k--)
        c = (c << 6) | (*s++ & 0x3f);
    *p = s;
    return c;
}

static size_t s_runes(const char *s, uint32_t **out)
{
    size_t n = strlen(s), i = 0;
    uint32_t *r = malloc((n + 1) * sizeof *r);
    if (!r)
        abort();
    for (const unsigned char *p = (const unsigned char *)s; *p;)
        r[i++] = s_rune(&p);
    *out = r;
    return i;
}

/* Non-letters above ASCII, for unicode.IsLetter: punctuation, symbols,
 * combining marks, private use and emoji. Letters of every script fall
 * outside these ranges; rarer symbols inside scripts may not. */
static const uint32_t s_nonletters[][2] = {
    {0x80, 0xa9},     {0xab, 0xb4},     {0xb6, 0xb9},       {0xbb, 0xbf},     {0xd7, 0xd7},
    {0xf7, 0xf7},     {0x300, 0x36f},   {0x2000, 0x2070},   {0x2072, 0x207e}, {0x2080, 0x208f},
    {0x20a0, 0x20ff}, {0x2190, 0x2bff}, {0x3000, 0x3004},   {0x3007, 0x3020}, {0x3036, 0x303a},
    {0x303d, 0x303f}, {0xe000, 0xf8ff}, {0xfe00, 0xfe6f},   {0xff00, 0xff20}, {0xff3b, 0xff40},
    {0xff5b, 0xff65}, {0xffe0, 0xffff}, {0x1f000, 0x1faff},
};

static bool s_isdigit(uint32_t c);

static bool s_letter(uint32_t c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    for (size_t i = 0; i < sizeof s_nonletters / sizeof s_nonletters[0]; i++)
        if (c >= s_nonletters[i][0] && c <= s_nonletters[i][1])
            return false;
    return !s_isdigit(c);
}

/* unicode.IsDigit: ASCII and the decimal digits of the common scripts. */
static bool s_isdigit(uint32_t c)
{
    static const uint32_t zeros[] = {0x30,  0x660, 0x6f0, 0x7c0, 0x966,  0x9e6,
                                     0xa66, 0xae6, 0xb66, 0xbe6, 0xc66,  0xce6,
                                     0xd66, 0xe50, 0xed0, 0xf20, 0x1040, 0xff10};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++)
        if (c >= zeros[i] && c <= zeros[i] + 9)
            return true;
    return false;
}

/* Digits from i on; go-yaml counts leading zeros after a non-zero prefix. */
static int64_t s_num_at(const uint32_t *r, size_t n, size_t i, bool seed, size_t *end)
{
    uint64_t v = seed ? 1 : 0;
    for (; i < n && s_isdigit(r[i]); i++)
        v = v * 10 + (r[i] - '0');
    *end = i;
    return (int64_t)v;
}

/* go-yaml v2 keyList.Less for two string keys ("natural" order). */
static bool s_natural_less(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    for (size_t i = 0; i < na && i < nb; i++) {
        if (a[i] == b[i])
            continue;
        bool al = s_letter(a[i]), bl = s_letter(b[i]);
        if (al && bl)
            return a[i] < b[i];
        if (al || bl)
            return bl;
        bool seed = false;
        if (a[i] == '0' || b[i] == '0')
            for (size_t j = i; j-- > 0 && s_isdigit(a[j]);)
                if (a[j] != '0') {
                    seed = true;
                    break;
                }
        size_t ai, bi;
        int64_t an = s_num_at(a, na, i, seed, &ai), bn = s_num_at(b, nb, i, seed, &bi);
        if (an != bn)
            return an < bn;
        if (ai != bi)
            return ai < bi;
        return a[i] < b[i];
    }
    return na < nb;
}

typedef struct s_key {
    const char *k;
    uint32_t *r;
    size_t n;
} s_key_t;

static int s_cmp_natural(const void *pa, const void *pb)
{
    const s_key_t *a = pa, *b = pb;
    if (s_natural_less(a->r, a->n, b->r, b->n))
        return -1;
    return s_natural_less(b->r, b->n, a->r, a->n) ? 1 : 0;
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool s_base60(const char *s)
{
    size_t i = (s[0] == '-' || s[0] == '+');
    if (!s_isdigit((unsigned char)s[i]) || !strchr(s, ':'))
        return false;
    while (s_isdigit((unsigned char)s[i]) || s[i] == '_')
        i++;
    int groups = 0;
    while (s[i] == ':') {
        i++;
        if (!s_isdigit((unsigned char)s[i]))
            return false;
        if (s_isdigit((unsigned char)s[i + 1]))
            if (s[i] > '5')
                return false;
        i += s_isdigit((unsigned char)s[i + 1]) ? 2 : 1;
        groups++;
    }
    if (!groups)
        return false;
    if (s[i] == '.')
        for (i++; s_isdigit((unsigned char)s[i]) || s[i] == '_'; i++)
            ;
    return s[i] == 0;
}

/* libyaml's emitter, plus the tails s_tail_quoted set aside (NULL: off). */
typedef struct s_yout {
    yaml_emitter_t em;
    s_buf_t *tails;
    size_t ntails;
} s_yout_t;

static int s_scalar(s_yout_t *em, const char *s, size_t n, yaml_scalar_style_t style);

static int s_emit(s_yout_t *em, yaml_event_t *ev)
{
    return yaml_emitter_emit(&em->em, ev) ? 0 : -1;
}

static int s_scalar(s_yout_t *em, const char *s, size_t n, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style))
        return -1;
    return s_emit(em, &ev);
}

/*
 * A single-quoted scalar that ends in line separators (U+2028/U+2029):
 * libyaml indents before the closing quote, go-yaml does not. We emit the
 * text with a sentinel in place of that tail, and s_put_tails puts the tail
 * back right before the quote. Styles come out the same: go-yaml asks for
 * plain, which a multi-line scalar never gets, so single quotes it is when
 * they are allowed - which the sentinel does not change (it is printable,
 * and the text before it does not end in a space).
 */
#define S_SENTINEL "\xef\xa3\xb0\xef\xa3\xb1\xef\xa3\xb2" /* U+F8F0..U+F8F2 */

static size_t s_break_tail(const char *s, size_t n)
{
    size_t t = 0;
    if (memchr(s, '\n', n))
        return 0; /* a literal block, written alike by both */
    while (n - t >= 3 && !memcmp(s + n - t - 3, "\xe2\x80", 2) &&
           ((unsigned char)s[n - t - 1] == 0xa8 || (unsigned char)s[n - t - 1] == 0xa9))
        t += 3;
    return t;
}

static int s_tail_quoted(s_yout_t *em, const char *s, size_t n, size_t tb)
{
    s_buf_t b = {0};
    s_put(&b, s, n - tb);
    s_puts(&b, S_SENTINEL);
    s_put(em->tails, s + n - tb, tb);
    s_put(em->tails, "", 1); /* tails are NUL-separated */
    em->ntails++;
    int rc = s_scalar(em, b.p, b.n, YAML_SINGLE_QUOTED_SCALAR_STYLE);
    free(b.p);
    return rc;
}

/* Replaces each sentinel (followed by the closing quote) with its tail -
 * escaped when the text needed double quotes anyway; false when the text
 * does not have exactly the sentinels we wrote. */
static bool s_put_tails(s_buf_t *out, const s_buf_t *tails, size_t ntails)
{
    s_buf_t r = {0};
    const char *p = out->p, *t = tails->p, *hit;
    size_t n = 0, sl = strlen(S_SENTINEL);
    while ((hit = strstr(p, S_SENTINEL)) != NULL) {
        if (n == ntails || (hit[sl] != '\'' && hit[sl] != '"')) {
            free(r.p);
            return false;
        }
        s_put(&r, p, (size_t)(hit - p));
        for (const char *c = t; hit[sl] == '"' && *c; c += 3) /* escaped, as libyaml does */
            s_puts(&r, (unsigned char)c[2] == 0xa8 ? "\\L" : "\\P");
        if (hit[sl] == '\'')
            s_puts(&r, t);
        t += strlen(t) + 1;
        p = hit + sl;
        n++;
    }
    s_puts(&r, p);
    if (n != ntails) {
        free(r.p);
        return false;
    }
    free(out->p);
    *out = r;
    return true;
}

/* go-yaml's own resolve() never looks "<<" up (its first byte gives no
 * hint), so it prints it plain although it reads it back as a merge key. */
static bool s_plain_ok(proto_ykind_t k)
{
    return k == PROTO_Y_STR || k == PROTO_Y_MERGE;
}

/* go-yaml's stringv: literal for multi-line, plain when it reads back as a
 * string, else double-quoted; the emitter downgrades plain where needed. */
static int s_string(s_yout_t *em, const char *s, size_t n, bool key)
{
    size_t fixed_n;
    char *fixed = s_utf8_fix(s, n, &fixed_n);
    if (fixed) {
        int rc = s_string(em, fixed, fixed_n, key);
        free(fixed);
        return rc;
    }
    size_t tb = key || !em->tails ? 0 : s_break_tail(s, n);
    if (tb && (tb == n || s[n - tb - 1] != ' '))
        return s_tail_quoted(em, s, n, tb);
    yaml_scalar_style_t st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (memchr(s, '\n', n))
        st = YAML_LITERAL_SCALAR_STYLE;
    else if (s_plain_ok(proto_yaml_resolve(s, n, NULL)) && !(strlen(s) == n && s_base60(s)))
        st = YAML_PLAIN_SCALAR_STYLE;
    return s_scalar(em, s, n, st);
}

/* A real went through JSON text first: integral ones come back as ints. */
static int s_real(s_yout_t *em, double x)
{
    char j[64], out[64];
    s_json_float(x, j, sizeof j);
    const char *p = j + (j[0] == '-');
    bool integral = *p && strspn(p, "0123456789") == strlen(p);
    char *end;
    errno = 0;
    long long iv = strtoll(j, &end, 10);
    if (integral && errno == 0)
        snprintf(out, sizeof out, "%lld", iv);
    else if (integral && j[0] != '-' && (errno = 0, strtoull(j, &end, 10), errno == 0))
        snprintf(out, sizeof out, "%s", j);
    else
        s_go_float(x, 'g', out, sizeof out);
    return s_scalar(em, out, strlen(out), YAML_PLAIN_SCALAR_STYLE);
}

static int s_node(s_yout_t *em, const json_t *v);

static int s_mapping(s_yout_t *em, const json_t *v)
{
    yaml_event_t ev;
    size_t n = json_object_size(v), i = 0;
    s_key_t *k = malloc((n ? n : 1) * sizeof *k);
    const char *key;
    json_t *x;
    int rc = 0;
    if (!k)
        abort();
    json_object_foreach((json_t *)v, key, x)
    {
        k[i].k = key;
        k[i].n = s_runes(key, &k[i].r);
        i++;
    }
    qsort(k, n, sizeof *k, s_cmp_natural);
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    rc = s_emit(em, &ev);
    for (i = 0; i < n && rc == 0; i++)
        if ((rc = s_string(em, k[i].k, strlen(k[i].k), true)) == 0)
            rc = s_node(em, json_object_get(v, k[i].k));
    for (i = 0; i < n; i++)
        free(k[i].r);
    free(k);
    yaml_mapping_end_event_initialize(&ev);
    return rc ? rc : s_emit(em, &ev);
}

static int s_sequence(s_yout_t *em, const json_t *v)
{
    yaml_event_t ev;
    int rc;
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    if ((rc = s_emit(em, &ev)) != 0)
        return rc;
    for (size_t i = 0; i < json_array_size(v); i++)
        if ((rc = s_node(em, json_array_get(v, i))) != 0)
            return rc;
    yaml_sequence_end_event_initialize(&ev);
    return s_emit(em, &ev);
}

static int s_node(s_yout_t *em, const json_t *v)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return s_mapping(em, v);
    case JSON_ARRAY:
        return s_sequence(em, v);
    case JSON_STRING:
        return s_string(em, json_string_value(v), json_string_length(v), false);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return s_scalar(em, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    case JSON_REAL:
        return s_real(em, json_real_value(v));
    case JSON_TRUE:
        return s_scalar(em, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE:
        return s_scalar(em, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    case JSON_NULL:
        return s_scalar(em, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    }
    return -1;
}

static int s_write(void *data, unsigned char *buf, size_t n)
{
    s_put(data, (const char *)buf, n);
    return 1;
}

static int s_document(s_yout_t *em, const json_t *obj)
{
    yaml_event_t ev;
    int rc;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    if ((rc = s_emit(em, &ev)) != 0)
        return rc;
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    if ((rc = s_emit(em, &ev)) != 0 || (rc = s_node(em, obj)) != 0)
        return rc;
    yaml_document_end_event_initialize(&ev, 1);
    if ((rc = s_emit(em, &ev)) != 0)
        return rc;
    yaml_stream_end_event_initialize(&ev);
    if ((rc = s_emit(em, &ev)) != 0)
        return rc;
    return yaml_emitter_flush(&em->em) ? 0 : -1;
}

/* One run of the emitter; tails NULL turns the U+2028 tail fix off. */
static char *s_yaml(const json_t *obj, s_buf_t *tails)
{
    s_yout_t o = {.tails = tails};
    s_buf_t b = {0};
    if (!yaml_emitter_initialize(&o.em))
        abort();
    yaml_emitter_set_output(&o.em, s_write, &b);
    yaml_emitter_set_unicode(&o.em, 1);
    yaml_emitter_set_indent(&o.em, 2);
    yaml_emitter_set_width(&o.em, 80);
    yaml_emitter_set_break(&o.em, YAML_LN_BREAK);
    int rc = s_document(&o, obj);
    yaml_emitter_delete(&o.em);
    if (rc == 0 && !b.p)
        s_puts(&b, "");
    if (rc == 0 && tails && o.ntails && !s_put_tails(&b, tails, o.ntails))
        rc = -1; /* a string held the sentinel itself: caller retries without */
    if (rc != 0) {
        free(b.p);
        return NULL;
    }
    /* libyaml ends a document in which a scalar kept its trailing newlines
     * (`|+`) with "..."; go-yaml's emitter does not. */
    if (b.n >= 4 && strcmp(b.p + b.n - 4, "...\n") == 0 && (b.n == 4 || b.p[b.n - 5] == '\n'))
        b.p[b.n -= 4] = 0;
    return b.p;
}

char *proto_yaml_dump(const json_t *obj)
{
    s_buf_t tails = {0};
    if (!obj)
        obj = json_null(); /* a static singleton in jansson */
    char *out = s_yaml(obj, &tails);
    free(tails.p);
    return out ? out : s_yaml(obj, NULL);
}
