/*
 * store/store_mp.c — reading the msgpack the store itself wrote, without
 * decoding it into trees: a str, a literal key, a map lookup, an object's
 * metadata.resourceVersion. Every read checks the bytes left (the shapes
 * are the store's own, but a read never trusts a length).
 */
#include "store/store_mp.h"

#include "protocol/codec.h"

#include <stdlib.h>
#include <string.h>

/* Reads one msgpack str at *p; advances *p. */
bool store_mp_str(const unsigned char **p, const unsigned char *end, const char **str, size_t *n)
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

bool store_mp_lit(const unsigned char **p, const unsigned char *end, const char *lit)
{
    const char *str;
    size_t n;
    return store_mp_str(p, end, &str, &n) && n == strlen(lit) && memcmp(str, lit, n) == 0;
}

/* Reads an n-byte big-endian length at q. */
static bool s_mp_be(const unsigned char *q, const unsigned char *end, int n, size_t *out)
{
    if (end - q < n)
        return false;
    size_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | q[i];
    *out = v;
    return true;
}

/* Length fields of the msgpack types protocol/codec writes: *n payload
 * bytes, *items nested values, *hdr extra header bytes. false for ext. */
static bool s_mp_sizes(unsigned c, const unsigned char *p, const unsigned char *end, size_t *n,
                       size_t *items, int *hdr)
{
    static const struct {
        unsigned char code, len_bytes, fixed, per_item; /* per_item: 1 array, 2 map */
    } tab[] = {
        {0xcc, 0, 1, 0}, {0xd0, 0, 1, 0}, {0xcd, 0, 2, 0}, {0xd1, 0, 2, 0}, {0xca, 0, 4, 0},
        {0xce, 0, 4, 0}, {0xd2, 0, 4, 0}, {0xcb, 0, 8, 0}, {0xcf, 0, 8, 0}, {0xd3, 0, 8, 0},
        {0xc4, 1, 0, 0}, {0xd9, 1, 0, 0}, {0xc5, 2, 0, 0}, {0xda, 2, 0, 0}, {0xc6, 4, 0, 0},
        {0xdb, 4, 0, 0}, {0xdc, 2, 0, 1}, {0xdd, 4, 0, 1}, {0xde, 2, 0, 2}, {0xdf, 4, 0, 2},
    };
    *n = *items = 0;
    *hdr = 0;
    if ((c & 0xe0) == 0xa0)
        return *n = c & 0x1f, true;
    if ((c & 0xf0) == 0x90)
        return *items = c & 0x0f, true;
    if ((c & 0xf0) == 0x80)
        return *items = 2 * (c & 0x0f), true;
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) {
        if (tab[i].code != c)
            continue;
        size_t len = tab[i].fixed;
        if (tab[i].len_bytes && !s_mp_be(p, end, tab[i].len_bytes, &len))
            return false;
        *hdr = tab[i].len_bytes;
        if (tab[i].per_item)
            *items = len * tab[i].per_item;
        else
            *n = len;
        return true;
    }
    return false;
}

/* Skips one encoded value; NULL if malformed or nested deeper than depth. */
static const unsigned char *s_mp_skip(const unsigned char *p, const unsigned char *end, int depth)
{
    if (p >= end || depth <= 0)
        return NULL;
    unsigned c = *p++;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return p; /* fixint, nil, bool */
    size_t n, items;
    int hdr;
    if (!s_mp_sizes(c, p, end, &n, &items, &hdr))
        return NULL;
    p += hdr;
    if ((size_t)(end - p) < n)
        return NULL;
    p += n;
    for (size_t i = 0; i < items && p; i++)
        p = s_mp_skip(p, end, depth - 1);
    return p;
}

/* Looks up key name in the map at *p: *found, and *p at its value. */
static bool s_mp_find(const unsigned char **p, const unsigned char *end, const char *name,
                      bool *found)
{
    size_t n, items, nl = strlen(name);
    int hdr;
    *found = false;
    if (*p >= end || !s_mp_sizes(**p, *p + 1, end, &n, &items, &hdr) || n || items % 2)
        return false;
    if (**p != 0xde && **p != 0xdf && (**p & 0xf0) != 0x80)
        return false; /* an array */
    *p += 1 + hdr;
    for (size_t i = 0; i < items / 2; i++) {
        const char *k;
        size_t kl;
        if (!store_mp_str(p, end, &k, &kl))
            return false;
        if (kl == nl && memcmp(k, name, nl) == 0)
            return *found = true;
        if (!(*p = s_mp_skip(*p, end, PROTO_MAX_DEPTH + 1)))
            return false;
    }
    return true;
}

/*
 * metadata.resourceVersion of an encoded object, without decoding it (an
 * update's precondition check would otherwise cost a full decode). false
 * when the bytes are not shaped as expected: the caller decodes then.
 */
bool store_mp_rv(const void *buf, size_t len, uint64_t *rv)
{
    const unsigned char *p = buf, *end = p + len;
    const char *str;
    size_t n;
    bool found;
    char b[32];
    *rv = 0;
    if (!s_mp_find(&p, end, "metadata", &found))
        return false;
    if (found && !s_mp_find(&p, end, "resourceVersion", &found))
        return false;
    if (!found)
        return true;
    if (!store_mp_str(&p, end, &str, &n) || n >= sizeof b)
        return false;
    memcpy(b, str, n);
    b[n] = 0;
    *rv = strtoull(b, NULL, 10);
    return true;
}
