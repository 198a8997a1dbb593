/*
 * protocol/manifest — reading manifests (YAML or JSON; files, directories,
 * stdin) into jansson trees, and writing objects as `kubectl -o yaml` and
 * `kubectl -o json` print them.
 */
#ifndef ZK_PROTOCOL_MANIFEST_H
#define ZK_PROTOCOL_MANIFEST_H

#include <jansson.h>
#include <stddef.h>

#define PROTO_MAX_MANIFEST (32u << 20) /* bytes of one manifest file */

/*
 * Parses a YAML stream (multi-document, block and flow style, anchors and
 * aliases, comments) or a JSON text. Scalars resolve as sigs.k8s.io/yaml
 * does (YAML 1.1 via go-yaml: true/false/yes/no/on/off booleans, ints,
 * floats, null/~; quoted scalars always strings). Empty documents are
 * skipped. Non-string keys become their JSON text (1 -> "1", y -> "true");
 * a key given twice is an error, and so are .inf/.nan (JSON has none).
 * A document that is a `kind: List` (or *List with items) is expanded
 * into its items. Roots may be any value (a JSON patch is an array).
 * On success *docs is a new array (caller owns) of the documents' roots.
 * On failure returns PROTO_EBADREQUEST and err says
 *   "NAME:LINE:COLUMN: <what is wrong>" (1-based), NAME being name.
 * Alias expansion is bounded (billion-laughs safe), nesting is bounded by
 * PROTO_MAX_DEPTH.
 */
int proto_manifest_parse(const char *buf, size_t len, const char *name, json_t **docs,
                         char *err, size_t errlen);

/*
 * Loads a path: a file (.yaml .yml .json, any name when given directly),
 * a directory (its .yaml/.yml/.json files in name order; recursive when
 * recursive != 0), or "-" for stdin. Documents are appended to *docs
 * (created when NULL). Errors as proto_manifest_parse, or -errno with
 * "PATH: <strerror>" in err.
 */
int proto_manifest_load(const char *path, int recursive, json_t **docs, char *err,
                        size_t errlen);

/* The object as `kubectl get -o yaml` prints it (keys sorted, 2-space, lists
 * not indented, strings quoted when they would read back as another type).
 * Caller frees. Byte-identical to kubectl (checked by test_manifest) except:
 * keys whose digit runs go-yaml orders circularly (a01, a0b, a1: kubectl's
 * own order then varies from run to run), strings that begin with U+FEFF
 * (go-yaml then escapes every character), and mapping keys that end in
 * U+2028/U+2029. Invalid UTF-8 prints as U+FFFD, as Go's encoder makes it.
 * NULL obj prints null. */
char *proto_yaml_dump(const json_t *obj);

/* The object as `kubectl get -o json` prints it (keys sorted, 4-space
 * indent, trailing newline; Go's escapes \u003c \u003e \u0026 and number
 * formats). Caller frees. */
char *proto_json_dump(const json_t *obj);

/*
 * How go-yaml v2 (and so kubectl) reads a plain, untagged scalar. Used by
 * the loader and by proto_yaml_dump (a string is quoted when it would read
 * back as another kind).
 */
typedef enum proto_ykind {
    PROTO_Y_STR,       /* anything else */
    PROTO_Y_NULL,      /* "", ~, null, Null, NULL */
    PROTO_Y_BOOL,      /* y/n, yes/no, on/off, true/false in go-yaml's spellings */
    PROTO_Y_INT,       /* decimal, 0x, 0o, 0b, leading-0 octal, '_' separators */
    PROTO_Y_FLOAT,     /* 1.5, 1e3, .5, .inf, .nan ... */
    PROTO_Y_TIMESTAMP, /* 2006-1-2[T15:4:5[.9]Z07:00]; read back as a string */
    PROTO_Y_MERGE,     /* "<<" */
} proto_ykind_t;

/*
 * Resolves the plain scalar s (n bytes). When out is not NULL it receives a
 * new reference to the value: a string for STR, TIMESTAMP and MERGE; an
 * integer for INT (a real above INT64_MAX, as JSON would carry it); a real
 * for FLOAT, or NULL for NaN and infinities (JSON has none).
 */
proto_ykind_t proto_yaml_resolve(const char *s, size_t n, json_t **out);

#endif
