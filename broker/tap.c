/*
 * broker/tap — mirrors every routed message and every event to the tap
 * socket as [dir][peer][frames...]. The tap is an XPUB with NODROP so that a
 * full queue is reported (and counted) instead of silently eaten, and sends
 * never wait: observing the system must not slow it down. Nothing is built
 * while nobody is subscribed.
 */
#include <errno.h>
#include <string.h>

#include "broker/internal.h"

void broker_tap(broker_t *b, const char *dir, const void *peer, size_t plen, zmq_msg_t *f,
                int n)
{
    if (b->tap_subs <= 0)
        return;
    if (zmq_send(b->tap, dir, strlen(dir), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        b->tap_dropped++;
        return;
    }
    /* the first frame was accepted: the rest of the message goes in whole */
    zmq_send(b->tap, peer, plen, (n > 0 ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    for (int i = 0; i < n; i++) {
        zmq_msg_t c;
        zmq_msg_init(&c);
        zmq_msg_copy(&c, &f[i]);
        if (zmq_msg_send(&c, b->tap, (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&c);
    }
    b->tap_sent++;
}

void broker_tap_on_sub(broker_t *b)
{
    for (int i = 0; i < 1000; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, b->tap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        const uint8_t *d = zmq_msg_data(&m);
        if (zmq_msg_size(&m) >= 1 && d[0] == 1)
            b->tap_subs++;
        else if (zmq_msg_size(&m) >= 1 && d[0] == 0 && b->tap_subs > 0)
            b->tap_subs--;
        zmq_msg_close(&m);
    }
}
