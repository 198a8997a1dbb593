#!/bin/sh
# tests/e2e/kubectl_logs_exec.sh — the real kubectl's `logs` and `exec`
# through zkube's HTTP gateway: a cluster with the process driver
# (`zkube up --detach --nodes 1 --driver process --http-port none`, no root
# needed) in a fresh ZKUBE_HOME, `zkube gateway` on a random loopback port,
# kubectl with a fresh HOME and --server. Busybox pods on node1: logs (all,
# --tail, --timestamps, -f seeing a new line, --previous after a restart,
# several containers), exec over WebSocket (output, exit code 3 with
# kubectl's message, stderr apart, a file of the node, stdin with -i, a
# terminal with -it), and kubectl's errors. Prints "ok - kubectl_logs_exec.CASE" / "not ok - ...";
# stops everything it started (by PID) and removes its folder.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ZKUBE=${ZK_ZKUBE:-$ROOT/bin/zkube}
KUBECTL=${KUBECTL:-kubectl}
WORK=$(mktemp -d /tmp/zkube-e2e-kle.XXXXXX)
ZKUBE_HOME="$WORK/home"
ZKUBE_IMAGES="$ZKUBE_HOME/images"
HOME="$WORK/kchome" # kubectl caches discovery under $HOME/.kube
export ZKUBE_HOME ZKUBE_IMAGES HOME
T="$WORK/t"
mkdir -p "$T" "$HOME" "$ZKUBE_HOME" "$WORK/bin"
GW_PID=""
FOLLOW_PID=""

PD_NAME=kubectl_logs_exec
. "$ROOT/tests/e2e/lib/process.sh"
cleanup() {
    [ -n "$FOLLOW_PID" ] && kill -9 "$FOLLOW_PID" 2>/dev/null
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
    "$ZKUBE" down >/dev/null 2>&1
    pd_kill_containers
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# k ARGS...: kubectl against the gateway; stdout, stderr, exit code land in $T
k() { "$KUBECTL" --server "http://127.0.0.1:$PORT" "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }
jp() { "$KUBECTL" --server "http://127.0.0.1:$PORT" get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }

if ! command -v "$KUBECTL" >/dev/null 2>&1; then
    echo "ok - kubectl_logs_exec.skipped # SKIP kubectl not installed"; exit 0
fi
if [ ! -x "$ZKUBE" ]; then
    echo "not ok - kubectl_logs_exec.build (bin/zkube missing)"; exit 1
fi
# a private copy: other builds may relink bin/ while the cluster runs
cp "$ZKUBE" "$WORK/bin/zkube" || exit 1
ZKUBE="$WORK/bin/zkube"

# ---- image, cluster, gateway -------------------------------------------------------
make_busybox() { # a minimal busybox image when `zkube image build` cannot run
    d="$ZKUBE_IMAGES/library/busybox/latest"
    mkdir -p "$d/rootfs/bin" "$d/rootfs/tmp" && cp /bin/busybox "$d/rootfs/bin/busybox" || return 1
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/rootfs/bin/$a"
    done
    printf '{"entrypoint": [], "cmd": ["sh"], "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "workdir": "/"}\n' >"$d/config.json"
}
if "$ZKUBE" image build "$ROOT/deploy/images/busybox" >"$T/image.log" 2>&1 ||
    make_busybox; then ok image; else nok image; exit 1; fi

"$ZKUBE" up --detach --nodes 1 --driver process --http-port none >"$T/up.log" 2>&1
for try in 1 2 3 4 5; do
    PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000))
    "$ZKUBE" gateway --http-port "$PORT" >"$T/gw.log" 2>&1 &
    GW_PID=$!
    sleep 0.2
    kill -0 "$GW_PID" 2>/dev/null && break
    GW_PID=""
