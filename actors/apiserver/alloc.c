/*
 * actors/apiserver/alloc.c — Service cluster IPs from the service CIDR
 * (default 10.96.0.0/12; the first address, 10.96.0.1, belongs to the
 * `kubernetes` Service) and node ports from 30000-32767, as Kubernetes'
 * ipallocator and portallocator do. The bitmaps live in memory, rebuilt
 * from the stored Services at start and after a failed commit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/apiserver/internal.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#define S_PORT_MIN 30000
#define S_PORT_MAX 32767

static bool s_bit(const uint8_t *m, uint32_t i)
{
    return m[i / 8] & (1u << (i % 8));
}

static void s_set(uint8_t *m, uint32_t i, bool on)
{
    if (on)
        m[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        m[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

int apisrv_alloc_init(apisrv_alloc_t *al, const char *cidr)
{
    char ip[32];
    int prefix;
    struct in_addr a;
    if (sscanf(cidr, "%31[0-9.]/%d", ip, &prefix) != 2 || prefix < 8 || prefix > 30 ||
        inet_pton(AF_INET, ip, &a) != 1)
        return -EINVAL;
    al->prefix = prefix;
    al->size = 1u << (32 - prefix);
    al->net = ntohl(a.s_addr) & ~(al->size - 1);
    free(al->ips);
    al->ips = calloc(al->size / 8, 1);
    if (!al->ips)
        abort();
    memset(al->ports, 0, sizeof al->ports);
    al->next_ip = 2;
    al->next_port = S_PORT_MIN;
    return 0;
}

void apisrv_alloc_fini(apisrv_alloc_t *al)
{
    free(al->ips);
    al->ips = NULL;
}

/* Index of ip in the range, or -1 (network/broadcast addresses excluded). */
static int64_t s_ip_index(const apisrv_alloc_t *al, const char *ip)
{
    struct in_addr a;
    if (!ip || inet_pton(AF_INET, ip, &a) != 1)
        return -1;
    uint32_t h = ntohl(a.s_addr);
    if ((h & ~(al->size - 1)) != al->net)
        return -1;
    uint32_t i = h - al->net;
    return i == 0 || i == al->size - 1 ? -1 : (int64_t)i;
}

static void s_ip_string(const apisrv_alloc_t *al, uint32_t i, char buf[INET_ADDRSTRLEN])
{
    struct in_addr a = {.s_addr = htonl(al->net + i)};
    inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *s_cidr(const apisrv_alloc_t *al, char buf[48])
{
    char ip[INET_ADDRSTRLEN];
    s_ip_string(al, 0, ip);
    snprintf(buf, 48, "%s/%d", ip, al->prefix);
    return buf;
}

static bool s_has_ip(const json_t *svc)
{
    const char *type = proto_obj_str(svc, "spec.type");
    const char *ip = proto_obj_str(svc, "spec.clusterIP");
    if (type && !strcmp(type, "ExternalName"))
        return false;
    return !ip || strcmp(ip, "None") != 0;
}

static bool s_has_node_ports(const json_t *svc)
{
    const char *type = proto_obj_str(svc, "spec.type");
    return type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"));
}

static void s_mark(apisrv_alloc_t *al, const json_t *svc, bool on)
{
    int64_t i = s_has_ip(svc) ? s_ip_index(al, proto_obj_str(svc, "spec.clusterIP")) : -1;
    if (i > 0)
        s_set(al->ips, (uint32_t)i, on);
    if (!s_has_node_ports(svc))
        return;
    size_t n;
    json_t *p;
    json_array_foreach(proto_obj_get(svc, "spec.ports"), n, p)
    {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        if (np >= S_PORT_MIN && np <= S_PORT_MAX)
            s_set(al->ports, (uint32_t)(np - S_PORT_MIN), on);
    }
}

int apisrv_alloc_load(apisrv_t *s)
{
    json_t *items = NULL;
    uint64_t rev;
    char *next = NULL;
    int rc = apisrv_alloc_init(&s->alloc, "10.96.0.0/12");
    if (rc == 0)
        rc = store_list(s->st, "services/", NULL, 0, NULL, NULL, &items, &rev, &next);
    free(next);
    if (rc < 0)
        return rc;
    size_t i;
    json_t *svc;
    json_array_foreach(items, i, svc) s_mark(&s->alloc, svc, true);
    json_decref(items);
    return 0;
}

static int s_invalid(const char *field, const char *msg, json_t **err)
{
    json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message", msg,
                               "field", field);
    *err = causes;
    return 422;
}

