/*
 * tests/unit/test_spec — the cluster spec (runtime/spec.c): a good spec and
 * its defaults (pod CIDRs per kubelet host), every refusal naming file and
 * field, the CIDR helpers, and `zkube up --spec` / `zkube certs` through the
 * supervisor's entry points (config and keys written, bad specs refused
 * before anything starts); the example specs in deploy/ stay valid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/manifest.h"
#include "protocol/status.h"
#include "runtime/config.h"
#include "runtime/spec.h"
#include "runtime/supervisor.h"
#include "test.h"

static const char *s_good = "cluster: lab\n"
                            "broker: tcp://10.250.0.1:7100\n"
                            "curve: true\n"
                            "podCIDR: 10.201.0.0/16\n"
                            "nodeLifecycle: {gracePeriod: 8s, evictionTimeout: 2s}\n"
                            "hosts:\n"
                            "- name: cp\n"
                            "  address: 10.250.0.1\n"
                            "  actors: [broker, apiserver, gateway, scheduler, controllers]\n"
                            "- name: w1\n"
                            "  address: 10.250.0.2\n"
                            "  actors: [kubelet]\n"
                            "- name: w2\n"
                            "  address: 10.250.0.3\n"
                            "  driver: hollow\n"
                            "  actors: [kubelet, controller-replicaset]\n";

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

/* Parses text as spec "t.yaml"; returns the code, err filled. */
static int s_parse(const char *text, rt_spec_t **out, char *err, size_t errlen)
{
    json_t *docs = NULL;
    int rc = proto_manifest_parse(text, strlen(text), "t.yaml", &docs, err, errlen);
    if (rc == 0)
        rc = rt_spec_parse(json_array_get(docs, 0), "t.yaml", out, err, errlen);
    json_decref(docs);
    return rc;
}

/* The good spec with one substring replaced; the error must contain want. */
static void s_refused(const char *from, const char *to, const char *want)
{
    char text[2048], err[512] = "";
    const char *at = strstr(s_good, from);
    REQUIRE(at);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - s_good), s_good, to, at + strlen(from));
    rt_spec_t *s = NULL;
    CHECK_EQ_INT(s_parse(text, &s, err, sizeof err), PROTO_EINVALID);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "t.yaml: ");
    CHECK_CONTAINS(err, want);
}

TEST(good_spec_and_defaults)
{
    char err[512] = "";
    rt_spec_t *s = NULL;
    REQUIRE(s_parse(s_good, &s, err, sizeof err) == 0);
    CHECK_EQ_STR(s->cluster, "lab");
    CHECK_EQ_STR(s->broker, "tcp://10.250.0.1:7100");
    CHECK(s->curve);
    CHECK_EQ_STR(s->grace, "8s");
    CHECK_EQ_STR(s->eviction, "2s");
    REQUIRE(s->nhosts == 3);
    const rt_spec_host_t *cp = rt_spec_host(s, "cp"), *w1 = rt_spec_host(s, "w1");
    const rt_spec_host_t *w2 = rt_spec_host(s, "w2");
    REQUIRE(cp && w1 && w2);
    CHECK(rt_spec_host(s, "w3") == NULL);
    CHECK_EQ_STR(cp->address, "10.250.0.1");
    CHECK_EQ_STR(cp->pod_cidr, "");
    CHECK_EQ_STR(w1->pod_cidr, "10.201.1.0/24");
    CHECK_EQ_STR(w2->pod_cidr, "10.201.2.0/24");
    CHECK_EQ_STR(w2->driver, "hollow");
    CHECK(rt_spec_runs(cp, "broker"));
    CHECK(rt_spec_runs(cp, "controller-node-lifecycle"));
    CHECK(!rt_spec_runs(cp, "kubelet"));
    CHECK(rt_spec_runs(w2, "controller-replicaset"));
    CHECK(!rt_spec_runs(w2, "controller-replicationcontroller"));
    rt_spec_destroy(&s);
    CHECK(s == NULL);
    rt_spec_destroy(&s); /* NULL is fine */
}

TEST(explicit_pod_cidr_is_kept)
{
    char err[512] = "", text[2048];
    snprintf(text, sizeof text, "%s  podCIDR: 10.201.9.0/24\n", s_good);
    rt_spec_t *s = NULL;
    REQUIRE(s_parse(text, &s, err, sizeof err) == 0);
    CHECK_EQ_STR(rt_spec_host(s, "w2")->pod_cidr, "10.201.9.0/24");
    CHECK_EQ_STR(rt_spec_host(s, "w1")->pod_cidr, "10.201.1.0/24");
    rt_spec_destroy(&s);
}

