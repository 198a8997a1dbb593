/*
 * protocol/envelope — the msgpack map every zkube message carries
 * ({v, t, id, src, dst, op, ts, code, body}). Packing writes the header keys
 * and the body straight into one buffer; unpacking decodes with the codec's
 * limits and then checks each key's type and size, because envelopes arrive
 * from any process that can reach the broker.
 *
 * Required on the wire: v, t, id, src, dst, op, ts. Optional: code (0) and
 * body (nil). Unknown keys are ignored. Ids are below 2^63 (the codec holds
 * int64).
 */
#include "protocol/envelope.h"

#include "protocol/codec.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_names[] = {
    [PROTO_T_REQ] = "req", [PROTO_T_REP] = "rep", [PROTO_T_EVT] = "evt",
    [PROTO_T_HB] = "hb",   [PROTO_T_CTL] = "ctl",
};

const char *proto_mtype_name(proto_mtype_t t)
{
    if (t < PROTO_T_REQ || t > PROTO_T_CTL)
        return "?";
    return s_names[t];
}

proto_mtype_t proto_mtype_parse(const char *s)
{
    for (int t = PROTO_T_REQ; s && t <= PROTO_T_CTL; t++)
        if (strcmp(s, s_names[t]) == 0)
            return (proto_mtype_t)t;
    return 0;
}

/* Copies s into dst (size cap), cut on a UTF-8 boundary so that a truncated
 * id still decodes on the other side. */
static void s_copy(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, s, n);
    dst[n] = 0;
}

void proto_env_init(proto_env_t *e, proto_mtype_t type, uint64_t id, const char *src,
                    const char *dst, const char *op, const json_t *body)
{
    memset(e, 0, sizeof *e);
    e->v = PROTO_VERSION;
    e->type = type;
    e->id = id;
    s_copy(e->src, sizeof e->src, src);
    s_copy(e->dst, sizeof e->dst, dst);
    s_copy(e->op, sizeof e->op, op);
    e->ts_us = proto_wall_us();
    e->body = body ? json_incref((json_t *)body) : NULL;
}

static void s_kstr(msgpack_packer *pk, const char *k, const char *v, size_t cap)
{
    size_t kn = strlen(k), vn = strnlen(v, cap - 1);
    msgpack_pack_str(pk, kn);
    msgpack_pack_str_body(pk, k, kn);
    msgpack_pack_str(pk, vn);
    msgpack_pack_str_body(pk, v, vn);
}

static void s_key(msgpack_packer *pk, const char *k)
{
    msgpack_pack_str(pk, strlen(k));
    msgpack_pack_str_body(pk, k, strlen(k));
}

/* The header keys, up to and including the "body" key. */
static void s_pack_head(msgpack_packer *pk, const proto_env_t *e)
{
    msgpack_pack_map(pk, 9);
    s_key(pk, "v");
    msgpack_pack_int(pk, e->v);
    s_kstr(pk, "t", proto_mtype_name(e->type), 8);
    s_key(pk, "id");
    msgpack_pack_uint64(pk, e->id);
    s_kstr(pk, "src", e->src, sizeof e->src);
    s_kstr(pk, "dst", e->dst, sizeof e->dst);
    s_kstr(pk, "op", e->op, sizeof e->op);
    s_key(pk, "ts");
    msgpack_pack_int64(pk, e->ts_us);
    s_key(pk, "code");
    msgpack_pack_int(pk, e->code);
    s_key(pk, "body");
}

/* The header has a fixed bound (keys, three capped strings, four numbers),
 * so it is packed on the stack and the envelope takes one exact malloc. */
#define S_HEAD_MAX (128 + PROTO_ID_MAX + PROTO_DST_MAX + PROTO_OP_MAX)

typedef struct s_head_buf {
    char b[S_HEAD_MAX];
    size_t n;
} s_head_buf_t;

static int s_head_write(void *data, const char *buf, size_t len)
{
    s_head_buf_t *h = data;
    if (len > sizeof h->b - h->n)
        return -1; /* cannot happen: strings are capped by s_kstr */
    memcpy(h->b + h->n, buf, len);
    h->n += len;
    return 0;
}

