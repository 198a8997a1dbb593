/*
 * tests/fuzz/fuzz_spec — libFuzzer target for the cluster spec
 * (runtime/spec.c): any YAML either becomes a spec whose invariants hold
 * (one broker host, one apiserver host, every kubelet host's pod CIDR inside
 * the cluster's, no two overlapping) or is refused with a reason; and the
 * CIDR parser accepts only what it can print back identically. The fuzz
 * build links only protocol/, so the spec's translation unit and the
 * endpoint parser it uses (runtime/config.c) are compiled in here.
 */
#include "runtime/config.c"
#include "runtime/spec.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check_cidr(const char *s)
{
    uint32_t net;
    int len;
    char back[40];
    if (rt_cidr_parse(s, &net, &len) != 0)
        return;
    snprintf(back, sizeof back, "%u.%u.%u.%u/%d", net >> 24, (net >> 16) & 255, (net >> 8) & 255,
             net & 255, len);
    if (strcmp(back, s) || !rt_cidr_within(s, s))
        __builtin_trap();
}

static void s_check_spec(const rt_spec_t *s)
{
    size_t brokers = 0, apis = 0;
    for (size_t i = 0; i < s->nhosts; i++) {
        const rt_spec_host_t *h = &s->hosts[i];
        brokers += rt_spec_runs(h, "broker");
        apis += rt_spec_runs(h, "apiserver");
        if (rt_spec_runs(h, "kubelet") != (h->pod_cidr[0] != 0))
            __builtin_trap();
        if (h->pod_cidr[0] && !rt_cidr_within(h->pod_cidr, s->pod_cidr))
            __builtin_trap();
        for (size_t k = 0; k < i; k++)
            if (!strcmp(h->name, s->hosts[k].name) ||
                (h->pod_cidr[0] && s->hosts[k].pod_cidr[0] &&
                 rt_cidr_within(h->pod_cidr, s->hosts[k].pod_cidr)))
                __builtin_trap();
    }
    if (brokers != 1 || apis != 1)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    if (size < 40)
        s_check_cidr(text);
    json_t *docs = NULL;
    char err[512] = "";
    if (proto_manifest_parse(text, size, "f.yaml", &docs, err, sizeof err) == 0 &&
        json_array_size(docs) > 0) {
        rt_spec_t *s = NULL;
        err[0] = '\0';
        int rc = rt_spec_parse(json_array_get(docs, 0), "f.yaml", &s, err, sizeof err);
        if (rc == 0)
            s_check_spec(s);
        else if (s || strncmp(err, "f.yaml: ", 8))
            __builtin_trap();
        rt_spec_destroy(&s);
    }
    json_decref(docs);
    free(text);
    return 0;
}