TEST(refusals_name_the_field)
{
    s_refused("cluster: lab\n", "", "cluster: Required value");
    s_refused("cluster: lab", "cluster: Lab_1", "cluster: Invalid value \"Lab_1\"");
    s_refused("tcp://10.250.0.1:7100", "http://x", "broker: Invalid value \"http://x\"");
    s_refused("tcp://10.250.0.1:7100", "tcp://10.250.0.1:65534", "broker: Invalid value");
    s_refused("curve: true", "curve: maybe", "curve: expected true or false");
    s_refused("10.201.0.0/16", "10.201.0.0/24", "podCIDR: Invalid value \"10.201.0.0/24\"");
    s_refused("10.201.0.0/16", "10.201.0.1/16", "podCIDR: Invalid value");
    s_refused("gracePeriod: 8s", "gracePeriod: soon",
              "nodeLifecycle.gracePeriod: invalid duration");
    s_refused("gracePeriod: 8s", "grace: 8s", "nodeLifecycle.grace: unknown field");
    s_refused("curve: true\n", "curve: true\nextra: 1\n", "extra: unknown field");
    s_refused("- name: w1\n", "- name: W1\n", "hosts[1].name: Invalid value \"W1\"");
    s_refused("- name: w1\n", "- name: cp\n", "hosts[1].name: Duplicate value: \"cp\"");
    s_refused("  actors: [kubelet]\n", "  actors: [kubelett]\n",
              "hosts[1].actors[0]: unknown actor \"kubelett\"");
    s_refused("  actors: [kubelet]\n", "  actors: kubelet\n", "hosts[1].actors: expected a list");
    s_refused("  actors: [kubelet]\n", "  actors: [kubelet, kubelet]\n",
              "hosts[1].actors[1]: Duplicate value");
    s_refused("  actors: [kubelet]\n", "", "hosts[1].actors: Required value");
    s_refused("  driver: hollow\n", "  driver: docker\n", "hosts[2].driver: Unsupported value");
    s_refused("  address: 10.250.0.1\n", "  address: 10.250.0.300\n",
              "hosts[0].address: Invalid value");
    s_refused("  address: 10.250.0.1\n", "  address: 10.250.0.1\n  podCIDR: 10.201.5.0/24\n",
              "hosts[0].podCIDR: only a host that runs a kubelet");
    s_refused("  driver: hollow\n", "  podCIDR: 10.9.0.0/24\n",
              "hosts[2].podCIDR: Invalid value \"10.9.0.0/24\": not inside");
    s_refused("  driver: hollow\n", "  podCIDR: 10.201.1.0/24\n",
              "hosts[2].podCIDR: 10.201.1.0/24 overlaps hosts[1]");
    s_refused("  driver: hollow\n", "  port: 1\n", "hosts[2].port: unknown field");
    s_refused("[broker, apiserver,", "[apiserver,", "hosts: exactly one host must run the broker");
    s_refused("[kubelet]", "[kubelet, apiserver]", "exactly one host must run the apiserver");
    s_refused("tcp://10.250.0.1:7100", "ipc:///tmp/b",
              "broker: an ipc:// broker cannot be reached");
    s_refused("  address: 10.250.0.2\n", "", "hosts[1].address: Required value");
}

