/* The score log: one JSON line per record, appended whole under an
 * advisory lock and fsynced, so concurrent hooks never interleave and a
 * record that was reported written is on disk. */
#ifndef SG_SCORELOG_H
#define SG_SCORELOG_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "certinfo.h"
#include "result.h"

/* Opens (creating 0640, and a missing parent directory 0750) for
 * appending. A symlink at the final component, a FIFO or anything else
 * that is not a regular file is refused, without blocking. */
sg_result sg_scorelog_open(const char *path, int *fd);

/* Appends rec as one line: lock, write all, fsync, unlock. When the log
 * ends mid-line (a writer killed while appending), the record starts a
 * new line and a note saying so is added to notes (may be NULL). */
sg_result sg_scorelog_append(int fd, const char *path, const json_t *rec,
			     struct sg_strlist *notes);

/* The same for a record already encoded as one line of compact JSON
 * (without its newline), for records too large to hold as a tree. */
sg_result sg_scorelog_append_line(int fd, const char *path, const char *line,
				  struct sg_strlist *notes);

/* Writes a record's line (without its newline) to f; false when it
 * could not. */
typedef bool (*sg_scorelog_emit)(FILE *f, const void *ctx);

/* The same, the line written by emit straight into the log under the
 * lock, for a record as large as monitor's at 10,000 targets (4 MB),
 * which is then never held in memory whole. A record emit cannot finish
 * is cut off again: nothing of it stays. */
sg_result sg_scorelog_append_stream(int fd, const char *path,
				    sg_scorelog_emit emit, const void *ctx,
				    struct sg_strlist *notes);

#endif
