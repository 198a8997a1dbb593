#!/bin/sh
# deploy/lab/lab.sh — a multi-host zkube lab on one machine (root only).
#
#   lab.sh up N SPEC [DRIVER]  build N hosts and start SPEC's cluster across them
#   lab.sh exec HOST CMD...    run CMD inside HOST's namespace, with its ZKUBE_HOME
#   lab.sh down                stop the cluster, delete the hosts and the switch
#   lab.sh hosts               list the hosts (name, namespace, address, ZKUBE_HOME)
#
# Hosts are network namespaces zkl-TAG-cp, zkl-TAG-w1 .. zkl-TAG-w(N-1), each
# with loopback and one interface eth0 (10.250.0.1 for cp, .2 for w1 ...)
# plugged into a bridge that lives in its own "switch" namespace
# zkl-TAG-sw. Nothing is created in the machine's own namespace, and there
# is no default route: the hosts reach each other and nothing else. The
# SPEC's host names must be cp, w1, ... and its addresses those above
# (deploy/cluster-lab.yaml is one). DRIVER (optional) overrides the
# kubelets' driver (`zkube up --driver`).
#
# TAG ($ZKL_TAG, default a random 4-hex tag printed by `up`) names every
# namespace, and the lab's state folder $ZKL_ROOT/TAG (ZKL_ROOT defaults to
# /tmp/zkube-lab) holds each host's ZKUBE_HOME; `exec` and `down` need the
# same ZKL_TAG (or find the only lab there is). Two labs never collide.
set -u
ZK_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ZKUBE="$ZK_ROOT/bin/zkube"
ZKL_ROOT=${ZKL_ROOT:-/tmp/zkube-lab}
NET=10.250.0

die() { echo "lab: $*" >&2; exit 1; }

# The lab's tag: $ZKL_TAG, or the only lab under $ZKL_ROOT.
find_tag() {
    [ -n "${ZKL_TAG:-}" ] && { TAG=$ZKL_TAG; return; }
    set -- "$ZKL_ROOT"/*/hosts
    [ $# = 1 ] && [ -f "$1" ] || die "set ZKL_TAG (labs: $(ls "$ZKL_ROOT" 2>/dev/null | tr '\n' ' '))"
    TAG=$(basename "$(dirname "$1")")
}
host_name() { if [ "$1" = 1 ]; then echo cp; else echo "w$(($1 - 1))"; fi; }
ns_of() { echo "zkl-$TAG-$1"; }
home_of() { echo "$ZKL_ROOT/$TAG/$1/home"; }

# hexec HOST CMD...: CMD inside HOST's network namespace with HOST's
# ZKUBE_HOME. nsenter switches the network namespace only: `ip netns exec`
# would also remount /sys in a private mount namespace, which hides the
# cgroup mounts that runc needs.
hexec() {
    h=$1; shift
    if command -v nsenter >/dev/null; then
        nsenter --net="/run/netns/$(ns_of "$h")" env ZKUBE_HOME="$(home_of "$h")" "$@"
    else
        ip netns exec "$(ns_of "$h")" env ZKUBE_HOME="$(home_of "$h")" "$@"
    fi
}

make_switch() {
    sw=$(ns_of sw)
    ip netns add "$sw" || die "cannot create namespace $sw"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add br0 type bridge
    ip -n "$sw" link set br0 up
}

# make_host I: namespace, veth to the switch's bridge, address, loopback.
make_host() {
    h=$(host_name "$1"); ns=$(ns_of "$h"); sw=$(ns_of sw)
    ip netns add "$ns" || die "cannot create namespace $ns"
    ip -n "$sw" link add "p-$h" type veth peer name eth0 netns "$ns" || die "veth for $h"
    ip -n "$sw" link set "p-$h" master br0 up
    ip -n "$ns" addr add "$NET.$1/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    mkdir -p "$(home_of "$h")"
    echo "$h $ns $NET.$1 $(home_of "$h")" >>"$ZKL_ROOT/$TAG/hosts"
}

# CURVE keys made once on cp; the other hosts get the client pair and the
# broker's public key (not its secret).
share_keys() {
    hexec cp "$ZKUBE" certs >/dev/null || die "zkube certs failed"
    src="$(home_of cp)/keys"
    while read -r h _ns _ip home; do
        [ "$h" = cp ] && continue
        mkdir -p "$home/keys" && chmod 700 "$home/keys"
        for k in broker.pub client.pub client.key; do cp -p "$src/$k" "$home/keys/$k"; done
    done <"$ZKL_ROOT/$TAG/hosts"
}

cmd_up() {
    [ $# -ge 2 ] || die "usage: lab.sh up N SPEC [DRIVER]"
    n=$1; spec=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); drv=${3:-}
    case "$n" in [2-9]|[1-9][0-9]) ;; *) die "N must be 2..99" ;; esac
    [ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
    [ -f "$spec" ] || die "$2: no such spec"
    TAG=${ZKL_TAG:-$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')}
    [ -e "$ZKL_ROOT/$TAG" ] && die "lab $TAG exists (lab.sh down first)"
    mkdir -p "$ZKL_ROOT/$TAG" && : >"$ZKL_ROOT/$TAG/hosts"
    make_switch
    i=1; while [ $i -le "$n" ]; do make_host $i; i=$((i + 1)); done
    share_keys
    while read -r h _ns ip _home; do
        echo "lab $TAG: starting $h ($ip)"
        if [ -n "$drv" ]; then
            hexec "$h" "$ZKUBE" up --spec "$spec" --host "$h" --detach --driver "$drv"
        else
            hexec "$h" "$ZKUBE" up --spec "$spec" --host "$h" --detach
        fi || die "zkube up failed on $h (logs in $(home_of "$h")/logs)"
    done <"$ZKL_ROOT/$TAG/hosts"
    echo "lab $TAG is up: ZKL_TAG=$TAG $0 exec cp $ZK_ROOT/bin/zkubectl get nodes"
}

cmd_down() {
    find_tag
    if [ -f "$ZKL_ROOT/$TAG/hosts" ]; then
        # workers first, the control plane last
        for h in $(awk '{ print $1 }' "$ZKL_ROOT/$TAG/hosts" | sort -r); do
            ip netns pids "$(ns_of "$h")" >/dev/null 2>&1 && hexec "$h" "$ZKUBE" down >/dev/null 2>&1
        done
    fi
    for ns in $(ip netns list | awk '{ print $1 }' | grep "^zkl-$TAG-"); do
        # whatever still runs in a host (a pod, a tap) goes with it, by pid
        for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$ns"
    done
    # mounts a driver left under the lab's homes (rootfs, namespace files)
    grep -o " ${ZKL_ROOT:?}/$TAG/[^ ]*" /proc/mounts | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null
    done
    rm -rf "${ZKL_ROOT:?}/$TAG"
    echo "lab $TAG is down"
}

cmd_exec() {
    [ $# -ge 2 ] || die "usage: lab.sh exec HOST CMD..."
    find_tag
    h=$1; shift
    grep -q "^$h " "$ZKL_ROOT/$TAG/hosts" 2>/dev/null || die "lab $TAG has no host $h"
    hexec "$h" "$@"
}

case "${1:-}" in
up) shift; cmd_up "$@" ;;
down) shift; cmd_down ;;
exec) shift; cmd_exec "$@" ;;
hosts) find_tag; cat "$ZKL_ROOT/$TAG/hosts" ;;
*) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
