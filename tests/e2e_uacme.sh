#!/bin/bash
# uacme end to end: Debian's uacme against Debian's pebble runs
# contrib/uacme/renew.sh unchanged ("uacme ... issue shop.example &&
# staplegate hook --cert ..."), with uacme's default confdir
# /etc/ssl/uacme and its own uacme.sh answering the challenges. uacme
# trusts only the system CA store and has no option to add one, so the
# test mounts a tmpfs over /etc/ssl in its private mount namespace (root
# only) holding pebble's certificate as the store. Then Must-Staple
# certificates, made here, in uacme's layout, through the same line's
# hook: allowed and settled with a ready responder, refused without one.
E2E_NAME=uacme
. "$(dirname "$0")/e2e_lib.sh"
need uacme
if [ -z "${SG_E2E_NS:-}" ]; then
	echo "e2e uacme: skipped (needs root and a private mount namespace to show uacme pebble's CA)"
	exit 0
fi
e2e_setup
REAL=$(command -v uacme)
cp /etc/ssl/openssl.cnf "$DIR/openssl.cnf"
mount -t tmpfs tmpfs /etc/ssl || fail "tmpfs over /etc/ssl"
mkdir -p /etc/ssl/certs /etc/ssl/uacme
cp "$DIR/openssl.cnf" /etc/ssl/openssl.cnf
cp "$PEBBLE_CA" /etc/ssl/certs/ca-certificates.crt
export UACME_CHALLENGE_PATH="$DIR/www/.well-known/acme-challenge"
mkdir -p "$UACME_CHALLENGE_PATH"
# The test's uacme: the real one, pointed at pebble, terms accepted; a
# renewal whatever the days left (-f) once an account exists.
cat >"$DIR/bin/uacme" <<SH
#!/bin/sh
exec "$REAL" -y -a "$PEBBLE_URL" \${UACME_FORCE:+-f} "\$@"
SH
chmod +x "$DIR/bin/uacme"
sha_of() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])["cert"]["sha256"])' "$DIR/state/scores.jsonl" "$1"; }

timeout 90 uacme new ops@shop.example >"$DIR/new.log" 2>&1 || fail "uacme new"
timeout 90 sh "$ROOT/contrib/uacme/renew.sh" >"$DIR/issue.log" 2>&1 || fail "contrib/uacme/renew.sh (issue)"
[ "$(reloads)" = 1 ] || fail "nginx reloaded $(reloads) times after the issuance, not once"
[ "$(served_sha256 "$(sha_of 0)")" = "$(sha_of 0)" ] || fail "nginx does not serve the first certificate"
timeout 90 sh "$ROOT/contrib/uacme/renew.sh" >"$DIR/current.log" 2>&1
st=$?
[ "$st" = 1 ] || fail "uacme with a current certificate: exit $st, not 1 (not reissued)"
[ "$(reloads)" = 1 ] || fail "the hook ran although uacme issued nothing"
UACME_FORCE=1 timeout 90 sh "$ROOT/contrib/uacme/renew.sh" >"$DIR/renew.log" 2>&1 || fail "contrib/uacme/renew.sh (renew)"
[ "$(reloads)" = 2 ] || fail "nginx reloaded $(reloads) times after the renewal, not twice"
[ "$(served_sha256 "$(sha_of 2)")" = "$(sha_of 2)" ] || fail "nginx does not serve the renewed certificate"
check_log 4 '
for d, o in zip(lines[0::2], lines[1::2]):
    assert d["client"] == "manual" and d["lineage"] == "shop.example", d
    assert d["domains"] == ["shop.example"], d["domains"]
    assert o["action"] == "deployed", o
assert lines[0]["cert"]["sha256"] != lines[2]["cert"]["sha256"]'

# Must-Staple certificates in uacme's layout (cert.pem with its chain,
# the key under private/), each through the hook part of the contrib line.
HOOK=$(sed -n '/exec staplegate hook/,/reload nginx/p' "$ROOT/contrib/uacme/renew.sh" |
	sed 's/^[[:space:]]*exec //; s/\\$//' | tr '\n' ' ')
[ -n "$HOOK" ] || fail "no staplegate line in contrib/uacme/renew.sh"
uacme_hook() { # LEAF CHAIN KEY LOG: exit status of the hook
	cat "$1" "$2" >/etc/ssl/uacme/shop.example/cert.pem
	install -m 0600 "$3" /etc/ssl/uacme/private/shop.example/key.pem
	timeout 120 sh -c "$HOOK" >"$4" 2>&1
}

make_must_staple_ok rsa
uacme_hook "$DIR/msok/leaf.pem" "$DIR/msok/chain.pem" "$DIR/msok/key.pem" "$DIR/hook-msok.log" ||
	fail "Must-Staple certificate with a ready responder: $(cat "$DIR/hook-msok.log")"
assert_must_staple_deployed manual "$DIR/hook-msok.log" 3 6

make_must_staple
uacme_hook "$DIR/ms/leaf.pem" "$DIR/ms/ca.pem" "$DIR/ms/key.pem" "$DIR/hook-ms.log"
st=$?
[ "$st" = 1 ] || fail "Must-Staple hook exited $st, not 1: $(cat "$DIR/hook-ms.log")"
[ "$(grep -c 'REFUSED shop.example (manual, Must-Staple)' "$DIR/hook-ms.log")" = 1 ] ||
	fail "the refusal is not in the merged output exactly once"
[ "$(reloads)" = 3 ] || fail "nginx was reloaded for a refused certificate"
[ "$(served_sha256)" = "$MSOK" ] || fail "nginx no longer serves the approved certificate"
check_log 8 '
d, o = lines[6:]
assert d["must_staple"] is True and d["decision"] == "refuse", d
assert o["action"] == "refused", o'
echo "e2e uacme: ok (contrib/uacme/renew.sh: issue and forced renewal, 2 deployments, 2 nginx reloads, no hook when nothing was issued; Must-Staple in uacme's layout: allowed and settled with a ready responder, refused without one, no reload)"
