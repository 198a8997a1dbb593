/*
 * actors/scheduler/schedule.c — the scheduling algorithm over the cache:
 * parse what a pod needs once, run kube-scheduler's default filters in their
 * order (NodeUnschedulable, TaintToleration — a NotReady node counting as
 * tainted node.kubernetes.io/not-ready:NoSchedule —, NodeAffinity,
 * NodePorts, NodeResourcesFit) against each node until enough feasible nodes
 * are found (percentageOfNodesToScore), score them (least allocated, weight
 * 1; spreading of the pod's controller, weight 2), pick the best with a
 * random tie-break. When nothing fits, the FailedScheduling message is built
 * with kube-scheduler 1.32's wording (FitError.Error()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/scheduler/cache_int.h"
#include "protocol/obj.h"
#include "protocol/status.h"

enum {
    S_R_UNSCHED = 1u,
    S_R_TAINT = 2u,
    S_R_AFFINITY = 4u,
    S_R_PORTS = 8u,
    S_R_CPU = 16u,
    S_R_MEM = 32u,
    S_R_PODS = 64u,
};
#define S_UNRESOLVABLE (S_R_UNSCHED | S_R_TAINT | S_R_AFFINITY)

/* ---- what a pod needs ------------------------------------------------------ */

/* Requests of one container (limits stand in for absent requests, as
 * defaulting does). -1 on a malformed quantity. */
static int s_ctr_requests(const json_t *ctr, int64_t v[2], char *err, size_t errlen)
{
    const json_t *req = proto_obj_get(ctr, "resources.requests");
    const json_t *lim = proto_obj_get(ctr, "resources.limits");
    static const char *const res[2] = {"cpu", "memory"};
    for (int i = 0; i < 2; i++) {
        const json_t *m = json_object_get(req, res[i]) ? req : lim;
        v[i] = sched_qty(m, res[i], i == 0);
        if (v[i] < 0) {
            if (err)
                snprintf(err, errlen, "container %s: invalid %s request",
                         json_string_value(json_object_get(ctr, "name")) ?: "?", res[i]);
            return -1;
        }
    }
    return 0;
}

static void s_req_ports(const json_t *ctr, s_req_t *r)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ctr, "ports"), i, p) {
        json_int_t hp = json_integer_value(json_object_get(p, "hostPort"));
        if (hp <= 0 || hp > 65535 || r->nports >= SCHED_MAX_PORTS)
            continue;
        s_port_t *sp = &r->ports[r->nports++];
        memset(sp, 0, sizeof *sp);
        sp->port = (uint16_t)hp;
        const char *pr = json_string_value(json_object_get(p, "protocol"));
        sp->proto = pr && !strcmp(pr, "UDP") ? 1 : pr && !strcmp(pr, "SCTP") ? 2 : 0;
        const char *ip = json_string_value(json_object_get(p, "hostIP"));
        snprintf(sp->ip, sizeof sp->ip, "%s", ip && *ip ? ip : "0.0.0.0");
    }
}

static int s_req_resources(const json_t *pod, s_req_t *r, char *err, size_t errlen)
{
    size_t i;
    json_t *ctr;
    int64_t v[2];
    json_array_foreach(proto_obj_get(pod, "spec.containers"), i, ctr) {
        if (s_ctr_requests(ctr, v, err, errlen) < 0)
            return -1;
        r->cpu += v[0];
        r->mem += v[1];
        r->cpu_nz += v[0] ? v[0] : SCHED_NZ_CPU;
        r->mem_nz += v[1] ? v[1] : SCHED_NZ_MEM;
        s_req_ports(ctr, r);
    }
    json_array_foreach(proto_obj_get(pod, "spec.initContainers"), i, ctr) {
        if (s_ctr_requests(ctr, v, err, errlen) < 0)
            return -1;
        r->cpu = v[0] > r->cpu ? v[0] : r->cpu;
        r->mem = v[1] > r->mem ? v[1] : r->mem;
        r->cpu_nz = v[0] > r->cpu_nz ? v[0] : r->cpu_nz;
        r->mem_nz = v[1] > r->mem_nz ? v[1] : r->mem_nz;
    }
    const json_t *ov = proto_obj_get(pod, "spec.overhead");
    int64_t oc = sched_qty(ov, "cpu", true), om = sched_qty(ov, "memory", false);
    if (oc < 0 || om < 0) {
        if (err)
            snprintf(err, errlen, "invalid spec.overhead");
        return -1;
    }
    r->cpu += oc;
    r->mem += om;
    r->cpu_nz += oc;
    r->mem_nz += om;
    return 0;
}

