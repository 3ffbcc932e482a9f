#!/bin/bash
# make demo: a throwaway PKI, one loopback TLS server that staples and
# one that does not, and staplegate check against both. Stops what it
# starts.
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

"$BUILD/tests/mkpki" "$DIR" || exit 1
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
