/*
 * actors/controllers/expect.c — expectations, as kube-controller-manager's
 * ControllerExpectations: a controller that has just asked for N creations
 * (or the deletion of some pods) waits until its informer has seen them
 * before it counts pods again, so watch lag never makes it create or delete
 * twice. Deletions are tracked by pod key, so a pod seen going twice (marked,
 * then removed) is counted once. Expectations older than 5 minutes are
 * ignored, so a lost event cannot stall a controller for ever.
 */
#include <stdlib.h>

#include "actors/controllers/controllers.h"

struct ctrl_exp {
    json_t *by_key; /* key -> {adds: n, dels: {pod_key: true}, ts: ms} */
};

ctrl_exp_t *ctrl_exp_new(void)
{
    ctrl_exp_t *e = calloc(1, sizeof *e);
    if (!e || !(e->by_key = json_object()))
        abort();
    return e;
}

void ctrl_exp_destroy(ctrl_exp_t **e)
{
    if (!e || !*e)
        return;
    json_decref((*e)->by_key);
    free(*e);
    *e = NULL;
}

static json_t *s_entry(ctrl_exp_t *e, const char *key, int64_t now)
{
    json_t *x = json_object_get(e->by_key, key);
    if (!x) {
        x = json_pack("{s:i, s:{}, s:I}", "adds", 0, "dels", "ts", (json_int_t)now);
        json_object_set_new(e->by_key, key, x);
    }
    json_object_set_new(x, "ts", json_integer((json_int_t)now));
    return x;
}

void ctrl_exp_expect_adds(ctrl_exp_t *e, const char *key, int adds, int64_t now)
{
    json_object_set_new(s_entry(e, key, now), "adds", json_integer(adds > 0 ? adds : 0));
}

void ctrl_exp_expect_del(ctrl_exp_t *e, const char *key, const char *pod_key, int64_t now)
{
    json_object_set_new(json_object_get(s_entry(e, key, now), "dels"), pod_key, json_true());
}

void ctrl_exp_observe_add(ctrl_exp_t *e, const char *key)
{
    json_t *x = json_object_get(e->by_key, key);
    json_int_t n = json_integer_value(json_object_get(x, "adds"));
    if (x && n > 0)
        json_object_set_new(x, "adds", json_integer(n - 1));
}

void ctrl_exp_observe_del(ctrl_exp_t *e, const char *key, const char *pod_key)
{
    json_t *x = json_object_get(e->by_key, key);
    if (x)
        json_object_del(json_object_get(x, "dels"), pod_key);
}

bool ctrl_exp_satisfied(const ctrl_exp_t *e, const char *key, int64_t now)
{
    json_t *x = json_object_get(e->by_key, key);
    if (!x)
        return true;
    if (json_integer_value(json_object_get(x, "adds")) <= 0 &&
        json_object_size(json_object_get(x, "dels")) == 0)
        return true;
    return now - json_integer_value(json_object_get(x, "ts")) > CTRL_EXP_TIMEOUT_MS;
}

void ctrl_exp_pending(const ctrl_exp_t *e, const char *key, int *adds, int *dels)
{
    json_t *x = json_object_get(e->by_key, key);
    if (adds)
        *adds = (int)json_integer_value(json_object_get(x, "adds"));
    if (dels)
        *dels = (int)json_object_size(json_object_get(x, "dels"));
}

void ctrl_exp_forget(ctrl_exp_t *e, const char *key)
{
    json_object_del(e->by_key, key);
}
