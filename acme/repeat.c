#include "repeat.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../preflight/atomic.h"
#include "store.h"

#define ANCESTORS_MAX 8 /* certbot, sh -c, the drop-in script, us */

/* /proc/PID/what into buf, NUL-terminated (cut at size - 1 bytes); the
 * length read, or -1. */
static long read_proc(long pid, const char *what, char *buf, size_t size)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, what);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

/* Parent pid and start time (clock ticks since boot, field 22) of pid,
 * from /proc/PID/stat; the command name in parentheses may hold spaces. */
static bool proc_stat(long pid, long *ppid, unsigned long long *start)
{
	char buf[1024], *p;

	if (read_proc(pid, "stat", buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	return p && sscanf(p + 1,
			   " %*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
			   "%*u %*d %*d %*d %*d %*d %*d %llu",
			   ppid, start) == 2;
}

/* certbot is a Python script: its name is argv[0] (run directly) or
 * argv[1] (python3 /usr/bin/certbot). */
static bool is_certbot(long pid)
{
	char buf[512];
	long n = read_proc(pid, "cmdline", buf, sizeof(buf));

	for (long off = 0, i = 0; off < n && i < 2; i++) {
		const char *arg = buf + off, *base = strrchr(arg, '/');

		if (strcmp(base ? base + 1 : arg, "certbot") == 0)
			return true;
		off += (long)strlen(arg) + 1;
	}
	return false;
}

void sg_repeat_certbot_run(char *out, size_t size)
{
	long pid = (long)getppid(), ppid;
	unsigned long long start;

	out[0] = '\0';
	for (int i = 0; i < ANCESTORS_MAX && pid > 1; i++) {
		if (!proc_stat(pid, &ppid, &start))
			return;
		if (is_certbot(pid)) {
			snprintf(out, size, "%ld:%llu", pid, start);
			return;
		}
		pid = ppid;
	}
}

static bool note_path(const char *state_dir, const char *lineage, char *out,
		      size_t size)
{
	char name[256];

	if (sg_store_lineage_name(lineage, name, sizeof(name)).code)
		return false;
	snprintf(out, size, "%s/deployed/%s", state_dir, name);
	return true;
}

void sg_repeat_note(const char *state_dir, const char *lineage,
		    const char *sha256, const char *run)
{
	char path[PATH_MAX], dir[PATH_MAX], text[256];
	int n;

	if (run[0] == '\0' ||
	    !note_path(state_dir, lineage, path, sizeof(path)))
		return;
	n = snprintf(text, sizeof(text), "%s %s %lld\n", sha256, run,
		     (long long)time(NULL));
	snprintf(dir, sizeof(dir), "%s/deployed", state_dir);
	if (sg_mkdir_safe(state_dir, 0750).code ||
	    sg_mkdir_safe(dir, 0750).code)
		return;
	(void)sg_write_atomic(path, text, (size_t)n, 0640);
}

bool sg_repeat_recent(const char *state_dir, const char *lineage,
		      const char *sha256, const char *run, long *age_sec)
{
	char path[PATH_MAX], seen[65], seen_run[64];
	char *data = NULL;
	size_t len;
	long long when, now = (long long)time(NULL);
	bool recent;

	*age_sec = 0;
	if (run[0] == '\0' ||
	    !note_path(state_dir, lineage, path, sizeof(path)) ||
	    sg_read_file(path, 512, &data, &len).code)
		return false;
	recent = sscanf(data, "%64s %63s %lld", seen, seen_run, &when) == 3 &&
		 strcmp(seen, sha256) == 0 && strcmp(seen_run, run) == 0 &&
		 when <= now && now - when < SG_REPEAT_WINDOW_SEC;
	free(data);
	if (recent)
		*age_sec = (long)(now - when);
	return recent;
}
