#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "atomic.h"
#include "duration.h"

/* 8 bytes: seconds since the epoch in the low 63 bits (little endian),
 * the top bit set when the target stapled. */
#define RECORD_BYTES 8
#define STAPLED_BIT  (1ULL << 63)

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

sg_result sg_history_append(const char *state_dir, const struct sg_target *t,
			    time_t when, bool stapled)
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
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	if (fd < 0)
		return sg_err(SG_ESYS, "%s: %s", path, strerror(errno));
	encode(rec, (uint64_t)when | (stapled ? STAPLED_BIT : 0));
	/* 8 bytes with O_APPEND under a lock: whole records only. */
	flock(fd, LOCK_EX);
	if (write(fd, rec, sizeof(rec)) != sizeof(rec))
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
	size_t len = 0;
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
		return sg_err(SG_EINPUT, "%s: no stapling history", t->spec);
	if (now - prev > max_gap_sec)
		return gap_error(t, prev, now);
	return sg_ok();
}
