/* The score log: one JSON line per record, appended whole under an
 * advisory lock and fsynced, so concurrent hooks never interleave and a
 * record that was reported written is on disk. */
#ifndef SG_SCORELOG_H
#define SG_SCORELOG_H

#include <jansson.h>

#include "result.h"

/* Opens (creating 0640, and a missing parent directory 0750) for
 * appending. A symlink at the final component is refused. */
sg_result sg_scorelog_open(const char *path, int *fd);

/* Appends rec as one line: lock, write all, fsync, unlock. */
sg_result sg_scorelog_append(int fd, const char *path, const json_t *rec);

#endif
