/*
 * tests/unit/test_logs_cli.c — `zkubectl logs` / `zkubectl exec` and the
 * kubelet's streams (stream.c: exec with stdin and a
 * terminal, port-forward). The pure parts of the two verbs (their command
 * lines, Go durations, the verb finder, which container, selectors of
 * controllers) are compiled in directly, as zkubectl is a program. The
 * kubelet's streams run for real: a broker and
 * a "kubelet" child serving kubelet-n1 with a fake node whose driver
 * runs container_exec_start's commands with the host's tools, called over
 * the broker.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <signal.h>
#include <sys/stat.h>

#include "actors/kubelet/exec.c"
#include "actors/kubelet/stream.c"
#include "broker/broker.h"
#include "tools/zkubectl/client.c"
#include "tools/zkubectl/errors.c"
#include "tools/zkubectl/exec.c"
#include "tools/zkubectl/exec_stream.c"
#include "tools/zkubectl/logs.c"
#include "tools/zkubectl/resources.c"

/* Splits line on spaces into a static argv. */
static int s_argv(const char *line, char ***out)
{
    static char buf[1024];
    static char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "zkubectl";
    for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    *out = argv;
    return argc;
}

static int s_logs(ctl_logs_opts_t *o, char *err, const char *line)
{
    char **argv;
    int argc = s_argv(line, &argv);
    err[0] = '\0';
    return s_logs_parse(argc, argv, o, err, CTL_ERR);
}

static int s_exec(ctl_exec_opts_t *o, char *err, const char *line)
{
    char **argv;
    int argc = s_argv(line, &argv);
    err[0] = '\0';
    return s_exec_parse(argc, argv, o, err, CTL_ERR);
}

/* Reads a whole small file (captured stdout/stderr). Static buffer. */
static const char *s_slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

/* ---- command lines -------------------------------------------------------- */

TEST(raw_verb_skips_global_flags)
{
    char **argv;
    int argc = s_argv("-n prod logs kubia -f", &argv);
    CHECK_EQ_STR(ctl_raw_verb(argc, argv), "logs");
    argc = s_argv("--namespace=x exec kubia -- ls", &argv);
    CHECK_EQ_STR(ctl_raw_verb(argc, argv), "exec");
    argc = s_argv("get pods", &argv);
    CHECK_EQ_STR(ctl_raw_verb(argc, argv), "get");
    argc = s_argv("-n", &argv);
    CHECK(ctl_raw_verb(argc, argv) == NULL);
}

