/* node_exporter textfile-collector output: one HELP and TYPE line per
 * metric, label values escaped, the file replaced atomically. */
#ifndef SG_PROM_H
#define SG_PROM_H

#include <stdio.h>

#include "result.h"

struct sg_prom;

struct sg_prom *sg_prom_new(void);
/* Starts a metric family (HELP and TYPE gauge). */
void sg_prom_family(struct sg_prom *p, const char *name, const char *help);
/* One sample of the current family; labels may be NULL. */
void sg_prom_sample(struct sg_prom *p, const char *name, const char *target,
		    const char *servername, double value);
sg_result sg_prom_write(struct sg_prom *p, const char *path);
void sg_prom_free(struct sg_prom *p);

#endif
