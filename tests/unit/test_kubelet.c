/*
 * tests/unit/test_kubelet — the kubelet's pure parts: restart back-off,
 * pod phase and conditions, container environments (service variables,
 * $(VAR) expansion, valueFrom), CRI log framing and rendering; the hollow
 * driver; and the process driver's container shim (log framing, exit
 * records) run in a child process.
 */
#include "tests/unit/test.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "actors/kubelet/kubelet.h"
#include "protocol/obj.h"
#include "protocol/status.h"

/* ---- back-off ------------------------------------------------------------- */

TEST(backoff_doubles_to_five_minutes)
{
    CHECK_EQ_INT(kubelet_backoff_ms(0), 0);
    CHECK_EQ_INT(kubelet_backoff_ms(1), 10000);
    CHECK_EQ_INT(kubelet_backoff_ms(2), 20000);
    CHECK_EQ_INT(kubelet_backoff_ms(3), 40000);
    CHECK_EQ_INT(kubelet_backoff_ms(5), 160000);
    CHECK_EQ_INT(kubelet_backoff_ms(6), 300000);
    CHECK_EQ_INT(kubelet_backoff_ms(100), 300000);
    CHECK_EQ_INT(kubelet_backoff_ms(-3), 0);
}

/* ---- phase and conditions -------------------------------------------------- */

static json_t *s_pod(const char *policy, int nctrs, int ninit)
{
    json_t *pod = json_pack("{s:{s:s, s:s}, s:{s:s, s:[]}}", "metadata", "name", "p", "namespace",
                            "default", "spec", "restartPolicy", policy, "containers");
    for (int i = 0; i < nctrs; i++)
        json_array_append_new(proto_obj_get(pod, "spec.containers"),
                              json_pack("{s:s#, s:s}", "name", "abcdef" + i, 1, "image", "busybox"));
    if (ninit) {
        json_t *inits = json_array();
        for (int i = 0; i < ninit; i++)
            json_array_append_new(inits, json_pack("{s:s#}", "name", "uvwxyz" + i, 1));
        proto_obj_set(pod, "spec.initContainers", inits);
    }
    return pod;
}

static json_t *s_running(const char *name, bool ready)
{
    return json_pack("{s:s, s:b, s:{s:{s:s}}}", "name", name, "ready", ready, "state", "running",
                     "startedAt", "2026-11-27T06:00:00Z");
}

static json_t *s_term(const char *name, int code)
{
    return json_pack("{s:s, s:b, s:{s:{s:i}}}", "name", name, "ready", 0, "state", "terminated",
                     "exitCode", code);
}

static json_t *s_wait(const char *name, const char *reason, int last_code)
{
    json_t *st = json_pack("{s:s, s:b, s:{s:{s:s}}}", "name", name, "ready", 0, "state",
                           "waiting", "reason", reason);
    if (last_code >= 0)
        json_object_set_new(st, "lastState",
                            json_pack("{s:{s:i}}", "terminated", "exitCode", last_code));
    return st;
}

TEST(phase_follows_get_phase_rules)
{
    json_t *pod = s_pod("Always", 2, 0);
    json_t *st = json_pack("[o, o]", s_wait("a", "ContainerCreating", -1), s_running("b", 1));
    CHECK_EQ_STR(kubelet_pod_phase(pod, NULL, st), "Pending");
    json_decref(st);
    st = json_pack("[o, o]", s_running("a", 1), s_running("b", 1));
    CHECK_EQ_STR(kubelet_pod_phase(pod, NULL, st), "Running");
    json_decref(st);
    /* restarting after a crash counts as stopped: Running with Always */
    st = json_pack("[o, o]", s_wait("a", "CrashLoopBackOff", 1), s_wait("b", "CrashLoopBackOff", 2));
    CHECK_EQ_STR(kubelet_pod_phase(pod, NULL, st), "Running");
    json_decref(st);
    json_decref(pod);

    pod = s_pod("Never", 1, 0);
    st = json_pack("[o]", s_term("a", 0));
    CHECK_EQ_STR(kubelet_pod_phase(pod, NULL, st), "Succeeded");
    json_decref(st);
    st = json_pack("[o]", s_term("a", 2));
    CHECK_EQ_STR(kubelet_pod_phase(pod, NULL, st), "Failed");
    json_decref(st);
    /* fewer statuses than containers: still Pending */
    CHECK_EQ_STR(kubelet_pod_phase(pod, NULL, NULL), "Pending");
    json_decref(pod);

    pod = s_pod("OnFailure", 1, 0);
    st = json_pack("[o]", s_term("a", 1));
    CHECK_EQ_STR(kubelet_pod_phase(pod, NULL, st), "Running");
    json_decref(st);
    json_decref(pod);
}

