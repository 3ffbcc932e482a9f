#include "responder_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>

#include "../preflight/certinfo.h"
#include "../preflight/clock.h"
#include "../preflight/responder.h"
#include "../preflight/sandbox.h"
#include "../preflight/wire.h"

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

static json_t *put_health(size_t i, const struct sg_rhealth *h)
{
	return json_pack("{s:s, s:I, s:s, s:I, s:I, s:i, s:o*, s:I, s:b, s:s}",
			 "t", "health", "i", (json_int_t)i, "url", h->url,
			 "latency_ms", (json_int_t)h->latency_ms, "http_status",
			 (json_int_t)h->http_status, "ocsp_status",
			 h->ocsp_status, "staple",
			 sg_wire_put_staple(&h->staple), "validity_sec",
			 (json_int_t)h->validity_sec, "beyond_not_after",
			 h->beyond_not_after, "reason", h->reason);
}

sg_result sg_rhealth_job(const struct sg_probe *probes, size_t n,
			 long timeout_ms, const struct sg_policy *policy,
			 FILE *out)
{
	struct sg_rhealth *h = calloc(n ? n : 1, sizeof(*h));
	sg_result r = h ? sg_ok() : sg_err(SG_ENOMEM, "out of memory");

	for (size_t i = 0; !r.code && i < n; i++) {
		const struct sg_probe *p = &probes[i];
		size_t j = 0;

		if (!p->handshake_ok || p->leaf == NULL || p->issuer == NULL ||
		    p->served->ocsp_urls.n == 0)
			continue;
		while (j < i &&
		       !(h[j].checked && strcmp(probes[j].served->sha256,
						p->served->sha256) == 0))
			j++;
		if (j < i)
			h[i] = h[j];
		else
			sg_rhealth_check(p->leaf, p->issuer,
					 p->served->ocsp_urls.v[0], timeout_ms,
					 policy, &h[i]);
		if (!sg_sandbox_put(out, put_health(i, &h[i])))
			r = sg_err(SG_ESYS, "writing the answer failed");
	}
	free(h);
	return r;
}

sg_result sg_rhealth_take(json_t *line, struct sg_rhealth *health, size_t n)
{
	struct sg_wire w;
	struct sg_rhealth h = {.checked = true};
	size_t i;

	sg_wire_begin(&w, line, "health");
	i = (size_t)sg_wire_int(&w, "i", 0, (long long)n - 1);
	sg_wire_copy(&w, "url", h.url, sizeof(h.url));
	h.latency_ms = (long)sg_wire_int(&w, "latency_ms", 0, 1LL << 40);
	h.http_status = (long)sg_wire_int(&w, "http_status", 0, 999);
	h.ocsp_status = (int)sg_wire_int(&w, "ocsp_status", -1, 6);
	sg_wire_take_staple(&w, "staple", &h.staple);
	h.validity_sec =
		(long)sg_wire_int(&w, "validity_sec", -(1LL << 40), 1LL << 40);
	h.beyond_not_after = sg_wire_bool(&w, "beyond_not_after");
	sg_wire_copy(&w, "reason", h.reason, sizeof(h.reason));
	if (sg_wire_end(&w).code)
		return w.err;
	if (health[i].checked)
		return sg_err(SG_EINPUT, "prober: health: answered twice");
	health[i] = h;
	return sg_ok();
}
