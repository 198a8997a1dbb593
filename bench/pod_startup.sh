#!/bin/sh
# bench/pod_startup.sh — pod start-up latency with the runc driver, beside a
# bare `runc run` of the same image, in the same run.
#
# Inside a network namespace of its own (loopback only, no route out):
# `zkube up --nodes 2 --driver runc`, a watch (`zkubectl get pods -w`) whose
# lines are time-stamped on arrival, one warm-up pod, S pods created one at
# a time (default 10, ZK_BENCH_SEQ_PODS), then a burst of N pods (default
# 50, ZK_BENCH_PODS; busybox `sleep 3600`) created by one `zkubectl create
# -f` of N documents. A pod's latency is from the arrival of its first
# watch event (ADDED: the creation as the watch sees it) to the arrival of
# the first event showing phase Running — both on this host's clock, in
# milliseconds (creationTimestamp and the Ready condition only have 1 s
# resolution); the part of it until the first event with spec.nodeName
# (bound by the scheduler) is shown too. Then R (default 20,
# ZK_BENCH_RUNC_RUNS) bare `runc run`s of a bundle made from the same
# image's rootfs (`runc spec`, command `true`), each timed from fork to
# exit, one by one; and, for context, the same burst of N bare `runc run -d`
# (sleep) started at once. Prints p50/p99 of each, the ratios, and the
# goal of issue 3: burst pod p99 < 1.5 × bare runc (one by one) p50 + 50 ms.
# Exit 0 when measured (goal met or not), 1 when the run itself failed.
# Root only; the whole run is bounded by ZK_BENCH_LIMIT seconds (180).
ZK_ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${ZK_BENCH_PODS:-50}
R=${ZK_BENCH_RUNC_RUNS:-20}
S=${ZK_BENCH_SEQ_PODS:-10}
LIMIT=${ZK_BENCH_LIMIT:-180}
IMAGES=${ZKUBE_IMAGES:-/var/lib/zkube/images}
ROOTFS=$(readlink -f "$IMAGES/library/busybox/latest/rootfs")

say() { echo "pod_startup: $*"; }
if [ "$(id -u)" != 0 ]; then say "skipped (not root)"; exit 0; fi
# the whole run is bounded: timeout ends it with TERM, and the trap cleans up
if [ -z "$ZK_BENCH_INNER" ]; then
    ZK_BENCH_INNER=1 exec timeout -s TERM "$LIMIT" sh "$0" "$@"
fi
. "$ZK_ROOT/tests/e2e/lib/cluster.sh"
if ! zk_need runc ip nsenter perl; then say "skipped (no runc, ip, nsenter or perl)"; exit 0; fi
if [ -z "$ROOTFS" ] || [ ! -d "$ROOTFS" ]; then say "no busybox image under $IMAGES (make images)"; exit 1; fi

