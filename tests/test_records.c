/* Records and state files under faults: a writer killed mid-line, a FIFO
 * where a file should be, temporary files left by killed writes, a damaged
 * pending entry, a history written by a wrong clock or cut short, a full
 * disk under monitor. Every case ends bounded, with the damage named and
 * nothing else lost. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#include "../preflight/atomic.h"
#include "../preflight/certinfo.h"
#include "../preflight/clock.h"
#include "../preflight/history.h"
#include "../preflight/sandbox.h"
#include "../preflight/scorelog.h"
#include "scene.h"
#include "testutil.h"

/* Runs the binary and waits at most secs for it: a run that blocks is
 * killed and the test fails, instead of hanging the suite. */
static void cli_bounded(struct cli_run *r, const char *const *env,
			const char *const *args, int secs)
{
	pid_t pid = cli_spawn(env, args);
	siginfo_t info;
	int i;

	for (i = 0; i < secs * 20; i++) {
		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, (id_t)pid, &info,
			   WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid == pid)
			break;
		usleep(50000);
	}
	if (i == secs * 20) {
		kill(pid, SIGKILL);
		cli_collect(r, pid);
		ck_abort_msg("staplegate %s blocked for %d s", args[0], secs);
	}
	cli_collect(r, pid);
}

static void dir_of_test(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s-%d", T_PKI->dir, name, (int)getpid());
	mkdir(out, 0700);
}

/* The last line of the file (without its newline) into buf. */
static void last_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		snprintf(buf, size, "%s", line);
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static bool ends_in_newline(const char *path)
{
	int fd = open(path, O_RDONLY);
	char c = '\n';
	off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;

	if (end > 0)
		pread(fd, &c, 1, end - 1);
	if (fd >= 0)
		close(fd);
	return c == '\n';
}

/* The parent watches the log grow and kills the writer the moment the
 * file ends mid-line: the kernel stops the write at the next page, as a
 * kill -9 at a random point does whenever it lands in one. */
