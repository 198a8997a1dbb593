/*
 * store/store.c — zkube's state log on LMDB: current objects, the revision
 * log and metadata in one environment (see store.h and docs/architecture.md
 * "Store layout"). The apiserver is its only writer; it group-commits many
 * requests through one write transaction and one fsync.
 *
 * Values are msgpack (protocol/codec). A log value is the map
 * {type, key, object}; the object's bytes inside it are also what the
 * `objects` database holds, so an object is encoded once per write.
 *
 * A write transaction keeps a journal of the raw LMDB writes it made. When
 * the map fills up, LMDB poisons the transaction; the store then aborts it,
 * doubles the map, and replays the journal into a fresh transaction, so the
 * caller never sees MDB_MAP_FULL. Resizing remaps the file, so it waits for
 * readers: every read transaction holds `maplock` shared, a resize holds it
 * exclusively.
 *
 * Pipelined commits (opts.pipeline, the apiserver's mode): a write
 * transaction is then only that journal. Its reads see, newest first, its
 * own writes, the journals handed over and not yet pruned, then LMDB; its
 * commit hands the journal to the committer thread and returns. The
 * committer writes every journal waiting as one record of the write-ahead
 * log (wal.h) and syncs it: one sequential fdatasync, and they are
 * durable. The checkpointer takes the logged journals into LMDB every
 * S_CK_MS, as one transaction synced as LMDB syncs (its pages land all
 * over the file: that costs several times the log's sync, so it is paid
 * once per checkpoint, not per group). At open, the records after the
 * checkpoint (meta "walseq") are replayed. Until a journal is in LMDB,
 * store_get finds it among the sets in flight; lists and log reads first
 * have the checkpointer catch up. A failed write, sync or checkpoint fails
 * the store for good (every later call reports it): the process restarts
 * from what is on disk, as after a failed fsync nothing in memory can be
 * trusted.
 */
#include "store/store.h"
#include "store/store_mp.h"
#include "store/wal.h"

#include "protocol/codec.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_DEFAULT_MAP ((size_t)4 << 30)
#define S_MAX_MAP ((size_t)1 << 40) /* 1 TiB: growth stops here (-ENOSPC) */
#define S_DEFAULT_KEEP 100000
#define S_MAX_LOG_READ 100000 /* events returned by one store_log_read */
#define S_COMPACT_CHUNK 20000 /* log deletions per compaction txn */
#define S_META_NAME_MAX 255
#define S_META_VALUE_MAX 4096
#define S_GROW_TRIES 16

/* One raw write of a transaction, replayed after a map resize. Offsets
 * point into the transaction's arena. */
typedef struct s_jent {
    MDB_dbi dbi;
    bool del;
    unsigned flags;
    size_t koff, klen, voff, vlen;
} s_jent_t;

/* The objects a journal wrote: key -> index + 1 of its last entry on
 * `objects` (0: empty slot). Open addressing, at most half full. */
typedef struct s_otab {
    uint32_t *slot;
    size_t cap, n;
} s_otab_t;

struct s_wset;

/* The writer's index of every object the sets in flight wrote: key -> the
 * newest set's entry (slot empty: w NULL). Open addressing, at most half
 * full, deletion by backward shift; h is the key's hash (its home slot). */
typedef struct s_oref {
    struct s_wset *w;
    uint32_t i, h;
} s_oref_t;

typedef struct s_oidx {
    s_oref_t *slot;
    size_t cap, n;
} s_oidx_t;

/* A pipelined transaction's journal once handed to the committer. */
typedef struct s_wset {
    struct s_wset *qnext; /* the committer's queue (qmu) */
    struct s_wset *inext; /* the writer's list of sets not yet pruned, newest first */
    _Atomic bool logged;  /* in the write-ahead log, synced: plain reads see it */
    _Atomic bool done;    /* checkpointed into LMDB (or the store failed): may be pruned */
    uint64_t rev;
    uint64_t no;          /* sets handed over before it, + 1 */
    uint64_t seq;         /* its write-ahead log record */
    s_jent_t *jents;
    size_t njents, capjents;
    char *arena;
    size_t alen, acap;
    s_otab_t tab;
} s_wset_t;

struct store_wtxn {
    store_t *s;
    MDB_txn *txn; /* NULL in a pipelined transaction */
    bool virt;    /* pipelined: the journal is all there is until the committer */
    s_otab_t tab; /* pipelined: the objects written so far */
    char *scratch; /* pipelined: a value read from LMDB, copied out of its txn */
    size_t scap;
    /* pipelined: the key of the value in scratch, while it is LMDB's (no
     * write to any object since): a patch reads its object, then checks its
     * precondition against it, one LMDB lookup instead of two */
    char *skey;
    size_t skey_len, skey_cap, slen;
    bool skey_ok;
    uint64_t base_rev; /* committed revision when the txn began */
    uint64_t rev;      /* last revision taken inside the txn */
    json_t *events;
    bool dirty; /* wrote something besides revisions (meta, compaction) */
    int broken; /* first unrecoverable error; the txn can only abort */
    s_jent_t *jents;
    size_t njents, capjents;
    char *arena; /* keys and values of the journal; reused across txns */
    size_t alen, acap;
    size_t *evb; /* per event: arena offset and length of its object's bytes */
    size_t capevb;
};

struct store {
    MDB_env *env;
    int lockfd; /* flock: one store_t per directory, across processes */
    MDB_dbi objects, log, meta;
    store_opts_t opts;
    size_t map_size;
    _Atomic uint64_t rev;
    _Atomic uint64_t durable; /* last revision known to be on disk */
    _Atomic uint64_t commits; /* commits so far (meta-only ones too) */
    _Atomic uint64_t synced;  /* of which known to be on disk */
    _Atomic uint64_t compacted;
    pthread_mutex_t wmu;      /* the one writer; error-checking: -EBUSY on re-entry */
    pthread_rwlock_t maplock; /* read txns shared, map resize exclusive */
    store_wtxn_t w;           /* the write txn, reused with its buffers */
    /* pipelined commits */
    pthread_t committer;
    bool committer_up;
    pthread_mutex_t qmu;
    pthread_cond_t qcv, dcv;  /* work for the committer; a set done */
    s_wset_t *qhead, *qtail;  /* handed over, not yet taken (qmu) */
    bool qstop;               /* (qmu) */
    _Atomic int failed;       /* the first failed commit or sync, for good */
    s_wset_t *inflight;       /* handed over, not yet pruned (the writer's; olock) */
    pthread_rwlock_t olock;   /* inflight's links: the writer changes, plain reads walk */
    s_oidx_t oidx;            /* the writer's: the newest write in flight of each object */
    s_wset_t *pool;           /* the writer's: pruned sets, buffers kept */
    MDB_txn *rtxn;            /* the writer's read txn, reset between reads */
    int notify_fd;            /* written after each group (qmu); -1: none */
    char *dir;
    store_wal_t *wal;         /* the committer's */
    uint64_t walseq;          /* the committer's: last record written */
    unsigned char *wbuf;      /* the committer's: the record being built */
    size_t wcap;
    _Atomic uint64_t handed;  /* sets handed over so far */
    /* the checkpointer: applies logged sets to LMDB every S_CK_MS */
    pthread_t ckthread;
    bool ck_up;
    pthread_cond_t ckcv;      /* work for the checkpointer (qmu) */
    s_wset_t *ckhead, *cktail; /* logged, not yet checkpointed (qmu) */
    size_t ckbytes;           /* (qmu) */
    struct timespec ckdue;    /* (qmu) when the oldest of them is due */
    bool ckforce, ckstop;     /* (qmu) */
    _Atomic uint64_t cked;    /* sets checkpointed so far (by no) */
    _Atomic uint64_t ckseq;   /* last log record in LMDB */
    uint64_t pruned;          /* the writer's: cked at its last prune */
};

#define S_CK_MS 20                    /* logged writes reach LMDB within this (default) */
#define S_CK_BYTES ((size_t)2 << 20) /* ... or once this much waits */

static int s_sync_lmdb(store_t *s);
static int s_pipeline_start(store_t *s);
static void s_pipeline_stop(store_t *s);

/* ---- errors, small helpers ---- */

/* -errno or PROTO_E*, as opposed to a raw LMDB code (positive errno or
 * MDB_* near -30800). */
static bool s_is_zk_code(int rc)
{
    return rc < 0 && rc > -4096;
}

static int s_err(int rc)
{
    if (s_is_zk_code(rc))
        return rc; /* already a zkube code */
    switch (rc) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return PROTO_ENOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return -ENOSPC;
    case MDB_READERS_FULL:
        return -EAGAIN;
    case MDB_BAD_VALSIZE:
        return PROTO_EINVALID;
    default:
        return rc > 0 ? -rc : PROTO_EINTERNAL;
    }
}

static void *s_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return q;
}

static void s_be64(uint64_t v, unsigned char out[8])
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)(v & 0xff);
}

