#!/bin/sh
# tests/e2e/broker_wire — `zkube broker` as a process: binds its ipc sockets
# under ZKUBE_HOME, stops cleanly on SIGTERM, comes back after kill -9 on the
# same paths, and refuses bad endpoints with a clear message.
ZKUBE=${ZKUBE:-bin/zkube}
T=$(mktemp -d /tmp/zkb-e2e.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT INT TERM
ok() { echo "ok - broker_wire.$1"; }
nok() { echo "not ok - broker_wire.$1"; [ -n "$2" ] && echo "    $2" >&2; }

# wait_for COND_CMD SECONDS: polls every 50 ms
wait_for() {
    n=$(($2 * 20))
    while [ $n -gt 0 ]; do eval "$1" && return 0; sleep 0.05; n=$((n - 1)); done
    return 1
}

start() { # log file
    ZKUBE_HOME=$T/h ZKUBE_LOG=info "$ZKUBE" broker 2>"$1" &
    PID=$!
    PIDS="$PIDS $PID"
}

if [ ! -x "$ZKUBE" ]; then nok binary "$ZKUBE not built"; exit 1; fi

start "$T/log1"
if wait_for "[ -S $T/h/run/broker.router ] && [ -S $T/h/run/broker.pub ] && [ -S $T/h/run/broker.sub ] && [ -S $T/h/run/broker.tap ]" 5; then
    ok binds_ipc_sockets
else
    nok binds_ipc_sockets "$(cat "$T/log1")"
fi
grep -q "listening on ipc://$T/h/run/broker" "$T/log1" && ok logs_endpoint || nok logs_endpoint "$(cat "$T/log1")"

kill -9 "$PID"; wait "$PID" 2>/dev/null
start "$T/log2"
if wait_for "grep -q listening $T/log2" 5 && sleep 0.3 && kill -0 "$PID" 2>/dev/null; then
    ok restarts_on_same_paths
else
    nok restarts_on_same_paths "$(cat "$T/log2")"
fi
kill -TERM "$PID"
if wait_for "! kill -0 $PID 2>/dev/null" 3; then
    wait "$PID"; rc=$?
    [ $rc -eq 0 ] && ok stops_on_sigterm || nok stops_on_sigterm "exit $rc"
else
    nok stops_on_sigterm "still running"
fi

ZKUBE_HOME=$T/h "$ZKUBE" broker --broker nope://x 2>"$T/err1"; rc=$?
[ $rc -ne 0 ] && grep -q "bad --broker endpoint nope://x" "$T/err1" && ok refuses_bad_endpoint || nok refuses_bad_endpoint "$(cat "$T/err1")"

LONG=$T/$(printf '%0100d' 0)
ZKUBE_HOME=$LONG "$ZKUBE" broker 2>"$T/err2"; rc=$?
[ $rc -ne 0 ] && grep -q "longer than 107" "$T/err2" && ok refuses_long_ipc_path || nok refuses_long_ipc_path "$(cat "$T/err2")"

ZKUBE_HOME=$T/h "$ZKUBE" broker --bogus 2>"$T/err3"; rc=$?
[ $rc -eq 2 ] && grep -q 'unknown argument "--bogus"' "$T/err3" && ok refuses_unknown_flag || nok refuses_unknown_flag "$(cat "$T/err3")"
exit 0
