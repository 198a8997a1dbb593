#!/bin/sh
# tests/e2e/badinput.sh — every malformed manifest of tests/corpus/manifests
# goes through `zkubectl create` against a running cluster: each is refused
# with its expected error (file, line or field path), the apiserver keeps
# serving, and the store's revision does not move.
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d /tmp/zkube-bad.XXXXXX)
export ZKUBE_HOME="$T/home"
cleanup() { bin/zkube down >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT INT TERM
ok() { echo "ok - badinput.$1"; }
nok() { echo "not ok - badinput.$1"; }

if ! bin/zkube up --detach --nodes 0 --http-port none >"$T/up.log" 2>&1; then
    nok cluster-up; cat "$T/up.log" >&2; exit 1
fi
# the store's revision, exactly: a new object's resourceVersion is the next one
rev() {
    bin/zkubectl create configmap "probe-$1" >/dev/null 2>&1 ||
        printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe-%s\n' "$1" | bin/zkubectl create -f - >/dev/null
    bin/zkubectl get configmap "probe-$1" -o jsonpath='{.metadata.resourceVersion}'
}
before=$(rev before)
refused=0 wrong=0 creates=0
for f in tests/corpus/manifests/*.yaml; do
    # the CLI may refuse before the server does, in kubectl's words: expect-cli
    # a file may hold valid documents beside its bad one: kubectl creates those
    creates=$((creates + $(sed -n 's/^# creates: //p' "$f" | head -1 | grep . || echo 0)))
    expect=$(sed -n 's/^# expect-cli: //p' "$f" | head -1)
    [ -n "$expect" ] || expect=$(sed -n '1s/^# expect: //p' "$f")
    if bin/zkubectl create -f "$f" >"$T/out" 2>"$T/err"; then
        echo "  accepted: $f" >&2; wrong=$((wrong + 1)); continue
    fi
    if [ -n "$expect" ] && ! grep -qF -- "$expect" "$T/err"; then
        echo "  $f: expected \"$expect\", got: $(head -c 300 "$T/err")" >&2
        wrong=$((wrong + 1)); continue
    fi
    refused=$((refused + 1))
done
[ "$wrong" -eq 0 ] && [ "$refused" -ge 60 ] && ok "manifests-refused ($refused)" || nok "manifests-refused ($refused refused, $wrong wrong)"
after=$(rev after)
[ -n "$before" ] && [ "$after" = "$((before + creates + 1))" ] && ok store-unchanged || nok "store-unchanged ($before -> $after)"
bin/zkubectl create -f tests/corpus/kia/Chapter03/kubia-manual.yaml >/dev/null 2>&1 && ok still-serving || nok still-serving
