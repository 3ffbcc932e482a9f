/* staplegate hook end to end: real files laid out as each ACME client
 * lays them out, a real OCSP responder and a real TLS server on
 * loopback, a real deploy command, and the score log read back. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ocsp.h>

#include "scene.h"
#include "tnginx.h"
#include "servers.h"
#include "testutil.h"

/* The scene most tests share, once scene_begin and any change to it are
 * done: the server started, the config written (extra: more keys, or
 * NULL), and `hook --config CONFIG -- DEPLOY_SH` run as certbot runs it. */
static void run_hook_scene(struct scene *s, const char *extra,
			   struct cli_run *r)
{
	const char *args[] = {"hook", "--config",   s->config,
			      "--",   s->deploy_sh, NULL};

	scene_start_server(s);
	scene_config(s, extra);
	hook_certbot(s, r, args);
}

START_TEST(certbot_must_staple_ready_deploys_and_settles)
{
	struct scene s;
	struct cli_run r;
	json_t *log;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	run_hook_scene(&s, NULL, &r);
	ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
	ck_assert(exists(s.deployed));
	assert_contains(r.out, "staplegate: deployed shop.example (certbot, "
			       "Must-Staple)");
	assert_contains(r.out, "settled");
	log = read_log(s.record);
	ck_assert_int_eq(json_array_size(log), 2);
	ck_assert_str_eq(field(json_array_get(log, 0), "kind"), "decision");
	ck_assert_str_eq(field(json_array_get(log, 0), "decision"), "allow");
	ck_assert_str_eq(field(json_array_get(log, 0), "client"), "certbot");
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "deployed");
	ck_assert_str_eq(field(json_array_get(log, 0), "run_id"),
			 field(json_array_get(log, 1), "run_id"));
	ck_assert(json_is_true(json_object_get(
		json_object_get(json_array_get(log, 0), "responder"),
		"ready")));
	ck_assert_int_ge(s.resp.requests, 1);
	json_decref(log);
	scene_end(&s);
}
END_TEST

START_TEST(server_not_stapling_refuses_and_never_deploys)
{
	struct scene s;
	struct cli_run r;
	json_t *log, *targets;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.staple = NULL;
	run_hook_scene(&s, "\"attempts\": 2", &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "REFUSED shop.example");
	assert_contains(r.err, "no staple");
	log = read_log(s.record);
	ck_assert_int_eq(json_array_size(log), 2);
	ck_assert_str_eq(field(json_array_get(log, 0), "decision"), "refuse");
	targets = json_object_get(json_array_get(log, 0), "targets");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(targets, 0), "webq96")),
			 60);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "refused");
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* The responder must vouch for the new certificate first. */
START_TEST(responder_not_ready_refuses)
{
	static const struct {
		enum tr_mode mode;
		int status;
		long delay_ms;
		bool other_cert;
		const char *reason;
	} cases[] = {
		{TR_STATUS, V_OCSP_CERTSTATUS_REVOKED, 0, false, "revoked"},
		{TR_STATUS, V_OCSP_CERTSTATUS_GOOD, 0, true,
		 "staple is for serial"},
		{TR_GARBAGE, 0, 0, false, "not a DER OCSP response"},
		{TR_HTTP500, 0, 0, false, "HTTP status 500"},
		{TR_HUGE, 0, 0, false, "response larger than 65536 bytes"},
		{TR_STATUS, V_OCSP_CERTSTATUS_GOOD, 2500, false, "imeout"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scene s;
		struct cli_run r;

		scene_begin(&s, true, cases[i].status);
		s.resp.mode = cases[i].mode;
		s.resp.delay_ms = cases[i].delay_ms;
		s.resp.answer_for =
			cases[i].other_cert ? T_PKI->leaf_plain : NULL;
		run_hook_scene(&s, "\"timeout\": \"1s\"", &r);
		ck_assert_msg(r.status == 1, "case %zu: exit %d %s", i,
			      r.status, r.err);
		ck_assert(!exists(s.deployed));
		assert_contains(r.err, "responder not ready");
		assert_contains(r.err, cases[i].reason);
		scene_end(&s);
	}
}
END_TEST

/* A responder that refuses POST: the short request is sent by GET. */
START_TEST(responder_get_fallback)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, "--dry-run", NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.resp.mode = TR_GET_ONLY;
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_int_eq(s.resp.requests, 2); /* POST refused, then GET */
	scene_end(&s);
}
END_TEST

