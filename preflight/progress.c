#include "progress.h"

#include <stdarg.h>
#include <stdio.h>

static sg_progress_fn sink;

void sg_progress_set(sg_progress_fn fn)
{
	sink = fn;
}

void sg_progress(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (sink == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sink(line);
}
