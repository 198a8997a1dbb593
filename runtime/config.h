/*
 * runtime/config — where a cluster lives and how to reach its broker.
 *
 * ZKUBE_HOME (default ~/.zkube) holds a cluster: data/ (the store), run/
 * (sockets, pid files), logs/, images/, keys/, and `config` (key=value lines:
 * broker=ENDPOINT, ...). The environment variable ZKUBE_BROKER overrides the
 * broker endpoint. Default broker endpoint: ipc://$ZKUBE_HOME/run/broker.
 */
#ifndef ZK_RUNTIME_CONFIG_H
#define ZK_RUNTIME_CONFIG_H

#include <limits.h>
#include <stddef.h>

#define RT_EP_MAX 512

typedef struct rt_config {
    char home[PATH_MAX];   /* absolute */
    char broker[RT_EP_MAX]; /* base endpoint: ipc://PATH or tcp://HOST:PORT */
    char curve_dir[PATH_MAX]; /* "" = no CURVE; else dir with broker.pub, client keys */
} rt_config_t;

/* Fills cfg from the environment and $ZKUBE_HOME/config. 0 or -errno with
 * a reason in err. Does not create anything. */
int rt_config_load(rt_config_t *cfg, char *err, size_t errlen);

/* Creates home and its sub-folders (data run logs images keys). */
int rt_config_mkdirs(const rt_config_t *cfg);

/*
 * The broker's four endpoints from its base: for ipc://P: ipc://P.router,
 * ipc://P.pub (actors publish, broker XSUB binds), ipc://P.sub (actors
 * subscribe, broker XPUB binds), ipc://P.tap; for tcp://H:N: ports N, N+1,
 * N+2, N+3. 0 or -EINVAL on a malformed base.
 */
typedef struct rt_endpoints {
    char router[RT_EP_MAX], pub[RT_EP_MAX], sub[RT_EP_MAX], tap[RT_EP_MAX];
} rt_endpoints_t;
int rt_endpoints_from(const char *base, rt_endpoints_t *eps);

/* Path under home: rt_path(cfg, "run/apiserver.pid", buf, n). */
const char *rt_path(const rt_config_t *cfg, const char *rel, char *buf, size_t n);

/*
 * CURVE (runtime/config_curve.c). curve_dir holds Z85 text keys, one per
 * file: broker.pub, broker.key (broker's secret, only on the broker's host),
 * client.pub, client.key (the cluster's actor keypair), and optionally
 * `authorized` (more client public keys, one per line, '#' comments).
 */
/* Creates the missing key files in dir (0600 for secrets). 0 or -errno. */
int rt_curve_keygen(const char *dir, char *err, size_t errlen);
/* Reads the Z85 key in dir/name into 32 raw bytes. 0 or -errno/-EINVAL. */
int rt_curve_read(const char *dir, const char *name, unsigned char key[32], char *err,
                  size_t errlen);
/* Makes zsock (any ZeroMQ socket, before connect) a CURVE client of the
 * broker when cfg->curve_dir is set; nothing otherwise. The tap tool uses it
 * for its SUB socket. 0 or -errno with a reason in err. */
int rt_curve_client(const rt_config_t *cfg, void *zsock, char *err, size_t errlen);

#endif
