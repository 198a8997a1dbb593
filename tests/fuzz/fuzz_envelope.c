/*
 * tests/fuzz/fuzz_envelope — libFuzzer target for proto_env_unpack: never
 * crash on garbage, an accepted envelope packs back to the same fields, and
 * the direct reader, the header-first reader and the tree path agree on
 * every input.
 */
#include "protocol/envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_same(const proto_env_t *e, const proto_env_t *f)
{
    return e->v == f->v && e->type == f->type && e->id == f->id && e->ts_us == f->ts_us &&
           e->code == f->code && !strcmp(e->src, f->src) && !strcmp(e->dst, f->dst) &&
           !strcmp(e->op, f->op) && (e->body ? json_equal(e->body, f->body) : !f->body);
}

/* The three readers give the same answer. */
static void s_agree(const uint8_t *data, size_t size)
{
    proto_env_t a, b, h;
    const void *body;
    size_t blen;
    int ra = proto_env_unpack(data, size, &a, NULL, 0);
    int rb = proto_env_unpack_tree(data, size, &b, NULL, 0);
    int rh = proto_env_unpack_head(data, size, &h, &body, &blen, NULL, 0);
    if (rh == 0 && body && proto_env_body(&h, body, blen, NULL, 0) != 0)
        rh = -1; /* a body the head reader only sized: refused when decoded */
    if ((ra == 0) != (rb == 0) || (ra == 0) != (rh == 0))
        __builtin_trap();
    if (ra == 0 && (!s_same(&a, &b) || !s_same(&a, &h)))
        __builtin_trap();
    proto_env_clear(&a);
    proto_env_clear(&b);
    proto_env_clear(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proto_env_t e, f;
    char err[256], *buf = NULL;
    size_t len = 0;
    s_agree(data, size);
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
