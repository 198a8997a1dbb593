/*
 * broker — routes requests to services, fans out events, mirrors all
 * traffic to the tap. Holds no state that matters: killed and restarted, it
 * comes back empty and every actor re-registers by itself.
 *
 * Sockets (endpoints from runtime/config rt_endpoints_from):
 *   router  ROUTER  requests/replies, Majordomo-style service registry with
 *                   heartbeats both ways; requests for a service with no live
 *                   worker wait up to their deadline, then get 503
 *   pub     XSUB    actors publish events here
 *   sub     XPUB    actors subscribe here (prefix filtering at the broker)
 *   tap     PUB     mirror of every message: [dir][peer][frames...] with
 *                   dir "in"/"out"/"evt"; never blocks, drops are counted
 * The broker serves the service "broker" itself: op "status" returns peers
 * (id, services, msgs/bytes in/out, last seen) and tap drop counts.
 */
#ifndef ZK_BROKER_BROKER_H
#define ZK_BROKER_BROKER_H

#include "runtime/config.h"

/* Runs the broker for cfg until SIGTERM/SIGINT. 0, or -errno if an
 * endpoint cannot be bound (reason logged). */
int broker_run(const rt_config_t *cfg);

/* `zkube broker` entry point. */
int broker_main(int argc, char **argv);

#endif