static void kill_mid_line(pid_t pid, const char *log, size_t line_len)
{
	long long end = sg_now_ms() + 10000;
	struct stat st;
	bool mid = false;

	do {
		mid = stat(log, &st) == 0 && st.st_size % (off_t)line_len != 0;
	} while (!mid && sg_now_ms() < end);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Waits for the writer to die by itself (SIGXFSZ), killing it after
 * seconds at the latest. */
static void reap_within(pid_t pid, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A writer appending 1 MiB records is killed mid-line, ten times: each
 * time the next record must still be a line of its own. */
START_TEST(killed_append_never_glues_the_next_record)
{
	char dir[600], log[700], line[4096], *text;
	json_t *big = json_pack("{s:s}", "kind", "bulk");
	char *pad = malloc(1 << 20);
	size_t line_len;
	int cut = 0;

	memset(pad, 'x', 1 << 20);
	json_object_set_new(big, "pad", json_stringn(pad, 1 << 20));
	free(pad);
	text = json_dumps(big, JSON_COMPACT);
	line_len = strlen(text) + 1;
	free(text);
	dir_of_test(dir, sizeof(dir), "kill");
	snprintf(log, sizeof(log), "%s/scores.jsonl", dir);
	for (int round = 0; round < 10; round++) {
		pid_t pid;
		json_t *small, *rec;
		int fd;

		if (round > 0)
			ck_assert_int_eq(truncate(log, 0), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			/* Even rounds: a file-size limit kills the writer
			 * (SIGXFSZ) inside a record at a known byte, so the
			 * test cuts lines however loaded the machine is; odd
			 * rounds: SIGKILL wherever the race lands it. */
			struct rlimit rl = {
				.rlim_cur =
					(rlim_t)(line_len * (1 + round % 3) +
						 line_len / 3)};

			rl.rlim_max = rl.rlim_cur;
			if (round % 2 == 0)
				setrlimit(RLIMIT_FSIZE, &rl);
			if (sg_scorelog_open(log, &fd).code)
				_exit(1);
			for (;;)
				sg_scorelog_append(fd, log, big, NULL);
		}
		if (round % 2 == 0)
			reap_within(pid, 10);
		else
			kill_mid_line(pid, log, line_len);
		cut += !ends_in_newline(log);
		small = json_pack("{s:s, s:i}", "kind", "after-kill", "round",
				  round);
		ck_assert_int_eq(sg_scorelog_open(log, &fd).code, SG_OK);
		ck_assert_int_eq(sg_scorelog_append(fd, log, small, NULL).code,
				 SG_OK);
		close(fd);
		json_decref(small);
		last_line(log, line, sizeof(line));
		rec = json_loads(line, 0, NULL);
		ck_assert_msg(json_is_object(rec) &&
				      json_integer_value(json_object_get(
					      rec, "round")) == round,
			      "round %d: the record after the kill is glued to "
			      "the cut line",
			      round);
		json_decref(rec);
	}
	json_decref(big);
	ck_assert_msg(cut > 0, "no kill cut a line");
}
END_TEST

/* The cut line is reported, and the repair is one newline, nothing
 * more: the cut bytes stay for whoever investigates. */
START_TEST(cut_score_log_line_is_reported)
{
	char dir[600], log[700], text[256];
	struct sg_strlist notes = {0};
	json_t *rec = json_pack("{s:s}", "kind", "next");
	int fd;
	FILE *f;

	/* the suite probes in-process (test_main.c), which records would
	 * say: the bytes compared here are a sandboxed run's */
	sg_sandbox_setup(NULL, false);
	dir_of_test(dir, sizeof(dir), "cutlog");
	snprintf(log, sizeof(log), "%s/scores.jsonl", dir);
	write_text(log, "{\"kind\": \"whole\"}\n{\"kind\": \"cu", 0640);
	ck_assert_int_eq(sg_scorelog_open(log, &fd).code, SG_OK);
	ck_assert_int_eq(sg_scorelog_append(fd, log, rec, &notes).code, SG_OK);
	close(fd);
	json_decref(rec);
	f = fopen(log, "r");
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	ck_assert_str_eq(text, "{\"kind\": \"whole\"}\n{\"kind\": \"cu\n"
			       "{\"kind\":\"next\"}\n");
	ck_assert_uint_eq(notes.n, 1);
	assert_contains(notes.v[0], log);
	assert_contains(notes.v[0], "cut short");
	sg_strlist_free(&notes);
}
END_TEST

/* A FIFO where the score log, a history file or a pending entry should
 * be: refused with one line naming it, never opened blocking. */
START_TEST(fifo_state_files_are_refused_not_waited_on)
{
	struct scene s;
	struct cli_run r;
	char hist[700], pend[700];
	const char *mon[] = {"monitor", "--config", NULL, NULL};
	const char *hook[] = {"hook", "--config", NULL, "--dry-run", NULL};
	const char *pending[] = {"pending", "--config", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	mon[2] = hook[2] = pending[2] = s.config;
	mkdir(s.state, 0750);
	ck_assert_int_eq(mkfifo(s.record, 0640), 0);
	cli_bounded(&r, NULL, mon, 20);
	ck_assert_msg(r.status != 0, "%s", r.out);
	assert_contains(r.out, "not a regular file");
	assert_contains(r.err, s.record);
	cli_bounded(&r, certbot_env(&s), hook, 20);
	ck_assert_int_ne(r.status, 0);
	assert_contains(r.err, "not a regular file");
	unlink(s.record);
	/* the history of the only target */
	snprintf(hist, sizeof(hist), "%s/history", s.state);
	mkdir(hist, 0750);
	snprintf(hist, sizeof(hist),
		 "%s/history/127.0.0.1_%d@shop.example.hist", s.state,
		 s.srv.port);
	unlink(hist); /* written by the run above */
	ck_assert_int_eq(mkfifo(hist, 0640), 0);
	cli_bounded(&r, NULL, mon, 20);
	ck_assert_msg(r.status != 0, "%s", r.out);
	assert_contains(r.err, hist);
	assert_contains(r.err, "not a regular file");
	/* a pending entry */
	snprintf(pend, sizeof(pend), "%s/pending", s.state);
	mkdir(pend, 0750);
	snprintf(pend, sizeof(pend), "%s/pending/shop.example.json", s.state);
	ck_assert_int_eq(mkfifo(pend, 0640), 0);
	cli_bounded(&r, NULL, pending, 20);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "not a regular file");
	assert_contains(r.out, pend);
	scene_end(&s);
}
END_TEST

/* In a container every run has the same pid: a temporary file a killed
 * write left under that pid's name must not block the next write. */
START_TEST(write_atomic_survives_a_same_pid_leftover)
{
	char dir[600], path[700], leftover[800], buf[64];
	struct stat st;
	FILE *f;

	dir_of_test(dir, sizeof(dir), "samepid");
	snprintf(path, sizeof(path), "%s/entry.json", dir);
	snprintf(leftover, sizeof(leftover), "%s.tmp.%d", path, (int)getpid());
	write_text(leftover, "", 0640);
	ck_assert_int_eq(sg_write_atomic(path, "{}\n", 3, 0640).code, SG_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	f = fopen(path, "r");
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	ck_assert_str_eq(buf, "{}\n");
}
END_TEST

static void age_file(const char *path, long secs)
{
	struct timeval tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= secs;
	tv[1] = tv[0];
	ck_assert_int_eq(utimes(path, tv), 0);
}

/* Temporary files of killed writes in the state directory: other runs'
 * are ignored when listing, stale ones (over an hour old) removed. */
START_TEST(leftover_temp_files_are_ignored_and_swept)
{
	char dir[600], cfg[700], state[700], text[1024], p[6][800];
	const char *resume[] = {"resume", "--config", cfg, NULL};
	const char *pending[] = {"pending", "--config", cfg, NULL};
	struct cli_run r;

	dir_of_test(dir, sizeof(dir), "leftover");
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"state_dir\": \"%s\", \"record\": "
		 "\"%s/scores.jsonl\"}}",
		 state, dir);
	write_text(cfg, text, 0644);
	mkdir(state, 0750);
	snprintf(p[0], sizeof(p[0]), "%s/staples", state);
	mkdir(p[0], 0750);
	snprintf(p[0], sizeof(p[0]), "%s/pending", state);
	mkdir(p[0], 0750);
	/* a staple record's write killed just now, one killed hours ago,
	 * and the same for pending entries (old and new naming) */
	snprintf(p[0], sizeof(p[0]), "%s/staples/shop.example.json.tmp.4242",
		 state);
	snprintf(p[1], sizeof(p[1]), "%s/staples/shop.example.json.tmp.17",
		 state);
	snprintf(p[2], sizeof(p[2]), "%s/pending/shop.example.json.tmp.4242",
		 state);
	snprintf(p[3], sizeof(p[3]), "%s/pending/.shop.example.json.tmp.Ab3xZ9",
		 state);
	snprintf(p[4], sizeof(p[4]), "%s/staples/.x.json.tmp.Qw12rT", state);
	snprintf(p[5], sizeof(p[5]), "%s/pending/notes.tmp.txt", state);
	for (int i = 0; i < 6; i++)
		write_text(p[i], "", 0640);
	for (int i = 1; i < 6; i++)
		age_file(p[i], 2 * 3600);
	cli_bounded(&r, NULL, resume, 30);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "nothing pending");
	cli_bounded(&r, NULL, pending, 30);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(exists(p[0]), "a fresh temp file was removed");
	for (int i = 1; i < 5; i++)
		ck_assert_msg(!exists(p[i]), "stale %s kept", p[i]);
	ck_assert_msg(exists(p[5]), "a file that is no temp file removed");
}
END_TEST

/* A pending entry for lineage, refused an hour ago. */
static void write_entry(const char *state, const char *lineage, time_t now)
{
	char path[700], entry[1024];

	snprintf(path, sizeof(path), "%s/pending/%s.json", state, lineage);
	snprintf(entry, sizeof(entry),
		 "{\"lineage\": \"%s\", \"client\": \"certbot\", "
		 "\"first_refused\": %ld, \"served_not_after\": %ld, "
		 "\"reason\": \"no staple\"}",
		 lineage, (long)now - 3600, (long)now + 30 * 86400);
	write_text(path, entry, 0640);
}

/* One truncated entry: the others are still listed and counted, the
 * damaged file is named, and monitor warns about it. */
START_TEST(damaged_pending_entry_hides_nothing_else)
{
	struct scene s;
	struct cli_run r;
	char pend[700];
	const char *pending[] = {"pending", "--config", NULL, NULL, NULL};
	const char *mon[] = {"monitor", "--config", NULL, NULL};
	json_t *list;
	time_t now = time(NULL);
	FILE *f;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	pending[2] = mon[2] = s.config;
	mkdir(s.state, 0750);
	snprintf(pend, sizeof(pend), "%s/pending", s.state);
	mkdir(pend, 0750);
	write_entry(s.state, "a.example", now);
	write_entry(s.state, "c.example", now);
	snprintf(pend, sizeof(pend), "%s/pending/b.example.json", s.state);
	f = fopen(pend, "w");
	fputs("{\"lineage\": \"b.exa", f); /* cut by a crash */
	fclose(f);
	cli_bounded(&r, NULL, pending, 20);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "a.example");
	assert_contains(r.out, "c.example");
	assert_contains(r.out, pend);
	assert_contains(r.out, "DAMAGED");
	pending[3] = "--json";
	cli_bounded(&r, NULL, pending, 20);
	list = json_loads(r.out, 0, NULL);
	ck_assert_msg(json_array_size(list) == 3, "%s", r.out);
	ck_assert(json_is_true(
		json_object_get(json_array_get(list, 1), "damaged")));
	json_decref(list);
	cli_bounded(&r, NULL, mon, 20);
	ck_assert_msg(r.status == 1, "%s", r.out);
	assert_contains(r.out, "STAPLEGATE WARNING - ");
	assert_contains(r.out, "3 pending deployments");
	assert_contains(r.out, "1 damaged");
	scene_end(&s);
}
END_TEST

