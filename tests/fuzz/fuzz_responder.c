/* libFuzzer: handling of an OCSP responder's HTTP reply. The first two
 * bytes pick the HTTP status, the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preflight/responder.h"
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
	static const long statuses[] = {200, 200, 200, 404, 500, 302};
	struct sg_responder r = {.url = "http://127.0.0.1/"};
	unsigned char *body;
	long status;

	if (size < 1)
		return 0;
	status = statuses[data[0] % 6];
	body = malloc(size);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	sg_responder_judge(status, body, size - 1, pki.leaf_ms, pki.ca, &policy,
			   &r);
	sg_responder_free(&r);
	return 0;
}
