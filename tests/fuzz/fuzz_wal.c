/*
 * tests/fuzz/fuzz_wal — libFuzzer target for the store's write-ahead log
 * reader (store/wal.c): any bytes as the log file replay without crashing,
 * and what is handed over is always the consecutive run after the
 * checkpoint, each payload inside the file.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/wal.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct f_state {
    uint64_t next;
    const uint8_t *lo, *hi;
} f_state_t;

static int f_visit(uint64_t seq, const void *payload, size_t len, void *arg)
{
    (void)payload;
    f_state_t *st = arg;
    if (seq != st->next++ || len > (size_t)(st->hi - st->lo))
        abort();
    return 0;
}

static char f_dir[64];

static void f_cleanup(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/wal.0", f_dir);
    unlink(path);
    rmdir(f_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!f_dir[0]) {
        /* in the working directory (the test runner's log directory),
         * one per fuzzing process */
        snprintf(f_dir, sizeof f_dir, "zk-fuzz-wal.%d", (int)getpid());
        if (mkdir(f_dir, 0700) != 0)
            abort();
        atexit(f_cleanup);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/wal.0", f_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    close(fd);
    /* the checkpoint: the first input byte, so runs that start past it
     * are exercised too */
    uint64_t after = size ? data[0] % 4 : 0, last = 0, seen = 0;
    f_state_t st = {after + 1, data, data + size};
    char err[256];
    int rc = wal_replay(f_dir, after, f_visit, &st, &last, &seen, err, sizeof err);
    if (rc || last + 1 != st.next || (last > after && seen < last))
        abort();
    return 0;
}
