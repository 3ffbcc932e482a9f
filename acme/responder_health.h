/* Responder health, for `monitor --responders`: each served
 * certificate's OCSP responder asked now, as a server refreshing its
 * staple would ask it. The servers still staple what they cached while
 * it is down, so a sick responder is a warning with time to act, which
 * monitor's staple thresholds and `drill` count. */
#ifndef SG_RESPONDER_HEALTH_H
#define SG_RESPONDER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "../preflight/probe.h"

#include "../preflight/staple.h"

/* Slower than this is a warning: nginx gives its resolver and responder
 * 30 s in all, HAProxy's ocsp-update and most refresh scripts a few
 * seconds, and a responder this slow is often about to fail. */
#define SG_RESPONDER_SLOW_MS 2000L

struct sg_rhealth {
	bool checked; /* the responder was asked */
	char url[512];
	long latency_ms;	 /* request sent to answer judged */
	long http_status;	 /* 0: no HTTP answer */
	int ocsp_status;	 /* OCSPResponseStatus, -1: no OCSP response */
	struct sg_staple staple; /* the answer judged as a staple */
	long validity_sec;	 /* nextUpdate - thisUpdate, 0: unknown */
	bool beyond_not_after; /* nextUpdate after the certificate's notAfter */
	char reason[SG_REASON_MAX]; /* the problem, "" when healthy */
};

/* Asks url about leaf (issued by issuer) and fills out. Never fails as
 * a call. */
void sg_rhealth_check(X509 *leaf, X509 *issuer, const char *url,
		      long timeout_ms, const struct sg_policy *policy,
		      struct sg_rhealth *out);

/* In the prober, after a probe with leaf and issuer kept: each served
 * certificate's responder, asked once per certificate (the backends of
 * a pool usually serve the same one), one "health" line per target
 * whose responder was asked. Without the issuer no request can be built
 * (the staple is "unverifiable" then anyway). */
sg_result sg_rhealth_job(const struct sg_probe *probes, size_t n,
			 long timeout_ms, const struct sg_policy *policy,
			 FILE *out);

/* In the parent: one such line into health[0..n), checked. */
sg_result sg_rhealth_take(json_t *line, struct sg_rhealth *health, size_t n);

/* true when the responder needs attention: no answer, an HTTP status
 * other than 200, an OCSP status other than successful (tryLater,
 * internalError), an answer that does not verify, or slower than
 * SG_RESPONDER_SLOW_MS. reason says which. A validity window over 10
 * days is monitor's long-lived check, applied to this answer too. */
bool sg_rhealth_bad(const struct sg_rhealth *h);

#endif
