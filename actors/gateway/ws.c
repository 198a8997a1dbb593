/*
 * actors/gateway/ws.c — WebSocket framing (RFC 6455) for the gateway's
 * `exec`: the opening handshake's checks and Sec-WebSocket-Accept, the
 * subprotocol choice, a frame decoder that never allocates, reassembly of
 * fragmented messages under a size limit, and frame encoding into an output
 * buffer. Pure: no sockets, no actor (see ws.h); the upgraded socket is
 * driven by exec.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "actors/gateway/ws.h"
#include "protocol/status.h"

#define S_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define S_DEFAULT_MAX_MESSAGE (1u << 20)

/* ---- frames ------------------------------------------------------------------ */

static bool s_known_opcode(int op)
{
    return op == GW_WS_CONT || op == GW_WS_TEXT || op == GW_WS_BINARY || op == GW_WS_CLOSE ||
           op == GW_WS_PING || op == GW_WS_PONG;
}

/* The payload length field at buf[1..]; *hlen gets the header's length
 * without the mask. GW_WS_PARTIAL or GW_WS_EPROTO. */
static int s_length(const uint8_t *buf, size_t len, uint64_t *plen, size_t *hlen)
{
    uint8_t l7 = buf[1] & 0x7f;
    if (l7 < 126) {
        *plen = l7;
        *hlen = 2;
        return 0;
    }
    size_t n = l7 == 126 ? 2 : 8;
    if (len < 2 + n)
        return GW_WS_PARTIAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | buf[2 + i];
    if ((n == 2 && v < 126) || (n == 8 && (v <= 0xffff || v >> 63)))
        return GW_WS_EPROTO; /* the minimal encoding is a MUST; the top bit must be 0 */
    *plen = v;
    *hlen = 2 + n;
    return 0;
}

ssize_t gw_ws_parse(uint8_t *buf, size_t len, bool need_mask, uint64_t max_payload,
                    gw_ws_frame_t *f)
{
    if (len < 2)
        return GW_WS_PARTIAL;
    memset(f, 0, sizeof *f);
    f->fin = buf[0] & 0x80;
    f->opcode = buf[0] & 0x0f;
    f->masked = buf[1] & 0x80;
    if ((buf[0] & 0x70) || !s_known_opcode(f->opcode))
        return GW_WS_EPROTO; /* no extension was negotiated */
    if (need_mask && !f->masked)
        return GW_WS_EPROTO;
    bool control = f->opcode >= GW_WS_CLOSE;
    if (control && (!f->fin || (buf[1] & 0x7f) > 125))
        return GW_WS_EPROTO;
    size_t hlen;
    int rc = s_length(buf, len, &f->len, &hlen);
    if (rc < 0)
        return rc;
    if (f->len > max_payload)
        return GW_WS_ETOOBIG;
    size_t mlen = f->masked ? 4 : 0;
    if (len - hlen < mlen || len - hlen - mlen < f->len)
        return GW_WS_PARTIAL;
    f->payload = buf + hlen + mlen;
    if (f->masked)
        gw_ws_mask(f->payload, (size_t)f->len, buf + hlen, 0);
    return (ssize_t)(hlen + mlen + f->len);
}

size_t gw_ws_header(uint8_t *out, bool fin, int opcode, uint64_t len, const uint8_t *mask)
{
    size_t n = 2;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    uint8_t mbit = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] = (uint8_t)(mbit | len);
    } else if (len <= 0xffff) {
        out[1] = mbit | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        n = 4;
    } else {
        out[1] = mbit | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void gw_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        data[i] ^= mask[(offset + i) & 3];
}

/* ---- text and close payloads ---------------------------------------------------- */

/* Length of the UTF-8 sequence starting s[0..len), 0 when invalid. */
static size_t s_utf8_seq(const uint8_t *s, size_t len)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (!n || len < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)) /* overlong; surrogates */
        return 0;
    if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)) /* overlong; > U+10FFFF */
        return 0;
    return n;
}

