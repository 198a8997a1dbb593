/*
 * tests/unit/test_config — runtime/config: home resolution, the config file,
 * the ZKUBE_BROKER override, endpoint derivation and its limits, rt_path and
 * rt_config_mkdirs.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/config.h"

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

static void s_env(const char *home)
{
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
}

TEST(default_broker_is_ipc_under_home)
{
    s_env("h");
    rt_config_t cfg;
    char err[256] = "";
    REQUIRE(rt_config_load(&cfg, err, sizeof err) == 0);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/h", t_tmpdir());
    CHECK_EQ_STR(cfg.home, want); /* relative home made absolute */
    snprintf(want, sizeof want, "ipc://%s/h/run/broker", t_tmpdir());
    CHECK_EQ_STR(cfg.broker, want);
    CHECK_EQ_STR(cfg.curve_dir, "");
}

TEST(home_defaults_to_dot_zkube)
{
    unsetenv("ZKUBE_HOME");
    unsetenv("ZKUBE_BROKER");
    setenv("HOME", t_tmpdir(), 1);
    rt_config_t cfg;
    REQUIRE(rt_config_load(&cfg, NULL, 0) == 0);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/.zkube", t_tmpdir());
    CHECK_EQ_STR(cfg.home, want);
}

TEST(config_file_and_env_override)
{
    s_env(t_tmpdir());
    s_write("config", "# a comment\n\n broker = tcp://127.0.0.1:7000 \ncurve_dir=/k\nother=1\n");
    rt_config_t cfg;
    char err[256] = "";
    REQUIRE(rt_config_load(&cfg, err, sizeof err) == 0);
    CHECK_EQ_STR(cfg.broker, "tcp://127.0.0.1:7000");
    CHECK_EQ_STR(cfg.curve_dir, "/k");
    setenv("ZKUBE_BROKER", "tcp://127.0.0.1:9000", 1);
    REQUIRE(rt_config_load(&cfg, err, sizeof err) == 0);
    CHECK_EQ_STR(cfg.broker, "tcp://127.0.0.1:9000");
}

TEST(bad_config_lines_are_refused)
{
    s_env(t_tmpdir());
    s_write("config", "broker tcp://x\n");
    rt_config_t cfg;
    char err[256] = "";
    CHECK_EQ_INT(rt_config_load(&cfg, err, sizeof err), -EINVAL);
    CHECK_CONTAINS(err, "config:1");
    s_write("config", "broker=udp://x:1\n");
    CHECK_EQ_INT(rt_config_load(&cfg, err, sizeof err), -EINVAL);
    CHECK_CONTAINS(err, "udp://x:1");
}

TEST(endpoints_ipc_and_tcp)
{
    rt_endpoints_t e;
    REQUIRE(rt_endpoints_from("ipc:///r/broker", &e) == 0);
    CHECK_EQ_STR(e.router, "ipc:///r/broker.router");
    CHECK_EQ_STR(e.pub, "ipc:///r/broker.pub");
    CHECK_EQ_STR(e.sub, "ipc:///r/broker.sub");
    CHECK_EQ_STR(e.tap, "ipc:///r/broker.tap");
    REQUIRE(rt_endpoints_from("tcp://10.0.0.1:5550", &e) == 0);
    CHECK_EQ_STR(e.router, "tcp://10.0.0.1:5550");
    CHECK_EQ_STR(e.pub, "tcp://10.0.0.1:5551");
    CHECK_EQ_STR(e.sub, "tcp://10.0.0.1:5552");
    CHECK_EQ_STR(e.tap, "tcp://10.0.0.1:5553");
}

TEST(endpoints_malformed)
{
    rt_endpoints_t e;
    const char *bad[] = {"", "ipc://", "tcp://host", "tcp://:1", "tcp://h:0", "tcp://h:65534",
                         "tcp://h:12x", "inproc://x", "tcp://h:-5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(rt_endpoints_from(bad[i], &e), -EINVAL);
    CHECK_EQ_INT(rt_endpoints_from(NULL, &e), -EINVAL);
}

TEST(ipc_path_limit)
{
    char base[300] = "ipc:///";
    memset(base + 7, 'a', 100 - 7 - 7); /* path of 94 bytes: with ".router" 101 */
    base[100 - 7] = '\0';
    rt_endpoints_t e;
    CHECK_EQ_INT(rt_endpoints_from(base, &e), 0);
    memset(base + 7, 'a', 120);
    base[127] = '\0';
    CHECK_EQ_INT(rt_endpoints_from(base, &e), -ENAMETOOLONG);
    char home[200] = "/";
    memset(home + 1, 'b', 110);
    home[111] = '\0';
    s_env(home);
    rt_config_t cfg;
    char err[256] = "";
    CHECK_EQ_INT(rt_config_load(&cfg, err, sizeof err), -ENAMETOOLONG);
    CHECK_CONTAINS(err, "longer than 107");
}

TEST(path_and_mkdirs)
{
    s_env("deep/home");
    rt_config_t cfg;
    REQUIRE(rt_config_load(&cfg, NULL, 0) == 0);
    CHECK_EQ_INT(rt_config_mkdirs(&cfg), 0);
    CHECK_EQ_INT(rt_config_mkdirs(&cfg), 0); /* idempotent */
    char p[PATH_MAX];
    const char *subs[] = {"data", "run", "logs", "images", "keys"};
    for (int i = 0; i < 5; i++) {
        struct stat st;
        REQUIRE(rt_path(&cfg, subs[i], p, sizeof p) == p);
        CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    }
    char small[8];
    CHECK(rt_path(&cfg, "run/x.pid", small, sizeof small) == NULL);
}
