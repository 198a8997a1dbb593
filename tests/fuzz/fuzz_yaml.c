/*
 * tests/fuzz/fuzz_yaml — libFuzzer target for the manifest reader and the
 * `-o yaml` / `-o json` writers: parse; then dump each document both ways
 * and parse it again, which must give the same document back.
 */
#include "protocol/manifest.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Numbers by value: the YAML writer prints 8.0 as 8, as kubectl does. */
static bool s_same(const json_t *a, const json_t *b)
{
    if (!a || !b) /* a key of one object missing from the other */
        return a == b;
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!s_same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach((json_t *)a, k, v) if (!s_same(v, json_object_get(b, k))) return false;
        return true;
    }
    return json_equal(a, b);
}

/* kubectl prints a "<<" key plain, and plain "<<" reads back as a merge. */
static bool s_has_merge_key(const json_t *v)
{
    const char *k;
    json_t *x;
    if (json_is_object(v) && json_object_get(v, "<<"))
        return true;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) if (s_has_merge_key(x)) return true;
    }
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
        if (s_has_merge_key(json_array_get(v, i)))
            return true;
    return false;
}

static void s_roundtrip(const json_t *doc, bool yaml)
{
    /* wrapped, so that a List document is not expanded when read back */
    json_t *wrap = json_pack("{s:O}", "d", doc), *back = NULL;
    char err[256];
    char *text = yaml ? proto_yaml_dump(wrap) : proto_json_dump(wrap);
    if (!text)
        __builtin_trap();
    int rc = proto_manifest_parse(text, strlen(text), "dump", &back, err, sizeof err);
    /* a "<<" key is printed plain, as kubectl does, and may then read back as a
     * merge whose value is not a map: an error, as go-yaml gives too */
    if (rc != 0 && !strstr(err, "nesting deeper") && !(yaml && s_has_merge_key(doc)))
        __builtin_trap();
    if (rc == 0 && (json_array_size(back) != 1 || !s_same(wrap, json_array_get(back, 0))) &&
        !(yaml && s_has_merge_key(doc)))
        __builtin_trap();
    json_decref(back);
    json_decref(wrap);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *docs = NULL;
    char err[256];
    if (proto_manifest_parse((const char *)data, size, "fuzz", &docs, err, sizeof err) != 0) {
        if (docs || strncmp(err, "fuzz:", 5) != 0)
            __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < json_array_size(docs); i++) {
        s_roundtrip(json_array_get(docs, i), true);
        s_roundtrip(json_array_get(docs, i), false);
    }
    json_decref(docs);
    return 0;
}