START_TEST(responder_down_refuses)
{
	struct scene s;
	struct cli_run r;
	int hold;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	tr_stop(&s.resp);
	/* nothing listens at the AIA URL any more, and the port is held so
	 * the test server started next cannot be given it */
	hold = srv_hold_port(s.resp.port);
	ck_assert_int_ge(hold, 0);
	run_hook_scene(&s, NULL, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "Couldn't connect");
	close(hold);
	ts_stop(&s.srv);
	s.srv.thread = 0;
	X509_free(s.newcert);
	OPENSSL_free(s.old_staple);
	OPENSSL_free(s.new_staple);
}
END_TEST

/* execvp, no shell: spaces and metacharacters arrive as written. */
START_TEST(deploy_arguments_reach_the_command_unchanged)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook",
			      "--config",
			      NULL,
			      "--",
			      NULL,
			      "two words",
			      "$HOME;rm -rf /tmp/x",
			      "*",
			      "'q'",
			      NULL};
	char file[700], got[512] = "";
	FILE *f;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	snprintf(file, sizeof(file), "%s/deploy.args", s.dir);
	f = fopen(file, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(fread(got, 1, sizeof(got) - 1, f), 0);
	fclose(f);
	ck_assert_str_eq(got, "two words\n$HOME;rm -rf /tmp/x\n*\n'q'\n");
	scene_end(&s);
}
END_TEST

/* A proxy keeps serving the old certificate: settle fails, the rollback
 * command runs. */
START_TEST(settle_failure_runs_rollback)
{
	struct scene s;
	struct cli_run r;
	json_t *log;
	char rolled[700];

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.swap_file = NULL;
	run_hook_scene(&s, "\"settle_timeout\": \"2s\"", &r);
	ck_assert_msg(r.status == 1, "exit %d: %s%s", r.status, r.out, r.err);
	ck_assert(exists(s.deployed));
	snprintf(rolled, sizeof(rolled), "%s/rolled-back", s.dir);
	ck_assert(exists(rolled));
	assert_contains(r.err, "still serving another certificate");
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"),
			 "rolled-back");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(log, 1), "deploy_exit_status")),
			 0);
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* nginx staples lazily after a reload: settle waits for it, and counts
 * consecutive good handshakes. */
START_TEST(settle_waits_for_lazy_stapling)
{
	struct scene s;
	struct cli_run r;
	json_t *log, *settle;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.staple2_from = 3;
	run_hook_scene(&s, "\"settle_handshakes\": 2", &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	log = read_log(s.record);
	settle = log_settle(log);
	ck_assert(json_is_true(json_object_get(settle, "settled")));
	ck_assert_int_eq(
		json_integer_value(json_object_get(settle, "handshakes")), 4);
	json_decref(log);
	scene_end(&s);
}
END_TEST

START_TEST(failing_deploy_command_exits_1)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL,	    "--",
			      "sh",   "-c",	  "exit 3", NULL};
	json_t *log;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.err, "failed with exit status 3");
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"),
			 "deploy-failed");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(log, 1), "deploy_exit_status")),
			 3);
	json_decref(log);
	args[4] = "/nonexistent/reload";
	args[5] = NULL;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.err,
			"cannot execute /nonexistent/reload: No such file");
	scene_end(&s);
}
END_TEST

/* The hook bounds its own run: a deploy command still running at the
 * deadline is killed, and the record says so. */
START_TEST(deadline_kills_a_hanging_deploy)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, "--deadline", "7s",
			      "--",   "sleep",	  "60", NULL};
	json_t *log;
	long long t0 = time(NULL);

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_le(time(NULL) - t0, 8);
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "deadline");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(log, 1), "deploy_exit_status")),
			 128 + SIGTERM);
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* An unwritable score log never stops a non-Must-Staple deployment; it
 * is reported after it (exit 2). */
START_TEST(unwritable_log_does_not_stop_plain_deploy)
{
	struct scene s;
	struct cli_run r;
	char rec[700];
	const char *args[] = {"hook", "--record", rec, "--", NULL, NULL};

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	snprintf(rec, sizeof(rec), "%s/deploy.sh/scores.jsonl", s.dir);
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 2);
	ck_assert(exists(s.deployed));
	assert_contains(r.err, "not a directory");
	scene_end(&s);
}
END_TEST

