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
/* `zkube down`: SIGTERM to the supervisor, which stops its actors in reverse
 * order and waits for them; returns once everything has exited. */
int rt_sup_down(int argc, char **argv);
/* `zkube status`: one line per actor: ID PID UPTIME RESTARTS MSGS-IN MSGS-OUT. */
int rt_sup_status(int argc, char **argv);

#endif
