/*
 * actors/controllers/replica.c — the replica manager, the one core of the
 * ReplicationController and ReplicaSet controllers (as Kubernetes'
 * ReplicaSetController serves both). Informers on the owners and on pods
 * feed a work queue of owner keys; reconcile reads only the caches: it
 * claims pods (adopt matching orphans, release owned pods that stopped
 * matching), creates or deletes pods until exactly spec.replicas active pods
 * remain, and reports status through the status subresource.
 * Expectations (expect.c) keep it from acting again before the informer has
 * seen its own creates and deletes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/controllers/internal.h"
#include "protocol/obj.h"
#include "runtime/informer.h"
#include "runtime/log.h"
#include "runtime/queue.h"

#define S_BURST 500 /* creations or deletions per reconcile, as Kubernetes' burstReplicas */
#define S_RETRY_MS 1000

typedef struct s_rm {
    rt_actor_t *a;
    bool is_rc;
    const char *resource, *kind;
    rt_informer_t *owners, *pods;
    rt_queue_t *q;
    ctrl_exp_t *exp;
} s_rm_t;

typedef enum { S_CREATE, S_DELETE, S_CLAIM, S_STATUS } s_op_t;

typedef struct s_ctx {
    s_rm_t *rm;
    s_op_t op;
    char key[512];     /* the owner */
    char pod_key[512]; /* deletes */
} s_ctx_t;

/* ---- writes ------------------------------------------------------------------ */

static void s_reply(rt_actor_t *a, int code, const json_t *body, void *arg)
{
    s_ctx_t *c = arg;
    s_rm_t *rm = c->rm;
    bool ok = code >= 200 && code < 300;
    if (c->op == S_CREATE && !ok)
        ctrl_exp_observe_add(rm->exp, c->key); /* it will never be seen */
    if (c->op == S_DELETE && !ok)
        ctrl_exp_observe_del(rm->exp, c->key, c->pod_key);
    if (!ok && !(c->op == S_DELETE && code == 404)) {
        static const char *const what[] = {"create a pod", "delete pod", "claim a pod",
                                           "update status"};
        rt_info("%s %s: cannot %s %s (%d): %s", rm->kind, c->key, what[c->op], c->pod_key, code,
                ctrl_reply_msg(body));
        rt_queue_add_after(rm->q, c->key, S_RETRY_MS);
    }
    free(c);
    (void)a;
}

static s_ctx_t *s_ctx(s_rm_t *rm, s_op_t op, const char *key, const char *pod_key)
{
    s_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->rm = rm;
    c->op = op;
    snprintf(c->key, sizeof c->key, "%s", key);
    snprintf(c->pod_key, sizeof c->pod_key, "%s", pod_key ? pod_key : "");
    return c;
}

static void s_create(s_rm_t *rm, const char *key, const json_t *owner)
{
    json_t *body = json_pack("{s:s, s:s, s:o}", "resource", "pods", "namespace",
                             proto_obj_ns(owner) ?: "default", "object",
                             ctrl_pod_from_template(owner));
    ctrl_call(rm->a, "create", body, s_reply, s_ctx(rm, S_CREATE, key, NULL));
}

static void s_delete(s_rm_t *rm, const char *key, const json_t *pod)
{
    char pk[512];
    ctrl_key_of(pod, pk, sizeof pk);
    json_t *body = json_pack("{s:s, s:s, s:s, s:{s:s}}", "resource", "pods", "namespace",
                             proto_obj_ns(pod) ?: "", "name", proto_obj_name(pod) ?: "",
                             "preconditions", "uid", proto_obj_uid(pod) ?: "");
    ctrl_call(rm->a, "delete", body, s_reply, s_ctx(rm, S_DELETE, key, pk));
}

/* A patch of pod's ownerReferences to refs (stolen); the resourceVersion
 * makes it conditional on the pod being as the cache saw it. */
