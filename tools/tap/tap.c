/*
 * tools/tap — `zkube tap`: subscribes to the broker's tap mirror and shows
 * every message decoded: time, direction, source -> destination, type, op,
 * kind/namespace/name, revision, size, and the latency of replies. Filters,
 * JSON lines, recording and replay, and a live statistics table.
 *
 * Mirror frames: [dir][peer][frames...]; dir "in" (actor -> broker: cmd,
 * addr, envelope), "out" (broker -> actor: cmd, addr, envelope), "evt"
 * (topic, envelope). Recordings hold the same frames, each message preceded
 * by its receive time.
 */
#include "tools/tap/tap.h"

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "protocol/envelope.h"
#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/config.h"
#include "tools/tap/tap_stats.h"

#define S_MAX_FRAMES 8
#define S_MAX_FRAME (64u << 20)

typedef struct s_opts {
    const char *actor, *service, *topic, *kind, *op, *type;
    bool heartbeats, json, stats;
    const char *write, *read;
    long count;
    double duration;
} s_opts_t;

typedef struct s_frames {
    int n;
    size_t len[S_MAX_FRAMES];
    char *data[S_MAX_FRAMES];
    int64_t t_us;
} s_frames_t;

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* ---- redaction -------------------------------------------------------------- */

static void s_redact_obj(json_t *o)
{
    const char *kind = proto_obj_kind(o);
    if (!kind || strcmp(kind, "Secret") != 0)
        return;
    const char *field[] = {"data", "stringData"};
    for (size_t f = 0; f < 2; f++) {
        json_t *d = json_object_get(o, field[f]);
        const char *k;
        json_t *v;
        json_object_foreach(d, k, v) json_object_set_new(d, k, json_string("<redacted>"));
    }
}

void tap_redact(json_t *body)
{
    if (!json_is_object(body))
        return;
    s_redact_obj(body);
    s_redact_obj(json_object_get(body, "object"));
    json_t *items = json_object_get(body, "items"), *it;
    size_t i;
    json_array_foreach(items, i, it) s_redact_obj(it);
    json_t *events = json_object_get(body, "events");
    json_array_foreach(events, i, it) s_redact_obj(json_object_get(it, "object"));
    json_t *rows = json_object_get(body, "rows");
    json_array_foreach(rows, i, it) s_redact_obj(json_object_get(it, "object"));
}

/* ---- decoding ----------------------------------------------------------------- */

typedef struct s_msg {
    const char *dir;   /* in, out, evt */
    char peer[128];    /* actor id (routing id without #suffix) */
    char cmd[8];       /* REQ REP RDY HB BYE, or EVT */
    char addr[256];    /* service, topic, or "" */
    proto_env_t env;
    bool has_env;
    size_t size;
} s_msg_t;

static void s_copy(char *dst, size_t n, const char *src, size_t len)
{
    size_t k = len < n - 1 ? len : n - 1;
    for (size_t i = 0; i < k; i++)
        dst[i] = (src[i] >= 32 && src[i] < 127) ? src[i] : '?';
    dst[k] = 0;
}

static int s_decode(const s_frames_t *fr, s_msg_t *m)
{
    memset(m, 0, sizeof *m);
    if (fr->n < 3)
        return -1;
    m->dir = fr->len[0] == 2 && !memcmp(fr->data[0], "in", 2)    ? "in"
             : fr->len[0] == 3 && !memcmp(fr->data[0], "out", 3) ? "out"
                                                                  : "evt";
    s_copy(m->peer, sizeof m->peer, fr->data[1], fr->len[1]);
    char *hash = strrchr(m->peer, '#');
    if (hash)
        *hash = 0;
    int env_frame;
    if (!strcmp(m->dir, "evt")) {
        snprintf(m->cmd, sizeof m->cmd, "EVT");
        s_copy(m->addr, sizeof m->addr, fr->data[2], fr->len[2]);
        env_frame = 3;
    } else {
        s_copy(m->cmd, sizeof m->cmd, fr->data[2], fr->len[2]);
        if (fr->n > 3 && strcmp(m->cmd, "HB") != 0)
            s_copy(m->addr, sizeof m->addr, fr->data[3], fr->len[3]);
        env_frame = 4;
    }
    for (int i = 0; i < fr->n; i++)
        m->size += fr->len[i];
    if (env_frame < fr->n && fr->len[env_frame] > 0) {
        char err[128];
        m->has_env = proto_env_unpack(fr->data[env_frame], fr->len[env_frame], &m->env, err,
                                      sizeof err) == 0;
        if (m->has_env)
            tap_redact(m->env.body);
    }
    return 0;
}

