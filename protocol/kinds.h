/*
 * protocol/kinds — the registry of object kinds zkube serves, and per kind:
 * conversion from the old API versions, defaulting and validation, as
 * Kubernetes does them. One schema table per kind drives both the
 * unknown-field check and the type checks (and later the gateway's OpenAPI).
 *
 * Order of use on a write: proto_convert -> proto_defaults -> proto_validate.
 */
#ifndef ZK_PROTOCOL_KINDS_H
#define ZK_PROTOCOL_KINDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct proto_kind {
    const char *kind;        /* "ReplicaSet" */
    const char *resource;    /* plural, "replicasets" */
    const char *singular;    /* "replicaset" */
    const char *short_names; /* comma-separated, "rs"; "" if none */
    const char *group;       /* "" for the core group, "apps", "batch", "networking.k8s.io" */
    const char *version;     /* "v1" */
    bool namespaced;
    bool in_all; /* in the "all" category (kubectl get all) */
    /* comma-separated: "create,delete,deletecollection,get,list,patch,update,watch" */
    const char *verbs;
    const char *subresources; /* comma-separated: "status,scale" or "status,binding,log" or "" */
} proto_kind_t;

/* Number of kinds, and the i-th (stable order). */
size_t proto_kind_count(void);
const proto_kind_t *proto_kind_at(size_t i);

/*
 * Finds a kind by any name a user may type, case-insensitively: Kind
 * ("Pod"), plural ("pods"), singular ("pod"), short name ("po"), or any of
 * those qualified by group ("deployments.apps", "ingresses.networking.k8s.io").
 * NULL if unknown. Borrowed, static.
 */
const proto_kind_t *proto_kind_find(const char *name);
/* Exact Kind and apiVersion group match ("apps/v1" + "ReplicaSet"); NULL if unknown.
 * Old versions (apps/v1beta2 ...) are found too. */
const proto_kind_t *proto_kind_by_kind(const char *api_version, const char *kind);
/* By plural resource name, exact. */
const proto_kind_t *proto_kind_by_resource(const char *resource);
/* "apps/v1" or "v1" into buf. */
const char *proto_kind_api_version(const proto_kind_t *k, char buf[64]);
/* True for kinds the store keeps (false for Binding and Scale, which are
 * request bodies of subresources only). */
bool proto_kind_is_stored(const proto_kind_t *k);

/*
 * Converts obj in place from an old apiVersion to the current one
 * (apps/v1beta1|v1beta2 -> apps/v1, extensions/v1beta1 Deployment/ReplicaSet/
 * DaemonSet -> apps/v1, extensions/v1beta1|networking.k8s.io/v1beta1 Ingress
 * -> networking.k8s.io/v1 with backend{serviceName,servicePort} ->
 * backend.service{name,port{number|name}} and pathType ImplementationSpecific,
 * batch/v1beta1 CronJob -> batch/v1). A missing or unknown apiVersion/kind
 * returns PROTO_EBADREQUEST with err such as
 *   `no matches for kind "Foo" in version "v1"`.
 */
int proto_convert(json_t *obj, char *err, size_t errlen);

/*
 * Applies Kubernetes defaults in place (after conversion), e.g. Pod:
 * restartPolicy Always, dnsPolicy ClusterFirst, terminationGracePeriodSeconds
 * 30, schedulerName default-scheduler, containers' imagePullPolicy (Always
 * for :latest or no tag, else IfNotPresent), terminationMessagePath/Policy,
 * ports' protocol TCP, probes' timing fields; RC/RS/Deployment replicas 1,
 * selector from template labels for RC; Service type ClusterIP,
 * sessionAffinity None, ports' protocol TCP and targetPort = port; Job
 * completions/parallelism 1, backoffLimit 6; CronJob concurrencyPolicy Allow,
 * suspend false, history limits 3/1 ... (see kinds.c for the full list).
 */
void proto_defaults(json_t *obj);
/* As proto_defaults for an update of stored (the stored object, or NULL):
 * a spec that is the very tree stored (shared, not copied) had its defaults
 * when it was written, and the defaults that read spec alone are skipped. */
void proto_defaults_since(json_t *obj, const json_t *stored);

/*
 * What the apiserver's default admission plugins add to a new Pod (not part
 * of proto_defaults, because Kubernetes does it at admission, on create of
 * Pods only): ServiceAccount (serviceAccountName/serviceAccount "default"),
 * DefaultTolerationSeconds (tolerations for node.kubernetes.io/not-ready and
 * node.kubernetes.io/unreachable, NoExecute, 300 s, unless the pod has its
 * own), Priority (priority 0 and preemptionPolicy PreemptLowerPriority when
 * no priorityClassName is given). No-op for other kinds.
 */
