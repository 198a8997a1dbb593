/*
 * tools/zkubectl/ctl.h — private interface between the files of zkubectl,
 * the kubectl-compatible client: parsed command line (args.c), kind and
 * target resolution (resources.c), the apiserver client and error printing
 * (client.c), printers (printers.c), and one file per group of verbs.
 * Not a library header: nothing outside tools/zkubectl includes it (except
 * the unit test, which compiles args.c and resources.c directly).
 */
#ifndef ZK_TOOLS_ZKUBECTL_CTL_H
#define ZK_TOOLS_ZKUBECTL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol/kinds.h"

#define CTL_MAX_ARGS 128  /* positional arguments */
#define CTL_MAX_FILES 32  /* -f occurrences */
#define CTL_MAX_TARGETS 32 /* kinds named on one command line */
#define CTL_ERR 512

typedef enum ctl_out {
    CTL_OUT_TABLE = 0,
    CTL_OUT_WIDE,
    CTL_OUT_JSON,
    CTL_OUT_YAML,
    CTL_OUT_NAME,
    CTL_OUT_JSONPATH,      /* template in out_arg */
    CTL_OUT_JSONPATH_FILE, /* path in out_arg */
    CTL_OUT_CUSTOM,        /* spec in out_arg */
} ctl_out_t;

/* The command line, kubectl's grammar. Strings borrow from argv. */
typedef struct ctl_args {
    const char *verb;
    const char *pos[CTL_MAX_ARGS];
    int npos;
    const char *ns; /* -n / --namespace; NULL = default */
    bool all_ns;
    const char *selector;
    const char *field_selector;
    ctl_out_t out;
    bool out_set;
    const char *out_arg;
    bool show_labels, no_headers, watch, watch_only;
    const char *files[CTL_MAX_FILES];
    int nfiles;
    bool recursive;
    bool all, overwrite, now, force, wait, help, list;
    const char *cascade; /* background | foreground | orphan */
    int grace;           /* -1 = unset */
    long replicas;       /* -1 = unset */
    long current_replicas;
    const char *patch;
    const char *patch_type; /* merge | json | strategic */
    bool server_side, force_conflicts; /* apply --server-side [--force-conflicts] */
    const char *field_manager;          /* --field-manager; NULL = "kubectl" */
    const char *dry_run; /* --dry-run[=none|client|server]; bare: "unchanged" */
    /* expose: --port --target-port --protocol --name --labels (-l there)
     * --external-ip --cluster-ip --session-affinity --load-balancer-ip;
     * --type lands in patch_type, --selector in selector */
    const char *port, *target_port, *protocol, *name, *labels, *external_ip;
    const char *cluster_ip, *session_affinity, *load_balancer_ip;
} ctl_args_t;

/* Parses argv (argv[0] is the program). 0, or an error with kubectl's
 * wording in err: -EINVAL for what cobra rejects while parsing ("unknown
 * flag: --foo"; kubectl adds a usage hint), -EDOM for a value kubectl
 * checks afterwards (-o, --cascade). */
int ctl_args_parse(int argc, char **argv, ctl_args_t *a, char *err, size_t errlen);
/* --dry-run: a value kubectl knows, on a verb zkubectl does it for. 0, or
 * -EINVAL with the message in err (kubectl adds no usage hint to it). */
int ctl_args_check_dry_run(const ctl_args_t *a, char *err, size_t errlen);

/* --- kinds and targets (resources.c) ------------------------------------ */

typedef struct ctl_target {
    const proto_kind_t *kind;
    const char *names[CTL_MAX_ARGS];
    int nnames;
} ctl_target_t;

/* A kind by any user spelling, or NULL with kubectl's error in err:
 * `the server doesn't have a resource type "foo"`. */
const proto_kind_t *ctl_kind_resolve(const char *name, char *err, size_t errlen);

/*
 * kubectl's resource arguments: `TYPE[,TYPE...] [NAME...]` or
 * `TYPE/NAME [TYPE/NAME...]`; `all` expands to the kinds of the "all"
 * category. Fills t[0..*n). 0 or -EINVAL with err.
 */
int ctl_targets_parse(const char *const *pos, int npos, ctl_target_t *t, int max, int *n,
                      bool *several_kinds, char *err, size_t errlen);

/* "pod", "replicaset.apps": the prefix of `-o name` and of several-kind
 * tables. */
const char *ctl_kind_prefix(const proto_kind_t *k, char *buf, size_t n);

/* --- client (client.c) --------------------------------------------------- */

typedef struct ctl {
    struct rt_actor *actor;
    const ctl_args_t *args;
    const char *ns; /* effective namespace */
} ctl_t;

int ctl_open(ctl_t *c, const ctl_args_t *a);
void ctl_close(ctl_t *c);
/* One apiserver request; returns the reply code and sets *reply (owned).
 * Reads are retried; writes are not. */
int ctl_call(ctl_t *c, const char *op, const json_t *body, json_t **reply);
/* kubectl's rendering of a server error (Status) on stderr. ctx, when not
 * NULL, is e.g. `error when creating "x.yaml"`. */
void ctl_print_status(const json_t *status, const char *ctx);
/* kubectl's resource builder rewrites the message of a list that failed
 * with 400 or 404: `Unable to find "/v1, Resource=pods" that match label
 * selector "...", field selector "...": message` (`Unable to list ...`
 * without selectors). Changes status in place. */
void ctl_list_error_context(json_t *status, int code, const proto_kind_t *k,
                            const ctl_args_t *a);
