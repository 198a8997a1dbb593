#!/bin/sh
# tests/e2e/kubelet_process.sh — the kubelet with the process driver, end to
# end: a cluster (`zkube up --detach --nodes 0`) in a fresh ZKUBE_HOME plus
# one kubelet (node n1) started here, then busybox pods bound to n1 by
# spec.nodeName: node registration, Running with status, logs (current and
# --previous), restart after the container is killed, a failing liveness
# probe, readiness by httpGet and tcpSocket, a missing image, graceful
# deletion (SIGTERM seen by the container), and a kubelet killed with -9
# whose successor adopts the running container (same pid, same
# restartCount). Prints "ok - kubelet_process.CASE" / "not ok - ...";
# always stops what it started (by PID) and removes its folder.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ZKUBE="$ROOT/bin/zkube"
KC="$ROOT/bin/zkubectl"
KUBELET_BIN=${ZK_KUBELET_BIN:-$ZKUBE} # e.g. build-asan/bin/zkube for a sanitizer run
ZKUBE_HOME=$(mktemp -d /tmp/zkube-e2e-kl.XXXXXX)
ZKUBE_IMAGES="$ZKUBE_HOME/images"
export ZKUBE_HOME ZKUBE_IMAGES
T="$ZKUBE_HOME/t"
mkdir -p "$T"
KL_PID=""

