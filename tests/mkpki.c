/* mkpki DIR [OCSP_URL]: writes the standard test PKI and a set of staples
 * into DIR for shell-driven tests and the demo; the leaves name OCSP_URL
 * as their responder when given. */
#include <openssl/ocsp.h>
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
	     staple(&p, "staple-plain-good.der", p.leaf_plain, &good);
	fx_pki_free(&p);
	return rc ? 1 : 0;
}
