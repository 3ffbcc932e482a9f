/* Privilege separation (preflight/sandbox.h), through the binary: the
 * prober as the kernel sees it while it probes, and a prober that
 * misbehaves (a forbidden system call, a crash, garbage, a hang) always
 * refuses a Must-Staple certificate and never blocks a plain one. */
#include <linux/landlock.h>
#include <pwd.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#include "../preflight/clock.h"
#include "../preflight/sandbox.h"
#include "../preflight/strset.h"
#include "../preflight/wire.h"
#include "scene.h"
#include "servers.h"
#include "testutil.h"

/* The first child of pid, waiting up to 5 s for one; 0 if none. */
static pid_t first_child(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(path, "r");
		int kid = 0;

		if (f && fscanf(f, "%d", &kid) == 1 && kid > 0) {
			fclose(f);
			return kid;
		}
		if (f)
			fclose(f);
		usleep(25000);
	}
	return 0;
}

/* The value of a /proc/<pid>/status line ("Uid", "Seccomp"): its first
 * number, -1 when absent. */
static long status_field(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t len = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, name, len) == 0 && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* pid has exited (or is a zombie) within ms. */
static bool gone_within(pid_t pid, int ms)
{
	char path[64], stat[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int waited = 0; waited <= ms; waited += 25) {
		FILE *f = fopen(path, "r");
		char *end = NULL;

		if (f == NULL)
			return true;
		if (fgets(stat, sizeof(stat), f))
			end = strrchr(stat, ')');
		fclose(f);
		if (end && end[1] == ' ' && end[2] == 'Z')
			return true;
		usleep(25000);
	}
	return false;
}

/* A probe of a target that accepts and never answers keeps the prober
 * busy long enough to look at it: not root (when we are), no new
 * privileges, seccomp in filter mode; the parent keeps neither. */
START_TEST(prober_runs_unprivileged_under_seccomp)
{
	int port, fd = srv_listen_silent("127.0.0.1", &port);
	char target[32];
	const char *args[] = {
		"check",    "--cert",	       tpath("fullchain-ms.pem"),
		"--CAfile", tpath("root.pem"), "--target",
		target,	    "--timeout",       "20s",
		NULL};
	const struct passwd *nobody = getpwnam("nobody");
	struct cli_run r;
	pid_t pid, kid;

	ck_assert_int_ge(fd, 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	pid = cli_spawn(NULL, args);
	kid = first_child(pid);
	ck_assert_msg(kid > 0, "no prober under %d", (int)pid);
	usleep(200000); /* past its confinement, into the handshake */
	ck_assert_int_eq(status_field(kid, "Seccomp"), 2);
	ck_assert_int_eq(status_field(kid, "NoNewPrivs"), 1);
	if (geteuid() == 0) {
		ck_assert_ptr_nonnull(nobody);
		ck_assert_int_eq(status_field(kid, "Uid"),
				 (long)nobody->pw_uid);
		ck_assert_int_eq(status_field(kid, "Gid"),
				 (long)nobody->pw_gid);
		ck_assert_int_eq(status_field(pid, "Uid"), 0);
	}
	ck_assert_int_eq(status_field(pid, "Seccomp"), 0);
	kill(pid, SIGTERM);
	cli_collect(&r, pid);
	ck_assert_msg(r.status != 0, "exit %d", r.status);
	ck_assert(gone_within(kid, 2000)); /* the prober went with it */
	close(fd);
}
END_TEST

/* `user` names who the prober runs as; one that does not exist fails
 * every probe with its name, and a Must-Staple certificate is refused. */
START_TEST(unknown_user_refuses_with_its_name)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};

	if (geteuid() != 0)
		return; /* only root switches users */
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, "\"user\": \"no-such-user-sg\"");
	args[2] = s.config;
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 1, "exit %d %s", r.status, r.err);
	ck_assert(!exists(s.deployed));
	ck_assert_msg(strstr(r.err, "no-such-user-sg") != NULL, "%s", r.err);
	scene_end(&s);
}
END_TEST

static const struct {
	const char *fault; /* STAPLEGATE_TEST_PROBER */
	const char *reason;
} faults[] = {
	{"syscall", "prober killed by signal 31"},
	/* ASan reports the crash and exits instead */
	{"segv", "prober"},
	{"garbage", "prober: malformed answer"},
};

/* The hook as certbot runs it, with the prober made to misbehave and
 * a --deadline unless NULL. */
