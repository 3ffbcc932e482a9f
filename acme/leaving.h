/* Leaving Must-Staple: a renewal whose new certificate is plain while the
 * lineage's previous one was Must-Staple. The order of the way out
 * matters: a server that stops stapling while it still serves a
 * Must-Staple certificate breaks aware clients (Firefox) at once, so the
 * hook says so and records it, and monitor names every target still
 * serving a Must-Staple certificate. */
#ifndef SG_LEAVING_H
#define SG_LEAVING_H

#include <stdbool.h>

#include "../preflight/report.h"

struct sg_leaving {
	bool leaving;
	bool in_store;	    /* the store's live version is Must-Staple */
	size_t served;	    /* targets serving a Must-Staple certificate */
	char message[1024]; /* what the hook says, "" when not leaving */
};

/* What the hook knows of the previous certificate: the store's live
 * version (state_dir NULL: no store) and what the targets served at the
 * pre-flight (rep NULL: nothing probed). Fills out; never fails: what
 * cannot be read is not evidence. */
void sg_leaving_detect(const char *state_dir, const char *lineage,
		       const struct sg_certinfo *newcert,
		       const struct sg_report *rep, struct sg_leaving *out);

/* Whether the probe saw a Must-Staple certificate served. */
bool sg_leaving_served_ms(const struct sg_probe *p);

#endif
