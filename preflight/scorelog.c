#include "scorelog.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"

/* The log's directory is created 0750 when missing; an existing one must
 * be a real directory, not a symlink planted there. */
static sg_result ensure_parent(const char *path)
{
	char copy[PATH_MAX];

	if (strlen(path) >= sizeof(copy))
		return sg_err(SG_EINPUT, "%s: path too long", path);
	strcpy(copy, path);
	return sg_mkdir_safe(dirname(copy), 0750);
}

sg_result sg_scorelog_open(const char *path, int *fd)
{
	struct stat st;
	sg_result r = ensure_parent(path);

	*fd = -1;
	if (r.code)
		return r;
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		   0640);
	if (*fd < 0)
		return sg_err(SG_ESYS, "score log %s: %s", path,
			      errno == ELOOP ? "is a symlink, refused"
					     : strerror(errno));
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return sg_err(SG_EINPUT, "score log %s: not a regular file",
			      path);
	}
	return sg_ok();
}

sg_result sg_scorelog_append(int fd, const char *path, const json_t *rec)
{
	char *line = json_dumps(rec, JSON_COMPACT);
	size_t len;
	sg_result r = sg_ok();

	if (line == NULL)
		return sg_err(SG_ENOMEM, "score log %s: cannot encode record",
			      path);
	len = strlen(line);
	line[len] = '\n'; /* replaces the NUL: written by length */
	if (flock(fd, LOCK_EX) != 0) {
		r = sg_err(SG_ESYS, "score log %s: lock: %s", path,
			   strerror(errno));
	} else {
		off_t before = lseek(fd, 0, SEEK_END);

		if (sg_write_all(fd, line, len + 1) != 0 || fsync(fd) != 0) {
			r = sg_err(SG_ESYS, "score log %s: %s", path,
				   strerror(errno));
			/* No half line may stay behind for the next
			 * writer to append to. */
			if (before >= 0 && ftruncate(fd, before) != 0)
				r = sg_err(SG_ESYS,
					   "score log %s: %s, and a partial "
					   "line remains",
					   path, strerror(errno));
		}
		flock(fd, LOCK_UN);
	}
	free(line);
	return r;
}