TEST(phase_with_init_containers)
{
    json_t *pod = s_pod("Never", 1, 2);
    json_t *inits = json_pack("[o, o]", s_term("u", 0), s_running("v", 0));
    json_t *st = json_pack("[o]", s_wait("a", "PodInitializing", -1));
    CHECK_EQ_STR(kubelet_pod_phase(pod, inits, st), "Pending");
    json_decref(inits);
    inits = json_pack("[o, o]", s_term("u", 0), s_term("v", 1));
    CHECK_EQ_STR(kubelet_pod_phase(pod, inits, st), "Failed");
    json_decref(inits);
    inits = json_pack("[o, o]", s_term("u", 0), s_term("v", 0));
    json_decref(st);
    st = json_pack("[o]", s_running("a", 1));
    CHECK_EQ_STR(kubelet_pod_phase(pod, inits, st), "Running");
    json_t *conds = kubelet_pod_conditions(pod, "Running", inits, st, NULL, "2026-11-27T07:00:00Z");
    CHECK_EQ_INT(json_array_size(conds), 4);
    CHECK_EQ_STR(proto_obj_str(json_array_get(conds, 0), "type"), "Initialized");
    CHECK_EQ_STR(proto_obj_str(json_array_get(conds, 0), "status"), "True");
    json_decref(conds);
    json_decref(inits);
    json_decref(st);
    json_decref(pod);
}

static const json_t *s_cond_of(const json_t *conds, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
        if (!strcmp(proto_obj_str(c, "type"), type))
            return c;
    return NULL;
}

TEST(conditions_keep_transition_time)
{
    json_t *pod = s_pod("Always", 2, 0);
    json_t *st = json_pack("[o, o]", s_running("a", 1), s_running("b", 0));
    json_t *c1 = kubelet_pod_conditions(pod, "Running", NULL, st, NULL, "2026-11-27T07:00:00Z");
    const json_t *ready = s_cond_of(c1, "Ready");
    CHECK_EQ_STR(proto_obj_str(ready, "status"), "False");
    CHECK_EQ_STR(proto_obj_str(ready, "reason"), "ContainersNotReady");
    CHECK_EQ_STR(proto_obj_str(ready, "message"), "containers with unready status: [b]");
    CHECK_EQ_STR(proto_obj_str(s_cond_of(c1, "PodScheduled"), "status"), "True");
    /* same status later: the transition time stays */
    json_t *c2 = kubelet_pod_conditions(pod, "Running", NULL, st, c1, "2026-11-27T07:05:00Z");
    CHECK_EQ_STR(proto_obj_str(s_cond_of(c2, "Ready"), "lastTransitionTime"),
                 "2026-11-27T07:00:00Z");
    json_decref(st);
    /* b becomes ready: Ready flips, with the new time */
    st = json_pack("[o, o]", s_running("a", 1), s_running("b", 1));
    json_t *c3 = kubelet_pod_conditions(pod, "Running", NULL, st, c2, "2026-11-27T07:09:00Z");
    CHECK_EQ_STR(proto_obj_str(s_cond_of(c3, "Ready"), "status"), "True");
    CHECK_EQ_STR(proto_obj_str(s_cond_of(c3, "ContainersReady"), "lastTransitionTime"),
                 "2026-11-27T07:09:00Z");
    CHECK_EQ_STR(proto_obj_str(s_cond_of(c3, "PodScheduled"), "lastTransitionTime"),
                 "2026-11-27T07:00:00Z");
    json_t *c4 = kubelet_pod_conditions(pod, "Succeeded", NULL, st, c3, "2026-11-27T07:10:00Z");
    CHECK_EQ_STR(proto_obj_str(s_cond_of(c4, "Ready"), "reason"), "PodCompleted");
    json_decref(c1);
    json_decref(c2);
    json_decref(c3);
    json_decref(c4);
    json_decref(st);
    json_decref(pod);
}

