/* The JSON record of a run (Jansson): printed by --json and appended to
 * the score log. Schema in README.md, "JSON record". */
#ifndef SG_RECORD_H
#define SG_RECORD_H

#include <stdio.h>

#include <jansson.h>

#include "report.h"

#define SG_RECORD_VERSION 1

/* A new reference, or NULL when out of memory. */
json_t *sg_record_build(const struct sg_report *rep);

/* Prints what json_dumpf(sg_record_build(rep), out, JSON_INDENT(2))
 * prints, one target at a time: at 10,000 targets the whole tree cost
 * more memory than the run. 0, or -1 on a write or memory error. */
int sg_record_print(const struct sg_report *rep, FILE *out);

/* An ISO 8601 UTC string, or null for 0 (absent). */
json_t *sg_record_time(time_t t);

/* A staple's "signer" object ({delegated, subject, not_after}), or null
 * when no signature verified. */
json_t *sg_record_signer(const struct sg_staple *st);

/* The "cert" object of a record. */
json_t *sg_record_cert(const struct sg_certinfo *c);

#endif
