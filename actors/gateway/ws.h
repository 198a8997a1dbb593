/*
 * actors/gateway/ws.h — WebSocket (RFC 6455) for the gateway's streaming
 * pod subresources, and the entry points of those subresources.
 *
 * The HTTP side of a WebSocket stays libmicrohttpd's (the upgrade is an MHD
 * 101 response made with MHD_create_response_for_upgrade); this module only
 * checks the handshake headers, computes Sec-WebSocket-Accept, picks the
 * subprotocol, and encodes and decodes frames on the upgraded socket. The
 * framing part is pure (no I/O, no actor), so tests/unit/test_ws.c and
 * tests/fuzz/fuzz_ws.c check it alone.
 *
 * Second part: `pods/{name}/log` (logs.c), `pods/{name}/exec` (exec.c) and
 * `pods/{name}/portforward` (portforward.c), called from http.c.
 */
#ifndef ZK_ACTORS_GATEWAY_WS_H
#define ZK_ACTORS_GATEWAY_WS_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- framing (ws.c) ----------------------------------------------------- */

enum gw_ws_opcode {
    GW_WS_CONT = 0x0,
    GW_WS_TEXT = 0x1,
    GW_WS_BINARY = 0x2,
    GW_WS_CLOSE = 0x8,
    GW_WS_PING = 0x9,
    GW_WS_PONG = 0xa,
};

/* Close codes zkube sends (RFC 6455 §7.4.1). */
#define GW_WS_CLOSE_NORMAL 1000
#define GW_WS_CLOSE_GOING_AWAY 1001
#define GW_WS_CLOSE_PROTOCOL 1002
#define GW_WS_CLOSE_BAD_DATA 1007 /* invalid UTF-8 in a text message */
#define GW_WS_CLOSE_TOO_BIG 1009
#define GW_WS_CLOSE_INTERNAL 1011

/* gw_ws_parse / gw_ws_read results besides "bytes consumed" (> 0). */
#define GW_WS_PARTIAL (-2) /* more bytes are needed */
#define GW_WS_EPROTO (-1)  /* protocol violation: close with 1002 */
#define GW_WS_ETOOBIG (-3) /* a frame or message over the limit: close with 1009 */
#define GW_WS_EUTF8 (-4)   /* invalid UTF-8 in a text message or close reason: 1007 */

#define GW_WS_MAX_HEADER 14 /* bytes of the longest frame header */
#define GW_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */

/* One decoded frame. payload points into the caller's buffer, unmasked in
 * place; valid while that buffer is. */
typedef struct gw_ws_frame {
    bool fin;
    int opcode;
    bool masked;
    uint64_t len;
    uint8_t *payload;
} gw_ws_frame_t;

/*
 * Decodes the frame at the start of buf[0..len) (picohttpparser's shape:
 * never allocates). need_mask: frames from a client must be masked (a
 * server passes true). max_payload bounds one frame's payload. Returns the
 * bytes the frame takes (> 0) and fills f, unmasking its payload in place;
 * GW_WS_PARTIAL when buf holds less than a whole frame; GW_WS_EPROTO
 * (reserved bits, unknown opcode, fragmented or long control frame, a
 * missing mask, a non-minimal or 64-bit-overflowing length); GW_WS_ETOOBIG.
 */
ssize_t gw_ws_parse(uint8_t *buf, size_t len, bool need_mask, uint64_t max_payload,
                    gw_ws_frame_t *f);

/*
 * Writes a frame header for a payload of len bytes into out (at least
 * GW_WS_MAX_HEADER bytes) and returns its length. mask: NULL for a server
 * frame, else 4 bytes (the caller masks the payload with gw_ws_mask).
 */
size_t gw_ws_header(uint8_t *out, bool fin, int opcode, uint64_t len, const uint8_t *mask);

/* XORs data with mask as if data started at byte offset of the payload. */
void gw_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

/* True when s[0..len) is valid UTF-8 (no overlongs, surrogates, or code
 * points above U+10FFFF). */
bool gw_ws_utf8_ok(const uint8_t *s, size_t len);

/* True for a close code a peer may send (1000-1003, 1007-1014, 3000-4999). */
bool gw_ws_close_code_ok(unsigned code);

/* What one frame meant, after reassembly (gw_ws_read). */
typedef enum gw_ws_ev_type {
    GW_WS_EV_NONE = 0, /* a fragment was stored; nothing to act on yet */
    GW_WS_EV_MESSAGE,  /* a whole text or binary message: opcode, data, len */
    GW_WS_EV_PING,     /* answer with a PONG carrying data */
    GW_WS_EV_PONG,
    GW_WS_EV_CLOSE, /* close_code (1005 when none was given), data = reason */
} gw_ws_ev_type_t;

typedef struct gw_ws_event {
    gw_ws_ev_type_t type;
    int opcode;
    const uint8_t *data; /* valid until the next gw_ws_read or gw_ws_reader_clear */
    size_t len;
    unsigned close_code;
} gw_ws_event_t;

/* Reassembles fragmented messages. Zero-initialise, set max_message. */
typedef struct gw_ws_reader {
    size_t max_message; /* bytes of one reassembled message (0: 1 MiB) */
    bool need_mask;     /* a server's reader: true */
    int opcode;         /* of the message being reassembled; 0 = none */
    uint8_t *msg;
    size_t len, cap;
} gw_ws_reader_t;