static bool same_file(const char *path, const char *text, time_t mtime)
{
	char buf[1 << 16];
	struct stat st;
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return stat(path, &st) == 0 && st.st_mtime == mtime &&
	       strcmp(buf, text) == 0;
}

/* SIGTERM while resume works on its first entry: the entry after it
 * was not started, so it is left exactly as it was. */
START_TEST(sigterm_during_resume_leaves_unstarted_entries_unchanged)
{
	struct scene s;
	struct cli_run r;
	char first[700], second[700], *text;
	const char *resume[] = {"resume", "--config", NULL, NULL};
	json_t *e;
	struct stat st;
	pid_t pid;
	int requests;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.staple = NULL; /* never stapled: the gate stays shut */
	scene_start_server(&s);
	scene_config(&s, "\"attempts\": 1");
	{
		const char *hook[] = {"hook", "--config",  s.config,
				      "--",   s.deploy_sh, NULL};

		hook_certbot(&s, &r, hook);
		ck_assert_int_eq(r.status, 1);
	}
	snprintf(first, sizeof(first), "%s/pending/shop.example.json", s.state);
	snprintf(second, sizeof(second), "%s/pending/zz.example.json", s.state);
	e = json_load_file(first, 0, NULL);
	ck_assert_ptr_nonnull(e);
	json_object_set_new(e, "lineage", json_string("zz.example"));
	text = json_dumps(e, JSON_INDENT(2) | JSON_SORT_KEYS);
	write_text(second, text, 0640);
	json_decref(e);
	age_file(second, 600);
	stat(second, &st);
	/* the responder is slow: SIGTERM once the first entry asked it */
	s.resp.delay_ms = 3000;
	requests = s.resp.requests;
	resume[2] = s.config;
	pid = cli_spawn(NULL, resume);
	for (int i = 0; i < 400 && s.resp.requests == requests; i++)
		usleep(25000);
	ck_assert_int_gt(s.resp.requests, requests);
	kill(pid, SIGTERM);
	cli_collect(&r, pid);
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(same_file(second, text, st.st_mtime),
		      "an entry resume had not started was changed: %s%s",
		      r.out, r.err);
	assert_contains(r.out, "zz.example: not started");
	free(text);
	scene_end(&s);
}
END_TEST

