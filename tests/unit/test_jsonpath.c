/*
 * tests/unit/test_jsonpath — protocol/jsonpath against the real kubectl.
 *
 * The differential test builds a Pod, a List of 3 Pods, a Service and a List
 * of Nodes, generates several hundred templates (paths x wrappers x filters x
 * ranges x slices, plus tricky and invalid ones) and runs each through
 * proto_jp_* and through `kubectl patch --local -o jsonpath=...` (offline),
 * comparing stdout byte for byte and error texts. Lists reach kubectl as a
 * List header plus a merge patch carrying the items, because kubectl flattens
 * a List read from a file. Without kubectl, the outputs recorded by
 * tests/unit/gen_jsonpath_expected.sh are checked instead.
 */
#include "tests/unit/test.h"

#include "protocol/jsonpath.h"
#include "protocol/status.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>

static char s_srcdir[1024];
__attribute__((constructor)) static void s_remember_cwd(void)
{
    if (!getcwd(s_srcdir, sizeof s_srcdir))
        s_srcdir[0] = 0;
}

#define POD                                                                                        \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-manual\","           \
    "\"namespace\":\"default\",\"uid\":\"7f0c\",\"resourceVersion\":\"42\","                       \
    "\"creationTimestamp\":\"2026-11-27T05:54:45Z\",\"labels\":{\"app\":\"kubia\","               \
    "\"env\":\"prod\",\"tier.k8s.io/x\":\"a.b\"},\"annotations\":{\"note\":\"<x> & y\"}},"        \
    "\"spec\":{\"nodeName\":\"node1\",\"restartPolicy\":\"Always\",\"containers\":["               \
    "{\"name\":\"kubia\",\"image\":\"luksa/kubia\",\"ports\":[{\"containerPort\":8080,"           \
    "\"protocol\":\"TCP\"}],\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"}}}," \
    "{\"name\":\"side\",\"image\":\"busybox\",\"args\":[\"sleep\",\"3600\"],"                    \
    "\"ports\":[{\"containerPort\":9090},{\"containerPort\":9091}]},"                              \
    "{\"name\":\"third\",\"image\":\"busybox\"}]},"                                               \
    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.0.5\",\"ratio\":0.25,\"big\":1234567.5," \
    "\"tiny\":0.00001,\"huge\":1e22,\"none\":null,\"ok\":true,\"conditions\":["                  \
    "{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"PodScheduled\",\"status\":\"True\"}],"   \
    "\"containerStatuses\":[{\"name\":\"kubia\",\"ready\":true,\"restartCount\":0},"               \
    "{\"name\":\"side\",\"ready\":false,\"restartCount\":3},"                                       \
    "{\"name\":\"third\",\"ready\":true,\"restartCount\":12}]}}"

static const char *s_list_items =
    "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-1\","
    "\"labels\":{\"app\":\"kubia\",\"rel\":\"stable\"}},\"spec\":{\"nodeName\":\"node1\","
    "\"containers\":[{\"name\":\"kubia\",\"image\":\"luksa/kubia\"}]},"
    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.0.5\",\"restarts\":0,\"score\":1.5}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kubia-2\","
    "\"labels\":{\"app\":\"kubia\",\"rel\":\"canary\"}},\"spec\":{\"nodeName\":\"node2\","
    "\"containers\":[{\"name\":\"kubia\",\"image\":\"luksa/kubia:v2\"},{\"name\":\"log\","
    "\"image\":\"busybox\"}]},\"status\":{\"phase\":\"Pending\",\"restarts\":4,\"score\":2.5}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"db-0\","
    "\"labels\":{\"app\":\"db\"}},\"spec\":{\"containers\":[{\"name\":\"pg\",\"image\":\"pg\"}]},"
    "\"status\":{\"phase\":\"Failed\",\"restarts\":10,\"score\":0.5,\"podIP\":\"10.1.1.9\"}}]";

#define SVC                                                                                        \
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kubia\","               \
    "\"namespace\":\"default\"},\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.96.0.10\","      \
    "\"selector\":{\"app\":\"kubia\"},\"ports\":[{\"name\":\"http\",\"port\":80,"                  \
    "\"targetPort\":8080,\"nodePort\":30123,\"protocol\":\"TCP\"},{\"name\":\"https\","           \
    "\"port\":443,\"targetPort\":\"https\",\"protocol\":\"TCP\"}],\"sessionAffinity\":\"None\"}}"

static const char *s_node_items =
    "[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node1\","
    "\"labels\":{\"kubernetes.io/hostname\":\"node1\",\"gpu\":\"true\"}},\"spec\":{\"podCIDR\":"
    "\"10.1.0.0/24\"},\"status\":{\"capacity\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"pods\":\"110\"},"
    "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.0.10\"},{\"type\":\"Hostname\","
    "\"address\":\"node1\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node2\","
    "\"labels\":{\"kubernetes.io/hostname\":\"node2\"}},\"spec\":{\"unschedulable\":true,"
    "\"podCIDR\":\"10.1.1.0/24\"},\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"8Gi\","
    "\"pods\":\"110\"},\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.0.11\"}],"
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}]";

