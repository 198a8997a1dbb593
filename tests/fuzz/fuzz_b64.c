/*
 * tests/fuzz/fuzz_b64 — libFuzzer target for protocol/b64: any input is
 * decoded (malformed is fine); whatever decodes re-encodes to a string that
 * decodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0, m = 0;
    uint8_t *d = proto_b64_decode((const char *)data, size, &n);
    if (!d)
        return 0;
    char *e = proto_b64_encode(d, n);
    uint8_t *d2 = proto_b64_decode(e, strlen(e), &m);
    if (!d2 || m != n || memcmp(d, d2, n) != 0)
        abort();
    free(d2);
    free(e);
    free(d);
    return 0;
}