static uint64_t s_from_be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* Keys are "resource/namespace/name" of Kubernetes names: printable
 * ASCII, 1..511 bytes (LMDB's key limit). */
static bool s_key_ok(const store_t *s, const char *key, size_t *len)
{
    if (!key)
        return false;
    const unsigned char *p = (const unsigned char *)key;
    for (; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    *len = (size_t)(p - (const unsigned char *)key);
    return *len > 0 && *len <= (size_t)mdb_env_get_maxkeysize(s->env);
}

static int s_decode(const void *buf, size_t len, json_t **out)
{
    /* Bytes in the store were written by the store: a decode failure is
     * corruption, not bad input. */
    return proto_mp_unpack(buf, len, out, NULL, 0) ? PROTO_EINTERNAL : 0;
}

const char *store_evtype_name(store_evtype_t t)
{
    switch (t) {
    case STORE_ADDED:
        return "ADDED";
    case STORE_MODIFIED:
        return "MODIFIED";
    case STORE_DELETED:
        return "DELETED";
    }
    return "UNKNOWN";
}

/* ---- read transactions ---- */

static int s_rbegin(store_t *s, MDB_txn **txn)
{
    pthread_rwlock_rdlock(&s->maplock);
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    if (rc) {
        pthread_rwlock_unlock(&s->maplock);
        return s_err(rc);
    }
    return 0;
}

static void s_rend(store_t *s, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&s->maplock);
}

/* Metadata value as a decimal number; 0 when absent. */
static int s_meta_u64(store_t *s, MDB_txn *txn, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    *out = 0;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return s_err(rc);
    char buf[24];
    if (v.mv_size == 0 || v.mv_size >= sizeof buf)
        return PROTO_EINTERNAL;
    memcpy(buf, v.mv_data, v.mv_size);
    buf[v.mv_size] = 0;
    char *end;
    errno = 0;
    *out = strtoull(buf, &end, 10);
    return (*end || errno) ? PROTO_EINTERNAL : 0;
}

/* ---- opening ---- */

/* Highest and lowest revision in the log (0, 0 when empty). */
static int s_log_bounds(store_t *s, MDB_txn *txn, uint64_t *lo, uint64_t *hi)
{
    MDB_cursor *c;
    MDB_val k, v;
    *lo = *hi = 0;
    int rc = mdb_cursor_open(txn, s->log, &c);
    if (rc)
        return s_err(rc);
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    if (rc == 0 && k.mv_size == 8) {
        *lo = s_from_be64(k.mv_data);
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
        if (rc == 0 && k.mv_size == 8)
            *hi = s_from_be64(k.mv_data);
    }
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    return rc ? s_err(rc) : (*lo && !*hi) ? PROTO_EINTERNAL : 0;
}

/* The revision counters must agree with the log: rev is the last logged
 * revision, and nothing at or below `compacted` is still logged. */
static int s_verify(store_t *s, MDB_txn *txn, char *err, size_t errlen)
{
    uint64_t rev, comp, lo, hi;
    int rc = s_meta_u64(s, txn, "rev", &rev);
    if (!rc)
        rc = s_meta_u64(s, txn, "compacted", &comp);
    if (!rc)
        rc = s_log_bounds(s, txn, &lo, &hi);
    if (rc) {
        snprintf(err, errlen, "store: cannot read metadata: %s", proto_strerror(rc));
        return rc;
    }
    bool ok = hi ? (hi == rev && lo > comp) : (rev == comp);
    if (!ok) {
        snprintf(err, errlen,
                 "store: inconsistent metadata: rev %" PRIu64 ", compacted %" PRIu64
                 ", log %" PRIu64 "..%" PRIu64,
                 rev, comp, lo, hi);
        return PROTO_EINTERNAL;
    }
    atomic_store(&s->rev, rev);
    atomic_store(&s->compacted, comp);
    return 0;
}

/* ---- the write-ahead log's records: a group's raw writes ---- */

/* An entry of a record: {u8 db, u8 del, u16 0, u32 flags, u32 klen,
 * u32 vlen} (little-endian), the key, the value (none for a delete). */
#define S_WENT 16

static int s_db_index(const store_t *s, MDB_dbi dbi)
{
    return dbi == s->objects ? 0 : dbi == s->log ? 1 : 2;
}

typedef struct s_replay {
    store_t *s;
    MDB_txn *txn;
} s_replay_t;

/* Applies one record to the opening transaction (a raw MDB code, or
 * PROTO_EINTERNAL for a record that does not parse: the CRC matched, so it
 * is not a torn write but a bug, and the store refuses to guess). */
static int s_replay_rec(uint64_t seq, const void *payload, size_t len, void *arg)
{
    (void)seq;
    s_replay_t *r = arg;
    const unsigned char *p = payload, *end = p + len;
    while (p < end) {
        if ((size_t)(end - p) < S_WENT || p[0] > 2 || p[1] > 1)
            return PROTO_EINTERNAL;
        MDB_dbi dbi = p[0] == 0 ? r->s->objects : p[0] == 1 ? r->s->log : r->s->meta;
        bool del = p[1];
        unsigned flags = wal_get32(p + 4);
        size_t klen = wal_get32(p + 8), vlen = del ? 0 : wal_get32(p + 12);
        p += S_WENT;
        if ((size_t)(end - p) < klen || (size_t)(end - p) - klen < vlen || !klen)
            return PROTO_EINTERNAL;
        MDB_val k = {klen, (void *)p}, v = {vlen, (void *)(p + klen)};
        int rc = del ? mdb_del(r->txn, dbi, &k, NULL) : mdb_put(r->txn, dbi, &k, &v, flags);
        if (rc && !(del && rc == MDB_NOTFOUND))
            return rc;
        p += klen + vlen;
    }
    return 0;
}

/* Replays the write-ahead log after the checkpoint into txn, and moves the
 * checkpoint past every record the files hold. */
static int s_replay(store_t *s, MDB_txn *txn, const char *dir, char *err, size_t errlen)
{
    uint64_t ck = 0, last = 0, seen = 0;
    int rc = s_meta_u64(s, txn, "walseq", &ck);
    s_replay_t r = {s, txn};
    if (!rc)
        rc = wal_replay(dir, ck, s_replay_rec, &r, &last, &seen, err, errlen);
    if (!rc && (seen > ck || last > ck)) {
        char buf[24];
        snprintf(buf, sizeof buf, "%" PRIu64, seen > last ? seen : last);
        MDB_val k = {6, "walseq"}, v = {strlen(buf), buf};
        rc = mdb_put(txn, s->meta, &k, &v, 0);
        if (rc)
            snprintf(err, errlen, "store: cannot replay the write-ahead log: %s",
                     mdb_strerror(rc));
    }
    return rc;
}

static int s_open_dbs(store_t *s, const char *dir, char *err, size_t errlen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, "objects", MDB_CREATE, &s->objects);
    if (!rc)
        rc = mdb_dbi_open(txn, "log", MDB_CREATE, &s->log);
    if (!rc)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
    if (rc) {
        snprintf(err, errlen, "store: cannot open databases: %s", mdb_strerror(rc));
        if (txn)
            mdb_txn_abort(txn);
        return s_err(rc);
    }
    for (int tries = 0; (rc = s_replay(s, txn, dir, err, errlen)) == MDB_MAP_FULL; tries++) {
        /* the log holds more than the map: grow it and start over */
        mdb_txn_abort(txn);
        size_t want = s->map_size * 2;
        rc = tries >= S_GROW_TRIES || want > S_MAX_MAP ? MDB_MAP_FULL
                                                        : mdb_env_set_mapsize(s->env, want);
        if (!rc) {
            s->map_size = want;
            rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        }
        if (rc) {
            snprintf(err, errlen, "store: cannot replay the write-ahead log: %s",
                     mdb_strerror(rc));
            return s_err(rc);
        }
    }
    if (rc) { /* err says what */
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    rc = s_verify(s, txn, err, errlen);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    if (rc)
        snprintf(err, errlen, "store: cannot commit: %s", mdb_strerror(rc));
    return s_err(rc);
}

/*
 * Revisions are only gapless with one writer, so a second apiserver on the
 * same directory (say, a restarted one while the old one hangs) is refused.
 * The kernel drops the lock when its holder dies, kill -9 included.
 */
static int s_lock_dir(store_t *s, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/store.lock", dir) >= (int)sizeof path) {
        snprintf(err, errlen, "store: directory name too long");
        return -ENAMETOOLONG;
    }
    s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0) {
        int e = errno;
        snprintf(err, errlen, "store: %s: %s", path, strerror(e));
        return -e;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        snprintf(err, errlen, "store: %s is in use by another store (%s)", dir, strerror(e));
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    return 0;
}

/* mkdir -p: the data directory's parents may not exist yet. */
static int s_mkdirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n >= sizeof path)
        return -ENAMETOOLONG;
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -errno : 0;
}