static const char *s_type_of(const s_msg_t *m)
{
    if (m->has_env)
        return proto_mtype_name(m->env.type);
    if (!strcmp(m->cmd, "HB"))
        return "hb";
    return !strcmp(m->cmd, "EVT") ? "evt" : "ctl";
}

/* kind/ns/name of the message's subject, from the body. */
static void s_subject(const s_msg_t *m, char *out, size_t n)
{
    out[0] = 0;
    if (!m->has_env)
        return;
    const json_t *b = m->env.body;
    if (m->env.type == PROTO_T_EVT) {
        snprintf(out, n, "%s", m->addr);
        return;
    }
    const char *res = json_string_value(json_object_get(b, "resource"));
    const char *ns = json_string_value(json_object_get(b, "namespace"));
    const char *name = json_string_value(json_object_get(b, "name"));
    json_t *obj = json_object_get(b, "object");
    if (!name && obj)
        name = proto_obj_name(obj);
    if (res)
        snprintf(out, n, "%s/%s/%s", res, ns ? ns : "", name ? name : "");
    else if (proto_obj_kind(b))
        snprintf(out, n, "%s/%s/%s", proto_obj_kind(b), proto_obj_ns(b) ? proto_obj_ns(b) : "",
                 proto_obj_name(b) ? proto_obj_name(b) : "");
}

static uint64_t s_rev(const s_msg_t *m)
{
    if (!m->has_env)
        return 0;
    json_t *r = json_object_get(m->env.body, "rev");
    if (json_is_integer(r))
        return (uint64_t)json_integer_value(r);
    return proto_obj_rv(m->env.body);
}

/* ---- filters ---------------------------------------------------------------------- */

static bool s_glob(const char *pat, const char *s)
{
    return !pat || fnmatch(pat, s, 0) == 0;
}

static bool s_keep(const s_opts_t *o, const s_msg_t *m)
{
    const char *type = s_type_of(m);
    if (!o->heartbeats && !strcmp(type, "hb"))
        return false;
    if (o->type && strcmp(o->type, type) != 0)
        return false;
    const char *src = m->has_env ? m->env.src : m->peer;
    if (o->actor && !s_glob(o->actor, src) && !s_glob(o->actor, m->peer))
        return false;
    if (o->service && (!m->has_env || m->env.type == PROTO_T_EVT ||
                       (strcmp(m->env.dst, o->service) != 0 && strcmp(m->addr, o->service) != 0)))
        return false;
    if (o->topic && (strcmp(m->cmd, "EVT") != 0 || strncmp(m->addr, o->topic, strlen(o->topic))))
        return false;
    if (o->op && (!m->has_env || strcasecmp(m->env.op, o->op) != 0))
        return false;
    if (o->kind) {
        char subj[512];
        s_subject(m, subj, sizeof subj);
        size_t kl = strlen(o->kind);
        if (strncasecmp(subj, o->kind, kl) != 0 || (subj[kl] != '/' && subj[kl] != 0))
            return false;
    }
    return true;
}

/* ---- output ------------------------------------------------------------------------ */

static void s_time(int64_t us, char buf[32])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    size_t k = strftime(buf, 32, "%H:%M:%S", &tm);
    snprintf(buf + k, 32 - k, ".%03d", (int)(us / 1000 % 1000));
}

