/*
 * bench/api — the API benchmark: concurrent clients creating, getting,
 * updating and listing pods, against zkube (through the broker, to the
 * apiserver) or against etcd (its v3 JSON gateway on loopback), with the same
 * payloads and the same client concurrency, so the two can be compared in
 * one run.
 *
 *   api zkube [--clients N] [--seconds S]       (ZKUBE_HOME selects the cluster)
 *   api etcd URL [--clients N] [--seconds S]
 *
 * The load comes from one driver thread that keeps --clients requests in
 * flight, each slot sending its next request as soon as its reply is in
 * (zkube: one client actor, asynchronous calls; etcd: curl's multi interface,
 * one keep-alive connection per slot): the benchmark's own CPU stays small
 * beside the servers' on a small machine. --threads instead runs one thread
 * per client, each blocking on its request.
 *
 * Prints one line per phase: "PHASE ops/s p50_ms p99_ms". Every loop is
 * bounded in count and in time.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/config.h"

#define S_MAX_OPS_PER_CLIENT 200000
#define S_MAX_CLIENTS 64

typedef enum { S_CREATE, S_GET, S_UPDATE, S_LIST, S_PACED } s_phase_t;
static const char *s_phase_name[] = {"create", "get", "update", "list", "paced-create"};

static int s_etcd;
static const char *s_url;
static int s_clients = 16;
static double s_seconds = 3;
static int s_rate = 1000; /* paced phase: writes/s in total */
static atomic_long s_created[S_MAX_CLIENTS];
static int s_server_pid; /* --server-pid: also print that process's CPU per op */
static bool s_threads;   /* --threads: one blocking thread per client */

/* CPU seconds (user + system) used so far by process pid; 0 if unknown. */
static double s_cpu_of(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

typedef struct s_client {
    int idx;
    s_phase_t phase;
    double *lat;   /* ms per op */
    long n;
    long errors;
    rt_actor_t *a;
    CURL *curl;
    char *resp;
    size_t resp_len;
    /* the driver loop: this slot's next op, its schedule, whether a request is out */
    long i;
    double t0, start, end, interval;
    bool busy;
    char *body; /* etcd: the request's body, which curl reads while it runs */
} s_client_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *s_pod(int c, long i)
{
    char name[64];
    snprintf(name, sizeof name, "bench-%d-%ld", c, i);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:[{s:s, s:s, s:[{s:i}]}]}}",
                     "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "namespace",
                     "default", "labels", "app", "bench", "client", "c", "spec", "containers",
                     "name", "main", "image", "luksa/kubia", "ports", "containerPort", 8080);
}

/* The object an operation works on: new ones for creates, existing ones
 * (created by this client in the create phase) otherwise. */
static long s_target(const s_client_t *c, s_phase_t ph, long i)
{
    long made = atomic_load(&s_created[c->idx]);
    if (ph == S_CREATE || ph == S_PACED || made == 0)
        return i;
    return i % made;
}

/* ---- etcd v3 JSON gateway ------------------------------------------------ */

static size_t s_curl_write(char *p, size_t sz, size_t n, void *arg)
{
    s_client_t *c = arg;
    char *nr = realloc(c->resp, c->resp_len + sz * n + 1);
    if (!nr)
        abort();
    c->resp = nr;
    memcpy(c->resp + c->resp_len, p, sz * n);
    c->resp_len += sz * n;
    c->resp[c->resp_len] = 0;
    return sz * n;
}

static void s_b64(const char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = 0;
}

/* The request of op i: its path under the gateway and its JSON body. */
static const char *s_etcd_req(s_client_t *c, s_phase_t ph, long i, char **body)
{
    char key[96], k64[160], v64[4096];
    long target = s_target(c, ph, i);
    snprintf(key, sizeof key, "/registry/pods/default/bench-%d-%ld", c->idx, target);
    s_b64(key, strlen(key), k64);
    json_t *req;
    const char *path = "/v3/kv/range";
    if (ph == S_LIST) {
        const char *pre = "/registry/pods/default/", *end = "/registry/pods/default0";
        char p64[128], e64[128];
        s_b64(pre, strlen(pre), p64);
        s_b64(end, strlen(end), e64);
        req = json_pack("{s:s, s:s}", "key", p64, "range_end", e64);
    } else if (ph == S_GET) {
        req = json_pack("{s:s}", "key", k64);
    } else {
        json_t *pod = s_pod(c->idx, target);
        char *val = json_dumps(pod, JSON_COMPACT);
        s_b64(val, strlen(val), v64);
        req = json_pack("{s:s, s:s}", "key", k64, "value", v64);
        json_decref(pod);
        free(val);
        path = "/v3/kv/put";
    }
    *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return path;
}

