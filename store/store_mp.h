/*
 * store/store_mp.h — private to the store: readers of the msgpack bytes
 * it writes (log values and objects), so that a precondition check or a
 * prefix filter costs no decode. Not a contract for other modules.
 */
#ifndef ZK_STORE_STORE_MP_H
#define ZK_STORE_STORE_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads one msgpack str at *p (before end); *str and *n borrow the bytes and
 * *p moves past it. false when it is not a complete str. */
bool store_mp_str(const unsigned char **p, const unsigned char *end, const char **str, size_t *n);
/* Reads a str equal to lit; false otherwise. */
bool store_mp_lit(const unsigned char **p, const unsigned char *end, const char *lit);
/* metadata.resourceVersion of an encoded object (*rv 0 when absent);
 * false when the bytes are not shaped as expected (decode then). */
bool store_mp_rv(const void *buf, size_t len, uint64_t *rv);

#endif
