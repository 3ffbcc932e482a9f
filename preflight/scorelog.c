#include "scorelog.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "sandbox.h"

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
	/* O_NONBLOCK: a FIFO in its place would block the open until a
	 * peer comes, i.e. forever; the fstat below refuses it. O_RDWR: the
	 * append reads the last byte to find a cut line. */
	*fd = open(path,
		   O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
			   O_CLOEXEC,
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

/* Whether the log ends mid-line: a writer was killed (kill -9, power
 * loss) between its first and last byte. */
static bool ends_mid_line(int fd, off_t end)
{
	char last = '\n';

	return end > 0 && pread(fd, &last, 1, end - 1) == 1 && last != '\n';
}

sg_result sg_scorelog_append(int fd, const char *path, const json_t *rec,
			     struct sg_strlist *notes)
{
	char *line = json_dumps(rec, JSON_COMPACT);
	sg_result r;

	if (line == NULL)
		return sg_err(SG_ENOMEM, "score log %s: cannot encode record",
			      path);
	r = sg_scorelog_append_line(fd, path, line, notes);
	free(line);
	return r;
}

/* stdio on the locked log, every buffer written whole (sg_write_all
 * retries short writes and EINTR). With --no-sandbox every record says
 * so, whoever built it: the last byte is held back until the record
 * ends, and a closing brace gets the flag before it. */
struct sink {
	int fd;
	bool mark; /* --no-sandbox */
	bool held;
	char last;
};

#define NO_SANDBOX ",\"no_sandbox\":true}"

static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
	struct sink *s = cookie;

	if (!s->mark || len == 0) /* the usual run: straight through */
		return sg_write_all(s->fd, buf, len) == 0 ? (ssize_t)len : -1;
	if ((s->held && sg_write_all(s->fd, &s->last, 1) != 0) ||
	    sg_write_all(s->fd, buf, len - 1) != 0)
		return -1;
	s->held = true;
	s->last = buf[len - 1];
	return (ssize_t)len;
}

/* The held byte, flagged when it closes a record. */
static bool end_record(struct sink *s)
{
	if (!s->held)
		return true;
	return (s->last == '}'
			? sg_write_all(s->fd, NO_SANDBOX, strlen(NO_SANDBOX))
			: sg_write_all(s->fd, &s->last, 1)) == 0;
}

sg_result sg_scorelog_append_stream(int fd, const char *path,
				    sg_scorelog_emit emit, const void *ctx,
				    struct sg_strlist *notes)
{
	cookie_io_functions_t io = {.write = cookie_write};
	struct sink sink = {.fd = fd, .mark = sg_sandbox_off()};
	sg_result r = sg_ok();
	off_t before;
	bool cut, ok;
	FILE *f;

	if (flock(fd, LOCK_EX) != 0)
		return sg_err(SG_ESYS, "score log %s: lock: %s", path,
			      strerror(errno));
	before = lseek(fd, 0, SEEK_END);
	cut = ends_mid_line(fd, before);
	errno = 0;
	f = fopencookie(&sink, "w", io);
	/* The cut line keeps its bytes, alone on its line: the record after
	 * it is never glued to it. */
	ok = f && (!cut || fputc('\n', f) != EOF) && emit(f, ctx) &&
	     fflush(f) == 0 && end_record(&sink) &&
	     sg_write_all(fd, "\n", 1) == 0;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok || fsync(fd) != 0) {
		r = sg_err(SG_ESYS, "score log %s: %s", path,
			   errno ? strerror(errno) : "cannot encode record");
		/* No half line may stay behind for the next writer to append
		 * to. */
		if (before >= 0 && ftruncate(fd, before) != 0)
			r = sg_err(SG_ESYS,
				   "score log %s: %s, and a partial line "
				   "remains",
				   path, strerror(errno));
	} else if (cut && notes) {
		char msg[SG_REASON_MAX + 128];

		snprintf(msg, sizeof(msg),
			 "score log %s: its last line was cut short (a writer "
			 "was killed); the record starts a new line",
			 path);
		sg_strlist_add(notes, msg);
	}
	flock(fd, LOCK_UN);
	return r;
}

static bool emit_line(FILE *f, const void *line)
{
	return fputs(line, f) != EOF;
}

sg_result sg_scorelog_append_line(int fd, const char *path, const char *line,
				  struct sg_strlist *notes)
{
	return sg_scorelog_append_stream(fd, path, emit_line, line, notes);
}