done
node_ready() { [ "$(jp node node1 '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
if [ -n "$GW_PID" ] && wait_for 40 node_ready; then ok cluster_up; else
    cp "$T/up.log" "$T/out"; cp "$T/gw.log" "$T/err"; nok cluster_up; exit 1; fi

# crasher: "$$" is Kubernetes' escape for "$", so "$$$$" reaches the shell as
# "$$", its pid: each instance prints a different line
cat >"$T/pods.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: talker
spec:
  nodeName: node1
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo one; echo two; sleep 2; echo three; sleep 3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  nodeName: node1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo instance-\$\$\$\$; sleep 1; exit 1"]
---
apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  nodeName: node1
  terminationGracePeriodSeconds: 1
  containers:
  - name: left
    image: busybox
    command: ["sh", "-c", "echo from-left; sleep 3600"]
  - name: right
    image: busybox
    command: ["sh", "-c", "echo from-right; sleep 3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: unscheduled
spec:
  nodeSelector:
    disk: none-such
  containers:
  - name: a
    image: busybox
EOF
k create -f "$T/pods.yaml"
running() { [ "$(jp pod "$1" '{.status.phase}')" = Running ]; }
wait_for 30 running talker && wait_for 10 running duo
verdict pods_running $?

# ---- logs ---------------------------------------------------------------------------
"$KUBECTL" --server "http://127.0.0.1:$PORT" logs -f talker >"$T/follow" 2>"$T/follow.err" &
FOLLOW_PID=$!
has_two() { k logs talker && grep -qx two "$T/out"; }
wait_for 15 has_two && [ "$(head -2 "$T/out")" = "$(printf 'one\ntwo')" ] && rc_is 0
verdict logs $?

follow_has_three() { grep -qx three "$T/follow"; }
wait_for 15 follow_has_three && kill -0 "$FOLLOW_PID" 2>/dev/null &&
    [ "$(cat "$T/follow")" = "$(printf 'one\ntwo\nthree')" ]
verdict logs_follow_sees_new_line $?
kill "$FOLLOW_PID" 2>/dev/null
wait "$FOLLOW_PID" 2>/dev/null
FOLLOW_PID=""

k logs talker --tail 1
rc_is 0 && out_is three
verdict logs_tail $?

k logs talker --timestamps --tail=2
rc_is 0 && grep -Eq '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]{8}(\.[0-9]+)?Z two$' "$T/out" &&
    [ "$(wc -l <"$T/out")" -eq 2 ]
verdict logs_timestamps $?

k logs talker --limit-bytes 3
rc_is 0 && out_is one
verdict logs_limit_bytes $?

k logs duo -c right
rc_is 0 && out_is from-right
verdict logs_container $?

k logs duo # kubectl picks the first container itself and says so
rc_is 0 && out_is from-left && grep -q 'Defaulted container "left"' "$T/err"
verdict logs_default_container $?

k logs talker --previous
rc_is 1 && err_is 'Error from server (BadRequest): previous terminated container "main" in pod "talker" not found'
verdict logs_previous_none $?

restarted() { [ "$(jp pod crasher '{.status.containerStatuses[0].restartCount}')" -ge 1 ] 2>/dev/null; }
prev_ok() {
    k logs crasher --previous && grep -q '^instance-[0-9]*$' "$T/out" && cp "$T/out" "$T/prev" &&
        k logs crasher && grep -q '^instance-[0-9]*$' "$T/out" && ! cmp -s "$T/out" "$T/prev"
}
wait_for 30 restarted && wait_for 15 prev_ok
verdict logs_previous_after_restart $?

# kubectl reads the pod first and words these two itself, as against Kubernetes
k logs nosuch
rc_is 1 && err_is 'error: error from server (NotFound): pods "nosuch" not found in namespace "default"'
verdict logs_no_such_pod $?

k logs talker -c wrong
rc_is 1 && err_is 'error: container wrong is not valid for pod talker'
verdict logs_wrong_container $?

# ... and the gateway's own answer to the same request, as curl sees it
if command -v curl >/dev/null 2>&1; then
    curl -s -o "$T/out" -w '%{http_code}' \
        "http://127.0.0.1:$PORT/api/v1/namespaces/default/pods/duo/log" >"$T/rc"
    rc_is 400 && grep -q 'a container name must be specified for pod duo, choose one of: \[left right\]' "$T/out"
    verdict logs_choose_container_curl $?
fi

k logs unscheduled
rc_is 1 && err_is 'Error from server (BadRequest): container "a" in pod "unscheduled" is waiting to start: ContainerCreating'
verdict logs_not_scheduled $?

# ---- exec (WebSocket, v5.channel.k8s.io) -----------------------------------------------
k exec talker -- sh -c 'echo hi; exit 3'
rc_is 3 && out_is hi && err_is 'command terminated with exit code 3'
verdict exec_exit_code $?

k exec talker -c main -- echo hello world
rc_is 0 && out_is 'hello world' && [ ! -s "$T/err" ]
verdict exec_output $?

# ~110 KB of output: several WebSocket frames
k exec talker -- seq 1 20000
rc_is 0 && [ "$(wc -l <"$T/out")" = 20000 ] && [ "$(tail -1 "$T/out")" = 20000 ]
verdict exec_large_output $?

# the process driver runs commands on the node's filesystem
if [ -r /etc/hostname ]; then
    k exec talker -- cat /etc/hostname
    rc_is 0 && [ "$(cat "$T/out")" = "$(cat /etc/hostname)" ]
    verdict exec_cat_file $?
fi

# stdout on channel 1, stderr on channel 2
k exec duo -c right -- sh -c 'echo out; echo err >&2'
rc_is 0 && out_is out && err_is err
verdict exec_stderr $?

k exec talker -- no-such-command
! rc_is 0 && grep -q 'command terminated with exit code' "$T/err"
verdict exec_missing_command $?

# -i: stdin reaches the command; its end (v5's CLOSE signal) ends cat
seq 1 50000 >"$T/in"
"$KUBECTL" --server "http://127.0.0.1:$PORT" exec -i talker -- sh -c 'cat; echo done >&2' \
    <"$T/in" >"$T/out" 2>"$T/err"
echo $? >"$T/rc"
rc_is 0 && cmp -s "$T/in" "$T/out" && err_is done
verdict exec_stdin $?

echo 'exit 6' | "$KUBECTL" --server "http://127.0.0.1:$PORT" exec -i talker -- sh \
    >"$T/out" 2>"$T/err"
echo $? >"$T/rc"
rc_is 6 && err_is 'command terminated with exit code 6'
verdict exec_stdin_script_exit_code $?

# -it: a terminal (script(1) gives kubectl one), its size, the exit code
if command -v script >/dev/null 2>&1; then
    printf 'tty\nstty size\nexit 4\n' | script -qec "stty rows 33 cols 101; \
        $KUBECTL --server http://127.0.0.1:$PORT exec -it talker -- sh" /dev/null \
        >"$T/out" 2>"$T/err"
    echo $? >"$T/rc"
    rc_is 4 && grep -q '^/dev/pts/' "$T/out" && grep -q '^33 101' "$T/out"
    verdict exec_tty $?
fi

k exec nosuch -- ls
rc_is 1 && err_is 'Error from server (NotFound): pods "nosuch" not found'
verdict exec_no_such_pod $?

k exec talker -c wrong -- ls
rc_is 1 && grep -q 'container wrong is not valid for pod talker' "$T/err"
verdict exec_wrong_container $?

# ---- -f ends when the container goes ---------------------------------------------------
"$KUBECTL" --server "http://127.0.0.1:$PORT" logs -f duo -c left >"$T/follow" 2>"$T/follow.err" &
FOLLOW_PID=$!
follow_has_left() { grep -qx from-left "$T/follow"; }
wait_for 10 follow_has_left
k delete pod duo --wait=false
follow_done() { ! kill -0 "$FOLLOW_PID" 2>/dev/null; }
if wait_for 20 follow_done; then
    wait "$FOLLOW_PID"; rc=$?; FOLLOW_PID=""
    [ $rc = 0 ] && [ "$(cat "$T/follow")" = from-left ]
else false; fi
verdict logs_follow_stops_on_delete $?
exit 0
