/* `staplegate resume` and `staplegate pending`: the pending deployments
 * left by refusals, re-evaluated with the same gate or listed. */
#ifndef SG_RESUME_H
#define SG_RESUME_H

#include <stdbool.h>

#include <jansson.h>

#include "../preflight/certinfo.h"
#include "../preflight/config.h"
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

/* The entries as a JSON array, each with "age_seconds" and "urgent"
 * (the served certificate expires within 7 days) added and the PEM
 * copies left out. */
sg_result sg_pending_list(const struct sg_config *cfg, json_t **list);

/* Under the lineage's lock: swaps the store back to the previous
 * version (and its pre-staged staple file), then runs the rollback
 * command of the certificate's domain, else the global one; with none,
 * the deploy command again (domain's, else global), so that the server
 * re-reads the previous version. note says what ran, or that nothing
 * could. */
sg_result sg_rollback_run(const struct sg_config *cfg, const char *lineage,
			  char *note, size_t size);

#endif
