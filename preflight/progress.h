/* Progress lines while the hook waits (responder, pre-flight, --wait,
 * deploy, settle), so that a person watching sees what it waits for and
 * how long is left. The engine only formats them; the CLI decides where
 * they go. No sink set: nothing is printed. */
#ifndef SG_PROGRESS_H
#define SG_PROGRESS_H

typedef void (*sg_progress_fn)(const char *line);

void sg_progress_set(sg_progress_fn fn);
void sg_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
