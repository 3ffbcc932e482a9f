#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "duration.h"

/* 8 bytes: seconds since the epoch in the low 63 bits (little endian),
 * the top bit set when the target stapled. */
#define RECORD_BYTES 8
#define STAPLED_BIT  (1ULL << 63)
/* An observation dated more than this after now was written by a clock
 * that was wrong (one monitor run a year ahead): it proves nothing, and
 * held against the gate it would refuse every hook until that date. */
#define FUTURE_SKEW_SEC 300

/* target + SNI as a file name: characters other than [A-Za-z0-9.-] become
 * '_', so "[::1]:443" and "10.0.0.7:443" stay apart and safe. */
static void history_path(const char *state_dir, const struct sg_target *t,
			 char *out, size_t size)
{
	char name[600];
	size_t n = 0;

	snprintf(name, sizeof(name), "%s@%s", t->spec,
		 t->servername[0] ? t->servername : "-");
	for (char *c = name; *c; c++, n++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
		      *c == '@'))
			*c = '_';
	snprintf(out, size, "%s/history/%s.hist", state_dir, name);
}

static void encode(unsigned char *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t decode(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

/* Opens the history file for appending; a FIFO or anything else that
 * is not a regular file is refused without blocking on it. */
static sg_result open_history(const char *path, int *fd)
{
	struct stat st;

	*fd = open(path,
		   O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
			   O_CLOEXEC,
		   0640);
	if (*fd < 0)
		return sg_err(SG_ESYS, "%s: %s", path,
			      errno == ELOOP ? "is a symlink, refused"
					     : strerror(errno));
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return sg_err(SG_EINPUT, "%s: not a regular file", path);
	}
	return sg_ok();
}

/* A file whose size is no multiple of a record lost the end of its last
 * record (a crash, a full disk, a bad restore): that partial record is
 * cut off, or every record appended after it would be misread. */
static sg_result realign(int fd, const char *path, struct sg_strlist *notes)
{
	struct stat st;
	off_t extra;
	char msg[PATH_MAX + 128];

	if (fstat(fd, &st) != 0)
		return sg_err(SG_ESYS, "%s: %s", path, strerror(errno));
	extra = st.st_size % RECORD_BYTES;
	if (extra == 0)
		return sg_ok();
	if (ftruncate(fd, st.st_size - extra) != 0)
		return sg_err(SG_ESYS, "%s: cannot cut a partial record: %s",
			      path, strerror(errno));
	snprintf(msg, sizeof(msg),
		 "%s: its last record was cut short; the %lld bytes left of "
		 "it were removed",
		 path, (long long)extra);
	if (notes)
		sg_strlist_add(notes, msg);
	return sg_ok();
}

/* The last record dated after this observation by more than the skew: a
 * run with a clock ahead wrote it. The gate skips it; say so here, where
 * someone reads the monitor's messages. */
static void note_future(int fd, const char *path, time_t when,
			struct sg_strlist *notes)
{
	unsigned char last[RECORD_BYTES];
	struct stat st;
	char msg[PATH_MAX + 128], iso[32];
	time_t ts;

	if (fstat(fd, &st) != 0 || st.st_size < RECORD_BYTES ||
	    pread(fd, last, sizeof(last), st.st_size - RECORD_BYTES) !=
		    RECORD_BYTES)
		return;
	ts = (time_t)(decode(last) & ~STAPLED_BIT);
	if (ts <= when + FUTURE_SKEW_SEC)
		return;
	sg_time_iso(ts, iso);
	snprintf(msg, sizeof(msg),
		 "%s: holds an observation dated %s, after now (a clock was "
		 "ahead); the history gate skips it",
		 path, iso);
	sg_strlist_add(notes, msg);
}

sg_result sg_history_append(const char *state_dir, const struct sg_target *t,
			    time_t when, bool stapled, struct sg_strlist *notes)
{
	char dir[PATH_MAX], path[PATH_MAX];
	unsigned char rec[RECORD_BYTES];
	sg_result r;
	int fd;

	snprintf(dir, sizeof(dir), "%s/history", state_dir);
	r = sg_mkdir_safe(state_dir, 0750);
	if (!r.code)
		r = sg_mkdir_safe(dir, 0750);
	if (r.code)
		return r;
	history_path(state_dir, t, path, sizeof(path));
	r = open_history(path, &fd);
	if (r.code)
		return r;
	encode(rec, (uint64_t)when | (stapled ? STAPLED_BIT : 0));
	/* 8 bytes with O_APPEND under a lock: whole records only. */
	if (flock(fd, LOCK_EX) != 0)
		r = sg_err(SG_ESYS, "%s: lock: %s", path, strerror(errno));
	if (!r.code)
		r = realign(fd, path, notes);
	if (!r.code && notes)
		note_future(fd, path, when, notes);
	if (!r.code && write(fd, rec, sizeof(rec)) != sizeof(rec))
		r = sg_err(SG_ESYS, "%s: %s", path, strerror(errno));
	flock(fd, LOCK_UN);
	close(fd);
	return r;
}

static sg_result gap_error(const struct sg_target *t, time_t from, time_t to)
{
	char d[32], when[32];

	sg_duration_format((long)(to - from), d, sizeof(d));
	sg_time_iso(from, when);
	return sg_err(SG_EINPUT, "%s: no observation for %s after %s", t->spec,
		      d, when);
}

sg_result sg_history_check(const char *state_dir, const struct sg_target *t,
			   time_t now, long window_sec, long max_gap_sec)
{
	char path[PATH_MAX], *data = NULL, when[32];
	size_t len = 0, skipped = 0;
	time_t start = now - window_sec, prev = 0;
	sg_result r;

	history_path(state_dir, t, path, sizeof(path));
	r = sg_read_file(path, 64L << 20, &data, &len);
	if (r.code)
		return sg_err(SG_EINPUT, "%s: no stapling history (%s)",
			      t->spec, r.reason);
	for (size_t off = 0; off + RECORD_BYTES <= len; off += RECORD_BYTES) {
		uint64_t v = decode((unsigned char *)data + off);
		time_t ts = (time_t)(v & ~STAPLED_BIT);

		/* Damaged records are skipped: a skipped observation can only
		 * leave a gap, and a gap refuses. */
		if (ts <= 0 || ts > now + FUTURE_SKEW_SEC) {
			skipped++;
			continue;
		}
		if (ts < start) {
			prev = ts;
			continue;
		}
		if (prev == 0) {
			free(data);
			sg_time_iso(ts, when);
			return sg_err(SG_EINPUT,
				      "%s: history starts only at %s", t->spec,
				      when);
		}
		if (ts - prev > max_gap_sec) {
			free(data);
			return gap_error(t, prev, ts);
		}
		if (!(v & STAPLED_BIT)) {
			free(data);
			sg_time_iso(ts, when);
			return sg_err(SG_EINPUT, "%s: not stapling at %s",
				      t->spec, when);
		}
		prev = ts;
	}
	free(data);
	if (prev == 0)
		return sg_err(SG_EINPUT, "%s: no stapling history%s", t->spec,
			      skipped ? " (only damaged or future-dated "
					"records)"
				      : "");
	if (now - prev > max_gap_sec)
		return gap_error(t, prev, now);
	return sg_ok();
}