bool gw_ws_utf8_ok(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = s_utf8_seq(s + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

bool gw_ws_close_code_ok(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

unsigned gw_ws_close_code_for(ssize_t err)
{
    return err == GW_WS_ETOOBIG ? GW_WS_CLOSE_TOO_BIG
           : err == GW_WS_EUTF8 ? GW_WS_CLOSE_BAD_DATA
                                : GW_WS_CLOSE_PROTOCOL;
}

/* ---- reassembly ----------------------------------------------------------------- */

static size_t s_max_message(const gw_ws_reader_t *r)
{
    return r->max_message ? r->max_message : S_DEFAULT_MAX_MESSAGE;
}

static int s_store(gw_ws_reader_t *r, const uint8_t *data, size_t len)
{
    if (len > s_max_message(r) - r->len)
        return GW_WS_ETOOBIG;
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + len)
            cap *= 2;
        uint8_t *m = realloc(r->msg, cap);
        if (!m)
            abort();
        r->msg = m;
        r->cap = cap;
    }
    if (len)
        memcpy(r->msg + r->len, data, len);
    r->len += len;
    return 0;
}

static int s_close_event(const gw_ws_frame_t *f, gw_ws_event_t *ev)
{
    ev->type = GW_WS_EV_CLOSE;
    ev->close_code = 1005; /* "no status code was present" */
    if (f->len == 0)
        return 0;
    if (f->len == 1)
        return GW_WS_EPROTO;
    unsigned code = (unsigned)f->payload[0] << 8 | f->payload[1];
    if (!gw_ws_close_code_ok(code))
        return GW_WS_EPROTO;
    ev->close_code = code;
    ev->data = f->payload + 2;
    ev->len = (size_t)f->len - 2;
    return gw_ws_utf8_ok(ev->data, ev->len) ? 0 : GW_WS_EUTF8;
}

/* A data frame (text, binary or continuation) into the message. */
static int s_data_frame(gw_ws_reader_t *r, const gw_ws_frame_t *f, gw_ws_event_t *ev)
{
    if (f->opcode == GW_WS_CONT ? !r->opcode : r->opcode != 0)
        return GW_WS_EPROTO;
    if (f->opcode != GW_WS_CONT) {
        r->opcode = f->opcode;
        r->len = 0;
    }
    int rc = s_store(r, f->payload, (size_t)f->len);
    if (rc < 0 || !f->fin)
        return rc;
    int op = r->opcode;
    r->opcode = 0;
    if (op == GW_WS_TEXT && !gw_ws_utf8_ok(r->msg, r->len))
        return GW_WS_EUTF8;
    ev->type = GW_WS_EV_MESSAGE;
    ev->opcode = op;
    ev->data = r->msg ? r->msg : (const uint8_t *)"";
    ev->len = r->len;
    return 0;
}

ssize_t gw_ws_read(gw_ws_reader_t *r, uint8_t *buf, size_t len, gw_ws_event_t *ev)
{
    gw_ws_frame_t f;
    memset(ev, 0, sizeof *ev);
    ssize_t n = gw_ws_parse(buf, len, r->need_mask, s_max_message(r), &f);
    if (n < 0)
        return n;
    int rc = 0;
    switch (f.opcode) {
    case GW_WS_CLOSE:
        rc = s_close_event(&f, ev);
        break;
    case GW_WS_PING:
    case GW_WS_PONG:
        ev->type = f.opcode == GW_WS_PING ? GW_WS_EV_PING : GW_WS_EV_PONG;
        ev->data = f.payload;
        ev->len = (size_t)f.len;
        break;
    default:
        rc = s_data_frame(r, &f, ev);
    }
    return rc < 0 ? rc : n;
}

void gw_ws_reader_clear(gw_ws_reader_t *r)
{
    free(r->msg);
    r->msg = NULL;
    r->len = r->cap = 0;
    r->opcode = 0;
}

/* ---- handshake ------------------------------------------------------------------ */

/* True when the comma-separated header value has token (case-insensitive). */
static bool s_has_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = value; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == tl && !strncasecmp(p, token, tl))
            return true;
        p += n;
    }
    return false;
}

/* A Sec-WebSocket-Key is the base64 of 16 bytes: 22 characters and "==". */
static bool s_key_ok(const char *key)
{
    if (!key || strlen(key) != 24 || strcmp(key + 22, "=="))
        return false;
    for (int i = 0; i < 22; i++)
        if (!isalnum((unsigned char)key[i]) && key[i] != '+' && key[i] != '/')
            return false;
    return strchr("AQgw", key[21]) != NULL; /* the last 4 bits must be zero */
}

int gw_ws_check_upgrade(const char *method, const char *upgrade, const char *connection,
                        const char *version, const char *key, char *err, size_t errlen)
{
    if (!upgrade || !s_has_token(upgrade, "websocket"))
        return 0;
    const char *why = NULL;
    if (!method || strcmp(method, "GET"))
        why = "a WebSocket handshake must be a GET request";
    else if (!connection || !s_has_token(connection, "upgrade"))
        why = "a WebSocket handshake needs \"Connection: Upgrade\"";
    else if (!version || strcmp(version, "13"))
        why = "unsupported Sec-WebSocket-Version (zkube speaks 13)";
    else if (!s_key_ok(key))
        why = "missing or malformed Sec-WebSocket-Key";
    if (!why)
        return 1;
    snprintf(err, errlen, "%s", why);
    return PROTO_EBADREQUEST;
}

void gw_ws_accept(const char *key, char out[GW_WS_ACCEPT_LEN + 1])
{
    char buf[128];
    unsigned char md[SHA_DIGEST_LENGTH];
    int n = snprintf(buf, sizeof buf, "%.64s%s", key ? key : "", S_GUID);
    SHA1((const unsigned char *)buf, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
    out[GW_WS_ACCEPT_LEN] = '\0';
}

const char *gw_ws_pick_protocol(const char *offered, const char *const *ours)
{
    if (!offered)
        return NULL;
    for (size_t i = 0; ours[i]; i++)
        if (s_has_token(offered, ours[i]))
            return ours[i];
    return NULL;
}

/* ---- output --------------------------------------------------------------------- */

static void s_out_put(gw_ws_out_t *o, const void *data, size_t len)
{
    if (!len)
        return;
    if (o->off && o->off == o->len) /* everything was written: start over */
        o->off = o->len = 0;
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + len)
            cap *= 2;
        uint8_t *d = realloc(o->data, cap);
        if (!d)
            abort();
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, data, len);
    o->len += len;
}

void gw_ws_out_frame(gw_ws_out_t *o, int opcode, const uint8_t *prefix, size_t plen,
                     const void *data, size_t len)
{
    uint8_t h[GW_WS_MAX_HEADER];
    size_t hl = gw_ws_header(h, true, opcode, (uint64_t)plen + len, NULL);
    s_out_put(o, h, hl);
    s_out_put(o, prefix, plen);
    s_out_put(o, data, len);
}

void gw_ws_out_close(gw_ws_out_t *o, unsigned code, const char *reason)
{
    uint8_t c[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > 123) /* a control frame carries at most 125 bytes */
        rl = 123;
    gw_ws_out_frame(o, GW_WS_CLOSE, c, 2, reason, rl);
}

void gw_ws_out_clear(gw_ws_out_t *o)
{
    free(o->data);
    memset(o, 0, sizeof *o);
}