static void hook_with_fault(struct scene *s, struct cli_run *r,
			    const char *fault, const char *deadline)
{
	static char env_fault[64];
	const char *const *base = certbot_env(s);
	const char *env[] = {base[0], base[1], env_fault, NULL};
	const char *args[] = {"hook",	    "--config", s->config, "--",
			      s->deploy_sh, NULL,	NULL,	   NULL};

	if (deadline) {
		args[3] = "--deadline";
		args[4] = deadline;
		args[5] = "--";
		args[6] = s->deploy_sh;
	}
	snprintf(env_fault, sizeof(env_fault), "STAPLEGATE_TEST_PROBER=%s",
		 fault);
	cli_env(r, env, args);
}

/* `check` (the probe alone, no responder) fails the same way. */
static void check_with_fault(const struct scene *s, const char *fault,
			     const char *reason)
{
	char env_fault[64], target[32];
	const char *env[] = {env_fault, NULL};
	const char *args[] = {"check",
			      "--cert",
			      tpath("fullchain-ms.pem"),
			      "--CAfile",
			      tpath("root.pem"),
			      "--target",
			      target,
			      NULL};
	struct cli_run r;

	snprintf(env_fault, sizeof(env_fault), "STAPLEGATE_TEST_PROBER=%s",
		 fault);
	snprintf(target, sizeof(target), "127.0.0.1:%d", s->srv.port);
	cli_env(&r, env, args);
	ck_assert_msg(r.status != 0, "check %s: exit 0", fault);
	ck_assert_msg(strstr(r.err, reason) != NULL, "check %s: %s", fault,
		      r.err);
}

START_TEST(misbehaving_prober_refuses_must_staple)
{
	struct scene s;
	struct cli_run r;
	json_t *log;
	const char *reason;

	unlink("/tmp/staplegate-prober-escape");
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	hook_with_fault(&s, &r, faults[_i].fault, NULL);
	ck_assert_msg(r.status == 1, "%s: exit %d %s", faults[_i].fault,
		      r.status, r.err);
	ck_assert(!exists(s.deployed));
	ck_assert_msg(strstr(r.err, faults[_i].reason) != NULL, "%s: %s",
		      faults[_i].fault, r.err);
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "refused");
	reason = field(json_array_get(log, 1), "reason");
	ck_assert_msg(strstr(reason, faults[_i].reason) != NULL, "%s", reason);
	json_decref(log);
	check_with_fault(&s, faults[_i].fault, faults[_i].reason);
	ck_assert(!exists("/tmp/staplegate-prober-escape"));
	scene_end(&s);
}
END_TEST

/* The same prober failures never block a plain certificate. */
START_TEST(misbehaving_prober_never_blocks_a_plain_certificate)
{
	struct scene s;
	struct cli_run r;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	hook_with_fault(&s, &r, faults[_i].fault, NULL);
	ck_assert_msg(r.status == 0, "%s: exit %d %s", faults[_i].fault,
		      r.status, r.err);
	ck_assert(exists(s.deployed));
	scene_end(&s);
}
END_TEST

/* Where the kernel has Landlock, the prober reads nothing beyond what
 * probing needs: /etc/passwd is readable by anyone, but not by it (the
 * test-only trigger exits 3 when it can open it, failing the run). */
START_TEST(prober_cannot_read_beyond_what_it_needs)
{
	struct scene s;
	struct cli_run r;

	if (syscall(SYS_landlock_create_ruleset, NULL, 0,
		    LANDLOCK_CREATE_RULESET_VERSION) < 1)
		return; /* a kernel without Landlock */
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	hook_with_fault(&s, &r, "read", NULL);
	ck_assert_msg(r.status == 0, "exit %d %s", r.status, r.err);
	ck_assert(exists(s.deployed));
	scene_end(&s);
}
END_TEST

/* A prober that never answers is killed at the run's deadline (with a
 * few seconds' grace), and the run refuses in time. */
START_TEST(hanging_prober_is_killed_at_the_deadline)
{
	struct scene s;
	struct cli_run r;
	long long t0;
	long took;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	t0 = sg_now_ms();
	hook_with_fault(&s, &r, "hang", "5s");
	took = (long)(sg_now_ms() - t0);
	ck_assert_msg(r.status == 1, "exit %d %s", r.status, r.err);
	ck_assert(!exists(s.deployed));
	ck_assert_msg(strstr(r.err, "prober") != NULL, "%s", r.err);
	ck_assert_msg(took < 5000 + 6000, "took %ld ms", took);
	scene_end(&s);
}
END_TEST

