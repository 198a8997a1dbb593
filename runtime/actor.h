/*
 * runtime/actor — the skeleton every zkube actor and client links: one
 * connection to the broker (a DEALER for requests/replies, a PUB and a SUB
 * for the event bus), one poll loop with timers and extra fds, requests with
 * ids, timeouts and retries, service registration, heartbeats, and clean
 * shutdown on SIGTERM/SIGINT.
 *
 * Wire (see docs/architecture.md): actor -> broker ROUTER frames are
 *   [cmd][addr][envelope]
 * with cmd "REQ" (addr = service), "REP" (addr = the requester's identity as
 * the broker gave it), "RDY" (addr = service to serve), "HB", "BYE".
 * broker -> actor: "REQ" [client identity][env], "REP" [service][env],
 * "HB" [broker epoch][-]. Events: [topic][envelope] on the bus.
 *
 * Everything runs on the thread that calls rt_run(); handlers must not block
 * (except rt_call_sync, which is for clients and start-up).
 */
#ifndef ZK_RUNTIME_ACTOR_H
#define ZK_RUNTIME_ACTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "protocol/envelope.h"
#include "runtime/config.h"

typedef struct rt_actor rt_actor_t;

/* An inbound request. Owned by the handler once delivered: it must be
 * passed to rt_reply() exactly once (now or later, e.g. after a commit). */
typedef struct rt_req {
    proto_env_t env; /* decoded, validated envelope (body owned here) */
    /* private to the runtime */
    void *_addr;
    size_t _addr_len;
} rt_req_t;

typedef void(rt_req_fn)(rt_actor_t *a, rt_req_t *req, void *arg);
/* Reply callback: code is the reply's HTTP-like code, or 504 on timeout,
 * 503 when no worker serves the service; body is the reply body (a Status on
 * errors), borrowed for the call. */
typedef void(rt_reply_fn)(rt_actor_t *a, int code, const json_t *body, void *arg);
typedef void(rt_event_fn)(rt_actor_t *a, const char *topic, const proto_env_t *env, void *arg);
typedef void(rt_timer_fn)(rt_actor_t *a, void *arg);
typedef void(rt_fd_fn)(rt_actor_t *a, int fd, short revents, void *arg);
typedef void(rt_hook_fn)(rt_actor_t *a, void *arg);

/*
 * Connects actor id ("apiserver", "kubelet-node1", "zkubectl-1234") to the
 * broker named in cfg. Connection is asynchronous (ZeroMQ reconnects by
 * itself); requests made before the broker is up wait in the socket.
 * The DEALER's routing id is "<id>#<8 random hex>", so a restarted actor
 * never collides with its previous life; the broker reports "<id>".
 * With cfg->curve_dir set, all three sockets are CURVE clients
 * (rt_curve_client). 0 or -errno with a reason in err.
 */
int rt_actor_open(rt_actor_t **out, const char *id, const rt_config_t *cfg, char *err,
                  size_t errlen);
/* Closes sockets (lingering at most 200 ms), frees everything, nulls *a. */
void rt_actor_destroy(rt_actor_t **a);
/*
 * Sets a ZeroMQ context (before its first socket) to start its I/O thread
 * as SCHED_BATCH: woken by a message to send or to deliver, that thread
 * does not preempt the actor's loop on its CPU; it runs on an idle CPU, or
 * once the loop blocks or its time slice ends, and then moves all that
 * waits at once. Every zkube process does this (the broker too): on a busy
 * machine the loop sending a batch of replies was preempted by each wake-up
 * of its I/O thread. No privilege is needed for SCHED_BATCH.
 */
void rt_zmq_batch_io(void *ctx);
const char *rt_actor_id(const rt_actor_t *a);

/* --- serving ------------------------------------------------------------ */

/* Registers as a worker of service; fn handles its requests. Re-registers
 * by itself after a broker restart. */
int rt_serve(rt_actor_t *a, const char *service, rt_req_fn *fn, void *arg);
/* Replies to req with code (200, 201, 404 ...) and body (borrowed; may be
 * NULL); frees req and nulls *req. */
int rt_reply(rt_actor_t *a, rt_req_t **req, int code, const json_t *body);
/* As rt_reply with a pre-encoded body: body/blen is exactly one msgpack
 * value (borrowed), embedded as is (proto_env_pack_raw). An envelope over
 * PROTO_MAX_MSG is answered 413 instead. Frees req and nulls *req. */