/*
 * Consumes one frame from buf[0..len) (unmasked in place) and says what it
 * meant in ev. Returns the bytes consumed (> 0), GW_WS_PARTIAL, or an error
 * (GW_WS_EPROTO: a continuation with no message, a new message inside a
 * fragmented one, a close payload of 1 byte or with a bad code;
 * GW_WS_ETOOBIG; GW_WS_EUTF8). After an error the connection must be
 * closed with gw_ws_close_code_for(error).
 */
ssize_t gw_ws_read(gw_ws_reader_t *r, uint8_t *buf, size_t len, gw_ws_event_t *ev);
/* Frees the reassembly buffer. */
void gw_ws_reader_clear(gw_ws_reader_t *r);
/* The close code for a gw_ws_parse/gw_ws_read error. */
unsigned gw_ws_close_code_for(ssize_t err);

/* ---- handshake (ws.c) ---------------------------------------------------- */

/*
 * Is this HTTP request a WebSocket opening handshake? Arguments are the
 * method and the Upgrade, Connection, Sec-WebSocket-Version and
 * Sec-WebSocket-Key header values (NULL when absent). Returns 1 for a valid
 * handshake, 0 when the request asks for no WebSocket at all (no
 * `Upgrade: websocket`), PROTO_EBADREQUEST for a broken one (err says why).
 */
int gw_ws_check_upgrade(const char *method, const char *upgrade, const char *connection,
                        const char *version, const char *key, char *err, size_t errlen);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)). */
void gw_ws_accept(const char *key, char out[GW_WS_ACCEPT_LEN + 1]);

/*
 * The first of ours (NULL-terminated, in our order of preference) that the
 * client offered in its Sec-WebSocket-Protocol value (comma-separated
 * tokens); NULL when none was. Returns a pointer into ours.
 */
const char *gw_ws_pick_protocol(const char *offered, const char *const *ours);

/* ---- output buffer (ws.c) ------------------------------------------------ */

/* Bytes waiting to be written to a socket. */
typedef struct gw_ws_out {
    uint8_t *data;
    size_t len, off, cap;
} gw_ws_out_t;

/* Appends one unmasked frame (a server's) with payload prefix[0..plen) +
 * data[0..len) — the channel byte of the Kubernetes stream protocols is a
 * one-byte prefix. */
void gw_ws_out_frame(gw_ws_out_t *o, int opcode, const uint8_t *prefix, size_t plen,
                     const void *data, size_t len);
/* A close frame with code and reason. */
void gw_ws_out_close(gw_ws_out_t *o, unsigned code, const char *reason);
/* Frees the buffer. */
void gw_ws_out_clear(gw_ws_out_t *o);

/* ---- pod subresources (logs.c, exec.c, portforward.c) -------------------- */

struct gw;
struct gw_conn;

/* True when http.c should hand the request to gw_sub_start: pods' `log`,
 * `exec` and `portforward`. */
bool gw_sub_handles(const char *resource, const char *sub);
/* Serves log (logs.c), exec (exec.c) and portforward (portforward.c:
 * SPDY/3.1 in a WebSocket, or plain SPDY).
 * Either queues a response now or suspends x (state GW_C_WAIT) while it
 * asks the apiserver and the kubelet. */
enum MHD_Result gw_sub_start(struct gw *g, struct gw_conn *x, const char *method);

/*
 * Answers are queued from MHD's access handler: a subresource registers
 * the answer with gw_sub_ready (or gw_sub_reply), which resumes the
 * connection, and http.c's handler calls gw_sub_resume when gw_sub_pending
 * says so.
 */
bool gw_sub_pending(struct gw *g, const struct gw_conn *x);
/* Queues the answer registered for x; MHD_YES when there is none. */
enum MHD_Result gw_sub_resume(struct gw *g, struct gw_conn *x);
/* x is gone (MHD's completion callback): drops what was registered. */
void gw_sub_forget(struct gw *g, const struct gw_conn *x);
/* Shutdown, before MHD_stop_daemon (which must find no suspended
 * connection): ends log streams and closes exec and port-forward sessions. */
void gw_sub_stop_all(struct gw *g);

/* An answer waiting for the handler. Embed first in the answer's state. */
typedef struct gw_sub gw_sub_t;
struct gw_sub {
    struct gw *g;
    uint64_t id; /* the connection's id */
    /* queues the answer on c; owns s from then on (destroys it) */
    enum MHD_Result (*answer)(gw_sub_t *s, struct MHD_Connection *c);
    void (*destroy)(gw_sub_t *s); /* frees the whole state */
    gw_sub_t *next;
};

/* Registers s (g, id, answer, destroy set) and resumes its connection,
 * which waits in GW_C_WAIT; destroys s when the connection is gone. MHD
 * runs here: the last statement of a loop callback. */
void gw_sub_ready(gw_sub_t *s);

/* Answers x's request (id on g, waiting in GW_C_WAIT) with reply (stolen;
 * a JSON string goes out as text/plain, anything else as JSON), like a
 * gw_sub_ready; dropped when the connection is gone. */
void gw_sub_reply(struct gw *g, uint64_t id, int code, json_t *reply);

/* The container name for a subresource request on pod (the one named, or
 * the only one); NULL with *err (a 400 Status) otherwise. Borrowed. */
const char *gw_sub_container(const json_t *pod, const char *name, json_t **err);
/* Go's strconv.ParseBool, as Kubernetes reads query flags. */
bool gw_sub_truthy(const char *v);

/* logs.c, exec.c */
enum MHD_Result gw_logs_start(struct gw *g, struct gw_conn *x, const char *method);
enum MHD_Result gw_exec_start(struct gw *g, struct gw_conn *x, const char *method);
void gw_logs_stop_all(struct gw *g);


#endif
