/*
 * protocol/yaml_resolve — the meaning of a plain YAML scalar, exactly as
 * go-yaml v2's resolve() gives it, since kubectl reads manifests with it
 * (through sigs.k8s.io/yaml) and prints `-o yaml` with it. The same table
 * decides when proto_yaml_dump must quote a string.
 */
#include "protocol/manifest.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_word {
    const char *w;
    proto_ykind_t k;
    int b; /* bool value, or +1/-1/0 for inf/-inf/nan */
} s_word_t;

static const s_word_t s_words[] = {
    {"y", PROTO_Y_BOOL, 1},       {"Y", PROTO_Y_BOOL, 1},       {"yes", PROTO_Y_BOOL, 1},
    {"Yes", PROTO_Y_BOOL, 1},     {"YES", PROTO_Y_BOOL, 1},     {"true", PROTO_Y_BOOL, 1},
    {"True", PROTO_Y_BOOL, 1},    {"TRUE", PROTO_Y_BOOL, 1},    {"on", PROTO_Y_BOOL, 1},
    {"On", PROTO_Y_BOOL, 1},      {"ON", PROTO_Y_BOOL, 1},      {"n", PROTO_Y_BOOL, 0},
    {"N", PROTO_Y_BOOL, 0},       {"no", PROTO_Y_BOOL, 0},      {"No", PROTO_Y_BOOL, 0},
    {"NO", PROTO_Y_BOOL, 0},      {"false", PROTO_Y_BOOL, 0},   {"False", PROTO_Y_BOOL, 0},
    {"FALSE", PROTO_Y_BOOL, 0},   {"off", PROTO_Y_BOOL, 0},     {"Off", PROTO_Y_BOOL, 0},
    {"OFF", PROTO_Y_BOOL, 0},     {"~", PROTO_Y_NULL, 0},       {"null", PROTO_Y_NULL, 0},
    {"Null", PROTO_Y_NULL, 0},    {"NULL", PROTO_Y_NULL, 0},    {".nan", PROTO_Y_FLOAT, 0},
    {".NaN", PROTO_Y_FLOAT, 0},   {".NAN", PROTO_Y_FLOAT, 0},   {".inf", PROTO_Y_FLOAT, 1},
    {".Inf", PROTO_Y_FLOAT, 1},   {".INF", PROTO_Y_FLOAT, 1},   {"+.inf", PROTO_Y_FLOAT, 1},
    {"+.Inf", PROTO_Y_FLOAT, 1},  {"+.INF", PROTO_Y_FLOAT, 1},  {"-.inf", PROTO_Y_FLOAT, -1},
    {"-.Inf", PROTO_Y_FLOAT, -1}, {"-.INF", PROTO_Y_FLOAT, -1}, {"<<", PROTO_Y_MERGE, 0},
};

/* go-yaml only looks words up when the first byte hints at one. */
static char s_hint(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return 'D';
    if (c == '+' || c == '-')
        return 'S';
    if (c == '.')
        return '.';
    if (strchr("yYnNtTfFoO~", c) && c)
        return 'M';
    if (c == '<')
        return '<';
    return 0;
}

static int s_digit(unsigned char c, int base)
{
    int d = c >= '0' && c <= '9'                     ? c - '0'
            : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                     : 99;
    return d < base ? d : -1;
}

