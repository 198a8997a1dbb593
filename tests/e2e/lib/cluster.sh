# tests/e2e/lib/cluster.sh — shared shell helpers for the end-to-end tests
# and benchmarks that run a whole zkube cluster with the runc driver: the
# cluster lives in a network namespace the script creates itself (loopback
# only, no route out) and in a fresh ZKUBE_HOME; everything is undone by
# zk_teardown (zkube down, runc-cleanup, the namespace, the folder).
#
# Sourced, not run. The caller sets ZK_ROOT (the source tree);
# ZK_KEEP_LOGS=DIR copies the cluster's logs there at teardown. Helpers use
# `nsenter --net`, not `ip netns exec`: the latter remounts /sys, which
# hides the cgroup hierarchies runc needs.

ZKUBE=${ZKUBE:-$ZK_ROOT/bin/zkube}
KC=${ZKUBECTL:-$ZK_ROOT/bin/zkubectl}
ZK_NS=""
ZK_H=""
ZK_PIDS=""      # processes the script started itself (killed by pid)
ZK_CPIDS=""
ZK_STOPPED=""   # actor pids the script sent SIGSTOP (continued at teardown)

# zk_now_ms: wall clock in milliseconds
zk_now_ms() { date +%s%3N; }

# zk_in_ns CMD...: runs CMD in the cluster's network namespace
zk_in_ns() { nsenter --net="/run/netns/$ZK_NS" "$@"; }

# zk_need CMD...: true when every command exists
zk_need() {
    for b in "$@"; do
        command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
    done
}

# zk_wait_for LABEL SECONDS CMD...: polls CMD (every 0.1 s) until it
# succeeds or SECONDS pass; prints "# wait LABEL: N.N s" either way and
# leaves the time in ZK_WAITED_MS.
zk_wait_for() {
    _label=$1; _end=$(($(zk_now_ms) + $2 * 1000)); shift 2
    _t0=$(zk_now_ms)
    while :; do
        if "$@"; then _rc=0; break; fi
        if [ "$(zk_now_ms)" -ge "$_end" ]; then _rc=1; break; fi
        sleep 0.1
    done
    ZK_WAITED_MS=$(($(zk_now_ms) - _t0))
    printf '# wait %s: %d.%d s%s\n' "$_label" $((ZK_WAITED_MS / 1000)) \
        $((ZK_WAITED_MS % 1000 / 100)) "$([ $_rc = 0 ] || echo ' (timed out)')"
    return $_rc
}

# zk_stays SECONDS CMD...: CMD holds at every check (5 per second) for SECONDS
zk_stays() {
    _zs_n=$(($1 * 5)); shift
    while [ "$_zs_n" -gt 0 ]; do "$@" || return 1; sleep 0.2; _zs_n=$((_zs_n - 1)); done
}