int proto_env_pack_raw(const proto_env_t *e, const void *body, size_t blen, char **buf,
                       size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!body || !blen || blen > PROTO_MAX_MSG)
        return blen > PROTO_MAX_MSG ? PROTO_ETOOLARGE : PROTO_EINVALID;
    s_head_buf_t h = {.n = 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &h, s_head_write);
    s_pack_head(&pk, e);
    if (h.n + blen > PROTO_MAX_MSG)
        return PROTO_ETOOLARGE;
    char *out = malloc(h.n + blen);
    if (!out) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    memcpy(out, h.b, h.n);
    memcpy(out + h.n, body, blen);
    *buf = out;
    *len = h.n + blen;
    return 0;
}

int proto_env_pack(const proto_env_t *e, char **buf, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, proto_mp_sbuffer_write);
    *buf = NULL;
    *len = 0;
    s_pack_head(&pk, e);
    int rc = proto_mp_pack_into(&pk, e->body, 1);
    if (rc == 0 && sb.size > PROTO_MAX_MSG)
        rc = PROTO_ETOOLARGE;
    if (rc != 0) {
        msgpack_sbuffer_destroy(&sb);
        return rc == PROTO_EINVALID ? PROTO_ETOOLARGE : rc;
    }
    *buf = sb.data;
    *len = sb.size;
    return 0;
}

static int s_bad(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return PROTO_EBADREQUEST;
}

/* Copies the string at key k (required) into dst of size cap. */
static int s_get_str(const json_t *m, const char *k, char *dst, size_t cap, char *err,
                     size_t errlen)
{
    json_t *v = json_object_get(m, k);
    if (!v)
        return s_bad(err, errlen, "envelope: missing key \"%s\"", k);
    if (!json_is_string(v))
        return s_bad(err, errlen, "envelope: \"%s\" is not a string", k);
    size_t n = json_string_length(v);
    if (n >= cap)
        return s_bad(err, errlen, "envelope: \"%s\" longer than %zu bytes", k, cap - 1);
    if (memchr(json_string_value(v), 0, n))
        return s_bad(err, errlen, "envelope: \"%s\" contains NUL", k);
    memcpy(dst, json_string_value(v), n + 1);
    return 0;
}

/* The integer at key k; required unless def is non-NULL. */
static int s_get_int(const json_t *m, const char *k, const int64_t *def, int64_t *out, char *err,
                     size_t errlen)
{
    json_t *v = json_object_get(m, k);
    if (!v && def) {
        *out = *def;
        return 0;
    }
    if (!v)
        return s_bad(err, errlen, "envelope: missing key \"%s\"", k);
    if (!json_is_integer(v))
        return s_bad(err, errlen, "envelope: \"%s\" is not an integer", k);
    *out = json_integer_value(v);
    return 0;
}

static int s_fields(const json_t *m, proto_env_t *e, char *err, size_t errlen)
{
    int64_t v, id, code;
    const int64_t zero = 0;
    char t[16];
    int rc;
    if ((rc = s_get_int(m, "v", NULL, &v, err, errlen)) != 0)
        return rc;
    if (v != PROTO_VERSION)
        return s_bad(err, errlen, "envelope: unsupported version %lld", (long long)v);
    if ((rc = s_get_str(m, "t", t, sizeof t, err, errlen)) != 0)
        return rc;
    if (!(e->type = proto_mtype_parse(t)))
        return s_bad(err, errlen, "envelope: unknown type \"%s\"", t);
    if ((rc = s_get_int(m, "id", NULL, &id, err, errlen)) != 0 ||
        (rc = s_get_str(m, "src", e->src, sizeof e->src, err, errlen)) != 0 ||
        (rc = s_get_str(m, "dst", e->dst, sizeof e->dst, err, errlen)) != 0 ||
        (rc = s_get_str(m, "op", e->op, sizeof e->op, err, errlen)) != 0 ||
        (rc = s_get_int(m, "ts", NULL, &e->ts_us, err, errlen)) != 0 ||
        (rc = s_get_int(m, "code", &zero, &code, err, errlen)) != 0)
        return rc;
    if (id < 0)
        return s_bad(err, errlen, "envelope: negative id");
    if (code < 0 || code > 999)
        return s_bad(err, errlen, "envelope: code %lld out of range", (long long)code);
    e->v = (int)v;
    e->id = (uint64_t)id;
    e->code = (int)code;
    return 0;
}