TEST(durations_as_go_parses_them)
{
    int64_t ms = -1;
    CHECK_EQ_INT(ctl_parse_duration("5s", &ms), 0);
    CHECK_EQ_INT(ms, 5000);
    CHECK_EQ_INT(ctl_parse_duration("1h30m", &ms), 0);
    CHECK_EQ_INT(ms, 5400000);
    CHECK_EQ_INT(ctl_parse_duration("1.5s", &ms), 0);
    CHECK_EQ_INT(ms, 1500);
    CHECK_EQ_INT(ctl_parse_duration("300ms", &ms), 0);
    CHECK_EQ_INT(ms, 300);
    CHECK_EQ_INT(ctl_parse_duration("2m3s", &ms), 0);
    CHECK_EQ_INT(ms, 123000);
    CHECK_EQ_INT(ctl_parse_duration("0", &ms), 0);
    CHECK_EQ_INT(ms, 0);
    const char *bad[] = {"", "5", "5x", "-1s", "s", "1h-5m", "1e400h", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(ctl_parse_duration(bad[i], &ms) < 0);
}

TEST(logs_flags_as_kubectl)
{
    ctl_logs_opts_t o;
    char err[CTL_ERR];
    REQUIRE(s_logs(&o, err, "logs kubia -c main -f --tail 5 --since=1m --timestamps -n ns") ==
            0);
    CHECK_EQ_STR(o.target, "kubia");
    CHECK_EQ_STR(o.container, "main");
    CHECK_EQ_STR(o.ns, "ns");
    CHECK(o.follow && o.timestamps && !o.previous);
    CHECK_EQ_INT(o.tail, 5);
    CHECK_EQ_INT(o.since_ms, 60000);
    REQUIRE(s_logs(&o, err, "logs -fp rc/kubia side --limit-bytes=10") == 0);
    CHECK(o.follow && o.previous);
    CHECK_EQ_STR(o.target, "rc/kubia");
    CHECK_EQ_STR(o.container, "side");
    CHECK_EQ_INT(o.limit_bytes, 10);
    CHECK_EQ_INT(o.tail, -1);
    REQUIRE(s_logs(&o, err, "logs kubia --previous=false -cmain --tail=-1") == 0);
    CHECK(!o.previous);
    CHECK_EQ_STR(o.container, "main");
    CHECK(s_logs(&o, err, "logs") < 0);
    CHECK_CONTAINS(err, "POD or TYPE/NAME is a required argument for the logs command");
    CHECK(s_logs(&o, err, "logs a b -c c") < 0);
    CHECK_CONTAINS(err, "only one of -c or an inline [CONTAINER] arg is allowed");
    CHECK(s_logs(&o, err, "logs a --tail x") < 0);
    CHECK_CONTAINS(err, "invalid argument \"x\" for \"--tail\" flag");
    CHECK(s_logs(&o, err, "logs a --since 5") < 0);
    CHECK_CONTAINS(err, "time: invalid duration \"5\"");
    CHECK(s_logs(&o, err, "logs a --bogus") < 0);
    CHECK_EQ_STR(err, "unknown flag: --bogus");
    CHECK(s_logs(&o, err, "logs a -x") < 0);
    CHECK_CONTAINS(err, "unknown shorthand flag: 'x' in -x");
    CHECK(s_logs(&o, err, "logs a -c") < 0);
    CHECK_CONTAINS(err, "flag needs an argument");
}

TEST(exec_flags_as_kubectl)
{
    ctl_exec_opts_t o;
    char err[CTL_ERR];
    REQUIRE(s_exec(&o, err, "exec kubia -c main -n ns -- sh -c true") == 0);
    CHECK_EQ_STR(o.target, "kubia");
    CHECK_EQ_STR(o.container, "main");
    CHECK_EQ_STR(o.ns, "ns");
    REQUIRE(o.ncmd == 3);
    CHECK_EQ_STR(o.cmd[0], "sh");
    CHECK_EQ_STR(o.cmd[2], "true");
    CHECK_EQ_INT(o.timeout_s, 60);
    REQUIRE(s_exec(&o, err, "-n ns exec kubia --request-timeout=2m -- -x") == 0);
    CHECK_EQ_INT(o.timeout_s, 120);
    CHECK_EQ_STR(o.cmd[0], "-x"); /* after --, nothing is a flag */
    REQUIRE(s_exec(&o, err, "exec kubia --request-timeout 7 -- ls") == 0);
    CHECK_EQ_INT(o.timeout_s, 7);
    REQUIRE(s_exec(&o, err, "exec kubia --request-timeout 1h -- ls") == 0);
    CHECK_EQ_INT(o.timeout_s, 600);
    REQUIRE(s_exec(&o, err, "exec -it kubia -- sh") == 0);
    CHECK(o.in && o.tty);
    REQUIRE(s_exec(&o, err, "exec --stdin kubia -- sh") == 0);
    CHECK(o.in && !o.tty);
    REQUIRE(s_exec(&o, err, "exec --stdin=false --tty kubia -- sh") == 0);
    CHECK(!o.in && o.tty);
    CHECK(s_exec(&o, err, "exec kubia") < 0);
    CHECK_EQ_STR(err, "you must specify at least one command for the container");
    CHECK(s_exec(&o, err, "exec kubia ls") < 0);
    CHECK_CONTAINS(err, "Use exec [POD] -- [COMMAND] instead");
    CHECK(s_exec(&o, err, "exec -- ls") < 0);
    CHECK_CONTAINS(err, "POD or TYPE/NAME is a required argument");
    CHECK(s_exec(&o, err, "exec kubia --bogus -- ls") < 0);
    CHECK_EQ_STR(err, "unknown flag: --bogus");
}

/* ---- which container ------------------------------------------------------ */

static json_t *s_pod(const char *node, int nctrs)
{
    json_t *pod = json_pack("{s:{s:s, s:s}, s:{s:[]}, s:{s:s}}", "metadata", "name", "web",
                            "namespace", "default", "spec", "containers", "status", "phase",
                            "Running");
    const char *names[] = {"main", "side", "third"};
    for (int i = 0; i < nctrs; i++)
        json_array_append_new(proto_obj_get(pod, "spec.containers"),
                              json_pack("{s:s, s:s}", "name", names[i], "image", "busybox"));
    if (node)
        proto_obj_set_str(pod, "spec.nodeName", node);
    return pod;
}

TEST(logs_container_choice_and_messages)
{
    char err[CTL_ERR] = "";
    const char *name = NULL;
    json_t *pod = s_pod("n1", 1);
    CHECK_EQ_INT(s_lg_container(pod, NULL, false, &name, err, sizeof err), 0);
    CHECK_EQ_STR(name, "main");
    CHECK_EQ_INT(s_lg_container(pod, "nope", false, &name, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "container nope is not valid for pod web");
    json_decref(pod);
    pod = s_pod("n1", 2);
    CHECK_EQ_INT(s_lg_container(pod, NULL, false, &name, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "a container name must be specified for pod web, choose one of: [main "
                      "side]");
    CHECK_EQ_INT(s_lg_container(pod, "side", false, &name, err, sizeof err), 0);
    CHECK_EQ_STR(name, "side");
    proto_obj_set(pod, "spec.initContainers", json_pack("[{s:s}]", "name", "setup"));
    CHECK_EQ_INT(s_lg_container(pod, NULL, false, &name, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "a container name must be specified for pod web, choose one of: [main "
                      "side] or one of the init containers: [setup]");
    CHECK_EQ_INT(s_lg_container(pod, "setup", false, &name, err, sizeof err), 0);
    proto_obj_set(pod, "metadata.annotations",
                  json_pack("{s:s}", "kubectl.kubernetes.io/default-container", "side"));
    CHECK_EQ_INT(s_lg_container(pod, NULL, false, &name, err, sizeof err), 0);
    CHECK_EQ_STR(name, "side");
    json_decref(pod);
    pod = s_pod(NULL, 1); /* not scheduled yet */
    CHECK_EQ_INT(s_lg_container(pod, NULL, false, &name, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "container \"main\" in pod \"web\" is waiting to start: ContainerCreating");
    CHECK_EQ_INT(s_lg_container(pod, NULL, true, &name, err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "previous terminated container \"main\" in pod \"web\" not found");
    json_decref(pod);
}

TEST(logs_request_body)
{
    ctl_logs_opts_t o;
    char err[CTL_ERR];
    REQUIRE(s_logs(&o, err, "logs web --tail 3 --since 90s --timestamps -p") == 0);
    json_t *pod = s_pod("n1", 1);
    json_t *q = s_lg_request(&o, pod, "main");
    CHECK_EQ_STR(proto_obj_str(q, "name"), "web");
    CHECK_EQ_STR(proto_obj_str(q, "namespace"), "default");
    CHECK_EQ_STR(proto_obj_str(q, "container"), "main");
    CHECK_EQ_INT(proto_obj_int(q, "tailLines", -5), 3);
    CHECK_EQ_INT(proto_obj_int(q, "sinceSeconds", -5), 90);
    CHECK(json_is_true(json_object_get(q, "timestamps")));
    CHECK(json_is_true(json_object_get(q, "previous")));
    CHECK(!json_object_get(q, "limitBytes"));
    json_decref(q);
    REQUIRE(s_logs(&o, err, "logs web --since 200ms") == 0);
    q = s_lg_request(&o, pod, "main");
    CHECK_EQ_INT(proto_obj_int(q, "sinceSeconds", -5), 1); /* never 0: that means "all" */
    CHECK(!json_object_get(q, "tailLines"));
    json_decref(q);
    json_decref(pod);
}

TEST(controller_selectors_pick_first_pod_by_name)
{
    char err[CTL_ERR] = "";
    json_t *rc = json_pack("{s:s, s:{s:s}, s:{s:{s:s}}}", "kind", "ReplicationController",
                           "metadata", "name", "kubia", "spec", "selector", "app", "kubia");
    char *s = s_lg_selector(rc, err, sizeof err);
    CHECK_EQ_STR(s, "app=kubia");
    free(s);
    json_t *rs = json_pack("{s:s, s:{s:s}, s:{s:{s:{s:s}, s:[{s:s, s:s, s:[s]}]}}}", "kind",
                           "ReplicaSet", "metadata", "name", "kubia", "spec", "selector",
                           "matchLabels", "app", "kubia", "matchExpressions", "key", "env",
                           "operator", "In", "values", "prod");
    s = s_lg_selector(rs, err, sizeof err);
    CHECK_CONTAINS(s, "app=kubia");
    CHECK_CONTAINS(s, "env in (prod)");
    free(s);
    json_t *none = json_pack("{s:s, s:{s:s}, s:{}}", "kind", "ReplicaSet", "metadata", "name",
                             "empty", "spec");
    CHECK(s_lg_selector(none, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "has no selector");
    json_t *items = json_pack("[{s:{s:s}}, {s:{s:s}}, {s:{s:s}}]", "metadata", "name", "kubia-x",
                              "metadata", "name", "kubia-b", "metadata", "name", "kubia-k");
    CHECK_EQ_STR(proto_obj_name(s_lg_first(items)), "kubia-b");
    CHECK(s_lg_first(json_array()) == NULL);
    json_decref(items);
    json_decref(rc);
    json_decref(rs);
    json_decref(none);
}

TEST(exec_container_choice_and_messages)
{
    const char *name = NULL;
    REQUIRE(freopen("err.txt", "w", stderr) != NULL);
    json_t *pod = s_pod("n1", 2);
    CHECK_EQ_INT(s_ex_container(pod, NULL, false, &name), 0);
    CHECK_EQ_STR(name, "main");
    CHECK_EQ_INT(s_ex_container(pod, "side", false, &name), 0);
    CHECK_EQ_INT(s_ex_container(pod, "nope", false, &name), 1);
    proto_obj_set_str(pod, "status.phase", "Succeeded");
    CHECK_EQ_INT(s_ex_container(pod, NULL, false, &name), 1);
    json_decref(pod);
    pod = s_pod(NULL, 1);
    CHECK_EQ_INT(s_ex_container(pod, NULL, false, &name), 1);
    json_decref(pod);
    fflush(stderr);
    const char *err = s_slurp("err.txt");
    CHECK_CONTAINS(err, "Defaulted container \"main\" out of: main, side\n");
    CHECK_CONTAINS(err, "Error from server (BadRequest): container nope is not valid for pod "
                        "web\n");
    CHECK_CONTAINS(err, "error: cannot exec into a container in a completed pod; current phase "
                        "is Succeeded\n");
    CHECK_CONTAINS(err, "pod web does not have a host assigned");
}

/* ---- a fake kubelet over the broker --------------------------------------------- */

/* Runs argv with the host's shell tools on the given descriptors. */
static int s_fake_exec_start(kubelet_driver_t *d, const char *id, char *const argv[],
                             const int fds[3], bool tty, kl_exec_t *x, char *err, size_t errlen)
{
    (void)d;
    *x = (kl_exec_t){.pid = -1};
    if (strcmp(id, "u-main-0") != 0) {
        snprintf(err, errlen, "container is not running");
        return -ESRCH;
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (kl_exec_child_setup(fds, tty) == 0)
            execvp(argv[0], argv);
        _exit(127);
    }
    x->pid = pid;
    x->group = true;
    return pid < 0 ? -errno : 0;
}

static const kubelet_driver_ops_t s_fake_ops = {
    .name = "fake", .container_exec_start = s_fake_exec_start};

/* The fake `logs` op: pod "web" follows a script of replies, checking
 * that each poll carries the offset of the previous reply; pod "restarts"
 * is a container that restarted between two polls. */
static json_t *s_fake_logs(const json_t *b, int *code)
{
    static int step, rstep, last = -1;
    static const struct { int code; const char *log; int offset; bool running; } web[] = {
        {200, "a\n", 2, true}, {503, NULL, 0, false}, {200, "b\n", 4, true},
        {200, "", 4, true},     {200, "c\n", 6, false}};
    const json_t *off = json_object_get(b, "offset");
    *code = 200;
    if (!strcmp(proto_obj_str(b, "name") ?: "", "restarts")) {
        int r = rstep++;
        return json_pack("{s:s, s:i, s:b, s:i}", "log", r ? "new\n" : "old\n", "offset", 4,
                         "running", 1, "restartCount", r);
    }
    if (step >= 5 || (json_is_integer(off) ? json_integer_value(off) : -1) != last) {
        *code = 400;
        return proto_status_new(PROTO_EBADREQUEST, "bad offset", NULL);
    }
    int i = step++;
    *code = web[i].code;
    if (web[i].code != 200)
        return proto_status_new(PROTO_EUNAVAILABLE, "kubelet restarting", NULL);
    last = web[i].offset;
    return json_pack("{s:s, s:i, s:b, s:i}", "log", web[i].log, "offset", web[i].offset,
                     "running", web[i].running, "restartCount", 0);
}

static void s_kubelet_req(rt_actor_t *a, rt_req_t *req, void *arg)
{
    if (!strncmp(req->env.op, "stream.", 7)) {
        kl_stream_handle(arg, &req);
        return;
    }
    int code = 400;
    json_t *body = !strcmp(req->env.op, "logs") ? s_fake_logs(req->env.body, &code) : NULL;
    rt_reply(a, &req, code, body);
    json_decref(body);
}

static void s_fake_kubelet(const rt_config_t *cfg)
{
    static kl_ctr_t ctrs[2];
    static kl_kubelet_t k;
    static kl_node_t n;
    static kl_pod_t p;
    static kubelet_driver_t drv = {.ops = &s_fake_ops};
    char err[256];
    snprintf(ctrs[0].name, sizeof ctrs[0].name, "main");
    snprintf(ctrs[0].id, sizeof ctrs[0].id, "u-main-0");
    ctrs[0].st.state = KL_STATE_RUNNING;
    snprintf(ctrs[1].name, sizeof ctrs[1].name, "side");
    snprintf(ctrs[1].id, sizeof ctrs[1].id, "u-side-0");
    ctrs[1].st.state = KL_STATE_EXITED;
    snprintf(p.ns, sizeof p.ns, "default");
    snprintf(p.name, sizeof p.name, "web");
    snprintf(p.ip, sizeof p.ip, "127.0.0.1");
    p.sandbox = true;
    p.ctrs = ctrs;
    p.nctrs = 2;
    p.n = &n;
    n.k = &k;
    n.drv = &drv;
    n.pods = &p;
    if (rt_actor_open(&k.a, "kubelet-n1", cfg, err, sizeof err) < 0)
        _exit(1);
    rt_serve(k.a, "kubelet-n1", s_kubelet_req, &n);
    rt_run(k.a);
    rt_actor_destroy(&k.a);
    _exit(0);
}

static pid_t s_broker_pid, s_kubelet_pid;

static rt_actor_t *s_start(void)
{
    char home[512], err[256];
    rt_config_t cfg;
    snprintf(home, sizeof home, "%s/home", t_tmpdir());
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    REQUIRE(rt_config_load(&cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&cfg) == 0);
    s_broker_pid = fork();
    if (s_broker_pid == 0)
        _exit(broker_run(&cfg) ? 1 : 0);
    s_kubelet_pid = fork();
    if (s_kubelet_pid == 0)
        s_fake_kubelet(&cfg);
    rt_actor_t *a = NULL;
    REQUIRE(rt_actor_open(&a, "exec-test", &cfg, err, sizeof err) == 0);
    return a;
}

static void s_stop(rt_actor_t **a)
{
    rt_actor_destroy(a);
    kill(s_kubelet_pid, SIGTERM);
    waitpid(s_kubelet_pid, NULL, 0);
    kill(s_broker_pid, SIGTERM);
    waitpid(s_broker_pid, NULL, 0);
}

TEST(logs_follow_polls_with_offsets_until_the_end)
{
    rt_actor_t *a = s_start();
    REQUIRE(freopen("out.txt", "w", stdout) != NULL);
    REQUIRE(freopen("err.txt", "w", stderr) != NULL);
    ctl_t c = {.actor = a};
    ctl_logs_opts_t o;
    char err[CTL_ERR];
    REQUIRE(s_logs(&o, err, "logs web -f") == 0);
    json_t *pod = s_pod("n1", 1);
    s_lg_src_t *srcs = NULL;
    size_t n = 0;
    s_lg_add(&o, pod, "main", &srcs, &n);
    CHECK_EQ_INT(s_lg_streams(&c, true, srcs, n), 0); /* a 503 in between is waited out */
    fflush(stdout);
    CHECK_EQ_STR(s_slurp("out.txt"), "a\nb\nc\n");
    json_decref(srcs[0].q);
    free(srcs);
    srcs = NULL;
    n = 0;
    REQUIRE(freopen("out2.txt", "w", stdout) != NULL);
    json_t *pod2 = s_pod("n1", 1);
    proto_obj_set_str(pod2, "metadata.name", "restarts");
    o.prefix = true;
    s_lg_add(&o, pod2, "main", &srcs, &n);
    CHECK_EQ_INT(s_lg_streams(&c, true, srcs, n), 0); /* stops: another instance now */
    fflush(stdout);
    CHECK_EQ_STR(s_slurp("out2.txt"), "[pod/restarts/main] old\n[pod/restarts/main] new\n");
    json_decref(srcs[0].q);
    free(srcs);
    json_decref(pod);
    json_decref(pod2);
    s_stop(&a);
}

TEST(logs_selector_and_all_containers)
{
    ctl_logs_opts_t o;
    char err[CTL_ERR];
    REQUIRE(s_logs(&o, err, "logs -l app=kubia --all-containers --prefix -f") == 0);
    CHECK_EQ_STR(o.selector, "app=kubia");
    CHECK(o.all_containers && o.prefix && o.follow);
    CHECK(o.target == NULL);
    CHECK(s_logs(&o, err, "logs -l app=kubia kubia-x") < 0);
    CHECK_EQ_STR(err, "only a selector (-l) or a POD name is allowed");
    CHECK(s_logs(&o, err, "logs kubia --all-containers -c main") < 0);
    CHECK_CONTAINS(err, "--all-containers=true should not be specified with container name");
    /* every container of a pod, init containers first */
    REQUIRE(s_logs(&o, err, "logs web --all-containers") == 0);
    json_t *pod = s_pod("n1", 2);
    proto_obj_set(pod, "spec.initContainers", json_pack("[{s:s}]", "name", "setup"));
    s_lg_src_t *srcs = NULL;
    size_t n = 0;
    CHECK_EQ_INT(s_lg_pod_srcs(&o, pod, &srcs, &n), 0);
    REQUIRE(n == 3);
    CHECK_EQ_STR(proto_obj_str(srcs[0].q, "container"), "setup");
    CHECK_EQ_STR(proto_obj_str(srcs[2].q, "container"), "side");
    CHECK_EQ_STR(srcs[0].prefix, "");
    for (size_t i = 0; i < n; i++)
        json_decref(srcs[i].q);
    free(srcs);
    json_decref(pod);
}

/* ---- the kubelet's streams over the broker ------------------------------------ */

static int s_sio(rt_actor_t *a, const char *op, json_t *body, json_t **reply)
{
    rt_call_opts_t o = {.timeout_ms = 8000, .retries = 0};
    *reply = NULL;
    int code = rt_call_sync(a, "kubelet-n1", op, body, &o, reply);
    json_decref(body);
    return code;
}

/* Waits for the fake kubelet, then opens an exec stream; its id in id. */
static int s_open(rt_actor_t *a, const char *cmd, bool in, bool tty, char *id)
{
    json_t *r = NULL;
    int code = 0;
    for (int64_t end = proto_mono_ms() + 5000; proto_mono_ms() < end;) {
        json_t *b = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:i, s:i}", "type", "exec",
                              "namespace", "default", "name", "web", "command",
                              json_loads(cmd, 0, NULL), "stdin", in, "tty", tty, "width", 100,
                              "height", 30);
        json_decref(r);
        if ((code = s_sio(a, "stream.open", b, &r)) != 503 && code > 0)
            break;
    }
    snprintf(id, 64, "%s", proto_obj_str(r, "stream") ?: "");
    json_decref(r);
    return code;
}

static int s_write(rt_actor_t *a, const char *id, const char *data, bool close)
{
    json_t *b = json_pack("{s:s}", "stream", id), *r;
    if (data) {
        char *enc = proto_b64_encode(data, strlen(data));
        json_object_set_new(b, "data", json_string(enc));
        free(enc);
    }
    if (close)
        json_object_set_new(b, "close", json_true());
    int code = s_sio(a, "stream.io", b, &r);
    json_decref(r);
    return code;
}

static void s_append(char *dst, size_t n, const json_t *r, const char *key)
{
    const json_t *v = json_object_get(r, key);
    size_t len = 0;
    char *d = v ? proto_b64_decode(json_string_value(v), json_string_length(v), &len) : NULL;
    if (d)
        snprintf(dst + strlen(dst), n - strlen(dst), "%s", d);
    free(d);
}

/* Reads until the end (at most 8 s): output into out/err; the exit code,
 * or -1 when no end came, -code on an error reply. */
static int s_drain_stream(rt_actor_t *a, const char *id, char *out, char *err, size_t n)
{
    out[0] = err[0] = '\0';
    for (int64_t end = proto_mono_ms() + 8000; proto_mono_ms() < end;) {
        json_t *r;
        int code = s_sio(a, "stream.io", json_pack("{s:s, s:i}", "stream", id, "waitMs", 500), &r);
        if (code != 200) {
            json_decref(r);
            return -code;
        }
        s_append(out, n, r, "stdout");
        s_append(err, n, r, "stderr");
        bool done = json_is_true(json_object_get(r, "end"));
        int rc = (int)proto_obj_int(r, "exitCode", 0);
        json_decref(r);
        if (done)
            return rc;
    }
    return -1;
}

static char s_early[256];
static void s_on_early(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    (void)a;
    *(int *)arg = code;
    s_append(s_early, sizeof s_early, body, "stdout");
}

TEST(kubelet_stream_exec_with_stdin)
{
    rt_actor_t *a = s_start();
    char id[64], out[4096], err[4096];
    REQUIRE(s_open(a, "[\"sh\", \"-c\", \"read x; echo out; echo err >&2; echo got:$x; exit 7\"]",
                   true, false, id) == 200);
    /* a read waits for output; a second one meanwhile is refused */
    int first = 0;
    json_t *b = json_pack("{s:s, s:i}", "stream", id, "waitMs", 3000), *r;
    rt_call_opts_t o = {.timeout_ms = 8000};
    REQUIRE(rt_call(a, "kubelet-n1", "stream.io", b, &o, s_on_early, &first) == 0);
    json_decref(b);
    rt_run_for(a, 100);
    CHECK_EQ_INT(first, 0);
    CHECK_EQ_INT(s_sio(a, "stream.io", json_pack("{s:s}", "stream", id), &r), 409);
    json_decref(r);
    CHECK_EQ_INT(s_write(a, id, "hello\n", false), 200);
    for (int64_t end = proto_mono_ms() + 3000; !first && proto_mono_ms() < end;)
        rt_run_for(a, 20);
    CHECK_EQ_INT(first, 200); /* answered by the output, not after its 3 s */
    CHECK_EQ_INT(s_drain_stream(a, id, out, err, sizeof out), 7);
    char all[8192];
    snprintf(all, sizeof all, "%s%s", s_early, out);
    CHECK_EQ_STR(all, "out\ngot:hello\n");
    CHECK_EQ_STR(err, "err\n");
    /* the stream is gone after its end */
    CHECK_EQ_INT(s_sio(a, "stream.io", json_pack("{s:s}", "stream", id), &r), 404);
    json_decref(r);
    s_stop(&a);
}

TEST(kubelet_stream_stdin_close_and_large_input)
{
    rt_actor_t *a = s_start();
    char id[64], *big = malloc(300001), *out = malloc(400000), err[256];
    for (int i = 0; i < 300000; i++)
        big[i] = (char)('a' + i % 26);
    big[300000] = '\0';
    REQUIRE(s_open(a, "[\"cat\"]", true, false, id) == 200);
    CHECK_EQ_INT(s_write(a, id, big, false), 200); /* answered once written: cat reads */
    CHECK_EQ_INT(s_write(a, id, "end", true), 200);
    CHECK_EQ_INT(s_drain_stream(a, id, out, err, 400000), 0);
    CHECK_EQ_INT((long)strlen(out), 300003);
    CHECK(strncmp(out, big, 300000) == 0 && !strcmp(out + 300000, "end"));
    free(big);
    free(out);
    s_stop(&a);
}

TEST(kubelet_stream_tty)
{
    rt_actor_t *a = s_start();
    char id[64], out[4096], err[256];
    REQUIRE(s_open(a, "[\"sh\", \"-c\", \"tty; stty size; echo bad >&2; exit 2\"]", false, true,
                   id) == 200);
    CHECK_EQ_INT(s_drain_stream(a, id, out, err, sizeof out), 2);
    CHECK_CONTAINS(out, "/dev/pts/");
    CHECK_CONTAINS(out, "30 100\r\n");
    CHECK_CONTAINS(out, "bad"); /* a terminal carries stderr too */
    CHECK_EQ_STR(err, "");
    s_stop(&a);
}

TEST(kubelet_stream_close_kills_the_command)
{
    rt_actor_t *a = s_start();
    char id[64], out[256] = "";
    json_t *r;
    REQUIRE(s_open(a, "[\"sh\", \"-c\", \"echo $$; exec sleep 30\"]", false, false, id) == 200);
    for (int64_t end = proto_mono_ms() + 5000; !strchr(out, '\n') && proto_mono_ms() < end;) {
        REQUIRE(s_sio(a, "stream.io", json_pack("{s:s, s:i}", "stream", id, "waitMs", 500), &r) ==
                200);
        s_append(out, sizeof out, r, "stdout");
        json_decref(r);
    }
    int pid = atoi(out);
    REQUIRE(pid > 1);
    CHECK_EQ_INT(kill(pid, 0), 0);
    CHECK_EQ_INT(s_sio(a, "stream.close", json_pack("{s:s}", "stream", id), &r), 200);
    json_decref(r);
    CHECK(kill(pid, 0) < 0); /* killed and reaped by the kubelet */
    CHECK_EQ_INT(s_sio(a, "stream.io", json_pack("{s:s}", "stream", id), &r), 404);
    json_decref(r);
    s_stop(&a);
}

TEST(kubelet_stream_errors)
{
    rt_actor_t *a = s_start();
    char id[64];
    json_t *r;
    REQUIRE(s_open(a, "[\"true\"]", false, false, id) == 200); /* the kubelet is up */
    CHECK_EQ_INT(s_sio(a, "stream.open", json_pack("{s:s}", "type", "shell"), &r), 400);
    json_decref(r);
    CHECK_EQ_INT(s_sio(a, "stream.open",
                       json_pack("{s:s, s:s, s:[s]}", "type", "exec", "name", "nope", "command",
                                 "true"),
                       &r),
                 404);
    json_decref(r);
    CHECK_EQ_INT(s_sio(a, "stream.open",
                       json_pack("{s:s, s:s, s:s, s:[s]}", "type", "exec", "name", "web",
                                 "container", "side", "command", "true"),
                       &r),
                 409);
    CHECK_EQ_STR(proto_obj_str(r, "message"), "container side is not running");
    json_decref(r);
    CHECK_EQ_INT(s_sio(a, "stream.open",
                       json_pack("{s:s, s:s, s:i}", "type", "portforward", "name", "web", "port",
                                 70000),
                       &r),
                 400);
    json_decref(r);
    CHECK_EQ_INT(s_sio(a, "stream.io", json_pack("{s:s, s:s}", "stream", id, "data", "%%%"), &r),
                 400);
    json_decref(r);
    CHECK_EQ_INT(s_sio(a, "stream.io", json_pack("{s:s}", "stream", "nope"), &r), 404);
    json_decref(r);
    s_stop(&a);
}

/* A listening socket on 127.0.0.1; its port in *port. */
static int s_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        return -1;
    *port = ntohs(sin.sin_port);
    return fd;
}

TEST(kubelet_stream_portforward)
{
    rt_actor_t *a = s_start();
    char id[64], out[256], err[256], buf[16] = "";
    json_t *r;
    int port = 0, lfd = s_listener(&port);
    REQUIRE(lfd >= 0);
    REQUIRE(s_open(a, "[\"true\"]", false, false, id) == 200); /* the kubelet is up */
    REQUIRE(s_sio(a, "stream.open",
                  json_pack("{s:s, s:s, s:s, s:i}", "type", "portforward", "namespace", "default",
                            "name", "web", "port", port),
                  &r) == 200);
    snprintf(id, sizeof id, "%s", proto_obj_str(r, "stream") ?: "");
    json_decref(r);
    int c = accept(lfd, NULL, NULL);
    REQUIRE(c >= 0);
    CHECK_EQ_INT(s_write(a, id, "ping", false), 200);
    CHECK_EQ_INT((int)recv(c, buf, 4, MSG_WAITALL), 4);
    CHECK_EQ_STR(buf, "ping");
    CHECK_EQ_INT((int)send(c, "pong", 4, 0), 4);
    close(c); /* the pod's side ends: so does the stream */
    CHECK_EQ_INT(s_drain_stream(a, id, out, err, sizeof out), 0);
    CHECK_EQ_STR(out, "pong");
    close(lfd); /* nothing listens there now */
    CHECK_EQ_INT(s_sio(a, "stream.open",
                       json_pack("{s:s, s:s, s:i}", "type", "portforward", "name", "web", "port",
                                 port),
                       &r),
                 500);
    CHECK_CONTAINS(proto_obj_str(r, "message") ?: "", "failed to connect to port");
    CHECK_CONTAINS(proto_obj_str(r, "message") ?: "", "of pod default/web: Connection refused");
    json_decref(r);
    s_stop(&a);
}

TEST(zkubectl_exec_stream_end_to_end)
{
    rt_actor_t *a = s_start();
    char id[64];
    REQUIRE(s_open(a, "[\"true\"]", false, false, id) == 200); /* the kubelet is up */
    FILE *f = fopen("in.txt", "w");
    REQUIRE(f != NULL);
    fputs("line one\nline two\n", f);
    fclose(f);
    REQUIRE(freopen("in.txt", "r", stdin) != NULL);
    REQUIRE(freopen("out.txt", "w", stdout) != NULL);
    REQUIRE(freopen("err.txt", "w", stderr) != NULL);
    ctl_t c = {.actor = a};
    json_t *pod = s_pod("n1", 1);
    json_t *open = json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "namespace", "default", "name",
                             "web", "container", "main", "command", "sh", "-c",
                             "cat; echo oops >&2; exit 3");
    CHECK_EQ_INT(ctl_exec_stream(&c, pod, open, true, true), 3); /* not a terminal: no tty */
    json_decref(open);
    json_decref(pod);
    fflush(stdout);
    fflush(stderr);
    CHECK_EQ_STR(s_slurp("out.txt"), "line one\nline two\n");
    CHECK_EQ_STR(s_slurp("err.txt"), "Unable to use a TTY - input is not a terminal or the right "
                                     "kind of file\noops\ncommand terminated with exit code 3\n");
    s_stop(&a);
}
