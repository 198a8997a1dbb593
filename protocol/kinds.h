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
    const char *kind;         /* "ReplicaSet" */
    const char *resource;     /* plural, "replicasets" */
    const char *singular;     /* "replicaset" */
    const char *short_names;  /* comma-separated, "rs"; "" if none */
    const char *group;        /* "" for the core group, "apps", "batch", "networking.k8s.io" */
    const char *version;      /* "v1" */
    bool namespaced;
    bool in_all;              /* in the "all" category (kubectl get all) */
    const char *verbs;        /* comma-separated: "create,delete,deletecollection,get,list,patch,update,watch" */
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
 */
int proto_validate(const json_t *obj, bool strict, json_t **causes, char *err, size_t errlen);

/*
 * Checks an update against the stored object: immutable fields (e.g.
 * metadata.name/namespace/uid, Pod spec except image/activeDeadlineSeconds/
 * tolerations, Job selector/template, Service clusterIP once set). Same
 * return convention as proto_validate (PROTO_EINVALID with causes).
 */
int proto_validate_update(const json_t *old_obj, const json_t *new_obj, json_t **causes);

/* DNS-1123 checks, exported for the CLI and controllers: NULL if valid,
 * else a static message as Kubernetes words it. */
const char *proto_check_dns1123_label(const char *s);
const char *proto_check_dns1123_subdomain(const char *s);
/* Label key/value and annotation key checks; NULL if valid. */
const char *proto_check_label_key(const char *s);
const char *proto_check_label_value(const char *s);

#endif
