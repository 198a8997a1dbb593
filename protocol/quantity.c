/*
 * protocol/quantity — Kubernetes resource quantities ("100m", "128Mi",
 * "1e3"). Parsing follows k8s.io/apimachinery/pkg/api/resource
 * (ParseQuantity: the int64 fast path that keeps canonical input verbatim,
 * the exact decimal path rounded up to nano and capped at 2^63-1), and
 * printing follows Quantity.String() (CanonicalizeBytes). The scheduler and
 * the kubelet compare requests and limits with these.
 */
#include "protocol/quantity.h"

#include "protocol/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QTY_MAX_INPUT 256
#define QTY_MAX_DIGITS (2 * QTY_MAX_INPUT + 64)

static const char *s_regex_msg = "quantities must match the regular expression "
                                 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/* The maximum Kubernetes keeps: 2^63-1 units, in nano. */
static __int128 s_max_nano(void)
{
    return (__int128)INT64_MAX * 1000000000;
}

typedef struct qparts {
    bool positive;
    char num[QTY_MAX_INPUT], denom[QTY_MAX_INPUT], suffix[QTY_MAX_INPUT];
} qparts_t;

static size_t s_digits(const char *s)
{
    return strspn(s, "0123456789");
}

/* parseQuantityString: 0, or -1 for ErrFormatWrong. */
static int s_split(const char *str, qparts_t *q)
{
    size_t pos = 0, end = strlen(str);
    q->positive = true;
    q->num[0] = q->denom[0] = q->suffix[0] = 0;
    if (end && (str[0] == '-' || str[0] == '+'))
        q->positive = str[pos++] != '-';
    pos += strspn(str + pos, "0");
    if (pos >= end) {
        strcpy(q->num, "0");
        return 0;
    }
    size_t n = s_digits(str + pos);
    memcpy(q->num, str + pos, n);
    q->num[n] = 0;
    pos += n;
    if (!n)
        strcpy(q->num, "0");
    if (str[pos] == '.') {
        pos++;
        n = s_digits(str + pos);
        memcpy(q->denom, str + pos, n);
        q->denom[n] = 0;
        pos += n;
    }
    size_t sstart = pos;
    pos += strspn(str + pos, "eEinumkKMGTP");
    if (str[pos] == '-' || str[pos] == '+')
        pos++;
    pos += s_digits(str + pos);
    if (pos < end)
        return -1;
    strcpy(q->suffix, str + sstart);
    return 0;
}

