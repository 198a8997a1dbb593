/*
 * protocol/kinds_int — private to the kinds module (kinds.c, schema.c,
 * convert.c, defaults.c, validate*.c): the schema table types and the
 * helpers those files share. Nothing outside protocol/ should include it.
 */
#ifndef ZK_PROTOCOL_KINDS_INT_H
#define ZK_PROTOCOL_KINDS_INT_H

#include "protocol/kinds.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

/* Field types of a schema table. */
enum proto_sch_type {
    PROTO_T_STR = 1, /* string */
    PROTO_T_INT,     /* int32 */
    PROTO_T_I64,     /* int64 */
    PROTO_T_BOOL,    /* boolean */
    PROTO_T_OBJ,     /* object with the fields of child */
    PROTO_T_ARR,     /* array of elem (child when elem is PROTO_T_OBJ) */
    PROTO_T_MAP,     /* map of string to string */
    PROTO_T_MAPQ,    /* map of string to quantity */
    PROTO_T_QTY,     /* resource quantity (string or number) */
    PROTO_T_IOS,     /* int-or-string */
    PROTO_T_ANY,     /* any JSON value, not checked */
};

/*
 * One field of a schema. A schema is an array of fields ended by an entry
 * whose name is NULL. enums, when set, is a NULL-ended list of the values
 * Kubernetes supports, in the order its error message prints them.
 */
typedef struct proto_sch_field {
    const char *name;
    uint8_t type;
    uint8_t elem;
    uint8_t req;
    const struct proto_sch_field *child;
    const char *const *enums;
} proto_sch_field_t;

/* The top-level schema of a kind (apiVersion, kind, metadata, spec ...). */
const proto_sch_field_t *proto_sch_root(const proto_kind_t *k);

/* Validation context: causes being collected for one object. */
typedef struct proto_vctx {
    json_t *causes;       /* array of {reason, message, field} */
    const json_t *stored; /* an update's stored object (see proto_validate_since), or NULL */
} proto_vctx_t;

/* Adds a cause; message is printf-style. */
void proto_v_add(proto_vctx_t *v, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Cause helpers worded as k8s.io/apimachinery/pkg/util/validation/field. */
void proto_v_required(proto_vctx_t *v, const char *field, const char *detail);
void proto_v_invalid(proto_vctx_t *v, const char *field, const json_t *val, const char *detail);
void proto_v_invalid_str(proto_vctx_t *v, const char *field, const char *val, const char *detail);
void proto_v_invalid_int(proto_vctx_t *v, const char *field, long long val, const char *detail);
void proto_v_unsupported(proto_vctx_t *v, const char *field, const char *val,
                         const char *const *supported);
void proto_v_forbidden(proto_vctx_t *v, const char *field, const char *detail);
void proto_v_duplicate(proto_vctx_t *v, const char *field, const json_t *val);
/* snprintf into a path buffer (truncating silently: paths are bounded by
 * the schemas' depth; the wrapper keeps -Wformat-truncation quiet). */
const char *proto_v_path(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define PROTO_VP(buf, ...) proto_v_path(buf, sizeof buf, __VA_ARGS__)
/* DNS-1035 label (Service names); NULL if valid. */
const char *proto_check_dns1035_label(const char *s);
/* Go-like %#v rendering of a JSON value into buf (strings quoted). */
void proto_v_render(const json_t *val, char *buf, size_t n);

/* Schema walk (validate.c): types, unknown fields, required fields, enums. */
typedef struct proto_walk {
    json_t *unknown;    /* array of paths of unknown fields */
    char type_err[512]; /* first type error, "" if none */
    proto_vctx_t *v;    /* required/enum causes */
    json_t *prune;      /* when non-NULL, unknown fields are removed (obj not const) */
} proto_walk_t;
void proto_sch_walk(const json_t *val, const proto_sch_field_t *f, char *path, size_t pathlen,
                    size_t cap, proto_walk_t *w);

/* Per-kind semantic rules (validate_kinds.c). */
void proto_v_kind(const proto_kind_t *k, const json_t *obj, proto_vctx_t *v);
void proto_v_object_meta(const proto_kind_t *k, const json_t *meta, proto_vctx_t *v);
void proto_v_pod_spec(const json_t *spec, const char *path, proto_vctx_t *v);
void proto_v_label_selector(const json_t *sel, const char *path, proto_vctx_t *v);
void proto_v_labels(const json_t *labels, const char *path, proto_vctx_t *v);
/* Does the LabelSelector {matchLabels, matchExpressions} select labels? */
bool proto_v_selector_matches(const json_t *sel, const json_t *labels);
/* An int port 1..65535 or an IANA port name at path. */
void proto_v_port_num_or_name(proto_vctx_t *v, const json_t *port, const char *path);
/* IANA service name (port names); NULL if valid. */
const char *proto_check_port_name(const char *s);
/* IPv4 or IPv6 literal. */
bool proto_check_ip(const char *s);

/* Defaults shared by kinds (defaults.c). */
void proto_defaults_pod_spec(json_t *spec);

#endif
