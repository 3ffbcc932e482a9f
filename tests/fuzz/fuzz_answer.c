/* libFuzzer: the parent's reading of a prober's answer (preflight/sandbox.c
 * and prober.c), which it must treat as hostile: any bytes, for a run of
 * 1 to 4 targets (the first byte), end in results or a refusal, never a
 * crash or a leak. */
#include <stdint.h>
#include <stdlib.h>

#include "../../preflight/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_probe results[4];
	size_t n;

	if (size < 1)
		return 0;
	n = 1 + data[0] % 4;
	sg_probe_take_answer((const char *)data + 1, size - 1, n, results);
	sg_probe_free(results, n);
	return 0;
}