/* ---- environment ---------------------------------------------------------- */

static bool s_has(const json_t *env, const char *kv)
{
    size_t i;
    json_t *x;
    json_array_foreach(env, i, x)
        if (!strcmp(json_string_value(x), kv))
            return true;
    return false;
}

TEST(service_env_as_docker_links)
{
    json_t *svc = json_pack("{s:{s:s}, s:{s:s, s:[{s:s, s:i, s:s}, {s:s, s:i}]}}", "metadata",
                            "name", "kubia-svc", "spec", "clusterIP", "10.96.0.12", "ports",
                            "name", "http", "port", 80, "protocol", "TCP", "name", "https", "port",
                            443);
    json_t *env = json_array();
    kubelet_service_env(env, svc);
    CHECK(s_has(env, "KUBIA_SVC_SERVICE_HOST=10.96.0.12"));
    CHECK(s_has(env, "KUBIA_SVC_SERVICE_PORT=80"));
    CHECK(s_has(env, "KUBIA_SVC_SERVICE_PORT_HTTP=80"));
    CHECK(s_has(env, "KUBIA_SVC_SERVICE_PORT_HTTPS=443"));
    CHECK(s_has(env, "KUBIA_SVC_PORT=tcp://10.96.0.12:80"));
    CHECK(s_has(env, "KUBIA_SVC_PORT_443_TCP=tcp://10.96.0.12:443"));
    CHECK(s_has(env, "KUBIA_SVC_PORT_80_TCP_PROTO=tcp"));
    CHECK(s_has(env, "KUBIA_SVC_PORT_80_TCP_PORT=80"));
    CHECK(s_has(env, "KUBIA_SVC_PORT_80_TCP_ADDR=10.96.0.12"));
    json_decref(env);
    /* headless: nothing */
    proto_obj_set_str(svc, "spec.clusterIP", "None");
    env = json_array();
    kubelet_service_env(env, svc);
    CHECK_EQ_INT(json_array_size(env), 0);
    json_decref(env);
    json_decref(svc);
}

TEST(expand_references)
{
    json_t *env = json_pack("[s, s]", "A=one", "B=two");
    char *s = kubelet_expand("x-$(A)-$(B)-$(C)-$$(A)-$(", env);
    CHECK_EQ_STR(s, "x-one-two-$(C)-$(A)-$(");
    free(s);
    json_decref(env);
}

static json_t *s_objs;

static const json_t *s_lookup(void *arg, const char *resource, const char *ns, const char *name)
{
    (void)arg;
    char key[256];
    snprintf(key, sizeof key, "%s/%s/%s", resource, ns, name);
    return json_object_get(s_objs, key);
}

