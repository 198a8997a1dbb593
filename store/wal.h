/*
 * store/wal — the write-ahead log of a pipelined store (store.c).
 *
 * A record is one group of writes: a header {magic, payload length, seq,
 * CRC-32 of length, seq and payload} and the payload, appended and synced
 * with one fdatasync. Sequence numbers are consecutive. The log is two
 * preallocated files, wal.0 and wal.1, written in turn from their start:
 * the writer moves to the other file once the current one is full and
 * every record of the other one is checkpointed (in LMDB), so what is on
 * disk is always the records after the last checkpoint plus stale ones.
 *
 * Reading back (wal_replay) takes from each file the run of valid records
 * from its start whose seqs follow one another, and hands over, in order,
 * those after the checkpoint: seq after+1, after+2, ... up to the first
 * missing one. A torn or stale tail ends a run: a torn record fails its
 * CRC, a stale one has an older seq.
 */
#ifndef ZK_STORE_WAL_H
#define ZK_STORE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store_wal store_wal_t;

/* Little-endian integers, as the log's headers and the store's record
 * entries lay them out. */
static inline uint32_t wal_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wal_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

#define WAL_HEADER 24
#define WAL_FILE_MAX ((uint64_t)8 << 20) /* a file holds this much before the other is used */

/*
 * Opens dir/wal.0 and dir/wal.1 for writing (creating and preallocating
 * them). The next record is written at the start of wal.0; every record
 * now in the files must be at or below the checkpoint (wal_replay has run).
 * no_sync: no fdatasync (tests only).
 */
int wal_open(store_wal_t **out, const char *dir, bool no_sync, char *err, size_t errlen);
void wal_close(store_wal_t **w);

/*
 * Whether a record of len payload bytes starts the other file, and if so
 * the highest seq that file holds (it must be checkpointed first).
 */
bool wal_needs_switch(const store_wal_t *w, size_t len, uint64_t *other_last);

/* Appends the record seq (with the payload) and syncs it. Switches files
 * when wal_needs_switch said so. Returns 0 or -errno. */
int wal_append(store_wal_t *w, uint64_t seq, const void *payload, size_t len);

/* Visitor of wal_replay: one record's payload; non-zero stops the replay
 * and is returned. */
typedef int(wal_record_fn)(uint64_t seq, const void *payload, size_t len, void *arg);

/*
 * Hands fn the records after seq `after`, in order (see above); *last is
 * the last seq handed over (after when none), *seen the highest seq of any
 * valid record in the files (records past a gap are never replayed, but
 * the next seq written must be above them). Missing files are empty.
 * Returns 0, fn's code or -errno; err says which file or record.
 */
int wal_replay(const char *dir, uint64_t after, wal_record_fn *fn, void *arg, uint64_t *last,
               uint64_t *seen, char *err, size_t errlen);

#endif
