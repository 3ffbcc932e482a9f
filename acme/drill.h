/* `staplegate drill`: rehearse a CA responder outage. (a) The survival
 * window: how long each target keeps a valid staple if the responder
 * went down now (its staple's time left, and no longer than its OCSP
 * signer's certificate lives: past that no staple it signed verifies,
 * and a responder that is down issues none from a new signer). (b) With a
 * watch, keep probing while the operator blocks the responder, and flag any
 * target that stops stapling, or staples an expired response, while a staple it
 * served earlier was still valid. */
#ifndef SG_DRILL_H
#define SG_DRILL_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "../preflight/result.h"
#include "../preflight/target.h"

#define SG_DEFAULT_OUTAGE_SEC	     (48L * 3600)
#define SG_DEFAULT_DRILL_INTERVAL_MS 2000

struct sg_drill_opts {
	long outage_sec;
	long watch_sec; /* 0: survival window only */
	long interval_ms;
};

struct sg_drill_target {
	long survival_sec; /* -1: no valid staple at the start */
	bool survival_ok;
	bool signer_capped; /* the OCSP signer expires before the staple */
	time_t valid_until; /* nextUpdate of the latest valid staple seen */
	int rounds, failures;
	char reason[SG_REASON_MAX]; /* the first failure */
};

struct sg_drill {
	struct sg_target *targets;
	struct sg_drill_target *t;
	size_t n;
	int rounds;
	bool ok;
};

sg_result sg_drill_run(const struct sg_config *cfg,
		       const struct sg_drill_opts *o, struct sg_drill *d);
void sg_drill_free(struct sg_drill *d);

#endif
