#!/bin/sh
# tests/e2e/pods_run.sh — issue 3 end to end: the book's pods, replication
# controllers and replica sets (tests/corpus/kia, chapters 2–4, unmodified)
# on a real two-node cluster with the runc driver (`zkube up --nodes 2
# --driver runc`), the whole cluster inside a network namespace this script
# creates (loopback only, no route out) and removes.
#
# Cases: Chapter02 kubia.yaml; Chapter03 manual pods, labels, the custom
# namespace, kubia-gpu Pending with FailedScheduling until node1 is
# labelled gpu=true; Chapter04 kubia-rc.yaml (3 pods on 2 nodes answering
# `You've hit <pod>` on their pod IPs, delete → replaced, kill -9 of a
# container → restartCount 1, relabel → released and replaced, scale
# 3 → 10 → 0 → 3), both ReplicaSets (apps/v1beta2), both liveness-probe
# pods (restarted by the probe, with the Unhealthy and Killing events and
# `logs --previous`; timing unchanged: they run in the background while
# the rest goes on); kill -9 of kubelet-node1 (containers
# keep running, adopted, restartCount unchanged); SIGSTOP of kubelet-node2
# (its pods move to node1, with a node-lifecycle controller started here
# with short timers beside the supervisor's); after `zkube down`, nothing of
# the cluster left (links, mounts, cgroups, container processes).
# Not here (later issues): ssd-monitor-daemonset.yaml and the jobs.
#
# Root only (`ok - pods.skipped (not root)` otherwise). Prints
# "ok - pods.CASE" / "not ok - pods.CASE" and "# wait ...: N s" per wait.
ZK_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KIA=${ZK_KIA:-$ZK_ROOT/tests/corpus/kia}
failed=0

