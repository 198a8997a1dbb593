/*
 * tools/zkubectl/logs.c — `zkubectl logs`: kubectl's logs command over the
 * actor protocol. The pod (named, or the first pod by name of an rc, rs,
 * deployment, job or daemonset via its selector) is read from the
 * apiserver; its node's kubelet (service "kubelet-<spec.nodeName>", op
 * `logs`) serves the container's log. `-f` polls that op with the byte
 * offset of the previous reply every 200 ms until the container instance
 * it follows ends (as kubectl stops when the stream closes) or SIGINT.
 * `-l SELECTOR` and `--all-containers` read several containers (one after
 * the other, or all polled in turn with -f); `--prefix` tags their lines.
 *
 * logs and exec parse their own command lines: -c, -f and -p mean other
 * things there than in the rest of kubectl's grammar (args.c). This file
 * also holds what exec shares: the verb finder main.c dispatches on, the
 * pod resolution and the kubelet call.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/selector.h"
#include "protocol/status.h"
#include "runtime/actor.h"
#include "tools/zkubectl/ctl.h"

#define CTL_LOGS_POLL_MS 200
#define CTL_LOGS_TIMEOUT_MS 10000
#define CTL_LOGS_RETRY_MS 15000 /* a follow survives a kubelet restart this long */

/* Shared with exec.c and main.c (see the report: to move into ctl.h). */

typedef struct ctl_logs_opts {
    const char *ns, *container, *target, *selector;
    bool follow, previous, timestamps, help, all_containers, prefix;
    long tail;        /* -1: all */
    int64_t since_ms; /* 0: all */
    long limit_bytes; /* 0: no limit */
} ctl_logs_opts_t;

/* ---- the command line ------------------------------------------------------ */

/* Flags that take a value anywhere in kubectl's grammar, for the verb finder. */
static bool s_takes_value(const char *f)
{
    static const char *const v[] = {"-n", "--namespace", "-c", "--container", "--tail",
                                    "--since", "-l", "--selector", "-o", "--output",
                                    "--limit-bytes", "--request-timeout", "-s", "--server",
                                    "--context", "--kubeconfig", "--field-selector", "-f",
                                    "--filename", "-p", "--patch", "--type", "--cascade",
                                    "--grace-period", "--replicas", "--current-replicas"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!strcmp(f, v[i]))
            return true;
    return false;
}

/* The first positional argument (the verb), or NULL. Flags before the verb
 * are global ones (-n NS ...), which take values. */
const char *ctl_raw_verb(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--"))
            return i + 1 < argc ? argv[i + 1] : NULL;
        if (s[0] != '-' || !s[1])
            return s;
        if (!strchr(s, '=') && s_takes_value(s))
            i++;
    }
    return NULL;
}

/*
 * Go's time.ParseDuration, as kubectl's --since reads it: a sequence of
 * decimal numbers with units ns, us, µs, ms, s, m, h ("1h30m", "1.5s");
 * "0" alone is allowed. Result in milliseconds (rounded down). 0 or -EINVAL.
 */
int ctl_parse_duration(const char *s, int64_t *ms)
{
    static const struct { const char *u; double ms; } units[] = {
        {"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 6e4},
        {"h", 3.6e6}};
    double total = 0;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!strcmp(p, "0")) {
        *ms = 0;
        return 0;
    }
    if (!*p)
        return -EINVAL;
    while (*p) {
        char *end = NULL;
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return -EINVAL;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v))
            return -EINVAL;
        p = end;
        size_t best = 0, i = 0, found = 0;
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t l = strlen(units[i].u);
            if (!strncmp(p, units[i].u, l) && l > best) {
                best = l;
                found = i;
            }
        }
        if (!best)
            return -EINVAL;
        total += v * units[found].ms;
        p += best;
    }
    if (total > 9.2e15 || s[0] == '-')
        return -EINVAL;
    *ms = (int64_t)total;
    return 0;
}

