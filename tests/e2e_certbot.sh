#!/bin/bash
# certbot end to end: Debian's certbot against Debian's pebble with
# contrib/certbot/cli.ini unchanged in certbot's own config search path
# ($XDG_CONFIG_HOME/letsencrypt/cli.ini), so its deploy-hook line runs on
# the first certonly and on renew: the hook fills the approved store and
# reloads a real nginx, which then serves the new certificate. Then the
# drop-in (contrib/certbot/deploy-hook-staplegate) added beside that line:
# certbot runs both, the second run is a no-op that says why. Then
# Must-Staple certificates, made here, in certbot's archive/live layout,
# through the same hook line as certbot runs it: one signed by pebble's
# intermediate is allowed and settles on nginx's staples, one whose
# responder is down is refused, no reload. And contrib/nginx's staple-file
# snippet under nginx -t.
E2E_NAME=certbot
. "$(dirname "$0")/e2e_lib.sh"
need certbot
e2e_setup
mkdir -p "$DIR/xdg/letsencrypt"
cp "$ROOT/contrib/certbot/cli.ini" "$DIR/xdg/letsencrypt/cli.ini"
export XDG_CONFIG_HOME="$DIR/xdg"
COMMON=(--server "$PEBBLE_URL" --no-verify-ssl
	--config-dir "$DIR/etc" --work-dir "$DIR/work" --logs-dir "$DIR/logs"
	--non-interactive --agree-tos --register-unsafely-without-email)
sha_of() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])["cert"]["sha256"])' "$DIR/state/scores.jsonl" "$1"; }
renew() {
	timeout 90 certbot renew "${COMMON[@]}" --force-renewal --no-random-sleep-on-renew \
		>"$DIR/$1.log" 2>&1 || fail "certbot renew ($1)"
}

timeout 90 certbot certonly "${COMMON[@]}" --standalone --http-01-port "$HTTP01" \
	--http-01-address 127.0.0.1 -d shop.example >"$DIR/certonly.log" 2>&1 || fail "certbot certonly"
[ "$(reloads)" = 1 ] || fail "nginx reloaded $(reloads) times after certonly, not once"
[ "$(grep -c 'staplegate: deployed shop.example (certbot)' "$DIR/certonly.log")" = 1 ] ||
	fail "the summary is not in certbot's output exactly once"
[ "$(served_sha256 "$(sha_of 0)")" = "$(sha_of 0)" ] || fail "nginx does not serve the first certificate"
renew renew
[ "$(reloads)" = 2 ] || fail "nginx reloaded $(reloads) times after renew, not twice"
[ "$(served_sha256 "$(sha_of 2)")" = "$(sha_of 2)" ] || fail "nginx does not serve the renewed certificate"
check_log 4 '
assert [l["kind"] for l in lines] == ["decision", "outcome"] * 2
for d, o in zip(lines[0::2], lines[1::2]):
    assert d["run_id"] == o["run_id"]
    assert d["client"] == "certbot" and d["lineage"] == "shop.example", d
    assert d["must_staple"] is False and d["decision"] == "allow"
    assert d["domains"] == ["shop.example"], d["domains"]
    assert o["action"] == "deployed" and o["deploy_exit_status"] == 0
assert lines[0]["cert"]["sha256"] != lines[2]["cert"]["sha256"], "renewal gave the same cert"'
# The approved store links to certbot's second archive version and keeps
# the first for rollback.
LIVE=$(readlink -f "$DIR/state/live/shop.example/cert.pem")
[ "$LIVE" = "$(readlink -f "$DIR/etc/archive/shop.example/cert2.pem")" ] ||
	fail "store live/ points at $LIVE, not certbot's cert2.pem"
PREV=$(readlink "$DIR/state/store/shop.example/previous") || fail "no previous version kept"
[ "$(readlink -f "$DIR/state/store/shop.example/$PREV/cert.pem")" = \
	"$(readlink -f "$DIR/etc/archive/shop.example/cert1.pem")" ] ||
	fail "the previous version is not certbot's cert1.pem"
staplegate rollback shop.example >/dev/null || fail "rollback"
[ "$(readlink -f "$DIR/state/live/shop.example/cert.pem")" = \
	"$(readlink -f "$DIR/etc/archive/shop.example/cert1.pem")" ] || fail "rollback did not restore cert1"