TEST(refused_documents)
{
    char err[512] = "";
    rt_spec_t *s = NULL;
    CHECK_EQ_INT(s_parse("- 1\n", &s, err, sizeof err), PROTO_EINVALID);
    CHECK_CONTAINS(err, "expected a map");
    CHECK_EQ_INT(s_parse("cluster: a\nbroker: tcp://h:1\npodCIDR: 10.0.0.0/8\nhosts: []\n", &s, err,
                         sizeof err),
                 PROTO_EINVALID);
    CHECK_CONTAINS(err, "hosts: expected a non-empty list");
    s_write("two.yaml", "cluster: a\n---\ncluster: b\n");
    CHECK_EQ_INT(rt_spec_load("two.yaml", &s, err, sizeof err), PROTO_EINVALID);
    CHECK_CONTAINS(err, "two.yaml: expected one YAML document, found 2");
    CHECK(rt_spec_load("missing.yaml", &s, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "missing.yaml");
    s_write("bad.yaml", "cluster: [\n");
    CHECK_EQ_INT(rt_spec_load("bad.yaml", &s, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "bad.yaml:");
    CHECK(s == NULL);
    s_write("good.yaml", s_good);
    REQUIRE(rt_spec_load("good.yaml", &s, err, sizeof err) == 0);
    rt_spec_destroy(&s);
}

TEST(cidr_helpers)
{
    uint32_t net;
    int len;
    CHECK_EQ_INT(rt_cidr_parse("10.201.0.0/16", &net, &len), 0);
    CHECK(net == 0x0ac90000u && len == 16);
    CHECK_EQ_INT(rt_cidr_parse("0.0.0.0/0", &net, &len), 0);
    static const char *bad[] = {"10.201.0.1/16",   "10.201.0.0",   "10.201.0.0/33", "10.201.0/16",
                                "10.201.0.0.0/16", "010.1.0.0/16", "10.256.0.0/16", "x/8",
                                "10.0.0.0/",       "10.0.0.0/-1",  "10.0.0.0/8x",   "",
                                "10.0.0.0/123",    "0.0.0.0/01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rt_cidr_parse(bad[i], &net, &len) != -EINVAL)
            T_FAIL("accepted %s", bad[i]);
    CHECK(rt_cidr_within("10.201.3.0/24", "10.201.0.0/16"));
    CHECK(rt_cidr_within("10.201.0.0/16", "10.201.0.0/16"));
    CHECK(!rt_cidr_within("10.202.3.0/24", "10.201.0.0/16"));
    CHECK(!rt_cidr_within("10.0.0.0/8", "10.201.0.0/16"));
    CHECK(!rt_cidr_within("garbage", "10.201.0.0/16"));
}

/* zkube up --spec for a host name the spec does not have: refused before
 * anything starts, config untouched. */
TEST(up_refuses_unknown_host_and_bad_spec)
{
    char home[PATH_MAX], cfgp[PATH_MAX + 16];
    snprintf(home, sizeof home, "%s/home", t_tmpdir());
    setenv("ZKUBE_HOME", home, 1);
    s_write("good.yaml", s_good);
    char *a1[] = {"up", "--spec", "good.yaml", "--host", "w9", NULL};
    CHECK_EQ_INT(rt_sup_up(5, a1), 1);
    snprintf(cfgp, sizeof cfgp, "%s/config", home);
    struct stat st;
    CHECK(stat(cfgp, &st) != 0);
    char *a2[] = {"up", "--spec", "good.yaml", NULL};
    CHECK_EQ_INT(rt_sup_up(3, a2), 2); /* --spec needs --host */
    char *a3[] = {"up", "--spec", "good.yaml", "--host", "cp", "--nodes", "3", NULL};
    CHECK_EQ_INT(rt_sup_up(7, a3), 2);
}

TEST(certs_writes_keys)
{
    char home[PATH_MAX], p[PATH_MAX + 32], err[256];
    snprintf(home, sizeof home, "%s/home", t_tmpdir());
    setenv("ZKUBE_HOME", home, 1);
    char *argv[] = {"certs", NULL};
    REQUIRE(rt_sup_certs(1, argv) == 0);
    unsigned char k1[32], k2[32];
    snprintf(p, sizeof p, "%s/keys", home);
    REQUIRE(rt_curve_read(p, "client.pub", k1, err, sizeof err) == 0);
    REQUIRE(rt_curve_read(p, "broker.key", k2, err, sizeof err) == 0);
    struct stat st;
    snprintf(p, sizeof p, "%s/keys/client.key", home);
    REQUIRE(stat(p, &st) == 0);
    CHECK_EQ_INT((int)(st.st_mode & 0777), 0600);
    REQUIRE(rt_sup_certs(1, argv) == 0); /* keeps the keys it made */
    snprintf(p, sizeof p, "%s/keys", home);
    unsigned char again[32];
    REQUIRE(rt_curve_read(p, "client.pub", again, err, sizeof err) == 0);
    CHECK(!memcmp(k1, again, 32));
    char *dirv[] = {"certs", "--dir", "other", NULL};
    CHECK_EQ_INT(rt_sup_certs(3, dirv), 0);
    CHECK(rt_curve_read("other", "broker.pub", k1, err, sizeof err) == 0);
    char *bad[] = {"certs", "--bogus", NULL};
    CHECK_EQ_INT(rt_sup_certs(2, bad), 2);
}

/* The example specs in deploy/ stay valid (found from this binary's path,
 * build/tests/test_spec, since tests run in a temporary folder). */
TEST(deploy_examples_are_valid)
{
    char exe[PATH_MAX], path[PATH_MAX + 64], err[512] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    REQUIRE(n > 0);
    exe[n] = '\0';
    char *cut = strstr(exe, "/build/tests/");
    REQUIRE(cut);
    *cut = '\0';
    static const char *files[] = {"cluster-lab.yaml", "cluster-local.yaml"};
    for (size_t i = 0; i < 2; i++) {
        rt_spec_t *s = NULL;
        snprintf(path, sizeof path, "%s/deploy/%s", exe, files[i]);
        if (rt_spec_load(path, &s, err, sizeof err) != 0)
            T_FAIL("%s", err);
        rt_spec_destroy(&s);
    }
}