static json_t *s_refs_body(const json_t *pod, json_t *refs)
{
    json_t *patch = json_pack("{s:{s:s, s:o}}", "metadata", "resourceVersion",
                              proto_obj_str(pod, "metadata.resourceVersion") ?: "",
                              "ownerReferences", json_array_size(refs) ? refs : json_null());
    if (!json_array_size(refs))
        json_decref(refs);
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "resource", "pods", "namespace",
                     proto_obj_ns(pod) ?: "", "name", proto_obj_name(pod) ?: "", "patchType",
                     "merge", "patch", patch);
}

typedef struct s_adopt_ctx {
    s_ctx_t c;
    char uid[64];
    json_t *body;
} s_adopt_ctx_t;

/* As Kubernetes' canAdopt recheck: the owner, read fresh from the
 * apiserver, must still exist with the same uid and not be going away
 * (an orphaning delete strips refs and removes the owner in one commit, and
 * our owner cache may not have seen the removal yet). */
static void s_adopt_checked(rt_actor_t *a, int code, const json_t *owner, void *arg)
{
    s_adopt_ctx_t *x = arg;
    const char *uid = proto_obj_uid(owner);
    if (code == 200 && uid && !strcmp(uid, x->uid) &&
        !proto_obj_get(owner, "metadata.deletionTimestamp")) {
        ctrl_call(a, "patch", x->body, s_reply, s_ctx(x->c.rm, S_CLAIM, x->c.key, x->c.pod_key));
    } else {
        json_decref(x->body);
        if (code != 404)
            rt_queue_add_after(x->c.rm->q, x->c.key, S_RETRY_MS);
    }
    free(x);
}

static void s_adopt(s_rm_t *rm, const char *key, const json_t *owner, const json_t *pod)
{
    json_t *refs = json_deep_copy(proto_obj_get(pod, "metadata.ownerReferences"));
    if (!json_is_array(refs)) {
        json_decref(refs);
        refs = json_array();
    }
    json_array_append_new(refs, ctrl_owner_ref(owner));
    s_adopt_ctx_t *x = calloc(1, sizeof *x);
    if (!x)
        abort();
    x->c.rm = rm;
    snprintf(x->c.key, sizeof x->c.key, "%s", key);
    ctrl_key_of(pod, x->c.pod_key, sizeof x->c.pod_key);
    snprintf(x->uid, sizeof x->uid, "%s", proto_obj_uid(owner) ?: "");
    x->body = s_refs_body(pod, refs);
    json_t *get = json_pack("{s:s, s:s, s:s}", "resource", rm->resource, "namespace",
                            proto_obj_ns(owner) ?: "", "name", proto_obj_name(owner) ?: "");
    ctrl_call(rm->a, "get", get, s_adopt_checked, x);
}

static void s_release(s_rm_t *rm, const char *key, const json_t *owner, const json_t *pod)
{
    char pk[512];
    json_t *uids = json_pack("{s:b}", proto_obj_uid(owner) ?: "", 1);
    json_t *refs = ctrl_refs_without(proto_obj_get(pod, "metadata.ownerReferences"), uids);
    json_decref(uids);
    ctrl_key_of(pod, pk, sizeof pk);
    ctrl_call(rm->a, "patch", s_refs_body(pod, refs), s_reply, s_ctx(rm, S_CLAIM, key, pk));
}

/* ---- reconcile ------------------------------------------------------------------ */

typedef struct s_scan {
    s_rm_t *rm;
    const char *key;
    const json_t *owner;
    const proto_sel_t *sel;
    bool deleting;
    json_t *mine; /* claimed pods (owned, or being adopted) */
} s_scan_t;

