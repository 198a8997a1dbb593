/*
 * tests/fuzz/fuzz_selector — label and field selector parsers on arbitrary
 * bytes: parse, print, re-parse the printed form (it must parse to the same
 * text), convert to a LabelSelector and back, and match a fixed label set.
 */
#include "protocol/selector.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_label(const char *in)
{
    json_t *labels = json_pack("{s:s, s:s, s:s}", "app", "kubia", "n", "5", "e", "");
    proto_sel_t *s = NULL;
    char err[8192];
    if (proto_sel_parse(in, &s, err, sizeof err) == 0) {
        (void)proto_sel_match(s, labels);
        (void)proto_sel_empty(s);
        char *str = proto_sel_string(s);
        proto_sel_t *again = NULL;
        if (proto_sel_parse(str, &again, err, sizeof err) != 0) {
            fprintf(stderr, "canonical form %s does not parse: %s\n", str, err);
            abort();
        }
        char *str2 = proto_sel_string(again);
        if (strcmp(str, str2) != 0) {
            fprintf(stderr, "canonical form unstable: %s vs %s\n", str, str2);
            abort();
        }
        json_t *ls = NULL;
        if (proto_sel_to_label_selector(s, &ls, err, sizeof err) == 0) {
            proto_sel_t *back = NULL;
            if (proto_sel_from_label_selector(ls, &back, err, sizeof err) == 0)
                proto_sel_destroy(&back);
            json_decref(ls);
        }
        free(str);
        free(str2);
        proto_sel_destroy(&again);
        proto_sel_destroy(&s);
    }
    json_decref(labels);
}

static void s_field(const char *in)
{
    json_t *pod = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", "a,b", "status", "phase",
                            "Running");
    proto_fsel_t *f = NULL;
    char err[512];
    if (proto_fsel_parse(in, "pods", &f, err, sizeof err) == 0) {
        (void)proto_fsel_match(f, pod);
        char *str = proto_fsel_string(f);
        proto_fsel_t *again = NULL;
        if (proto_fsel_parse(str, "pods", &again, err, sizeof err) != 0) {
            fprintf(stderr, "field selector %s does not re-parse: %s\n", str, err);
            abort();
        }
        proto_fsel_destroy(&again);
        free(str);
        proto_fsel_destroy(&f);
    }
    json_decref(pod);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    s_label(in);
    s_field(in);
    free(in);
    return 0;
}
