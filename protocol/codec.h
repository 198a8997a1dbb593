/*
 * protocol/codec — msgpack <-> jansson, the encoding of objects on the wire
 * and in the store. The decoder is the first thing that touches bytes from
 * the network, so it checks every size and depth before it allocates.
 */
#ifndef ZK_PROTOCOL_CODEC_H
#define ZK_PROTOCOL_CODEC_H

#include <jansson.h>
#include <stddef.h>

#define PROTO_MAX_DEPTH 64            /* nesting of maps and arrays */
#define PROTO_MAX_MSG (64u << 20)     /* bytes of one encoded message */
#define PROTO_MAX_ITEMS (4u << 20)    /* elements of one map or array */

/*
 * Encodes v as msgpack. Integers stay integers, reals become float64, strings
 * raw/str, objects maps with string keys, null nil. On success *buf is
 * malloc'd (caller frees) and *len set. Returns 0, or PROTO_ETOOLARGE /
 * PROTO_EINVALID (depth over PROTO_MAX_DEPTH).
 */
int proto_mp_pack(const json_t *v, char **buf, size_t *len);

/*
 * Decodes exactly one msgpack value filling all len bytes (trailing bytes are
 * an error). Map keys must be strings. bin becomes a string only if it is
 * valid UTF-8. On success *out is a new reference (caller owns). On failure
 * returns PROTO_EBADREQUEST and writes a reason to err (may be NULL),
 * e.g. "msgpack: truncated at byte 17", "msgpack: nesting deeper than 64".
 */
int proto_mp_unpack(const void *buf, size_t len, json_t **out, char *err, size_t errlen);

#endif
