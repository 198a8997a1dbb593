/*
 * deploy/images/src/batch-job — the program of the book's luksa/batch-job
 * image: prints "<date> Batch job starting", works (sleeps) 120 seconds,
 * prints "<date> Finished succesfully" (the original's spelling) and exits 0.
 * <date> is formatted as date(1) prints it: "Thu Nov 27 06:00:00 UTC 2026".
 * SIGTERM ends it early with status 143, as a killed job, never as success.
 */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop;

static void s_on_term(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_say(const char *what)
{
    char buf[64];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Z %Y", &tm);
    printf("%s %s\n", buf, what);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {.sa_handler = s_on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    s_say("Batch job starting");
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += 120;
    while (!s_stop) {
        /* absolute deadline: a signal that interrupts the sleep does not stretch it */
        if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == 0)
            break;
    }
    if (s_stop)
        return 143;
    s_say("Finished succesfully");
    return 0;
}
