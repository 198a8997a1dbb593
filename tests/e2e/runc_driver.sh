#!/bin/sh
# tests/e2e/runc_driver.sh — the runc driver end to end, as root: inside a
# network namespace this script creates (so the host's interfaces are never
# touched), test_runc's as_root_ tests run two busybox httpd pods on one node
# through the driver API (distinct pod IPs, HTTP from this namespace and
# from the other pod, exec, exit codes, adoption by a new driver, two
# nodes routed through the host, hostNetwork, cgroup limits, OOMKilled,
# exit codes kept across a kubelet kill -9, cleanup);
# then this script checks that no link, route, cgroup or host interface of
# the run is left. (Mounts and processes are checked by the C tests
# themselves, which know their own paths and pids.)
# Then, when bin/zkube and bin/zkubectl exist, a whole cluster in the same
# namespace (`zkube up --nodes 2 --driver runc`): two busybox httpd pods
# answer on their pod IPs, a kill -9 of a container is restarted, a kill -9
# of a kubelet is adopted (same container pid, restartCount unchanged), and
# after `zkube down` + `zkube runc-cleanup` nothing is left.
# Prints "ok - runc.NAME" / "not ok - runc.NAME".
BUILD=${BUILD:-build}
T=${ZK_TEST_RUNC:-$PWD/$BUILD/tests/test_runc}

ok() { echo "ok - runc.$1"; }
nok() { echo "not ok - runc.$1"; failed=1; }
failed=0

if [ "$(id -u)" != 0 ]; then ok "skipped (not root)"; exit 0; fi
for b in runc ip busybox curl nsenter; do
    if ! command -v $b >/dev/null 2>&1 && [ ! -x /usr/sbin/$b ]; then
        ok "skipped (no $b)"; exit 0
    fi
done
if [ ! -x "$T" ]; then nok "build (no $T)"; exit 1; fi

rnd=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
NS="zkt-$rnd"
TAG=$(printf '%s' "$rnd" | cut -c1-4)
ip netns add "$NS" || { nok "netns-add"; exit 1; }
trap 'ip netns del "$NS" 2>/dev/null' EXIT
ip netns exec "$NS" ip link set lo up

# nsenter --net, not `ip netns exec`: the latter remounts /sys, which hides
# the cgroup hierarchies that runc needs; only the network is switched.
ERR=$(mktemp /tmp/zkube-e2e-runc.XXXXXX)
OUT=$(mktemp /tmp/zkube-e2e-runc.XXXXXX)
ZK_TEST_NETNS=1 ZK_TEST_TAG="$TAG" ZK_TEST_TIMEOUT=120 \
    nsenter --net="/run/netns/$NS" "$T" as_root_ >"$OUT" 2>"$ERR"
sed -n 's/^\(not ok\|ok\) - test_runc\.as_root_/\1 - runc./p' "$OUT"
if ! grep -q '^ok - test_runc\.as_root_' "$OUT"; then
    nok "driver-tests (no results from $T)"
fi
if grep -q '^not ok' "$OUT"; then
    failed=1; sed 's/^/    /' "$ERR" >&2
fi
grep 'startup (n=' "$ERR" | sed 's/^ */# /'
rm -f "$ERR" "$OUT"

links=$(ip netns exec "$NS" ip -o link show | grep -vc ': lo:')
if [ "$links" = 0 ]; then ok no-links-left; else
    nok no-links-left; ip netns exec "$NS" ip -o link show >&2; fi
routes=$(ip netns exec "$NS" ip route show table all | grep -c "10\.231\.")
if [ "$routes" = 0 ]; then ok no-routes-left; else
    nok no-routes-left; ip netns exec "$NS" ip route show table all >&2; fi
cgs=$(ls -d /sys/fs/cgroup/*/zkube-"$TAG" /sys/fs/cgroup/zkube-"$TAG" 2>/dev/null | wc -l)
if [ "$cgs" = 0 ]; then ok no-cgroups-left; else nok no-cgroups-left; fi
if ip -o link show | grep -q "zk$TAG"; then nok host-untouched; else ok host-untouched; fi

# ---- a whole cluster with the runc driver ----------------------------------
ZKUBE=${ZKUBE:-$PWD/bin/zkube}
ZKUBECTL=${ZKUBECTL:-$PWD/bin/zkubectl}
H=$(mktemp -d /tmp/zkube-e2e-runcc.XXXXXX)
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

# field_of ID FIELD: a number from run/actors.json (written by the supervisor)
field_of() {
    awk -v id="$1" -v f="\"$2\":" '
        $1 == "\"id\":" { cur = $2; gsub(/[",]/, "", cur) }
        $1 == f && cur == id { v = $2; gsub(/[",]/, "", v); print v }' \
        "$ZKUBE_HOME/run/actors.json" 2>/dev/null
}
# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds
wait_for() {
    n=$(($1 * 5)); shift
    while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.2; n=$((n - 1)); done
    return 1
}
pod_field() { "$ZKUBECTL" get pod "$1" -o jsonpath="$2" 2>/dev/null; }
running() { [ "$(pod_field "$1" '{.status.phase}')" = Running ] && [ -n "$(pod_field "$1" '{.status.podIP}')" ]; }
answers() { in_ns curl -s --max-time 2 "http://$1:8080/" | grep -q "$2"; }
restarts_are() { [ "$(pod_field "$1" '{.status.containerStatuses[0].restartCount}')" = "$2" ]; }
cpid_file() { ls "$ZKUBE_HOME"/kubelet/*/driver/containers/"$1"-web-"$2"/pid 2>/dev/null | head -1; }

