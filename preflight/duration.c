#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static long unit_seconds(char unit)
{
	switch (unit) {
	case '\0':
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	default:
		return 0;
	}
}

sg_result sg_duration_parse(const char *text, long *seconds)
{
	char *end;
	long value, unit;

	if (text == NULL || !isdigit((unsigned char)text[0]))
		return sg_err(SG_EINPUT,
			      "invalid duration '%s': expected a number with "
			      "an optional unit s, m, h or d",
			      text ? text : "");
	errno = 0;
	value = strtol(text, &end, 10);
	unit = unit_seconds(*end);
	if (errno != 0 || unit == 0 || (*end != '\0' && end[1] != '\0'))
		return sg_err(SG_EINPUT,
			      "invalid duration '%s': expected a number with "
			      "an optional unit s, m, h or d",
			      text);
	if (value > SG_DURATION_MAX_SEC / unit)
		return sg_err(SG_EINPUT, "duration '%s' is too long", text);
	*seconds = value * unit;
	return sg_ok();
}

void sg_duration_format(long seconds, char *buf, unsigned long size)
{
	static const struct {
		long sec;
		char unit;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	const char *sign = seconds < 0 ? "-" : "";
	unsigned long used = 0;
	int shown = 0;

	if (seconds < 0)
		seconds = -seconds;
	buf[0] = '\0';
	for (unsigned i = 0; i < 4 && shown < 2; i++) {
		long n = seconds / units[i].sec;

		if (n == 0 && !(i == 3 && shown == 0))
			continue;
		seconds -= n * units[i].sec;
		used += snprintf(buf + used, size > used ? size - used : 0,
				 "%s%ld%c", shown ? " " : sign, n,
				 units[i].unit);
		shown++;
		if (used >= size)
			return;
	}
}

void sg_time_iso(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}
