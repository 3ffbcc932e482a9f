#include "signer_expiry.h"

#include <stdio.h>
#include <string.h>

#include "../preflight/duration.h"

enum sg_nagios sg_signer_judge(const struct sg_staple *st, time_t now,
			       long warn, long crit, char *why, size_t size)
{
	long left = (long)(st->signer_not_after - now);
	size_t used = strlen(why);
	char when[32], d[32];
	enum sg_nagios state = left < crit   ? SG_NAGIOS_CRITICAL
			       : left < warn ? SG_NAGIOS_WARNING
					     : SG_NAGIOS_OK;

	if (!st->signer_known || state == SG_NAGIOS_OK || used >= size)
		return st->signer_known ? state : SG_NAGIOS_OK;
	sg_time_iso(st->signer_not_after, when);
	sg_duration_format(left > 0 ? left : -left, d, sizeof(d));
	snprintf(why + used, size - used, "%sOCSP signer %s (%s) %s%s%s (%s)%s",
		 used ? "; " : "",
		 st->signer_delegated ? "delegated responder" : "the issuer",
		 st->signer_subject, left > 0 ? "expires in " : "expired ", d,
		 left > 0 ? "" : " ago", when,
		 left > 0 ? ": every staple it signed fails then"
			  : ": no staple it signed verifies");
	return state;
}
