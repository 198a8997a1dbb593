/*
 * tests/unit/test_runc — the runc driver. Pure parts everywhere: CIDRs,
 * interface names, file IPAM, OCI config generation, the command runner.
 * As root with runc installed (root_* tests, skipped otherwise, each in a
 * network namespace of its own so the host's interfaces are never
 * touched): two busybox httpd pods through the driver API — distinct pod
 * IPs, HTTP from the node and from the other pod, exec, exit codes, a
 * driver restart (adoption), and a cleanup that leaves no interface,
 * mount, cgroup or process behind; and start-up time against bare runc.
 */
#include "tests/unit/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "actors/kubelet/runc.h"
#include "protocol/obj.h"
#include "protocol/status.h"

/* ---- pure: addresses, names, IPAM ---------------------------------------------- */

TEST(cidr_parse)
{
    kl_cidr_t c;
    CHECK_EQ_INT(kubelet_net_parse_cidr("10.123.1.0/24", &c), 0);
    CHECK_EQ_INT(c.net, 0x0a7b0100);
    CHECK_EQ_INT(c.prefix, 24);
    CHECK_EQ_INT(kubelet_net_parse_cidr("10.123.0.0/16", &c), 0);
    CHECK_EQ_INT(c.prefix, 16);
    CHECK_EQ_INT(kubelet_net_parse_cidr("10.123.1.5/24", &c), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_net_parse_cidr("10.123.1.0", &c), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_net_parse_cidr("10.123.1.0/33", &c), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_net_parse_cidr("10.123.1.0/-1", &c), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_net_parse_cidr("300.1.1.0/24", &c), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_net_parse_cidr("", &c), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_net_parse_cidr(NULL, &c), PROTO_EINVALID);
    char a[16];
    kubelet_net_ntoa(0x0a7b0102, a);
    CHECK_EQ_STR(a, "10.123.1.2");
}

TEST(interface_names_fit_and_differ)
{
    kl_cidr_t n1, n2;
    kubelet_net_parse_cidr("10.199.1.0/24", &n1);
    kubelet_net_parse_cidr("10.199.2.0/24", &n2);
    char b1[16], b2[16], b3[16], v1[16], v2[16];
    kubelet_net_bridge_name("ab12", &n1, b1);
    kubelet_net_bridge_name("ab12", &n2, b2);
    kubelet_net_bridge_name("cd34", &n1, b3);
    kubelet_net_veth_name("ab12", 0x0ac70102, v1);
    kubelet_net_veth_name("ab12", 0x0ac70103, v2);
    CHECK(strlen(b1) <= 15 && strlen(v1) <= 15);
    CHECK(strcmp(b1, b2) && strcmp(b1, b3) && strcmp(v1, v2) && strcmp(b1, v1));
    CHECK_EQ_STR(v1, "zkab12v0ac70102");
    kubelet_net_bridge_name("a-very-long-tag!", &n1, b1); /* truncated, still legal */
    CHECK(strlen(b1) <= 15);
}

TEST(ipam_alloc_release_restart)
{
    kl_cidr_t c;
    kubelet_net_parse_cidr("10.50.3.0/29", &c); /* .2 … .6 usable */
    uint32_t a = 0, b = 0, again = 0, x = 0;
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-a", &a), 0);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-b", &b), 0);
    CHECK_EQ_INT(a, 0x0a320302);
    CHECK_EQ_INT(b, 0x0a320303);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-a", &again), 0); /* idempotent */
    CHECK_EQ_INT(again, a);
    CHECK_EQ_INT(kubelet_ipam_find("ipam", "pod-b", &x), 0);
    CHECK_EQ_INT(x, b);
    CHECK_EQ_INT(kubelet_ipam_find("ipam", "nobody", &x), PROTO_ENOTFOUND);
    CHECK_EQ_INT(kubelet_ipam_release("ipam", "pod-a"), 0);
    CHECK_EQ_INT(kubelet_ipam_release("ipam", "pod-a"), 0);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-c", &x), 0);
    CHECK_EQ_INT(x, 0x0a320304); /* round robin: a freed address is not reused at once */
    uint32_t y;
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-d", &y), 0);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-e", &y), 0);
    CHECK_EQ_INT(y, 0x0a320306);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-f", &y), 0); /* wraps to the freed .2 */
    CHECK_EQ_INT(y, 0x0a320302);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "pod-g", &y), -ENOSPC);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "../evil", &y), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam", &c, "", &y), PROTO_EINVALID);
    kl_cidr_t tiny;
    kubelet_net_parse_cidr("10.50.4.0/31", &tiny);
    CHECK_EQ_INT(kubelet_ipam_alloc("ipam2", &tiny, "pod-a", &y), PROTO_EINVALID);
}

/* ---- pure: OCI config ------------------------------------------------------------ */

static json_t *s_pod(const char *extra_container, const char *extra_spec)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"metadata\": {\"name\": \"web\", \"namespace\": \"default\", \"uid\": \"u-1\"},"
             " \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"busybox\"%s}]%s}}",
             extra_container, extra_spec);
    json_error_t e;
    json_t *p = json_loads(buf, 0, &e);
    if (!p)
        fprintf(stderr, "bad test json: %s\n", e.text);
    return p;
}

static json_t *s_args(const char *extra, const char *image_cfg, char *const *env)
{
    json_t *pod = s_pod(extra, ""), *out = NULL;
    json_t *img = image_cfg ? json_loads(image_cfg, 0, NULL) : NULL;
    char err[256] = "";
    int rc =
        kubelet_oci_args(proto_obj_get(pod, "spec.containers.0"), img, env, &out, err, sizeof err);
    json_decref(pod);
    json_decref(img);
    if (rc < 0) {
        json_t *e = json_pack("{s:s}", "error", err);
        return e;
    }
    return out;
}

static char *s_dump(json_t *j)
{
    static char buf[4096];
    char *s = json_dumps(j, JSON_COMPACT);
    snprintf(buf, sizeof buf, "%s", s ? s : "null");
    free(s);
    json_decref(j);
    return buf;
}

