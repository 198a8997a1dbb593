/*
 * protocol/patch — the three patch formats of the Kubernetes API, applied to
 * objects held as jansson trees: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and strategic merge patch (the Kubernetes format that merges
 * lists such as containers by a key). The apiserver's `patch` operation and
 * `zkubectl patch --local` use these; results match `kubectl patch --local`.
 *
 * Errors are PROTO_EBADREQUEST (protocol/status.h) with a message worded as
 * Kubernetes words it in the caller's err buffer when one is given.
 */
#ifndef ZK_PROTOCOL_PATCH_H
#define ZK_PROTOCOL_PATCH_H

#include <jansson.h>
#include <stddef.h>

/* Deepest nesting of a patch or target the functions accept. */
#define PROTO_PATCH_MAX_DEPTH 100
/* Most operations of one JSON patch. */
#define PROTO_PATCH_MAX_OPS 10000

/*
 * RFC 7386 merge patch, applied in place to target (an object). patch must
 * be an object (a Kubernetes object cannot become anything else): null
 * deletes a key, objects merge recursively, anything else replaces.
 * Returns 0 or PROTO_EBADREQUEST (target or patch not an object, nested
 * deeper than PROTO_PATCH_MAX_DEPTH; target may then be partly patched).
 * patch is borrowed; values are copied into target.
 */
int proto_patch_merge(json_t *target, const json_t *patch);

/*
 * RFC 6902 JSON patch: ops is an array of {op, path, value|from}; op one of
 * add, remove, replace, move, copy, test; paths are JSON pointers (RFC 6901,
 * `~0` `~1` escapes, `-` appends to an array). *target may be replaced (a
 * path of "" replaces the whole document); on error *target is unchanged
 * (the operations run on a copy). err (may be NULL) gets the reason as
 * Kubernetes prints it, e.g.
 *   `error in remove for path: '/metadata/x': Unable to remove nonexistent key: x: missing value`
 *   `testing value /metadata/name failed: test failed`
 * Like Kubernetes, `replace` of a missing object member adds it, and `copy`
 * or `move` from a missing member copies null.
 * Returns 0; PROTO_EBADREQUEST when ops is not a JSON patch document (not an
 * array of objects, more than PROTO_PATCH_MAX_OPS); PROTO_EINVALID when an
 * operation does not apply (Kubernetes answers 422 then).
 */
int proto_patch_json(json_t **target, const json_t *ops, char *err, size_t errlen);

/*
 * Strategic merge patch of an object of Kind kind ("Pod", "Deployment", …):
 * as a merge patch, except that lists with a merge strategy merge element by
 * element (containers by name, ports by containerPort or port, env by name,
 * volumeMounts by mountPath, conditions by type, ownerReferences by uid,
 * finalizers as a set of strings, …; the full table is in patch_strategic.c)
 * and the directives `$patch: replace|delete`, `$setElementOrder/<field>`,
 * `$retainKeys` and `$deleteFromPrimitiveList/<field>` apply. New list
 * elements come first, as in Kubernetes. On error target may be partly
 * patched: callers patch a copy. Returns 0 or PROTO_EBADREQUEST with err
 * (may be NULL) such as `map: map[image:k] does not contain declared merge key: name`.
 */
int proto_patch_strategic(json_t *target, const json_t *patch, const char *kind, char *err,
                          size_t errlen);

/*
 * The strategic-merge schema of the built-in kinds, for other modules that
 * walk objects by type (server-side apply's field sets): for the field
 * `field` of the type `type` (a Kind such as "Pod", or a type name such as
 * "PodSpec", "Container", "ObjectMeta"), returns the merge key of the list it
 * holds ("name", "containerPort"; "" for a list merged as a set of
 * primitives), or NULL when it is not a merged list. *child (may be NULL)
 * gets the type name of the value (of the elements for lists), NULL when the
 * schema does not type it. Every `metadata` is "ObjectMeta". Strings are
 * static.
 */
const char *proto_patch_merge_key(const char *type, const char *field, const char **child);

#endif
