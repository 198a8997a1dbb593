#!/bin/sh
# tests/e2e/tap_chaos.sh — `zkube tap` (decode, filters, JSON, redaction,
# record and replay, stats) and `zkube kill` / `zkube chaos` against a real
# cluster. Every process started here is stopped by PID.
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d /tmp/zkube-tap.XXXXXX)
export ZKUBE_HOME="$T/home"
TAPS=""
cleanup() {
    for p in $TAPS; do kill "$p" 2>/dev/null; done
    bin/zkube down >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
FAILED=0
ok() { echo "ok - tap.$1"; }
nok() { echo "not ok - tap.$1"; FAILED=1; [ -n "$2" ] && sed 's/^/    /' "$2" | head -20 >&2; }
check() { if eval "$2"; then ok "$1"; else nok "$1" "$3"; fi; }
wait_for() { # seconds, command
    n=$(($1 * 10)); shift
    while [ $n -gt 0 ]; do eval "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
actor_pid() { sed -n "/\"id\": \"$1\"/,/}/s/.*\"pid\": \([0-9]*\).*/\1/p" "$ZKUBE_HOME/run/actors.json"; }

bin/zkube up --detach --nodes 0 --http-port none >"$T/up.log" 2>&1 || { nok up "$T/up.log"; exit 1; }

# a tap that records everything, one that shows secrets' traffic as JSON
bin/zkube tap --write "$T/rec" -o json >"$T/all.json" 2>"$T/all.err" & TAPS="$TAPS $!"
ALL=$!
bin/zkube tap --kind secrets -o json >"$T/sec.json" 2>&1 & TAPS="$TAPS $!"
SEC=$!
# the taps' subscriptions reach the broker asynchronously: wait until both see traffic
wait_for 10 'bin/zkubectl get ns >/dev/null 2>&1; grep -q namespaces "$T/all.json" && grep -q . "$T/sec.json" 2>/dev/null || { bin/zkubectl get secrets >/dev/null 2>&1; false; }'
wait_for 10 'bin/zkubectl get secrets >/dev/null 2>&1; grep -q secrets "$T/sec.json"'
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s1\nstringData:\n  password: hunter2\n' |
    bin/zkubectl create -f - >/dev/null
bin/zkubectl get secret s1 -o yaml >/dev/null
bin/zkubectl create -f tests/corpus/kia/Chapter03/kubia-manual.yaml >"$T/create.out" 2>&1 || cat "$T/create.out" >&2
# the request, its reply and the event reach the tap in that order: wait for the last
wait_for 10 'grep -q "\"op\":\"create\".*kubia-manual" "$T/all.json" && grep -q "\"op\":\"ADDED\",\"subject\":\"pods/default/kubia-manual\"" "$T/all.json"'
kill $ALL $SEC; wait $ALL $SEC 2>/dev/null

check sees-request 'grep -q "\"src\":\"zkubectl-[0-9]*\",\"dst\":\"apiserver\",\"type\":\"req\",\"op\":\"create\",\"subject\":\"pods/default/kubia-manual\"" "$T/all.json"' "$T/all.json"
check sees-reply-latency 'grep "\"type\":\"rep\"" "$T/all.json" | grep -q latency_ms' "$T/all.json"
check sees-event 'grep -q "\"type\":\"evt\",\"op\":\"ADDED\",\"subject\":\"pods/default/kubia-manual\"" "$T/all.json"' "$T/all.json"
check kind-filter 'grep -q secrets "$T/sec.json" && ! grep -q kubia-manual "$T/sec.json"' "$T/sec.json"
check secret-redacted '! grep -q hunter2 "$T/all.json" "$T/sec.json" && grep -q "<redacted>" "$T/sec.json"' "$T/sec.json"
check no-heartbeats-by-default '! grep -q "\"type\":\"hb\"" "$T/all.json"'

n_live=$(wc -l <"$T/all.json")
bin/zkube tap --read "$T/rec" -o json >"$T/replay.json" 2>&1
check replay-same "[ \"$(wc -l <"$T/replay.json")\" = \"$n_live\" ] && [ $n_live -gt 3 ]" "$T/replay.json"
bin/zkube tap --read "$T/rec" --type rep >"$T/reps.txt" 2>&1
check replay-filter '[ -s "$T/reps.txt" ] && ! grep -qv " rep " "$T/reps.txt"' "$T/reps.txt"
printf 'garbage' >"$T/bad.rec"
bin/zkube tap --read "$T/bad.rec" >"$T/bad.out" 2>&1
check bad-recording-error '[ $? -ne 0 ] && grep -q "not a zkube tap recording" "$T/bad.out"' "$T/bad.out"

bin/zkube tap --stats --duration 2.5 >"$T/stats.txt" 2>&1 & TAPS="$TAPS $!"
ST=$!
sleep 0.3
for i in 1 2 3 4 5; do bin/zkubectl get pods >/dev/null; done
wait $ST
check stats-table 'grep -q "^apiserver " "$T/stats.txt" && grep -q "P99-MS" "$T/stats.txt" && grep -q "tap drops at the broker: 0" "$T/stats.txt"' "$T/stats.txt"

# kill: one actor, by id, a real signal; the supervisor restarts it
old=$(actor_pid apiserver)
bin/zkube kill apiserver >"$T/kill.out" 2>&1
wait_for 15 '[ -n "$(actor_pid apiserver)" ] && [ "$(actor_pid apiserver)" != "$old" ] && [ "$(actor_pid apiserver)" != 0 ]'
check kill-restarts '[ $? -eq 0 ] && grep -q "apiserver (pid $old): SIGKILL" "$T/kill.out"' "$T/kill.out"
wait_for 15 'bin/zkubectl get pod kubia-manual >/dev/null 2>&1'
check state-survives-kill '[ $? -eq 0 ]'
bin/zkube kill scheduler --signal STOP >/dev/null && sp=$(actor_pid scheduler)
check stop-freezes 'grep -q "^State:.*T" /proc/$sp/status'
bin/zkube kill scheduler --signal CONT >/dev/null
check cont-resumes '! grep -q "^State:.*T (stopped)" /proc/$sp/status'
bin/zkube kill nosuch >"$T/nosuch.out" 2>&1
check kill-unknown '[ $? -eq 1 ] && grep -q "no running actor \"nosuch\"" "$T/nosuch.out"' "$T/nosuch.out"

# chaos: the same seed gives the same schedule
bin/zkube chaos --duration 1.2 --interval 0.4 --seed 7 --actors '[as]*' >"$T/c1" 2>&1
bin/zkube chaos --duration 1.2 --interval 0.4 --seed 7 --actors '[as]*' >"$T/c2" 2>&1
check chaos-kills '[ "$(grep -c "killed \|was not running" "$T/c1")" = 3 ]' "$T/c1"
victims() { sed -n 's/.*killed \([^ ]*\) (pid.*/\1/p; s/.*  \([^ ]*\) was not running/\1/p' "$1"; }
check chaos-seeded '[ "$(victims "$T/c1")" = "$(victims "$T/c2")" ] && [ -n "$(victims "$T/c1")" ]' "$T/c2"
bin/zkube chaos --duration x >"$T/cbad" 2>&1
check chaos-usage '[ $? -eq 2 ] && grep -q usage "$T/cbad"' "$T/cbad"

exit $FAILED
