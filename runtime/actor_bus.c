/*
 * runtime/actor_bus — the event bus side of an actor: subscriptions are
 * prefix filters set on the SUB socket (the broker's XPUB filters for us) and
 * kept locally so that one event reaches every overlapping subscription;
 * events are published as [topic][envelope].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "runtime/actor_int.h"
#include "runtime/log.h"

int rt_subscribe(rt_actor_t *a, const char *prefix, rt_event_fn *fn, void *arg)
{
    if (!prefix || strlen(prefix) >= PROTO_DST_MAX || !fn)
        return -EINVAL;
    rt_sub_s_t *v = realloc(a->subs, (a->nsub + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    a->subs = v;
    char *p = strdup(prefix);
    if (!p)
        return -ENOMEM;
    if (zmq_setsockopt(a->sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix)) != 0) {
        free(p);
        return -errno;
    }
    v[a->nsub++] = (rt_sub_s_t){p, fn, arg, false};
    return 0;
}

static void s_compact(rt_actor_t *a)
{
    size_t j = 0;
    for (size_t i = 0; i < a->nsub; i++) {
        if (a->subs[i].dead)
            free(a->subs[i].prefix);
        else
            a->subs[j++] = a->subs[i];
    }
    a->nsub = j;
}

int rt_unsubscribe(rt_actor_t *a, const char *prefix, rt_event_fn *fn, void *arg)
{
    for (size_t i = 0; i < a->nsub; i++) {
        rt_sub_s_t *s = &a->subs[i];
        if (s->dead || s->fn != fn || s->arg != arg || strcmp(s->prefix, prefix) != 0)
            continue;
        zmq_setsockopt(a->sub, ZMQ_UNSUBSCRIBE, prefix, strlen(prefix));
        s->dead = true;
        if (a->sub_depth == 0)
            s_compact(a);
        return 0;
    }
    return -ENOENT;
}

int rt_publish(rt_actor_t *a, const char *topic, const char *op, const json_t *body)
{
    if (!topic || !*topic || strlen(topic) >= PROTO_DST_MAX)
        return -EINVAL;
    proto_env_t e;
    proto_env_init(&e, PROTO_T_EVT, 0, a->id, topic, op ? op : "", body);
    char *buf = NULL;
    size_t len = 0;
    int rc = proto_env_pack(&e, &buf, &len);
    proto_env_clear(&e);
    if (rc)
        return rc;
    if (zmq_send(a->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(a->pub, buf, len, ZMQ_DONTWAIT) < 0)
        rc = -errno;
    else
        a->stats.msgs_out++, a->stats.bytes_out += strlen(topic) + len;
    free(buf);
    return rc;
}

int rt_publish_raw(rt_actor_t *a, const char *topic, const char *op, const void *body,
                   size_t blen)
{
    if (!topic || !*topic || strlen(topic) >= PROTO_DST_MAX)
        return -EINVAL;
    proto_env_t e;
    proto_env_init(&e, PROTO_T_EVT, 0, a->id, topic, op ? op : "", NULL);
    char *buf = NULL;
    size_t len = 0;
    int rc = proto_env_pack_raw(&e, body, blen, &buf, &len);
    if (rc)
        return rc;
    if (zmq_send(a->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(a->pub, buf, len, ZMQ_DONTWAIT) < 0)
        rc = -errno;
    else
        a->stats.msgs_out++, a->stats.bytes_out += strlen(topic) + len;
    free(buf);
    return rc;
}

static void s_dispatch(rt_actor_t *a, const char *topic, const proto_env_t *e)
{
    a->sub_depth++;
    size_t n = a->nsub; /* subscriptions added by a handler start with the next event */
    for (size_t i = 0; i < n; i++) {
        rt_sub_s_t s = a->subs[i];
        if (!s.dead && !strncmp(topic, s.prefix, strlen(s.prefix)))
            s.fn(a, topic, e, s.arg);
    }
    if (--a->sub_depth == 0)
        s_compact(a);
}

/* One message from the SUB socket. */
void rt__on_sub(rt_actor_t *a)
{
    zmq_msg_t f[2];
    int n = rt__recv(a->sub, f, 2);
    if (n == 0)
        return;
    a->stats.msgs_in++;
    if (n != 2 || zmq_msg_size(&f[0]) >= PROTO_DST_MAX) {
        a->stats.dropped_bad++;
        if (n <= 2)
            rt__close_frames(f, n);
        return;
    }
    char topic[PROTO_DST_MAX], err[160];
    memcpy(topic, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
    topic[zmq_msg_size(&f[0])] = '\0';
    a->stats.bytes_in += zmq_msg_size(&f[0]) + zmq_msg_size(&f[1]);
    proto_env_t e;
    if (proto_env_unpack(zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), &e, err, sizeof err) != 0) {
        a->stats.dropped_bad++;
        rt_debug("bad event on %s: %s", topic, err);
    } else {
        if (e.type == PROTO_T_EVT)
            s_dispatch(a, topic, &e);
        else
            a->stats.dropped_bad++;
        proto_env_clear(&e);
    }
    rt__close_frames(f, 2);
}
