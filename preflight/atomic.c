#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int sg_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

sg_result sg_write_atomic(const char *path, const void *data, size_t len,
			  mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return sg_err(SG_EINPUT, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return sg_err(SG_ESYS, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) != 0 || sg_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		return sg_err(SG_ESYS, "%s: %s", path, strerror(saved));
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		return sg_err(SG_ESYS, "%s: %s", path, strerror(saved));
	}
	fsync_dir_of(path);
	return sg_ok();
}

sg_result sg_mkdir_safe(const char *dir, mode_t mode)
{
	struct stat st;

	if (mkdir(dir, mode) == 0)
		return sg_ok();
	if (errno != EEXIST)
		return sg_err(SG_ESYS, "%s: %s", dir, strerror(errno));
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return sg_err(SG_EINPUT,
			      "%s: not a directory (a symlink is "
			      "refused)",
			      dir);
	return sg_ok();
}

sg_result sg_read_file(const char *path, size_t max, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;

	*data = NULL;
	if (fd < 0)
		return sg_err(SG_EINPUT, "%s: %s", path,
			      errno == ELOOP ? "is a symlink, refused"
					     : strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		close(fd);
		return sg_err(SG_EINPUT,
			      "%s: not a regular file of at most "
			      "%zu bytes",
			      path, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return sg_err(SG_EINPUT, "%s: short read", path);
	}
	buf[n] = '\0';
	*data = buf;
	*len = (size_t)n;
	return sg_ok();
}

sg_result sg_symlink_swap(const char *target, const char *link)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.new.%d", link, (int)getpid());
	unlink(tmp);
	if (symlink(target, tmp) != 0)
		return sg_err(SG_ESYS, "%s: %s", tmp, strerror(errno));
	if (rename(tmp, link) != 0) {
		int saved = errno;

		unlink(tmp);
		return sg_err(SG_ESYS, "%s: %s", link, strerror(saved));
	}
	fsync_dir_of(link);
	return sg_ok();
}
