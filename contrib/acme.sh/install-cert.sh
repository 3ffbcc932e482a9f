#!/bin/sh
# acme.sh: install the certificate and let staplegate gate the reload.
# acme.sh (3.1.x, _installcert) first copies its files to the install
# paths, then runs --reloadcmd as "cd $DOMAIN_PATH && eval", exporting
# CERT_PATH, CERT_KEY_PATH, CA_CERT_PATH, CERT_FULLCHAIN_PATH (its own
# copies in ~/.acme.sh/<domain>_ecc/) and Le_Domain (the main domain
# only; staplegate takes the names from the certificate). acme.sh saves
# the reloadcmd and runs it again on every renewal (acme.sh --cron).
acme.sh --install-cert -d shop.example --ecc \
	--key-file /etc/ssl/private/shop.example.key \
	--fullchain-file /etc/ssl/certs/shop.example.fullchain.pem \
	--reloadcmd "staplegate hook -- service nginx force-reload"
