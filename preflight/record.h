/* The JSON record of a run (Jansson): printed by --json and appended to
 * the score log. Schema in README.md, "JSON record". */
#ifndef SG_RECORD_H
#define SG_RECORD_H

#include <jansson.h>

#include "report.h"

#define SG_RECORD_VERSION 1

/* A new reference, or NULL when out of memory. */
json_t *sg_record_build(const struct sg_report *rep);

/* An ISO 8601 UTC string, or null for 0 (absent). */
json_t *sg_record_time(time_t t);

/* A staple's "signer" object ({delegated, subject, not_after}), or null
 * when no signature verified. */
json_t *sg_record_signer(const struct sg_staple *st);

/* The "cert" object of a record. */
json_t *sg_record_cert(const struct sg_certinfo *c);

#endif
