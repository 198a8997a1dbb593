/*
 * tests/unit/test_quantity — protocol/quantity: parsing, canonical text,
 * comparison and rounding, checked against outputs recorded from kubectl
 * (`kubectl set resources --local`, which round-trips a quantity through
 * resource.Quantity) and, when kubectl is installed, differentially against
 * it over a generated set of inputs.
 */
#include "tests/unit/test.h"

#include "protocol/quantity.h"
#include "protocol/status.h"

#include <errno.h>
#include <fcntl.h>

static char *s_fmt(const char *in)
{
    static char buf[128];
    proto_qty_t q;
    if (proto_qty_parse(in, &q) != 0)
        return "ERR";
    proto_qty_format(&q, buf, sizeof buf);
    return buf;
}

/* input, String() as kubectl v1.32 prints it */
static const char *s_known[][2] = {
    {"1.5", "1500m"}, {"0.5Gi", "512Mi"}, {"1000m", "1"}, {"1e3", "1e3"}, {"100M", "100M"},
    {"1024Ki", "1Mi"}, {"+1", "+1"}, {"01", "01"}, {"1.500k", "1.500k"}, {"1e40", "10e39"},
    {"0.1Ki", "102400m"}, {"1.1e-3", "1100e-6"}, {"1e-10", "1e-9"},
    {"9223372036854775808", "9223372036854775808"}, {"-1.5Gi", "-1536Mi"}, {".", "0"}, {"-", "0"},
    {"99999999999999999999999999999999", "99999999999999999999999999999999"},
    {"1.0000000000000000001", "1000000001n"}, {"0.1234567891234", "123456790n"},
    {"99999999999999999999Ki", "9223372036854775807"}, {"1.5e3", "1500"}, {"0.5e-9", "1e-9"},
    {"0", "0"}, {"0Mi", "0"}, {"128974848", "128974848"}, {"129e6", "129e6"}, {"123Mi", "123Mi"},
    {"1536Ki", "1536Ki"}, {"1e4", "10e3"}, {"100m", "100m"}, {"0.1", "100m"}, {"5e-3", "5e-3"},
    {"1Ki", "1Ki"}, {"1023Mi", "1023Mi"}, {"2048Ki", "2Mi"}, {"1E3", "1E3"}, {"12E", "12E"},
    {"Mi", "0"},
};

TEST(canonical_forms_recorded_from_kubectl)
{
    for (size_t i = 0; i < sizeof s_known / sizeof *s_known; i++)
        CHECK_EQ_STR(s_fmt(s_known[i][0]), s_known[i][1]);
}

TEST(errors_worded_as_kubernetes)
{
    const char *bad[] = {"", "abc", "1.5.5", "1Qi", "1e-3Ki", "--1", "1 ", " 1", "1i"};
    char err[256];
    proto_qty_t q;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ_INT(proto_qty_parse_err(bad[i], &q, err, sizeof err), PROTO_EINVALID);
        CHECK(strstr(err, "quantities must match the regular expression") ||
              strstr(err, "unable to parse quantity's suffix"));
    }
    CHECK_EQ_INT(proto_qty_parse_err("1e", &q, err, sizeof err), PROTO_EINVALID);
    CHECK_EQ_STR(err, "unable to parse quantity's suffix");
    CHECK_EQ_INT(proto_qty_parse_err("1Qi", &q, err, sizeof err), PROTO_EINVALID);
    CHECK_EQ_STR(err, "quantities must match the regular expression "
                      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    CHECK_EQ_INT(proto_qty_parse(NULL, &q), PROTO_EINVALID);
}

TEST(milli_and_value_round_up)
{
    proto_qty_t q;
    REQUIRE(proto_qty_parse("1.5", &q) == 0);
    CHECK_EQ_INT(proto_qty_milli(&q), 1500);
    CHECK_EQ_INT(proto_qty_value(&q), 2);
    REQUIRE(proto_qty_parse("100m", &q) == 0);
    CHECK_EQ_INT(proto_qty_value(&q), 1);
    CHECK_EQ_INT(proto_qty_milli(&q), 100);
    REQUIRE(proto_qty_parse("1n", &q) == 0);
    CHECK_EQ_INT(proto_qty_milli(&q), 1);
    REQUIRE(proto_qty_parse("-1.5m", &q) == 0);
    CHECK_EQ_INT(proto_qty_milli(&q), -2);
    REQUIRE(proto_qty_parse("128Mi", &q) == 0);
    CHECK_EQ_INT(proto_qty_value(&q), 134217728);
    REQUIRE(proto_qty_parse("1e40", &q) == 0);
    CHECK_EQ_INT(proto_qty_value(&q), INT64_MAX);
    REQUIRE(proto_qty_parse("-1e40", &q) == 0);
    CHECK_EQ_INT(proto_qty_milli(&q), INT64_MIN);
}

