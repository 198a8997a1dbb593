/*
 * tests/unit/test_zkubectl.c — the pure parts of zkubectl: kubectl's
 * argument grammar, kind and target resolution, the apply three-way patch
 * and last-applied annotation, Status error rendering, and the tabwriter
 * layout describe uses. zkubectl is a program, not a library, so its pure
 * sources are compiled into this test directly.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "tools/zkubectl/args.c"
#include "tools/zkubectl/errors.c"
#include "tools/zkubectl/merge.c"
#include "tools/zkubectl/printers.c"
#include "tools/zkubectl/resources.c"

static int s_parse(ctl_args_t *a, char *err, const char *line)
{
    static char buf[1024];
    static char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "zkubectl";
    for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    return ctl_args_parse(argc, argv, a, err, CTL_ERR);
}

TEST(args_get_flags_any_order)
{
    ctl_args_t a;
    char err[CTL_ERR] = "";
    REQUIRE(s_parse(&a, err, "get -n kube-system pods -o wide --show-labels -l app=kubia") == 0);
    CHECK_EQ_STR(a.verb, "get");
    CHECK_EQ_INT(a.npos, 1);
    CHECK_EQ_STR(a.pos[0], "pods");
    CHECK_EQ_STR(a.ns, "kube-system");
    CHECK_EQ_INT(a.out, CTL_OUT_WIDE);
    CHECK(a.show_labels);
    CHECK_EQ_STR(a.selector, "app=kubia");
    CHECK(a.wait); /* kubectl's default */
    CHECK_EQ_INT(a.grace, -1);
}

TEST(args_equals_and_attached_short_values)
{
    ctl_args_t a;
    char err[CTL_ERR] = "";
    REQUIRE(s_parse(&a, err, "get po --namespace=foo -ojsonpath={.items[*].metadata.name} -A") ==
            0);
    CHECK_EQ_STR(a.ns, "foo");
    CHECK_EQ_INT(a.out, CTL_OUT_JSONPATH);
    CHECK_EQ_STR(a.out_arg, "{.items[*].metadata.name}");
    CHECK(a.all_ns);
    REQUIRE(s_parse(&a, err, "delete -Rf dir --cascade=orphan --grace-period 0 --wait=false") ==
            0);
    CHECK(a.recursive);
    CHECK_EQ_INT(a.nfiles, 1);
    CHECK_EQ_STR(a.files[0], "dir");
    CHECK_EQ_STR(a.cascade, "orphan");
    CHECK_EQ_INT(a.grace, 0);
    CHECK(!a.wait);
}

TEST(args_scale_patch_and_dashdash)
{
    ctl_args_t a;
    char err[CTL_ERR] = "";
    REQUIRE(s_parse(&a, err, "scale rc kubia --replicas=3 --current-replicas 2") == 0);
    CHECK_EQ_INT(a.replicas, 3);
    CHECK_EQ_INT(a.current_replicas, 2);
    REQUIRE(s_parse(&a, err, "patch pod x -p {\"a\":1} --type merge -- -weird") == 0);
    CHECK_EQ_STR(a.patch, "{\"a\":1}");
    CHECK_EQ_STR(a.patch_type, "merge");
    CHECK_EQ_INT(a.npos, 3);
    CHECK_EQ_STR(a.pos[2], "-weird");
}

TEST(args_errors_are_kubectls)
{
    ctl_args_t a;
    char err[CTL_ERR] = "";
    CHECK(s_parse(&a, err, "get pods --bogus") != 0);
    CHECK_EQ_STR(err, "unknown flag: --bogus");
    CHECK(s_parse(&a, err, "get pods -z") != 0);
    CHECK_EQ_STR(err, "unknown shorthand flag: 'z' in -z");
    CHECK(s_parse(&a, err, "get pods -o xml") != 0);
    CHECK_CONTAINS(err, "unable to match a printer suitable for the output format \"xml\"");
    CHECK(s_parse(&a, err, "get pods -n") != 0);
    CHECK_CONTAINS(err, "flag needs an argument");
    CHECK(s_parse(&a, err, "scale rc x --replicas=abc") != 0);
    CHECK_CONTAINS(err, "invalid argument \"abc\" for \"--replicas\" flag");
    CHECK(s_parse(&a, err, "delete po x --cascade=sometimes") != 0);
    CHECK_CONTAINS(err, "invalid cascade value (sometimes)");
    CHECK(s_parse(&a, err, "get po -o jsonpath=") != 0);
    CHECK(s_parse(&a, err, "get po --watch=maybe") != 0);
}

