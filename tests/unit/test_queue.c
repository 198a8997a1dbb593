/*
 * tests/unit/test_queue — the work queue: dedup, order, retries with
 * back-off, add_after. The queue runs from an actor's loop; a broker is
 * started so the actor is a normal one.
 */
#include "tests/unit/test.h"

#include <signal.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "protocol/obj.h"
#include "runtime/actor.h"
#include "runtime/queue.h"

static pid_t s_broker;
static rt_actor_t *s_a;

static void s_start(void)
{
    char home[512];
    snprintf(home, sizeof home, "%s/home", t_tmpdir());
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    rt_config_t cfg;
    char err[256];
    REQUIRE(rt_config_load(&cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&cfg) == 0);
    s_broker = fork();
    if (s_broker == 0)
        _exit(broker_run(&cfg) ? 1 : 0);
    REQUIRE(rt_actor_open(&s_a, "queue-test", &cfg, err, sizeof err) == 0);
}

static void s_stop(void)
{
    rt_actor_destroy(&s_a);
    kill(s_broker, SIGTERM);
    waitpid(s_broker, NULL, 0);
}

typedef struct {
    char seen[64][32];
    int n;
    int fail_left; /* fail this many times, then succeed */
    int64_t first_ms, last_ms;
} s_rec_t;

static int s_record(void *arg, const char *key)
{
    s_rec_t *r = arg;
    if (r->n < 64)
        snprintf(r->seen[r->n], 32, "%s", key);
    r->n++;
    int64_t now = proto_mono_ms();
    if (!r->first_ms)
        r->first_ms = now;
    r->last_ms = now;
    if (r->fail_left > 0) {
        r->fail_left--;
        return -1;
    }
    return 0;
}

static void s_run_until(int *counter, int want, int max_ms)
{
    int64_t end = proto_mono_ms() + max_ms;
    while (*counter < want && proto_mono_ms() < end)
        rt_run_for(s_a, 10);
}

TEST(dedups_and_keeps_order)
{
    s_start();
    s_rec_t r = {0};
    rt_queue_t *q = rt_queue_new(s_a, s_record, &r);
    rt_queue_add(q, "ns/a");
    rt_queue_add(q, "ns/b");
    rt_queue_add(q, "ns/a");
    rt_queue_add(q, "ns/c");
    CHECK_EQ_INT(rt_queue_len(q), 3);
    s_run_until(&r.n, 3, 2000);
    rt_run_for(s_a, 50); /* a duplicate would show up here */
    CHECK_EQ_INT(r.n, 3);
    CHECK_EQ_STR(r.seen[0], "ns/a");
    CHECK_EQ_STR(r.seen[1], "ns/b");
    CHECK_EQ_STR(r.seen[2], "ns/c");
    CHECK_EQ_INT(rt_queue_len(q), 0);
    rt_queue_destroy(&q);
    CHECK(q == NULL);
    s_stop();
}

TEST(retries_with_growing_backoff)
{
    s_start();
    s_rec_t r = {.fail_left = 4};
    rt_queue_t *q = rt_queue_new(s_a, s_record, &r);
    rt_queue_add(q, "k");
    s_run_until(&r.n, 5, 3000);
    CHECK_EQ_INT(r.n, 5);
    /* back-off 5+10+20+40 ms = 75 ms at least between first and last try */
    CHECK(r.last_ms - r.first_ms >= 70);
    rt_run_for(s_a, 100);
    CHECK_EQ_INT(r.n, 5); /* success: no more retries */
    rt_queue_destroy(&q);
    s_stop();
}

TEST(add_after_delays)
{
    s_start();
    s_rec_t r = {0};
    rt_queue_t *q = rt_queue_new(s_a, s_record, &r);
    int64_t t0 = proto_mono_ms();
    rt_queue_add_after(q, "later", 150);
    rt_queue_add(q, "now");
    s_run_until(&r.n, 2, 2000);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_STR(r.seen[0], "now");
    CHECK_EQ_STR(r.seen[1], "later");
    CHECK(r.last_ms - t0 >= 140);
    rt_queue_destroy(&q);
    s_stop();
}

TEST(destroy_with_pending_delays)
{
    s_start();
    s_rec_t r = {0};
    rt_queue_t *q = rt_queue_new(s_a, s_record, &r);
    rt_queue_add_after(q, "x", 50);
    rt_queue_add(q, "y");
    rt_queue_destroy(&q);
    rt_run_for(s_a, 100);
    CHECK_EQ_INT(r.n, 0);
    s_stop();
}