static void s_print(const s_opts_t *o, const s_msg_t *m, int64_t t_us, double lat_ms)
{
    char ts[32], subj[512];
    s_time(t_us, ts);
    s_subject(m, subj, sizeof subj);
    const char *src = m->has_env && m->env.src[0] ? m->env.src : m->peer;
    const char *dst = m->has_env && m->env.dst[0] ? m->env.dst : m->addr;
    if (!strcmp(m->dir, "out") && m->has_env && m->env.type == PROTO_T_REP)
        dst = m->peer;
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "time", ts, "dir",
                              m->dir, "src", src, "dst", dst, "type", s_type_of(m), "op",
                              m->has_env ? m->env.op : m->cmd, "subject", subj, "rev",
                              (json_int_t)s_rev(m), "size", (json_int_t)m->size);
        if (m->has_env) {
            json_object_set_new(j, "id", json_integer((json_int_t)m->env.id));
            json_object_set_new(j, "code", json_integer(m->env.code));
            json_object_set(j, "body", m->env.body ? m->env.body : json_null());
        }
        if (lat_ms >= 0)
            json_object_set_new(j, "latency_ms", json_real(lat_ms));
        char *s = json_dumps(j, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(j);
    } else {
        char extra[64] = "";
        uint64_t rev = s_rev(m);
        if (m->has_env && m->env.type == PROTO_T_REP)
            snprintf(extra, sizeof extra, " %d", m->env.code);
        printf("%s %-3s %-24s -> %-24s %-3s %-10s%s %s", ts, m->dir, src, dst, s_type_of(m),
               m->has_env ? m->env.op : m->cmd, extra, subj);
        if (rev)
            printf(" rev=%llu", (unsigned long long)rev);
        printf(" %zuB", m->size);
        if (lat_ms >= 0)
            printf(" %.2fms", lat_ms);
        printf("\n");
    }
    fflush(stdout);
}

/* ---- recording ---------------------------------------------------------------------- */

static const char s_magic[8] = "ZKTAP1\n";

static int s_write_rec(FILE *f, const s_frames_t *fr)
{
    uint32_t n = (uint32_t)fr->n;
    if (fwrite(&fr->t_us, sizeof fr->t_us, 1, f) != 1 || fwrite(&n, 4, 1, f) != 1)
        return -1;
    for (int i = 0; i < fr->n; i++) {
        uint32_t len = (uint32_t)fr->len[i];
        if (fwrite(&len, 4, 1, f) != 1 || (len && fwrite(fr->data[i], len, 1, f) != 1))
            return -1;
    }
    return 0;
}

static void s_frames_clear(s_frames_t *fr)
{
    for (int i = 0; i < fr->n; i++)
        free(fr->data[i]);
    fr->n = 0;
}

/* 1 read, 0 end of file, -1 malformed (message in err). */
static int s_read_rec(FILE *f, s_frames_t *fr, char *err, size_t errlen, long index)
{
    uint32_t n;
    fr->n = 0;
    if (fread(&fr->t_us, sizeof fr->t_us, 1, f) != 1)
        return 0;
    if (fread(&n, 4, 1, f) != 1 || n < 1 || n > S_MAX_FRAMES) {
        snprintf(err, errlen, "message %ld: bad frame count", index);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        if (fread(&len, 4, 1, f) != 1 || len > S_MAX_FRAME) {
            snprintf(err, errlen, "message %ld: frame %u: bad length", index, i);
            return -1;
        }
        fr->data[i] = malloc(len ? len : 1);
        if (!fr->data[i])
            abort();
        fr->len[i] = len;
        fr->n = (int)i + 1;
        if (len && fread(fr->data[i], len, 1, f) != 1) {
            snprintf(err, errlen, "message %ld: frame %u: truncated", index, i);
            return -1;
        }
    }
    return 1;
}

/* ---- the loop ------------------------------------------------------------------------- */

typedef struct s_tap {
    s_opts_t o;
    FILE *rec;
    tap_stats_t *stats;
    json_t *pending; /* "client:id" -> [t_us, service] */
    long shown;
    char self[64];
} s_tap_t;

static double s_latency(s_tap_t *t, const s_msg_t *m, int64_t t_us)
{
    if (!m->has_env)
        return -1;
    char key[256];
    if (!strcmp(m->dir, "in") && m->env.type == PROTO_T_REQ) {
        if (json_object_size(t->pending) > 100000)
            json_object_clear(t->pending);
        snprintf(key, sizeof key, "%s:%llu", m->env.src, (unsigned long long)m->env.id);
        json_object_set_new(t->pending, key,
                            json_pack("[I, s]", (json_int_t)t_us, m->addr));
    } else if (!strcmp(m->dir, "out") && m->env.type == PROTO_T_REP) {
        snprintf(key, sizeof key, "%s:%llu", m->peer, (unsigned long long)m->env.id);
        json_t *p = json_object_get(t->pending, key);
        if (p) {
            double ms = (double)(t_us - json_integer_value(json_array_get(p, 0))) / 1000.0;
            if (t->stats)
                tap_stats_latency(t->stats, json_string_value(json_array_get(p, 1)), ms);
            json_object_del(t->pending, key);
            return ms;
        }
    }
    return -1;
}

