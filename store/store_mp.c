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

bool store_mp_str(const unsigned char **p, const unsigned char *end, const char **str, size_t *n)
{
    return proto_mp_read_str(p, end, str, n);
}

bool store_mp_lit(const unsigned char **p, const unsigned char *end, const char *lit)
{
    const char *str;
    size_t n;
    return store_mp_str(p, end, &str, &n) && n == strlen(lit) && memcmp(str, lit, n) == 0;
}

/* Looks up key name in the map at *p: *found, and *p at its value. */
static bool s_mp_find(const unsigned char **p, const unsigned char *end, const char *name,
                      bool *found)
{
    size_t n, nl = strlen(name);
    const unsigned char *q = *p;
    *found = false;
    if (q >= end)
        return false;
    if ((*q & 0xf0) == 0x80)
        n = *q & 0x0f, q += 1;
    else if (*q == 0xde && end - q >= 3)
        n = (size_t)q[1] << 8 | q[2], q += 3;
    else if (*q == 0xdf && end - q >= 5)
        n = (size_t)q[1] << 24 | (size_t)q[2] << 16 | (size_t)q[3] << 8 | q[4], q += 5;
    else
        return false; /* not a map */
    *p = q;
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        if (!store_mp_str(p, end, &k, &kl))
            return false;
        if (kl == nl && memcmp(k, name, nl) == 0)
            return *found = true;
        size_t used = proto_mp_skip(*p, (size_t)(end - *p), PROTO_MAX_DEPTH);
        if (!used)
            return false;
        *p += used;
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
