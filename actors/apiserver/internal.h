/*
 * actors/apiserver/internal.h — private to the apiserver actor: the server
 * state shared by its .c files (server: loop, group commit, publishing;
 * ops_read/ops_write: the protocol's operations; cascade: deletion and
 * propagation; meta: server-set metadata and request checks; alloc: Service
 * cluster IPs and node ports). Nothing here is a contract for other modules.
 */
#ifndef ZK_ACTORS_APISERVER_INTERNAL_H
#define ZK_ACTORS_APISERVER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/kinds.h"
#include "runtime/actor.h"
#include "actors/apiserver/seen.h"
#include "store/store.h"

#define APISRV_MAX_LIST 100000  /* limit accepted in list */
#define APISRV_MAX_WATCH 10000  /* limit accepted in watchlog */
#define APISRV_NAME_MAX 253     /* DNS-1123 subdomain length */

/* Service cluster IPs (a bitmap over the service CIDR) and node ports. */
typedef struct apisrv_alloc {
    uint32_t net;  /* service CIDR base, host order */
    uint32_t size; /* number of addresses */
    int prefix;    /* /12 */
    uint8_t *ips;  /* size bits */
    uint8_t ports[(32767 - 30000 + 1 + 7) / 8];
    uint32_t next_ip; /* round-robin cursor */
    int next_port;
} apisrv_alloc_t;

typedef struct apisrv_staged {
    rt_req_t *req;
    int code;
    json_t *body;
    apisrv_seen_t *seen; /* kept for retries (seen.h), or NULL */
} apisrv_staged_t;

typedef struct apisrv_pend apisrv_pend_t;       /* a committed batch (server.c) */
typedef struct apisrv_syncer apisrv_syncer_t;   /* durability wake-ups (durable.c) */

typedef struct apisrv {
    rt_actor_t *a;
    store_t *st;
    store_wtxn_t *txn;       /* the batch's write transaction, NULL when none */
    bool poisoned;           /* a store write failed: abort the batch */
    int store_failed;        /* the store failed for good: stopping */
    apisrv_staged_t *staged; /* replies waiting for the commit */
    size_t nstaged, capstaged;
    apisrv_staged_t *spare[4]; /* staged arrays of released batches, reused */
    size_t spare_cap[4], nspare;
    void *blob[4]; /* event byte blocks of released batches, reused */
    size_t blob_cap[4], nblob;
    json_t *bind_ok; /* the Status of a successful binding, and its msgpack */
    char *bind_ok_mp;
    size_t bind_ok_len;
    apisrv_pend_t *pend; /* committed batches waiting to be durable, oldest first */
    size_t npend, cappend;
    apisrv_syncer_t *syncer;
    char epoch[40];
    json_t *seqs;          /* stream ("pods/", "node/n1/pods/") -> last seq */
    json_t *pod_nodes;     /* pod key -> node name, for node streams */
    json_t *owned;         /* owner uid -> number of dependents (owners.c) */
    json_t *owners_by_key; /* key -> [owner uids] of objects with ownerReferences */
    json_t *ns_ok;         /* namespace -> resourceVersion seen active (meta.c) */
    apisrv_alloc_t alloc;
    apisrv_seentab_t seen; /* write requests seen, for retries */
    uint64_t keep_revs;
} apisrv_t;

/* A parsed, shape-checked request. Strings borrowed from the body. */
typedef struct apisrv_rq {
    const char *op;
    const json_t *body;
    const proto_kind_t *k; /* NULL for ops without a resource */
    const char *ns;        /* "" for cluster-scoped kinds (or all namespaces) */
    const char *name;      /* NULL when absent */
    const char *sub;       /* subresource or NULL */
    bool dry_run;
} apisrv_rq_t;

/* ---- server.c ---------------------------------------------------------- */
/* The batch's write transaction, begun lazily; NULL (and poisoned) on error. */
store_wtxn_t *apisrv_txn(apisrv_t *s);
/* Commits the open transaction, waits until it (and every batch before
 * it) is durable, sends the replies and publishes the events. */
void apisrv_flush(apisrv_t *s);
/* Sends the replies and publishes the events of every pending batch that
 * is durable now; sync_rc < 0 (a failed sync): of every pending batch,
 * the replies as 500s. */
void apisrv_release(apisrv_t *s, int sync_rc);
/* Marks the batch failed after a store write error (all staged get 500). */
void apisrv_poison(apisrv_t *s, int rc);
/* The Status a successful binding answers (borrowed; encoded once, so
 * its replies go out as bytes). */
json_t *apisrv_bind_ok(apisrv_t *s);
/* Current seq of a stream (0 if none yet). */
uint64_t apisrv_stream_seq(apisrv_t *s, const char *stream);

/* ---- durable.c --------------------------------------------------------- */
/* Makes the store's committer wake the loop (an eventfd). 0 or -errno. */
int apisrv_syncer_start(apisrv_t *s);
/* A batch was handed over: the loop runs apisrv_release when it is durable
 * (at once, waiting here, if the store does not commit pipelined). */
void apisrv_syncer_kick(apisrv_t *s);
/* Stops the wake-ups (NULL-safe); pending batches stay for apisrv_flush. */
void apisrv_syncer_stop(apisrv_t *s);

