/*
 * tests/unit/test.h — zkube's unit test harness (header-only; one per test
 * binary). Each TEST runs in its own process with a timeout, in a fresh
 * temporary directory (cwd) that is removed afterwards. Checks print both
 * values. Output is one line per test, "ok - NAME" or "not ok - NAME",
 * which tests/run.sh counts.
 *
 *   #include "tests/unit/test.h"
 *   TEST(parses_empty) { CHECK_EQ_INT(parse(""), 0); }
 */
#ifndef ZK_TESTS_TEST_H
#define ZK_TESTS_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*t_fn)(void);
static struct {
    const char *name;
    t_fn fn;
} t_tests[512];
static int t_ntests;
static int t_failed_here;
static char t_dir[256];

static inline void t_register(const char *name, t_fn fn)
{
    if (t_ntests < 512)
        t_tests[t_ntests++] = (__typeof__(t_tests[0])){name, fn};
}

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void t_reg_##name(void)                                    \
    {                                                                                              \
        t_register(#name, name);                                                                   \
    }                                                                                              \
    static void name(void)

#define T_FAIL(...)                                                                                \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        t_failed_here = 1;                                                                         \
    } while (0)

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            T_FAIL("CHECK(%s) failed", #c);                                                        \
    } while (0)
#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            T_FAIL("REQUIRE(%s) failed", #c);                                                      \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long t_a = (long long)(a), t_b = (long long)(b);                                      \
        if (t_a != t_b)                                                                            \
            T_FAIL("%s == %s: %lld != %lld", #a, #b, t_a, t_b);                                    \
    } while (0)
#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *t_a = (a), *t_b = (b);                                                         \
        if (!t_a || !t_b || strcmp(t_a, t_b) != 0)                                                 \
            T_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, t_a ? t_a : "(null)",                     \
                   t_b ? t_b : "(null)");                                                          \
    } while (0)
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *t_h = (hay), *t_n = (needle);                                                  \
        if (!t_h || !t_n || !strstr(t_h, t_n))                                                     \
            T_FAIL("\"%s\" does not contain \"%s\"", t_h ? t_h : "(null)", t_n);                   \
    } while (0)

static int t_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* The test's temporary directory (also its cwd). */
static inline const char *t_tmpdir(void)
{
    return t_dir;
}

static int t_run_one(int i, int timeout_s)
{
    snprintf(t_dir, sizeof t_dir, "/tmp/zkt-XXXXXX");
    if (!mkdtemp(t_dir)) {
        perror("mkdtemp");
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(t_dir) != 0)
            _exit(3);
        alarm((unsigned)timeout_s);
        t_tests[i].fn();
        fflush(NULL);
        _exit(t_failed_here ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    nftw(t_dir, t_rm, 16, FTW_DEPTH | FTW_PHYS);
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "  %s: killed by signal %d%s\n", t_tests[i].name, WTERMSIG(st),
                WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
        return 1;
    }
    return WEXITSTATUS(st) != 0;
}

int main(int argc, char **argv)
{
    int timeout = getenv("ZK_TEST_TIMEOUT") ? atoi(getenv("ZK_TEST_TIMEOUT")) : 60;
    int passed = 0, failed = 0;
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    for (int i = 0; i < t_ntests; i++) {
        if (argc > 1 && !strstr(t_tests[i].name, argv[1]))
            continue;
        int bad = t_run_one(i, timeout);
        printf("%s - %s.%s\n", bad ? "not ok" : "ok", base, t_tests[i].name);
        fflush(stdout);
        bad ? failed++ : passed++;
    }
    fprintf(stderr, "%s: %d passed, %d failed\n", base, passed, failed);
    return failed ? 1 : 0;
}

#endif
