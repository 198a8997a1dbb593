/*
 * tests/fuzz/fuzz_image_ref — libFuzzer target for the image store's two
 * parsers of outside input: image references (a pod's image field reaches
 * kubelet_image_resolve) and recipes. A reference is accepted only as a
 * safe store path (no "..", ".", empty or absolute components) and
 * normalising is idempotent; the recipe parser never crashes and names what
 * it refuses. The fuzz build links only protocol/, so the image store's one
 * translation unit is compiled in here.
 */
#include "actors/kubelet/image.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check_ref(const char *ref)
{
    char out[S_NORM_MAX], again[S_NORM_MAX];
    if (kubelet_image_normalize(ref, out, sizeof out) != 0)
        return;
    if (kubelet_image_normalize(out, again, sizeof again) != 0 || strcmp(out, again))
        __builtin_trap();
    const char *colon = strrchr(out, ':');
    if (!colon || out[0] == '/' || strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../") ||
        !strncmp(out, "../", 3) || !strncmp(out, "./", 2) || strchr(colon + 1, '/') ||
        colon[1] == '.' || colon[-1] == '/')
        __builtin_trap();
}

static void s_check_recipe(const char *text)
{
    s_recipe_t *r = calloc(1, sizeof *r);
    char err[256] = "";
    r->path = "Recipe";
    r->text = strdup(text);
    if (s_recipe_parse(r, err, sizeof err) < 0 && !err[0])
        __builtin_trap();
    for (int i = 0; i < r->nsteps; i++)
        if (!r->steps[i].op || !r->steps[i].arg[0])
            __builtin_trap();
    free(r->text);
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 70000)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    if (data[0] & 1)
        s_check_recipe(s);
    else
        s_check_ref(s);
    free(s);
    return 0;
}