/* What one call took, to undo it when a later step fails. */
typedef struct s_taken {
    int64_t ip;
    int ports[64];
    size_t nports;
} s_taken_t;

static int s_take_ip(apisrv_t *s, json_t *svc, s_taken_t *tk, json_t **causes)
{
    apisrv_alloc_t *al = &s->alloc;
    const char *want = proto_obj_str(svc, "spec.clusterIP");
    char msg[512], cidr[48], ip[INET_ADDRSTRLEN];
    if (want && *want) {
        int64_t i = s_ip_index(al, want);
        if (i < 0) {
            snprintf(msg, sizeof msg,
                     "Invalid value: [\"%s\"]: failed to allocate IP %s: the provided IP (%s) is "
                     "not in the valid range. The range of valid IPs is %s",
                     want, want, want, s_cidr(al, cidr));
            return s_invalid("spec.clusterIPs", msg, causes);
        }
        if (s_bit(al->ips, (uint32_t)i)) {
            snprintf(msg, sizeof msg,
                     "Invalid value: [\"%s\"]: failed to allocate IP %s: provided IP is already "
                     "allocated",
                     want, want);
            return s_invalid("spec.clusterIPs", msg, causes);
        }
        s_set(al->ips, (uint32_t)i, true);
        tk->ip = i;
        return 0;
    }
    for (uint32_t n = 0; n < al->size - 3; n++) {
        uint32_t i = 2 + (al->next_ip - 2 + n) % (al->size - 3); /* skip .0, .1, broadcast */
        if (!s_bit(al->ips, i)) {
            s_set(al->ips, i, true);
            tk->ip = i;
            al->next_ip = i + 1;
            s_ip_string(al, i, ip);
            proto_obj_set_str(svc, "spec.clusterIP", ip);
            return 0;
        }
    }
    return s_invalid("spec.clusterIPs", "Internal error: range is full", causes);
}

static int s_take_port(apisrv_t *s, json_t *port, size_t idx, s_taken_t *tk, json_t **causes)
{
    apisrv_alloc_t *al = &s->alloc;
    char field[64], msg[256];
    json_int_t np = json_integer_value(json_object_get(port, "nodePort"));
    snprintf(field, sizeof field, "spec.ports[%zu].nodePort", idx);
    if (tk->nports == sizeof tk->ports / sizeof tk->ports[0])
        return s_invalid(field, "Invalid value: too many ports", causes);
    if (np) {
        if (np < S_PORT_MIN || np > S_PORT_MAX) {
            snprintf(msg, sizeof msg,
                     "Invalid value: %lld: provided port is not in the valid range. The range "
                     "of valid ports is %d-%d",
                     (long long)np, S_PORT_MIN, S_PORT_MAX);
            return s_invalid(field, msg, causes);
        }
        if (s_bit(al->ports, (uint32_t)(np - S_PORT_MIN))) {
            snprintf(msg, sizeof msg, "Invalid value: %lld: provided port is already allocated",
                     (long long)np);
            return s_invalid(field, msg, causes);
        }
        s_set(al->ports, (uint32_t)(np - S_PORT_MIN), true);
        tk->ports[tk->nports++] = (int)np;
        return 0;
    }
    int span = S_PORT_MAX - S_PORT_MIN + 1;
    for (int n = 0; n < span; n++) {
        int p = S_PORT_MIN + (al->next_port - S_PORT_MIN + n) % span;
        if (!s_bit(al->ports, (uint32_t)(p - S_PORT_MIN))) {
            s_set(al->ports, (uint32_t)(p - S_PORT_MIN), true);
            tk->ports[tk->nports++] = p;
            al->next_port = p + 1;
            json_object_set_new(port, "nodePort", json_integer(p));
            return 0;
        }
    }
    return s_invalid(field, "Internal error: range is full", causes);
}

