/*
 * tests/unit/test_codec — msgpack <-> jansson: round trips of every type,
 * exact encodings, and refusal of malformed or oversized input.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/codec.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <errno.h>

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *s_rt(const json_t *v)
{
    char *buf;
    size_t len;
    json_t *out = NULL;
    char err[128];
    REQUIRE(proto_mp_pack(v, &buf, &len) == 0);
    int rc = proto_mp_unpack(buf, len, &out, err, sizeof err);
    if (rc)
        fprintf(stderr, "  unpack: %s\n", err);
    free(buf);
    return out;
}

static int s_unpack(const char *bytes, size_t n, char *err, size_t errlen)
{
    json_t *out = NULL;
    int rc = proto_mp_unpack(bytes, n, &out, err, errlen);
    json_decref(out);
    return rc;
}

TEST(roundtrip_all_types)
{
    json_t *v = json_pack("{s:i, s:I, s:I, s:f, s:s, s:b, s:b, s:n, s:[i, [], {}], s:s%}", "a", 1,
                          "big", (json_int_t)INT64_MAX, "neg", (json_int_t)INT64_MIN, "f", 1.5, "s",
                          "héllo ✓", "t", 1, "f2", 0, "z", "arr", -33, "nul", "a\0b", (size_t)3);
    REQUIRE(v);
    json_t *w = s_rt(v);
    REQUIRE(w);
    CHECK(json_equal(v, w));
    CHECK_EQ_INT(json_string_length(json_object_get(w, "nul")), 3);
    CHECK(json_is_real(json_object_get(w, "f")));
    json_decref(v);
    json_decref(w);
}

TEST(roundtrip_integer_boundaries)
{
    json_int_t vals[] = {0,  127, 128, 255,  256,  65535,  65536,  4294967295LL, 4294967296LL,
                         -1, -32, -33, -128, -129, -32768, -32769, INT64_MIN,    INT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        json_t *v = json_integer(vals[i]);
        json_t *w = s_rt(v);
        REQUIRE(w);
        CHECK(json_is_integer(w));
        CHECK_EQ_INT(json_integer_value(w), vals[i]);
        json_decref(v);
        json_decref(w);
    }
}

TEST(exact_encoding)
{
    json_t *v = json_pack("{s:i}", "a", 1);
    char *buf;
    size_t len;
    REQUIRE(proto_mp_pack(v, &buf, &len) == 0);
    CHECK_EQ_INT(len, 4);
    CHECK(memcmp(buf,
                 "\x81\xa1"
                 "a\x01",
                 4) == 0);
    free(buf);
    json_decref(v);
}

TEST(decodes_foreign_encodings)
{
    char err[128];
    json_t *out = NULL;
    /* float32 1.5, uint64 7, int8 -5, bin8 "hi", str16 "x", array16 [nil], map16 {} */
    const char b[] = "\x97\xca\x3f\xc0\x00\x00\xcf\0\0\0\0\0\0\0\x07\xd0\xfb\xc4\x02hi"
                     "\xda\x00\x01x\xdc\x00\x01\xc0\xde\x00\x00";
    REQUIRE(proto_mp_unpack(b, sizeof b - 1, &out, err, sizeof err) == 0);
    CHECK_EQ_INT(json_array_size(out), 7);
    CHECK(json_real_value(json_array_get(out, 0)) == 1.5);
    CHECK_EQ_INT(json_integer_value(json_array_get(out, 1)), 7);
    CHECK_EQ_INT(json_integer_value(json_array_get(out, 2)), -5);
    CHECK_EQ_STR(json_string_value(json_array_get(out, 3)), "hi");
    CHECK_EQ_STR(json_string_value(json_array_get(out, 4)), "x");
    CHECK(json_is_null(json_array_get(json_array_get(out, 5), 0)));
    CHECK(json_is_object(json_array_get(out, 6)));
    json_decref(out);
}

