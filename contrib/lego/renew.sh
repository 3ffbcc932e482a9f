#!/bin/sh
# lego 4.x with staplegate, for cron or a systemd timer (daily). The first
# run obtains the certificate ("run", whose hook flag is --run-hook); later
# runs renew it when due ("renew", whose hook flag is --renew-hook). Both
# run the hook only when a certificate was issued. lego v5 names both
# --deploy-hook and its variables LEGO_HOOK_*; staplegate reads either.
#
# lego splits the hook line on whitespace and runs it without a shell (so
# no "&&", quotes or redirections), captures its output, and kills it after
# 2 minutes; staplegate's --deadline (100 s by default) stays inside that.
# The config (/etc/staplegate/config.json, or STAPLEGATE_CONFIG) names the
# targets to check.
set -e
export LEGO_PATH="${LEGO_PATH:-/etc/lego}"
if [ -e "$LEGO_PATH/certificates/shop.example.crt" ]; then
	exec lego --accept-tos --email ops@shop.example --domains shop.example --http \
		renew --renew-hook "staplegate hook -- systemctl reload nginx"
fi
exec lego --accept-tos --email ops@shop.example --domains shop.example --http \
	run --run-hook "staplegate hook -- systemctl reload nginx"
