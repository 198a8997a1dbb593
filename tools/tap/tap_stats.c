/*
 * tools/tap/tap_stats — counters per actor, per topic and per service.
 */
#include "tools/tap/tap_stats.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LAT_MAX 100000 /* latencies kept per interval and service */

struct tap_stats {
    json_t *actors;   /* id -> [msgs, bytes] */
    json_t *topics;   /* first topic segment -> [msgs, bytes] */
    json_t *services; /* service -> index into lat */
    double *lat[64];
    size_t nlat[64];
    char svc[64][64];
    size_t nsvc;
};

tap_stats_t *tap_stats_new(void)
{
    tap_stats_t *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->actors = json_object();
    s->topics = json_object();
    s->services = json_object();
    return s;
}

void tap_stats_destroy(tap_stats_t **sp)
{
    tap_stats_t *s = sp ? *sp : NULL;
    if (!s)
        return;
    json_decref(s->actors);
    json_decref(s->topics);
    json_decref(s->services);
    for (size_t i = 0; i < s->nsvc; i++)
        free(s->lat[i]);
    free(s);
    *sp = NULL;
}

static void s_add(json_t *tab, const char *key, size_t bytes)
{
    json_t *e = json_object_get(tab, key);
    if (!e) {
        e = json_pack("[i, i]", 0, 0);
        json_object_set_new(tab, key, e);
    }
    json_array_set_new(e, 0, json_integer(json_integer_value(json_array_get(e, 0)) + 1));
    json_array_set_new(e, 1,
                       json_integer(json_integer_value(json_array_get(e, 1)) + (json_int_t)bytes));
}

void tap_stats_msg(tap_stats_t *s, const char *actor, const char *topic, size_t bytes)
{
    s_add(s->actors, actor && *actor ? actor : "?", bytes);
    if (topic && *topic) {
        char first[64];
        size_t n = strcspn(topic, "/");
        snprintf(first, sizeof first, "%.*s", (int)(n < 63 ? n : 63), topic);
        s_add(s->topics, first, bytes);
    }
}

void tap_stats_latency(tap_stats_t *s, const char *service, double ms)
{
    json_t *idx = json_object_get(s->services, service);
    size_t i;
    if (idx) {
        i = (size_t)json_integer_value(idx);
    } else {
        if (s->nsvc >= 64)
            return;
        i = s->nsvc++;
        snprintf(s->svc[i], sizeof s->svc[i], "%s", service);
        s->lat[i] = malloc(sizeof(double) * S_LAT_MAX);
        if (!s->lat[i])
            abort();
        json_object_set_new(s->services, service, json_integer((json_int_t)i));
    }
    if (s->nlat[i] < S_LAT_MAX)
        s->lat[i][s->nlat[i]++] = ms;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void s_table(const char *title, json_t *tab, double secs)
{
    printf("%-28s %10s %12s\n", title, "MSGS/S", "BYTES/S");
    const char *k;
    json_t *e;
    json_object_foreach(tab, k, e) {
        printf("%-28s %10.1f %12.0f\n", k, json_integer_value(json_array_get(e, 0)) / secs,
               json_integer_value(json_array_get(e, 1)) / secs);
    }
    json_object_clear(tab);
    printf("\n");
}

void tap_stats_print(tap_stats_t *s, double seconds, long long tap_dropped, int clear_screen)
{
    if (seconds <= 0)
        seconds = 1;
    if (clear_screen)
        printf("\033[H\033[2J");
    s_table("ACTOR", s->actors, seconds);
    s_table("TOPIC", s->topics, seconds);
    printf("%-28s %10s %10s %10s\n", "SERVICE", "REQ/S", "P50-MS", "P99-MS");
    for (size_t i = 0; i < s->nsvc; i++) {
        size_t n = s->nlat[i];
        qsort(s->lat[i], n, sizeof(double), s_cmp);
        printf("%-28s %10.1f %10.2f %10.2f\n", s->svc[i], n / seconds,
               n ? s->lat[i][n / 2] : 0.0, n ? s->lat[i][(size_t)(n * 0.99)] : 0.0);
        s->nlat[i] = 0;
    }
    if (tap_dropped >= 0)
        printf("\ntap drops at the broker: %lld\n", tap_dropped);
    else
        printf("\ntap drops at the broker: unknown\n");
    fflush(stdout);
}
