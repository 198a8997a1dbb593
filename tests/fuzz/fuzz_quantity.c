/*
 * tests/fuzz/fuzz_quantity — resource quantities on arbitrary bytes: parse,
 * print, re-parse the canonical text (same value), compare, add, round.
 */
#include "protocol/quantity.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    proto_qty_t q, r;
    char err[256], buf[128];
    if (proto_qty_parse_err(in, &q, err, sizeof err) == 0) {
        proto_qty_format(&q, buf, sizeof buf);
        if (proto_qty_parse(buf, &r) != 0) {
            fprintf(stderr, "canonical %s of %s does not parse\n", buf, in);
            abort();
        }
        if (proto_qty_cmp(&q, &r) != 0) {
            fprintf(stderr, "canonical %s of %s changes the value\n", buf, in);
            abort();
        }
        (void)proto_qty_milli(&q);
        (void)proto_qty_value(&q);
        proto_qty_add(&r, &q);
        proto_qty_sub(&r, &q);
        proto_qty_format(&r, buf, sizeof buf);
    }
    free(in);
    return 0;
}
