#!/bin/sh
# make up: start a local cluster (ZKUBE_HOME, default ~/.zkube) and apply the examples.
set -e
cd "$(dirname "$0")/.."
bin/zkube up --detach
for f in examples/*.yaml; do
    [ -f "$f" ] && bin/zkubectl apply -f "$f"
done
bin/zkube status
echo
echo "Try:  bin/zkubectl get all        bin/zkube status        bin/zkube down"
