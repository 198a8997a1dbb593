/*
 * tests/fuzz/fuzz_envelope — libFuzzer target for proto_env_unpack: never
 * crash on garbage, and an accepted envelope packs back to the same fields.
 */
#include "protocol/envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proto_env_t e, f;
    char err[256], *buf = NULL;
    size_t len = 0;
    if (proto_env_unpack(data, size, &e, err, sizeof err) != 0) {
        if (e.body || !err[0])
            __builtin_trap();
        return 0;
    }
    if (proto_env_pack(&e, &buf, &len) != 0)
        __builtin_trap();
    if (proto_env_unpack(buf, len, &f, err, sizeof err) != 0)
        __builtin_trap();
    if (e.v != f.v || e.type != f.type || e.id != f.id || e.ts_us != f.ts_us || e.code != f.code ||
        strcmp(e.src, f.src) || strcmp(e.dst, f.dst) || strcmp(e.op, f.op) ||
        !(e.body ? json_equal(e.body, f.body) : !f.body))
        __builtin_trap();
    free(buf);
    proto_env_clear(&e);
    proto_env_clear(&f);
    return 0;
}
