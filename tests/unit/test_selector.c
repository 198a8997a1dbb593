/*
 * tests/unit/test_selector — protocol/selector: label selector grammar,
 * validation texts, matching, String(), LabelSelector objects and field
 * selectors. Parsing is also checked differentially against kubectl, which
 * parses a selector offline in `kubectl create pdb --selector ...
 * --dry-run=client` (labels.Parse + metav1.ParseToLabelSelector).
 */
#include "tests/unit/test.h"

#include "protocol/jsonpath.h"
#include "protocol/selector.h"
#include "protocol/status.h"

#include <errno.h>
#include <fcntl.h>

static char *s_str(const char *in)
{
    static char buf[8192];
    proto_sel_t *s = NULL;
    char err[4096];
    if (proto_sel_parse(in, &s, err, sizeof err) != 0) {
        snprintf(buf, sizeof buf, "ERR %s", err);
        return buf;
    }
    char *str = proto_sel_string(s);
    snprintf(buf, sizeof buf, "%s", str);
    free(str);
    proto_sel_destroy(&s);
    return buf;
}

static bool s_match(const char *sel, const char *labels_json)
{
    proto_sel_t *s = NULL;
    char err[4096];
    if (proto_sel_parse(sel, &s, err, sizeof err) != 0) {
        fprintf(stderr, "  unexpected parse error for %s: %s\n", sel, err);
        return false;
    }
    json_t *l = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
    bool r = proto_sel_match(s, l);
    json_decref(l);
    proto_sel_destroy(&s);
    return r;
}

TEST(string_is_canonical_and_sorted)
{
    CHECK_EQ_STR(s_str(""), "");
    CHECK_EQ_STR(s_str("  app = kubia "), "app=kubia");
    CHECK_EQ_STR(s_str("app==kubia"), "app==kubia");
    CHECK_EQ_STR(s_str("z=1,a in (c,b,c),!y, b notin (x)"), "a in (b,c),b notin (x),!y,z=1");
    CHECK_EQ_STR(s_str("env"), "env");
    CHECK_EQ_STR(s_str("app="), "app=");
    CHECK_EQ_STR(s_str("app!=,x"), "app!=,x");
    CHECK_EQ_STR(s_str("x in (,)"), "x in ()");
    CHECK_EQ_STR(s_str("x in (a,,b)"), "x in (,a,b)");
    CHECK_EQ_STR(s_str("n>5,m<3"), "m<3,n>5");
    CHECK_EQ_STR(s_str("example.com/tier in (fe)"), "example.com/tier in (fe)");
}

TEST(errors_worded_as_kubernetes)
{
    CHECK_EQ_STR(s_str("a in (b"), "ERR unable to parse requirement: found '', expected: ',' or ')'");
    CHECK_EQ_STR(s_str("a,,b"), "ERR found ',', expected: identifier after ','");
    CHECK_EQ_STR(s_str("a=b=c"), "ERR found '=', expected: ',' or 'end of string'");
    CHECK_EQ_STR(s_str("a!"),
                 "ERR unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt");
    CHECK_EQ_STR(s_str("a in b"), "ERR unable to parse requirement: found 'b' expected: '('");
    CHECK_EQ_STR(s_str("=a"), "ERR found '=', expected: !, identifier, or 'end of string'");
    CHECK_EQ_STR(s_str("n>x"), "ERR unable to parse requirement: values[0]: Invalid value: \"x\": "
                               "for 'Gt', 'Lt' operators, the value must be an integer");
    CHECK_CONTAINS(s_str("A_/b"), "unable to parse requirement: <nil>: Invalid value: \"A_/b\": "
                                  "prefix part a lowercase RFC 1123 subdomain");
    CHECK_CONTAINS(s_str("a=b$"), "values[0][a]: Invalid value: \"b$\": a valid label must be");
    CHECK_CONTAINS(s_str("a/b/c"), "a qualified name must consist of");
    CHECK_CONTAINS(s_str("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b"),
                   "name part must be no more than 63 characters");
}

