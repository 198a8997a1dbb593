/*
 * actors/apiserver — validates, defaults, stores and serves every object;
 * publishes one event per committed change. The only actor with durable
 * state (store/). Protocol: docs/architecture.md "The apiserver protocol".
 */
#ifndef ZK_ACTORS_APISERVER_H
#define ZK_ACTORS_APISERVER_H

/* `zkube apiserver [--data DIR] [--compact-keep N]` */
int apisrv_main(int argc, char **argv);

#endif