# The drop-in as well: certbot runs it and the cli.ini line, one reload.
python3 - "$DIR/config.json" <<'PY' || fail "config"
import json, sys
c = json.load(open(sys.argv[1]))
c["defaults"]["deploy_command"] = ["systemctl", "reload", "nginx"]
json.dump(c, open(sys.argv[1], "w"))
PY
mkdir -p "$DIR/etc/renewal-hooks/deploy"
install -m 0755 "$ROOT/contrib/certbot/deploy-hook-staplegate" "$DIR/etc/renewal-hooks/deploy/"
renew twice
[ "$(grep -c 'staplegate: deployed shop.example (certbot)' "$DIR/twice.log")" = 1 ] ||
	fail "the drop-in and the deploy-hook line did not deploy exactly once"
grep -q 'staplegate: already deployed shop.example (certbot): this certificate' "$DIR/twice.log" ||
	fail "the second hook run did not say why it did nothing"
[ "$(reloads)" = 3 ] || fail "nginx reloaded $(reloads) times, not 3: one renewal, two reloads"
check_log 6 'assert lines[5]["action"] == "deployed", lines[5]'
THIRD=$(sha_of 4)
[ "$(served_sha256 "$THIRD")" = "$THIRD" ] || fail "nginx does not serve the third certificate"

# Must-Staple certificates as certbot lays out a renewal (archive/
# version N, live/ links moved), each through the cli.ini hook line run by
# a shell with certbot's variables, stdout and stderr apart as certbot
# keeps them.
A="$DIR/etc/archive/shop.example"
LINE=$(sed -n 's/^deploy-hook = //p' "$ROOT/contrib/certbot/cli.ini")
[ -n "$LINE" ] || fail "no deploy-hook line in contrib/certbot/cli.ini"
certbot_hook() { # N LEAF CHAIN KEY OUT: exit status of the hook
	cp "$2" "$A/cert$1.pem"
	cp "$3" "$A/chain$1.pem"
	cat "$2" "$3" >"$A/fullchain$1.pem"
	install -m 0600 "$4" "$A/privkey$1.pem"
	for f in cert chain fullchain privkey; do
		ln -sfn "../../archive/shop.example/$f$1.pem" "$DIR/etc/live/shop.example/$f.pem"
	done
	RENEWED_LINEAGE="$DIR/etc/live/shop.example" RENEWED_DOMAINS=shop.example \
		timeout 120 sh -c "$LINE" >"$5.out" 2>"$5.err"
}

# Signed by pebble's intermediate, its responder up, nginx stapling:
# allowed, deployed, settled.
make_must_staple_ok
certbot_hook 4 "$DIR/msok/leaf.pem" "$DIR/msok/chain.pem" "$DIR/msok/key.pem" "$DIR/hook-msok" ||
	fail "Must-Staple certificate with a ready responder: $(cat "$DIR/hook-msok.err")"
assert_must_staple_deployed certbot "$DIR/hook-msok.out" 4 8
check_staple_file_snippet

# Its responder down: refused, no reload.
make_must_staple
certbot_hook 5 "$DIR/ms/leaf.pem" "$DIR/ms/ca.pem" "$DIR/ms/key.pem" "$DIR/hook-ms"
st=$?
[ "$st" = 1 ] || fail "Must-Staple hook exited $st, not 1: $(cat "$DIR/hook-ms.err")"
grep -q 'REFUSED shop.example (certbot, Must-Staple)' "$DIR/hook-ms.err" ||
	fail "the refusal is not on stderr, where certbot shows it as a warning"
[ "$(reloads)" = 4 ] || fail "nginx was reloaded for a refused certificate"
[ "$(served_sha256)" = "$MSOK" ] || fail "nginx no longer serves the approved certificate"
[ -f "$DIR/state/pending/shop.example.json" ] || fail "no pending deployment kept"
check_log 10 '
d, o = lines[8:]
assert d["must_staple"] is True and d["decision"] == "refuse", d
assert o["action"] == "refused" and o["deploy_exit_status"] is None, o'
echo "e2e certbot: ok (cli.ini line on certonly and renew: 2 deployments, 2 nginx reloads, store and rollback; drop-in beside it: 1 deployment, the second run a no-op; Must-Staple in certbot's layout: allowed and settled with a ready responder, refused without one, no reload; staple-file snippet fails nginx -t until the hook pre-staged its file, then passes)"