ok() { echo "ok - pods.$1"; }
nok() {
    echo "not ok - pods.$1"; failed=1
    [ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/#   /' >&2
    return 0
}
verdict() { if [ "$2" = 0 ]; then ok "$1"; else nok "$1" "$3"; fi; }

if [ "$(id -u)" != 0 ]; then ok "skipped (not root)"; exit 0; fi
. "$ZK_ROOT/tests/e2e/lib/cluster.sh"
if ! zk_need runc ip nsenter curl; then ok "skipped (no runc, ip, nsenter or curl)"; exit 0; fi
if [ ! -x "$ZKUBE" ] || [ ! -x "$KC" ]; then nok "build (no bin/zkube or bin/zkubectl)"; exit 1; fi
for i in luksa/kubia luksa/kubia-unhealthy; do
    "$ZKUBE" image inspect "$i" >/dev/null 2>&1 || { nok "images ($i missing: make images)"; exit 1; }
done

T_START=$(zk_now_ms)
trap 'zk_teardown' EXIT
trap 'exit 1' INT TERM

# ---- helpers ------------------------------------------------------------------------
T=""
k() { "$KC" "$@" >"$T/out" 2>"$T/err"; }
# pods NS [SELECTOR]: name|phase|node|podIP|restartCount|deletionTimestamp|owner per pod
pods() {
    "$KC" get pods -n "$1" ${2:+-l "$2"} -o jsonpath='{range .items[*]}{.metadata.name}|{.status.phase}|{.spec.nodeName}|{.status.podIP}|{.status.containerStatuses[0].restartCount}|{.metadata.deletionTimestamp}|{.metadata.ownerReferences[0].name}{"\n"}{end}' 2>/dev/null
}
col() { awk -F'|' -v c="$1" '{ print $c }'; }
# running_n NS SELECTOR N: exactly N pods, all Running with a pod IP, none deleting
running_n() {
    _p=$(pods "$1" "$2")
    [ "$(printf '%s' "$_p" | grep -c .)" = "$3" ] &&
        [ "$(printf '%s\n' "$_p" | awk -F'|' '$2 == "Running" && $4 != "" && $6 == ""' | grep -c .)" = "$3" ]
}
# nodes_used NS SELECTOR: how many distinct nodes run those pods
nodes_used() { pods "$1" "$2" | col 3 | sort -u | grep -c .; }
pf() { "$KC" get pod -n "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
pod_running() { [ "$(pf "$1" "$2" '{.status.phase}')" = Running ] && [ -n "$(pf "$1" "$2" '{.status.podIP}')" ]; }
restarts_ge() { _r=$(pf "$1" "$2" '{.status.containerStatuses[0].restartCount}'); [ -n "$_r" ] && [ "$_r" -ge "$3" ]; }
# answers IP NAME: the pod answers `You've hit NAME` on port 8080
answers() { zk_in_ns curl -s --max-time 2 "http://$1:8080/" 2>/dev/null | grep -qx "You've hit $2"; }
# all_answer NS SELECTOR: every pod answers with its own name
all_answer() {
    for _l in $(pods "$1" "$2" | awk -F'|' '{ print $1 "|" $4 }'); do
        answers "${_l#*|}" "${_l%%|*}" || return 1
    done
}
# cpid NS POD [ATTEMPT]: host pid of the pod's first container (runc driver state)
cpid() {
    _u=$(pf "$1" "$2" '{.metadata.uid}'); _c=$(pf "$1" "$2" '{.spec.containers[0].name}')
    _f=$(ls -d "$ZKUBE_HOME"/kubelet/*/driver/containers/"$_u-$_c-${3:-0}" 2>/dev/null | head -1)
    [ -n "$_f" ] && set -- $(cat "$_f/pid" 2>/dev/null) && [ -n "$1" ] && echo "$1"
}
gone() { [ -z "$(pods "$1" | awk -F'|' -v n="$2" '$1 == n')" ]; }
no_pods() { [ -z "$(pods "$1" "$2")" ]; }
event_for() { # NS OBJECT REASON: an event with that reason exists for OBJECT
    "$KC" get events -n "$1" -o jsonpath='{range .items[*]}{.involvedObject.name}|{.reason}{"\n"}{end}' \
        2>/dev/null | grep -qx "$2|$3"
}
dump() { pods "$1" "$2" | sed 's/^/pod: /'; }

# ---- cluster --------------------------------------------------------------------------
cluster_up() {
    zk_netns_add p || { nok "cluster-up (netns)"; exit 1; }
    T="$ZK_H/t"
    if ! zk_up 2 || ! zk_wait_for nodes-ready 30 zk_nodes_ready 2; then
        nok cluster-up "$(tail -5 "$T/up.log" 2>/dev/null)"; exit 1
    fi
    ok cluster-up
    # short node-lifecycle timers, beside the supervisor's (40 s / 5 min);
    # the grace must exceed the kubelets' heartbeat period (5 s, stamped to
    # the second), else live nodes flap to unreachable between heartbeats
    # (nsenter itself, not the zk_in_ns function: $! must be the controller)
    nsenter --net="/run/netns/$ZK_NS" "$ZKUBE" controller node-lifecycle \
        --node-monitor-grace-period 12s --pod-eviction-timeout 3s --node-monitor-period 500ms \
        >"$T/nl.log" 2>&1 &
    ZK_PIDS="$ZK_PIDS $!"
}

# ---- Chapter04 liveness probes (started first, checked late) -------------------------------
liveness_start() {
    for ns in live live2; do "$KC" create namespace "$ns" >/dev/null 2>&1; done
    k apply -n live -f "$KIA/Chapter04/kubia-liveness-probe.yaml" &&
        k apply -n live2 -f "$KIA/Chapter04/kubia-liveness-probe-initial-delay.yaml"
    verdict ch04.liveness-created $? "$(cat "$T/err")"
    T_LIVE=$(zk_now_ms)
}
liveness_check() {
    # requests 1-5 succeed, probes every 10 s, 3 failures: first restart ≈ 80 s
    # (95 s with initialDelaySeconds 15) after the start
    left=$(( (T_LIVE + 140000 - $(zk_now_ms)) / 1000 )); [ $left -lt 1 ] && left=1
    zk_wait_for ch04.liveness-restarted $left restarts_ge live kubia-liveness 1
    verdict ch04.liveness-probe-restarts $? "$(dump live)"
    last=$(pf live kubia-liveness '{.status.containerStatuses[0].lastState.terminated.exitCode}')
    [ -n "$last" ]; verdict ch04.liveness-last-state-terminated $? "lastState.terminated.exitCode '$last'"
    # as the book shows it: `describe` lists the probe's failures and the
    # kill; `logs --previous` is the log of the container before the restart
    event_for live kubia-liveness Unhealthy && event_for live kubia-liveness Killing
    verdict ch04.liveness-events-unhealthy-killing $? "$("$KC" get events -n live 2>&1 | tail -5)"
    k logs kubia-liveness -n live --previous && grep -q "Kubia server starting" "$T/out" &&
        grep -q "Received request" "$T/out"
    verdict ch04.liveness-logs-previous $? "$(cat "$T/out" "$T/err" | tail -5)"
    left=$(( (T_LIVE + 160000 - $(zk_now_ms)) / 1000 )); [ $left -lt 1 ] && left=1
    zk_wait_for ch04.liveness-initial-delay-restarted $left restarts_ge live2 kubia-liveness 1
    verdict ch04.liveness-initial-delay-restarts $? "$(dump live2)"
}

# ---- Chapter02 ----------------------------------------------------------------------------
ch02() {
    "$KC" create namespace ch2 >/dev/null 2>&1
    k apply -n ch2 -f "$KIA/Chapter02/kubia.yaml"
    zk_wait_for ch02.kubia-running 30 running_n ch2 run=kubia 1 &&
        zk_wait_for ch02.kubia-answers 10 all_answer ch2 run=kubia
    verdict ch02.kubia-rc-runs $? "$(cat "$T/err"; dump ch2)"
    "$KC" delete namespace ch2 >/dev/null 2>&1
}

# ---- Chapter03 ----------------------------------------------------------------------------
ch03() {
    "$KC" create namespace ch3 >/dev/null 2>&1
    k apply -n ch3 -f "$KIA/Chapter03/kubia-manual.yaml" &&
        k apply -n ch3 -f "$KIA/Chapter03/kubia-manual-with-labels.yaml"
    zk_wait_for ch03.manual-running 30 running_n ch3 "" 2 &&
        zk_wait_for ch03.manual-answers 10 all_answer ch3 ""
    verdict ch03.manual-pods-run $? "$(cat "$T/err"; dump ch3)"
    [ "$(pods ch3 creation_method=manual,env=prod | col 1)" = kubia-manual-v2 ] &&
        [ "$(pods ch3 '!env' | col 1)" = kubia-manual ]
    verdict ch03.label-selectors $? "$(dump ch3)"

    k create -f "$KIA/Chapter03/kubia-manual-custom-namespace.yaml"
    [ $? != 0 ] && grep -q 'not found' "$T/err"
    verdict ch03.custom-namespace-must-exist $? "$(cat "$T/out" "$T/err")"
    k create -f "$KIA/Chapter03/custom-namespace.yaml" &&
        k create -f "$KIA/Chapter03/kubia-manual-custom-namespace.yaml" &&
        zk_wait_for ch03.custom-namespace-running 30 pod_running custom-namespace kubia-manual
    verdict ch03.custom-namespace-pod-runs $? "$(cat "$T/err"; dump custom-namespace)"

    k create -n ch3 -f "$KIA/Chapter03/kubia-gpu.yaml" &&
        zk_wait_for ch03.gpu-failed-scheduling 20 event_for ch3 kubia-gpu FailedScheduling &&
        [ "$(pf ch3 kubia-gpu '{.status.phase}/{.spec.nodeName}')" = Pending/ ]
    verdict ch03.gpu-pending-failedscheduling $? "$(cat "$T/err"; dump ch3)"
    k label node node1 gpu=true &&
        zk_wait_for ch03.gpu-running 30 pod_running ch3 kubia-gpu &&
        [ "$(pf ch3 kubia-gpu '{.spec.nodeName}')" = node1 ]
    verdict ch03.gpu-runs-on-labelled-node $? "$(cat "$T/err"; dump ch3)"
    k label node node1 gpu-
    "$KC" delete namespace ch3 custom-namespace >/dev/null 2>&1
}

# ---- Chapter04 ReplicaSets ----------------------------------------------------------------
ch04_rs() {
    for f in kubia-replicaset kubia-replicaset-matchexpressions; do
        "$KC" create namespace "$f" >/dev/null 2>&1
        k apply -n "$f" -f "$KIA/Chapter04/$f.yaml" &&
            zk_wait_for "ch04.$f" 30 running_n "$f" app=kubia 3 &&
            [ "$(pods "$f" app=kubia | col 7 | sort -u)" = kubia ] &&
            [ "$("$KC" get rs kubia -n "$f" -o jsonpath='{.apiVersion}' 2>/dev/null)" = apps/v1 ]
        verdict "ch04.$f" $? "$(cat "$T/err"; dump "$f")"
        "$KC" delete namespace "$f" >/dev/null 2>&1
    done
}

# ---- Chapter04 ReplicationController -------------------------------------------------------
rc_basic() {
    k apply -f "$KIA/Chapter04/kubia-rc.yaml" &&
        zk_wait_for rc.3-running 30 running_n default app=kubia 3 &&
        [ "$(nodes_used default app=kubia)" = 2 ]
    verdict rc.3-running-on-2-nodes $? "$(cat "$T/err"; dump default)"
    zk_wait_for rc.answers 10 all_answer default app=kubia
    verdict rc.pods-answer-you-ve-hit $? "$(dump default)"
    # exec in a runc container: stdin in, stdout and stderr apart, the exit code
    pod=$("$KC" get pods -l app=kubia -o 'jsonpath={.items[0].metadata.name}' 2>/dev/null)
    printf 'one\ntwo\n' | "$KC" exec -i "$pod" -- sh -c 'cat; hostname >&2; exit 3' \
        >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc = 3 ] && [ "$(cat "$T/out")" = "$(printf 'one\ntwo')" ] &&
        [ "$(cat "$T/err")" = "$(printf '%s\ncommand terminated with exit code 3' "$pod")" ]
    verdict rc.exec-stdin-stderr-exit-code $? "rc $rc; $(cat "$T/out" "$T/err")"
}
replaced() { gone default "$1" && running_n default app=kubia 3; }
rc_delete_replaced() {
    victim=$(pods default app=kubia | col 1 | head -1)
    k delete pod "$victim" &&
        zk_wait_for rc.replaced 30 replaced "$victim"
    verdict rc.deleted-pod-replaced $? "$(cat "$T/err"; dump default)"
}
rc_kill_container() {
    pod=$(pods default app=kubia | col 1 | head -1)
    pid=$(cpid default "$pod")
    [ -n "$pid" ] && kill -9 "$pid" &&
        zk_wait_for rc.container-restarted 30 restarts_ge default "$pod" 1 &&
        zk_wait_for rc.restarted-running 10 pod_running default "$pod" &&
        [ "$(pf default "$pod" '{.status.containerStatuses[0].restartCount}')" = 1 ] &&
        zk_wait_for rc.restarted-answers 10 answers "$(pf default "$pod" '{.status.podIP}')" "$pod"
    verdict rc.container-kill9-restart-count-1 $? "pid '$pid'; $(dump default)"
    last=$(pf default "$pod" '{.status.containerStatuses[0].lastState.terminated.exitCode}/{.status.containerStatuses[0].lastState.terminated.reason}')
    [ "$last" = 137/Error ]
    verdict rc.container-kill9-last-state-137-error $? "lastState.terminated exitCode/reason: '$last'"
}
released() { [ -z "$(pf default "$1" '{.metadata.ownerReferences}')" ]; }
rc_relabel() {
    pod=$(pods default app=kubia | col 1 | head -1)
    k label pod "$pod" app=foo --overwrite &&
        zk_wait_for rc.released 20 released "$pod" &&
        zk_wait_for rc.relabel-replaced 30 running_n default app=kubia 3 &&
        ! pods default app=kubia | col 1 | grep -qx "$pod"
    verdict rc.relabelled-pod-released-and-replaced $? "$(cat "$T/err"; dump default)"
    "$KC" delete pod "$pod" >/dev/null 2>&1
}
dead_all() { for _p in $1; do kill -0 "$_p" 2>/dev/null && return 1; done; return 0; }
rc_scale() {
    k scale rc kubia --replicas 10 &&
        zk_wait_for rc.scale-10 60 running_n default app=kubia 10
    verdict rc.scale-to-10 $? "$(cat "$T/err"; dump default)"
    pids=""
    for p in $(pods default app=kubia | col 1); do pids="$pids $(cpid default "$p" "$(pf default "$p" '{.status.containerStatuses[0].restartCount}')")"; done
    k scale rc kubia --replicas 0 &&
        zk_wait_for rc.scale-0 60 no_pods default app=kubia &&
        zk_wait_for rc.scale-0-containers-stopped 30 dead_all "$pids"
    verdict rc.scale-to-0-stops-containers $? "$(cat "$T/err"; dump default; echo "pids$pids")"
    k scale rc kubia --replicas 3 &&
        zk_wait_for rc.scale-3 30 running_n default app=kubia 3
    verdict rc.scale-back-to-3 $? "$(cat "$T/err"; dump default)"
    [ "$(nodes_used default app=kubia)" = 2 ]
    verdict rc.scale-back-spreads-over-2-nodes $? "$(dump default)"
}

# ---- kubelet kill -9: containers keep running and are adopted -------------------------------
# state NODE: name|pid|restartCount of the RC's pods on NODE
state() {
    for _p in $(pods default app=kubia | awk -F'|' -v n="$1" '$3 == n { print $1 }'); do
        _r=$(pf default "$_p" '{.status.containerStatuses[0].restartCount}')
        echo "$_p|$(cpid default "$_p" "$_r")|$_r"
    done
}
pids_alive() { for _l in $1; do _x=${_l#*|}; kill -0 "${_x%|*}" 2>/dev/null || return 1; done; }
state_is() { [ "$(state "$1")" = "$2" ] && pid_new_kubelet "$1"; }
pid_new_kubelet() { _kn=$(zk_field_of "kubelet-$1" pid); [ -n "$_kn" ] && [ "$_kn" != "$KPID" ] && kill -0 "$_kn" 2>/dev/null; }
adoptions() { grep -c 'adopted running container' "$ZKUBE_HOME/logs/kubelet-$1.log" 2>/dev/null; }
adopted_n() { [ "$(($(adoptions "$1") - ADOPT0))" -ge "$2" ]; }
kubelet_kill9() {
    kn=node1; [ -z "$(state node1)" ] && kn=node2 # node1 unless it has no pod of the RC
    before=$(state $kn); n=$(printf '%s' "$before" | grep -c .)
    KPID=$(zk_field_of kubelet-$kn pid); ADOPT0=$(adoptions $kn); ADOPT0=${ADOPT0:-0}
    if [ "$n" = 0 ] || [ -z "$KPID" ]; then nok "kubelet-kill9 (no pod / no kubelet pid)" "$(dump default)"; return; fi
    "$ZKUBE" kill kubelet-$kn >/dev/null 2>&1 && pids_alive "$before"
    verdict kubelet-kill9.containers-keep-running $? "$before"
    zk_wait_for kubelet-kill9.restarted 20 pid_new_kubelet $kn &&
        zk_wait_for kubelet-kill9.adopted 20 adopted_n $kn "$n" &&
        zk_stays 2 state_is $kn "$before" && pids_alive "$before"
    verdict kubelet-kill9.adopted-restart-count-unchanged $? "before: $before
after: $(state $kn)
$(grep -i 'adopt' "$ZKUBE_HOME/logs/kubelet-$kn.log" | tail -5)"
}

# ---- a node stopped for good: its pods move ----------------------------------------------------
node_ready_status() { "$KC" get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null; }
not_ready() { [ "$(node_ready_status "$1")" != True ]; }
all_gone() { for _p in $1; do gone default "$_p" || return 1; done; }
all_on() { [ "$(nodes_used default app=kubia)" = 1 ] && [ "$(pods default app=kubia | col 3 | sort -u)" = "$1" ]; }
moved() { running_n default app=kubia 3 && all_on "$1"; }
on_node() { pods default app=kubia | awk -F'|' -v n="$1" '$3 == n { print $1 }'; }
# taints: "adding taint" lines of the node lifecycle controllers so far
taints() { cat "$T/nl.log" "$ZKUBE_HOME/logs/controller-node-lifecycle.log" 2>/dev/null | grep -c 'adding taint'; }
node_stop() {
    # until now every node heartbeated in time: no taint was ever added
    [ "$(taints)" = 0 ]
    verdict nodes-stayed-ready-until-stopped $? "$(cat "$T/nl.log" "$ZKUBE_HOME/logs/controller-node-lifecycle.log" 2>/dev/null | grep 'taint' | head -5)"
    # node2 unless the scheduler put no pod there (then node1: reported by rc.scale-back-spreads)
    victim=node2 survivor=node1
    [ -z "$(on_node node2)" ] && victim=node1 survivor=node2
    was=$(on_node $victim)
    if [ -z "$was" ]; then nok "node-stop (no pod to move)" "$(dump default)"; return; fi
    kp=$(zk_field_of "kubelet-$victim" pid)
    "$ZKUBE" kill "kubelet-$victim" --signal STOP >/dev/null 2>&1 && ZK_STOPPED="$ZK_STOPPED $kp"
    zk_wait_for node-stop.not-ready 30 not_ready $victim
    verdict node-stop.node-not-ready $? "$victim Ready=$(node_ready_status $victim)"
    zk_wait_for node-stop.pods-moved 60 moved $survivor && all_gone "$was"
    verdict node-stop.pods-recreated-on-other-node $? "was on $victim: $was
$(dump default)"
}

# ---- zkube down leaves nothing --------------------------------------------------------------
clean() { [ -z "$(zk_leftovers)" ]; }
down_check() {
    zk_note_cpids
    zk_down
    for p in $ZK_PIDS; do kill "$p" 2>/dev/null; _zn_add "$p"; done # the controller started here
    zk_wait_for down.clean 20 clean
    verdict down-leaves-nothing $? "$(zk_leftovers)"
    tag=$ZK_TAG
    zk_teardown
    ! ip -br link | grep -q "zk$tag"
    verdict root-namespace-untouched $? "$(ip -br link | grep "zk$tag")"
}

cluster_up
liveness_start
ch02
ch03
ch04_rs
rc_basic
rc_delete_replaced
rc_kill_container
rc_relabel
rc_scale
kubelet_kill9
liveness_check # before node_stop: a bare pod on a stopped node is evicted for good
node_stop
down_check
t=$(( ($(zk_now_ms) - T_START) / 1000 ))
echo "# pods_run: ${t} s"
exit $failed
