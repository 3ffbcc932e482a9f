#include "responder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "clock.h"
#include "duration.h"
#include "http.h"
#include "sandbox.h"
#include "wire.h"

static unsigned char *encode_request(X509 *leaf, X509 *issuer, int *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
	unsigned char *der = NULL;

	*len = 0;
	if (req && id && OCSP_request_add0_id(req, id)) {
		id = NULL; /* owned by req now */
		*len = i2d_OCSP_REQUEST(req, &der);
	}
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	return *len > 0 ? der : NULL;
}

/* url + "/" + base64(der) with the characters RFC 6960 A.1 requires to
 * be URL-encoded; NULL when the result would not be short. */
static char *get_url(const char *url, const unsigned char *der, int len)
{
	unsigned char b64[4 * SG_OCSP_GET_MAX_BYTES];
	char *out;
	size_t n = strlen(url), used;
	int blen;

	if (len > SG_OCSP_GET_MAX_BYTES * 3 / 4)
		return NULL;
	blen = EVP_EncodeBlock(b64, der, len);
	out = malloc(n + 2 + 3 * (size_t)blen + 1);
	if (out == NULL)
		return NULL;
	used = (size_t)snprintf(out, n + 2, "%s%s", url,
				n && url[n - 1] == '/' ? "" : "/");
	for (int i = 0; i < blen; i++) {
		if (strchr("+/=", b64[i]))
			used += (size_t)sprintf(out + used, "%%%02X", b64[i]);
		else
			out[used++] = (char)b64[i];
	}
	out[used] = '\0';
	return out;
}

static void fail(struct sg_responder *out, const char *fmt, const char *a)
{
	snprintf(out->reason, sizeof(out->reason), fmt, out->url, a);
}

/* POST first; a short request falls back to GET when POST is refused
 * (some responders and caches only answer GET). Name resolution, the
 * POST and the GET share one timeout (one pin, one end). */
static bool fetch(X509 *leaf, X509 *issuer, long timeout_ms,
		  struct sg_responder *out, struct sg_http *h)
{
	int len;
	unsigned char *der = encode_request(leaf, issuer, &len);
	char *get = NULL;
	struct curl_slist *pin = NULL, *hdr = NULL;
	bool ok;

	h->url = out->url;
	h->max_bytes = SG_OCSP_MAX_RESPONSE_BYTES;
	h->end_ms = sg_now_ms() + timeout_ms;
	if (der == NULL) {
		fail(out, "OCSP responder %s: %s", "cannot build the request");
		return false;
	}
	if (!sg_http_pin(out->url, h->end_ms, &pin, h->reason)) {
		OPENSSL_free(der);
		fail(out, "OCSP responder %s: %s", h->reason);
		return false;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/ocsp-request");
	hdr = curl_slist_append(hdr, "Accept: application/ocsp-response");
	h->headers = hdr;
	h->pin = pin;
	h->post = der;
	h->post_len = (size_t)len;
	ok = sg_http_exchange(h);
	if (ok && h->status != 200 && sg_now_ms() < h->end_ms &&
	    (get = get_url(out->url, der, len)) != NULL) {
		free(h->body);
		h->body = NULL;
		h->len = 0;
		h->url = get;
		h->post = NULL;
		ok = sg_http_exchange(h);
	}
	out->http_status = h->status;
	free(get);
	curl_slist_free_all(hdr);
	curl_slist_free_all(pin);
	OPENSSL_free(der);
	if (!ok)
		fail(out, "OCSP responder %s: %s", h->reason);
	return ok;
}

void sg_responder_judge(long http_status, unsigned char *body, size_t len,
			X509 *leaf, X509 *issuer,
			const struct sg_policy *policy,
			struct sg_responder *out)
{
	char why[64];

	out->http_status = http_status;
	if (http_status != 200) {
		free(body);
		snprintf(why, sizeof(why), "HTTP status %ld", http_status);
		fail(out, "OCSP responder %s: %s", why);
		return;
	}
	if (len > SG_OCSP_MAX_RESPONSE_BYTES) {
		free(body);
		snprintf(why, sizeof(why), "response larger than %ld bytes",
			 SG_OCSP_MAX_RESPONSE_BYTES);
		fail(out, "OCSP responder %s: %s", why);
		return;
	}
	out->der = body;
	out->len = len;
	sg_staple_verify(body, len, leaf, issuer, policy, time(NULL),
			 &out->staple);
	out->ready = out->staple.valid && out->staple.fresh;
	snprintf(out->reason, sizeof(out->reason), "OCSP responder %s: %s",
		 out->url, out->staple.reason);
}

static void check_here(X509 *leaf, X509 *issuer, const char *url,
		       long timeout_ms, const struct sg_policy *policy,
		       struct sg_responder *out)
{
	struct sg_http h = {0};

