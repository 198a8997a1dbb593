/*
 * tests/fuzz/fuzz_kinds — conversion, defaulting, validation, pruning and
 * OpenAPI generation of arbitrary JSON objects: none may crash or leak.
 */
#include "protocol/kinds.h"
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    json_t *o = json_loadb((const char *)d, n, JSON_DECODE_ANY, NULL);
    if (!o)
        return 0;
    char err[512];
    json_t *causes = NULL;
    json_t *old = json_deep_copy(o);
    if (proto_convert(o, err, sizeof err) == 0) {
        proto_defaults(o);
        proto_admission_defaults(o);
        proto_validate(o, true, &causes, err, sizeof err);
        json_decref(causes);
        causes = NULL;
        proto_validate_status(o, true, err, sizeof err);
        proto_validate_update(old, o, &causes);
        json_decref(causes);
        json_t *paths = NULL;
        proto_prune_unknown(o, &paths);
        json_decref(paths);
        const char *k = json_string_value(json_object_get(o, "kind"));
        if (k) {
            json_t *s = proto_schema_openapi(proto_kind_find(k));
            json_decref(s);
        }
        if (json_is_string(json_object_get(o, "uid")))
            proto_job_default_selector(o, "u");
    }
    json_decref(old);
    json_decref(o);
    return 0;
}
