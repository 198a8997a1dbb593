/*
 * actors/apiserver/main.c — `zkube apiserver [--data DIR] [--compact-keep N]`:
 * reads the cluster's configuration and flags, then runs the server
 * (server.c) until SIGTERM.
 */
#include <malloc.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/apiserver/apiserver.h"
#include "runtime/config.h"
#include "runtime/log.h"

static int s_usage(void)
{
    fprintf(stderr, "usage: zkube apiserver [--data DIR] [--compact-keep N]\n");
    return 2;
}

int apisrv_main(int argc, char **argv)
{
    /* Large reply buffers (lists) come from mmap and grow by mremap: with a
     * dynamic threshold glibc would serve them from the heap, consolidating
     * the many small chunks of freed object trees on every growth. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    const char *data = NULL;
    uint64_t keep = 0;
    bool no_sync = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            data = argv[++i];
        } else if (!strcmp(argv[i], "--compact-keep") && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (errno || *end || v == 0 || v > (1ull << 40))
                return s_usage();
            keep = v;
        } else if (!strcmp(argv[i], "--unsafe-no-fsync")) {
            no_sync = true; /* tests only */
        } else {
            return s_usage();
        }
    }
    rt_log_init("apiserver");
    rt_config_t cfg;
    char err[256] = "", dir[PATH_MAX];
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube apiserver: %s\n", err);
        return 1;
    }
    rt_config_mkdirs(&cfg);
    if (!data)
        data = rt_path(&cfg, "data", dir, sizeof dir);
    return apisrv_run(&cfg, data, keep, no_sync) < 0 ? 1 : 0;
}