/* On update, keeps what the old object had when the new one leaves it empty. */
static void s_keep_old(json_t *svc, const json_t *old)
{
    const char *oip = proto_obj_str(old, "spec.clusterIP");
    const char *nip = proto_obj_str(svc, "spec.clusterIP");
    if (oip && (!nip || !*nip) && s_has_ip(svc))
        proto_obj_set_str(svc, "spec.clusterIP", oip);
    size_t i, j;
    json_t *p, *op;
    if (!s_has_node_ports(svc))
        return;
    json_array_foreach(proto_obj_get(svc, "spec.ports"), i, p)
    {
        if (json_integer_value(json_object_get(p, "nodePort")))
            continue;
        json_array_foreach(proto_obj_get(old, "spec.ports"), j, op)
        {
            json_t *onp = json_object_get(op, "nodePort");
            if (json_integer_value(onp) &&
                json_equal(json_object_get(p, "port"), json_object_get(op, "port")))
                json_object_set(p, "nodePort", onp);
        }
    }
}

static bool s_old_holds_port(const json_t *old, const json_t *np)
{
    size_t j;
    json_t *op;
    if (!old || !json_integer_value(np) || !s_has_node_ports(old))
        return false;
    json_array_foreach(proto_obj_get(old, "spec.ports"), j,
                       op) if (json_equal(np, json_object_get(op, "nodePort"))) return true;
    return false;
}

static int s_allocate(apisrv_t *s, json_t *svc, const json_t *old, s_taken_t *tk, json_t **causes)
{
    const char *nip = proto_obj_str(svc, "spec.clusterIP");
    const char *oip = old && s_has_ip(old) ? proto_obj_str(old, "spec.clusterIP") : NULL;
    bool same_ip = nip && oip && !strcmp(nip, oip);
    if (s_has_ip(svc) && !same_ip) {
        int code = s_take_ip(s, svc, tk, causes);
        if (code)
            return code;
    }
    size_t i;
    json_t *p;
    if (!s_has_node_ports(svc)) { /* as Kubernetes: ClusterIP services hold none */
        json_array_foreach(proto_obj_get(svc, "spec.ports"), i, p) json_object_del(p, "nodePort");
        return 0;
    }
    json_array_foreach(proto_obj_get(svc, "spec.ports"), i, p)
    {
        if (s_old_holds_port(old, json_object_get(p, "nodePort")))
            continue;
        int code = s_take_port(s, p, i, tk, causes);
        if (code)
            return code;
    }
    return 0;
}

int apisrv_alloc_service(apisrv_t *s, json_t *svc, const json_t *old, json_t **err)
{
    if (old)
        s_keep_old(svc, old);
    s_taken_t tk = {.ip = -1};
    json_t *causes = NULL;
    int code = s_allocate(s, svc, old, &tk, &causes);
    if (code) {
        if (tk.ip > 0)
            s_set(s->alloc.ips, (uint32_t)tk.ip, false);
        for (size_t i = 0; i < tk.nports; i++)
            s_set(s->alloc.ports, (uint32_t)(tk.ports[i] - S_PORT_MIN), false);
        *err = proto_status_invalid("Service", "", proto_obj_name(svc), causes);
        return code;
    }
    const char *ip = proto_obj_str(svc, "spec.clusterIP");
    if (ip && *ip)
        proto_obj_set(svc, "spec.clusterIPs", json_pack("[s]", ip));
    return 0;
}

void apisrv_alloc_release(apisrv_t *s, const json_t *svc)
{
    s_mark(&s->alloc, svc, false);
}

void apisrv_alloc_release_diff(apisrv_t *s, const json_t *old_svc, const json_t *new_svc)
{
    if (!old_svc)
        return;
    s_mark(&s->alloc, old_svc, false);
    if (new_svc)
        s_mark(&s->alloc, new_svc, true);
}