static int s_open_env(store_t *s, const char *dir, char *err, size_t errlen)
{
    int mrc = s_mkdirs(dir);
    if (mrc) {
        snprintf(err, errlen, "store: mkdir %s: %s", dir, strerror(-mrc));
        return mrc;
    }
    int lrc = s_lock_dir(s, dir, err, errlen);
    if (lrc)
        return lrc;
    /* NOMETASYNC: a commit syncs its data pages, then writes the meta page
     * without syncing it; store_sync() (or the next commit's data sync)
     * makes it durable. Integrity is LMDB's as ever: the meta page is
     * only written once the pages it points to are on disk. */
    unsigned flags = MDB_NOTLS | MDB_NOMETASYNC;
    if (s->opts.no_sync)
        flags |= MDB_NOSYNC;
    int rc = mdb_env_create(&s->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(s->env, 4);
    if (!rc)
        rc = mdb_env_set_mapsize(s->env, s->opts.map_size);
    if (!rc)
        rc = mdb_env_open(s->env, dir, flags, 0600);
    if (rc) {
        snprintf(err, errlen, "store: cannot open %s: %s", dir, mdb_strerror(rc));
        return s_err(rc);
    }
    int dead = 0;
    mdb_reader_check(s->env, &dead); /* reader slots of killed processes */
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    s->map_size = info.me_mapsize;
    return 0;
}

int store_open(store_t **out, const char *dir, const store_opts_t *opts, char *err, size_t errlen)
{
    char scratch[8];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    *out = NULL;
    if (!dir || !*dir) {
        snprintf(err, errlen, "store: no directory");
        return PROTO_EINVALID;
    }
    store_t *s = s_xrealloc(NULL, sizeof *s);
    memset(s, 0, sizeof *s);
    s->lockfd = -1;
    if (opts)
        s->opts = *opts;
    if (!s->opts.map_size)
        s->opts.map_size = S_DEFAULT_MAP;
    if (!s->opts.keep_revs)
        s->opts.keep_revs = S_DEFAULT_KEEP;
    if (!s->opts.ck_ms)
        s->opts.ck_ms = S_CK_MS;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&s->wmu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->maplock, &ra);
    pthread_rwlockattr_destroy(&ra);
    s->dir = strdup(dir);
    pthread_rwlock_init(&s->olock, NULL);
    int rc = s->dir ? s_open_env(s, dir, err, errlen) : -ENOMEM;
    if (!rc)
        rc = s_open_dbs(s, dir, err, errlen);
    if (!rc && !s->opts.no_sync) /* what the last run may have left unsynced */
        rc = s_err(mdb_env_sync(s->env, 1));
    if (!rc)
        atomic_store(&s->durable, atomic_load(&s->rev));
    if (!rc && s->opts.pipeline)
        rc = s_pipeline_start(s);
    if (rc) {
        store_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void store_destroy(store_t **sp)
{
    if (!sp || !*sp)
        return;
    store_t *s = *sp;
    s_pipeline_stop(s); /* what was handed over is committed first */
    if (s->w.txn)
        mdb_txn_abort(s->w.txn);
    if (s->env)
        s_sync_lmdb(s); /* the last commit's meta page, if still unsynced */
    json_decref(s->w.events);
    free(s->w.jents);
    free(s->w.arena);
    free(s->w.evb);
    free(s->w.tab.slot);
    free(s->w.scratch);
    free(s->w.skey);
    if (s->env)
        mdb_env_close(s->env);
    if (s->lockfd >= 0)
        close(s->lockfd);
    pthread_rwlock_destroy(&s->maplock);
    pthread_rwlock_destroy(&s->olock);
    pthread_mutex_destroy(&s->wmu);
    free(s->dir);
    free(s);
    *sp = NULL;
}

uint64_t store_rev(store_t *s)
{
    return atomic_load(&s->rev);
}

uint64_t store_durable_rev(store_t *s)
{
    return atomic_load(&s->durable);
}

/* Raises *a to at least v (the committer and the writer both report). */
static void s_at_least(_Atomic uint64_t *a, uint64_t v)
{
    uint64_t cur = atomic_load(a);
    while (cur < v && !atomic_compare_exchange_weak(a, &cur, v))
        ;
}

static int s_drain(store_t *s);

int store_sync(store_t *s)
{
    if (s->opts.pipeline)
        return s_drain(s);
    return s_sync_lmdb(s);
}

/* One fdatasync for what LMDB committed (the meta pages). */
static int s_sync_lmdb(store_t *s)
{
    /* Commits counted here have written their meta pages (a commit bumps
     * rev, then commits, after LMDB returns), so one sync covers them. */
    uint64_t c = atomic_load(&s->commits), rev = atomic_load(&s->rev);
    if (atomic_load(&s->synced) >= c)
        return 0;
    if (!s->opts.no_sync) {
        int rc = mdb_env_sync(s->env, 1);
        if (rc)
            return s_err(rc);
    }
    s_at_least(&s->synced, c);
    s_at_least(&s->durable, rev);
    return 0;
}

uint64_t store_oldest_rev(store_t *s)
{
    return atomic_load(&s->compacted) + 1;
}

/* ---- reads ---- */

static int s_drain_ck(store_t *s);
static const s_jent_t *s_otab_find(const s_otab_t *tab, const s_jent_t *jents, const char *arena,
                                   const char *key, size_t klen);

/*
 * A plain read of an object: the newest logged set that wrote it (a write
 * is durable once logged, and may not have reached LMDB yet), else LMDB.
 * Sets handed over but not yet logged are skipped: a read never shows a
 * write that a crash could still lose. fn gets the bytes (NULL, 0 and
 * MDB_NOTFOUND when absent) while they are valid.
 */
typedef int(s_get_fn)(int rc, const void *buf, size_t len, void *arg);

static int s_get(store_t *s, const char *key, size_t klen, s_get_fn *fn, void *arg)
{
    pthread_rwlock_rdlock(&s->olock);
    for (s_wset_t *w = s->inflight; w; w = w->inext) {
        if (!atomic_load(&w->logged))
            continue;
        const s_jent_t *j = s_otab_find(&w->tab, w->jents, w->arena, key, klen);
        if (j) {
            int rc = j->del ? fn(MDB_NOTFOUND, NULL, 0, arg)
                            : fn(0, w->arena + j->voff, j->vlen, arg);
            pthread_rwlock_unlock(&s->olock);
            return rc;
        }
    }
    MDB_txn *txn;
    int rc = s_rbegin(s, &txn);
    if (!rc) {
        MDB_val k = {klen, (void *)key}, v = {0, NULL};
        int grc = mdb_get(txn, s->objects, &k, &v);
        rc = fn(grc, v.mv_data, v.mv_size, arg);
        s_rend(s, txn);
    }
    pthread_rwlock_unlock(&s->olock);
    return rc;
}

static int s_get_tree(int rc, const void *buf, size_t len, void *arg)
{
    return rc ? s_err(rc) : s_decode(buf, len, arg);
}

typedef struct s_bytes {
    char **buf;
    size_t *len;
} s_bytes_t;

static int s_get_copy(int rc, const void *buf, size_t len, void *arg)
{
    s_bytes_t *b = arg;
    if (rc)
        return s_err(rc);
    *b->buf = s_xrealloc(NULL, len ? len : 1);
    memcpy(*b->buf, buf, len);
    *b->len = len;
    return 0;
}

int store_get(store_t *s, const char *key, json_t **out)
{
    size_t klen;
    *out = NULL;
    if (!s_key_ok(s, key, &klen))
        return PROTO_EINVALID;
    return s_get(s, key, klen, s_get_tree, out);
}

int store_get_bytes(store_t *s, const char *key, char **buf, size_t *len)
{
    size_t klen;
    *buf = NULL;
    *len = 0;
    if (!s_key_ok(s, key, &klen))
        return PROTO_EINVALID;
    s_bytes_t b = {buf, len};
    return s_get(s, key, klen, s_get_copy, &b);
}

static bool s_has_prefix(const MDB_val *k, const char *prefix, size_t plen)
{
    return k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0;
}

/* Positions c at the first key >= seek (or the first key if seek is ""). */
static int s_seek(MDB_cursor *c, const char *seek, size_t slen, MDB_val *k, MDB_val *v)
{
    if (!slen)
        return mdb_cursor_get(c, k, v, MDB_FIRST);
    k->mv_size = slen;
    k->mv_data = (void *)seek;
    return mdb_cursor_get(c, k, v, MDB_SET_RANGE);
}

typedef struct s_list_q {
    const char *prefix;
    size_t plen, limit;
    bool (*keep)(const json_t *obj, void *arg);
    store_raw_fn *raw; /* store_list_raw: bytes to the caller, no decoding */
    void *arg;
} s_list_q_t;

/* One listed value: decoded and filtered into items, or handed over raw. */
static int s_list_one(const s_list_q_t *q, const MDB_val *k, const MDB_val *v, json_t *items,
                      size_t *n)
{
    if (q->raw) {
        int rc = q->raw(k->mv_data, k->mv_size, v->mv_data, v->mv_size, q->arg);
        *n += rc == 0;
        return rc < 0 ? rc : 0;
    }
    json_t *obj;
    int drc = s_decode(v->mv_data, v->mv_size, &obj);
    if (drc)
        return drc;
    if (!q->keep || q->keep(obj, q->arg)) {
        json_array_append_new(items, obj);
        (*n)++;
    } else {
        json_decref(obj);
    }
    return 0;
}

static int s_list_scan(MDB_cursor *c, const s_list_q_t *q, const char *seek, json_t *items,
                       char **next_key)
{
    MDB_val k, v;
    size_t n = 0;
    int rc = s_seek(c, seek, strlen(seek), &k, &v);
    for (; rc == 0 && s_has_prefix(&k, q->prefix, q->plen);
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (q->limit && n == q->limit) {
            if (next_key)
                *next_key = strndup(k.mv_data, k.mv_size);
            return 0;
        }
        int drc = s_list_one(q, &k, &v, items, &n);
        if (drc)
            return drc;
    }
    return rc == MDB_NOTFOUND ? 0 : s_err(rc);
}

static int s_list_run(store_t *s, const s_list_q_t *qp, const char *start_key, json_t **items,
                      uint64_t *rev, char **next_key);

int store_list(store_t *s, const char *prefix, const char *start_key, size_t limit,
               bool (*keep)(const json_t *obj, void *arg), void *arg, json_t **items, uint64_t *rev,
               char **next_key)
{
    *items = NULL;
    if (!prefix)
        prefix = "";
    s_list_q_t q = {prefix, strlen(prefix), limit, keep, NULL, arg};
    return s_list_run(s, &q, start_key, items, rev, next_key);
}

int store_list_raw(store_t *s, const char *prefix, const char *start_key, size_t limit,
                   store_raw_fn *fn, void *arg, uint64_t *rev, char **next_key)
{
    if (!prefix)
        prefix = "";
    s_list_q_t q = {prefix, strlen(prefix), limit, NULL, fn, arg};
    return s_list_run(s, &q, start_key, NULL, rev, next_key);
}

/* The read transaction around one scan; items NULL for raw scans. */
static int s_list_run(store_t *s, const s_list_q_t *qp, const char *start_key, json_t **items,
                      uint64_t *rev, char **next_key)
{
    const s_list_q_t q = *qp;
    const char *prefix = q.prefix;
    if (next_key)
        *next_key = NULL;
    const char *seek = start_key && strcmp(start_key, prefix) > 0 ? start_key : prefix;
    size_t slen = strlen(seek);
    if (slen > (size_t)mdb_env_get_maxkeysize(s->env))
        return PROTO_EINVALID;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = s_drain_ck(s);
    if (!rc)
        rc = s_rbegin(s, &txn);
    if (rc)
        return rc;
    uint64_t r = 0;
    rc = s_meta_u64(s, txn, "rev", &r);
    json_t *arr = items ? json_array() : NULL;
    if (!rc)
        rc = s_err(mdb_cursor_open(txn, s->objects, &c));
    if (!rc) {
        rc = s_list_scan(c, &q, seek, arr, next_key);
        mdb_cursor_close(c);
    }
    s_rend(s, txn);
    if (rc) {
        json_decref(arr);
        if (next_key) {
            free(*next_key);
            *next_key = NULL;
        }
        return rc;
    }
    if (items)
        *items = arr;
    if (rev)
        *rev = r;
    return 0;
}

/* ---- log values: msgpack {type, key, object} ---- */

/*
 * Splits a log value as the store writes it (fixmap 3: type, key, object)
 * without decoding the object, so a prefix filter costs no decode.
 */
static bool s_log_split(const MDB_val *v, const char **type, size_t *tlen, const char **key,
                        size_t *klen, const unsigned char **obj, size_t *olen)
{
    const unsigned char *p = v->mv_data, *end = p + v->mv_size;
    if (v->mv_size < 1 || *p++ != 0x83)
        return false;
    if (!store_mp_lit(&p, end, "type") || !store_mp_str(&p, end, type, tlen))
        return false;
    if (!store_mp_lit(&p, end, "key") || !store_mp_str(&p, end, key, klen))
        return false;
    if (!store_mp_lit(&p, end, "object"))
        return false;
    *obj = p;
    *olen = (size_t)(end - p);
    return true;
}

/* store_log_read's visitor: decodes the object into an event. */
static int s_log_tree(uint64_t rev, const char *type, size_t tlen, const char *key, size_t klen,
                      const void *ob, size_t olen, void *arg)
{
    json_t *obj;
    int rc = s_decode(ob, olen, &obj);
    if (rc)
        return rc;
    json_t *ev = json_pack("{s:s%,s:s%,s:I,s:o}", "type", type, tlen, "key", key, klen, "rev",
                           (json_int_t)rev, "object", obj);
    if (!ev)
        return PROTO_EINTERNAL;
    json_array_append_new(arg, ev);
    return 0;
}

typedef struct s_log_q {
    uint64_t after;
    size_t max;
    const char *prefix;
    store_log_fn *fn;
    void *arg;
} s_log_q_t;

/* Hands one log entry to the visitor if its key has the prefix; *n counts. */
static int s_log_event(const MDB_val *k, const MDB_val *v, const s_log_q_t *q, size_t plen,
                       size_t *n)
{
    const char *type, *key;
    const unsigned char *ob;
    size_t tlen, klen, olen;
    if (k->mv_size != 8 || !s_log_split(v, &type, &tlen, &key, &klen, &ob, &olen))
        return PROTO_EINTERNAL;
    if (klen < plen || memcmp(key, q->prefix, plen) != 0)
        return 0;
    int rc = q->fn(s_from_be64(k->mv_data), type, tlen, key, klen, ob, olen, q->arg);
    *n += rc == 0;
    return rc < 0 ? rc : 0;
}

static int s_log_scan(store_t *s, MDB_txn *txn, const s_log_q_t *q)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->log, &c);
    if (rc)
        return s_err(rc);
    unsigned char kb[8];
    s_be64(q->after + 1, kb);
    MDB_val k = {8, kb}, v;
    size_t plen = strlen(q->prefix), n = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && n < q->max;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        int erc = s_log_event(&k, &v, q, plen, &n);
        if (erc) {
            mdb_cursor_close(c);
            return erc;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : s_err(rc);
}

static int s_log_run(store_t *s, const s_log_q_t *q)
{
    MDB_txn *txn;
    int rc = s_drain_ck(s);
    if (!rc)
        rc = s_rbegin(s, &txn);
    if (rc)
        return rc;
    uint64_t comp;
    rc = s_meta_u64(s, txn, "compacted", &comp);
    if (!rc && q->after < comp)
        rc = PROTO_EEXPIRED;
    if (!rc)
        rc = s_log_scan(s, txn, q);
    s_rend(s, txn);
    return rc;
}

int store_log_read_raw(store_t *s, uint64_t after, size_t max, const char *prefix,
                       store_log_fn *fn, void *arg)
{
    s_log_q_t q = {after, max ? max : 1000, prefix ? prefix : "", fn, arg};
    if (q.max > S_MAX_LOG_READ)
        q.max = S_MAX_LOG_READ;
    return s_log_run(s, &q);
}

int store_log_read(store_t *s, uint64_t after, size_t max, const char *prefix, json_t **events)
{
    json_t *arr = json_array();
    int rc = store_log_read_raw(s, after, max, prefix, s_log_tree, arr);
    if (rc) {
        json_decref(arr);
        arr = NULL;
    }
    *events = arr;
    return rc;
}

/* ---- write transactions: journal and map growth ---- */

static size_t s_arena_add(store_wtxn_t *t, const void *p, size_t n)
{
    if (t->acap - t->alen < n) {
        size_t cap = t->acap ? t->acap : 64 * 1024;
        while (cap - t->alen < n)
            cap *= 2;
        t->arena = s_xrealloc(t->arena, cap);
        t->acap = cap;
    }
    size_t off = t->alen;
    memcpy(t->arena + off, p, n);
    t->alen += n;
    return off;
}

static int s_apply_to(MDB_txn *txn, const char *arena, const s_jent_t *j)
{
    MDB_val k = {j->klen, (char *)arena + j->koff};
    if (j->del)
        return mdb_del(txn, j->dbi, &k, NULL);
    MDB_val v = {j->vlen, (char *)arena + j->voff};
    return mdb_put(txn, j->dbi, &k, &v, j->flags);
}

static int s_apply(store_wtxn_t *t, const s_jent_t *j)
{
    return s_apply_to(t->txn, t->arena, j);
}

/* ---- the objects a journal wrote (pipelined transactions' reads) ---- */

static uint64_t s_hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

/* The slot of key in tab: its entry's, or the empty one it would take. */
static uint32_t *s_otab_slot(const s_otab_t *tab, const s_jent_t *jents, const char *arena,
                             const char *key, size_t klen)
{
    size_t mask = tab->cap - 1;
    for (size_t i = s_hash(key, klen) & mask;; i = (i + 1) & mask) {
        uint32_t *sl = &tab->slot[i];
        if (!*sl)
            return sl;
        const s_jent_t *j = &jents[*sl - 1];
        if (j->klen == klen && !memcmp(arena + j->koff, key, klen))
            return sl;
    }
}

/* The last entry of the journal on key, or NULL. */
static const s_jent_t *s_otab_find(const s_otab_t *tab, const s_jent_t *jents, const char *arena,
                                   const char *key, size_t klen)
{
    if (!tab->n)
        return NULL;
    uint32_t *sl = s_otab_slot(tab, jents, arena, key, klen);
    return *sl ? &jents[*sl - 1] : NULL;
}

static void s_otab_clear(s_otab_t *tab)
{
    if (tab->n)
        memset(tab->slot, 0, tab->cap * sizeof *tab->slot);
    tab->n = 0;
}

/* Records that entry i of the journal is the last on its key. */
static void s_otab_put(s_otab_t *tab, const s_jent_t *jents, const char *arena, size_t i)
{
    if (2 * (tab->n + 1) > tab->cap) {
        size_t ncap = tab->cap ? tab->cap * 2 : 256;
        uint32_t *old = tab->slot;
        size_t ocap = tab->cap;
        tab->slot = s_xrealloc(NULL, ncap * sizeof *tab->slot);
        memset(tab->slot, 0, ncap * sizeof *tab->slot);
        tab->cap = ncap;
        for (size_t k = 0; k < ocap; k++)
            if (old[k]) {
                const s_jent_t *j = &jents[old[k] - 1];
                *s_otab_slot(tab, jents, arena, arena + j->koff, j->klen) = old[k];
            }
        free(old);
    }
    const s_jent_t *j = &jents[i];
    uint32_t *sl = s_otab_slot(tab, jents, arena, arena + j->koff, j->klen);
    if (!*sl)
        tab->n++;
    *sl = (uint32_t)(i + 1);
}

/* After a refused operation dropped journal entries: the table anew. */
static void s_otab_rebuild(store_wtxn_t *t)
{
    s_otab_clear(&t->tab);
    for (size_t i = 0; i < t->njents; i++)
        if (t->jents[i].dbi == t->s->objects)
            s_otab_put(&t->tab, t->jents, t->arena, i);
}

static const char *s_oref_key(const s_oref_t *r, size_t *klen)
{
    const s_jent_t *j = &r->w->jents[r->i];
    *klen = j->klen;
    return r->w->arena + j->koff;
}

/* The slot of key in the index: its entry's, or the empty one it would take. */
static size_t s_oidx_slot(const s_oidx_t *x, const char *key, size_t klen, uint32_t h)
{
    size_t mask = x->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const s_oref_t *r = &x->slot[i];
        size_t n;
        const char *k = r->w ? s_oref_key(r, &n) : NULL;
        if (!r->w || (r->h == h && n == klen && !memcmp(k, key, klen)))
            return i;
    }
}