/* Formats the message only (no newline) into buf. */
const char *ctl_status_text(const json_t *status, const char *ctx, char *buf, size_t n);
/* Request body {resource, namespace[, name]}; namespace "" when cluster-scoped. */
json_t *ctl_body(const proto_kind_t *k, const char *ns, const char *name);
/* metadata.resourceVersion of a list or object as a number (0 if none). */
uint64_t ctl_rv_of(const json_t *obj);
/* Namespace to use for kind k under the command line (or an object's own). */
const char *ctl_ns_for(const ctl_t *c, const proto_kind_t *k);

/* --- printers (printers.c) ---------------------------------------------- */

/* Prints objects as -o json|yaml|name|jsonpath|custom-columns asks. list
 * says whether to wrap in a List. 0 or 1 (error printed). */
int ctl_print_objects(const ctl_args_t *a, const json_t *items, bool list);
/* `pod/x` for obj. */
const char *ctl_obj_ref(const json_t *obj, char *buf, size_t n);
/* Fills in kind and apiVersion of list items when missing. */
void ctl_fix_items(json_t *items, const proto_kind_t *k);

/* Go's text/tabwriter (flags 0, pad char ' '): describe uses minwidth 0,
 * padding 2; custom-columns and api-resources minwidth 6, padding 3. */
typedef struct ctl_tw ctl_tw_t;
ctl_tw_t *ctl_tw_new(int minwidth, int padding);
/* Appends one line (cells separated by '\t'); printf-style. */
void ctl_tw_printf(ctl_tw_t *tw, int indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes the aligned text to f and frees tw. */
void ctl_tw_flush(ctl_tw_t **tw, FILE *f);

/* --- verbs ---------------------------------------------------------------- */

/* logs.c / exec.c: verbs with their own grammar (-c, -f, -p differ); they
 * connect by themselves and return the process exit code. */
int ctl_logs_main(int argc, char **argv);
int ctl_exec_main(int argc, char **argv);
/* The first positional argument of argv (the verb), skipping global flags. */
const char *ctl_raw_verb(int argc, char **argv);
/* Go's time.ParseDuration to milliseconds; 0 or -EINVAL. */
int ctl_parse_duration(const char *s, int64_t *ms);
/* POD or TYPE/NAME (pod, rc, rs, deploy, job, ds, sts) to a pod; 0 or 1 (printed). */
int ctl_pod_resolve(ctl_t *c, const char *target, json_t **pod);
/* One request to kubelet-<spec.nodeName>; returns the code, *reply owned. */
/* exec_stream.c: runs open (an exec body: namespace, name, container,
 * command; stolen fields added) as a stream on the pod's kubelet, with our
 * stdin when in and a terminal when tty; returns the exit code to end with. */
int ctl_exec_stream(ctl_t *c, const json_t *pod, json_t *open, bool in, bool tty);
int ctl_kubelet_call(ctl_t *c, const json_t *pod, const char *op, const json_t *body,
                     int timeout_ms, json_t **reply);

/* expose_svc.c: what `kubectl expose` takes from its flags (NULL or ""
 * when not given); ns is set only when -n was given (kubectl then puts it
 * in a --dry-run=client object). */
typedef struct ctl_expose_opts {
    const char *port, *target_port, *protocol, *type, *name, *selector, *labels;
    const char *external_ip, *cluster_ip, *session_affinity, *load_balancer_ip, *ns;
} ctl_expose_opts_t;
/* The Service kubectl expose makes for obj (an RC, RS, Deployment, Pod or
 * Service), fields in the order kubectl's typed object prints them, with
 * creationTimestamp null and an empty status as --dry-run=client shows.
 * 0 and *svc (owned), or -EINVAL with kubectl's message (no "error: "). */
int ctl_expose_service(const json_t *obj, const ctl_expose_opts_t *o, json_t **svc, char *err,
                       size_t errlen);

int ctl_cmd_get(ctl_t *c);
int ctl_cmd_create(ctl_t *c);  /* create -f */
int ctl_cmd_apply(ctl_t *c);   /* apply -f */
int ctl_cmd_replace(ctl_t *c); /* replace -f */
int ctl_cmd_delete(ctl_t *c);
int ctl_cmd_describe(ctl_t *c);
int ctl_cmd_label(ctl_t *c);    /* label and annotate */
int ctl_cmd_scale(ctl_t *c);
int ctl_cmd_expose(ctl_t *c);
int ctl_cmd_patch(ctl_t *c);
int ctl_cmd_api_resources(ctl_t *c);
int ctl_cmd_version(ctl_t *c);

/* kubectl's "You must provide one or more resources" error; returns 1. */
int ctl_no_resources(void);
/* Loads -f files into an array of {file, doc}; 0 or 1 (error printed). */
int ctl_load_files(const ctl_args_t *a, json_t **docs);
/* Runs fn on every document of the -f files, with its kind and namespace
 * resolved (documents that have neither are reported and skipped). 0, or 1
 * if anything failed. */
typedef int(ctl_doc_fn)(ctl_t *c, const proto_kind_t *k, const char *ns, json_t *doc,
                        const char *file);
int ctl_each_doc(ctl_t *c, ctl_doc_fn *fn);
/* Kind of a manifest document, or NULL with an error printed. */
const proto_kind_t *ctl_doc_kind(const json_t *doc, const char *file);
/* Sets / checks the namespace of a document against -n. 0 or 1. */
int ctl_doc_ns(const ctl_t *c, const proto_kind_t *k, json_t *doc, const char **ns);

/* Three-way merge patch (apply.c): changes that turn live into modified,
 * plus nulls for what original had and modified dropped. Lists compare
 * "modified is a subset of live" so server defaults do not count as
 * changes. Returns a new object (possibly empty). */
json_t *ctl_three_way(const json_t *original, const json_t *modified, const json_t *live);
/* The last-applied annotation value for doc: compact, sorted JSON of doc
 * with that annotation removed, ending with a newline. Caller frees. */
char *ctl_last_applied(const json_t *doc);

#define CTL_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

#endif
