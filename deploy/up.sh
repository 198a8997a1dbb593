#!/bin/sh
# make up: start a local cluster (ZKUBE_HOME, default ~/.zkube) with the
# README's example: a ReplicationController of luksa/kubia and its Service.
set -e
cd "$(dirname "$0")/.."
bin/zkube up --detach "$@"
bin/zkubectl apply -f examples/kubia-rc.yaml
bin/zkubectl apply -f examples/kubia-svc.yaml
bin/zkube status
# wait (bounded) for the example's pods to run, then ask one of them
i=0
while [ $i -lt 120 ]; do
    running=$(bin/zkubectl get pods -l app=kubia -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' 2>/dev/null | grep -c '^Running$' || true)
    [ "$running" -ge 3 ] && break
    i=$((i + 1)); sleep 0.5
done
bin/zkubectl get pods -l app=kubia -o wide
ip=$(bin/zkubectl get pods -l app=kubia -o jsonpath='{.items[0].status.podIP}' 2>/dev/null)
if [ -n "$ip" ] && command -v curl >/dev/null; then
    echo "curl http://$ip:8080 -> $(curl -s -m 2 "http://$ip:8080" || echo '(no answer yet)')"
fi
echo
echo "Try:  bin/zkubectl get pods -o wide     bin/zkube tap     bin/zkube down"
