/*
 * broker/internal — state shared by the broker's files (private to broker/):
 * broker.c (sockets, loop, bus), route.c (request routing, pending queue,
 * the "broker" service), registry.c (peers and services), tap.c (mirror).
 */
#ifndef ZK_BROKER_INTERNAL_H
#define ZK_BROKER_INTERNAL_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "protocol/envelope.h"

#define BROKER_IDENT_MAX 255      /* ZeroMQ routing ids are at most 255 bytes */
#define BROKER_PEER_TTL_MS 3000   /* a worker silent this long is dropped */
#define BROKER_QUEUE_MAX 10000    /* requests waiting for a worker */
#define BROKER_QUEUE_TTL_MS 5000  /* then they get 503 */
#define BROKER_PEERS_MAX 100000   /* peers tracked at once */
#define BROKER_SVCS_MAX 64        /* services one peer may serve */
#define BROKER_BUS_HWM 100000
#define BROKER_TAP_HWM 10000
#define BROKER_MAX_FRAMES 4       /* identity + cmd + addr + envelope */

typedef struct broker_peer {
    char key[2 * BROKER_IDENT_MAX + 1]; /* hex of ident, the table key */
    uint8_t ident[BROKER_IDENT_MAX];
    size_t ident_len;
    char id[PROTO_ID_MAX]; /* actor id: ident up to its last '#' */
    char **svcs;
    size_t nsvc;
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    int64_t last_seen;
} broker_peer_t;

typedef struct broker_svc {
    char *name;
    broker_peer_t **w; /* live workers, served round-robin */
    size_t n, cap, next;
} broker_svc_t;

typedef struct broker_pending {
    struct broker_pending *next;
    char svc[PROTO_DST_MAX];
    zmq_msg_t client, env;
    int64_t t0;
} broker_pending_t;

typedef struct broker {
    void *ctx, *router, *xsub, *xpub, *tap;
    int sigpipe[2];
    char epoch[17];
    zhashx_t *peers; /* key -> broker_peer_t */
    zhashx_t *svcs;  /* name -> broker_svc_t */
    broker_pending_t *q_head, *q_tail;
    size_t q_len;
    int64_t tap_subs;
    /* CURVE (curve.c): server secret, the client keys let in, ZAP socket */
    bool curve;
    uint8_t secret[32];
    uint8_t (*allowed)[32];
    size_t nallowed;
    void *zap;
    uint64_t auth_denied;
    uint64_t tap_sent, tap_dropped, garbage, unroutable, queue_full, no_worker, events;
} broker_t;

/* registry.c */
int broker_reg_init(broker_t *b);
void broker_reg_fini(broker_t *b);
/* The peer for ident, created if new (NULL when the table is full). */
broker_peer_t *broker_peer_touch(broker_t *b, const void *ident, size_t len);
broker_peer_t *broker_peer_find(broker_t *b, const void *ident, size_t len);
void broker_peer_drop(broker_t *b, broker_peer_t *p);
/* Adds p as a worker of svc (idempotent). 0 or -ENOSPC / -EINVAL. */
int broker_svc_add(broker_t *b, broker_peer_t *p, const char *svc);
void broker_svc_remove(broker_t *b, broker_peer_t *p, const char *svc);
/* Next worker of svc round-robin, NULL when none. */
broker_peer_t *broker_svc_next(broker_t *b, const char *svc);
/* Drops peers silent for longer than BROKER_PEER_TTL_MS. */
void broker_reg_expire(broker_t *b, int64_t now);

/* route.c */
void broker_on_router(broker_t *b, zmq_msg_t *f, int n, size_t bytes);
/* Dispatches queued requests for workers of svc (NULL: of any service
 * that has workers), then answers 503 to those queued too long. */
void broker_queue_expire(broker_t *b, int64_t now);
void broker_queue_flush(broker_t *b, const char *svc);
void broker_queue_fini(broker_t *b);
/* Sends [ident][cmd][addr][env] on the router, mirrored "out" to the tap.
 * Frames are copied, the caller keeps its messages. 0 or -errno. */
int broker_send(broker_t *b, const void *ident, size_t ilen, const char *cmd,
                const void *addr, size_t alen, zmq_msg_t *env);

/* curve.c */
/* Loads keys and binds the ZAP handler when cfg->curve_dir is set. */
int broker_curve_open(broker_t *b, const char *curve_dir);
/* Makes s a CURVE server (before bind); nothing without CURVE. */
int broker_curve_server(broker_t *b, void *s);
/* Answers waiting ZAP requests: known client keys in, others out. */
void broker_curve_on_zap(broker_t *b);
void broker_curve_close(broker_t *b);

/* tap.c */
/* Mirrors frames under [dir][peer]; never blocks; drops are counted. */
void broker_tap(broker_t *b, const char *dir, const void *peer, size_t plen, zmq_msg_t *f,
                int n);
/* Reads (un)subscriptions from the tap socket to know whether anyone listens. */
void broker_tap_on_sub(broker_t *b);

#endif
