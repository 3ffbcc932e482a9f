/* WEBQ-96 and WEBQ-91 scoring and the deployment verdict. */
#ifndef SG_SCORE_H
#define SG_SCORE_H

#include <stdbool.h>

/* WEBQ-96: Must-Staple + stapled 100 (pass), Must-Staple alone 60 (the
 * dangerous case: aware clients hard-fail), stapled alone 30 (the safe
 * default), neither 0. "stapled" is WEBQ-91: a valid, unexpired staple. */
int sg_webq96(bool must_staple, bool stapled);

#endif
