#include "issuer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "../preflight/bundle.h"
#include "../preflight/clock.h"
#include "../preflight/http.h"
#include "../preflight/sandbox.h"
#include "../preflight/wire.h"

/* <dir>/<name>.crt (or .pem) -> <dir>/<name>.issuer.crt, as lego names
 * them. */
static bool beside_path(const char *cert, char *out, size_t size)
{
	const char *dot = strrchr(cert, '.'), *slash = strrchr(cert, '/');

	if (dot == NULL || (slash && dot < slash))
		return false;
	snprintf(out, size, "%.*s.issuer.crt", (int)(dot - cert), cert);
	return strcmp(out, cert) != 0;
}

/* Takes the candidates' signer of the leaf, if any. */
static bool take_signer(struct sg_material *m, STACK_OF(X509) *cands)
{
	X509 *issuer = sg_issuer_find(sg_material_leaf(m), cands, NULL);

	if (issuer == NULL)
		return false;
	if (!sk_X509_push(m->issuers, issuer)) {
		X509_free(issuer);
		return false;
	}
	return true;
}

static bool from_beside(const struct sg_newcert *nc, struct sg_material *m,
			char *tried, size_t size)
{
	char path[PATH_MAX];
	STACK_OF(X509) *cands = NULL;
	bool ok;

	if (!beside_path(nc->cert_path, path, sizeof(path)) ||
	    access(path, F_OK) != 0)
		return false;
	snprintf(tried + strlen(tried), size - strlen(tried), ", %s", path);
	if (sg_bundle_load(path, &cands).code)
		return false;
	ok = take_signer(m, cands);
	sk_X509_pop_free(cands, X509_free);
	return ok;
}

/* The first caIssuers URI of the leaf's AIA, or NULL (OPENSSL_free). */
static char *ca_issuers_url(X509 *leaf)
{
	AUTHORITY_INFO_ACCESS *aia =
		X509_get_ext_d2i(leaf, NID_info_access, NULL, NULL);
	char *url = NULL;

	for (int i = 0; aia && !url && i < sk_ACCESS_DESCRIPTION_num(aia);
	     i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers &&
		    ad->location->type == GEN_URI)
			url = OPENSSL_strndup(
				(const char *)ASN1_STRING_get0_data(
					ad->location->d
						.uniformResourceIdentifier),
				(size_t)ASN1_STRING_length(
					ad->location->d
						.uniformResourceIdentifier));
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return url;
}

/* CAs publish DER (RFC 5280 4.2.2.1) or, now and then, PEM. */
static STACK_OF(X509) *parse_certs(const unsigned char *der, size_t len)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *bio;

	if (x == NULL && (bio = BIO_new_mem_buf(der, (int)len))) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (certs == NULL || x == NULL || !sk_X509_push(certs, x)) {
		X509_free(x);
		sk_X509_free(certs);
		return NULL;
	}
	return certs;
}

/* The AIA fetch, through the prober (sandbox.h): it fetches, parses and
 * picks the leaf's signer, and answers with what it tried and the
 * signer's DER, re-encoded; the parent checks the signature again. */
struct aia {
	X509 *leaf;
	const char *url;
	long timeout_ms;
	char note[600]; /* "URL (why not)" or "URL" */
	unsigned char *der;
	size_t len;
};

/* Bounded as the OCSP responder is (sg_http): by timeout_ms, a signal,
 * and SG_AIA_MAX_BYTES. */
