/* libFuzzer: target and duration strings, as given on the command line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preflight/duration.h"
#include "../../preflight/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[32];
	struct sg_target t;
	long sec;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	sg_target_parse(s, &t);
	sg_target_free(&t);
	if (sg_duration_parse(s, &sec).code == SG_OK)
		sg_duration_format(sec, buf, sizeof(buf));
	free(s);
	return 0;
}