static int s_lg_bool(const char *v, bool *out)
{
    if (!v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "TRUE"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "f") || !strcmp(v, "FALSE"))
        *out = false;
    else
        return -EINVAL;
    return 0;
}

static int s_lg_long(const char *v, long lo, long *out)
{
    char *end = NULL;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || n < lo || n > (1L << 40))
        return -EINVAL;
    *out = n;
    return 0;
}

/* Stores one flag (long name) with value v (NULL for a bare boolean). */
static int s_lg_set(ctl_logs_opts_t *o, const char *name, const char *v, char *err, size_t n)
{
    int rc = 0;
    if (!strcmp(name, "follow"))
        rc = s_lg_bool(v, &o->follow);
    else if (!strcmp(name, "previous"))
        rc = s_lg_bool(v, &o->previous);
    else if (!strcmp(name, "timestamps"))
        rc = s_lg_bool(v, &o->timestamps);
    else if (!strcmp(name, "help"))
        rc = s_lg_bool(v, &o->help);
    else if (!strcmp(name, "all-containers"))
        rc = s_lg_bool(v, &o->all_containers);
    else if (!strcmp(name, "prefix"))
        rc = s_lg_bool(v, &o->prefix);
    else if (!strcmp(name, "selector"))
        o->selector = v;
    else if (!strcmp(name, "namespace"))
        o->ns = v;
    else if (!strcmp(name, "container"))
        o->container = v;
    else if (!strcmp(name, "tail"))
        rc = s_lg_long(v, -1, &o->tail);
    else if (!strcmp(name, "limit-bytes"))
        rc = s_lg_long(v, 0, &o->limit_bytes);
    else if (!strcmp(name, "since")) {
        if (ctl_parse_duration(v, &o->since_ms) < 0) {
            snprintf(err, n, "invalid argument \"%s\" for \"--since\" flag: time: invalid "
                             "duration \"%s\"", v, v);
            return -EINVAL;
        }
    } else {
        snprintf(err, n, "unknown flag: --%s", name);
        return -EINVAL;
    }
    if (rc < 0)
        snprintf(err, n, "invalid argument \"%s\" for \"--%s\" flag: invalid syntax",
                 v ? v : "", name);
    return rc;
}

static const char *s_lg_long_of(char c)
{
    static const char *const m[] = {"nnamespace", "ccontainer", "ffollow", "pprevious", "hhelp",
                                    "lselector"};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i][0] == c)
            return m[i] + 1;
    return NULL;
}

static bool s_lg_is_bool(const char *name)
{
    return !strcmp(name, "follow") || !strcmp(name, "previous") || !strcmp(name, "timestamps") ||
           !strcmp(name, "help") || !strcmp(name, "all-containers") || !strcmp(name, "prefix");
}

/* One flag argument at argv[*i] (long or a group of short ones). */
static int s_lg_flag(ctl_logs_opts_t *o, int argc, char **argv, int *i, char *err, size_t n)
{
    const char *s = argv[*i];
    char name[64];
    const char *v = NULL;
    if (s[1] == '-') {
        const char *eq = strchr(s + 2, '=');
        size_t len = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
        snprintf(name, sizeof name, "%.*s", (int)(len < 60 ? len : 60), s + 2);
        v = eq ? eq + 1 : NULL;
    } else {
        for (const char *p = s + 1; *p; p++) {
            const char *l = s_lg_long_of(*p);
            if (!l) {
                snprintf(err, n, "unknown shorthand flag: '%c' in %s", *p, s);
                return -EINVAL;
            }
            snprintf(name, sizeof name, "%s", l);
            if (!s_lg_is_bool(l)) {
                v = p[1] ? p + 1 + (p[1] == '=') : NULL;
                break;
            }
            if (p[1] && s_lg_set(o, l, NULL, err, n) < 0)
                return -EINVAL;
        }
    }
    static const char *const known[] = {"namespace", "container", "tail", "since",
                                        "limit-bytes", "follow", "previous", "timestamps",
                                        "help", "all-containers", "prefix", "selector"};
    bool ok = false;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        ok |= !strcmp(name, known[k]);
    if (!ok) {
        snprintf(err, n, "unknown flag: --%s", name);
        return -EINVAL;
    }
    if (!v && !s_lg_is_bool(name)) {
        if (*i + 1 >= argc) {
            snprintf(err, n, "flag needs an argument: --%s", name);
            return -EINVAL;
        }
        v = argv[++*i];
    }
    return s_lg_set(o, name, v, err, n);
}

