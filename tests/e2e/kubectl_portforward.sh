#!/bin/sh
# tests/e2e/kubectl_portforward.sh — the real kubectl's `port-forward`
# through zkube's HTTP gateway (SPDY/3.1 tunnelled in a WebSocket): a
# cluster with the process driver (`zkube up --detach --nodes 1 --driver
# process --http-port none`, no root needed) in a fresh ZKUBE_HOME, `zkube
# gateway` on a random loopback port, kubectl with a fresh HOME. A busybox
# pod serves files and a CGI on 127.0.0.1:<random port> (process-driver
# pods share the node's network); `kubectl port-forward` runs in the
# background and curl goes through it: small files several times, 4 MiB
# both ways, two transfers at once, and the same over kubectl's plain SPDY
# transport (KUBECTL_PORT_FORWARD_WEBSOCKETS=false); then the errors kubectl prints (nothing
# listening on the pod's port, a pod that is not running, no such pod) and
# the gateway's refusal of a request that is no upgrade. With python3, a
# small SPDY client that keeps flow control (kubectl's SPDY library does
# not) checks windows, PING, RST_STREAM and GOAWAY too. Last, the kubelet is
# killed mid-transfer: kubectl reports the lost stream, the gateway lives
# on, and a new port-forward works once the kubelet is back. Prints "ok -
# kubectl_portforward.CASE" / "not ok - ..."; stops everything it started
# (by PID) and removes its folder.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ZKUBE=${ZK_ZKUBE:-$ROOT/bin/zkube}
KUBECTL=${KUBECTL:-kubectl}
WORK=$(mktemp -d /tmp/zkube-e2e-kpf.XXXXXX)
ZKUBE_HOME="$WORK/home"
ZKUBE_IMAGES="$ZKUBE_HOME/images"
HOME="$WORK/kchome" # kubectl caches discovery under $HOME/.kube
export ZKUBE_HOME ZKUBE_IMAGES HOME
T="$WORK/t"
WWW="$WORK/www"
mkdir -p "$T" "$HOME" "$ZKUBE_HOME" "$WORK/bin" "$WWW/cgi-bin"
GW_PID=""
PF_PIDS=""

