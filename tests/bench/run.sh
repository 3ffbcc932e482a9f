#!/bin/bash
# make bench: a real fleet on loopback — one nginx (Debian's) with an
# ECDSA P-256 certificate stapling from ssl_stapling_file, reached on
# 10,000 addresses of 127.0.0.0/8 — and, on the same target lists in the
# same run: staplegate check and monitor, the raw floor
# (tests/bench/floor.c), and the baseline an operator would write
# (openssl s_client -status in xargs -P 16, and a sequential loop); then
# 5% black-holed targets. Prints the cost-growth table (N = 100, 1,000,
# 10,000: wall, CPU, handshakes per CPU-second, peak RSS, fds) and the
# ratios against the baselines of this run.
#
# It runs in a private network namespace (unshare -n, lo up) when it can:
# nginx then listens on the wildcard address, which there is loopback
# only, and the ports are its own. Without one it lists every address.
set -u
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SG_BENCH_NS:-}" ] && unshare -n true 2>/dev/null; then
	exec unshare -n env SG_BENCH_NS=1 sh -c \
		'ip link set lo up && exec bash "$0" "$1"' "$HERE/run.sh" "$BUILD"
fi
# 10,000 targets want 10,000 sockets at once (the ping, see README):
# the probe caps its connections below this limit, raise it first.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
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
addr() { # addr I: the I-th fleet address, 127.X.Y.Z from 127.0.1.1
	echo "127.$(($1 / 62500)).$((1 + $1 / 250 % 250)).$((1 + $1 % 250))"
}

"$BUILD/tests/mkpki" "$DIR/pki" >/dev/null || exit 1
PORT=$(free_port)
NMAX=10000
for ((i = 0; i < NMAX; i++)); do echo "$(addr $i):$PORT"; done >"$DIR/t10000"
{
	echo "worker_processes 2; worker_rlimit_nofile 32768; daemon off;"
	echo "pid $DIR/nginx.pid; error_log $DIR/error.log warn;"
	echo "events { worker_connections 16384; }"
	echo "http { access_log off; client_body_temp_path $DIR/tmp;"
	echo " server {"
	if [ -n "${SG_BENCH_NS:-}" ]; then
		echo "  listen $PORT ssl backlog=4096;"
	else
		sed 's/^/  listen /; s/$/ ssl;/' "$DIR/t10000"
	fi
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
	(exec 3<>"/dev/tcp/$(addr $((NMAX - 1)))/$PORT") 2>/dev/null && break
	sleep 0.1
done
head -1000 "$DIR/t10000" >"$DIR/t1000"
head -100 "$DIR/t10000" >"$DIR/t100"

# 5% black-holed: every 20th target is an address of 127.200.0.0/16
# where a sink accepts and never speaks.
SINKPORT=$(free_port)
SINKADDRS=$(for ((i = 1; i <= NMAX / 20; i++)); do echo -n "127.200.$((i / 250)).$((1 + i % 250)) "; done)
"$BUILD/bench/sink" "$SINKPORT" $SINKADDRS >"$DIR/sink.log" &
SINK_PID=$!
sleep 0.3
for n in 1000 10000; do
	awk -v p="$SINKPORT" 'NR % 20 == 0 { i = NR / 20; printf "127.200.%d.%d:%s\n", i / 250, 1 + i % 250, p; next } { print }' \
		"$DIR/t10000" | head -$n >"$DIR/t${n}bh"
done

# monitor over N/10 domains of 10 targets each (the domain is the SNI;
# nginx serves every name the same certificate).
monitor_config() { # monitor_config N
	mkdir -p "$DIR/state$1"
	python3 - "$DIR/t$1" "$DIR/state$1" "$DIR/pki/root.pem" <<'PY'
import json, sys
targets = open(sys.argv[1]).read().split()
domains = {f"d{i // 10}.example": {"targets": targets[i:i + 10]}
           for i in range(0, len(targets), 10)}
print(json.dumps({"defaults": {"attempts": 1, "state_dir": sys.argv[2],
                               "cafile": sys.argv[3]}, "domains": domains}))
PY
}
for n in 100 1000 10000; do monitor_config $n >"$DIR/monitor$n.json"; done

# Every target staples from its first handshake (ssl_stapling_file): no
# priming, so a target costs staplegate exactly --confirm handshakes (3 by
# default), one after the other. The raw floor makes as many per target.
SG="$BUILD/staplegate check --cert $DIR/pki/fullchain-ms.pem --CAfile $DIR/pki/root.pem --attempts 1"
K=3
M="python3 $HERE/measure.py"
{
	for n in 100 1000 10000; do
		$M "staplegate" $n $K -- $SG --targets-file "$DIR/t$n"
		$M "raw floor, $K handshakes per target" $n $K -- "$BUILD/bench/floor" "$DIR/t$n" 256 $K
		$M "staplegate --confirm 1" $n -- $SG --targets-file "$DIR/t$n" --confirm 1
		$M "raw floor" $n -- "$BUILD/bench/floor" "$DIR/t$n"
		$M "monitor, $((n / 10)) domains x 10 targets" $n $K -- "$BUILD/staplegate" monitor --config "$DIR/monitor$n.json"
	done
	# the prober's cost: the same run with the probe in the process,
	# alternated three times (the machine is shared: the best of each)
	for _ in 1 2 3; do
		$M "prober: staplegate" 1000 $K -- $SG --targets-file "$DIR/t1000"
		$M "prober: staplegate --no-sandbox" 1000 $K -- $SG --targets-file "$DIR/t1000" --no-sandbox
	done
	$M "staplegate --parallel 1" 100 $K -- $SG --targets-file "$DIR/t100" --parallel 1
	$M "s_client xargs -P16" 100 -- sh -c "xargs -P 16 -I{} sh -c 'openssl s_client -connect {} -status </dev/null >/dev/null 2>&1' <$DIR/t100"
	$M "s_client sequential" 100 -- sh -c "while read t; do openssl s_client -connect \$t -status </dev/null >/dev/null 2>&1; done <$DIR/t100"
	$M "s_client xargs -P16" 1000 -- sh -c "xargs -P 16 -I{} sh -c 'openssl s_client -connect {} -status </dev/null >/dev/null 2>&1' <$DIR/t1000"
	for n in 1000 10000; do
		$M "staplegate, 5% black-holed, --timeout 2s" $n $K -- $SG --targets-file "$DIR/t${n}bh" --timeout 2s
		$M "staplegate --confirm 1, 5% black-holed, --timeout 2s" $n -- $SG --targets-file "$DIR/t${n}bh" --timeout 2s --confirm 1
	done
} >"$DIR/results.jsonl"
python3 "$HERE/report.py" "$DIR/results.jsonl"
echo
"$BUILD/bench/history" "$DIR/history"
