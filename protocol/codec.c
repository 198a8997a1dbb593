/*
 * protocol/codec — msgpack <-> jansson. Every envelope and every stored
 * object passes through here, so both directions avoid copies: the encoder
 * writes through msgpack-c's packer into one growing buffer, and the decoder
 * walks the bytes itself (zero-copy until it builds jansson nodes), checking
 * the remaining length before every read, in the manner of picohttpparser.
 */
#include "protocol/codec.h"

#include "protocol/status.h"

#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- decode */

typedef struct s_dec {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
    int max_depth;
    char *err;
    size_t errlen;
} s_dec_t;

static json_t *s_value(s_dec_t *d, int depth);

static json_t *s_fail(s_dec_t *d, const char *fmt, ...)
{
    if (d->err && d->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err, d->errlen, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static json_t *s_truncated(s_dec_t *d)
{
    return s_fail(d, "msgpack: truncated at byte %zu", (size_t)(d->p - d->start));
}

static size_t s_left(const s_dec_t *d)
{
    return (size_t)(d->end - d->p);
}

/* Big-endian unsigned of n bytes; the caller has checked n bytes remain. */
static uint64_t s_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads an n-byte big-endian length/number; false when truncated. */
static bool s_read_be(s_dec_t *d, int n, uint64_t *v)
{
    if (s_left(d) < (size_t)n)
        return false;
    *v = s_be(d->p, n);
    d->p += n;
    return true;
}

/* Strict UTF-8 (no overlongs, no surrogates, max U+10FFFF). Object
 * strings are nearly all ASCII: eight bytes at a time while they are. */
static bool s_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        for (uint64_t w; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
        }
        if (i >= n)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return false;
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += k + 1;
    }
    return true;
}

/* A str or bin payload of n bytes at d->p. */
static json_t *s_string(s_dec_t *d, uint64_t n)
{
    if (n > s_left(d))
        return s_truncated(d);
    const uint8_t *s = d->p;
    if (!s_utf8_ok(s, (size_t)n))
        return s_fail(d, "msgpack: invalid UTF-8 in string at byte %zu", (size_t)(s - d->start));
    d->p += n;
    return json_stringn_nocheck((const char *)s, (size_t)n);
}

