#include "responder_health.h"

#include <stdio.h>
#include <string.h>

#include <openssl/ocsp.h>

#include "../preflight/certinfo.h"
#include "../preflight/clock.h"
#include "../preflight/responder.h"

/* The OCSPResponseStatus of an answer, whatever else it holds: the
 * staple rules only say "not successful", the operator needs to tell
 * tryLater (busy) from internalError (broken). */
static int response_status(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp =
		der ? d2i_OCSP_RESPONSE(NULL, &p, (long)len) : NULL;
	int status = resp ? OCSP_response_status(resp) : -1;

	OCSP_RESPONSE_free(resp);
	return status;
}

/* RFC 6960 4.2.1 names; OpenSSL's strings are lower case. */
static const char *status_name(int status)
{
	static const char *const names[] = {
		"successful", "malformedRequest", "internalError", "tryLater",
		"(unused)",   "sigRequired",	  "unauthorized",
	};

	return status >= 0 && status <= 6 ? names[status] : "unknown";
}

static void explain(struct sg_rhealth *h, const struct sg_responder *r)
{
	if (h->http_status != 200 || h->ocsp_status < 0) {
		snprintf(h->reason, sizeof(h->reason), "%s", r->reason);
	} else if (h->ocsp_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(h->reason, sizeof(h->reason),
			 "OCSP responder %s answers %s (%d)", h->url,
			 status_name(h->ocsp_status), h->ocsp_status);
	} else if (!h->staple.valid) {
		snprintf(h->reason, sizeof(h->reason), "%s", r->reason);
	} else if (h->latency_ms > SG_RESPONDER_SLOW_MS) {
		snprintf(h->reason, sizeof(h->reason),
			 "OCSP responder %s answered in %.1fs, over %.1fs",
			 h->url, h->latency_ms / 1000.0,
			 SG_RESPONDER_SLOW_MS / 1000.0);
	}
}

void sg_rhealth_check(X509 *leaf, X509 *issuer, const char *url,
		      long timeout_ms, const struct sg_policy *policy,
		      struct sg_rhealth *out)
{
	struct sg_responder r;
	long long start = sg_now_ms();

	memset(out, 0, sizeof(*out));
	sg_staple_init(&out->staple);
	out->ocsp_status = -1;
	snprintf(out->url, sizeof(out->url), "%s", url);
	sg_responder_check(leaf, issuer, url, timeout_ms, policy, &r);
	out->checked = true;
	out->latency_ms = (long)(sg_now_ms() - start);
	out->http_status = r.http_status;
	out->ocsp_status = response_status(r.der, r.len);
	out->staple = r.staple;
	if (r.staple.valid) {
		out->validity_sec =
			(long)(r.staple.next_update - r.staple.this_update);
		out->beyond_not_after = r.staple.next_update >
					sg_asn1_time(X509_get0_notAfter(leaf));
	}
	explain(out, &r);
	sg_responder_free(&r);
}

bool sg_rhealth_bad(const struct sg_rhealth *h)
{
	return h->checked && h->reason[0] != '\0';
}
