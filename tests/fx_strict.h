/* Staples and certificates a strict client (Firefox's mozilla::pkix,
 * GnuTLS) refuses although OpenSSL's OCSP API takes them: unknown critical
 * extensions, MD5, encodings that are not DER, CA or expired delegated
 * responders, extra SingleResponses, TLS Features other than
 * status_request. Kept apart from fixture.c so the standard PKI stays
 * small. Test code only. */
#ifndef SG_FX_STRICT_H
#define SG_FX_STRICT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "fixture.h"

enum fx_where {
	FX_NOWHERE,
	FX_IN_RESPONSE_DATA, /* responseExtensions */
	FX_IN_SINGLE,	     /* the served cert's singleExtensions */
};

enum fx_extra_single {
	FX_EXTRA_NONE,
	FX_EXTRA_OTHER_ISSUER, /* same serial under another CA, revoked */
	FX_EXTRA_UNKNOWN_HASH, /* the served cert, unknown hash OID, revoked */
	FX_EXTRA_MD5_GOOD,     /* the served cert, MD5 CertID, good */
};

enum fx_ber {
	FX_DER,
	FX_BER_OUTER,	      /* non-minimal length of the OCSPResponse */
	FX_BER_RESPONSE_DATA, /* non-minimal length of the signed ResponseData
			       */
};

struct fx_strict_opts {
	enum fx_where critical_ext; /* an unknown critical extension */
	enum fx_where plain_ext;    /* an unknown non-critical extension */
	bool nonce;		    /* a non-critical nonce (RFC 8954) */
	const EVP_MD *sig_md;	    /* NULL: SHA-256 */
	int version;		    /* explicit ResponseData version; -1 none */
	enum fx_extra_single extra;
	bool extra_first; /* the extra SingleResponse comes before the real */
	enum fx_ber ber;
};

/* All defaults: the staple fx_staple would build. */
struct fx_strict_opts fx_strict_none(void);

/* fx_staple with the deviations in s. Caller frees with OPENSSL_free. */
unsigned char *fx_staple_strict(X509 *leaf, X509 *issuer, X509 *signer,
				EVP_PKEY *signer_key,
				const struct fx_staple_opts *o,
				const struct fx_strict_opts *s, size_t *len);

struct fx_strict_pki {
	X509 *responder_ca;	 /* ca -> CA:TRUE, OCSPSigning */
	X509 *responder_expired; /* ca -> responder, expired an hour ago */
	X509 *responder_future;	 /* ca -> responder, valid from tomorrow */
	X509 *responder_rsa;	 /* ca -> responder, RSA key (rsa_key) */
	X509 *leaf_f5_17;	 /* TLS Feature [5, 17] */
	X509 *leaf_expired_ms;	 /* Must-Staple, expired yesterday */
	X509 *leaf_future_ms;	 /* Must-Staple, valid from tomorrow */
	EVP_PKEY *ca_ms_key;
	X509 *ca_ms;		/* root -> intermediate with TLS Feature [5] */
	X509 *leaf_under_ca_ms; /* no TLS Feature, issued by ca_ms */
	X509 *ca_f17;		/* root -> intermediate with TLS Feature [17] */
	X509 *leaf_under_ca_f17;
};

/* Made from p (same keys, same directory); also writes
 * fullchain-f5-17.pem, fullchain-expired-ms.pem, fullchain-future-ms.pem,
 * fullchain-under-ms-ca.pem and fullchain-under-f17-ca.pem to p->dir when
 * p has one. Returns 0 or -1. */
int fx_strict_create(struct fx_strict_pki *s, const struct fx_pki *p);
void fx_strict_free(struct fx_strict_pki *s);

#endif