/* ---- meta.c ------------------------------------------------------------ */
/* A Status for code (PROTO_E*) with a printf message. Caller owns. */
json_t *apisrv_status(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Turns a store error into a reply (NotFound/Conflict/AlreadyExists/500). */
int apisrv_store_err(apisrv_t *s, int rc, const proto_kind_t *k, const char *name, json_t **out);
/* Shape checks of a request body; 0 or an HTTP code with *err a Status. */
int apisrv_parse_rq(const char *op, const json_t *body, apisrv_rq_t *rq, json_t **err);
/* True when the kind's comma list (verbs/subresources) contains word. */
bool apisrv_has_word(const char *list, const char *word);
/* Sets uid, creationTimestamp, generation 1; drops fields the server owns. */
void apisrv_meta_create(json_t *obj);
/* Resets status as Kubernetes does on create. */
void apisrv_status_reset(const proto_kind_t *k, json_t *obj);
/* Fills metadata.name from generateName (+5 chars) when name is absent. */
void apisrv_generate_name(json_t *obj);
/* Namespace exists and is not terminating; 0 or an HTTP code + *err. */
int apisrv_ns_check(apisrv_t *s, const proto_kind_t *k, const char *ns, const char *name,
                    json_t **err);
/* Secret: merges stringData into base64 data. */
void apisrv_secret_merge(json_t *obj);
/* Standard base64; caller frees. decode returns NULL on bad input. */
char *apisrv_b64_encode(const void *data, size_t len);
void *apisrv_b64_decode(const char *s, size_t *len);
/* The kind's apiVersion into buf. */
const char *apisrv_api_version(const proto_kind_t *k, char buf[64]);
/* Kind check (fills a missing apiVersion/kind) + conversion; 0 or 400. */
int apisrv_convert(const proto_kind_t *k, json_t *obj, json_t **err);
/* Secret stringData, defaults, pruning when not strict, validation; 0 or
 * code. stored: an update's stored object (NULL on create), whose subtrees
 * obj shares are not defaulted or validated again (proto_validate_since). */
int apisrv_check(const proto_kind_t *k, json_t *obj, const json_t *stored, bool strict,
                 json_t **err);
/* strict unless the request's fieldValidation is Ignore or Warn. */
bool apisrv_strict(const apisrv_rq_t *r);

/* ---- alloc.c ----------------------------------------------------------- */
int apisrv_alloc_init(apisrv_alloc_t *al, const char *cidr);
void apisrv_alloc_fini(apisrv_alloc_t *al);
/* Marks every stored Service's IP and node ports. */
int apisrv_alloc_load(apisrv_t *s);
/* Allocates for a new or updated Service (old NULL on create): fills
 * clusterIP(s) and nodePorts. 0 or 422 with *err. */
int apisrv_alloc_service(apisrv_t *s, json_t *svc, const json_t *old, json_t **err);
/* Releases what svc holds (on delete, or dry-run undo). */
void apisrv_alloc_release(apisrv_t *s, const json_t *svc);
/* Releases what old holds and new does not (after a committed update). */
void apisrv_alloc_release_diff(apisrv_t *s, const json_t *old_svc, const json_t *new_svc);

/* ---- owners.c ---------------------------------------------------------- */
/* Builds the ownerReferences index from the store. */
int apisrv_owners_load(apisrv_t *s);
/* Records the committed state of key (deleted: gone). */
void apisrv_owners_note(apisrv_t *s, const char *key, const json_t *obj, bool deleted);
/* True when some committed object names uid in its ownerReferences. */
bool apisrv_has_dependents(apisrv_t *s, const char *uid);

/* ---- ops_read.c -------------------------------------------------------- */
int apisrv_op_get(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
int apisrv_op_list(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
/* A list without selectors or Table, answered straight from the stored
 * bytes (no trees): true when it replied to *req (and nulled it), false
 * when the list needs apisrv_op_list. */
bool apisrv_list_raw(apisrv_t *s, const apisrv_rq_t *r, rt_req_t **req);
/* get (no subresource, no Table) the same way; false (nothing sent) on
 * any error. */
bool apisrv_get_raw(apisrv_t *s, const apisrv_rq_t *r, rt_req_t **req);
/* watchlog the same way; false (nothing sent) on any error. */
bool apisrv_watchlog_raw(apisrv_t *s, const apisrv_rq_t *r, rt_req_t **req);
int apisrv_op_watchlog(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
int apisrv_op_resources(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
int apisrv_op_version(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
/* Builds the keep-filter from labelSelector/fieldSelector; 0 or 400. */
typedef struct apisrv_filter apisrv_filter_t;
int apisrv_filter_new(const apisrv_rq_t *r, apisrv_filter_t **out, json_t **err);
bool apisrv_filter_keep(const json_t *obj, void *arg);
void apisrv_filter_destroy(apisrv_filter_t **f);

/* ---- ops_write.c ------------------------------------------------------- */
int apisrv_op_create(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
int apisrv_op_update(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
int apisrv_op_patch(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
/* The autoscaling/v1 Scale of obj (spec.replicas, status.replicas,
 * status.selector). Caller owns. */
json_t *apisrv_scale_of(const proto_kind_t *k, const json_t *obj);
/* Creates obj (already a full object) as the create op does, for bootstrap. */
int apisrv_create_obj(apisrv_t *s, const proto_kind_t *k, json_t *obj, bool dry_run, bool strict,
                      json_t **out);

/* ---- cascade.c --------------------------------------------------------- */
int apisrv_op_delete(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
int apisrv_op_deletecollection(apisrv_t *s, const apisrv_rq_t *r, json_t **out);
/* Removes an object for good (store delete + allocation release). *last
 * (may be NULL) gets the deleted object. */
int apisrv_remove(apisrv_t *s, const proto_kind_t *k, const json_t *obj, uint64_t expect_rev,
                  json_t **last);

#endif
