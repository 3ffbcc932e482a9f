/* Post-deploy settle: re-probe until every target serves the NEW
 * certificate with a fresh valid staple in N consecutive handshakes
 * (nginx primes each worker separately), or time runs out. */
#ifndef SG_SETTLE_H
#define SG_SETTLE_H

#include <stdbool.h>

#include "probe.h"

#define SG_SETTLE_FIRST_DELAY_MS 250
#define SG_SETTLE_MAX_DELAY_MS	 4000

struct sg_settle_target {
	int consecutive; /* good handshakes in a row */
	int handshakes;	 /* all handshakes made */
	bool settled;
	bool serving_new; /* last handshake showed the new certificate */
	char reason[SG_REASON_MAX];
};

/* probe: as for check (attempts and confirm are forced to 1 per round). Fills
 * out[0..n). Returns the seconds spent in *elapsed_ms. Only setup
 * failures are errors. */
sg_result sg_settle_run(const struct sg_target *targets, size_t n,
			const struct sg_probe_opts *probe,
			const char *new_sha256, int handshakes, long timeout_ms,
			struct sg_settle_target *out, long *elapsed_ms);

bool sg_settle_all(const struct sg_settle_target *t, size_t n);

#endif