#define JP_BIG (128 * 1024)
#define LIST_HDR "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"}}"

enum { OBJ_POD, OBJ_PODS, OBJ_SVC, OBJ_NODES, OBJ_N };

/* The object as both sides see it (a List is its header with items merged in). */
static json_t *s_object(int which)
{
    const char *txt = which == OBJ_POD ? POD : which == OBJ_SVC ? SVC : LIST_HDR;
    json_t *o = json_loads(txt, 0, NULL);
    if (which == OBJ_PODS || which == OBJ_NODES)
        json_object_set_new(o, "items",
                            json_loads(which == OBJ_PODS ? s_list_items : s_node_items, 0, NULL));
    return o;
}

/* ---- running kubectl ---- */

typedef struct kc_run {
    pid_t pid;
    char out[64], err[64];
} kc_run_t;

static bool s_have_kubectl(void)
{
    static int have = -1;
    if (have < 0)
        have = access("/usr/bin/kubectl", X_OK) == 0 || access("/usr/local/bin/kubectl", X_OK) == 0;
    return have;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    char tmp[4096];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
        fwrite(tmp, 1, r, m);
    fclose(m);
    fclose(f);
    return buf;
}

/* Writes obj-<which>.json and patch-<which>.json once per test process. */
static void s_prepare(int which)
{
    char path[64];
    snprintf(path, sizeof path, "obj-%d.json", which);
    if (access(path, F_OK) == 0)
        return;
    if (which == OBJ_PODS || which == OBJ_NODES) {
        s_write(path, LIST_HDR);
        char *p = NULL;
        if (asprintf(&p, "{\"items\":%s}", which == OBJ_PODS ? s_list_items : s_node_items) < 0)
            exit(1);
        snprintf(path, sizeof path, "patch-%d.json", which);
        s_write(path, p);
        free(p);
    } else {
        s_write(path, which == OBJ_POD ? POD : SVC);
    }
}

