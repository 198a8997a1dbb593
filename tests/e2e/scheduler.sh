#!/bin/sh
# tests/e2e/scheduler.sh — the scheduler end to end against a real local
# cluster: `zkube up --detach` in a fresh ZKUBE_HOME (plus `zkube scheduler`
# started here when the supervisor does not run one), two Ready Node objects
# created directly, then: pods spread over both nodes; the book's
# kubia-gpu.yaml (nodeSelector gpu: "true") stays Pending with a
# FailedScheduling event and PodScheduled=False worded as kube-scheduler's,
# and is bound once a node is labelled gpu=true; a pod too big for any node
# is refused for Insufficient cpu; a scheduler killed with -9 comes back and
# keeps binding. Prints "ok - scheduler.CASE" / "not ok - scheduler.CASE";
# always stops what it started (by PID) and removes its folder.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${ZK_CORPUS:-$ROOT/../shared/corpus}
ZKUBE="$ROOT/bin/zkube"
KC="$ROOT/bin/zkubectl"
ZKUBE_HOME=$(mktemp -d /tmp/zkube-e2e-sched.XXXXXX)
export ZKUBE_HOME
T="$ZKUBE_HOME/t"
mkdir -p "$T"
SCHED_PID=""

cleanup() {
    [ -n "$SCHED_PID" ] && kill "$SCHED_PID" 2>/dev/null && wait "$SCHED_PID" 2>/dev/null
    "$ZKUBE" down >/dev/null 2>&1
    rm -rf "$ZKUBE_HOME"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - scheduler.$1"; }
nok() {
    echo "not ok - scheduler.$1"
    { echo "  --- $1"; sed 's/^/  out: /' "$T/out" 2>/dev/null | head -20
      sed 's/^/  err: /' "$T/err" 2>/dev/null | head -20
      [ -f "$T/sched.log" ] && tail -5 "$T/sched.log" | sed 's/^/  sched: /'; } >&2
}
k() { "$KC" "$@" >"$T/out" 2>"$T/err"; }
verdict() { if [ "$2" = 0 ]; then ok "$1"; else nok "$1"; fi; }
# wait_for SECONDS COMMAND...: polls (10 per second) until COMMAND succeeds.
wait_for() {
    n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
node_of() { "$KC" get pod "$1" -o 'jsonpath={.spec.nodeName}' 2>/dev/null; }
bound() { [ -n "$(node_of "$1")" ]; }
all_bound() { for p in "$@"; do bound "$p" || return 1; done; }

if [ ! -x "$ZKUBE" ] || [ ! -x "$KC" ]; then
    echo "not ok - scheduler.build (bin/zkube or bin/zkubectl missing)"; exit 1
fi

# ---- cluster ---------------------------------------------------------------
"$ZKUBE" up --detach --nodes 0 --http-port none >"$T/up.log" 2>&1
up_ok() { k version && grep -q '^Server Version: v' "$T/out"; }
if wait_for 30 up_ok; then ok cluster_up; else nok cluster_up; exit 1; fi

sched_live() { "$ZKUBE" status 2>/dev/null | awk '$1 == "scheduler" && $2 > 0 { f = 1 } END { exit !f }'; }
if ! wait_for 3 sched_live; then
    "$ZKUBE" scheduler >"$T/sched.log" 2>&1 &
    SCHED_PID=$!
fi
sched_up() { sched_live || { [ -n "$SCHED_PID" ] && kill -0 "$SCHED_PID" 2>/dev/null; }; }
if wait_for 5 sched_up; then ok scheduler_running; else nok scheduler_running; fi

# ---- nodes -----------------------------------------------------------------
node_yaml() { # name
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels:
    kubernetes.io/hostname: $1
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions:
  - type: Ready
    status: "True"
    reason: KubeletReady
    message: kubelet is posting ready status
EOF
}
node_yaml sn1 >"$T/sn1.yaml"
node_yaml sn2 >"$T/sn2.yaml"
k create -f "$T/sn1.yaml" && k create -f "$T/sn2.yaml"
verdict nodes_created $?

# ---- spreading --------------------------------------------------------------
pod_yaml() { # name cpu
    cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  containers:
  - name: main
    image: busybox
    resources:
      requests: {cpu: $2, memory: 64Mi}
EOF
}
for i in 1 2 3 4; do pod_yaml "spread-$i" 100m >"$T/spread-$i.yaml"; k create -f "$T/spread-$i.yaml"; done
if wait_for 15 all_bound spread-1 spread-2 spread-3 spread-4; then
    n1=0; n2=0
    for i in 1 2 3 4; do
        case $(node_of "spread-$i") in sn1) n1=$((n1 + 1)) ;; sn2) n2=$((n2 + 1)) ;; esac
    done
    [ "$n1" = 2 ] && [ "$n2" = 2 ]; verdict spread_over_two_nodes $?
else
    nok spread_over_two_nodes
fi
k get pod spread-1 -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}'
grep -qx True "$T/out"; verdict pod_scheduled_condition_true $?
scheduled_event() { # pod -> "TYPE|MESSAGE" of its Scheduled events
    "$KC" get events -o 'jsonpath={range .items[*]}{.involvedObject.name}|{.reason}|{.type}|{.source.component}|{.message}{"\n"}{end}' 2>/dev/null |
        awk -F'|' -v p="$1" '$1 == p && $2 == "Scheduled" { print $3 "|" $4 "|" $5 }'
}
has_scheduled() { scheduled_event spread-1 | grep -qxF "Normal|default-scheduler|Successfully assigned default/spread-1 to $(node_of spread-1)"; }
if wait_for 10 has_scheduled; then ok scheduled_event; else scheduled_event spread-1 >"$T/out"; nok scheduled_event; fi