TEST(oci_args_combine_like_kubernetes)
{
    const char *img = "{\"entrypoint\": [\"/ep\"], \"cmd\": [\"c1\", \"c2\"]}";
    char *env[] = {"NAME=world", NULL};
    CHECK_EQ_STR(s_dump(s_args("", img, env)), "[\"/ep\",\"c1\",\"c2\"]");
    CHECK_EQ_STR(s_dump(s_args(", \"args\": [\"a\"]", img, env)), "[\"/ep\",\"a\"]");
    CHECK_EQ_STR(s_dump(s_args(", \"command\": [\"/x\"]", img, env)), "[\"/x\"]");
    CHECK_EQ_STR(s_dump(s_args(", \"command\": [\"/x\"], \"args\": [\"y\"]", img, env)),
                 "[\"/x\",\"y\"]");
    CHECK_EQ_STR(
        s_dump(s_args(", \"command\": [\"echo\", \"hi $(NAME) $(NOPE) $$(NAME)\"]", img, env)),
        "[\"echo\",\"hi world $(NOPE) $(NAME)\"]");
    CHECK_CONTAINS(s_dump(s_args("", "{}", env)), "no command");
    CHECK_CONTAINS(s_dump(s_args(", \"command\": [1]", img, env)), "not a list of strings");
}

static json_t *s_config(const char *extra_container, const char *extra_spec, char *err,
                        size_t errlen, int *rc)
{
    json_t *pod = s_pod(extra_container, extra_spec);
    json_t *img = json_loads("{\"cmd\": [\"sh\"], \"env\": [\"PATH=/img\", \"A=img\"],"
                             " \"workdir\": \"/srv\"}",
                             0, NULL);
    char *env[] = {"A=pod", "B=2", NULL};
    kl_container_spec_t spec = {.pod = pod,
                                .container = proto_obj_get(pod, "spec.containers.0"),
                                .id = "u-1-c-0",
                                .rootfs = "/images/busybox",
                                .image_config = img,
                                .env = env,
                                .log_path = "/logs/c.log",
                                .volumes_dir = "/vols",
                                .hosts_path = "/p/hosts",
                                .resolv_path = "/p/resolv.conf"};
    kl_oci_in_t in = {.spec = &spec,
                      .root_path = "/b/rootfs",
                      .netns = "/s/ns/net",
                      .ipcns = "/s/ns/ipc",
                      .utsns = "/s/ns/uts",
                      .cgroups_path = "/zkube-t/podu-1/x",
                      .nofile = 4096};
    json_t *out = NULL;
    *rc = kubelet_oci_config(&in, &out, err, errlen);
    json_decref(pod);
    json_decref(img);
    return out;
}

static json_t *s_mount_at(const json_t *cfg, const char *dst)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(cfg, "mounts"), i, m)
    {
        if (!strcmp(proto_obj_str(m, "destination") ?: "", dst))
            return m;
    }
    return NULL;
}

TEST(oci_config_process_root_namespaces)
{
    char err[256] = "";
    int rc;
    json_t *c = s_config("", "", err, sizeof err, &rc);
    REQUIRE(rc == 0 && c);
    CHECK_EQ_STR(proto_obj_str(c, "ociVersion"), "1.0.2");
    CHECK(json_is_false(proto_obj_get(c, "process.terminal")));
    CHECK_EQ_INT(proto_obj_int(c, "process.user.uid", -1), 0);
    CHECK_EQ_STR(proto_obj_str(c, "process.args.0"), "sh");
    CHECK_EQ_STR(proto_obj_str(c, "process.cwd"), "/srv");
    CHECK_EQ_STR(s_dump(json_incref(proto_obj_get(c, "process.env"))),
                 "[\"PATH=/img\",\"A=pod\",\"HOSTNAME=web\",\"B=2\"]");
    CHECK_EQ_INT(proto_obj_int(c, "process.rlimits.0.hard", 0), 4096);
    CHECK_CONTAINS(s_dump(json_incref(proto_obj_get(c, "process.capabilities.bounding"))),
                   "\"CAP_NET_BIND_SERVICE\"");
    CHECK_EQ_STR(proto_obj_str(c, "root.path"), "/b/rootfs");
    CHECK_EQ_STR(proto_obj_str(c, "hostname"), "web");
    CHECK_EQ_STR(proto_obj_str(c, "linux.cgroupsPath"), "/zkube-t/podu-1/x");
    const char *ns = s_dump(json_incref(proto_obj_get(c, "linux.namespaces")));
    CHECK_CONTAINS(ns, "{\"type\":\"pid\"}");
    CHECK_CONTAINS(ns, "{\"type\":\"mount\"}");
    CHECK_CONTAINS(ns, "{\"type\":\"network\",\"path\":\"/s/ns/net\"}");
    CHECK_CONTAINS(ns, "{\"type\":\"ipc\",\"path\":\"/s/ns/ipc\"}");
    CHECK_CONTAINS(ns, "{\"type\":\"uts\",\"path\":\"/s/ns/uts\"}");
    CHECK_EQ_STR(proto_obj_str(s_mount_at(c, "/etc/hosts"), "source"), "/p/hosts");
    CHECK_EQ_STR(proto_obj_str(s_mount_at(c, "/etc/resolv.conf"), "source"), "/p/resolv.conf");
    CHECK_EQ_STR(proto_obj_str(s_mount_at(c, "/proc"), "type"), "proc");
    CHECK_CONTAINS(s_dump(json_incref(s_mount_at(c, "/sys"))), "\"ro\"");
    CHECK(s_mount_at(c, "/dev/pts") && s_mount_at(c, "/dev/shm") && s_mount_at(c, "/dev/mqueue"));
    CHECK(!proto_obj_get(c, "linux.resources.memory"));
    json_decref(c);
}

TEST(oci_config_resources_and_volumes)
{
    char err[256] = "";
    int rc;
    json_t *c = s_config(
        ", \"resources\": {\"limits\": {\"cpu\": \"500m\", \"memory\": \"64Mi\"}},"
        " \"workingDir\": \"/w\", \"securityContext\": {\"capabilities\": {\"drop\": [\"NET_RAW\"],"
        " \"add\": [\"SYS_TIME\"]}},"
        " \"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/data\"},"
        " {\"name\": \"host\", \"mountPath\": \"/h\", \"readOnly\": true, \"subPath\": \"sub\"}]",
        ", \"volumes\": [{\"name\": \"data\", \"emptyDir\": {}},"
        " {\"name\": \"host\", \"hostPath\": {\"path\": \"/srv/x\"}}]",
        err, sizeof err, &rc);
    REQUIRE(rc == 0 && c);
    CHECK_EQ_INT(proto_obj_int(c, "linux.resources.cpu.quota", 0), 50000);
    CHECK_EQ_INT(proto_obj_int(c, "linux.resources.cpu.period", 0), 100000);
    CHECK_EQ_INT(proto_obj_int(c, "linux.resources.cpu.shares", 0), 512);
    CHECK_EQ_INT(proto_obj_int(c, "linux.resources.memory.limit", 0), 64 * 1024 * 1024);
    CHECK_EQ_STR(proto_obj_str(c, "process.cwd"), "/w");
    const char *caps = s_dump(json_incref(proto_obj_get(c, "process.capabilities.effective")));
    CHECK(!strstr(caps, "CAP_NET_RAW"));
    CHECK_CONTAINS(caps, "CAP_SYS_TIME");
    json_t *d = s_mount_at(c, "/data"), *h = s_mount_at(c, "/h");
    CHECK_EQ_STR(proto_obj_str(d, "source"), "/vols/emptyDir/data");
    CHECK_EQ_STR(proto_obj_str(h, "source"), "/srv/x/sub");
    CHECK(!strstr(s_dump(json_incref(d)), "\"ro\""));
    CHECK_CONTAINS(s_dump(json_incref(h)), "\"ro\"");
    json_decref(c);
}

