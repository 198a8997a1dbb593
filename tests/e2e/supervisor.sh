#!/bin/sh
# tests/e2e/supervisor.sh — the supervisor end to end: `zkube up --detach`
# in a fresh ZKUBE_HOME, `zkube status` lists broker and apiserver, a
# kill -9 of the apiserver is healed (restarts 1), a second `up` refuses,
# `zkube down` leaves no process behind and is idempotent.
# Prints "ok - supervisor.NAME" / "not ok - supervisor.NAME".
ZKUBE=${ZKUBE:-$PWD/bin/zkube}
T=$(mktemp -d /tmp/zkube-e2e-sup.XXXXXX)
export ZKUBE_HOME="$T"
unset ZKUBE_BROKER
failed=0

ok() { echo "ok - supervisor.$1"; }
nok() { echo "not ok - supervisor.$1"; failed=1; }

# field_of ID FIELD: a number from run/actors.json (written by the supervisor)
field_of() {
    awk -v id="$1" -v f="\"$2\":" '
        $1 == "\"id\":" { cur = $2; gsub(/[",]/, "", cur) }
        $1 == f && cur == id { v = $2; gsub(/[",]/, "", v); print v }' \
        "$T/run/actors.json" 2>/dev/null
}

alive() { [ -n "$1" ] && [ "$1" -gt 0 ] 2>/dev/null && kill -0 "$1" 2>/dev/null; }

cleanup() {
    "$ZKUBE" down >/dev/null 2>&1
    for id in apiserver broker; do
        p=$(field_of $id pid)
        alive "$p" && kill -9 "$p"
    done
    p=$(cat "$T/run/supervisor.pid" 2>/dev/null)
    alive "$p" && kill -9 "$p"
    rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$ZKUBE" ]; then
    nok "build (no $ZKUBE)"
    exit 1
fi

out=$(timeout 30 "$ZKUBE" up --detach --nodes 0 --http-port none 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -q "zkube is up"; then ok up-detach; else
    nok up-detach; echo "$out" | sed 's/^/    /' >&2; fi

st=$(timeout 10 "$ZKUBE" status 2>&1)
if echo "$st" | grep -q '^broker ' && echo "$st" | grep -q '^apiserver ' &&
   echo "$st" | head -1 | grep -q 'LAST-EXIT'; then ok status; else
    nok status; echo "$st" | sed 's/^/    /' >&2; fi

api=$(field_of apiserver pid)
if alive "$api"; then
    kill -9 "$api"
    i=0
    while [ $i -lt 100 ]; do
        new=$(field_of apiserver pid)
        r=$(field_of apiserver restarts)
        if [ -n "$new" ] && [ "$new" != "$api" ] && [ "$new" != 0 ] && [ "$r" = 1 ]; then break; fi
        sleep 0.1; i=$((i + 1))
    done
    if alive "$new" && [ "$r" = 1 ] && grep -q '"lastExit": "signal 9"' "$T/run/actors.json"; then
        ok restart-after-kill9; else nok restart-after-kill9; fi
else
    nok restart-after-kill9
fi

if timeout 10 "$ZKUBE" up --detach --nodes 0 --http-port none >/dev/null 2>&1; then nok refuses-second-up; else
    ok refuses-second-up; fi

sup=$(cat "$T/run/supervisor.pid" 2>/dev/null)
broker=$(field_of broker pid)
api=$(field_of apiserver pid)
if timeout 30 "$ZKUBE" down >/dev/null 2>&1 && ! alive "$sup" && ! alive "$broker" &&
   ! alive "$api" && [ ! -e "$T/run/supervisor.pid" ]; then ok down; else nok down; fi

out=$(timeout 10 "$ZKUBE" down 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -q "not running"; then ok down-when-stopped; else
    nok down-when-stopped; fi

exit $failed
