/*
 * protocol/quantity — Kubernetes resource quantities ("100m", "1.5",
 * "128Mi", "1G", "2e3"), parsed, compared and printed exactly as
 * k8s.io/apimachinery/pkg/api/resource does.
 */
#ifndef ZK_PROTOCOL_QUANTITY_H
#define ZK_PROTOCOL_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { PROTO_QFMT_DECIMAL_SI, PROTO_QFMT_BINARY_SI, PROTO_QFMT_DECIMAL_EXP } proto_qfmt_t;

typedef struct proto_qty {
    __int128 nano;       /* value in units of 1e-9, exact for every quantity Kubernetes keeps */
    proto_qfmt_t format; /* the suffix family it was written in */
    /* String() as fixed at parse time (Kubernetes keeps an input already in
     * canonical form verbatim, e.g. "01", "+1", "1.500k"); "" once changed by
     * arithmetic or for a zeroed struct: then it is derived from nano. */
    char str[64];
} proto_qty_t;

/* Parses s. Returns 0 or PROTO_EINVALID ("quantities must match the regular
 * expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"). */
int proto_qty_parse(const char *s, proto_qty_t *out);
/* As proto_qty_parse, with Kubernetes' error text in err: the regular
 * expression message above, "unable to parse numeric part of quantity" or
 * "unable to parse quantity's suffix" (and "quantity too large to
 * represent" when its canonical text exceeds 63 bytes, a zkube limit). */
int proto_qty_parse_err(const char *s, proto_qty_t *out, char *err, size_t errlen);
/* -1, 0, 1. */
int proto_qty_cmp(const proto_qty_t *a, const proto_qty_t *b);
void proto_qty_add(proto_qty_t *a, const proto_qty_t *b);
void proto_qty_sub(proto_qty_t *a, const proto_qty_t *b);
/* Value in milli-units, rounded up (as MilliValue), saturating at INT64 limits. */
int64_t proto_qty_milli(const proto_qty_t *q);
/* Value in units, rounded up (as Value). */
int64_t proto_qty_value(const proto_qty_t *q);
/* Canonical string as Quantity.String() (e.g. "1500m", "1.5"->"1500m",
 * "2e3"->"2e3", "1024Mi"->"1Gi"). Returns bytes written (snprintf-like). */
int proto_qty_format(const proto_qty_t *q, char *buf, size_t n);

#endif
