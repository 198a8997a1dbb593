#!/bin/sh
# tests/e2e/kubectl.sh — the real kubectl against zkube's HTTP gateway:
# starts `zkube up --detach` in a fresh ZKUBE_HOME and `zkube gateway` on a
# random loopback port (ZK_GW_PORT=N with ZKUBE_HOME reuses a running
# cluster and gateway instead), then drives
# kubectl with --server: discovery, get in every output format, selectors,
# namespaces, watch, create/apply of the book's corpus (created, unchanged,
# configured, server-side), label/annotate/scale/expose, describe, delete,
# errors, and zkubectl printing the same as kubectl (get and describe in
# every output format, the messages of the verbs that write, watch). Prints
# "ok - kubectl.CASE" / "not ok - kubectl.CASE"; always stops everything it
# started (by PID) and removes its folders.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${ZK_CORPUS:-$(dirname "$0")/../../../shared/corpus}
CORPUS=$(cd "$CORPUS" 2>/dev/null && pwd)
ZKUBE="$ROOT/bin/zkube"
ZCTL="$ROOT/bin/zkubectl"
KUBECTL=${KUBECTL:-kubectl}
WORK=$(mktemp -d /tmp/zkube-e2e-kc.XXXXXX)
T="$WORK/t"
mkdir -p "$T" "$WORK/kchome"
# ZK_GW_PORT=N (with ZKUBE_HOME) reuses a running cluster and gateway
if [ -z "$ZK_GW_PORT" ]; then
    ZKUBE_HOME="$WORK/home"
    mkdir -p "$ZKUBE_HOME"
fi
export ZKUBE_HOME
# kubectl caches discovery under $HOME/.kube: a fresh HOME per run
HOME="$WORK/kchome"
export HOME
GW_PID=""
WATCH_PID=""
ZWATCH_PID=""