static int s_lg_check(const ctl_logs_opts_t *o, char *err, size_t n)
{
    if (o->all_containers && o->container) {
        snprintf(err, n, "--all-containers=true should not be specified with container name %s",
                 o->container);
        return -EINVAL;
    }
    return 0;
}

/*
 * `logs [-f] [-p] [-c C] [--tail N] [--since D] [--timestamps] [-n NS]
 * [--all-containers] [--prefix] (POD|TYPE/NAME [CONTAINER] | -l SELECTOR)`. 0 or -EINVAL with kubectl's wording in err.
 */
static int s_logs_parse(int argc, char **argv, ctl_logs_opts_t *o, char *err, size_t n)
{
    const char *pos[3];
    int npos = 0;
    memset(o, 0, sizeof *o);
    o->tail = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] == '-' && s[1] && strcmp(s, "--")) {
            if (s_lg_flag(o, argc, argv, &i, err, n) < 0)
                return -EINVAL;
        } else if (strcmp(s, "--") && npos < 3) {
            pos[npos++] = s;
        } else if (strcmp(s, "--")) {
            npos++;
        }
    }
    if (o->help)
        return 0;
    if (o->selector && npos > 1) {
        snprintf(err, n, "only a selector (-l) or a POD name is allowed");
        return -EINVAL;
    }
    if (o->selector)
        return s_lg_check(o, err, n);
    if (npos < 2 || npos > 3) {
        snprintf(err, n, npos < 2 ? "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c "
                                    "CONTAINER]'.\nPOD or TYPE/NAME is a required argument "
                                    "for the logs command"
                                  : "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c "
                                    "CONTAINER]'.\nexpected at most one container name");
        return -EINVAL;
    }
    o->target = pos[1];
    if (npos == 3) {
        if (o->container) {
            snprintf(err, n, "only one of -c or an inline [CONTAINER] arg is allowed");
            return -EINVAL;
        }
        o->container = pos[2];
    }
    return s_lg_check(o, err, n);
}

/* ---- pods ------------------------------------------------------------------- */

/* The label selector string of a controller object (rc: a map; others:
 * a LabelSelector). NULL with err when it has none. Caller frees. */
static char *s_lg_selector(const json_t *owner, char *err, size_t n)
{
    const json_t *sel = proto_obj_get(owner, "spec.selector");
    proto_sel_t *s = NULL;
    int rc = -EINVAL;
    if (json_is_object(sel) && (json_object_get(sel, "matchLabels") ||
                                json_object_get(sel, "matchExpressions")))
        rc = proto_sel_from_label_selector(sel, &s, err, n);
    else if (json_is_object(sel) && json_object_size(sel) > 0)
        rc = proto_sel_from_map(sel, &s, err, n);
    if (rc < 0 || !s || proto_sel_empty(s)) {
        if (rc >= 0 || !*err)
            snprintf(err, n, "%s \"%s\" has no selector", proto_obj_kind(owner) ?: "object",
                     proto_obj_name(owner) ?: "");
        proto_sel_destroy(&s);
        return NULL;
    }
    char *str = proto_sel_string(s);
    proto_sel_destroy(&s);
    return str;
}

/* The pod of items whose name sorts first (borrowed), or NULL when empty. */
static const json_t *s_lg_first(const json_t *items)
{
    const json_t *best = NULL, *it;
    size_t i;
    json_array_foreach(items, i, it) {
        const char *name = proto_obj_name(it);
        if (name && (!best || strcmp(name, proto_obj_name(best)) < 0))
            best = it;
    }
    return best;
}

