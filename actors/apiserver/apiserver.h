/*
 * actors/apiserver — validates, defaults, stores and serves every object;
 * publishes one event per committed change. The only actor with durable
 * state (store/). Protocol: docs/architecture.md "The apiserver protocol".
 */
#ifndef ZK_ACTORS_APISERVER_H
#define ZK_ACTORS_APISERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/config.h"

/* `zkube apiserver [--data DIR] [--compact-keep N]` */
int apisrv_main(int argc, char **argv);

/*
 * Runs the apiserver for cfg with its store in data_dir, keeping keep_revs
 * revisions on compaction (0 = store default), until SIGTERM/SIGINT; then
 * finishes the batch, commits and closes the store. no_sync skips fsync
 * (tests only). 0, or a negative code when the store cannot be opened or
 * the broker cannot be reached (reason logged).
 */
int apisrv_run(const rt_config_t *cfg, const char *data_dir, uint64_t keep_revs, bool no_sync);

#endif