TEST(matching_semantics)
{
    const char *l = "{\"app\":\"kubia\",\"env\":\"prod\",\"n\":\"7\"}";
    CHECK(s_match("", l));
    CHECK(s_match("", NULL));
    CHECK(s_match("app=kubia", l));
    CHECK(s_match("app==kubia,env", l));
    CHECK(!s_match("app=kubia,env=dev", l));
    CHECK(s_match("app!=foo", l));
    CHECK(s_match("tier!=fe", l));     /* != matches objects lacking the key */
    CHECK(s_match("tier notin (fe)", l));
    CHECK(s_match("tier notin (fe)", NULL));
    CHECK(!s_match("tier in (fe)", l));
    CHECK(s_match("env in (dev,prod)", l));
    CHECK(!s_match("env notin (dev,prod)", l));
    CHECK(s_match("!tier", l));
    CHECK(!s_match("!app", l));
    CHECK(!s_match("tier", l));
    CHECK(s_match("tier=", l) == false);
    CHECK(s_match("n>5", l));
    CHECK(!s_match("n<5", l));
    CHECK(!s_match("app>5", l));
    CHECK(!s_match("app=kubia", NULL));
}

static char *s_ls(const char *json, int *rc, char *err, size_t errlen)
{
    static char buf[1024];
    json_t *j = json ? json_loads(json, 0, NULL) : NULL;
    proto_sel_t *s = NULL;
    *rc = proto_sel_from_label_selector(j, &s, err, errlen);
    json_decref(j);
    if (*rc)
        return "";
    char *str = proto_sel_string(s);
    snprintf(buf, sizeof buf, "%s%s", proto_sel_nothing(s) ? "NOTHING" : "", str);
    free(str);
    proto_sel_destroy(&s);
    return buf;
}

TEST(label_selector_objects)
{
    int rc;
    char err[4096];
    CHECK_EQ_STR(s_ls(NULL, &rc, err, sizeof err), "NOTHING");
    CHECK_EQ_STR(s_ls("{}", &rc, err, sizeof err), "");
    CHECK_EQ_STR(s_ls("{\"matchLabels\":{\"b\":\"2\",\"a\":\"1\"},\"matchExpressions\":[{\"key\":"
                      "\"c\",\"operator\":\"In\",\"values\":[\"y\",\"x\"]},{\"key\":\"d\","
                      "\"operator\":\"DoesNotExist\"}]}",
                      &rc, err, sizeof err),
                 "a=1,b=2,c in (x,y),!d");
    s_ls("{\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"In\"}]}", &rc, err, sizeof err);
    CHECK_EQ_INT(rc, PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "values: Invalid value: []string(nil): for 'in', 'notin' operators, values "
                      "set can't be empty");
    s_ls("{\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"Exists\",\"values\":[\"a\"]}]}", &rc,
         err, sizeof err);
    CHECK_EQ_STR(err, "values: Invalid value: []string{\"a\"}: values set must be empty for exists "
                      "and does not exist");
    s_ls("{\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}", &rc,
         err, sizeof err);
    CHECK_EQ_STR(err, "\"Gt\" is not a valid label selector operator");
    s_ls("{\"matchLabels\":{\"A_/b\":\"x\"}}", &rc, err, sizeof err);
    CHECK_CONTAINS(err, "key: Invalid value: \"A_/b\": prefix part");
    s_ls("{\"matchLabels\":{\"a\":3}}", &rc, err, sizeof err);
    CHECK_EQ_INT(rc, PROTO_EBADREQUEST);

    json_t *m = json_loads("{\"app\":\"kubia\",\"rel\":\"beta\"}", 0, NULL);
    proto_sel_t *s = NULL;
    REQUIRE(proto_sel_from_map(m, &s, err, sizeof err) == 0);
    char *str = proto_sel_string(s);
    CHECK_EQ_STR(str, "app=kubia,rel=beta");
    CHECK(proto_sel_match(s, m));
    free(str);
    proto_sel_destroy(&s);
    json_decref(m);
    REQUIRE(proto_sel_from_map(NULL, &s, err, sizeof err) == 0);
    CHECK(proto_sel_empty(s));
    proto_sel_destroy(&s);
    CHECK(!proto_sel_match(NULL, NULL));
}

