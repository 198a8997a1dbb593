/*
 * runtime/spec — the cluster spec: which actors run on which host, where
 * the broker is, whether CURVE is on, and the pod address plan. `zkube up
 * --spec FILE --host NAME` reads it (runtime/supervisor.c) and starts only
 * that host's share. Example (deploy/cluster-lab.yaml):
 *
 *   cluster: lab
 *   broker: tcp://10.250.0.1:7100      # base endpoint; ports 7100..7103
 *   curve: true                        # keys in $ZKUBE_HOME/keys
 *   podCIDR: 10.201.0.0/16             # each kubelet host gets a /24 of it
 *   driver: runc                       # optional kubelet driver (per host too)
 *   nodeLifecycle: {gracePeriod: 8s, evictionTimeout: 2s}   # optional
 *   hosts:
 *   - name: cp
 *     address: 10.250.0.1              # the kubelet's InternalIP; required on
 *                                      # kubelet hosts when 2+ hosts run kubelets
 *                                      # and the broker is not on loopback
 *     actors: [broker, apiserver, gateway, scheduler, controllers]
 *   - name: w1
 *     actors: [kubelet]                # node name = host name
 *
 * Actor names: broker, apiserver, gateway, scheduler, controllers (all four
 * controllers), controller-<kind>, kubelet. The Nth host that runs a
 * kubelet (1-based, in file order) gets podCIDR's Nth /24 unless the host
 * says `podCIDR:` itself.
 */
#ifndef ZK_RUNTIME_SPEC_H
#define ZK_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime/config.h"

#define RT_SPEC_MAX_HOSTS 256
#define RT_SPEC_MAX_ACTORS 16
#define RT_SPEC_NAME_MAX 64 /* host and cluster names: DNS-1123 labels */
#define RT_SPEC_CIDR_MAX 20 /* "255.255.255.255/32" */

typedef struct rt_spec_host {
    char name[RT_SPEC_NAME_MAX];
    char address[16];                /* "" = not given */
    char pod_cidr[RT_SPEC_CIDR_MAX]; /* kubelet hosts only, else "" */
    char driver[16];                 /* "" = the spec's, or the kubelet's default */
    char actors[RT_SPEC_MAX_ACTORS][40];
    size_t nactors;
} rt_spec_host_t;

typedef struct rt_spec {
    char cluster[RT_SPEC_NAME_MAX];
    char broker[RT_EP_MAX];
    bool curve;
    char pod_cidr[RT_SPEC_CIDR_MAX];
    char driver[16];
    char http_port[8];            /* "" = 8080; "none" = no gateway HTTP */
    char grace[16], eviction[16]; /* node lifecycle durations, "" = defaults */
    rt_spec_host_t *hosts;
    size_t nhosts;
} rt_spec_t;

/*
 * Reads and validates a spec file (YAML or JSON, one document). 0 and a new
 * *out (caller frees with rt_spec_destroy); PROTO_EINVALID with
 * "FILE: FIELD: reason" in err (e.g. "lab.yaml: hosts[1].actors[0]:
 * unknown actor \"kubelett\" ..."); the loader's PROTO_EBADREQUEST
 * ("FILE:LINE:COL: ...") or -errno ("FILE: strerror") when it cannot be read.
 */
int rt_spec_load(const char *path, rt_spec_t **out, char *err, size_t errlen);

/* The same from a parsed document; name prefixes the errors. */
int rt_spec_parse(const json_t *doc, const char *name, rt_spec_t **out, char *err, size_t errlen);

/* Frees *s (NULL is fine) and nulls it. */
void rt_spec_destroy(rt_spec_t **s);

/* The host called name, borrowed from s; NULL when the spec has none. */
const rt_spec_host_t *rt_spec_host(const rt_spec_t *s, const char *name);

/* True when host h runs actor (exact name, or "controllers" for a
 * "controller-*" name). */
bool rt_spec_runs(const rt_spec_host_t *h, const char *actor);

/*
 * IPv4 CIDR helpers. rt_cidr_parse: "A.B.C.D/N" into a network address
 * (host order, host bits must be 0) and a prefix length; 0 or -EINVAL.
 * rt_cidr_within: true when inner lies entirely in outer (both valid).
 */
int rt_cidr_parse(const char *s, uint32_t *net, int *len);
bool rt_cidr_within(const char *inner, const char *outer);

#endif
