/* What the report says about a certificate: names, serial, fingerprint,
 * validity, OCSP responders and the TLS Feature extension. */
#ifndef SG_CERTINFO_H
#define SG_CERTINFO_H

#include <stdbool.h>
#include <time.h>

#include <openssl/x509.h>

#include "result.h"
#include "tlsfeature.h"

struct sg_strlist {
	char **v;
	size_t n;
};

struct sg_certinfo {
	char subject[512];
	char serial[130]; /* uppercase hex, as OpenSSL prints it */
	char sha256[65];  /* lowercase hex of the DER */
	struct sg_strlist dns_names;
	struct sg_strlist ocsp_urls;
	time_t not_before, not_after;
	int key_type; /* EVP_PKEY_RSA, EVP_PKEY_EC, ... */
	struct sg_tlsfeature features;
	sg_result feature_error; /* SG_OK unless the extension is malformed */
	/* The issuing CA's TLS Feature, when the issuer is known (check,
	 * hook): Firefox requires the leaf to satisfy it as well. */
	struct sg_tlsfeature issuer_features;
	sg_result issuer_feature_error;
};

/* Fills info; only allocation failures are errors. A malformed TLS
 * Feature extension is recorded in info->feature_error. */
sg_result sg_certinfo_read(X509 *cert, struct sg_certinfo *info);
void sg_certinfo_free(struct sg_certinfo *info);

/* Records issuer's TLS Feature in info (issuer may be NULL: unknown). */
void sg_certinfo_read_issuer(X509 *issuer, struct sg_certinfo *info);

/* Must-Staple by the certificate's own TLS Feature or its issuer's. */
bool sg_certinfo_must_staple(const struct sg_certinfo *info);

/* First DNS name that is not a wildcard, or NULL. */
const char *sg_certinfo_first_dns(const struct sg_certinfo *info);

sg_result sg_strlist_add(struct sg_strlist *l, const char *s);
void sg_strlist_free(struct sg_strlist *l);

/* The certificate's subject, RFC 2253 form ("" when it cannot). */
void sg_cert_subject(X509 *cert, char *buf, size_t size);

/* SHA-256 of the certificate's DER, lowercase hex. */
void sg_cert_sha256(X509 *cert, char out[65]);

/* ASN1 time to time_t; 0 when absent or unparsable. */
time_t sg_asn1_time(const ASN1_TIME *t);

#endif
