/* The two engine entry points: check (a new certificate against targets,
 * before deployment) and probe (what one server serves now). */
#ifndef SG_CHECK_H
#define SG_CHECK_H

#include "probe.h"
#include "report.h"
#include "result.h"
#include "target.h"

struct sg_check_opts {
	const char *cert_path;	/* new cert, or a bundle with its issuer */
	const char *chain_path; /* NULL: the rest of cert_path */
	const char *cafile;	/* NULL: the system store */
	const struct sg_target *targets;
	size_t n;
	struct sg_probe_opts probe; /* sg_probe_opts_init, then overrides */
};

/* The new certificate and what verifies it. */
struct sg_material {
	STACK_OF(X509) *bundle;	 /* [0] is the new leaf */
	STACK_OF(X509) *issuers; /* the rest of the bundle, then chain */
	X509_STORE *store;	 /* cafile, or the system store */
};

sg_result sg_material_load(const char *cert, const char *chain,
			   const char *cafile, struct sg_material *m);
X509 *sg_material_leaf(const struct sg_material *m);
/* The new leaf's issuer, found by signature (a new reference), or NULL. */
X509 *sg_material_issuer(const struct sg_material *m);
void sg_material_free(struct sg_material *m);

void sg_check_opts_init(struct sg_check_opts *o);

/* check over already loaded material and any target list (each target
 * may carry its own SNI). */
sg_result sg_check_material(const struct sg_material *m,
			    const struct sg_target *targets, size_t n,
			    struct sg_probe_opts *probe, struct sg_report *rep);

/* Fills rep (free it with sg_report_free). SG_EINPUT means nothing was
 * evaluated: an unreadable or malformed file. */
sg_result sg_check_run(struct sg_check_opts *o, struct sg_report *rep);

/* Probes o->targets[0] and judges the certificate it serves. */
sg_result sg_probe_one(struct sg_check_opts *o, struct sg_report *rep);

#endif
