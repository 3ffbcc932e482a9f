/* Human and JSON output of a report on stdout. */
#ifndef SG_OUTPUT_H
#define SG_OUTPUT_H

#include <stdio.h>

#include "../preflight/report.h"

void sg_output_human(const struct sg_report *rep, FILE *out);
/* Returns 0, or -1 when the JSON could not be built or written. */
int sg_output_json(const struct sg_report *rep, FILE *out);

#endif
