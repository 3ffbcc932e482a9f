/* Certificate files and issuers: a PEM bundle (cert.pem, chain.pem,
 * fullchain.pem), the trust store, and the one issuer whose key really
 * signed a certificate. */
#ifndef SG_BUNDLE_H
#define SG_BUNDLE_H

#include <openssl/x509.h>

#include "result.h"

/* Every certificate of a PEM file, in file order. Errors name the file:
 * unreadable, empty, no certificate in it, a damaged PEM block. */
sg_result sg_bundle_load(const char *path, STACK_OF(X509) **out);

/* cafile, or the system store when cafile is NULL. */
sg_result sg_bundle_trust_store(const char *cafile, X509_STORE **out);

/* The certificate among cands (then in store) that carries the leaf's
 * issuer name AND whose public key verifies the leaf's signature: the
 * server chooses what it sends, so a name alone proves nothing.
 * Returns a new reference, or NULL. */
X509 *sg_issuer_find(X509 *leaf, STACK_OF(X509) *cands, X509_STORE *store);

/* certs[from..to) as PEM text in a memory BIO (free it with BIO_free);
 * NULL when out of memory. */
BIO *sg_pem_text(STACK_OF(X509) *certs, int from, int to);

/* Appends up-referenced copies of every certificate of src to dst. */
int sg_stack_append(STACK_OF(X509) *dst, STACK_OF(X509) *src);

#endif
