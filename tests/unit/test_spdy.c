/*
 * tests/unit/test_spdy.c — the gateway's SPDY/3.1 codec (actors/gateway/
 * spdy.c), which carries kubectl's port-forward: frame decoding (every
 * frame type, partial input at every prefix, malformed and oversized
 * frames), control-frame encoders, and the zlib header-block codec (the
 * dictionary's id on the wire, round trips through one shared stream per
 * direction, refusal of malformed blocks), plus a SYN_STREAM block made
 * by kubectl 1.32 itself (Go's compress/zlib with the same dictionary).
 */
#include <zlib.h>

#include "tests/unit/test.h"

#include "actors/gateway/spdy.h"

/* ---- frames ------------------------------------------------------------------------- */

TEST(parse_fixed_control_frames)
{
    uint8_t b[GW_SPDY_CTRL_MAX];
    gw_spdy_frame_t f;
    size_t n = gw_spdy_ping(b, 7);
    CHECK_EQ_INT(n, 12);
    CHECK_EQ_INT(gw_spdy_parse(b, n, 1024, &f), 12);
    CHECK_EQ_INT(f.type, GW_SPDY_PING);
    CHECK_EQ_INT(f.value, 7);
    n = gw_spdy_rst_stream(b, 5, GW_SPDY_RST_CANCEL);
    CHECK_EQ_INT(gw_spdy_parse(b, n, 1024, &f), 16);
    CHECK_EQ_INT(f.type, GW_SPDY_RST_STREAM);
    CHECK_EQ_INT(f.stream, 5);
    CHECK_EQ_INT(f.value, GW_SPDY_RST_CANCEL);
    n = gw_spdy_goaway(b, 9, GW_SPDY_GOAWAY_PROTOCOL_ERROR);
    CHECK_EQ_INT(gw_spdy_parse(b, n, 1024, &f), 16);
    CHECK_EQ_INT(f.type, GW_SPDY_GOAWAY);
    CHECK_EQ_INT(f.stream, 9);
    CHECK_EQ_INT(f.value, GW_SPDY_GOAWAY_PROTOCOL_ERROR);
    n = gw_spdy_window_update(b, 0, 65536);
    CHECK_EQ_INT(gw_spdy_parse(b, n, 1024, &f), 16);
    CHECK_EQ_INT(f.type, GW_SPDY_WINDOW_UPDATE);
    CHECK_EQ_INT(f.stream, 0);
    CHECK_EQ_INT(f.value, 65536);
    n = gw_spdy_settings1(b, GW_SPDY_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20);
    CHECK_EQ_INT(gw_spdy_parse(b, n, 1024, &f), 20);
    uint32_t v = 0;
    CHECK(gw_spdy_setting(&f, GW_SPDY_SETTINGS_INITIAL_WINDOW_SIZE, &v));
    CHECK_EQ_INT(v, 1 << 20);
    CHECK(!gw_spdy_setting(&f, 4, &v));
    /* the exact bytes of a PING as spdystream writes it */
    uint8_t ping[] = {0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01};
    n = gw_spdy_ping(b, 1);
    CHECK(n == sizeof ping && !memcmp(b, ping, n));
}

TEST(parse_data_frames_and_partials)
{
    uint8_t b[GW_SPDY_HEADER_LEN + 300];
    gw_spdy_frame_t f;
    size_t h = gw_spdy_data_header(b, 3, GW_SPDY_FLAG_FIN, 300);
    for (size_t i = 0; i < 300; i++)
        b[h + i] = (uint8_t)i;
    for (size_t k = 0; k < h + 300; k++)
        CHECK_EQ_INT(gw_spdy_parse(b, k, 1024, &f), GW_SPDY_PARTIAL);
    CHECK_EQ_INT(gw_spdy_parse(b, h + 300, 1024, &f), h + 300);
    CHECK_EQ_INT(f.type, GW_SPDY_DATA);
    CHECK_EQ_INT(f.stream, 3);
    CHECK_EQ_INT(f.flags, GW_SPDY_FLAG_FIN);
    CHECK_EQ_INT(f.len, 300);
    CHECK(f.data == b + 8 && f.data[299] == (uint8_t)299);
    /* the limit is checked from the header alone */
    CHECK_EQ_INT(gw_spdy_parse(b, 8, 299, &f), GW_SPDY_ETOOBIG);
    /* an empty FIN (spdystream's Close) */
    h = gw_spdy_data_header(b, 1, GW_SPDY_FLAG_FIN, 0);
    CHECK_EQ_INT(gw_spdy_parse(b, h, 1024, &f), 8);
    CHECK_EQ_INT(f.len, 0);
}