/* quantitySuffixer.interpret: base 10 or 2, exponent, format; -1 if unknown. */
static int s_suffix(const char *suf, int *base, int32_t *exp, proto_qfmt_t *fmt)
{
    static const char *dec[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
    static const char *bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    for (int i = 0; i < 10; i++)
        if (strcmp(suf, dec[i]) == 0) {
            *base = 10, *exp = (int32_t)(i * 3 - 9), *fmt = PROTO_QFMT_DECIMAL_SI;
            return 0;
        }
    for (int i = 0; i < 6; i++)
        if (strcmp(suf, bin[i]) == 0) {
            *base = 2, *exp = (int32_t)(i + 1) * 10, *fmt = PROTO_QFMT_BINARY_SI;
            return 0;
        }
    if (strlen(suf) > 1 && (suf[0] == 'e' || suf[0] == 'E')) {
        const char *d = suf + 1 + (suf[1] == '-' || suf[1] == '+');
        if (!*d || s_digits(d) != strlen(d) || strlen(d) > 19)
            return -1;
        errno = 0;
        long long v = strtoll(suf + 1, NULL, 10);
        if (errno)
            return -1;
        *base = 10, *exp = (int32_t)v, *fmt = PROTO_QFMT_DECIMAL_EXP;
        return 0;
    }
    return -1;
}

/* Canonical text of (-)M x 10^E: factors of ten moved into E, E lowered to a multiple of 3. */
static void s_canon_dec(const char *m, int64_t e, bool neg, proto_qfmt_t fmt, char *out, size_t n)
{
    char d[QTY_MAX_DIGITS + 8];
    if (n > sizeof d)
        n = sizeof d;
    m += strspn(m, "0");
    size_t len = strlen(m);
    if (len == 0 || len > QTY_MAX_DIGITS) {
        snprintf(out, n, "0");
        return;
    }
    memcpy(d, m, len);
    while (len > 1 && d[len - 1] == '0')
        len--, e++;
    while (e % 3 != 0)
        d[len++] = '0', e--;
    d[len] = 0;
    static const char *si[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
    char suf[32] = "";
    if (fmt == PROTO_QFMT_DECIMAL_EXP) {
        if (e != 0)
            snprintf(suf, sizeof suf, "e%lld", (long long)e);
    } else if (e >= -9 && e <= 18) {
        snprintf(suf, sizeof suf, "%s", si[(e + 9) / 3]);
    } else {
        snprintf(suf, sizeof suf, "e%lld", (long long)e);
    }
    if (snprintf(out, n, "%s%s%s", neg ? "-" : "", d, suf) >= (int)n)
        snprintf(out, n, "0");
}

static void s_i128_str(unsigned __int128 v, char *buf)
{
    char tmp[48];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (int k = 0; k < i; k++)
        buf[k] = tmp[i - 1 - k];
    buf[i] = 0;
}

/* String() from the value alone (CanonicalizeBytes). */
static void s_canon_nano(__int128 nano, proto_qfmt_t fmt, char *out, size_t n)
{
    if (nano == 0) {
        snprintf(out, n, "0");
        return;
    }
    bool neg = nano < 0;
    unsigned __int128 a = neg ? -(unsigned __int128)nano : (unsigned __int128)nano;
    __int128 k1024 = (__int128)1024 * 1000000000;
    if (fmt == PROTO_QFMT_BINARY_SI) {
        if ((nano > -k1024 && nano < k1024) || a % 1000000000 != 0)
            fmt = PROTO_QFMT_DECIMAL_SI;
    }
    char digits[48];
    if (fmt != PROTO_QFMT_BINARY_SI) {
        s_i128_str(a, digits);
        s_canon_dec(digits, -9, neg, fmt, out, n);
        return;
    }
    unsigned __int128 units = a / 1000000000;
    int exp = 0;
    while (units % 1024 == 0 && exp < 6)
        units /= 1024, exp++;
    static const char *bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    s_i128_str(units, digits);
    snprintf(out, n, "%s%s%s", neg ? "-" : "", digits, bin[exp]);
}

/* Nano values beyond this only arise from huge decimal quantities, which
 * Kubernetes keeps exactly; their nano saturates here (their text stays exact). */
static __int128 s_huge_nano(void)
{
    return s_max_nano() * 1000;
}

/* Decimal digit string (no sign) times 10^x, rounded up to nano, saturated at cap. */
static __int128 s_digits_nano(const char *g, int64_t x, __int128 cap)
{
    g += strspn(g, "0");
    int64_t len = (int64_t)strlen(g), k = x + 9;
    if (len == 0)
        return 0;
    int64_t keep = k >= 0 ? len : len + k;
    if ((k >= 0 && len + k > 32) || keep > 32)
        return cap;
    __int128 v = 0;
    for (int64_t i = 0; i < keep; i++)
        v = v * 10 + (g[i] - '0');
    if (k >= 0) {
        for (int64_t i = 0; i < k; i++)
            v *= 10;
    } else {
        bool frac = false;
        for (int64_t i = keep < 0 ? 0 : keep; i < len; i++)
            frac |= g[i] != '0';
        if (frac)
            v += 1;
    }
    return v > cap ? cap : v;
}

/* Doubles a decimal digit string in place (it has room for one more digit). */
static void s_double(char *g)
{
    int carry = 0;
    size_t len = strlen(g);
    for (size_t i = len; i-- > 0;) {
        int d = (g[i] - '0') * 2 + carry;
        g[i] = (char)('0' + d % 10);
        carry = d / 10;
    }
    if (carry) {
        memmove(g + 1, g, len + 1);
        g[0] = '1';
    }
}

/* Rounds digits g x 10^x up to nano precision in place (inf.RoundUp at scale 9). */
static void s_round_nano(char *g, int64_t *x)
{
    if (*x >= -9)
        return;
    int64_t len = (int64_t)strlen(g), keep = len + *x + 9;
    bool frac = false;
    for (int64_t i = keep < 0 ? 0 : keep; i < len; i++)
        frac |= g[i] != '0';
    if (keep <= 0)
        strcpy(g, "0");
    else
        g[keep] = 0;
    *x = -9;
    if (!frac)
        return;
    size_t i = strlen(g);
    while (i-- > 0) {
        if (g[i] != '9') {
            g[i]++;
            return;
        }
        g[i] = '0';
    }
    memmove(g + 1, g, strlen(g) + 1);
    g[0] = '1';
}

/* The exact path (inf.Dec): value rounded up to nano; binary ones capped at 2^63-1. */
static int s_slow(const qparts_t *q, int base, int32_t exp, proto_qfmt_t fmt, proto_qty_t *out)
{
    char g[2 * QTY_MAX_INPUT + 64];
    snprintf(g, sizeof g, "%s%s", q->num, q->denom);
    int64_t x = -(int64_t)strlen(q->denom);
    if (base == 10)
        x += exp;
    else
        for (int32_t i = 0; i < exp && i < 64; i++)
            s_double(g);
    s_round_nano(g, &x);
    bool bin = fmt == PROTO_QFMT_BINARY_SI;
    __int128 nano = s_digits_nano(g, x, bin ? s_max_nano() : s_huge_nano());
    if (bin && nano > 0 && nano < 1000000000)
        fmt = PROTO_QFMT_DECIMAL_SI;
    out->nano = q->positive ? nano : -nano;
    out->format = fmt;
    if (nano == 0 || fmt == PROTO_QFMT_BINARY_SI || nano < s_huge_nano()) {
        s_canon_nano(out->nano, fmt, out->str, sizeof out->str);
        return 0;
    }
    char buf[2 * QTY_MAX_INPUT + 80];
    s_canon_dec(g, x, !q->positive, fmt, buf, sizeof buf);
    if (strlen(buf) >= sizeof out->str)
        return -1;
    strcpy(out->str, buf);
    return 0;
}

/* The int64 fast path; false when Kubernetes would take the exact path. */
static bool s_fast(const qparts_t *q, const char *str, int32_t exp, proto_qfmt_t fmt,
                   proto_qty_t *out)
{
    size_t ln = strlen(q->num), ld = strlen(q->denom);
    int64_t precision, scale = 0, mantissa = 1;
    if (fmt != PROTO_QFMT_BINARY_SI) {
        scale = exp;
        precision = 18 - (int64_t)(ln + ld);
    } else if (exp >= 0 && ld == 0) {
        mantissa = (int64_t)1 << exp;
        precision = 15 - (int64_t)ln - (int64_t)((float)exp * 3 / 10) - 1;
    } else {
        precision = -1;
    }
    if (precision < 0)
        return false;
    scale -= (int64_t)ld;
    if (scale < -9)
        return false;
    char shifted[2 * QTY_MAX_INPUT];
    snprintf(shifted, sizeof shifted, "%s%s", q->num, q->denom);
    int64_t value = strtoll(shifted, NULL, 10), result;
    if (__builtin_mul_overflow(value, mantissa, &result))
        return false;
    out->format = fmt;
    /* an int64 with a large exponent ("1e40") is kept by Kubernetes as is; its
     * nano value saturates far above the 2^63-1 cap, its text stays exact */
    __int128 nano = result, huge_nano = s_max_nano() * 1000;
    bool huge = false;
    for (int64_t i = -9; result != 0 && i < scale && !huge; i++) {
        nano *= 10;
        huge = nano > huge_nano;
    }
    if (huge)
        nano = huge_nano;
    out->nano = q->positive ? nano : -nano;
    bool cached = fmt == PROTO_QFMT_BINARY_SI
                      ? (exp % 10 == 0 && (value & 0x07) != 0)
                      : (scale % 3 == 0 && !(strlen(shifted) >= 3 &&
                                             strcmp(shifted + strlen(shifted) - 3, "000") == 0) &&
                         shifted[0] != '0');
    if (cached && strlen(str) < sizeof out->str)
        snprintf(out->str, sizeof out->str, "%s", str);
    else if (fmt == PROTO_QFMT_BINARY_SI || !huge)
        s_canon_nano(out->nano, fmt, out->str, sizeof out->str);
    else
        s_canon_dec(shifted, scale, !q->positive, fmt, out->str, sizeof out->str);
    return true;
}

int proto_qty_parse_err(const char *s, proto_qty_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *msg = s_regex_msg;
    qparts_t q;
    int base;
    int32_t exp;
    proto_qfmt_t fmt;
    if (!s || !*s || strlen(s) >= QTY_MAX_INPUT || s_split(s, &q) < 0)
        goto fail;
    if (strcmp(s, "0") == 0) {
        strcpy(out->str, "0");
        return 0;
    }
    msg = "unable to parse quantity's suffix";
    if (s_suffix(q.suffix, &base, &exp, &fmt) < 0)
        goto fail;
    if (s_fast(&q, s, exp, fmt, out))
        return 0;
    msg = "quantity too large to represent";
    if (s_slow(&q, base, exp, fmt, out) == 0)
        return 0;
fail:
    memset(out, 0, sizeof *out);
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return PROTO_EINVALID;
}

int proto_qty_parse(const char *s, proto_qty_t *out)
{
    return proto_qty_parse_err(s, out, NULL, 0);
}

int proto_qty_cmp(const proto_qty_t *a, const proto_qty_t *b)
{
    return a->nano < b->nano ? -1 : a->nano > b->nano;
}

void proto_qty_add(proto_qty_t *a, const proto_qty_t *b)
{
    if (a->nano == 0)
        a->format = b->format;
    a->nano += b->nano;
    a->str[0] = 0;
}

void proto_qty_sub(proto_qty_t *a, const proto_qty_t *b)
{
    if (a->nano == 0)
        a->format = b->format;
    a->nano -= b->nano;
    a->str[0] = 0;
}

/* nano / div rounded away from zero, saturated to int64. */
static int64_t s_scaled(__int128 nano, int64_t div)
{
    __int128 q = nano / div;
    if (nano % div != 0)
        q += nano > 0 ? 1 : -1;
    if (q > INT64_MAX)
        return INT64_MAX;
    if (q < INT64_MIN)
        return INT64_MIN;
    return (int64_t)q;
}

int64_t proto_qty_milli(const proto_qty_t *q)
{
    return s_scaled(q->nano, 1000000);
}

int64_t proto_qty_value(const proto_qty_t *q)
{
    return s_scaled(q->nano, 1000000000);
}

int proto_qty_format(const proto_qty_t *q, char *buf, size_t n)
{
    char tmp[64];
    if (q->str[0])
        snprintf(tmp, sizeof tmp, "%s", q->str);
    else
        s_canon_nano(q->nano, q->format, tmp, sizeof tmp);
    return snprintf(buf, n, "%s", tmp);
}