int rt_reply_raw(rt_actor_t *a, rt_req_t **req, int code, const void *body, size_t blen);
/* Called once after each batch of inbound messages has been dispatched
 * (the apiserver's group commit hangs here). A batch is what one wake-up of
 * the loop drained (at most 256 messages); the hook also runs after a
 * wake-up that only fired timers or fd callbacks, so work they queue is
 * flushed the same way. Several hooks may be added; see rt_off_batch_end. */
void rt_on_batch_end(rt_actor_t *a, rt_hook_fn *fn, void *arg);

/* --- calling ------------------------------------------------------------ */

typedef struct rt_call_opts {
    int timeout_ms; /* per attempt; 0 = 5000 */
    int retries;    /* extra attempts on timeout / 503 (same request id); 0 = none */
    bool no_body;   /* the caller needs the reply's code only: its body is never
                       decoded, and the reply callback / rt_call_sync get NULL
                       (a 503/504 made here still carries its Status) */
} rt_call_opts_t;

/* Sends a request; cb runs from the loop with the reply, a timeout (504) or
 * unavailability (503). body borrowed. opts may be NULL. */
int rt_call(rt_actor_t *a, const char *service, const char *op, const json_t *body,
            const rt_call_opts_t *opts, rt_reply_fn *cb, void *arg);
/*
 * Blocking request for clients and start-up code. Returns the reply code
 * (>= 100) and sets *reply (new reference, caller owns), or 504/503 with a
 * Status in *reply. Other traffic arriving meanwhile is kept for the loop.
 */
int rt_call_sync(rt_actor_t *a, const char *service, const char *op, const json_t *body,
                 const rt_call_opts_t *opts, json_t **reply);

/* --- events ------------------------------------------------------------- */

/* Subscribes to topics starting with prefix; fn gets each matching event.
 * Several subscriptions may overlap; each matching one is called. */
int rt_subscribe(rt_actor_t *a, const char *prefix, rt_event_fn *fn, void *arg);
int rt_unsubscribe(rt_actor_t *a, const char *prefix, rt_event_fn *fn, void *arg);
/* Publishes an event (type evt, op, body borrowed) on topic. */
int rt_publish(rt_actor_t *a, const char *topic, const char *op, const json_t *body);
/* As rt_publish with a pre-encoded body (exactly one msgpack value,
 * borrowed; see proto_env_pack_raw). */
int rt_publish_raw(rt_actor_t *a, const char *topic, const char *op, const void *body,
                   size_t blen);

/* --- loop --------------------------------------------------------------- */

/* Timer after ms, repeating if repeat. Returns an id > 0. */
int rt_timer_add(rt_actor_t *a, int ms, bool repeat, rt_timer_fn *fn, void *arg);
void rt_timer_cancel(rt_actor_t *a, int id);
/* Watches fd for events (POLLIN/POLLOUT). */
int rt_fd_add(rt_actor_t *a, int fd, short events, rt_fd_fn *fn, void *arg);
void rt_fd_remove(rt_actor_t *a, int fd);
/* Called when the broker is seen to restart (new epoch) or to come back
 * after heartbeats were missed: informers relist here. */
void rt_on_reconnect(rt_actor_t *a, rt_hook_fn *fn, void *arg);
/* Remove a hook added with rt_on_batch_end / rt_on_reconnect (same fn and
 * arg); nothing happens when it is not registered. Several hooks of each
 * kind may be registered; they run in registration order. */
void rt_off_batch_end(rt_actor_t *a, rt_hook_fn *fn, void *arg);
void rt_off_reconnect(rt_actor_t *a, rt_hook_fn *fn, void *arg);

/* Runs the loop until rt_stop() or SIGTERM/SIGINT. Returns 0. */
int rt_run(rt_actor_t *a);
/* Runs the loop for at most ms (for tests and clients). */
int rt_run_for(rt_actor_t *a, int ms);
void rt_stop(rt_actor_t *a);

/* Counters for `zkube status`. */
typedef struct rt_stats {
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out, dropped_bad;
} rt_stats_t;
void rt_actor_stats(const rt_actor_t *a, rt_stats_t *out);

#endif
