/*
 * tests/unit/test_expose.c — the Service `zkubectl expose` makes
 * (tools/zkubectl/expose_svc.c), compared byte for byte with the real
 * kubectl's `expose -f FILE --dry-run=client -o yaml|json` for RCs,
 * ReplicaSets, Deployments, pods and services, with and without flags,
 * errors included. kubectl needs discovery even for a client dry run: each
 * test writes a small discovery cache for a server that is never there
 * (127.0.0.1:1), so kubectl runs offline. Skipped when kubectl is missing.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/manifest.h"
#include "tools/zkubectl/expose_svc.c"

#define S_SERVER "127.0.0.1:1"

static const char s_groups[] =
    "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{\"name\":\"\",\"versions\":"
    "[{\"groupVersion\":\"v1\",\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":"
    "\"v1\",\"version\":\"v1\"}},{\"name\":\"apps\",\"versions\":[{\"groupVersion\":\"apps/v1\","
    "\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}}"
    "]}";

/* One APIResourceList entry. */
#define S_RES(plural, singular, kind)                                                            \
    "{\"name\":\"" plural "\",\"singularName\":\"" singular "\",\"namespaced\":true,\"kind\":\"" \
    kind "\",\"verbs\":[\"get\"]}"

static const char s_core[] =
    "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"v1\",\"resources\":["
    S_RES("pods", "pod", "Pod") "," S_RES("services", "service", "Service") ","
    S_RES("replicationcontrollers", "replicationcontroller", "ReplicationController") ","
    S_RES("secrets", "secret", "Secret") "]}";

static const char s_apps[] =
    "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"apps/v1\","
    "\"resources\":[" S_RES("replicasets", "replicaset", "ReplicaSet") ","
    S_RES("deployments", "deployment", "Deployment") ","
    S_RES("daemonsets", "daemonset", "DaemonSet") "]}";

