/* LD_PRELOAD shim: the disk is full for the score log. write() to a file
 * whose path ends in $SG_SHIM_SUFFIX (default "scores.jsonl") writes at
 * most 10 bytes once, then fails with ENOSPC, as a filling disk does;
 * fsync() on it fails too. Everything else passes through. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t n);
int fsync(int fd);

static int is_log(int fd)
{
	const char *suffix = getenv("SG_SHIM_SUFFIX");
	char link[64], path[4096];
	ssize_t len;
	size_t slen;

	if (suffix == NULL)
		suffix = "scores.jsonl";
	slen = strlen(suffix);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len < 0 || (size_t)len < slen)
		return 0;
	path[len] = '\0';
	return strcmp(path + len - slen, suffix) == 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	static int partial_done;

	if (real == NULL)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT,
								    "write");
	if (!is_log(fd))
		return real(fd, buf, n);
	if (!partial_done && n > 10) {
		partial_done = 1;
		return real(fd, buf, 10);
	}
	errno = ENOSPC;
	return -1;
}

int fsync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (is_log(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd);
}
