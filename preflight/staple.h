/* Strict verification of a stapled OCSP response (RFC 6960) for the
 * certificate a server presented. */
#ifndef SG_STAPLE_H
#define SG_STAPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "result.h"

#define SG_DEFAULT_SKEW_SEC	     (5L * 60)
#define SG_DEFAULT_MIN_REMAINING_SEC (24L * 3600)
/* Firefox (mozilla::pkix, end-entity responses) counts a response as
 * expired 10 days after its thisUpdate, whatever its nextUpdate says: an
 * older one breaks a Must-Staple site there. */
#define SG_FIREFOX_MAX_LIFETIME_SEC (10L * 86400)
#define SG_DEFAULT_MAX_AGE_SEC	    SG_FIREFOX_MAX_LIFETIME_SEC

struct sg_policy {
	long skew_sec;		/* thisUpdate may lie this far ahead */
	long min_remaining_sec; /* headroom before nextUpdate for "fresh" */
	long max_age_sec;	/* oldest acceptable thisUpdate */
};

enum sg_cert_status {
	SG_STATUS_NONE, /* no usable SingleResponse */
	SG_STATUS_GOOD,
	SG_STATUS_REVOKED,
	SG_STATUS_UNKNOWN,
};

struct sg_staple {
	bool present; /* the server sent a response at all */
	bool valid;   /* signed, bound, good, in its validity window */
	bool fresh;   /* valid and at least min_remaining before nextUpdate */
	enum sg_cert_status status;
	time_t this_update, next_update; /* 0 when absent */
	/* nextUpdate - now, or thisUpdate + max-age - now when that comes
	 * first (capped): past it the staple is refused as too old. */
	long seconds_left;
	bool capped;
	time_t revoked_at;
	int revoke_reason; /* OCSP_REVOKED_STATUS_*, -1 none given */
	/* The certificate whose key verified the signature (check 4), set
	 * only then: the issuer itself or a delegated responder. When a
	 * delegated one expires, every staple it signed fails at once. */
	bool signer_known;
	bool signer_delegated;
	const char *signer_subject; /* "" unless signer_known */
	time_t signer_not_after;
	/* Why it is (not) good. Both texts are sg_text's (strset.h): a
	 * verdict is a value, copied and kept per target, and at 10,000
	 * targets two arrays of 256 bytes each came to 5 MB. */
	const char *reason;
};

/* No staple seen: every text "", no revocation reason. */
void sg_staple_init(struct sg_staple *out);

/* Verifies der (may be NULL: no staple) for leaf. issuer is the
 * certificate whose key signed leaf, or NULL when none could be found
 * ("unverifiable"). Never fails: the verdict and reason are in out. */
void sg_staple_verify(const unsigned char *der, size_t len, X509 *leaf,
		      X509 *issuer, const struct sg_policy *policy, time_t now,
		      struct sg_staple *out);

struct sg_vcache;

/* The same, reusing signature verdicts from cache (may be NULL) keyed by
 * (staple bytes, issuer). CertID binding, status and times are always
 * checked against this leaf and this now. */
void sg_staple_verify_cached(const unsigned char *der, size_t len, X509 *leaf,
			     X509 *issuer, const struct sg_policy *policy,
			     time_t now, struct sg_vcache *cache,
			     struct sg_staple *out);

const char *sg_cert_status_name(enum sg_cert_status s);

#endif