/* --no-sandbox probes in the process and says so in every record. */
START_TEST(no_sandbox_is_written_in_every_record)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, NULL, "--", NULL, NULL};
	json_t *log;
	size_t first;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	args[3] = "--dry-run";
	args[5] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "exit %d %s", r.status, r.err);
	log = read_log(s.record);
	first = json_array_size(log);
	ck_assert_uint_ge(first, 1);
	for (size_t i = 0; i < first; i++)
		ck_assert_ptr_null(
			json_object_get(json_array_get(log, i), "no_sandbox"));
	json_decref(log);
	args[3] = "--no-sandbox";
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "exit %d %s", r.status, r.err);
	log = read_log(s.record);
	ck_assert_uint_gt(json_array_size(log), first);
	for (size_t i = first; i < json_array_size(log); i++)
		ck_assert(json_is_true(
			json_object_get(json_array_get(log, i), "no_sandbox")));
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* The parent's reading of an answer, against jobs that lie: each must
 * fail the call with a reason starting "prober", whether the job ran in
 * a confined child (_i 0) or in this process (--no-sandbox, _i 1). */
static sg_result lie(void *arg, FILE *out)
{
	const char *text = arg;

	if (strcmp(text, "long") == 0) {
		for (int i = 0; i < 300000; i++)
			putc('x', out);
		return sg_ok();
	}
	fputs(text, out);
	return sg_ok();
}

static sg_result take_any(void *arg, const char *type, json_t *line)
{
	(void)arg;
	(void)type;
	(void)line;
	return sg_ok();
}

START_TEST(lying_answers_are_refused)
{
	static const struct {
		const char *text, *reason;
	} cases[] = {
		{"not json\n", "malformed answer"},
		{"{\"v\":2,\"t\":\"x\"}\n", "another version"},
		{"{\"v\":1}\n", "without a type"},
		{"{\"v\":1,\"t\":\"end\",\"code\":0,\"reason\":\"\"}\n"
		 "{\"v\":1,\"t\":\"x\"}\n",
		 "goes on after its end"},
		{"{\"v\":1,\"t\":\"x\"}", "malformed answer"},
		{"long", "too long"},
		/* Jansson's parser refuses NUL; sg_wire_str would too */
		{"{\"v\":1,\"t\":\"end\",\"code\":1,\"reason\":\"a\\u0000b\"}"
		 "\n",
		 "malformed answer"},
		{"{\"v\":1,\"t\":\"end\",\"code\":9,\"reason\":\"\"}\n",
		 "end: bad field code"},
	};
	struct sg_sandbox_call c = {.what = "test",
				    .job = lie,
				    .take = take_any,
				    .max_bytes = 1 << 20};

	sg_sandbox_setup(NULL, _i == 1);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		sg_result r;

		c.arg = (void *)cases[k].text;
		r = sg_sandbox_run(&c);
		ck_assert_msg(r.code != SG_OK, "case %zu accepted", k);
		ck_assert_msg(strncmp(r.reason, "prober", 6) == 0 &&
				      strstr(r.reason, cases[k].reason),
			      "case %zu: %s", k, r.reason);
	}
	c.arg = (void *)"{\"v\":1,\"t\":\"x\"}\n";
	c.max_bytes = 8;
	ck_assert(strstr(sg_sandbox_run(&c).reason, "longer than 8 bytes"));
}
END_TEST

/* Each field of a line is checked: a staple and a certificate record
 * survive the trip whole, and anything missing, extra, out of range or
 * inconsistent fails the line. */
