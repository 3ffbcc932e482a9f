#!/bin/sh
# uacme has no deploy hook: it exits 0 when it issued a certificate, 1 when
# the current one is not due for renewal, 2 on failure; "&&" runs the gate
# only after an issuance. Run daily from cron or a systemd timer. The -h
# program answers the challenges (uacme's own uacme.sh for http-01).
# staplegate reads the files uacme wrote: the certificate with its chain,
# and the key path (linked or copied into the store, never read).
uacme -h /usr/share/uacme/uacme.sh issue shop.example &&
	exec staplegate hook --cert /etc/ssl/uacme/shop.example/cert.pem \
		--key /etc/ssl/uacme/private/shop.example/key.pem -- systemctl reload nginx