TEST(oci_config_refuses_bad_input)
{
    char err[256] = "";
    int rc;
    json_t *c = s_config(", \"volumeMounts\": [{\"name\": \"nope\", \"mountPath\": \"/d\"}]", "",
                         err, sizeof err, &rc);
    CHECK_EQ_INT(rc, PROTO_EINVALID);
    CHECK(!c);
    CHECK_CONTAINS(err, "nope");
    c = s_config(", \"volumeMounts\": [{\"name\": \"v\", \"mountPath\": \"/d\","
                 " \"subPath\": \"../../etc\"}]",
                 ", \"volumes\": [{\"name\": \"v\", \"emptyDir\": {}}]", err, sizeof err, &rc);
    CHECK_EQ_INT(rc, PROTO_EINVALID);
    c = s_config(", \"volumeMounts\": [{\"name\": \"v\", \"mountPath\": \"rel\"}]",
                 ", \"volumes\": [{\"name\": \"v\", \"emptyDir\": {}}]", err, sizeof err, &rc);
    CHECK_EQ_INT(rc, PROTO_EINVALID);
    c = s_config(", \"resources\": {\"limits\": {\"memory\": \"lots\"}}", "", err, sizeof err, &rc);
    CHECK_EQ_INT(rc, PROTO_EINVALID);
    CHECK_CONTAINS(err, "quantity");
}

/* ---- pure-ish: the command runner ---------------------------------------------- */