TEST(args_expose_flags)
{
    ctl_args_t a;
    char err[CTL_ERR] = "";
    REQUIRE(s_parse(&a, err, "expose rc kubia --port 80 --target-port=8080 --type NodePort "
                             "-l a=b --selector x=y --name foo --dry-run=client -o yaml") == 0);
    CHECK_EQ_STR(a.verb, "expose");
    CHECK_EQ_STR(a.port, "80");
    CHECK_EQ_STR(a.target_port, "8080");
    CHECK_EQ_STR(a.patch_type, "NodePort");
    CHECK_EQ_STR(a.labels, "a=b"); /* expose's -l is --labels */
    CHECK_EQ_STR(a.selector, "x=y");
    CHECK_EQ_STR(a.name, "foo");
    CHECK_EQ_STR(a.dry_run, "client");
    CHECK(ctl_args_check_dry_run(&a, err, sizeof err) == 0);
    REQUIRE(s_parse(&a, err, "expose rc kubia --dry-run") == 0);
    CHECK_EQ_STR(a.dry_run, "unchanged"); /* bare: takes no value from the next word */
    CHECK_EQ_INT(a.npos, 2);
    REQUIRE(s_parse(&a, err, "get pods -l app=kubia") == 0);
    CHECK_EQ_STR(a.selector, "app=kubia");
    CHECK(a.labels == NULL);
}

TEST(args_dry_run_values)
{
    ctl_args_t a;
    char err[CTL_ERR] = "";
    REQUIRE(s_parse(&a, err, "expose rc x --dry-run=bogus") == 0);
    CHECK(ctl_args_check_dry_run(&a, err, sizeof err) != 0);
    CHECK_EQ_STR(err, "Invalid dry-run value (bogus). Must be \"none\", \"server\", or "
                      "\"client\".");
    /* verbs that would ignore it refuse it rather than write for real */
    REQUIRE(s_parse(&a, err, "create -f x.yaml --dry-run=client") == 0);
    CHECK(ctl_args_check_dry_run(&a, err, sizeof err) != 0);
    REQUIRE(s_parse(&a, err, "create -f x.yaml --dry-run=none") == 0);
    CHECK(ctl_args_check_dry_run(&a, err, sizeof err) == 0);
}

