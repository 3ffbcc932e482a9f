#!/bin/bash
# dehydrated end to end: Debian's dehydrated against Debian's pebble with
# HOOK= contrib/dehydrated/hook.sh unchanged: "dehydrated --cron" issues
# and (forced) renews, dehydrated calls the hook for every step, the
# deploy_cert call fills the store and reloads a real nginx; every other
# call is a no-op. Then Must-Staple certificates, made here, in
# dehydrated's certs/DOMAIN/ layout, through the hook as dehydrated calls
# it: allowed and settled with a ready responder, refused without one.
E2E_NAME=dehydrated
. "$(dirname "$0")/e2e_lib.sh"
need dehydrated curl
e2e_setup
REAL=$(command -v dehydrated)
D="$DIR/dehydrated"
mkdir -p "$D/wellknown"
install -m 0755 "$ROOT/contrib/dehydrated/hook.sh" "$D/hook.sh"
echo shop.example >"$D/domains.txt"
cat >"$D/config" <<CFG
CA="$PEBBLE_URL"
BASEDIR="$D"
WELLKNOWN="$D/wellknown"
CHALLENGETYPE="http-01"
CURL_OPTS="--cacert $PEBBLE_CA"
HOOK="$D/hook.sh"
KEY_ALGO=prime256v1
CFG
# The test's dehydrated: the real one, reading the config above.
cat >"$DIR/bin/dehydrated" <<SH
#!/bin/sh
exec "$REAL" -f "$D/config" "\$@"
SH
chmod +x "$DIR/bin/dehydrated"
sha_of() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])["cert"]["sha256"])' "$DIR/state/scores.jsonl" "$1"; }

timeout 90 dehydrated --register --accept-terms >"$DIR/register.log" 2>&1 || fail "timeout 90 dehydrated --register"
timeout 90 dehydrated --cron >"$DIR/cron.log" 2>&1 || fail "dehydrated --cron"
[ "$(reloads)" = 1 ] || fail "nginx reloaded $(reloads) times after the first --cron, not once"
[ "$(grep -c 'staplegate: deployed shop.example (dehydrated)' "$DIR/cron.log")" = 1 ] ||
	fail "the summary is not in dehydrated's output exactly once"
[ "$(served_sha256 "$(sha_of 0)")" = "$(sha_of 0)" ] || fail "nginx does not serve the first certificate"
timeout 90 dehydrated --cron --force >"$DIR/renew.log" 2>&1 || fail "dehydrated --cron --force"
[ "$(reloads)" = 2 ] || fail "nginx reloaded $(reloads) times after the renewal, not twice"
[ "$(served_sha256 "$(sha_of 2)")" = "$(sha_of 2)" ] || fail "nginx does not serve the renewed certificate"
check_log 4 '
assert [l["kind"] for l in lines] == ["decision", "outcome"] * 2
for d, o in zip(lines[0::2], lines[1::2]):
    assert d["client"] == "dehydrated" and d["lineage"] == "shop.example", d
    assert d["domains"] == ["shop.example"], d["domains"]
    assert o["action"] == "deployed", o
assert lines[0]["cert"]["sha256"] != lines[2]["cert"]["sha256"]'

# Must-Staple certificates in dehydrated's layout (versioned files, the
# plain names linked to them), each through the deploy_cert call
# dehydrated makes.
C="$D/certs/shop.example"
dehydrated_hook() { # TIMESTAMP LEAF CHAIN KEY LOG: exit status of the hook
	cp "$2" "$C/cert-$1.pem"
	cp "$3" "$C/chain-$1.pem"
	cat "$2" "$3" >"$C/fullchain-$1.pem"
	install -m 0600 "$4" "$C/privkey-$1.pem"
	for f in cert chain fullchain privkey; do ln -sfn "$f-$1.pem" "$C/$f.pem"; done
	timeout 120 "$D/hook.sh" deploy_cert shop.example "$C/privkey.pem" "$C/cert.pem" \
		"$C/fullchain.pem" "$C/chain.pem" "$1" >"$5" 2>&1
}

make_must_staple_ok
dehydrated_hook 1700000000 "$DIR/msok/leaf.pem" "$DIR/msok/chain.pem" "$DIR/msok/key.pem" \
	"$DIR/hook-msok.log" || fail "Must-Staple certificate with a ready responder: $(cat "$DIR/hook-msok.log")"
assert_must_staple_deployed dehydrated "$DIR/hook-msok.log" 3 6

make_must_staple
dehydrated_hook 1700000001 "$DIR/ms/leaf.pem" "$DIR/ms/ca.pem" "$DIR/ms/key.pem" "$DIR/hook-ms.log"
st=$?
[ "$st" = 1 ] || fail "Must-Staple hook exited $st, not 1: $(cat "$DIR/hook-ms.log")"
[ "$(grep -c 'REFUSED shop.example (dehydrated, Must-Staple)' "$DIR/hook-ms.log")" = 1 ] ||
	fail "the refusal is not in the merged output exactly once"
[ "$(reloads)" = 3 ] || fail "nginx was reloaded for a refused certificate"
[ "$(served_sha256)" = "$MSOK" ] || fail "nginx no longer serves the approved certificate"
check_log 8 '
d, o = lines[6:]
assert d["client"] == "dehydrated" and d["must_staple"] is True and d["decision"] == "refuse", d
assert o["action"] == "refused", o'
echo "e2e dehydrated: ok (contrib/dehydrated/hook.sh as HOOK: issue and renew, 2 deployments, 2 nginx reloads, other hook calls no-ops; Must-Staple in dehydrated's layout: allowed and settled with a ready responder, refused without one, no reload)"