START_TEST(plain_cert_deploys_without_config)
{
	struct scene s;
	struct cli_run r;
	char rec[700];
	const char *args[] = {"hook", "--record", rec, "--", NULL, NULL};
	json_t *log;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	snprintf(rec, sizeof(rec), "%s", s.record);
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(exists(s.deployed));
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 0), "decision"), "allow");
	ck_assert(json_is_false(
		json_object_get(json_array_get(log, 0), "must_staple")));
	json_decref(log);
	scene_end(&s);
}
END_TEST

START_TEST(config_error_names_key_and_position)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook",	"--config", NULL, "--record",
			      s.record, "--",	    NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, "\"setle_timeout\": \"5s\"");
	args[2] = s.config;
	args[6] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 2);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "config.json:8:5: defaults.setle_timeout: "
			       "unknown key");
	scene_end(&s);
	/* The same error does not stop a non-Must-Staple deployment. */
	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_config(&s, "\"timeout\": \"5 years\"");
	args[2] = s.config;
	args[6] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 2);
	ck_assert(exists(s.deployed));
	assert_contains(r.err, "defaults.timeout: invalid or out-of-range "
			       "duration");
	scene_end(&s);
}
END_TEST

START_TEST(must_staple_without_targets_is_refused)
{
	struct scene s;
	struct cli_run r;
	char text[600];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s\", \"state_dir\": \"%s\"}, "
		 "\"domains\": {\"other.example\": {\"targets\": "
		 "[\"127.0.0.1:1\"]}}}",
		 s.record, s.state);
	write_text(s.config, text, 0644);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "no targets configured for shop.example: "
			       "cannot prove stapling");
	scene_end(&s);
}
END_TEST

/* acme.sh and lego (v4 bundle, v5 names) find the same certificate. */
START_TEST(acmesh_and_lego_environments)
{
	struct scene s;
	char path[3][800];
	const char *args[] = {"hook", "--config", NULL, "--dry-run", NULL};
	const struct {
		const char *what, *path_var, *file, *env[3], *want;
	} clients[] = {
		{"acme.sh",
		 "CERT_PATH",
		 "cert.pem",
		 {"Le_Domain=shop.example", NULL},
		 "dry-run shop.example (acme.sh"},
		{"lego v4",
		 "LEGO_CERT_PATH",
		 "fullchain.pem",
		 {"LEGO_CERT_DOMAIN=shop.example", NULL},
		 "dry-run shop.example (lego"},
		{"lego v5",
		 "LEGO_HOOK_CERT_PATH",
		 "fullchain.pem",
		 {"LEGO_HOOK_CERT_NAME=shop.example",
		  "LEGO_HOOK_CERT_DOMAINS=shop.example"},
		 "dry-run shop.example (lego"},
	};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	snprintf(path[2], sizeof(path[2]), "CA_CERT_PATH=%s/chain.pem",
		 s.lineage);
	for (int i = 0; i < 3; i++) {
		const char *env[5] = {path[0], clients[i].env[0],
				      clients[i].env[1]};
		struct cli_run r;

		snprintf(path[0], sizeof(path[0]), "%s=%s/%s",
			 clients[i].path_var, s.lineage, clients[i].file);
		if (i == 0) /* acme.sh exports the chain beside the leaf */
			env[clients[i].env[1] ? 3 : 2] = path[2];
		cli_env(&r, env, args);
		ck_assert_msg(r.status == 0, "%s: %s%s", clients[i].what, r.out,
			      r.err);
		assert_contains(r.out, clients[i].want);
	}
	ck_assert(!exists(s.deployed));
	scene_end(&s);
}
END_TEST

START_TEST(explicit_cert_overrides_environment)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook",
			      "--config",
			      NULL,
			      "--cert",
			      tpath("fullchain-noocsp-ms.pem"),
			      "--dry-run",
			      NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.err, "names no OCSP responder");
	assert_contains(r.err, "require_history");
	scene_end(&s);
}
END_TEST

/* Certificate-level refusals come before any target: a TLS Feature
 * Firefox cannot satisfy (even without Must-Staple), or a certificate
 * outside its validity. */