START_TEST(wire_fields_are_checked)
{
	struct sg_staple s, back;
	struct sg_wire w;
	json_t *line, *st;

	sg_staple_init(&s); /* zeroes the padding too: compared whole below */
	s.present = s.valid = s.fresh = true;
	s.status = SG_STATUS_GOOD;
	s.this_update = 1000;
	s.next_update = 2000;
	s.seconds_left = 99;
	s.revoke_reason = -1;
	s.reason = sg_text("fresh staple");
	line = json_pack("{s:o}", "staple", sg_wire_put_staple(&s));
	st = json_object_get(line, "staple");
	sg_wire_begin(&w, line, "test");
	sg_wire_take_staple(&w, "staple", &back);
	ck_assert_int_eq(sg_wire_end(&w).code, SG_OK);
	/* the texts by value: "" literals of two files need not be one */
	ck_assert_str_eq(back.reason, s.reason);
	ck_assert_str_eq(back.signer_subject, s.signer_subject);
	back.reason = s.reason;
	back.signer_subject = s.signer_subject;
	ck_assert(memcmp(&s, &back, sizeof(s)) == 0);
	/* valid but revoked: what the verdict relies on must hang together */
	json_object_set_new(st, "status", json_integer(SG_STATUS_REVOKED));
	sg_wire_begin(&w, line, "test");
	sg_wire_take_staple(&w, "staple", &back);
	ck_assert_int_ne(sg_wire_end(&w).code, SG_OK);
	ck_assert(!back.valid);
	json_object_set_new(st, "status", json_integer(7));
	sg_wire_begin(&w, line, "test");
	sg_wire_take_staple(&w, "staple", &back);
	ck_assert(strstr(sg_wire_end(&w).reason, "bad field status"));
	json_object_set_new(st, "status", json_integer(SG_STATUS_GOOD));
	json_object_set_new(st, "extra", json_true());
	sg_wire_begin(&w, line, "test");
	sg_wire_take_staple(&w, "staple", &back);
	ck_assert(strstr(sg_wire_end(&w).reason, "unknown field"));
	json_object_del(st, "extra");
	json_object_del(st, "fresh");
	sg_wire_begin(&w, line, "test");
	sg_wire_take_staple(&w, "staple", &back);
	ck_assert(strstr(sg_wire_end(&w).reason, "no field fresh"));
	json_object_set_new(st, "fresh", json_true());
	json_object_set_new(st, "reason", json_stringn("a\0b", 3));
	sg_wire_begin(&w, line, "test");
	sg_wire_take_staple(&w, "staple", &back);
	ck_assert(strstr(sg_wire_end(&w).reason, "bad field reason"));
	json_decref(line);
}
END_TEST

START_TEST(wire_certificate_record_round_trip)
{
	struct sg_certinfo info, back;
	struct sg_wire w;
	json_t *line;
	size_t len;
	unsigned char *der;

	ck_assert_int_eq(sg_certinfo_read(T_PKI->leaf_ms, &info).code, SG_OK);
	sg_certinfo_read_issuer(T_PKI->ca, &info);
	line = json_pack("{s:o, s:o}", "info", sg_wire_put_certinfo(&info),
			 "der",
			 sg_wire_put_bytes((const unsigned char *)"abcd", 4));
	sg_wire_begin(&w, line, "test");
	sg_wire_take_certinfo(&w, "info", &back);
	der = sg_wire_bytes(&w, "der", 4, &len);
	ck_assert_int_eq(sg_wire_end(&w).code, SG_OK);
	ck_assert_str_eq(back.sha256, info.sha256);
	ck_assert_str_eq(back.subject, info.subject);
	ck_assert_uint_eq(back.dns_names.n, info.dns_names.n);
	ck_assert_str_eq(back.ocsp_urls.v[0], info.ocsp_urls.v[0]);
	ck_assert(back.features.must_staple && back.features.n == 1 &&
		  back.features.values[0] == 5);
	ck_assert(back.not_after == info.not_after);
	ck_assert(len == 4 && memcmp(der, "abcd", 4) == 0);
	free(der);
	sg_certinfo_free(&back);
	/* more bytes than allowed */
	sg_wire_begin(&w, line, "test");
	sg_wire_take_certinfo(&w, "info", &back);
	ck_assert_ptr_null(sg_wire_bytes(&w, "der", 3, &len));
	ck_assert_int_ne(sg_wire_end(&w).code, SG_OK);
	sg_certinfo_free(&back);
	sg_certinfo_free(&info);
	json_decref(line);
}
END_TEST

Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");
	size_t nfaults = sizeof(faults) / sizeof(faults[0]);

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, prober_runs_unprivileged_under_seccomp);
	tcase_add_test(tc, unknown_user_refuses_with_its_name);
	tcase_add_loop_test(tc, misbehaving_prober_refuses_must_staple, 0,
			    (int)nfaults);
	tcase_add_loop_test(tc,
			    misbehaving_prober_never_blocks_a_plain_certificate,
			    0, (int)nfaults);
	tcase_add_test(tc, prober_cannot_read_beyond_what_it_needs);
	tcase_add_test(tc, hanging_prober_is_killed_at_the_deadline);
	tcase_add_test(tc, no_sandbox_is_written_in_every_record);
	suite_add_tcase(s, tc);
	tc = tcase_create("answer");
	tcase_add_loop_test(tc, lying_answers_are_refused, 0, 2);
	tcase_add_test(tc, wire_fields_are_checked);
	tcase_add_test(tc, wire_certificate_record_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
