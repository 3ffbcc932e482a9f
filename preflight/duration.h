/* Durations on the command line and in the config: "30s", "15m", "12h",
 * "2d" or plain seconds. */
#ifndef SG_DURATION_H
#define SG_DURATION_H

#include <time.h>

#include "result.h"

/* Longest duration accepted: ten years, far beyond any certificate
 * lifetime, small enough that adding it to a time_t never overflows. */
#define SG_DURATION_MAX_SEC (10L * 366 * 86400)

sg_result sg_duration_parse(const char *text, long *seconds);

/* "2d 3h", "45m 10s", "0s": the two largest non-zero units. */
void sg_duration_format(long seconds, char *buf, unsigned long size);

/* "2026-11-27T02:00:03Z" (ISO 8601, UTC), as records and reasons show
 * times. */
void sg_time_iso(time_t t, char out[32]);

#endif