static void s_handle(s_tap_t *t, s_frames_t *fr)
{
    s_msg_t m;
    if (s_decode(fr, &m) < 0)
        return;
    if (!strncmp(m.peer, t->self, strlen(t->self)) ||
        (m.has_env && !strcmp(m.env.src, t->self))) {
        proto_env_clear(&m.env);
        return; /* the tap's own status requests */
    }
    double lat = s_latency(t, &m, fr->t_us);
    if (s_keep(&t->o, &m)) {
        if (t->stats)
            tap_stats_msg(t->stats, m.has_env && m.env.src[0] ? m.env.src : m.peer,
                          !strcmp(m.cmd, "EVT") ? m.addr : NULL, m.size);
        else
            s_print(&t->o, &m, fr->t_us, lat);
        t->shown++;
    }
    proto_env_clear(&m.env);
}

static int s_recv_frames(void *sock, s_frames_t *fr)
{
    fr->n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, 0) < 0) {
            zmq_msg_close(&msg);
            s_frames_clear(fr);
            return -1;
        }
        if (fr->n < S_MAX_FRAMES) {
            size_t len = zmq_msg_size(&msg);
            fr->data[fr->n] = malloc(len ? len : 1);
            if (!fr->data[fr->n])
                abort();
            memcpy(fr->data[fr->n], zmq_msg_data(&msg), len);
            fr->len[fr->n++] = len;
        }
        more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);
    }
    fr->t_us = proto_wall_us();
    return 0;
}

static long long s_tap_drops(const rt_config_t *cfg, const char *self);

static int s_live(s_tap_t *t, const rt_config_t *cfg)
{
    rt_endpoints_t eps;
    char err[256];
    if (rt_endpoints_from(cfg->broker, &eps) < 0) {
        fprintf(stderr, "zkube tap: bad broker endpoint %s\n", cfg->broker);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    int hwm = 100000;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (rt_curve_client(cfg, sub, err, sizeof err) < 0) {
        fprintf(stderr, "zkube tap: %s\n", err);
        return 1;
    }
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(sub, eps.tap) < 0) {
        fprintf(stderr, "zkube tap: cannot connect to %s: %s\n", eps.tap, zmq_strerror(errno));
        return 1;
    }
    int64_t start = proto_mono_ms(), last = start;
    while (!s_stop) {
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, 200);
        int64_t now = proto_mono_ms();
        if (t->stats && now - last >= 1000) {
            tap_stats_print(t->stats, (now - last) / 1000.0, s_tap_drops(cfg, t->self), 1);
            last = now;
        }
        if (t->o.duration > 0 && now - start >= t->o.duration * 1000)
            break;
        if (rc <= 0 || !(it.revents & ZMQ_POLLIN))
            continue;
        s_frames_t fr;
        if (s_recv_frames(sub, &fr) < 0)
            break;
        if (t->rec && s_write_rec(t->rec, &fr) < 0) {
            fprintf(stderr, "zkube tap: cannot write %s\n", t->o.write);
            s_frames_clear(&fr);
            break;
        }
        s_handle(t, &fr);
        s_frames_clear(&fr);
        if (t->o.count > 0 && t->shown >= t->o.count)
            break;
    }
    zmq_close(sub);
    zmq_ctx_term(ctx);
    return 0;
}

static int s_replay(s_tap_t *t)
{
    FILE *f = fopen(t->o.read, "rb");
    char magic[8], err[256];
    if (!f) {
        fprintf(stderr, "zkube tap: %s: %s\n", t->o.read, strerror(errno));
        return 1;
    }
    if (fread(magic, 8, 1, f) != 1 || memcmp(magic, s_magic, 8) != 0) {
        fprintf(stderr, "zkube tap: %s: not a zkube tap recording\n", t->o.read);
        fclose(f);
        return 1;
    }
    s_frames_t fr;
    int rc;
    long index = 0;
    while ((rc = s_read_rec(f, &fr, err, sizeof err, ++index)) == 1) {
        s_handle(t, &fr);
        s_frames_clear(&fr);
        if (t->o.count > 0 && t->shown >= t->o.count)
            break;
    }
    s_frames_clear(&fr);
    fclose(f);
    if (rc < 0) {
        fprintf(stderr, "zkube tap: %s: %s\n", t->o.read, err);
        return 1;
    }
    if (t->stats)
        tap_stats_print(t->stats, 1, -1, 0);
    return 0;
}