static int s_fsel(const char *sel, const char *res, const char *obj, char *err, size_t errlen,
                  char **str)
{
    proto_fsel_t *f = NULL;
    int rc = proto_fsel_parse(sel, res, &f, err, errlen);
    if (rc)
        return rc;
    json_t *o = json_loads(obj, 0, NULL);
    rc = proto_fsel_match(f, o) ? 1 : 0;
    if (str)
        *str = proto_fsel_string(f);
    json_decref(o);
    proto_fsel_destroy(&f);
    return rc;
}

TEST(field_selectors)
{
    const char *pod = "{\"metadata\":{\"name\":\"a,b\",\"namespace\":\"default\"},"
                      "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}";
    char err[512], *str = NULL;
    CHECK_EQ_INT(s_fsel("", "pods", pod, err, sizeof err, NULL), 1);
    CHECK_EQ_INT(s_fsel("status.phase=Running", "pods", pod, err, sizeof err, NULL), 1);
    CHECK_EQ_INT(s_fsel("status.phase!=Running", "pods", pod, err, sizeof err, NULL), 0);
    CHECK_EQ_INT(s_fsel("spec.nodeName==n1,metadata.namespace=default", "pods", pod, err,
                        sizeof err, &str),
                 1);
    CHECK_EQ_STR(str, "metadata.namespace=default,spec.nodeName=n1");
    free(str);
    CHECK_EQ_INT(s_fsel("metadata.name=a\\,b", "pods", pod, err, sizeof err, &str), 1);
    CHECK_EQ_STR(str, "metadata.name=a\\,b");
    free(str);
    CHECK_EQ_INT(s_fsel("spec.restartPolicy=", "pods", pod, err, sizeof err, NULL), 1);
    CHECK_EQ_INT(s_fsel("spec.foo=x", "pods", pod, err, sizeof err, NULL), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "field label not supported: spec.foo");
    CHECK_EQ_INT(s_fsel("status.phase=Running", "services", pod, err, sizeof err, NULL),
                 PROTO_EBADREQUEST);
    CHECK_EQ_INT(s_fsel("metadata.name", "pods", pod, err, sizeof err, NULL), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    CHECK_EQ_INT(s_fsel("metadata.name=a\\x", "pods", pod, err, sizeof err, NULL),
                 PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "invalid field selector: invalid escape sequence: \\x");
    CHECK_EQ_INT(s_fsel("metadata.name=a=b", "pods", pod, err, sizeof err, NULL),
                 PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "invalid field selector: unescaped character in value: =");
    const char *node = "{\"metadata\":{\"name\":\"n1\"},\"spec\":{}}";
    CHECK_EQ_INT(s_fsel("spec.unschedulable=false", "nodes", node, err, sizeof err, NULL), 1);
    const char *rs = "{\"metadata\":{\"name\":\"r\"},\"status\":{\"replicas\":3}}";
    CHECK_EQ_INT(s_fsel("status.replicas=3", "replicasets", rs, err, sizeof err, NULL), 1);
    const char *ev = "{\"involvedObject\":{\"kind\":\"Pod\"},\"source\":{\"component\":\"kubelet\"}}";
    CHECK_EQ_INT(s_fsel("involvedObject.kind=Pod,source=kubelet", "events", ev, err, sizeof err,
                        NULL),
                 1);
}

/* ---- differential against kubectl create pdb ---- */

static const char *s_keys[] = {"app", "example.com/tier", "A_/b", "-bad", "a.b_c", "x/"};
static const char *s_ops[] = {"=", "==", "!=", " in ", " notin ", ">", ""};
static const char *s_vals[] = {"kubia", "", "(a,b)", "(a, b ,c)", "(,)", "()", "v$", "(x$)", "5",
                               "(a"};
static const char *s_extra[] = {
    "!app", "!app,env", "app,!env", "a=b,c", "a=b,,c", ",a", "a,", "a b", "a=b c", "a in(b)",
    "a notin(b,)", "a==", "a!=", "!a=b", "!!a", "a=(b)", "a in ((b))", "in in (in)", "notin=x",
    "a=b,a=c", "a>1,a<3", "a<b", "a=>b", "a=!b", "a\tin\t(b)", "a=b\n", "ex\xc3\xa9=1", "a=é",
    "a in (b c)", "a in (b,c", "a in b,c)", "(a)", "a)", "a,b,c,d,e", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", "a/b/c=1", "/a=1",
    "a=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "A.B/c=1", "a-.b/c=d",
};

typedef struct kcase {
    char *sel;
} kcase_t;

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    char tmp[4096];
    size_t r;
    while (f && (r = fread(tmp, 1, sizeof tmp, f)) > 0)
        fwrite(tmp, 1, r, m);
    fclose(m);
    if (f)
        fclose(f);
    return buf;
}

