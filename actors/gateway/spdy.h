/*
 * actors/gateway/spdy.h — SPDY/3.1 framing and header blocks for the
 * gateway's `pods/{name}/portforward` (portforward.c), the protocol
 * kubectl speaks for port-forward: SPDY frames tunnelled in WebSocket
 * binary messages (subprotocol `SPDY/3.1+portforward.k8s.io`), or on the
 * raw socket after an `Upgrade: SPDY/3.1`.
 *
 * Pure: no sockets, no actor. A frame decoder that never allocates (the
 * picohttpparser shape: bytes consumed, partial, or an error), encoders of
 * the fixed-size control frames into caller buffers, and the header-block
 * codec: name/value blocks compressed with one zlib stream per direction
 * and connection, primed with SPDY/3's dictionary. Flow-control windows
 * are the session's (portforward.c). tests/unit/test_spdy.c and
 * tests/fuzz/fuzz_spdy.c check it alone.
 */
#ifndef ZK_ACTORS_GATEWAY_SPDY_H
#define ZK_ACTORS_GATEWAY_SPDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GW_SPDY_VERSION 3

/* Frame types (control frames); GW_SPDY_DATA for a data frame. */
enum gw_spdy_type {
    GW_SPDY_DATA = 0,
    GW_SPDY_SYN_STREAM = 1,
    GW_SPDY_SYN_REPLY = 2,
    GW_SPDY_RST_STREAM = 3,
    GW_SPDY_SETTINGS = 4,
    GW_SPDY_PING = 6,
    GW_SPDY_GOAWAY = 7,
    GW_SPDY_HEADERS = 8,
    GW_SPDY_WINDOW_UPDATE = 9,
};

#define GW_SPDY_FLAG_FIN 0x01
#define GW_SPDY_FLAG_UNIDIRECTIONAL 0x02

/* RST_STREAM status codes. */
enum gw_spdy_rst {
    GW_SPDY_RST_PROTOCOL_ERROR = 1,
    GW_SPDY_RST_INVALID_STREAM = 2,
    GW_SPDY_RST_REFUSED_STREAM = 3,
    GW_SPDY_RST_CANCEL = 5,
    GW_SPDY_RST_INTERNAL_ERROR = 6,
    GW_SPDY_RST_FLOW_CONTROL_ERROR = 7,
    GW_SPDY_RST_STREAM_IN_USE = 8,
    GW_SPDY_RST_STREAM_ALREADY_CLOSED = 9,
    GW_SPDY_RST_FRAME_TOO_LARGE = 11,
};

/* GOAWAY status codes. */
#define GW_SPDY_GOAWAY_OK 0
#define GW_SPDY_GOAWAY_PROTOCOL_ERROR 1
#define GW_SPDY_GOAWAY_INTERNAL_ERROR 2

#define GW_SPDY_SETTINGS_INITIAL_WINDOW_SIZE 7
#define GW_SPDY_INITIAL_WINDOW (64u << 10) /* SPDY/3.1: streams and the connection */
#define GW_SPDY_MAX_WINDOW 0x7fffffffu
#define GW_SPDY_HEADER_LEN 8 /* every frame's header */
#define GW_SPDY_CTRL_MAX 20  /* the longest fixed-size control frame (SETTINGS of one) */
#define GW_SPDY_MAX_DATA 0xffffffu

/* gw_spdy_parse / gw_spdy_hdec_decode results besides success. */
#define GW_SPDY_PARTIAL (-2) /* more bytes are needed */
#define GW_SPDY_EPROTO (-1)  /* malformed: a GOAWAY PROTOCOL_ERROR ends the connection */
#define GW_SPDY_ETOOBIG (-3) /* a frame or header block over the limit */

/* One decoded frame; pointers into the caller's buffer, valid while it is. */
typedef struct gw_spdy_frame {
    int type; /* enum gw_spdy_type; unknown control types are returned as is */
    uint8_t flags;
    uint32_t stream;     /* DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE;
                            GOAWAY: the last good stream */
    uint32_t assoc;      /* SYN_STREAM: associated-to stream */
    uint8_t priority;    /* SYN_STREAM: 0 (highest) .. 7 */
    uint32_t value;      /* RST_STREAM and GOAWAY: status; PING: id; WINDOW_UPDATE: delta */
    const uint8_t *data; /* DATA: payload; SYN_STREAM, SYN_REPLY, HEADERS: the compressed
                            header block; SETTINGS: the entries; unknown: the payload */
    size_t len;
} gw_spdy_frame_t;

