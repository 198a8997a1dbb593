#!/bin/sh
# tests/e2e/chaos_churn.sh — fault injection under churn. A cluster of two
# hollow kubelets (no root, no containers) runs while a churn loop creates,
# scales and deletes ReplicationControllers at a steady rate and
# `zkube chaos` kills random actors (broker and apiserver included). Then,
# within a bounded time: every RC has exactly spec.replicas Running pods, no
# pod is without a live owner, every acknowledged write is present (a log of
# acknowledged creates/scales/deletes is replayed against the store), and no
# process leaked. Prints the time to converge.
#
# Knobs: ZK_CHAOS_SECONDS (20), ZK_CHAOS_INTERVAL (2), ZK_CHAOS_SEED (random,
# printed), ZK_CONVERGE_SECONDS (60). Every process started here is stopped
# by PID; the cluster by `zkube down`.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ZKUBE="$ROOT/bin/zkube"
KC="$ROOT/bin/zkubectl"
SECS=${ZK_CHAOS_SECONDS:-20}
IVL=${ZK_CHAOS_INTERVAL:-2}
SEED=${ZK_CHAOS_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
CONVERGE=${ZK_CONVERGE_SECONDS:-60}
T=$(mktemp -d /tmp/zkube-churn.XXXXXX)
export ZKUBE_HOME="$T/home"
PIDS=""

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    "$ZKUBE" down >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

ok() { echo "ok - chaos_churn.$1"; }
nok() {
    echo "not ok - chaos_churn.$1"
    [ -n "$2" ] && [ -f "$2" ] && sed 's/^/    /' "$2" | head -30 >&2
    return 0
}
mono() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(mono)" 'BEGIN { printf "%.1f", b - a }'; }

if ! command -v jq >/dev/null; then echo "ok - chaos_churn.skipped (no jq)"; exit 0; fi
[ -x "$ZKUBE" ] && [ -x "$KC" ] || { nok build; exit 1; }

"$ZKUBE" up --detach --nodes 2 --driver hollow --http-port none >"$T/up.log" 2>&1 ||
    { nok up "$T/up.log"; exit 1; }
ok up

# ---- churn -------------------------------------------------------------------
# Names churn-0..churn-11 are reused round-robin. After an unacknowledged
# write (timeout, 503 while the apiserver is down) the name's state is
# unknown, so it is marked and never touched again; every other name's
# final state is known exactly from the acknowledged log.
rc_yaml() { # name replicas
    printf 'apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: %s\nspec:\n  replicas: %s\n  selector: {app: %s}\n  template:\n    metadata:\n      labels: {app: %s}\n    spec:\n      containers:\n      - name: c\n        image: luksa/kubia\n' "$1" "$2" "$1" "$1"
}
churn() {
    i=0 ops=0
    end=$(awk -v s="$(mono)" -v d="$SECS" 'BEGIN { print s + d }')
    while awk -v e="$end" -v n="$(mono)" 'BEGIN { exit !(n < e) }' && [ $ops -lt 400 ]; do
        name="churn-$((i % 12))"; i=$((i + 1)); ops=$((ops + 1))
        grep -qx "$name" "$T/unknown" 2>/dev/null && { sleep 0.25; continue; }
        r=$(( (i * 7) % 4 ))
        state=$(awk -v n="$name" '$2 == n { s = $1 } END { print s }' "$T/acked")
        case "$state" in
        create|scale) if [ $((i % 3)) = 0 ]; then op=delete; else op=scale; fi ;;
        *) op=create ;;
        esac
        case $op in
        create) rc_yaml "$name" "$r" | timeout 15 "$KC" create -f - >>"$T/churn.out" 2>&1 ;;
        scale) timeout 15 "$KC" scale rc "$name" --replicas="$r" >>"$T/churn.out" 2>&1 ;;
        delete) timeout 15 "$KC" delete rc "$name" >>"$T/churn.out" 2>&1 ;;
        esac
        if [ $? = 0 ]; then echo "$op $name $r" >>"$T/acked"
        else echo "$name" >>"$T/unknown"; echo "unacked $op $name" >>"$T/churn.out"; fi
        sleep 0.25
    done
}
: >"$T/acked"; : >"$T/unknown"
churn & CHURN=$!; PIDS="$PIDS $CHURN"

# ---- chaos, and every actor pid the supervisor starts --------------------------
actor_pids() { jq -r '.[] | select(.pid > 0) | .pid' "$ZKUBE_HOME/run/actors.json" 2>/dev/null; }
watch_pids() { while :; do actor_pids >>"$T/seen"; sleep 0.2; done; }
watch_pids & WATCH=$!; PIDS="$PIDS $WATCH"
# chaos picks at random; the broker and the apiserver are also killed once
# each for sure, a third and two thirds of the way through
sure_kills() {
    sleep "$(awk -v d="$SECS" 'BEGIN { print d / 3 }')"; "$ZKUBE" kill apiserver >>"$T/sure.out" 2>&1
    sleep "$(awk -v d="$SECS" 'BEGIN { print d / 3 }')"; "$ZKUBE" kill broker >>"$T/sure.out" 2>&1
}
sure_kills & SURE=$!; PIDS="$PIDS $SURE"
"$ZKUBE" chaos --interval "$IVL" --duration "$SECS" --seed "$SEED" >"$T/chaos.out" 2>&1
crc=$?
wait $CHURN $SURE
kills=$(grep -c "killed " "$T/chaos.out")
if [ $crc = 0 ] && [ "$kills" -gt 0 ]; then ok "chaos ($kills kills, seed $SEED)"
else nok chaos "$T/chaos.out"; fi
if grep -q "apiserver (pid [0-9]*): SIGKILL" "$T/sure.out" && grep -q "broker (pid [0-9]*): SIGKILL" "$T/sure.out"; then
    ok broker-and-apiserver-killed
