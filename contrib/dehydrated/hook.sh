#!/bin/sh
# dehydrated: install as /etc/dehydrated/hook.sh (mode 0755) and set
# HOOK=/etc/dehydrated/hook.sh in /etc/dehydrated/config. dehydrated runs
# its hook with the call's name and arguments; staplegate gates
# "deploy_cert DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE TIMESTAMP"
# and exits 0 for every other call. A refused Must-Staple certificate
# exits 1, which stops dehydrated's run; the new files are then already in
# certs/DOMAIN/, so point the server at staplegate's store (contrib/nginx)
# and let staplegate-resume.timer deploy it once the targets staple.
#
# A hook script of your own (dns-01): call this line from its deploy_cert
# as: staplegate hook deploy_cert "$@" -- systemctl reload nginx
exec staplegate hook "$@" -- systemctl reload nginx
