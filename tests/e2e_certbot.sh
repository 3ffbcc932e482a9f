#!/bin/bash
# End to end with a real ACME client and a real ACME CA on loopback:
# Debian's certbot against Debian's pebble, with staplegate as the deploy
# hook, for an issuance and a forced renewal. pebble 2.4 drops the TLS
# Feature extension, so this proves the hook environment and the
# non-Must-Staple path; the Must-Staple gate is covered in test_hook.c.
set -u
BUILD=$(cd "${1:-build}" && pwd)
SG="$BUILD/staplegate"
DIR=$(mktemp -d /tmp/staplegate-e2e.XXXXXX)
PEBBLE_PID=""
cleanup() {
	[ -n "$PEBBLE_PID" ] && kill "$PEBBLE_PID" 2>/dev/null && wait "$PEBBLE_PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
	echo "e2e certbot: FAIL: $*" >&2
	[ -f "$DIR/certbot.log" ] && tail -20 "$DIR/certbot.log" >&2
	exit 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
command -v pebble >/dev/null || fail "pebble is not installed (make deps)"
command -v certbot >/dev/null || fail "certbot is not installed (make deps)"

ACME=$(free_port)
MGMT=$(free_port)
HTTP01=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$DIR/pebble.key" -out "$DIR/pebble.crt" 2>/dev/null || fail "pebble TLS cert"
cat >"$DIR/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$ACME", "managementListenAddress": "127.0.0.1:$MGMT",
 "certificate": "$DIR/pebble.crt", "privateKey": "$DIR/pebble.key",
 "httpPort": $HTTP01, "tlsPort": $(free_port), "ocspResponderURL": "",
 "externalAccountBindingRequired": false}}
JSON
PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
	pebble -config "$DIR/pebble.json" >"$DIR/pebble.log" 2>&1 &
PEBBLE_PID=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$ACME") 2>/dev/null && break
	sleep 0.1
done

cat >"$DIR/deploy.sh" <<SH
#!/bin/sh
echo "\$RENEWED_LINEAGE" >> "$DIR/deployed"
SH
chmod +x "$DIR/deploy.sh"
cat >"$DIR/config.json" <<JSON
{"defaults": {"store": true, "state_dir": "$DIR/state", "record": "$DIR/scores.jsonl"}}
JSON
HOOK="$SG hook --config $DIR/config.json -- $DIR/deploy.sh"
COMMON=(--server "https://127.0.0.1:$ACME/dir" --no-verify-ssl
	--config-dir "$DIR/etc" --work-dir "$DIR/work" --logs-dir "$DIR/logs"
	--non-interactive --agree-tos --register-unsafely-without-email)

certbot certonly "${COMMON[@]}" --standalone --http-01-port "$HTTP01" \
	--http-01-address 127.0.0.1 -d shop.test --deploy-hook "$HOOK" \
	>"$DIR/certbot.log" 2>&1 || fail "certbot certonly"
grep -q "staplegate: deployed shop.test (certbot)" "$DIR/certbot.log" ||
	fail "the hook did not report a deployment"
certbot renew "${COMMON[@]}" --force-renewal --no-random-sleep-on-renew \
	--deploy-hook "$HOOK" >>"$DIR/certbot.log" 2>&1 || fail "certbot renew"

[ "$(wc -l <"$DIR/deployed")" = 2 ] || fail "deploy command ran $(wc -l <"$DIR/deployed") times, not 2"
grep -qx "$DIR/etc/live/shop.test" "$DIR/deployed" || fail "RENEWED_LINEAGE not passed through"
python3 - "$DIR/scores.jsonl" <<'PY' || fail "score log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 4, len(lines)
kinds = [l["kind"] for l in lines]
assert kinds == ["decision", "outcome"] * 2, kinds
for d, o in zip(lines[0::2], lines[1::2]):
    assert d["run_id"] == o["run_id"]
    assert d["client"] == "certbot" and d["lineage"] == "shop.test", d
    assert d["must_staple"] is False and d["decision"] == "allow"
    assert d["domains"] == ["shop.test"], d["domains"]
    assert o["action"] == "deployed" and o["deploy_exit_status"] == 0
assert lines[0]["cert"]["sha256"] != lines[2]["cert"]["sha256"], "renewal gave the same cert"
PY
# The approved store links to certbot's second archive version and keeps
# the first for rollback.
LIVE=$(readlink -f "$DIR/state/live/shop.test/cert.pem")
[ "$LIVE" = "$(readlink -f "$DIR/etc/archive/shop.test/cert2.pem")" ] ||
	fail "store live/ points at $LIVE, not certbot's cert2.pem"
PREV=$(readlink "$DIR/state/store/shop.test/previous") || fail "no previous version kept"
[ "$(readlink -f "$DIR/state/store/shop.test/$PREV/cert.pem")" = \
	"$(readlink -f "$DIR/etc/archive/shop.test/cert1.pem")" ] ||
	fail "the previous version is not certbot's cert1.pem"
"$SG" rollback shop.test --config "$DIR/config.json" >/dev/null || fail "rollback"
[ "$(readlink -f "$DIR/state/live/shop.test/cert.pem")" = \
	"$(readlink -f "$DIR/etc/archive/shop.test/cert1.pem")" ] || fail "rollback did not restore cert1"
echo "e2e certbot: ok (issued and renewed, 2 deployments, 4 records, store at cert2 with cert1 kept and restored)"
