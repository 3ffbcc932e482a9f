#include "atomic.h"

#include <ctype.h>
#include <dirent.h>
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

/* "<dir>/.<name>.tmp.XXXXXX", created by mkostemp: an unpredictable name
 * (a run that always has the same pid, as in a container, never meets a
 * file its killed predecessor left), O_EXCL, mode 0600 until fchmod. The
 * leading dot keeps it out of every listing of the directory. */
static int open_temp(const char *path, char *tmp, size_t size)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;

	if (snprintf(tmp, size, "%.*s.%s.tmp.XXXXXX", dirlen, path,
		     path + dirlen) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(tmp, O_CLOEXEC);
}

sg_result sg_write_atomic(const char *path, const void *data, size_t len,
			  mode_t mode)
{
	char tmp[PATH_MAX];
	int fd = open_temp(path, tmp, sizeof(tmp)), saved;

	if (fd < 0)
		return sg_err(SG_ESYS, "%s: temporary file: %s", path,
			      strerror(errno));
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

/* Ours: ".<name>.tmp.XXXXXX"; older versions': "<name>.tmp.<pid>". */
bool sg_temp_name(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	size_t n;

	if (t == NULL || t == name)
		return false;
	while (strstr(t + 1, ".tmp."))
		t = strstr(t + 1, ".tmp.");
	t += 5;
	n = strlen(t);
	if (name[0] == '.' && n == 6)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)t[i]))
			return false;
	return n > 0;
}

void sg_temp_sweep(const char *dir, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	struct stat st;

	while (d && (e = readdir(d)) != NULL) {
		if (!sg_temp_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > SG_TEMP_STALE_SEC)
			unlink(path);
	}
	if (d)
		closedir(d);
}

sg_result sg_temp_swept_dir(const char *dir, DIR **out)
{
	sg_temp_sweep(dir, time(NULL));
	*out = opendir(dir);
	if (*out == NULL && errno != ENOENT)
		return sg_err(SG_ESYS, "%s: %s", dir, strerror(errno));
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
	/* O_NONBLOCK: a FIFO planted here must be refused, not waited on. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
