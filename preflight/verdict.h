/* Scores each probed target and decides whether a deployment may go
 * ahead. Pure: reads the probes, writes scores and the verdict. */
#ifndef SG_VERDICT_H
#define SG_VERDICT_H

#include "report.h"

/* check: Must-Staple is the new cert's (rep->cert). Allowed only when
 * every target serves a fresh valid staple; any doubt refuses. A cert
 * without Must-Staple is always allowed, only scored. */
void sg_verdict_check(struct sg_report *rep);

/* probe: Must-Staple is the served cert's; "allow" means the served
 * state is safe (WEBQ-96 100 or 30). */
void sg_verdict_probe(struct sg_report *rep);

#endif
