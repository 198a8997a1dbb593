/*
 * broker/broker — the broker process: binds the four sockets named by the
 * cluster's base endpoint, then runs one poll loop that routes requests
 * (route.c), forwards the event bus XSUB -> XPUB (subscriptions flow back
 * upstream), mirrors to the tap (tap.c) and expires silent workers and
 * stale queued requests. Stops cleanly on SIGTERM/SIGINT.
 */
#include "broker/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "broker/internal.h"
#include "runtime/actor.h"
#include "protocol/codec.h"
#include "protocol/obj.h"
#include "runtime/log.h"

#define S_BATCH 1000        /* messages per socket per wake-up, for fairness */
#define S_HOUSEKEEP_MS 100  /* expiry sweep period */

static int s_sig_w = -1;

static void s_on_signal(int sig)
{
    (void)sig;
    int e = errno;
    if (s_sig_w >= 0 && write(s_sig_w, "x", 1) < 0) {
        /* pipe full: a wake-up is already pending */
    }
    errno = e;
}

static int s_signals(broker_t *b)
{
    if (pipe2(b->sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -errno;
    s_sig_w = b->sigpipe[1];
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return 0;
}

static void s_epoch(char out[17])
{
    uint8_t r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t t = (uint64_t)proto_wall_us() ^ ((uint64_t)getpid() << 32);
        memcpy(r, &t, sizeof r);
    }
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static void *s_socket(broker_t *b, int type, const char *ep, int hwm)
{
    void *s = zmq_socket(b->ctx, type);
    if (!s)
        return NULL;
    int zero = 0, one = 1;
    int64_t maxmsg = (int64_t)PROTO_MAX_MSG + 4096;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* ZMTP heartbeats notice a dead tcp peer (a host gone) in seconds */
    int hb_ivl = 1000, hb_timeout = BROKER_PEER_TTL_MS;
    zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
    zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
    if (type == ZMQ_ROUTER) {
        zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
        zmq_setsockopt(s, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    }
    if (type == ZMQ_XPUB && hwm == BROKER_TAP_HWM) /* the tap: count drops */
        zmq_setsockopt(s, ZMQ_XPUB_NODROP, &one, sizeof one);
    if (broker_curve_server(b, s) != 0 || zmq_bind(s, ep) != 0) {
        int err = errno;
        rt_err("cannot bind %s: %s", ep, zmq_strerror(err));
        zmq_close(s);
        errno = err;
        return NULL;
    }
    return s;
}

static int s_open(broker_t *b, const rt_config_t *cfg)
{
    rt_endpoints_t eps;
    int rc = rt_endpoints_from(cfg->broker, &eps);
    if (rc) {
        rt_err("bad broker endpoint %s", cfg->broker);
        return rc;
    }
    s_epoch(b->epoch);
    if (!(b->ctx = zmq_ctx_new()))
        return -errno;
    rt_zmq_batch_io(b->ctx);
    if ((rc = broker_curve_open(b, cfg->curve_dir)) != 0)
        return rc;
    if (!(b->router = s_socket(b, ZMQ_ROUTER, eps.router, BROKER_BUS_HWM)) ||
        !(b->xsub = s_socket(b, ZMQ_XSUB, eps.pub, BROKER_BUS_HWM)) ||
        !(b->xpub = s_socket(b, ZMQ_XPUB, eps.sub, BROKER_BUS_HWM)) ||
        !(b->tap = s_socket(b, ZMQ_XPUB, eps.tap, BROKER_TAP_HWM)))
        return errno ? -errno : -EINVAL;
    rc = broker_reg_init(b);
    if (rc)
        return rc;
    rt_info("epoch %s, listening on %s%s", b->epoch, cfg->broker, b->curve ? " (CURVE)" : "");
    return 0;
}

static void s_close(broker_t *b)
{
    broker_queue_fini(b);
    broker_reg_fini(b);
    broker_curve_close(b);
    void **socks[] = {&b->router, &b->xsub, &b->xpub, &b->tap};
    for (size_t i = 0; i < 4; i++)
        if (*socks[i])
            zmq_close(*socks[i]), *socks[i] = NULL;
    if (b->ctx)
        zmq_ctx_term(b->ctx), b->ctx = NULL;
    for (int i = 0; i < 2; i++)
        if (b->sigpipe[i] >= 0)
            close(b->sigpipe[i]), b->sigpipe[i] = -1;
    s_sig_w = -1;
}

/*
 * Receives one whole message without waiting. Returns the frame count (at
 * most max; max + 1 when the message had more frames, which were dropped),
 * 0 when nothing is waiting.
 */
static int s_recv(void *sock, zmq_msg_t *f, int max, size_t *bytes)
{
    int n = 0, more = 1, flags = ZMQ_DONTWAIT;
    *bytes = 0;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, flags) < 0) {
            zmq_msg_close(&m);
            break;
        }
        flags = 0;
        more = zmq_msg_more(&m);
        *bytes += zmq_msg_size(&m);
        if (n < max)
            f[n++] = m;
        else
            n = max + 1, zmq_msg_close(&m);
    }
    if (n > max)
        for (int i = 0; i < max; i++)
            zmq_msg_close(&f[i]);
    return n;
}

