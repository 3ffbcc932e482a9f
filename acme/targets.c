#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct list {
	struct sg_target *v;
	size_t n, cap;
};

/* Adds t with SNI sni unless the same address and SNI is already in. */
static sg_result add_unique(struct list *l, const struct sg_target *t,
			    const char *sni)
{
	sg_result r;

	if (sni == NULL)
		sni = "";
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].spec, t->spec) == 0 &&
		    strcmp(l->v[i].servername, sni) == 0)
			return sg_ok();
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct sg_target *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return sg_err(SG_ENOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	r = sg_target_copy(&l->v[l->n], t, sni);
	if (!r.code)
		l->n++;
	return r;
}

/* The SNI for a name's targets: the entry's servername, else the name,
 * else (a wildcard name) the certificate's first concrete name. */
static const char *sni_for(const struct sg_domain_cfg *d, const char *name,
			   const struct sg_certinfo *cert)
{
	if (d && d->servername)
		return d->servername;
	if (strncmp(name, "*.", 2) != 0)
		return name;
	return sg_certinfo_first_dns(cert);
}

sg_result sg_gate_targets(const struct sg_config *cfg,
			  const struct sg_certinfo *cert,
			  const struct sg_strlist *client_domains,
			  const struct sg_target *extra, size_t nextra,
			  struct sg_target **out, size_t *n,
			  struct sg_strlist *unconfigured)
{
	const struct sg_strlist *names =
		cert->dns_names.n ? &cert->dns_names : client_domains;
	struct list l = {0};
	sg_result r = sg_ok();

	for (size_t i = 0; !r.code && i < nextra; i++)
		r = add_unique(&l, &extra[i], sg_certinfo_first_dns(cert));
	for (size_t i = 0; !r.code && i < names->n; i++) {
		const char *name = names->v[i];
		const struct sg_domain_cfg *d = sg_config_match(cfg, name);

		if (d == NULL && nextra == 0)
			r = sg_strlist_add(unconfigured, name);
		for (size_t j = 0; d && !r.code && j < d->ntargets; j++)
			r = add_unique(&l, &d->targets[j],
				       sni_for(d, name, cert));
	}
	if (r.code) {
		sg_targets_free(l.v, l.n);
		l = (struct list){0};
	}
	*out = l.v;
	*n = l.n;
	return r;
}
