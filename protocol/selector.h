/*
 * protocol/selector — label selectors and field selectors, with Kubernetes'
 * exact grammar and semantics (k8s.io/apimachinery/pkg/labels, fields).
 */
#ifndef ZK_PROTOCOL_SELECTOR_H
#define ZK_PROTOCOL_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct proto_sel proto_sel_t;

/*
 * Parses a label selector string: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, comma-separated (AND). "" selects everything.
 * Keys and values are checked as Kubernetes does. Returns 0 or
 * PROTO_EBADREQUEST with err as Kubernetes words it (e.g.
 * `unable to parse requirement: ...`).
 */
int proto_sel_parse(const char *s, proto_sel_t **out, char *err, size_t errlen);
/* From a LabelSelector object {matchLabels, matchExpressions[{key, operator
 * In|NotIn|Exists|DoesNotExist, values}]}. NULL selector selects nothing,
 * an empty one everything (as metav1.LabelSelectorAsSelector). */
int proto_sel_from_label_selector(const json_t *ls, proto_sel_t **out, char *err, size_t errlen);
/* From a plain map {k: v} (ReplicationController, Service): equality AND. */
int proto_sel_from_map(const json_t *map, proto_sel_t **out, char *err, size_t errlen);
/* Does labels (an object of string values, or NULL = no labels) match? */
bool proto_sel_match(const proto_sel_t *sel, const json_t *labels);
/* True when the selector has no requirements (selects everything). */
bool proto_sel_empty(const proto_sel_t *sel);
/* Canonical string, as labels.Selector.String() (sorted by key). Caller frees. */
char *proto_sel_string(const proto_sel_t *sel);
void proto_sel_destroy(proto_sel_t **sel);
/*
 * The selector as a LabelSelector object (metav1.ParseToLabelSelector, as
 * `kubectl create pdb --selector` builds it): `=`/`==` go to matchLabels,
 * the rest to matchExpressions in written order; `!=`, `>` and `<` cannot be
 * expressed and give PROTO_EBADREQUEST. Caller owns the result.
 */
int proto_sel_to_label_selector(const proto_sel_t *sel, json_t **out, char *err, size_t errlen);
/* True for the selector of a NULL LabelSelector (labels.Nothing()). */
bool proto_sel_nothing(const proto_sel_t *sel);

typedef struct proto_fsel proto_fsel_t;

/*
 * Parses a field selector (`metadata.name=x,status.phase!=Running`; `=`,
 * `==`, `!=`) for resource (plural). Supported fields: metadata.name and
 * metadata.namespace for all kinds; pods: spec.nodeName, spec.restartPolicy,
 * spec.schedulerName, spec.serviceAccountName, status.phase, status.podIP,
 * status.nominatedNodeName; events: involvedObject.{kind,namespace,name,uid,
 * apiVersion,resourceVersion,fieldPath}, reason, reportingComponent, source,
 * type; secrets: type; nodes: spec.unschedulable; namespaces: status.phase;
 * replicasets/replicationcontrollers: status.replicas; jobs: status.successful.
 * An unsupported field gives PROTO_EBADREQUEST with
 * `field label not supported: FIELD`.
 */
int proto_fsel_parse(const char *s, const char *resource, proto_fsel_t **out, char *err,
                     size_t errlen);
bool proto_fsel_match(const proto_fsel_t *sel, const json_t *obj);
bool proto_fsel_empty(const proto_fsel_t *sel);
/* Canonical string (terms sorted, values escaped), as fields.Selector.String(). Caller frees. */
char *proto_fsel_string(const proto_fsel_t *sel);
void proto_fsel_destroy(proto_fsel_t **sel);

#endif
