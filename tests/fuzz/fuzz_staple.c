/* libFuzzer: staple parsing and strict verification. The PKI is built
 * once; every input is verified as a staple for the Must-Staple leaf,
 * with the issuer known and with it unknown. */
#include <stdint.h>
#include <time.h>

#include "../../preflight/staple.h"
#include "../fixture.h"

static struct fx_pki pki;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return fx_pki_create(&pki, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sg_policy policy = {300, 86400, 14 * 86400};
	struct sg_staple st;

	sg_staple_verify(data, size, pki.leaf_ms, pki.ca, &policy, time(NULL),
			 &st);
	sg_staple_verify(data, size, pki.leaf_ms, NULL, &policy, time(NULL),
			 &st);
	return 0;
}