TEST(parse_refuses_malformed_frames)
{
    gw_spdy_frame_t f;
    uint8_t v2[] = {0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1};
    CHECK_EQ_INT(gw_spdy_parse(v2, sizeof v2, 1024, &f), GW_SPDY_EPROTO);
    uint8_t data0[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(gw_spdy_parse(data0, sizeof data0, 1024, &f), GW_SPDY_EPROTO);
    uint8_t ping5[] = {0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 1, 0};
    CHECK_EQ_INT(gw_spdy_parse(ping5, sizeof ping5, 1024, &f), GW_SPDY_EPROTO);
    uint8_t rst0[] = {0x80, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK_EQ_INT(gw_spdy_parse(rst0, sizeof rst0, 1024, &f), GW_SPDY_EPROTO);
    uint8_t rst_s0[] = {0x80, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 5};
    CHECK_EQ_INT(gw_spdy_parse(rst_s0, sizeof rst_s0, 1024, &f), GW_SPDY_EPROTO);
    uint8_t wu0[] = {0x80, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK_EQ_INT(gw_spdy_parse(wu0, sizeof wu0, 1024, &f), GW_SPDY_EPROTO);
    uint8_t syn_short[] = {0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1};
    CHECK_EQ_INT(gw_spdy_parse(syn_short, sizeof syn_short, 1024, &f), GW_SPDY_EPROTO);
    uint8_t syn0[18] = {0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a};
    CHECK_EQ_INT(gw_spdy_parse(syn0, sizeof syn0, 1024, &f), GW_SPDY_EPROTO);
    /* SETTINGS whose count disagrees with its length */
    uint8_t set[] = {0x80, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0c, 0, 0,
                     0,    2,    0,    0,    0,    7,    0,    1,    0, 0};
    CHECK_EQ_INT(gw_spdy_parse(set, sizeof set, 1024, &f), GW_SPDY_EPROTO);
    /* an unknown control type is returned for the session to ignore */
    uint8_t unk[] = {0x80, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x02, 'h', 'i'};
    CHECK_EQ_INT(gw_spdy_parse(unk, sizeof unk, 1024, &f), 10);
    CHECK_EQ_INT(f.type, 10);
    CHECK_EQ_INT(f.len, 2);
}

/* The first bytes kubectl 1.32 sent through the tunnel for one connection
 * to pod port 23309: SYN_STREAM 1 (streamtype error), an empty DATA with
 * FIN on it, SYN_STREAM 3 (streamtype data) whose block leans on the
 * first one's (captured from its WebSocket messages, unmasked). */
static const uint8_t s_kubectl[] = {
    0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x02, 0x25, 0x3a, 0x70, 0x3a, 0x2b, 0x29, 0x4a,
    0x4d, 0xcc, 0x85, 0x16, 0x25, 0xac, 0xa9, 0xa0, 0x80, 0x86, 0x14, 0xcb, 0x45, 0xa0, 0x24, 0xcc,
    0x6a, 0x64, 0x6c, 0x6c, 0x60, 0xc9, 0xc0, 0xc0, 0xc0, 0x59, 0x04, 0x89, 0xc7, 0x4c, 0x50, 0xfa,
    0x66, 0x34, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xc2, 0xaa, 0x1b, 0x54, 0x10, 0x25, 0x12, 0xa1, 0x19, 0x00, 0x00, 0x00, 0xff, 0xff,
};

static void s_check_pf_headers(const gw_spdy_headers_t *h, const char *type)
{
    size_t len = 0;
    const char *v = gw_spdy_header(h, "streamtype", &len);
    CHECK(v && len == strlen(type) && !memcmp(v, type, len));
    v = gw_spdy_header(h, "port", &len);
    CHECK(v && len == 5 && !memcmp(v, "23309", 5));
    v = gw_spdy_header(h, "requestid", &len);
    CHECK(v && len == 1 && v[0] == '0');
    CHECK_EQ_INT(h->n, 3);
}

TEST(decodes_what_kubectl_sends)
{
    gw_spdy_hdec_t *d = gw_spdy_hdec_new();
    gw_spdy_headers_t h;
    gw_spdy_frame_t f;
    size_t off = 0;
    ssize_t n = gw_spdy_parse(s_kubectl, sizeof s_kubectl, 1 << 16, &f);
    REQUIRE(n == 72);
    CHECK_EQ_INT(f.type, GW_SPDY_SYN_STREAM);
    CHECK_EQ_INT(f.stream, 1);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, f.data, f.len, &h), 0);
    s_check_pf_headers(&h, "error");
    off += (size_t)n;
    n = gw_spdy_parse(s_kubectl + off, sizeof s_kubectl - off, 1 << 16, &f);
    REQUIRE(n == 8);
    CHECK(f.type == GW_SPDY_DATA && f.stream == 1 && f.flags == GW_SPDY_FLAG_FIN && !f.len);
    off += (size_t)n;
    n = gw_spdy_parse(s_kubectl + off, sizeof s_kubectl - off, 1 << 16, &f);
    REQUIRE(n == 32);
    CHECK_EQ_INT(f.stream, 3);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, f.data, f.len, &h), 0);
    s_check_pf_headers(&h, "data");
    gw_spdy_hdec_destroy(&d);
    /* the second block alone means nothing: it needs the stream's history */
    d = gw_spdy_hdec_new();
    CHECK(gw_spdy_hdec_decode(d, f.data, f.len, &h) < 0);
    gw_spdy_hdec_destroy(&d);
}