static bool s_claim_one(void *arg, const json_t *pod)
{
    s_scan_t *sc = arg;
    switch (ctrl_claim(pod, proto_obj_uid(sc->owner), sc->sel, sc->deleting)) {
    case CTRL_CLAIM_OWNED:
        json_array_append(sc->mine, (json_t *)pod);
        break;
    case CTRL_CLAIM_ADOPT:
        s_adopt(sc->rm, sc->key, sc->owner, pod);
        json_array_append(sc->mine, (json_t *)pod);
        break;
    case CTRL_CLAIM_RELEASE:
        s_release(sc->rm, sc->key, sc->owner, pod);
        break;
    default:
        break;
    }
    return true;
}

/* Creates or deletes pods so that exactly spec.replicas active ones remain. */
static void s_manage(s_rm_t *rm, const char *key, const json_t *owner, const json_t *mine)
{
    json_t *active = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(mine, i, p)
        if (ctrl_pod_active(p))
            json_array_append(active, p);
    int64_t want = proto_obj_int(owner, "spec.replicas", 1);
    int64_t diff = (int64_t)json_array_size(active) - (want < 0 ? 0 : want);
    int64_t now = proto_mono_ms();
    ctrl_exp_forget(rm->exp, key);
    if (diff < 0) {
        int n = -diff > S_BURST ? S_BURST : (int)-diff;
        ctrl_exp_expect_adds(rm->exp, key, n, now);
        rt_debug("%s %s: creating %d pod(s)", rm->kind, key, n);
        for (int k = 0; k < n; k++)
            s_create(rm, key, owner);
    } else if (diff > 0) {
        int n = diff > S_BURST ? S_BURST : (int)diff;
        ctrl_pods_sort(active);
        rt_debug("%s %s: deleting %d pod(s)", rm->kind, key, n);
        for (int k = 0; k < n; k++) {
            char pk[512];
            ctrl_key_of(json_array_get(active, (size_t)k), pk, sizeof pk);
            ctrl_exp_expect_del(rm->exp, key, pk, now);
        }
        for (int k = 0; k < n; k++)
            s_delete(rm, key, json_array_get(active, (size_t)k));
    }
    json_decref(active);
}

static bool s_status_differs(const json_t *owner, const json_t *st)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)st, k, v) {
        json_t *cur = json_object_get(json_object_get(owner, "status"), k);
        if (!cur && !strcmp(k, "observedGeneration"))
            return true;
        if (json_integer_value(cur) != json_integer_value(v))
            return true;
    }
    return false;
}

static void s_update_status(s_rm_t *rm, const char *key, const json_t *owner, json_t *st)
{
    if (!s_status_differs(owner, st)) {
        json_decref(st);
        return;
    }
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:o}}", "resource", rm->resource,
                             "namespace", proto_obj_ns(owner) ?: "", "name",
                             proto_obj_name(owner) ?: "", "subresource", "status", "patchType",
                             "merge", "patch", "status", st);
    ctrl_call(rm->a, "patch", body, s_reply, s_ctx(rm, S_STATUS, key, NULL));
}

static int s_reconcile(void *arg, const char *key)
{
    s_rm_t *rm = arg;
    char ns[256], name[256], err[256];
    if (ctrl_key_split(key, ns, sizeof ns, name, sizeof name) < 0)
        return 0;
    if (!rt_informer_synced(rm->owners) || !rt_informer_synced(rm->pods))
        return 200;
    const json_t *owner = rt_informer_get(rm->owners, ns, name);
    if (!owner) {
        ctrl_exp_forget(rm->exp, key);
        return 0;
    }
    proto_sel_t *sel = NULL;
    if (ctrl_owner_selector(owner, rm->is_rc, &sel, err, sizeof err) < 0) {
        rt_warn("%s %s: bad selector: %s", rm->kind, key, err);
        return 0;
    }
    json_t *own = json_incref((json_t *)owner); /* cache objects are only borrowed */
    s_scan_t sc = {rm, key, own, sel, proto_obj_get(own, "metadata.deletionTimestamp") != NULL,
                   json_array()};
    bool ready = ctrl_exp_satisfied(rm->exp, key, proto_mono_ms());
    /* only its own pods and the namespace's orphans can be claimed: every
     * other pod is someone else's (CTRL_CLAIM_IGNORE) */
    char ikey[600];
    ctrl_rm_index_key(ikey, sizeof ikey, ns, proto_obj_uid(own) ?: "");
    rt_informer_foreach_indexed(rm->pods, ikey, s_claim_one, &sc);
    ctrl_rm_index_key(ikey, sizeof ikey, ns, NULL);
    rt_informer_foreach_indexed(rm->pods, ikey, s_claim_one, &sc);
    if (ready && !sc.deleting)
        s_manage(rm, key, own, sc.mine);
    int64_t now = (int64_t)time(NULL);
    json_t *st = ctrl_replica_status(own, sc.mine, now);
    int64_t min_ready = proto_obj_int(own, "spec.minReadySeconds", 0);
    bool waiting = min_ready > 0 && json_integer_value(json_object_get(st, "readyReplicas")) !=
                                        json_integer_value(json_object_get(st, "availableReplicas"));
    s_update_status(rm, key, own, st);
    json_decref(sc.mine);
    json_decref(own);
    proto_sel_destroy(&sel);
    return waiting ? 1000 : 0;
}

