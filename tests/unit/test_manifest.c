/*
 * tests/unit/test_manifest — manifests in (YAML/JSON, files, directories,
 * stdin) and out (`-o yaml`, `-o json`). Scalars must resolve as kubectl
 * reads them; dumps are compared byte for byte with the real kubectl when it
 * is installed (offline: `kubectl patch --local`).
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/manifest.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>

/* The book's manifests: $ZK_CORPUS/kia, else the copy in tests/corpus/kia,
 * else ../shared/corpus/kia beside the source tree (found from this binary,
 * BUILD/tests/NAME). */
static bool s_kia_glob(glob_t *g)
{
    char exe[PATH_MAX], pat[PATH_MAX + 64];
    const char *env = getenv("ZK_CORPUS");
    if (env) {
        snprintf(pat, sizeof pat, "%s/kia/*/*.yaml", env);
        return glob(pat, 0, NULL, g) == 0;
    }
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[k > 0 ? k : 0] = 0;
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
    }
    if (getenv("ZK_SRC"))
        snprintf(exe, sizeof exe, "%s", getenv("ZK_SRC"));
    snprintf(pat, sizeof pat, "%s/tests/corpus/kia/*/*.yaml", exe);
    if (glob(pat, 0, NULL, g) == 0)
        return true;
    globfree(g);
    snprintf(pat, sizeof pat, "%s/../shared/corpus/kia/*/*.yaml", exe);
    return glob(pat, 0, NULL, g) == 0;
}

static json_t *s_parse(const char *y, char *err, size_t errlen)
{
    json_t *docs = NULL;
    if (proto_manifest_parse(y, strlen(y), "t.yaml", &docs, err, errlen) != 0)
        return NULL;
    return docs;
}

/* The value of key "v" in the one document "v: <text>". */
static json_t *s_val(const char *text)
{
    char y[512], err[256];
    snprintf(y, sizeof y, "v: %s\n", text);
    json_t *docs = s_parse(y, err, sizeof err);
    if (!docs) {
        T_FAIL("parse of %s: %s", text, err);
        return NULL;
    }
    json_t *v = json_incref(json_object_get(json_array_get(docs, 0), "v"));
    json_decref(docs);
    return v;
}

#define CHECK_TYPE(text, type)                                                                     \
    do {                                                                                           \
        json_t *t_v = s_val(text);                                                                 \
        if (!t_v || json_typeof(t_v) != (type))                                                    \
            T_FAIL("%s: type %d, want %d", text, t_v ? (int)json_typeof(t_v) : -1, (int)(type));   \
        json_decref(t_v);                                                                          \
    } while (0)

#define CHECK_INT(text, want)                                                                      \
    do {                                                                                           \
        json_t *t_v = s_val(text);                                                                 \
        if (!json_is_integer(t_v) || json_integer_value(t_v) != (want))                            \
            T_FAIL("%s: not integer %lld", text, (long long)(want));                               \
        json_decref(t_v);                                                                          \
    } while (0)

TEST(resolves_bools_and_nulls_like_go_yaml_v2)
{
    const char *t[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
    const char *f[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        CHECK_TYPE(t[i], JSON_TRUE);
        CHECK_TYPE(f[i], JSON_FALSE);
    }
    const char *s[] = {"tRUE", "yES", "oN", "nO", "\"true\"", "'yes'", "!!str on", "nULL", "Nope"};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        CHECK_TYPE(s[i], JSON_STRING);
    const char *nul[] = {"", "~", "null", "Null", "NULL", "!!null ''"};
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++)
        CHECK_TYPE(nul[i], JSON_NULL);
}

TEST(resolves_numbers_like_go_yaml_v2)
{
    CHECK_INT("0", 0);
    CHECK_INT("-17", -17);
    CHECK_INT("+17", 17);
    CHECK_INT("0x1F", 31);
    CHECK_INT("-0x10", -16);
    CHECK_INT("0o17", 15);
    CHECK_INT("017", 15);
    CHECK_INT("0b101", 5);
    CHECK_INT("1_000", 1000);
    CHECK_INT("9223372036854775807", INT64_MAX);
    CHECK_INT("-9223372036854775808", INT64_MIN);
    CHECK_TYPE("08", JSON_REAL); /* not octal, but a YAML float */
    CHECK_TYPE("1.5", JSON_REAL);
    CHECK_TYPE(".5", JSON_REAL);
    CHECK_TYPE("1e3", JSON_REAL);
    CHECK_TYPE("-1.5E-3", JSON_REAL);
    CHECK_TYPE("18446744073709551615", JSON_REAL); /* uint64, beyond jansson's int64 */
    CHECK_TYPE("1e400", JSON_STRING);              /* out of range: go-yaml keeps text */
    CHECK_TYPE("0x", JSON_STRING);
    CHECK_TYPE("1:20", JSON_STRING);
    CHECK_TYPE("2001-12-14", JSON_STRING); /* timestamps stay strings */
    CHECK_TYPE("'123'", JSON_STRING);
    CHECK_TYPE("!!str 123", JSON_STRING);
    CHECK_TYPE("!!float 3", JSON_REAL);
    CHECK_TYPE("1.2.3", JSON_STRING);
    CHECK_TYPE("Infinity", JSON_STRING);
    CHECK_TYPE("!custom 5", JSON_STRING);
    CHECK_TYPE("!!python/int 5", JSON_STRING);
    CHECK_TYPE("!!int \"5\"", JSON_INTEGER);
    json_t *v = s_val("1_000.5");
    CHECK(json_is_real(v) && json_real_value(v) == 1000.5);
    json_decref(v);
}

