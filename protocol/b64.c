/*
 * protocol/b64.c — base64 encoding and strict decoding (see b64.h).
 */
#include "protocol/b64.h"

#include <stdint.h>
#include <stdlib.h>

static const char s_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *proto_b64_encode(const void *data, size_t len)
{
    const uint8_t *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        abort();
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = s_alpha[v >> 18];
        out[o++] = s_alpha[(v >> 12) & 63];
        out[o++] = s_alpha[(v >> 6) & 63];
        out[o++] = s_alpha[v & 63];
    }
    if (len - i > 0) {
        uint32_t v = (uint32_t)p[i] << 16 | (len - i > 1 ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = s_alpha[v >> 18];
        out[o++] = s_alpha[(v >> 12) & 63];
        out[o++] = len - i > 1 ? s_alpha[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int s_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

void *proto_b64_decode(const char *s, size_t len, size_t *outlen)
{
    size_t pad = 0;
    while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
        pad++;
    if (pad && len % 4)
        return NULL; /* padded input comes in whole quanta */
    size_t n = len - pad;
    if (n % 4 == 1)
        return NULL;
    uint8_t *out = malloc(n / 4 * 3 + 3);
    if (!out)
        abort();
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = s_val((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}