/* ---- events ------------------------------------------------------------------- */

/* The key of the owner of our kind that controls pod (by its controller
 * ownerReference; reconcile checks the uid), into key; false when none. */
static bool s_owner_key(s_rm_t *rm, const json_t *pod, char *key, size_t n)
{
    const json_t *ref = ctrl_controller_ref(pod);
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    const char *name = json_string_value(json_object_get(ref, "name"));
    if (!ref || !kind || !name || strcmp(kind, rm->kind))
        return false;
    snprintf(key, n, "%s/%s", proto_obj_ns(pod) ?: "", name);
    return true;
}

typedef struct s_match {
    s_rm_t *rm;
    const json_t *labels;
} s_match_t;

static bool s_enqueue_if_selects(void *arg, const json_t *owner)
{
    s_match_t *m = arg;
    char err[128], key[512];
    proto_sel_t *sel = NULL;
    if (ctrl_owner_selector(owner, m->rm->is_rc, &sel, err, sizeof err) == 0 &&
        !proto_sel_empty(sel) && proto_sel_match(sel, m->labels)) {
        ctrl_key_of(owner, key, sizeof key);
        rt_queue_add(m->rm->q, key);
    }
    proto_sel_destroy(&sel);
    return true;
}

/* Wakes whoever cares about pod: its controller, or for an orphan every
 * owner of its namespace that selects it (it may be adopted). */
static void s_wake(s_rm_t *rm, const json_t *pod)
{
    char key[512];
    if (s_owner_key(rm, pod, key, sizeof key)) {
        rt_queue_add(rm->q, key);
        return;
    }
    if (ctrl_controller_ref(pod))
        return; /* someone else's */
    s_match_t m = {rm, proto_obj_labels(pod)};
    rt_informer_foreach(rm->owners, proto_obj_ns(pod), NULL, s_enqueue_if_selects, &m);
}

static void s_pod_deleted(void *arg, const json_t *pod)
{
    s_rm_t *rm = arg;
    char key[512], pk[512];
    if (s_owner_key(rm, pod, key, sizeof key)) {
        ctrl_key_of(pod, pk, sizeof pk);
        ctrl_exp_observe_del(rm->exp, key, pk);
    }
    s_wake(rm, pod);
}

static void s_pod_added(void *arg, const json_t *pod)
{
    s_rm_t *rm = arg;
    char key[512];
    if (proto_obj_get(pod, "metadata.deletionTimestamp")) {
        s_pod_deleted(arg, pod); /* seen for the first time already going */
        return;
    }
    if (s_owner_key(rm, pod, key, sizeof key))
        ctrl_exp_observe_add(rm->exp, key);
    s_wake(rm, pod);
}

