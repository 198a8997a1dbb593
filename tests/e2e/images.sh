#!/bin/sh
# tests/e2e/images.sh — the image store and the book's images end to end:
# `zkube image build` of every recipe into a fresh ZKUBE_IMAGES (a second
# build is a no-op), `zkube image ls`, the images' layout and config, then
# each image's program run directly on the host from its rootfs: kubia
# answers "You've hit <hostname>" on a loopback port and survives bad
# input, kubia-unhealthy answers 500 from the 6th request, batch-job and
# ssd-monitor print what the originals print; SIGTERM ends them.
# Needs `make images` (the static programs in build/images/bin).
# Prints "ok - images.NAME" / "not ok - images.NAME".
ZKUBE=${ZKUBE:-$PWD/bin/zkube}
T=$(mktemp -d /tmp/zkube-e2e-img.XXXXXX)
export ZKUBE_IMAGES="$T/images"
PIDS=""
failed=0

ok() { echo "ok - images.$1"; }
nok() { echo "not ok - images.$1"; failed=1; }

cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: polls COMMAND every 0.05 s until it succeeds
wait_for() {
    n=$(($1 * 20)); shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        sleep 0.05; n=$((n - 1))
    done
    return 1
}

# stop SIGNAL PID: signals PID and sets RC to its exit status ("timeout"
# when it was still running 3 s later and had to be killed). Not in $(...):
# only this shell can wait for its children.
stop() {
    kill -"$1" "$2" 2>/dev/null
    ( sleep 3; kill -9 "$2" 2>/dev/null ) &
    dog=$!
    wait "$2"; RC=$?
    if kill -0 $dog 2>/dev/null; then kill $dog 2>/dev/null; else RC=timeout; fi
}

RECIPES="deploy/images/busybox deploy/images/kubia deploy/images/kubia-unhealthy
deploy/images/batch-job deploy/images/ssd-monitor"

if [ ! -x "$ZKUBE" ] || [ ! -x build/images/bin/kubia ]; then
    nok "build (need $ZKUBE and build/images/bin: run make images)"
    exit 1
fi

# ---- store -----------------------------------------------------------------
out=$("$ZKUBE" image build $RECIPES 2>&1)
if [ $? -eq 0 ] && [ "$(echo "$out" | grep -c ': built$')" -eq 5 ]; then ok build; else
    nok build; echo "$out" | sed 's/^/    /' >&2; fi

out=$("$ZKUBE" image build $RECIPES 2>&1)
if [ $? -eq 0 ] && [ "$(echo "$out" | grep -c ': up to date$')" -eq 5 ]; then ok rebuild-noop; else
    nok rebuild-noop; echo "$out" | sed 's/^/    /' >&2; fi

ls_out=$("$ZKUBE" image ls 2>&1)
good=1
echo "$ls_out" | head -1 | grep -q '^REPOSITORY  *TAG  *IMAGE ID  *CREATED  *SIZE$' || good=0
for r in busybox luksa/kubia luksa/kubia-unhealthy luksa/batch-job luksa/ssd-monitor; do
    echo "$ls_out" | grep -q "^$r  *latest  *[0-9a-f]\{12\}  .*ago  *[0-9.]*[kM]B$" || good=0
done
[ "$(echo "$ls_out" | wc -l)" -eq 6 ] || good=0
if [ $good = 1 ]; then ok ls; else nok ls; echo "$ls_out" | sed 's/^/    /' >&2; fi

BB="$ZKUBE_IMAGES/library/busybox/latest"
KUBIA="$ZKUBE_IMAGES/luksa/kubia/latest"
if [ -x "$BB/rootfs/bin/busybox" ] && [ -L "$BB/rootfs/bin/sh" ] && [ -L "$BB/rootfs/bin/wget" ] &&
   grep -q '^root:x:0:0:' "$BB/rootfs/etc/passwd" && grep -q '^nogroup:' "$BB/rootfs/etc/group" &&
   [ -d "$BB/rootfs/tmp" ] && [ -d "$BB/rootfs/proc" ] && [ -d "$BB/rootfs/dev" ] &&
   [ -f "$BB/rootfs/etc/resolv.conf" ] && [ -f "$BB/rootfs/etc/hosts" ] &&
   [ "$("$BB/rootfs/bin/busybox" --list | wc -l)" -le "$(ls "$BB/rootfs/bin" | wc -l)" ] &&
   [ -x "$KUBIA/rootfs/app/kubia" ] && [ -x "$KUBIA/rootfs/bin/sh" ] &&
   grep -q '"/app/kubia"' "$KUBIA/config.json"; then ok layout; else
    nok layout; ls -la "$BB/rootfs" "$KUBIA/rootfs" "$KUBIA/config.json" 2>&1 | sed 's/^/    /' >&2; fi

