/*
 * tests/fuzz/fuzz_fieldset — libFuzzer target for protocol/fieldset: any
 * JSON is tried as FieldsV1 (a decoded set encodes and decodes back to the
 * same set; union, difference and intersection with itself hold their
 * laws) and as an object of a built-in kind (its field set, comparison with
 * itself, merge into itself and removal never crash; an object compared
 * with itself has no changes).
 */
#include "protocol/fieldset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_as_set(const json_t *v)
{
    json_t *set = NULL, *back = NULL;
    char err[256];
    if (proto_fs_decode(v, &set, err, sizeof err) != 0) {
        if (set || !err[0])
            __builtin_trap();
        return;
    }
    json_t *enc = proto_fs_encode(set);
    if (proto_fs_decode(enc, &back, NULL, 0) != 0 || !json_equal(back, set))
        __builtin_trap();
    json_t *u = proto_fs_union(set, set), *d = proto_fs_difference(set, set);
    json_t *i = proto_fs_intersection(set, set);
    if (!json_equal(u, set) || !json_equal(i, set) || !proto_fs_empty(d))
        __builtin_trap();
    if (!proto_fs_covers(set, set) || proto_fs_intersects(set, d))
        __builtin_trap();
    json_t *paths = proto_fs_paths(set), *named = proto_fs_named_members(set);
    json_decref(paths);
    json_decref(named);
    json_decref(u);
    json_decref(d);
    json_decref(i);
    json_decref(back);
    json_decref(enc);
    json_decref(set);
}

static void s_as_object(const json_t *v, const char *kind)
{
    json_t *set = NULL, *ch = NULL, *rm = NULL;
    if (proto_fs_of_object(v, kind, &set, NULL, 0) == 0) {
        json_t *copy = json_deep_copy(v);
        proto_fs_remove(copy, set, kind);
        json_decref(copy);
    }
    proto_fs_compare(v, v, kind, &ch, &rm);
    if (!proto_fs_empty(ch) || !proto_fs_empty(rm))
        __builtin_trap();
    json_t *m = json_deep_copy(v);
    if (json_is_object(m))
        proto_fs_merge(m, v, kind, NULL, 0);
    json_decref(m);
    json_decref(ch);
    json_decref(rm);
    json_decref(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!v)
        return 0;
    s_as_set(v);
    if (json_is_object(v)) {
        s_as_object(v, "Pod");
        s_as_object(v, "Deployment");
        s_as_object(v, "Service");
    }
    json_decref(v);
    return 0;
}