/* The manifests, by name. */
static const struct {
    const char *name, *yaml;
} s_objs[] = {
    {"rc", "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: kubia\nspec:\n"
           "  replicas: 3\n  selector:\n    app: kubia\n  template:\n    metadata:\n"
           "      labels:\n        app: kubia\n    spec:\n      containers:\n"
           "      - name: kubia\n        image: luksa/kubia\n        ports:\n"
           "        - containerPort: 8080\n"},
    {"pod", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kubia-manual-v2\n  labels:\n"
            "    creation_method: manual\n    env: prod\nspec:\n  containers:\n"
            "  - image: luksa/kubia\n    name: kubia\n    ports:\n    - containerPort: 8080\n"
            "      protocol: TCP\n"},
    {"bare", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bare\nspec:\n  containers:\n"
             "  - name: c\n    image: x\n"},
    {"rs", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: mixed\n  labels:\n"
           "    tier: web\nspec:\n  selector:\n    matchLabels:\n      app: kubia\n"
           "  template:\n    metadata:\n      labels: {app: kubia}\n    spec:\n"
           "      containers:\n      - {name: a, image: x, ports: [{containerPort: 80}, "
           "{containerPort: 53, protocol: UDP}]}\n      - {name: b, image: x, ports: "
           "[{containerPort: 80, protocol: UDP}, {containerPort: 81}]}\n"},
    {"rsexpr", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: kubia\nspec:\n"
               "  selector:\n    matchLabels: {app: kubia}\n    matchExpressions:\n"
               "    - {key: env, operator: In, values: [prod, dev]}\n"
               "    - {key: x, operator: Exists}\n  template:\n    metadata:\n"
               "      labels: {app: kubia, env: prod, x: 'y'}\n    spec:\n"
               "      containers: [{name: a, image: x}]\n"},
    {"deploy", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: dns\nspec:\n"
               "  selector:\n    matchLabels:\n      k8s-app: dns\n  template:\n"
               "    metadata:\n      labels:\n        k8s-app: dns\n    spec:\n"
               "      containers:\n      - name: dns\n        image: x\n        ports:\n"
               "        - {containerPort: 53, protocol: UDP}\n"
               "        - {containerPort: 53, protocol: TCP}\n"
               "        - {containerPort: 9153}\n"},
    {"deployexpr", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: de\nspec:\n"
                   "  selector:\n    matchExpressions:\n"
                   "    - {key: env, operator: In, values: [prod]}\n  template:\n"
                   "    metadata:\n      labels: {env: prod}\n    spec:\n"
                   "      containers: [{name: a, image: x}]\n"},
    {"svc", "apiVersion: v1\nkind: Service\nmetadata:\n  name: kubia\nspec:\n  ports:\n"
            "  - name: http\n    port: 80\n    targetPort: 8080\n  - name: https\n"
            "    port: 443\n    targetPort: 8443\n  selector:\n    app: kubia\n"},
    {"svcnosel", "apiVersion: v1\nkind: Service\nmetadata:\n  name: nosel\nspec:\n"
                 "  ports:\n  - port: 80\n"},
    {"ds", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ssd\nspec:\n"
           "  selector:\n    matchLabels: {app: ssd}\n  template:\n    metadata:\n"
           "      labels: {app: ssd}\n    spec:\n      containers: [{name: a, image: x}]\n"},
    {"secret", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: b\n"},
};
#define S_NOBJS (sizeof s_objs / sizeof s_objs[0])

/* Each case: a manifest and kubectl's flags, all in --flag=value form. */
static const struct {
    const char *obj, *flags;
} s_cases[] = {
    {"rc", ""},
    {"rc", "--port=80 --target-port=8080"},
    {"rc", "--type=NodePort --name=foo --labels=a=b,c=d --external-ip=1.2.3.4 --selector=x=y "
           "--target-port=http"},
    {"rc", "--port=80,81"},
    {"rc", "--cluster-ip=None --session-affinity=ClientIP"},
    {"rc", "--type=LoadBalancer --load-balancer-ip=1.1.1.1 --protocol=UDP"},
    {"rc", "--port=abc"},
    {"rc", "--port=80,"},
    {"rc", "--labels=abc"},
    {"rc", "--labels==b"},
    {"rc", "--session-affinity=Foo"},
    {"rc", "--port=99999999999"},
    {"rc", "--target-port=0 --namespace=foo"},
    {"pod", ""},
    {"bare", ""},
    {"bare", "--selector=a=b"},
    {"bare", "--selector=a=b --cluster-ip=None"},
    {"rs", ""},
    {"rs", "--port=80"},
    {"rsexpr", ""},
    {"deploy", ""},
    {"deploy", "--port=53"},
    {"deploy", "--port=9153 --protocol=SCTP"},
    {"deployexpr", ""},
    {"svc", ""},
    {"svc", "--name=other --labels=x=y"},
    {"svcnosel", ""},
    {"ds", ""},
    {"secret", "--port=80"},
};
#define S_NCASES (sizeof s_cases / sizeof s_cases[0])

static bool s_have_kubectl(void)
{
    return system("kubectl version --client >/dev/null 2>&1") == 0;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A discovery cache that lets kubectl resolve kinds without a server. */
static void s_discovery(void)
{
    const char *d = ".kube/cache/discovery/127.0.0.1_1";
    char p[256];
    snprintf(p, sizeof p, "mkdir -p %s/v1 %s/apps/v1", d, d);
    if (system(p) != 0)
        T_FAIL("mkdir");
    snprintf(p, sizeof p, "%s/servergroups.json", d);
    s_write(p, s_groups);
    snprintf(p, sizeof p, "%s/v1/serverresources.json", d);
    s_write(p, s_core);
    snprintf(p, sizeof p, "%s/apps/v1/serverresources.json", d);
    s_write(p, s_apps);
}

static char *s_run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    size_t n;
    while (b && (n = fread(b + len, 1, cap - len - 1, p)) > 0)
        if ((len += n) + 1 == cap)
            b = realloc(b, cap *= 2);
    int st = pclose(p);
    if (b) {
        b[len] = '\0';
        /* the exit code, as the last line */
        char tail[32];
        snprintf(tail, sizeof tail, "rc=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        b = realloc(b, len + sizeof tail);
        strcat(b, tail);
    }
    return b;
}

/* --flag=value words into opts; values point into buf. */
static void s_opts(char *buf, ctl_expose_opts_t *o)
{
    memset(o, 0, sizeof *o);
    static const struct {
        const char *flag;
        size_t off;
    } m[] = {
        {"port", offsetof(ctl_expose_opts_t, port)},
        {"target-port", offsetof(ctl_expose_opts_t, target_port)},
        {"protocol", offsetof(ctl_expose_opts_t, protocol)},
        {"type", offsetof(ctl_expose_opts_t, type)},
        {"name", offsetof(ctl_expose_opts_t, name)},
        {"selector", offsetof(ctl_expose_opts_t, selector)},
        {"labels", offsetof(ctl_expose_opts_t, labels)},
        {"external-ip", offsetof(ctl_expose_opts_t, external_ip)},
        {"cluster-ip", offsetof(ctl_expose_opts_t, cluster_ip)},
        {"session-affinity", offsetof(ctl_expose_opts_t, session_affinity)},
        {"load-balancer-ip", offsetof(ctl_expose_opts_t, load_balancer_ip)},
        {"namespace", offsetof(ctl_expose_opts_t, ns)},
    };
    for (char *t = strtok(buf, " "); t; t = strtok(NULL, " ")) {
        char *eq = strchr(t, '=');
        if (strncmp(t, "--", 2) || !eq)
            continue;
        *eq = '\0';
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            if (!strcmp(t + 2, m[i].flag))
                *(const char **)((char *)o + m[i].off) = eq + 1;
    }
}

/* What zkubectl prints for the case, in kubectl's shape (with "rc=N"). */
static char *s_ours(const char *yaml, const char *flags, const char *fmt)
{
    json_t *docs = NULL;
    char err[2048], buf[512];
    if (proto_manifest_parse(yaml, strlen(yaml), "obj.yaml", &docs, err, sizeof err) != 0)
        return strdup(err);
    snprintf(buf, sizeof buf, "%s", flags);
    ctl_expose_opts_t o;
    s_opts(buf, &o);
    json_t *svc = NULL;
    char *out = NULL;
    if (ctl_expose_service(json_array_get(docs, 0), &o, &svc, err, sizeof err) != 0) {
        if (asprintf(&out, "error: %s\nrc=1\n", err) < 0)
            out = NULL;
    } else {
        char *s = fmt[0] == 'y' ? proto_yaml_dump(svc) : json_dumps(svc, JSON_INDENT(4));
        if (asprintf(&out, "%s%src=0\n", s, fmt[0] == 'y' ? "" : "\n") < 0)
            out = NULL;
        free(s);
    }
    json_decref(svc);
    json_decref(docs);
    return out;
}

static const char *s_yaml_of(const char *name)
{
    for (size_t i = 0; i < S_NOBJS; i++)
        if (!strcmp(s_objs[i].name, name))
            return s_objs[i].yaml;
    return "";
}

static int s_diff_case(size_t i, const char *fmt)
{
    char cmd[1024];
    const char *yaml = s_yaml_of(s_cases[i].obj);
    s_write("obj.yaml", yaml);
    snprintf(cmd, sizeof cmd, "HOME=%s kubectl --server http://" S_SERVER " expose -f obj.yaml "
             "%s --dry-run=client -o %s 2>&1", t_tmpdir(), s_cases[i].flags, fmt);
    char *want = s_run(cmd), *got = s_ours(yaml, s_cases[i].flags, fmt);
    int bad = !want || !got || strcmp(want, got) != 0;
    if (bad)
        T_FAIL("expose %s %s -o %s:\n--- kubectl:\n%s--- zkubectl:\n%s", s_cases[i].obj,
               s_cases[i].flags, fmt, want ? want : "(null)\n", got ? got : "(null)\n");
    free(want);
    free(got);
    return bad;
}

TEST(expose_matches_kubectl)
{
    if (!s_have_kubectl()) {
        printf("# kubectl not installed: differential check skipped\n");
        return;
    }
    setenv("HOME", t_tmpdir(), 1);
    s_discovery();
    int bad = 0, n = 0;
    for (size_t i = 0; i < S_NCASES; i++) {
        bad += s_diff_case(i, "yaml");
        bad += s_diff_case(i, "json");
        n += 2;
    }
    printf("# %d of %d services identical to kubectl's\n", n - bad, n);
}

/* Checks that hold without kubectl: the fields the book relies on. */
TEST(expose_rc_port_and_target)
{
    json_t *docs = NULL;
    char err[512];
    REQUIRE(proto_manifest_parse(s_objs[0].yaml, strlen(s_objs[0].yaml), "rc", &docs, err,
                                 sizeof err) == 0);
    ctl_expose_opts_t o = {.port = "80", .target_port = "8080"};
    json_t *svc = NULL;
    REQUIRE(ctl_expose_service(json_array_get(docs, 0), &o, &svc, err, sizeof err) == 0);
    CHECK_EQ_STR(proto_obj_str(svc, "metadata.name"), "kubia");
    CHECK_EQ_STR(proto_obj_str(svc, "spec.selector.app"), "kubia");
    json_t *p = json_array_get(proto_obj_get(svc, "spec.ports"), 0);
    CHECK_EQ_INT(proto_obj_int(p, "port", 0), 80);
    CHECK_EQ_INT(proto_obj_int(p, "targetPort", 0), 8080);
    CHECK_EQ_STR(proto_obj_str(p, "protocol"), "TCP");
    json_decref(svc);
    o = (ctl_expose_opts_t){.port = "x"};
    CHECK(ctl_expose_service(json_array_get(docs, 0), &o, &svc, err, sizeof err) == -EINVAL);
    CHECK_EQ_STR(err, "strconv.Atoi: parsing \"x\": invalid syntax");
    CHECK(svc == NULL);
    json_decref(docs);
}
