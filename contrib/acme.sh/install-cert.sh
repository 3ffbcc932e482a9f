#!/bin/sh
# acme.sh: install the certificate and let staplegate gate the reload.
# acme.sh runs --reloadcmd with eval in a subshell, after copying the files,
# with CERT_PATH, CA_CERT_PATH, CERT_KEY_PATH and Le_Domain exported.
acme.sh --install-cert -d shop.example --ecc \
	--key-file /etc/ssl/private/shop.example.key \
	--fullchain-file /etc/ssl/certs/shop.example.fullchain.pem \
	--reloadcmd "staplegate hook -- service nginx force-reload"
