/* libFuzzer: the TLS Feature extension, as raw extension DER and inside
 * whatever certificate DER the input decodes to. */
#include <stdint.h>

#include <openssl/x509.h>

#include "../../preflight/certinfo.h"
#include "../../preflight/tlsfeature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	struct sg_tlsfeature f;
	X509 *x;

	sg_tlsfeature_parse_der(data, size, &f);
	x = d2i_X509(NULL, &p, (long)size);
	if (x) {
		struct sg_certinfo info;

		if (sg_certinfo_read(x, &info).code == SG_OK)
			sg_certinfo_free(&info);
		X509_free(x);
	}
	return 0;
}
