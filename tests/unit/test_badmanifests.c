/*
 * tests/unit/test_badmanifests — every malformed manifest of
 * tests/corpus/manifests/ (first line `# expect: <substring>`) is loaded with
 * proto_manifest_load and run through convert -> defaults -> validate
 * (strict), and must fail with the expected text; the book's manifests
 * (tests/corpus/kia, or /work/shared/corpus/kia) must all pass. Huge inputs
 * (10 MB strings) are written at run time rather than kept in the tree.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/kinds.h"
#include "protocol/manifest.h"
#include "protocol/status.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>

/* The source tree's root: ZK_SRCDIR, else three levels above this binary. */
static void s_root(char *buf, size_t n)
{
    const char *env = getenv("ZK_SRCDIR");
    if (env) {
        snprintf(buf, n, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = '\0';
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
    }
    snprintf(buf, n, "%s", exe);
}

/* Loads path and runs every document through the write path; 0 when all
 * pass, else the first error's text in err (422 causes joined as
 * Kubernetes prints them). */
static int s_apply(const char *path, char *err, size_t n)
{
    json_t *docs = NULL;
    int rc = proto_manifest_load(path, 0, &docs, err, n);
    if (rc == 0 && json_array_size(docs) == 0) {
        snprintf(err, n, "error: no objects passed to apply");
        rc = PROTO_EBADREQUEST;
    }
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        if (rc)
            break;
        json_t *causes = NULL;
        rc = proto_convert(doc, err, n);
        if (rc == 0) {
            proto_defaults(doc);
            rc = proto_validate(doc, true, &causes, err, n);
        }
        if (rc == PROTO_EINVALID && causes) {
            size_t j, o = 0;
            json_t *c;
            json_array_foreach(causes, j, c)
            {
                if (o >= n)
                    break;
                o += (size_t)snprintf(err + o, n - o, "%s%s: %s", j ? ", " : "",
                                      json_string_value(json_object_get(c, "field")),
                                      json_string_value(json_object_get(c, "message")));
            }
        }
        json_decref(causes);
    }
    json_decref(docs);
    return rc;
}

static int s_expectation(const char *path, char *exp, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    if (strncmp(line, "# expect: ", 10) != 0)
        return -1;
    line[strcspn(line, "\n")] = '\0';
    snprintf(exp, n, "%s", line + 10);
    return 0;
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(every_bad_manifest_fails_as_expected)
{
    char root[PATH_MAX], dir[PATH_MAX + 32];
    s_root(root, sizeof root);
    snprintf(dir, sizeof dir, "%s/tests/corpus/manifests", root);
    DIR *d = opendir(dir);
    REQUIRE(d);
    char *names[512];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 512)
        if (strstr(e->d_name, ".yaml"))
            names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof names[0], s_cmp);
    CHECK(count >= 60);
    static char err[1 << 16];
    for (size_t i = 0; i < count; i++) {
        char path[PATH_MAX + 300], exp[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (s_expectation(path, exp, sizeof exp) != 0) {
            T_FAIL("%s: first line is not `# expect: ...`", names[i]);
            continue;
        }
        err[0] = '\0';
        int rc = s_apply(path, err, sizeof err);
        if (rc == 0)
            T_FAIL("%s: accepted, expected \"%s\"", names[i], exp);
        else if (!strstr(err, exp))
            T_FAIL("%s: \"%.600s\" does not contain \"%s\"", names[i], err, exp);
        free(names[i]);
    }
}

static void s_write_big(const char *path, const char *head, const char *tail, size_t n)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(head, f);
    for (size_t i = 0; i < n; i++)
        fputc('x', f);
    fputs(tail, f);
    fclose(f);
}

TEST(ten_megabyte_strings_are_refused)
{
    static char err[1 << 16];
    size_t ten = 10u << 20;
    s_write_big("ann.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                "  annotations:\n    big: ",
                "\n", ten);
    CHECK(s_apply("ann.yaml", err, sizeof err) != 0);
    CHECK_CONTAINS(err, "metadata.annotations: Too long: must have at most 262144 bytes");
    s_write_big("label.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                "  labels:\n    big: ",
                "\n", ten);
    CHECK(s_apply("label.yaml", err, sizeof err) != 0);
    CHECK_CONTAINS(err, "must be no more than 63 characters");
    s_write_big("name.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ",
                "\nspec:\n"
                "  containers:\n  - name: c\n    image: i\n",
                ten);
    CHECK(s_apply("name.yaml", err, sizeof err) != 0);
    CHECK_CONTAINS(err, "must be no more than 253 characters");
    s_write_big("data.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
                "  big: ",
                "\n", ten);
    CHECK(s_apply("data.yaml", err, sizeof err) != 0);
    CHECK_CONTAINS(err, "Too long: must have at most 1048576 bytes");
}

TEST(kia_corpus_applies_cleanly)
{
    char root[PATH_MAX], dir[PATH_MAX + 32];
    s_root(root, sizeof root);
    snprintf(dir, sizeof dir, "%s/tests/corpus/kia", root);
    if (access(dir, R_OK) != 0)
        snprintf(dir, sizeof dir, "/work/shared/corpus/kia");
    json_t *docs = NULL;
    static char err[4096];
    int rc = proto_manifest_load(dir, 1, &docs, err, sizeof err);
    REQUIRE(rc == 0);
    CHECK_EQ_INT(json_array_size(docs), 31);
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        json_t *causes = NULL;
        rc = proto_convert(doc, err, sizeof err);
        if (rc == 0) {
            proto_defaults(doc);
            rc = proto_validate(doc, true, &causes, err, sizeof err);
        }
        if (rc)
            T_FAIL("%s/%s: %s", json_string_value(json_object_get(doc, "kind")),
                   json_string_value(json_object_get(json_object_get(doc, "metadata"), "name")),
                   err);
        json_decref(causes);
    }
    json_decref(docs);
}