TEST(rejects_malformed)
{
    char err[128];
    struct {
        const char *b;
        size_t n;
        const char *want;
    } cases[] = {
        {"", 0, "truncated"},
        {"\x92\x01", 2, "truncated at byte 1"},
        {"\x92\x01\x92", 3, "truncated at byte 3"},
        {"\xa5"
         "ab",
         3, "truncated"},
        {"\xdb\xff\xff\xff\xff", 5, "truncated"},
        {"\xdd\xff\xff\xff\xff", 5, "over limit"},
        {"\xdf\x00\x10\x00\x00", 5, "truncated"},
        {"\x81\x01\x02", 3, "not a string"},
        {"\x82\xa1"
         "a\x01\xa1"
         "a\x02",
         7, "duplicate"},
        {"\xc1", 1, "unsupported type 0xc1"},
        {"\xd4\x01\x02", 3, "unsupported type"},
        {"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, "above int64"},
        {"\xcb\x7f\xf8\0\0\0\0\0\0", 9, "non-finite"},
        {"\xa2\xc3\x28", 3, "UTF-8"},
        {"\xc4\x01\xff", 3, "UTF-8"},
        {"\x81\xa2"
         "a\0\x01",
         5, "invalid map key"},
        {"\x01\x02", 2, "trailing"},
        {"\xed\xa0\x80", 3, "trailing"},
        {"\xa3\xed\xa0\x80", 4, "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        CHECK_EQ_INT(s_unpack(cases[i].b, cases[i].n, err, sizeof err), PROTO_EBADREQUEST);
        CHECK_CONTAINS(err, cases[i].want);
    }
}

static char *s_nest(int depth, size_t *n)
{
    char *b = malloc((size_t)depth + 1);
    memset(b, 0x91, (size_t)depth);
    b[depth] = 0x01;
    *n = (size_t)depth + 1;
    return b;
}

TEST(depth_limit)
{
    char err[128];
    size_t n;
    char *b = s_nest(PROTO_MAX_DEPTH, &n);
    CHECK_EQ_INT(s_unpack(b, n, err, sizeof err), 0);
    free(b);
    b = s_nest(PROTO_MAX_DEPTH + 1, &n);
    CHECK_EQ_INT(s_unpack(b, n, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "nesting deeper than 64");
    free(b);
    b = s_nest(100000, &n);
    CHECK_EQ_INT(s_unpack(b, n, err, sizeof err), PROTO_EBADREQUEST);
    free(b);
    /* packing refuses the same depth */
    json_t *root = json_array(), *cur = root;
    for (int i = 1; i < PROTO_MAX_DEPTH + 1; i++) {
        json_t *c = json_array();
        json_array_append_new(cur, c);
        cur = c;
    }
    char *buf;
    CHECK_EQ_INT(proto_mp_pack(root, &buf, &n), PROTO_EINVALID);
    json_decref(root);
}

TEST(size_limit)
{
    char err[128];
    json_t *out = NULL;
    static const char b[1] = {0};
    CHECK_EQ_INT(proto_mp_unpack(b, (size_t)PROTO_MAX_MSG + 1, &out, err, sizeof err),
                 PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "over limit");
    CHECK(out == NULL);
}

TEST(null_err_buffer_ok)
{
    json_t *out = NULL;
    CHECK_EQ_INT(proto_mp_unpack("\x92", 1, &out, NULL, 0), PROTO_EBADREQUEST);
}

/* msgpack-c's own packer over a tree: the reference the writer must match. */
static void s_mpc_pack(msgpack_packer *pk, const json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        msgpack_pack_map(pk, (uint32_t)json_object_size(v));
        json_object_foreach((json_t *)v, k, x)
        {
            msgpack_pack_str(pk, strlen(k));
            msgpack_pack_str_body(pk, k, strlen(k));
            s_mpc_pack(pk, x);
        }
        break;
    case JSON_ARRAY:
        msgpack_pack_array(pk, (uint32_t)json_array_size(v));
        json_array_foreach(v, i, x) s_mpc_pack(pk, x);
        break;
    case JSON_STRING:
        msgpack_pack_str(pk, json_string_length(v));
        msgpack_pack_str_body(pk, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(v));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

/* What msgpack-c makes of v. */
static msgpack_sbuffer s_by_msgpack_c(const json_t *v)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, proto_mp_sbuffer_write);
    s_mpc_pack(&pk, v);
    return sb;
}

/* The direct writer makes msgpack-c's very bytes, at every size boundary
 * of every type, and appends to what the buffer holds. */
TEST(direct_writer_matches_msgpack_c)
{
    json_t *v = json_object();
    const long long ints[] = {0,         1,           127,         128,         255,
                              256,       65535,       65536,       4294967295LL, 4294967296LL,
                              INT64_MAX, -1,          -32,         -33,         -128,
                              -129,      -32768,      -32769,      INT32_MIN,   (long long)INT32_MIN - 1,
                              INT64_MIN};
    json_t *ia = json_array();
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        json_array_append_new(ia, json_integer(ints[i]));
    json_object_set_new(v, "ints", ia);
    json_t *sa = json_array();
    const size_t lens[] = {0, 31, 32, 255, 256, 65535, 65536};
    char *big = malloc(65536);
    memset(big, 'x', 65536);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        json_array_append_new(sa, json_stringn(big, lens[i]));
    json_object_set_new(v, "strs", sa);
    const size_t sizes[] = {0, 15, 16, 65535, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        json_t *a = json_array(), *m = json_object();
        for (size_t j = 0; j < sizes[i]; j++) {
            json_array_append_new(a, json_true());
            if (sizes[i] < 100) {
                char k[32];
                snprintf(k, sizeof k, "k%zu", j);
                json_object_set_new(m, k, json_null());
            }
        }
        char k[40];
        snprintf(k, sizeof k, "array%zu", sizes[i]);
        json_object_set_new(v, k, a);
        snprintf(k, sizeof k, "map%zu", sizes[i]);
        json_object_set_new(v, k, m);
    }
    json_object_set_new(v, "reals", json_pack("[f,f,f]", 0.5, -1e300, 3.0));
    json_object_set_new(v, "bools", json_pack("[b,b,n]", 1, 0));
    msgpack_sbuffer want = s_by_msgpack_c(v);
    proto_mp_wbuf_t b = {NULL, 0, 0};
    CHECK_EQ_INT(proto_mp_pack_wbuf(&b, v, 0), 0);
    REQUIRE(b.len == want.size);
    CHECK(memcmp(b.data, want.data, b.len) == 0);
    /* appended after what is there; the writer grows the caller's buffer */
    proto_mp_wbuf_t c = {malloc(8), 3, 8};
    memcpy(c.data, "abc", 3);
    CHECK_EQ_INT(proto_mp_pack_wbuf(&c, v, 0), 0);
    REQUIRE(c.len == want.size + 3);
    CHECK(memcmp(c.data, "abc", 3) == 0 && memcmp(c.data + 3, want.data, want.size) == 0);
    char *pb = NULL;
    size_t pl = 0;
    CHECK_EQ_INT(proto_mp_pack(v, &pb, &pl), 0);
    CHECK(pl == want.size && memcmp(pb, want.data, pl) == 0);
    free(pb);
    msgpack_sbuffer into; /* embedded with a packer of the caller's */
    msgpack_packer pk;
    msgpack_sbuffer_init(&into);
    msgpack_packer_init(&pk, &into, proto_mp_sbuffer_write);
    CHECK_EQ_INT(proto_mp_pack_into(&pk, v, 0), 0);
    CHECK(into.size == want.size && memcmp(into.data, want.data, into.size) == 0);
    msgpack_sbuffer_destroy(&into);
    free(c.data);
    free(b.data);
    msgpack_sbuffer_destroy(&want);
    free(big);
    json_decref(v);
}

TEST(direct_writer_depth_limit)
{
    json_t *v = json_array(), *cur = v;
    for (int i = 0; i < PROTO_MAX_DEPTH; i++) {
        json_t *n = json_array();
        json_array_append_new(cur, n);
        cur = n;
    }
    proto_mp_wbuf_t b = {NULL, 0, 0};
    CHECK_EQ_INT(proto_mp_pack_wbuf(&b, v, 0), PROTO_EINVALID);
    free(b.data);
    b = (proto_mp_wbuf_t){NULL, 0, 0};
    CHECK_EQ_INT(proto_mp_pack_wbuf(&b, json_array_get(v, 0), 0), 0); /* one level less */
    free(b.data);
    b = (proto_mp_wbuf_t){NULL, 0, 0};
    CHECK_EQ_INT(proto_mp_pack_wbuf(&b, NULL, 0), 0);
    CHECK(b.len == 1 && (unsigned char)b.data[0] == 0xc0);
    free(b.data);
    json_decref(v);
}

/* protocol/obj's dotted paths: keys and array indexes looked up in place. */
TEST(obj_paths_get_set_del)
{
    json_t *o = json_loads("{\"a\":{\"b\":[10,{\"c\":\"x\"}],\"k.d\":1}}", 0, NULL);
    REQUIRE(o != NULL);
    CHECK_EQ_INT((int)json_integer_value(proto_obj_get(o, "a.b.0")), 10);
    CHECK_EQ_STR(proto_obj_str(o, "a.b.1.c"), "x");
    CHECK(proto_obj_get(o, "a.b.2") == NULL);
    CHECK(proto_obj_get(o, "a.b.x") == NULL);
    CHECK(proto_obj_get(o, "a.b.-1") == NULL);
    CHECK(proto_obj_get(o, "a.bb") == NULL);
    CHECK(proto_obj_get(o, "a.b.0.z") == NULL);
    CHECK(proto_obj_get(o, "") == o);
    CHECK_EQ_INT(proto_obj_set(o, "a.n.m", json_integer(5)), 0); /* creates a.n */
    CHECK_EQ_INT((int)proto_obj_int(o, "a.n.m", 0), 5);
    CHECK_EQ_INT(proto_obj_set_str(o, "a.s", "v"), 0);
    CHECK_EQ_STR(proto_obj_str(o, "a.s"), "v");
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    CHECK_EQ_INT(proto_obj_set(o, longkey, json_true()), -EINVAL);
    proto_obj_del(o, "a.s");
    CHECK(proto_obj_get(o, "a.s") == NULL);
    json_decref(o);
}