PD_NAME=kubectl_portforward
. "$ROOT/tests/e2e/lib/process.sh"
cleanup() {
    for p in $PF_PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
    "$ZKUBE" down >/dev/null 2>&1
    pd_kill_containers
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# k ARGS...: kubectl against the gateway; stdout, stderr, exit code land in $T
k() { "$KUBECTL" --server "http://127.0.0.1:$PORT" "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }
jp() { "$KUBECTL" --server "http://127.0.0.1:$PORT" get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
rand_port() { echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000)); }
free_port() { # a loopback port nothing listens on (best effort)
    while :; do
        p=$(rand_port)
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" 2>/dev/null
        [ $? = 7 ] && { echo "$p"; return; }
    done
}

if ! command -v "$KUBECTL" >/dev/null 2>&1; then
    echo "ok - kubectl_portforward.skipped # SKIP kubectl not installed"; exit 0
fi
if ! command -v curl >/dev/null 2>&1; then
    echo "ok - kubectl_portforward.skipped # SKIP curl not installed"; exit 0
fi
if [ ! -x "$ZKUBE" ]; then
    echo "not ok - kubectl_portforward.build (bin/zkube missing)"; exit 1
fi
# a private copy: other builds may relink bin/ while the cluster runs
cp "$ZKUBE" "$WORK/bin/zkube" || exit 1
ZKUBE="$WORK/bin/zkube"

# ---- image, cluster, gateway -------------------------------------------------------
# (the pods run busybox from the node's /bin: the process driver only needs the image)
"$ZKUBE" image build "$ROOT/deploy/images/busybox" >"$T/image.log" 2>&1
verdict image $? || exit 1
"$ZKUBE" up --detach --nodes 1 --driver process --http-port none >"$T/up.log" 2>&1
gateway_up() { # on a free loopback port; false when it does not stay up
    PORT=$(free_port)
    "$ZKUBE" gateway --http-port "$PORT" >"$T/gw.log" 2>&1 &
    GW_PID=$!
    sleep 0.2
    kill -0 "$GW_PID" 2>/dev/null || { GW_PID=""; false; }
}
node_ready() { [ "$(jp node node1 '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
gateway_up || gateway_up || gateway_up
if [ -n "$GW_PID" ] && wait_for 40 node_ready; then ok cluster_up; else
    cat "$T/up.log" "$T/gw.log" >"$T/err"; nok cluster_up; exit 1; fi

# ---- the pod: files and a CGI that hashes what it is sent -----------------------------
echo "hello from the pod" >"$WWW/index.html"
head -c 4194304 /dev/urandom >"$WWW/big.bin"
head -c 4194304 /dev/urandom >"$T/upload.bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nsha256sum | cut -d" " -f1\n' \
    >"$WWW/cgi-bin/sum"
chmod +x "$WWW/cgi-bin/sum"
sha() { sha256sum "$1" | cut -d' ' -f1; }
PPORT=$(free_port)
cat >"$T/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: node1
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox
    command: ["busybox", "httpd", "-f", "-p", "127.0.0.1:$PPORT", "-h", "$WWW"]
---
apiVersion: v1
kind: Pod
metadata:
  name: unscheduled
spec:
  nodeSelector:
    disk: none-such
  containers:
  - name: a
    image: busybox
YAML
k create -f "$T/pods.yaml"
running() { [ "$(jp pod "$1" '{.status.phase}')" = Running ]; }
serving() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PPORT/index.html"; }
wait_for 30 running web && wait_for 10 serving
verdict pod_serving $?

# ---- port-forward in the background -------------------------------------------------------
# start_pf NAME ARGS...: `kubectl port-forward ARGS` with output in $T/NAME.*; its
# PID in $PF_PID; waits for its "Forwarding from" line
start_pf() {
    name=$1; shift
    "$KUBECTL" --server "http://127.0.0.1:$PORT" port-forward "$@" >"$T/$name.out" 2>"$T/$name.err" &
    PF_PID=$!
    PF_PIDS="$PF_PIDS $PF_PID"
    pf_ready() { grep -q '^Forwarding from 127.0.0.1' "$T/$name.out"; }
    wait_for 20 pf_ready
}
stop_pf() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

LPORT=$(free_port)
start_pf pf pod/web "$LPORT:$PPORT"
verdict port_forward_starts $?
WEB_PF=$PF_PID

fails=0
for i in 1 2 3; do
    curl -s --max-time 20 -o "$T/out" "http://127.0.0.1:$LPORT/index.html" &&
        [ "$(cat "$T/out")" = "hello from the pod" ] || fails=$((fails + 1))
done
[ $fails = 0 ]
verdict small_requests $?

curl -s --max-time 60 -o "$T/big.out" "http://127.0.0.1:$LPORT/big.bin" &&
    [ "$(sha "$T/big.out")" = "$(sha "$WWW/big.bin")" ]
verdict large_download $?

curl -s --max-time 60 --data-binary @"$T/upload.bin" -o "$T/out" \
    "http://127.0.0.1:$LPORT/cgi-bin/sum" && [ "$(cat "$T/out")" = "$(sha "$T/upload.bin")" ]
verdict large_upload $?

curl -s --max-time 60 -o "$T/c1.out" "http://127.0.0.1:$LPORT/big.bin" & C1=$!
curl -s --max-time 60 -o "$T/c2.out" "http://127.0.0.1:$LPORT/big.bin" & C2=$!
wait $C1; r1=$?; wait $C2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && [ "$(sha "$T/c1.out")" = "$(sha "$WWW/big.bin")" ] &&
    [ "$(sha "$T/c2.out")" = "$(sha "$WWW/big.bin")" ]
verdict two_connections_at_once $?

kill -0 "$WEB_PF" 2>/dev/null && [ "$(grep -c '^Handling connection for' "$T/pf.out")" -ge 7 ]
verdict port_forward_still_up $?

# ---- kubectl's other transport: SPDY on the connection itself (its fallback) ------------------
L3=$(free_port)
KUBECTL_PORT_FORWARD_WEBSOCKETS=false start_pf spdy pod/web "$L3:$PPORT"
SPDY_PF=$PF_PID
curl -s --max-time 20 -o "$T/out" "http://127.0.0.1:$L3/index.html" &&
    [ "$(cat "$T/out")" = "hello from the pod" ] &&
    curl -s --max-time 60 -o "$T/big.out" "http://127.0.0.1:$L3/big.bin" &&
    [ "$(sha "$T/big.out")" = "$(sha "$WWW/big.bin")" ] &&
    curl -s --max-time 60 --data-binary @"$T/upload.bin" -o "$T/out" \
        "http://127.0.0.1:$L3/cgi-bin/sum" && [ "$(cat "$T/out")" = "$(sha "$T/upload.bin")" ]
verdict plain_spdy_transport $?
stop_pf "$SPDY_PF"

# ---- the protocol as a flow-controlling client speaks it ------------------------------------
# kubectl keeps no SPDY windows; this client does (8 KiB per stream), and checks the
# gateway's SYN_REPLY, PING, WINDOW_UPDATE, RST_STREAM and GOAWAY on the way
if command -v python3 >/dev/null 2>&1; then
    cat >"$T/spdy_client.py" <<'PY'
# a SPDY/3.1 client over WebSocket that keeps flow control (windows of WIN
# bytes), unlike kubectl. argv: gateway port, pod port, sha256 of /big.bin.
# Prints "ok CASE" / "not ok CASE ..." lines.
import base64, hashlib, os, socket, struct, sys, zlib

GW, PPORT, SHA = int(sys.argv[1]), sys.argv[2], sys.argv[3]
WIN = 8192
s = socket.create_connection(("127.0.0.1", GW), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\n"
           "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n" % key).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
print("ok upgrade" if head.startswith(b"HTTP/1.1 101") and
      b"SPDY/3.1+portforward.k8s.io" in head else "not ok upgrade")

def ws_send(data):
    mask = os.urandom(4)
    n = len(data)
    hdr = bytes([0x82]) + (bytes([0x80 | n]) if n < 126 else
                           bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else
                           bytes([0x80 | 127]) + struct.pack(">Q", n))
    s.sendall(hdr + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(data)))

spdy = b""
def ws_fill():
    global buf, spdy
    while True:
        if len(buf) >= 2:
            n, off = buf[1] & 0x7F, 2
            if n == 126: n, off = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127: n, off = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) >= off + n:
                op, payload, buf = buf[0] & 0x0F, buf[off:off + n], buf[off + n:]
                if op == 8: raise EOFError("closed")
                if op == 2: spdy += payload; return
                continue
        d = s.recv(65536)
        if not d: raise EOFError("eof")
        buf += d

def frame():  # (type or None for data, stream/id, flags, payload)
    global spdy
    while len(spdy) < 8 or len(spdy) < 8 + (struct.unpack(">I", spdy[4:8])[0] & 0xFFFFFF):
        ws_fill()
    w0, w1 = struct.unpack(">II", spdy[:8]); n = w1 & 0xFFFFFF
    p, spdy = spdy[8:8 + n], spdy[8 + n:]
    if w0 & 0x80000000:
        return w0 & 0xFFFF, struct.unpack(">I", p[:4])[0] & 0x7FFFFFFF if len(p) >= 4 else 0, w1 >> 24, p
    return None, w0, w1 >> 24, p

def ctrl(t, payload, flags=0):
    ws_send(struct.pack(">HHI", 0x8003, t, (flags << 24) | len(payload)) + payload)

z = zlib.compressobj()  # no dictionary: a stream may do without it
def syn(sid, hdrs):
    raw = struct.pack(">I", len(hdrs)) + b"".join(
        struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v for k, v in hdrs)
    block = z.compress(raw) + z.flush(zlib.Z_SYNC_FLUSH)
    ctrl(1, struct.pack(">IIBB", sid, 0, 0, 0) + block)

def data(sid, payload, fin=False):
    ws_send(struct.pack(">II", sid, (1 << 24 if fin else 0) | len(payload)) + payload)

ctrl(4, struct.pack(">III", 1, 7, WIN))  # SETTINGS_INITIAL_WINDOW_SIZE
common = [(b"port", PPORT.encode()), (b"requestid", b"0")]
syn(1, [(b"streamtype", b"error")] + common); data(1, b"", True)
syn(3, [(b"streamtype", b"data")] + common)
req = b"GET /big.bin HTTP/1.0\r\n\r\n"
data(3, req)
ctrl(6, struct.pack(">I", 1))  # PING
replies, got, body, window, updates, pong, over = set(), 0, b"", WIN, 0, False, False
conn_window = 65536
while True:
    t, sid, flags, p = frame()
    if t == 2: replies.add(sid)
    elif t == 6: pong = pong or struct.unpack(">I", p)[0] == 1
    elif t == 9 and sid == 3: updates += struct.unpack(">I", p[4:8])[0]
    elif t is None and sid == 3:
        window -= len(p); conn_window -= len(p)
        over = over or window < 0 or conn_window < 0
        body += p
        if p:  # consumed: give the window back, in two steps
            ctrl(9, struct.pack(">II", 3, len(p))); ctrl(9, struct.pack(">II", 0, len(p)))
            window += len(p); conn_window += len(p)
        if flags & 1: break
print("ok syn_replies" if replies >= {1, 3} else "not ok syn_replies %s" % replies)
print("ok ping_answered" if pong else "not ok ping_answered")
print("ok window_updates_for_sent_bytes" if updates == len(req) else
      "not ok window_updates_for_sent_bytes %d" % updates)
print("not ok windows_respected" if over else "ok windows_respected")
content = body.split(b"\r\n\r\n", 1)[-1]
print("ok body_through_small_windows" if hashlib.sha256(content).hexdigest() == SHA else
      "not ok body_through_small_windows %d bytes" % len(content))
syn(5, [(b"streamtype", b"data"), (b"requestid", b"1")])  # no port
while True:
    t, sid, flags, p = frame()
    if t == 3 and sid == 5: break
print("ok missing_port_refused")
ws_send(b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01")  # SPDY/2: not ours
try:
    while True:
        t, sid, flags, p = frame()
        if t == 7: break
    print("ok goaway_on_bad_frame")
except EOFError:
    print("not ok goaway_on_bad_frame")
PY
    timeout 60 python3 "$T/spdy_client.py" "$PORT" "$PPORT" "$(sha "$WWW/big.bin")" \
        >"$T/py.out" 2>"$T/py.err"
    echo $? >"$T/rc"
    sed -n 's/^\(not \)\{0,1\}ok \([a-z_]*\).*/\1ok - kubectl_portforward.spdy_\2/p' "$T/py.out"
    [ "$(grep -c '^ok ' "$T/py.out")" = 8 ] && rc_is 0
    verdict spdy_client_complete $?
else
    echo "ok - kubectl_portforward.spdy_client # SKIP python3 not installed"
fi

# ---- errors ----------------------------------------------------------------------------------
# nothing listens on the pod's port: kubectl prints the kubelet's error
DEAD=$(free_port)
L2=$(free_port)
start_pf dead pod/web "$L2:$DEAD"
DEAD_PF=$PF_PID
curl -s --max-time 20 -o /dev/null "http://127.0.0.1:$L2/"
printed() { grep -q "error forwarding port $DEAD to pod web" "$T/dead.err"; }
wait_for 10 printed
verdict unknown_port_error $?
stop_pf "$DEAD_PF"

k port-forward pod/unscheduled 0:80
rc_is 1 && grep -q 'unable to forward port because pod is not running. Current status=Pending' "$T/err"
verdict pod_not_running $?

k port-forward pod/nosuch 0:80
rc_is 1 && grep -q 'pods "nosuch" not found' "$T/err"
verdict no_such_pod $?

# the gateway's own answer to a request that upgrades to nothing, as curl sees it
curl -s -o "$T/out" -w '%{http_code}' -X POST \
    "http://127.0.0.1:$PORT/api/v1/namespaces/default/pods/web/portforward" >"$T/rc"
rc_is 400 && grep -q 'Upgrade request required' "$T/out"
verdict not_an_upgrade $?

curl -s -o "$T/out" -w '%{http_code}' -X POST \
    "http://127.0.0.1:$PORT/api/v1/namespaces/default/pods/nosuch/portforward" >"$T/rc"
rc_is 404 && grep -q 'NotFound' "$T/out"
verdict no_such_pod_curl $?

# the first port-forward is unharmed by all of this
curl -s --max-time 20 -o "$T/out" "http://127.0.0.1:$LPORT/index.html" &&
    [ "$(cat "$T/out")" = "hello from the pod" ]
verdict still_forwarding_after_errors $?

# ---- the kubelet dies mid-transfer: kubectl says so, the gateway lives on ------------------
head -c 67108864 /dev/zero >"$WWW/huge.bin"
curl -s --limit-rate 1M --max-time 120 -o "$T/slow.out" "http://127.0.0.1:$LPORT/huge.bin" &
CURL_PID=$!
started() { [ -f "$T/slow.out" ] && [ "$(wc -c <"$T/slow.out")" -gt 1000000 ]; }
wait_for 20 started && "$ZKUBE" kill kubelet-node1 >"$T/out" 2>&1
wait "$CURL_PID"
curl_rc=$?
lost() { grep -q 'lost connection to pod' "$T/pf.err"; }
wait_for 60 lost && [ $curl_rc != 0 ] && grep -q "error forwarding port $PPORT to pod web" "$T/pf.err" &&
    kill -0 "$GW_PID"
verdict kubelet_killed_mid_transfer $?

L4=$(free_port)
start_pf again pod/web "$L4:$PPORT" &&
    curl -s --max-time 30 -o "$T/out" "http://127.0.0.1:$L4/index.html" &&
    [ "$(cat "$T/out")" = "hello from the pod" ]
verdict forwarding_after_kubelet_restart $?
for p in $PF_PIDS; do stop_pf "$p"; done
PF_PIDS=""
exit 0
