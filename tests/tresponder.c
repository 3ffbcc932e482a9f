#include "tresponder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#include "fixture.h"
#include "servers.h"

/* RFC 6960 A.1 GET: the URL path is the URL-encoded base64 request. */
static unsigned char *decode_get(const char *p, size_t *len)
{
	char b64[4096];
	unsigned char *der;
	size_t n = 0;
	int out;

	while (*p && *p != ' ' && n < sizeof(b64) - 1) {
		unsigned int c;

		if (*p == '%' && sscanf(p + 1, "%2x", &c) == 1) {
			b64[n++] = (char)c;
			p += 3;
		} else {
			b64[n++] = *p++;
		}
	}
	b64[n] = '\0';
	der = OPENSSL_malloc(n + 1);
	out = der ? EVP_DecodeBlock(der, (unsigned char *)b64, (int)n) : -1;
	if (out <= 0) {
		OPENSSL_free(der);
		return NULL;
	}
	/* EVP_DecodeBlock counts the '=' padding as zero bytes. */
	while (n > 0 && b64[--n] == '=')
		out--;
	*len = (size_t)out;
	return der;
}

/* Reads an HTTP request; returns the OCSP request (POST body or GET
 * path) or NULL. */
static unsigned char *read_request(struct tresponder *t, int fd, size_t *len)
{
	char buf[16384];
	size_t used = 0;
	char *end = NULL, *cl;

	while (used < sizeof(buf) - 1 && end == NULL) {
		ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);

		if (n <= 0)
			return NULL;
		used += (size_t)n;
		buf[used] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (end == NULL)
		return NULL;
	t->last_was_post = strncmp(buf, "POST ", 5) == 0;
	if (strncmp(buf, "GET /", 5) == 0)
		return decode_get(buf + 5, len);
	if ((cl = strcasestr(buf, "Content-Length:")) == NULL)
		return NULL;
	*len = (size_t)atol(cl + 15);
	if (*len == 0 || *len > 8192)
		return NULL;
	while (used - (size_t)(end + 4 - buf) < *len) {
		ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);

		if (n <= 0)
			return NULL;
		used += (size_t)n;
	}
	return (unsigned char *)OPENSSL_memdup(end + 4, *len);
}

static unsigned char *answer(struct tresponder *t, const unsigned char *req,
			     size_t reqlen, size_t *len)
{
	const unsigned char *p = req;
	OCSP_REQUEST *r = d2i_OCSP_REQUEST(NULL, &p, (long)reqlen);
	OCSP_ONEREQ *one = r ? OCSP_request_onereq_get0(r, 0) : NULL;
	OCSP_CERTID *id = one ? OCSP_onereq_get0_id(one) : NULL;
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *other =
		t->answer_for
			? OCSP_cert_to_id(EVP_sha1(), t->answer_for, t->ca)
			: NULL;
	ASN1_TIME *thisupd = X509_gmtime_adj(NULL, -3600);
	ASN1_TIME *nextupd =
		X509_gmtime_adj(NULL, t->next_off ? t->next_off : 7L * 86400);
	ASN1_TIME *rev = X509_gmtime_adj(NULL, -7200);
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;
	int n;

	if (id) {
		OCSP_basic_add1_status(bs, other ? other : id, t->cert_status,
				       0, rev, thisupd, nextupd);
		if (t->signer)
			OCSP_basic_sign(bs, t->signer, t->signer_key,
					EVP_sha256(), NULL, 0);
		else
			OCSP_basic_sign(bs, t->ca, t->ca_key, EVP_sha256(),
					NULL, OCSP_NOCERTS);
		resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
					    bs);
	} else {
		resp = OCSP_response_create(
			OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, NULL);
	}
	n = i2d_OCSP_RESPONSE(resp, &der);
	*len = n > 0 ? (size_t)n : 0;
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(other);
	OCSP_REQUEST_free(r);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(rev);
	return der;
}

static void reply(int fd, int code, const unsigned char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %d %s\r\nContent-Type: "
			 "application/ocsp-response\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 code, code == 200 ? "OK" : "Error", len);

	(void)!write(fd, head, (size_t)n);
	if (len)
		(void)!write(fd, body, len);
}

static void serve(struct tresponder *t, int fd)
{
	static const unsigned char junk[] = "this is not an OCSP response";
	size_t reqlen = 0, len = 0;
	unsigned char *req = read_request(t, fd, &reqlen), *der;

	t->requests++;
	if (t->delay_ms) {
		struct pollfd p = {fd, 0, 0};

		poll(&p, 0, (int)t->delay_ms);
	}
	if (t->mode == TR_HTTP500) {
		reply(fd, 500, NULL, 0);
	} else if (t->mode == TR_GET_ONLY && t->last_was_post) {
		reply(fd, 405, NULL, 0);
	} else if (t->mode == TR_HUGE) {
		unsigned char *big = OPENSSL_zalloc(1 << 20);

		reply(fd, 200, big, 1 << 20);
		OPENSSL_free(big);
	} else if (t->mode == TR_UNSUCCESSFUL) {
		OCSP_RESPONSE *resp =
			OCSP_response_create(t->resp_status, NULL);

		der = NULL;
		len = (size_t)i2d_OCSP_RESPONSE(resp, &der);
		reply(fd, 200, der, len);
		OPENSSL_free(der);
		OCSP_RESPONSE_free(resp);
	} else if (t->mode == TR_BYTES) {
		reply(fd, 200, t->body, t->body_len);
	} else if (t->mode == TR_GARBAGE || req == NULL) {
		reply(fd, 200, junk, sizeof(junk) - 1);
	} else {
		der = answer(t, req, reqlen, &len);
		reply(fd, 200, der, len);
		OPENSSL_free(der);
	}
	OPENSSL_free(req);
}

static void *run(void *arg)
{
	struct tresponder *t = arg;

	while (!t->stop) {
		struct pollfd p = {t->fd, POLLIN, 0};
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(t->fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(t, fd);
		close(fd);
	}
	return NULL;
}

int tr_start(struct tresponder *t)
{
	t->stop = 0;
	t->fd = t->want_port ? srv_listen_port(t->want_port)
			     : srv_listen_loopback(&t->port);
	if (t->fd < 0)
		return -1;
	if (t->want_port)
		t->port = t->want_port;
	return pthread_create(&t->thread, NULL, run, t) == 0 ? 0 : -1;
}

void tr_stop(struct tresponder *t)
{
	if (t->thread == 0)
		return; /* stopped already (an outage in the test) */
	t->stop = 1;
	pthread_join(t->thread, NULL);
	t->thread = 0;
	close(t->fd);
	t->fd = -1;
}