PD_NAME=kubelet_process
. "$ROOT/tests/e2e/lib/process.sh"
pd_nok_extra() { tail -15 "$T/kubelet.log" 2>/dev/null | sed 's/^/  kubelet: /'; }
cleanup() {
    [ -n "$KL_PID" ] && kill -9 "$KL_PID" 2>/dev/null
    "$ZKUBE" down >/dev/null 2>&1
    "$ZKUBE" kubelet cleanup >/dev/null 2>&1
    pd_kill_containers
    rm -rf "$ZKUBE_HOME"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

k() { "$KC" "$@" >"$T/out" 2>"$T/err"; }
jp() { "$KC" get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
start_kubelet() {
    "$KUBELET_BIN" kubelet --node n1 --driver process --heartbeat 2 >>"$T/kubelet.log" 2>&1 &
    KL_PID=$!
}
# the host pid of a container instance: ctr_pid POD_UID NAME INSTANCE
ctr_pid() { cut -d' ' -f1 "$ZKUBE_HOME/kubelet/n1/driver/containers/$1-$2-$3.pid" 2>/dev/null; }

if [ ! -x "$ZKUBE" ] || [ ! -x "$KC" ]; then
    echo "not ok - kubelet_process.build (bin/zkube or bin/zkubectl missing)"; exit 1
fi

# ---- image: built by `zkube image` when it exists, else a minimal busybox --------
make_busybox() {
    d="$ZKUBE_IMAGES/library/busybox/latest"
    mkdir -p "$d/rootfs/bin" "$d/rootfs/tmp" && cp /bin/busybox "$d/rootfs/bin/busybox" || return 1
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/rootfs/bin/$a"
    done
    printf '{"entrypoint": [], "cmd": ["sh"], "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "workdir": "/"}\n' >"$d/config.json"
}
if "$ZKUBE" image build "$ROOT/deploy/images/busybox" >"$T/image.log" 2>&1 ||
    make_busybox; then ok image; else nok image; exit 1; fi

# ---- cluster and node -------------------------------------------------------------
"$ZKUBE" up --detach --nodes 0 >"$T/up.log" 2>&1
if wait_for 30 "$KC" version >/dev/null 2>&1; then ok cluster_up; else nok cluster_up; exit 1; fi
start_kubelet
node_ready() { [ "$(jp node n1 '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
wait_for 20 node_ready &&
    [ "$(jp node n1 '{.metadata.labels.kubernetes\.io/hostname}')" = n1 ] &&
    jp node n1 '{.status.nodeInfo.containerRuntimeVersion}' | grep -q '^zkube-process://' &&
    [ -n "$(jp node n1 '{.status.capacity.cpu}')" ]
verdict node_registered $?

# ---- a pod runs --------------------------------------------------------------------
cat >"$T/hello.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello; sleep 1000"]
EOF
k create -f "$T/hello.yaml"
running() { [ "$(jp pod "$1" '{.status.phase}')" = Running ] &&
    [ "$(jp pod "$1" '{.status.containerStatuses[0].state.running.startedAt}')" != "" ]; }
wait_for 20 running hello &&
    [ "$(jp pod hello '{.status.podIP}')" = 127.0.0.1 ] &&
    [ "$(jp pod hello '{.status.conditions[?(@.type=="Ready")].status}')" = True ] &&
    jp pod hello '{.status.containerStatuses[0].containerID}' | grep -q '^zkube://'
verdict pod_running $?
UID1=$(jp pod hello '{.metadata.uid}')

logs_hello() { "$ZKUBE" kubelet logs hello >"$T/out" 2>"$T/err" && grep -qx hello "$T/out"; }
wait_for 10 logs_hello
verdict logs $?

# ---- kill the container process: restarted, restartCount 1 ---------------------------
P0=$(ctr_pid "$UID1" main 0)
[ -n "$P0" ] && kill -9 "$P0"
restarted() { [ "$(jp pod hello '{.status.containerStatuses[0].restartCount}')" = 1 ] && running hello; }
wait_for 20 restarted &&
    [ "$(jp pod hello '{.status.containerStatuses[0].lastState.terminated.exitCode}')" = 137 ]
verdict restart_on_kill $?
"$ZKUBE" kubelet logs hello --previous >"$T/out" 2>"$T/err" && grep -qx hello "$T/out"
verdict logs_previous $?

# ---- probes --------------------------------------------------------------------------
PORT=$((20000 + $$ % 20000))
mkdir -p "$T/www" && echo ok >"$T/www/index.html"
cat >"$T/probes.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: probes
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: ["httpd", "-f", "-p", "127.0.0.1:$PORT", "-h", "$T/www"]
    readinessProbe:
      httpGet: {path: /index.html, port: $PORT}
      periodSeconds: 1
  - name: unready
    image: busybox
    command: ["sleep", "1000"]
    readinessProbe:
      tcpSocket: {port: 1}
      periodSeconds: 1
  - name: unhealthy
    image: busybox
    command: ["sh", "-c", "echo started; sleep 1000"]
    livenessProbe:
      exec: {command: ["sh", "-c", "exit 1"]}
      periodSeconds: 1
      failureThreshold: 2
EOF
k create -f "$T/probes.yaml"
web_ready() { [ "$(jp pod probes '{.status.containerStatuses[?(@.name=="web")].ready}')" = true ]; }
wait_for 20 web_ready &&
    [ "$(jp pod probes '{.status.containerStatuses[?(@.name=="unready")].ready}')" = false ] &&
    [ "$(jp pod probes '{.status.conditions[?(@.type=="Ready")].status}')" = False ]
verdict readiness_probes $?
live_restarted() {
    [ "$(jp pod probes '{.status.containerStatuses[?(@.name=="unhealthy")].restartCount}')" -ge 1 ] 2>/dev/null
}
wait_for 20 live_restarted &&
    jp pod probes '{.status.containerStatuses[?(@.name=="unhealthy")].lastState.terminated.message}' |
    grep -q 'failed liveness probe'
verdict liveness_restart $?
reasons() { "$KC" get events -o jsonpath='{.items[*].reason}' 2>/dev/null; }
has_events() { r=$(reasons); for x in Pulled Created Started Killing Unhealthy; do
    echo "$r" | grep -qw "$x" || return 1; done; }
wait_for 10 has_events &&
    "$KC" get events -o jsonpath='{.items[*].message}' | grep -q 'Liveness probe failed'
verdict events_recorded $?
k delete pod probes

# ---- logs: follow, tail ------------------------------------------------------------------
cat >"$T/counter.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: counter
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "i=0; while true; do echo line \$i; i=\$((i+1)); sleep 0.2; done"]
EOF
k create -f "$T/counter.yaml"
wait_for 20 running counter
timeout 3 "$ZKUBE" kubelet logs -f counter >"$T/follow" 2>"$T/err"
# in order, no line twice, and more than one poll's worth
n=$(wc -l <"$T/follow")
awk '{ if ($2 != NR - 1) bad = 1 } END { exit bad }' "$T/follow" && [ "$n" -ge 8 ]
verdict logs_follow $?
"$ZKUBE" kubelet logs counter --tail 2 >"$T/out" 2>"$T/err" && [ "$(wc -l <"$T/out")" = 2 ] &&
    grep -q '^line [0-9]*$' "$T/out"
verdict logs_tail $?
k delete pod counter

# ---- configmaps: env waits for the configmap, the volume folder gets its keys ----------------
cat >"$T/cfgpod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: cfgpod
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 1
  volumes:
  - name: conf
    configMap: {name: settings}
  - name: scratch
    emptyDir: {}
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo interval=\$INTERVAL pod=\$MY_POD; sleep 1000"]
    env:
    - name: INTERVAL
      valueFrom: {configMapKeyRef: {name: settings, key: sleep-interval}}
    - name: MY_POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
EOF
k create -f "$T/cfgpod.yaml"
cfg_wait() {
    [ "$(jp pod cfgpod '{.status.containerStatuses[0].state.waiting.reason}')" = ContainerCreating ]
}
wait_for 5 cfg_wait; waited=$?
cat >"$T/settings.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  sleep-interval: "25"
EOF
k create -f "$T/settings.yaml"
cfg_logs() { "$ZKUBE" kubelet logs cfgpod 2>/dev/null | grep -qx 'interval=25 pod=cfgpod'; }
wait_for 15 cfg_logs && [ "$waited" = 0 ] &&
    [ "$(cat "$ZKUBE_HOME"/kubelet/n1/pods/default_cfgpod_*/volumes/configMap/conf/sleep-interval)" = 25 ] &&
    [ -d "$(echo "$ZKUBE_HOME"/kubelet/n1/pods/default_cfgpod_*/volumes/emptyDir/scratch)" ]
verdict configmap_env_and_volume $?
k delete pod cfgpod

# ---- a missing image ---------------------------------------------------------------------
cat >"$T/noimage.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  nodeName: n1
  containers:
  - name: main
    image: zkube-test/does-not-exist:1.0
EOF
k create -f "$T/noimage.yaml"
never_pull() {
    [ "$(jp pod noimage '{.status.containerStatuses[0].state.waiting.reason}')" = ErrImageNeverPull ] &&
    [ "$(jp pod noimage '{.status.phase}')" = Pending ]
}
wait_for 10 never_pull
verdict missing_image $?
k delete pod noimage

# ---- kubelet killed with -9: the container keeps running and is adopted -------------------
P1=$(ctr_pid "$UID1" main 1)
kill -9 "$KL_PID"; wait "$KL_PID" 2>/dev/null; KL_PID=""
alive() { [ -n "$P1" ] && kill -0 "$P1" 2>/dev/null; }
alive; survived=$?
start_kubelet
adopted() { grep -q "adopted running container main" "$T/kubelet.log"; }
wait_for 15 adopted && sleep 2 && alive &&
    [ "$(jp pod hello '{.status.containerStatuses[0].restartCount}')" = 1 ] && running hello &&
    [ "$survived" = 0 ]
verdict adoption $?

# ---- a new image in the spec replaces the running container -------------------------------
k patch pod hello --type merge -p \
    '{"spec":{"containers":[{"name":"main","image":"busybox:latest","command":["sh","-c","echo hello; sleep 1000"]}]}}'
replaced() { [ "$(jp pod hello '{.status.containerStatuses[0].restartCount}')" = 2 ] && running hello; }
wait_for 20 replaced &&
    [ "$(jp pod hello '{.status.containerStatuses[0].image}')" = busybox:latest ] &&
    jp pod hello '{.status.containerStatuses[0].lastState.terminated.message}' |
    grep -q 'definition changed'
verdict image_change_restarts $?
P1=$(ctr_pid "$UID1" main 2)

# ---- graceful deletion: the container sees SIGTERM, then the pod is gone ------------------
MARK="$T/got-term"
cat >"$T/grace.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: grace
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 10
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "trap 'echo bye > $MARK; exit 0' TERM; echo up; while true; do sleep 0.2; done"]
EOF
k create -f "$T/grace.yaml"
wait_for 20 running grace
UID2=$(jp pod grace '{.metadata.uid}')
P2=$(ctr_pid "$UID2" main 0)
k delete pod grace
gone() { ! "$KC" get pod "$1" >/dev/null 2>&1; }
wait_for 15 gone grace && [ -f "$MARK" ] && ! kill -0 "$P2" 2>/dev/null
verdict graceful_delete $?
k delete pod hello
wait_for 15 gone hello && [ -n "$P1" ] && ! kill -0 "$P1" 2>/dev/null &&
    [ -z "$(ls "$ZKUBE_HOME/kubelet/n1/driver/containers" 2>/dev/null)" ]
verdict delete_cleans_up $?

# ---- `zkube kubelet cleanup` stops what a stopped kubelet left running ------------------
k create -f "$T/hello.yaml"
wait_for 20 running hello
UID3=$(jp pod hello '{.metadata.uid}')
P3=$(ctr_pid "$UID3" main 0)
kill -9 "$KL_PID"; wait "$KL_PID" 2>/dev/null; KL_PID=""
"$ZKUBE" kubelet cleanup >"$T/out" 2>"$T/err" && grep -qx '1 container(s) stopped' "$T/out" &&
    wait_for 5 sh -c "! kill -0 $P3 2>/dev/null" &&
    [ -z "$(ls "$ZKUBE_HOME/kubelet/n1/driver/containers" 2>/dev/null)" ]
verdict cleanup_command $?
