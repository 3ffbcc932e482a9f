#!/bin/bash
# make browser-check: Firefox ESR as an oracle for the gate's verdict.
#
# For each case a fresh test PKI (build/tests/mkpki) is served by
# `openssl s_server -status_file` on 127.0.0.1 (a port the kernel picks),
# Firefox is asked whether it connects (tests/browser/firefox.py: headless,
# WebDriver BiDi, a fresh profile trusting only the test root, OCSP fetching
# off, nothing beyond loopback), and `staplegate check` gives its verdict.
# Asserted per case: Firefox's actual outcome (so that a change in Firefox is
# noticed), staplegate's verdict, and that staplegate never allows what
# Firefox refuses. Where Firefox is laxer than staplegate (it connects),
# staplegate must still refuse; those cases are marked "laxer" below and in
# README ("Real clients as oracles").
#
# usage: tests/browser/run.sh BUILD_DIR
# One line per case, then "N passed, N failed"; exits 1 on any failure.
# SG_BROWSER_CASE_SECONDS bounds each case (default 90); SG_FIREFOX names
# the browser binary (default firefox-esr).
set -u
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
HOST=shop.example
CASE_SECONDS=${SG_BROWSER_CASE_SECONDS:-90} # per case; a normal case takes ~6 s

fail_setup() {
	echo "browser-check: $*" >&2
	exit 1
}
command -v "${SG_FIREFOX:-firefox-esr}" >/dev/null ||
	fail_setup "${SG_FIREFOX:-firefox-esr} not found (tests/deps.sh installs firefox-esr)"
command -v certutil >/dev/null || fail_setup "certutil not found (libnss3-tools)"
$PY -c 'import websockets' 2>/dev/null || fail_setup "python3-websockets not found for $PY"
{ [ -x "$BUILD/staplegate" ] && [ -x "$BUILD/tests/mkpki" ]; } ||
	fail_setup "build $BUILD/staplegate and $BUILD/tests/mkpki first (make browser-check)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sg-browser.XXXXXX") || fail_setup "cannot create a temp dir"
