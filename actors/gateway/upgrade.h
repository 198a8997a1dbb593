/*
 * actors/gateway/upgrade — an upgraded connection: the socket libmicrohttpd
 * hands over after a 101, for exec (WebSocket channels) and port-forward
 * (SPDY in a WebSocket, or SPDY on the socket itself). It owns what the two
 * share: the 101 answer, the wait for MHD's callback, reading with
 * backpressure, WebSocket framing (messages, pings, the closing handshake,
 * protocol errors) or raw bytes, buffered output, the linger after our
 * close, and giving the socket back to MHD at the end.
 *
 * A session embeds gw_up_t first and gives its ops. Every entry point of the
 * session (its loop callbacks, its kubelet replies) ends with gw_up_done,
 * which pumps, flushes and frees a session marked dead.
 */
#ifndef ZK_ACTORS_GATEWAY_UPGRADE_H
#define ZK_ACTORS_GATEWAY_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/gateway/internal.h"
#include "actors/gateway/ws.h"

typedef struct gw_up gw_up_t;

typedef struct gw_up_ops {
    /* Input: a whole WebSocket message (opcode GW_WS_TEXT/BINARY), or with
     * raw the socket's bytes as they come (opcode 0). */
    void (*input)(gw_up_t *u, int opcode, const uint8_t *data, size_t len);
    /* The client broke the protocol (close code, reason): the session may
     * say its last words; it must then call gw_up_close. NULL: closes. */
    void (*broken)(gw_up_t *u, unsigned code, const char *why);
    /* Whether more input may be read now (backpressure). NULL: always. */
    bool (*want_read)(const gw_up_t *u);
    /* The socket is ours (after MHD's callback). NULL: nothing to do. */
    void (*started)(gw_up_t *u);
    /* Keeps the session's requests going; called by gw_up_done. May be NULL. */
    void (*pump)(gw_up_t *u);
    /* Frees the session (the socket is already given back). */
    void (*destroy)(gw_up_t *u);
} gw_up_ops_t;

struct gw_up {
    const gw_up_ops_t *ops;
    gw_t *g;
    uint64_t id;
    int fd;
    struct MHD_UpgradeResponseHandle *urh;
    bool raw; /* bytes as they come: no WebSocket framing */
    bool upgraded, closing, peer_closed, dead;
    short events;
    int timer;
    size_t max_in; /* unparsed input held at most */
    gw_ws_reader_t rd;
    uint8_t *in; /* socket bytes not yet parsed */
    size_t inlen, incap;
    gw_ws_out_t o; /* bytes for the socket */
    gw_up_t *next;
};

/* Sets u up (zeroed by the caller) for gateway g; max_message bounds a
 * reassembled WebSocket message. Waits for MHD's callback from now on. */
void gw_up_init(gw_up_t *u, gw_t *g, const gw_up_ops_t *ops, bool raw, size_t max_message);
/* Queues the 101 with headers (name, value, ..., NULL) on c; on failure u
 * is destroyed. */
enum MHD_Result gw_up_answer(gw_up_t *u, struct MHD_Connection *c, const char *const *headers);
/* The session with this id, if it is still there. */
gw_up_t *gw_up_find(uint64_t id);
/* Our close (once): a close frame (or, raw, nothing), then a short wait
 * for the client's before the socket goes. */
void gw_up_close(gw_up_t *u, unsigned code, const char *reason);
/* The last statement of every entry point: pump, flush, end if dead. */
void gw_up_done(gw_up_t *u);
/* Shutdown: every upgraded session of g goes at once. */
void gw_up_stop_all(gw_t *g);

#endif