static const char *s_controller_uid(const json_t *pod)
{
    size_t i;
    json_t *ref;
    json_array_foreach(proto_obj_get(pod, "metadata.ownerReferences"), i, ref) {
        if (json_is_true(json_object_get(ref, "controller")))
            return json_string_value(json_object_get(ref, "uid"));
    }
    return NULL;
}

int sched_req_parse(const json_t *pod, s_req_t *r, char *err, size_t errlen)
{
    memset(r, 0, offsetof(s_req_t, ports));
    r->selector = proto_obj_get(pod, "spec.nodeSelector");
    if (!json_is_object(r->selector) || !json_object_size(r->selector))
        r->selector = NULL;
    r->terms = proto_obj_get(pod, "spec.affinity.nodeAffinity."
                                  "requiredDuringSchedulingIgnoredDuringExecution."
                                  "nodeSelectorTerms");
    if (!json_is_array(r->terms))
        r->terms = NULL;
    r->tolerations = proto_obj_get(pod, "spec.tolerations");
    r->owner = s_controller_uid(pod);
    const char *pp = proto_obj_str(pod, "spec.preemptionPolicy");
    r->no_preempt = pp && !strcmp(pp, "Never");
    if (s_req_resources(pod, r, err, errlen) < 0) {
        r->cpu = r->mem = r->cpu_nz = r->mem_nz = 0;
        r->nports = 0;
        return PROTO_EINVALID;
    }
    return 0;
}

/* ---- filters -------------------------------------------------------------- */

static bool s_tolerated(const json_t *tols, const json_t *taint)
{
    size_t i;
    json_t *t;
    json_array_foreach(tols, i, t) {
        if (sched_tolerates(t, taint))
            return true;
    }
    return false;
}

static bool s_tolerated_kv(const json_t *tols, const char *key, const char *effect)
{
    size_t i;
    json_t *t;
    json_array_foreach(tols, i, t) {
        if (sched_tolerates_kv(t, key, "", effect))
            return true;
    }
    return false;
}

/* The first NoSchedule/NoExecute taint of n that r does not tolerate. */
static const json_t *s_untolerated(const s_node_t *n, const s_req_t *r)
{
    size_t i;
    json_t *t;
    json_array_foreach(n->taints, i, t) {
        const char *eff = json_string_value(json_object_get(t, "effect"));
        if (!eff || (strcmp(eff, "NoSchedule") && strcmp(eff, "NoExecute")))
            continue;
        if (!s_tolerated(r->tolerations, t))
            return t;
    }
    return NULL;
}

static bool s_affinity_ok(const s_node_t *n, const s_req_t *r)
{
    if (r->selector) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)r->selector, k, v) {
            const char *have = json_string_value(json_object_get(n->labels, k));
            const char *want = json_string_value(v);
            if (!have || !want || strcmp(have, want) != 0)
                return false;
        }
    }
    if (!r->terms)
        return true;
    size_t i;
    json_t *term;
    json_array_foreach(r->terms, i, term) {
        if (sched_term_matches(term, n->labels, n->name))
            return true;
    }
    return false;
}