static json_t *s_array(s_dec_t *d, uint64_t n, int depth)
{
    if (depth >= d->max_depth)
        return s_fail(d, "msgpack: nesting deeper than %d", d->max_depth);
    if (n > PROTO_MAX_ITEMS)
        return s_fail(d, "msgpack: array of %llu items over limit", (unsigned long long)n);
    if (n > s_left(d)) /* every element takes at least one byte */
        return s_truncated(d);
    json_t *a = json_array();
    for (uint64_t i = 0; i < n; i++) {
        json_t *v = s_value(d, depth + 1);
        if (!v || json_array_append_new(a, v) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Reads one map key: a str (or UTF-8 bin) without NUL. */
static bool s_key(s_dec_t *d, const char **k, size_t *klen)
{
    uint64_t n;
    if (s_left(d) < 1)
        return s_truncated(d), false;
    uint8_t c = *d->p++;
    if (c >= 0xa0 && c <= 0xbf)
        n = c & 0x1f;
    else if ((c == 0xd9 || c == 0xc4) && s_read_be(d, 1, &n))
        ;
    else if ((c == 0xda || c == 0xc5) && s_read_be(d, 2, &n))
        ;
    else if ((c == 0xdb || c == 0xc6) && s_read_be(d, 4, &n))
        ;
    else if (c == 0xd9 || c == 0xda || c == 0xdb || c == 0xc4 || c == 0xc5 || c == 0xc6)
        return s_truncated(d), false;
    else
        return s_fail(d, "msgpack: map key is not a string at byte %zu",
                      (size_t)(d->p - 1 - d->start)),
               false;
    if (n > s_left(d))
        return s_truncated(d), false;
    if (memchr(d->p, 0, (size_t)n) || !s_utf8_ok(d->p, (size_t)n))
        return s_fail(d, "msgpack: invalid map key at byte %zu", (size_t)(d->p - d->start)), false;
    *k = (const char *)d->p;
    *klen = (size_t)n;
    d->p += n;
    return true;
}

static json_t *s_map(s_dec_t *d, uint64_t n, int depth)
{
    if (depth >= d->max_depth)
        return s_fail(d, "msgpack: nesting deeper than %d", d->max_depth);
    if (n > PROTO_MAX_ITEMS)
        return s_fail(d, "msgpack: map of %llu items over limit", (unsigned long long)n);
    if (n > s_left(d) / 2) /* every entry takes at least two bytes */
        return s_truncated(d);
    json_t *o = json_object();
    for (uint64_t i = 0; i < n; i++) {
        const char *k;
        size_t klen;
        if (!s_key(d, &k, &klen))
            goto fail;
        size_t at = (size_t)(k - (const char *)d->start);
        json_t *v = s_value(d, depth + 1);
        if (!v)
            goto fail;
        size_t before = json_object_size(o);
        if (json_object_setn_new_nocheck(o, k, klen, v) != 0 || json_object_size(o) == before) {
            s_fail(d, "msgpack: duplicate map key at byte %zu", at);
            goto fail;
        }
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

static json_t *s_int(s_dec_t *d, int n, bool is_signed)
{
    uint64_t u;
    if (!s_read_be(d, n, &u))
        return s_truncated(d);
    if (!is_signed) {
        if (u > INT64_MAX)
            return s_fail(d, "msgpack: integer above int64 at byte %zu",
                          (size_t)(d->p - n - 1 - d->start));
        return json_integer((json_int_t)u);
    }
    int64_t v;
    switch (n) {
    case 1:
        v = (int8_t)u;
        break;
    case 2:
        v = (int16_t)u;
        break;
    case 4:
        v = (int32_t)u;
        break;
    default:
        v = (int64_t)u;
        break;
    }
    return json_integer((json_int_t)v);
}

static json_t *s_float(s_dec_t *d, int n)
{
    uint64_t u;
    double x;
    if (!s_read_be(d, n, &u))
        return s_truncated(d);
    if (n == 4) {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, sizeof f);
        x = f;
    } else {
        memcpy(&x, &u, sizeof x);
    }
    if (!isfinite(x))
        return s_fail(d, "msgpack: non-finite float at byte %zu",
                      (size_t)(d->p - n - 1 - d->start));
    return json_real(x);
}

/* Lengths that follow a type byte: str/bin/array/map 8/16/32. */
static json_t *s_sized(s_dec_t *d, uint8_t c, int depth)
{
    static const int width[] = {[0xc4] = 1, [0xc5] = 2, [0xc6] = 4, [0xd9] = 1, [0xda] = 2,
                                [0xdb] = 4, [0xdc] = 2, [0xdd] = 4, [0xde] = 2, [0xdf] = 4};
    uint64_t n;
    if (!s_read_be(d, width[c], &n))
        return s_truncated(d);
    if (c == 0xdc || c == 0xdd)
        return s_array(d, n, depth);
    if (c == 0xde || c == 0xdf)
        return s_map(d, n, depth);
    return s_string(d, n);
}

static json_t *s_value(s_dec_t *d, int depth)
{
    if (s_left(d) < 1)
        return s_truncated(d);
    uint8_t c = *d->p++;
    if (c <= 0x7f)
        return json_integer(c);
    if (c >= 0xe0)
        return json_integer((int8_t)c);
    if (c <= 0x8f)
        return s_map(d, c & 0x0f, depth);
    if (c <= 0x9f)
        return s_array(d, c & 0x0f, depth);
    if (c <= 0xbf)
        return s_string(d, c & 0x1f);
    switch (c) {
    case 0xc0:
        return json_null();
    case 0xc2:
        return json_false();
    case 0xc3:
        return json_true();
    case 0xca:
        return s_float(d, 4);
    case 0xcb:
        return s_float(d, 8);
    case 0xcc:
        return s_int(d, 1, false);
    case 0xcd:
        return s_int(d, 2, false);
    case 0xce:
        return s_int(d, 4, false);
    case 0xcf:
        return s_int(d, 8, false);
    case 0xd0:
        return s_int(d, 1, true);
    case 0xd1:
        return s_int(d, 2, true);
    case 0xd2:
        return s_int(d, 4, true);
    case 0xd3:
        return s_int(d, 8, true);
    case 0xc4:
    case 0xc5:
    case 0xc6:
    case 0xd9:
    case 0xda:
    case 0xdb:
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf:
        return s_sized(d, c, depth);
    default:
        return s_fail(d, "msgpack: unsupported type 0x%02x at byte %zu", c,
                      (size_t)(d->p - 1 - d->start));
    }
}

int proto_mp_unpack_depth(const void *buf, size_t len, int max_depth, json_t **out, char *err,
                          size_t errlen)
{
    s_dec_t d = {buf, buf, (const uint8_t *)buf + len, max_depth, err, errlen};
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    if (len > PROTO_MAX_MSG) {
        s_fail(&d, "msgpack: message of %zu bytes over limit of %u", len, PROTO_MAX_MSG);
        return PROTO_EBADREQUEST;
    }
    if (!buf && len) {
        s_fail(&d, "msgpack: no buffer");
        return PROTO_EBADREQUEST;
    }
    json_t *v = s_value(&d, 0);
    if (!v)
        return PROTO_EBADREQUEST;
    if (d.p != d.end) {
        json_decref(v);
        s_fail(&d, "msgpack: %zu trailing bytes at byte %zu", s_left(&d), (size_t)(d.p - d.start));
        return PROTO_EBADREQUEST;
    }
    *out = v;
    return 0;
}

int proto_mp_unpack_prefix(const void *buf, size_t len, int max_depth, json_t **out, size_t *used,
                           char *err, size_t errlen)
{
    s_dec_t d = {buf, buf, (const uint8_t *)buf + len, max_depth, err, errlen};
    *out = NULL;
    *used = 0;
    if (err && errlen)
        err[0] = 0;
    if (!buf || len > PROTO_MAX_MSG) {
        s_fail(&d, "msgpack: %s", buf ? "message over limit" : "no buffer");
        return PROTO_EBADREQUEST;
    }
    json_t *v = s_value(&d, 0);
    if (!v)
        return PROTO_EBADREQUEST;
    *out = v;
    *used = (size_t)(d.p - d.start);
    return 0;
}

/* Skips one value at p; NULL when malformed, truncated or too deep. */
static const uint8_t *s_skip(const uint8_t *p, const uint8_t *end, int depth, int max_depth)
{
    if (p >= end)
        return NULL;
    uint8_t c = *p++;
    uint64_t n = 0, items = 0;
    bool container = false;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return p;
    if ((c & 0xe0) == 0xa0) {
        n = c & 0x1f;
    } else if ((c & 0xf0) == 0x90 || (c & 0xf0) == 0x80) {
        items = (uint64_t)(c & 0x0f) * ((c & 0xf0) == 0x80 ? 2 : 1);
        container = true;
    } else {
        static const struct {
            uint8_t code, len_bytes, fixed, per_item;
        } tab[] = {
            {0xcc, 0, 1, 0}, {0xd0, 0, 1, 0}, {0xcd, 0, 2, 0}, {0xd1, 0, 2, 0}, {0xca, 0, 4, 0},
            {0xce, 0, 4, 0}, {0xd2, 0, 4, 0}, {0xcb, 0, 8, 0}, {0xcf, 0, 8, 0}, {0xd3, 0, 8, 0},
            {0xc4, 1, 0, 0}, {0xd9, 1, 0, 0}, {0xc5, 2, 0, 0}, {0xda, 2, 0, 0}, {0xc6, 4, 0, 0},
            {0xdb, 4, 0, 0}, {0xdc, 2, 0, 1}, {0xdd, 4, 0, 1}, {0xde, 2, 0, 2}, {0xdf, 4, 0, 2},
        };
        size_t i = 0;
        while (i < sizeof tab / sizeof *tab && tab[i].code != c)
            i++;
        if (i == sizeof tab / sizeof *tab)
            return NULL; /* ext and the unused codes */
        uint64_t v = tab[i].fixed;
        if (tab[i].len_bytes) {
            if ((size_t)(end - p) < tab[i].len_bytes)
                return NULL;
            v = s_be(p, tab[i].len_bytes);
            p += tab[i].len_bytes;
        }
        if (tab[i].per_item)
            items = v * tab[i].per_item, container = true;
        else
            n = v;
    }
    if (container && (depth >= max_depth || items > 2ull * PROTO_MAX_ITEMS))
        return NULL;
    if ((uint64_t)(end - p) < n || (uint64_t)(end - p) < items)
        return NULL;
    p += n;
    for (uint64_t i = 0; i < items && p; i++)
        p = s_skip(p, end, depth + 1, max_depth);
    return p;
}

size_t proto_mp_skip(const void *buf, size_t len, int max_depth)
{
    if (!buf || len > PROTO_MAX_MSG)
        return 0;
    const uint8_t *p = buf, *q = s_skip(p, p + len, 0, max_depth);
    return q ? (size_t)(q - p) : 0;
}

bool proto_mp_read_str(const unsigned char **p, const unsigned char *end, const char **str,
                       size_t *n)
{
    const unsigned char *q = *p;
    if (q >= end)
        return false;
    size_t len, hdr;
    if ((*q & 0xe0) == 0xa0)
        len = *q & 0x1f, hdr = 1;
    else if (*q == 0xd9 && end - q >= 2)
        len = q[1], hdr = 2;
    else if (*q == 0xda && end - q >= 3)
        len = (size_t)q[1] << 8 | q[2], hdr = 3;
    else if (*q == 0xdb && end - q >= 5)
        len = (size_t)q[1] << 24 | (size_t)q[2] << 16 | (size_t)q[3] << 8 | q[4], hdr = 5;
    else
        return false;
    if ((size_t)(end - q) - hdr < len)
        return false;
    *str = (const char *)q + hdr;
    *n = len;
    *p = q + hdr + len;
    return true;
}

bool proto_mp_utf8_ok(const void *s, size_t n)
{
    return s_utf8_ok(s, n);
}

int proto_mp_unpack(const void *buf, size_t len, json_t **out, char *err, size_t errlen)
{
    return proto_mp_unpack_depth(buf, len, PROTO_MAX_DEPTH, out, err, errlen);
}

/* ---------------------------------------------------------------- encode */

/* ---- the direct writer (proto_mp_wbuf_t) ---- */

static char *s_w_room(proto_mp_wbuf_t *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap - b->len < n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
            abort();
        }
        b->data = d;
        b->cap = cap;
    }
    return b->data + b->len;
}

/* A type byte and a big-endian number of w bytes. */
static void s_w_be(proto_mp_wbuf_t *b, uint8_t type, uint64_t v, int w)
{
    char *p = s_w_room(b, (size_t)w + 1);
    p[0] = (char)type;
    for (int i = 0; i < w; i++)
        p[1 + i] = (char)(v >> (8 * (w - 1 - i)));
    b->len += (size_t)w + 1;
}

static void s_w_byte(proto_mp_wbuf_t *b, uint8_t c)
{
    *s_w_room(b, 1) = (char)c;
    b->len++;
}

void proto_mp_w_map(proto_mp_wbuf_t *b, uint32_t n)
{
    if (n < 16)
        s_w_byte(b, (uint8_t)(0x80 | n));
    else if (n < 65536)
        s_w_be(b, 0xde, n, 2);
    else
        s_w_be(b, 0xdf, n, 4);
}

static void s_w_array(proto_mp_wbuf_t *b, uint32_t n)
{
    if (n < 16)
        s_w_byte(b, (uint8_t)(0x90 | n));
    else if (n < 65536)
        s_w_be(b, 0xdc, n, 2);
    else
        s_w_be(b, 0xdd, n, 4);
}

void proto_mp_w_str(proto_mp_wbuf_t *b, const char *s, uint32_t n)
{
    if (n < 32)
        s_w_byte(b, (uint8_t)(0xa0 | n));
    else if (n < 256)
        s_w_be(b, 0xd9, n, 1);
    else if (n < 65536)
        s_w_be(b, 0xda, n, 2);
    else
        s_w_be(b, 0xdb, n, 4);
    memcpy(s_w_room(b, n), s, n);
    b->len += n;
}

/* As msgpack_pack_int64: the shortest form, unsigned ones for v >= 0. */
static void s_w_int(proto_mp_wbuf_t *b, int64_t v)
{
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u < 128)
            s_w_byte(b, (uint8_t)u);
        else if (u < 256)
            s_w_be(b, 0xcc, u, 1);
        else if (u < 65536)
            s_w_be(b, 0xcd, u, 2);
        else if (u < 4294967296ull)
            s_w_be(b, 0xce, u, 4);
        else
            s_w_be(b, 0xcf, u, 8);
    } else if (v >= -32) {
        s_w_byte(b, (uint8_t)(int8_t)v);
    } else if (v >= INT8_MIN) {
        s_w_be(b, 0xd0, (uint64_t)v, 1);
    } else if (v >= INT16_MIN) {
        s_w_be(b, 0xd1, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        s_w_be(b, 0xd2, (uint64_t)v, 4);
    } else {
        s_w_be(b, 0xd3, (uint64_t)v, 8);
    }
}

static int s_wpack(proto_mp_wbuf_t *b, const json_t *v, int depth, int limit)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (depth >= limit || json_object_size(v) > PROTO_MAX_ITEMS)
            return PROTO_EINVALID;
        proto_mp_w_map(b, (uint32_t)json_object_size(v));
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            size_t kl = json_object_iter_key_len(it);
            if (kl > UINT32_MAX)
                return PROTO_ETOOLARGE;
            proto_mp_w_str(b, json_object_iter_key(it), (uint32_t)kl);
            int rc = s_wpack(b, json_object_iter_value(it), depth + 1, limit);
            if (rc)
                return rc;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (depth >= limit || n > PROTO_MAX_ITEMS)
            return PROTO_EINVALID;
        s_w_array(b, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            int rc = s_wpack(b, json_array_get(v, i), depth + 1, limit);
            if (rc)
                return rc;
        }
        return 0;
    }
    case JSON_STRING:
        if (json_string_length(v) > UINT32_MAX)
            return PROTO_ETOOLARGE;
        proto_mp_w_str(b, json_string_value(v), (uint32_t)json_string_length(v));
        return 0;
    case JSON_INTEGER:
        s_w_int(b, json_integer_value(v));
        return 0;
    case JSON_REAL: {
        double d = json_real_value(v);
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        s_w_be(b, 0xcb, u, 8);
        return 0;
    }
    case JSON_TRUE:
        s_w_byte(b, 0xc3);
        return 0;
    case JSON_FALSE:
        s_w_byte(b, 0xc2);
        return 0;
    case JSON_NULL:
        s_w_byte(b, 0xc0);
        return 0;
    }
    return PROTO_EINVALID;
}