SERVER_PID=
CHILD_PID=
# Kills what a case may have left: the command running, the TLS server and
# Firefox's whole process group (firefox.py records the group leader, so
# this works even when firefox.py itself was killed).
stop_case() {
	[ -n "$CHILD_PID" ] && kill "$CHILD_PID" 2>/dev/null && wait "$CHILD_PID" 2>/dev/null
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	CHILD_PID=""
	SERVER_PID=""
	for f in "$TMP"/*/firefox.pid; do
		[ -f "$f" ] && kill -KILL -- "-$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
}
trap 'stop_case; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

PKI=$TMP/pki
"$BUILD/tests/mkpki" "$PKI" >/dev/null || fail_setup "mkpki failed"

# Runs a command for at most SECONDS, in the background so that an INT or
# TERM to this script is handled at once (bash defers traps while a
# foreground command runs); returns its status.
bounded() {
	local seconds=$1
	shift
	timeout -k 5 "$seconds" "$@" &
	CHILD_PID=$!
	wait "$CHILD_PID"
	local rc=$?
	CHILD_PID=
	return $rc
}

# Starts s_server for CHAIN with STAPLE ("-": no stapling); sets PORT.
start_server() {
	local log=$1 chain=$2 staple=$3 status=()
	[ "$staple" != - ] && status=(-status_file "$PKI/$staple")
	: >"$log" # exists before the server writes to it
	openssl s_server -accept 127.0.0.1:0 -www -cert "$PKI/$chain" \
		-cert_chain "$PKI/ca.pem" -key "$PKI/leaf.key" "${status[@]}" \
		</dev/null >"$log" 2>&1 &
	SERVER_PID=$!
	PORT=
	for _ in $(seq 100); do
		PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
		[ -n "$PORT" ] && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

passed=0
failed=0
# run_case NAME CHAIN STAPLE FIREFOX STAPLEGATE [NOTE]
#   FIREFOX: "accept" or "refuse ERROR_NAME", what Firefox does today;
#   STAPLEGATE: allow or refuse (staplegate check's exit status 0 or 1).
run_case() {
	local name=$1 chain=$2 staple=$3 want_ff=$4 want_sg=$5 note=${6:-}
	local dir=$TMP/$name ff sg rc why=""

	mkdir -p "$dir"
	if ! start_server "$dir/server.log" "$chain" "$staple"; then
		why="s_server did not start: $(tail -n 1 "$dir/server.log")"
	else
		bounded "$CASE_SECONDS" $PY "$HERE/firefox.py" --root "$PKI/root.pem" \
			--host "$HOST" --url "https://$HOST:$PORT/" --workdir "$dir" \
			--timeout $((CASE_SECONDS - 20)) >"$dir/driver.out" 2>"$dir/driver.err"
		rc=$?
		ff=$(cat "$dir/driver.out")
		[ $rc -ne 0 ] && ff="error ($(tail -n 1 "$dir/driver.err"))"
		bounded 60 "$BUILD/staplegate" check --cert "$PKI/$chain" \
			--CAfile "$PKI/root.pem" --target "127.0.0.1:$PORT" \
			--servername "$HOST" --timeout 5s >"$dir/staplegate.out" 2>&1
		case $? in
		0) sg=allow ;;
		1) sg=refuse ;;
		*) sg="error ($(tail -n 1 "$dir/staplegate.out"))" ;;
		esac
		[ "$ff" != "$want_ff" ] && why="$why; firefox: $ff, expected $want_ff"
		[ "$sg" != "$want_sg" ] && why="$why; staplegate: $sg, expected $want_sg"
		# The invariant, whatever the table says: never allow what Firefox
		# refuses.
		case $ff in refuse*) [ "$sg" = allow ] &&
			why="$why; staplegate allows what Firefox refuses" ;;
		esac
	fi
	stop_case
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		printf 'ok   %-16s firefox: %s; staplegate: %s%s\n' "$name" "$ff" "$sg" \
			"${note:+ ($note)}"
	else
		failed=$((failed + 1))
		printf 'FAIL %-16s %s\n' "$name" "${why#; }"
		[ -f "$dir/staplegate.out" ] && sed 's/^/     staplegate: /' "$dir/staplegate.out" | tail -n 3
	fi
}

start=$(date +%s)
R=refuse
run_case fresh fullchain-ms.pem staple-ms-good.der accept allow
run_case no-staple fullchain-ms.pem - "$R MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING" refuse
run_case revoked fullchain-ms.pem staple-ms-revoked.der "$R SEC_ERROR_REVOKED_CERTIFICATE" refuse
run_case unknown fullchain-ms.pem staple-ms-unknown.der "$R SEC_ERROR_OCSP_UNKNOWN_CERT" refuse
run_case future fullchain-ms.pem staple-ms-future.der "$R SEC_ERROR_OCSP_FUTURE_RESPONSE" refuse
run_case bad-signature fullchain-ms.pem staple-ms-badsig.der "$R SEC_ERROR_OCSP_BAD_SIGNATURE" refuse
# Laxer: Firefox ignores an expired staple (nextUpdate passed; servers
# were seen stapling stale responses) as if none had been sent, falls back to
# fetching, which is off, and connects; the Must-Staple check is satisfied by
# the staple's presence. staplegate must still refuse.
run_case stale fullchain-ms.pem staple-ms-stale.der accept refuse "firefox laxer"
# Laxer: a good staple for another certificate (the plain leaf's serial, same
# issuer) carries no answer for this one; Firefox treats it like no answer,
# falls back to fetching, which is off, and connects.
run_case other-cert fullchain-ms.pem staple-plain-good.der accept refuse "firefox laxer"
# Firefox fails any TLS Feature but status_request, whatever is stapled.
run_case features-5-17 fullchain-ms517.pem staple-ms517-good.der \
	"$R MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING" refuse
# Sanity: without Must-Staple, a staple is optional for both.
run_case plain-fresh fullchain-plain.pem staple-plain-good.der accept allow
run_case plain-no-staple fullchain-plain.pem - accept allow
echo "browser-check: $((passed + failed)) cases in $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