TEST(refuses_what_json_cannot_hold)
{
    char err[256];
    const char *bad[] = {"v: .inf\n",     "v: -.Inf\n",   "v: .nan\n", "v: !!int abc\n",
                         "v: !!bool 1\n", "? [a]\n: 1\n", "~: 1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        json_t *d = s_parse(bad[i], err, sizeof err);
        CHECK(d == NULL);
        CHECK_CONTAINS(err, "t.yaml:");
        json_decref(d);
    }
}

TEST(non_string_keys_become_json_keys)
{
    char err[256];
    json_t *d = s_parse("1: a\ntrue: b\n0x10: c\n", err, sizeof err);
    REQUIRE(d);
    json_t *o = json_array_get(d, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(o, "1")), "a");
    CHECK_EQ_STR(json_string_value(json_object_get(o, "true")), "b");
    CHECK_EQ_STR(json_string_value(json_object_get(o, "16")), "c");
    json_decref(d);
}

TEST(block_styles_and_strings)
{
    char err[256];
    json_t *d = s_parse("a: |\n  x\n  y\nb: >-\n  p\n  q\nc: \"\\t\\u00e9\"\nd: 'it''s'\n"
                        "e: plain # comment\nf: [1, \"2\", {g: h}]\n",
                        err, sizeof err);
    REQUIRE(d);
    json_t *o = json_array_get(d, 0);
    CHECK_EQ_STR(proto_obj_str(o, "a"), "x\ny\n");
    CHECK_EQ_STR(proto_obj_str(o, "b"), "p q");
    CHECK_EQ_STR(proto_obj_str(o, "c"), "\t\xc3\xa9");
    CHECK_EQ_STR(proto_obj_str(o, "d"), "it's");
    CHECK_EQ_STR(proto_obj_str(o, "e"), "plain");
    CHECK_EQ_INT(proto_obj_int(o, "f.0", -1), 1);
    CHECK_EQ_STR(proto_obj_str(o, "f.1"), "2");
    CHECK_EQ_STR(proto_obj_str(o, "f.2.g"), "h");
    json_decref(d);
}