TEST(env_build_sources)
{
    s_objs = json_pack("{s:{s:{s:s, s:s}}, s:{s:{s:s}}}", "configmaps/default/cfg", "data",
                       "sleep-interval", "25", "other", "x", "secrets/default/sec", "data", "pw",
                       "c2VjcmV0"); /* "secret" */
    json_t *pod = json_pack("{s:{s:s, s:s, s:s, s:{s:s}}, s:{s:s}}", "metadata", "name", "web",
                            "namespace", "default", "uid", "u-1", "labels", "app", "kubia",
                            "spec", "nodeName", "n1");
    json_t *ctr = json_loads(
        "{\"name\": \"c\", \"env\": ["
        "{\"name\": \"FIRST\", \"value\": \"1\"},"
        "{\"name\": \"SECOND\", \"value\": \"$(FIRST)-2\"},"
        "{\"name\": \"NAME\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.name\"}}},"
        "{\"name\": \"IP\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"status.podIP\"}}},"
        "{\"name\": \"INTERVAL\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"cfg\","
        " \"key\": \"sleep-interval\"}}},"
        "{\"name\": \"PW\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"sec\", \"key\": \"pw\"}}},"
        "{\"name\": \"APP\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.labels['app']\"}}}],"
        " \"envFrom\": [{\"prefix\": \"CFG_\", \"configMapRef\": {\"name\": \"cfg\"}}]}",
        0, NULL);
    REQUIRE(ctr != NULL);
    json_t *img = json_pack("[s, s]", "PATH=/bin", "FIRST=image");
    json_t *svcs = json_pack("[{s:{s:s}, s:{s:s, s:[{s:i}]}}]", "metadata", "name", "db", "spec",
                             "clusterIP", "10.96.0.5", "ports", "port", 5432);
    json_t *env = NULL;
    char err[256] = "";
    int rc = kubelet_env_build(pod, ctr, img, svcs, "10.1.1.7", "192.168.0.2", s_lookup, NULL,
                               &env, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    CHECK(s_has(env, "PATH=/bin"));
    CHECK(s_has(env, "FIRST=1"));
    CHECK(!s_has(env, "FIRST=image"));
    CHECK(s_has(env, "SECOND=1-2"));
    CHECK(s_has(env, "NAME=web"));
    CHECK(s_has(env, "IP=10.1.1.7"));
    CHECK(s_has(env, "INTERVAL=25"));
    CHECK(s_has(env, "PW=secret"));
    CHECK(s_has(env, "APP=kubia"));
    CHECK(s_has(env, "CFG_other=x"));
    CHECK(s_has(env, "HOSTNAME=web"));
    CHECK(s_has(env, "DB_SERVICE_HOST=10.96.0.5"));
    json_decref(env);
    env = NULL;

    /* a missing configmap is an error with Kubernetes' message ... */
    json_t *bad = json_loads("{\"name\": \"c\", \"env\": [{\"name\": \"X\", \"valueFrom\":"
                             " {\"configMapKeyRef\": {\"name\": \"nope\", \"key\": \"k\"}}}]}",
                             0, NULL);
    REQUIRE(bad != NULL);
    rc = kubelet_env_build(pod, bad, NULL, NULL, "", "", s_lookup, NULL, &env, err, sizeof err);
    CHECK_EQ_INT(rc, PROTO_ENOTFOUND);
    CHECK_EQ_STR(err, "configmap \"nope\" not found");
    CHECK(env == NULL);
    /* ... a missing key too ... */
    proto_obj_set_str(json_array_get(json_object_get(bad, "env"), 0),
                      "valueFrom.configMapKeyRef.name", "cfg");
    rc = kubelet_env_build(pod, bad, NULL, NULL, "", "", s_lookup, NULL, &env, err, sizeof err);
    CHECK_EQ_INT(rc, PROTO_ENOTFOUND);
    CHECK_EQ_STR(err, "couldn't find key k in ConfigMap default/cfg");
    /* ... unless optional */
    proto_obj_set(json_array_get(json_object_get(bad, "env"), 0),
                  "valueFrom.configMapKeyRef.optional", json_true());
    rc = kubelet_env_build(pod, bad, NULL, NULL, "", "", s_lookup, NULL, &env, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    CHECK(!s_has(env, "X="));
    json_decref(env);
    json_decref(bad);
    json_decref(svcs);
    json_decref(img);
    json_decref(ctr);
    json_decref(pod);
    json_decref(s_objs);
}

/* ---- logs ----------------------------------------------------------------- */

TEST(log_frame_and_render)
{
    char rec[256], all[1024] = "";
    int64_t t0 = 1795759200LL * 1000000000LL; /* 2026-11-27T06:00:00Z */
    size_t n = kubelet_log_frame(rec, t0 + 123456789, "stdout", false, "hello", 5);
    rec[n] = '\0';
    CHECK_EQ_STR(rec, "2026-11-27T06:00:00.123456789Z stdout F hello\n");
    strcat(all, rec);
    n = kubelet_log_frame(rec, t0 + 2000000000LL, "stderr", true, "par", 3);
    rec[n] = '\0';
    strcat(all, rec);
    n = kubelet_log_frame(rec, t0 + 2000000001LL, "stderr", false, "tial", 4);
    rec[n] = '\0';
    strcat(all, rec);
    n = kubelet_log_frame(rec, t0 + 5000000000LL, "stdout", false, "", 0);
    rec[n] = '\0';
    strcat(all, rec);
    strcat(all, "not a record\n");

    kl_log_query_t q = {.tail_lines = -1};
    size_t len;
    char *out = kubelet_log_render(all, strlen(all), &q, &len);
    CHECK_EQ_STR(out, "hello\npartial\n\nnot a record\n");
    CHECK_EQ_INT(len, strlen(out));
    free(out);

    q.tail_lines = 2;
    out = kubelet_log_render(all, strlen(all), &q, &len);
    CHECK_EQ_STR(out, "\nnot a record\n");
    free(out);

    q.tail_lines = 0;
    out = kubelet_log_render(all, strlen(all), &q, &len);
    CHECK_EQ_STR(out, "");
    free(out);

    q = (kl_log_query_t){.tail_lines = 1, .timestamps = true};
    char one[128];
    n = kubelet_log_frame(one, t0 + 1, "stdout", false, "x", 1);
    out = kubelet_log_render(one, n, &q, &len);
    CHECK_EQ_STR(out, "2026-11-27T06:00:00.000000001Z x\n");
    free(out);

    q = (kl_log_query_t){.tail_lines = -1, .since_ns = t0 + 1000000000LL};
    out = kubelet_log_render(all, strlen(all), &q, &len);
    CHECK_EQ_STR(out, "partial\n\nnot a record\n");
    free(out);

    q = (kl_log_query_t){.tail_lines = -1, .limit_bytes = 3};
    out = kubelet_log_render(all, strlen(all), &q, &len);
    CHECK_EQ_STR(out, "hel");
    free(out);
}

/* ---- hollow driver -------------------------------------------------------- */

TEST(hollow_driver_lifecycle)
{
    kubelet_driver_t *d = NULL;
    char err[128] = "", ip[64] = "";
    kl_driver_config_t cfg = {.node = "h-0", .state_dir = "."};
    REQUIRE(kubelet_driver_hollow(&d, &cfg, err, sizeof err) == 0);
    json_t *pod = json_pack("{s:{s:s, s:s}}", "metadata", "name", "p", "uid", "uid-1");
    json_t *ctr = json_pack("{s:s}", "name", "c");
    CHECK_EQ_INT(d->ops->sandbox_create(d, pod, ip, err, sizeof err), 0);
    CHECK(strncmp(ip, "10.244.", 7) == 0);
    kl_container_spec_t cs = {.pod = pod, .container = ctr, .id = "uid-1-c-0"};
    CHECK_EQ_INT(d->ops->container_start(d, &cs, err, sizeof err), 0);
    kl_status_t st;
    CHECK_EQ_INT(d->ops->container_status(d, "uid-1-c-0", &st), 0);
    CHECK_EQ_INT(st.state, KL_STATE_RUNNING);
    int code = -1;
    char *argv[] = {"true", NULL};
    CHECK_EQ_INT(d->ops->container_exec(d, "uid-1-c-0", argv, 100, &code, NULL, 0), 0);
    CHECK_EQ_INT(code, 0);
    json_t *list = NULL;
    CHECK_EQ_INT(d->ops->list(d, &list), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(list, "containers")), 1);
    CHECK_EQ_STR(proto_obj_str(json_array_get(json_object_get(list, "containers"), 0), "state"),
                 "running");
    json_decref(list);
    CHECK_EQ_INT(d->ops->container_signal(d, "uid-1-c-0", SIGKILL), 0);
    CHECK_EQ_INT(d->ops->container_status(d, "uid-1-c-0", &st), 0);
    CHECK_EQ_INT(st.state, KL_STATE_EXITED);
    CHECK_EQ_INT(st.exit_code, 137);
    CHECK_EQ_INT(d->ops->container_remove(d, "uid-1-c-0"), 0);
    CHECK_EQ_INT(d->ops->container_status(d, "uid-1-c-0", &st), PROTO_ENOTFOUND);
    json_decref(pod);
    json_decref(ctr);
    d->ops->destroy(&d);
    CHECK(d == NULL);
}

/* ---- process shim --------------------------------------------------------- */

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static bool s_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

TEST(shim_frames_output_and_records_exit)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"shim", "st", "c.log", "/bin/sh", "/", "--", "sh", "-c",
                        "echo hello; echo oops >&2; printf tail; exit 3", NULL};
        _exit(kl_shim_main(9, argv));
    }
    REQUIRE(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(s_exists("st.pid"));
    const char *ex = s_slurp("st.exit");
    REQUIRE(ex != NULL);
    CHECK_EQ_INT(atoi(ex), 3);
    char *log = s_slurp("c.log");
    REQUIRE(log != NULL);
    CHECK_CONTAINS(log, " stdout F hello\n");
    CHECK_CONTAINS(log, " stderr F oops\n");
    CHECK_CONTAINS(log, " stdout F tail\n");
    kl_log_query_t q = {.tail_lines = -1};
    size_t len;
    char *out = kubelet_log_render(log, strlen(log), &q, &len);
    CHECK_CONTAINS(out, "hello\n");
    CHECK_CONTAINS(out, "oops\n");
    free(out);
}

