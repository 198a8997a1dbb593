/*
 * tests/fuzz/fuzz_patch — libFuzzer target for protocol/patch: the input is
 * one selector byte (merge, JSON or strategic patch, and for strategic the
 * kind) followed by the patch as JSON text, applied to a fixed Pod. Any
 * result is fine; crashes, leaks and sanitizer reports are not.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/patch.h"

static const char s_target[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":"
    "{\"app\":\"web\"},\"finalizers\":[\"a\",\"b\"],\"ownerReferences\":[{\"uid\":\"u1\","
    "\"name\":\"rc\"}]},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx\","
    "\"ports\":[{\"containerPort\":80}],\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
    "\"volumeMounts\":[{\"name\":\"d\",\"mountPath\":\"/d\"}]},{\"name\":\"side\",\"image\":"
    "\"busybox\"}],\"volumes\":[{\"name\":\"d\",\"emptyDir\":{}}],\"tolerations\":[{\"key\":"
    "\"k\"}]},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
    "\"podIPs\":[{\"ip\":\"10.0.0.1\"}]}}";

static const char *const s_kinds[] = {"Pod", "Deployment", "Service", "Node", "CronJob", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    json_t *patch = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
    json_t *target = json_loads(s_target, 0, NULL);
    char err[256];
    if (!patch || !target)
        goto out;
    switch (data[0] % 3) {
    case 0:
        proto_patch_merge(target, patch);
        break;
    case 1:
        proto_patch_json(&target, patch, err, sizeof err);
        break;
    default:
        proto_patch_strategic(target, patch, s_kinds[(data[0] / 3) % 6], err, sizeof err);
        break;
    }
    /* the result must stay a serialisable tree */
    char *text = json_dumps(target, JSON_COMPACT);
    free(text);
out:
    json_decref(patch);
    json_decref(target);
    return 0;
}