static const s_oref_t *s_oidx_find(const s_oidx_t *x, const char *key, size_t klen)
{
    if (!x->n)
        return NULL;
    const s_oref_t *r = &x->slot[s_oidx_slot(x, key, klen, (uint32_t)s_hash(key, klen))];
    return r->w ? r : NULL;
}

static void s_oidx_put(s_oidx_t *x, s_oref_t r)
{
    if (2 * (x->n + 1) > x->cap) {
        size_t ocap = x->cap, ncap = ocap ? ocap * 2 : 1024;
        s_oref_t *old = x->slot;
        x->slot = s_xrealloc(NULL, ncap * sizeof *x->slot);
        memset(x->slot, 0, ncap * sizeof *x->slot);
        x->cap = ncap;
        for (size_t k = 0; k < ocap; k++)
            if (old[k].w) {
                size_t n;
                const char *key = s_oref_key(&old[k], &n);
                x->slot[s_oidx_slot(x, key, n, old[k].h)] = old[k];
            }
        free(old);
    }
    size_t n;
    const char *key = s_oref_key(&r, &n);
    s_oref_t *sl = &x->slot[s_oidx_slot(x, key, n, r.h)];
    x->n += !sl->w;
    *sl = r;
}

/* Drops key's entry if it is still set w's (a newer set's stays). */
static void s_oidx_drop(s_oidx_t *x, const struct s_wset *w, const char *key, size_t klen)
{
    if (!x->n)
        return;
    size_t mask = x->cap - 1, i = s_oidx_slot(x, key, klen, (uint32_t)s_hash(key, klen));
    if (x->slot[i].w != w)
        return;
    /* backward shift: move up every later entry of the run that may sit
     * in the freed slot (its home is not within (i, j]) */
    for (size_t j = (i + 1) & mask; x->slot[j].w; j = (j + 1) & mask) {
        size_t home = x->slot[j].h & mask;
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            x->slot[i] = x->slot[j];
            i = j;
        }
    }
    x->slot[i] = (s_oref_t){NULL, 0, 0};
    x->n--;
}

/* Applies (unless pipelined) and journals one raw write whose bytes already
 * sit in the arena. */
