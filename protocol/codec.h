/*
 * protocol/codec — msgpack <-> jansson, the encoding of objects on the wire
 * and in the store. The decoder is the first thing that touches bytes from
 * the network, so it checks every size and depth before it allocates.
 */
#ifndef ZK_PROTOCOL_CODEC_H
#define ZK_PROTOCOL_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Integers: msgpack uint64 values above INT64_MAX are refused (jansson holds
 * int64 only; no Kubernetes field needs more). Strings must be valid UTF-8,
 * map keys valid UTF-8 without NUL, and duplicate keys are refused
 * (so two readers can never disagree about a message). Floats become reals;
 * NaN and infinities are refused (JSON has none). ext types are refused.
 */

/*
 * As proto_mp_unpack, with nesting bounded by max_depth instead of
 * PROTO_MAX_DEPTH (the envelope allows its body the full PROTO_MAX_DEPTH
 * below its own map).
 */
int proto_mp_unpack_depth(const void *buf, size_t len, int max_depth, json_t **out, char *err,
                          size_t errlen);

/*
 * Decodes the one value at the start of buf; bytes after it are not looked
 * at (the caller reads on from buf + *used). Limits and errors as
 * proto_mp_unpack_depth.
 */
int proto_mp_unpack_prefix(const void *buf, size_t len, int max_depth, json_t **out, size_t *used,
                           char *err, size_t errlen);

/*
 * The size in bytes of the one value at the start of buf, without decoding
 * it: sizes and nesting (containers nested at most max_depth deep) are
 * checked, string contents are not (proto_mp_unpack still checks them).
 * 0 when the value is malformed, truncated, too deep or an ext type.
 */
size_t proto_mp_skip(const void *buf, size_t len, int max_depth);

/* Reads one msgpack str (fixstr, str 8/16/32) at *p, advancing *p; *str
 * and *n borrow its bytes (not checked as UTF-8). false when *p holds
 * anything else or the str does not fit before end. */
bool proto_mp_read_str(const unsigned char **p, const unsigned char *end, const char **str,
                       size_t *n);

/* Whether n bytes at s are valid UTF-8 (the decoder's own check). */
bool proto_mp_utf8_ok(const void *s, size_t n);

struct msgpack_packer;
/*
 * Packs v with an existing msgpack-c packer, to embed a tree in a larger
 * message; depth is the nesting already open around v. Returns 0 or
 * PROTO_EINVALID (more than PROTO_MAX_DEPTH containers nested below
 * that depth). A NULL v packs as nil. The caller checks the total size.
 */
int proto_mp_pack_into(struct msgpack_packer *pk, const json_t *v, int depth);

/*
 * A growing buffer msgpack is written into directly, token by token, with
 * no callback per token (the hot paths: the store's writes, replies). The
 * bytes are msgpack-c's for the same tree. Growth reallocs data (aborting,
 * with file:line, when memory runs out); start from {NULL, 0, 0} or from a
 * buffer of the caller's (malloc'd, cap bytes, len used).
 */
typedef struct proto_mp_wbuf {
    char *data;
    size_t len, cap;
} proto_mp_wbuf_t;
/* Appends v (as proto_mp_pack_into: depth open around it, NULL is nil). */
int proto_mp_pack_wbuf(proto_mp_wbuf_t *b, const json_t *v, int depth);
/* Appends a map header of n entries / a string. */
void proto_mp_w_map(proto_mp_wbuf_t *b, uint32_t n);
void proto_mp_w_str(proto_mp_wbuf_t *b, const char *s, uint32_t n);

/*
 * A write callback for msgpack_packer over a msgpack_sbuffer that aborts
 * (with file:line) when memory runs out, so pack calls need no checks.
 */
int proto_mp_sbuffer_write(void *sbuffer, const char *buf, size_t len);

#endif
