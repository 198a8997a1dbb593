/*
 * tools/zkubectl/args.c — kubectl's command-line grammar: a verb, positional
 * arguments and flags in any order, `--flag value`, `--flag=value`, `-n ns`,
 * `-nns`, boolean flags with optional `=true|false`, `--` ending flags.
 * Pure: no I/O, so the unit test exercises it directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/zkubectl/ctl.h"

/* S_OPT: a string whose value is optional (only `--flag=v` gives one). */
typedef enum { S_STR, S_BOOL, S_INT, S_LONG, S_FILE, S_OUT, S_OPT } s_type_t;

typedef struct s_flag {
    const char *lng; /* without "--" */
    char shrt;       /* 0 if none */
    s_type_t type;
    size_t off;
} s_flag_t;

#define S_OFF(f) offsetof(ctl_args_t, f)

static const s_flag_t s_flags[] = {
    {"namespace", 'n', S_STR, S_OFF(ns)},
    {"all-namespaces", 'A', S_BOOL, S_OFF(all_ns)},
    {"selector", 'l', S_STR, S_OFF(selector)},
    {"field-selector", 0, S_STR, S_OFF(field_selector)},
    {"output", 'o', S_OUT, S_OFF(out)},
    {"show-labels", 0, S_BOOL, S_OFF(show_labels)},
    {"no-headers", 0, S_BOOL, S_OFF(no_headers)},
    {"watch", 'w', S_BOOL, S_OFF(watch)},
    {"watch-only", 0, S_BOOL, S_OFF(watch_only)},
    {"filename", 'f', S_FILE, S_OFF(files)},
    {"recursive", 'R', S_BOOL, S_OFF(recursive)},
    {"all", 0, S_BOOL, S_OFF(all)},
    {"overwrite", 0, S_BOOL, S_OFF(overwrite)},
    {"now", 0, S_BOOL, S_OFF(now)},
    {"force", 0, S_BOOL, S_OFF(force)},
    {"wait", 0, S_BOOL, S_OFF(wait)},
    {"help", 'h', S_BOOL, S_OFF(help)},
    {"cascade", 0, S_STR, S_OFF(cascade)},
    {"grace-period", 0, S_INT, S_OFF(grace)},
    {"replicas", 0, S_LONG, S_OFF(replicas)},
    {"current-replicas", 0, S_LONG, S_OFF(current_replicas)},
    {"patch", 'p', S_STR, S_OFF(patch)},
    {"type", 0, S_STR, S_OFF(patch_type)},
    {"server-side", 0, S_BOOL, S_OFF(server_side)},
    {"force-conflicts", 0, S_BOOL, S_OFF(force_conflicts)},
    {"field-manager", 0, S_STR, S_OFF(field_manager)},
    {"dry-run", 0, S_OPT, S_OFF(dry_run)},
    {"port", 0, S_STR, S_OFF(port)},
    {"target-port", 0, S_STR, S_OFF(target_port)},
    {"protocol", 0, S_STR, S_OFF(protocol)},
    {"name", 0, S_STR, S_OFF(name)},
    {"labels", 0, S_STR, S_OFF(labels)},
    {"external-ip", 0, S_STR, S_OFF(external_ip)},
    {"cluster-ip", 0, S_STR, S_OFF(cluster_ip)},
    {"session-affinity", 0, S_STR, S_OFF(session_affinity)},
    {"load-balancer-ip", 0, S_STR, S_OFF(load_balancer_ip)},
};
/* expose's -l is --labels (the service's own), not --selector */
static const s_flag_t s_expose_l = {"labels", 'l', S_STR, S_OFF(labels)};
#define S_NFLAGS (sizeof s_flags / sizeof s_flags[0])

static const s_flag_t *s_find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < S_NFLAGS; i++)
        if (strlen(s_flags[i].lng) == len && !strncmp(s_flags[i].lng, name, len))
            return &s_flags[i];
    return NULL;
}