START_TEST(hook_refuses_certificates_firefox_cannot_use)
{
	static const struct {
		const char *file, *want;
	} cases[] = {
		{"fullchain-v2.pem", "TLS Feature lists 17"},
		{"fullchain-expired-ms.pem", "new certificate expired on"},
	};
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config",  NULL, "--cert",
			      NULL,   "--dry-run", NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	args[2] = s.config;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		args[4] = tpath(cases[i].file);
		hook_certbot(&s, &r, args);
		ck_assert_msg(r.status == 1, "%s: exit %d: %s%s", cases[i].file,
			      r.status, r.out, r.err);
		assert_contains(r.err, cases[i].want);
	}
	scene_end(&s);
}
END_TEST

START_TEST(no_client_environment_exits_2)
{
	struct cli_run r;
	const char *args[] = {"hook", "--", "true", NULL};

	cli_env(&r, NULL, args);
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "RENEWED_LINEAGE (certbot), CERT_PATH "
			       "(acme.sh), LEGO_HOOK_CERT_PATH or "
			       "LEGO_CERT_PATH (lego)");
}
END_TEST

START_TEST(symlinked_score_log_is_refused)
{
	struct scene s;
	struct cli_run r;
	char state[700], victim[700];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(state, sizeof(state), "%s/state", s.dir);
	mkdir(state, 0750);
	snprintf(victim, sizeof(victim), "%s/victim", s.dir);
	write_text(victim, "precious\n", 0644);
	ck_assert_int_eq(symlink(victim, s.record), 0);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 2);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "is a symlink, refused");
	scene_end(&s);
}
END_TEST

