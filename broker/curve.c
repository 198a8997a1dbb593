/*
 * broker/curve — CURVE on the broker's four sockets and the ZAP handler
 * (ZeroMQ RFC 27) that lets in only clients holding a key of the cluster:
 * client.pub and the lines of `authorized` in the CURVE folder. The handler
 * is a REP socket served by the broker's own loop, so no thread is needed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "runtime/config.h"
#include "runtime/log.h"

#define S_AUTH_MAX 4096

static int s_allow(broker_t *b, const uint8_t key[32])
{
    if (b->nallowed >= S_AUTH_MAX)
        return -ENOSPC;
    uint8_t(*v)[32] = realloc(b->allowed, (b->nallowed + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    memcpy(v[b->nallowed++], key, 32);
    b->allowed = v;
    return 0;
}

/* Optional file of extra client public keys, one Z85 key per line. */
static int s_load_authorized(broker_t *b, const char *dir)
{
    char p[PATH_MAX + 16], line[256];
    snprintf(p, sizeof p, "%s/authorized", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && isspace((unsigned char)line[n - 1]))
            line[--n] = '\0';
        if (!n || line[0] == '#')
            continue;
        uint8_t key[32];
        if (n != 40 || !zmq_z85_decode(key, line)) {
            rt_err("%s:%d: not a Z85 public key", p, lineno);
            rc = -EINVAL;
        } else {
            rc = s_allow(b, key);
        }
    }
    fclose(f);
    return rc;
}

int broker_curve_open(broker_t *b, const char *dir)
{
    if (!dir || !dir[0])
        return 0;
    char err[PATH_MAX + 64];
    uint8_t client[32];
    int rc = rt_curve_read(dir, "broker.key", b->secret, err, sizeof err);
    if (!rc)
        rc = rt_curve_read(dir, "client.pub", client, err, sizeof err);
    if (rc) {
        rt_err("CURVE: %s", err);
        return rc;
    }
    if ((rc = s_allow(b, client)) || (rc = s_load_authorized(b, dir)))
        return rc;
    b->zap = zmq_socket(b->ctx, ZMQ_REP);
    int zero = 0;
    if (!b->zap || zmq_setsockopt(b->zap, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_bind(b->zap, "inproc://zeromq.zap.01") != 0) {
        rc = -errno;
        rt_err("CURVE: cannot start the ZAP handler: %s", zmq_strerror(errno));
        return rc;
    }
    b->curve = true;
    return 0;
}

int broker_curve_server(broker_t *b, void *s)
{
    if (!b->curve)
        return 0;
    int one = 1;
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, b->secret, 32) ||
        zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "zkube", 5))
        return -errno;
    return 0;
}

static bool s_known(broker_t *b, zmq_msg_t *key)
{
    if (zmq_msg_size(key) != 32)
        return false;
    for (size_t i = 0; i < b->nallowed; i++)
        if (!memcmp(b->allowed[i], zmq_msg_data(key), 32))
            return true;
    return false;
}

/* Request: version, request id, domain, address, identity, mechanism, key.
 * Reply: version, request id, status code, status text, user id, metadata. */
static void s_zap_one(broker_t *b, zmq_msg_t *f, int n)
{
    bool ok = n == 7 && zmq_msg_size(&f[5]) == 5 && !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
              s_known(b, &f[6]);
    if (!ok) {
        b->auth_denied++;
        rt_warn("CURVE: refused a connection from %.*s: unknown client key",
                n >= 4 ? (int)zmq_msg_size(&f[3]) : 1, n >= 4 ? (char *)zmq_msg_data(&f[3]) : "?");
    }
    zmq_send(b->zap, "1.0", 3, ZMQ_SNDMORE);
    if (n >= 2)
        zmq_send(b->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else
        zmq_send(b->zap, "", 0, ZMQ_SNDMORE);
    zmq_send(b->zap, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(b->zap, ok ? "OK" : "unknown client key", ok ? 2 : 18, ZMQ_SNDMORE);
    zmq_send(b->zap, "", 0, ZMQ_SNDMORE);
    zmq_send(b->zap, "", 0, 0);
}

void broker_curve_on_zap(broker_t *b)
{
    for (int i = 0; b->zap && i < 100; i++) {
        zmq_msg_t f[8];
        int n = 0, more = 1, flags = ZMQ_DONTWAIT;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, b->zap, flags) < 0) {
                zmq_msg_close(&m);
                break;
            }
            flags = 0;
            more = zmq_msg_more(&m);
            if (n < 8)
                f[n++] = m;
            else
                zmq_msg_close(&m);
        }
        if (n == 0)
            return;
        s_zap_one(b, f, n);
        for (int k = 0; k < n; k++)
            zmq_msg_close(&f[k]);
    }
}

void broker_curve_close(broker_t *b)
{
    if (b->zap)
        zmq_close(b->zap), b->zap = NULL;
    free(b->allowed);
    b->allowed = NULL;
    b->nallowed = 0;
    memset(b->secret, 0, sizeof b->secret);
    b->curve = false;
}