/* ---- the direct reader: well-formed envelopes without a tree ---------------
 * Reads the map key by key straight from the bytes and decodes only the
 * body. Anything it does not expect (unknown or repeated keys, a wrong type,
 * a bad string, trailing bytes, a body the codec refuses) sends the message
 * to the tree path below, which accepts or refuses it with its own words:
 * both paths accept exactly the same messages and fill the same fields. */

typedef struct s_rd {
    const uint8_t *p, *end;
} s_rd_t;

static bool s_rd_str(s_rd_t *r, const char **str, size_t *n)
{
    return proto_mp_read_str(&r->p, r->end, str, n);
}

static bool s_rd_int(s_rd_t *r, int64_t *v)
{
    const uint8_t *q = r->p;
    if (q >= r->end)
        return false;
    uint8_t c = *q++;
    if (c <= 0x7f || c >= 0xe0) {
        *v = c <= 0x7f ? c : (int8_t)c;
        r->p = q;
        return true;
    }
    static const int width[] = {[0xcc] = 1, [0xcd] = 2, [0xce] = 4, [0xcf] = 8,
                                [0xd0] = 1, [0xd1] = 2, [0xd2] = 4, [0xd3] = 8};
    if (c < 0xcc || c > 0xd3 || r->end - q < width[c])
        return false;
    uint64_t u = 0;
    for (int i = 0; i < width[c]; i++)
        u = u << 8 | q[i];
    r->p = q + width[c];
    if (c <= 0xcf) {
        if (u > INT64_MAX)
            return false;
        *v = (int64_t)u;
    } else {
        *v = width[c] == 1 ? (int8_t)u : width[c] == 2 ? (int16_t)u
                           : width[c] == 4 ? (int32_t)u : (int64_t)u;
    }
    return true;
}

/* A header string into dst (cap bytes with its NUL): no NUL inside, valid
 * UTF-8, shorter than cap. */
static bool s_rd_hstr(s_rd_t *r, char *dst, size_t cap)
{
    const char *str;
    size_t n;
    if (!s_rd_str(r, &str, &n) || n >= cap || memchr(str, 0, n) || !proto_mp_utf8_ok(str, n))
        return false;
    memcpy(dst, str, n);
    dst[n] = 0;
    return true;
}

enum { S_K_V = 1, S_K_T = 2, S_K_ID = 4, S_K_SRC = 8, S_K_DST = 16, S_K_OP = 32, S_K_TS = 64,
       S_K_CODE = 128, S_K_BODY = 256, S_K_REQUIRED = 127 };

static int s_key_bit(const char *k, size_t n)
{
    static const char *const names[] = {"v", "t", "id", "src", "dst", "op", "ts", "code", "body"};
    for (int i = 0; i < 9; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], k, n))
            return 1 << i;
    return 0;
}

/* true: e is filled (with the body decoded unless head, in which case
 * *body and *blen locate it). false: the tree path must judge the message. */