/* 50 hooks at once: 50 intact decision + outcome pairs. */
START_TEST(concurrent_hooks_keep_every_record)
{
	enum { N = 50 };
	struct scene s;
	pid_t kids[N];
	json_t *log;
	int decisions = 0, outcomes = 0;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			struct cli_run r;
			const char *args[] = {"hook", "--config", s.config,
					      "--dry-run", NULL};

			hook_certbot(&s, &r, args);
			if (r.status != 0)
				fprintf(stderr, "hook %d: %s%s", i, r.out,
					r.err);
			_exit(r.status);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;

		waitpid(kids[i], &st, 0);
		ck_assert_int_eq(WEXITSTATUS(st), 0);
	}
	log = read_log(s.record);
	ck_assert_int_eq(json_array_size(log), 2 * N);
	for (size_t i = 0; i < json_array_size(log); i++) {
		const char *kind = field(json_array_get(log, i), "kind");

		decisions += strcmp(kind, "decision") == 0;
		outcomes += strcmp(kind, "outcome") == 0;
	}
	ck_assert_int_eq(decisions, N);
	ck_assert_int_eq(outcomes, N);
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* While another writer holds the log's lock, a hook's append waits. */
START_TEST(append_waits_for_the_lock)
{
	struct scene s;
	char state[700];
	int fd, st;
	pid_t kid;
	json_t *log;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	snprintf(state, sizeof(state), "%s/state", s.dir);
	mkdir(state, 0750);
	fd = open(s.record, O_WRONLY | O_CREAT | O_APPEND, 0640);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	kid = fork();
	if (kid == 0) {
		struct cli_run r;
		const char *args[] = {"hook", "--record", s.record, "--dry-run",
				      NULL};

		hook_certbot(&s, &r, args);
		_exit(r.status);
	}
	usleep(700 * 1000);
	ck_assert_int_eq(waitpid(kid, &st, WNOHANG), 0); /* still waiting */
	log = read_log(s.record);
	ck_assert_int_eq(json_array_size(log), 0);
	json_decref(log);
	flock(fd, LOCK_UN);
	close(fd);
	waitpid(kid, &st, 0);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	log = read_log(s.record);
	ck_assert_int_eq(json_array_size(log), 2);
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* nginx (Debian's) stapling live from the test responder, two workers,
 * each fetching lazily: the pre-flight needs retries, the settle after
 * the reload waits for the new certificate's staples. */
START_TEST(nginx_lazy_stapling_preflight_and_settle)
{
	struct scene s;
	struct nginx n;
	struct cli_run r;
	char text[2048], script[700], targets[64];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	json_t *log, *t0, *settle;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	snprintf(text, sizeof(text),
		 "ssl_stapling_responder http://127.0.0.1:%d/;", s.resp.port);
	nginx_start(&n, &s, text);
	/* The deploy: put the new certificate in place, reload nginx. */
	snprintf(script, sizeof(script), "%s/deploy-nginx.sh", s.dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\ncat '%s/fullchain.pem' > '%s'\n"
		 "exec nginx -p '%s' -c '%s' -s reload\n",
		 s.lineage, n.cert, n.prefix, n.conf);
	write_text(script, text, 0755);
	snprintf(targets, sizeof(targets), "127.0.0.1:%d", n.port);
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s\", \"state_dir\": "
		 "\"%s/state\", "
		 "\"cafile\": \"%s\", "
		 "\"attempts\": 8, \"retry_delay\": \"0s\", "
		 "\"settle_handshakes\": 3, \"settle_timeout\": \"20s\"},"
		 " \"domains\": {\"shop.example\": {\"targets\": [\"%s\"]}}}",
		 s.record, s.dir, tpath("root.pem"), targets);
	write_text(s.config, text, 0644);
	args[2] = s.config;
	args[4] = script;
	hook_certbot(&s, &r, args);
	nginx_stop(&n);
	ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
	log = read_log(s.record);
	t0 = json_array_get(json_object_get(json_array_get(log, 0), "targets"),
			    0);
	/* nginx sent no staple on its first handshake: attempts > 1. */
	ck_assert_int_gt(json_integer_value(json_object_get(t0, "attempts")),
			 1);
	settle = log_settle(log);
	ck_assert(json_is_true(json_object_get(settle, "settled")));
	ck_assert(json_is_true(json_object_get(settle, "serving_new_cert")));
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* certbot + pebble, both from Debian, on loopback (tests/e2e_certbot.sh
 * asserts the details; its last line says what it proved). */
START_TEST(certbot_and_pebble_end_to_end)
{
	char cmd[1200], log[700], out[4096] = "";
	FILE *f;
	int st;

	snprintf(log, sizeof(log), "%s/e2e.log", T_PKI->dir);
	snprintf(cmd, sizeof(cmd), "bash tests/e2e_certbot.sh '%s' >'%s' 2>&1",
		 T_BUILD, log);
	st = system(cmd);
	f = fopen(log, "r");
	if (f) {
		size_t n = fread(out, 1, sizeof(out) - 1, f);

		out[n] = '\0';
		fclose(f);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
	assert_contains(out, "e2e certbot: ok");
}
END_TEST

Suite *hook_suite(void)
{
	Suite *s = suite_create("hook");
	TCase *tc = tcase_create("gate");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, certbot_must_staple_ready_deploys_and_settles);
	tcase_add_test(tc, server_not_stapling_refuses_and_never_deploys);
	tcase_add_test(tc, responder_not_ready_refuses);
	tcase_add_test(tc, responder_down_refuses);
	tcase_add_test(tc, responder_get_fallback);
	tcase_add_test(tc, deploy_arguments_reach_the_command_unchanged);
	tcase_add_test(tc, settle_failure_runs_rollback);
	tcase_add_test(tc, settle_waits_for_lazy_stapling);
	tcase_add_test(tc, plain_cert_deploys_without_config);
	tcase_add_test(tc, failing_deploy_command_exits_1);
	tcase_add_test(tc, deadline_kills_a_hanging_deploy);
	tcase_add_test(tc, unwritable_log_does_not_stop_plain_deploy);
	tcase_add_test(tc, config_error_names_key_and_position);
	tcase_add_test(tc, must_staple_without_targets_is_refused);
	tcase_add_test(tc, acmesh_and_lego_environments);
	tcase_add_test(tc, explicit_cert_overrides_environment);
	tcase_add_test(tc, hook_refuses_certificates_firefox_cannot_use);
	tcase_add_test(tc, no_client_environment_exits_2);
	tcase_add_test(tc, symlinked_score_log_is_refused);
	tcase_add_test(tc, concurrent_hooks_keep_every_record);
	tcase_add_test(tc, append_waits_for_the_lock);
	suite_add_tcase(s, tc);
	tc = tcase_create("nginx");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nginx_lazy_stapling_preflight_and_settle);
	suite_add_tcase(s, tc);
	tc = tcase_create("e2e");
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, certbot_and_pebble_end_to_end);
	suite_add_tcase(s, tc);
	return s;
}
