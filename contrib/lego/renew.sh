#!/bin/sh
# lego v4: --renew-hook runs without a shell (split on whitespace) and is
# killed after 2 minutes; staplegate's --deadline (100 s) stays inside.
# lego v5 renamed the flag to --deploy-hook and the variables to
# LEGO_HOOK_*; staplegate reads both.
lego --email ops@shop.example --domains shop.example --http run \
	--renew-hook "staplegate hook -- systemctl reload haproxy"