else
    nok broker-and-apiserver-killed "$T/sure.out"
fi
sed 's/^/    chaos: /' "$T/chaos.out" >&2
acked=$(wc -l <"$T/acked")
[ "$acked" -gt 0 ] && ok "churn ($acked acknowledged writes, $(sort -u "$T/unknown" | wc -l) names left unknown)" ||
    nok churn "$T/churn.out"

# ---- convergence ----------------------------------------------------------------
# check: 0 when the cluster matches; the reason in $T/why otherwise.
check() {
    "$KC" get rc -o json >"$T/rcs.json" 2>"$T/why" || return 1
    "$KC" get pods -o json >"$T/pods.json" 2>"$T/why" || return 1
    jq -r --slurpfile p "$T/pods.json" '
        .items[] as $rc
        | [$p[0].items[] | select(.metadata.deletionTimestamp == null)
           | select(any(.metadata.ownerReferences[]?; .uid == $rc.metadata.uid))] as $mine
        | select(($mine | length) != $rc.spec.replicas
                 or any($mine[]; .status.phase != "Running"))
        | "rc \($rc.metadata.name): \($mine | length) pods (\([$mine[] | .status.phase] | join(","))), want \($rc.spec.replicas)"
        ' "$T/rcs.json" >"$T/why" || return 1
    jq -r --slurpfile r "$T/rcs.json" '
        [$r[0].items[].metadata.uid] as $uids
        | .items[] | select(([.metadata.ownerReferences[]?.uid] - $uids) == [.metadata.ownerReferences[]?.uid])
        | "pod \(.metadata.name) has no live owner"' "$T/pods.json" >>"$T/why"
    [ ! -s "$T/why" ]
}
# acked_present: the last acknowledged write of every known name holds.
acked_present() {
    : >"$T/lost"
    for name in $(awk '{ print $2 }' "$T/acked" | sort -u); do
        grep -qx "$name" "$T/unknown" && continue
        last=$(awk -v n="$name" '$2 == n { s = $1 " " $3 } END { print s }' "$T/acked")
        have=$(jq -r --arg n "$name" '.items[] | select(.metadata.name == $n) | .spec.replicas' "$T/rcs.json")
        case "$last" in
        delete*) [ -z "$have" ] || echo "$name: deleted (acknowledged) but present" >>"$T/lost" ;;
        *) [ "$have" = "${last#* }" ] || echo "$name: want replicas ${last#* } (acknowledged), have '${have:-absent}'" >>"$T/lost" ;;
        esac
    done
    [ ! -s "$T/lost" ]
}
start=$(mono)
deadline=$(awk -v s="$start" -v d="$CONVERGE" 'BEGIN { print s + d }')
conv=1
while awk -v e="$deadline" -v n="$(mono)" 'BEGIN { exit !(n < e) }'; do
    if check && acked_present; then conv=0; break; fi
    sleep 0.5
done
if [ $conv = 0 ]; then
    ok "converged (in $(elapsed "$start") s after chaos; $(jq '.items | length' "$T/rcs.json") RCs, $(jq '.items | length' "$T/pods.json") pods)"
    echo "time to converge: $(elapsed "$start") s" >&2
else
    nok "converged (not within ${CONVERGE}s)" "$T/why"
fi
if acked_present; then ok acknowledged-writes-present; else nok acknowledged-writes-present "$T/lost"; fi
if [ -s "$T/rcs.json" ] && ! jq -e '.items[] | select(.metadata.ownerReferences == null)' "$T/pods.json" >/dev/null; then
    ok no-orphan-pods
else
    nok no-orphan-pods "$T/pods.json"
fi

# ---- processes --------------------------------------------------------------------
# Every actor pid seen that is not a current actor must be gone; after
# `zkube down` nothing of this cluster (its ZKUBE_HOME in the environment)
# may remain.
ours() { # pid: a live process started for this cluster
    { tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qx "ZKUBE_HOME=$ZKUBE_HOME"
}
kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null
actor_pids | sort -u >"$T/live"
: >"$T/leaked"
for p in $(sort -u "$T/seen"); do
    grep -qx "$p" "$T/live" && continue
    ours "$p" && echo "pid $p ($({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)) outlived its actor" >>"$T/leaked"
done
if [ ! -s "$T/leaked" ]; then ok "no-leaked-actors ($(sort -u "$T/seen" | wc -l) pids seen)"
else nok no-leaked-actors "$T/leaked"; fi
"$ZKUBE" down >"$T/down.out" 2>&1
: >"$T/left"
for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = $$ ] && continue
    ours "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = zkube ] &&
        echo "pid $p ($({ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null)) still running after zkube down" >>"$T/left"
done
if [ ! -s "$T/left" ]; then ok no-process-after-down; else nok no-process-after-down "$T/left"; fi