/*
 * Decodes the frame at the start of buf[0..len). max_len bounds a frame's
 * payload (DATA and control). Returns the bytes the frame takes (> 0) and
 * fills f; GW_SPDY_PARTIAL when buf holds less than a whole frame;
 * GW_SPDY_EPROTO (a version other than 3, stream id 0 where one is needed,
 * a fixed-size frame of the wrong length, SETTINGS whose count does not
 * match its length, a zero RST status or WINDOW_UPDATE delta);
 * GW_SPDY_ETOOBIG.
 */
ssize_t gw_spdy_parse(const uint8_t *buf, size_t len, size_t max_len, gw_spdy_frame_t *f);

/* The value of setting id in a SETTINGS frame f; false when absent. */
bool gw_spdy_setting(const gw_spdy_frame_t *f, uint32_t id, uint32_t *value);

/* ---- encoders: return the bytes written ------------------------------------------- */

/* A data frame's header for len payload bytes (len <= GW_SPDY_MAX_DATA). */
size_t gw_spdy_data_header(uint8_t out[GW_SPDY_HEADER_LEN], uint32_t stream, uint8_t flags,
                           size_t len);
size_t gw_spdy_rst_stream(uint8_t out[GW_SPDY_CTRL_MAX], uint32_t stream, uint32_t status);
size_t gw_spdy_ping(uint8_t out[GW_SPDY_CTRL_MAX], uint32_t id);
size_t gw_spdy_goaway(uint8_t out[GW_SPDY_CTRL_MAX], uint32_t last_good, uint32_t status);
size_t gw_spdy_window_update(uint8_t out[GW_SPDY_CTRL_MAX], uint32_t stream, uint32_t delta);
/* A SETTINGS frame with one entry (id, value). */
size_t gw_spdy_settings1(uint8_t out[GW_SPDY_CTRL_MAX], uint32_t id, uint32_t value);

/* ---- header blocks ---------------------------------------------------------------- */

#define GW_SPDY_MAX_HEADERS 64
#define GW_SPDY_MAX_BLOCK (64u << 10) /* bytes of one decompressed header block */

/* One header: name and value (NUL-separated when it has several values);
 * both point into the decoder and stay valid until its next decode. */
typedef struct gw_spdy_header {
    const char *name, *value;
    size_t name_len, value_len;
} gw_spdy_header_t;

typedef struct gw_spdy_headers {
    gw_spdy_header_t h[GW_SPDY_MAX_HEADERS];
    size_t n;
} gw_spdy_headers_t;

/* The decompressor of one connection's incoming header blocks. */
typedef struct gw_spdy_hdec gw_spdy_hdec_t;
gw_spdy_hdec_t *gw_spdy_hdec_new(void);
void gw_spdy_hdec_destroy(gw_spdy_hdec_t **d);

/*
 * Decompresses the header block block[0..len) (a frame's data) and parses
 * its name/value pairs into out. Every block of the connection must go
 * through here in order, even those of refused streams: the zlib stream
 * is shared. Returns 0; GW_SPDY_EPROTO for bad zlib data, a malformed
 * block, an empty or upper-case name or a repeated one; GW_SPDY_ETOOBIG
 * (over GW_SPDY_MAX_BLOCK bytes or GW_SPDY_MAX_HEADERS headers). After
 * an error the decoder is unusable: the connection must end.
 */
int gw_spdy_hdec_decode(gw_spdy_hdec_t *d, const uint8_t *block, size_t len,
                        gw_spdy_headers_t *out);

/* The value of header name in h (its length in *len), NULL when absent. */
const char *gw_spdy_header(const gw_spdy_headers_t *h, const char *name, size_t *len);

/* The compressor of one connection's outgoing header blocks. */
typedef struct gw_spdy_henc gw_spdy_henc_t;
gw_spdy_henc_t *gw_spdy_henc_new(void);
void gw_spdy_henc_destroy(gw_spdy_henc_t **e);

/*
 * Writes a whole SYN_REPLY (type GW_SPDY_SYN_REPLY) or HEADERS frame for
 * stream with the n headers nv[0..2n) (name, value, name, value ...; names
 * lower-case) into out[0..cap). Returns the frame's length, or
 * GW_SPDY_ETOOBIG when it does not fit (the compressor is then unusable).
 */
ssize_t gw_spdy_henc_frame(gw_spdy_henc_t *e, int type, uint8_t flags, uint32_t stream,
                           const char *const *nv, size_t n, uint8_t *out, size_t cap);

/*
 * The same for a SYN_STREAM (a client's frame: tests and the fuzzer play
 * kubectl with it).
 */
ssize_t gw_spdy_henc_syn_stream(gw_spdy_henc_t *e, uint8_t flags, uint32_t stream,
                                const char *const *nv, size_t n, uint8_t *out, size_t cap);

#endif