static long long s_tap_drops(const rt_config_t *cfg, const char *self)
{
    static rt_actor_t *a;
    char err[256];
    if (!a && rt_actor_open(&a, self, cfg, err, sizeof err) < 0)
        return -1;
    json_t *reply = NULL;
    rt_call_opts_t o = {.timeout_ms = 300};
    long long d = -1;
    if (rt_call_sync(a, "broker", "status", NULL, &o, &reply) == 200)
        d = (long long)json_integer_value(json_object_get(reply, "tap_dropped"));
    json_decref(reply);
    return d;
}

static int s_usage(void)
{
    fprintf(stderr,
            "usage: zkube tap [--actor GLOB] [--service S] [--topic PREFIX] [--kind RESOURCE]\n"
            "                 [--op OP] [--type req|rep|evt|hb|ctl] [--heartbeats]\n"
            "                 [-o text|json] [--write FILE] [--read FILE] [--stats]\n"
            "                 [--count N] [--duration SECONDS]\n");
    return 2;
}

static int s_args(int argc, char **argv, s_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = !strcmp(a, "--actor")     ? &o->actor
                            : !strcmp(a, "--service") ? &o->service
                            : !strcmp(a, "--topic")   ? &o->topic
                            : !strcmp(a, "--kind")    ? &o->kind
                            : !strcmp(a, "--op")      ? &o->op
                            : !strcmp(a, "--type")    ? &o->type
                            : !strcmp(a, "--write")   ? &o->write
                            : !strcmp(a, "--read")    ? &o->read
                                                      : NULL;
        if (slot && v) {
            *slot = v;
            i++;
        } else if (!strcmp(a, "--heartbeats")) {
            o->heartbeats = true;
        } else if (!strcmp(a, "--no-heartbeats")) {
            o->heartbeats = false;
        } else if (!strcmp(a, "--stats")) {
            o->stats = true;
        } else if (!strcmp(a, "-o") && v && (!strcmp(v, "json") || !strcmp(v, "text"))) {
            o->json = !strcmp(v, "json");
            i++;
        } else if (!strcmp(a, "--count") && v) {
            o->count = atol(v);
            i++;
        } else if (!strcmp(a, "--duration") && v) {
            o->duration = atof(v);
            i++;
        } else {
            fprintf(stderr, "zkube tap: unknown or incomplete option \"%s\"\n", a);
            return -1;
        }
    }
    if (o->type && !proto_mtype_parse(o->type) && strcmp(o->type, "ctl") != 0) {
        fprintf(stderr, "zkube tap: --type must be req, rep, evt, hb or ctl\n");
        return -1;
    }
    if (o->type && !strcmp(o->type, "hb"))
        o->heartbeats = true;
    return 0;
}

int tap_main(int argc, char **argv)
{
    s_tap_t t = {0};
    if (s_args(argc, argv, &t.o) < 0)
        return s_usage();
    snprintf(t.self, sizeof t.self, "tap-%d", (int)getpid());
    t.pending = json_object();
    if (t.o.stats)
        t.stats = tap_stats_new();
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    int rc;
    if (t.o.read) {
        rc = s_replay(&t);
    } else {
        rt_config_t cfg;
        char err[256];
        if (rt_config_load(&cfg, err, sizeof err) < 0) {
            fprintf(stderr, "zkube tap: %s\n", err);
            return 1;
        }
        if (t.o.write) {
            t.rec = fopen(t.o.write, "wb");
            if (!t.rec || fwrite(s_magic, 8, 1, t.rec) != 1) {
                fprintf(stderr, "zkube tap: %s: %s\n", t.o.write, strerror(errno));
                return 1;
            }
        }
        rc = s_live(&t, &cfg);
        if (t.rec && fclose(t.rec) != 0) {
            fprintf(stderr, "zkube tap: %s: %s\n", t.o.write, strerror(errno));
            rc = 1;
        }
    }
    tap_stats_destroy(&t.stats);
    json_decref(t.pending);
    return rc;
}
