#!/bin/bash
# make bench: a real fleet on loopback — one nginx (Debian's) with an
# ECDSA P-256 certificate stapling from ssl_stapling_file, listening on
# 1,000 addresses of 127.0.0.0/8 — and, on the same target lists in the
# same run: staplegate check, the raw floor (tests/bench/floor.c), and the
# baseline an operator would write (openssl s_client -status in xargs -P
# 16, and a sequential loop). Then the same with 5% black-holed targets.
# Prints wall time, CPU time, handshakes per CPU-second, peak RSS, ratios.
set -u
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/staplegate-bench.XXXXXX)
NGINX_PID="" SINK_PID=""
cleanup() {
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
addr() { # addr I: the I-th fleet address, 127.0.X.Y from 127.0.1.1
	echo "127.0.$((1 + $1 / 250)).$((1 + $1 % 250))"
}

"$BUILD/tests/mkpki" "$DIR/pki" >/dev/null || exit 1
PORT=$(free_port)
N=1000
{
	echo "worker_processes 2; worker_rlimit_nofile 16384; daemon off;"
	echo "pid $DIR/nginx.pid; error_log $DIR/error.log warn;"
	echo "events { worker_connections 8192; }"
	echo "http { access_log off; client_body_temp_path $DIR/tmp;"
	echo " server {"
	for ((i = 0; i < N; i++)); do echo "  listen $(addr $i):$PORT ssl;"; done
	echo "  ssl_certificate $DIR/pki/fullchain-ms.pem;"
	echo "  ssl_certificate_key $DIR/pki/leaf.key;"
	echo "  ssl_stapling on; ssl_stapling_file $DIR/pki/staple-ms-good.der;"
	echo "  ssl_session_tickets off; ssl_session_cache off;"
	echo " }"
	echo "}"
} >"$DIR/nginx.conf"
nginx -p "$DIR" -c "$DIR/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/$(addr 999)/$PORT") 2>/dev/null && break
	sleep 0.1
done

for ((i = 0; i < N; i++)); do echo "$(addr $i):$PORT"; done >"$DIR/t1000"
head -100 "$DIR/t1000" >"$DIR/t100"
# 5% black-holed: 50 addresses of 127.0.9.x where a sink accepts and
# never speaks, mixed through the list.
SINKPORT=$(free_port)
SINKADDRS=$(for ((i = 1; i <= 50; i++)); do echo -n "127.0.9.$i "; done)
"$BUILD/bench/sink" "$SINKPORT" $SINKADDRS >"$DIR/sink.log" &
SINK_PID=$!
sleep 0.3
awk -v p="$SINKPORT" 'NR % 20 == 0 { printf "127.0.9.%d:%s\n", NR / 20, p; next } { print }' \
	"$DIR/t1000" >"$DIR/t1000bh"

# Every target staples from its first handshake (ssl_stapling_file): no
# priming, so a target costs staplegate exactly --confirm handshakes (3 by
# default), one after the other. The raw floor makes as many per target.
SG="$BUILD/staplegate check --cert $DIR/pki/fullchain-ms.pem --CAfile $DIR/pki/root.pem --attempts 1"
K=3
M="python3 $HERE/measure.py"
{
	$M "staplegate" 100 $K -- $SG --targets-file "$DIR/t100"
	$M "staplegate --parallel 1" 100 $K -- $SG --targets-file "$DIR/t100" --parallel 1
	$M "raw floor, $K handshakes per target" 100 $K -- "$BUILD/bench/floor" "$DIR/t100" 256 $K
	$M "staplegate --confirm 1" 100 -- $SG --targets-file "$DIR/t100" --confirm 1
	$M "raw floor" 100 -- "$BUILD/bench/floor" "$DIR/t100"
	$M "s_client xargs -P16" 100 -- sh -c "xargs -P 16 -I{} sh -c 'openssl s_client -connect {} -status </dev/null >/dev/null 2>&1' <$DIR/t100"
	$M "s_client sequential" 100 -- sh -c "while read t; do openssl s_client -connect \$t -status </dev/null >/dev/null 2>&1; done <$DIR/t100"
	$M "staplegate" 1000 $K -- $SG --targets-file "$DIR/t1000"
	$M "staplegate --parallel 1" 1000 $K -- $SG --targets-file "$DIR/t1000" --parallel 1
	$M "raw floor, $K handshakes per target" 1000 $K -- "$BUILD/bench/floor" "$DIR/t1000" 256 $K
	$M "staplegate --confirm 1" 1000 -- $SG --targets-file "$DIR/t1000" --confirm 1
	$M "raw floor" 1000 -- "$BUILD/bench/floor" "$DIR/t1000"
	$M "s_client xargs -P16" 1000 -- sh -c "xargs -P 16 -I{} sh -c 'openssl s_client -connect {} -status </dev/null >/dev/null 2>&1' <$DIR/t1000"
	$M "staplegate, 5% black-holed, --timeout 2s" 1000 $K -- $SG --targets-file "$DIR/t1000bh" --timeout 2s
	$M "staplegate --confirm 1, 5% black-holed, --timeout 2s" 1000 -- $SG --targets-file "$DIR/t1000bh" --timeout 2s --confirm 1
	$M "raw floor, 5% black-holed (no timeout: killed at 10s)" 1000 -- timeout 10 "$BUILD/bench/floor" "$DIR/t1000bh"
	$M "s_client xargs -P16, 5% black-holed, timeout 2s each" 1000 -- sh -c "xargs -P 16 -I{} sh -c 'timeout 2 openssl s_client -connect {} -status </dev/null >/dev/null 2>&1' <$DIR/t1000bh"
} >"$DIR/results.jsonl"
python3 "$HERE/report.py" "$DIR/results.jsonl"
echo
"$BUILD/bench/history" "$DIR/history"
