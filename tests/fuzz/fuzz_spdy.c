/*
 * tests/fuzz/fuzz_spdy — libFuzzer target for the gateway's SPDY/3.1 input
 * (actors/gateway/spdy.c): the bytes kubectl sends through a port-forward
 * tunnel go through the frame decoder as portforward.c feeds them (frames
 * until a partial one or an error), every header block through one shared
 * decompressor, SETTINGS through the lookup; the headers decoded are
 * encoded again and must decode to the same values. Any verdict on the
 * input is fine; crashes, leaks, out-of-bounds reads, sanitizer reports
 * and a failed round trip are not. spdy.c is compiled in (the fuzz build
 * links protocol/ only; spdy.c needs zlib, which PKGS links).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gateway/spdy.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encodes h and checks that a fresh decoder reads it back. */
static void s_round_trip(const gw_spdy_headers_t *h)
{
    static char names[GW_SPDY_MAX_HEADERS][64], values[GW_SPDY_MAX_HEADERS][64];
    const char *nv[2 * GW_SPDY_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->h[i].name_len >= 64 || h->h[i].value_len >= 64 ||
            memchr(h->h[i].name, 0, h->h[i].name_len) ||
            memchr(h->h[i].value, 0, h->h[i].value_len))
            continue;
        snprintf(names[n], 64, "%.*s", (int)h->h[i].name_len, h->h[i].name);
        snprintf(values[n], 64, "%.*s", (int)h->h[i].value_len, h->h[i].value);
        nv[2 * n] = names[n];
        nv[2 * n + 1] = values[n];
        n++;
    }
    static uint8_t out[1 << 16];
    gw_spdy_henc_t *e = gw_spdy_henc_new();
    gw_spdy_hdec_t *d = gw_spdy_hdec_new();
    ssize_t len = gw_spdy_henc_frame(e, GW_SPDY_SYN_REPLY, 0, 1, nv, n, out, sizeof out);
    gw_spdy_frame_t f;
    gw_spdy_headers_t back;
    if (len <= 0 || gw_spdy_parse(out, (size_t)len, sizeof out, &f) != len ||
        gw_spdy_hdec_decode(d, f.data, f.len, &back) != 0 || back.n != n)
        abort();
    for (size_t i = 0; i < n; i++) {
        size_t vl = 0;
        const char *v = gw_spdy_header(&back, names[i], &vl);
        if (!v || vl != strlen(values[i]) || memcmp(v, values[i], vl))
            abort();
    }
    gw_spdy_henc_destroy(&e);
    gw_spdy_hdec_destroy(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_spdy_hdec_t *d = gw_spdy_hdec_new();
    size_t off = 0;
    while (off < size) {
        gw_spdy_frame_t f;
        gw_spdy_headers_t h;
        uint32_t v;
        ssize_t n = gw_spdy_parse(data + off, size - off, 1u << 20, &f);
        if (n <= 0)
            break;
        off += (size_t)n;
        if (f.type == GW_SPDY_SYN_STREAM || f.type == GW_SPDY_SYN_REPLY ||
            f.type == GW_SPDY_HEADERS) {
            if (gw_spdy_hdec_decode(d, f.data, f.len, &h) == 0)
                s_round_trip(&h);
        }
        if (f.type == GW_SPDY_SETTINGS)
            (void)gw_spdy_setting(&f, GW_SPDY_SETTINGS_INITIAL_WINDOW_SIZE, &v);
    }
    gw_spdy_hdec_destroy(&d);
    return 0;
}
