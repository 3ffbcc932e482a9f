#!/bin/bash
# make demo: a throwaway PKI with an OCSP responder, one loopback TLS
# server that staples and one that does not; staplegate check against
# both, then the main job: staplegate hook as certbot runs it, refusing
# and then deploying. Stops what it starts.
set -u
BUILD=${1:-build}
SG="$BUILD/staplegate"
DIR=$(mktemp -d /tmp/staplegate-demo.XXXXXX)
PIDS=""
cleanup() {
	[ -n "$PIDS" ] && kill $PIDS 2>/dev/null
	wait 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
}

# serve PORT [STAPLE]: openssl s_server on 127.0.0.1 with the demo leaf.
serve() {
	port=$1
	shift
	openssl s_server -accept "127.0.0.1:$port" -quiet -cert "$DIR/leaf-ms.pem" \
		-key "$DIR/leaf.key" -cert_chain "$DIR/ca.pem" "$@" >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
		sleep 0.1
	done 2>/dev/null
	echo "demo: s_server on port $port did not start" >&2
	exit 1
}

RESP=$(free_port)
"$BUILD/tests/mkpki" "$DIR" "http://127.0.0.1:$RESP/" || exit 1
"$BUILD/tests/responder" "$DIR/ca.pem" "$DIR/ca.key" "$RESP" &
PIDS="$PIDS $!"
GOOD=$(free_port)
serve "$GOOD" -status_file "$DIR/staple-ms-good.der"
BARE=$(free_port)
serve "$BARE"

echo "== A Must-Staple certificate, and a backend that staples a fresh verified response"
echo "\$ staplegate check --cert fullchain-ms.pem --CAfile root.pem --target 127.0.0.1:$GOOD"
"$SG" check --cert "$DIR/fullchain-ms.pem" --CAfile "$DIR/root.pem" --target "127.0.0.1:$GOOD"
echo "exit status: $?"
echo
echo "== The same certificate on a pool where one backend does not staple (retried 3 times)"
echo "\$ staplegate check --cert fullchain-ms.pem --CAfile root.pem --target 127.0.0.1:$GOOD --target 127.0.0.1:$BARE --retry-delay 0"
"$SG" check --cert "$DIR/fullchain-ms.pem" --CAfile "$DIR/root.pem" \
	--target "127.0.0.1:$GOOD" --target "127.0.0.1:$BARE" --retry-delay 0
echo "exit status: $? (deployment refused)"
echo
echo "== A certificate without Must-Staple is never blocked, only scored"
"$SG" check --cert "$DIR/fullchain-plain.pem" --CAfile "$DIR/root.pem" \
	--target "127.0.0.1:$BARE" --attempts 1
echo "exit status: $?"

# The main job: a certbot lineage with the new Must-Staple certificate,
# and staplegate as its deploy hook.
mkdir -p "$DIR/live/shop.example"
cp "$DIR/leaf-ms.pem" "$DIR/live/shop.example/cert.pem"
cp "$DIR/ca.pem" "$DIR/live/shop.example/chain.pem"
config() { # config TARGET...
	local list="" t
	for t in "$@"; do list="$list${list:+, }\"127.0.0.1:$t\""; done
	cat >"$DIR/config.json" <<JSON
{"defaults": {"state_dir": "$DIR/state", "cafile": "$DIR/root.pem",
  "retry_delay": "0s", "settle_timeout": "10s"},
 "domains": {"shop.example": {"targets": [$list]}}}
JSON
}
export RENEWED_LINEAGE="$DIR/live/shop.example" RENEWED_DOMAINS=shop.example
echo
echo "== certbot's deploy hook, the fleet not ready: the reload does not run"
config "$GOOD" "$BARE"
echo "\$ staplegate hook --config config.json -- sh -c 'echo RELOADING NGINX'"
"$SG" hook --config "$DIR/config.json" -- sh -c 'echo RELOADING NGINX' 2>/dev/null
echo "exit status: $? (certbot logs the refusal; staplegate pending lists it)"
"$SG" pending --config "$DIR/config.json"
echo
echo "== the fleet ready (the non-stapling backend is gone): resume deploys and settles"
config "$GOOD"
echo "\$ staplegate resume --config config.json"
"$SG" resume --config "$DIR/config.json"
echo "exit status: $?"
echo
echo "score log: $(wc -l <"$DIR/state/scores.jsonl") JSON lines (a decision and an outcome per run)"
