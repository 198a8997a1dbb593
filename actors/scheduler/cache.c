/*
 * actors/scheduler/cache.c — the scheduler's view of the cluster: one record
 * per node (allocatable, what the pods accounted on it request, host ports in
 * use, labels, taints, readiness) and one per accounted pod (bound, or
 * assumed before the watch confirms the binding), plus per-owner pod counts
 * by node for spreading. Nodes are parsed once per change, so filtering a
 * pod against a node is a handful of integer compares (schedule.c).
 */
#include "actors/scheduler/cache_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/obj.h"
#include "protocol/quantity.h"
#include "protocol/status.h"

static void *s_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return p;
}

static void *s_grow(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return q;
}

sched_cache_t *sched_cache_new(uint64_t seed)
{
    sched_cache_t *c = s_alloc(sizeof *c);
    c->node_idx = json_object();
    c->pods = json_object();
    c->owners = json_object();
    c->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    return c;
}

static s_pod_t *s_pod_ptr(const json_t *v)
{
    return v ? (s_pod_t *)(intptr_t)json_integer_value(v) : NULL;
}

static s_owner_t *s_owner_ptr(const json_t *v)
{
    return v ? (s_owner_t *)(intptr_t)json_integer_value(v) : NULL;
}

void sched_cache_destroy(sched_cache_t **cp)
{
    if (!cp || !*cp)
        return;
    sched_cache_t *c = *cp;
    const char *k;
    json_t *v;
    json_object_foreach(c->pods, k, v) {
        s_pod_t *p = s_pod_ptr(v);
        free(p->owner);
        free(p->ports);
        free(p);
    }
    json_object_foreach(c->owners, k, v) {
        s_owner_t *o = s_owner_ptr(v);
        free(o->counts);
        free(o);
    }
    for (size_t i = 0; i < c->nnodes; i++) {
        free(c->nodes[i].name);
        free(c->nodes[i].ports);
        json_decref(c->nodes[i].labels);
        json_decref(c->nodes[i].taints);
    }
    free(c->nodes);
    free(c->scratch);
    free(c->scores);
    json_decref(c->node_idx);
    json_decref(c->pods);
    json_decref(c->owners);
    free(c);
    *cp = NULL;
}

/* ---- quantities ----------------------------------------------------------- */

/* Milli-units (cpu) or units (memory, pods) of a quantity; 0 when absent.
 * -1 when present but malformed or negative. Values are capped at
 * SCHED_QTY_MAX so that sums over the pods of a node cannot overflow. */
int64_t sched_qty(const json_t *map, const char *res, bool milli)
{
    const json_t *v = json_object_get(map, res);
    if (!v)
        return 0;
    proto_qty_t q;
    int64_t x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
        if (x < 0)
            return -1;
        x = x > SCHED_QTY_MAX / 1000 ? SCHED_QTY_MAX : milli ? x * 1000 : x;
    } else if (json_is_string(v) && proto_qty_parse(json_string_value(v), &q) == 0) {
        x = milli ? proto_qty_milli(&q) : proto_qty_value(&q);
    } else {
        return -1;
    }
    return x < 0 ? -1 : x > SCHED_QTY_MAX ? SCHED_QTY_MAX : x;
}

/* ---- nodes ------------------------------------------------------------------- */

static bool s_node_ready(const json_t *node)
{
    size_t i;
    json_t *cd;
    json_array_foreach(proto_obj_get(node, "status.conditions"), i, cd) {
        const char *t = json_string_value(json_object_get(cd, "type"));
        if (t && !strcmp(t, "Ready")) {
            const char *st = json_string_value(json_object_get(cd, "status"));
            return st && !strcmp(st, "True");
        }
    }
    return false;
}

static size_t s_node_slot(sched_cache_t *c, const char *name)
{
    json_t *v = json_object_get(c->node_idx, name);
    if (v)
        return (size_t)json_integer_value(v);
    if (c->nnodes == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->nodes = s_grow(c->nodes, c->cap * sizeof *c->nodes);
    }
    s_node_t *n = &c->nodes[c->nnodes];
    memset(n, 0, sizeof *n);
    n->name = strdup(name);
    if (!n->name)
        abort();
    json_object_set_new(c->node_idx, name, json_integer((json_int_t)c->nnodes));
    return c->nnodes++;
}

