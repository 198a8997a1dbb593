/*
 * bench/store_bench — the LMDB store alone: durable (fsync) write
 * throughput for group commits of 1, 10 and 100 puts, then reads (get and
 * list). Pod-sized objects (~1 KiB). Every phase is bounded in time and
 * count; the whole run takes under 20 s. The store lives in a temporary
 * directory that is removed at the end.
 *
 *   store_bench [seconds-per-phase]    (default 2)
 */
#include "protocol/obj.h"
#include "protocol/status.h"
#include "store/store.h"

#include <ftw.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX_WRITES 2000000
#define S_KEYS 10000 /* distinct keys that writes cycle over */

static double s_phase_s = 2.0;
static uint64_t s_revs[S_KEYS]; /* current revision of each key */

static double s_now(void)
{
    return (double)proto_mono_ms() / 1000.0;
}

static json_t *s_pod(int i)
{
    char name[32];
    snprintf(name, sizeof name, "web-%d", i);
    return json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s},s:s},s:{s:[{s:s,s:s,s:[{s:i,s:s}],s:{s:{s:s,s:s}}}],"
        "s:s,s:s},s:{s:s,s:s,s:s}}",
        "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "namespace", "default",
        "labels", "app", "web", "tier", "frontend", "uid", "6f1c1f7e-3c1b-4bd6-9a55-0b8e1a2c3d4e",
        "spec", "containers", "name", "web", "image", "registry.local/web:1.25.3", "ports",
        "containerPort", 8080, "protocol", "TCP", "resources", "limits", "cpu", "500m", "memory",
        "128Mi", "restartPolicy", "Always", "nodeName", "node-1", "status", "phase", "Running",
        "podIP", "10.244.1.17", "hostIP", "192.168.0.10");
}

/* Durable puts in commits of `batch`; returns writes/s. With `cas`, each
 * put carries the key's current revision as its precondition (an update). */
static double s_bench_writes(store_t *s, int batch, bool cas, json_t *proto, int *seq)
{
    double t0 = s_now(), t1 = t0;
    long writes = 0, commits = 0;
    char key[64];
    while (t1 - t0 < s_phase_s && writes < S_MAX_WRITES) {
        store_wtxn_t *t;
        if (store_wtxn_begin(s, &t) != 0)
            return -1;
        for (int i = 0; i < batch; i++, (*seq)++) {
            int k = *seq % S_KEYS;
            snprintf(key, sizeof key, "pods/default/web-%d", k);
            if (store_wtxn_put(t, key, proto, cas ? s_revs[k] : 0, false, &s_revs[k]) != 0) {
                store_wtxn_abort(&t);
                return -1;
            }
        }
        if (store_wtxn_commit(&t) != 0)
            return -1;
        writes += batch;
        commits++;
        t1 = s_now();
    }
    double rate = (double)writes / (t1 - t0);
    printf("%s batch %3d  durable: %10.0f writes/s  %8.0f commits/s  (%ld writes)\n",
           cas ? "update" : "put   ", batch, rate, (double)commits / (t1 - t0), writes);
    return rate;
}

static void s_bench_gets(store_t *s)
{
    double t0 = s_now(), t1 = t0;
    long n = 0;
    char key[64];
    unsigned seed = 1;
    while (t1 - t0 < s_phase_s && n < S_MAX_WRITES) {
        for (int i = 0; i < 256; i++, n++) {
            snprintf(key, sizeof key, "pods/default/web-%d", (int)(rand_r(&seed) % S_KEYS));
            json_t *o = NULL;
            if (store_get(s, key, &o) != 0) {
                printf("get failed\n");
                return;
            }
            json_decref(o);
        }
        t1 = s_now();
    }
    printf("get   (random key):       %10.0f reads/s\n", (double)n / (t1 - t0));
}

static void s_bench_lists(store_t *s)
{
    double t0 = s_now(), t1 = t0;
    long lists = 0, objs = 0;
    while (t1 - t0 < s_phase_s && lists < 100000) {
        json_t *items;
        uint64_t rev;
        if (store_list(s, "pods/default/", NULL, 500, NULL, NULL, &items, &rev, NULL) != 0) {
            printf("list failed\n");
            return;
        }
        objs += (long)json_array_size(items);
        json_decref(items);
        lists++;
        t1 = s_now();
    }
    printf("list  (500 per page):     %10.0f lists/s   %10.0f objects/s\n",
           (double)lists / (t1 - t0), (double)objs / (t1 - t0));
}

static int s_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        s_phase_s = atof(argv[1]);
    if (s_phase_s <= 0 || s_phase_s > 3)
        s_phase_s = 2.0;
    char dir[] = "/tmp/zkube-store-bench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    store_t *s;
    char err[256] = "";
    int rc = store_open(&s, dir, NULL, err, sizeof err);
    if (rc) {
        fprintf(stderr, "store_open: %s\n", err);
        nftw(dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
        return 1;
    }
    json_t *pod = s_pod(1);
    char *enc = json_dumps(pod, JSON_COMPACT);
    printf("store bench: %.1f s per phase, object %zu bytes as JSON, fsync on\n", s_phase_s,
           strlen(enc));
    free(enc);
    int seq = 0, bad = 0;
    bad |= s_bench_writes(s, 1, false, pod, &seq) < 0;
    bad |= s_bench_writes(s, 10, false, pod, &seq) < 0;
    bad |= s_bench_writes(s, 100, false, pod, &seq) < 0;
    if (seq < S_KEYS) { /* make every key exist for updates and reads */
        store_wtxn_t *t;
        char key[64];
        if (store_wtxn_begin(s, &t) == 0) {
            for (; seq < S_KEYS; seq++) {
                snprintf(key, sizeof key, "pods/default/web-%d", seq);
                store_wtxn_put(t, key, pod, 0, false, &s_revs[seq]);
            }
            bad |= store_wtxn_commit(&t) != 0;
        }
    }
    bad |= s_bench_writes(s, 100, true, pod, &seq) < 0;
    s_bench_gets(s);
    s_bench_lists(s);
    printf("revision %" PRIu64 "\n", store_rev(s));
    json_decref(pod);
    store_destroy(&s);
    nftw(dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    if (bad)
        printf("store bench: a write phase failed\n");
    return bad;
}