static int s_lg_get(ctl_t *c, const proto_kind_t *k, const char *name, json_t **obj)
{
    json_t *body = ctl_body(k, c->ns, name);
    int code = ctl_call(c, "get", body, obj);
    json_decref(body);
    if (code == 200)
        return 0;
    ctl_print_status(*obj, NULL);
    json_decref(*obj);
    *obj = NULL;
    return 1;
}

/* The first pod (by name) selected by controller obj. 0 or 1 (printed). */
static int s_lg_pod_of(ctl_t *c, const json_t *owner, const char *ref, json_t **pod)
{
    char err[CTL_ERR] = "";
    char *sel = s_lg_selector(owner, err, sizeof err);
    if (!sel) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    json_t *body = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", c->ns,
                             "labelSelector", sel), *list = NULL;
    free(sel);
    int code = ctl_call(c, "list", body, &list);
    json_decref(body);
    if (code != 200) {
        ctl_print_status(list, NULL);
        json_decref(list);
        return 1;
    }
    const json_t *items = json_object_get(list, "items"), *first = s_lg_first(items);
    if (!first)
        fprintf(stderr, "error: no pods found for %s\n", ref);
    else if (json_array_size(items) > 1)
        fprintf(stderr, "Found %zu pods, using pod/%s\n", json_array_size(items),
                proto_obj_name(first));
    *pod = first ? json_incref((json_t *)first) : NULL;
    json_decref(list);
    return first ? 0 : 1;
}

/* POD or TYPE/NAME (pod, rc, rs, deploy, job, ds) to a pod object.
 * 0, or 1 with the error printed. */
int ctl_pod_resolve(ctl_t *c, const char *target, json_t **pod)
{
    char err[CTL_ERR] = "", type[128];
    const char *slash = strchr(target, '/');
    *pod = NULL;
    if (!slash)
        return s_lg_get(c, proto_kind_find("pods"), target, pod);
    snprintf(type, sizeof type, "%.*s", (int)(slash - target < 120 ? slash - target : 120),
             target);
    const proto_kind_t *k = ctl_kind_resolve(type, err, sizeof err);
    if (!k) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (!strcmp(k->resource, "pods"))
        return s_lg_get(c, k, slash + 1, pod);
    if (strcmp(k->resource, "replicationcontrollers") && strcmp(k->resource, "replicasets") &&
        strcmp(k->resource, "deployments") && strcmp(k->resource, "jobs") &&
        strcmp(k->resource, "daemonsets") && strcmp(k->resource, "statefulsets")) {
        fprintf(stderr, "error: cannot attach to *%s: selector for *%s not implemented\n",
                k->kind, k->kind);
        return 1;
    }
    json_t *owner = NULL;
    if (s_lg_get(c, k, slash + 1, &owner))
        return 1;
    int rc = s_lg_pod_of(c, owner, target, pod);
    json_decref(owner);
    return rc;
}

/* One request to the kubelet of the pod's node. Returns the reply code;
 * *reply is owned by the caller. */
int ctl_kubelet_call(ctl_t *c, const json_t *pod, const char *op, const json_t *body,
                     int timeout_ms, json_t **reply)
{
    char svc[300];
    snprintf(svc, sizeof svc, "kubelet-%s", proto_obj_str(pod, "spec.nodeName") ?: "");
    rt_call_opts_t o = {.timeout_ms = timeout_ms, .retries = 0};
    *reply = NULL;
    int code = rt_call_sync(c->actor, svc, op, body, &o, reply);
    if (code < 100) {
        json_decref(*reply);
        *reply = proto_status_new(code < 0 ? code : PROTO_EINTERNAL, proto_strerror(code), NULL);
        return 500;
    }
    if (!*reply)
        *reply = json_object();
    return code;
}

/* ---- which container -------------------------------------------------------- */