static void s_pod_updated(void *arg, const json_t *old, const json_t *pod)
{
    s_rm_t *rm = arg;
    if (proto_obj_get(pod, "metadata.deletionTimestamp") &&
        !proto_obj_get(old, "metadata.deletionTimestamp")) {
        s_pod_deleted(arg, pod); /* a graceful deletion counts as observed */
        return;
    }
    if (!json_equal(proto_obj_labels(old), proto_obj_labels(pod)) ||
        !json_equal(proto_obj_get(old, "metadata.ownerReferences"),
                    proto_obj_get(pod, "metadata.ownerReferences")))
        s_wake(rm, old);
    s_wake(rm, pod);
}

static void s_owner_changed(void *arg, const json_t *owner)
{
    s_rm_t *rm = arg;
    char key[512];
    ctrl_key_of(owner, key, sizeof key);
    rt_queue_add(rm->q, key);
}

static void s_owner_updated(void *arg, const json_t *old, const json_t *owner)
{
    (void)old;
    s_owner_changed(arg, owner);
}

static void s_owner_deleted(void *arg, const json_t *owner)
{
    s_rm_t *rm = arg;
    char key[512];
    ctrl_key_of(owner, key, sizeof key);
    ctrl_exp_forget(rm->exp, key);
}

static bool s_enqueue_owner(void *arg, const json_t *owner)
{
    s_owner_changed(arg, owner);
    return true;
}

/* After every (re)list, and on the resync timer: look at every owner again. */
static void s_resync(void *arg)
{
    s_rm_t *rm = arg;
    if (rt_informer_synced(rm->owners) && rt_informer_synced(rm->pods))
        rt_informer_foreach(rm->owners, NULL, NULL, s_enqueue_owner, rm);
}

static void s_resync_timer(rt_actor_t *a, void *arg)
{
    (void)a;
    s_resync(arg);
}

/* ---- life cycle ------------------------------------------------------------------ */

int ctrl_rm_run(const rt_config_t *cfg, bool is_rc, const ctrl_opts_t *o)
{
    static const rt_informer_handlers_t ph = {s_pod_added, s_pod_updated, s_pod_deleted,
                                              s_resync};
    static const rt_informer_handlers_t oh = {s_owner_changed, s_owner_updated, s_owner_deleted,
                                              s_resync};
    s_rm_t rm = {.is_rc = is_rc,
                 .resource = is_rc ? "replicationcontrollers" : "replicasets",
                 .kind = is_rc ? "ReplicationController" : "ReplicaSet"};
    char err[256], id[64];
    snprintf(id, sizeof id, "controller-%s", is_rc ? "replicationcontroller" : "replicaset");
    if (rt_actor_open(&rm.a, id, cfg, err, sizeof err) < 0) {
        rt_err("cannot reach the broker: %s", err);
        return -1;
    }
    rm.exp = ctrl_exp_new();
    rm.q = rt_queue_new(rm.a, s_reconcile, &rm);
    /* pods are cached as compact briefs, indexed by controller: what the
     * replica manager claims, counts and ranks by (caches.c) */
    static const rt_informer_opts_t s_pod_opts = {
        .transform = ctrl_rm_pod_brief, .compact = true, .index = ctrl_rm_pod_index};
    int rc = rt_informer_new(&rm.owners, rm.a, rm.resource, NULL, &oh, &rm);
    if (rc == 0)
        rc = rt_informer_new(&rm.pods, rm.a, "pods", &s_pod_opts, &ph, &rm);
    if (rc == 0) {
        rt_timer_add(rm.a, (int)o->resync_ms, true, s_resync_timer, &rm);
        rt_info("%s controller running", rm.kind);
        rt_run(rm.a);
    } else {
        rt_err("cannot start informers: %d", rc);
    }
    rt_informer_destroy(&rm.pods);
    rt_informer_destroy(&rm.owners);
    rt_queue_destroy(&rm.q);
    ctrl_exp_destroy(&rm.exp);
    rt_actor_destroy(&rm.a);
    return rc;
}
