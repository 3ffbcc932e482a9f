/* Which servers must be checked for a new certificate: the configured
 * targets of every name it covers, each probed with that name as SNI. */
#ifndef SG_GATE_TARGETS_H
#define SG_GATE_TARGETS_H

#include "../preflight/certinfo.h"
#include "config.h"
#include "../preflight/target.h"

/* names: the certificate's DNS names (client_domains when it has none).
 * extra targets (--target) apply to every name. Names that no config
 * entry covers, when there are no extra targets, are listed in
 * unconfigured. *out is malloc'd (may be NULL when n is 0). */
sg_result sg_gate_targets(const struct sg_config *cfg,
			  const struct sg_certinfo *cert,
			  const struct sg_strlist *client_domains,
			  const struct sg_target *extra, size_t nextra,
			  struct sg_target **out, size_t *n,
			  struct sg_strlist *unconfigured);

#endif
