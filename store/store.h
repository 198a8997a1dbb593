/*
 * store — zkube's state log on LMDB: the current objects, the revision log
 * and metadata, in one environment.
 *
 * Every committed change takes the next global revision; the object's
 * metadata.resourceVersion is that revision (as a decimal string), set by the
 * store. The log maps revision -> {type, key, object} and is what watches
 * resume from. Compaction drops log entries older than the last N revisions;
 * reading the log below the compacted revision gives PROTO_EEXPIRED.
 *
 * Writes go through a write transaction that may carry many operations (the
 * apiserver's group commit): store_wtxn_commit() makes them all durable
 * (fsync) at once, or none. Objects are stored as msgpack (protocol/codec).
 *
 * Keys are "resource/namespace/name" (protocol/obj proto_key); cluster-scoped
 * objects have an empty namespace: "nodes//n1".
 *
 * Threading: one writer thread; readers may run on other threads with their
 * own read transactions (LMDB MVCC). All functions return 0 or a negative
 * code (-errno, PROTO_E*).
 *
 * Pipelined commits (opts.pipeline): store_wtxn_commit_nowait hands the
 * transaction to a committer thread and returns at once; the writer may
 * begin the next transaction, whose reads (store_wtxn_get, preconditions)
 * already see every write handed over. The store's plain reads (store_get,
 * store_list, the log) see a transaction once it is durable — in the
 * write-ahead log, synced (store.c) — and never before: store_sync() waits
 * for that. store_rev() is the last revision handed over,
 * store_durable_rev() the last one durable. A commit or sync that fails fails the store for good: every later
 * begin, commit and sync returns that error, and the process should exit
 * and reopen the store from disk.
 */
#ifndef ZK_STORE_STORE_H
#define ZK_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;
typedef struct store_wtxn store_wtxn_t;

typedef struct store_opts {
    size_t map_size;    /* bytes; 0 = 4 GiB */
    uint64_t keep_revs; /* revisions kept in the log on compaction; 0 = 100000 */
    bool no_sync;       /* tests only: skip fsync (never in production) */
    bool pipeline;      /* pipelined commits: see "Pipelined commits" below */
    unsigned ck_ms;     /* pipelined: logged writes reach LMDB within this; 0 = 20 */
} store_opts_t;

typedef enum store_evtype { STORE_ADDED = 1, STORE_MODIFIED, STORE_DELETED } store_evtype_t;

/* "ADDED", "MODIFIED", "DELETED". */
const char *store_evtype_name(store_evtype_t t);

/*
 * Opens (creating if needed) the environment in directory dir (created if
 * missing). opts may be NULL. Recovers cleanly after a crash (LMDB is
 * crash-safe; the store verifies its metadata). Errors: -errno,
 * PROTO_EINTERNAL if the metadata is inconsistent (message logged to err),
 * -EBUSY if another store_t (this process or another) has dir open: a
 * directory has one writer, so revisions stay gapless. err may be NULL.
 */
int store_open(store_t **out, const char *dir, const store_opts_t *opts, char *err, size_t errlen);
void store_destroy(store_t **s);

/* The last committed revision (0 for an empty store). */
uint64_t store_rev(store_t *s);
/* The oldest revision still readable from the log (compacted revision + 1). */
uint64_t store_oldest_rev(store_t *s);

/* Reads one object. *out is a new reference (caller owns). PROTO_ENOTFOUND. */
int store_get(store_t *s, const char *key, json_t **out);

/* As store_get without decoding: *buf (malloc'd, caller frees) gets the
 * object's msgpack bytes, *len their size. PROTO_ENOTFOUND,
 * PROTO_EINVALID (bad key). */
int store_get_bytes(store_t *s, const char *key, char **buf, size_t *len);

