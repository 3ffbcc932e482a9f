/* Stapling history per target, the evidence for the "prove stapling
 * first" gate: monitor appends one fixed-size record per observation to
 * <state_dir>/history/<target>.hist, so rotating the score log loses
 * nothing and the gate reads a few kilobytes per target. */
#ifndef SG_HISTORY_H
#define SG_HISTORY_H

#include <stdbool.h>
#include <time.h>

#include "certinfo.h"
#include "result.h"
#include "target.h"

#define SG_DEFAULT_HISTORY_GAP_SEC 86400L

/* One observation: whether the target served a valid staple. A file
 * that is not a regular one (a FIFO) is refused without blocking; a
 * partial last record (the file was cut) is removed first, and that, or
 * an observation dated after when (a clock was ahead), is added to notes
 * (may be NULL). */
sg_result sg_history_append(const char *state_dir, const struct sg_target *t,
			    time_t when, bool stapled,
			    struct sg_strlist *notes);

/* Ok when every observation of the last window_sec was stapled, the
 * first is at least window_sec old, and no two consecutive ones (nor
 * the last and now) are more than max_gap_sec apart. Otherwise the
 * reason names the first failing observation or gap. Records dated
 * after now (beyond a 5-minute skew) or not at all are skipped: a
 * skipped record can only leave a gap, and a gap refuses. */
sg_result sg_history_check(const char *state_dir, const struct sg_target *t,
			   time_t now, long window_sec, long max_gap_sec);

#endif