TEST(shim_reports_signal_deaths)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"shim", "st", "c.log", "/bin/sh", "/", "--", "sh", "-c", "kill -9 $$",
                        NULL};
        _exit(kl_shim_main(9, argv));
    }
    REQUIRE(pid > 0);
    waitpid(pid, NULL, 0);
    const char *ex = s_slurp("st.exit");
    REQUIRE(ex != NULL);
    int code = 0, sig = 0;
    CHECK_EQ_INT(sscanf(ex, "%d %d", &code, &sig), 2);
    CHECK_EQ_INT(code, 137);
    CHECK_EQ_INT(sig, 9);
}

TEST(proc_start_identifies_processes)
{
    CHECK(kl_proc_start(getpid()) > 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    CHECK_EQ_INT(kl_proc_start(pid), 0);
}

/* ---- process driver ------------------------------------------------------- */

/* The process driver starts shims as "/proc/self/exe kubelet shim ...":
 * this test binary plays zkube's part (glibc passes argv to constructors). */
__attribute__((constructor)) static void s_maybe_shim(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc > 2 && !strcmp(argv[1], "kubelet") && !strcmp(argv[2], "shim"))
        _exit(kl_shim_main(argc - 2, argv + 2));
}

/* A rootfs with a copy of the host's busybox and /bin/sh a symlink to it
 * by an absolute path inside the rootfs, as images have them. */
