/* One bounded HTTP exchange (libcurl), for the OCSP responder and the
 * AIA caIssuers fetch. Bounded in every step: the URL's host is resolved
 * with sg_resolve by the deadline and pinned (curl's own resolver
 * ignores our timeout and its cleanup waits for a lookup that never
 * ends), the transfer ends at the same deadline, a signal gives it up,
 * the body is capped, and only http/https with at most 3 redirects. */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "result.h"

struct sg_http {
	/* in */
	const char *url;
	const unsigned char *post; /* POST this body; NULL: GET */
	size_t post_len;
	const struct curl_slist *headers; /* sent with a POST only */
	size_t max_bytes;		  /* a larger body fails */
	long long end_ms;		  /* sg_now_ms clock */
	const struct curl_slist *pin;	  /* from sg_http_pin */
	/* out */
	long status;	     /* the HTTP status, 0: none */
	unsigned char *body; /* malloc'd, free it */
	size_t len;
	char reason[SG_REASON_MAX]; /* why it failed, without the URL */
};

/* Resolves url's host by end_ms and returns the CURLOPT_RESOLVE entry
 * "HOST:PORT:ADDRESS" in *pin (NULL for a numeric host, which needs no
 * lookup); free it with curl_slist_free_all. false, with the reason in
 * why, when the name does not resolve in time or the URL is malformed.
 * One pin serves every exchange with that host (POST, then GET). */
bool sg_http_pin(const char *url, long long end_ms, struct curl_slist **pin,
		 char why[SG_REASON_MAX]);

/* Runs the exchange h describes. true when a reply came (any status);
 * false with h->reason otherwise. h->body is set either way. */
bool sg_http_exchange(struct sg_http *h);

/* sg_http_pin and one exchange (GET unless h->post): for one-off
 * fetches. */
bool sg_http_fetch(struct sg_http *h);

#endif
