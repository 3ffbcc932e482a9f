/* Progress lines while the hook waits (responder, pre-flight, --wait,
 * deploy, settle), so that a person watching sees what it waits for and
 * how long is left. The engine only formats them; the CLI decides where
 * they go. No sink set: nothing is printed. */
#ifndef SG_PROGRESS_H
#define SG_PROGRESS_H

#include <stdbool.h>

/* status: the line is one of a series (a settle round, a --wait check)
 * that a terminal may show in place, each replacing the one before. */
typedef void (*sg_progress_fn)(const char *line, bool status);

void sg_progress_set(sg_progress_fn fn);
/* A phase: starting to ask, probe, deploy, settle. */
void sg_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A round of a phase. */
void sg_progress_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
