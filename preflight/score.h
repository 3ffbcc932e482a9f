/* WEBQ-96 and WEBQ-91 scoring and the deployment verdict. */
#ifndef SG_SCORE_H
#define SG_SCORE_H

#include <stdbool.h>

/* WEBQ-96: Must-Staple + stapled 100 (pass), Must-Staple alone 60 (the
 * dangerous case: aware clients hard-fail), stapled alone 30 (the safe
 * default), neither 0. "stapled" is WEBQ-91: a valid, unexpired staple. */
int sg_webq96(bool must_staple, bool stapled);

/* Why a certificate without an AIA OCSP URL is not stapled: no server
 * can fetch a response for it, so its 0 (or 60 with Must-Staple) is no
 * stapling fault to fix on the server. */
#define SG_NO_OCSP_URL "no OCSP URL: nothing to staple"

#endif