/* Sets up c's handle for op i (the body stays in c->body until done). */
static void s_etcd_prepare(s_client_t *c, s_phase_t ph, long i)
{
    char url[512];
    free(c->body);
    snprintf(url, sizeof url, "%s%s", s_url, s_etcd_req(c, ph, i, &c->body));
    c->resp_len = 0;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, c->body);
}

static int s_etcd_result(s_client_t *c, CURLcode rc)
{
    long http = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &http);
    return rc == CURLE_OK && http == 200 ? 0 : -1;
}

/* ---- zkube --------------------------------------------------------------- */

/* The request of op i: the operation, and its body in *body. */
static const char *s_zk_req(s_client_t *c, s_phase_t ph, long i, json_t **body)
{
    long target = s_target(c, ph, i);
    char name[64];
    snprintf(name, sizeof name, "bench-%d-%ld", c->idx, target);
    if (ph == S_CREATE || ph == S_PACED) {
        *body = json_pack("{s:s, s:s, s:o}", "resource", "pods", "namespace", "default", "object",
                          s_pod(c->idx, target));
        return "create";
    }
    if (ph == S_UPDATE) {
        char nbuf[24];
        snprintf(nbuf, sizeof nbuf, "%ld", i);
        *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:{s:s}}}}", "resource", "pods",
                          "namespace", "default", "name", name, "patchType", "merge", "patch",
                          "metadata", "annotations", "n", nbuf);
        return "patch";
    }
    if (ph == S_GET) {
        *body = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", "default", "name",
                          name);
        return "get";
    }
    *body = json_pack("{s:s, s:s}", "resource", "pods", "namespace", "default");
    return "list";
}

/* The reply's code is all the benchmark looks at, as the etcd client reads
 * its HTTP status and leaves the JSON undecoded. */
static const rt_call_opts_t s_zk_opts = {.timeout_ms = 10000, .no_body = true};

/* ---- the threads driver: one thread per client, blocking ------------------- */

static int s_blocking_op(s_client_t *c, s_phase_t ph, long i)
{
    if (s_etcd) {
        s_etcd_prepare(c, ph, i);
        return s_etcd_result(c, curl_easy_perform(c->curl));
    }
    json_t *body, *reply = NULL;
    const char *op = s_zk_req(c, ph, i, &body);
    int code = rt_call_sync(c->a, "apiserver", op, body, &s_zk_opts, &reply);
    json_decref(body);
    json_decref(reply);
    return code >= 200 && code < 300 ? 0 : -1;
}

/* Records op c->i (started at c->t0) as done with rc. */
static void s_record(s_client_t *c, int rc)
{
    if (rc < 0)
        c->errors++;
    else if (c->phase == S_CREATE)
        atomic_store(&s_created[c->idx], c->i + 1);
    c->lat[c->n++] = (s_now() - c->t0) * 1000;
    c->i++;
}

/* When op c->i may start (paced: its slot in the schedule), or a negative
 * value when the client is done. */
static double s_due(const s_client_t *c)
{
    if (c->i >= S_MAX_OPS_PER_CLIENT)
        return -1;
    double due = c->start + (double)c->i * c->interval;
    return due >= c->end ? -1 : due;
}

static long s_op_index(const s_client_t *c)
{
    return c->phase == S_PACED ? S_MAX_OPS_PER_CLIENT + c->i : c->i;
}

static void s_slot_init(s_client_t *c, double start)
{
    c->interval = c->phase == S_PACED ? (double)s_clients / s_rate : 0;
    c->end = start + s_seconds;
    /* paced: the clients' ticks are spread over the interval, so the
     * arrivals are an even s_rate per second, not s_clients at once */
    c->start = start + c->interval * c->idx / s_clients;
    c->i = 0;
}

static void *s_run(void *arg)
{
    s_client_t *c = arg;
    s_slot_init(c, s_now());
    for (;;) {
        double due = s_due(c), now = s_now();
        if (due < 0 || now >= c->end)
            break;
        if (due > now) {
            struct timespec ts = {0, (long)((due - now) * 1e9)};
            nanosleep(&ts, NULL);
        }
        c->t0 = due > now ? due : now;
        s_record(c, s_blocking_op(c, c->phase, s_op_index(c)));
    }
    return NULL;
}