cleanup() {
    [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
    [ -n "$ZWATCH_PID" ] && kill "$ZWATCH_PID" 2>/dev/null
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
    [ -z "$ZK_GW_PORT" ] && "$ZKUBE" down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - kubectl.$1"; }
nok() {
    echo "not ok - kubectl.$1"
    { echo "  --- $1: rc=$(cat "$T/rc" 2>/dev/null)"; sed 's/^/  out: /' "$T/out" | head -20
      sed 's/^/  err: /' "$T/err" | head -20; } >&2
}
# k ARGS...: runs kubectl against the gateway; stdout, stderr, exit code land in $T.
k() { "$KUBECTL" --server "http://127.0.0.1:$PORT" "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }
z() { "$ZCTL" "$@" >"$T/zout" 2>"$T/zerr"; echo $? >"$T/zrc"; }
rc_is() { [ "$(cat "$T/rc")" = "$1" ]; }
out_has() { grep -qxF -- "$1" "$T/out"; }
out_re() { grep -qE -- "$1" "$T/out"; }
err_has() { grep -qxF -- "$1" "$T/err"; }
verdict() { if [ "$2" = 0 ]; then ok "$1"; else nok "$1"; fi; }
wait_for() { # SECONDS COMMAND...: polls (10 per second) until COMMAND succeeds
    n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
# AGE is the only column allowed to differ between two table printouts
no_age() { sed -E 's/ +[0-9]+(s|m|h|d|y)[0-9smhdy]*$//; s/ +<unknown>$//' "$1"; }

if ! command -v "$KUBECTL" >/dev/null 2>&1; then
    echo "ok - kubectl.skipped # SKIP kubectl not installed"; exit 0
fi
if [ ! -x "$ZKUBE" ] || [ ! -x "$ZCTL" ]; then
    echo "not ok - kubectl.build (bin/zkube or bin/zkubectl missing)"; exit 1
fi

# ---- cluster and gateway --------------------------------------------------------
# no kubelets here (no pod network outside a test namespace); the gateway is
# started below on a free port, never on a cluster-wide default
[ -z "$ZK_GW_PORT" ] && "$ZKUBE" up --detach --nodes 0 --http-port none >"$T/up.log" 2>&1
up_ok() { z version && grep -q '^Server Version: v' "$T/zout"; }
if wait_for 30 up_ok; then ok cluster_up; else nok cluster_up; exit 1; fi
PORT=${ZK_GW_PORT:-8080}
if [ -z "$ZK_GW_PORT" ]; then
    # a gateway of our own on a random port, even when the supervisor runs one
    # on 8080: another cluster's gateway may hold 8080 on a shared machine
    for try in 1 2 3 4 5; do
        PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000))
        "$ZKUBE" gateway --http-port "$PORT" >"$T/gw.log" 2>&1 &
        GW_PID=$!
        sleep 0.2
        kill -0 "$GW_PID" 2>/dev/null && break
        GW_PID=""
    done
fi
gw_ok() { k version && rc_is 0; }
if wait_for 20 gw_ok; then ok gateway_up; else nok gateway_up; cat "$T/gw.log" >&2; exit 1; fi

# ---- discovery ------------------------------------------------------------------
k version
rc_is 0 && out_re '^Server Version: v1\.32'; verdict version $?
k api-resources
rc_is 0 && out_re '^pods +po +v1 +true +Pod$' &&
    out_re '^replicasets +rs +apps/v1 +true +ReplicaSet$' && out_re '^cronjobs +cj +batch/v1 '
verdict api_resources $?
k api-versions
rc_is 0 && out_has "v1" && out_has "apps/v1" && out_has "batch/v1"; verdict api_versions $?
k get pods
rc_is 0 && err_has "No resources found in default namespace."; verdict get_empty $?

# ---- corpus: create -f, get back, delete -f --------------------------------------
corpus_case() { # file
    f=$1; c=create.$(basename "$f" .yaml)
    k create -f "$f"
    if ! rc_is 0 || ! out_re '^[a-z0-9.]+/[a-z0-9.-]+ created$'; then nok "$c"; return; fi
    ref=$(sed 's/ created$//' "$T/out" | head -1)
    ns=$(sed -n 's/^  namespace: //p' "$f" | head -1); ns=${ns:-default}
    k get "$ref" -n "$ns" -o name
    rc_is 0 && out_has "$ref" || { nok "$c"; return; }
    case "$ref" in namespace/*) ok "$c"; return ;; esac
    k delete -f "$f" --wait=false
    rc_is 0 && out_re ' deleted$' || { nok "$c"; return; }
    ok "$c"
}
apply_case() { # file: apply created, re-apply unchanged, delete
    f=$1; c=apply.$(basename "$f" .yaml)
    k apply -f "$f"
    rc_is 0 && out_re ' (created|configured)$' || { nok "$c"; return; }
    k apply -f "$f"
    case "$f" in
    # defaults land in atomic lists (Endpoints ports' protocol) or the
    # apiserver renames a field (publishNotReadyEndpoints), or an Ingress path gets its
    # pathType default inside the atomic rules list: kubectl sees a change, as on Kubernetes
    *external-service-endpoints* | *publish-not-ready* | *ingress*) want=' (unchanged|configured)$' ;;
    *) want=' unchanged$' ;;
    esac
    rc_is 0 && out_re "$want" || { nok "$c"; return; }
    case "$f" in *namespace*) ;; *) k delete -f "$f" --wait=false ;; esac
    ok "$c"
}
if [ -d "$CORPUS/kia" ]; then
    corpus_case "$CORPUS/kia/Chapter03/custom-namespace.yaml"
    for f in "$CORPUS"/kia/*/*.yaml; do
        [ "$(basename "$f")" = custom-namespace.yaml ] || corpus_case "$f"
    done
    for f in "$CORPUS"/kia/*/*.yaml; do apply_case "$f"; done
else
    echo "not ok - kubectl.corpus (no corpus at ${ZK_CORPUS:-../shared/corpus})"
fi

# ---- apply: configured, server-side ----------------------------------------------
EX="$ROOT/examples"
k delete rc kubia --ignore-not-found --wait=false
k apply -f "$EX/kubia-rc.yaml"
rc_is 0 && out_has "replicationcontroller/kubia created"; verdict apply_created $?
k apply -f "$EX/kubia-rc.yaml"
rc_is 0 && out_has "replicationcontroller/kubia unchanged"; verdict apply_unchanged $?
sed 's/replicas: 3/replicas: 2/' "$EX/kubia-rc.yaml" >"$T/rc2.yaml"
k apply -f "$T/rc2.yaml"
rc_is 0 && out_has "replicationcontroller/kubia configured"; verdict apply_configured $?
k get rc kubia -o 'jsonpath={.spec.replicas}'
rc_is 0 && [ "$(cat "$T/out")" = 2 ]; verdict apply_configured_value $?
k apply --server-side -f "$EX/kubia-svc.yaml"
rc_is 0 && out_re '^service/kubia (serverside-applied|created|configured)$'
verdict apply_server_side $?
k apply --server-side -f "$EX/kubia-pod.yaml"
rc_is 0 && out_has "pod/kubia-manual serverside-applied"; verdict apply_server_side_pod $?

# ---- get: formats, selectors, namespaces ----------------------------------------------
k get pods
rc_is 0 && out_re '^NAME +READY +STATUS +RESTARTS +AGE$' && out_re '^kubia-manual +0/1 +'
verdict get_pods $?
for r in pods services rc rs deploy ds jobs cj ep nodes ns events secrets; do
    k get "$r" -A
    { rc_is 0 && { out_re '^NAMESPACE +NAME' || out_re '^NAME' ||
        grep -q '^No resources found' "$T/err"; }; }
    verdict "get_kind_$r" $?
done
k get pods -o wide
rc_is 0 && out_re '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES$'
verdict get_wide $?
k get pod kubia-manual -o json
rc_is 0 && out_has '    "kind": "Pod",' && out_re '"name": "kubia-manual"'; verdict get_json $?
k get pods -o json
rc_is 0 && out_has '    "kind": "List",'; verdict get_json_list $?
k get pod kubia-manual -o yaml
rc_is 0 && out_has "kind: Pod" && out_has "  name: kubia-manual"; verdict get_yaml $?
k get pods -o name
rc_is 0 && out_has "pod/kubia-manual"; verdict get_name $?
k get pod kubia-manual -o 'jsonpath={.metadata.name}'
rc_is 0 && [ "$(cat "$T/out")" = kubia-manual ]; verdict get_jsonpath $?
k get pods -l env=prod --show-labels
rc_is 0 && out_re '^NAME +READY +STATUS +RESTARTS +AGE +LABELS$' &&
    out_re '^kubia-manual .*creation_method=manual,env=prod$'
verdict get_selector_show_labels $?
k get pods -l env=none
rc_is 0 && err_has "No resources found in default namespace."; verdict get_selector_empty $?
k get svc -n default
rc_is 0 && out_re '^kubernetes +ClusterIP +10\.96\.0\.1 '; verdict get_namespace $?
k get svc -A
rc_is 0 && out_re '^NAMESPACE +NAME +TYPE +CLUSTER-IP ' && out_re '^default +kubernetes '
verdict get_all_namespaces $?
k get pods --field-selector metadata.name=kubia-manual -o name
rc_is 0 && out_has "pod/kubia-manual"; verdict get_field_selector $?
k get pods --chunk-size=1 -o name
rc_is 0 && out_has "pod/kubia-manual"; verdict get_chunked $?
k get all
rc_is 0 && out_re '^pod/kubia-manual ' && out_re '^service/kubernetes '; verdict get_all $?

# ---- zkubectl prints what kubectl prints ----------------------------------------------
# same CASE ARGS...: kubectl and zkubectl print the same stdout (modulo the
# trailing AGE column), the same stderr and exit with the same code. Tried up
# to three times: a controller or the clock (an age in the middle of a
# describe) may change between the two runs.
same() {
    c=$1; shift
    for try in 1 2 3; do
        k "$@"; z "$@"
        no_age "$T/out" >"$T/a"; no_age "$T/zout" >"$T/b"
        if cmp -s "$T/a" "$T/b" && cmp -s "$T/err" "$T/zerr" &&
            [ "$(cat "$T/rc")" = "$(cat "$T/zrc")" ]; then
            ok "same.$c"; return
        fi
    done
    nok "same.$c"
    { diff "$T/a" "$T/b" | head -20; diff "$T/err" "$T/zerr" | head -10; } | sed 's/^/  diff: /' >&2
}
# events: order and the LAST SEEN / AGE cells may differ; every other cell may not
ev_norm() { sed -E 's/(^| )([0-9]+[smhdy][0-9smhdy]*|<unknown>)( |$)/ /g; s/ +/ /g; s/ $//' "$1" | sort; }
same_events() {
    c=$1; shift
    k "$@"; z "$@"
    ev_norm "$T/out" >"$T/a"; ev_norm "$T/zout" >"$T/b"
    cmp -s "$T/a" "$T/b" && cmp -s "$T/err" "$T/zerr" && [ "$(cat "$T/rc")" = "$(cat "$T/zrc")" ]
    verdict "same.$c" $?
}
# a node without a kubelet (tainted, unschedulable: nothing lands on it), so
# that nodes print something
printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: zk-fake\n  labels:\n    node-role.kubernetes.io/test: ""\nspec:\n  unschedulable: true\n  taints:\n  - key: zkube.test/fake\n    effect: NoSchedule\n' >"$T/node.yaml"
k create -f "$T/node.yaml"
k create secret generic zk-sec --from-literal=a=b
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: zk-deploy\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: zk-deploy\n  template:\n    metadata:\n      labels:\n        app: zk-deploy\n    spec:\n      containers:\n      - name: main\n        image: luksa/kubia\n' >"$T/deploy.yaml"
k create -f "$T/deploy.yaml"
if [ -d "$CORPUS/kia" ]; then
    for f in ssd-monitor-daemonset batch-job cronjob; do k create -f "$CORPUS/kia/Chapter04/$f.yaml"; done
    k create -f "$CORPUS/kia/Chapter05/kubia-ingress.yaml"
fi
for r in pods svc rc rs deploy ds jobs cj nodes ns ep secrets; do
    same "get_$r" get "$r"
    same "get_${r}_wide" get "$r" -o wide
    same "get_${r}_name" get "$r" -o name
    same "get_${r}_json" get "$r" -o json
    same "get_${r}_yaml" get "$r" -o yaml
    same "get_${r}_jsonpath" get "$r" -o 'jsonpath={.items[*].metadata.name}'
    same "get_${r}_show_labels" get "$r" --show-labels
    same "get_${r}_all_namespaces" get "$r" -A
    same "get_${r}_kube_system" get "$r" -n kube-system
done
same get_pods_selector get pods -l app=kubia
same get_pods_selector_none get pods -l app=none
same get_pod_one get pod kubia-manual
same get_pod_one_yaml get pod kubia-manual -o yaml
same get_svc_jsonpath_port get svc kubia -o 'jsonpath={.spec.ports[0].targetPort}'
same get_all get all
same get_notfound get pod nope
same get_unknown_kind get foo
same_events get_events get events
same_events get_events_wide get events -o wide
same_events get_events_all_namespaces get events -A
same describe_pod describe pod kubia-manual
same describe_rc describe rc kubia
same describe_svc describe svc kubia
same describe_node describe node zk-fake
same describe_ns describe ns default
same describe_secret describe secret zk-sec
same describe_events describe events
same describe_deploy describe deploy zk-deploy
same describe_ds describe ds
same describe_jobs describe jobs
same describe_cj describe cj
same describe_ingress describe ingress
same describe_notfound describe pod nope

# the messages of the verbs that write: kubectl works on objects named kx-*,
# zkubectl on the same objects named zx-*; outputs compare with that prefix
# made X-
# on TOOL ARGS...: runs k or z with every @ in ARGS replaced by kx or zx
on() {
    t=$1; shift
    for a; do shift; set -- "$@" "$(printf '%s' "$a" | sed "s/@/${t}x/g")"; done
    "$t" "$@"
}
same_msg() {
    c=$1; shift
    on k "$@"; on z "$@"
    sed 's/kx-/X-/g' "$T/out" >"$T/a"; sed 's/zx-/X-/g' "$T/zout" >"$T/b"
    sed 's/kx-/X-/g' "$T/err" >"$T/ea"; sed 's/zx-/X-/g' "$T/zerr" >"$T/eb"
    if cmp -s "$T/a" "$T/b" && cmp -s "$T/ea" "$T/eb" &&
        [ "$(cat "$T/rc")" = "$(cat "$T/zrc")" ] && { [ -s "$T/a" ] || [ -s "$T/ea" ]; }; then
        ok "same.$c"
    else
        nok "same.$c"; { diff "$T/a" "$T/b"; diff "$T/ea" "$T/eb"; } | sed 's/^/  diff: /' >&2
    fi
}
for t in k z; do
    sed -e "s/name: kubia-manual\$/name: ${t}x-pod/" -e "s/env: prod/owner: ${t}x/" \
        "$EX/kubia-pod.yaml" >"$T/${t}x-pod.yaml"
    sed 's/creation_method: manual/creation_method: changed/' "$T/${t}x-pod.yaml" \
        >"$T/${t}x-pod2.yaml"
    sed -e "s/name: kubia-manual\$/name: ${t}x-sel/" -e "s/env: prod/owner: ${t}x/" \
        "$EX/kubia-pod.yaml" >"$T/${t}x-sel.yaml"
    sed -e "s/^  name: kubia\$/  name: ${t}x-rc/" -e "s/app: kubia/app: ${t}x-rc/" \
        "$EX/kubia-rc.yaml" >"$T/${t}x-rc.yaml"
    sed -e "s/name: kubia-manual\$/name: ${t}x-ssa/" "$EX/kubia-pod.yaml" >"$T/${t}x-ssa.yaml"
done
same_msg create create -f "$T/@-pod.yaml"
same_msg create_exists create -f "$T/@-pod.yaml"
same_msg apply_no_annotation apply -f "$T/@-pod.yaml"
same_msg apply_unchanged apply -f "$T/@-pod.yaml"
same_msg apply_configured apply -f "$T/@-pod2.yaml"
same_msg apply_created apply -f "$T/@-rc.yaml"
same_msg apply_server_side apply --server-side -f "$T/@-ssa.yaml"
same_msg apply_server_side_again apply --server-side -f "$T/@-ssa.yaml"
same_msg label label pod @-pod foo=bar
same_msg label_no_overwrite label pod @-pod foo=baz
same_msg label_overwrite label pod @-pod foo=baz --overwrite
same_msg label_remove label pod @-pod foo-
same_msg label_unchanged label pod @-pod creation_method=changed
same_msg annotate annotate pod @-pod a=b
same_msg annotate_remove annotate pod @-pod a-
same_msg scale scale rc @-rc --replicas=2
same_msg expose expose rc @-rc --port=80 --target-port=8080
same_msg expose_exists expose rc @-rc --port=80
same_msg expose_pod expose pod @-pod --name=@-svc2
same_msg expose_dry_run expose rc @-rc --name=@-svc3 --dry-run=client -o yaml
same_msg expose_dry_run_json expose rc @-rc --name=@-svc3 --dry-run=client -o json
same_msg expose_bad_port expose rc @-rc --name=@-svc3 --port=abc
same_msg expose_secret expose secret zk-sec --port=80
same_msg delete_name delete svc @-rc
same_msg delete_file delete -f "$T/@-pod.yaml"
on k create -f "$T/@-sel.yaml"; on z create -f "$T/@-sel.yaml"
same_msg delete_selector delete pods -l owner=@
same_msg delete_notfound delete pod @-nope
on k delete rc,svc @-rc @-svc2 --wait=false; on z delete rc,svc @-rc @-svc2 --wait=false
on k delete pod @-ssa --wait=false; on z delete pod @-ssa --wait=false
k delete node zk-fake
k delete secret zk-sec
k delete -f "$T/deploy.yaml" --wait=false
if [ -d "$CORPUS/kia" ]; then
    for f in ssd-monitor-daemonset batch-job cronjob; do
        k delete -f "$CORPUS/kia/Chapter04/$f.yaml" --wait=false
    done
    k delete -f "$CORPUS/kia/Chapter05/kubia-ingress.yaml" --wait=false
fi

# ---- watch ---------------------------------------------------------------------
"$KUBECTL" --server "http://127.0.0.1:$PORT" get pods -w >"$T/watch" 2>"$T/watch.err" &
WATCH_PID=$!
"$ZCTL" get pods -w >"$T/zwatch" 2>"$T/zwatch.err" &
ZWATCH_PID=$!
listed() { grep -qs '^kubia-manual ' "$T/watch" && grep -qs '^kubia-manual ' "$T/zwatch"; }
wait_for 10 listed
sed 's/name: kubia-manual$/name: kubia-watched/' "$EX/kubia-pod.yaml" >"$T/watched.yaml"
k create -f "$T/watched.yaml"
seen() { grep -qs '^kubia-watched ' "$T/watch"; }
wait_for 10 seen; verdict watch $?
# zkubectl's watch prints the same lines (modulo AGE) once both caught up
zseen() { grep -qs '^kubia-watched ' "$T/zwatch" &&
    [ "$(wc -l <"$T/watch")" = "$(wc -l <"$T/zwatch")" ]; }
wait_for 10 zseen
kill "$WATCH_PID" "$ZWATCH_PID" 2>/dev/null
wait "$WATCH_PID" "$ZWATCH_PID" 2>/dev/null
WATCH_PID=""
ZWATCH_PID=""
no_age "$T/watch" >"$T/a"; no_age "$T/zwatch" >"$T/b"
cmp -s "$T/a" "$T/b"; verdict same.watch $?

# ---- label, annotate, scale, expose, describe ----------------------------------------------
k label pod kubia-manual creation_method=other --overwrite
rc_is 0 && out_has "pod/kubia-manual labeled"; verdict label $?
k label pod kubia-manual env-
rc_is 0 && out_has "pod/kubia-manual unlabeled"; verdict label_remove $?
k annotate pod kubia-manual mycompany.com/someannotation="foo bar"
rc_is 0 && out_has "pod/kubia-manual annotated"; verdict annotate $?
k get pod kubia-manual -o 'jsonpath={.metadata.annotations.mycompany\.com/someannotation}'
rc_is 0 && [ "$(cat "$T/out")" = "foo bar" ]; verdict annotate_value $?
k scale rc kubia --replicas=4
rc_is 0 && out_has "replicationcontroller/kubia scaled"; verdict scale $?
k get rc kubia -o 'jsonpath={.spec.replicas}'
rc_is 0 && [ "$(cat "$T/out")" = 4 ]; verdict scale_value $?
k delete svc kubia --ignore-not-found
k expose rc kubia --port=80 --target-port=8080
rc_is 0 && out_has "service/kubia exposed"; verdict expose $?
k get svc kubia -o 'jsonpath={.spec.ports[0].targetPort}'
rc_is 0 && [ "$(cat "$T/out")" = 8080 ]; verdict expose_target_port $?
k describe pod kubia-manual
rc_is 0 && out_re '^Name: +kubia-manual$' && out_re '^Namespace: +default$'
verdict describe_pod $?
k describe rc kubia
rc_is 0 && out_re '^Name: +kubia$' && out_re '^Replicas: '; verdict describe_rc $?
k describe svc kubia
rc_is 0 && out_re '^Name: +kubia$' && out_re '^Selector: +app=kubia$'; verdict describe_svc $?

# ---- typed clients (protobuf bodies), explain -----------------------------------------
k create namespace zk-kc
rc_is 0 && out_has "namespace/zk-kc created"; verdict create_namespace $?
if [ -f "$CORPUS/kia/Chapter05/tls.cert" ]; then
    k create secret tls tls-secret --cert="$CORPUS/kia/Chapter05/tls.cert" \
        --key="$CORPUS/kia/Chapter05/tls.key" -n zk-kc
    rc_is 0 && out_has "secret/tls-secret created"; verdict create_secret_tls $?
fi
k create configmap cm1 --from-literal=a=b -n zk-kc
rc_is 0 && out_has "configmap/cm1 created"; verdict create_configmap $?
k get configmap cm1 -n zk-kc -o 'jsonpath={.data.a}'
rc_is 0 && [ "$(cat "$T/out")" = b ]; verdict create_configmap_value $?
k delete namespace zk-kc --wait=false
rc_is 0 && out_has 'namespace "zk-kc" deleted'; verdict delete_namespace $?
k explain pods.spec.containers
rc_is 0 && out_re '^KIND: +Pod$' && out_re '^  image'; verdict explain $?

# ---- errors ----------------------------------------------------------------------
k get pod nope
rc_is 1 && err_has 'Error from server (NotFound): pods "nope" not found'; verdict get_notfound $?
k create -f "$EX/kubia-pod.yaml"
rc_is 1 && err_has "Error from server (AlreadyExists): error when creating \"$EX/kubia-pod.yaml\": pods \"kubia-manual\" already exists"
verdict create_exists $?
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n' >"$T/bad.yaml"
k create -f "$T/bad.yaml"
rc_is 1 && grep -q 'spec.containers\[0\].image: Required value' "$T/err"
verdict create_invalid $?
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  foo: 1\n  containers:\n  - name: c\n    image: x\n' >"$T/unknown.yaml"
k create -f "$T/unknown.yaml"
rc_is 1 && grep -q 'unknown field "spec.foo"' "$T/err"; verdict create_unknown_field $?
# no kubelet runs here: the pod has no node, whichever gateway version serves logs
k logs kubia-manual
rc_is 1 && [ -s "$T/err" ]; verdict logs_unscheduled_fails $?

# ---- delete --------------------------------------------------------------------
k delete pod kubia-watched
rc_is 0 && out_has 'pod "kubia-watched" deleted'; verdict delete_name $?
k delete -f "$EX/kubia-pod.yaml"
rc_is 0 && out_has 'pod "kubia-manual" deleted'; verdict delete_file $?
for p in sel-a sel-b; do
    sed -e "s/name: kubia-manual\$/name: $p/" -e 's/env: prod/env: seltest/' "$EX/kubia-pod.yaml" \
        >"$T/$p.yaml"
    k create -f "$T/$p.yaml"
done
k delete pods -l env=seltest
rc_is 0 && out_has 'pod "sel-a" deleted' && out_has 'pod "sel-b" deleted'
verdict delete_selector $?
k get pod sel-a
rc_is 1 && err_has 'Error from server (NotFound): pods "sel-a" not found'; verdict deleted_gone $?
exit 0
