/* Test PKI built at test time with the OpenSSL API: CAs, leaves with or
 * without Must-Staple, delegated responders and OCSP responses with
 * exact times. Test code only. */
#ifndef SG_FIXTURE_H
#define SG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct fx_cert_opts {
	const char *cn;
	const char *dns; /* subjectAltName DNS name, NULL: none */
	bool ca;
	bool must_staple;		  /* tlsfeature = status_request */
	const unsigned char *feature_der; /* raw TLS Feature value instead */
	size_t feature_len;
	const char *ocsp_url;		    /* AIA OCSP, NULL: none */
	const char *ca_issuers_url;	    /* AIA caIssuers, NULL: none */
	bool ocsp_signing;		    /* EKU OCSPSigning */
	long serial;			    /* 0: a fresh one */
	long not_before_off, not_after_off; /* seconds from now; 0: -1d, +90d */
};

struct fx_staple_opts {
	int resp_status; /* OCSP_RESPONSE_STATUS_*, 0 successful */
	int cert_status; /* V_OCSP_CERTSTATUS_* */
	long this_off;	 /* thisUpdate - now */
	long next_off;	 /* nextUpdate - now */
	bool no_next;
	bool include_signer;
	X509 *id_issuer;     /* CertID issuer, NULL: the real one */
	const EVP_MD *id_md; /* NULL: SHA-1, as CAs do */
	bool conflicting;    /* add a second, revoked, SingleResponse */
};

EVP_PKEY *fx_key_ec(void);
EVP_PKEY *fx_key_rsa(void);
X509 *fx_issue(const struct fx_cert_opts *o, EVP_PKEY *key, X509 *issuer,
	       EVP_PKEY *issuer_key);

/* DER OCSP response for leaf issued by issuer, signed by signer. Caller
 * frees with OPENSSL_free. */
unsigned char *fx_staple(X509 *leaf, X509 *issuer, X509 *signer,
			 EVP_PKEY *signer_key, const struct fx_staple_opts *o,
			 size_t *len);

/* A good staple valid from 1h ago to 7d ahead, signed by the issuer. */
struct fx_staple_opts fx_staple_good(void);

/* The standard test PKI, also written to dir as PEM/DER files. */
struct fx_pki {
	char dir[256];
	EVP_PKEY *root_key, *ca_key, *leaf_key, *rsa_key, *resp_key, *other_key;
	X509 *root, *ca;      /* root -> ca (the issuer) */
	X509 *leaf_ms;	      /* Must-Staple, EC, shop.example */
	X509 *leaf_plain;     /* no TLS Feature, EC, same key */
	X509 *leaf_rsa_ms;    /* Must-Staple, RSA */
	X509 *leaf_v2;	      /* features {17} only */
	X509 *leaf_noocsp_ms; /* Must-Staple without AIA OCSP */
	X509 *responder;      /* ca -> delegated responder with EKU */
	X509 *responder_noeku;
	X509 *other_ca;	       /* unrelated self-signed CA */
	X509 *other_responder; /* other_ca -> responder with EKU */
	X509 *fake_ca;	       /* self-signed, carries ca's subject name */
};

/* Creates dir (mkdtemp template when dir ends in XXXXXX) and the PKI;
 * with dir_template NULL, the PKI stays in memory. */
int fx_pki_create(struct fx_pki *p, const char *dir_template);
/* The AIA OCSP URL of the leaves fx_pki_create issues from now on. */
void fx_set_ocsp_url(const char *url);
void fx_pki_free(struct fx_pki *p);

int fx_write_pem(const char *path, X509 *a, X509 *b, X509 *c);
int fx_write_key(const char *path, EVP_PKEY *key);
int fx_write_bytes(const char *path, const unsigned char *b, size_t n);
/* dir/name into buf; returns buf. */
char *fx_path(const struct fx_pki *p, const char *name, char *buf, size_t size);

#endif
