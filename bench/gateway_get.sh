#!/bin/sh
# bench/gateway_get.sh — `kubectl get pods` (table and -o json) through the
# HTTP gateway beside `zkubectl get pods` over the actor protocol, on N pods
# (default 10000, ZK_BENCH_PODS). Starts its own cluster in a temporary
# ZKUBE_HOME and a gateway on a random loopback port (unless the supervisor
# runs one), creates the pods with one multi-document `zkubectl create -f`,
# then times each command ZK_BENCH_ROUNDS times (default 3) and prints
# min/median/max wall seconds. Everything it starts is stopped by PID; the
# whole run is bounded by ZK_BENCH_LIMIT seconds (default 600).
# ZK_GW_PORT=N (with ZKUBE_HOME) uses a running cluster and gateway instead.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ZKUBE="$ROOT/bin/zkube"
ZCTL="$ROOT/bin/zkubectl"
N=${ZK_BENCH_PODS:-10000}
ROUNDS=${ZK_BENCH_ROUNDS:-3}
LIMIT=${ZK_BENCH_LIMIT:-600}
TMP=$(mktemp -d /tmp/zkube-bench-gw.XXXXXX)
[ -z "$ZK_GW_PORT" ] && ZKUBE_HOME="$TMP/home"
HOME="$TMP/kchome" # kubectl's discovery cache, fresh
export ZKUBE_HOME HOME
mkdir -p "$ZKUBE_HOME" "$HOME"
GW_PID=""
cleanup() {
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
    [ -z "$ZK_GW_PORT" ] && "$ZKUBE" down >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
START=$(date +%s)
over() { [ $(($(date +%s) - START)) -ge "$LIMIT" ]; }
now() { date +%s.%N; }

command -v kubectl >/dev/null || { echo "gateway_get: kubectl not installed, skipped"; exit 0; }
if [ -z "$ZK_GW_PORT" ]; then
    # no kubelets, no gateway on the shared default port: ours is started below
    "$ZKUBE" up --detach --nodes 0 --http-port none >"$TMP/up.log" 2>&1 ||
        { echo "gateway_get: zkube up failed"; exit 1; }
fi
i=0
until "$ZCTL" version 2>/dev/null | grep -q '^Server Version: v'; do
    i=$((i + 1)); [ $i -ge 300 ] && { echo "gateway_get: cluster not up"; exit 1; }; sleep 0.1
done
PORT=${ZK_GW_PORT:-8080}
if [ -z "$ZK_GW_PORT" ]; then # our own gateway: 8080 may be another cluster's
    for try in 1 2 3 4 5; do # a taken port makes the gateway exit at once
        PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000))
        "$ZKUBE" gateway --http-port "$PORT" >"$TMP/gw.log" 2>&1 &
        GW_PID=$!
        sleep 0.2
        kill -0 "$GW_PID" 2>/dev/null && break
        GW_PID=""
    done
fi
KC="kubectl --server http://127.0.0.1:$PORT"
i=0
until $KC version >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -ge 200 ] && { echo "gateway_get: gateway not up"; exit 1; }; sleep 0.1
done

# ---- N pods, one multi-document manifest -------------------------------------------
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bench-%05d\n  labels:\n    app: bench\nspec:\n  containers:\n  - name: c\n    image: busybox\n---\n", i }' >"$TMP/pods.yaml"
t0=$(now)
"$ZCTL" create -f "$TMP/pods.yaml" >/dev/null 2>"$TMP/create.err" || { echo "gateway_get: create failed"; head -3 "$TMP/create.err"; exit 1; }
t1=$(now)
echo "created $N pods with zkubectl in $(echo "$t1 - $t0" | bc) s"

# time LABEL COMMAND...: ROUNDS runs, prints min / median / max
time_it() {
    label=$1; shift
    : >"$TMP/times"
    r=0
    while [ $r -lt "$ROUNDS" ] && ! over; do
        a=$(now); "$@" >"$TMP/last.out" 2>"$TMP/last.err"; rc=$?; b=$(now)
        [ $rc -ne 0 ] && { echo "$label: failed ($(head -1 "$TMP/last.err"))"; return; }
        echo "$b - $a" | bc >>"$TMP/times"
        r=$((r + 1))
    done
    lines=$(wc -l <"$TMP/last.out")
    sort -n "$TMP/times" | awk -v l="$label" -v n="$lines" '{ t[NR] = $1 }
        END { printf "%-34s min %.3f s  median %.3f s  max %.3f s  (%d runs, %d lines)\n",
              l, t[1], t[int((NR + 1) / 2)], t[NR], NR, n }'
}
echo "== get $N pods: kubectl through the gateway vs zkubectl ($ROUNDS runs each)"
time_it "kubectl get pods" $KC get pods
time_it "zkubectl get pods" "$ZCTL" get pods
time_it "kubectl get pods -o json" $KC get pods -o json
time_it "zkubectl get pods -o json" "$ZCTL" get pods -o json
time_it "kubectl get pods -l app=bench -o name" $KC get pods -l app=bench -o name
time_it "zkubectl get pods -l app=bench -o name" "$ZCTL" get pods -l app=bench -o name