static bool s_direct(const void *buf, size_t len, proto_env_t *e, bool head, const void **body,
                     size_t *blen)
{
    s_rd_t r = {buf, (const uint8_t *)buf + len};
    if (!buf || len == 0 || len > PROTO_MAX_MSG)
        return false;
    uint8_t c = *r.p++;
    uint64_t n;
    if ((c & 0xf0) == 0x80) {
        n = c & 0x0f;
    } else if (c == 0xde && r.end - r.p >= 2) {
        n = (uint64_t)r.p[0] << 8 | r.p[1];
        r.p += 2;
    } else {
        return false;
    }
    int seen = 0;
    int64_t v = 0, id = 0, code = 0;
    char t[16];
    const uint8_t *bp = NULL;
    size_t bl = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        if (!s_rd_str(&r, &k, &kl))
            return false;
        int bit = s_key_bit(k, kl);
        if (!bit || (seen & bit))
            return false;
        seen |= bit;
        bool ok = true;
        switch (bit) {
        case S_K_V: ok = s_rd_int(&r, &v); break;
        case S_K_T: ok = s_rd_hstr(&r, t, sizeof t); break;
        case S_K_ID: ok = s_rd_int(&r, &id); break;
        case S_K_SRC: ok = s_rd_hstr(&r, e->src, sizeof e->src); break;
        case S_K_DST: ok = s_rd_hstr(&r, e->dst, sizeof e->dst); break;
        case S_K_OP: ok = s_rd_hstr(&r, e->op, sizeof e->op); break;
        case S_K_TS: ok = s_rd_int(&r, &e->ts_us); break;
        case S_K_CODE: ok = s_rd_int(&r, &code); break;
        default: /* body */
            bp = r.p;
            bl = proto_mp_skip(r.p, (size_t)(r.end - r.p), PROTO_MAX_DEPTH);
            ok = bl > 0;
            r.p += bl;
            break;
        }
        if (!ok)
            return false;
    }
    if (r.p != r.end || (seen & S_K_REQUIRED) != S_K_REQUIRED || v != PROTO_VERSION || id < 0 ||
        code < 0 || code > 999 || !(e->type = proto_mtype_parse(t)))
        return false;
    if (bp && *bp == 0xc0) /* nil */
        bp = NULL, bl = 0;
    if (!head && bp && proto_mp_unpack_depth(bp, bl, PROTO_MAX_DEPTH, &e->body, NULL, 0) != 0)
        return false;
    e->v = (int)v;
    e->id = (uint64_t)id;
    e->code = (int)code;
    if (head) {
        *body = bp;
        *blen = bl;
    }
    return true;
}

#define s_tree proto_env_unpack_tree

int proto_env_unpack(const void *buf, size_t len, proto_env_t *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    if (s_direct(buf, len, e, false, NULL, NULL))
        return 0;
    return s_tree(buf, len, e, err, errlen);
}

int proto_env_unpack_head(const void *buf, size_t len, proto_env_t *e, const void **body,
                          size_t *blen, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    *body = NULL;
    *blen = 0;
    if (s_direct(buf, len, e, true, body, blen))
        return 0;
    return s_tree(buf, len, e, err, errlen);
}

int proto_env_body(proto_env_t *e, const void *body, size_t blen, char *err, size_t errlen)
{
    json_decref(e->body);
    e->body = NULL;
    if (!body || !blen)
        return 0;
    int rc = proto_mp_unpack_depth(body, blen, PROTO_MAX_DEPTH, &e->body, err, errlen);
    if (rc == 0 && json_is_null(e->body)) {
        json_decref(e->body);
        e->body = NULL;
    }
    return rc;
}

/* The tree path: the whole envelope decoded, then checked key by key. */
int proto_env_unpack_tree(const void *buf, size_t len, proto_env_t *e, char *err, size_t errlen)
{
    json_t *m = NULL;
    memset(e, 0, sizeof *e);
    int rc = proto_mp_unpack_depth(buf, len, PROTO_MAX_DEPTH + 1, &m, err, errlen);
    if (rc != 0)
        return rc;
    if (!json_is_object(m)) {
        json_decref(m);
        return s_bad(err, errlen, "envelope: not a map");
    }
    rc = s_fields(m, e, err, errlen);
    if (rc == 0) {
        json_t *body = json_object_get(m, "body");
        e->body = body && !json_is_null(body) ? json_incref(body) : NULL;
    } else {
        memset(e, 0, sizeof *e);
    }
    json_decref(m);
    return rc;
}

void proto_env_clear(proto_env_t *e)
{
    if (!e)
        return;
    json_decref(e->body);
    e->body = NULL;
}