static const s_flag_t *s_find_short(const ctl_args_t *a, char c)
{
    if (c == 'l' && a->verb && !strcmp(a->verb, "expose"))
        return &s_expose_l;
    for (size_t i = 0; i < S_NFLAGS; i++)
        if (s_flags[i].shrt == c)
            return &s_flags[i];
    return NULL;
}

/* -o VALUE: kubectl's printer names. */
static int s_set_output(ctl_args_t *a, const char *v, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        ctl_out_t out;
        bool arg;
    } outs[] = {
        {"wide", CTL_OUT_WIDE, false},       {"json", CTL_OUT_JSON, false},
        {"yaml", CTL_OUT_YAML, false},       {"name", CTL_OUT_NAME, false},
        {"jsonpath", CTL_OUT_JSONPATH, true}, {"jsonpath-file", CTL_OUT_JSONPATH_FILE, true},
        {"custom-columns", CTL_OUT_CUSTOM, true},
    };
    const char *eq = strchr(v, '=');
    size_t n = eq ? (size_t)(eq - v) : strlen(v);
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        if (strlen(outs[i].name) != n || strncmp(outs[i].name, v, n))
            continue;
        if (outs[i].arg && (!eq || !eq[1])) {
            snprintf(err, errlen, "%s template format specified but no template given",
                     outs[i].name);
            return -EDOM;
        }
        if (!outs[i].arg && eq)
            break;
        a->out = outs[i].out;
        a->out_arg = eq ? eq + 1 : NULL;
        a->out_set = true;
        return 0;
    }
    snprintf(err, errlen,
             "unable to match a printer suitable for the output format \"%s\", allowed "
             "formats are: custom-columns,json,jsonpath,jsonpath-file,name,wide,yaml",
             v);
    return -EDOM;
}

static int s_parse_bool(const char *v, bool *out)
{
    if (!v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "TRUE"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "f") || !strcmp(v, "FALSE"))
        *out = false;
    else
        return -EINVAL;
    return 0;
}

static int s_parse_num(const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi)
        return -EINVAL;
    *out = n;
    return 0;
}

/* Stores value v (may be NULL for a bare boolean) into a by flag f. */
static int s_store(ctl_args_t *a, const s_flag_t *f, const char *name, const char *v, char *err,
                   size_t errlen)
{
    char *base = (char *)a;
    long n = 0;
    char shown[80]; /* as cobra names the flag: "-w, --watch" or "--replicas" */
    if (f->shrt)
        snprintf(shown, sizeof shown, "-%c, --%s", f->shrt, f->lng);
    else
        snprintf(shown, sizeof shown, "--%s", f->lng);
    (void)name;
    switch (f->type) {
    case S_STR:
        *(const char **)(base + f->off) = v;
        return 0;
    case S_OPT:
        *(const char **)(base + f->off) = v ? v : "unchanged";
        return 0;
    case S_BOOL:
        if (s_parse_bool(v, (bool *)(base + f->off)) == 0)
            return 0;
        snprintf(err, errlen, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: "
                 "parsing \"%s\": invalid syntax", v, shown, v);
        return -EINVAL;
    case S_INT:
    case S_LONG:
        if (s_parse_num(v, -1, f->type == S_INT ? 1000000000L : 1L << 31, &n) != 0) {
            snprintf(err, errlen, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: "
                     "parsing \"%s\": invalid syntax", v, shown, v);
            return -EINVAL;
        }
        if (f->type == S_INT)
            *(int *)(base + f->off) = (int)n;
        else
            *(long *)(base + f->off) = n;
        return 0;
    case S_FILE:
        if (a->nfiles >= CTL_MAX_FILES) {
            snprintf(err, errlen, "too many -f arguments (at most %d)", CTL_MAX_FILES);
            return -EINVAL;
        }
        a->files[a->nfiles++] = v;
        return 0;
    case S_OUT:
        return s_set_output(a, v, err, errlen);
    }
    return -EINVAL;
}