void proto_admission_defaults(json_t *obj);

/*
 * Validates obj (converted and defaulted) against its kind's schema and
 * rules: DNS-1123 names (subdomain or label as the kind requires), label
 * and annotation keys/values, required fields, types, enums, ranges,
 * selector-matches-template, unknown fields.
 *
 * Returns 0, or:
 *  - PROTO_EBADREQUEST for unknown fields when strict, with err set to
 *    `strict decoding error: unknown field "spec.foo"` (all unknown fields,
 *    comma-separated, each quoted, as Kubernetes prints them);
 *  - PROTO_EINVALID with *causes set to a new array (caller owns) of
 *    {"reason": "FieldValueRequired"|"FieldValueInvalid"|"FieldValueNotSupported"|
 *     "FieldValueDuplicate"|"FieldValueTooLong"|"FieldValueForbidden",
 *     "message": "Required value" | "Invalid value: \"x\": <why>" | ...,
 *     "field": "spec.containers[0].image"} — messages worded as Kubernetes'.
 * The "status" subtree is not validated for unknown fields on writes of the
 * main resource (it is reset by the server).
 *
 * Type errors (`replicas: "three"`, a map where a list belongs, a bad
 * quantity, Secret data that is not base64) are what Kubernetes finds while
 * decoding, before validation: they return PROTO_EBADREQUEST (400, as
 * Kubernetes does) with err worded like Kubernetes' decoding error but with
 * the full field path:
 *   `ReplicaSet in version "v1" cannot be handled as a ReplicaSet: json:
 *    cannot unmarshal string into Go struct field spec.replicas of type int32`
 * They are checked first, then unknown fields, then the rules. On
 * PROTO_EINVALID, err (when given) holds the first cause as "field: message".
 */
int proto_validate(const json_t *obj, bool strict, json_t **causes, char *err, size_t errlen);
/*
 * As proto_validate for an update of stored (the stored object, or NULL):
 * the top-level fields whose value is the very tree stored (shared, not
 * copied: see the apiserver's copy-on-write of an update) passed the walk
 * when they were written and are not walked again, and a stored spec skips
 * the kind's rules that read spec alone. The result is the same as
 * proto_validate's for any object stored by a validated write.
 */
int proto_validate_since(const json_t *obj, const json_t *stored, bool strict, json_t **causes,
                         char *err, size_t errlen);

/*
 * For writes of the status subresource: checks only obj's "status" subtree
 * against the kind's schema (types; unknown fields when strict). Returns 0
 * or PROTO_EBADREQUEST with err as proto_validate words it.
 */
int proto_validate_status(const json_t *obj, bool strict, char *err, size_t errlen);

/*
 * Checks an update against the stored object: immutable fields (e.g.
 * metadata.name/namespace/uid, Pod spec except image/activeDeadlineSeconds/
 * tolerations, Job selector/template, Service clusterIP once set). Same
 * return convention as proto_validate (PROTO_EINVALID with causes).
 */
int proto_validate_update(const json_t *old_obj, const json_t *new_obj, json_t **causes);

/*
 * Removes, in place, every field the kind's schema does not know (the
 * apiserver's fieldValidation=Ignore|Warn). When paths is non-NULL it is set
 * to a new array (caller owns) of the removed fields' paths
 * ("spec.containers[0].foo"). Returns how many were removed, or
 * PROTO_EBADREQUEST when the object's kind is unknown.
 */
int proto_prune_unknown(json_t *obj, json_t **paths);

/*
 * What the apiserver does to a new Job whose spec.manualSelector is not
 * true (the Job strategy's generateSelector): adds to the template's labels
 * batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name and the
 * legacy controller-uid and job-name (labels the user set are kept), and
 * batch.kubernetes.io/controller-uid: uid to spec.selector.matchLabels
 * (created if needed; a user's value is kept, so that a wrong one fails
 * validation). No-op when manualSelector is true. Returns 0, or
 * PROTO_EINVALID when job has no name, no spec object, or uid is NULL.
 */
int proto_job_default_selector(json_t *job, const char *uid);

/*
 * An OpenAPI v3 object schema generated from the kind's schema table
 * (types, enums, required). Caller owns the result; NULL if k is NULL.
 */
json_t *proto_schema_openapi(const proto_kind_t *k);

/* DNS-1123 checks, exported for the CLI and controllers: NULL if valid,
 * else a static message as Kubernetes words it. */
const char *proto_check_dns1123_label(const char *s);
const char *proto_check_dns1123_subdomain(const char *s);
/* Label key/value and annotation key checks; NULL if valid. */
const char *proto_check_label_key(const char *s);
const char *proto_check_label_value(const char *s);

#endif
