/* Files staplegate creates: written whole or not at all (temporary file,
 * fsync, rename, fsync of the directory), never through a symlink. */
#ifndef SG_ATOMIC_H
#define SG_ATOMIC_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "result.h"

/* write(2) until all of len is written; -1 with errno on failure. */
int sg_write_all(int fd, const void *data, size_t len);

/* A temporary file older than this belongs to no running write: writes
 * take milliseconds and a run ends within its deadline. */
#define SG_TEMP_STALE_SEC 3600L

/* Replaces path with data (mode applied to the new file). The data goes
 * to a temporary file beside it, ".<name>.tmp.XXXXXX", which a killed
 * write leaves behind: listings skip such names, sg_temp_sweep removes
 * them. */
sg_result sg_write_atomic(const char *path, const void *data, size_t len,
			  mode_t mode);

/* Whether a directory entry is such a temporary file (or one of an older
 * version's "<name>.tmp.<pid>"). */
bool sg_temp_name(const char *name);

/* Removes the temporary files in dir older than SG_TEMP_STALE_SEC. */
void sg_temp_sweep(const char *dir, time_t now);

/* Opens a state directory to list, its stale temporary files swept
 * first; *out is NULL when it does not exist (no error). */
sg_result sg_temp_swept_dir(const char *dir, DIR **out);

/* Creates dir (mode) if missing; an existing one must be a real
 * directory, not a symlink to one. Parents must exist. */
sg_result sg_mkdir_safe(const char *dir, mode_t mode);

/* Reads a whole regular file (not through a symlink) into a malloc'd,
 * NUL-terminated buffer, at most max bytes. Anything else, a FIFO
 * included, is refused without blocking. */
sg_result sg_read_file(const char *path, size_t max, char **data, size_t *len);

/* Atomically points link at target (a symlink created beside it and
 * renamed over it): readers see the old target or the new, never none. */
sg_result sg_symlink_swap(const char *target, const char *link);

#endif
