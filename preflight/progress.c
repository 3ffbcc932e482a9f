#include "progress.h"

#include <stdarg.h>
#include <stdio.h>

static sg_progress_fn sink;

void sg_progress_set(sg_progress_fn fn)
{
	sink = fn;
}

static void emit(bool status, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	sink(line, status);
}

void sg_progress(const char *fmt, ...)
{
	va_list ap;

	if (sink == NULL)
		return;
	va_start(ap, fmt);
	emit(false, fmt, ap);
	va_end(ap);
}

void sg_progress_status(const char *fmt, ...)
{
	va_list ap;

	if (sink == NULL)
		return;
	va_start(ap, fmt);
	emit(true, fmt, ap);
	va_end(ap);
}
