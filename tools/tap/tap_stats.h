/*
 * tools/tap/tap_stats — the live table of `zkube tap --stats`: messages/s
 * and bytes/s per actor and per topic, request latency p50/p99 per service,
 * and the broker's tap drops.
 */
#ifndef ZK_TOOLS_TAP_STATS_H
#define ZK_TOOLS_TAP_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tap_stats tap_stats_t;

tap_stats_t *tap_stats_new(void);
void tap_stats_destroy(tap_stats_t **s);
/* Counts one message of size bytes from actor; topic may be NULL. */
void tap_stats_msg(tap_stats_t *s, const char *actor, const char *topic, size_t bytes);
/* Records one request's latency for service. */
void tap_stats_latency(tap_stats_t *s, const char *service, double ms);
/* Prints the table for the last `seconds` and starts a new interval. */
void tap_stats_print(tap_stats_t *s, double seconds, long long tap_dropped, int clear_screen);

#endif