TEST(cmd_captures_output_status_and_times_out)
{
    char out[256];
    int st = -1;
    char *const echo[] = {"echo", "hello", NULL};
    CHECK_EQ_INT(kubelet_runc_cmd(echo, NULL, NULL, 5000, out, sizeof out, &st), 0);
    CHECK_EQ_STR(out, "hello\n");
    char *const cat[] = {"cat", NULL};
    CHECK_EQ_INT(kubelet_runc_cmd(cat, NULL, "from stdin", 5000, out, sizeof out, &st), 0);
    CHECK_EQ_STR(out, "from stdin");
    char *const fail[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
    CHECK_EQ_INT(kubelet_runc_cmd(fail, NULL, NULL, 5000, out, sizeof out, &st), -EIO);
    CHECK_EQ_INT(st, 3);
    CHECK_EQ_STR(out, "oops\n");
    char err[512];
    CHECK_EQ_INT(kubelet_runc_cmd_err(fail, NULL, NULL, 5000, err, sizeof err), -EIO);
    CHECK_CONTAINS(err, "`sh -c echo oops >&2; exit 3` failed (exit 3): oops");
    char *const slow[] = {"sleep", "5", NULL};
    int64_t t0 = proto_mono_ms();
    CHECK_EQ_INT(kubelet_runc_cmd(slow, NULL, NULL, 200, NULL, 0, &st), -ETIMEDOUT);
    CHECK(proto_mono_ms() - t0 < 2000);
    char *const nope[] = {"/nonexistent/zk", NULL};
    CHECK_EQ_INT(kubelet_runc_cmd(nope, NULL, NULL, 2000, NULL, 0, &st), -EIO);
    CHECK_EQ_INT(st, 127);
    char small[4];
    char *const big[] = {"echo", "0123456789", NULL};
    CHECK_EQ_INT(kubelet_runc_cmd(big, NULL, NULL, 2000, small, sizeof small, &st), 0);
    CHECK_EQ_STR(small, "012");
}

TEST(cgroup_path)
{
    char p[256];
    kubelet_cg_path("ab12", "u-1", "u-1-c-0", p, sizeof p);
    CHECK_EQ_STR(p, "/zkube-ab12/podu-1/u-1-c-0");
    CHECK_EQ_INT(kubelet_cg_remove("", NULL), -EINVAL);
    CHECK_EQ_INT(kubelet_cg_remove("a/b", NULL), -EINVAL);
}

/* ---- root: real containers --------------------------------------------------------- */

static char s_busybox[256];

/* Root, runc, ip and a static busybox; else the test passes as skipped. */
static bool s_root_ready(const char *test)
{
    char p[256];
    bool ok = geteuid() == 0 && kubelet_runc_which("runc", p, sizeof p) == 0 &&
              kubelet_runc_which("ip", p, sizeof p) == 0 &&
              kubelet_runc_which("busybox", s_busybox, sizeof s_busybox) == 0;
    if (!ok)
        fprintf(stderr, "  %s: skipped (needs root, runc, ip, busybox)\n", test);
    return ok;
}

/* A network namespace of this test process alone, with lo up — unless
 * tests/e2e/runc_driver.sh already runs us in one it made
 * (ZK_TEST_NETNS=1) and inspects it afterwards. */
static void s_own_netns(void)
{
    if (!getenv("ZK_TEST_NETNS"))
        REQUIRE(unshare(CLONE_NEWNET) == 0);
    char *const lo[] = {"ip", "link", "set", "lo", "up", NULL};
    REQUIRE(kubelet_runc_cmd(lo, NULL, NULL, 5000, NULL, 0, NULL) == 0);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

/* A busybox image at ./image/rootfs. */
static void s_make_image(void)
{
    static const char *applets[] = {"sh",       "httpd", "wget", "sleep", "echo", "cat", "ls",
                                    "hostname", "ip",    "true", "false", "head", NULL};
    char *const mk[] = {"mkdir",
                        "-p",
                        "image/rootfs/bin",
                        "image/rootfs/etc",
                        "image/rootfs/proc",
                        "image/rootfs/dev",
                        "image/rootfs/sys",
                        "image/rootfs/tmp",
                        NULL};
    REQUIRE(kubelet_runc_cmd(mk, NULL, NULL, 5000, NULL, 0, NULL) == 0);
    char *const cp[] = {"cp", s_busybox, "image/rootfs/bin/busybox", NULL};
    REQUIRE(kubelet_runc_cmd(cp, NULL, NULL, 5000, NULL, 0, NULL) == 0);
    for (int i = 0; applets[i]; i++) {
        char l[256];
        snprintf(l, sizeof l, "image/rootfs/bin/%s", applets[i]);
        REQUIRE(symlink("busybox", l) == 0);
    }
}

typedef struct {
    char tag[8];
    char state[512];
    const char *node;     /* default "n1" */
    const char *pod_cidr; /* default 10.231.1.0/24 */
    kl_driver_config_t cfg;
} s_env_t;

static s_env_t *s_atexit_env[2];

/* A failed REQUIRE exits: undo everything the drivers made even then. */
static void s_atexit_cleanup(void)
{
    char err[256];
    for (int i = 0; i < 2; i++)
        if (s_atexit_env[i])
            kubelet_runc_cleanup(&s_atexit_env[i]->cfg, err, sizeof err);
}

static kubelet_driver_t *s_open(s_env_t *e)
{
    if (!s_atexit_env[0])
        atexit(s_atexit_cleanup);
    for (int i = 0; i < 2; i++)
        if (s_atexit_env[i] == e || !s_atexit_env[i]) {
            s_atexit_env[i] = e;
            break;
        }
    const char *fixed = getenv("ZK_TEST_TAG");
    if (!e->tag[0] && fixed && strlen(fixed) < sizeof e->tag)
        snprintf(e->tag, sizeof e->tag, "%s", fixed);
    if (!e->tag[0])
        snprintf(e->tag, sizeof e->tag, "%04x", (unsigned)(getpid() ^ time(NULL)) & 0xffff);
    if (!e->node) {
        e->node = "n1";
        e->pod_cidr = "10.231.1.0/24";
    }
    snprintf(e->state, sizeof e->state, "%s/state-%s", t_tmpdir(), e->node);
    e->cfg = (kl_driver_config_t){.node = e->node,
                                  .state_dir = e->state,
                                  .pod_cidr = e->pod_cidr,
                                  .cluster_cidr = "10.231.0.0/16",
                                  .cluster_tag = e->tag};
    kubelet_driver_t *d = NULL;
    char err[512] = "";
    int rc = kubelet_driver_runc(&d, &e->cfg, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "  open: %s\n", err);
    REQUIRE(rc == 0 && d);
    return d;
}

static json_t *s_test_pod(const char *name)
{
    char uid[64];
    snprintf(uid, sizeof uid, "t%d-%s", (int)getpid(), name);
    return json_pack("{s:{s:s, s:s, s:s}, s:{s:[{s:s, s:s}]}}", "metadata", "name", name,
                     "namespace", "default", "uid", uid, "spec", "volumes", "name", "www",
                     "emptyDir", "medium", "");
}

/* Starts container name of pod with command cmd (a JSON array text) and
 * extra container fields (JSON members text, may be ""). */
static int s_start_x(kubelet_driver_t *d, json_t *pod, const char *name, const char *cmd,
                     const char *extra, char *id, size_t idlen)
{
    char ctext[1024], dir[512], vols[600], hosts[600], resolv[600], log[600], err[512] = "";
    const char *pn = proto_obj_name(pod);
    snprintf(ctext, sizeof ctext,
             "{\"name\": \"%s\", \"command\": %s, \"volumeMounts\": [{\"name\": \"www\","
             " \"mountPath\": \"/www\"}]%s}",
             name, cmd, extra);
    json_t *c = json_loads(ctext, 0, NULL);
    snprintf(id, idlen, "%s-%s-0", proto_obj_uid(pod), name);
    snprintf(dir, sizeof dir, "%s/%s", t_tmpdir(), pn);
    mkdir(dir, 0755);
    snprintf(vols, sizeof vols, "%s/volumes", dir);
    snprintf(hosts, sizeof hosts, "%s/hosts", dir);
    snprintf(resolv, sizeof resolv, "%s/resolv.conf", dir);
    snprintf(log, sizeof log, "%s/%s.log", dir, name);
    s_write(hosts, "127.0.0.1 localhost\n");
    s_write(resolv, "nameserver 10.231.255.10\n");
    char rootfs[600];
    snprintf(rootfs, sizeof rootfs, "%s/image/rootfs", t_tmpdir());
    kl_container_spec_t s = {.pod = pod,
                             .container = c,
                             .id = id,
                             .rootfs = rootfs,
                             .log_path = log,
                             .volumes_dir = vols,
                             .hosts_path = hosts,
                             .resolv_path = resolv};
    int rc = d->ops->container_start(d, &s, err, sizeof err);
    if (rc < 0 && rc != PROTO_EEXISTS)
        fprintf(stderr, "  start %s: %s (%d)\n", id, err, rc);
    json_decref(c);
    return rc;
}

static int s_start(kubelet_driver_t *d, json_t *pod, const char *name, const char *cmd, char *id,
                   size_t idlen)
{
    return s_start_x(d, pod, name, cmd, "", id, idlen);
}

/* Polls a container until it reaches state want (10 s at most). */
static kl_status_t s_await(kubelet_driver_t *d, const char *id, kl_state_t want)
{
    kl_status_t st = {0};
    int64_t deadline = proto_mono_ms() + 10000;
    while (proto_mono_ms() < deadline) {
        if (d->ops->container_status(d, id, &st) == 0 && st.state == want)
            break;
        usleep(20000);
    }
    return st;
}

/* curl from this test's namespace until the body contains want (10 s). */
static bool s_http(const char *ip, const char *want)
{
    char url[96], out[512];
    snprintf(url, sizeof url, "http://%s:8080/", ip);
    char *const curl[] = {"curl", "-s", "--max-time", "2", url, NULL};
    int64_t deadline = proto_mono_ms() + 10000;
    while (proto_mono_ms() < deadline) {
        if (kubelet_runc_cmd(curl, NULL, NULL, 3000, out, sizeof out, NULL) == 0 &&
            strstr(out, want))
            return true;
        usleep(50000);
    }
    fprintf(stderr, "  curl %s: \"%s\"\n", url, out);
    return false;
}

/* Nothing of ours in the mount table. */
static bool s_no_mounts(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096];
    bool clean = true;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, t_tmpdir())) {
            fprintf(stderr, "  left mounted: %s", line);
            clean = false;
        }
    if (f)
        fclose(f);
    return clean;
}

