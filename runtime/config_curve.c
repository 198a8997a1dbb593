/*
 * runtime/config_curve — the cluster's CURVE keys: generation, reading, and
 * making a socket a CURVE client of the broker. Keys are Z85 text files so
 * that an operator can copy them between hosts with any tool.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "runtime/config.h"

static int s_write_key(const char *dir, const char *name, const char *z85, mode_t mode)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return -ENAMETOOLONG;
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST ? 0 : -errno;
    char line[48];
    int n = snprintf(line, sizeof line, "%s\n", z85);
    int rc = write(fd, line, (size_t)n) == n ? 0 : -EIO;
    close(fd);
    return rc;
}

static bool s_exists(const char *dir, const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static int s_pair(const char *dir, const char *base, char *err, size_t errlen)
{
    char pubn[64], keyn[64], pub[41], sec[41];
    snprintf(pubn, sizeof pubn, "%s.pub", base);
    snprintf(keyn, sizeof keyn, "%s.key", base);
    if (s_exists(dir, pubn) && s_exists(dir, keyn))
        return 0;
    if (zmq_curve_keypair(pub, sec) != 0) {
        snprintf(err, errlen, "CURVE is not available in this libzmq");
        return -ENOTSUP;
    }
    int rc = s_write_key(dir, keyn, sec, 0600);
    if (rc == 0)
        rc = s_write_key(dir, pubn, pub, 0644);
    if (rc)
        snprintf(err, errlen, "%s/%s: %s", dir, base, strerror(-rc));
    return rc;
}

int rt_curve_keygen(const char *dir, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen)
        err = dummy, errlen = sizeof dummy;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -errno;
    }
    int rc = s_pair(dir, "broker", err, errlen);
    return rc ? rc : s_pair(dir, "client", err, errlen);
}

int rt_curve_read(const char *dir, const char *name, unsigned char key[32], char *err,
                  size_t errlen)
{
    char dummy[8], p[PATH_MAX], line[128];
    if (!err || !errlen)
        err = dummy, errlen = sizeof dummy;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return -ENAMETOOLONG;
    FILE *f = fopen(p, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", p, strerror(e));
        return -e;
    }
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    size_t n = ok ? strlen(line) : 0;
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    if (n != 40 || !zmq_z85_decode(key, line)) {
        snprintf(err, errlen, "%s: not a 40-character Z85 key", p);
        return -EINVAL;
    }
    return 0;
}

int rt_curve_client(const rt_config_t *cfg, void *zsock, char *err, size_t errlen)
{
    if (!cfg->curve_dir[0])
        return 0;
    unsigned char srv[32], pub[32], sec[32];
    int rc = rt_curve_read(cfg->curve_dir, "broker.pub", srv, err, errlen);
    if (!rc)
        rc = rt_curve_read(cfg->curve_dir, "client.pub", pub, err, errlen);
    if (!rc)
        rc = rt_curve_read(cfg->curve_dir, "client.key", sec, err, errlen);
    if (rc)
        return rc;
    if (zmq_setsockopt(zsock, ZMQ_CURVE_SERVERKEY, srv, 32) ||
        zmq_setsockopt(zsock, ZMQ_CURVE_PUBLICKEY, pub, 32) ||
        zmq_setsockopt(zsock, ZMQ_CURVE_SECRETKEY, sec, 32)) {
        rc = -errno;
        snprintf(err, errlen, "CURVE: %s", zmq_strerror(-rc));
    }
    memset(sec, 0, sizeof sec);
    return rc;
}
