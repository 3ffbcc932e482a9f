/* RFC 7633 TLS Feature extension (id-pe-tlsfeature, 1.3.6.1.5.5.7.1.24):
 * "Must-Staple" is the feature status_request (5) in it. */
#ifndef SG_TLSFEATURE_H
#define SG_TLSFEATURE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "result.h"

#define SG_FEATURE_STATUS_REQUEST    5
#define SG_FEATURE_STATUS_REQUEST_V2 17
#define SG_FEATURES_MAX		     16 /* more than any certificate seen carries */

struct sg_tlsfeature {
	bool present;	  /* the extension is in the certificate */
	bool must_staple; /* and it lists status_request */
	size_t n;
	int values[SG_FEATURES_MAX];
};

/* Parses the extension value: DER "SEQUENCE OF INTEGER", each a TLS
 * extension number (0..65535). Anything else, including trailing bytes,
 * is malformed: a lax reader could miss a Must-Staple flag. */
sg_result sg_tlsfeature_parse_der(const unsigned char *der, size_t len,
				  struct sg_tlsfeature *out);

/* The first feature other than status_request, or -1. mozilla::pkix
 * fails every connection to a certificate whose TLS Feature lists any
 * other (it refuses what it cannot enforce), whatever the server sends. */
int sg_tlsfeature_unsupported(const struct sg_tlsfeature *f);

/* Finds and parses the extension in a certificate; absent is not an
 * error. Two copies of it are malformed (RFC 5280 4.2). */
sg_result sg_tlsfeature_read(const X509 *cert, struct sg_tlsfeature *out);

#endif
