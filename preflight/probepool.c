#include "probepool.h"

#include <stdlib.h>
#include <string.h>

struct pooled_cert {
	unsigned char key[SG_VCACHE_KEY];
	struct sg_certinfo info;
	X509 *leaf; /* one reference for every result that keeps it */
};

struct sg_probe_pool {
	size_t refs;
	struct sg_strset strs;
	/* certificates: few distinct ones per run (one per CA chain and
	 * domain), each allocated on its own so pointers stay valid */
	struct pooled_cert **certs;
	size_t ncerts, capcerts;
};

static const struct sg_certinfo no_cert;

const struct sg_certinfo *sg_pool_no_cert(void)
{
	return &no_cert;
}

struct sg_probe_pool *sg_pool_new(size_t refs)
{
	struct sg_probe_pool *p = calloc(1, sizeof(*p));

	if (p)
		p->refs = refs;
	return p;
}

void sg_pool_release(struct sg_probe_pool *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	sg_strset_free(&p->strs);
	for (size_t i = 0; i < p->ncerts; i++) {
		sg_certinfo_free(&p->certs[i]->info);
		X509_free(p->certs[i]->leaf);
		free(p->certs[i]);
	}
	free(p->certs);
	free(p);
}

const char *sg_pool_str(struct sg_probe_pool *p, const char *s)
{
	const char *kept;

	if (s == NULL || s[0] == '\0')
		return "";
	kept = p ? sg_strset_add(&p->strs, s) : NULL;
	return kept ? kept : "out of memory";
}

static struct pooled_cert *cert_find(struct sg_probe_pool *p,
				     const unsigned char *key)
{
	for (size_t i = 0; p && i < p->ncerts; i++)
		if (memcmp(p->certs[i]->key, key, SG_VCACHE_KEY) == 0)
			return p->certs[i];
	return NULL;
}

const struct sg_certinfo *sg_pool_cert_find(struct sg_probe_pool *p,
					    const unsigned char *key)
{
	struct pooled_cert *c = cert_find(p, key);

	return c ? &c->info : NULL;
}

X509 *sg_pool_cert_leaf(struct sg_probe_pool *p, const unsigned char *key)
{
	struct pooled_cert *c = cert_find(p, key);

	return c ? c->leaf : NULL;
}

/* A new empty record at the end of the pool's list, or NULL. */
static struct pooled_cert *cert_slot(struct sg_probe_pool *p, sg_result *why)
{
	struct pooled_cert *c;

	if (p->ncerts == p->capcerts) {
		size_t cap = p->capcerts ? p->capcerts * 2 : 8;
		struct pooled_cert **v = realloc(p->certs, cap * sizeof(*v));

		if (v == NULL) {
			*why = sg_err(SG_ENOMEM, "out of memory");
			return NULL;
		}
		p->certs = v;
		p->capcerts = cap;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		*why = sg_err(SG_ENOMEM, "out of memory");
	return c;
}

const struct sg_certinfo *sg_pool_cert_add(struct sg_probe_pool *p,
					   const unsigned char *key, X509 *leaf,
					   X509 *issuer, sg_result *why)
{
	struct pooled_cert *c = cert_slot(p, why);

	if (c == NULL)
		return NULL;
	*why = sg_certinfo_read(leaf, &c->info);
	if (why->code) {
		sg_certinfo_free(&c->info);
		free(c);
		return NULL;
	}
	sg_certinfo_read_issuer(issuer, &c->info);
	memcpy(c->key, key, SG_VCACHE_KEY);
	X509_up_ref(leaf);
	c->leaf = leaf;
	p->certs[p->ncerts++] = c;
	return &c->info;
}

const struct sg_certinfo *sg_pool_cert_put(struct sg_probe_pool *p,
					   struct sg_certinfo *info,
					   sg_result *why)
{
	struct pooled_cert *c = cert_slot(p, why);

	if (c == NULL)
		return NULL;
	c->info = *info;
	memset(info, 0, sizeof(*info));
	p->certs[p->ncerts++] = c;
	return &c->info;
}
