/* `staplegate resume` and `staplegate pending`: the pending deployments
 * left by refusals, re-evaluated with the same gate or listed. */
#ifndef SG_RESUME_H
#define SG_RESUME_H

#include <stdbool.h>

#include <jansson.h>

#include "../preflight/certinfo.h"
#include "config.h"
#include "../preflight/result.h"

struct sg_resume_item {
	char lineage[256];
	int status;	 /* the gate's exit status for this entry */
	bool deployed;	 /* the gate opened and the deployment went ahead */
	bool superseded; /* a newer certificate replaced the entry */
	char summary[1024];
};

/* Re-evaluates every entry under the config's state_dir. */
sg_result sg_resume_run(const struct sg_config *cfg,
			struct sg_resume_item **items, size_t *n);

/* Refreshes the pre-staged staple files (see prestage.h); one message per
 * file, *failed counts those that needed and did not get a refresh. */
sg_result sg_resume_staples(const struct sg_config *cfg,
			    struct sg_strlist *msgs, int *failed);

#endif