static int s_write(store_wtxn_t *t, const s_jent_t *j)
{
    if (!t->virt) {
        int rc = s_apply(t, j);
        if (rc)
            return rc;
    }
    if (t->njents == t->capjents) {
        t->capjents = t->capjents ? t->capjents * 2 : 256;
        t->jents = s_xrealloc(t->jents, t->capjents * sizeof *t->jents);
    }
    t->jents[t->njents++] = *j;
    if (j->dbi == t->s->objects)
        t->skey_ok = false; /* LMDB's value for that key changes once this is in */
    if (t->virt && j->dbi == t->s->objects)
        s_otab_put(&t->tab, t->jents, t->arena, t->njents - 1);
    return 0;
}

/* The stored bytes of an object as transaction t sees it (a raw LMDB code
 * on failure, MDB_NOTFOUND when absent). Pipelined: the bytes stay valid
 * until t's next read or write. */
static int s_obj_get(store_wtxn_t *t, const char *key, size_t klen, MDB_val *v)
{
    store_t *s = t->s;
    MDB_val k = {klen, (void *)key};
    if (!t->virt)
        return mdb_get(t->txn, s->objects, &k, v);
    const char *arena = t->arena;
    const s_jent_t *j = s_otab_find(&t->tab, t->jents, arena, key, klen);
    const s_oref_t *r = j ? NULL : s_oidx_find(&s->oidx, key, klen);
    if (r) {
        j = &r->w->jents[r->i];
        arena = r->w->arena;
    }
    if (j) {
        if (j->del)
            return MDB_NOTFOUND;
        v->mv_size = j->vlen;
        v->mv_data = (char *)arena + j->voff;
        return 0;
    }
    if (t->skey_ok && t->skey_len == klen && !memcmp(t->skey, key, klen)) {
        v->mv_size = t->slen;
        v->mv_data = t->scratch;
        return 0;
    }
    t->skey_ok = false;
    pthread_rwlock_rdlock(&s->maplock);
    int rc = s->rtxn ? mdb_txn_renew(s->rtxn) : mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
    if (!rc) {
        rc = mdb_get(s->rtxn, s->objects, &k, v);
        if (!rc) { /* out of the map before the txn ends */
            if (t->scap < v->mv_size) {
                t->scap = v->mv_size;
                t->scratch = s_xrealloc(t->scratch, t->scap);
            }
            memcpy(t->scratch, v->mv_data, v->mv_size);
            v->mv_data = t->scratch;
            if (t->skey_cap < klen) {
                t->skey_cap = klen;
                t->skey = s_xrealloc(t->skey, t->skey_cap);
            }
            memcpy(t->skey, key, klen);
            t->skey_len = klen;
            t->slen = v->mv_size;
            t->skey_ok = true;
        }
        mdb_txn_reset(s->rtxn);
    } else if (s->rtxn) {
        mdb_txn_abort(s->rtxn);
        s->rtxn = NULL;
    }
    pthread_rwlock_unlock(&s->maplock);
    return rc;
}

/* After MDB_MAP_FULL: the LMDB txn is dead (or already freed by a failed
 * commit). Doubles the map and replays the journal into a new txn. */
static int s_regrow(store_wtxn_t *t)
{
    store_t *s = t->s;
    if (t->txn)
        mdb_txn_abort(t->txn);
    t->txn = NULL;
    for (int tries = 0; tries < S_GROW_TRIES; tries++) {
        size_t want = s->map_size * 2;
        pthread_rwlock_unlock(&s->maplock);
        pthread_rwlock_wrlock(&s->maplock);
        int rc = want > S_MAX_MAP ? MDB_MAP_FULL : mdb_env_set_mapsize(s->env, want);
        if (!rc)
            s->map_size = want;
        pthread_rwlock_unlock(&s->maplock);
        pthread_rwlock_rdlock(&s->maplock);
        if (rc)
            return -ENOSPC;
        rc = mdb_txn_begin(s->env, NULL, 0, &t->txn);
        if (rc)
            return s_err(rc);
        for (size_t i = 0; i < t->njents && !rc; i++)
            rc = s_apply(t, &t->jents[i]);
        if (rc != MDB_MAP_FULL)
            return s_err(rc);
        mdb_txn_abort(t->txn);
        t->txn = NULL;
    }
    return -ENOSPC;
}

typedef int (*s_op_fn)(store_wtxn_t *t, void *ctx);

/*
 * Runs one operation; if the map fills up midway, drops its partial
 * journal, regrows and runs it again on the replayed txn. An op returns 0,
 * a store error (nothing written), or a raw MDB code after writing.
 */
static int s_run(store_wtxn_t *t, s_op_fn fn, void *ctx)
{
    if (t->broken)
        return t->broken;
    for (;;) {
        size_t nmark = t->njents, amark = t->alen;
        size_t emark = json_array_size(t->events);
        uint64_t rmark = t->rev;
        int rc = fn(t, ctx);
        if (rc == 0)
            return 0;
        /* A refusal (PROTO_E* or -errno) wrote nothing to LMDB but may have
         * left bytes in the arena; a raw MDB code (positive errno or
         * MDB_*) means the LMDB txn is dead. */
        bool dropped = t->njents != nmark;
        t->njents = nmark;
        t->alen = amark;
        t->rev = rmark;
        if (t->virt && dropped)
            s_otab_rebuild(t);
        while (json_array_size(t->events) > emark)
            json_array_remove(t->events, json_array_size(t->events) - 1);
        if (s_is_zk_code(rc))
            return rc;
        if (rc == MDB_MAP_FULL)
            rc = s_regrow(t);
        else
            rc = s_err(rc);
        if (rc) {
            t->broken = rc;
            return rc;
        }
    }
}

static void s_prune(store_t *s);

/* A pipelined transaction: a fresh journal over the sets in flight. */
static int s_begin_virtual(store_t *s, store_wtxn_t *t)
{
    int rc = atomic_load(&s->failed);
    if (rc) {
        pthread_mutex_unlock(&s->wmu);
        return rc;
    }
    s_prune(s);
    t->s = s;
    t->txn = NULL;
    t->virt = true;
    t->base_rev = t->rev = atomic_load(&s->rev);
    t->events = json_array();
    t->dirty = false;
    t->broken = 0;
    t->njents = t->alen = 0;
    s_otab_clear(&t->tab);
    return 0;
}

/* direct: an LMDB write transaction on this thread even in a pipelined
 * store (compaction, metadata), once every set handed over is committed. */
static int s_wtxn_begin(store_t *s, store_wtxn_t **out, bool direct)
{
    *out = NULL;
    int rc = pthread_mutex_lock(&s->wmu);
    if (rc)
        return rc == EDEADLK ? -EBUSY : -rc;
    store_wtxn_t *t = &s->w;
    if (s->opts.pipeline && !direct) {
        rc = s_begin_virtual(s, t);
        if (!rc)
            *out = t;
        return rc;
    }
    if (s->opts.pipeline && (rc = s_drain_ck(s)) != 0) {
        pthread_mutex_unlock(&s->wmu);
        return rc;
    }
    t->virt = false;
    pthread_rwlock_rdlock(&s->maplock);
    uint64_t rev = 0;
    rc = s_err(mdb_txn_begin(s->env, NULL, 0, &t->txn));
    if (!rc) /* the txn's own view, not a cache: exact even if the cache lagged */
        rc = s_meta_u64(s, t->txn, "rev", &rev);
    if (rc) {
        if (t->txn)
            mdb_txn_abort(t->txn);
        t->txn = NULL;
        pthread_rwlock_unlock(&s->maplock);
        pthread_mutex_unlock(&s->wmu);
        return rc;
    }
    t->s = s;
    t->base_rev = t->rev = rev;
    t->events = json_array();
    t->dirty = false;
    t->broken = 0;
    t->njents = t->alen = 0;
    *out = t;
    return 0;
}

int store_wtxn_begin(store_t *s, store_wtxn_t **out)
{
    return s_wtxn_begin(s, out, false);
}

static void s_wtxn_end(store_wtxn_t *t)
{
    store_t *s = t->s;
    if (t->txn)
        mdb_txn_abort(t->txn);
    t->txn = NULL;
    json_decref(t->events);
    t->events = NULL;
    t->njents = t->alen = 0;
    if (t->acap > (64u << 20)) { /* don't keep a huge batch's arena forever */
        free(t->arena);
        t->arena = NULL;
        t->acap = 0;
    }
    s_otab_clear(&t->tab);
    if (!t->virt)
        pthread_rwlock_unlock(&s->maplock);
    t->virt = false;
    pthread_mutex_unlock(&s->wmu);
}

void store_wtxn_abort(store_wtxn_t **tp)
{
    if (!tp || !*tp)
        return;
    s_wtxn_end(*tp);
    *tp = NULL;
}

/* The stored bytes at key, as the write transaction sees them. */
static int s_wtxn_lookup(store_wtxn_t *t, const char *key, MDB_val *v)
{
    size_t klen;
    if (t->broken)
        return t->broken;
    if (!s_key_ok(t->s, key, &klen))
        return PROTO_EINVALID;
    int rc = s_obj_get(t, key, klen, v);
    return rc ? s_err(rc) : 0;
}

int store_wtxn_get(store_wtxn_t *t, const char *key, json_t **out)
{
    MDB_val v;
    *out = NULL;
    int rc = s_wtxn_lookup(t, key, &v);
    return rc ? rc : s_decode(v.mv_data, v.mv_size, out);
}

int store_wtxn_rev_of(store_wtxn_t *t, const char *key, uint64_t *rv)
{
    MDB_val v;
    json_t *obj = NULL;
    *rv = 0;
    int rc = s_wtxn_lookup(t, key, &v);
    if (rc || store_mp_rv(v.mv_data, v.mv_size, rv))
        return rc;
    rc = s_decode(v.mv_data, v.mv_size, &obj);
    if (!rc)
        *rv = proto_obj_rv(obj);
    json_decref(obj);
    return rc;
}

int store_wtxn_event_bytes(store_wtxn_t *t, size_t i, const void **buf, size_t *len)
{
    if (!t || !t->events || i >= json_array_size(t->events))
        return PROTO_ENOTFOUND;
    *buf = t->arena + t->evb[2 * i];
    *len = t->evb[2 * i + 1];
    return 0;
}

const json_t *store_wtxn_events(store_wtxn_t *t)
{
    return t->events;
}

/* Writes meta name=value (bytes go through the arena for replay). */
static int s_meta_write(store_wtxn_t *t, const char *name, const char *value)
{
    s_jent_t j = {.dbi = t->s->meta, .klen = strlen(name), .vlen = strlen(value)};
    j.koff = s_arena_add(t, name, j.klen);
    j.voff = s_arena_add(t, value, j.vlen);
    return s_write(t, &j);
}