/*
 * Lists objects whose key starts with prefix ("pods/" or "pods/default/"),
 * in key order, calling keep(obj, arg) to filter (NULL keeps all). At most
 * limit objects (0 = no limit); when more remain, *next_key (caller frees)
 * is the key to continue from, else NULL. start_key (may be NULL) is
 * inclusive. *items is a new array; *rev the revision the list reflects.
 * With keep and limit, next_key is set whenever a key with the prefix
 * follows, even if keep would refuse everything after it (as Kubernetes may
 * return an empty last page). next_key and rev may be NULL. keep runs
 * inside the read transaction: it must not call back into the store.
 */
int store_list(store_t *s, const char *prefix, const char *start_key, size_t limit,
               bool (*keep)(const json_t *obj, void *arg), void *arg, json_t **items, uint64_t *rev,
               char **next_key);

/*
 * Called by store_list_raw for each object, in key order, with the key and
 * the stored msgpack bytes (both borrowed: valid only during the call, inside
 * the read transaction; the callback must not call back into the store).
 * Returns 0 to count the object, 1 to skip it (it does not count against
 * limit), or a negative code to stop the scan with that code.
 */
typedef int(store_raw_fn)(const char *key, size_t klen, const void *val, size_t vlen, void *arg);

/*
 * As store_list, without decoding: each object's msgpack bytes go to fn, so
 * a large list never becomes trees. limit, start_key, next_key and rev as in
 * store_list. Errors: as store_list, or fn's negative code.
 */
int store_list_raw(store_t *s, const char *prefix, const char *start_key, size_t limit,
                   store_raw_fn *fn, void *arg, uint64_t *rev, char **next_key);

/*
 * Reads log events with revision > after, at most max (0 = 1000), in order.
 * Each event: {"type": "ADDED"|..., "key": str, "rev": int, "object": {...}}
 * (for DELETED, the object as it was at deletion, with the deletion's
 * resourceVersion). prefix (may be NULL) keeps only keys with that prefix.
 * PROTO_EEXPIRED when after < store_oldest_rev(s) - 1. max is capped at
 * 100000.
 */
int store_log_read(store_t *s, uint64_t after, size_t max, const char *prefix, json_t **events);

/*
 * Called by store_log_read_raw for each event in revision order: type and
 * key (not NUL-terminated) and the object's msgpack bytes, all borrowed for
 * the call only (inside the read transaction; do not call the store).
 * Returns 0 to count the event against max, 1 to skip it, or a negative
 * code to stop the read with that code.
 */
typedef int(store_log_fn)(uint64_t rev, const char *type, size_t tlen, const char *key,
                          size_t klen, const void *obj, size_t olen, void *arg);

/* As store_log_read, without decoding: each event goes to fn. Same after,
 * max, prefix and PROTO_EEXPIRED; or fn's negative code. */
int store_log_read_raw(store_t *s, uint64_t after, size_t max, const char *prefix,
                       store_log_fn *fn, void *arg);

/*
 * Begins the (single) write transaction. -EBUSY if this thread has one
 * open; a call from another thread waits until it ends. A write
 * transaction belongs to the thread that began it (LMDB rule).
 */
int store_wtxn_begin(store_t *s, store_wtxn_t **out);
/* Reads inside the write transaction (sees its own uncommitted writes). */
int store_wtxn_get(store_wtxn_t *t, const char *key, json_t **out);
/* The metadata.resourceVersion of the object at key as the transaction
 * sees it, without decoding the object (a cheap "has it changed?").
 * PROTO_ENOTFOUND, PROTO_EINVALID (bad key). */
int store_wtxn_rev_of(store_wtxn_t *t, const char *key, uint64_t *rv);
/*
 * Creates or replaces the object at key. Sets metadata.resourceVersion in
 * obj (the caller's tree is modified) to the new revision, appends the log
 * event (ADDED if the key was absent, else MODIFIED). If expect_rev is
 * non-zero and the stored object's revision differs (or it is absent),
 * nothing is written and PROTO_ECONFLICT (or PROTO_ENOTFOUND) is returned.
 * If must_create and the key exists: PROTO_EEXISTS. *rev_out (may be NULL)
 * gets the revision. The transaction's event for this write holds a
 * reference to obj itself (no copy): do not modify obj, nor put the same
 * tree again, until the events are published (put a json_deep_copy if you
 * must). Other errors: PROTO_EINVALID (obj not an object; key empty, not
 * printable ASCII, or over LMDB's 511 bytes), PROTO_ETOOLARGE (encoded
 * object over PROTO_MAX_MSG), -ENOSPC (map cannot grow further).
 */
