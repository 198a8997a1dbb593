/*
 * protocol/envelope — the one msgpack envelope every zkube message carries.
 *
 * Wire form: a msgpack map
 *   {"v":1, "t":"req|rep|evt|hb|ctl", "id":uint, "src":str, "dst":str,
 *    "op":str, "ts":int (µs since epoch), "code":int, "body":any}
 * "code" is the HTTP-like status of a reply (200, 201, 404 ...), 0 elsewhere.
 * Bodies are shaped like the Kubernetes JSON of the object, or a Status.
 * A map is used (not an array) so that the tap decodes any message with no
 * knowledge of its type.
 */
#ifndef ZK_PROTOCOL_ENVELOPE_H
#define ZK_PROTOCOL_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_ID_MAX 64   /* bytes of src (actor id), incl. NUL */
#define PROTO_DST_MAX 256 /* bytes of dst (service or topic), incl. NUL */
#define PROTO_OP_MAX 32   /* bytes of op, incl. NUL */

typedef enum proto_mtype {
    PROTO_T_REQ = 1, /* request to a service */
    PROTO_T_REP,     /* reply to a request, same id */
    PROTO_T_EVT,     /* event on the bus (topic in dst) */
    PROTO_T_HB,      /* heartbeat */
    PROTO_T_CTL,     /* control: register, bye, status */
} proto_mtype_t;

typedef struct proto_env {
    int v;
    proto_mtype_t type;
    uint64_t id;
    char src[PROTO_ID_MAX];
    char dst[PROTO_DST_MAX];
    char op[PROTO_OP_MAX];
    int64_t ts_us;
    int code;
    json_t *body; /* owned by the envelope; NULL means nil */
} proto_env_t;

/* "req", "rep", "evt", "hb", "ctl"; "?" for anything else. */
const char *proto_mtype_name(proto_mtype_t t);
/* Inverse; 0 when unknown. */
proto_mtype_t proto_mtype_parse(const char *s);

/*
 * Fills e with type, ids and op (strings truncated to their limits), ts now,
 * and takes a new reference to body (may be NULL).
 */
void proto_env_init(proto_env_t *e, proto_mtype_t type, uint64_t id, const char *src,
                    const char *dst, const char *op, const json_t *body);

/* Encodes e; *buf malloc'd, caller frees. 0 or PROTO_ETOOLARGE. */
int proto_env_pack(const proto_env_t *e, char **buf, size_t *len);

/*
 * As proto_env_pack, with e->body ignored and the body given pre-encoded:
 * body/blen must be exactly one msgpack value (e.g. bytes that
 * proto_mp_pack or the store produced), embedded as is, so a large body is
 * never decoded into a tree. *buf malloc'd, caller frees. 0,
 * PROTO_ETOOLARGE (envelope over PROTO_MAX_MSG) or PROTO_EINVALID (empty
 * body).
 */
int proto_env_pack_raw(const proto_env_t *e, const void *body, size_t blen, char **buf,
                       size_t *len);

/*
 * Decodes and validates an envelope: map with the required keys of the right
 * types, version 1, known type, strings within limits, body depth within
 * PROTO_MAX_DEPTH. Unknown keys are ignored (forward compatibility).
 * On success e owns a body reference (release with proto_env_clear). On
 * failure returns PROTO_EBADREQUEST with a reason in err and e is cleared.
 */
int proto_env_unpack(const void *buf, size_t len, proto_env_t *e, char *err, size_t errlen);

/*
 * As proto_env_unpack, leaving the body undecoded: e->body stays NULL and
 * *body and *blen give the body's bytes inside buf (NULL/0 when it is absent or
 * nil), checked only for its sizes and nesting. Decode them with
 * proto_env_body before use. For a message the fast reader does not take
 * (unknown keys, say), the body arrives decoded in e->body and *body is NULL.
 * For readers that look at the header first (reply matching, routing).
 */
int proto_env_unpack_head(const void *buf, size_t len, proto_env_t *e, const void **body,
                          size_t *blen, char *err, size_t errlen);

/* Decodes body bytes found by proto_env_unpack_head into e->body (NULL for
 * nil). 0 or PROTO_EBADREQUEST with a reason in err. */
int proto_env_body(proto_env_t *e, const void *body, size_t blen, char *err, size_t errlen);

/* proto_env_unpack by its reference path alone: the whole message decoded
 * into a tree, then checked (tests compare the two paths). */
int proto_env_unpack_tree(const void *buf, size_t len, proto_env_t *e, char *err, size_t errlen);

/* Releases the body; e may be reused. */
void proto_env_clear(proto_env_t *e);

#endif
