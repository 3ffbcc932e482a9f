/* mkpki DIR [OCSP_URL]: writes the standard test PKI and a set of staples
 * into DIR for shell-driven tests, the demo and the browser oracle; the
 * leaves name OCSP_URL as their responder when given. */
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdio.h>

#include "fixture.h"

static int staple(struct fx_pki *p, const char *name, X509 *leaf,
		  const struct fx_staple_opts *o)
{
	char path[512];
	size_t len;
	unsigned char *der = fx_staple(leaf, p->ca, p->ca, p->ca_key, o, &len);
	int rc = fx_write_bytes(fx_path(p, name, path, sizeof(path)), der, len);

	OPENSSL_free(der);
	return rc;
}

/* A good staple whose signature does not verify: the last byte of the DER
 * is the last byte of the ECDSA signature's s (no certificates are
 * embedded), so flipping it keeps the encoding valid and breaks only the
 * signature. */
static int staple_badsig(struct fx_pki *p, const char *name, X509 *leaf)
{
	char path[512];
	size_t len;
	struct fx_staple_opts good = fx_staple_good();
	unsigned char *der =
		fx_staple(leaf, p->ca, p->ca, p->ca_key, &good, &len);
	int rc;

	der[len - 1] ^= 0x01;
	rc = fx_write_bytes(fx_path(p, name, path, sizeof(path)), der, len);
	OPENSSL_free(der);
	return rc;
}

/* Staple variants for the browser oracle (tests/browser/): unknown, and a
 * thisUpdate two days ahead, beyond any client's clock-skew allowance. */
static int browser_staples(struct fx_pki *p)
{
	struct fx_staple_opts unknown = fx_staple_good(), future = unknown;

	unknown.cert_status = V_OCSP_CERTSTATUS_UNKNOWN;
	future.this_off = 2L * 86400;
	future.next_off = 9L * 86400;
	return staple(p, "staple-ms-unknown.der", p->leaf_ms, &unknown) |
	       staple(p, "staple-ms-future.der", p->leaf_ms, &future) |
	       staple_badsig(p, "staple-ms-badsig.der", p->leaf_ms);
}

/* A leaf whose TLS Feature is [status_request, status_request_v2] (5, 17),
 * naming the Must-Staple leaf's responder, with a good staple: Firefox
 * fails any feature but 5 whatever is stapled. */
static int leaf_5_17(struct fx_pki *p)
{
	static const unsigned char features[] = {0x30, 0x06, 0x02, 0x01,
						 0x05, 0x02, 0x01, 0x11};
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .feature_der = features,
				 .feature_len = sizeof(features)};
	struct fx_staple_opts good = fx_staple_good();
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(p->leaf_ms);
	X509 *leaf;
	char path[512];
	int rc;

	o.ocsp_url = sk_OPENSSL_STRING_value(urls, 0);
	leaf = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
	rc = fx_write_pem(fx_path(p, "fullchain-ms517.pem", path, sizeof(path)),
			  leaf, p->ca, NULL) |
	     staple(p, "staple-ms517-good.der", leaf, &good);
	X509_free(leaf);
	X509_email_free(urls);
	return rc;
}

int main(int argc, char **argv)
{
	struct fx_pki p;
	struct fx_staple_opts good = fx_staple_good(), stale = good,
			      expiring = good, revoked = good;
	int rc;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: mkpki DIR [OCSP_URL]\n");
		return 2;
	}
	if (argc == 3)
		fx_set_ocsp_url(argv[2]);
	if (fx_pki_create(&p, argv[1]) != 0) {
		fprintf(stderr, "mkpki: cannot create %s\n", argv[1]);
		return 1;
	}
	stale.this_off = -3 * 86400;
	stale.next_off = -2 * 86400;
	expiring.next_off = 3 * 3600;
	revoked.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	rc = staple(&p, "staple-ms-good.der", p.leaf_ms, &good) |
	     staple(&p, "staple-ms-stale.der", p.leaf_ms, &stale) |
	     staple(&p, "staple-ms-expiring.der", p.leaf_ms, &expiring) |
	     staple(&p, "staple-ms-revoked.der", p.leaf_ms, &revoked) |
	     staple(&p, "staple-plain-good.der", p.leaf_plain, &good) |
	     browser_staples(&p) | leaf_5_17(&p);
	fx_pki_free(&p);
	return rc ? 1 : 0;
}