# zk_field_of ID FIELD: a value from run/actors.json (written by the supervisor)
zk_field_of() {
    awk -v id="$1" -v f="\"$2\":" '
        $1 == "\"id\":" { cur = $2; gsub(/[",]/, "", cur) }
        $1 == f && cur == id { v = $2; gsub(/[",]/, "", v); print v }' \
        "$ZKUBE_HOME/run/actors.json" 2>/dev/null
}

# zk_netns_add PREFIX: a fresh namespace zkt-PREFIX<random> with loopback up,
# and a fresh ZKUBE_HOME in a temporary folder
zk_netns_add() {
    _rnd=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
    ZK_NS="zkt-$1$_rnd"
    ZK_H=$(mktemp -d "/tmp/zkube-e2e-$1.XXXXXX") || return 1
    export ZKUBE_HOME="$ZK_H/home"
    unset ZKUBE_BROKER
    mkdir -p "$ZKUBE_HOME" "$ZK_H/t" "$ZK_H/bin"
    # private copies: other builds may relink bin/ while the cluster runs
    cp "$ZKUBE" "$ZK_H/bin/zkube" && cp "$KC" "$ZK_H/bin/zkubectl" || return 1
    ZKUBE="$ZK_H/bin/zkube" KC="$ZK_H/bin/zkubectl"
    ip netns add "$ZK_NS" || { ZK_NS=""; return 1; }
    zk_in_ns ip link set lo up
}

# zk_up NODES: `zkube up --nodes NODES --driver runc` inside the namespace;
# sets ZK_TAG (the cluster tag), ZK_NET (e.g. 10.160) from the kubelets' flags
zk_up() {
    timeout 60 nsenter --net="/run/netns/$ZK_NS" "$ZKUBE" up --detach --nodes "$1" \
        --driver runc --http-port none >"$ZK_H/t/up.log" 2>&1 || return 1
    ZK_NODES=$1
    _kp=$(zk_field_of kubelet-node1 pid)
    set -- $(tr '\0' ' ' < "/proc/$_kp/cmdline" 2>/dev/null)
    while [ $# -gt 0 ]; do
        case "$1" in --cluster-tag) ZK_TAG=$2 ;; --cluster-cidr) ZK_NET=${2%.0.0/16} ;; esac
        shift
    done
    [ -n "$ZK_TAG" ] && [ -n "$ZK_NET" ]
}

# zk_nodes_ready N: N nodes report Ready=True
zk_nodes_ready() {
    [ "$("$KC" get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null |
        grep -c '^True$')" = "$1" ]
}

# zk_down: `zkube down` inside the namespace (continues stopped actors first,
# so that they can end)
zk_down() {
    for p in $ZK_STOPPED; do kill -CONT "$p" 2>/dev/null; done
    ZK_STOPPED=""
    [ -n "$ZK_NS" ] && timeout 60 nsenter --net="/run/netns/$ZK_NS" "$ZKUBE" down >/dev/null 2>&1
}

# zk_leftovers: prints what the cluster left on this machine (links in its
# namespace, zk<tag> links in the root namespace, mounts under its folder,
# cgroups of its tag, live processes noted by zk_note_cpids); empty when clean
zk_leftovers() {
    [ -n "$ZK_NS" ] && zk_in_ns ip -o link show 2>/dev/null | grep -v ': lo:' | sed 's/^/netns link: /'
    [ -n "$ZK_TAG" ] && ip -br link | grep "zk$ZK_TAG" | sed 's/^/root link: /'
    [ -n "$ZK_H" ] && grep -F "$ZK_H" /proc/self/mountinfo | awk '{ print "mount: " $5 }'
    [ -n "$ZK_TAG" ] && ls -d /sys/fs/cgroup/*/zkube-"$ZK_TAG" /sys/fs/cgroup/zkube-"$ZK_TAG" \
        2>/dev/null | sed 's/^/cgroup: /'
    for p in $ZK_CPIDS; do kill -0 "$p" 2>/dev/null && echo "process: $p"; done
    return 0
}

# zk_note_cpids: remembers (in ZK_CPIDS) every container and shim pid the
# runc driver has recorded so far, the actors' and the supervisor's, for
# zk_leftovers
zk_note_cpids() {
    for f in "$ZKUBE_HOME"/kubelet/*/driver/containers/*/pid \
             "$ZKUBE_HOME"/kubelet/*/driver/containers/*/shim.pid "$ZKUBE_HOME/run/supervisor.pid"; do
        [ -f "$f" ] || continue
        set -- $(cat "$f" 2>/dev/null)
        _zn_add "$1"
    done
    for p in $(awk '$1 == "\"pid\":" { gsub(/[^0-9]/, "", $2); print $2 }' \
                   "$ZKUBE_HOME/run/actors.json" 2>/dev/null); do
        _zn_add "$p"
    done
}
_zn_add() {
    case " $ZK_CPIDS " in *" $1 "*) ;; *) [ -n "$1" ] && [ "$1" != 0 ] && ZK_CPIDS="$ZK_CPIDS $1" ;; esac
}

# zk_teardown: stops everything this cluster started and removes its
# namespace and folder. Safe to call twice.
zk_teardown() {
    for p in $ZK_PIDS; do kill "$p" 2>/dev/null; done
    zk_down
    for p in $ZK_PIDS; do kill -9 "$p" 2>/dev/null; done
    ZK_PIDS=""
    if [ -n "$ZK_TAG" ] && [ -n "$ZK_NS" ]; then
        for n in $(seq 1 "${ZK_NODES:-2}"); do
            zk_in_ns "$ZKUBE" runc-cleanup --node "node$n" --pod-cidr "$ZK_NET.$n.0/24" \
                --cluster-cidr "$ZK_NET.0.0/16" --cluster-tag "$ZK_TAG" >/dev/null 2>&1
        done
    fi
    if [ -n "$ZK_H" ]; then
        [ -n "$ZK_KEEP_LOGS" ] && mkdir -p "$ZK_KEEP_LOGS" && cp -r "$ZKUBE_HOME/logs/." "$ZK_KEEP_LOGS/"
        _sp=$(cat "$ZKUBE_HOME/run/supervisor.pid" 2>/dev/null)
        [ -n "$_sp" ] && kill -9 "$_sp" 2>/dev/null
        grep -F "$ZK_H" /proc/self/mountinfo | awk '{ print $5 }' | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null; done
        rm -rf --one-file-system "$ZK_H"
        ZK_H=""
    fi
    [ -n "$ZK_NS" ] && ip netns del "$ZK_NS" 2>/dev/null
    ZK_NS=""
}
