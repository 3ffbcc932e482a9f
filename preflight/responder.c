#include "responder.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "clock.h"
#include "duration.h"
#include "interrupt.h"
#include "resolve.h"

struct body {
	unsigned char *buf;
	size_t len;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	unsigned char *grown;

	if (b->len + add > SG_OCSP_MAX_RESPONSE_BYTES) {
		b->too_big = true;
		return 0; /* makes curl abort the transfer */
	}
	grown = realloc(b->buf, b->len + add);
	if (grown == NULL)
		return 0;
	memcpy(grown + b->len, data, add);
	b->buf = grown;
	b->len += add;
	return add;
}

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

/* Gives up the transfer once we received SIGTERM/SIGINT/SIGHUP. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return sg_interrupted() != 0;
}

/* One HTTP exchange, ending at end_ms (sg_now_ms clock). POST unless
 * post is false. pin: a CURLOPT_RESOLVE entry for the URL's host, so
 * that curl never resolves it itself (its resolver ignores our timeout
 * and its cleanup waits for a lookup that never ends). */
static CURLcode exchange(const char *url, const unsigned char *der, int len,
			 bool post, long long end_ms,
			 const struct curl_slist *pin, struct body *b,
			 long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = NULL;
	long timeout_ms = (long)(end_ms - sg_now_ms());
	CURLcode rc;

	if (c == NULL)
		return CURLE_FAILED_INIT;
	if (timeout_ms < 1)
		timeout_ms = 1;
	hdr = curl_slist_append(hdr, "Content-Type: application/ocsp-request");
	hdr = curl_slist_append(hdr, "Accept: application/ocsp-response");
	curl_easy_setopt(c, CURLOPT_URL, url);
	/* Responders are plain HTTP by design (the response is signed);
	 * never let a redirect lead anywhere else. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (pin)
		curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* A redirect to another host is resolved by curl: at the timeout,
	 * do not wait for its resolver thread. */
	curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L);
#endif
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)SG_OCSP_MAX_RESPONSE_BYTES);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "staplegate");
	if (post) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, der);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc;
}

static bool numeric_host(const char *h)
{
	unsigned char a[16];

	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

/* Resolves the URL's host with the bounded resolver and returns the
 * CURLOPT_RESOLVE entry "HOST:PORT:ADDRESS" in *pin (NULL for a numeric
 * host, which needs no lookup). false, with out->reason, when the name
 * does not resolve in time or the URL is malformed. */
static bool pin_host(struct sg_responder *out, long long end_ms,
		     struct curl_slist **pin)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, ip[INET6_ADDRSTRLEN] = "", entry[600];
	const char *h;
	struct sg_resolved got;
	bool ok = false;

	*pin = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, out->url, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
		snprintf(out->reason, sizeof(out->reason),
			 "OCSP responder %s: not a valid URL", out->url);
		goto out;
	}
	/* curl hands back an IPv6 literal in brackets */
	h = host;
	if (h[0] == '[') {
		h++;
		host[strlen(host) - 1] = '\0';
	}
	if (sg_resolve(&h, 1, end_ms, &got).code || got.addrlen == 0) {
		snprintf(out->reason, sizeof(out->reason),
			 "OCSP responder %s: %s", out->url,
			 got.addrlen == 0 && got.error[0]
				 ? got.error
				 : "cannot start a resolver");
		goto out;
	}
	ok = true;
	if (numeric_host(h))
		goto out;
	if (got.addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((struct sockaddr_in6 *)&got.addr)->sin6_addr, ip,
			  sizeof(ip));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&got.addr)->sin_addr,
			  ip, sizeof(ip));
	snprintf(entry, sizeof(entry), "%s:%s:%s%s%s", h, port,
		 got.addr.ss_family == AF_INET6 ? "[" : "", ip,
		 got.addr.ss_family == AF_INET6 ? "]" : "");
	*pin = curl_slist_append(NULL, entry);
	ok = *pin != NULL;
	if (!ok)
		snprintf(out->reason, sizeof(out->reason),
			 "OCSP responder %s: out of memory", out->url);
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

static void fail(struct sg_responder *out, const char *fmt, const char *a)
{
	snprintf(out->reason, sizeof(out->reason), fmt, out->url, a);
}

/* POST first; a short request falls back to GET when POST is refused
 * (some responders and caches only answer GET). Name resolution, the
 * POST and the GET share one timeout. */
static bool fetch(X509 *leaf, X509 *issuer, long timeout_ms,
		  struct sg_responder *out, struct body *b)
{
	long long end = sg_now_ms() + timeout_ms;
	int len;
	unsigned char *der = encode_request(leaf, issuer, &len);
	char *get = NULL, why[64];
	struct curl_slist *pin = NULL;
	CURLcode rc;

	if (der == NULL) {
		fail(out, "OCSP responder %s: %s", "cannot build the request");
		return false;
	}
	if (!pin_host(out, end, &pin)) {
		OPENSSL_free(der);
		return false;
	}
	rc = exchange(out->url, der, len, true, end, pin, b, &out->http_status);
	if (rc == CURLE_OK && out->http_status != 200 && sg_now_ms() < end &&
	    (get = get_url(out->url, der, len)) != NULL) {
		free(b->buf);
		*b = (struct body){0};
		rc = exchange(get, der, len, false, end, pin, b,
			      &out->http_status);
	}
	free(get);
	curl_slist_free_all(pin);
	OPENSSL_free(der);
	if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, sizeof(why), "response larger than %ld bytes",
			 SG_OCSP_MAX_RESPONSE_BYTES);
		fail(out, "OCSP responder %s: %s", why);
	} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(why, sizeof(why), "interrupted by signal %d",
			 sg_interrupted());
		fail(out, "OCSP responder %s: %s", why);
	} else if (rc != CURLE_OK) {
		fail(out, "OCSP responder %s: %s", curl_easy_strerror(rc));
	} else {
		return true;
	}
	return false;
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

void sg_responder_check(X509 *leaf, X509 *issuer, const char *url,
			long timeout_ms, const struct sg_policy *policy,
			struct sg_responder *out)
{
	struct body b = {0};

	memset(out, 0, sizeof(*out));
	snprintf(out->url, sizeof(out->url), "%s", url);
	if (issuer == NULL) {
		fail(out, "OCSP responder %s: %s",
		     "the new certificate's issuer was not found (pass "
		     "--chain)");
		return;
	}
	if (!fetch(leaf, issuer, timeout_ms, out, &b)) {
		free(b.buf);
		return;
	}
	sg_responder_judge(out->http_status, b.buf, b.len, leaf, issuer, policy,
			   out);
}

void sg_responder_free(struct sg_responder *r)
{
	free(r->der);
	r->der = NULL;
	r->len = 0;
}
