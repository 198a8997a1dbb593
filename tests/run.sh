#!/bin/sh
# zkube test runner: unit binaries, end-to-end scripts, short fuzz runs.
# Every part prints "ok - NAME" / "not ok - NAME" lines; this script counts
# them and ends with "N passed, N failed". A part that dies without
# reporting counts as one failure.
BUILD=${BUILD:-build}
LOG=$(mktemp -d /tmp/zkube-test-log.XXXXXX)
out="$LOG/out"
: > "$out"

run_part() { # name, command...
    name=$1; shift
    "$@" > "$LOG/part" 2> "$LOG/err"
    rc=$?
    cat "$LOG/part" >> "$out"
    cat "$LOG/part"
    if [ $rc -ne 0 ] && ! grep -q '^not ok' "$LOG/part"; then
        echo "not ok - $name (exit $rc)" | tee -a "$out"
    fi
    if [ $rc -ne 0 ]; then sed 's/^/    /' "$LOG/err" | tail -40; fi
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_part "$(basename "$t")" "$t"
done
for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    run_part "$(basename "$t")" sh "$t"
done
if [ -z "$ZK_NO_FUZZ" ]; then
    for f in build-fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        n=$(basename "$f")
        # seeds are copied: libFuzzer writes new inputs into its corpus folder
        corpus="$LOG/corpus-$n"; mkdir -p "$corpus"
        [ -d "tests/fuzz/corpus/${n#fuzz_}" ] && cp -r "tests/fuzz/corpus/${n#fuzz_}/." "$corpus/"
        run_part "$n" sh -c "cd '$LOG' && '$PWD/$f' -max_total_time=${ZK_FUZZ_SECONDS:-10} -rss_limit_mb=2048 '$corpus' >'$LOG/fuzz-$n.log' 2>&1 && echo 'ok - $n' || { echo 'not ok - $n'; tail -30 '$LOG/fuzz-$n.log' >&2; exit 1; }"
    done
fi
p=$(grep -c '^ok' "$out")
f=$(grep -c '^not ok' "$out")
rm -rf "$LOG"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
