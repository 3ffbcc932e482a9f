/* One exclusive lock per lineage, <state_dir>/locks/<lineage> (flock),
 * held by a hook, resume or rollback from the gate decision to the
 * outcome record: two runs never fill, prune, deploy or roll back one
 * lineage at the same time. The kernel drops the lock when its holder
 * dies, so a run killed with SIGKILL blocks nobody. */
#ifndef SG_LOCK_H
#define SG_LOCK_H

#include <stdbool.h>

#include "../preflight/result.h"

#define SG_LOCK_POLL_MS 50 /* how often a waiting run tries again */

/* Waits for the lineage's lock until deadline (sg_now_ms() time); *fd
 * holds it on success (close it to release). On failure *fd is -1 and
 * *busy says whether another run held it the whole time. */
sg_result sg_lock_lineage(const char *state_dir, const char *lineage,
			  long long deadline, int *fd, bool *busy);

#endif
