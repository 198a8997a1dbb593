/*
 * runtime/supervisor — `zkube up|down|status`: starts the actors of this
 * host as separate processes under ZKUBE_HOME, restarts any that die (with
 * exponential back-off), stops them all on `zkube down`.
 *
 * State in $ZKUBE_HOME/run: supervisor.pid, actors.json (id, pid, started,
 * restarts, last exit reason), one log per actor in $ZKUBE_HOME/logs/ID.log.
 */
#ifndef ZK_RUNTIME_SUPERVISOR_H
#define ZK_RUNTIME_SUPERVISOR_H

#include <stdbool.h>

/* Tells the supervisor which `zkube` commands this binary has; actors whose
 * command is missing are left out of `zkube up`. Call before rt_sup_up. */
void rt_sup_set_commands(bool (*has)(const char *name));

/* `zkube up [--nodes N] [--detach] [--driver runc|process|hollow]
 * [--http-port PORT|none] [--spec FILE --host NAME]`: broker, apiserver,
 * gateway, scheduler, controllers, and N kubelets (node1..nodeN, default 2). */
int rt_sup_up(int argc, char **argv);
/* With --spec FILE --host NAME only NAME's actors of the cluster spec
 * (runtime/spec.h) start, pointed at its broker ($ZKUBE_HOME/config gets
 * broker= and curve_dir=); `curve: true` (or --curve on one host) generates
 * the CURVE keys in $ZKUBE_HOME/keys on the broker's host and requires them
 * on the others. Errors name the spec file and field. */

/* `zkube certs [--dir DIR]`: generates the cluster's CURVE keys (broker and
 * client pairs, Z85 text) in DIR (default $ZKUBE_HOME/keys), keeping any
 * that exist. 0, 1 on failure, 2 on a usage error. */
int rt_sup_certs(int argc, char **argv);

/* `zkube down`: SIGTERM to the supervisor, which stops its actors in reverse
 * order and waits for them; returns once everything has exited. */
int rt_sup_down(int argc, char **argv);
/* `zkube status`: one line per actor: ID PID UPTIME RESTARTS MSGS-IN MSGS-OUT. */
int rt_sup_status(int argc, char **argv);

#endif