TEST(compare_add_sub)
{
    proto_qty_t a, b, c;
    REQUIRE(proto_qty_parse("1Gi", &a) == 0);
    REQUIRE(proto_qty_parse("1G", &b) == 0);
    CHECK_EQ_INT(proto_qty_cmp(&a, &b), 1);
    CHECK_EQ_INT(proto_qty_cmp(&b, &a), -1);
    REQUIRE(proto_qty_parse("1024Mi", &c) == 0);
    CHECK_EQ_INT(proto_qty_cmp(&a, &c), 0);
    REQUIRE(proto_qty_parse("500m", &a) == 0);
    REQUIRE(proto_qty_parse("1.5", &b) == 0);
    proto_qty_add(&a, &b);
    char buf[64];
    proto_qty_format(&a, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2");
    proto_qty_sub(&a, &b);
    proto_qty_sub(&a, &b);
    proto_qty_format(&a, buf, sizeof buf);
    CHECK_EQ_STR(buf, "-1");
    proto_qty_t z = {0};
    REQUIRE(proto_qty_parse("1Mi", &b) == 0);
    proto_qty_add(&z, &b);
    proto_qty_add(&z, &b);
    proto_qty_format(&z, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2Mi");
    CHECK_EQ_INT(proto_qty_format(&z, buf, 2), 3);
}

/* ---- differential against kubectl ---- */

static const char *s_gen[] = {
    "1", "10", "100", "1000", "1500", "0.5", "0.05", "0.001", "0.0000000001", "1.25", "2.5k", "1k",
    "1000k", "1500k", "0.5M", "3G", "4T", "5P", "6E", "7.5E", "1n", "10n", "1000n", "1u", "1500u",
    "1m", "999m", "1001m", "250m", "1Ki", "1.5Ki", "1025Ki", "8Ki", "1000Ki", "1Mi", "0.25Mi",
    "2.5Gi", "1Ti", "1Pi", "1Ei", "7Ei", "9Ei", "0.001Ki", "1e0", "1e1", "1e2", "1e6", "1e-1",
    "1e-2", "1e-9", "1e-12", "12e3", "1.5e6", "2E6", "1e+3", "-1", "-1.5", "-100m", "-1Ki",
    "-2048Ki", "-0", "+100m", "007", "0.0", "000Mi", "1.", "1.Ki", "123456789", "1234567890123",
    "123456789012345678", "1234567890123456789", "18446744073709551616", "0.000000001",
    "0.0000000015", "4096", "4096Ki", "16Mi", "1.000001", "3.14159", "1e18", "1e19", "9.9E",
    "1x", "1e3Ki", "Ki", "1..5", "+-1", "1e-", "1e+", "e3", "1kk", "1m5",
};

static int s_kubectl_fmt(const char *q, char *out, size_t n)
{
    char arg[256];
    snprintf(arg, sizeof arg, "--limits=memory=%s", q);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open("kc.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open("kc.err", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        setenv("HOME", t_tmpdir(), 1);
        execlp("kubectl", "kubectl", "set", "resources", "--local", "-f", "pod.json", arg, "-o",
               "jsonpath={.spec.containers[0].resources.limits.memory}", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    FILE *f = fopen("kc.out", "r");
    size_t r = f ? fread(out, 1, n - 1, f) : 0;
    out[r] = 0;
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(differential_against_kubectl)
{
    if (access("/usr/bin/kubectl", X_OK) != 0 && access("/usr/local/bin/kubectl", X_OK) != 0) {
        printf("# kubectl not installed: quantity differential test skipped\n");
        return;
    }
    FILE *f = fopen("pod.json", "w");
    REQUIRE(f);
    fputs("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\"},"
          "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
          f);
    fclose(f);
    int bad = 0;
    for (size_t i = 0; i < sizeof s_gen / sizeof *s_gen; i++) {
        char kc[256];
        int rc = s_kubectl_fmt(s_gen[i], kc, sizeof kc);
        const char *mine = s_fmt(s_gen[i]);
        bool kc_ok = rc == 0;
        if (kc_ok != (strcmp(mine, "ERR") != 0) || (kc_ok && strcmp(kc, mine) != 0)) {
            fprintf(stderr, "  %s: kubectl [%s] rc=%d, zkube [%s]\n", s_gen[i], kc, rc, mine);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}
