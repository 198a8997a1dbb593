/*
 * runtime/actor_int — the actor's private state, shared by actor.c (open,
 * wire, dispatch of requests and events), actor_loop.c (poll loop, timers,
 * fds, heartbeats) and actor_call.c (outgoing requests). Not for other
 * modules: they use runtime/actor.h.
 */
#ifndef ZK_RUNTIME_ACTOR_INT_H
#define ZK_RUNTIME_ACTOR_INT_H

#include <zmq.h>

#include "runtime/actor.h"

#define RT_BATCH_MAX 256      /* inbound messages per wake-up before the batch hook */
#define RT_HB_MS 1000         /* heartbeat period */
#define RT_HB_LOST_MS 3000    /* a reply after this long counts as a reconnect */
#define RT_HWM 100000
#define RT_DEFAULT_TIMEOUT_MS 5000

#define RT_CALL_BUCKETS 1024 /* ids are sequential: their low bits spread evenly */

typedef struct rt_call_s {
    struct rt_call_s *next, *prev; /* calls in flight */
    struct rt_call_s *hnext;       /* the same bucket of call_tab */
    uint64_t id;
    char svc[PROTO_DST_MAX];
    char *buf; /* packed envelope, resent as is on retries */
    size_t len;
    int64_t deadline;
    int timeout_ms, retries;
    bool no_body; /* the reply's body is not decoded (rt_call_opts_t) */
    rt_reply_fn *cb;
    void *arg;
    /* rt_call_sync only */
    bool done;
    int code;
    json_t *body;
} rt_call_s_t;

typedef struct rt_timer_s {
    struct rt_timer_s *next;
    int id, ms;
    bool repeat;
    int64_t due;
    rt_timer_fn *fn;
    void *arg;
} rt_timer_s_t;

typedef struct rt_backlog_s {
    struct rt_backlog_s *next;
    zmq_msg_t f[3];
    int n;
} rt_backlog_s_t;

typedef struct { rt_hook_fn *fn; void *arg; } rt_hook_s_t;
typedef struct { char name[PROTO_DST_MAX]; rt_req_fn *fn; void *arg; } rt_service_s_t;
typedef struct { char *prefix; rt_event_fn *fn; void *arg; bool dead; } rt_sub_s_t;
typedef struct { int fd; short events; rt_fd_fn *fn; void *arg; } rt_fdw_s_t;

struct rt_actor {
    char id[PROTO_ID_MAX];
    char ident[PROTO_ID_MAX + 16];
    void *ctx, *dealer, *pub, *sub;
    rt_service_s_t *svcs;
    size_t nsvc;
    rt_sub_s_t *subs;
    size_t nsub;
    int sub_depth; /* > 0 while dispatching events */
    rt_timer_s_t *timers;
    int timer_seq;
    rt_fdw_s_t *fds;
    size_t nfd;
    rt_hook_s_t *batch, *reconn;
    size_t nbatch, nreconn;
    rt_call_s_t *calls;
    rt_call_s_t *call_tab[RT_CALL_BUCKETS]; /* calls by id */
    int64_t calls_min; /* no call's deadline is earlier (a lower bound) */
    rt_call_s_t *sync_call; /* the call rt_call_sync waits for */
    rt_backlog_s_t *bl_head, *bl_tail;
    uint64_t id_hi, id_seq;
    char epoch[40];
    int64_t next_hb, last_hb_reply;
    bool reconnect_pending, stop;
    rt_stats_t stats;
};

/* actor.c */
int rt__send(rt_actor_t *a, const char *cmd, const void *addr, size_t alen, const void *env,
             size_t elen);
/* Dispatches one message from the DEALER (frames f, n of them). */
void rt__on_dealer(rt_actor_t *a, zmq_msg_t *f, int n);
/* Receives one whole message without waiting: frame count (max + 1 when it
 * had too many, which were dropped), 0 when nothing waits. */
int rt__recv(void *sock, zmq_msg_t *f, int max);
void rt__close_frames(zmq_msg_t *f, int n);
void rt__send_rdys(rt_actor_t *a);
/* Heartbeat reply handling (epoch frame). */
void rt__on_hb(rt_actor_t *a, zmq_msg_t *epoch);
void rt__on_sub(rt_actor_t *a);

/* actor_call.c */
void rt__on_reply(rt_actor_t *a, zmq_msg_t *env);
/* Retries or fails (504) the calls whose attempt timed out. */
void rt__calls_sweep(rt_actor_t *a, int64_t now);
int64_t rt__calls_next_deadline(const rt_actor_t *a);
void rt__calls_free(rt_actor_t *a);
uint64_t rt__next_id(rt_actor_t *a);

/* actor_loop.c */
void rt__hb_maybe(rt_actor_t *a, int64_t now);
void rt__timers_free(rt_actor_t *a);
bool rt__signalled(void);

#endif
