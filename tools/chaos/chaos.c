/*
 * tools/chaos — `zkube kill` and `zkube chaos`: real signals to actor
 * processes found by id in the supervisor's run/actors.json.
 */
#include "tools/chaos/chaos.h"

#include <fnmatch.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/obj.h"
#include "runtime/config.h"

static const struct {
    const char *name;
    int sig;
} s_sigs[] = {{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},
              {"CONT", SIGCONT}, {"INT", SIGINT},   {"HUP", SIGHUP}};

static int s_signal(const char *name)
{
    if (!strncasecmp(name, "SIG", 3))
        name += 3;
    for (size_t i = 0; i < sizeof s_sigs / sizeof s_sigs[0]; i++)
        if (!strcasecmp(name, s_sigs[i].name))
            return s_sigs[i].sig;
    char *end;
    long n = strtol(name, &end, 10);
    return *end || n <= 0 || n >= 65 ? -1 : (int)n;
}

/* The supervisor's actor table ([{id, pid, ...}]), or NULL with a message. */
static json_t *s_actors(const char *cmd)
{
    rt_config_t cfg;
    char err[256], path[4200];
    if (rt_config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "zkube %s: %s\n", cmd, err);
        return NULL;
    }
    json_error_t je;
    json_t *a = json_load_file(rt_path(&cfg, "run/actors.json", path, sizeof path), 0, &je);
    if (!json_is_array(a)) {
        fprintf(stderr, "zkube %s: no running cluster in %s (%s)\n", cmd, cfg.home, je.text);
        json_decref(a);
        return NULL;
    }
    return a;
}

static pid_t s_pid_of(const json_t *actors, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(actors, i, a) {
        const char *aid = json_string_value(json_object_get(a, "id"));
        if (aid && !strcmp(aid, id))
            return (pid_t)json_integer_value(json_object_get(a, "pid"));
    }
    return -1;
}

int chaos_kill_main(int argc, char **argv)
{
    const char *id = NULL, *signame = "KILL";
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--signal") || !strcmp(argv[i], "-s")) && i + 1 < argc)
            signame = argv[++i];
        else if (argv[i][0] != '-' && !id)
            id = argv[i];
        else
            id = NULL, i = argc;
    }
    int sig = s_signal(signame);
    if (!id || sig < 0) {
        fprintf(stderr, "usage: zkube kill ACTOR [--signal KILL|TERM|STOP|CONT|INT|HUP]\n");
        return 2;
    }
    json_t *actors = s_actors("kill");
    if (!actors)
        return 1;
    pid_t pid = s_pid_of(actors, id);
    json_decref(actors);
    if (pid <= 0) {
        fprintf(stderr, "zkube kill: no running actor \"%s\" (see zkube status)\n", id);
        return 1;
    }
    if (kill(pid, sig) < 0) {
        perror("zkube kill");
        return 1;
    }
    printf("%s (pid %d): SIG%s\n", id, (int)pid, signame[0] == 'S' ? signame + 3 : signame);
    return 0;
}

uint64_t chaos_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double s_seconds(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    if (!strcmp(end, "ms"))
        return v / 1000;
    if (!strcmp(end, "m"))
        return v * 60;
    return !*end || !strcmp(end, "s") ? v : -1;
}

/* Sorted ids of the actors matching glob, so a seed picks the same ids. */
static size_t s_victims(const json_t *actors, const char *glob, const char **out, size_t max)
{
    size_t n = 0, i;
    json_t *a;
    json_array_foreach(actors, i, a) {
        const char *id = json_string_value(json_object_get(a, "id"));
        if (id && n < max && fnmatch(glob, id, 0) == 0)
            out[n++] = id;
    }
    for (size_t x = 1; x < n; x++)
        for (size_t y = x; y > 0 && strcmp(out[y - 1], out[y]) > 0; y--) {
            const char *t = out[y];
            out[y] = out[y - 1];
            out[y - 1] = t;
        }
    return n;
}

int chaos_main(int argc, char **argv)
{
    double duration = 60, interval = 2;
    uint64_t seed = (uint64_t)time(NULL);
    const char *glob = "*";
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--duration") && v)
            duration = s_seconds(v), i++;
        else if (!strcmp(argv[i], "--interval") && v)
            interval = s_seconds(v), i++;
        else if (!strcmp(argv[i], "--seed") && v)
            seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(argv[i], "--actors") && v)
            glob = v, i++;
        else
            duration = -1, i = argc;
    }
    if (duration < 0 || interval <= 0 || duration > 24 * 3600) {
        fprintf(stderr, "usage: zkube chaos --duration D --interval I --seed S [--actors GLOB]\n"
                        "  D, I: seconds (10, 1.5s, 500ms, 2m)\n");
        return 2;
    }
    printf("chaos: seed %llu, every %.3gs for %.3gs, actors %s\n", (unsigned long long)seed,
           interval, duration, glob);
    uint64_t state = seed;
    int64_t start = proto_mono_ms();
    int rounds = (int)(duration / interval + 1e-9);
    for (int round = 1; round <= rounds; round++) {
        int64_t due = start + (int64_t)(round * interval * 1000);
        while (proto_mono_ms() < due)
            usleep(10000);
        json_t *actors = s_actors("chaos");
        if (!actors)
            return 1;
        const char *ids[256];
        size_t n = s_victims(actors, glob, ids, 256);
        if (n) {
            const char *id = ids[chaos_next(&state) % n];
            pid_t pid = s_pid_of(actors, id);
            if (pid > 0 && kill(pid, SIGKILL) == 0)
                printf("%8.3fs  killed %s (pid %d)\n", (proto_mono_ms() - start) / 1000.0, id,
                       (int)pid);
            else
                printf("%8.3fs  %s was not running\n", (proto_mono_ms() - start) / 1000.0, id);
            fflush(stdout);
        }
        json_decref(actors);
    }
    return 0;
}
