/*
 * tests/fuzz/fuzz_jsonpath — compiles arbitrary bytes as a kubectl JSONPath
 * template and runs it against a fixed Pod-like object: the parser and the
 * evaluator must never crash, leak or run away, whatever the template.
 * Input: template, optionally "\x01" then a JSON document to use as data.
 */
#include "protocol/jsonpath.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *s_obj =
    "{\"kind\":\"List\",\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"app\":\"x\"}},"
    "\"status\":{\"phase\":\"Running\",\"n\":3,\"f\":1.5,\"ok\":true,\"z\":null}},"
    "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"c\":[1,2,[3,{\"d\":\"e\"}]]}}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    char *sep = memchr(in, 1, size);
    json_t *obj = NULL;
    if (sep) {
        *sep = 0;
        obj = json_loads(sep + 1, JSON_DECODE_ANY, NULL);
    }
    if (!obj)
        obj = json_loads(s_obj, 0, NULL);
    proto_jp_t *jp = NULL;
    char err[512], *out = NULL;
    if (proto_jp_compile(in, &jp, err, sizeof err) == 0) {
        for (int allow = 0; allow < 2; allow++) {
            if (proto_jp_exec(jp, obj, allow, &out, err, sizeof err) == 0)
                free(out);
            out = NULL;
        }
        proto_jp_destroy(&jp);
    }
    char *j = proto_jp_json_compact(obj);
    free(j);
    json_decref(obj);
    free(in);
    return 0;
}