/* ---- header blocks ---------------------------------------------------------------------- */

static const char *const s_kubectl_hdrs[] = {"streamtype", "error", "port", "80", "requestid", "0"};

TEST(header_block_round_trip_on_a_shared_stream)
{
    gw_spdy_henc_t *e = gw_spdy_henc_new();
    gw_spdy_hdec_t *d = gw_spdy_hdec_new();
    uint8_t out[1024];
    gw_spdy_frame_t f;
    gw_spdy_headers_t h;
    size_t first = 0;
    for (int i = 0; i < 5; i++) {
        ssize_t n = gw_spdy_henc_syn_stream(e, 0, (uint32_t)(1 + 2 * i), s_kubectl_hdrs, 3, out,
                                            sizeof out);
        REQUIRE(n > 0);
        if (i == 0) { /* zlib header with FDICT and the dictionary's Adler-32 */
            CHECK(out[19] & 0x20);
            CHECK(out[20] == 0xe3 && out[21] == 0xc6 && out[22] == 0xa7 && out[23] == 0xc2);
            first = (size_t)n;
        } else {
            CHECK((size_t)n < first); /* the stream remembers earlier blocks */
        }
        CHECK_EQ_INT(gw_spdy_parse(out, (size_t)n, 1 << 16, &f), n);
        CHECK_EQ_INT(f.type, GW_SPDY_SYN_STREAM);
        CHECK_EQ_INT(f.stream, 1 + 2 * i);
        REQUIRE(gw_spdy_hdec_decode(d, f.data, f.len, &h) == 0);
        CHECK_EQ_INT(h.n, 3);
        size_t len = 0;
        const char *v = gw_spdy_header(&h, "port", &len);
        CHECK(v && len == 2 && !memcmp(v, "80", 2));
        v = gw_spdy_header(&h, "streamtype", &len);
        CHECK(v && len == 5 && !memcmp(v, "error", 5));
        CHECK(gw_spdy_header(&h, "nope", NULL) == NULL);
    }
    /* a reply with no headers, as the server sends it */
    ssize_t n = gw_spdy_henc_frame(e, GW_SPDY_SYN_REPLY, 0, 3, NULL, 0, out, sizeof out);
    REQUIRE(n > 0);
    CHECK_EQ_INT(gw_spdy_parse(out, (size_t)n, 1 << 16, &f), n);
    CHECK_EQ_INT(f.type, GW_SPDY_SYN_REPLY);
    CHECK_EQ_INT(f.stream, 3);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, f.data, f.len, &h), 0);
    CHECK_EQ_INT(h.n, 0);
    /* too small a buffer is refused, not overrun */
    CHECK_EQ_INT(gw_spdy_henc_frame(e, GW_SPDY_SYN_REPLY, 0, 3, NULL, 0, out, 20), GW_SPDY_ETOOBIG);
    gw_spdy_henc_destroy(&e);
    gw_spdy_hdec_destroy(&d);
    CHECK(e == NULL && d == NULL);
    gw_spdy_henc_destroy(&e);
}

