/*
 * tests/fuzz/fuzz_msgpack — libFuzzer target for the msgpack decoder:
 * whatever it accepts must pack again and decode to an equal tree.
 */
#include "protocol/codec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL, *w = NULL;
    char err[128], *buf = NULL;
    size_t len = 0;
    if (proto_mp_unpack(data, size, &v, err, sizeof err) != 0) {
        if (v || !err[0])
            __builtin_trap(); /* failures leave no tree and always say why */
        return 0;
    }
    if (proto_mp_pack(v, &buf, &len) != 0)
        __builtin_trap();
    if (proto_mp_unpack(buf, len, &w, err, sizeof err) != 0 || !json_equal(v, w))
        __builtin_trap();
    free(buf);
    json_decref(v);
    json_decref(w);
    return 0;
}
