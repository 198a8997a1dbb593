/*
 * protocol/status — zkube's error band and Kubernetes Status objects.
 *
 * Every module returns 0 or a negative code: -errno for system failures, or
 * one of the PROTO_E* codes below for domain failures. Each domain code maps
 * to one Kubernetes Status reason and HTTP code, so an error keeps its
 * meaning from the store to kubectl's screen.
 */
#ifndef ZK_PROTOCOL_STATUS_H
#define ZK_PROTOCOL_STATUS_H

#include <jansson.h>
#include <stddef.h>

enum proto_err {
    PROTO_ENOTFOUND = -1001,    /* 404 NotFound */
    PROTO_EEXISTS = -1002,      /* 409 AlreadyExists */
    PROTO_ECONFLICT = -1003,    /* 409 Conflict (stale resourceVersion) */
    PROTO_EINVALID = -1004,     /* 422 Invalid (field causes) */
    PROTO_EBADREQUEST = -1005,  /* 400 BadRequest */
    PROTO_EEXPIRED = -1006,     /* 410 Expired (compacted revision) */
    PROTO_EUNAVAILABLE = -1007, /* 503 ServiceUnavailable */
    PROTO_ETIMEOUT = -1008,     /* 504 Timeout */
    PROTO_EINTERNAL = -1009,    /* 500 InternalError */
    PROTO_EMETHOD = -1010,      /* 405 MethodNotAllowed */
    PROTO_ETOOLARGE = -1011,    /* 413 RequestEntityTooLarge */
    PROTO_EUNSUPPORTED = -1012, /* 415 UnsupportedMediaType */
    PROTO_EFORBIDDEN = -1013,   /* 403 Forbidden (e.g. namespace terminating) */
    PROTO_EGONE = -1014,        /* 410 Gone */
};

/* Human text for any code (PROTO_E* or -errno). Never NULL; static storage. */
const char *proto_strerror(int code);
/* Kubernetes reason ("NotFound") for a PROTO_E* code; "InternalError" for others. */
const char *proto_err_reason(int code);
/* HTTP status for a code; 500 for unknown codes, 200 for 0. */
int proto_err_http(int code);
/* Inverse of proto_err_http/proto_err_reason: reason string wins when known. */
int proto_err_from_status(const json_t *status);

/*
 * A Kubernetes Status object (kind Status, apiVersion v1, status Failure,
 * message, reason, code). details may be NULL; it is stolen. Caller owns the
 * result.
 */
json_t *proto_status_new(int code, const char *message, json_t *details);
/* Status with status "Success", code 200 (or the given HTTP code). */
json_t *proto_status_success(int http_code, json_t *details);
/* `pods "web" not found`: details {name, group?, kind: resource}. */
json_t *proto_status_notfound(const char *resource, const char *group, const char *name);
/* `pods "web" already exists` */
json_t *proto_status_exists(const char *resource, const char *group, const char *name);
/*
 * `Operation cannot be fulfilled on pods "web": the object has been modified;
 * please apply your changes to the latest version and try again`
 */
json_t *proto_status_conflict(const char *resource, const char *group, const char *name,
                              const char *why);
/*
 * `Pod "web" is invalid: spec.containers[0].image: Required value` — causes is
 * an array of {reason, message, field}; stolen.
 */
json_t *proto_status_invalid(const char *kind, const char *group, const char *name,
                             json_t *causes);
/* True when obj is a Status whose status is not "Success". */
int proto_is_failure(const json_t *obj);

#endif
