#include "result.h"

#include <stdarg.h>
#include <stdio.h>

sg_result sg_ok(void)
{
	sg_result r = {.code = SG_OK};
	return r;
}

sg_result sg_err(enum sg_code code, const char *fmt, ...)
{
	sg_result r = {.code = code};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.reason, sizeof(r.reason), fmt, ap);
	va_end(ap);
	return r;
}