int proto_mp_pack_wbuf(proto_mp_wbuf_t *b, const json_t *v, int depth)
{
    if (!v) {
        s_w_byte(b, 0xc0);
        return 0;
    }
    return s_wpack(b, v, depth, depth + PROTO_MAX_DEPTH);
}

/* The tree is written by the direct writer, then handed to the packer's
 * callback in one piece. */
int proto_mp_pack_into(struct msgpack_packer *pk, const json_t *v, int depth)
{
    proto_mp_wbuf_t b = {NULL, 0, 0};
    int rc = proto_mp_pack_wbuf(&b, v, depth);
    if (rc == 0)
        pk->callback(pk->data, b.data, b.len);
    free(b.data);
    return rc;
}

/* msgpack-c reports a failed realloc as -1 from every pack call; zkube
 * aborts on allocation failure instead of checking each call. */
int proto_mp_sbuffer_write(void *data, const char *buf, size_t len)
{
    if (msgpack_sbuffer_write(data, buf, len) != 0) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return 0;
}

int proto_mp_pack(const json_t *v, char **buf, size_t *len)
{
    proto_mp_wbuf_t b = {NULL, 0, 0};
    *buf = NULL;
    *len = 0;
    int rc = proto_mp_pack_wbuf(&b, v, 0);
    if (rc == 0 && b.len > PROTO_MAX_MSG)
        rc = PROTO_ETOOLARGE;
    if (rc != 0) {
        free(b.data);
        return rc;
    }
    *buf = b.data; /* at least one byte was written */
    *len = b.len;
    return 0;
}