/* Appends "[a b]" (the containers' names) to err at len; the new length. */
static size_t s_lg_names(const json_t *ctrs, char *err, size_t n, size_t len)
{
    const json_t *ct;
    size_t i;
    if (len < n)
        len += (size_t)snprintf(err + len, n - len, "[");
    json_array_foreach(ctrs, i, ct)
        if (len < n)
            len += (size_t)snprintf(err + len, n - len, "%s%s", i ? " " : "",
                                    proto_obj_str(ct, "name") ?: "");
    if (len < n)
        len += (size_t)snprintf(err + len, n - len, "]");
    return len;
}

/*
 * The container of pod that logs reads: want, else the default-container
 * annotation, else the only one. Checks what the apiserver checks before a
 * pod reaches a kubelet. 0 with *name, or PROTO_EBADREQUEST with the
 * message in err.
 */
static int s_lg_container(const json_t *pod, const char *want, bool previous, const char **name,
                          char *err, size_t n)
{
    const json_t *ctrs = proto_obj_get(pod, "spec.containers"), *inits, *ct;
    const char *pname = proto_obj_name(pod) ?: "";
    const char *def = json_string_value(json_object_get(
        proto_obj_get(pod, "metadata.annotations"), "kubectl.kubernetes.io/default-container"));
    size_t i;
    *name = want && *want ? want : def && *def ? def : NULL;
    if (!*name && json_array_size(ctrs) == 1)
        *name = proto_obj_str(json_array_get(ctrs, 0), "name");
    inits = proto_obj_get(pod, "spec.initContainers");
    if (!*name) { /* the apiserver's wording */
        size_t len = (size_t)snprintf(err, n, "a container name must be specified for pod %s, "
                                              "choose one of: ", pname);
        len = s_lg_names(ctrs, err, n, len);
        if (json_array_size(inits) > 0 && len < n) {
            len += (size_t)snprintf(err + len, n - len, " or one of the init containers: ");
            s_lg_names(inits, err, n, len);
        }
        return PROTO_EBADREQUEST;
    }
    bool found = false;
    json_array_foreach(ctrs, i, ct) found |= !strcmp(proto_obj_str(ct, "name") ?: "", *name);
    json_array_foreach(inits, i, ct) found |= !strcmp(proto_obj_str(ct, "name") ?: "", *name);
    if (!found) {
        snprintf(err, n, "container %s is not valid for pod %s", *name, pname);
        return PROTO_EBADREQUEST;
    }
    const char *node = proto_obj_str(pod, "spec.nodeName");
    if (node && *node)
        return 0; /* the kubelet knows the rest */
    if (previous)
        snprintf(err, n, "previous terminated container \"%s\" in pod \"%s\" not found", *name,
                 pname);
    else
        snprintf(err, n, "container \"%s\" in pod \"%s\" is waiting to start: "
                         "ContainerCreating", *name, pname);
    return PROTO_EBADREQUEST;
}

/* ---- the verb --------------------------------------------------------------- */

static volatile sig_atomic_t s_lg_interrupted;

static void s_lg_on_int(int sig)
{
    (void)sig;
    s_lg_interrupted = 1;
}

/* The kubelet's `logs` request body for o. */
static json_t *s_lg_request(const ctl_logs_opts_t *o, const json_t *pod, const char *ctr)
{
    json_t *q = json_pack("{s:s, s:s, s:s, s:b, s:b}", "namespace", proto_obj_ns(pod) ?: "default",
                          "name", proto_obj_name(pod), "container", ctr, "previous", o->previous,
                          "timestamps", o->timestamps);
    if (o->tail >= 0)
        json_object_set_new(q, "tailLines", json_integer(o->tail));
    if (o->since_ms > 0) /* kubectl rounds to whole seconds, at least one */
        json_object_set_new(q, "sinceSeconds",
                            json_integer(o->since_ms < 1500 ? 1 : (o->since_ms + 500) / 1000));
    if (o->limit_bytes > 0)
        json_object_set_new(q, "limitBytes", json_integer(o->limit_bytes));
    return q;
}

