/* Human and JSON output of a report on stdout. */
#ifndef SG_OUTPUT_H
#define SG_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

#include "../preflight/report.h"
#include "../preflight/settle.h"

void sg_output_human(const struct sg_report *rep, FILE *out);
void sg_output_settle(const struct sg_target *targets,
		      const struct sg_settle_target *settle, size_t n,
		      FILE *out);
/* The pending deployments listed by `staplegate pending`. */
void sg_output_pending(json_t *list, FILE *out);
/* Returns 0, or -1 when the JSON could not be built or written. */
int sg_output_json(const struct sg_report *rep, FILE *out);

#endif