TEST(kinds_resolve_every_spelling)
{
    char err[CTL_ERR] = "";
    static const char *names[] = {"po", "pod", "pods", "Pod", "svc", "rc", "rs", "deploy", "ds",
                                  "job", "cj", "ns", "no", "ep", "ing", "cm", "secret", "ev",
                                  "replicasets.apps"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const proto_kind_t *k = ctl_kind_resolve(names[i], err, sizeof err);
        if (!k)
            T_FAIL("kind %s not resolved", names[i]);
    }
    CHECK_EQ_STR(ctl_kind_resolve("po", err, sizeof err)->resource, "pods");
    CHECK_EQ_STR(ctl_kind_resolve("rs", err, sizeof err)->resource, "replicasets");
    CHECK(ctl_kind_resolve("foo", err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "the server doesn't have a resource type \"foo\"");
}

TEST(kind_prefix_has_group)
{
    char err[CTL_ERR], buf[128];
    CHECK_EQ_STR(ctl_kind_prefix(ctl_kind_resolve("po", err, sizeof err), buf, sizeof buf), "pod");
    CHECK_EQ_STR(ctl_kind_prefix(ctl_kind_resolve("rs", err, sizeof err), buf, sizeof buf),
                 "replicaset.apps");
    CHECK_EQ_STR(ctl_kind_prefix(ctl_kind_resolve("rc", err, sizeof err), buf, sizeof buf),
                 "replicationcontroller");
    CHECK_EQ_STR(ctl_kind_prefix(ctl_kind_resolve("cj", err, sizeof err), buf, sizeof buf),
                 "cronjob.batch");
}

TEST(targets_type_and_names)
{
    ctl_target_t t[CTL_MAX_TARGETS];
    int n = 0;
    bool several = true;
    char err[CTL_ERR] = "";
    const char *p1[] = {"po", "a", "b"};
    REQUIRE(ctl_targets_parse(p1, 3, t, CTL_MAX_TARGETS, &n, &several, err, sizeof err) == 0);
    CHECK_EQ_INT(n, 1);
    CHECK(!several);
    CHECK_EQ_INT(t[0].nnames, 2);
    CHECK_EQ_STR(t[0].names[1], "b");
    const char *p2[] = {"pods,svc"};
    REQUIRE(ctl_targets_parse(p2, 1, t, CTL_MAX_TARGETS, &n, &several, err, sizeof err) == 0);
    CHECK_EQ_INT(n, 2);
    CHECK(several);
    CHECK_EQ_STR(t[1].kind->resource, "services");
    const char *p3[] = {"po/a", "svc/b", "po/c"};
    REQUIRE(ctl_targets_parse(p3, 3, t, CTL_MAX_TARGETS, &n, &several, err, sizeof err) == 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(t[0].nnames, 2);
    CHECK_EQ_STR(t[0].names[1], "c");
}

TEST(targets_errors_and_all)
{
    ctl_target_t t[CTL_MAX_TARGETS];
    int n = 0;
    bool several = false;
    char err[CTL_ERR] = "";
    const char *p1[] = {"po", "svc/b"};
    CHECK(ctl_targets_parse(p1, 2, t, CTL_MAX_TARGETS, &n, &several, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "there is no need to specify a resource type as a separate argument");
    const char *p2[] = {"po/"};
    CHECK(ctl_targets_parse(p2, 1, t, CTL_MAX_TARGETS, &n, &several, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "must have a single resource and name");
    const char *p3[] = {"pods,bogus"};
    CHECK(ctl_targets_parse(p3, 1, t, CTL_MAX_TARGETS, &n, &several, err, sizeof err) != 0);
    CHECK_EQ_STR(err, "the server doesn't have a resource type \"bogus\"");
    const char *p4[] = {"all"};
    REQUIRE(ctl_targets_parse(p4, 1, t, CTL_MAX_TARGETS, &n, &several, err, sizeof err) == 0);
    CHECK(several);
    CHECK(n >= 3);
    CHECK_EQ_STR(t[0].kind->resource, "pods"); /* core group first */
    bool has_svc = false;
    for (int i = 0; i < n; i++)
        has_svc |= !strcmp(t[i].kind->resource, "services");
    CHECK(has_svc);
}

TEST(last_applied_is_compact_sorted_without_itself)
{
    json_t *d = json_loads("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\","
                           "\"annotations\":{\"" CTL_LAST_APPLIED "\":\"old\"}}}",
                           0, NULL);
    REQUIRE(d);
    char *s = ctl_last_applied(d);
    CHECK_EQ_STR(s, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"annotations\":{},"
                    "\"name\":\"x\"}}\n");
    free(s);
    json_decref(d);
}

TEST(three_way_ignores_server_defaults)
{
    json_t *mod = json_loads("{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":"
                             "[{\"name\":\"k\",\"image\":\"a\"}]}}}}", 0, NULL);
    json_t *live = json_loads("{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":"
                              "[{\"name\":\"k\",\"image\":\"a\",\"imagePullPolicy\":\"Always\"}],"
                              "\"restartPolicy\":\"Always\"}}},\"status\":{\"replicas\":3}}",
                              0, NULL);
    json_t *p = ctl_three_way(mod, mod, live);
    CHECK_EQ_INT(json_object_size(p), 0);
    json_decref(p);
    json_object_set_new(json_object_get(mod, "spec"), "replicas", json_integer(5));
    p = ctl_three_way(NULL, mod, live);
    char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_EQ_STR(s, "{\"spec\":{\"replicas\":5}}");
    free(s);
    json_decref(p);
    json_decref(mod);
    json_decref(live);
}

TEST(three_way_deletes_what_was_dropped)
{
    json_t *orig = json_loads("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}", 0, NULL);
    json_t *mod = json_loads("{\"metadata\":{\"labels\":{\"a\":\"1\"}}}", 0, NULL);
    json_t *live = json_loads("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}}",
                              0, NULL);
    json_t *p = ctl_three_way(orig, mod, live);
    char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    /* b was applied before and is gone now; c was never applied: kept */
    CHECK_EQ_STR(s, "{\"metadata\":{\"labels\":{\"b\":null}}}");
    free(s);
    json_decref(p);
    json_decref(orig);
    json_decref(mod);
    json_decref(live);
}

TEST(tabwriter_aligns_blocks_like_go)
{
    FILE *f = tmpfile();
    REQUIRE(f);
    ctl_tw_t *tw = ctl_tw_new(0, 2);
    ctl_tw_printf(tw, 0, "Name:\tkubia");
    ctl_tw_printf(tw, 0, "Namespace:\tdefault");
    ctl_tw_printf(tw, 0, "Labels:\ta=b");
    ctl_tw_printf(tw, 0, "\tc=d");
    ctl_tw_printf(tw, 0, "IPs:");
    ctl_tw_printf(tw, 1, "IP:\t10.0.0.1");
    ctl_tw_flush(&tw, f);
    CHECK(tw == NULL);
    char buf[512] = "";
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK_EQ_STR(buf, "Name:       kubia\n"
                      "Namespace:  default\n"
                      "Labels:     a=b\n"
                      "            c=d\n"
                      "IPs:\n"
                      "  IP:  10.0.0.1\n");
}

TEST(obj_ref_and_list_wrapper)
{
    char buf[128];
    json_t *o = json_loads("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":"
                           "{\"name\":\"kubia\"}}", 0, NULL);
    CHECK_EQ_STR(ctl_obj_ref(o, buf, sizeof buf), "replicaset.apps/kubia");
    json_t *items = json_pack("[O]", o);
    json_t *l = s_list(items);
    char *s = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_CONTAINS(s, "\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"}");
    CHECK_CONTAINS(s, "{\"apiVersion\":\"v1\",\"items\":[{");
    free(s);
    json_decref(l);
    json_decref(items);
    json_decref(o);
}

TEST(status_rendering_is_kubectls)
{
    char buf[1024];
    json_t *st = proto_status_notfound("pods", "", "x");
    CHECK_EQ_STR(ctl_status_text(st, NULL, buf, sizeof buf),
                 "Error from server (NotFound): pods \"x\" not found");
    json_decref(st);
    st = proto_status_exists("pods", "", "kubia");
    CHECK_EQ_STR(ctl_status_text(st, "error when creating \"k.yaml\"", buf, sizeof buf),
                 "Error from server (AlreadyExists): error when creating \"k.yaml\": pods "
                 "\"kubia\" already exists");
    json_decref(st);
    json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired", "message",
                               "Required value", "field", "spec.containers[0].image");
    st = proto_status_invalid("Pod", "", "x", causes);
    CHECK_EQ_STR(ctl_status_text(st, "error when creating \"p.yaml\"", buf, sizeof buf),
                 "The Pod \"x\" is invalid: spec.containers[0].image: Required value");
    json_decref(st);
}

TEST(tabwriter_minwidth_and_ragged_lines)
{
    FILE *f = tmpfile();
    REQUIRE(f);
    ctl_tw_t *tw = ctl_tw_new(6, 3);
    ctl_tw_printf(tw, 0, "NAME\tA\tKIND");
    ctl_tw_printf(tw, 0, "pods\t\tPod");
    ctl_tw_printf(tw, 0, "%s", ""); /* an empty line ends the column block */
    ctl_tw_printf(tw, 0, "x\ty");
    ctl_tw_flush(&tw, f);
    char buf[512] = "";
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK_EQ_STR(buf, "NAME   A     KIND\n"
                      "pods         Pod\n"
                      "\n"
                      "x     y\n");
}

TEST(args_bool_forms_and_grouped_shorts)
{
    ctl_args_t a;
    char err[CTL_ERR] = "";
    REQUIRE(s_parse(&a, err, "get pods -Aw --no-headers=true --show-labels=false") == 0);
    CHECK(a.all_ns);
    CHECK(a.watch);
    CHECK(a.no_headers);
    CHECK(!a.show_labels);
    REQUIRE(s_parse(&a, err, "get pods -A=false") == 0);
    CHECK(!a.all_ns);
    REQUIRE(s_parse(&a, err, "label pods --all app=x --overwrite") == 0);
    CHECK(a.all);
    CHECK(a.overwrite);
    CHECK_EQ_INT(a.npos, 2);
    REQUIRE(s_parse(&a, err, "") == 0);
    CHECK(a.verb == NULL);
}

TEST(three_way_converts_nothing_and_skips_kind_and_status)
{
    json_t *mod = json_loads("{\"apiVersion\":\"apps/v1beta2\",\"kind\":\"ReplicaSet\","
                             "\"status\":{\"replicas\":9}}", 0, NULL);
    json_t *live = json_loads("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
                              "\"status\":{\"replicas\":1}}", 0, NULL);
    json_t *p = ctl_three_way(NULL, mod, live);
    CHECK_EQ_INT(json_object_size(p), 0);
    json_decref(p);
    json_decref(mod);
    json_decref(live);
}
