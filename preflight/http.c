#include "http.h"
#include "sandbox.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "interrupt.h"
#include "resolve.h"

struct sink {
	struct sg_http *h;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;
	unsigned char *grown;

	if (s->h->len + add > s->h->max_bytes) {
		s->too_big = true;
		return 0; /* makes curl abort the transfer */
	}
	grown = realloc(s->h->body, s->h->len + add);
	if (grown == NULL)
		return 0;
	memcpy(grown + s->h->len, data, add);
	s->h->body = grown;
	s->h->len += add;
	return add;
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

static bool numeric_host(const char *h)
{
	unsigned char a[16];

	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

/* "HOST:PORT:ADDRESS", the address in brackets for IPv6. */
static struct curl_slist *pin_entry(const char *host, const char *port,
				    const struct sg_resolved *got)
{
	char ip[INET6_ADDRSTRLEN] = "", entry[600];
	bool v6 = got->addr.ss_family == AF_INET6;

	if (v6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)&got->addr)->sin6_addr,
			  ip, sizeof(ip));
	else
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)&got->addr)->sin_addr,
			  ip, sizeof(ip));
	snprintf(entry, sizeof(entry), "%s:%s:%s%s%s", host, port,
		 v6 ? "[" : "", ip, v6 ? "]" : "");
	return curl_slist_append(NULL, entry);
}

bool sg_http_pin(const char *url, long long end_ms, struct curl_slist **pin,
		 char why[SG_REASON_MAX])
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	const char *h;
	struct sg_resolved got;
	bool ok = false;

	*pin = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
		snprintf(why, SG_REASON_MAX, "not a valid URL");
		goto out;
	}
	/* curl hands back an IPv6 literal in brackets */
	h = host;
	if (h[0] == '[') {
		h++;
		host[strlen(host) - 1] = '\0';
	}
	if (sg_resolve(&h, 1, end_ms, &got).code || got.addrlen == 0) {
		snprintf(why, SG_REASON_MAX, "%s",
			 got.addrlen == 0 && got.error[0]
				 ? got.error
				 : "cannot start a resolver");
		goto out;
	}
	ok = true;
	if (numeric_host(h))
		goto out;
	*pin = pin_entry(h, port, &got);
	ok = *pin != NULL;
	if (!ok)
		snprintf(why, SG_REASON_MAX, "out of memory");
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

static void set_options(CURL *c, struct sg_http *h, struct sink *s)
{
	/* At least 1 ms: 0 would mean no timeout at all to curl. */
	long timeout_ms = (long)(h->end_ms - sg_now_ms());

	if (timeout_ms < 1)
		timeout_ms = 1;
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	/* OCSP responses are signed and certificates checked against
	 * their subject: plain HTTP is the norm, never let a redirect lead
	 * to another protocol. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (h->pin)
		curl_easy_setopt(c, CURLOPT_RESOLVE, h->pin);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* A redirect to another host is resolved by curl: at the timeout,
	 * do not wait for its resolver thread. */
	curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L);
#endif
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)h->max_bytes);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "staplegate");
	if (h->post) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->post);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)h->post_len);
	}
}

bool sg_http_exchange(struct sg_http *h)
{
	CURL *c;
	struct sink s = {.h = h};
	CURLcode rc;
	sg_result denied;

	h->status = 0;
	h->reason[0] = '\0';
	if (!sg_sandbox_may_touch_network(&denied)) {
		snprintf(h->reason, sizeof(h->reason), "%s", denied.reason);
		return false;
	}
	c = curl_easy_init();
	if (c == NULL) {
		snprintf(h->reason, sizeof(h->reason), "%s",
			 curl_easy_strerror(CURLE_FAILED_INIT));
		return false;
	}
	set_options(c, h, &s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_easy_cleanup(c);
	if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(h->reason, sizeof(h->reason),
			 "response larger than %zu bytes", h->max_bytes);
	else if (rc == CURLE_ABORTED_BY_CALLBACK)
		snprintf(h->reason, sizeof(h->reason),
			 "interrupted by signal %d", sg_interrupted());
	else if (rc != CURLE_OK)
		snprintf(h->reason, sizeof(h->reason), "%s",
			 curl_easy_strerror(rc));
	return rc == CURLE_OK;
}

bool sg_http_fetch(struct sg_http *h)
{
	struct curl_slist *pin = NULL;
	bool ok;

	h->status = 0;
	if (!sg_http_pin(h->url, h->end_ms, &pin, h->reason))
		return false;
	h->pin = pin;
	ok = sg_http_exchange(h);
	h->pin = NULL;
	curl_slist_free_all(pin);
	return ok;
}
