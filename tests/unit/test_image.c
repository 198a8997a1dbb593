/*
 * tests/unit/test_image — the local image store (actors/kubelet/image):
 * reference normalisation as Docker's, import of directories and tars,
 * resolve / list / remove, recipe builds (from a base, hard links, config
 * inheritance, no-op when inputs are unchanged, rebuild when they change),
 * atomic publication under parallel builders and readers, bad recipes and
 * bad references, and the `zkube image` command line. Each test works in
 * its own temporary directory (the cwd) with ZKUBE_IMAGES pointing there.
 */
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <sys/stat.h>

#include "actors/kubelet/image.h"
#include "protocol/obj.h"
#include "protocol/status.h"

static char s_store[PATH_MAX];

static void s_setup(void)
{
    snprintf(s_store, sizeof s_store, "%s/store", t_tmpdir());
    setenv("ZKUBE_IMAGES", s_store, 1);
}

static void s_write(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

/* dst = a + b, truncated (paths in these tests are short). */
static void s_join(char *dst, size_t n, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 1 > n)
        la = lb = 0;
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb);
    dst[la + lb] = 0;
}

static char *s_slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Runs `zkube image ARGS...` in a child; its stdout into *out (static). */
static int s_cli(char **out, ...)
{
    char *argv[16] = {"image"};
    int argc = 1;
    va_list ap;
    va_start(ap, out);
    for (char *a; argc < 15 && (a = va_arg(ap, char *));)
        argv[argc++] = a;
    va_end(ap);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("cli.out", "w", stdout) || !freopen("cli.err", "w", stderr))
            _exit(99);
        int rc = kubelet_image_main(argc, argv);
        fflush(NULL);
        _exit(rc);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (out)
        *out = s_slurp("cli.out");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A small rootfs directory: /bin/hello (0755) and /etc/msg. */
static void s_make_rootfs(const char *dir)
{
    char p[PATH_MAX];
    REQUIRE(mkdir(dir, 0755) == 0);
    s_join(p, sizeof p, dir, "/bin");
    REQUIRE(mkdir(p, 0755) == 0);
    s_join(p, sizeof p, dir, "/etc");
    REQUIRE(mkdir(p, 0755) == 0);
    s_join(p, sizeof p, dir, "/bin/hello");
    s_write(p, "#!/bin/sh\necho hello\n", 0755);
    s_join(p, sizeof p, dir, "/etc/msg");
    s_write(p, "base\n", 0644);
}

/* ---- normalisation ---------------------------------------------------- */

