/* The result of one check or probe run: what the engine computes, what
 * the CLI prints, and what the score log records. */
#ifndef SG_REPORT_H
#define SG_REPORT_H

#include <stdbool.h>
#include <time.h>

#include "certinfo.h"
#include "probe.h"
#include "target.h"

struct sg_target_score {
	bool stapled; /* WEBQ-91 */
	int webq96;
	bool ready;	    /* serves a fresh valid staple: rules 1-6 */
	const char *reason; /* sg_text's, one per target: no array of its own */
};

/* check: a new certificate against its targets; probe: one target's
 * served certificate. */
enum sg_report_mode { SG_MODE_CHECK, SG_MODE_PROBE };

/* The record's name for it: "check" or "probe". */
const char *sg_report_mode_name(enum sg_report_mode m);

struct sg_report {
	enum sg_report_mode mode;
	struct sg_certinfo cert; /* the new cert (check only) */
	bool must_staple;
	size_t n;
	const struct sg_target *targets; /* not owned */
	struct sg_probe *probes;
	struct sg_target_score *scores;
	int confirm; /* good handshakes in a row each target needed */
	bool allow;
	char reason[512];
	char hint[256];
	time_t generated_at;
};

/* The certificate judged: the new one for check, the served one for
 * probe. */
const struct sg_certinfo *sg_report_cert(const struct sg_report *rep);

void sg_report_free(struct sg_report *rep);

#endif