static void history_hours(const char *state, struct sg_target *t, time_t now,
			  int hours)
{
	for (int h = hours; h >= 0; h--)
		ck_assert_int_eq(
			sg_history_append(state, t, now - h * 3600L, true, NULL)
				.code,
			SG_OK);
}

/* One monitor run with the clock a year ahead wrote a "not stapled"
 * observation dated next year: it is skipped, not held against every
 * hook for a year. */
START_TEST(history_record_from_a_clock_ahead_is_skipped)
{
	struct sg_target t;
	char state[600];
	struct sg_strlist notes = {0};
	time_t now = time(NULL);
	sg_result r;

	sg_target_parse("127.0.0.1:4433", &t);
	t.servername = "shop.example";
	dir_of_test(state, sizeof(state), "hist-ahead");
	history_hours(state, &t, now - 60, 6);
	ck_assert_int_eq(
		sg_history_append(state, &t, now + 365L * 86400, false, NULL)
			.code,
		SG_OK);
	r = sg_history_check(state, &t, now, 3 * 3600, 3600 + 120);
	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	/* a real failure is still seen, and the next run names the record
	 * from the future */
	ck_assert_int_eq(sg_history_append(state, &t, now, false, &notes).code,
			 SG_OK);
	r = sg_history_check(state, &t, now, 3 * 3600, 3600 + 120);
	assert_contains(r.reason, "not stapling at");
	ck_assert_uint_eq(notes.n, 1);
	assert_contains(notes.v[0], "a clock was ahead");
	sg_strlist_free(&notes);
	sg_target_free(&t);
}
END_TEST