TEST(normalize_table)
{
    static const char *const cases[][2] = {
        {"busybox", "library/busybox:latest"},
        {"busybox:latest", "library/busybox:latest"},
        {"busybox:1.35", "library/busybox:1.35"},
        {"library/busybox", "library/busybox:latest"},
        {"docker.io/busybox", "library/busybox:latest"},
        {"docker.io/library/busybox:1.35", "library/busybox:1.35"},
        {"index.docker.io/luksa/kubia", "luksa/kubia:latest"},
        {"luksa/kubia", "luksa/kubia:latest"},
        {"luksa/kubia:latest", "luksa/kubia:latest"},
        {"docker.io/luksa/kubia:latest", "luksa/kubia:latest"},
        {"luksa/kubia-unhealthy", "luksa/kubia-unhealthy:latest"},
        {"localhost:5000/x/y:z", "localhost:5000/x/y:z"},
        {"localhost/x", "localhost/x:latest"},
        {"quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd:v3.5.0"},
        {"my.registry:443/a/b/c", "my.registry:443/a/b/c:latest"},
        {"a__b/c.d-e--f:T_a.g-1", "a__b/c.d-e--f:T_a.g-1"},
        {"docker.io/e.a/b", "docker.io/e.a/b:latest"}, /* stays unambiguous */
        {"docker.io/e.a", "library/e.a:latest"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[512] = "";
        int rc = kubelet_image_normalize(cases[i][0], out, sizeof out);
        if (rc != 0)
            T_FAIL("\"%s\": rc %d", cases[i][0], rc);
        CHECK_EQ_STR(out, cases[i][1]);
    }
}

TEST(normalize_rejects_bad_refs)
{
    static const char *const bad[] = {
        "",           "Busybox",         "busybox:",         ":latest",    "busybox@sha256:abc",
        "a//b",       "/busybox",        "busybox/",         "a/-b",       "a/b-",
        "a/.b",       "a/b..c",          "a/b___c",          "busybox:-x", "busybox:.x",
        "a b",        "busybox:la test", "../etc",           "a/../b",     "x:y:z",
        "-host.io/a", "host-.io/a",      "host.io:99999x/a", "busybox\n",  "bu\tsy",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[512] = "";
        int rc = kubelet_image_normalize(bad[i], out, sizeof out);
        if (rc != PROTO_EINVALID)
            T_FAIL("\"%s\" accepted as \"%s\" (rc %d)", bad[i], out, rc);
    }
    char tag[300], out[600];
    memset(tag, 'a', sizeof tag);
    memcpy(tag, "busybox:", 8);
    tag[sizeof tag - 1] = 0; /* a 291-character tag */
    CHECK_EQ_INT(kubelet_image_normalize(tag, out, sizeof out), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_image_normalize(NULL, out, sizeof out), PROTO_EINVALID);
}

TEST(store_location)
{
    char buf[PATH_MAX];
    setenv("ZKUBE_IMAGES", "/some/where", 1);
    CHECK_EQ_STR(kubelet_image_store(buf, sizeof buf), "/some/where");
    unsetenv("ZKUBE_IMAGES");
    setenv("ZKUBE_HOME", "/h", 1);
    kubelet_image_store(buf, sizeof buf);
    CHECK_EQ_STR(buf, geteuid() == 0 ? "/var/lib/zkube/images" : "/h/images");
}

/* ---- import, resolve, list, remove ------------------------------------- */

TEST(import_dir_resolve_list_rm)
{
    s_setup();
    s_make_rootfs("root");
    char err[512] = "", rootfs[PATH_MAX], p[PATH_MAX];
    json_t *cfg = kubelet_image_config_new(), *got = NULL;
    CHECK_EQ_INT(kubelet_image_config_set(cfg, "entrypoint", "/bin/hello --loud", err, sizeof err),
                 0);
    CHECK_EQ_INT(kubelet_image_config_set(cfg, "env", "A=1", err, sizeof err), 0);
    CHECK_EQ_INT(kubelet_image_import(s_store, "luksa/kubia", "root", cfg, err, sizeof err), 0);
    json_decref(cfg);
    const char *names[] = {"luksa/kubia", "luksa/kubia:latest", "docker.io/luksa/kubia:latest"};
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(kubelet_image_resolve(s_store, names[i], rootfs, sizeof rootfs, &got), 0);
        s_join(p, sizeof p, rootfs, "/bin/hello");
        struct stat st;
        CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0755);
        CHECK_EQ_STR(proto_obj_str(got, "entrypoint.0"), "/bin/hello");
        CHECK_EQ_STR(proto_obj_str(got, "entrypoint.1"), "--loud");
        CHECK_EQ_STR(proto_obj_str(got, "env.1"), "A=1");
        CHECK_EQ_STR(proto_obj_str(got, "workdir"), "/");
        json_decref(got);
    }
    CHECK_EQ_INT(kubelet_image_resolve(s_store, "luksa/kubia:v2", rootfs, sizeof rootfs, NULL),
                 PROTO_ENOTFOUND);
    CHECK_EQ_INT(kubelet_image_resolve(s_store, "Bad Ref", rootfs, sizeof rootfs, NULL),
                 PROTO_EINVALID);
    json_t *rows = kubelet_image_list(s_store);
    CHECK_EQ_INT(json_array_size(rows), 1);
    CHECK_EQ_STR(proto_obj_str(rows, "0.repository"), "luksa/kubia");
    CHECK_EQ_STR(proto_obj_str(rows, "0.tag"), "latest");
    CHECK(proto_obj_int(rows, "0.size", 0) == 26); /* "#!/bin/sh\necho hello\n" + "base\n" */
    json_decref(rows);
    CHECK_EQ_INT(kubelet_image_remove(s_store, "docker.io/luksa/kubia"), 0);
    CHECK_EQ_INT(kubelet_image_resolve(s_store, "luksa/kubia", rootfs, sizeof rootfs, NULL),
                 PROTO_ENOTFOUND);
    CHECK_EQ_INT(kubelet_image_remove(s_store, "luksa/kubia"), PROTO_ENOTFOUND);
    rows = kubelet_image_list(s_store);
    CHECK_EQ_INT(json_array_size(rows), 0);
    json_decref(rows);
}