/* Parsed fields of a node object; labels and taints are new references. */
static void s_node_parse(const json_t *node, s_node_t *out)
{
    const json_t *al = proto_obj_get(node, "status.allocatable");
    if (!json_is_object(al))
        al = proto_obj_get(node, "status.capacity");
    out->a_cpu = sched_qty(al, "cpu", true);
    out->a_mem = sched_qty(al, "memory", false);
    out->a_pods = sched_qty(al, "pods", false);
    out->ready = s_node_ready(node);
    out->unsched = json_is_true(proto_obj_get(node, "spec.unschedulable"));
    json_t *l = proto_obj_labels(node), *t = proto_obj_get(node, "spec.taints");
    out->labels = json_is_object(l) ? json_incref(l) : NULL;
    out->taints = json_is_array(t) && json_array_size(t) ? json_incref(t) : NULL;
}

static bool s_json_same(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    return json_equal((json_t *)a, (json_t *)b);
}

bool sched_cache_node_set(sched_cache_t *c, const json_t *node)
{
    const char *name = proto_obj_name(node);
    if (!name || !*name)
        return false;
    size_t i = s_node_slot(c, name);
    s_node_t *n = &c->nodes[i], p = {0};
    s_node_parse(node, &p);
    bool changed = !n->present || n->a_cpu != p.a_cpu || n->a_mem != p.a_mem ||
                   n->a_pods != p.a_pods || n->ready != p.ready || n->unsched != p.unsched ||
                   !s_json_same(n->labels, p.labels) || !s_json_same(n->taints, p.taints);
    if (!n->present)
        c->npresent++;
    n->present = true;
    n->a_cpu = p.a_cpu;
    n->a_mem = p.a_mem;
    n->a_pods = p.a_pods;
    n->ready = p.ready;
    n->unsched = p.unsched;
    json_decref(n->labels);
    json_decref(n->taints);
    n->labels = p.labels;
    n->taints = p.taints;
    return changed;
}

void sched_cache_node_del(sched_cache_t *c, const char *name)
{
    json_t *v = json_object_get(c->node_idx, name);
    if (!v)
        return;
    s_node_t *n = &c->nodes[json_integer_value(v)];
    if (n->present)
        c->npresent--;
    n->present = false;
}

size_t sched_cache_node_count(const sched_cache_t *c)
{
    return c->npresent;
}

/* ---- pods ---------------------------------------------------------------- */

static void s_owner_add(sched_cache_t *c, const char *uid, size_t node, int delta)
{
    json_t *v = json_object_get(c->owners, uid);
    s_owner_t *o = s_owner_ptr(v);
    if (!o) {
        if (delta < 0)
            return;
        o = s_alloc(sizeof *o);
        json_object_set_new(c->owners, uid, json_integer((json_int_t)(intptr_t)o));
    }
    if (node >= o->cap) {
        size_t cap = c->cap > node ? c->cap : node + 1;
        o->counts = s_grow(o->counts, cap * sizeof *o->counts);
        memset(o->counts + o->cap, 0, (cap - o->cap) * sizeof *o->counts);
        o->cap = cap;
    }
    if (delta < 0 && o->counts[node] == 0)
        return;
    o->counts[node] += (uint32_t)delta;
    o->total += (size_t)(int64_t)delta;
    if (o->total == 0) {
        free(o->counts);
        free(o);
        json_object_del(c->owners, uid);
    }
}