/* ---- the loop driver: every client a slot of one event loop ---------------- */

static rt_actor_t *s_za; /* zkube: the one client actor */
static CURLM *s_multi;   /* etcd: the slots' handles */
static int s_busy;       /* slots with a request out */

static void s_zk_reply(rt_actor_t *a, int code, const json_t *body, void *arg);

/* Sends op c->i now. */
static void s_send(s_client_t *c)
{
    c->t0 = s_now();
    c->busy = true;
    s_busy++;
    if (s_etcd) {
        s_etcd_prepare(c, c->phase, s_op_index(c));
        curl_multi_add_handle(s_multi, c->curl);
        return;
    }
    json_t *body;
    const char *op = s_zk_req(c, c->phase, s_op_index(c), &body);
    if (rt_call(s_za, "apiserver", op, body, &s_zk_opts, s_zk_reply, c) < 0) {
        c->busy = false;
        s_busy--;
        s_record(c, -1);
    }
    json_decref(body); /* rt_call encoded it */
}

/* After a reply: the next op goes at once when it is due (paced ops wait
 * for the loop). */
static void s_next(s_client_t *c)
{
    double due = s_due(c), now = s_now();
    if (due >= 0 && now < c->end && due <= now)
        s_send(c);
}

static void s_done(s_client_t *c, int rc)
{
    c->busy = false;
    s_busy--;
    s_record(c, rc);
    s_next(c);
}

static void s_zk_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a, (void)body;
    s_done(arg, code >= 200 && code < 300 ? 0 : -1);
}

/* Waits at most ms for replies and handles them. */
static void s_wait(int ms)
{
    if (!s_etcd) {
        rt_run_for(s_za, ms);
        return;
    }
    int running;
    curl_multi_perform(s_multi, &running);
    CURLMsg *m;
    int q;
    while ((m = curl_multi_info_read(s_multi, &q))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        s_client_t *c;
        CURL *h = m->easy_handle;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
        curl_multi_remove_handle(s_multi, h);
        s_done(c, s_etcd_result(c, rc));
    }
    curl_multi_poll(s_multi, NULL, 0, ms, NULL);
}

