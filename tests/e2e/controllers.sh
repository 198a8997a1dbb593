#!/bin/sh
# tests/e2e/controllers.sh — the controllers end to end against a real local
# cluster (`zkube up --detach --nodes 0`: no kubelet, so pods stay Pending but
# exist): ReplicationController of 3 → 3 owned pods; a deleted pod is
# replaced; scale 10 → 0; a relabelled pod is released and replaced; an
# orphan is adopted; the book's ReplicaSet with matchExpressions (apps/
# v1beta2); delete --cascade=orphan leaves the pods without owner; the
# garbage collector finishes owners left with the `orphan` and
# `foregroundDeletion` finalizers and deletes a pod whose owner never
# existed; kill -9 of the RC controller in the middle of a scale ends with
# exactly `replicas` pods; node lifecycle: a node (created here, with a fresh
# heartbeat that never comes again) turns Unknown, gets the unreachable
# taint, its pods are deleted after the eviction timeout and an RC's pods
# that the scheduler had bound there are replaced.
# Controllers the supervisor does not start are started here. A node
# lifecycle controller with short timers (3 s grace, 5 s eviction) is always
# started here, beside the supervisor's (40 s / 5 min), which never
# contradicts it. Prints "ok - controllers.CASE" / "not ok - controllers.CASE";
# stops every process it started (by PID) and removes its folder.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${ZK_CORPUS:-$ROOT/../shared/corpus}
ZKUBE="$ROOT/bin/zkube"
KC="$ROOT/bin/zkubectl"
ZKUBE_HOME=$(mktemp -d /tmp/zkube-e2e-ctrl.XXXXXX)
export ZKUBE_HOME
unset ZKUBE_BROKER
T="$ZKUBE_HOME/t"
mkdir -p "$T"
PIDS=""

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    "$ZKUBE" down >/dev/null 2>&1
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$ZKUBE_HOME"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - controllers.$1"; }
nok() {
    echo "not ok - controllers.$1"
    { echo "  --- $1"; sed 's/^/  out: /' "$T/out" 2>/dev/null | head -20
      sed 's/^/  err: /' "$T/err" 2>/dev/null | head -10; } >&2
}
verdict() { if [ "$2" = 0 ]; then ok "$1"; else nok "$1"; fi; }
k() { "$KC" "$@" >"$T/out" 2>"$T/err"; }
# wait_for SECONDS COMMAND...: polls (10 per second) until COMMAND succeeds.
wait_for() {
    n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
# field_of ID FIELD: a number from run/actors.json (written by the supervisor)
field_of() {
    awk -v id="$1" -v f="\"$2\":" '
        $1 == "\"id\":" { cur = $2; gsub(/[",]/, "", cur) }
        $1 == f && cur == id { v = $2; gsub(/[",]/, "", v); print v }' \
        "$ZKUBE_HOME/run/actors.json" 2>/dev/null
}
alive() { [ -n "$1" ] && [ "$1" -gt 0 ] 2>/dev/null && kill -0 "$1" 2>/dev/null; }

# count NS SELECTOR: pods matching
count() { "$KC" get pods -n "$1" -l "$2" --no-headers 2>/dev/null | grep -c .; }
count_is() { [ "$(count "$1" "$2")" = "$3" ]; }
# owners NS SELECTOR: "Kind/name/controller" of each pod's first ownerReference
owners() {
    "$KC" get pods -n "$1" -l "$2" -o \
        jsonpath='{range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}{"\n"}{end}' \
        2>/dev/null
}
# all_owned NS SELECTOR N OWNER: exactly N pods, each controlled by OWNER (Kind/name)
all_owned() {
    o=$(owners "$1" "$2")
    [ "$(echo "$o" | grep -c .)" = "$3" ] && [ "$(echo "$o" | grep -cxF "$4/true")" = "$3" ]
}
# stays SECONDS COMMAND...: COMMAND holds at every check for SECONDS
stays() {
    n=$(($1 * 5)); shift
    while [ "$n" -gt 0 ]; do "$@" || return 1; sleep 0.2; n=$((n - 1)); done
    return 0
}

if [ ! -x "$ZKUBE" ] || [ ! -x "$KC" ]; then
    echo "not ok - controllers.build (bin/zkube or bin/zkubectl missing)"; exit 1
fi

# ---- cluster ---------------------------------------------------------------------
"$ZKUBE" up --detach --nodes 0 --http-port none >"$T/up.log" 2>&1
up_ok() { "$KC" version >/dev/null 2>&1 && "$KC" get ns default >/dev/null 2>&1; }
if wait_for 30 up_ok; then ok cluster_up; else nok cluster_up; exit 1; fi
for kind in replicationcontroller replicaset garbage-collector; do
    if ! alive "$(field_of "controller-$kind" pid)"; then
        "$ZKUBE" controller "$kind" >"$T/$kind.log" 2>&1 &
        PIDS="$PIDS $!"
        eval "OWN_$(echo "$kind" | tr -d -)=$!"
    fi
done
"$ZKUBE" controller node-lifecycle --node-monitor-grace-period 3s --pod-eviction-timeout 5s \
    --node-monitor-period 500ms >"$T/nl.log" 2>&1 &
PIDS="$PIDS $!"
for ns in rc rs orph k9 nl; do "$KC" create namespace "$ns" >/dev/null 2>&1; done

# ---- ReplicationController ----------------------------------------------------------
k apply -n rc -f "$CORPUS/kia/Chapter04/kubia-rc.yaml"
wait_for 15 all_owned rc app=kubia 3 ReplicationController/kubia && stays 1 count_is rc app=kubia 3
verdict rc_creates_3_owned $?

rc_status3() { [ "$("$KC" get rc kubia -n rc -o jsonpath='{.status.replicas}' 2>/dev/null)" = 3 ]; }
wait_for 10 rc_status3; verdict rc_status $?

victim=$("$KC" get pods -n rc -l app=kubia -o name 2>/dev/null | head -1)
k delete -n rc "$victim"
replaced() { count_is rc app=kubia 3 && ! "$KC" get -n rc "$victim" >/dev/null 2>&1; }
wait_for 15 replaced && stays 1 count_is rc app=kubia 3; verdict rc_replaces_deleted_pod $?

k scale rc kubia -n rc --replicas=10
wait_for 15 all_owned rc app=kubia 10 ReplicationController/kubia && stays 1 count_is rc app=kubia 10
verdict rc_scale_to_10 $?

k scale rc kubia -n rc --replicas=0
wait_for 15 count_is rc app=kubia 0 && stays 1 count_is rc app=kubia 0; verdict rc_scale_to_0 $?

k scale rc kubia -n rc --replicas=3
wait_for 15 count_is rc app=kubia 3
moved=$("$KC" get pods -n rc -l app=kubia -o name 2>/dev/null | head -1)
k label -n rc "$moved" app=foo --overwrite
released() {
    [ -z "$("$KC" get -n rc "$moved" -o jsonpath='{.metadata.ownerReferences}' 2>/dev/null)" ] &&
        all_owned rc app=kubia 3 ReplicationController/kubia
}
wait_for 15 released && stays 1 count_is rc app=kubia 3; verdict rc_relabel_releases_and_replaces $?

cat >"$T/lonely.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: lonely
  labels:
    app: lonely
spec:
  containers:
  - name: c
    image: busybox
EOF
cat >"$T/lonely-rc.yaml" <<'EOF'
apiVersion: v1
kind: ReplicationController
metadata:
  name: lonely
spec:
  replicas: 1
  selector:
    app: lonely
  template:
    metadata:
      labels:
        app: lonely
    spec:
      containers:
      - name: c
        image: busybox
EOF
k apply -n rc -f "$T/lonely.yaml"
k apply -n rc -f "$T/lonely-rc.yaml"
adopted() {
    [ "$("$KC" get pod lonely -n rc -o jsonpath='{.metadata.ownerReferences[0].name}' 2>/dev/null)" = lonely ]
}
wait_for 15 adopted && stays 1 count_is rc app=lonely 1; verdict rc_adopts_orphan $?

# ---- ReplicaSet with matchExpressions (apps/v1beta2) -------------------------------------
k apply -n rs -f "$CORPUS/kia/Chapter04/kubia-replicaset-matchexpressions.yaml"
wait_for 15 all_owned rs app=kubia 3 ReplicaSet/kubia && stays 1 count_is rs app=kubia 3
verdict rs_match_expressions_3 $?
rs_ready() {
    [ "$("$KC" get rs kubia -n rs -o jsonpath='{.status.replicas}/{.status.fullyLabeledReplicas}/{.status.observedGeneration}' 2>/dev/null)" = 3/3/1 ]
}
wait_for 10 rs_ready; verdict rs_status $?

# ---- deletion ------------------------------------------------------------------------------
k apply -n orph -f "$CORPUS/kia/Chapter04/kubia-rc.yaml"
wait_for 15 all_owned orph app=kubia 3 ReplicationController/kubia
k delete rc kubia -n orph --cascade=orphan
rc_gone() { ! "$KC" get rc kubia -n orph >/dev/null 2>&1; }
gone_rc() { ! "$KC" get rc "$2" -n "$1" >/dev/null 2>&1; }
no_owner() { [ "$(owners orph app=kubia)" = "$(printf '//\n//\n//')" ]; }
wait_for 10 rc_gone && wait_for 10 no_owner && stays 1 no_owner && count_is orph app=kubia 3
verdict delete_cascade_orphan_keeps_pods $?

# owners left by the apiserver with a finalizer the garbage collector finishes
fin_rc() { # NAME FINALIZER
    cat <<EOF
apiVersion: v1
kind: ReplicationController
metadata:
  name: $1
  finalizers: [$2]
spec:
  replicas: 2
  selector:
    app: $1
  template:
    metadata:
      labels:
        app: $1
    spec:
      containers:
      - name: c
        image: busybox
EOF
}
fin_rc finorphan orphan >"$T/finorphan.yaml"
fin_rc finfg foregroundDeletion >"$T/finfg.yaml"
k apply -n orph -f "$T/finorphan.yaml"
k apply -n orph -f "$T/finfg.yaml"
wait_for 15 all_owned orph app=finorphan 2 ReplicationController/finorphan
wait_for 15 all_owned orph app=finfg 2 ReplicationController/finfg
k delete rc finorphan -n orph --cascade=orphan
k delete rc finfg -n orph
orphaned() { [ "$(owners orph app=finorphan)" = "$(printf '//\n//')" ]; }
wait_for 10 gone_rc orph finorphan && orphaned && count_is orph app=finorphan 2
verdict gc_finishes_orphan_finalizer $?
wait_for 10 gone_rc orph finfg && count_is orph app=finfg 0
verdict gc_finishes_foreground_finalizer $?

k delete rc lonely -n rc
wait_for 10 count_is rc app=lonely 0; verdict delete_background_removes_pods $?

cat >"$T/dangling.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dangling
  labels:
    app: dangling
  ownerReferences:
  - apiVersion: apps/v1
    kind: ReplicaSet
    name: ghost
    uid: 00000000-1111-2222-3333-444444444444
    controller: true
    blockOwnerDeletion: true
spec:
  containers:
  - name: c
    image: busybox
EOF
k apply -n rc -f "$T/dangling.yaml"
gone() { ! "$KC" get pod "$2" -n "$1" >/dev/null 2>&1; }
wait_for 10 gone rc dangling; verdict gc_deletes_dangling_dependent $?

# ---- kill -9 the RC controller in the middle of a scale ------------------------------------
k apply -n k9 -f "$CORPUS/kia/Chapter04/kubia-rc.yaml"
wait_for 15 count_is k9 app=kubia 3
# kill9_restart: kills the RC controller and waits for its successor
kill9_restart() {
    if [ -n "$OWN_replicationcontroller" ]; then
        kill -9 "$OWN_replicationcontroller"
        "$ZKUBE" controller replicationcontroller >>"$T/replicationcontroller.log" 2>&1 &
        OWN_replicationcontroller=$!
        PIDS="$PIDS $!"
        return 0
    fi
    old=$(field_of controller-replicationcontroller pid)
    alive "$old" || return 1
    kill -9 "$old"
    restarted() { new=$(field_of controller-replicationcontroller pid); [ "$new" != "$old" ] && alive "$new"; }
    wait_for 15 restarted
}
k scale rc kubia -n k9 --replicas=60
kill9_restart
r=$?
[ $r = 0 ] && wait_for 20 count_is k9 app=kubia 60 && stays 2 count_is k9 app=kubia 60
verdict kill9_mid_scale_up $?
k scale rc kubia -n k9 --replicas=7
sleep 0.05
kill9_restart
r=$?
[ $r = 0 ] && wait_for 20 count_is k9 app=kubia 7 && stays 2 count_is k9 app=kubia 7
verdict kill9_mid_scale_down $?

# ---- node lifecycle ------------------------------------------------------------------------
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$T/node.yaml" <<EOF
apiVersion: v1
kind: Node
metadata:
  name: deadnode
  labels:
    e2e: dead
spec:
  taints:
  - key: e2e
    value: "keep-the-scheduler-away"
    effect: NoSchedule
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions:
  - type: Ready
    status: "True"
    reason: KubeletReady
    message: kubelet is posting ready status
    lastHeartbeatTime: "$now"
    lastTransitionTime: "$now"
EOF
cat >"$T/onnode.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: onnode
spec:
  nodeName: deadnode
  containers:
  - name: c
    image: busybox
EOF
# an RC whose pods only the dead node accepts (the taint keeps every other
# pending pod of this test away from it)
cat >"$T/nlrc.yaml" <<'EOF'
apiVersion: v1
kind: ReplicationController
metadata:
  name: nlrc
spec:
  replicas: 2
  selector:
    app: nlrc
  template:
    metadata:
      labels:
        app: nlrc
    spec:
      nodeSelector:
        e2e: dead
      tolerations:
      - key: e2e
        operator: Exists
        effect: NoSchedule
      containers:
      - name: c
        image: busybox
EOF
k apply -n nl -f "$T/nlrc.yaml"
k apply -f "$T/node.yaml"
k apply -n nl -f "$T/onnode.yaml"
# bound NS SELECTOR: names of the pods bound to deadnode
bound() {
    "$KC" get pods -n "$1" -l "$2" -o \
        jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}' 2>/dev/null |
        awk '$2 == "deadnode" { print $1 }'
}
both_bound() { [ "$(bound nl app=nlrc | grep -c .)" = 2 ]; }
wait_for 3 both_bound
first=$(bound nl app=nlrc | tr '\n' ' ')
unknown() {
    [ "$("$KC" get node deadnode -o jsonpath='{.status.conditions[0].status}/{.status.conditions[0].reason}' 2>/dev/null)" = Unknown/NodeStatusUnknown ]
}
tainted() {
    "$KC" get node deadnode -o jsonpath='{.spec.taints[*].key}:{.spec.taints[*].effect}' 2>/dev/null |
        grep -q 'node.kubernetes.io/unreachable.*:.*NoExecute'
}
wait_for 15 unknown && wait_for 5 tainted; r=$?
verdict node_unknown_and_tainted $r
[ $r = 0 ] && "$KC" get pod onnode -n nl >/dev/null 2>&1 && wait_for 15 gone nl onnode
verdict node_pods_evicted_after_timeout $?
# the RC's evicted pods are replaced (Pending: no node is Ready)
replaced_elsewhere() {
    [ -z "$(bound nl app=nlrc)" ] && count_is nl app=nlrc 2 || return 1
    for p in $first; do "$KC" get pod "$p" -n nl >/dev/null 2>&1 && return 1; done
    return 0
}
[ -n "$first" ] && wait_for 15 replaced_elsewhere; verdict node_evicted_rc_pods_replaced $?
