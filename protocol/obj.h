/*
 * protocol/obj — small accessors for Kubernetes-shaped objects held as
 * jansson trees, plus store keys and timestamps. Every module uses these, so
 * that "where is the name of an object" is written once.
 */
#ifndef ZK_PROTOCOL_OBJ_H
#define ZK_PROTOCOL_OBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Value at a dotted path ("metadata.labels"); array indexes as "containers.0".
 * Borrowed from obj: valid while obj lives and is not modified. NULL if absent.
 */
json_t *proto_obj_get(const json_t *obj, const char *path);
/* String at a dotted path, or NULL if absent or not a string. Borrowed. */
const char *proto_obj_str(const json_t *obj, const char *path);
/* Integer at a path, or def if absent or not an integer. */
int64_t proto_obj_int(const json_t *obj, const char *path, int64_t def);
/* Sets the value at a dotted path, creating objects on the way; val is stolen. */
int proto_obj_set(json_t *obj, const char *path, json_t *val);
/* Sets a string at a dotted path (copied). */
int proto_obj_set_str(json_t *obj, const char *path, const char *s);
/* Removes the value at a dotted path; 0 whether or not it existed. */
int proto_obj_del(json_t *obj, const char *path);

const char *proto_obj_name(const json_t *obj);      /* metadata.name or NULL */
const char *proto_obj_ns(const json_t *obj);        /* metadata.namespace or NULL */
const char *proto_obj_kind(const json_t *obj);      /* kind or NULL */
const char *proto_obj_uid(const json_t *obj);       /* metadata.uid or NULL */
json_t *proto_obj_labels(const json_t *obj);        /* metadata.labels or NULL, borrowed */
uint64_t proto_obj_rv(const json_t *obj);           /* metadata.resourceVersion, 0 if none */

/* Store key "resource/namespace/name" ("nodes//n1" when cluster-scoped). Caller frees. */
char *proto_key(const char *resource, const char *ns, const char *name);

/* Current UTC time as RFC 3339 with seconds ("2026-11-27T05:54:45Z"). */
void proto_now_rfc3339(char buf[32]);
/* RFC 3339 UTC to Unix seconds; -1 on parse error. */
int64_t proto_parse_time(const char *s);
/* Unix seconds to RFC 3339 UTC. */
void proto_format_time(int64_t t, char buf[32]);
/* Monotonic milliseconds. */
int64_t proto_mono_ms(void);
/* Wall-clock microseconds. */
int64_t proto_wall_us(void);
/* A random RFC 4122 v4 UUID string (37 bytes with NUL). */
void proto_uuid(char buf[37]);

#endif