/* Only lo left in the test's namespace. */
static bool s_only_lo(void)
{
    char out[2048];
    char *const ls[] = {"ip", "-o", "link", "show", NULL};
    if (kubelet_runc_cmd(ls, NULL, NULL, 5000, out, sizeof out, NULL) < 0)
        return false;
    int lines = 0;
    for (char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    if (lines != 1 || !strstr(out, ": lo:"))
        fprintf(stderr, "  links left:\n%s", out);
    return lines == 1 && strstr(out, ": lo:");
}

/* Alive and not a zombie (an exited shim may wait for an ancestor to reap it). */
static bool s_proc_alive(int pid)
{
    char p[64], buf[512] = "";
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return false;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = 0;
    fclose(f);
    char *c = strrchr(buf, ')');
    return c && c[1] == ' ' && c[2] != 'Z' && c[2] != 'X';
}

static int s_shim_of(const s_env_t *e, const char *id)
{
    char p[1024], buf[32] = "";
    snprintf(p, sizeof p, "%s/containers/%s/shim.pid", e->state, id);
    FILE *f = fopen(p, "r");
    if (f && !fgets(buf, sizeof buf, f))
        buf[0] = 0;
    if (f)
        fclose(f);
    return atoi(buf);
}

static void s_cleanup_all(s_env_t *e, kubelet_driver_t **d)
{
    char err[512] = "";
    (*d)->ops->destroy(d);
    int rc = kubelet_runc_cleanup(&e->cfg, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "  cleanup: %s\n", err);
    CHECK_EQ_INT(rc, 0);
}

/* container_exec_start in a running container: stdin, stdout and stderr
 * apart, the exit status from the runc process; then with a terminal. */
static void s_exec_start_checks(kubelet_driver_t *d, const char *id)
{
    int in[2], out[2], errp[2], fds[3];
    char err[256] = "", buf[256] = "";
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, in) == 0 && pipe(out) == 0 && pipe(errp) == 0);
    fds[0] = in[0];
    fds[1] = out[1];
    fds[2] = errp[1];
    char *const cmd[] = {"sh", "-c", "read x; echo got:$x; echo e >&2; exit 5", NULL};
    kl_exec_t x;
    REQUIRE(d->ops->container_exec_start(d, id, cmd, fds, false, &x, err, sizeof err) == 0);
    close(in[0]);
    close(out[1]);
    close(errp[1]);
    CHECK(x.pid > 0 && x.pidfile[0]);
    CHECK_EQ_INT((int)write(in[1], "hi\n", 3), 3);
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    CHECK_EQ_STR(buf, "got:hi\n");
    n = read(errp[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    CHECK_EQ_STR(buf, "e\n");
    int st = 0;
    CHECK_EQ_INT(waitpid(x.pid, &st, 0), x.pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
    close(in[1]);
    close(out[0]);
    close(errp[0]);
    unlink(x.pidfile);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    char name[64];
    REQUIRE(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0 && ptsname_r(m, name, sizeof name) == 0);
    int sl = open(name, O_RDWR | O_NOCTTY);
    REQUIRE(sl >= 0);
    fds[0] = fds[1] = fds[2] = sl;
    char *const tty[] = {"sh", "-c", "test -t 0 && test -t 2 && echo on-a-terminal", NULL};
    REQUIRE(d->ops->container_exec_start(d, id, tty, fds, true, &x, err, sizeof err) == 0);
    close(sl);
    size_t got = 0;
    for (int64_t end = proto_mono_ms() + 5000; !strstr(buf, "terminal") && proto_mono_ms() < end;) {
        n = read(m, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
    }
    CHECK_CONTAINS(buf, "on-a-terminal");
    CHECK_EQ_INT(waitpid(x.pid, &st, 0), x.pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(m);
    unlink(x.pidfile);
}

TEST(as_root_two_pods_network_exec_exit_adopt_cleanup)
{
    if (!s_root_ready("root_two_pods"))
        return;
    s_own_netns();
    s_make_image();
    s_env_t e = {0};
    kubelet_driver_t *d = s_open(&e);
    json_t *pa = s_test_pod("pod-a"), *pb = s_test_pod("pod-b");
    char ipa[64] = "", ipb[64] = "", again[64] = "", err[512] = "";
    REQUIRE(d->ops->sandbox_create(d, pa, ipa, err, sizeof err) == 0);
    REQUIRE(d->ops->sandbox_create(d, pb, ipb, err, sizeof err) == 0);
    CHECK(d->ops->sandbox_create(d, pa, again, err, sizeof err) == 0); /* idempotent */
    CHECK_EQ_STR(again, ipa);
    CHECK(strncmp(ipa, "10.231.1.", 9) == 0 && strncmp(ipb, "10.231.1.", 9) == 0);
    CHECK(strcmp(ipa, ipb) != 0);
    CHECK(strcmp(ipa, "10.231.1.1") != 0 && strcmp(ipb, "10.231.1.1") != 0);

    /* each pod serves its own page from an emptyDir */
    char www[600];
    snprintf(www, sizeof www, "mkdir -p pod-a/volumes/emptyDir/www pod-b/volumes/emptyDir/www");
    char *const mk[] = {"sh", "-c", www, NULL};
    REQUIRE(kubelet_runc_cmd(mk, NULL, NULL, 5000, NULL, 0, NULL) == 0);
    s_write("pod-a/volumes/emptyDir/www/index.html", "hello from pod A\n");
    s_write("pod-b/volumes/emptyDir/www/index.html", "hello from pod B\n");
    char ida[256], idb[256], idj[256];
    const char *httpd = "[\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]";
    REQUIRE(s_start(d, pa, "web", httpd, ida, sizeof ida) == 0);
    REQUIRE(s_start(d, pb, "web", httpd, idb, sizeof idb) == 0);
    CHECK_EQ_INT(s_start(d, pb, "web", httpd, idb, sizeof idb), PROTO_EEXISTS);
    kl_status_t sa = s_await(d, ida, KL_STATE_RUNNING);
    CHECK_EQ_INT(sa.state, KL_STATE_RUNNING);
    CHECK(sa.pid > 0 && sa.started_at > 0);

    /* HTTP from the node's namespace, and from pod B to pod A */
    CHECK(s_http(ipa, "hello from pod A"));
    CHECK(s_http(ipb, "hello from pod B"));
    char url[96], out[512] = "";
    snprintf(url, sizeof url, "http://%s:8080/", ipa);
    char *const wget[] = {"wget", "-q", "-O-", url, NULL};
    int code = -1;
    CHECK_EQ_INT(d->ops->container_exec(d, idb, wget, 5000, &code, out, sizeof out), 0);
    CHECK_EQ_INT(code, 0);
    CHECK_CONTAINS(out, "hello from pod A");
    char *const host[] = {"hostname", NULL};
    CHECK_EQ_INT(d->ops->container_exec(d, idb, host, 5000, &code, out, sizeof out), 0);
    CHECK_EQ_STR(out, "pod-b\n");
    char *const slow[] = {"sleep", "10", NULL};
    int64_t t0 = proto_mono_ms();
    CHECK_EQ_INT(d->ops->container_exec(d, idb, slow, 300, &code, out, sizeof out), PROTO_ETIMEOUT);
    CHECK(proto_mono_ms() - t0 < 3000);
    s_exec_start_checks(d, idb);

    /* exit codes: a failing job, and a SIGKILL */
    REQUIRE(s_start(d, pb, "job", "[\"sh\", \"-c\", \"echo job-output; exit 7\"]", idj,
                    sizeof idj) == 0);
    kl_status_t sj = s_await(d, idj, KL_STATE_EXITED);
    CHECK_EQ_INT(sj.state, KL_STATE_EXITED);
    CHECK_EQ_INT(sj.exit_code, 7);
    CHECK_EQ_STR(sj.reason, "Error");
    CHECK(sj.finished_at > 0);
    FILE *lf = fopen("pod-b/job.log", "r");
    char logline[128] = "";
    if (lf && !fgets(logline, sizeof logline, lf))
        logline[0] = 0;
    if (lf)
        fclose(lf);
    CHECK_EQ_STR(logline, "job-output\n");
    CHECK_EQ_INT(d->ops->container_signal(d, ida, SIGKILL), 0);
    sa = s_await(d, ida, KL_STATE_EXITED);
    CHECK_EQ_INT(sa.exit_code, 137);
    CHECK_EQ_INT(sa.signal, 9);
    CHECK_EQ_INT(d->ops->container_signal(d, ida, SIGTERM), 0); /* exited: a no-op */

    /* a new driver (kubelet restart) adopts what runs and remembers exits */
    kl_status_t before = s_await(d, idb, KL_STATE_RUNNING);
    d->ops->destroy(&d);
    CHECK(d == NULL);
    d = s_open(&e);
    kl_status_t after = s_await(d, idb, KL_STATE_RUNNING);
    CHECK_EQ_INT(after.state, KL_STATE_RUNNING);
    CHECK_EQ_INT(after.pid, before.pid);
    CHECK_EQ_INT(s_await(d, idj, KL_STATE_EXITED).exit_code, 7);
    json_t *list = NULL;
    REQUIRE(d->ops->list(d, &list) == 0);
    const char *ls = s_dump(list);
    CHECK_CONTAINS(ls, "\"state\":\"running\"");
    CHECK_CONTAINS(ls, "\"state\":\"exited\"");
    CHECK_CONTAINS(ls, ipa);
    CHECK_CONTAINS(ls, "\"name\":\"job\"");

    /* removal leaves nothing: processes, veths, mounts, cgroups, bridge */
    int shims[3] = {s_shim_of(&e, ida), s_shim_of(&e, idb), s_shim_of(&e, idj)};
    CHECK(shims[1] > 0 && s_proc_alive(shims[1]));
    CHECK_EQ_INT(d->ops->container_remove(d, ida), 0);
    CHECK_EQ_INT(d->ops->container_remove(d, ida), 0); /* idempotent */
    CHECK_EQ_INT(d->ops->container_remove(d, idj), 0);
    CHECK_EQ_INT(d->ops->sandbox_remove(d, proto_obj_uid(pa)), 0);
    CHECK_EQ_INT(d->ops->sandbox_remove(d, proto_obj_uid(pb)), 0); /* removes web too */
    kl_status_t gone;
    CHECK_EQ_INT(d->ops->container_status(d, idb, &gone), PROTO_ENOTFOUND);
    for (int i = 0; i < 3; i++)
        CHECK(shims[i] > 0 && !s_proc_alive(shims[i]));
    json_decref(pa);
    json_decref(pb);
    s_cleanup_all(&e, &d);
    CHECK(s_no_mounts());
    CHECK(s_only_lo());
    CHECK(kubelet_cg_gone(e.tag));
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs argv with stdio on /dev/null (a detached container keeps its stdio
 * open, so no pipe may be given); its exit status. */
static int s_run_quiet(char *const argv[])
{
    pid_t p = fork();
    if (p == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* container_start (process running when it returns) against a bare
 * `runc run -d` of the same bundle; figures go to stderr. */
TEST(as_root_startup_time_vs_bare_runc)
{
    if (!s_root_ready("root_startup_time"))
        return;
    s_own_netns();
    s_make_image();
    s_env_t e = {0};
    kubelet_driver_t *d = s_open(&e);
    json_t *pod = s_test_pod("bench");
    char ip[64], err[512] = "", runc[256], root[600];
    int64_t s0 = proto_mono_ms();
    REQUIRE(d->ops->sandbox_create(d, pod, ip, err, sizeof err) == 0);
    int64_t sandbox_ms = proto_mono_ms() - s0;
    REQUIRE(kubelet_runc_which("runc", runc, sizeof runc) == 0);
    snprintf(root, sizeof root, "%s/bare-runc", t_tmpdir());
    enum { N = 8 };
    int64_t drv[N], bare[N];
    for (int i = 0; i < N; i++) {
        char name[32], id[256], bundle[600], cfgp[1200], cid[64];
        snprintf(name, sizeof name, "c%d", i);
        int64_t t0 = proto_mono_ms();
        REQUIRE(s_start(d, pod, name, "[\"sleep\", \"30\"]", id, sizeof id) == 0);
        drv[i] = proto_mono_ms() - t0;
        /* the same bundle, its own cgroup, run by runc alone */
        snprintf(cfgp, sizeof cfgp, "%s/containers/%s/config.json", e.state, id);
        json_t *cfg = json_load_file(cfgp, 0, NULL);
        REQUIRE(cfg);
        char cg[128];
        snprintf(cg, sizeof cg, "/zkube-%s/bare/%d", e.tag, i);
        proto_obj_set_str(cfg, "linux.cgroupsPath", cg);
        snprintf(bundle, sizeof bundle, "%s/bare%d", t_tmpdir(), i);
        mkdir(bundle, 0755);
        snprintf(cfgp, sizeof cfgp, "%s/config.json", bundle);
        json_dump_file(cfg, cfgp, 0);
        json_decref(cfg);
        snprintf(cid, sizeof cid, "bare%d-%d", (int)getpid(), i);
        char *const run[] = {runc, "--root", root, "run", "-d", "--bundle", bundle, cid, NULL};
        t0 = proto_mono_ms();
        CHECK_EQ_INT(s_run_quiet(run), 0);
        bare[i] = proto_mono_ms() - t0;
        char *const del[] = {runc, "--root", root, "delete", "--force", cid, NULL};
        kubelet_runc_cmd(del, NULL, NULL, 10000, NULL, 0, NULL);
    }
    qsort(drv, N, sizeof drv[0], s_cmp_i64);
    qsort(bare, N, sizeof bare[0], s_cmp_i64);
    fprintf(stderr,
            "  startup (n=%d): container_start p50 %lld ms max %lld ms; "
            "bare `runc run -d` p50 %lld ms max %lld ms; first sandbox_create %lld ms\n",
            N, (long long)drv[N / 2], (long long)drv[N - 1], (long long)bare[N / 2],
            (long long)bare[N - 1], (long long)sandbox_ms);
    CHECK(drv[N / 2] < 3 * bare[N / 2] + 100);
    CHECK_EQ_INT(d->ops->sandbox_remove(d, proto_obj_uid(pod)), 0);
    json_decref(pod);
    s_cleanup_all(&e, &d);
    CHECK(s_no_mounts());
    CHECK(s_only_lo());
    CHECK(kubelet_cg_gone(e.tag));
}

/* The value in a cgroup file of a container: v1 (controller/file), else v2. */
static long long s_cg_value(const s_env_t *e, const char *uid, const char *id, const char *ctl,
                            const char *v1, const char *v2)
{
    char p[1024], buf[128] = "";
    snprintf(p, sizeof p, "/sys/fs/cgroup/%s/zkube-%s/pod%s/%s/%s", ctl, e->tag, uid, id, v1);
    FILE *f = fopen(p, "r");
    if (!f) {
        snprintf(p, sizeof p, "/sys/fs/cgroup/zkube-%s/pod%s/%s/%s", e->tag, uid, id, v2);
        f = fopen(p, "r");
    }
    if (f && !fgets(buf, sizeof buf, f))
        buf[0] = 0;
    if (f)
        fclose(f);
    return atoll(buf);
}

TEST(as_root_two_nodes_host_network_limits_oom)
{
    if (!s_root_ready("as_root_two_nodes"))
        return;
    s_own_netns();
    s_make_image();
    s_env_t e1 = {0}, e2 = {.node = "n2", .pod_cidr = "10.231.2.0/24"};
    kubelet_driver_t *d1 = s_open(&e1);
    snprintf(e2.tag, sizeof e2.tag, "%s", e1.tag);
    kubelet_driver_t *d2 = s_open(&e2);
    json_t *px = s_test_pod("pod-x"), *py = s_test_pod("pod-y"), *ph = s_test_pod("pod-h");
    proto_obj_set(ph, "spec.hostNetwork", json_true());
    char ipx[64], ipy[64], iph[64] = "?", err[512] = "", idx[256], idy[256], idh[256];
    REQUIRE(d1->ops->sandbox_create(d1, px, ipx, err, sizeof err) == 0);
    REQUIRE(d2->ops->sandbox_create(d2, py, ipy, err, sizeof err) == 0);
    REQUIRE(d1->ops->sandbox_create(d1, ph, iph, err, sizeof err) == 0);
    CHECK(strncmp(ipx, "10.231.1.", 9) == 0 && strncmp(ipy, "10.231.2.", 9) == 0);
    CHECK_EQ_STR(iph, "");
    mkdir("pod-x", 0755);
    char *const mk[] = {"mkdir", "-p", "pod-x/volumes/emptyDir/www", NULL};
    REQUIRE(kubelet_runc_cmd(mk, NULL, NULL, 5000, NULL, 0, NULL) == 0);
    s_write("pod-x/volumes/emptyDir/www/index.html", "x on n1\n");
    const char *httpd = "[\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]";
    REQUIRE(s_start(d1, px, "web", httpd, idx, sizeof idx) == 0);
    REQUIRE(s_start_x(d2, py, "lim", "[\"sleep\", \"30\"]",
                      ", \"resources\": {\"limits\": {\"cpu\": \"250m\", \"memory\": \"16Mi\"}}",
                      idy, sizeof idy) == 0);
    REQUIRE(s_start(d1, ph, "h", "[\"sleep\", \"30\"]", idh, sizeof idh) == 0);
    CHECK(s_http(ipx, "x on n1"));
    char routes[1024] = "";
    char *const rt[] = {"ip", "route", "show", "type", "unreachable", NULL};
    kubelet_runc_cmd(rt, NULL, NULL, 5000, routes, sizeof routes, NULL);
    CHECK_CONTAINS(routes, "unreachable 10.231.0.0/16");

    /* n2's pod reaches n1's pod through the host (bridge to bridge) */
    char url[96], out[512] = "";
    int code = -1;
    snprintf(url, sizeof url, "http://%s:8080/", ipx);
    char *const wget[] = {"wget", "-q", "-O-", url, NULL};
    CHECK_EQ_INT(s_await(d2, idy, KL_STATE_RUNNING).state, KL_STATE_RUNNING);
    CHECK_EQ_INT(d2->ops->container_exec(d2, idy, wget, 5000, &code, out, sizeof out), 0);
    CHECK_EQ_INT(code, 0);
    CHECK_CONTAINS(out, "x on n1");
    /* a host-network pod sees the node's name and interfaces */
    char *const hn[] = {"hostname", NULL};
    CHECK_EQ_INT(d1->ops->container_exec(d1, idh, hn, 5000, &code, out, sizeof out), 0);
    CHECK_EQ_STR(out, "n1\n");
    char *const links[] = {"ip", "-o", "link", NULL};
    CHECK_EQ_INT(d1->ops->container_exec(d1, idh, links, 5000, &code, out, sizeof out), 0);
    CHECK_CONTAINS(out, "zk");

    /* limits reach the cgroup; a container over its memory limit is OOMKilled */
    CHECK_EQ_INT(s_cg_value(&e2, proto_obj_uid(py), idy, "cpu", "cpu.cfs_quota_us", "cpu.max"),
                 25000);
    CHECK_EQ_INT(
        s_cg_value(&e2, proto_obj_uid(py), idy, "memory", "memory.limit_in_bytes", "memory.max"),
        16 * 1024 * 1024);
    char ido[256];
    REQUIRE(s_start_x(d2, py, "oom", "[\"sh\", \"-c\", \"x=a; while true; do x=$x$x; done\"]",
                      ", \"resources\": {\"limits\": {\"memory\": \"8Mi\"}}", ido,
                      sizeof ido) == 0);
    kl_status_t so = s_await(d2, ido, KL_STATE_EXITED);
    CHECK_EQ_INT(so.state, KL_STATE_EXITED);
    CHECK_EQ_INT(so.exit_code, 137);
    CHECK_EQ_STR(so.reason, "OOMKilled");

    CHECK_EQ_INT(d1->ops->sandbox_remove(d1, proto_obj_uid(px)), 0);
    CHECK_EQ_INT(d1->ops->sandbox_remove(d1, proto_obj_uid(ph)), 0);
    CHECK_EQ_INT(d2->ops->sandbox_remove(d2, proto_obj_uid(py)), 0);
    json_decref(px);
    json_decref(py);
    json_decref(ph);
    s_cleanup_all(&e1, &d1);
    s_cleanup_all(&e2, &d2);
    CHECK(s_no_mounts());
    CHECK(s_only_lo());
    CHECK(kubelet_cg_gone(e1.tag));
}

/* A kubelet killed (-9) right after starting a container: the container
 * keeps running and its exit code is still recorded, for the next one. */
TEST(as_root_exit_code_survives_kubelet_kill9)
{
    if (!s_root_ready("as_root_exit_code_survives_kubelet_kill9"))
        return;
    s_own_netns();
    s_make_image();
    s_env_t e = {0};
    kubelet_driver_t *d = s_open(&e);
    json_t *pod = s_test_pod("pod-k");
    char ip[64], err[512] = "", id[256];
    REQUIRE(d->ops->sandbox_create(d, pod, ip, err, sizeof err) == 0);
    pid_t k = fork();
    if (k == 0) { /* the "kubelet" */
        kubelet_driver_t *kd = s_open(&e);
        int rc = s_start(kd, pod, "job", "[\"sh\", \"-c\", \"sleep 1; exit 3\"]", id, sizeof id);
        if (rc == 0)
            raise(SIGKILL);
        _exit(1);
    }
    int st = 0;
    waitpid(k, &st, 0);
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    snprintf(id, sizeof id, "%s-job-0", proto_obj_uid(pod));
    kl_status_t s = {0};
    CHECK_EQ_INT(d->ops->container_status(d, id, &s), 0);
    CHECK_EQ_INT(s.state, KL_STATE_RUNNING);
    s = s_await(d, id, KL_STATE_EXITED);
    CHECK_EQ_INT(s.state, KL_STATE_EXITED);
    CHECK_EQ_INT(s.exit_code, 3);
    /* a command missing from the image: a clear error, nothing left behind */
    kl_container_spec_t bad = {0};
    json_t *c = json_pack("{s:s, s:[s]}", "name", "bad", "command", "/no/such/binary");
    char rootfs[600], logp[600], cdir[1200];
    snprintf(rootfs, sizeof rootfs, "%s/image/rootfs", t_tmpdir());
    snprintf(logp, sizeof logp, "%s/bad.log", t_tmpdir());
    bad = (kl_container_spec_t){
        .pod = pod, .container = c, .id = "bad-0", .rootfs = rootfs, .log_path = logp};
    CHECK(d->ops->container_start(d, &bad, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "/no/such/binary");
    snprintf(cdir, sizeof cdir, "%s/containers/bad-0", e.state);
    struct stat sb;
    CHECK(stat(cdir, &sb) < 0);
    json_decref(c);
    /* starts in the background: two at once, each ends on its own fd; a bad
     * command fails the same way, nothing left behind */
    json_t *ca = json_pack("{s:s, s:[s, s]}", "name", "bga", "command", "sleep", "30");
    json_t *cb = json_pack("{s:s, s:[s]}", "name", "bgb", "command", "/no/such/binary");
    kl_container_spec_t sa = {.pod = pod, .container = ca, .id = "bga-0", .rootfs = rootfs,
                              .log_path = logp};
    kl_container_spec_t sbad = {.pod = pod, .container = cb, .id = "bgb-0", .rootfs = rootfs,
                                .log_path = logp};
    kl_start_t ka, kb;
    char erra[512] = "", errb[512] = "";
    REQUIRE(d->ops->container_start_async(d, &sa, &ka, erra, sizeof erra) == 0);
    REQUIRE(d->ops->container_start_async(d, &sbad, &kb, errb, sizeof errb) == 0);
    CHECK(ka.fd >= 0 && kb.fd >= 0);
    int ra = -EAGAIN, rb = -EAGAIN;
    while (ra == -EAGAIN || rb == -EAGAIN) {
        struct pollfd pf[2] = {{.fd = ra == -EAGAIN ? ka.fd : -1, .events = POLLIN},
                               {.fd = rb == -EAGAIN ? kb.fd : -1, .events = POLLIN}};
        REQUIRE(poll(pf, 2, 35000) > 0);
        if (pf[0].revents)
            ra = d->ops->container_start_poll(d, &ka, 0, erra, sizeof erra);
        if (pf[1].revents)
            rb = d->ops->container_start_poll(d, &kb, 0, errb, sizeof errb);
    }
    close(ka.fd);
    close(kb.fd);
    CHECK_EQ_INT(ra, 0);
    CHECK(rb < 0);
    CHECK_CONTAINS(errb, "/no/such/binary");
    snprintf(cdir, sizeof cdir, "%s/containers/bgb-0", e.state);
    CHECK(stat(cdir, &sb) < 0);
    kl_status_t sr = {0};
    CHECK_EQ_INT(d->ops->container_status(d, "bga-0", &sr), 0);
    CHECK_EQ_INT(sr.state, KL_STATE_RUNNING);
    CHECK_EQ_INT(d->ops->container_signal(d, "bga-0", SIGKILL), 0);
    CHECK_EQ_INT(s_await(d, "bga-0", KL_STATE_EXITED).signal, SIGKILL);
    CHECK_EQ_INT(d->ops->container_remove(d, "bga-0"), 0);
    json_decref(ca);
    json_decref(cb);
    /* an image path overlayfs cannot take (a ':' in it): a private copy instead */
    char odd[700];
    snprintf(odd, sizeof odd, "%s/image:odd", t_tmpdir());
    REQUIRE(symlink("image", odd) == 0);
    c = json_pack("{s:s, s:[s, s, s]}", "name", "copy", "command", "sh", "-c", "exit 5");
    strcat(odd, "/rootfs");
    bad = (kl_container_spec_t){
        .pod = pod, .container = c, .id = "copy-0", .rootfs = odd, .log_path = logp};
    CHECK_EQ_INT(d->ops->container_start(d, &bad, err, sizeof err), 0);
    CHECK_EQ_INT(s_await(d, "copy-0", KL_STATE_EXITED).exit_code, 5);
    CHECK_EQ_INT(d->ops->container_remove(d, "copy-0"), 0);
    json_decref(c);
    CHECK_EQ_INT(d->ops->sandbox_remove(d, proto_obj_uid(pod)), 0);
    json_decref(pod);
    s_cleanup_all(&e, &d);
    CHECK(s_no_mounts());
    CHECK(s_only_lo());
}
