/*
 * deploy/images/src/ssd-monitor — the program of the book's
 * luksa/ssd-monitor image (the DaemonSet example): prints "SSD OK" every 5
 * seconds, forever. As a container's main process it exits 0 on SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t s_stop;

static void s_on_term(int sig)
{
    (void)sig;
    s_stop = 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {.sa_handler = s_on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!s_stop) {
        printf("SSD OK\n");
        next.tv_sec += 5;
        while (!s_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0)
            ;
    }
    return 0;
}
