/* Scores each probed target and decides whether a deployment may go
 * ahead. Pure: reads the probes, writes scores and the verdict. */
#ifndef SG_VERDICT_H
#define SG_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "report.h"

/* Refusals that belong to the new certificate itself, whatever the
 * targets serve: a malformed TLS Feature, one Firefox cannot satisfy (its
 * own or its issuer's), a certificate outside its validity, Must-Staple
 * without an OCSP URL. True, with why, when it must not be deployed. */
bool sg_verdict_cert(const struct sg_certinfo *c, time_t now, char *why,
		     size_t size);

/* check: Must-Staple is the new cert's (rep->cert). Allowed only when
 * every target serves a fresh valid staple; any doubt refuses. A cert
 * without Must-Staple is always allowed, only scored. */
void sg_verdict_check(struct sg_report *rep);

/* probe: Must-Staple is the served cert's; "allow" means the served
 * state is safe (WEBQ-96 100 or 30). */
void sg_verdict_probe(struct sg_report *rep);

#endif