WATCH_PID="" RUNC_ROOT=""
bench_cleanup() {
    [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
    [ -n "$RUNC_ROOT" ] && for c in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
        runc --root "$RUNC_ROOT" delete --force "$c" >/dev/null 2>&1
    done
    zk_teardown
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM
START=$(zk_now_ms)

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
    r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'; }

pod_doc() { # NAME
    cat <<YAML
---
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {bench: startup}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
YAML
}

# ---- cluster and watch ------------------------------------------------------------------
zk_netns_add b || { say "netns failed"; exit 1; }
T="$ZK_H/t"
if ! zk_up 2 || ! zk_wait_for nodes-ready 30 zk_nodes_ready 2 >/dev/null; then
    say "zkube up failed"; tail -5 "$T/up.log"; exit 1
fi
mkfifo "$T/fifo"
"$KC" get pods -w -l bench=startup \
    -o jsonpath='{.metadata.name} {.status.phase} {.spec.nodeName}{"\n"}' >"$T/fifo" 2>"$T/watch.err" &
WATCH_PID=$!
perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%d %s", time * 1000, $_' <"$T/fifo" >"$T/watch" &
ZK_PIDS="$ZK_PIDS $WATCH_PID $!"
saw_running() { grep -Eq "^[0-9]+ $1 Running( |\$)" "$T/watch"; }
# warm-up: the watch is subscribed, the image's pages are cached
pod_doc warmup | "$KC" create -f - >/dev/null 2>&1
if ! zk_wait_for warmup 30 saw_running warmup >/dev/null; then
    say "warm-up pod not seen Running by the watch"; "$KC" get pods -o wide; exit 1
fi

# ---- pods one at a time (each created once the one before is Running) ---------------------
i=1; while [ $i -le "$S" ]; do
    pod_doc "seq-$i" | "$KC" create -f - >/dev/null 2>&1
    zk_wait_for "seq-$i" 30 saw_running "seq-$i" >/dev/null || break
    i=$((i + 1))
done
# latencies PREFIX [bound]: ms from the first event of each PREFIX-* pod to
# its first Running (with `bound`: to its first event with a node)
latencies() {
    awk -v pre="^$1-" -v what="${2:-run}" '$2 ~ pre {
            if (!($2 in add)) add[$2] = $1
            if ($3 == "Running" && !($2 in run)) run[$2] = $1
            if ($4 != "" && !($2 in bnd)) bnd[$2] = $1 }
         END { if (what == "bound") { for (p in bnd) print bnd[p] - add[p] }
               else for (p in run) print run[p] - add[p] }' "$T/watch"
}
latencies seq >"$T/seq.ms"

# ---- the burst --------------------------------------------------------------------------
i=1; while [ $i -le "$N" ]; do pod_doc "burst-$i"; i=$((i + 1)); done >"$T/burst.yaml"
t0=$(zk_now_ms)
"$KC" create -f "$T/burst.yaml" >/dev/null 2>"$T/create.err" || { say "create failed"; head -3 "$T/create.err"; }
t1=$(zk_now_ms)
# (a pod's Running line may repeat: only its first counts)
all_seen() { [ "$(awk '$3 == "Running" && $2 ~ /^burst-/' "$T/watch" | cut -d' ' -f2 | sort -u | grep -c .)" -ge "$N" ]; }
zk_wait_for burst-running 90 all_seen >/dev/null
t2=$(zk_now_ms)
latencies burst >"$T/pod.ms"
latencies burst bound >"$T/bound.ms"
seen=$(grep -c . "$T/pod.ms")

# ---- bare runc run of the same image ------------------------------------------------------
RUNC_ROOT="$ZK_H/runc"
B="$ZK_H/bundle"
mkdir -p "$RUNC_ROOT" "$B"
(cd "$B" && runc spec) &&
    jq --arg r "$ROOTFS" '.root = {path: $r, readonly: true} | .process.terminal = false |
        .process.args = ["true"]' "$B/config.json" >"$B/c.json" && mv "$B/c.json" "$B/config.json"
: >"$T/runc.ms"
j=1; while [ $j -le "$R" ]; do
    a=$(zk_now_ms)
    zk_in_ns runc --root "$RUNC_ROOT" run --bundle "$B" "zkb-$$-$j" </dev/null >/dev/null 2>>"$T/runc.err" ||
        { say "runc run failed"; tail -3 "$T/runc.err"; break; }
    echo $(($(zk_now_ms) - a)) >>"$T/runc.ms"
    j=$((j + 1))
done

# the same burst of bare containers: N `runc run -d` (sleep) at once, each
# timed from fork to runc's exit (the container running) — what this
# machine can do for N containers started together
BS="$ZK_H/bundle-sleep"
mkdir -p "$BS" && jq '.process.args = ["sleep", "3600"]' "$B/config.json" >"$BS/config.json"
: >"$T/runcb.ms"
bpids=""
j=1; while [ $j -le "$N" ]; do
    ( a=$(zk_now_ms)
      zk_in_ns runc --root "$RUNC_ROOT" run -d --bundle "$BS" "zkbb-$$-$j" </dev/null >/dev/null 2>>"$T/runcb.err" &&
          echo $(($(zk_now_ms) - a)) >>"$T/runcb.ms" ) &
    bpids="$bpids $!"
    j=$((j + 1))
done
wait $bpids
for c in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
    runc --root "$RUNC_ROOT" delete --force "$c" >/dev/null 2>&1
done

# ---- report -----------------------------------------------------------------------------
pp50=$(pct "$T/pod.ms" 50); pp99=$(pct "$T/pod.ms" 99)
rp50=$(pct "$T/runc.ms" 50); rp99=$(pct "$T/runc.ms" 99)
echo "pod start-up, runc driver, 2 nodes, burst of $N pods (busybox sleep), creation -> Running seen by watch"
printf '  %-34s %8s %8s %8s\n' "" p50-ms p99-ms max-ms
printf '  %-34s %8s %8s %8s\n' "zkube pod, burst ($seen/$N observed)" "$pp50" "$pp99" "$(pct "$T/pod.ms" 100)"
printf '  %-34s %8s %8s %8s\n' "  of which creation -> bound" "$(pct "$T/bound.ms" 50)" "$(pct "$T/bound.ms" 99)" "$(pct "$T/bound.ms" 100)"
printf '  %-34s %8s %8s %8s\n' "zkube pod, one by one ($(grep -c . "$T/seq.ms")/$S)" "$(pct "$T/seq.ms" 50)" "$(pct "$T/seq.ms" 99)" "$(pct "$T/seq.ms" 100)"
printf '  %-34s %8s %8s %8s\n' "bare runc run ($(grep -c . "$T/runc.ms") runs, one by one)" "$rp50" "$rp99" "$(pct "$T/runc.ms" 100)"
printf '  %-34s %8s %8s %8s\n' "bare runc run -d ($(grep -c . "$T/runcb.ms")/$N at once)" "$(pct "$T/runcb.ms" 50)" "$(pct "$T/runcb.ms" 99)" "$(pct "$T/runcb.ms" 100)"
echo "  burst: create call $((t1 - t0)) ms, all Running after $((t2 - t0)) ms"
if [ "$seen" -lt "$N" ] || [ "$rp50" = - ]; then
    say "incomplete run: $seen of $N pods observed Running"; exit 1
fi
bp50=$(pct "$T/runcb.ms" 50); bp99=$(pct "$T/runcb.ms" 99)
awk -v p50="$pp50" -v p99="$pp99" -v r50="$rp50" -v r99="$rp99" -v b50="${bp50#-}" -v b99="${bp99#-}" \
    -v s50="$(pct "$T/seq.ms" 50 | tr -d -)" -v s99="$(pct "$T/seq.ms" 99 | tr -d -)" 'BEGIN {
    printf "  ratio burst, zkube / bare runc one by one: p50 %.2fx, p99 %.2fx\n", p50 / r50, p99 / r99
    if (s50 > 0)
        printf "  ratio one by one, zkube / bare runc: p50 %.2fx, p99 %.2fx (p99 < 1.5 x runc p50 + 50 ms: %s)\n",
            s50 / r50, s99 / r99, s99 < 1.5 * r50 + 50 ? "met" : "missed"
    if (b50 > 0)
        printf "  ratio burst, zkube / bare runc burst: p50 %.2fx, p99 %.2fx (goal by this measure, p99 < %.0f ms: %s)\n",
            p50 / b50, p99 / b99, 1.5 * b99 + 50, p99 < 1.5 * b99 + 50 ? "met" : "missed"
    goal = 1.5 * r50 + 50
    printf "  goal (issue 3): pod p99 < 1.5 x bare runc p50 + 50 ms = %.0f ms: %s\n", goal, p99 < goal ? "met" : "MISSED" }'
echo "  ($(( ($(zk_now_ms) - START) / 1000 )) s in all)"
exit 0
