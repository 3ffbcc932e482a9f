/* certbot runs every executable in renewal-hooks/deploy/ AND the
 * lineage's saved renew_hook (an earlier --deploy-hook): with staplegate
 * in both, one renewal passes the gate twice and reloads twice. A
 * deployment made under a certbot process is noted in
 * <state_dir>/deployed/<lineage> with that process's identity; a second
 * hook run under the same certbot process for the same certificate is a
 * no-op. A run by hand, or by a later certbot run, deploys as usual. */
#ifndef SG_REPEAT_H
#define SG_REPEAT_H

#include <stdbool.h>
#include <stddef.h>

#define SG_REPEAT_WINDOW_SEC 600 /* one certbot run, generously */

/* "PID:STARTTIME" of the nearest certbot among our ancestor processes,
 * "" when there is none. */
void sg_repeat_certbot_run(char *out, size_t size);

/* Best effort: a note that cannot be written only means that a second
 * hook run deploys again, as it would without the note. */
void sg_repeat_note(const char *state_dir, const char *lineage,
		    const char *sha256, const char *run);

/* true when sha256 was deployed for lineage by the same certbot run, less
 * than the window ago; *age_sec says how long ago. */
bool sg_repeat_recent(const char *state_dir, const char *lineage,
		      const char *sha256, const char *run, long *age_sec);

#endif