# ---- nodeSelector: pending, event, then bound ---------------------------------
GPU="$CORPUS/kia/Chapter03/kubia-gpu.yaml"
if [ ! -f "$GPU" ]; then
    GPU="$T/kubia-gpu.yaml"
    printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kubia-gpu\nspec:\n  nodeSelector:\n    gpu: "true"\n  containers:\n  - image: luksa/kubia\n    name: kubia\n' >"$GPU"
fi
k create -f "$GPU"; verdict gpu_pod_created $?
MSG="0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
event_msg() { # pod -> messages of its FailedScheduling events
    "$KC" get events -o 'jsonpath={range .items[*]}{.involvedObject.name}|{.reason}|{.type}|{.message}{"\n"}{end}' 2>/dev/null |
        awk -F'|' -v p="$1" '$1 == p && $2 == "FailedScheduling" && $3 == "Warning" { print $4 }'
}
has_event() { event_msg "$1" | grep -qxF -- "$2"; }
if wait_for 10 has_event kubia-gpu "$MSG"; then ok failed_scheduling_event; else
    event_msg kubia-gpu >"$T/out"; nok failed_scheduling_event; fi
cond() { "$KC" get pod "$1" -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}|{.status.conditions[?(@.type=="PodScheduled")].reason}|{.status.conditions[?(@.type=="PodScheduled")].message}' 2>/dev/null; }
cond_is() { [ "$(cond "$1")" = "$2" ]; }
if wait_for 10 cond_is kubia-gpu "False|Unschedulable|$MSG"; then ok pod_scheduled_false; else
    cond kubia-gpu >"$T/out"; nok pod_scheduled_false; fi
[ -z "$(node_of kubia-gpu)" ]; verdict gpu_pod_pending $?
k label node sn2 gpu=true; verdict label_node $?
if wait_for 15 bound kubia-gpu && [ "$(node_of kubia-gpu)" = sn2 ]; then ok gpu_pod_bound_after_label
else node_of kubia-gpu >"$T/out"; nok gpu_pod_bound_after_label; fi

# ---- resources ----------------------------------------------------------------
pod_yaml huge 64 >"$T/huge.yaml"
k create -f "$T/huge.yaml"
CPU_MSG="0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
if wait_for 10 has_event huge "$CPU_MSG"; then ok insufficient_cpu_event; else
    event_msg huge >"$T/out"; nok insufficient_cpu_event; fi
# a third node big enough arrives: the pod is retried and bound there
sed -e 's/sn1/sn3/g' -e 's/"4"/"128"/g' "$T/sn1.yaml" >"$T/sn3.yaml"
k create -f "$T/sn3.yaml"
if wait_for 15 bound huge && [ "$(node_of huge)" = sn3 ]; then ok retried_when_node_added
else node_of huge >"$T/out"; nok retried_when_node_added; fi

# a bound pod goes away: a pod waiting for its room is retried and bound
pod_yaml huge2 100 >"$T/huge2.yaml"
k create -f "$T/huge2.yaml"
has_cpu_event() { event_msg huge2 | grep -q 'Insufficient cpu'; }
wait_for 10 has_cpu_event
[ -z "$(node_of huge2)" ]; verdict second_huge_pending $?
k delete pod huge --grace-period=0 --force
if wait_for 15 bound huge2 && [ "$(node_of huge2)" = sn3 ]; then ok retried_when_pod_deleted
else node_of huge2 >"$T/out"; nok retried_when_pod_deleted; fi

# ---- a burst never overcommits (assumed pods count before the watch confirms) --
k label node sn1 burst=yes
: >"$T/burst.yaml"
for i in 0 1 2 3 4 5 6 7 8 9; do
    { echo "---"; pod_yaml "burst-$i" 1; echo "  nodeSelector: {burst: \"yes\"}"; } >>"$T/burst.yaml"
done
k create -f "$T/burst.yaml"
# sn1 has 4 cpu, 200m taken by two spread pods: room for exactly 3 pods of 1 cpu
settled() { # every burst pod is bound or reported unschedulable
    for i in 0 1 2 3 4 5 6 7 8 9; do
        bound "burst-$i" || cond "burst-$i" | grep -q '^False|Unschedulable|' || return 1
    done
}
nbound() { n=0; for i in 0 1 2 3 4 5 6 7 8 9; do bound "burst-$i" && n=$((n + 1)); done; echo $n; }
if wait_for 15 settled && [ "$(nbound)" = 3 ]; then ok burst_never_overcommits
else nbound >"$T/out"; nok burst_never_overcommits; fi

# ---- kill -9 ------------------------------------------------------------------
if [ -n "$SCHED_PID" ]; then
    kill -9 "$SCHED_PID"; wait "$SCHED_PID" 2>/dev/null
    "$ZKUBE" scheduler >>"$T/sched.log" 2>&1 &
    SCHED_PID=$!
else
    spid=$("$ZKUBE" status 2>/dev/null | awk '$1 == "scheduler" { print $2 }')
    [ -n "$spid" ] && kill -9 "$spid"
fi
pod_yaml after-kill 100m >"$T/after.yaml"
k create -f "$T/after.yaml"
if wait_for 20 bound after-kill; then ok binds_after_kill_9; else nok binds_after_kill_9; fi
exit 0
