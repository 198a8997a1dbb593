/*
 * actors/kubelet/net — the pod network of the runc driver (host-gw style):
 * one bridge per node holding the gateway (first address of the node's pod
 * CIDR), one veth pair per pod (host end on the bridge, pod end eth0), pod
 * addresses from a file-based IPAM that survives restarts, ip_forward, and
 * an `unreachable` route for the cluster CIDR so that cluster addresses
 * never leave the machine. Nodes on one host share its namespace, so their
 * bridges' connected routes already route between them.
 *
 * Links and routes are made with iproute2 (`ip`, argv arrays, output
 * captured), run inside the pod's namespace where needed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/kubelet/runc.h"
#include "protocol/status.h"

#define S_CMD_MS 10000

/* ---- addresses ---------------------------------------------------------------- */

int kubelet_net_parse_cidr(const char *s, kl_cidr_t *out)
{
    char buf[32];
    if (!s || strlen(s) >= sizeof buf)
        return PROTO_EINVALID;
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    if (!slash || !slash[1])
        return PROTO_EINVALID;
    *slash = 0;
    char *end = NULL;
    long p = strtol(slash + 1, &end, 10);
    if (*end || p < 0 || p > 32 || slash[1] == '+' || slash[1] == '-')
        return PROTO_EINVALID;
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1)
        return PROTO_EINVALID;
    uint32_t net = ntohl(a.s_addr);
    uint32_t mask = p == 0 ? 0 : 0xffffffffu << (32 - p);
    if (net & ~mask)
        return PROTO_EINVALID;
    out->net = net;
    out->prefix = (int)p;
    return 0;
}

void kubelet_net_ntoa(uint32_t a, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* The tag as used in names: at most 4 characters of [a-z0-9]. */
static void s_tag4(const char *tag, char out[5])
{
    int n = 0;
    for (const char *p = tag ? tag : ""; *p && n < 4; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            out[n++] = *p;
    out[n] = 0;
}

void kubelet_net_bridge_name(const char *tag, const kl_cidr_t *pod_cidr, char out[16])
{
    char t[5];
    s_tag4(tag, t);
    snprintf(out, 16, "zk%sb%06x", t, (pod_cidr->net >> 8) & 0xffffff);
}

void kubelet_net_veth_name(const char *tag, uint32_t ip, char out[16])
{
    char t[5];
    s_tag4(tag, t);
    snprintf(out, 16, "zk%sv%08x", t, ip);
}

/* ---- IPAM --------------------------------------------------------------------- */

static bool s_owner_ok(const char *o)
{
    size_t n = o ? strlen(o) : 0;
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(o[i] == '-' || o[i] == '_' || o[i] == '.' || (o[i] >= '0' && o[i] <= '9') ||
              (o[i] >= 'a' && o[i] <= 'z') || (o[i] >= 'A' && o[i] <= 'Z')))
            return false;
    return true;
}

static int s_read_small(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, buf, n - 1);
    close(fd);
    if (r < 0)
        return -EIO;
    buf[r] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

int kubelet_ipam_find(const char *dir, const char *owner, uint32_t *ip)
{
    DIR *d = opendir(dir);
    if (!d)
        return PROTO_ENOTFOUND;
    struct dirent *e;
    int rc = PROTO_ENOTFOUND;
    while ((e = readdir(d)) && rc != 0) {
        struct in_addr a;
        char path[4096], who[160];
        if (inet_pton(AF_INET, e->d_name, &a) != 1)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (s_read_small(path, who, sizeof who) == 0 && strcmp(who, owner) == 0) {
            *ip = ntohl(a.s_addr);
            rc = 0;
        }
    }
    closedir(d);
    return rc;
}

/* Claims one address: 0, -EEXIST when taken, -errno. */
static int s_claim(const char *dir, uint32_t ip, const char *owner)
{
    char path[4096], a[16];
    kubelet_net_ntoa(ip, a);
    snprintf(path, sizeof path, "%s/%s", dir, a);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t n = strlen(owner);
    int rc = write(fd, owner, n) == (ssize_t)n ? 0 : -EIO;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlink(path);
    return rc;
}

static void s_write_last(const char *dir, uint32_t ip)
{
    char path[4096], tmp[4096], a[16];
    kubelet_net_ntoa(ip, a);
    snprintf(path, sizeof path, "%s/last", dir);
    snprintf(tmp, sizeof tmp, "%s/.last.tmp", dir);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return;
    fprintf(f, "%s\n", a);
    if (fclose(f) == 0)
        rename(tmp, path);
}

int kubelet_ipam_alloc(const char *dir, const kl_cidr_t *c, const char *owner, uint32_t *ip)
{
    if (!s_owner_ok(owner) || c->prefix > 30 || c->prefix < 8)
        return PROTO_EINVALID;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    if (kubelet_ipam_find(dir, owner, ip) == 0)
        return 0;
    uint32_t size = 1u << (32 - c->prefix);
    uint32_t first = c->net + 2, last = c->net + size - 2, start = first;
    char path[4096], buf[32];
    struct in_addr a;
    snprintf(path, sizeof path, "%s/last", dir);
    if (s_read_small(path, buf, sizeof buf) == 0 && inet_pton(AF_INET, buf, &a) == 1) {
        uint32_t prev = ntohl(a.s_addr);
        if (prev >= first && prev < last)
            start = prev + 1;
    }
    for (uint32_t i = 0, cand = start; i <= last - first; i++) {
        int rc = s_claim(dir, cand, owner);
        if (rc == 0) {
            s_write_last(dir, cand);
            *ip = cand;
            return 0;
        }
        if (rc != -EEXIST)
            return rc;
        cand = cand == last ? first : cand + 1;
    }
    return -ENOSPC;
}

int kubelet_ipam_release(const char *dir, const char *owner)
{
    uint32_t ip;
    if (!s_owner_ok(owner))
        return PROTO_EINVALID;
    while (kubelet_ipam_find(dir, owner, &ip) == 0) {
        char path[4096], a[16];
        kubelet_net_ntoa(ip, a);
        snprintf(path, sizeof path, "%s/%s", dir, a);
        if (unlink(path) < 0 && errno != ENOENT)
            return -errno;
    }
    return 0;
}

/* ---- links -------------------------------------------------------------------- */

static int s_sysctl(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, val, strlen(val));
    close(fd);
    return n < 0 ? -errno : 0;
}

