/* The OCSP signing certificate's remaining validity, for `monitor
 * --signer-warn/--signer-crit`. When a delegated responder certificate
 * expires, every staple it signed stops verifying at the same moment, on
 * every server, however fresh the staples are. */
#ifndef SG_SIGNER_EXPIRY_H
#define SG_SIGNER_EXPIRY_H

#include <stddef.h>
#include <time.h>

#include "../preflight/staple.h"
#include "monitor.h"

/* OK, WARNING (under warn left) or CRITICAL (under crit left, or
 * expired) for st's signer; appends the reason to why when not OK.
 * OK when no signer was identified. */
enum sg_nagios sg_signer_judge(const struct sg_staple *st, time_t now,
			       long warn, long crit, char *why, size_t size);

#endif