static sg_result aia_job(void *arg, FILE *out)
{
	struct aia *a = arg;
	struct sg_http h = {.url = a->url,
			    .max_bytes = SG_AIA_MAX_BYTES,
			    .end_ms = sg_now_ms() + a->timeout_ms};
	STACK_OF(X509) *cands = NULL;
	X509 *signer = NULL;
	unsigned char *der = NULL;
	int len = 0;
	bool ok;

	if (!sg_http_fetch(&h))
		snprintf(a->note, sizeof(a->note), "%s (%s)", a->url, h.reason);
	else if (h.status != 200)
		snprintf(a->note, sizeof(a->note), "%s (HTTP status %ld)",
			 a->url, h.status);
	else if ((cands = parse_certs(h.body, h.len)) == NULL)
		snprintf(a->note, sizeof(a->note), "%s (not a certificate)",
			 a->url);
	else
		snprintf(a->note, sizeof(a->note), "%s", a->url);
	if (cands && (signer = sg_issuer_find(a->leaf, cands, NULL)))
		len = i2d_X509(signer, &der);
	ok = sg_sandbox_put(
		out,
		json_pack("{s:s, s:s, s:o*}", "t", "aia", "note", a->note,
			  "der",
			  sg_wire_put_bytes(der, len > 0 ? (size_t)len : 0)));
	OPENSSL_free(der);
	X509_free(signer);
	sk_X509_pop_free(cands, X509_free);
	free(h.body);
	return ok ? sg_ok() : sg_err(SG_ESYS, "writing the answer failed");
}

static sg_result aia_take(void *arg, const char *type, json_t *line)
{
	struct aia *a = arg;
	struct sg_wire w;

	if (strcmp(type, "aia") != 0 || a->note[0])
		return sg_err(SG_EINPUT, "prober: unexpected answer line");
	sg_wire_begin(&w, line, "aia");
	sg_wire_copy(&w, "note", a->note, sizeof(a->note));
	a->der = sg_wire_bytes(&w, "der", SG_AIA_MAX_BYTES, &a->len);
	return sg_wire_end(&w);
}

/* What went wrong is added to tried. */
static bool from_aia(struct sg_material *m, long timeout_ms, char *tried,
		     size_t size)
{
	struct aia a = {.leaf = sg_material_leaf(m),
			.url = NULL,
			.timeout_ms = timeout_ms};
	struct sg_sandbox_call c = {.what = "aia",
				    .job = aia_job,
				    .take = aia_take,
				    .arg = &a,
				    .max_bytes = 4 * SG_AIA_MAX_BYTES,
				    .kill_at_ms = sg_now_ms() + timeout_ms};
	char *url = ca_issuers_url(a.leaf);
	STACK_OF(X509) *cands = NULL;
	sg_result r;
	bool ok = false;

	if (url == NULL)
		return false;
	a.url = url;
	r = sg_sandbox_run(&c);
	if (r.code)
		snprintf(a.note, sizeof(a.note), "%s (%s)", url, r.reason);
	snprintf(tried + strlen(tried), size - strlen(tried), ", %s", a.note);
	if (!r.code && a.der)
		cands = parse_certs(a.der, a.len);
	if (cands)
		ok = take_signer(m, cands);
	sk_X509_pop_free(cands, X509_free);
	free(a.der);
	OPENSSL_free(url);
	return ok;
}

sg_result sg_issuer_complete(const struct sg_newcert *nc, struct sg_material *m,
			     bool fetch_aia, long timeout_ms)
{
	X509 *issuer = sg_material_issuer(m);
	char tried[1024] = "the chain, the CA file";

	if (issuer) {
		/* From the CA file: the store's chain.pem needs it too. */
		X509 *own =
			sg_issuer_find(sg_material_leaf(m), m->issuers, NULL);

		if (own == NULL && !sk_X509_push(m->issuers, issuer))
			X509_free(issuer);
		else if (own)
			X509_free(issuer);
		X509_free(own);
		return sg_ok();
	}
	if (from_beside(nc, m, tried, sizeof(tried)) ||
	    (fetch_aia && from_aia(m, timeout_ms, tried, sizeof(tried))))
		return sg_ok();
	return sg_err(SG_EINPUT,
		      "the issuer of %s was not found (looked in %s; pass "
		      "--chain)",
		      nc->cert_path, tried);
}
