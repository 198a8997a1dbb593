#!/bin/sh
# tests/e2e/logs_exec.sh — `zkubectl logs` and `zkubectl exec` end to end:
# a cluster with the process driver (`zkube up --detach --nodes 1 --driver
# process --http-port none`, no root needed) in a fresh ZKUBE_HOME, busybox
# pods on node1: logs (all, --tail, --timestamps, -f seeing a line arrive
# and stopping when the pod is deleted, --previous after a restart, rc/NAME,
# -l with --prefix),
# exec (output, exit code with kubectl's message, stdin with -i), and kubectl's
# errors (no such pod, wrong container, several containers, a pod not
# scheduled yet). Prints "ok - logs_exec.CASE" / "not ok - ..."; stops what
# it started (by PID) and removes its folder.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ZKUBE="$ROOT/bin/zkube"
KC="$ROOT/bin/zkubectl"
ZKUBE_HOME=$(mktemp -d /tmp/zkube-e2e-logs.XXXXXX)
ZKUBE_IMAGES="$ZKUBE_HOME/images"
export ZKUBE_HOME ZKUBE_IMAGES
T="$ZKUBE_HOME/t"
mkdir -p "$T"
FOLLOW_PID=""

PD_NAME=logs_exec
. "$ROOT/tests/e2e/lib/process.sh"
cleanup() {
    [ -n "$FOLLOW_PID" ] && kill -9 "$FOLLOW_PID" 2>/dev/null
    "$ZKUBE" down >/dev/null 2>&1
    pd_kill_containers
    rm -rf "$ZKUBE_HOME"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

k() { "$KC" "$@" >"$T/out" 2>"$T/err"; }
jp() { "$KC" get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
running() { [ "$(jp pod "$1" '{.status.phase}')" = Running ]; }

if [ ! -x "$ZKUBE" ] || [ ! -x "$KC" ]; then
    echo "not ok - logs_exec.build (bin/zkube or bin/zkubectl missing)"; exit 1
fi

# ---- image and cluster ----------------------------------------------------------
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
node_ready() { [ "$(jp node node1 '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
if wait_for 30 node_ready; then ok cluster_up; else
    cp "$T/up.log" "$T/out"; nok cluster_up; exit 1; fi

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
    command: ["sh", "-c", "echo one; echo two; sleep 1; echo three; sleep 3600"]
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
  name: pending
spec:
  nodeSelector:
    disk: none-such
  containers:
  - name: a
    image: busybox
  - name: b
    image: busybox
EOF
k create -f "$T/pods.yaml"
wait_for 20 running talker
verdict pod_running $?

# ---- logs -------------------------------------------------------------------------
"$KC" logs -f talker >"$T/follow" 2>"$T/follow.err" &
FOLLOW_PID=$!
has_three() { k logs talker && grep -qx three "$T/out"; }
wait_for 15 has_three && [ "$(head -3 "$T/out")" = "$(printf 'one\ntwo\nthree')" ]
verdict logs_all_lines $?

k logs talker --tail 1 && out_is three
verdict logs_tail $?

k logs talker --timestamps --tail=2 &&
    grep -Eq '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]{8}(\.[0-9]+)?Z two$' "$T/out" &&
    [ "$(wc -l <"$T/out")" -eq 2 ]
verdict logs_timestamps $?

k logs talker --since 1h && grep -qx one "$T/out"
verdict logs_since $?

follow_has_three() { grep -qx three "$T/follow"; }
wait_for 10 follow_has_three && kill -0 "$FOLLOW_PID" 2>/dev/null
verdict logs_follow_sees_new_line $?

k logs talker --previous; rc=$?
[ $rc = 1 ] && err_is 'Error from server (BadRequest): previous terminated container "main" in pod "talker" not found'
verdict logs_previous_none $?

# ---- exec -------------------------------------------------------------------------
k exec talker -- sh -c 'echo hi; exit 3'; rc=$?
[ $rc = 3 ] && out_is hi && err_is 'command terminated with exit code 3'
verdict exec_exit_code $?

k exec talker -c main -- echo hello world; rc=$?
[ $rc = 0 ] && out_is 'hello world' && [ ! -s "$T/err" ]
verdict exec_output $?

printf 'one\ntwo\n' | "$KC" exec -i talker -- sh -c 'cat; echo e >&2; exit 2' \
    >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 2 ] && [ "$(cat "$T/out")" = "$(printf 'one\ntwo')" ] &&
    [ "$(cat "$T/err")" = "$(printf 'e\ncommand terminated with exit code 2')" ]
verdict exec_stdin $?

k exec talker -- no-such-command; rc=$?
[ $rc != 0 ] && grep -q 'command terminated with exit code' "$T/err"
verdict exec_missing_command $?

# ---- errors -----------------------------------------------------------------------
k logs nosuch; rc=$?
[ $rc = 1 ] && err_is 'Error from server (NotFound): pods "nosuch" not found'
verdict logs_no_such_pod $?

k exec nosuch -- ls; rc=$?
[ $rc = 1 ] && err_is 'Error from server (NotFound): pods "nosuch" not found'
verdict exec_no_such_pod $?

k logs talker -c wrong; rc=$?
[ $rc = 1 ] && err_is 'Error from server (BadRequest): container wrong is not valid for pod talker'
verdict logs_wrong_container $?

k exec talker -c wrong -- ls; rc=$?
[ $rc = 1 ] && err_is 'Error from server (BadRequest): container wrong is not valid for pod talker'
verdict exec_wrong_container $?

k logs pending; rc=$?
[ $rc = 1 ] && err_is 'Error from server (BadRequest): a container name must be specified for pod pending, choose one of: [a b]'
verdict logs_several_containers $?

k logs pending -c a; rc=$?
[ $rc = 1 ] && err_is 'Error from server (BadRequest): container "a" in pod "pending" is waiting to start: ContainerCreating'
verdict logs_not_scheduled $?

# ---- restart: --previous shows the old instance -------------------------------------
restarted() { [ "$(jp pod crasher '{.status.containerStatuses[0].restartCount}')" -ge 1 ] 2>/dev/null; }
prev_ok() {
    k logs crasher --previous && grep -q '^instance-[0-9]*$' "$T/out" && cp "$T/out" "$T/prev" &&
        k logs crasher && grep -q '^instance-[0-9]*$' "$T/out" && ! cmp -s "$T/out" "$T/prev"
}
wait_for 30 restarted && wait_for 10 prev_ok
verdict logs_previous_after_restart $?

# ---- a controller's pod -------------------------------------------------------------
cat >"$T/rc.yaml" <<EOF
apiVersion: v1
kind: ReplicationController
metadata:
  name: hello-rc
spec:
  replicas: 2
  selector:
    app: hello
  template:
    metadata:
      labels:
        app: hello
    spec:
      nodeName: node1
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo hello from rc; sleep 3600"]
EOF
k create -f "$T/rc.yaml"
rc_logs() { k logs rc/hello-rc && grep -q '^hello from' "$T/out" &&
    grep -q '^Found 2 pods, using pod/hello-rc-' "$T/err"; }
wait_for 30 rc_logs
verdict logs_rc $?

k logs -l app=hello --prefix --all-containers &&
    [ "$(grep -c '^\[pod/hello-rc-[a-z0-9]*/main\] hello from rc$' "$T/out")" = 2 ]
verdict logs_selector_prefix $?

# ---- -f stops when the pod goes -------------------------------------------------------
k delete pod talker --wait=false
follow_done() { ! kill -0 "$FOLLOW_PID" 2>/dev/null; }
if wait_for 20 follow_done; then
    wait "$FOLLOW_PID"; rc=$?; FOLLOW_PID=""
    [ $rc = 0 ] && [ "$(cat "$T/follow")" = "$(printf 'one\ntwo\nthree')" ]
else false; fi
verdict logs_follow_stops_on_delete $?
exit 0