/* One container's log being read (or followed). */
typedef struct s_lg_src {
    const json_t *pod;
    json_t *q;           /* the request; its offset advances */
    char prefix[600];    /* "[pod/NAME/CONTAINER] " with --prefix, else "" */
    int64_t restarts;    /* instance followed; -1 before the first reply */
    int64_t retry_until; /* monotonic ms: give up on an absent kubelet */
    bool done;
} s_lg_src_t;

/* Writes text, each line after prefix. */
static void s_lg_put(const char *prefix, const char *text)
{
    if (!*prefix) {
        fputs(text, stdout);
        return;
    }
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        printf("%s%.*s", prefix, (int)len, p);
        p += len;
    }
}

/*
 * One poll of src: prints what is new. 0 when src is to be polled again,
 * 1 when it ended well (not following, container ended or restarted, pod
 * gone while followed), -1 on an error (printed).
 */
static int s_lg_poll(ctl_t *c, bool follow, s_lg_src_t *src)
{
    json_t *rep = NULL;
    int code = ctl_kubelet_call(c, src->pod, "logs", src->q, CTL_LOGS_TIMEOUT_MS, &rep);
    if ((code == 503 || code == 504) && follow && src->restarts >= 0) {
        json_decref(rep); /* a restarting kubelet: keep trying for a while */
        if (!src->retry_until)
            src->retry_until = proto_mono_ms() + CTL_LOGS_RETRY_MS;
        return proto_mono_ms() > src->retry_until ? -1 : 0;
    }
    if (code != 200) {
        bool gone = code == 404 && src->restarts >= 0; /* the pod went while we followed */
        if (!gone)
            ctl_print_status(rep, NULL);
        json_decref(rep);
        return gone ? 1 : -1;
    }
    src->retry_until = 0;
    s_lg_put(src->prefix, json_string_value(json_object_get(rep, "log")) ?: "");
    fflush(stdout);
    int64_t rc = proto_obj_int(rep, "restartCount", 0);
    bool more = follow && json_is_true(json_object_get(rep, "running")) &&
                (src->restarts < 0 || src->restarts == rc);
    src->restarts = rc;
    json_object_set(src->q, "offset", json_object_get(rep, "offset"));
    json_decref(rep);
    return more ? 0 : 1;
}

/* Reads every source; following, polls them all every 200 ms until each
 * has ended or SIGINT. 0 or 1 (some source failed). */
static int s_lg_streams(ctl_t *c, bool follow, s_lg_src_t *srcs, size_t n)
{
    int rc = 0;
    size_t left = n;
    signal(SIGINT, s_lg_on_int);
    while (left > 0 && !s_lg_interrupted) {
        for (size_t i = 0; i < n && !s_lg_interrupted; i++) {
            if (srcs[i].done)
                continue;
            int r = s_lg_poll(c, follow, &srcs[i]);
            if (r != 0) {
                srcs[i].done = true;
                left--;
                rc |= r < 0;
            }
        }
        if (left > 0 && !s_lg_interrupted)
            rt_run_for(c->actor, CTL_LOGS_POLL_MS);
    }
    return rc;
}

/* One source for (pod, container), appended to *srcs. */
static void s_lg_add(const ctl_logs_opts_t *o, const json_t *pod, const char *ctr,
                     s_lg_src_t **srcs, size_t *n)
{
    *srcs = realloc(*srcs, (*n + 1) * sizeof **srcs);
    if (!*srcs)
        abort();
    s_lg_src_t *s = &(*srcs)[(*n)++];
    memset(s, 0, sizeof *s);
    s->pod = pod;
    s->q = s_lg_request(o, pod, ctr);
    s->restarts = -1;
    if (o->prefix)
        snprintf(s->prefix, sizeof s->prefix, "[pod/%s/%s] ", proto_obj_name(pod) ?: "", ctr);
}