typedef struct s_meta_op {
    const char *name, *value;
} s_meta_op_t;

static int s_meta_fn(store_wtxn_t *t, void *ctx)
{
    s_meta_op_t *m = ctx;
    return s_meta_write(t, m->name, m->value);
}

static int s_rev_fn(store_wtxn_t *t, void *ctx)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, t->rev);
    return s_meta_write(t, "rev", buf);
}

/* Commits t; the data pages are synced by LMDB, the meta page is written
 * but not synced (NOMETASYNC), which makes the previous commit durable. */
static int s_commit(store_wtxn_t **tp)
{
    if (!tp || !*tp)
        return -EINVAL;
    store_wtxn_t *t = *tp;
    store_t *s = t->s;
    *tp = NULL;
    int rc = t->broken;
    if (!rc && t->rev == t->base_rev && !t->dirty) {
        s_wtxn_end(t); /* nothing written: no fsync */
        return 0;
    }
    if (!rc && t->rev != t->base_rev)
        rc = s_run(t, s_rev_fn, NULL);
    while (!rc) {
        rc = mdb_txn_commit(t->txn);
        t->txn = NULL; /* freed by commit, success or not */
        if (rc != MDB_MAP_FULL)
            break;
        rc = s_regrow(t);
    }
    rc = s_err(rc);
    if (!rc) { /* this data sync made the commits before durable */
        uint64_t c = atomic_load(&s->commits);
        s_at_least(&s->durable, s->opts.no_sync ? t->rev : t->base_rev);
        atomic_store(&s->rev, t->rev);
        atomic_store(&s->commits, c + 1);
        s_at_least(&s->synced, s->opts.no_sync ? c + 1 : c);
    }
    s_wtxn_end(t);
    return rc;
}

/* ---- pipelined commits: handing over, the committer, waiting ---- */

/* A set for the next hand-over: a pruned one (its buffers kept) or new. */
static s_wset_t *s_wset_get(store_t *s)
{
    s_wset_t *w = s->pool;
    if (w)
        s->pool = w->inext;
    else
        w = s_xrealloc(NULL, sizeof *w), memset(w, 0, sizeof *w);
    w->qnext = w->inext = NULL;
    atomic_store(&w->done, false);
    return w;
}

static void s_wset_free(s_wset_t *w)
{
    free(w->jents);
    free(w->arena);
    free(w->tab.slot);
    free(w);
}

/* Drops the sets the committer is done with from the writer's reads (the
 * LMDB snapshot of any later read holds them). The writer's thread, at
 * begin. */
/* Adds the objects set w wrote to the writer's index (newest wins), or
 * drops those still indexed as w's. */
static void s_oidx_index(store_t *s, s_wset_t *w, bool add)
{
    for (size_t i = 0; i < w->njents; i++) {
        const s_jent_t *j = &w->jents[i];
        if (j->dbi != s->objects)
            continue;
        const char *key = w->arena + j->koff;
        if (add)
            s_oidx_put(&s->oidx, (s_oref_t){w, (uint32_t)i, (uint32_t)s_hash(key, j->klen)});
        else
            s_oidx_drop(&s->oidx, w, key, j->klen);
    }
}

static void s_prune(store_t *s)
{
    uint64_t cked = atomic_load(&s->cked);
    if (cked == s->pruned)
        return; /* nothing new checkpointed */
    pthread_rwlock_wrlock(&s->olock);
    for (s_wset_t **pp = &s->inflight; *pp;) {
        s_wset_t *w = *pp;
        if (!atomic_load(&w->done)) {
            pp = &w->inext;
            continue;
        }
        *pp = w->inext;
        s_oidx_index(s, w, false);
        s_otab_clear(&w->tab);
        w->njents = w->alen = 0;
        w->inext = s->pool;
        s->pool = w;
    }
    pthread_rwlock_unlock(&s->olock);
    s->pruned = cked;
}

