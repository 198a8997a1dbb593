/*
 * protocol/fieldset — sets of field paths of an object, as server-side apply
 * (sigs.k8s.io/structured-merge-diff) uses them to record which manager owns
 * which fields, and the typed walks over objects that apply needs: the set
 * of an applied configuration, the comparison of two objects, the merge of a
 * configuration into a live object, and the removal of a set's fields.
 *
 * A set is held as a jansson object in the FieldsV1 shape itself: keys are
 * path elements — `f:<field>`, `k:<compact JSON of the key fields>` (an item
 * of an associative list), `v:<compact JSON value>` (an item of a set list),
 * `i:<index>` — mapping to the child set; a node is a member of the set when
 * it is `{}` or holds the key `.`. The top level is never a member. An empty
 * set is `{}`. Sets are canonical (keys as this module writes them), so two
 * equal sets are json_equal.
 *
 * Types come from the strategic-merge schema (protocol/patch.h,
 * proto_patch_merge_key) with server-side apply's own list keys on top
 * (container ports by containerPort+protocol, service ports by
 * port+protocol, ownerReferences and label selectors atomic). Lists without
 * a merge key are atomic (owned whole); objects are structs.
 *
 * Every function takes its inputs borrowed; a returned json_t * belongs to
 * the caller.
 */
#ifndef ZK_PROTOCOL_FIELDSET_H
#define ZK_PROTOCOL_FIELDSET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Deepest set or object the walks accept. */
#define PROTO_FS_MAX_DEPTH 64

/* ---- set algebra ------------------------------------------------------------ */

/* a ∪ b, a − b, a ∩ b (membership per node, children recursively). */
json_t *proto_fs_union(const json_t *a, const json_t *b);
json_t *proto_fs_difference(const json_t *a, const json_t *b);
json_t *proto_fs_intersection(const json_t *a, const json_t *b);
/* True when a ∩ b is not empty (without building it). */
bool proto_fs_intersects(const json_t *a, const json_t *b);
/* True when b ⊆ a. */
bool proto_fs_covers(const json_t *a, const json_t *b);
/* True when s holds no path (NULL counts as empty). */
bool proto_fs_empty(const json_t *s);
/* Every `f:` node that has children becomes a member too (structured-merge-
 * diff's EnsureNamedFieldsAreMembers): a struct field is removed only when
 * nobody owns anything under it. */
json_t *proto_fs_named_members(const json_t *s);

/* ---- FieldsV1 ------------------------------------------------------------------ */

/*
 * A FieldsV1 value (as found in metadata.managedFields[].fieldsV1) into a
 * canonical set. Returns 0 or PROTO_EBADREQUEST with err (may be NULL) when
 * v is not FieldsV1: not an object, a key without a known prefix, a k:/v:
 * key whose JSON does not parse, nesting deeper than PROTO_FS_MAX_DEPTH.
 */
int proto_fs_decode(const json_t *v, json_t **out, char *err, size_t errlen);
/* The set as FieldsV1, ordered as Kubernetes orders it (f: < k: < v: < i:). */
json_t *proto_fs_encode(const json_t *s);
/* The member paths as Kubernetes prints them (".spec.replicas",
 * ".spec.containers[name=\"kubia\"].image"), members of a node before its
 * children. A JSON array of strings. */
json_t *proto_fs_paths(const json_t *s);

/* ---- typed walks over objects of Kind kind ("Pod", "Deployment", …) ----------- */

/*
 * The set of fields an applied configuration sets (structured-merge-diff's
 * ToFieldSet): scalars, atomic lists and structs, empty objects and the
 * items of associative lists are members. Returns 0 or PROTO_EBADREQUEST
 * with err such as `.spec.containers: element 0: associative list with keys
 * has an element that omits key field "name"`.
 */
int proto_fs_of_object(const json_t *obj, const char *kind, json_t **out, char *err, size_t errlen);

/*
 * Compares lhs (the live object; NULL for none) with rhs: *changed gets the
 * paths added or modified (new subtrees with every node as a member),
 * *removed the paths that disappeared. Either out may be NULL.
 */
void proto_fs_compare(const json_t *lhs, const json_t *rhs, const char *kind, json_t **changed,
                      json_t **removed);

/*
 * Server-side apply's merge of config into live (in place): objects merge
 * field by field, associative lists item by item (keeping live's order and
 * placing new items as structured-merge-diff does), atomic lists, atomic
 * structs and scalars are replaced, a null removes the field. Returns 0 or
 * PROTO_EBADREQUEST with err when config has an associative-list item
 * without its key or a duplicate key (live is then partly merged).
 */
int proto_fs_merge(json_t *live, const json_t *config, const char *kind, char *err, size_t errlen);

/* Removes from obj every member of set (with its subtree). */
void proto_fs_remove(json_t *obj, const json_t *set, const char *kind);

#endif
