# Sourced by tests/e2e_*.sh: a real ACME CA (Debian's pebble) and a real
# nginx on loopback, both started and stopped here on free ports, and a
# bin/ directory put first in PATH so that the exact lines of the README
# and contrib/ run unchanged:
#   staplegate       the binary under test
#   systemctl        "systemctl reload nginx" reloads (or first starts) the
#                    test nginx, which includes contrib/nginx's snippet
# plus the project's test OCSP responder signing as pebble's intermediate.
# E2E_KEEP=1 keeps the working directory for a post-mortem.
# As root the script re-executes itself in private network and mount
# namespaces: its ports cannot collide with anyone's, and a client that
# trusts only the system CA store (uacme) can be shown pebble's instead.
# Every wait and every client run is bounded (timeout); E2E_NAME names
# the client in messages.
set -u
if [ "$(id -u)" = 0 ] && [ -z "${SG_E2E_NS:-}" ] && command -v ip >/dev/null &&
	unshare -n -m --propagation private true 2>/dev/null; then
	export SG_E2E_NS=1
	exec unshare -n -m --propagation private bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
BUILD=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$(mktemp -d "/tmp/staplegate-e2e-$E2E_NAME.XXXXXX")
PEBBLE_PID=""
RESPONDER_PID=""
export STAPLEGATE_CONFIG="$DIR/config.json"
export PATH="$DIR/bin:$PATH"

e2e_cleanup() {
	[ -n "$PEBBLE_PID" ] && kill "$PEBBLE_PID" 2>/dev/null && wait "$PEBBLE_PID" 2>/dev/null
	[ -n "$RESPONDER_PID" ] && kill "$RESPONDER_PID" 2>/dev/null && wait "$RESPONDER_PID" 2>/dev/null
	[ -s "$DIR/nginx/nginx.pid" ] && kill "$(cat "$DIR/nginx/nginx.pid")" 2>/dev/null
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$DIR"
}
trap e2e_cleanup EXIT
trap 'exit 1' TERM INT

