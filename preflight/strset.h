/* A set of strings, each distinct one kept once: results that repeat
 * the same text (a staple verdict, a chain error, an SNI) share one
 * copy of it. */
#ifndef SG_STRSET_H
#define SG_STRSET_H

#include <stddef.h>

struct sg_strset {
	char **tab; /* open addressing, at most half full */
	size_t n, cap;
};

/* The set's copy of s (added when new), "" for NULL or "", or NULL
 * when out of memory. Valid until sg_strset_free. */
const char *sg_strset_add(struct sg_strset *set, const char *s);

void sg_strset_free(struct sg_strset *set);

/* The process's one copy of s, kept until it exits: for the verdict
 * texts of struct sg_staple, which are values copied freely (results,
 * responder checks, tests) with no owner to free them. Their vocabulary
 * is small: fixed sentences with two-unit durations, serials and names
 * of the certificates seen. Never NULL ("out of memory" stands in). */
const char *sg_text(const char *s);

#endif
