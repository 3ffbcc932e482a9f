/* HAProxy without a reload: HAProxy 2.6 has no ocsp-update, so a fresh
 * staple reaches the running process over its runtime API (the stats
 * socket: one plain-text command per connection on a unix socket),
 * `set ssl ocsp-response <base64>`, and is read back with
 * `show ssl ocsp-response <certid>` to confirm. HAProxy 2.6 updates only
 * a certificate that had an OCSP entry at load (its <crt>.ocsp file). */
#ifndef SG_HAPROXY_H
#define SG_HAPROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "../preflight/certinfo.h"
#include "../preflight/result.h"
#include "../preflight/staple.h"

#define SG_HAPROXY_TIMEOUT_MS 5000L

/* Pushes der into the HAProxy behind socket_path and reads it back. Only
 * a response that verifies now for leaf (signed by issuer's key or its
 * delegate, good, in its window) is ever sent: anything else is refused
 * before the socket is opened. Errors name the socket and HAProxy's
 * answer. */
sg_result sg_haproxy_push(const char *socket_path, const unsigned char *der,
			  size_t len, X509 *leaf, X509 *issuer,
			  const struct sg_policy *policy, long timeout_ms);

/* Whether HAProxy holds exactly this response for leaf now (its
 * producedAt, thisUpdate and nextUpdate as HAProxy prints them). */
sg_result sg_haproxy_holds(const char *socket_path, const unsigned char *der,
			   size_t len, X509 *leaf, X509 *issuer,
			   long timeout_ms, bool *holds);

#endif