static void s_rootfs(void)
{
    mkdir("rootfs", 0755);
    mkdir("rootfs/bin", 0755);
    mkdir("rootfs/work", 0755);
    FILE *in = fopen("/bin/busybox", "rb"), *out = fopen("rootfs/bin/busybox", "wb");
    char buf[65536];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    chmod("rootfs/bin/busybox", 0755);
    REQUIRE(symlink("/bin/busybox", "rootfs/bin/sh") == 0);
}

static kubelet_driver_t *s_proc_driver(void)
{
    kubelet_driver_t *d = NULL;
    char err[256] = "";
    mkdir("state", 0755);
    kl_driver_config_t cfg = {.node = "n1", .state_dir = "state"};
    int rc = kubelet_driver_process(&d, &cfg, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "  driver: %s\n", err);
    return d;
}

static int s_wait_state(kubelet_driver_t *d, const char *id, kl_state_t want, kl_status_t *st)
{
    for (int i = 0; i < 500; i++) {
        if (d->ops->container_status(d, id, st) == 0 && st->state == want)
            return 0;
        usleep(10000);
    }
    return -1;
}

TEST(process_driver_runs_execs_and_stops)
{
    if (access("/bin/busybox", X_OK) != 0)
        return; /* nothing to run */
    s_rootfs();
    kubelet_driver_t *d = s_proc_driver();
    REQUIRE(d != NULL);
    char cwd[512], log[600], err[256] = "", ip[64] = "";
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(log, sizeof log, "%s/c.log", cwd);
    json_t *pod = json_pack("{s:{s:s, s:s}}", "metadata", "name", "p", "uid", "u1");
    json_t *ctr = json_pack("{s:s, s:[s, s, s], s:s}", "name", "c", "command", "sh", "-c",
                            "echo $(GREETING) $GREETING; pwd; sleep 30", "workingDir", "/work");
    json_t *icfg = json_pack("{s:[], s:[]}", "entrypoint", "cmd");
    char rootfs[600];
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", cwd);
    char *env[] = {"PATH=/bin:/usr/bin", "GREETING=hi", NULL};
    kl_container_spec_t cs = {.pod = pod, .container = ctr, .id = "u1-c-0", .rootfs = rootfs,
                              .image_config = icfg, .env = env, .log_path = log};
    CHECK_EQ_INT(d->ops->sandbox_create(d, pod, ip, err, sizeof err), 0);
    CHECK_EQ_STR(ip, "127.0.0.1");
    REQUIRE(d->ops->container_start(d, &cs, err, sizeof err) == 0);
    kl_status_t st;
    CHECK_EQ_INT(s_wait_state(d, "u1-c-0", KL_STATE_RUNNING, &st), 0);
    CHECK(st.pid > 0);
    char exe[PATH_MAX] = "", link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", st.pid);
    CHECK(readlink(link, exe, sizeof exe - 1) > 0);
    CHECK_CONTAINS(exe, "/rootfs/bin/busybox"); /* the image's binary, not the host's */
    int code = -1;
    char out[128] = "";
    char *argv[] = {"sh", "-c", "echo $GREETING; exit 3", NULL};
    CHECK_EQ_INT(d->ops->container_exec(d, "u1-c-0", argv, 2000, &code, out, sizeof out), 0);
    CHECK_EQ_INT(code, 3);
    CHECK_EQ_STR(out, "hi\n");
    json_t *list = NULL;
    CHECK_EQ_INT(d->ops->list(d, &list), 0);
    CHECK_EQ_STR(proto_obj_str(json_array_get(json_object_get(list, "containers"), 0), "state"),
                 "running");
    CHECK_EQ_STR(proto_obj_str(json_array_get(json_object_get(list, "sandboxes"), 0), "pod_uid"),
                 "u1");
    json_decref(list);
    CHECK_EQ_INT(d->ops->container_signal(d, "u1-c-0", SIGTERM), 0);
    CHECK_EQ_INT(s_wait_state(d, "u1-c-0", KL_STATE_EXITED, &st), 0);
    CHECK_EQ_INT(st.exit_code, 143);
    CHECK_EQ_INT(st.signal, SIGTERM);
    char *text = s_slurp("c.log");
    REQUIRE(text != NULL);
    CHECK_CONTAINS(text, " stdout F hi hi\n"); /* $(VAR) expanded, $VAR by the shell */
    CHECK_CONTAINS(text, "/rootfs/work\n");   /* workingDir inside the rootfs */
    CHECK_EQ_INT(d->ops->container_remove(d, "u1-c-0"), 0);
    CHECK_EQ_INT(d->ops->container_status(d, "u1-c-0", &st), PROTO_ENOTFOUND);
    CHECK_EQ_INT(d->ops->sandbox_remove(d, "u1"), 0);
    json_decref(pod);
    json_decref(ctr);
    json_decref(icfg);
    d->ops->destroy(&d);
}

