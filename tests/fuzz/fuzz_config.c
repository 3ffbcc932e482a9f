/* libFuzzer: the JSON config parser, including the key locator. */
#include <stdint.h>

#include "../../acme/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_config cfg;

	if (sg_config_parse((const char *)data, size, "fuzz.json", &cfg).code ==
	    SG_OK) {
		sg_config_match(&cfg, "shop.example");
		sg_config_match(&cfg, "a.example.com");
		sg_config_free(&cfg);
	}
	return 0;
}