/* A history file cut by 3 bytes (a crash, a full disk, a bad restore):
 * the next append starts at a record boundary again. */
START_TEST(history_cut_short_is_realigned)
{
	struct sg_target t;
	char state[600], file[800];
	struct stat st;
	struct sg_strlist notes = {0};
	time_t now = time(NULL);
	sg_result r;

	sg_target_parse("127.0.0.1:4433", &t);
	t.servername = "shop.example";
	dir_of_test(state, sizeof(state), "hist-cut");
	history_hours(state, &t, now - 3600, 6);
	snprintf(file, sizeof(file),
		 "%s/history/127.0.0.1_4433@shop.example.hist", state);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(truncate(file, st.st_size - 3), 0);
	ck_assert_int_eq(
		sg_history_append(state, &t, now - 3600, true, &notes).code,
		SG_OK);
	ck_assert_int_eq(sg_history_append(state, &t, now, true, NULL).code,
			 SG_OK);
	r = sg_history_check(state, &t, now, 3 * 3600, 3600 + 120);
	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_size % 8, 0);
	ck_assert_uint_eq(notes.n, 1);
	assert_contains(notes.v[0], file);
	sg_strlist_free(&notes);
	sg_target_free(&t);
}
END_TEST

/* The disk is full for the score log: monitor's probes are fine, but it
 * could not record them, and it says so in its state. */
START_TEST(monitor_full_disk_is_not_ok)
{
	struct scene s;
	struct cli_run r;
	char preload[700];
	const char *mon[] = {"monitor", "--config", NULL, NULL};
	const char *env[] = {preload, "ASAN_OPTIONS=verify_asan_link_order=0",
			     NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	mon[2] = s.config;
	cli_bounded(&r, NULL, mon, 20);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err); /* the control */
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s/tests/shim_enospc.so",
		 T_BUILD);
	cli_bounded(&r, env, mon, 20);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "No space left on device");
	assert_contains(r.err, "No space left on device");
	scene_end(&s);
}
END_TEST

Suite *records_suite(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("records");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, killed_append_never_glues_the_next_record);
	tcase_add_test(tc, cut_score_log_line_is_reported);
	tcase_add_test(tc, fifo_state_files_are_refused_not_waited_on);
	tcase_add_test(tc, write_atomic_survives_a_same_pid_leftover);
	tcase_add_test(tc, leftover_temp_files_are_ignored_and_swept);
	tcase_add_test(tc, damaged_pending_entry_hides_nothing_else);
	tcase_add_test(
		tc, sigterm_during_resume_leaves_unstarted_entries_unchanged);
	tcase_add_test(tc, history_record_from_a_clock_ahead_is_skipped);
	tcase_add_test(tc, history_cut_short_is_realigned);
	tcase_add_test(tc, monitor_full_disk_is_not_ok);
	suite_add_tcase(s, tc);
	return s;
}
