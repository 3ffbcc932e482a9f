/* `staplegate rollback LINEAGE`: the store's previous version back in
 * place, and the server told to re-read it. */
#ifndef SG_ROLLBACK_H
#define SG_ROLLBACK_H

#include <stddef.h>

#include "config.h"
#include "../preflight/result.h"

/* Under the lineage's lock: swaps the store back to the previous
 * version (and its pre-staged staple file), then runs the rollback
 * command of the certificate's domain, else the global one; with none,
 * the deploy command again (domain's, else global), so that the server
 * re-reads the previous version. note says what ran, or that nothing
 * could. */
sg_result sg_rollback_run(const struct sg_config *cfg, const char *lineage,
			  char *note, size_t size);

#endif