static void s_account(sched_cache_t *c, const s_pod_t *p, int sign)
{
    s_node_t *n = &c->nodes[p->node];
    n->cpu += sign * p->cpu;
    n->mem += sign * p->mem;
    n->cpu_nz += sign * p->cpu_nz;
    n->mem_nz += sign * p->mem_nz;
    n->npods += sign;
    if (p->owner)
        s_owner_add(c, p->owner, p->node, sign);
    for (size_t i = 0; i < p->nports; i++) {
        if (sign > 0) {
            if (n->nports == n->cap_ports) {
                n->cap_ports = n->cap_ports ? n->cap_ports * 2 : 4;
                n->ports = s_grow(n->ports, n->cap_ports * sizeof *n->ports);
            }
            n->ports[n->nports++] = p->ports[i];
            continue;
        }
        for (size_t j = 0; j < n->nports; j++)
            if (!memcmp(&n->ports[j], &p->ports[i], sizeof p->ports[i])) {
                n->ports[j] = n->ports[--n->nports];
                break;
            }
    }
}

static char *s_pod_key(const char *ns, const char *name)
{
    char *k = NULL;
    if (asprintf(&k, "%s/%s", ns ? ns : "", name ? name : "") < 0)
        abort();
    return k;
}

bool sched_cache_pod_del(sched_cache_t *c, const char *ns, const char *name)
{
    char *key = s_pod_key(ns, name);
    s_pod_t *p = s_pod_ptr(json_object_get(c->pods, key));
    if (p) {
        s_account(c, p, -1);
        free(p->owner);
        free(p->ports);
        free(p);
        json_object_del(c->pods, key);
    }
    free(key);
    return p != NULL;
}

void sched_cache_pod_set(sched_cache_t *c, const json_t *pod, const char *node, bool assumed)
{
    const char *ns = proto_obj_ns(pod), *name = proto_obj_name(pod);
    if (!name || !node || !*node)
        return;
    sched_cache_pod_del(c, ns, name);
    s_req_t r;
    sched_req_parse(pod, &r, NULL, 0);
    s_pod_t *p = s_alloc(sizeof *p);
    p->node = s_node_slot(c, node);
    p->cpu = r.cpu;
    p->mem = r.mem;
    p->cpu_nz = r.cpu_nz;
    p->mem_nz = r.mem_nz;
    if (r.nports) {
        p->ports = s_alloc(r.nports * sizeof *p->ports);
        memcpy(p->ports, r.ports, r.nports * sizeof *p->ports);
        p->nports = r.nports;
    }
    p->owner = r.owner ? strdup(r.owner) : NULL;
    p->assumed = assumed;
    p->assumed_at = assumed ? proto_mono_ms() : 0;
    s_account(c, p, +1);
    char *key = s_pod_key(ns, name);
    json_object_set_new(c->pods, key, json_integer((json_int_t)(intptr_t)p));
    free(key);
}

const char *sched_cache_pod_node(const sched_cache_t *c, const char *ns, const char *name,
                                 bool *assumed)
{
    char *key = s_pod_key(ns, name);
    s_pod_t *p = s_pod_ptr(json_object_get(c->pods, key));
    free(key);
    if (assumed)
        *assumed = p && p->assumed;
    return p ? c->nodes[p->node].name : NULL;
}

size_t sched_cache_expire(sched_cache_t *c, int64_t now_ms, int64_t ttl_ms)
{
    size_t n = 0;
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(c->pods, tmp, k, v) {
        s_pod_t *p = s_pod_ptr(v);
        if (!p->assumed || now_ms - p->assumed_at < ttl_ms)
            continue;
        s_account(c, p, -1);
        free(p->owner);
        free(p->ports);
        free(p);
        json_object_del(c->pods, k);
        n++;
    }
    return n;
}

/* Pods of owner uid accounted on node index i. */
uint32_t sched_owner_count(const sched_cache_t *c, const char *uid, size_t i)
{
    s_owner_t *o = uid ? s_owner_ptr(json_object_get(c->owners, uid)) : NULL;
    return o && i < o->cap ? o->counts[i] : 0;
}

const uint32_t *sched_owner_counts(const sched_cache_t *c, const char *uid, size_t *n)
{
    s_owner_t *o = uid ? s_owner_ptr(json_object_get(c->owners, uid)) : NULL;
    *n = o ? o->cap : 0;
    return o ? o->counts : NULL;
}