/* Hands t's journal to the committer; t ends. */
static int s_hand_over(store_wtxn_t *t)
{
    store_t *s = t->s;
    int rc = t->broken ? t->broken : atomic_load(&s->failed);
    if (!rc && t->rev == t->base_rev && !t->dirty) {
        s_wtxn_end(t); /* nothing written */
        return 0;
    }
    if (!rc && t->rev != t->base_rev)
        rc = s_run(t, s_rev_fn, NULL);
    if (rc) {
        s_wtxn_end(t);
        return rc;
    }
    s_wset_t *w = s_wset_get(s);
    /* the journal moves to the set; the set's old buffers to t */
    s_jent_t *jents = w->jents;
    size_t capjents = w->capjents;
    char *arena = w->arena;
    size_t acap = w->acap;
    s_otab_t tab = w->tab;
    w->jents = t->jents, w->njents = t->njents, w->capjents = t->capjents;
    w->arena = t->arena, w->alen = t->alen, w->acap = t->acap;
    w->tab = t->tab;
    w->rev = t->rev;
    t->jents = jents, t->capjents = capjents, t->njents = 0;
    t->arena = arena, t->acap = acap, t->alen = 0;
    t->tab = tab;
    w->no = atomic_load(&s->handed) + 1;
    s_oidx_index(s, w, true);
    pthread_rwlock_wrlock(&s->olock);
    w->inext = s->inflight;
    s->inflight = w;
    pthread_rwlock_unlock(&s->olock);
    atomic_store(&s->handed, w->no);
    atomic_store(&s->rev, w->rev);
    pthread_mutex_lock(&s->qmu);
    if (s->qtail)
        s->qtail->qnext = w;
    else
        s->qhead = w;
    s->qtail = w;
    pthread_cond_signal(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    s_wtxn_end(t);
    return 0;
}

/* Applies the chain of sets from first in one LMDB transaction, with the
 * checkpoint's log seq, and commits it (data synced, meta written); grows
 * the map when it fills up. */
static int s_commit_sets(store_t *s, s_wset_t *first, uint64_t walseq)
{
    int rc = 0;
    char sq[24];
    snprintf(sq, sizeof sq, "%" PRIu64, walseq);
    pthread_rwlock_rdlock(&s->maplock);
    for (int tries = 0;; tries++) {
        MDB_txn *txn = NULL;
        rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        for (s_wset_t *w = first; !rc && w; w = w->qnext)
            for (size_t i = 0; !rc && i < w->njents; i++) {
                rc = s_apply_to(txn, w->arena, &w->jents[i]);
                if (rc == MDB_NOTFOUND && w->jents[i].del)
                    rc = 0;
            }
        if (!rc && walseq) {
            MDB_val k = {6, "walseq"}, v = {strlen(sq), sq};
            rc = mdb_put(txn, s->meta, &k, &v, 0);
        }
        if (!rc) {
            rc = mdb_txn_commit(txn);
            txn = NULL;
        }
        if (txn)
            mdb_txn_abort(txn);
        if (rc != MDB_MAP_FULL || tries >= S_GROW_TRIES)
            break;
        size_t want = s->map_size * 2;
        pthread_rwlock_unlock(&s->maplock);
        pthread_rwlock_wrlock(&s->maplock);
        rc = want > S_MAX_MAP ? MDB_MAP_FULL : mdb_env_set_mapsize(s->env, want);
        if (!rc)
            s->map_size = want;
        pthread_rwlock_unlock(&s->maplock);
        pthread_rwlock_rdlock(&s->maplock);
        if (rc)
            break;
    }
    pthread_rwlock_unlock(&s->maplock);
    return s_err(rc);
}

static void s_fail(store_t *s, int rc)
{
    int none = 0;
    atomic_compare_exchange_strong(&s->failed, &none, rc);
}

/* The chain's writes as one record payload in s->wbuf (see S_WENT). */
static size_t s_record(store_t *s, s_wset_t *first)
{
    size_t need = 0;
    for (s_wset_t *w = first; w; w = w->qnext)
        for (size_t i = 0; i < w->njents; i++)
            need += S_WENT + w->jents[i].klen + (w->jents[i].del ? 0 : w->jents[i].vlen);
    if (s->wcap < need) {
        s->wcap = need;
        s->wbuf = s_xrealloc(s->wbuf, need);
    }
    unsigned char *p = s->wbuf;
    for (s_wset_t *w = first; w; w = w->qnext)
        for (size_t i = 0; i < w->njents; i++) {
            const s_jent_t *j = &w->jents[i];
            size_t vlen = j->del ? 0 : j->vlen;
            p[0] = (unsigned char)s_db_index(s, j->dbi);
            p[1] = j->del;
            p[2] = p[3] = 0;
            wal_put32(p + 4, j->flags);
            wal_put32(p + 8, (uint32_t)j->klen);
            wal_put32(p + 12, (uint32_t)vlen);
            memcpy(p + S_WENT, w->arena + j->koff, j->klen);
            if (vlen)
                memcpy(p + S_WENT + j->klen, w->arena + j->voff, vlen);
            p += S_WENT + j->klen + vlen;
        }
    return need;
}

static void s_deadline(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

/* Has the checkpointer run now until *done reaches want (qmu held). */
static int s_ck_until(store_t *s, const _Atomic uint64_t *done, uint64_t want)
{
    while (atomic_load(done) < want && !atomic_load(&s->failed)) {
        s->ckforce = true;
        pthread_cond_signal(&s->ckcv);
        pthread_cond_wait(&s->dcv, &s->qmu);
    }
    return atomic_load(&s->failed);
}

/*
 * The committer: takes every set waiting, writes them as one record of the
 * write-ahead log and syncs it (one sequential fdatasync: they are durable
 * now, and plain reads see them), then passes them to the checkpointer,
 * which takes them into LMDB every S_CK_MS. LMDB's own commit writes pages
 * all over its file and syncs twice; once per checkpoint, not per group.
 */
static void *s_committer(void *arg)
{
    store_t *s = arg;
    pthread_mutex_lock(&s->qmu);
    for (;;) {
        while (!s->qhead && !s->qstop)
            pthread_cond_wait(&s->qcv, &s->qmu);
        if (!s->qhead)
            break; /* stopping, nothing left */
        s_wset_t *first = s->qhead, *last = s->qtail;
        s->qhead = s->qtail = NULL;
        int rc = atomic_load(&s->failed);
        size_t len = 0;
        uint64_t other;
        if (!rc) {
            pthread_mutex_unlock(&s->qmu);
            len = s_record(s, first);
            pthread_mutex_lock(&s->qmu);
            /* the other file is reused only once all it holds is in LMDB */
            if (wal_needs_switch(s->wal, len, &other))
                rc = s_ck_until(s, &s->ckseq, other);
        }
        pthread_mutex_unlock(&s->qmu);
        uint64_t seq = s->walseq + 1;
        if (!rc)
            rc = wal_append(s->wal, seq, s->wbuf, len);
        if (rc) {
            s_fail(s, rc);
        } else {
            s->walseq = seq;
            for (s_wset_t *w = first; w; w = w->qnext) {
                w->seq = seq;
                atomic_store(&w->logged, true);
            }
            s_at_least(&s->durable, last->rev);
        }
        pthread_mutex_lock(&s->qmu);
        if (!s->ckhead)
            s_deadline(&s->ckdue, s->opts.ck_ms);
        if (s->cktail)
            s->cktail->qnext = first;
        else
            s->ckhead = first;
        s->cktail = last;
        s->ckbytes += len;
        pthread_cond_signal(&s->ckcv);
        pthread_cond_broadcast(&s->dcv);
        uint64_t one = 1;
        /* an eventfd: a write fails only when its count is full, and then
         * it is readable already */
        if (s->notify_fd >= 0)
            (void)!write(s->notify_fd, &one, sizeof one);
    }
    pthread_mutex_unlock(&s->qmu);
    return NULL;
}

/* The checkpointer: every S_CK_MS (sooner when forced, or when much is
 * waiting), the logged sets as one LMDB transaction, synced; then they
 * may be pruned, and their log records overwritten. */
static void *s_checkpointer(void *arg)
{
    store_t *s = arg;
    pthread_mutex_lock(&s->qmu);
    for (;;) {
        while (!s->ckhead && !s->ckstop)
            pthread_cond_wait(&s->ckcv, &s->qmu);
        if (!s->ckhead)
            break;
        while (!s->ckforce && !s->ckstop && s->ckbytes < S_CK_BYTES &&
               pthread_cond_timedwait(&s->ckcv, &s->qmu, &s->ckdue) != ETIMEDOUT)
            ;
        s_wset_t *first = s->ckhead;
        /* read before the sets are done: the writer may reuse them then */
        uint64_t seq = s->cktail->seq, no = s->cktail->no;
        s->ckhead = s->cktail = NULL;
        s->ckbytes = 0;
        s->ckforce = false;
        pthread_mutex_unlock(&s->qmu);
        int rc = atomic_load(&s->failed);
        if (!rc)
            rc = s_commit_sets(s, first, seq);
        if (!rc && !s->opts.no_sync)
            rc = s_err(mdb_env_sync(s->env, 1));
        if (rc)
            s_fail(s, rc);
        for (s_wset_t *w = first, *next; w; w = next) {
            next = w->qnext; /* the writer may reuse w once done */
            atomic_store(&w->done, true);
        }
        pthread_mutex_lock(&s->qmu);
        if (!rc)
            atomic_store(&s->ckseq, seq);
        atomic_store(&s->cked, no);
        pthread_cond_broadcast(&s->dcv);
    }
    pthread_mutex_unlock(&s->qmu);
    return NULL;
}

void store_set_notify(store_t *s, int fd)
{
    if (!s->committer_up)
        return;
    pthread_mutex_lock(&s->qmu);
    s->notify_fd = fd;
    pthread_mutex_unlock(&s->qmu);
}

int store_failed(store_t *s)
{
    return atomic_load(&s->failed);
}

bool store_pipelined(const store_t *s)
{
    return s->committer_up;
}

/* Waits until every set handed over is logged (durable). */
static int s_drain(store_t *s)
{
    uint64_t want = atomic_load(&s->rev);
    pthread_mutex_lock(&s->qmu);
    while (atomic_load(&s->durable) < want && !atomic_load(&s->failed))
        pthread_cond_wait(&s->dcv, &s->qmu);
    pthread_mutex_unlock(&s->qmu);
    return atomic_load(&s->failed);
}

/* Waits until every set handed over is in LMDB, checkpointing now. */
static int s_drain_ck(store_t *s)
{
    if (!s->committer_up)
        return 0;
    uint64_t want = atomic_load(&s->handed);
    if (atomic_load(&s->cked) >= want)
        return atomic_load(&s->failed);
    pthread_mutex_lock(&s->qmu);
    int rc = s_ck_until(s, &s->cked, want);
    pthread_mutex_unlock(&s->qmu);
    return rc;
}

static int s_pipeline_start(store_t *s)
{
    s->notify_fd = -1;
    pthread_mutex_init(&s->qmu, NULL);
    pthread_cond_init(&s->qcv, NULL);
    pthread_cond_init(&s->dcv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->ckcv, &ca);
    pthread_condattr_destroy(&ca);
    MDB_txn *txn;
    int rc = s_rbegin(s, &txn);
    if (!rc) { /* the log's records are all checkpointed (replayed at open) */
        rc = s_meta_u64(s, txn, "walseq", &s->walseq);
        s_rend(s, txn);
    }
    atomic_store(&s->ckseq, s->walseq);
    char err[256];
    if (!rc)
        rc = wal_open(&s->wal, s->dir, s->opts.no_sync, err, sizeof err);
    if (!rc)
        rc = -pthread_create(&s->ckthread, NULL, s_checkpointer, s);
    if (rc) {
        wal_close(&s->wal);
        return rc;
    }
    s->ck_up = true;
    rc = pthread_create(&s->committer, NULL, s_committer, s);
    if (rc)
        return -rc; /* s_pipeline_stop stops the checkpointer */
    s->committer_up = true;
    return 0;
}

static void s_pipeline_stop(store_t *s)
{
    if (!s->ck_up)
        return;
    pthread_mutex_lock(&s->qmu);
    s->qstop = true;
    pthread_cond_signal(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    if (s->committer_up)
        pthread_join(s->committer, NULL); /* it logs what was handed over */
    pthread_mutex_lock(&s->qmu);
    s->ckstop = true;
    pthread_cond_signal(&s->ckcv);
    pthread_mutex_unlock(&s->qmu);
    pthread_join(s->ckthread, NULL); /* and that reaches LMDB */
    s->committer_up = s->ck_up = false;
    wal_close(&s->wal);
    free(s->wbuf);
    for (s_wset_t *w = s->inflight, *next; w; w = next) {
        next = w->inext;
        s_wset_free(w);
    }
    for (s_wset_t *w = s->pool, *next; w; w = next) {
        next = w->inext;
        s_wset_free(w);
    }
    s->inflight = s->pool = NULL;
    free(s->oidx.slot);
    s->oidx = (s_oidx_t){NULL, 0, 0};
    if (s->rtxn)
        mdb_txn_abort(s->rtxn);
    s->rtxn = NULL;
    pthread_cond_destroy(&s->ckcv);
    pthread_cond_destroy(&s->dcv);
    pthread_cond_destroy(&s->qcv);
    pthread_mutex_destroy(&s->qmu);
}

int store_wtxn_commit(store_wtxn_t **tp)
{
    store_t *s = tp && *tp ? (*tp)->s : NULL;
    if (s && (*tp)->virt) {
        int rc = s_hand_over(*tp);
        *tp = NULL;
        return rc ? rc : s_drain(s);
    }
    int rc = s_commit(tp);
    return rc ? rc : s_sync_lmdb(s);
}

int store_wtxn_commit_nowait(store_wtxn_t **tp)
{
    if (tp && *tp && (*tp)->virt) {
        int rc = s_hand_over(*tp);
        *tp = NULL;
        return rc;
    }
    return s_commit(tp);
}

/* ---- put and delete ---- */

/*
 * Packs the log value {type, key, object} into the arena. *voff is where the
 * value starts; the object's own bytes (what `objects` stores) are at
 * *ooff, *olen.
 */
static int s_pack_log(store_wtxn_t *t, store_evtype_t type, const char *key, size_t klen,
                      const json_t *obj, size_t *voff, size_t *ooff, size_t *olen)
{
    const char *tn = store_evtype_name(type);
    /* written straight into the arena, which the writer takes over */
    proto_mp_wbuf_t b = {t->arena, t->alen, t->acap};
    *voff = b.len;
    proto_mp_w_map(&b, 3);
    proto_mp_w_str(&b, "type", 4);
    proto_mp_w_str(&b, tn, (uint32_t)strlen(tn));
    proto_mp_w_str(&b, "key", 3);
    proto_mp_w_str(&b, key, (uint32_t)klen); /* keys are short: s_key_ok */
    proto_mp_w_str(&b, "object", 6);
    *ooff = b.len;
    int rc = proto_mp_pack_wbuf(&b, obj, 1);
    t->arena = b.data;
    t->alen = b.len;
    t->acap = b.cap;
    if (rc)
        return rc;
    *olen = t->alen - *ooff;
    return *olen > PROTO_MAX_MSG ? PROTO_ETOOLARGE : 0;
}

/* Appends the log entry of revision rev (value already in the arena). */
static int s_write_log(store_wtxn_t *t, uint64_t rev, size_t voff, size_t vlen)
{
    unsigned char kb[8];
    s_be64(rev, kb);
    s_jent_t j = {.dbi = t->s->log, .flags = MDB_APPEND, .voff = voff, .vlen = vlen, .klen = 8};
    j.koff = s_arena_add(t, kb, 8);
    return s_write(t, &j);
}

/* Appends an event (obj stolen). Keys are checked ASCII (s_key_ok), so
 * only memory can fail here. */
static void s_add_event(store_wtxn_t *t, store_evtype_t type, const char *key, uint64_t rev,
                        json_t *obj, size_t ooff, size_t olen)
{
    size_t i = json_array_size(t->events);
    if (2 * i + 2 > t->capevb) {
        t->capevb = t->capevb ? t->capevb * 2 : 512;
        t->evb = s_xrealloc(t->evb, t->capevb * sizeof *t->evb);
    }
    t->evb[2 * i] = ooff;
    t->evb[2 * i + 1] = olen;
    /* {type, key, rev, object}, built directly: json_pack parses its format
     * on every call, once per write here */
    json_t *ev = json_object();
    const char *tn = store_evtype_name(type);
    if (!ev || json_object_set_new_nocheck(ev, "type", json_string_nocheck(tn)) ||
        json_object_set_new_nocheck(ev, "key", json_string_nocheck(key)) ||
        json_object_set_new_nocheck(ev, "rev", json_integer((json_int_t)rev)) ||
        json_object_set_new_nocheck(ev, "object", obj)) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    json_array_append_new(t->events, ev);
}

/* Reads the current object at key (NULL when absent) and checks the
 * preconditions. */
static int s_precheck(store_wtxn_t *t, const char *key, size_t klen, uint64_t expect_rev,
                      bool need_obj, bool *exists, json_t **cur)
{
    MDB_val v;
    *cur = NULL;
    int rc = s_obj_get(t, key, klen, &v);
    if (rc && rc != MDB_NOTFOUND)
        return s_err(rc);
    *exists = rc == 0;
    if (!*exists)
        return expect_rev ? PROTO_ENOTFOUND : 0;
    if (!expect_rev && !need_obj)
        return 0;
    uint64_t rv;
    if (!need_obj && store_mp_rv(v.mv_data, v.mv_size, &rv))
        return rv == expect_rev ? 0 : PROTO_ECONFLICT;
    rc = s_decode(v.mv_data, v.mv_size, cur);
    if (rc)
        return rc;
    if (expect_rev && proto_obj_rv(*cur) != expect_rev) {
        json_decref(*cur);
        *cur = NULL;
        return PROTO_ECONFLICT;
    }
    return 0;
}

/* Sets metadata.resourceVersion; *old gets the previous value to restore. */
static int s_set_rv(json_t *obj, uint64_t rev, json_t **old)
{
    json_t *md = json_object_get(obj, "metadata");
    *old = NULL;
    if (md && !json_is_object(md))
        return PROTO_EINVALID;
    if (md)
        *old = json_incref(json_object_get(md, "resourceVersion"));
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, rev);
    return proto_obj_set_str(obj, "metadata.resourceVersion", buf) ? PROTO_EINVALID : 0;
}

static void s_restore_rv(json_t *obj, json_t *old)
{
    if (old)
        proto_obj_set(obj, "metadata.resourceVersion", old);
    else
        proto_obj_del(obj, "metadata.resourceVersion");
}

typedef struct s_put_op {
    const char *key;
    size_t klen;
    json_t *obj;
    uint64_t expect_rev;
    bool must_create;
} s_put_op_t;

/* Writes obj at revision rev into both databases and the events. */
static int s_put_write(store_wtxn_t *t, const s_put_op_t *p, store_evtype_t type, uint64_t rev)
{
    size_t voff, ooff, olen;
    int rc = s_pack_log(t, type, p->key, p->klen, p->obj, &voff, &ooff, &olen);
    if (rc)
        return rc;
    /* Event and revision first: from here on only LMDB can fail, and s_run
     * rolls both back then. The event shares the caller's tree (see
     * store_wtxn_put in store.h): a deep copy costs more than the put. */
    s_add_event(t, type, p->key, rev, json_incref(p->obj), ooff, olen);
    t->rev = rev;
    s_jent_t j = {.dbi = t->s->objects, .voff = ooff, .vlen = olen, .klen = p->klen};
    j.koff = s_arena_add(t, p->key, p->klen);
    rc = s_write(t, &j);
    return rc ? rc : s_write_log(t, rev, voff, ooff + olen - voff);
}

static int s_put_fn(store_wtxn_t *t, void *ctx)
{
    s_put_op_t *p = ctx;
    bool exists;
    json_t *cur, *old;
    int rc = s_precheck(t, p->key, p->klen, p->expect_rev, false, &exists, &cur);
    json_decref(cur);
    if (rc)
        return rc;
    if (exists && p->must_create)
        return PROTO_EEXISTS;
    uint64_t rev = t->rev + 1;
    rc = s_set_rv(p->obj, rev, &old);
    if (!rc)
        rc = s_put_write(t, p, exists ? STORE_MODIFIED : STORE_ADDED, rev);
    if (s_is_zk_code(rc)) /* refused: the caller's tree as it was */
        s_restore_rv(p->obj, json_incref(old));
    json_decref(old);
    return rc;
}

int store_wtxn_put(store_wtxn_t *t, const char *key, json_t *obj, uint64_t expect_rev,
                   bool must_create, uint64_t *rev_out)
{
    s_put_op_t p = {key, 0, obj, expect_rev, must_create};
    if (!t || !json_is_object(obj) || !s_key_ok(t->s, key, &p.klen))
        return PROTO_EINVALID;
    int rc = s_run(t, s_put_fn, &p);
    if (!rc && rev_out)
        *rev_out = t->rev;
    return rc;
}

typedef struct s_del_op {
    const char *key;
    size_t klen;
    uint64_t expect_rev;
    json_t *last;
} s_del_op_t;

static int s_del_fn(store_wtxn_t *t, void *ctx)
{
    s_del_op_t *d = ctx;
    bool exists;
    json_decref(d->last); /* from an attempt before a map resize */
    d->last = NULL;
    int rc = s_precheck(t, d->key, d->klen, d->expect_rev, true, &exists, &d->last);
    if (rc)
        return rc;
    if (!exists)
        return PROTO_ENOTFOUND;
    uint64_t rev = t->rev + 1;
    json_t *old;
    size_t voff, ooff, olen;
    rc = s_set_rv(d->last, rev, &old);
    json_decref(old);
    if (!rc)
        rc = s_pack_log(t, STORE_DELETED, d->key, d->klen, d->last, &voff, &ooff, &olen);
    if (rc)
        return rc;
    s_add_event(t, STORE_DELETED, d->key, rev, json_incref(d->last), ooff, olen);
    t->rev = rev;
    s_jent_t j = {.dbi = t->s->objects, .del = true, .klen = d->klen};
    j.koff = s_arena_add(t, d->key, d->klen);
    rc = s_write(t, &j);
    return rc ? rc : s_write_log(t, rev, voff, ooff + olen - voff);
}

int store_wtxn_del(store_wtxn_t *t, const char *key, uint64_t expect_rev, json_t **last,
                   uint64_t *rev_out)
{
    s_del_op_t d = {key, 0, expect_rev, NULL};
    if (last)
        *last = NULL;
    if (!t || !s_key_ok(t->s, key, &d.klen))
        return PROTO_EINVALID;
    int rc = s_run(t, s_del_fn, &d);
    if (!rc && rev_out)
        *rev_out = t->rev;
    if (!rc && last) /* a copy: the event keeps the original */
        *last = json_deep_copy(d.last);
    json_decref(d.last);
    return rc;
}

/* ---- compaction ---- */

typedef struct s_compact_op {
    uint64_t from, upto;
} s_compact_op_t;

/* Revisions are gapless, so the log entries to drop are exactly
 * from..upto. */
static int s_compact_fn(store_wtxn_t *t, void *ctx)
{
    s_compact_op_t *c = ctx;
    unsigned char kb[8];
    for (uint64_t r = c->from; r <= c->upto; r++) {
        s_be64(r, kb);
        s_jent_t j = {.dbi = t->s->log, .del = true, .klen = 8};
        j.koff = s_arena_add(t, kb, 8);
        int rc = s_write(t, &j);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, c->upto);
    return s_meta_write(t, "compacted", buf);
}

/* One compaction transaction of at most S_COMPACT_CHUNK deletions; *done
 * when nothing is left to drop. */
static int s_compact_step(store_t *s, uint64_t keep, bool *done)
{
    store_wtxn_t *t;
    int rc = s_wtxn_begin(s, &t, true);
    if (rc)
        return rc;
    uint64_t rev = t->base_rev, comp = atomic_load(&s->compacted);
    uint64_t target = rev > keep ? rev - keep : 0;
    *done = target <= comp;
    if (*done) {
        store_wtxn_abort(&t);
        return 0;
    }
    s_compact_op_t c = {comp + 1, target};
    if (c.upto - comp > S_COMPACT_CHUNK)
        c.upto = comp + S_COMPACT_CHUNK;
    rc = s_run(t, s_compact_fn, &c);
    t->dirty = true;
    if (rc) {
        store_wtxn_abort(&t);
        return rc;
    }
    rc = store_wtxn_commit(&t);
    if (!rc)
        atomic_store(&s->compacted, c.upto);
    return rc;
}

int store_compact(store_t *s, uint64_t keep)
{
    if (!keep)
        keep = s->opts.keep_revs;
    bool done = false;
    int rc = 0;
    while (!rc && !done)
        rc = s_compact_step(s, keep, &done);
    return rc;
}

/* ---- metadata ---- */

static bool s_meta_reserved(const char *name)
{
    return !strcmp(name, "rev") || !strcmp(name, "compacted") || !strcmp(name, "walseq");
}

int store_meta_set(store_t *s, const char *name, const char *value)
{
    if (!name || !*name || !value || strlen(name) > S_META_NAME_MAX ||
        strlen(value) > S_META_VALUE_MAX || s_meta_reserved(name))
        return PROTO_EINVALID;
    store_wtxn_t *t;
    int rc = s_wtxn_begin(s, &t, true);
    if (rc)
        return rc;
    s_meta_op_t m = {name, value};
    rc = s_run(t, s_meta_fn, &m);
    t->dirty = true;
    if (rc) {
        store_wtxn_abort(&t);
        return rc;
    }
    return store_wtxn_commit(&t);
}

int store_meta_get(store_t *s, const char *name, char *buf, size_t n)
{
    if (!name || !*name || strlen(name) > S_META_NAME_MAX || !buf || !n)
        return PROTO_EINVALID;
    MDB_txn *txn;
    int rc = s_drain_ck(s);
    if (!rc)
        rc = s_rbegin(s, &txn);
    if (rc)
        return rc;
    MDB_val k = {strlen(name), (void *)name}, v;
    rc = s_err(mdb_get(txn, s->meta, &k, &v));
    if (!rc && v.mv_size >= n)
        rc = -ERANGE;
    if (!rc) {
        memcpy(buf, v.mv_data, v.mv_size);
        buf[v.mv_size] = 0;
    }
    s_rend(s, txn);
    return rc;
}