fail() {
	echo "e2e $E2E_NAME: FAIL: $*" >&2
	for f in "$DIR"/*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -25 "$f" >&2; }
	done
	exit 1
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null || fail "$c is not installed (make deps)"
	done
}

# pebble on 127.0.0.1 only; PEBBLE_URL is its directory, PEBBLE_CA the
# certificate its TLS listener presents (self-signed, IP 127.0.0.1).
start_pebble() {
	need pebble openssl python3 nginx curl
	ACME=$(free_port)
	HTTP01=$(free_port)
	MGMT=$(free_port)
	OCSP=$(free_port)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$DIR/pebble.key" -out "$DIR/pebble.crt" 2>/dev/null || fail "pebble TLS cert"
	cat >"$DIR/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$ACME", "managementListenAddress": "127.0.0.1:$MGMT",
 "certificate": "$DIR/pebble.crt", "privateKey": "$DIR/pebble.key",
 "httpPort": $HTTP01, "tlsPort": $(free_port), "ocspResponderURL": "http://127.0.0.1:$OCSP/",
 "externalAccountBindingRequired": false}}
JSON
	PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
		pebble -config "$DIR/pebble.json" >"$DIR/pebble.log" 2>&1 &
	PEBBLE_PID=$!
	wait_port "$ACME" || fail "pebble did not start"
	PEBBLE_URL="https://127.0.0.1:$ACME/dir"
	PEBBLE_CA="$DIR/pebble.crt"
	start_responder
}

# pebble hands out its root, its intermediate and the intermediate's key
# on the management port: the project's test responder, signing as that
# intermediate on the port pebble writes into its certificates, lets
# nginx staple pebble's certificates (and a Must-Staple one made here).
start_responder() {
	local m="https://127.0.0.1:$MGMT"
	curl -sfk "$m/roots/0" >"$DIR/pebble-root.pem" &&
		curl -sfk "$m/intermediates/0" >"$DIR/pebble-int.pem" &&
		curl -sfk "$m/intermediate-keys/0" >"$DIR/pebble-int.key" ||
		fail "pebble's management API"
	"$BUILD/tests/responder" "$DIR/pebble-int.pem" "$DIR/pebble-int.key" "$OCSP" \
		>"$DIR/responder.log" 2>&1 &
	RESPONDER_PID=$!
	wait_port "$OCSP" || fail "the OCSP responder did not start"
}

# The staplegate config: the approved store in $DIR/state, nginx as the
# only target of shop.example (scored for a plain certificate, gating a
# Must-Staple one), and the test roots.
write_config() {
	NGINX_PORT=$(free_port)
	cat >"$DIR/config.json" <<JSON
{"defaults": {"store": true, "state_dir": "$DIR/state", "record": "$DIR/state/scores.jsonl",
  "cafile": "$DIR/pebble-root.pem", "attempts": 3, "timeout": "2s", "retry_delay": "1s",
  "deadline": "60s", "settle_handshakes": 2, "settle_timeout": "20s"},
 "domains": {"shop.example": {"targets": ["127.0.0.1:$NGINX_PORT"],
   "staple_out": "$DIR/state/staples/shop.example.ocsp"}}}
JSON
	mkdir -p "$DIR/state/staples"
}

# bin/: staplegate, and a systemctl that reloads the test nginx (starting
# it the first time: its certificate exists only after the first
# deployment). Each reload is a line in $DIR/reloads.
write_bin() {
	mkdir -p "$DIR/bin" "$DIR/nginx/tmp"
	ln -s "$BUILD/staplegate" "$DIR/bin/staplegate"
	sed "s|/var/lib/staplegate/|$DIR/state/|g; s|/etc/ssl/certs/ca-certificates.crt|$DIR/pebble-root.pem|" \
		"$ROOT/contrib/nginx/staplegate-store.conf" >"$DIR/nginx/staplegate-store.conf"
	cat >"$DIR/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx.log info;
events { worker_connections 64; }
http {
 access_log off;
 client_body_temp_path $DIR/nginx/tmp;
 proxy_temp_path $DIR/nginx/tmp;
 fastcgi_temp_path $DIR/nginx/tmp;
 uwsgi_temp_path $DIR/nginx/tmp;
 scgi_temp_path $DIR/nginx/tmp;
 server {
  listen 127.0.0.1:$NGINX_PORT ssl;
  server_name shop.example;
  include $DIR/nginx/staplegate-store.conf;
 }
}
CONF
	cat >"$DIR/bin/systemctl" <<SH
#!/bin/bash
[ "\$*" = "reload nginx" ] || { echo "test systemctl: only 'reload nginx', not '\$*'" >&2; exit 1; }
echo reload >>"$DIR/reloads"
if [ -s "$DIR/nginx/nginx.pid" ] && kill -0 "\$(cat "$DIR/nginx/nginx.pid")" 2>/dev/null; then
	exec nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -s reload
fi
# the daemon must not hold the client's output pipe open
nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" </dev/null >/dev/null 2>>"$DIR/nginx.log" || exit 1
for _ in \$(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && exit 0
	sleep 0.1
done
echo "test nginx did not start" >&2
exit 1
SH
	chmod +x "$DIR/bin/systemctl"
}

e2e_setup() {
	start_pebble
	write_config
	write_bin
}

reloads() {
	[ -f "$DIR/reloads" ] && wc -l <"$DIR/reloads" || echo 0
}

# The sha256 of the certificate nginx serves for shop.example (lowercase
# hex); a reload is asynchronous, so this waits up to 5 s for want.
served_sha256() {
	local want=${1:-} got=""
	for _ in $(seq 50); do
		got=$(openssl s_client -connect "127.0.0.1:$NGINX_PORT" -servername shop.example \
			</dev/null 2>/dev/null | openssl x509 -outform DER 2>/dev/null |
			sha256sum | cut -d' ' -f1)
		[ -z "$want" ] || [ "$got" = "$want" ] && break
		sleep 0.1
	done
	echo "$got"
}

# A Must-Staple certificate for shop.example signed by pebble's own
# intermediate (pebble drops the TLS Feature from what it issues), naming
# the test responder: the gate can prove it will be stapled. Writes
# $DIR/msok/{leaf,key,chain}.pem. The key type must be the one nginx
# serves today (rsa for uacme, whose default it is): the pre-flight offers
# only the new key type's signature algorithms.
make_must_staple_ok() {
	local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
	[ "${1:-}" = rsa ] && key=(-newkey rsa:2048)
	mkdir -p "$DIR/msok"
	openssl req -new "${key[@]}" -nodes \
		-subj /CN=shop.example -keyout "$DIR/msok/key.pem" -out "$DIR/msok/leaf.csr" \
		2>/dev/null || fail "leaf CSR"
	cat >"$DIR/msok/ext.cnf" <<EXT
subjectAltName = DNS:shop.example
tlsfeature = status_request
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP/
extendedKeyUsage = serverAuth
EXT
	openssl x509 -req -in "$DIR/msok/leaf.csr" -CA "$DIR/pebble-int.pem" \
		-CAkey "$DIR/pebble-int.key" -CAcreateserial -days 2 -extfile "$DIR/msok/ext.cnf" \
		-out "$DIR/msok/leaf.pem" 2>/dev/null || fail "Must-Staple leaf from pebble's intermediate"
	cp "$DIR/pebble-int.pem" "$DIR/msok/chain.pem"
}

# The sha256 (lowercase hex) of a PEM certificate.
cert_sha256() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# A Must-Staple certificate for shop.example, made at test time (pebble
# drops the TLS Feature): a test CA, and a leaf naming an OCSP responder
# nobody runs, so the gate must refuse it. Writes $DIR/ms/{leaf,ca}.pem
# and key.pem.
make_must_staple() {
	mkdir -p "$DIR/ms"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=e2e test CA" -keyout "$DIR/ms/ca.key" -out "$DIR/ms/ca.pem" \
		2>/dev/null || fail "test CA"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=shop.example -keyout "$DIR/ms/key.pem" -out "$DIR/ms/leaf.csr" \
		2>/dev/null || fail "leaf CSR"
	cat >"$DIR/ms/ext.cnf" <<EXT
subjectAltName = DNS:shop.example
tlsfeature = status_request
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$(free_port)/
extendedKeyUsage = serverAuth
EXT
	openssl x509 -req -in "$DIR/ms/leaf.csr" -CA "$DIR/ms/ca.pem" -CAkey "$DIR/ms/ca.key" \
		-CAcreateserial -days 2 -extfile "$DIR/ms/ext.cnf" -out "$DIR/ms/leaf.pem" \
		2>/dev/null || fail "Must-Staple leaf"
}

# Reads the score log: check_log N 'python assertions on lines' (lines is
# the list of records).
check_log() {
	local n=$1 code=$2
	python3 - "$DIR/state/scores.jsonl" "$n" <<PY || fail "score log: $code"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == int(sys.argv[2]), (len(lines), lines)
$code
PY
}

# The certificate of make_must_staple_ok deployed by CLIENT (its hook's
# output in LOG): the hook says so, nginx has reloaded RELOADS times in
# all and serves it (its fingerprint left in MSOK), and the score log holds
# LINES records, the last two its allowed decision and settled deployment
# (MORE: further python assertions on d and o).
# assert_must_staple_deployed CLIENT LOG RELOADS LINES [MORE]
assert_must_staple_deployed() {
	local client=$1 log=$2 n=$3 lines=$4 more=${5:-}
	grep -q "staplegate: deployed shop.example ($client, Must-Staple)" "$log" ||
		fail "no Must-Staple deployment: $(cat "$log")"
	[ "$(reloads)" = "$n" ] || fail "nginx reloaded $(reloads) times, not $n"
	MSOK=$(cert_sha256 "$DIR/msok/leaf.pem")
	[ "$(served_sha256 "$MSOK")" = "$MSOK" ] || fail "nginx does not serve the Must-Staple certificate"
	check_log "$lines" "
d, o = lines[-2:]
assert d['must_staple'] is True and d['decision'] == 'allow', d
assert o['action'] == 'deployed' and o['settle'][0]['settled'] is True, o
$more"
}

# contrib/nginx/staplegate-staple-file.conf in place of the live-fetch
# lines: nginx -t fails while the staple file is missing (what its comment
# warns about) and passes with the file the hook pre-staged ("staple_out")
# when it deployed a Must-Staple certificate.
check_staple_file_snippet() {
	local conf="$DIR/nginx/t.conf" staple="$DIR/state/staples/shop.example.ocsp"
	[ -s "$staple" ] || fail "the hook did not pre-stage $staple"
	{
		grep '^ssl_certificate' "$DIR/nginx/staplegate-store.conf"
		sed "s|/var/lib/staplegate/|$DIR/state/|g" "$ROOT/contrib/nginx/staplegate-staple-file.conf"
	} >"$DIR/nginx/staple-file.conf"
	sed "s|staplegate-store.conf|staple-file.conf|; s|nginx.pid|t.pid|" \
		"$DIR/nginx/nginx.conf" >"$conf"
	mv "$staple" "$staple.saved"
	nginx -t -p "$DIR/nginx" -c "$conf" >"$DIR/nginx-t.out" 2>&1 &&
		fail "nginx -t passed without the staple file"
	mv "$staple.saved" "$staple"
	nginx -t -p "$DIR/nginx" -c "$conf" >"$DIR/nginx-t.out" 2>&1 ||
		fail "nginx -t with the staple file: $(cat "$DIR/nginx-t.out")"
}