/* One `--name[=v]` argument; may consume argv[*i+1]. */
static int s_long_flag(ctl_args_t *a, int argc, char **argv, int *i, char *err, size_t errlen)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const s_flag_t *f = s_find_long(arg, len);
    char name[64];
    snprintf(name, sizeof name, "--%.*s", (int)(len < 60 ? len : 60), arg);
    if (!f) {
        snprintf(err, errlen, "unknown flag: %s", name);
        return -EINVAL;
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!v && f->type != S_BOOL && f->type != S_OPT) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "flag needs an argument: %s", name);
            return -EINVAL;
        }
        v = argv[++*i];
    }
    return s_store(a, f, name + 2, v, err, errlen);
}

/* One `-abc` / `-nVALUE` / `-n VALUE` group. */
static int s_short_flags(ctl_args_t *a, int argc, char **argv, int *i, char *err, size_t errlen)
{
    const char *p = argv[*i] + 1;
    for (; *p; p++) {
        const s_flag_t *f = s_find_short(a, *p);
        if (!f) {
            snprintf(err, errlen, "unknown shorthand flag: '%c' in %s", *p, argv[*i]);
            return -EINVAL;
        }
        if (f->type == S_BOOL) {
            const char *v = p[1] == '=' ? p + 2 : NULL;
            int rc = s_store(a, f, f->lng, v, err, errlen);
            if (rc || v)
                return rc;
            continue;
        }
        const char *v = p[1] ? p + 1 + (p[1] == '=') : NULL;
        if (!v) {
            if (*i + 1 >= argc) {
                snprintf(err, errlen, "flag needs an argument: '%c' in -%c", *p, *p);
                return -EINVAL;
            }
            v = argv[++*i];
        }
        return s_store(a, f, f->lng, v, err, errlen);
    }
    return 0;
}

static int s_add_pos(ctl_args_t *a, const char *v, char *err, size_t errlen)
{
    if (!a->verb) {
        a->verb = v;
        return 0;
    }
    if (a->npos >= CTL_MAX_ARGS) {
        snprintf(err, errlen, "too many arguments (at most %d)", CTL_MAX_ARGS);
        return -EINVAL;
    }
    a->pos[a->npos++] = v;
    return 0;
}

/* --dry-run: kubectl's values; only the verbs that honour it take it, so
 * that no other verb quietly writes what the user meant to try. */
int ctl_args_check_dry_run(const ctl_args_t *a, char *err, size_t errlen)
{
    const char *v = a->dry_run;
    if (!v || !strcmp(v, "none") || !strcmp(v, "false"))
        return 0;
    if (strcmp(v, "client") && strcmp(v, "server") && strcmp(v, "unchanged") &&
        strcmp(v, "true")) {
        snprintf(err, errlen, "Invalid dry-run value (%s). Must be \"none\", \"server\", or "
                 "\"client\".", v);
        return -EINVAL;
    }
    if (a->verb && !strcmp(a->verb, "expose"))
        return 0;
    snprintf(err, errlen, "--dry-run is not supported by zkubectl %s", a->verb ? a->verb : "");
    return -EINVAL;
}

int ctl_args_parse(int argc, char **argv, ctl_args_t *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->grace = -1;
    a->replicas = -1;
    a->current_replicas = -1;
    a->wait = true;
    bool dashdash = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int rc = 0;
        if (dashdash || s[0] != '-' || !strcmp(s, "-"))
            rc = s_add_pos(a, s, err, errlen);
        else if (!strcmp(s, "--"))
            dashdash = true;
        else if (s[1] == '-')
            rc = s_long_flag(a, argc, argv, &i, err, errlen);
        else
            rc = s_short_flags(a, argc, argv, &i, err, errlen);
        if (rc)
            return rc;
    }
    if (a->cascade && strcmp(a->cascade, "background") && strcmp(a->cascade, "foreground") &&
        strcmp(a->cascade, "orphan") && strcmp(a->cascade, "true") &&
        strcmp(a->cascade, "false")) {
        snprintf(err, errlen,
                 "invalid cascade value (%s). Must be \"background\", \"foreground\", or "
                 "\"orphan\"",
                 a->cascade);
        return -EDOM;
    }
    return 0;
}