static pid_t s_kc_start(const char *sel, int slot)
{
    char arg[4096], out[32], errf[32];
    snprintf(arg, sizeof arg, "--selector=%s", sel);
    snprintf(out, sizeof out, "kc-out-%d", slot);
    snprintf(errf, sizeof errf, "kc-err-%d", slot);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        setenv("HOME", t_tmpdir(), 1);
        unsetenv("KUBECONFIG");
        execlp("kubectl", "kubectl", "create", "pdb", "p", arg, "--min-available=1",
               "--dry-run=client", "-o", "jsonpath={.spec.selector}", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* What zkube makes of sel, in kubectl's words: the selector JSON or "error: ...\n". */
static char *s_mine(const char *sel)
{
    proto_sel_t *s = NULL;
    char err[8192], *out = NULL;
    if (proto_sel_parse(sel, &s, err, sizeof err) != 0) {
        if (asprintf(&out, "error: couldn't parse the selector string \"%s\": %s\n", sel, err) < 0)
            exit(1);
        return out;
    }
    json_t *ls = NULL;
    if (proto_sel_to_label_selector(s, &ls, err, sizeof err) != 0) {
        if (asprintf(&out, "error: %s\n", err) < 0)
            exit(1);
    } else {
        out = proto_jp_json_compact(ls);
    }
    json_decref(ls);
    proto_sel_destroy(&s);
    return out;
}

TEST(differential_against_kubectl)
{
    if (access("/usr/bin/kubectl", X_OK) != 0 && access("/usr/local/bin/kubectl", X_OK) != 0) {
        printf("# kubectl not installed: selector differential test skipped\n");
        return;
    }
    static char *cases[1024];
    int n = 0;
    for (size_t k = 0; k < sizeof s_keys / sizeof *s_keys; k++)
        for (size_t o = 0; o < sizeof s_ops / sizeof *s_ops; o++)
            for (size_t v = 0; v < sizeof s_vals / sizeof *s_vals; v++) {
                if ((k + o + v) % 3 != 0 && k != 0)
                    continue;
                if (asprintf(&cases[n++], "%s%s%s", s_keys[k], s_ops[o], s_vals[v]) < 0)
                    exit(1);
            }
    for (size_t i = 0; i < sizeof s_extra / sizeof *s_extra; i++)
        cases[n++] = strdup(s_extra[i]);
    int bad = 0;
    for (int i = 0; i < n; i += 2) {
        int m = i + 1 < n ? 2 : 1;
        pid_t pids[2];
        for (int k = 0; k < m; k++)
            pids[k] = s_kc_start(cases[i + k], k);
        for (int k = 0; k < m; k++) {
            int st;
            while (waitpid(pids[k], &st, 0) < 0 && errno == EINTR)
                ;
            char path[32];
            snprintf(path, sizeof path, "kc-out-%d", k);
            char *o = s_slurp(path);
            snprintf(path, sizeof path, "kc-err-%d", k);
            char *e = s_slurp(path);
            char *mine = s_mine(cases[i + k]);
            const char *theirs = *e ? e : o;
            if (strcmp(theirs, mine) != 0 && strcmp(theirs, "error: a selector must be specified\n")) {
                fprintf(stderr, "  [%s]\n    kubectl: %s\n    zkube:   %s\n", cases[i + k], theirs,
                        mine);
                bad++;
            }
            free(o);
            free(e);
            free(mine);
        }
    }
    fprintf(stderr, "  %d selectors, %d differ\n", n, bad);
    CHECK(n >= 100);
    CHECK_EQ_INT(bad, 0);
    for (int i = 0; i < n; i++)
        free(cases[i]);
}
