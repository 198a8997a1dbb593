/*
 * actors/kubelet/routes — host-gw routes between nodes' pod CIDRs. The
 * kubelet of a node watches all Nodes; for every other node that has a
 * spec.podCIDR inside the cluster's pod range and an InternalIP different
 * from this node's, it installs `ip route replace PODCIDR via INTERNALIP`
 * (tagged `proto 177` so that zkube's routes can be told apart), and removes
 * the route when the node disappears or changes. Single-host clusters (every
 * node on the same InternalIP) get no routes: their bridges are local.
 *
 * `ip` is run by fork/exec with an argument array, never through a shell.
 * One route table per process: the kubelet calls start once.
 */
#ifndef ZK_ACTORS_KUBELET_ROUTES_H
#define ZK_ACTORS_KUBELET_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/actor.h"

#define KUBELET_ROUTE_PROTO "177"

/*
 * Starts the nodes informer on actor a for node `node` (this kubelet's node
 * name). Routes only for pod CIDRs inside the private ranges 10/8,
 * 172.16/12 and 192.168/16 (use kubelet_routes_start_in to give the
 * cluster's own range, which is what the kubelet should do). Routes of
 * zkube's proto inside the range that no node wants any more (left by a
 * kubelet that was killed) are removed at the first sync.
 * 0, or -EALREADY / -ENOENT (no `ip` binary) / -errno with a reason in err.
 */
int kubelet_routes_start(rt_actor_t *a, const char *node, char *err, size_t errlen);
int kubelet_routes_start_in(rt_actor_t *a, const char *node, const char *cluster_cidr, char *err,
                            size_t errlen);

/* Removes every route this process installed and stops the informer
 * (call before rt_actor_destroy). Nothing happens when not started. */
void kubelet_routes_stop(void);

/*
 * Pure: the route another node wants. self_ip is this node's InternalIP
 * ("" when not known yet: then no route, since a node on our own address
 * would be routed to ourselves); self_cidr its spec.podCIDR (NULL if none).
 * Fills cidr (>= 20 bytes) and via (>= 16) and returns true when node is
 * not self, has spec.podCIDR inside cluster_cidr and not overlapping
 * self_cidr (a misconfigured node must not take over our own pods' route),
 * and an IPv4 InternalIP different from self_ip.
 */
bool kubelet_route_for(const json_t *node, const char *self, const char *self_ip,
                       const char *self_cidr, const char *cluster_cidr, char *cidr, char *via);

/* The node's InternalIP address (borrowed from node), or NULL. */
const char *kubelet_node_internal_ip(const json_t *node);

#endif