static void s_loop(s_client_t *cs)
{
    double t0 = s_now();
    for (int i = 0; i < s_clients; i++)
        s_slot_init(&cs[i], t0);
    /* bounded: every slot stops at its end time or op count, and a request
     * times out after 10 s */
    for (;;) {
        double now = s_now(), next = -1;
        for (int i = 0; i < s_clients; i++) {
            s_client_t *c = &cs[i];
            double due = c->busy ? -1 : s_due(c);
            if (due < 0 || now >= c->end)
                continue;
            if (due <= now)
                s_send(c);
            else if (next < 0 || due < next)
                next = due;
        }
        if (!s_busy && next < 0)
            break;
        int ms = next < 0 ? 20 : (int)((next - now) * 1000);
        s_wait(ms < 0 ? 0 : ms > 20 ? 20 : ms);
    }
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void s_phase(s_client_t *cs, s_phase_t ph)
{
    pthread_t th[S_MAX_CLIENTS];
    double t0 = s_now(), cpu0 = s_cpu_of(s_server_pid);
    for (int i = 0; i < s_clients; i++) {
        cs[i].phase = ph;
        cs[i].n = 0;
        cs[i].errors = 0;
        if (s_threads)
            pthread_create(&th[i], NULL, s_run, &cs[i]);
    }
    if (s_threads)
        for (int i = 0; i < s_clients; i++)
            pthread_join(th[i], NULL);
    else
        s_loop(cs);
    double secs = s_now() - t0;
    long total = 0, errors = 0;
    for (int i = 0; i < s_clients; i++)
        total += cs[i].n, errors += cs[i].errors;
    double *all = malloc(sizeof(double) * (size_t)(total ? total : 1));
    long k = 0;
    for (int i = 0; i < s_clients; i++)
        for (long j = 0; j < cs[i].n; j++)
            all[k++] = cs[i].lat[j];
    qsort(all, (size_t)total, sizeof(double), s_cmp);
    double p50 = total ? all[total / 2] : 0, p99 = total ? all[(long)(total * 0.99)] : 0;
    printf("%-13s %10.0f ops/s  p50 %7.2f ms  p99 %7.2f ms  (%ld ops, %ld errors)",
           s_phase_name[ph], total / secs, p50, p99, total, errors);
    if (s_server_pid && total)
        printf("  server %.1f us cpu/op", (s_cpu_of(s_server_pid) - cpu0) * 1e6 / (double)total);
    printf("\n");
    fflush(stdout);
    free(all);
}

static int s_usage(void)
{
    fprintf(stderr, "usage: api zkube|etcd [URL] [--clients N] [--seconds S] [--rate R] "
                    "[--server-pid PID] [--threads]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return s_usage();
    int argi = 2;
    if (!strcmp(argv[1], "etcd")) {
        if (argc < 3)
            return s_usage();
        s_etcd = 1;
        s_url = argv[2];
        argi = 3;
    } else if (strcmp(argv[1], "zkube") != 0) {
        return s_usage();
    }
    for (; argi < argc; argi += 2) {
        if (!strcmp(argv[argi], "--threads")) {
            s_threads = true;
            argi--;
        } else if (argi + 1 >= argc) {
            return s_usage();
        } else if (!strcmp(argv[argi], "--clients"))
            s_clients = atoi(argv[argi + 1]);
        else if (!strcmp(argv[argi], "--seconds"))
            s_seconds = atof(argv[argi + 1]);
        else if (!strcmp(argv[argi], "--rate"))
            s_rate = atoi(argv[argi + 1]);
        else if (!strcmp(argv[argi], "--server-pid"))
            s_server_pid = atoi(argv[argi + 1]);
        else
            return s_usage();
    }
    if (s_clients < 1 || s_clients > S_MAX_CLIENTS || s_seconds <= 0 || s_seconds > 60 ||
        s_rate < 1 || s_rate > 100000)
        return s_usage();
    rt_config_t cfg;
    char err[256];
    if (!s_etcd && rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "api: %s\n", err);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (s_etcd && !s_threads)
        s_multi = curl_multi_init();
    s_client_t *cs = calloc((size_t)s_clients, sizeof *cs);
    for (int i = 0; i < s_clients; i++) {
        cs[i].idx = i;
        cs[i].lat = malloc(sizeof(double) * S_MAX_OPS_PER_CLIENT);
        if (s_etcd) {
            cs[i].curl = curl_easy_init();
            curl_easy_setopt(cs[i].curl, CURLOPT_WRITEFUNCTION, s_curl_write);
            curl_easy_setopt(cs[i].curl, CURLOPT_WRITEDATA, &cs[i]);
            curl_easy_setopt(cs[i].curl, CURLOPT_TIMEOUT_MS, 10000L);
            curl_easy_setopt(cs[i].curl, CURLOPT_PRIVATE, (char *)&cs[i]);
        } else if (!s_threads) {
            if (!s_za) {
                char id[64];
                snprintf(id, sizeof id, "bench-%d", (int)getpid());
                if (rt_actor_open(&s_za, id, &cfg, err, sizeof err) < 0) {
                    fprintf(stderr, "api: %s\n", err);
                    return 1;
                }
            }
        } else {
            char id[64];
            snprintf(id, sizeof id, "bench-%d-%d", (int)getpid(), i);
            if (rt_actor_open(&cs[i].a, id, &cfg, err, sizeof err) < 0) {
                fprintf(stderr, "api: %s\n", err);
                return 1;
            }
        }
    }
    printf("# %s, %d clients (%s), %.1f s per phase\n", s_etcd ? "etcd" : "zkube", s_clients,
           s_threads ? "a thread each" : "one driver loop", s_seconds);
    s_phase(cs, S_CREATE);
    s_phase(cs, S_GET);
    s_phase(cs, S_UPDATE);
    int keep = s_clients;
    s_clients = s_clients < 4 ? s_clients : 4; /* lists are heavy: fewer clients */
    s_phase(cs, S_LIST);
    s_clients = keep;
    s_phase(cs, S_PACED);
    for (int i = 0; i < s_clients; i++) {
        if (cs[i].curl)
            curl_easy_cleanup(cs[i].curl);
        rt_actor_destroy(&cs[i].a);
        free(cs[i].lat);
        free(cs[i].resp);
        free(cs[i].body);
    }
    free(cs);
    rt_actor_destroy(&s_za);
    if (s_multi)
        curl_multi_cleanup(s_multi);
    curl_global_cleanup();
    return 0;
}