	memset(out, 0, sizeof(*out));
	sg_staple_init(&out->staple);
	snprintf(out->url, sizeof(out->url), "%s", url);
	if (issuer == NULL) {
		fail(out, "OCSP responder %s: %s",
		     "the new certificate's issuer was not found (pass "
		     "--chain)");
		return;
	}
	if (!fetch(leaf, issuer, timeout_ms, out, &h)) {
		free(h.body);
		return;
	}
	sg_responder_judge(out->http_status, h.body, h.len, leaf, issuer,
			   policy, out);
}

/* Through the prober (sandbox.h): the exchange and the verification
 * there, one "responder" line back. */
struct ask {
	X509 *leaf, *issuer;
	const char *url;
	long timeout_ms;
	const struct sg_policy *policy;
	struct sg_responder *out;
};

static sg_result ask_job(void *arg, FILE *out)
{
	struct ask *a = arg;
	struct sg_responder r;
	bool ok;

	check_here(a->leaf, a->issuer, a->url, a->timeout_ms, a->policy, &r);
	ok = sg_sandbox_put(
		out,
		json_pack("{s:s, s:s, s:b, s:I, s:o*, s:o*, s:s}", "t",
			  "responder", "url", r.url, "ready", r.ready,
			  "http_status", (json_int_t)r.http_status, "staple",
			  sg_wire_put_staple(&r.staple), "der",
			  sg_wire_put_bytes(r.der, r.len), "reason", r.reason));
	sg_responder_free(&r);
	return ok ? sg_ok() : sg_err(SG_ESYS, "writing the answer failed");
}

static sg_result ask_take(void *arg, const char *type, json_t *line)
{
	struct sg_responder *r = ((struct ask *)arg)->out;
	struct sg_wire w;

	if (strcmp(type, "responder") != 0 || r->url[0])
		return sg_err(SG_EINPUT, "prober: unexpected answer line");
	sg_wire_begin(&w, line, "responder");
	sg_wire_copy(&w, "url", r->url, sizeof(r->url));
	r->ready = sg_wire_bool(&w, "ready");
	r->http_status = (long)sg_wire_int(&w, "http_status", 0, 999);
	sg_wire_take_staple(&w, "staple", &r->staple);
	r->der = sg_wire_bytes(&w, "der", SG_OCSP_MAX_RESPONSE_BYTES, &r->len);
	sg_wire_copy(&w, "reason", r->reason, sizeof(r->reason));
	if (!w.err.code && r->ready && !(r->staple.valid && r->staple.fresh))
		w.err = sg_err(SG_EINPUT, "prober: responder: ready without "
					  "a fresh staple");
	return sg_wire_end(&w);
}

void sg_responder_check(X509 *leaf, X509 *issuer, const char *url,
			long timeout_ms, const struct sg_policy *policy,
			struct sg_responder *out)
{
	struct ask a = {leaf, issuer, url, timeout_ms, policy, out};
	struct sg_sandbox_call c = {
		.what = "responder",
		.job = ask_job,
		.take = ask_take,
		.arg = &a,
		.max_bytes = 4 * SG_OCSP_MAX_RESPONSE_BYTES,
		.kill_at_ms = sg_now_ms() + timeout_ms,
	};
	sg_result r;

	memset(out, 0, sizeof(*out));
	r = sg_sandbox_run(&c);
	if (!r.code && out->url[0] == '\0')
		r = sg_err(SG_EINPUT, "prober: no answer");
	if (r.code) {
		/* nothing the prober said counts then */
		sg_responder_free(out);
		memset(out, 0, sizeof(*out));
		snprintf(out->url, sizeof(out->url), "%s", url);
		fail(out, "OCSP responder %s: %s", r.reason);
	}
}

void sg_responder_free(struct sg_responder *r)
{
	free(r->der);
	r->der = NULL;
	r->len = 0;
}
