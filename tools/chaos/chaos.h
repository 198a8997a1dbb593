/*
 * tools/chaos — fault injection by killing actors: `zkube kill` (one actor,
 * any signal) and `zkube chaos` (random actors on a seeded schedule).
 * Actors are found by id in $ZKUBE_HOME/run/actors.json and signalled by
 * their PID — never by name.
 */
#ifndef ZK_TOOLS_CHAOS_H
#define ZK_TOOLS_CHAOS_H

#include <stdint.h>

/* `zkube kill ACTOR [--signal KILL|TERM|STOP|CONT|INT|HUP]` */
int chaos_kill_main(int argc, char **argv);
/* `zkube chaos --duration D --interval I --seed S [--actors GLOB]` */
int chaos_main(int argc, char **argv);

/* The PRNG of the schedule (splitmix64): the same seed gives the same
 * sequence on every machine. */
uint64_t chaos_next(uint64_t *state);

#endif
