#!/bin/sh
# Installs the Debian packages zkube needs, only those missing.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev libzmq3-dev libczmq-dev libmsgpack-dev
liblmdb-dev libyaml-dev libjansson-dev libmicrohttpd-dev libssl-dev zlib1g-dev libjemalloc-dev libcurl4-openssl-dev lmdb-utils
runc busybox-static etcd-server etcd-client iproute2 curl dnsutils"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "zkube deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing >/dev/null