static bool s_port_clash(const s_port_t *a, const s_port_t *b)
{
    if (a->port != b->port || a->proto != b->proto)
        return false;
    return !strcmp(a->ip, b->ip) || !strcmp(a->ip, "0.0.0.0") || !strcmp(b->ip, "0.0.0.0");
}

static bool s_ports_ok(const s_node_t *n, const s_req_t *r)
{
    for (size_t i = 0; i < r->nports; i++)
        for (size_t j = 0; j < n->nports; j++)
            if (s_port_clash(&r->ports[i], &n->ports[j]))
                return false;
    return true;
}

static unsigned s_resources(const s_node_t *n, const s_req_t *r)
{
    unsigned bits = 0;
    if (n->npods + 1 > n->a_pods)
        bits |= S_R_PODS;
    if (r->cpu > 0 && r->cpu > n->a_cpu - n->cpu)
        bits |= S_R_CPU;
    if (r->mem > 0 && r->mem > n->a_mem - n->mem)
        bits |= S_R_MEM;
    return bits;
}

/* 0 when pod fits node; else the failing plugin's reasons (first plugin
 * that fails, as the framework stops there); *taint names an untolerated
 * taint (NULL: the NotReady one). */
static unsigned s_fit(const s_node_t *n, const s_req_t *r, const json_t **taint)
{
    *taint = NULL;
    if (n->unsched && !s_tolerated_kv(r->tolerations, "node.kubernetes.io/unschedulable",
                                      "NoSchedule"))
        return S_R_UNSCHED;
    if (n->taints && (*taint = s_untolerated(n, r)) != NULL)
        return S_R_TAINT;
    if (!n->ready && !s_tolerated_kv(r->tolerations, "node.kubernetes.io/not-ready", "NoSchedule"))
        return S_R_TAINT;
    if ((r->selector || r->terms) && !s_affinity_ok(n, r))
        return S_R_AFFINITY;
    if (r->nports && n->nports && !s_ports_ok(n, r))
        return S_R_PORTS;
    return s_resources(n, r);
}

/* ---- the FailedScheduling message ------------------------------------------ */

#define S_HIST_MAX 32

typedef struct s_hist {
    struct {
        char text[300];
        size_t n;
    } e[S_HIST_MAX];
    size_t len;
} s_hist_t;