/* The sources of one pod: its chosen container, or all of them (init
 * containers first) with --all-containers. 0, or 1 with the error printed. */
static int s_lg_pod_srcs(const ctl_logs_opts_t *o, const json_t *pod, s_lg_src_t **srcs,
                         size_t *n)
{
    char err[CTL_ERR];
    const char *ctr = NULL;
    if (o->all_containers) {
        const char *paths[] = {"spec.initContainers", "spec.containers"};
        const json_t *ct;
        size_t i;
        for (size_t k = 0; k < 2; k++)
            json_array_foreach(proto_obj_get(pod, paths[k]), i, ct)
                s_lg_add(o, pod, proto_obj_str(ct, "name") ?: "", srcs, n);
        return 0;
    }
    int rc = s_lg_container(pod, o->container, o->previous, &ctr, err, sizeof err);
    if (rc < 0) {
        json_t *st = proto_status_new(rc, err, NULL);
        ctl_print_status(st, NULL);
        json_decref(st);
        return 1;
    }
    s_lg_add(o, pod, ctr, srcs, n);
    return 0;
}

/* The pods -l selects, sorted by name, in *pods (an array). 0 or 1. */
static int s_lg_select(ctl_t *c, const char *selector, json_t **pods)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "resource", "pods", "namespace", c->ns,
                             "labelSelector", selector), *list = NULL;
    int code = ctl_call(c, "list", body, &list);
    json_decref(body);
    *pods = NULL;
    if (code != 200) {
        ctl_print_status(list, NULL);
        json_decref(list);
        return 1;
    }
    json_t *items = json_incref(json_object_get(list, "items"));
    json_decref(list);
    json_t *sorted = json_array();
    while (json_array_size(items) > 0) { /* selection sort: lists here are short */
        const json_t *first = s_lg_first(items);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) if (it == first) break;
        json_array_append(sorted, (json_t *)first);
        json_array_remove(items, i);
    }
    json_decref(items);
    if (json_array_size(sorted) == 0)
        fprintf(stderr, "No resources found in %s namespace.\n", c->ns);
    *pods = sorted;
    return 0;
}

static int s_logs_run(ctl_t *c, const ctl_logs_opts_t *o)
{
    json_t *pods = NULL, *pod = NULL;
    if (o->selector ? s_lg_select(c, o->selector, &pods) : ctl_pod_resolve(c, o->target, &pod))
        return 1;
    if (!pods)
        pods = json_pack("[o]", pod);
    s_lg_src_t *srcs = NULL;
    size_t n = 0, i;
    int rc = 0;
    json_array_foreach(pods, i, pod) rc |= s_lg_pod_srcs(o, pod, &srcs, &n);
    if (rc == 0)
        rc = s_lg_streams(c, o->follow, srcs, n);
    for (i = 0; i < n; i++)
        json_decref(srcs[i].q);
    free(srcs);
    json_decref(pods);
    return rc;
}

int ctl_logs_main(int argc, char **argv)
{
    ctl_logs_opts_t o;
    char err[CTL_ERR] = "";
    if (s_logs_parse(argc, argv, &o, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\nSee 'kubectl logs -h' for help and examples\n", err);
        return 1;
    }
    if (o.help) {
        printf("Print the logs for a container in a pod or specified resource.\n\nUsage:\n"
               "  zkubectl logs [-f] [-p] (POD | TYPE/NAME | -l SELECTOR) [-c CONTAINER] "
               "[--all-containers] [--prefix] [--tail N] [--since DURATION] [--timestamps] "
               "[--limit-bytes N] [-n NAMESPACE]\n");
        return 0;
    }
    ctl_args_t a;
    memset(&a, 0, sizeof a);
    a.verb = "logs";
    a.ns = o.ns;
    ctl_t c;
    if (ctl_open(&c, &a))
        return 1;
    int rc = s_logs_run(&c, &o);
    fflush(stdout);
    ctl_close(&c);
    return rc;
}
