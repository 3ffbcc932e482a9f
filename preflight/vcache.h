/* Signature checks are the expensive part of judging a target, and behind
 * one CA most backends send the same chain and the same staple bytes. This
 * cache keeps each check's result for one probe run, keyed by content, so
 * their cost does not grow with the number of backends. */
#ifndef SG_VCACHE_H
#define SG_VCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "result.h"

enum sg_vcache_kind {
	SG_VCACHE_CHAIN,  /* served chain -> issuer and chain validity */
	SG_VCACHE_STAPLE, /* staple bytes + issuer -> signature verdict */
};

#define SG_VCACHE_KEY 64 /* two SHA-256 digests */

struct sg_vcache_entry {
	enum sg_vcache_kind kind;
	unsigned char key[SG_VCACHE_KEY];
	X509 *issuer; /* SG_VCACHE_CHAIN: owned reference, may be NULL */
	bool ok;
	char reason[SG_REASON_MAX];
};

struct sg_vcache {
	struct sg_vcache_entry *v;
	size_t n, cap;
	unsigned long hits, misses;
};

/* The entry for (kind, key), or NULL (counted as a miss). */
struct sg_vcache_entry *sg_vcache_find(struct sg_vcache *c,
				       enum sg_vcache_kind kind,
				       const unsigned char *key);
/* A new zeroed entry for (kind, key), or NULL when out of memory. */
struct sg_vcache_entry *sg_vcache_add(struct sg_vcache *c,
				      enum sg_vcache_kind kind,
				      const unsigned char *key);
void sg_vcache_free(struct sg_vcache *c);

/* key = SHA-256(a) || SHA-256(b) */
void sg_vcache_key(const unsigned char *a, size_t alen, const unsigned char *b,
		   size_t blen, unsigned char key[SG_VCACHE_KEY]);

#endif
