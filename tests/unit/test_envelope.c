/*
 * tests/unit/test_envelope — envelope round trips, field validation, and
 * the malformed wire corpus (the .bin files of tests/corpus/wire): each must be refused
 * with a clear reason while good envelopes keep decoding.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/codec.h"
#include "protocol/envelope.h"
#include "protocol/status.h"

#include <dirent.h>
#include <limits.h>

TEST(mtype_names)
{
    CHECK_EQ_STR(proto_mtype_name(PROTO_T_REQ), "req");
    CHECK_EQ_STR(proto_mtype_name(PROTO_T_CTL), "ctl");
    CHECK_EQ_STR(proto_mtype_name((proto_mtype_t)0), "?");
    CHECK_EQ_STR(proto_mtype_name((proto_mtype_t)99), "?");
    CHECK_EQ_INT(proto_mtype_parse("evt"), PROTO_T_EVT);
    CHECK_EQ_INT(proto_mtype_parse("hb"), PROTO_T_HB);
    CHECK_EQ_INT(proto_mtype_parse("nope"), 0);
    CHECK_EQ_INT(proto_mtype_parse(NULL), 0);
}

TEST(roundtrip)
{
    json_t *body = json_pack("{s:s, s:{s:s}}", "kind", "Pod", "metadata", "name", "web");
    proto_env_t e, d;
    proto_env_init(&e, PROTO_T_REP, 42, "apiserver-1", "client-7", "get", body);
    e.code = 404;
    char *buf, err[128] = "";
    size_t len;
    REQUIRE(proto_env_pack(&e, &buf, &len) == 0);
    int rc = proto_env_unpack(buf, len, &d, err, sizeof err);
    CHECK_EQ_STR(err, "");
    REQUIRE(rc == 0);
    CHECK_EQ_INT(d.v, 1);
    CHECK_EQ_INT(d.type, PROTO_T_REP);
    CHECK_EQ_INT(d.id, 42);
    CHECK_EQ_STR(d.src, "apiserver-1");
    CHECK_EQ_STR(d.dst, "client-7");
    CHECK_EQ_STR(d.op, "get");
    CHECK_EQ_INT(d.code, 404);
    CHECK_EQ_INT(d.ts_us, e.ts_us);
    CHECK(d.ts_us > 1700000000000000LL);
    CHECK(json_equal(d.body, body));
    /* the tap can decode it as a plain map */
    json_t *m = NULL;
    CHECK_EQ_INT(proto_mp_unpack(buf, len, &m, err, sizeof err), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "t")), "rep");
    json_decref(m);
    free(buf);
    proto_env_clear(&e);
    proto_env_clear(&d);
    CHECK(d.body == NULL);
    json_decref(body);
}

TEST(nil_body_and_truncated_ids)
{
    char longsrc[300];
    memset(longsrc, 'a', sizeof longsrc - 3);
    memcpy(longsrc + sizeof longsrc - 4, "é", 3); /* straddles the cut */
    longsrc[sizeof longsrc - 1] = 0;
    proto_env_t e, d;
    proto_env_init(&e, PROTO_T_HB, 0, longsrc, longsrc, longsrc, NULL);
    CHECK_EQ_INT(strlen(e.src), PROTO_ID_MAX - 1);
    CHECK_EQ_INT(strlen(e.op), PROTO_OP_MAX - 1);
    char *buf, err[128];
    size_t len;
    REQUIRE(proto_env_pack(&e, &buf, &len) == 0);
    CHECK_EQ_INT(proto_env_unpack(buf, len, &d, err, sizeof err), 0);
    CHECK(d.body == NULL);
    CHECK_EQ_STR(d.dst, e.dst);
    free(buf);
    proto_env_clear(&d);
}

TEST(body_depth_matches_codec_limit)
{
    json_t *root = json_array(), *cur = root;
    for (int i = 1; i < PROTO_MAX_DEPTH; i++) {
        json_t *c = json_array();
        json_array_append_new(cur, c);
        cur = c;
    }
    proto_env_t e, d;
    proto_env_init(&e, PROTO_T_REQ, 1, "a", "b", "c", root);
    char *buf, err[128];
    size_t len;
    REQUIRE(proto_env_pack(&e, &buf, &len) == 0);
    CHECK_EQ_INT(proto_env_unpack(buf, len, &d, err, sizeof err), 0);
    free(buf);
    proto_env_clear(&d);
    proto_env_clear(&e);
    json_array_append_new(cur, json_array());
    proto_env_init(&e, PROTO_T_REQ, 1, "a", "b", "c", root);
    CHECK(proto_env_pack(&e, &buf, &len) != 0);
    proto_env_clear(&e);
    json_decref(root);
}