TEST(process_driver_reports_lost_and_missing)
{
    s_rootfs();
    kubelet_driver_t *d = s_proc_driver();
    REQUIRE(d != NULL);
    char err[256] = "";
    json_t *pod = json_pack("{s:{s:s}}", "metadata", "uid", "u2");
    json_t *ctr = json_pack("{s:s, s:[s]}", "name", "c", "command", "no-such-binary");
    kl_container_spec_t cs = {.pod = pod, .container = ctr, .id = "u2-c-0", .rootfs = "rootfs",
                              .log_path = "c.log"};
    CHECK(d->ops->container_start(d, &cs, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "executable file not found");
    /* a container whose process and shim vanished without an exit record */
    FILE *f = fopen("state/containers/u2-c-1.json", "w");
    REQUIRE(f != NULL);
    fprintf(f, "{\"id\": \"u2-c-1\", \"pod_uid\": \"u2\", \"name\": \"c\", \"created\": 1}");
    fclose(f);
    f = fopen("state/containers/u2-c-1.pid", "w");
    REQUIRE(f != NULL);
    fprintf(f, "999999 12345 999998 12345\n");
    fclose(f);
    kl_status_t st;
    CHECK_EQ_INT(d->ops->container_status(d, "u2-c-1", &st), 0);
    CHECK_EQ_INT(st.state, KL_STATE_EXITED);
    CHECK_EQ_INT(st.exit_code, 137);
    CHECK_EQ_STR(st.reason, "ContainerStatusUnknown");
    CHECK_EQ_INT(d->ops->container_status(d, "../etc", &st), PROTO_EINVALID);
    CHECK_EQ_INT(kubelet_process_cleanup("state"), 0);
    CHECK_EQ_INT(d->ops->container_status(d, "u2-c-1", &st), PROTO_ENOTFOUND);
    json_decref(pod);
    json_decref(ctr);
    d->ops->destroy(&d);
}