static void s_hist_add(s_hist_t *h, const char *text)
{
    for (size_t i = 0; i < h->len; i++)
        if (!strcmp(h->e[i].text, text)) {
            h->e[i].n++;
            return;
        }
    if (h->len == S_HIST_MAX)
        return;
    snprintf(h->e[h->len].text, sizeof h->e[0].text, "%s", text);
    h->e[h->len++].n = 1;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "0/N nodes are available: 1 a, 2 b." (entries sorted as strings,
 * as Go's sort.Strings does). */
static void s_hist_fmt(const s_hist_t *h, size_t total, char *buf, size_t n, size_t *off)
{
    char *items[S_HIST_MAX];
    for (size_t i = 0; i < h->len; i++)
        if (asprintf(&items[i], "%zu %s", h->e[i].n, h->e[i].text) < 0)
            abort();
    qsort(items, h->len, sizeof items[0], s_cmp_str);
    *off += (size_t)snprintf(buf + *off, *off < n ? n - *off : 0, "0/%zu nodes are available:",
                             total);
    for (size_t i = 0; i < h->len; i++) {
        *off += (size_t)snprintf(buf + *off, *off < n ? n - *off : 0, "%s%s", i ? ", " : " ",
                                 items[i]);
        free(items[i]);
    }
    *off += (size_t)snprintf(buf + *off, *off < n ? n - *off : 0, ".");
}

static void s_reasons(s_hist_t *h, unsigned bits, const json_t *taint)
{
    char t[300];
    if (bits & S_R_UNSCHED)
        s_hist_add(h, "node(s) were unschedulable");
    if (bits & S_R_TAINT) {
        const char *k = taint ? json_string_value(json_object_get(taint, "key")) : NULL;
        const char *v = taint ? json_string_value(json_object_get(taint, "value")) : NULL;
        snprintf(t, sizeof t, "node(s) had untolerated taint {%s: %s}",
                 taint ? (k ? k : "") : "node.kubernetes.io/not-ready", v ? v : "");
        s_hist_add(h, t);
    }
    if (bits & S_R_AFFINITY)
        s_hist_add(h, "node(s) didn't match Pod's node affinity/selector");
    if (bits & S_R_PORTS)
        s_hist_add(h, "node(s) didn't have free ports for the requested pod ports");
    if (bits & S_R_CPU)
        s_hist_add(h, "Insufficient cpu");
    if (bits & S_R_MEM)
        s_hist_add(h, "Insufficient memory");
    if (bits & S_R_PODS)
        s_hist_add(h, "Too many pods");
}

static void s_message(const sched_cache_t *c, const s_req_t *r, char *msg, size_t n)
{
    s_hist_t *f = calloc(1, sizeof *f), *p = calloc(1, sizeof *p);
    if (!f || !p)
        abort();
    for (size_t i = 0; i < c->nnodes; i++) {
        const json_t *taint;
        if (!c->nodes[i].present)
            continue;
        unsigned bits = s_fit(&c->nodes[i], r, &taint);
        s_reasons(f, bits, taint);
        s_hist_add(p, bits & S_UNRESOLVABLE ? "Preemption is not helpful for scheduling"
                                            : "No preemption victims found for incoming pod");
    }
    size_t off = 0;
    s_hist_fmt(f, c->npresent, msg, n, &off);
    if (r->no_preempt) {
        snprintf(msg + (off < n ? off : n - 1), off < n ? n - off : 1,
                 " preemption: not eligible due to preemptionPolicy=Never.");
    } else {
        off += (size_t)snprintf(msg + (off < n ? off : n - 1), off < n ? n - off : 1,
                                " preemption: ");
        s_hist_fmt(p, c->npresent, msg, n, &off);
    }
    free(f);
    free(p);
}

/* ---- scores --------------------------------------------------------------- */

static int64_t s_least(int64_t alloc, int64_t used)
{
    if (alloc <= 0 || used > alloc)
        return 0;
    return (alloc - used) * 100 / alloc;
}

static int s_score_least(const s_node_t *n, const s_req_t *r)
{
    return (int)((s_least(n->a_cpu, n->cpu_nz + r->cpu_nz) +
                  s_least(n->a_mem, n->mem_nz + r->mem_nz)) / 2);
}

static int s_score_spread(uint32_t count, uint32_t max)
{
    return max ? (int)(100ull * (max - count) / max) : 100;
}

static uint64_t s_rand(sched_cache_t *c)
{
    uint64_t x = c->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return c->rng = x;
}

/* Highest score among the nf feasible nodes in c->scratch; ties at random
 * (reservoir sampling, as kube-scheduler's selectHost). */
static size_t s_pick(sched_cache_t *c, const s_req_t *r, size_t nf)
{
    size_t nc = 0;
    const uint32_t *cnt = r->owner ? sched_owner_counts(c, r->owner, &nc) : NULL;
    uint32_t max = 0;
    for (size_t k = 0; cnt && k < nf; k++)
        if (c->scratch[k] < nc && cnt[c->scratch[k]] > max)
            max = cnt[c->scratch[k]];
    int best = -1;
    size_t pick = 0, ties = 0;
    for (size_t k = 0; k < nf; k++) {
        size_t i = c->scratch[k];
        int s = s_score_least(&c->nodes[i], r);
        if (r->owner)
            s += 2 * s_score_spread(cnt && i < nc ? cnt[i] : 0, max);
        if (s > best) {
            best = s;
            pick = i;
            ties = 1;
        } else if (s == best && s_rand(c) % ++ties == 0) {
            pick = i;
        }
    }
    return pick;
}

/* kube-scheduler's numFeasibleNodesToFind with the adaptive percentage. */
static size_t s_num_to_find(size_t all)
{
    if (all < 100)
        return all;
    long pct = 50 - (long)all / 125;
    if (pct < 5)
        pct = 5;
    size_t n = all * (size_t)pct / 100;
    return n < 100 ? 100 : n;
}

static void s_scratch(sched_cache_t *c)
{
    if (c->scratch_cap >= c->nnodes)
        return;
    c->scratch_cap = c->nnodes * 2;
    free(c->scratch);
    c->scratch = malloc(c->scratch_cap * sizeof *c->scratch);
    if (!c->scratch)
        abort();
}

int sched_cache_schedule(sched_cache_t *c, const json_t *pod, char *node, size_t nodelen,
                         char *msg, size_t msglen)
{
    s_req_t r;
    char err[256];
    if (sched_req_parse(pod, &r, err, sizeof err) < 0) {
        snprintf(msg, msglen, "%s", err);
        return PROTO_EINVALID;
    }
    if (c->npresent == 0) {
        snprintf(msg, msglen, "no nodes available to schedule pods");
        return PROTO_EUNAVAILABLE;
    }
    s_scratch(c);
    size_t want = s_num_to_find(c->npresent), nf = 0, k = 0;
    const json_t *taint;
    for (; k < c->nnodes && nf < want; k++) {
        size_t i = (c->next_start + k) % c->nnodes;
        if (c->nodes[i].present && s_fit(&c->nodes[i], &r, &taint) == 0)
            c->scratch[nf++] = i;
    }
    c->next_start = (c->next_start + k) % c->nnodes;
    if (nf == 0) {
        s_message(c, &r, msg, msglen);
        return PROTO_EUNAVAILABLE;
    }
    snprintf(node, nodelen, "%s", c->nodes[s_pick(c, &r, nf)].name);
    return 0;
}

static const s_node_t *s_node_by_name(const sched_cache_t *c, const char *name, size_t *idx)
{
    json_t *v = json_object_get(c->node_idx, name);
    if (!v || !c->nodes[json_integer_value(v)].present)
        return NULL;
    *idx = (size_t)json_integer_value(v);
    return &c->nodes[*idx];
}

int sched_cache_fit(const sched_cache_t *c, const json_t *pod, const char *node, char *why,
                    size_t whylen)
{
    size_t idx;
    const s_node_t *n = s_node_by_name(c, node, &idx);
    s_req_t r;
    if (!n)
        return PROTO_ENOTFOUND;
    sched_req_parse(pod, &r, NULL, 0);
    const json_t *taint;
    unsigned bits = s_fit(n, &r, &taint);
    if (!bits)
        return 0;
    s_hist_t h = {.len = 0};
    s_reasons(&h, bits, taint);
    size_t off = 0;
    why[0] = 0;
    for (size_t i = 0; i < h.len; i++)
        off += (size_t)snprintf(why + (off < whylen ? off : whylen - 1),
                                off < whylen ? whylen - off : 1, "%s%s", i ? ", " : "",
                                h.e[i].text);
    return PROTO_EUNAVAILABLE;
}

int sched_cache_score(const sched_cache_t *c, const json_t *pod, const char *node)
{
    size_t idx;
    const s_node_t *n = s_node_by_name(c, node, &idx);
    if (!n)
        return -1;
    s_req_t r;
    sched_req_parse(pod, &r, NULL, 0);
    int s = s_score_least(n, &r);
    if (r.owner) {
        uint32_t max = 0, mine = sched_owner_count(c, r.owner, idx);
        for (size_t i = 0; i < c->nnodes; i++) {
            uint32_t x = c->nodes[i].present ? sched_owner_count(c, r.owner, i) : 0;
            max = x > max ? x : max;
        }
        s += 2 * s_score_spread(mine, max);
    }
    return s;
}
