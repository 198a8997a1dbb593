/*
 * actors/gateway/internal.h — private to the gateway actor: the server
 * state shared by http.c (libmicrohttpd on the actor's loop, one request ->
 * one apiserver call) and watch.c (chunked watch streams fed from the event
 * bus). Nothing here is a contract for other modules.
 */
#ifndef ZK_ACTORS_GATEWAY_INTERNAL_H
#define ZK_ACTORS_GATEWAY_INTERNAL_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "actors/gateway/gateway.h"
#include "runtime/actor.h"

typedef struct gw_watch gw_watch_t;

typedef struct gw {
    rt_actor_t *a;
    struct MHD_Daemon *d;
    int timer;   /* one-shot timer for MHD's own timeouts; 0 = none */
    bool in_mhd; /* inside MHD_run: do not re-enter it */
    bool rerun;  /* something asked for MHD_run while in_mhd */
    uint64_t next_id;
    struct gw_conn *conns; /* every live connection (ids for async replies) */
    gw_watch_t *watches;   /* every live watch stream */
    bool sync_sub;         /* subscribed to the apiserver's `_sync` beacon */
    bool dirty;            /* streams were resumed: MHD must run (watch.c) */
} gw_t;

/* NEW: reading the request; WAIT: suspended on an apiserver call; DONE:
 * the reply is here, to be queued; SENT: answered. */
enum gw_conn_state { GW_C_NEW = 0, GW_C_WAIT, GW_C_DONE, GW_C_SENT };

typedef struct gw_conn {
    uint64_t id;
    gw_t *g;
    struct MHD_Connection *c;
    enum gw_conn_state state;
    char *body;
    size_t len, cap;
    bool too_big;
    bool local_table; /* build the Table here (includeObject=Object) */
    gw_route_t route;
    int code; /* reply to send when state is GW_C_DONE */
    json_t *reply;
    struct gw_conn *next;
} gw_conn_t;

/* http.c */
/* Starts the HTTP daemon on bind:port inside g->a's loop; 0 or -errno with
 * a reason in err. */
int gw_http_start(gw_t *g, const char *bind, int port, char *err, size_t errlen);
/* Ends streams and pending requests, stops the daemon. */
void gw_http_stop(gw_t *g);
/* Runs MHD for whatever is ready and re-arms its timeout timer. Safe to
 * call from any loop callback (deferred when called from inside MHD). */
void gw_kick(gw_t *g);
/* A new id for an asynchronous call's closure. */
uint64_t gw_next_id(gw_t *g);
/* Queues a JSON response (body borrowed) on c; MHD_YES/MHD_NO. */
enum MHD_Result gw_send_json(struct MHD_Connection *c, int code, const json_t *body);

/* Hands the answer of a suspended request (state GW_C_WAIT) found by id:
 * reply is stolen (a JSON string is sent as text/plain); the connection
 * resumes and MHD runs. Nothing happens (reply freed) when the connection
 * is gone or not waiting. For the modules that suspend requests
 * themselves (pod subresources). */
void gw_conn_done(gw_t *g, uint64_t id, int code, json_t *reply);

/* watch.c */
/*
 * Starts a watch stream for request x with parameters p (gw_request_build's
 * "watch" body). Queues the chunked response, or an error response (400 on
 * a bad selector). table: events carry Tables.
 */
enum MHD_Result gw_watch_start(gw_t *g, gw_conn_t *x, const json_t *p, bool table);
/* Ends every stream (shutdown): resumes suspended connections. */
void gw_watch_stop_all(gw_t *g);

#endif
