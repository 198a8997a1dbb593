# tests/e2e/lib/process.sh — shared shell helpers for the end-to-end tests
# that run a cluster with the process driver (no root, no network
# namespace): result lines, waiting for a condition, and the driver's
# container processes (which outlive a kubelet on purpose, so a test must
# end them itself, by pid).
#
# Sourced, not run. The caller sets ZKUBE_HOME, T (its scratch folder, where
# k-style helpers leave out, err and rc) and PD_NAME (the prefix of its
# result lines); it may define pd_nok_extra to add lines to a failure report.

# pd_kill_containers: every container process the process driver started
# (pid files: PID START SHIM SHIMSTART), by pid
pd_kill_containers() {
    for f in "$ZKUBE_HOME"/kubelet/*/driver/containers/*.pid; do
        [ -f "$f" ] || continue
        read -r pid _ shim _ <"$f"
        kill -9 "-$pid" "$pid" "$shim" 2>/dev/null
    done
}

ok() { echo "ok - $PD_NAME.$1"; }
# nok CASE: the failure line, then what $T holds (exit code, output) on stderr
nok() {
    echo "not ok - $PD_NAME.$1"
    { echo "  --- $1${2:+: $2}$([ -f "$T/rc" ] && echo " rc=$(cat "$T/rc")")"
      sed 's/^/  out: /' "$T/out" 2>/dev/null | head -20
      sed 's/^/  err: /' "$T/err" 2>/dev/null | head -10
      if command -v pd_nok_extra >/dev/null 2>&1; then pd_nok_extra; fi; } >&2
}
# verdict CASE STATUS: ok when STATUS is 0; returns STATUS
verdict() { if [ "$2" = 0 ]; then ok "$1"; else nok "$1"; return 1; fi; }

# wait_for SECONDS COMMAND...: polls (10 per second) until COMMAND succeeds
wait_for() {
    n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}

rc_is() { [ "$(cat "$T/rc")" = "$1" ]; }
out_is() { [ "$(cat "$T/out")" = "$1" ]; }
err_is() { [ "$(cat "$T/err")" = "$1" ]; }
