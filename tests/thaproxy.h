/* Debian's HAProxy 2.6 as a test server: one TLS frontend on 127.0.0.1
 * and an admin stats socket in a temporary directory, serving a
 * certificate with its staple loaded from <crt>.ocsp at start (2.6 has
 * no ocsp-update). Test code only. */
#ifndef SG_THAPROXY_H
#define SG_THAPROXY_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/x509.h>

struct haproxy {
	pid_t pid;
	int port;
	char dir[600], cfg[700], crt[700], ocsp[700], sock[700], log[700];
};

/* Starts haproxy in dir (created) serving cert (issued by the test CA,
 * key leaf.key) with staple as its .ocsp file. */
void haproxy_start(struct haproxy *h, const char *dir, X509 *cert,
		   const unsigned char *staple, size_t len);
void haproxy_stop(struct haproxy *h);

#endif
