/*
 * store/wal.c — the write-ahead log of a pipelined store: two preallocated
 * files written in turn, one record per group of writes (see wal.h).
 */
#include "store/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define S_MAGIC 0x5a4b5731u /* "ZKW1" */
#define S_MAX_RECORD ((uint64_t)1 << 31)

struct store_wal {
    int fd[2];
    int cur;           /* the file written now */
    uint64_t off;      /* where the next record goes in it */
    uint64_t last[2];  /* highest seq each file holds (0: none) */
    bool no_sync;
    unsigned char *buf; /* header + payload of the record being written */
    size_t cap;
};

static void s_put64(unsigned char *p, uint64_t v)
{
    wal_put32(p, (uint32_t)v);
    wal_put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t s_get64(const unsigned char *p)
{
    return (uint64_t)wal_get32(p) | (uint64_t)wal_get32(p + 4) << 32;
}

/* CRC-32 of the header's length and seq (bytes 4..15) and the payload. */
static uint32_t s_crc(const unsigned char *hdr, const void *payload, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr + 4, 12);
    const unsigned char *p = payload;
    while (len > 0) { /* crc32 takes a uInt length */
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}

static int s_path(char *out, size_t n, const char *dir, int i)
{
    return snprintf(out, n, "%s/wal.%d", dir, i) >= (int)n ? -ENAMETOOLONG : 0;
}

/*
 * A new file is written with zeros to its full size, once: the log then
 * only ever overwrites blocks that exist, so a record's fdatasync flushes
 * its data and no file system metadata (measured: about half the time of
 * an append or of a write into preallocated, unwritten blocks). A full
 * disk shows here, at open, not midway.
 */
static int s_fill(int fd, bool no_sync)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    if ((uint64_t)st.st_size >= WAL_FILE_MAX)
        return 0;
    static const char zeros[64 * 1024];
    for (uint64_t off = 0; off < WAL_FILE_MAX; off += sizeof zeros) {
        ssize_t n = pwrite(fd, zeros, sizeof zeros, (off_t)off);
        if (n < 0 && errno == EINTR) {
            off -= sizeof zeros;
            continue;
        }
        if (n != (ssize_t)sizeof zeros)
            return n < 0 ? -errno : -ENOSPC;
    }
    return no_sync || fdatasync(fd) == 0 ? 0 : -errno;
}

int wal_open(store_wal_t **out, const char *dir, bool no_sync, char *err, size_t errlen)
{
    *out = NULL;
    store_wal_t *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->fd[0] = w->fd[1] = -1;
    w->no_sync = no_sync;
    for (int i = 0; i < 2; i++) {
        char path[4096];
        int rc = s_path(path, sizeof path, dir, i);
        w->fd[i] = rc ? -1 : open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (w->fd[i] < 0) {
            rc = rc ? rc : -errno;
            snprintf(err, errlen, "store: %s: %s", path, strerror(-rc));
            wal_close(&w);
            return rc;
        }
        rc = s_fill(w->fd[i], no_sync);
        if (rc) {
            snprintf(err, errlen, "store: %s: %s", path, strerror(-rc));
            wal_close(&w);
            return rc;
        }
    }
    *out = w;
    return 0;
}

void wal_close(store_wal_t **wp)
{
    if (!wp || !*wp)
        return;
    store_wal_t *w = *wp;
    for (int i = 0; i < 2; i++)
        if (w->fd[i] >= 0)
            close(w->fd[i]);
    free(w->buf);
    free(w);
    *wp = NULL;
}

bool wal_needs_switch(const store_wal_t *w, size_t len, uint64_t *other_last)
{
    if (w->off == 0 || w->off + WAL_HEADER + len <= WAL_FILE_MAX)
        return false;
    *other_last = w->last[!w->cur];
    return true;
}

