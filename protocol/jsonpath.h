/*
 * protocol/jsonpath — kubectl's JSONPath templates (k8s.io/client-go/util/
 * jsonpath), byte-identical output: `{.items[*].metadata.name}`,
 * `{range .items[*]}{.metadata.name}{"\n"}{end}`, filters
 * `[?(@.status.phase=="Running")]`, recursive descent `..`, slices
 * `[1:3]`, `[-1:]`, quoted keys `['a.b']`, `{.a.b}` text mixing, `{$}`.
 */
#ifndef ZK_PROTOCOL_JSONPATH_H
#define ZK_PROTOCOL_JSONPATH_H

#include <jansson.h>
#include <stddef.h>

typedef struct proto_jp proto_jp_t;

/* Compiles a template. 0 or PROTO_EBADREQUEST with err worded as kubectl
 * ("error parsing jsonpath {.a[, unterminated array"; "" gives kubectl's
 * "template format specified but no template given"). Templates over 64 KiB
 * are refused. */
int proto_jp_compile(const char *tmpl, proto_jp_t **out, char *err, size_t errlen);
/*
 * Executes against data; *out malloc'd (caller frees) holds the text exactly
 * as kubectl prints it (values joined by a space, maps/arrays as compact
 * JSON, strings raw). Missing keys give PROTO_ENOTFOUND with err
 * `error executing jsonpath "...": ... is not found` as kubectl does
 * (kubectl -o jsonpath sets allowMissingKeys=true: pass allow_missing=1).
 * Other execution errors (index out of range, bad comparison...) give
 * PROTO_EBADREQUEST with kubectl's text up to its ". Printing more
 * information" tail. `.*` and `..` visit map keys in sorted order (Go's
 * order is random). Evaluation has a work budget: runaway templates (deeply
 * nested ranges) fail instead of hanging. data may be NULL.
 */
int proto_jp_exec(const proto_jp_t *jp, const json_t *data, int allow_missing, char **out,
                  char *err, size_t errlen);
void proto_jp_destroy(proto_jp_t **jp);

/*
 * v as Go's encoding/json prints it (compact, keys sorted, `<>&` escaped,
 * floats in Go's shortest form): what kubectl shows for maps and arrays.
 * Caller frees.
 */
char *proto_jp_json_compact(const json_t *v);
/* d as Go's fmt %v prints a float64 ("1.5", "1e+06", "1e-07"). */
void proto_jp_go_float(double d, char *buf, size_t n);

#endif