/* Go's strconv.ParseUint(s, 0, 64). */
static bool s_parse_uint(const char *s, uint64_t *out)
{
    int base = 10;
    size_t n = strlen(s);
    if (n == 0)
        return false;
    if (s[0] == '0') {
        char l = n >= 3 ? (char)(s[1] | 0x20) : 0;
        base = l == 'b' ? 2 : l == 'o' ? 8 : l == 'x' ? 16 : 8;
        s += (l == 'b' || l == 'o' || l == 'x') ? 2 : 1;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        int d = s_digit((unsigned char)*s, base);
        if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return true;
}

/* Go's strconv.ParseInt(s, 0, 64). */
static bool s_parse_int(const char *s, int64_t *out)
{
    bool neg = s[0] == '-';
    uint64_t u;
    if (!s_parse_uint(s + (s[0] == '-' || s[0] == '+'), &u))
        return false;
    if (!neg && u > (uint64_t)INT64_MAX)
        return false;
    if (neg && u > (uint64_t)INT64_MAX + 1)
        return false;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool s_yaml_float(const char *s)
{
    size_t i = (s[0] == '-' || s[0] == '+'), d = 0;
    if (s[i] == '.') {
        for (i++; s[i] >= '0' && s[i] <= '9'; i++)
            d++;
    } else {
        for (; s[i] >= '0' && s[i] <= '9'; i++)
            d++;
        if (d && s[i] == '.')
            for (i++; s[i] >= '0' && s[i] <= '9'; i++)
                ;
    }
    if (!d)
        return false;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t e = 0;
        i += 1 + (s[i + 1] == '-' || s[i + 1] == '+');
        for (; s[i] >= '0' && s[i] <= '9'; i++)
            e++;
        if (!e)
            return false;
    }
    return s[i] == 0;
}

/* Reads 1 or 2 digits (Go's layout elements "1", "2", "15", "4", "5"). */
static bool s_num12(const char **p, int *v)
{
    const char *s = *p;
    if (!(s[0] >= '0' && s[0] <= '9'))
        return false;
    *v = s[0] - '0';
    s++;
    if (s[0] >= '0' && s[0] <= '9')
        *v = *v * 10 + (*s++ - '0');
    *p = s;
    return true;
}

static int s_mdays(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* "15:4:5[.frac]" then, when zoned, "Z" or "±hh:mm". */
static bool s_clock(const char *s, bool zoned)
{
    int h, mi, se;
    if (!s_num12(&s, &h) || *s++ != ':' || !s_num12(&s, &mi) || *s++ != ':' || !s_num12(&s, &se) ||
        h > 23 || mi > 59 || se > 59)
        return false;
    if (*s == '.' || *s == ',') {
        if (!(s[1] >= '0' && s[1] <= '9'))
            return false;
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    }
    if (!zoned)
        return *s == 0;
    if (*s == 'Z')
        return s[1] == 0;
    if (*s != '+' && *s != '-')
        return false;
    return s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && s[3] == ':' && s[4] >= '0' &&
           s[4] <= '9' && s[5] >= '0' && s[5] <= '9' && s[6] == 0 &&
           (s[1] - '0') * 10 + (s[2] - '0') <= 24 && (s[4] - '0') * 10 + (s[5] - '0') <= 59;
}

/* go-yaml's parseTimestamp: the four layouts it accepts, via time.Parse. */
static bool s_timestamp(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!(s[i] >= '0' && s[i] <= '9'))
            return false;
    if (s[4] != '-')
        return false;
    int y = atoi(s), m, d;
    const char *p = s + 5;
    if (!s_num12(&p, &m) || *p++ != '-' || !s_num12(&p, &d) || m < 1 || m > 12 || d < 1 ||
        d > s_mdays(y, m))
        return false;
    if (*p == 0)
        return true;
    if (*p == 'T' || *p == 't')
        return s_clock(p + 1, true);
    if (*p == ' ')
        return s_clock(p + 1, false);
    return false;
}

static proto_ykind_t s_word(const char *s, json_t **out)
{
    for (size_t i = 0; i < sizeof s_words / sizeof s_words[0]; i++) {
        const s_word_t *w = &s_words[i];
        if (strcmp(s, w->w) != 0)
            continue;
        if (out)
            *out = w->k == PROTO_Y_BOOL    ? json_boolean(w->b)
                   : w->k == PROTO_Y_NULL  ? json_null()
                   : w->k == PROTO_Y_MERGE ? json_string(s)
                                           : NULL;
        return w->k;
    }
    return PROTO_Y_STR;
}

/* Go's ParseFloat: out-of-range values are errors (so the scalar stays a
 * string), underflow is 0. */
static bool s_strtod(const char *s, double *x)
{
    char *end;
    errno = 0;
    *x = strtod(s, &end);
    return *end == 0 && end != s && !isinf(*x);
}

static proto_ykind_t s_number(const char *s, char *plain, json_t **out)
{
    size_t j = 0;
    for (size_t i = 0; s[i]; i++)
        if (s[i] != '_')
            plain[j++] = s[i];
    plain[j] = 0;
    int64_t iv;
    uint64_t uv;
    double x;
    if (s_parse_int(plain, &iv)) {
        if (out)
            *out = json_integer(iv);
        return PROTO_Y_INT;
    }
    if (s_parse_uint(plain, &uv)) {
        if (out)
            *out = json_real((double)uv);
        return PROTO_Y_INT;
    }
    if (s_yaml_float(plain) && s_strtod(plain, &x)) {
        if (out)
            *out = json_real(x);
        return PROTO_Y_FLOAT;
    }
    /* "-0b101": ParseInt of base 2 (already covered by base 0 above). */
    return PROTO_Y_STR;
}

proto_ykind_t proto_yaml_resolve(const char *s, size_t n, json_t **out)
{
    char small[128], *buf = n < sizeof small / 2 ? small : malloc(2 * n + 2);
    if (!buf)
        abort();
    memcpy(buf, s, n);
    buf[n] = 0;
    proto_ykind_t k = PROTO_Y_STR;
    if (out)
        *out = NULL;
    if (n == 0 || memchr(s, 0, n)) {
        k = n == 0 ? PROTO_Y_NULL : PROTO_Y_STR;
        if (out)
            *out = n == 0 ? json_null() : json_stringn(s, n);
        goto done;
    }
    char h = s_hint((unsigned char)s[0]);
    if (h && (k = s_word(buf, out)) != PROTO_Y_STR)
        goto done;
    double x;
    if (h == '.' && s_strtod(buf, &x))
        k = PROTO_Y_FLOAT, out ? *out = json_real(x) : 0;
    else if ((h == 'D' || h == 'S') && s_timestamp(buf))
        k = PROTO_Y_TIMESTAMP;
    else if (h == 'D' || h == 'S')
        k = s_number(buf, buf + n + 1, out);
done:
    if (out && !*out && k != PROTO_Y_FLOAT)
        *out = json_stringn(s, n);
    if (buf != small)
        free(buf);
    return k;
}
