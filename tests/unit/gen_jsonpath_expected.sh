#!/bin/sh
# tests/unit/gen_jsonpath_expected.sh — records what the real kubectl prints
# for every template of test_jsonpath's differential test into
# tests/unit/jsonpath_expected.txt (one line per case: object, template,
# ok|err, stdout; backslash-escaped), so that test_jsonpath can check
# protocol/jsonpath on machines without kubectl. Run from the repository
# root, with kubectl installed; pass the test binary if it is not at
# build/tests/test_jsonpath.
set -e
bin=${1:-build/tests/test_jsonpath}
command -v kubectl >/dev/null || { echo "kubectl is required" >&2; exit 1; }
[ -x "$bin" ] || make "$bin"
out=$PWD/tests/unit/jsonpath_expected.txt
ZK_TEST_TIMEOUT=300 ZK_JP_RECORD="$out.tmp" "$bin" differential_against_kubectl
mv "$out.tmp" "$out"
echo "wrote $(wc -l < "$out") cases to $out (kubectl $(kubectl version --client 2>/dev/null | head -n 1))"