cluster_cleanup() {
    "$ZKUBE" down >/dev/null 2>&1
    for n in 1 2; do
        [ -n "$CL_TAG" ] && in_ns "$ZKUBE" runc-cleanup --node node$n --pod-cidr "$CL_NET.$n.0/24" \
            --cluster-cidr "$CL_NET.0.0/16" --cluster-tag "$CL_TAG" >/dev/null 2>&1
    done
    p=$(cat "$ZKUBE_HOME/run/supervisor.pid" 2>/dev/null)
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null
}

run_cluster() {
    export ZKUBE_HOME="$H/home" ZKUBE_IMAGES="$H/images"
    unset ZKUBE_BROKER
    img="$ZKUBE_IMAGES/library/busybox/latest"
    mkdir -p "$img/rootfs/bin" "$img/rootfs/www" "$ZKUBE_HOME"
    cp "$(command -v busybox)" "$img/rootfs/bin/busybox"
    for a in sh httpd hostname sleep cat; do ln -s busybox "$img/rootfs/bin/$a"; done
    echo '{"entrypoint": [], "cmd": ["sh"], "env": ["PATH=/bin"], "workdir": "/"}' > "$img/config.json"
    if ! timeout 60 nsenter --net="/run/netns/$NS" "$ZKUBE" up --detach --nodes 2 --driver runc --http-port none >/dev/null 2>&1; then
        nok cluster.up; return
    fi
    ok cluster.up
    kp=$(field_of kubelet-node1 pid)
    set -- $(tr '\0' ' ' < /proc/"$kp"/cmdline 2>/dev/null)
    while [ $# -gt 0 ]; do
        case "$1" in --cluster-tag) CL_TAG=$2 ;; --cluster-cidr) CL_NET=${2%.0.0/16} ;; esac; shift
    done
    for p in web-a web-b; do
        cat <<YAML | "$ZKUBECTL" apply -f - >/dev/null 2>&1
apiVersion: v1
kind: Pod
metadata:
  name: $p
  labels: {app: web}
spec:
  containers:
  - name: web
    image: busybox
    command: ["sh", "-c", "hostname > /www/index.html; exec httpd -f -p 8080 -h /www"]
YAML
    done
    if wait_for 30 running web-a && wait_for 30 running web-b; then ok cluster.pods-running; else
        nok cluster.pods-running; "$ZKUBECTL" get pods -o wide >&2; return; fi
    ipa=$(pod_field web-a '{.status.podIP}'); ipb=$(pod_field web-b '{.status.podIP}')
    if [ "$ipa" != "$ipb" ] && wait_for 10 answers "$ipa" web-a && wait_for 10 answers "$ipb" web-b
    then ok cluster.curl-pod-ips; else nok "cluster.curl-pod-ips ($ipa $ipb)"; fi

    uid=$(pod_field web-a '{.metadata.uid}')
    f=$(cpid_file "$uid" 0)
    if [ -n "$f" ] && kill -9 "$(cat "$f")" && wait_for 20 restarts_are web-a 1 &&
       wait_for 10 answers "$ipa" web-a; then ok cluster.container-kill9-restarted; else
        nok cluster.container-kill9-restarted; fi

    node=$(pod_field web-b '{.spec.nodeName}')
    uid=$(pod_field web-b '{.metadata.uid}')
    f=$(cpid_file "$uid" 0)
    before=$(cat "$f" 2>/dev/null)
    kp=$(field_of "kubelet-$node" pid)
    if [ -n "$kp" ] && [ -n "$before" ] && kill -9 "$kp"; then
        wait_for 20 sh -c "[ \"\$(awk -v id='\"kubelet-$node\",' '\$2 == id { f = 1 } f && /\"restarts\"/ { gsub(/[^0-9]/, \"\"); print; exit }' '$ZKUBE_HOME/run/actors.json')\" = 1 ]"
        sleep 3 # the new kubelet has synced and reconciled by now
        if [ "$(cat "$f" 2>/dev/null)" = "$before" ] && kill -0 "$before" 2>/dev/null &&
           restarts_are web-b 0 && answers "$ipb" web-b; then ok cluster.kubelet-kill9-adopts; else
            nok cluster.kubelet-kill9-adopts; fi
    else
        nok cluster.kubelet-kill9-adopts
    fi
    cluster_cleanup
    left=$(in_ns ip -o link show | grep -vc ': lo:')
    cgs=$(ls -d /sys/fs/cgroup/*/zkube-"$CL_TAG" /sys/fs/cgroup/zkube-"$CL_TAG" 2>/dev/null | wc -l)
    mounts=$(grep -c "$H" /proc/self/mountinfo)
    if [ "$left" = 0 ] && [ "$cgs" = 0 ] && [ "$mounts" = 0 ]; then ok cluster.down-cleans-up; else
        nok "cluster.down-cleans-up (links $left, cgroups $cgs, mounts $mounts)"; fi
}

if [ -x "$ZKUBE" ] && [ -x "$ZKUBECTL" ]; then
    trap 'cluster_cleanup; rm -rf "$H"; ip netns del "$NS" 2>/dev/null' EXIT
    run_cluster
fi
exit $failed