int kubelet_net_node_up(const char *ip_bin, const char *bridge, const kl_cidr_t *pod,
                        const kl_cidr_t *cluster, char *err, size_t errlen)
{
    char gw[16], cl[16], batch[512];
    if (if_nametoindex(bridge) == 0) {
        char *const add[] = {(char *)ip_bin, "link", "add", (char *)bridge, "type", "bridge", NULL};
        int rc = kubelet_runc_cmd_err(add, NULL, NULL, S_CMD_MS, err, errlen);
        if (rc < 0 && if_nametoindex(bridge) == 0)
            return rc;
    }
    kubelet_net_ntoa(pod->net + 1, gw);
    kubelet_net_ntoa(cluster->net, cl);
    snprintf(batch, sizeof batch,
             "addr replace %s/%d dev %s\n"
             "link set %s up\n"
             "route replace unreachable %s/%d\n",
             gw, pod->prefix, bridge, bridge, cl, cluster->prefix);
    char *const argv[] = {(char *)ip_bin, "-batch", "-", NULL};
    int rc = kubelet_runc_cmd_err(argv, NULL, batch, S_CMD_MS, err, errlen);
    if (rc < 0)
        return rc;
    rc = s_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    if (rc < 0 && err)
        snprintf(err, errlen, "enabling net.ipv4.ip_forward: %s", strerror(-rc));
    return rc;
}

int kubelet_net_node_down(const char *ip_bin, const char *bridge, const kl_cidr_t *cluster)
{
    int rc = 0;
    if (if_nametoindex(bridge) != 0) {
        char *const del[] = {(char *)ip_bin, "link", "del", (char *)bridge, NULL};
        rc = kubelet_runc_cmd(del, NULL, NULL, S_CMD_MS, NULL, 0, NULL);
    }
    char cl[40], a[16];
    kubelet_net_ntoa(cluster->net, a);
    snprintf(cl, sizeof cl, "%s/%d", a, cluster->prefix);
    char *const route[] = {(char *)ip_bin, "route", "del", "unreachable", cl, NULL};
    kubelet_runc_cmd(route, NULL, NULL, S_CMD_MS, NULL, 0, NULL); /* absent is fine */
    return rc;
}

int kubelet_net_pod_up(const char *ip_bin, const char *netns, const char *bridge, const char *veth,
                       const kl_cidr_t *pod, uint32_t ip, char *err, size_t errlen)
{
    char a[16], gw[16], batch[768];
    kubelet_net_ntoa(ip, a);
    kubelet_net_ntoa(pod->net + 1, gw);
    /* made inside the pod namespace; the peer goes to ours (named by our pid) */
    snprintf(batch, sizeof batch,
             "link add eth0 type veth peer name %s netns %d\n"
             "addr add %s/%d dev eth0\n"
             "link set lo up\n"
             "link set eth0 up\n"
             "route replace default via %s dev eth0\n",
             veth, (int)getpid(), a, pod->prefix, gw);
    char *const in_pod[] = {(char *)ip_bin, "-batch", "-", NULL};
    int rc = kubelet_runc_cmd_err(in_pod, netns, batch, S_CMD_MS, err, errlen);
    if (rc < 0)
        return rc;
    char *const host[] = {(char *)ip_bin, "link",         "set", (char *)veth,
                          "master",       (char *)bridge, "up",  NULL};
    rc = kubelet_runc_cmd_err(host, NULL, NULL, S_CMD_MS, err, errlen);
    if (rc < 0)
        kubelet_net_pod_down(ip_bin, veth);
    return rc;
}

int kubelet_net_pod_down(const char *ip_bin, const char *veth)
{
    if (if_nametoindex(veth) == 0)
        return 0;
    char *const del[] = {(char *)ip_bin, "link", "del", (char *)veth, NULL};
    int rc = kubelet_runc_cmd(del, NULL, NULL, S_CMD_MS, NULL, 0, NULL);
    return if_nametoindex(veth) == 0 ? 0 : rc;
}