int store_wtxn_put(store_wtxn_t *t, const char *key, json_t *obj, uint64_t expect_rev,
                   bool must_create, uint64_t *rev_out);
/*
 * Deletes the object at key, appending a DELETED event carrying the last
 * object with the new revision as its resourceVersion. expect_rev as above.
 * *last (may be NULL) gets that object (new reference). PROTO_ENOTFOUND.
 */
int store_wtxn_del(store_wtxn_t *t, const char *key, uint64_t expect_rev, json_t **last,
                   uint64_t *rev_out);
/*
 * Events written by this transaction so far, in order, same shape as
 * store_log_read's; borrowed until commit/abort. Used to publish after
 * commit.
 */
const json_t *store_wtxn_events(store_wtxn_t *t);
/*
 * The msgpack bytes of event i's object (index into store_wtxn_events), as
 * written to the log, so that publishing need not encode it again.
 * Borrowed until the next write to t, commit or abort. PROTO_ENOTFOUND
 * when i is out of range.
 */
int store_wtxn_event_bytes(store_wtxn_t *t, size_t i, const void **buf, size_t *len);
/* Commits durably (fsync unless no_sync); nulls *t. On failure nothing is
 * written. */
int store_wtxn_commit(store_wtxn_t **t);
/*
 * Commits as store_wtxn_commit, except that the last step of durability
 * is left to store_sync(): the transaction's data is on disk and readers
 * see it, but a system crash (not a process crash) may still undo it
 * until store_durable_rev() reaches its revision. So a writer may reply
 * only after that, and may meanwhile prepare the next transaction (whose
 * commit makes this one durable too). Nulls *t; errors as commit.
 * Pipelined: hands the transaction to the committer and returns at once
 * (its errors come from store_sync / store_failed).
 */
int store_wtxn_commit_nowait(store_wtxn_t **t);
/*
 * Makes every committed transaction durable (one fdatasync, none if all
 * already are); pipelined: waits until the committer has committed and
 * synced every transaction handed over. Unlike the rest of the store, it
 * may run on any thread, concurrently with the writer. -errno / PROTO_EINTERNAL when the sync
 * failed.
 */
int store_sync(store_t *s);
/*
 * Pipelined stores: after each group the committer has committed and
 * synced (or when the store fails) it writes 1 to fd, an eventfd the
 * writer's loop watches; -1 stops it. Once this returns, the committer
 * writes to the old fd no more. No effect on a store without pipelining.
 */
void store_set_notify(store_t *s, int fd);
/* The error that failed a pipelined store for good, or 0. */
int store_failed(store_t *s);
/* Whether the store commits pipelined (opts.pipeline, committer running). */
bool store_pipelined(const store_t *s);

/* The last revision known to be durable (<= store_rev). Any thread. */
uint64_t store_durable_rev(store_t *s);
/* Drops everything; nulls *t. */
void store_wtxn_abort(store_wtxn_t **t);

/* Drops log entries so that only the last keep revisions stay (keep 0 =
 * opts.keep_revs). Current objects are never dropped. Commits in chunks
 * of 20000 deletions; -EBUSY if this thread has a write transaction open. */
int store_compact(store_t *s, uint64_t keep);

/*
 * Sets/gets a metadata value (e.g. "cluster-uid"); value string copied.
 * Names up to 255 bytes, values up to 4096. "rev" and "compacted" are the
 * store's own (decimal strings): readable, but set gives PROTO_EINVALID.
 * set: -EBUSY if this thread has a write transaction open. get:
 * PROTO_ENOTFOUND, -ERANGE if buf (n bytes with the NUL) is too small.
 */
int store_meta_set(store_t *s, const char *name, const char *value);
int store_meta_get(store_t *s, const char *name, char *buf, size_t n);

#endif