/* Compresses a raw name/value block as a peer would, without the dictionary
 * (zlib lets a stream do without it): enough to reach the block parser. */
static size_t s_zblock(const uint8_t *raw, size_t len, uint8_t *out, size_t cap)
{
    z_stream z = {0};
    REQUIRE(deflateInit(&z, 9) == Z_OK);
    z.next_in = (Bytef *)raw;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    REQUIRE(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

TEST(header_block_refusals)
{
    gw_spdy_headers_t h;
    uint8_t z[256];
    /* names must be lower-case and unique, and the block exact */
    uint8_t upper[] = {0, 0, 0, 1, 0, 0, 0, 4, 'P', 'o', 'r', 't', 0, 0, 0, 1, '8'};
    gw_spdy_hdec_t *d = gw_spdy_hdec_new();
    size_t n = s_zblock(upper, sizeof upper, z, sizeof z);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, z, n, &h), GW_SPDY_EPROTO);
    gw_spdy_hdec_destroy(&d);

    uint8_t dup[] = {0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 'x', 0, 0, 0, 1, 'a', 0, 0, 0, 0};
    d = gw_spdy_hdec_new();
    n = s_zblock(dup, sizeof dup, z, sizeof z);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, z, n, &h), GW_SPDY_EPROTO);
    gw_spdy_hdec_destroy(&d);

    uint8_t trailing[] = {0, 0, 0, 0, 1};
    d = gw_spdy_hdec_new();
    n = s_zblock(trailing, sizeof trailing, z, sizeof z);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, z, n, &h), GW_SPDY_EPROTO);
    gw_spdy_hdec_destroy(&d);

    uint8_t truncated[] = {0, 0, 0, 1, 0, 0, 0, 9, 'a'};
    d = gw_spdy_hdec_new();
    n = s_zblock(truncated, sizeof truncated, z, sizeof z);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, z, n, &h), GW_SPDY_EPROTO);
    gw_spdy_hdec_destroy(&d);

    /* not zlib at all; and a broken decoder stays broken */
    d = gw_spdy_hdec_new();
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, junk, sizeof junk, &h), GW_SPDY_EPROTO);
    n = s_zblock(trailing, 4, z, sizeof z);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, z, n, &h), GW_SPDY_EPROTO);
    gw_spdy_hdec_destroy(&d);
}

TEST(header_block_limits)
{
    gw_spdy_headers_t h;
    /* more headers than the table holds */
    static uint8_t raw[4 + 100 * 10];
    size_t len = 4;
    raw[3] = 100;
    for (int i = 0; i < 100; i++) {
        uint8_t one[] = {0, 0, 0, 2, 'h', (uint8_t)('0' + i % 10), 0, 0, 0, 0};
        one[4] = (uint8_t)('a' + i / 10);
        memcpy(raw + len, one, sizeof one);
        len += sizeof one;
    }
    static uint8_t z[4096];
    gw_spdy_hdec_t *d = gw_spdy_hdec_new();
    size_t n = s_zblock(raw, len, z, sizeof z);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, z, n, &h), GW_SPDY_ETOOBIG);
    gw_spdy_hdec_destroy(&d);
    /* a block that inflates beyond GW_SPDY_MAX_BLOCK */
    static uint8_t big[GW_SPDY_MAX_BLOCK + 16];
    memset(big, 'a', sizeof big);
    static uint8_t zb[GW_SPDY_MAX_BLOCK];
    d = gw_spdy_hdec_new();
    n = s_zblock(big, sizeof big, zb, sizeof zb);
    CHECK_EQ_INT(gw_spdy_hdec_decode(d, zb, n, &h), GW_SPDY_ETOOBIG);
    gw_spdy_hdec_destroy(&d);
}