# ---- the programs, run from their images on the host -------------------------
# start_http IMAGE: runs /app/IMAGE from its rootfs on a free loopback port
# and makes sure it is this process that answers there; sets PORT and PID
probe() { curl -s -o /dev/null "http://127.0.0.1:$PORT/" && grep -q '^Received request' "$LOG"; }
start_http() {
    LOG="$T/$1.log"
    for try in 1 2 3 4 5 6 7 8; do
        PORT=$(( (($$ + try * 7919) * 31 + $(date +%s)) % 20000 + 30000 ))
        ZKUBE_KUBIA_LISTEN=127.0.0.1:$PORT "$ZKUBE_IMAGES/luksa/$1/latest/rootfs/app/$1" \
            > "$LOG" 2>&1 &
        PID=$!
        PIDS="$PIDS $PID"
        if wait_for 3 probe; then return 0; fi
        kill -9 $PID 2>/dev/null
        wait $PID 2>/dev/null
    done
    return 1
}

HOST=$(hostname)
if start_http kubia; then
    body=$(curl -s "http://127.0.0.1:$PORT/")
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/any/path?x=1")
    if [ "$body" = "You've hit $HOST" ] && [ "$code" = 200 ]; then ok kubia-answers; else
        nok kubia-answers; echo "    body '$body' code $code" >&2; fi
    if wait_for 2 grep -q '^Received request from 127.0.0.1$' "$T/kubia.log" &&
       [ "$(head -1 "$T/kubia.log")" = "Kubia server starting..." ]; then ok kubia-logs; else
        nok kubia-logs; sed 's/^/    /' "$T/kubia.log" >&2; fi
    # bad input: an oversized head gets 431, garbage and hang-ups are shrugged off
    big=$(head -c 9000 /dev/zero | tr '\0' a)
    code_big=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "http://127.0.0.1:$PORT/")
    curl -s -m 1 -X 'GET /../../ HTTP/9' "http://127.0.0.1:$PORT/" > /dev/null 2>&1
    curl -s -m 0.2 --limit-rate 1 -d "$big" "http://127.0.0.1:$PORT/" > /dev/null 2>&1
    body=$(curl -s "http://127.0.0.1:$PORT/")
    if [ "$code_big" = 431 ] && [ "$body" = "You've hit $HOST" ]; then ok kubia-bad-input; else
        nok kubia-bad-input; echo "    big -> $code_big, then '$body'" >&2; fi
    stop TERM $PID
    if [ "$RC" = 0 ]; then ok kubia-sigterm; else nok kubia-sigterm; echo "    exit $RC" >&2; fi
else
    nok kubia-answers; sed 's/^/    /' "$T/kubia.log" >&2
fi

if start_http kubia-unhealthy; then
    # start_http's probe was request 1; four more succeed, the 6th fails
    codes=""
    for i in 2 3 4 5 6 7; do
        codes="$codes $(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT/")"
    done
    if [ "$codes" = " 200 200 200 200 500 500" ] &&
       [ "$(cat "$T/body")" = "I'm not well. Please restart me!" ]; then ok unhealthy-500-on-6th; else
        nok unhealthy-500-on-6th; echo "    codes:$codes body: $(cat "$T/body")" >&2; fi
    kill -TERM $PID
else
    nok unhealthy-500-on-6th; sed 's/^/    /' "$T/kubia-unhealthy.log" >&2
fi

"$ZKUBE_IMAGES/luksa/batch-job/latest/rootfs/app/batch-job" > "$T/batch.log" 2>&1 &
PID=$!; PIDS="$PIDS $PID"
D='[A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] [A-Z][A-Za-z0-9+-]* [0-9][0-9][0-9][0-9]'
wait_for 3 grep -q "^$D Batch job starting\$" "$T/batch.log"; started=$?
stop TERM $PID
if [ $started = 0 ] && [ "$RC" = 143 ]; then
    ok batch-job-starts; else nok batch-job-starts; sed 's/^/    /' "$T/batch.log" >&2; fi

"$ZKUBE_IMAGES/luksa/ssd-monitor/latest/rootfs/app/ssd-monitor" > "$T/ssd.log" 2>&1 &
PID=$!; PIDS="$PIDS $PID"
if wait_for 3 grep -q '^SSD OK$' "$T/ssd.log"; then
    stop TERM $PID
    if [ "$RC" = 0 ]; then ok ssd-monitor; else nok ssd-monitor; echo "    exit $RC" >&2; fi
else
    nok ssd-monitor; sed 's/^/    /' "$T/ssd.log" >&2
fi

# ---- rm -----------------------------------------------------------------------
"$ZKUBE" image rm luksa/ssd-monitor > /dev/null 2>&1
if ! "$ZKUBE" image ls | grep -q ssd-monitor && ! "$ZKUBE" image rm luksa/ssd-monitor 2>/dev/null
then ok rm; else nok rm; fi

exit $failed
