#include "vcache.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct sg_vcache_entry *sg_vcache_find(struct sg_vcache *c,
				       enum sg_vcache_kind kind,
				       const unsigned char *key)
{
	/* Linear: a run sees a handful of distinct chains and staples. */
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].kind == kind &&
		    memcmp(c->v[i].key, key, SG_VCACHE_KEY) == 0) {
			c->hits++;
			return &c->v[i];
		}
	c->misses++;
	return NULL;
}

struct sg_vcache_entry *sg_vcache_add(struct sg_vcache *c,
				      enum sg_vcache_kind kind,
				      const unsigned char *key)
{
	struct sg_vcache_entry *e;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct sg_vcache_entry *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	e = &c->v[c->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	memcpy(e->key, key, SG_VCACHE_KEY);
	return e;
}

void sg_vcache_free(struct sg_vcache *c)
{
	for (size_t i = 0; i < c->n; i++)
		X509_free(c->v[i].issuer);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void sg_vcache_key(const unsigned char *a, size_t alen, const unsigned char *b,
		   size_t blen, unsigned char key[SG_VCACHE_KEY])
{
	unsigned int n;

	EVP_Digest(a, alen, key, &n, EVP_sha256(), NULL);
	EVP_Digest(b, blen, key + 32, &n, EVP_sha256(), NULL);
}
