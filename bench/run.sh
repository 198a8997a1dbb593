#!/bin/sh
# make bench: zkube's benchmarks beside their peers, in one run.
# Every server here listens on loopback only and is stopped by its PID.
BUILD=${BUILD:-build}
ROUNDS=${ZK_BENCH_ROUNDS:-3}
SECONDS_PER_PHASE=${ZK_BENCH_SECONDS:-3}
CLIENTS=${ZK_BENCH_CLIENTS:-32}
TMP=$(mktemp -d /tmp/zkube-bench.XXXXXX)
ETCD_PID="" ZK_PIDS=""
export ZKUBE_LOG=warn
cleanup() {
    [ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null
    zk_stop
    rm -rf "$TMP"
}
# The API benchmark measures the broker and the apiserver alone (no
# scheduler or controllers reacting to the benchmark's pods), each started
# here and stopped by PID.
zk_start() {
    mkdir -p "$TMP/zk/run" "$TMP/zk/data" "$TMP/zk/logs"
    ZKUBE_HOME="$TMP/zk" bin/zkube broker >"$TMP/zk/logs/broker.log" 2>&1 &
    ZK_PIDS="$!"
    ZKUBE_HOME="$TMP/zk" bin/zkube apiserver >"$TMP/zk/logs/apiserver.log" 2>&1 &
    ZK_PIDS="$ZK_PIDS $!"
    i=0
    until ZKUBE_HOME="$TMP/zk" bin/zkube version 2>/dev/null | grep -q "^Server Version: v" || [ $i -ge 100 ]; do
        i=$((i + 1)); sleep 0.1
    done
}
zk_stop() {
    for p in $ZK_PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ZK_PIDS=""
}
trap cleanup EXIT INT TERM

for b in "$BUILD"/bench/*; do
    case "$(basename "$b")" in api|sched_bench|*.o|*.d) continue ;; esac
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || echo "(failed: $b)"
done

echo "== API: zkube vs etcd ($CLIENTS requests in flight from one driver loop, ${SECONDS_PER_PHASE}s per phase, $ROUNDS rounds)"
rate() { awk -v p="$1" '$1 == p { print $2 }' "$2"; }
p99() { awk -v p="$1" '$1 == p { print $8 }' "$2"; }
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$TMP/zk" "$TMP/etcd"
    zk_start
    ZKUBE_HOME="$TMP/zk" "$BUILD/bench/api" zkube --clients "$CLIENTS" --seconds "$SECONDS_PER_PHASE" > "$TMP/zk.out"
    zk_stop
    if command -v etcd >/dev/null; then
        etcd --data-dir "$TMP/etcd" --listen-client-urls http://127.0.0.1:23790 \
            --advertise-client-urls http://127.0.0.1:23790 \
            --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
            --initial-cluster default=http://127.0.0.1:23800 > "$TMP/etcd.log" 2>&1 &
        ETCD_PID=$!
        i=0
        until curl -s -o /dev/null http://127.0.0.1:23790/health || [ $i -ge 100 ]; do i=$((i+1)); sleep 0.1; done
        "$BUILD/bench/api" etcd http://127.0.0.1:23790 --clients "$CLIENTS" --seconds "$SECONDS_PER_PHASE" > "$TMP/etcd.out"
        kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null; ETCD_PID=""
    else
        : > "$TMP/etcd.out"
    fi
    echo "-- round $r"
    printf '%-13s %14s %14s %8s %12s %12s\n' phase zkube-ops/s etcd-ops/s ratio zk-p99-ms etcd-p99-ms
    for ph in create get update list paced-create; do
        z=$(rate $ph "$TMP/zk.out"); e=$(rate $ph "$TMP/etcd.out")
        ratio=$(awk -v z="${z:-0}" -v e="${e:-0}" 'BEGIN { if (e > 0) printf "%.2fx", z / e; else print "-" }')
        printf '%-13s %14s %14s %8s %12s %12s\n' $ph "${z:--}" "${e:--}" "$ratio" "$(p99 $ph "$TMP/zk.out")" "$(p99 $ph "$TMP/etcd.out")"
    done
done

echo "== tap cost: the API benchmark with a tap attached that reads nothing (goal: < 5% loss)"
# One API run on a fresh cluster, with or without a stalled tap, into file $1.
tap_once() {
    rm -rf "$TMP/zk"; zk_start
    TAP_PID=""
    if [ "$2" = tap ]; then
        # a subscriber that never reads: stopped right after it connected
        ZKUBE_HOME="$TMP/zk" bin/zkube tap -o json >/dev/null 2>&1 &
        TAP_PID=$!
        sleep 0.5; kill -STOP "$TAP_PID"
    fi
    ZKUBE_HOME="$TMP/zk" "$BUILD/bench/api" zkube --clients "$CLIENTS" --seconds "$SECONDS_PER_PHASE" > "$1"
    if [ -n "$TAP_PID" ]; then kill -CONT "$TAP_PID"; kill "$TAP_PID"; wait "$TAP_PID" 2>/dev/null; fi
    zk_stop
}
# Runs go without, with, with, without (ABBA), so that a drift of the machine
# during a round weighs on both sides alike; each side is the sum of its two.
for r in $(seq 1 "$ROUNDS"); do
    tap_once "$TMP/a1.out" none; tap_once "$TMP/b1.out" tap
    tap_once "$TMP/b2.out" tap; tap_once "$TMP/a2.out" none
    for ph in create get; do
        a=$(cat "$TMP/a1.out" "$TMP/a2.out" | awk -v p="$ph" '$1 == p { s += $2 } END { print s + 0 }')
        b=$(cat "$TMP/b1.out" "$TMP/b2.out" | awk -v p="$ph" '$1 == p { s += $2 } END { print s + 0 }')
        awk -v p="$ph" -v a="$a" -v b="$b" -v r="$r" 'BEGIN { if (a > 0) printf "round %d %-7s without tap %8.0f ops/s   with a stalled tap %8.0f ops/s   change %+.1f%%  (two runs each, ABBA)\n", r, p, a / 2, b / 2, (b - a) * 100 / a }'
    done
done

echo "== pod start-up: burst of 50 pods, runc driver (bench/pod_startup.sh)"
sh bench/pod_startup.sh || echo "(pod_startup failed)"

echo "== scheduler: 10,000 pods on 1,000 and 5,000 hollow nodes (sched_bench)"
rm -rf "$TMP/zk"
if ZKUBE_HOME="$TMP/zk" bin/zkube up --detach --nodes 0 --http-port none >/dev/null; then
    ZKUBE_HOME="$TMP/zk" timeout 150 "$BUILD/bench/sched_bench" --cluster --nodes 1000,5000 --pods 10000 --seconds 120 ||
        echo "(sched_bench: not every pod was bound in time)"
    ZKUBE_HOME="$TMP/zk" bin/zkube down >/dev/null
else
    echo "zkube up failed"
fi

echo "== kubectl through the gateway vs zkubectl (10,000 pods)"
sh bench/gateway_get.sh
