/*
 * tests/unit/test_b64.c — protocol/b64: RFC 4648's test vectors both ways,
 * optional padding, malformed input refused, and a round trip over every
 * length and byte value.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol/b64.h"
#include "tests/unit/test.h"

static const char *const s_vec[][2] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                       {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                       {"foobar", "Zm9vYmFy"}};

TEST(rfc_vectors)
{
    for (size_t i = 0; i < sizeof s_vec / sizeof s_vec[0]; i++) {
        char *e = proto_b64_encode(s_vec[i][0], strlen(s_vec[i][0]));
        CHECK_EQ_STR(e, s_vec[i][1]);
        free(e);
        size_t n = 99;
        char *d = proto_b64_decode(s_vec[i][1], strlen(s_vec[i][1]), &n);
        REQUIRE(d != NULL);
        CHECK_EQ_INT((long)n, (long)strlen(s_vec[i][0]));
        CHECK_EQ_STR(d, s_vec[i][0]);
        free(d);
    }
}

TEST(padding_optional)
{
    size_t n;
    char *d = proto_b64_decode("Zm9vYg", 6, &n);
    REQUIRE(d != NULL);
    CHECK_EQ_INT((long)n, 4);
    CHECK_EQ_STR(d, "foob");
    free(d);
}

TEST(malformed)
{
    const char *bad[] = {"Z", "Zm9vY", "Zm=v", "Zm9v!A==", "Zm9v\n", "=", "Zg=", "Z===", "Zm 9v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *d = proto_b64_decode(bad[i], strlen(bad[i]), NULL);
        CHECK(d == NULL);
        free(d);
    }
}

TEST(round_trip_all_bytes)
{
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof buf; len++) {
        char *e = proto_b64_encode(buf, len);
        CHECK_EQ_INT((long)strlen(e), (long)((len + 2) / 3 * 4));
        size_t n = 0;
        unsigned char *d = proto_b64_decode(e, strlen(e), &n);
        REQUIRE(d != NULL);
        CHECK_EQ_INT((long)n, (long)len);
        CHECK(memcmp(d, buf, len) == 0);
        free(d);
        free(e);
    }
}
