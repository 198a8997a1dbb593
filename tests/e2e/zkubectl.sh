#!/bin/sh
# tests/e2e/zkubectl.sh — zkubectl end to end against a real local cluster:
# starts `zkube up --detach` in a fresh ZKUBE_HOME, creates every manifest
# of the shared "Kubernetes in Action" corpus and reads it back converted
# (-o yaml / -o name), then runs a scripted kubectl session (get, describe,
# label, annotate, scale, expose, patch, apply / re-apply / apply changed, watch,
# delete, errors and exit codes), comparing exact lines. Prints
# "ok - zkubectl.CASE" / "not ok - zkubectl.CASE"; always stops the cluster
# and removes its folder.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${ZK_CORPUS:-$(dirname "$0")/../../../shared/corpus}
CORPUS=$(cd "$CORPUS" 2>/dev/null && pwd)
ZKUBE="$ROOT/bin/zkube"
KC="$ROOT/bin/zkubectl"
ZKUBE_HOME=$(mktemp -d /tmp/zkube-e2e-ctl.XXXXXX)
export ZKUBE_HOME
T="$ZKUBE_HOME/t"
mkdir -p "$T"
WATCH_PID=""

cleanup() {
    [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
    "$ZKUBE" down >/dev/null 2>&1
    rm -rf "$ZKUBE_HOME"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - zkubectl.$1"; }
nok() {
    echo "not ok - zkubectl.$1"
    { echo "  --- $1: rc=$(cat "$T/rc" 2>/dev/null)"; sed 's/^/  out: /' "$T/out" | head -20
      sed 's/^/  err: /' "$T/err" | head -20; } >&2
}
# k ARGS...: runs zkubectl; stdout, stderr and exit code land in $T.
k() { "$KC" "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }
rc_is() { [ "$(cat "$T/rc")" = "$1" ]; }
out_has() { grep -qxF -- "$1" "$T/out"; }
out_re() { grep -qE -- "$1" "$T/out"; }
err_has() { grep -qxF -- "$1" "$T/err"; }
verdict() { if [ "$2" = 0 ]; then ok "$1"; else nok "$1"; fi; }
# wait_for SECONDS COMMAND...: polls (10 per second) until COMMAND succeeds.
wait_for() {
    n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}

if [ ! -x "$ZKUBE" ] || [ ! -x "$KC" ]; then
    echo "not ok - zkubectl.build (bin/zkube or bin/zkubectl missing)"; exit 1
fi

# ---- cluster -----------------------------------------------------------------
"$ZKUBE" up --detach --nodes 0 --http-port none >"$T/up.log" 2>&1
up_ok() { k version && rc_is 0; }
if wait_for 30 up_ok; then ok cluster_up; else nok cluster_up; exit 1; fi

k version
rc_is 0 && out_re '^Client Version: ' && out_re '^Server Version: '; verdict version $?
k api-resources
rc_is 0 && out_re '^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND$' &&
    out_re '^pods +po +v1 +true +Pod$' && out_re '^replicasets +rs +apps/v1 +true +ReplicaSet$'
verdict api_resources $?
k get pods
rc_is 0 && err_has "No resources found in default namespace." && [ ! -s "$T/out" ]
verdict get_empty $?

# ---- every corpus manifest: create, read back converted, delete --------------
expected_api() {
    case "$1" in
    replicaset.apps | daemonset.apps | deployment.apps) echo apps/v1 ;;
    job.batch | cronjob.batch) echo batch/v1 ;;
    ingress.networking.k8s.io) echo networking.k8s.io/v1 ;;
    *) echo v1 ;;
    esac
}
corpus_case() { # file
    f=$1; c=corpus.$(basename "$f" .yaml)
    ns=$(sed -n 's/^  namespace: //p' "$f" | head -1); ns=${ns:-default}
    k create -f "$f"
    if ! rc_is 0 || ! out_re '^[a-z0-9.]+/[a-z0-9.-]+ created$'; then nok "$c"; return; fi
    ref=$(sed 's/ created$//' "$T/out"); kind=${ref%%/*}; name=${ref#*/}
    k get "$ref" -n "$ns" -o yaml
    rc_is 0 && out_has "apiVersion: $(expected_api "$kind")" && out_has "  name: $name" ||
        { nok "$c"; return; }
    k get "$ref" -n "$ns" -o name
    rc_is 0 && out_has "$ref" || { nok "$c"; return; }
    if [ "$kind" != namespace ]; then
        k delete -f "$f" --grace-period=0 --force
        rc_is 0 && out_has "$kind \"$name\" force deleted" || { nok "$c"; return; }
    fi
    ok "$c"
}
if [ -d "$CORPUS/kia" ]; then
    corpus_case "$CORPUS/kia/Chapter03/custom-namespace.yaml"
    for f in "$CORPUS"/kia/Chapter0*/*.yaml; do
        [ "$(basename "$f")" = custom-namespace.yaml ] || corpus_case "$f"
    done
else
    echo "not ok - zkubectl.corpus (no corpus at ${ZK_CORPUS:-../shared/corpus})"
fi

# ---- apply: created, unchanged, configured ------------------------------------
EX="$ROOT/examples"
k apply -f "$EX/kubia-rc.yaml"
rc_is 0 && out_has "replicationcontroller/kubia created"; verdict apply_created $?
k get rc kubia -o yaml
rc_is 0 && out_re '^    kubectl.kubernetes.io/last-applied-configuration: '
verdict apply_annotation $?
k apply -f "$EX/kubia-rc.yaml"
rc_is 0 && out_has "replicationcontroller/kubia unchanged"; verdict apply_unchanged $?
sed 's/replicas: 3/replicas: 2/' "$EX/kubia-rc.yaml" >"$T/rc2.yaml"
k apply -f "$T/rc2.yaml"
rc_is 0 && out_has "replicationcontroller/kubia configured"; verdict apply_configured $?
k get rc kubia -o 'jsonpath={.spec.replicas}'
rc_is 0 && [ "$(cat "$T/out")" = 2 ]; verdict apply_configured_value $?
k apply -f "$T/rc2.yaml"
rc_is 0 && out_has "replicationcontroller/kubia unchanged"; verdict apply_unchanged_again $?
k apply -f "$EX/kubia-svc.yaml"
rc_is 0 && out_has "service/kubia created"; verdict apply_service $?

# ---- get ----------------------------------------------------------------------
k get rc
rc_is 0 && out_re '^NAME +DESIRED +CURRENT +READY +AGE$' && out_re '^kubia +2 +'
verdict get_table $?
k get rc,svc
rc_is 0 && out_re '^replicationcontroller/kubia ' && out_re '^service/kubia '
verdict get_several_kinds $?
k get all
rc_is 0 && out_re '^replicationcontroller/kubia ' && out_re '^service/kubia '; verdict get_all $?
k get svc kubia -o name
rc_is 0 && out_has "service/kubia"; verdict get_name $?
k get svc -A
rc_is 0 && out_re '^NAMESPACE +NAME +TYPE '; verdict get_all_namespaces $?
pods_up() { k get pods -l app=kubia -o name && [ "$(wc -l <"$T/out")" -ge 2 ]; }
wait_for 30 pods_up; verdict rc_made_pods $?
k get pods -o json
rc_is 0 && out_has '    "kind": "List",' && out_has '        "resourceVersion": ""'
verdict get_json_list $?
k get rc kubia -o json
rc_is 0 && out_has '    "kind": "ReplicationController",' && ! out_re '"kind": "List"'
verdict get_json_one $?
k get rc kubia -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas
rc_is 0 && out_re '^NAME +REPLICAS$' && out_re '^kubia +2$'; verdict get_custom_columns $?

# ---- create, errors ---------------------------------------------------------
k create -f "$EX/kubia-pod.yaml"
rc_is 0 && out_has "pod/kubia-manual created"; verdict create_pod $?
k get pods -l env=prod --show-labels --no-headers
rc_is 0 && out_re '^kubia-manual +0/1 .* creation_method=manual,env=prod$' && ! out_re '^NAME'
verdict get_labels_noheaders $?
k create -f "$EX/kubia-pod.yaml"
rc_is 1 && err_has "Error from server (AlreadyExists): error when creating \"$EX/kubia-pod.yaml\": pods \"kubia-manual\" already exists"
verdict create_exists $?
k get pod nope
rc_is 1 && err_has 'Error from server (NotFound): pods "nope" not found'; verdict get_notfound $?
k get foo
rc_is 1 && err_has 'error: the server doesn'"'"'t have a resource type "foo"'
verdict get_unknown_kind $?
k get pods --bogus
rc_is 1 && err_has 'Error: unknown flag: --bogus'; verdict unknown_flag $?
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n' >"$T/bad.yaml"
k create -f "$T/bad.yaml"
rc_is 1 && err_has 'The Pod "bad" is invalid: spec.containers[0].image: Required value'
verdict create_invalid $?
if [ -d "$CORPUS/kia" ]; then
    k create -f "$CORPUS/kia/Chapter03/kubia-manual-custom-namespace.yaml" -n default
    rc_is 1 && err_has "error: the namespace from the provided object \"custom-namespace\" does not match the namespace \"default\". You must pass '--namespace=custom-namespace' to perform this operation."
    verdict namespace_conflict $?
fi

k get -f "$EX/kubia-pod.yaml" -o name
rc_is 0 && out_has "pod/kubia-manual"; verdict get_from_file $?
k replace -f "$EX/kubia-rc.yaml"
rc_is 0 && out_has "replicationcontroller/kubia replaced"; verdict replace $?
k get rc kubia -o 'jsonpath={.spec.replicas}'
rc_is 0 && [ "$(cat "$T/out")" = 3 ]; verdict replace_value $?
k create namespace zk-e2e
rc_is 0 && out_has "namespace/zk-e2e created"; verdict create_namespace $?
k api-resources -o name
rc_is 0 && out_has "pods" && out_has "replicasets.apps"; verdict api_resources_name $?
k get pod kubia-manual -A
rc_is 1 && err_has "error: a resource cannot be retrieved by name across all namespaces"
verdict get_name_all_namespaces $?

# ---- label, annotate, patch, scale -----------------------------------------------
k label pod kubia-manual creation_method=other
rc_is 1 && err_has "error: 'creation_method' already has a value (manual), and --overwrite is false"
verdict label_needs_overwrite $?
k label pod kubia-manual creation_method=other --overwrite
rc_is 0 && out_has "pod/kubia-manual labeled"; verdict label_overwrite $?
k label pod kubia-manual env-
# kubectl says "unlabeled" when the object shrank and --overwrite was not given
rc_is 0 && out_has "pod/kubia-manual unlabeled"; verdict label_remove $?
k get pod kubia-manual -o 'jsonpath={.metadata.labels}'
rc_is 0 && grep -q '"creation_method":"other"' "$T/out" && ! grep -q '"env"' "$T/out"
verdict label_values $?
k annotate pod kubia-manual mycompany.com/someannotation="foo bar"
rc_is 0 && out_has "pod/kubia-manual annotated"; verdict annotate $?
k annotate pod kubia-manual mycompany.com/someannotation=baz
rc_is 1 && err_has "error: --overwrite is false but found the following declared annotation(s): 'mycompany.com/someannotation' already has a value (foo bar)"
verdict annotate_needs_overwrite $?
k annotate pod kubia-manual other=1
k annotate pod kubia-manual other-
rc_is 0 && out_has "pod/kubia-manual annotated" &&
    k get pod kubia-manual -o 'jsonpath={.metadata.annotations}' && ! grep -q '"other"' "$T/out"
verdict annotate_remove $?
k patch pod kubia-manual --type merge -p '{"metadata":{"labels":{"patched":"yes"}}}'
rc_is 0 && out_has "pod/kubia-manual patched"; verdict patch $?
k patch pod kubia-manual --type merge -p '{"metadata":{"labels":{"patched":"yes"}}}'
rc_is 0 && out_has "pod/kubia-manual patched (no change)"; verdict patch_no_change $?
k scale rc kubia --replicas=4
rc_is 0 && out_has "replicationcontroller/kubia scaled"; verdict scale $?
k get rc kubia -o 'jsonpath={.spec.replicas}'
rc_is 0 && [ "$(cat "$T/out")" = 4 ]; verdict scale_value $?
k scale rc kubia --current-replicas=3 --replicas=1
rc_is 1 && err_has "error: Expected replicas to be 3, was 4"; verdict scale_precondition $?
k expose rc kubia --port=80 --target-port=8080 --name=kubia-exposed
rc_is 0 && out_has "service/kubia-exposed exposed"; verdict expose $?
k get svc kubia-exposed -o 'jsonpath={.spec.selector.app} {.spec.ports[0].port} {.spec.ports[0].targetPort}'
rc_is 0 && [ "$(cat "$T/out")" = "kubia 80 8080" ]; verdict expose_values $?
k expose rc kubia --name=kubia-dry --dry-run=client -o name
rc_is 0 && out_has "service/kubia-dry" && k get svc kubia-dry && rc_is 1; verdict expose_dry_run $?
k expose secret nope --port=80
rc_is 1 && err_has 'Error from server (NotFound): secrets "nope" not found'; verdict expose_notfound $?
k delete svc kubia-exposed
rc_is 0 && out_has 'service "kubia-exposed" deleted'; verdict expose_delete $?

# ---- describe -------------------------------------------------------------------
k describe pod kubia-manual
rc_is 0 && out_re '^Name: +kubia-manual$' && out_re '^Namespace: +default$' &&
    out_re '^Annotations: +mycompany.com/someannotation: foo bar$' && out_has "Containers:" &&
    out_re '^    Image: +luksa/kubia$' && out_re '^Events:'
verdict describe_pod $?
k describe rc kubia
rc_is 0 && out_re '^Replicas: +[0-9]+ current / 4 desired$' && out_re '^Selector: +app=kubia$' &&
    out_has "Pod Template:"
verdict describe_rc $?
k describe svc kubia
rc_is 0 && out_re '^Selector: +app=kubia$' && out_re '^TargetPort: +8080/TCP$'
verdict describe_service $?
k describe ns default
rc_is 0 && out_re '^Name: +default$' && out_re '^Status: +Active$'; verdict describe_namespace $?
if [ -d "$CORPUS/kia" ]; then
    k create -f "$CORPUS/kia/Chapter04/batch-job.yaml"
    k describe job batch-job
    rc_is 0 && out_re '^Name: +batch-job$' && out_re '^Completions: +1$' && out_has "Pod Template:"
    verdict describe_job $?
    k delete jobs --all --wait=false
    rc_is 0 && out_has 'job.batch "batch-job" deleted'; verdict delete_all $?
fi
k describe pod nope
rc_is 1 && err_has 'Error from server (NotFound): pods "nope" not found'
verdict describe_notfound $?

# ---- watch -------------------------------------------------------------------
"$KC" get pods -w >"$T/watch" 2>"$T/watch.err" &
WATCH_PID=$!
# the watch subscribes before it lists: once the listed row shows, events flow
listed() { grep -qs '^kubia-manual ' "$T/watch"; }
wait_for 10 listed
sed 's/name: kubia-manual$/name: kubia-watched/' "$EX/kubia-pod.yaml" >"$T/watched.yaml"
k create -f "$T/watched.yaml"
seen() { grep -qs '^kubia-watched ' "$T/watch"; }
wait_for 10 seen; verdict watch $?
kill -TERM "$WATCH_PID" 2>/dev/null
wait "$WATCH_PID" 2>/dev/null
WATCH_PID=""

# ---- delete ------------------------------------------------------------------
k delete pod kubia-manual kubia-watched --now
rc_is 0 && out_has 'pod "kubia-manual" deleted' && out_has 'pod "kubia-watched" deleted'
verdict delete_pods $?
k get pod kubia-manual
rc_is 1 && err_has 'Error from server (NotFound): pods "kubia-manual" not found'
verdict deleted_is_gone $?
k delete rc kubia --cascade=orphan
rc_is 0 && out_has 'replicationcontroller "kubia" deleted'; verdict delete_orphan $?
k delete pods -l app=kubia --now # the orphans (none without a controller)
for p in sel-a sel-b; do
    sed -e "s/name: kubia-manual\$/name: $p/" -e 's/env: prod/env: seltest/' "$EX/kubia-pod.yaml" |
        "$KC" create -f - >/dev/null 2>&1
done
k delete pods -l env=seltest --now
rc_is 0 && out_has 'pod "sel-a" deleted' && out_has 'pod "sel-b" deleted'
verdict delete_selector $?
k delete -f "$EX/kubia-svc.yaml"
rc_is 0 && out_has 'service "kubia" deleted'; verdict delete_file $?
k delete svc kubia
rc_is 1 && err_has 'Error from server (NotFound): services "kubia" not found'
verdict delete_notfound $?
# server-side apply: field owners and conflicts
sed 's/name: kubia$/name: ssa/' "$EX/kubia-rc.yaml" >"$T/ssa.yaml"
k apply --server-side -f "$T/ssa.yaml"
rc_is 0 && out_has "replicationcontroller/ssa serverside-applied"; verdict ssa_apply $?
k scale rc ssa --replicas 5
k apply --server-side -f "$T/ssa.yaml"
rc_is 1 && grep -q 'Apply failed with 1 conflict: conflict with "zkubectl" with subresource "scale" using v1: .spec.replicas' "$T/err"
verdict ssa_conflict $?
k apply --server-side --force-conflicts -f "$T/ssa.yaml"
rc_is 0 && k get rc ssa -o jsonpath='{.spec.replicas}' && out_has 3; verdict ssa_force $?
k delete rc ssa --cascade=orphan --wait=false
k delete namespace zk-e2e --wait=false
k delete namespace custom-namespace --wait=false
rc_is 0 && out_has 'namespace "custom-namespace" deleted'; verdict delete_namespace $?
exit 0
