/*
 * tools/tap — `zkube tap`: every message between actors, live, decoded,
 * filtered, recorded, replayed, counted. A subscriber of the broker's tap
 * mirror; it never slows the cluster (the broker drops for a slow tap and
 * counts the drops).
 */
#ifndef ZK_TOOLS_TAP_H
#define ZK_TOOLS_TAP_H

#include <jansson.h>
#include <stddef.h>

/* `zkube tap [filters] [-o text|json] [--write FILE] [--read FILE] [--stats]` */
int tap_main(int argc, char **argv);

/* Replaces the values of Secret data/stringData in body (an object, a
 * list, a watch event or a request carrying one) with "<redacted>", in
 * place. */
void tap_redact(json_t *body);

#endif