TEST(anchors_aliases_and_merge_keys)
{
    char err[256];
    json_t *d = s_parse("base: &b {x: 1, w: 2}\n"
                        "other: &o {z: 3, w: 9}\n"
                        "copy: *b\n"
                        "m:\n  <<: *b\n  w: 5\n"
                        "mm:\n  <<: [*o, *b]\n"
                        "s: &s hello\nt: *s\n",
                        err, sizeof err);
    if (!d)
        T_FAIL("%s", err);
    REQUIRE(d);
    json_t *o = json_array_get(d, 0);
    CHECK_EQ_INT(proto_obj_int(o, "copy.x", 0), 1);
    CHECK_EQ_INT(proto_obj_int(o, "m.x", 0), 1);
    CHECK_EQ_INT(proto_obj_int(o, "m.w", 0), 5); /* own key wins */
    CHECK(!proto_obj_get(o, "m.<<"));
    CHECK_EQ_INT(proto_obj_int(o, "mm.w", 0), 9); /* earlier merge wins */
    CHECK_EQ_INT(proto_obj_int(o, "mm.x", 0), 1);
    CHECK_EQ_INT(proto_obj_int(o, "mm.z", 0), 3);
    CHECK_EQ_STR(proto_obj_str(o, "t"), "hello");
    /* aliases are copies: changing one leaves the other */
    proto_obj_set(o, "copy.x", json_integer(7));
    CHECK_EQ_INT(proto_obj_int(o, "base.x", 0), 1);
    json_decref(d);
    CHECK(s_parse("a: *nope\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "t.yaml:1:4: unknown anchor");
    CHECK(s_parse("a: &x [1]\n<<: *x\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "map merge");
}

TEST(billion_laughs_is_bounded)
{
    char y[2048], err[256];
    int n = snprintf(y, sizeof y, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (int i = 1; i < 10; i++)
        n += snprintf(y + n, sizeof y - (size_t)n,
                      "a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,"
                      "*a%d,*a%d,*a%d]\n",
                      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    int64_t t0 = proto_mono_ms();
    CHECK(s_parse(y, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "alias expansion exceeds");
    CHECK(proto_mono_ms() - t0 < 5000);
}

TEST(depth_is_bounded)
{
    char err[256];
    size_t n = 200;
    char *y = malloc(2 * n + 8);
    memset(y, '[', n);
    memset(y + n, ']', n);
    y[2 * n] = 0;
    json_t *d = NULL;
    CHECK_EQ_INT(proto_manifest_parse(y, 2 * n, "deep", &d, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "deep:1:");
    CHECK_CONTAINS(err, "nesting deeper than 64");
    /* and through an alias */
    char a[256];
    snprintf(a, sizeof a, "a: &a %.*s1%.*s\nb: %.*s*a%.*s\n", 55, y, 55, y + n, 10, y, 10, y + n);
    CHECK(s_parse(a, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "nesting deeper than 64");
    free(y);
}

TEST(errors_carry_name_line_column)
{
    char err[256];
    CHECK(s_parse("a: 1\nb: [1, 2\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "t.yaml:3:1: ");
    CHECK(s_parse("a: 1\n  b: 2\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "t.yaml:2:4: mapping values are not allowed");
    CHECK(s_parse("a: 1\nb: 2\na: 3\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "t.yaml:3:1: key \"a\" already set in map");
    CHECK(s_parse("a: \"\\xZZ\"\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "t.yaml:1:");
    /* JSON errors still give a position */
    CHECK(s_parse("{\"a\": 1,\n \"b\": [}\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "t.yaml:2:");
    json_t *d = NULL;
    CHECK_EQ_INT(proto_manifest_parse("\xff\xfe\xfa", 3, "bin", &d, err, sizeof err),
                 PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "bin:");
}

TEST(streams_lists_and_empty_documents)
{
    char err[256];
    json_t *d =
        s_parse("---\n# only a comment\n---\nkind: Pod\nmetadata: {name: a}\n---\n---\n"
                "apiVersion: v1\nkind: List\nitems:\n- {kind: Service, metadata: {name: b}}\n"
                "- {kind: Pod, metadata: {name: c}}\n---\nkind: PodList\nitems: [{kind: Pod}]\n"
                "---\nkind: List\n...\n---\nkind: NotAList\nitems: 3\n",
                err, sizeof err);
    if (!d)
        T_FAIL("%s", err);
    REQUIRE(d);
    CHECK_EQ_INT(json_array_size(d), 5);
    CHECK_EQ_STR(proto_obj_name(json_array_get(d, 0)), "a");
    CHECK_EQ_STR(proto_obj_name(json_array_get(d, 1)), "b");
    CHECK_EQ_STR(proto_obj_name(json_array_get(d, 2)), "c");
    CHECK_EQ_STR(proto_obj_kind(json_array_get(d, 3)), "Pod");
    CHECK_EQ_STR(proto_obj_kind(json_array_get(d, 4)), "NotAList");
    json_decref(d);
    d = s_parse("", err, sizeof err);
    REQUIRE(d);
    CHECK_EQ_INT(json_array_size(d), 0);
    json_decref(d);
}

TEST(json_input)
{
    char err[256];
    json_t *d = s_parse("  {\"kind\": \"Pod\", \"n\": 1.0, \"s\": \"yes\", \"b\": true}\n"
                        "{\"kind\": \"List\", \"items\": [{\"kind\": \"A\"}, {\"kind\": \"B\"}]}",
                        err, sizeof err);
    REQUIRE(d);
    CHECK_EQ_INT(json_array_size(d), 3);
    json_t *o = json_array_get(d, 0);
    CHECK(json_is_real(json_object_get(o, "n")));
    CHECK(json_is_string(json_object_get(o, "s")));
    CHECK(json_is_true(json_object_get(o, "b")));
    CHECK_EQ_STR(proto_obj_kind(json_array_get(d, 2)), "B");
    json_decref(d);
    /* a patch body may be an array; a huge integer falls back to the YAML reader */
    d = s_parse("[{\"op\": \"add\", \"v\": 18446744073709551615}]", err, sizeof err);
    REQUIRE(d);
    CHECK(json_is_array(json_array_get(d, 0)));
    CHECK(json_is_real(proto_obj_get(json_array_get(json_array_get(d, 0), 0), "v")));
    json_decref(d);
    CHECK(s_parse("{\"a\": 1, \"a\": 2}", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "already set");
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

TEST(load_files_directories_stdin)
{
    char err[256];
    json_t *docs = NULL;
    mkdir("d", 0755);
    mkdir("d/sub", 0755);
    s_write("d/b.yaml", "kind: B\n");
    s_write("d/a.yml", "kind: A\n---\nkind: A2\n");
    s_write("d/c.json", "{\"kind\": \"C\"}");
    s_write("d/notes.txt", "kind: Ignored\n");
    s_write("d/sub/z.yaml", "kind: Z\n");
    CHECK_EQ_INT(proto_manifest_load("d", 0, &docs, err, sizeof err), 0);
    REQUIRE(docs);
    CHECK_EQ_INT(json_array_size(docs), 4);
    CHECK_EQ_STR(proto_obj_kind(json_array_get(docs, 0)), "A");
    CHECK_EQ_STR(proto_obj_kind(json_array_get(docs, 2)), "B");
    CHECK_EQ_STR(proto_obj_kind(json_array_get(docs, 3)), "C");
    CHECK_EQ_INT(proto_manifest_load("d", 1, &docs, err, sizeof err), 0);
    CHECK_EQ_INT(json_array_size(docs), 9);
    CHECK_EQ_STR(proto_obj_kind(json_array_get(docs, 8)), "Z");
    /* a file named directly loads whatever its name */
    CHECK_EQ_INT(proto_manifest_load("d/notes.txt", 0, &docs, err, sizeof err), 0);
    CHECK_EQ_INT(json_array_size(docs), 10);
    /* stdin */
    int fd = open("d/b.yaml", O_RDONLY);
    REQUIRE(fd >= 0);
    dup2(fd, 0);
    close(fd);
    CHECK_EQ_INT(proto_manifest_load("-", 0, &docs, err, sizeof err), 0);
    CHECK_EQ_STR(proto_obj_kind(json_array_get(docs, 10)), "B");
    /* errors: missing file, bad YAML names its file, nothing appended */
    CHECK_EQ_INT(proto_manifest_load("nope.yaml", 0, &docs, err, sizeof err), -ENOENT);
    CHECK_CONTAINS(err, "nope.yaml: No such file");
    s_write("d/sub/bad.yaml", "a: [\n");
    CHECK_EQ_INT(proto_manifest_load("d", 1, &docs, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "d/sub/bad.yaml:2:1: ");
    CHECK_EQ_INT(json_array_size(docs), 11);
    json_decref(docs);
}

TEST(load_size_limit)
{
    char err[256];
    json_t *docs = NULL;
    int fd = open("big.yaml", O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, (off_t)PROTO_MAX_MANIFEST + 1) == 0);
    close(fd);
    CHECK_EQ_INT(proto_manifest_load("big.yaml", 0, &docs, err, sizeof err), -EFBIG);
    CHECK_CONTAINS(err, "big.yaml: ");
    CHECK(docs == NULL);
    CHECK_EQ_INT(
        proto_manifest_parse("", (size_t)PROTO_MAX_MANIFEST + 1, "x", &docs, err, sizeof err),
        PROTO_EBADREQUEST);
}

/* Chapter02/kubia.yaml, as the book has it (its trailing indented blank line
 * included). */
static const char s_kubia[] =
    "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: kubia\n  labels:\n"
    "    run: kubia\nspec:\n  replicas: 1\n  selector:\n    run: kubia\n  template:\n"
    "    metadata:\n      labels:\n        run: kubia\n    spec:\n      containers:\n"
    "      - name: kubia\n        image: luksa/kubia:latest\n        ports:\n"
    "        - containerPort: 8080\n          protocol: TCP\n      \n";

TEST(kia_corpus_loads)
{
    glob_t g;
    char err[512];
    if (!s_kia_glob(&g)) {
        printf("# kia corpus not found, skipped\n");
        return;
    }
    size_t ndocs = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        json_t *docs = NULL;
        if (proto_manifest_load(g.gl_pathv[i], 0, &docs, err, sizeof err) != 0) {
            T_FAIL("%s", err);
            continue;
        }
        for (size_t j = 0; j < json_array_size(docs); j++) {
            json_t *o = json_array_get(docs, j);
            if (!proto_obj_kind(o) || !proto_obj_str(o, "apiVersion") || !proto_obj_name(o))
                T_FAIL("%s: doc %zu lacks kind/apiVersion/name", g.gl_pathv[i], j);
            ndocs++;
        }
        json_decref(docs);
    }
    CHECK(g.gl_pathc >= 30);
    CHECK(ndocs >= g.gl_pathc);
    globfree(&g);
    json_t *docs = NULL;
    REQUIRE(proto_manifest_parse(s_kubia, strlen(s_kubia), "kubia.yaml", &docs, err, sizeof err) ==
            0);
    json_t *o = json_array_get(docs, 0);
    CHECK_EQ_STR(proto_obj_kind(o), "ReplicationController");
    CHECK_EQ_INT(proto_obj_int(o, "spec.replicas", 0), 1);
    CHECK_EQ_STR(proto_obj_str(o, "spec.template.spec.containers.0.image"), "luksa/kubia:latest");
    CHECK_EQ_INT(proto_obj_int(o, "spec.template.spec.containers.0.ports.0.containerPort", 0),
                 8080);
    json_decref(docs);
}

/* ------------------------------------------------------------ kubectl differential */

/* Tricky strings: each must print exactly as kubectl prints it. (U+0085
 * and DEL are left out: kubectl's own reader changes or refuses them.) */
static const char *const s_strings[] = {
    "<<",
    "1_000",
    "0o17",
    "017",
    "08",
    "0x1F",
    "1e3",
    "1.0",
    ".5",
    "-.inf",
    ".nan",
    "+1",
    "-",
    "--",
    "---",
    "...",
    "- a",
    "? x",
    "?x",
    "a:b",
    "a :b",
    ":a",
    "a:",
    "#a",
    "a#b",
    "a #b",
    "@a",
    "`a",
    "!a",
    "&a",
    "*a",
    "|a",
    ">a",
    "%a",
    "'a",
    "\"a",
    "{a",
    "a}",
    "[a",
    "a]",
    ",a",
    "a,b",
    "a, b",
    "trailing ",
    "\ttab",
    "tab\tin",
    "x\n",
    "\n",
    "\nx",
    "a\n b",
    "a  \nb",
    " \n",
    "\r",
    "a\rb",
    "\xc2\xa0",
    "\xf0\x9f\x98\x80",
    "\xc3\xa9",
    "2001-12-14",
    "2001-12-14T21:59:43.10-05:00",
    "2001-12-14 21:59:43.10",
    "2001-13-14",
    "2001-02-29",
    "2000-02-29",
    "2026-11-27T05:54:45Z",
    "12:30",
    "1:20:30",
    "190:20:30",
    "1:60",
    "Yes",
    "yES",
    "On",
    "oN",
    "NULL",
    "Null",
    "nULL",
    "~",
    "y",
    "Y",
    "n",
    "N",
    "true",
    "TRUE",
    "tRUE",
    "no",
    "off",
    "OFF",
    "Off",
    "oFF",
    "-1",
    "-1.5",
    "+.5",
    "0b101",
    "-0b101",
    "0B1",
    "0X1f",
    "1__0",
    "_1",
    "1_",
    "1.e5",
    "1e",
    "e5",
    "inf",
    "Infinity",
    "NaN",
    ".Inf",
    "+.inf",
    "1:2",
    "+1:2",
    "-1:2.5",
    "1:2:3.4_5",
    "line1\nline2\n\n",
    "line1\n\n",
    "  lead\nx",
    "x\n  indented",
    "trail \nx",
    "tab\t\nx",
    "a\xe2\x80\xa8"
    "b",
    "a\xe2\x80\xa8",
    "\xe2\x80\xa8",
    "a\xe2\x80\xa8\xe2\x80\xa9",
    "a \xe2\x80\xa8",
    "x\xe2\x80\xa8y\xe2\x80\xa9",
    "\ta\xe2\x80\xa8",
    "=",
    "<",
    "<<<",
    "%",
    "@",
    "a'b",
    "it's",
    "\"quoted\"",
    "back\\slash",
    "a\tb",
    " ",
    "  ",
    "",
    "x ",
    " x",
    "a\n",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "null ",
    "true ",
    " 1",
    "<&>",
    "a\x01b",
    "\x1b[0m",
    "\xee\x80\x80",
    "\xed\x9f\xbf",
    "a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "word: word: word: word: word: word: word: word: word: word: word: word: word: word: word:",
    "a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b a  b ",
    "first line is long long long long long long long long long long long long long long long\n2nd",
};

static const char *const s_frags[] = {
    "{\"ukeys\": {\"kind\": 1, \"k\\u00e9\": 1, \"k\\u00b7x\": 1, \"k\\u2014\": 1,"
    " \"k\\u65e5\": 1, \"k\\u3001\": 1, \"k\\ud83d\\ude00\": 1, \"k\\u0301\": 1, \"ka\": 1,"
    " \"k_\": 1, \"k-\": 1, \"k\\u00a9\": 1, \"k\\u00aa\": 1, \"k\\u00d7\": 1, \"kz\": 1,"
    " \"kA\": 1, \"k\\uff01\": 1, \"k\\uff21\": 1, \"k\\u0410\": 1, \"k\\u05d0\": 1,"
    " \"k\\u0660\": 1, \"k\\u20ac\": 1, \"k\\u0967x\": 1}}",
    "{\"num\": [0, -0.0, 1e-7, 123456789012.5, 1e20, 1.5e300, 9223372036854775807,"
    " -9223372036854775808, 0.1, 100.0, 1e6, 12345678.9, 5e-324, 1.7976931348623157e308,"
    " 0.000123, 123456.7, -2.5e-5, 3.0e21, 1e21, 999999.9, 1234567.0, 0.0001, 0.00001, 2.5,"
    " 1e100, 123e-20, 0.30000000000000004]}",
    "{\"keys\": {\"a1\": 1, \"10\": 1, \"2\": 1, \"B\": 1, \"b\": 1, \"_\": 1, \"-\": 1,"
    " \"a_b\": 1, \"a-b\": 1, \"aB\": 1, \"ab\": 1, \"\\u00e9\": 1, \"z\": 1, \"a.b\": 1,"
    " \"A\": 1, \"Z\": 1, \"_a\": 1, \"0\": 1, \"x9y\": 1, \"x10y\": 1, \"x09y\": 1,"
    " \"a b\": 1, \"\": 1, \"y\": 1, \"n\": 1, \"yes\": 1, \"on\": 1, \"null\": 1, \"~\": 1,"
    " \"1.5\": 1, \"08\": 1, \"a2\": 1, \"a10\": 1, \"k8s.io/name\": 1, \"app\": 1}}",
    "{\"nest\": [[[]], [{}], [[1, 2], {\"a\": [{\"b\": []}]}], {\"x\": {\"w\": {\"z\": [\"\","
    " null, true, false]}}}, null, \"\", [], [[[\"deep\"]]], {\"m\": {}}]}",
    "{\"containers\": [{\"name\": \"x\", \"args\": [\"--a=1\", \"-c\", \"echo $(date) && sleep"
    " 10\"], \"ports\": [{\"containerPort\": 8080, \"protocol\": \"TCP\"}], \"env\": [{\"name\":"
    " \"A\", \"value\": \"1\"}, {\"name\": \"B\", \"value\": \"true\"}]}], \"emptymap\": {},"
    " \"emptylist\": [], \"nul\": null}",
    "{\"script\": \"#!/bin/sh\\nset -e\\nwhile true; do\\n  echo hi\\n  sleep 1\\ndone\\n\","
    " \"cert\": \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}",
};

static char *s_run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 2)
            b = realloc(b, cap *= 2);
    }
    b[n] = 0;
    if (pclose(p) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

static bool s_have_kubectl(void)
{
    return system("kubectl version --client >/dev/null 2>&1") == 0;
}

/* Compares our dump of o with kubectl's, in format fmt ("yaml"/"json"). */
static int s_diff_one(const json_t *o, const char *fmt, const char *label)
{
    char cmd[512];
    if (json_dump_file(o, "obj.json", JSON_COMPACT) != 0) {
        T_FAIL("cannot write obj.json");
        return 1;
    }
    snprintf(cmd, sizeof cmd,
             "HOME=%s kubectl patch --local --type merge -f obj.json -p '{}' -o %s 2>&1",
             t_tmpdir(), fmt);
    char *want = s_run(cmd);
    char *got = fmt[0] == 'y' ? proto_yaml_dump(o) : proto_json_dump(o);
    int bad = !want || !got || strcmp(want, got) != 0;
    if (bad) {
        int line = 1;
        const char *w = want ? want : "", *z = got ? got : "", *lw = w, *lz = z;
        for (; *w && *w == *z; w++, z++)
            if (*w == '\n')
                line++, lw = w + 1, lz = z + 1;
        T_FAIL("%s -o %s differs from kubectl at line %d:\n    kubectl: %.*s\n    zkube:   %.*s",
               label, fmt, line, (int)strcspn(lw, "\n"), lw, (int)strcspn(lz, "\n"), lz);
    }
    free(want);
    free(got);
    return bad;
}

static json_t *s_thing(json_t *spec)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", "example.com/v1", "kind", "Thing",
                     "metadata", "name", "x", "spec", spec);
}

TEST(dump_matches_kubectl)
{
    if (!s_have_kubectl()) {
        printf("# kubectl not installed: differential check skipped\n");
        return;
    }
    int bad = 0, n = 0;
    json_t *strs = json_object(), *list = json_array();
    for (size_t i = 0; i < sizeof s_strings / sizeof s_strings[0]; i++) {
        char k[16];
        snprintf(k, sizeof k, "s%03zu", i);
        json_object_set_new(strs, k, json_string(s_strings[i]));
        json_array_append_new(list, json_string(s_strings[i]));
    }
    json_t *objs = json_array();
    json_array_append_new(objs, s_thing(strs));
    json_array_append_new(objs, s_thing(json_pack("{s:o}", "list", list)));
    for (size_t i = 0; i < sizeof s_frags / sizeof s_frags[0]; i++) {
        json_error_t je;
        json_t *f = json_loads(s_frags[i], 0, &je);
        if (!f)
            T_FAIL("fragment %zu: %s", i, je.text);
        else
            json_array_append_new(objs, s_thing(f));
    }
    glob_t g = {0};
    char err[256];
    bool kia = s_kia_glob(&g);
    if (kia) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (proto_manifest_load(g.gl_pathv[i], 0, &objs, err, sizeof err) != 0)
                T_FAIL("%s", err);
        globfree(&g);
    }
    for (size_t i = 0; i < json_array_size(objs); i++) {
        char label[32];
        snprintf(label, sizeof label, "object %zu", i);
        bad += s_diff_one(json_array_get(objs, i), "yaml", label);
        bad += s_diff_one(json_array_get(objs, i), "json", label);
        n += 2;
    }
    printf("# %d of %d dumps identical to kubectl's\n", n - bad, n);
    CHECK(n >= (kia ? 70 : 14));
    json_decref(objs);
}

/* Numbers compare by value: a YAML dump prints 8.0 as 8, as kubectl does. */
static bool s_same(const json_t *a, const json_t *b)
{
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

TEST(dumps_read_back_equal)
{
    char err[256];
    json_t *strs = json_object();
    for (size_t i = 0; i < sizeof s_strings / sizeof s_strings[0]; i++) {
        char k[16];
        snprintf(k, sizeof k, "s%03zu", i);
        json_object_set_new(strs, k, json_string(s_strings[i]));
    }
    json_t *objs = json_array();
    json_array_append_new(objs, s_thing(strs));
    for (size_t i = 0; i < sizeof s_frags / sizeof s_frags[0]; i++)
        json_array_append_new(objs, s_thing(json_loads(s_frags[i], 0, NULL)));
    for (size_t i = 0; i < json_array_size(objs); i++) {
        json_t *o = json_array_get(objs, i);
        for (int fmt = 0; fmt < 2; fmt++) {
            char *text = fmt ? proto_json_dump(o) : proto_yaml_dump(o);
            json_t *back = NULL;
            REQUIRE(text);
            if (proto_manifest_parse(text, strlen(text), "dump", &back, err, sizeof err) != 0)
                T_FAIL("object %zu fmt %d: %s", i, fmt, err);
            else if (json_array_size(back) != 1 || !s_same(o, json_array_get(back, 0)))
                T_FAIL("object %zu fmt %d does not read back equal:\n%s", i, fmt, text);
            json_decref(back);
            free(text);
        }
    }
    json_decref(objs);
}

TEST(dump_basics)
{
    json_t *o = json_pack("{s:s, s:[{s:s}], s:{}, s:[], s:s, s:f}", "b", "true", "containers",
                          "name", "x", "e", "l", "m", "a\nb", "f", 8.0);
    char *y = proto_yaml_dump(o), *j = proto_json_dump(o);
    CHECK_EQ_STR(y, "b: \"true\"\ncontainers:\n- name: x\ne: {}\nf: 8\nl: []\nm: |-\n  a\n  b\n");
    CHECK_EQ_STR(j,
                 "{\n    \"b\": \"true\",\n    \"containers\": [\n        {\n            \"name\": "
                 "\"x\"\n        }\n    ],\n    \"e\": {},\n    \"f\": 8,\n    \"l\": [],\n    "
                 "\"m\": \"a\\nb\"\n}\n");
    free(y);
    free(j);
    json_decref(o);
    /* invalid UTF-8 (possible with json_stringn_nocheck) prints as U+FFFD, as Go does */
    o = json_pack("{s:o}", "s",
                  json_stringn_nocheck("a\xff\xc3(b\xe2\x80\xa8"
                                       "c",
                                       9));
    y = proto_yaml_dump(o);
    j = proto_json_dump(o);
    CHECK_EQ_STR(y, "s: 'a\xef\xbf\xbd\xef\xbf\xbd(b\xe2\x80\xa8"
                    "  c'\n");
    CHECK_EQ_STR(j, "{\n    \"s\": \"a\\ufffd\\ufffd(b\\u2028c\"\n}\n");
    free(y);
    free(j);
    json_decref(o);
    /* a string holding the private sentinel of the U+2028 fix still prints */
    char err[256];
    json_t *back = NULL;
    o = json_pack("{s:s, s:s}", "s", "\xef\xa3\xb0\xef\xa3\xb1\xef\xa3\xb2'", "t", "a\xe2\x80\xa8");
    y = proto_yaml_dump(o);
    REQUIRE(y);
    CHECK_EQ_INT(proto_manifest_parse(y, strlen(y), "y", &back, err, sizeof err), 0);
    CHECK(json_equal(json_array_get(back, 0), o));
    free(y);
    json_decref(back);
    json_decref(o);
    /* null and scalars as roots */
    y = proto_yaml_dump(NULL);
    CHECK_EQ_STR(y, "null\n");
    free(y);
}

/* Scalars, anchors, merges, folding: read by kubectl and by us, printed as JSON. */
static const char s_load_yaml[] =
    "apiVersion: v1\nkind: Thing\nmetadata:\n  name: x\nspec:\n"
    "  b1: yes\n  b2: Off\n  b3: y\n  b4: N\n  b5: TRUE\n  b6: tRUE\n"
    "  n1: ~\n  n2:\n  n3: Null\n"
    "  i1: 0x1F\n  i2: 0o17\n  i3: 017\n  i4: 08\n  i5: 1_000\n  i6: +17\n  i7: -0x10\n"
    "  i8: 0b101\n  i9: 9223372036854775807\n  i10: 18446744073709551615\n"
    "  f1: 1.5\n  f2: .5\n  f3: 1e3\n  f4: 1_000.5\n  f5: 6.8523015e+5\n  f6: 1e400\n"
    "  t1: 2001-12-14\n  t2: 2001-12-14T21:59:43.10-05:00\n"
    "  s1: \"yes\"\n  s2: !!str 12\n  s3: 1:20\n  s4: 12:30:45\n"
    "  y: keyy\n  n: keyn\n  1: one\n  0x10: hex\n"
    "  anch: &a {p: 1, q: [1, 2]}\n  ali: *a\n  mrg:\n    <<: *a\n    p: 2\n"
    "  fold: >\n    a\n    b\n\n    c\n  lit: |+\n    x\n\n"
    "  q: 'it''s'\n  tag: !foo bar\n  esc: \"\\t\\u00e9\\x41\"\n"
    "  flow: {a: [1, {b: c}], d: \"e\"}\n  multi: a\n    b\n";

TEST(load_matches_kubectl)
{
    if (!s_have_kubectl()) {
        printf("# kubectl not installed: differential check skipped\n");
        return;
    }
    char err[256], cmd[512];
    glob_t g = {0};
    json_t *docs = NULL;
    s_write("in.yaml", s_load_yaml);
    int n = 0;
    bool globbed = s_kia_glob(&g);
    for (int i = 0; i < 1 + (globbed ? (int)g.gl_pathc : 0); i++) {
        const char *p = i == 0 ? "in.yaml" : g.gl_pathv[i - 1];
        REQUIRE(proto_manifest_load(p, 0, &docs, err, sizeof err) == 0);
        if (json_array_size(docs) != 1) { /* kubectl prints several as a List */
            json_decref(docs);
            docs = NULL;
            continue;
        }
        snprintf(cmd, sizeof cmd,
                 "HOME=%s kubectl patch --local --type merge -f '%s' -p '{}' -o json 2>&1",
                 t_tmpdir(), p);
        char *want = s_run(cmd), *got = proto_json_dump(json_array_get(docs, 0));
        if (!want || strcmp(want, got) != 0)
            T_FAIL("%s reads differently:\n-- kubectl:\n%s\n-- zkube:\n%s", p,
                   want ? want : "(failed)", got);
        n++;
        free(want);
        free(got);
        json_decref(docs);
        docs = NULL;
    }
    if (globbed)
        globfree(&g);
    printf("# %d manifests read as kubectl reads them\n", n);
    CHECK(n >= (globbed ? 20 : 1));
}

/* ------------------------------------------------------------ random differential */

static uint64_t s_rng;

static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* Up to 10 pieces that matter to YAML quoting; digits optional, since keys
 * whose digit runs compare circularly make kubectl's own order random. */
static void s_rand_str(char *out, bool digits)
{
    static const char *const p[] = {
        "a",  " ",  ":",    "#",    "-",  "?",   "\n",  "\t",       "'",           "\"", "0",
        "1",  ".",  "e",    "x",    "_",  ",",   "[",   "{",        "&",           "*",  "!",
        "|",  ">",  "%",    "@",    "`",  "y",   "n",   "~",        "+",           "  ", "\n\n",
        "0x", "1e", "true", "null", "<<", "---", "...", "\xc3\xa9", "\xe2\x80\xa8"};
    size_t np = sizeof p / sizeof p[0], len = s_next() % 11;
    out[0] = 0;
    for (size_t i = 0; i < len; i++) {
        const char *x = p[s_next() % np];
        if (!digits && strpbrk(x, "0123456789"))
            continue;
        strcat(out, x);
    }
}

static json_t *s_rand_obj(void)
{
    json_t *spec = json_object(), *keys = json_object(), *list = json_array(), *nums = json_array();
    char s[64], k[16];
    for (int i = 0; i < 1500; i++) {
        snprintf(k, sizeof k, "k%04d", i);
        s_rand_str(s, true);
        json_object_set_new(spec, k, json_string(s));
    }
    for (int i = 0; i < 300; i++) {
        s_rand_str(s, false);
        if (!strchr(s, '\n') && !strstr(s, "\xe2\x80\xa8"))
            json_object_set_new(keys, s, json_integer(i));
        s_rand_str(s, true);
        json_array_append_new(list, json_string(s));
        double m = (double)(s_next() % 1000000007) / 1000.0;
        int e = (int)(s_next() % 40) - 20;
        json_array_append_new(nums, s_next() % 2 ? json_real(m * pow(10, e))
                                                 : json_integer((json_int_t)(s_next() >> 4)));
    }
    json_object_set_new(spec, "zkeys", keys);
    json_object_set_new(spec, "zlist", list);
    json_object_set_new(spec, "znum", nums);
    return s_thing(spec);
}

TEST(dump_matches_kubectl_random)
{
    if (!s_have_kubectl()) {
        printf("# kubectl not installed: differential check skipped\n");
        return;
    }
    for (uint64_t seed = 1; seed <= 8; seed++) {
        char label[32];
        s_rng = 0x9e3779b97f4a7c15ull * seed;
        json_t *o = s_rand_obj();
        snprintf(label, sizeof label, "random object %llu", (unsigned long long)seed);
        s_diff_one(o, "yaml", label);
        s_diff_one(o, "json", label);
        json_decref(o);
    }
}
