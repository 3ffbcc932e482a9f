/* Responder readiness: asks the CA's OCSP responder (libcurl, RFC 6960
 * appendix A) about the NEW certificate and verifies the answer with the
 * staple rules. If the CA cannot vouch for it now, no server can staple
 * it. */
#ifndef SG_RESPONDER_H
#define SG_RESPONDER_H

#include <stdbool.h>

#include <openssl/x509.h>

#include "staple.h"

#define SG_OCSP_MAX_RESPONSE_BYTES (64L * 1024)
#define SG_OCSP_GET_MAX_BYTES	   255 /* RFC 6960 A.1: GET for short requests */

struct sg_responder {
	char url[512];
	bool ready; /* a fresh valid response for the new certificate */
	long http_status;
	struct sg_staple staple;
	unsigned char *der; /* the response, when one was received */
	size_t len;
	char reason[SG_REASON_MAX];
};

/* Fetches and verifies. Never fails as a call: the outcome and its
 * reason are in out. Call sg_responder_free after. */
void sg_responder_check(X509 *leaf, X509 *issuer, const char *url,
			long timeout_ms, const struct sg_policy *policy,
			struct sg_responder *out);
void sg_responder_free(struct sg_responder *r);

/* Judges one HTTP reply (status and body) as sg_responder_check does
 * after the transfer: kept apart so it can be fuzzed without a network.
 * Takes ownership of body (malloc'd). */
void sg_responder_judge(long http_status, unsigned char *body, size_t len,
			X509 *leaf, X509 *issuer,
			const struct sg_policy *policy,
			struct sg_responder *out);

#endif
