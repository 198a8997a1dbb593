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

static int s_etcd_call(s_client_t *c, const char *path, json_t *req)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", s_url, path);
    char *body = json_dumps(req, JSON_COMPACT);
    c->resp_len = 0;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c->curl);
    long http = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &http);
    free(body);
    return rc == CURLE_OK && http == 200 ? 0 : -1;
}

static int s_etcd_op(s_client_t *c, s_phase_t ph, long i)
{
    char key[96], k64[160], v64[4096];
    long target = s_target(c, ph, i);
    snprintf(key, sizeof key, "/registry/pods/default/bench-%d-%ld", c->idx, target);
    s_b64(key, strlen(key), k64);
    json_t *req;
    if (ph == S_LIST) {
        const char *pre = "/registry/pods/default/", *end = "/registry/pods/default0";
        char p64[128], e64[128];
        s_b64(pre, strlen(pre), p64);
        s_b64(end, strlen(end), e64);
        req = json_pack("{s:s, s:s}", "key", p64, "range_end", e64);
        int rc = s_etcd_call(c, "/v3/kv/range", req);
        json_decref(req);
        return rc;
    }
    if (ph == S_GET) {
        req = json_pack("{s:s}", "key", k64);
        int rc = s_etcd_call(c, "/v3/kv/range", req);
        json_decref(req);
        return rc;
    }
    json_t *pod = s_pod(c->idx, target);
    char *val = json_dumps(pod, JSON_COMPACT);
    s_b64(val, strlen(val), v64);
    req = json_pack("{s:s, s:s}", "key", k64, "value", v64);
    int rc = s_etcd_call(c, "/v3/kv/put", req);
    json_decref(req);
    json_decref(pod);
    free(val);
    return rc;
}

/* ---- zkube --------------------------------------------------------------- */

static int s_zk_op(s_client_t *c, s_phase_t ph, long i)
{
    long target = s_target(c, ph, i);
    char name[64];
    snprintf(name, sizeof name, "bench-%d-%ld", c->idx, target);
    json_t *body, *reply = NULL;
    const char *op;
    if (ph == S_CREATE || ph == S_PACED) {
        op = "create";
        body = json_pack("{s:s, s:s, s:o}", "resource", "pods", "namespace", "default", "object",
                         s_pod(c->idx, target));
    } else if (ph == S_UPDATE) {
        char nbuf[24];
        snprintf(nbuf, sizeof nbuf, "%ld", i);
        op = "patch";
        body = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:{s:s}}}}", "resource", "pods",
                         "namespace", "default", "name", name, "patchType", "merge", "patch",
                         "metadata", "annotations", "n", nbuf);
    } else if (ph == S_GET) {
        op = "get";
        body = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", "default", "name",
                         name);
    } else {
        op = "list";
        body = json_pack("{s:s, s:s}", "resource", "pods", "namespace", "default");
    }
    /* The reply's code is all the benchmark looks at, as the etcd client
     * reads its HTTP status and leaves the JSON undecoded. */
    rt_call_opts_t o = {.timeout_ms = 10000, .no_body = true};
    int code = rt_call_sync(c->a, "apiserver", op, body, &o, &reply);
    json_decref(body);
    json_decref(reply);
    return code >= 200 && code < 300 ? 0 : -1;
}

static void *s_run(void *arg)
{
    s_client_t *c = arg;
    double start = s_now(), end = start + s_seconds;
    double interval = c->phase == S_PACED ? (double)s_clients / s_rate : 0;
    /* paced: the clients' ticks are spread over the interval, so the
     * arrivals are an even s_rate per second, not s_clients at once */
    start += interval * c->idx / s_clients;
    for (long i = 0; i < S_MAX_OPS_PER_CLIENT; i++) {
        double t0 = s_now();
        if (t0 >= end)
            break;
        if (interval > 0) {
            double due = start + (double)i * interval;
            if (due > t0) {
                struct timespec ts = {0, (long)((due - t0) * 1e9)};
                nanosleep(&ts, NULL);
                t0 = due;
            }
        }
        long idx = c->phase == S_PACED ? S_MAX_OPS_PER_CLIENT + i : i;
        int rc = s_etcd ? s_etcd_op(c, c->phase, idx) : s_zk_op(c, c->phase, idx);
        if (rc < 0)
            c->errors++;
        else if (c->phase == S_CREATE)
            atomic_store(&s_created[c->idx], i + 1);
        c->lat[c->n++] = (s_now() - t0) * 1000;
    }
    return NULL;
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
        pthread_create(&th[i], NULL, s_run, &cs[i]);
    }
    for (int i = 0; i < s_clients; i++)
        pthread_join(th[i], NULL);
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
                    "[--server-pid PID]\n");
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
    for (; argi + 1 < argc; argi += 2) {
        if (!strcmp(argv[argi], "--clients"))
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
    s_client_t *cs = calloc((size_t)s_clients, sizeof *cs);
    for (int i = 0; i < s_clients; i++) {
        cs[i].idx = i;
        cs[i].lat = malloc(sizeof(double) * S_MAX_OPS_PER_CLIENT);
        if (s_etcd) {
            cs[i].curl = curl_easy_init();
            curl_easy_setopt(cs[i].curl, CURLOPT_WRITEFUNCTION, s_curl_write);
            curl_easy_setopt(cs[i].curl, CURLOPT_WRITEDATA, &cs[i]);
            curl_easy_setopt(cs[i].curl, CURLOPT_TIMEOUT_MS, 10000L);
        } else {
            char id[64];
            snprintf(id, sizeof id, "bench-%d-%d", (int)getpid(), i);
            if (rt_actor_open(&cs[i].a, id, &cfg, err, sizeof err) < 0) {
                fprintf(stderr, "api: %s\n", err);
                return 1;
            }
        }
    }
    printf("# %s, %d clients, %.1f s per phase\n", s_etcd ? "etcd" : "zkube", s_clients,
           s_seconds);
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
    }
    free(cs);
    curl_global_cleanup();
    return 0;
}
