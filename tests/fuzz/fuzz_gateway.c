/*
 * tests/fuzz/fuzz_gateway — libFuzzer target for the gateway's parsers of
 * network input: URL routing, HTTP request -> apiserver operation
 * translation (JSON, YAML apply patches, DeleteOptions) and protobuf
 * bodies. The input is "METHOD PATH\nCONTENT-TYPE\nBODY"; the whole input is
 * also decoded as a protobuf body. Any result is fine; crashes, leaks and
 * sanitizer reports are not. The fuzz build links protocol/ only, so the
 * gateway's pure files (which depend on protocol/ alone) are compiled in.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gateway/pb.c"
#include "actors/gateway/request.c"
#include "actors/gateway/route.c"
#include "actors/gateway/versions.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Next line of [*p, end) into buf (NUL-terminated, truncated to n). */
static void s_line(const char **p, const char *end, char *buf, size_t n)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t len = (size_t)((nl ? nl : end) - *p);
    snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), *p);
    *p = nl ? nl + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char first[2048], ctype[256], method[16] = "";
    json_t *out = NULL;
    char err[300];
    if (gw_pb_decode(p, size, &out, err, sizeof err) == 0)
        json_decref(out);
    out = NULL;
    s_line(&p, end, first, sizeof first);
    s_line(&p, end, ctype, sizeof ctype);
    char *sp = strchr(first, ' ');
    if (!sp || (size_t)(sp - first) >= sizeof method)
        return 0;
    memcpy(method, first, (size_t)(sp - first));
    gw_route_t r;
    if (gw_route_parse(sp + 1, &r) < 0)
        return 0;
    const char *op = NULL;
    json_t *q =
        json_pack("{s:s, s:s, s:s}", "limit", "10", "watch", "true", "gracePeriodSeconds", "1");
    gw_request_build(method, &r, q, ctype, p, (size_t)(end - p), &op, &out);
    json_decref(out);
    json_decref(q);
    return 0;
}
