/*
 * actors/apiserver/apply.h — field management in the apiserver: server-side
 * apply (patch type `apply`: merge of the applied configuration, removal of
 * the fields the manager stopped applying, ownership conflicts, `force`)
 * and the Update entries of metadata.managedFields that every other write
 * (create, update, merge/json/strategic patch, status and scale
 * subresources) records, as Kubernetes' apiserver does with
 * sigs.k8s.io/structured-merge-diff. Field sets are protocol/fieldset.h.
 *
 * Private to the apiserver actor (like internal.h).
 */
#ifndef ZK_ACTORS_APISERVER_APPLY_H
#define ZK_ACTORS_APISERVER_APPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "protocol/kinds.h"

/* Longest field manager name Kubernetes accepts. */
#define APISRV_MANAGER_MAX 128
/* Most Update entries kept in managedFields (Kubernetes' cap). */
#define APISRV_MAX_UPDATERS 10

/*
 * Server-side apply of config (the applied configuration, borrowed) by
 * manager to old (the stored object, borrowed; NULL when absent: apply
 * creates). sub is the subresource ("status") or NULL. On success *out gets
 * the object to write (converted, merged, pruned, with managedFields), not
 * yet defaulted or validated, and 0 is returned; *noop (may be NULL) tells
 * whether it only repeats old. Otherwise an HTTP code with *out a Status:
 * 400 for a bad configuration, 409 Conflict with Kubernetes' message and
 * FieldManagerConflict causes when other managers own fields whose values
 * the configuration changes and force is false.
 */
int apisrv_apply(const proto_kind_t *k, const json_t *old, const json_t *config,
                 const char *manager, bool force, const char *sub, json_t **out);

/*
 * Records a non-apply write of obj (in place: metadata.managedFields) over
 * old (NULL on create) by manager, as an Update entry for the fields the
 * write added or changed; those fields leave other managers' entries, and
 * removed fields leave every entry. sub is "status", "scale" or NULL. A
 * request whose managedFields is `[{}]` clears managedFields. obj must be
 * converted and defaulted already.
 */
void apisrv_track_update(const proto_kind_t *k, const json_t *old, json_t *obj, const char *manager,
                         const char *sub);

/*
 * The manager of a request: its fieldManager, else one derived from the
 * client's actor id as set by apisrv_fm_client ("zkubectl-123" gives
 * "zkubectl"), else "unknown". Returns buf.
 */
const char *apisrv_fm_name(const json_t *body, char buf[APISRV_MANAGER_MAX + 1]);
/* The actor id of the request being handled (the envelope's src), for
 * apisrv_fm_name; NULL forgets it. */
void apisrv_fm_client(const char *src);

/*
 * Whether a non-apply write records managedFields: when the request names
 * its fieldManager (as kubectl always does), or when the object is managed
 * already (old or obj carries managedFields). Objects that no manager ever
 * claimed stay without managedFields and cost nothing to write; the first
 * apply to one finds everything owned by "before-first-apply", as
 * Kubernetes does for objects without managedFields. old may be NULL.
 */
bool apisrv_fm_wanted(const json_t *body, const json_t *old, const json_t *obj);

/* True when the write of n over old changes nothing (apply's no-op). */
bool apisrv_apply_noop(const json_t *old, const json_t *n);

#endif