TEST(import_tar_and_replace)
{
    s_setup();
    s_make_rootfs("root");
    REQUIRE(system("tar -czf root.tgz -C root . 2>/dev/null") == 0);
    char err[512] = "", rootfs[PATH_MAX], first[PATH_MAX], p[PATH_MAX];
    CHECK_EQ_INT(kubelet_image_import(s_store, "x/y:1", "root.tgz", NULL, err, sizeof err), 0);
    CHECK_EQ_INT(kubelet_image_resolve(s_store, "x/y:1", first, sizeof first, NULL), 0);
    s_join(p, sizeof p, first, "/etc/msg");
    CHECK_EQ_STR(s_slurp(p), "base\n");
    /* importing again under the same name replaces it; the old path stays whole */
    s_write("root/etc/msg", "second\n", 0644);
    CHECK_EQ_INT(kubelet_image_import(s_store, "x/y:1", "root", NULL, err, sizeof err), 0);
    CHECK_EQ_INT(kubelet_image_resolve(s_store, "x/y:1", rootfs, sizeof rootfs, NULL), 0);
    CHECK(strcmp(rootfs, first) != 0);
    s_join(p, sizeof p, rootfs, "/etc/msg");
    CHECK_EQ_STR(s_slurp(p), "second\n");
    s_join(p, sizeof p, first, "/etc/msg");
    CHECK_EQ_STR(s_slurp(p), "base\n");
    /* bad sources */
    CHECK(kubelet_image_import(s_store, "x/y:2", "nope", NULL, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "nope");
    s_write("junk.tar", "this is not a tar\n", 0644);
    CHECK(kubelet_image_import(s_store, "x/y:2", "junk.tar", NULL, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "tar failed");
    CHECK_EQ_INT(kubelet_image_resolve(s_store, "x/y:2", rootfs, sizeof rootfs, NULL),
                 PROTO_ENOTFOUND);
    CHECK(kubelet_image_import(s_store, "UPPER", "root", NULL, err, sizeof err) == PROTO_EINVALID);
}

/* ---- builds ------------------------------------------------------------- */

static const char s_base_recipe[] = "# a base\n"
                                    "name test/base\n"
                                    "copy root /\n"
                                    "mkdir /tmp 1777\n"
                                    "symlink /bin/hello /bin/hi\n"
                                    "touch /etc/hosts\n"
                                    "env GREETING=hello\n"
                                    "cmd [\"/bin/hello\", \"a b\"]\n"
                                    "workdir /etc\n";

static const char s_app_recipe[] = "name test/app:v1\n"
                                   "from test/base\n"
                                   "copy app.txt /app/app.txt\n"
                                   "entrypoint /bin/hello\n"
                                   "env GREETING=hi\n"
                                   "env OTHER=x=y\n";

static void s_build_ok(const char *dir, bool want_built)
{
    char err[512] = "", name[256];
    bool built = !want_built;
    int rc = kubelet_image_build(s_store, dir, name, sizeof name, &built, err, sizeof err);
    if (rc != 0)
        T_FAIL("build %s: %d %s", dir, rc, err);
    CHECK_EQ_INT(built, want_built);
}

static void s_make_recipes(void)
{
    s_make_rootfs("root");
    REQUIRE(mkdir("base", 0755) == 0 && mkdir("app", 0755) == 0);
    s_write("base/Recipe", s_base_recipe, 0644);
    s_write("app/Recipe", s_app_recipe, 0644);
    s_write("app.txt", "app v1\n", 0644);
}

TEST(build_from_base)
{
    s_setup();
    s_make_recipes();
    s_build_ok("base", true);
    s_build_ok("app", true);
    char base[PATH_MAX], app[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
    json_t *bc = NULL, *ac = NULL;
    REQUIRE(kubelet_image_resolve(s_store, "test/base", base, sizeof base, &bc) == 0);
    REQUIRE(kubelet_image_resolve(s_store, "test/app:v1", app, sizeof app, &ac) == 0);
    struct stat st, st2;
    s_join(p, sizeof p, base, "/tmp");
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777);
    s_join(p, sizeof p, base, "/bin/hi");
    char target[64] = "";
    CHECK(readlink(p, target, sizeof target - 1) > 0);
    CHECK_EQ_STR(target, "/bin/hello");
    CHECK_EQ_STR(proto_obj_str(bc, "cmd.1"), "a b");
    CHECK_EQ_STR(proto_obj_str(bc, "workdir"), "/etc");
    /* the app shares the base's files (hard links) and has its own */
    s_join(p, sizeof p, base, "/bin/hello");
    s_join(q, sizeof q, app, "/bin/hello");
    CHECK(stat(p, &st) == 0 && stat(q, &st2) == 0 && st.st_ino == st2.st_ino);
    s_join(q, sizeof q, app, "/app/app.txt");
    CHECK_EQ_STR(s_slurp(q), "app v1\n");
    s_join(q, sizeof q, app, "/etc/hosts");
    CHECK(stat(q, &st) == 0 && st.st_size == 0);
    /* config: inherited, env overridden, a new entrypoint drops the base's cmd */
    CHECK_EQ_STR(proto_obj_str(ac, "entrypoint.0"), "/bin/hello");
    CHECK_EQ_INT(json_array_size(json_object_get(ac, "cmd")), 0);
    CHECK_EQ_STR(proto_obj_str(ac, "workdir"), "/etc");
    CHECK_EQ_INT(json_array_size(json_object_get(ac, "env")), 3);
    CHECK_EQ_STR(proto_obj_str(ac, "env.1"), "GREETING=hi");
    CHECK_EQ_STR(proto_obj_str(ac, "env.2"), "OTHER=x=y");
    json_decref(bc);
    json_decref(ac);
}

TEST(rebuild_is_noop_until_inputs_change)
{
    s_setup();
    s_make_recipes();
    s_build_ok("base", true);
    s_build_ok("app", true);
    char v1[PATH_MAX], v2[PATH_MAX], p[PATH_MAX];
    REQUIRE(kubelet_image_resolve(s_store, "test/app:v1", v1, sizeof v1, NULL) == 0);
    s_build_ok("base", false);
    s_build_ok("app", false);
    REQUIRE(kubelet_image_resolve(s_store, "test/app:v1", v2, sizeof v2, NULL) == 0);
    CHECK_EQ_STR(v2, v1);
    /* a copied file changes: a new version; the old one stays readable */
    s_write("app.txt", "app v2\n", 0644);
    s_build_ok("app", true);
    REQUIRE(kubelet_image_resolve(s_store, "test/app:v1", v2, sizeof v2, NULL) == 0);
    CHECK(strcmp(v1, v2) != 0);
    s_join(p, sizeof p, v2, "/app/app.txt");
    CHECK_EQ_STR(s_slurp(p), "app v2\n");
    s_join(p, sizeof p, v1, "/app/app.txt");
    CHECK_EQ_STR(s_slurp(p), "app v1\n");
    /* a mode change and a base rebuild also count */
    chmod("app.txt", 0600);
    s_build_ok("app", true);
    s_build_ok("app", false);
    s_write("root/etc/msg", "base v2\n", 0644);
    s_build_ok("base", true);
    s_build_ok("app", true);
    REQUIRE(kubelet_image_resolve(s_store, "test/app:v1", v2, sizeof v2, NULL) == 0);
    s_join(p, sizeof p, v2, "/etc/msg");
    CHECK_EQ_STR(s_slurp(p), "base v2\n");
}

/* Several builders of one image at once, and a reader that must only ever
 * see no image or a whole one. */
TEST(parallel_builds_are_atomic)
{
    s_setup();
    s_make_recipes();
    s_build_ok("base", true);
    for (int i = 0; i < 200; i++) { /* enough files that a build takes a while */
        char p[64];
        snprintf(p, sizeof p, "root/etc/f%03d", i);
        s_write(p, "some content\n", 0644);
    }
    pid_t kids[5];
    for (int k = 0; k < 5; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            if (k == 0) { /* reader */
                int64_t end = proto_mono_ms() + 1500;
                while (proto_mono_ms() < end) {
                    char rootfs[PATH_MAX], p[PATH_MAX];
                    json_t *c = NULL;
                    int rc = kubelet_image_resolve(s_store, "test/base", rootfs, sizeof rootfs, &c);
                    s_join(p, sizeof p, rootfs, "/etc/msg");
                    if (rc != 0 || !c || access(p, F_OK) != 0)
                        _exit(1);
                    json_decref(c);
                }
                _exit(0);
            }
            char err[512], name[256];
            bool built;
            for (int round = 0; round < 3; round++) {
                if (kubelet_image_build(s_store, "base", name, sizeof name, &built, err,
                                        sizeof err) != 0)
                    _exit(2);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 5; k++) {
        int st = 0;
        waitpid(kids[k], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            T_FAIL("child %d: status %d", k, st);
    }
    json_t *rows = kubelet_image_list(s_store);
    CHECK_EQ_INT(json_array_size(rows), 1);
    json_decref(rows);
    char rootfs[PATH_MAX], p[PATH_MAX];
    REQUIRE(kubelet_image_resolve(s_store, "test/base", rootfs, sizeof rootfs, NULL) == 0);
    s_join(p, sizeof p, rootfs, "/etc/f199");
    CHECK(access(p, F_OK) == 0);
}

static void s_bad_recipe(const char *text, const char *want)
{
    char err[512] = "";
    bool built = true;
    s_write("bad/Recipe", text, 0644);
    int rc = kubelet_image_build(s_store, "bad", NULL, 0, &built, err, sizeof err);
    if (rc >= 0)
        T_FAIL("recipe accepted: %s", text);
    CHECK_CONTAINS(err, want);
    CHECK_EQ_INT(built, 0);
}

TEST(bad_recipes)
{
    s_setup();
    s_make_recipes();
    REQUIRE(mkdir("bad", 0755) == 0);
    s_bad_recipe("copy root /\n", "no \"name\" line");
    s_bad_recipe("name x\nfrobnicate a\n", "Recipe:2: unknown directive \"frobnicate\"");
    s_bad_recipe("name x\ncopy root\n", "Recipe:2: copy SRC DEST");
    s_bad_recipe("name x\ncopy nothere /x\n", "nothere");
    s_bad_recipe("name Not/Valid\n", "Recipe:1: malformed image reference");
    s_bad_recipe("name x\nfrom nothere\n", "no such image");
    s_bad_recipe("name x\ncopy root /\nfrom test/base\n", "from must come before every step");
    s_bad_recipe("name x\ncopy app.txt /../../escape\n", "invalid");
    s_bad_recipe("name x\ncopy app.txt relative\n", "invalid");
    s_bad_recipe("name x\nenv =bad\n", "NAME=VALUE");
    s_bad_recipe("name x\nworkdir relative\n", "absolute");
    s_bad_recipe("name x\ncmd [\"a\", 1]\n", "JSON array of strings");
    s_bad_recipe("name x\nmkdir /d 99\n", "mkdir");
    s_bad_recipe("name x\nentrypoint\n", "missing argument");
    CHECK(access("escape", F_OK) != 0);
    char err[512] = "";
    bool built;
    CHECK(kubelet_image_build(s_store, "nodir", NULL, 0, &built, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "nodir: No such file");
    json_t *rows = kubelet_image_list(s_store);
    CHECK_EQ_INT(json_array_size(rows), 0);
    json_decref(rows);
}

/* A base image whose /etc is a symlink leading out of the rootfs: a derived
 * recipe must not write through it. */
TEST(build_refuses_escaping_symlinks)
{
    s_setup();
    REQUIRE(mkdir("evil", 0755) == 0 && mkdir("outside", 0755) == 0);
    char link_to[PATH_MAX];
    snprintf(link_to, sizeof link_to, "%s/outside", t_tmpdir());
    REQUIRE(symlink(link_to, "evil/etc") == 0);
    char err[512] = "";
    REQUIRE(kubelet_image_import(s_store, "evil", "evil", NULL, err, sizeof err) == 0);
    REQUIRE(mkdir("d", 0755) == 0);
    s_write("f", "x\n", 0644);
    s_write("d/Recipe", "name d\nfrom evil\ncopy f /etc/passwd\n", 0644);
    bool built;
    CHECK(kubelet_image_build(s_store, "d", NULL, 0, &built, err, sizeof err) < 0);
    CHECK(access("outside/passwd", F_OK) != 0);
}

/* ---- the command line ---------------------------------------------------- */

TEST(cli_build_ls_rm)
{
    s_setup();
    s_make_recipes();
    char *out = NULL;
    CHECK_EQ_INT(s_cli(&out, "build", "base", "app", NULL), 0);
    CHECK_CONTAINS(out, "test/base:latest: built");
    CHECK_CONTAINS(out, "test/app:v1: built");
    CHECK_EQ_INT(s_cli(&out, "build", "base", NULL), 0);
    CHECK_CONTAINS(out, "test/base:latest: up to date");
    CHECK_EQ_INT(s_cli(&out, "import", "busybox", "root", "--cmd", "sh", NULL), 0);
    CHECK_EQ_INT(s_cli(&out, "ls", NULL), 0);
    CHECK(out && !strncmp(out, "REPOSITORY ", 11));
    CHECK_CONTAINS(out, "TAG");
    CHECK_CONTAINS(out, "IMAGE ID");
    CHECK_CONTAINS(out, "CREATED");
    CHECK_CONTAINS(out, "SIZE");
    CHECK_CONTAINS(out, "\nbusybox ");
    CHECK_CONTAINS(out, "\ntest/app ");
    CHECK_CONTAINS(out, " v1 ");
    CHECK_CONTAINS(out, "ago");
    CHECK_CONTAINS(out, "B\n");
    CHECK_EQ_INT(s_cli(&out, "inspect", "docker.io/library/busybox", NULL), 0);
    CHECK_CONTAINS(out, "\"name\": \"library/busybox:latest\"");
    CHECK_CONTAINS(out, "/rootfs\"");
    CHECK_CONTAINS(out, "\"sh\"");
    CHECK_EQ_INT(s_cli(&out, "inspect", "nothere", NULL), 1);
    CHECK_EQ_INT(s_cli(&out, "rm", "busybox:latest", NULL), 0);
    CHECK_CONTAINS(out, "Untagged: busybox:latest");
    CHECK_EQ_INT(s_cli(&out, "rm", "busybox", NULL), 1);
    CHECK_CONTAINS(s_slurp("cli.err"), "No such image: busybox");
    CHECK_EQ_INT(s_cli(&out, "ls", NULL), 0);
    CHECK(!strstr(out, "busybox"));
    CHECK_EQ_INT(s_cli(&out, "import", "x", "root", "--bogus", "1", NULL), 1);
    CHECK_CONTAINS(s_slurp("cli.err"), "unknown option --bogus");
    CHECK_EQ_INT(s_cli(&out, "frob", NULL), 2);
    CHECK_EQ_INT(s_cli(&out, NULL), 2);
    CHECK_EQ_INT(s_cli(&out, "--help", NULL), 0);
    CHECK_CONTAINS(out, "zkube image build");
}