static void s_close_frames(zmq_msg_t *f, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void s_on_router(broker_t *b)
{
    for (int i = 0; i < S_BATCH; i++) {
        zmq_msg_t f[BROKER_MAX_FRAMES];
        size_t bytes;
        int n = s_recv(b->router, f, BROKER_MAX_FRAMES, &bytes);
        if (n == 0)
            return;
        if (n > BROKER_MAX_FRAMES) {
            b->garbage++;
            continue;
        }
        broker_on_router(b, f, n, bytes);
        s_close_frames(f, n);
    }
}

/* Events: [topic][envelope]; anything else is dropped and counted. */
static void s_on_events(broker_t *b)
{
    for (int i = 0; i < S_BATCH; i++) {
        zmq_msg_t f[2];
        size_t bytes;
        int n = s_recv(b->xsub, f, 2, &bytes);
        if (n == 0)
            return;
        if (n != 2 || zmq_msg_size(&f[0]) == 0 || zmq_msg_size(&f[0]) >= PROTO_DST_MAX) {
            b->garbage++;
            if (n <= 2)
                s_close_frames(f, n);
            continue;
        }
        b->events++;
        broker_tap(b, "evt", "", 0, f, 2);
        if (zmq_msg_send(&f[0], b->xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&f[0]);
        if (zmq_msg_send(&f[1], b->xpub, ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&f[1]);
    }
}

/* Subscriptions flow upstream so that publishers filter at the source. */
static void s_on_subs(broker_t *b)
{
    for (int i = 0; i < S_BATCH; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, b->xpub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (zmq_msg_send(&m, b->xsub, ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&m);
    }
}

static bool s_on_signal_pipe(broker_t *b)
{
    char buf[64];
    return read(b->sigpipe[0], buf, sizeof buf) > 0;
}

static void s_loop(broker_t *b)
{
    int64_t next_sweep = proto_mono_ms() + S_HOUSEKEEP_MS;
    for (;;) {
        zmq_pollitem_t it[] = {
            {b->router, 0, ZMQ_POLLIN, 0}, {b->xsub, 0, ZMQ_POLLIN, 0},
            {b->xpub, 0, ZMQ_POLLIN, 0},   {b->tap, 0, ZMQ_POLLIN, 0},
            {NULL, b->sigpipe[0], ZMQ_POLLIN, 0}, {b->zap, 0, ZMQ_POLLIN, 0},
        };
        int64_t wait = next_sweep - proto_mono_ms();
        int rc = zmq_poll(it, b->zap ? 6 : 5, wait < 0 ? 0 : (long)wait);
        if (rc < 0 && errno != EINTR)
            break;
        if ((it[4].revents & ZMQ_POLLIN) && s_on_signal_pipe(b))
            break;
        if (it[0].revents & ZMQ_POLLIN)
            s_on_router(b);
        if (it[1].revents & ZMQ_POLLIN)
            s_on_events(b);
        if (it[2].revents & ZMQ_POLLIN)
            s_on_subs(b);
        if (it[3].revents & ZMQ_POLLIN)
            broker_tap_on_sub(b);
        if (b->zap && (it[5].revents & ZMQ_POLLIN))
            broker_curve_on_zap(b);
        int64_t now = proto_mono_ms();
        if (now >= next_sweep) {
            broker_reg_expire(b, now);
            broker_queue_expire(b, now);
            next_sweep = now + S_HOUSEKEEP_MS;
        }
    }
}

int broker_run(const rt_config_t *cfg)
{
    broker_t b = {.sigpipe = {-1, -1}};
    if (!rt_log_is_init())
        rt_log_init("broker");
    rt_config_mkdirs(cfg); /* the ipc sockets live in run/; tcp needs nothing */
    int rc = s_signals(&b);
    if (rc == 0)
        rc = s_open(&b, cfg);
    if (rc == 0)
        s_loop(&b);
    rt_info("stopping (garbage %llu, unroutable %llu, tap dropped %llu)",
            (unsigned long long)b.garbage, (unsigned long long)b.unroutable,
            (unsigned long long)b.tap_dropped);
    s_close(&b);
    return rc;
}

int broker_main(int argc, char **argv)
{
    const char *ep = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--broker") && i + 1 < argc) {
            ep = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: zkube broker [--broker ENDPOINT]\n");
            return 0;
        } else {
            fprintf(stderr, "zkube broker: unknown argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    rt_log_init("broker");
    rt_config_t cfg;
    char err[256] = "";
    int rc = rt_config_load(&cfg, err, sizeof err);
    if (rc == 0 && ep) {
        rt_endpoints_t eps;
        snprintf(cfg.broker, sizeof cfg.broker, "%s", ep);
        if (strlen(ep) >= sizeof cfg.broker || rt_endpoints_from(cfg.broker, &eps) != 0) {
            snprintf(err, sizeof err, "bad --broker endpoint %s", ep);
            rc = -EINVAL;
        }
    }
    if (rc) {
        rt_err("%s", err);
        return 1;
    }
    return broker_run(&cfg) == 0 ? 0 : 1;
}
