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

/* The header-first reader: the same fields, the body left as bytes that
 * proto_env_body decodes to what proto_env_unpack gives. */
TEST(head_then_body)
{
    json_t *body = json_pack("{s:s, s:[i,i]}", "kind", "Pod", "n", 1, 2);
    proto_env_t e, d, h;
    proto_env_init(&e, PROTO_T_REP, 7, "apiserver-1", "c", "get", body);
    e.code = 201;
    char *buf;
    size_t len, blen;
    const void *bp;
    REQUIRE(proto_env_pack(&e, &buf, &len) == 0);
    REQUIRE(proto_env_unpack(buf, len, &d, NULL, 0) == 0);
    REQUIRE(proto_env_unpack_head(buf, len, &h, &bp, &blen, NULL, 0) == 0);
    CHECK(h.body == NULL);
    CHECK(bp != NULL && (const char *)bp > buf && (const char *)bp + blen == buf + len);
    CHECK_EQ_INT(h.id, 7);
    CHECK_EQ_INT(h.code, 201);
    CHECK_EQ_STR(h.src, "apiserver-1");
    CHECK_EQ_INT(proto_env_body(&h, bp, blen, NULL, 0), 0);
    CHECK(json_equal(h.body, d.body));
    CHECK_EQ_INT(proto_mp_skip(bp, blen, PROTO_MAX_DEPTH), blen);
    /* a nil body: no bytes to decode */
    proto_env_clear(&e);
    proto_env_init(&e, PROTO_T_REQ, 8, "a", "b", "op", NULL);
    free(buf);
    REQUIRE(proto_env_pack(&e, &buf, &len) == 0);
    proto_env_clear(&h);
    REQUIRE(proto_env_unpack_head(buf, len, &h, &bp, &blen, NULL, 0) == 0);
    CHECK(bp == NULL && blen == 0 && h.body == NULL);
    CHECK_EQ_INT(h.type, PROTO_T_REQ);
    free(buf);
    proto_env_clear(&e);
    proto_env_clear(&d);
    proto_env_clear(&h);
    json_decref(body);
}

/* Messages the direct reader hands to the tree path still decode there:
 * unknown keys, keys in another order, a bin string. */
TEST(direct_and_tree_agree_on_odd_shapes)
{
    json_t *m = json_pack("{s:o, s:s, s:i, s:s, s:s, s:s, s:I, s:i, s:i}", "body",
                          json_pack("{s:b}", "x", 1), "op", "get", "id", 5, "src", "s", "dst",
                          "d", "t", "rep", "ts", (json_int_t)1, "code", 200, "v", 1);
    char *buf;
    size_t len;
    REQUIRE(proto_mp_pack(m, &buf, &len) == 0);
    proto_env_t a, b;
    CHECK_EQ_INT(proto_env_unpack(buf, len, &a, NULL, 0), 0);
    CHECK_EQ_INT(proto_env_unpack_tree(buf, len, &b, NULL, 0), 0);
    CHECK(json_equal(a.body, b.body));
    CHECK_EQ_INT(a.id, b.id);
    CHECK_EQ_STR(a.op, "get");
    proto_env_clear(&a);
    proto_env_clear(&b);
    free(buf);
    json_decref(m);
    /* a body with a bad string: refused by both, with the codec's reason */
    static const unsigned char bad[] = {0x88, 0xa1, 'v', 0x01, 0xa1, 't', 0xa3, 'r', 'e', 'p',
                                        0xa2, 'i', 'd', 0x01, 0xa3, 's', 'r', 'c', 0xa1, 's',
                                        0xa3, 'd', 's', 't', 0xa1, 'd', 0xa2, 'o', 'p', 0xa1,
                                        'g', 0xa2, 't', 's', 0x01, 0xa4, 'b', 'o', 'd', 'y',
                                        0xa1, 0xff};
    char err[128] = "";
    CHECK_EQ_INT(proto_env_unpack(bad, sizeof bad, &a, err, sizeof err), PROTO_EBADREQUEST);
    CHECK(strstr(err, "msgpack") != NULL);
    CHECK(a.body == NULL);
    const void *bp;
    size_t blen;
    CHECK_EQ_INT(proto_env_unpack_head(bad, sizeof bad, &a, &bp, &blen, NULL, 0), 0);
    CHECK_EQ_INT(proto_env_body(&a, bp, blen, err, sizeof err), PROTO_EBADREQUEST);
    CHECK(a.body == NULL);
}

TEST(skip_sizes_and_depth)
{
    json_t *v = json_pack("{s:[i,s,f,n,b,{s:[]}], s:I}", "a", 1, "x", 1.5, 0, "k", "big",
                          (json_int_t)1 << 40);
    char *buf;
    size_t len;
    REQUIRE(proto_mp_pack(v, &buf, &len) == 0);
    CHECK_EQ_INT(proto_mp_skip(buf, len, PROTO_MAX_DEPTH), len);
    CHECK_EQ_INT(proto_mp_skip(buf, len - 1, PROTO_MAX_DEPTH), 0); /* truncated */
    /* containers at depths 0..3: the same bound as the codec's */
    json_t *out = NULL;
    CHECK_EQ_INT(proto_mp_skip(buf, len, 3), 0);
    CHECK_EQ_INT(proto_mp_unpack_depth(buf, len, 3, &out, NULL, 0), PROTO_EBADREQUEST);
    CHECK_EQ_INT(proto_mp_skip(buf, len, 4), len);
    CHECK_EQ_INT(proto_mp_unpack_depth(buf, len, 4, &out, NULL, 0), 0);
    json_decref(out);
    out = NULL;
    size_t used = 0;
    char two[4096];
    REQUIRE(2 * len < sizeof two);
    memcpy(two, buf, len);
    memcpy(two + len, buf, len);
    CHECK_EQ_INT(proto_mp_unpack_prefix(two, 2 * len, PROTO_MAX_DEPTH, &out, &used, NULL, 0), 0);
    CHECK_EQ_INT(used, len);
    CHECK(json_equal(out, v));
    json_decref(out);
    static const unsigned char ext[] = {0xd4, 0x01, 0x02};
    CHECK_EQ_INT(proto_mp_skip(ext, sizeof ext, 8), 0);
    free(buf);
    json_decref(v);
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
        proto_env_t t;
        if ((proto_env_unpack_tree(b, n, &t, NULL, 0) == 0) != (rc == 0))
            T_FAIL("%s: the direct reader and the tree path disagree", de->d_name);
        proto_env_clear(&t);
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
