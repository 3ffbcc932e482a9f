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

void sg_check_opts_init(struct sg_check_opts *o);

/* Fills rep (free it with sg_report_free). SG_EINPUT means nothing was
 * evaluated: an unreadable or malformed file. */
sg_result sg_check_run(struct sg_check_opts *o, struct sg_report *rep);

/* Probes o->targets[0] and judges the certificate it serves. */
sg_result sg_probe_one(struct sg_check_opts *o, struct sg_report *rep);

#endif
