#!/bin/sh
# Build and test dependencies from Debian 12's packages: the one list, used
# by make check/demo (no argument) and make browser-check (`browser`). As
# root, installs what is missing (apt-get update first); otherwise says
# what is missing.
PKGS="build-essential pkg-config libssl-dev libcurl4-openssl-dev \
libjansson-dev libseccomp-dev check openssl nginx-light faketime valgrind certbot pebble \
python3 clang haproxy apache2 logrotate prometheus gnutls-bin ca-certificates \
lego dehydrated uacme curl iproute2"
[ "$1" = browser ] && PKGS="$PKGS firefox-esr libnss3-tools python3-websockets"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "staplegate: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	{ echo "staplegate: apt-get install$missing failed" >&2; exit 1; }
