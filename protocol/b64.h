/*
 * protocol/b64 — base64 (RFC 4648, standard alphabet) for bytes that travel
 * inside JSON/msgpack strings: Secret data, stream payloads between the
 * gateway and the kubelet.
 */
#ifndef ZK_PROTOCOL_B64_H
#define ZK_PROTOCOL_B64_H

#include <stddef.h>

/* The padded encoding of len bytes, NUL-terminated; the caller frees. */
char *proto_b64_encode(const void *data, size_t len);

/*
 * Decodes len characters of s (padding optional; no whitespace). Returns a
 * buffer the caller frees, NUL-terminated after *outlen bytes, or NULL when
 * s holds a character outside the alphabet, a misplaced '=', or a length
 * that no encoding has.
 */
void *proto_b64_decode(const char *s, size_t len, size_t *outlen);

#endif
