#include "probepool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pooled_cert {
	unsigned char key[SG_VCACHE_KEY];
	struct sg_certinfo info;
	X509 *leaf; /* one reference for every result that keeps it */
};

struct sg_probe_pool {
	size_t refs;
	/* strings: an open-addressing hash set, at most half full */
	char **strs;
	size_t nstrs, capstrs;
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
	for (size_t i = 0; i < p->capstrs; i++)
		free(p->strs[i]);
	for (size_t i = 0; i < p->ncerts; i++) {
		sg_certinfo_free(&p->certs[i]->info);
		X509_free(p->certs[i]->leaf);
		free(p->certs[i]);
	}
	free(p->strs);
	free(p->certs);
	free(p);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of s in a table of cap (a power of two) slots: where it is,
 * or the empty one where it goes. */
static size_t probe_slot(char **tab, size_t cap, const char *s)
{
	size_t i = (size_t)hash(s) & (cap - 1);

	while (tab[i] && strcmp(tab[i], s) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow_strs(struct sg_probe_pool *p)
{
	size_t cap = p->capstrs ? p->capstrs * 2 : 64;
	char **tab = calloc(cap, sizeof(*tab));

	if (tab == NULL)
		return -1;
	for (size_t i = 0; i < p->capstrs; i++)
		if (p->strs[i])
			tab[probe_slot(tab, cap, p->strs[i])] = p->strs[i];
	free(p->strs);
	p->strs = tab;
	p->capstrs = cap;
	return 0;
}

const char *sg_pool_str(struct sg_probe_pool *p, const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return "";
	if (p == NULL)
		return "out of memory";
	if (2 * (p->nstrs + 1) > p->capstrs && grow_strs(p) != 0)
		return "out of memory";
	i = probe_slot(p->strs, p->capstrs, s);
	if (p->strs[i] == NULL) {
		p->strs[i] = strdup(s);
		if (p->strs[i] == NULL)
			return "out of memory";
		p->nstrs++;
	}
	return p->strs[i];
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

const struct sg_certinfo *sg_pool_cert_add(struct sg_probe_pool *p,
					   const unsigned char *key, X509 *leaf,
					   X509 *issuer, sg_result *why)
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
	if (c == NULL) {
		*why = sg_err(SG_ENOMEM, "out of memory");
		return NULL;
	}
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
