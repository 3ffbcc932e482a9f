#!/bin/bash
# lego end to end: Debian's lego against Debian's pebble runs
# contrib/lego/renew.sh unchanged (first "run --run-hook", then "renew
# --renew-hook"), the hook deploys into the store and reloads a real
# nginx, which then serves the new certificate (and staples it, from the
# test responder signing as pebble's intermediate). Then Must-Staple
# certificates, made here, in lego's own layout, through the same hook
# line as lego runs it (split on spaces, no shell, output merged): one
# signed by pebble's intermediate is allowed and settles; one whose
# responder is down is refused, nginx not reloaded, held as pending. And a
# hook line with "&&", through lego itself, must be named for what it is.
E2E_NAME=lego
. "$(dirname "$0")/e2e_lib.sh"
need lego
e2e_setup
REAL_LEGO=$(command -v lego)
export LEGO_CA_CERTIFICATES="$PEBBLE_CA" LEGO_PATH="$DIR/lego"
# The test's lego: the real one, pointed at pebble; renew without its
# random sleep and whatever the days left.
cat >"$DIR/bin/lego" <<SH
#!/bin/bash
args=()
for a in "\$@"; do
	args+=("\$a")
	[ "\$a" = renew ] && args+=(--no-random-sleep --days 100000)
done
exec "$REAL_LEGO" --server "$PEBBLE_URL" --http.port "127.0.0.1:$HTTP01" "\${args[@]}"
SH
chmod +x "$DIR/bin/lego"

timeout 90 sh "$ROOT/contrib/lego/renew.sh" >"$DIR/lego-run.log" 2>&1 || fail "lego run (contrib/lego/renew.sh)"
[ "$(reloads)" = 1 ] || fail "nginx reloaded $(reloads) times after lego run, not once"
[ "$(grep -c 'staplegate: deployed shop.example (lego)' "$DIR/lego-run.log")" = 1 ] ||
	fail "the summary is not in lego's output exactly once"
check_log 2 '
d, o = lines
assert d["client"] == "lego" and d["lineage"] == "shop.example", d
assert d["domains"] == ["shop.example"], d["domains"]
assert d["decision"] == "allow" and d["must_staple"] is False
assert o["action"] == "deployed" and o["deploy_exit_status"] == 0, o'
FIRST=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["cert"]["sha256"])' \
	"$DIR/state/scores.jsonl")
[ "$(served_sha256 "$FIRST")" = "$FIRST" ] || fail "nginx does not serve lego's first certificate"

timeout 90 sh "$ROOT/contrib/lego/renew.sh" >"$DIR/lego-renew.log" 2>&1 || fail "lego renew (contrib/lego/renew.sh)"
[ "$(reloads)" = 2 ] || fail "nginx reloaded $(reloads) times after lego renew, not twice"
check_log 4 '
assert [l["kind"] for l in lines] == ["decision", "outcome"] * 2
assert lines[3]["action"] == "deployed", lines[3]
assert lines[2]["cert"]["sha256"] != lines[0]["cert"]["sha256"], "renew gave the same certificate"
assert lines[2]["targets"][0]["webq96"] == 30, lines[2]["targets"]'
SECOND=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[2])["cert"]["sha256"])' \
	"$DIR/state/scores.jsonl")
[ "$(served_sha256 "$SECOND")" = "$SECOND" ] || fail "nginx does not serve the renewed certificate"

# Must-Staple certificates in lego's layout (the bundle, the issuer
# beside it, the key), each through the contrib hook line as lego runs it:
# split on spaces, no shell, stdout and stderr in one stream.
C="$LEGO_PATH/certificates"
HOOK=$(sed -n 's/.*--renew-hook "\([^"]*\)".*/\1/p' "$ROOT/contrib/lego/renew.sh")
[ -n "$HOOK" ] || fail "no --renew-hook line in contrib/lego/renew.sh"
lego_hook() { # LEAF CHAIN KEY LOG: exit status of the hook
	cat "$1" "$2" >"$C/shop.example.crt"
	cp "$2" "$C/shop.example.issuer.crt"
	install -m 0600 "$3" "$C/shop.example.key"
	# shellcheck disable=SC2086 # split on whitespace, as lego does
	LEGO_ACCOUNT_EMAIL=ops@shop.example LEGO_CERT_DOMAIN=shop.example \
		LEGO_CERT_PATH="$C/shop.example.crt" LEGO_CERT_KEY_PATH="$C/shop.example.key" \
		timeout 120 $HOOK >"$4" 2>&1
}

# One pebble's intermediate signed, its responder up, nginx stapling:
# allowed, deployed, settled on nginx's live-fetched staples.
make_must_staple_ok
lego_hook "$DIR/msok/leaf.pem" "$DIR/msok/chain.pem" "$DIR/msok/key.pem" "$DIR/hook-msok.log" ||
	fail "Must-Staple certificate with a ready responder: $(cat "$DIR/hook-msok.log")"
assert_must_staple_deployed lego "$DIR/hook-msok.log" 3 6 \
	'assert d["responder"]["ready"] is True, d["responder"]'

# One whose responder nobody runs: refused, nginx not reloaded.
make_must_staple
lego_hook "$DIR/ms/leaf.pem" "$DIR/ms/ca.pem" "$DIR/ms/key.pem" "$DIR/hook-ms.log"
st=$?
[ "$st" = 1 ] || fail "Must-Staple hook exited $st, not 1: $(cat "$DIR/hook-ms.log")"
[ "$(grep -c 'REFUSED shop.example (lego, Must-Staple)' "$DIR/hook-ms.log")" = 1 ] ||
	fail "the refusal is not in the merged output exactly once: $(cat "$DIR/hook-ms.log")"
[ "$(reloads)" = 3 ] || fail "nginx was reloaded for a refused certificate"
[ "$(served_sha256)" = "$MSOK" ] || fail "nginx no longer serves the approved certificate"
[ -f "$DIR/state/pending/shop.example.json" ] || fail "no pending deployment kept"
check_log 8 '
d, o = lines[6:]
assert d["client"] == "lego" and d["must_staple"] is True and d["decision"] == "refuse", d
assert o["action"] == "refused" and o["deploy_exit_status"] is None, o'

# "&&" in a lego hook line reaches staplegate as a word.
rm -f "$DIR/state/pending/shop.example.json"
timeout 90 lego --accept-tos --email ops@shop.example --domains shop.example --http \
	renew --renew-hook "staplegate hook && systemctl reload nginx" >"$DIR/lego-and.log" 2>&1
grep -q "'&&' is a shell operator, but lego runs its hook without a shell" "$DIR/lego-and.log" ||
	fail "a hook line with && was not named as such"
[ "$(reloads)" = 3 ] || fail "nginx was reloaded by a hook line that could not run"
echo "e2e lego: ok (run and renew through contrib/lego/renew.sh: 2 deployments, 2 nginx reloads, 4 records, nginx stapling pebble's certificates; Must-Staple in lego's layout: allowed and settled with a ready responder, refused without one (1 summary line, no reload); && named)"
