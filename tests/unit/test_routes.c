/*
 * tests/unit/test_routes — which host-gw route the kubelet wants for another
 * node (actors/kubelet/routes.c): only remote nodes with a pod CIDR inside
 * the cluster's range and an InternalIP of their own.
 */
#include <string.h>

#include "actors/kubelet/routes.h"
#include "test.h"

static json_t *s_node(const char *name, const char *cidr, const char *ip)
{
    json_t *n = json_pack("{s:s, s:{s:s}, s:{}, s:{s:[]}}", "kind", "Node", "metadata", "name",
                          name, "spec", "status", "addresses");
    if (cidr)
        json_object_set_new(json_object_get(n, "spec"), "podCIDR", json_string(cidr));
    json_t *addrs = json_object_get(json_object_get(n, "status"), "addresses");
    json_array_append_new(addrs, json_pack("{s:s, s:s}", "type", "Hostname", "address", name));
    if (ip)
        json_array_append_new(addrs, json_pack("{s:s, s:s}", "type", "InternalIP", "address", ip));
    return n;
}

TEST(remote_node_gets_a_route)
{
    char cidr[20] = "", via[16] = "";
    json_t *n = s_node("w2", "10.201.2.0/24", "10.250.0.3");
    CHECK_EQ_STR(kubelet_node_internal_ip(n), "10.250.0.3");
    CHECK(kubelet_route_for(n, "w1", "10.250.0.2", "10.201.1.0/24", "10.201.0.0/16", cidr, via));
    CHECK_EQ_STR(cidr, "10.201.2.0/24");
    CHECK_EQ_STR(via, "10.250.0.3");
    /* our own pod CIDR unknown yet: still routed */
    CHECK(kubelet_route_for(n, "w1", "10.250.0.2", NULL, "10.201.0.0/16", cidr, via));
    json_decref(n);
}

TEST(no_route_when_not_wanted)
{
    char cidr[20], via[16];
    struct {
        json_t *n;
        const char *why;
    } cases[] = {
        {s_node("w1", "10.201.1.0/24", "10.250.0.2"), "self"},
        {s_node("w2", NULL, "10.250.0.3"), "no podCIDR"},
        {s_node("w2", "10.201.2.0/24", NULL), "no InternalIP"},
        {s_node("w2", "10.201.2.0/24", "10.250.0.2"), "same InternalIP (one host)"},
        {s_node("w2", "10.9.2.0/24", "10.250.0.3"), "outside the cluster range"},
        {s_node("w2", "0.0.0.0/0", "10.250.0.3"), "default route"},
        {s_node("w2", "10.201.2.0/24", "not-an-ip"), "bad InternalIP"},
        {s_node("w2", "10.201.1.0/24", "10.250.0.3"), "our own pod CIDR"},
        {s_node("w2", "10.201.0.0/20", "10.250.0.3"), "a range holding our pod CIDR"},
        {s_node("w2", "10.201.2.0/24; rm -rf /", "10.250.0.3"), "garbage CIDR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (kubelet_route_for(cases[i].n, "w1", "10.250.0.2", "10.201.1.0/24", "10.201.0.0/16",
                              cidr, via))
            T_FAIL("route wanted despite: %s", cases[i].why);
        json_decref(cases[i].n);
    }
    json_t *n = s_node("w2", "10.201.2.0/24", "10.250.0.3");
    CHECK(!kubelet_route_for(n, "w1", "", NULL, "10.201.0.0/16", cidr, via)); /* own IP unknown */
    CHECK(!kubelet_route_for(n, "w1", NULL, NULL, "10.201.0.0/16", cidr, via));
    json_decref(n);
}