int wal_append(store_wal_t *w, uint64_t seq, const void *payload, size_t len)
{
    uint64_t other;
    if (len > S_MAX_RECORD)
        return -E2BIG;
    if (wal_needs_switch(w, len, &other)) {
        w->cur = !w->cur;
        w->off = 0;
        w->last[w->cur] = 0;
    }
    size_t need = WAL_HEADER + len;
    if (w->cap < need) {
        unsigned char *nb = realloc(w->buf, need);
        if (!nb)
            return -ENOMEM;
        w->buf = nb;
        w->cap = need;
    }
    unsigned char *h = w->buf;
    wal_put32(h, S_MAGIC);
    wal_put32(h + 4, (uint32_t)len);
    s_put64(h + 8, seq);
    memset(h + 16, 0, 8);
    memcpy(h + WAL_HEADER, payload, len);
    wal_put32(h + 16, s_crc(h, h + WAL_HEADER, len));
    int fd = w->fd[w->cur];
    for (size_t done = 0; done < need;) {
        ssize_t n = pwrite(fd, h + done, need - done, (off_t)(w->off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    if (!w->no_sync && fdatasync(fd) != 0)
        return -errno;
    w->off += need;
    w->last[w->cur] = seq;
    return 0;
}

/* ---- reading back ---- */

typedef struct s_rec {
    uint64_t seq;
    const unsigned char *payload;
    size_t len;
} s_rec_t;

static int s_read_all(const char *path, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    size_t size = (size_t)st.st_size;
    unsigned char *b = malloc(size ? size : 1);
    if (!b) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, b + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shorter than it said: what was read is all there is */
        got += (size_t)n;
    }
    close(fd);
    *buf = b;
    *len = got;
    return 0;
}

/* The run of valid, consecutive records from the start of one file. */
static int s_scan(const unsigned char *b, size_t n, s_rec_t **recs, size_t *nrec, size_t *cap)
{
    uint64_t prev = 0;
    for (size_t off = 0; n - off >= WAL_HEADER;) {
        const unsigned char *h = b + off;
        uint64_t len = wal_get32(h + 4), seq = s_get64(h + 8);
        if (wal_get32(h) != S_MAGIC || len > n - off - WAL_HEADER || seq == 0)
            break;
        if (prev && seq != prev + 1)
            break; /* stale: an earlier turn of this file */
        if (wal_get32(h + 16) != s_crc(h, h + WAL_HEADER, (size_t)len))
            break; /* torn */
        if (*nrec == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            s_rec_t *nr = realloc(*recs, nc * sizeof *nr);
            if (!nr)
                return -ENOMEM;
            *recs = nr;
            *cap = nc;
        }
        (*recs)[(*nrec)++] = (s_rec_t){seq, h + WAL_HEADER, (size_t)len};
        prev = seq;
        off += WAL_HEADER + (size_t)len;
    }
    return 0;
}

static int s_rec_cmp(const void *a, const void *b)
{
    uint64_t x = ((const s_rec_t *)a)->seq, y = ((const s_rec_t *)b)->seq;
    return x < y ? -1 : x > y;
}

int wal_replay(const char *dir, uint64_t after, wal_record_fn *fn, void *arg, uint64_t *last,
               uint64_t *seen, char *err, size_t errlen)
{
    unsigned char *buf[2] = {NULL, NULL};
    size_t len[2] = {0, 0}, nrec = 0, cap = 0;
    s_rec_t *recs = NULL;
    int rc = 0;
    *last = after;
    *seen = 0;
    for (int i = 0; i < 2 && !rc; i++) {
        char path[4096];
        rc = s_path(path, sizeof path, dir, i);
        if (!rc)
            rc = s_read_all(path, &buf[i], &len[i]);
        if (!rc)
            rc = s_scan(buf[i], len[i], &recs, &nrec, &cap);
        if (rc)
            snprintf(err, errlen, "store: %s: %s", path, strerror(-rc));
    }
    if (!rc && nrec) {
        qsort(recs, nrec, sizeof *recs, s_rec_cmp);
        *seen = recs[nrec - 1].seq;
    }
    for (size_t i = 0; !rc && i < nrec; i++) {
        if (recs[i].seq <= *last)
            continue; /* checkpointed already (or the same seq twice: stale) */
        if (recs[i].seq != *last + 1)
            break; /* a gap: what follows was never acknowledged */
        rc = fn(recs[i].seq, recs[i].payload, recs[i].len, arg);
        if (!rc)
            *last = recs[i].seq;
        else
            snprintf(err, errlen, "store: write-ahead log record %llu: cannot replay",
                     (unsigned long long)recs[i].seq);
    }
    free(recs);
    free(buf[0]);
    free(buf[1]);
    return rc;
}