static void s_kc_start(kc_run_t *r, int which, const char *tmpl, int slot)
{
    s_prepare(which);
    snprintf(r->out, sizeof r->out, "kc-out-%d", slot);
    snprintf(r->err, sizeof r->err, "kc-err-%d", slot);
    char obj[64], patch[64], *ptext = NULL, *jp = NULL;
    snprintf(obj, sizeof obj, "obj-%d.json", which);
    snprintf(patch, sizeof patch, "patch-%d.json", which);
    bool list = which == OBJ_PODS || which == OBJ_NODES;
    ptext = list ? s_slurp(patch) : strdup("{}");
    if (asprintf(&jp, "jsonpath=%s", tmpl) < 0)
        exit(1);
    fflush(NULL);
    r->pid = fork();
    if (r->pid == 0) {
        int o = open(r->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(r->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        setenv("HOME", t_tmpdir(), 1);
        unsetenv("KUBECONFIG");
        execlp("kubectl", "kubectl", "patch", "--local", "-f", obj, "--type", "merge", "-p", ptext,
               "-o", jp, (char *)NULL);
        _exit(127);
    }
    free(ptext);
    free(jp);
}

static void s_kc_wait(kc_run_t *r)
{
    int st;
    while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* ---- comparing ---- */

typedef struct tcase {
    int which;
    char *tmpl;
} tcase_t;

static tcase_t s_cases[2048];
static int s_ncases;

static void s_add(int which, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_add(int which, const char *fmt, ...)
{
    if (s_ncases >= 2048)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    if (vasprintf(&t, fmt, ap) < 0)
        exit(1);
    va_end(ap);
    s_cases[s_ncases++] = (tcase_t){which, t};
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Output with its space-separated words sorted: for `..` and `.*`, whose map order is random in Go. */
static char *s_sorted_words(const char *s)
{
    char *copy = strdup(s), *save = NULL, *words[4096];
    int n = 0;
    for (char *w = strtok_r(copy, " \n\t[]", &save); w && n < 4096; w = strtok_r(NULL, " \n\t[]", &save))
        words[n++] = w;
    qsort(words, (size_t)n, sizeof *words, s_cmp_str);
    char *out = calloc(strlen(s) + 2, 1);
    for (int i = 0; i < n; i++) {
        strcat(out, words[i]);
        strcat(out, " ");
    }
    free(copy);
    return out;
}

static int s_bad_text;

/* Compares one case with kubectl's stdout/stderr; returns 0 when they agree. */
static int s_compare(const tcase_t *c, const char *kout, const char *kerr)
{
    json_t *obj = s_object(c->which);
    proto_jp_t *jp = NULL;
    char err[1024] = "", *mine = NULL;
    int rc = proto_jp_compile(c->tmpl, &jp, err, sizeof err);
    if (rc == 0)
        rc = proto_jp_exec(jp, obj, 1, &mine, err, sizeof err);
    proto_jp_destroy(&jp);
    json_decref(obj);
    bool kc_failed = strncmp(kerr, "error: ", 7) == 0;
    int bad = 0;
    if (kc_failed != (rc != 0)) {
        fprintf(stderr, "  [%d] %s: kubectl %s, zkube %s\n    kubectl: %s%s\n    zkube: %s%s\n",
                c->which, c->tmpl, kc_failed ? "rejects" : "accepts", rc ? "rejects" : "accepts",
                kout, kerr, mine ? mine : "", err);
        bad = 1;
    } else if (rc != 0) {
        /* kubectl adds ". Printing more information..." after execution errors */
        if (kerr[7] && strncmp(kerr + 7, err, strlen(err)) != 0) {
            fprintf(stderr, "  [%d] %s: error text differs\n    kubectl: %s    zkube:   %s\n",
                    c->which, c->tmpl, kerr, err);
            s_bad_text++;
        }
    } else {
        bool unordered = strstr(c->tmpl, "..") || strstr(c->tmpl, ".*");
        char *a = unordered ? s_sorted_words(kout) : strdup(kout);
        char *b = unordered ? s_sorted_words(mine) : strdup(mine);
        if (strcmp(a, b) != 0) {
            fprintf(stderr, "  [%d] %s: output differs\n    kubectl: [%s]\n    zkube:   [%s]\n",
                    c->which, c->tmpl, kout, mine);
            bad = 1;
        }
        free(a);
        free(b);
    }
    free(mine);
    return bad;
}

/* ---- the generated templates ---- */

static const char *s_pod_paths[] = {
    ".metadata.name", ".metadata.labels", ".metadata.labels.app", ".metadata.annotations.note",
    ".spec.containers[*].name", ".spec.containers[0].image", ".spec.containers[-1].name",
    ".spec.containers[1:].name", ".spec.containers[:2].name", ".spec.containers[::2].name",
    ".spec.containers[0,2].name", ".spec.containers[*].ports[*].containerPort",
    ".spec.containers[1].args", ".spec.containers[0].resources", ".status.phase", ".status.ratio",
    ".status.big", ".status.tiny", ".status.huge", ".status.none", ".status.ok",
    ".status.containerStatuses[*].ready", ".status.containerStatuses[*].restartCount",
    ".status.conditions[?(@.type==\"Ready\")].status", ".missing", ".metadata.missing.deeper",
    "['metadata']['name']", ".metadata['labels']", ".metadata.labels['tier\\.k8s\\.io/x']",
    ".metadata.labels.tier\\.k8s\\.io/x", "$.kind", "@.apiVersion", ".spec.containers[5:9]",
    ".spec.containers[2:2]", ".spec.containers[*].ports", ".status.containerStatuses[-2:]",
    ".spec.containers[0].name.*", "..image", "..containerPort", ".metadata.labels.*",
    ".spec.containers[?(@.name!=\"kubia\")].image", ".spec.containers[?(@.args)].name",
    ".status.containerStatuses[?(@.restartCount>2)].name",
    ".status.containerStatuses[?(@.restartCount<=3)].name",
    ".status.containerStatuses[?(@.ready==true)].name",
    ".status.containerStatuses[?(@.ready!=false)].name", ".spec.containers[0]['name','image']",
    ".spec.containers[*]['name']", "$",
};

static const char *s_item_paths[] = {
    ".metadata.name", ".metadata.labels.app", ".metadata.labels.rel", ".spec.nodeName",
    ".spec.containers[*].image", ".spec.containers[0].name", ".status.phase", ".status.podIP",
    ".status.restarts", ".status.score", ".metadata.labels", ".kind",
};

static const char *s_slices[] = {
    "[*]", "[0]", "[1]", "[2]", "[-1]", "[-3]", "[0:2]", "[1:]", "[:2]", "[::2]", "[-2:]",
    "[0,2]", "[2,0]", "[0:0]", "[1:3:1]", "[3]", "[-4]", "[2:1]", "[0:1:0]", "[:]",
};

static const char *s_filters[] = {
    "@.status.phase==\"Running\"", "@.status.phase!='Running'", "@.status.restarts>3",
    "@.status.restarts<4", "@.status.restarts>=4", "@.status.restarts<=4", "@.status.score>1.0",
    "@.status.score==2.5", "@.metadata.labels.app==\"kubia\"", "@.metadata.labels.rel",
    "@.status.podIP", "@.spec.nodeName==\"node2\"", "@.status.restarts==4",
    "@.metadata.name<\"kubia-2\"", "@.status.restarts==\"4\"", "@.status.score>1",
    "@.metadata.labels.rel!=\"canary\"", "@.nothing==\"x\"",
};

static void s_gen_pod(void)
{
    const char *wrap[] = {"{%s}", "name=[{%s}]", "{%s}{\"\\n\"}", "{%s}{'\\t'}{.kind}"};
    size_t np = sizeof s_pod_paths / sizeof *s_pod_paths;
    for (size_t i = 0; i < np; i++)
        for (size_t w = 0; w < 4; w++)
            if (w == 0 || i % 3 == w - 1) {
                char t[512];
                snprintf(t, sizeof t, wrap[w], s_pod_paths[i]);
                s_add(OBJ_POD, "%s", t);
            }
}

static void s_gen_lists(void)
{
    size_t ni = sizeof s_item_paths / sizeof *s_item_paths;
    size_t ns = sizeof s_slices / sizeof *s_slices;
    size_t nf = sizeof s_filters / sizeof *s_filters;
    for (size_t s = 0; s < ns; s++)
        s_add(OBJ_PODS, "{.items%s.metadata.name}", s_slices[s]);
    for (size_t s = 0; s < ns; s++)
        s_add(OBJ_PODS, "{.items%s.spec.containers[*].name}", s_slices[s]);
    for (size_t s = 0; s < ns; s += 2)
        s_add(OBJ_PODS, "{range .items%s}{.metadata.name}{\"\\n\"}{end}", s_slices[s]);
    for (size_t i = 0; i < ni; i++) {
        s_add(OBJ_PODS, "{.items[*]%s}", s_item_paths[i]);
        s_add(OBJ_PODS, "{range .items[*]}{%s}{\"\\n\"}{end}", s_item_paths[i]);
        s_add(OBJ_PODS, "{range .items[*]}{.metadata.name}{\"\\t\"}{%s}{\"\\n\"}{end}",
              s_item_paths[i]);
    }
    for (size_t f = 0; f < nf; f++) {
        s_add(OBJ_PODS, "{.items[?(%s)].metadata.name}", s_filters[f]);
        s_add(OBJ_PODS, "{range .items[?(%s)]}[{.metadata.name}]{end}", s_filters[f]);
        s_add(OBJ_PODS, "{.items[?(%s)]['status']['phase']}", s_filters[f]);
    }
}

static void s_gen_other(void)
{
    static const char *svc[] = {
        "{.spec.ports[*].port}", "{.spec.ports[?(@.name==\"http\")].nodePort}",
        "{.spec.ports[*].targetPort}", "{.spec.selector}", "{.spec.clusterIP}:{.spec.ports[0].port}",
        "{range .spec.ports[*]}{.name}={.port}{\"\\n\"}{end}", "{.spec.ports[?(@.targetPort>8000)].name}",
        "{.spec.ports[?(@.nodePort)].name}", "{.spec.ports[-1:].protocol}", "{.spec}",
        "{..port}", "{.spec.ports[*]['name','port']}", "{.spec.ports[0].*}",
    };
    static const char *nodes[] = {
        "{.items[*].metadata.name}", "{.items[*].status.capacity.cpu}",
        "{.items[*].status.addresses[?(@.type==\"InternalIP\")].address}",
        "{range .items[*]}{.metadata.name}{\"\\t\"}{.status.capacity.memory}{\"\\n\"}{end}",
        "{.items[?(@.spec.unschedulable==true)].metadata.name}",
        "{.items[?(@.spec.unschedulable)].metadata.name}",
        "{.items[*].metadata.labels.kubernetes\\.io/hostname}",
        "{.items[*].metadata.labels['kubernetes\\.io/hostname']}",
        "{range .items[*]}{.metadata.name}{range .status.conditions[*]}:{.type}={.status}{end}{\"\\n\"}{end}",
        "{range .items[*]}{range .status.addresses[*]}{.address} {end}{end}",
        "{.items[0].spec.podCIDR}", "{.items[*].spec.podCIDR}", "{..address}",
        "{.items[*].status.conditions[?(@.status==\"True\")].type}", "{$.kind}",
    };
    for (size_t i = 0; i < sizeof svc / sizeof *svc; i++)
        s_add(OBJ_SVC, "%s", svc[i]);
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++)
        s_add(OBJ_NODES, "%s", nodes[i]);
}

/* Hand-written corners: text mixing, literals, escapes, numbers, and invalid templates. */
static void s_gen_tricky(void)
{
    static const char *t[] = {
        "", "plain text", "{.kind} and {.apiVersion}", "{\"a\"}{'b'}", "{\"\\u00e9\\x41\\101\"}",
        "{'it\\'s'}", "{\"q\\\"q\"}", "{.metadata.name}{end}", "{range .spec.containers[*]}{.name},{end}",
        "{range .spec.containers[*]}{.name}", "{.spec.containers[0].name} {.spec.containers[1].name}",
        "{.metadata.name .kind}", "{@}", "{.}", "{..}", "{.status.ratio} {.status.big} {.status.huge}",
        "{.status.containerStatuses[*].restartCount}", "{.metadata.labels.app}{{.kind}",
        "{.a[}", "{.a", "{.a[?(@.x==1)}", "{.a[?(@.x==1)]", "{range}", "{end}", "{bogus}",
        "{.a}}", "{1}", "{-1.5}", "{true}", "{.a..b}", "{....a}", "{.a[x]}", "{.a[1:2:3:4]}",
        "{.a[1.5]}", "{#}", "{.a\t}", "{'unterminated}", "{\"\\q\"}", "{.spec.containers[99]}",
        "{.spec.containers[0:1:0]}", "{.metadata.name[0]}", "{.spec.containers[?(@.name)]}",
        "{.metadata[?(@.name)]}", "{.spec.containers[?(@.ports[*].containerPort>1)].name}",
        "{.status.containerStatuses[?(@.restartCount==1.5)].name}",
        "{.status.containerStatuses[?(@.name<3)].name}", "{.status.containerStatuses[?(@.ready<true)].name}",
        "{.status.containerStatuses[?(@.restartCount=~3)].name}", "{.metadata.labels[*]}",
        "{.spec.containers[*].name[0]}", "{.spec.containers['name']}", "{['kind']}",
        "{.spec.containers[0, 1].name}", "{.spec.containers[ 0 ].name}", "{ .kind }", "{.kind}{\"\n\"}",
        "{.metadata.labels.tier\\.k8s\\.io/x}", "{.metadata.name.*}", "{.status.none}{.status.ok}",
        "{.metadata.creationTimestamp}", "{.spec.containers[-4]}", "{.spec.containers[-3].name}",
        "{.spec.containers[1:1:5]}", "{.status.tiny} {.status.ratio}", "{$.metadata.name}",
        "x{.kind}y{.missing}z", "{.kind}\\n", "{.spec.containers[?(@.name==\"side\")].args[*]}",
        "{.status.conditions[?(@.status==\"True\")].type}", "{.status.conditions[*].type}",
        "{.spec.containers[?(@.image=='busybox')].name}", "{range .status.conditions[*]}{end}",
        "{range .missing[*]}{.x}{end}after", "{range .spec.containers[*]}{range .ports[*]}{.containerPort};{end}|{end}",
        "{.spec.containers[?(@.name==\"a)b\")].name}", "{.spec.containers[0]['image']}",
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        s_add(OBJ_POD, "%s", t[i]);
}

static void s_gen_all(void)
{
    if (s_ncases)
        return;
    s_gen_pod();
    s_gen_lists();
    s_gen_other();
    s_gen_tricky();
}

/* Escapes \\, tab and newline so that a record stays on one line. */
static void s_put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static char *s_unescape_rec(const char *s)
{
    char *out = calloc(strlen(s) + 1, 1), *w = out;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
        } else {
            *w++ = *s;
        }
    }
    return out;
}

/* One line per case: object, template, ok|err, kubectl's stdout (escaped). */
static void s_record(FILE *f, const tcase_t *c, const char *kout, const char *kerr)
{
    if (!f)
        return;
    fprintf(f, "%d\t", c->which);
    s_put_escaped(f, c->tmpl);
    fprintf(f, "\t%s\t", strncmp(kerr, "error: ", 7) == 0 ? "err" : "ok");
    s_put_escaped(f, kout);
    fputc('\n', f);
}

TEST(expected_outputs_recorded_from_kubectl)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/tests/unit/jsonpath_expected.txt", s_srcdir);
    FILE *f = fopen(path, "r");
    if (!f) {
        T_FAIL("cannot open %s (run from the repository root)", path);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    int n = 0, bad = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        char *rest = line, *f1 = strsep(&rest, "\t"), *f2 = strsep(&rest, "\t");
        char *f3 = strsep(&rest, "\t"), *f4 = rest;
        if (!f1 || !f2 || !f3)
            continue;
        tcase_t c = {atoi(f1), s_unescape_rec(f2)};
        char *kout = s_unescape_rec(f4 ? f4 : "");
        const char *kerr = strcmp(f3, "err") == 0 ? "error: " : "";
        int before = s_bad_text;
        bad += s_compare(&c, kout, kerr);
        s_bad_text = before; /* the file keeps no error texts */
        free(c.tmpl);
        free(kout);
        n++;
    }
    free(line);
    fclose(f);
    fprintf(stderr, "  %d recorded templates, %d differ\n", n, bad);
    CHECK(n >= 300);
    CHECK_EQ_INT(bad, 0);
}

TEST(differential_against_kubectl)
{
    if (!s_have_kubectl()) {
        printf("# kubectl not installed: differential test skipped (see expected_outputs)\n");
        return;
    }
    s_gen_all();
    CHECK(s_ncases >= 300);
    FILE *rec = getenv("ZK_JP_RECORD") ? fopen(getenv("ZK_JP_RECORD"), "w") : NULL;
    int bad = 0;
    for (int i = 0; i < s_ncases; i += 2) {
        kc_run_t r[2];
        int n = i + 1 < s_ncases ? 2 : 1;
        for (int k = 0; k < n; k++)
            s_kc_start(&r[k], s_cases[i + k].which, s_cases[i + k].tmpl, k);
        for (int k = 0; k < n; k++) {
            s_kc_wait(&r[k]);
            char *o = s_slurp(r[k].out), *e = s_slurp(r[k].err);
            bad += s_compare(&s_cases[i + k], o, e);
            s_record(rec, &s_cases[i + k], o, e);
            free(o);
            free(e);
        }
    }
    if (rec)
        fclose(rec);
    fprintf(stderr, "  %d templates, %d differ, %d error texts differ\n", s_ncases, bad, s_bad_text);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(s_bad_text, 0);
}

static char *s_run(const char *tmpl, const char *json, int allow, int *rc, char *err, size_t n)
{
    static char buf[4096];
    proto_jp_t *jp = NULL;
    json_t *d = json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
    char *out = NULL;
    *rc = proto_jp_compile(tmpl, &jp, err, n);
    if (*rc == 0)
        *rc = proto_jp_exec(jp, d, allow, &out, err, n);
    snprintf(buf, sizeof buf, "%s", out ? out : "");
    free(out);
    proto_jp_destroy(&jp);
    json_decref(d);
    return buf;
}

TEST(errors_and_missing_keys)
{
    int rc;
    char err[512];
    s_run("{.a[", "{}", 1, &rc, err, sizeof err);
    CHECK_EQ_INT(rc, PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "error parsing jsonpath {.a[, unterminated array");
    s_run("{.a.b}", "{\"a\":{}}", 0, &rc, err, sizeof err);
    CHECK_EQ_INT(rc, PROTO_ENOTFOUND);
    CHECK_EQ_STR(err, "error executing jsonpath \"{.a.b}\": Error executing template: b is not found");
    CHECK_EQ_STR(s_run("x{.a.b}y", "{\"a\":{}}", 1, &rc, err, sizeof err), "xy");
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(s_run("{.a}", NULL, 1, &rc, err, sizeof err), "");
    CHECK_EQ_STR(s_run("{$}", "[1,2.5,\"x\",null,true]", 1, &rc, err, sizeof err),
                 "[1,2.5,\"x\",null,true]");
    CHECK_EQ_STR(s_run("{.a[*]}", "{\"a\":[1,2.5,\"x\",null,true,{\"b\":\"<&>\"}]}", 1, &rc, err,
                       sizeof err),
                 "1 2.5 x null true {\"b\":\"\\u003c\\u0026\\u003e\"}");
    CHECK_EQ_STR(s_run("{.a}", "{\"a\":1e6}", 1, &rc, err, sizeof err), "1000000");
    CHECK_EQ_STR(s_run("{.a} {.b} {.c}", "{\"a\":1234567.5,\"b\":1e-7,\"c\":1e21}", 1, &rc, err,
                       sizeof err),
                 "1.2345675e+06 1e-07 1e+21");
    CHECK_EQ_STR(s_run("{.c}", "{\"c\":{\"x\":[1e21,1e-7,0.5]}}", 1, &rc, err, sizeof err),
                 "{\"x\":[1e+21,1e-7,0.5]}");
}

TEST(runaway_templates_are_bounded)
{
    int rc;
    char err[512];
    char tmpl[2048] = "";
    for (int i = 0; i < 40; i++)
        strcat(tmpl, "{range .a[*]}");
    strcat(tmpl, "{.}");
    s_run(tmpl, "{\"a\":[{\"a\":[1,2,3]},{\"a\":[1,2,3]},3,4,5,6,7,8,9,10]}", 1, &rc, err,
          sizeof err);
    CHECK(rc == 0 || rc == PROTO_EBADREQUEST);
    char *big = malloc(JP_BIG);
    memset(big, '{', JP_BIG - 1);
    big[JP_BIG - 1] = 0;
    proto_jp_t *jp = NULL;
    CHECK_EQ_INT(proto_jp_compile(big, &jp, err, sizeof err), PROTO_EBADREQUEST);
    free(big);
}
