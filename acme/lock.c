#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../preflight/atomic.h"
#include "../preflight/clock.h"
#include "../preflight/interrupt.h"
#include "store.h"

/* The lock file: in a 0700 directory, never through a symlink, 0600. */
static sg_result open_lock(const char *state_dir, const char *name, int *fd)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	sg_result r = sg_mkdir_safe(state_dir, 0750);

	snprintf(dir, sizeof(dir), "%s/locks", state_dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!r.code)
		r = sg_mkdir_safe(dir, 0700);
	if (r.code)
		return r;
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return sg_err(SG_ESYS, "lock %s: %s", path,
			      errno == ELOOP ? "is a symlink, refused"
					     : strerror(errno));
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return sg_err(SG_EINPUT, "lock %s: not a regular file", path);
	}
	return sg_ok();
}

sg_result sg_lock_lineage(const char *state_dir, const char *lineage,
			  long long deadline, int *fd, bool *busy)
{
	char name[256];
	long long start = sg_now_ms();
	sg_result r = sg_store_lineage_name(lineage, name, sizeof(name));

	*fd = -1;
	*busy = false;
	if (!r.code)
		r = open_lock(state_dir, name, fd);
	if (r.code)
		return r;
	while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = sg_err(SG_ESYS, "lock %s/locks/%s: %s", state_dir,
				   name, strerror(errno));
			break;
		}
		if (sg_interrupted()) {
			r = sg_err(SG_ESYS,
				   "interrupted by signal %d while waiting for "
				   "lineage %s's lock",
				   sg_interrupted(), name);
			break;
		}
		if (sg_now_ms() >= deadline) {
			*busy = true;
			r = sg_err(SG_ESYS,
				   "another staplegate run has held lineage "
				   "%s for %llds (lock %s/locks/%s)",
				   name, (sg_now_ms() - start) / 1000,
				   state_dir, name);
			break;
		}
		sg_sleep_ms(SG_LOCK_POLL_MS);
	}
	if (r.code) {
		close(*fd);
		*fd = -1;
	}
	return r;
}