/* Packs a hand-built map as an envelope candidate and expects a refusal. */
static void s_expect_bad(json_t *m, const char *want)
{
    char *buf, err[128] = "";
    size_t len;
    proto_env_t d;
    REQUIRE(proto_mp_pack(m, &buf, &len) == 0);
    CHECK_EQ_INT(proto_env_unpack(buf, len, &d, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, want);
    CHECK(d.body == NULL);
    free(buf);
    json_decref(m);
}

#define ENV_OK "s:i, s:s, s:i, s:s, s:s, s:s, s:I"
#define ENV_ARGS(v, t)                                                                             \
    "v", v, "t", t, "id", 1, "src", "a", "dst", "b", "op", "get", "ts", (json_int_t)5

TEST(field_validation)
{
    s_expect_bad(json_pack("{" ENV_OK "}", ENV_ARGS(2, "req")), "unsupported version 2");
    s_expect_bad(json_pack("{" ENV_OK "}", ENV_ARGS(1, "xyz")), "unknown type \"xyz\"");
    s_expect_bad(json_pack("{" ENV_OK "}", ENV_ARGS(1, "a-very-long-type-name")), "\"t\" longer");
    json_t *m = json_pack("{" ENV_OK "}", ENV_ARGS(1, "req"));
    json_object_del(m, "op");
    s_expect_bad(m, "missing key \"op\"");
    m = json_pack("{" ENV_OK "}", ENV_ARGS(1, "req"));
    json_object_set_new(m, "id", json_string("1"));
    s_expect_bad(m, "\"id\" is not an integer");
    m = json_pack("{" ENV_OK "}", ENV_ARGS(1, "req"));
    json_object_set_new(m, "id", json_integer(-4));
    s_expect_bad(m, "negative id");
    m = json_pack("{" ENV_OK "}", ENV_ARGS(1, "req"));
    json_object_set_new(m, "code", json_integer(100000));
    s_expect_bad(m, "code 100000 out of range");
    m = json_pack("{" ENV_OK "}", ENV_ARGS(1, "req"));
    json_object_set_new(m, "src", json_stringn("a\0b", 3));
    s_expect_bad(m, "contains NUL");
    s_expect_bad(json_pack("[i]", 1), "not a map");
}

TEST(unknown_keys_ignored)
{
    json_t *m = json_pack("{" ENV_OK ", s:s}", ENV_ARGS(1, "evt"), "future", "x");
    char *buf, err[128];
    size_t len;
    proto_env_t d;
    REQUIRE(proto_mp_pack(m, &buf, &len) == 0);
    CHECK_EQ_INT(proto_env_unpack(buf, len, &d, err, sizeof err), 0);
    CHECK_EQ_INT(d.type, PROTO_T_EVT);
    CHECK_EQ_INT(d.code, 0);
    free(buf);
    json_decref(m);
}

/* The source tree: test binaries run in a temp cwd, so locate it from
 * ZK_SRC or the binary's path (build/tests/test_envelope). */
static void s_srcdir(char *out, size_t n)
{
    const char *env = getenv("ZK_SRC");
    if (env) {
        snprintf(out, n, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[k > 0 ? k : 0] = 0;
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
    }
    if (strlen(exe) < n)
        memcpy(out, exe, strlen(exe) + 1);
    else
        out[0] = 0;
}

static unsigned char *s_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(b, 1, (size_t)(sz > 0 ? sz : 0), f);
    fclose(f);
    return b;
}

TEST(wire_corpus)
{
    char src[PATH_MAX], dir[PATH_MAX + 32], path[PATH_MAX + 300];
    s_srcdir(src, sizeof src);
    snprintf(dir, sizeof dir, "%s/tests/corpus/wire", src);
    DIR *dp = opendir(dir);
    REQUIRE(dp);
    struct dirent *de;
    int bad = 0, good = 0;
    while ((de = readdir(dp))) {
        size_t nl = strlen(de->d_name);
        if (nl < 4 || strcmp(de->d_name + nl - 4, ".bin") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t n;
        unsigned char *b = s_slurp(path, &n);
        REQUIRE(b);
        proto_env_t d;
        char err[256] = "";
        int rc = proto_env_unpack(b, n, &d, err, sizeof err);
        if (strncmp(de->d_name, "good_", 5) == 0) {
            if (rc != 0)
                T_FAIL("%s: %s", de->d_name, err);
            good++;
        } else {
            if (rc != PROTO_EBADREQUEST || !err[0] || d.body)
                T_FAIL("%s: rc %d err \"%s\"", de->d_name, rc, err);
            else if (strncmp(err, "msgpack: ", 9) != 0 && strncmp(err, "envelope: ", 10) != 0)
                T_FAIL("%s: unclear reason \"%s\"", de->d_name, err);
            bad++;
        }
        proto_env_clear(&d);
        free(b);
    }
    closedir(dp);
    CHECK(bad >= 30);
    CHECK(good >= 2);
}
