/* staplegate monitor as a Nagios plugin and Prometheus exporter, and the
 * stapling history behind the "prove stapling first" gate. */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ocsp.h>

#include "../preflight/history.h"
#include "../preflight/prom.h"
#include "scene.h"
#include "testutil.h"
#include "servers.h"
#include "tnginx.h"
#include "tserver.h"

/* Three servers of the Must-Staple leaf: 7 days of staple, 30 hours of
 * staple, and no staple. */
struct fleet {
	struct tserver srv[3];
	unsigned char *der[2];
	char config[700], record[700], state[700], prom[700];
};

static void fleet_start(struct fleet *f, const char *dir, int which)
{
	struct fx_staple_opts o = fx_staple_good();
	size_t len[2];
	char text[2048], targets[256] = "";

	f->der[0] = fx_staple(T_PKI->leaf_ms, T_PKI->ca, T_PKI->ca,
			      T_PKI->ca_key, &o, &len[0]);
	o.next_off = 30 * 3600;
	f->der[1] = fx_staple(T_PKI->leaf_ms, T_PKI->ca, T_PKI->ca,
			      T_PKI->ca_key, &o, &len[1]);
	for (int i = 0; i < 3; i++) {
		f->srv[i] = tserver_ms(i < 2 ? f->der[i] : NULL,
				       i < 2 ? len[i] : 0);
		ck_assert_int_eq(ts_start(&f->srv[i]), 0);
		if (which & (1 << i))
			snprintf(targets + strlen(targets),
				 sizeof(targets) - strlen(targets),
				 "%s\"127.0.0.1:%d\"", targets[0] ? ", " : "",
				 f->srv[i].port);
	}
	snprintf(f->config, sizeof(f->config), "%s/monitor.json", dir);
	snprintf(f->record, sizeof(f->record), "%s/scores.jsonl", dir);
	snprintf(f->state, sizeof(f->state), "%s/state", dir);
	snprintf(f->prom, sizeof(f->prom), "%s/staplegate.prom", dir);
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s\", \"state_dir\": \"%s\", "
		 "\"cafile\": \"%s\", \"attempts\": 1}, \"domains\": "
		 "{\"shop.example\": {\"targets\": [%s]}}}",
		 f->record, f->state, tpath("root.pem"), targets);
	write_text(f->config, text, 0644);
}

static void fleet_stop(struct fleet *f)
{
	for (int i = 0; i < 3; i++)
		ts_stop(&f->srv[i]);
	OPENSSL_free(f->der[0]);
	OPENSSL_free(f->der[1]);
}

static void monitor(struct fleet *f, struct cli_run *r)
{
	cli(r, "monitor", "--config", f->config, "--prom", f->prom, NULL);
}

/* A responder whose responses claim more than 10 days: Firefox counts
 * them as expired 10 days after thisUpdate, so the time a server seems
 * to have left is shorter than it says. */
START_TEST(monitor_warns_of_responses_valid_over_ten_days)
{
	struct fx_staple_opts o = fx_staple_good();
	size_t len;
	unsigned char *der;
	struct tserver t;
	struct cli_run r;
	char dir[600], config[700], text[1500];

	o.next_off = 14L * 86400 - 3600;
	der = fx_staple(T_PKI->leaf_ms, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, &o,
			&len);
	t = tserver_ms(der, len);
	ck_assert_int_eq(ts_start(&t), 0);
	snprintf(dir, sizeof(dir), "%s/mon-long-%d", T_PKI->dir, getpid());
	mkdir(dir, 0700);
	snprintf(config, sizeof(config), "%s/monitor.json", dir);
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s/scores.jsonl\", "
		 "\"state_dir\": \"%s/state\", \"cafile\": \"%s\", "
		 "\"attempts\": 1}, \"domains\": {\"shop.example\": "
		 "{\"targets\": [\"127.0.0.1:%d\"]}}}",
		 dir, dir, tpath("root.pem"), t.port);
	write_text(config, text, 0644);
	cli(&r, "monitor", "--config", config, NULL);
	ts_stop(&t);
	OPENSSL_free(der);
	ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.out);
	assert_contains(r.out, "STAPLEGATE WARNING");
	assert_contains(r.out, "valid for 14d");
	assert_contains(r.out, "Firefox's 10-day cap");
}
END_TEST

START_TEST(monitor_states_follow_the_plugin_guidelines)
{
	static const struct {
		int which, status;
		const char *line;
	} cases[] = {
		{1, 0,
		 "STAPLEGATE OK - 1 targets: 1 ok, 0 warning, 0 critical"},
		{2, 1, "STAPLEGATE WARNING - 1 targets: 0 ok, 1 warning"},
		{4, 2,
		 "STAPLEGATE CRITICAL - 1 targets: 0 ok, 0 warning, 1 "
		 "critical"},
		{7, 2,
		 "STAPLEGATE CRITICAL - 3 targets: 1 ok, 1 warning, 1 "
		 "critical"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fleet f;
		struct cli_run r;
		char dir[600], perf[64];

		snprintf(dir, sizeof(dir), "%s/mon-%d-%zu", T_PKI->dir,
			 getpid(), i);
		mkdir(dir, 0700);
		fleet_start(&f, dir, cases[i].which);
		monitor(&f, &r);
		ck_assert_msg(r.status == cases[i].status, "case %zu: %d %s", i,
			      r.status, r.out);
		assert_contains(r.out, cases[i].line);
		ck_assert_msg(strchr(r.out, '\n') == r.out + strlen(r.out) - 1,
			      "not one line: %s", r.out);
		snprintf(perf, sizeof(perf), "'127.0.0.1:%d webq96'=",
			 f.srv[__builtin_ctz(cases[i].which)].port);
		assert_contains(r.out, perf);
		fleet_stop(&f);
	}
}
END_TEST

/* The monitor record is written one target at a time (a whole JSON tree
 * of 10,000 targets cost more memory than the probes): it must still be
 * one line, exactly the compact JSON the tree gives, in its key order. */
START_TEST(monitor_record_is_the_json_a_tree_gives)
{
	struct fleet f;
	struct cli_run r;
	char dir[600], line[8192];
	FILE *in;
	json_error_t err;
	json_t *rec, *targets;
	char *again;

	snprintf(dir, sizeof(dir), "%s/monrec-%d", T_PKI->dir, getpid());
	mkdir(dir, 0700);
	fleet_start(&f, dir, 7);
	monitor(&f, &r);
	fleet_stop(&f);
	in = fopen(f.record, "r");
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), in));
	ck_assert_int_eq(fgetc(in), EOF); /* one record, one line */
	fclose(in);
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	line[strlen(line) - 1] = '\0';
	rec = json_loads(line, 0, &err);
	ck_assert_msg(rec != NULL, "%s: %s", err.text, line);
	again = json_dumps(rec, JSON_COMPACT);
	ck_assert_str_eq(again, line);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "kind")),
			 "monitor");
	targets = json_object_get(rec, "targets");
	ck_assert_int_eq(json_array_size(targets), 3);
	for (int i = 0; i < 3; i++) {
		char spec[32];

		snprintf(spec, sizeof(spec), "127.0.0.1:%d", f.srv[i].port);
		ck_assert_str_eq(
			json_string_value(json_object_get(
				json_array_get(targets, (size_t)i), "target")),
			spec);
	}
	ck_assert_int_eq(
		json_array_size(json_object_get(rec, "must_staple_targets")),
		3);
	ck_assert_ptr_nonnull(json_object_get(rec, "summary"));
	free(again);
	json_decref(rec);
}
END_TEST

/* A pending entry for shop.example, refused an hour ago, while the
 * targets serve a certificate expiring in days_left days. */
static void write_pending(const char *file, time_t now, long days_left)
{
	char entry[1024];

	snprintf(entry, sizeof(entry),
		 "{\"lineage\": \"shop.example\", \"client\": \"certbot\", "
		 "\"first_refused\": %ld, \"served_not_after\": %ld, "
		 "\"reason\": \"no staple\"}",
		 (long)now - 3600, (long)now + days_left * 86400);
	write_text(file, entry, 0640);
}

/* Pending refused deployments are WARNING, CRITICAL when the certificate
 * the targets serve expires within 7 days. */
START_TEST(monitor_reports_pending_deployments)
{
	struct fleet f;
	struct cli_run r;
	char dir[600], pending[700];
	time_t now = time(NULL);

	snprintf(dir, sizeof(dir), "%s/monpend-%d", T_PKI->dir, getpid());
	mkdir(dir, 0700);
	fleet_start(&f, dir, 1);
	mkdir(f.state, 0750);
	snprintf(pending, sizeof(pending), "%s/pending", f.state);
	mkdir(pending, 0750);
	snprintf(pending, sizeof(pending), "%s/pending/shop.example.json",
		 f.state);
	write_pending(pending, now, 30);
	monitor(&f, &r);
	ck_assert_msg(r.status == 1, "%s", r.out);
	assert_contains(r.out, "STAPLEGATE WARNING - 1 targets: 1 ok");
	assert_contains(r.out, "1 pending deployments");
	write_pending(pending, now, 3);
	monitor(&f, &r);
	ck_assert_msg(r.status == 2, "%s", r.out);
	assert_contains(r.out, "served certificate expires within 7 days");
	fleet_stop(&f);
}
END_TEST

START_TEST(monitor_config_error_is_unknown)
{
	struct cli_run r;

	cli(&r, "monitor", "--config", tpath("no-such.json"), NULL);
	ck_assert_int_eq(r.status, 3);
	assert_contains(r.out, "STAPLEGATE UNKNOWN - ");
	cli(&r, "monitor", "--warn", "1h", "--crit", "2h", NULL);
	ck_assert_int_eq(r.status, 3);
	assert_contains(r.out, "STAPLEGATE UNKNOWN - ");
}
END_TEST

/* The textfile follows the exposition format: one HELP and TYPE per
 * family, before its samples; every sample line well formed. */
START_TEST(prometheus_file_parses_back)
{
	static const char *const families[] = {
		"staplegate_staple_seconds_remaining",
		"staplegate_stapled",
		"staplegate_must_staple",
		"staplegate_webq96_score",
		"staplegate_probe_success",
		"staplegate_ocsp_url",
		"staplegate_ocsp_signer_seconds_remaining",
		"staplegate_ocsp_signer_delegated",
		"staplegate_pending_deployments",
		"staplegate_last_run_timestamp_seconds"};
	struct fleet f;
	struct cli_run r;
	char dir[600], line[1024], current[128] = "";
	int helps[10] = {0}, types[10] = {0}, samples = 0;
	regex_t sample;
	FILE *in;

	ck_assert_int_eq(
		regcomp(&sample,
			"^([a-z0-9_]+)(\\{target=\"([^\"\\\\]|\\\\.)*\","
			"servername=\"([^\"\\\\]|\\\\.)*\"\\})? [-0-9.e+]+$",
			REG_EXTENDED),
		0);
	snprintf(dir, sizeof(dir), "%s/prom-%d", T_PKI->dir, getpid());
	mkdir(dir, 0700);
	fleet_start(&f, dir, 7);
	monitor(&f, &r);
	fleet_stop(&f);
	in = fopen(f.prom, "r");
	ck_assert_ptr_nonnull(in);
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		for (int i = 0; i < 10; i++) {
			size_t n = strlen(families[i]);

			if (strncmp(line, "# HELP ", 7) == 0 &&
			    strncmp(line + 7, families[i], n) == 0 &&
			    line[7 + n] == ' ') {
				helps[i]++;
				snprintf(current, sizeof(current), "%s",
					 families[i]);
			}
			if (strncmp(line, "# TYPE ", 7) == 0 &&
			    strncmp(line + 7, families[i], n) == 0 &&
			    strcmp(line + 7 + n, " gauge") == 0)
				types[i]++;
		}
		if (line[0] == '#')
			continue;
		ck_assert_msg(regexec(&sample, line, 0, NULL, 0) == 0,
			      "bad sample: %s", line);
		ck_assert_msg(strncmp(line, current, strlen(current)) == 0,
			      "sample outside its family: %s", line);
		samples++;
	}
	fclose(in);
	regfree(&sample);
	for (int i = 0; i < 10; i++)
		ck_assert_msg(helps[i] == 1 && types[i] == 1,
			      "%s: %d HELP %d TYPE", families[i], helps[i],
			      types[i]);
	/* 2 valid staples + 5 per-target families of 3 + 2 scalars + the
	 * signer's 2 families for the 2 valid staples */
	ck_assert_int_eq(samples, 2 + 5 * 3 + 2 + 2 * 2);
}
END_TEST

START_TEST(prometheus_label_escaping)
{
	struct sg_prom *p = sg_prom_new();
	char path[600], text[512] = "";
	FILE *f;

	sg_prom_family(p, "m", "help");
	sg_prom_sample(p, "m", "a\"b\\c\nd", "x", 1);
	snprintf(path, sizeof(path), "%s/esc.prom", T_PKI->dir);
	ck_assert_int_eq(sg_prom_write(p, path).code, SG_OK);
	sg_prom_free(p);
	f = fopen(path, "r");
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	assert_contains(text,
			"m{target=\"a\\\"b\\\\c\\nd\",servername=\"x\"} 1\n");
}
END_TEST

static void history(const char *state, struct sg_target *t, time_t now,
		    int hours, int bad_hour)
{
	for (int h = hours; h >= 0; h--)
		ck_assert_int_eq(sg_history_append(state, t, now - h * 3600L,
						   h != bad_hour, NULL)
					 .code,
				 SG_OK);
}

START_TEST(history_check_names_the_first_problem)
{
	struct sg_target t;
	char state[600];
	time_t now = time(NULL);
	sg_result r;

	sg_target_parse("127.0.0.1:4433", &t);
	t.servername = "shop.example";
	snprintf(state, sizeof(state), "%s/hist-%d", T_PKI->dir, getpid());
	r = sg_history_check(state, &t, now, 3 * 3600, 3600);
	assert_contains(r.reason, "no stapling history");
	history(state, &t, now, 2, -1);
	r = sg_history_check(state, &t, now, 3 * 3600, 3600 + 60);
	assert_contains(r.reason, "history starts only at");
	history(state, &t, now - 3 * 3600, 2, -1); /* older runs too */
	snprintf(state + strlen(state), 8, "b");
	history(state, &t, now, 6, -1);
	ck_assert_int_eq(
		sg_history_check(state, &t, now, 3 * 3600, 3600 + 60).code,
		SG_OK);
	ck_assert_int_eq(
		sg_history_check(state, &t, now + 7200, 3 * 3600, 3600 + 60)
			.code,
		SG_EINPUT); /* monitor stopped two hours ago */
	snprintf(state + strlen(state), 8, "c");
	history(state, &t, now, 6, 2);
	r = sg_history_check(state, &t, now, 3 * 3600, 3600 + 60);
	assert_contains(r.reason, "127.0.0.1:4433: not stapling at");
	sg_target_free(&t);
}
END_TEST

/* require_history makes the hook refuse until monitor runs proved
 * stapling; monitor itself writes that history. */
START_TEST(history_gate_in_the_hook)
{
	struct scene s;
	struct cli_run r;
	struct sg_target t;
	char extra[128];
	const char *args[] = {"hook", "--config", NULL, "--dry-run", NULL};
	time_t now = time(NULL);

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	snprintf(extra, sizeof(extra),
		 "\"require_history\": \"3h\", \"history_max_gap\": \"61m\"");
	scene_config(&s, extra);
	args[2] = s.config;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.err, "stapling not proven for 3h");
	snprintf(extra, sizeof(extra), "127.0.0.1:%d", s.srv.port);
	sg_target_parse(extra, &t);
	t.servername = "shop.example";
	history(s.state, &t, now - 3600, 4, -1);
	/* monitor adds the run of "now" */
	{
		const char *mon[] = {"monitor", "--config", s.config, NULL};

		cli_env(&r, NULL, mon);
		ck_assert_msg(r.status == 0, "%s", r.out);
	}
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	sg_history_append(s.state, &t, now + 1, false, NULL);
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.err, ": not stapling at ");
	sg_target_free(&t);
	scene_end(&s);
}
END_TEST

START_TEST(drill_survival_window)
{
	struct fleet f;
	struct cli_run r;
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/drill-%d", T_PKI->dir, getpid());
	mkdir(dir, 0700);
	fleet_start(&f, dir, 7);
	cli(&r, "drill", "--config", f.config, "--outage", "48h", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, " ok\n") &&
			      !strstr(strstr(r.out, " ok\n") + 1, " ok\n"),
		      "one target ok: %s", r.out);
	assert_contains(r.out, "survives a responder outage for 1d ");
	assert_contains(r.out, "h, less than 2d");
	assert_contains(r.out, "no valid staple now");
	assert_contains(r.out, "DRILL FAILED: 3 targets");
	cli(&r, "drill", "--config", f.config, "--outage", "24h", NULL);
	ck_assert_int_eq(r.status, 1); /* the unstapled one still fails */
	fleet_stop(&f);
	fleet_start(&f, dir, 1);
	cli(&r, "drill", "--config", f.config, NULL);
	ck_assert_msg(r.status == 0, "%s", r.out);
	assert_contains(r.out, "DRILL PASSED: 1 targets, 1 rounds");
	fleet_stop(&f);
}
END_TEST

/* The responder goes down in the middle of a watched drill. */
struct outage {
	struct tresponder *resp;
	long after_ms;
};

static void *stop_responder(void *arg)
{
	struct outage *o = arg;

	usleep((useconds_t)o->after_ms * 1000);
	tr_stop(o->resp);
	return NULL;
}

static void drill_config(const char *path, const char *state, int port)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"state_dir\": \"%s\", \"cafile\": \"%s\"}, "
		 "\"domains\": {\"shop.example\": {\"targets\": "
		 "[\"127.0.0.1:%d\"]}}}",
		 state, tpath("root.pem"), port);
	write_text(path, text, 0644);
}

/* nginx fetching live keeps serving its cached staple through the outage:
 * the drill passes. */
START_TEST(drill_watch_nginx_keeps_its_cached_staple)
{
	struct scene s;
	struct nginx n = {.workers = 1};
	struct cli_run r;
	struct outage o;
	pthread_t th;
	char directive[128], cfg[700], spec[32];

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	snprintf(directive, sizeof(directive),
		 "ssl_stapling_responder http://127.0.0.1:%d/;", s.resp.port);
	nginx_start(&n, &s, directive);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", n.port);
	/* prime the worker: its first handshake triggers the fetch */
	cli(&r, "probe", spec, "--servername", "shop.example", "--attempts",
	    "5", "--retry-delay", "1", NULL);
	ck_assert_msg(r.status == 0, "%s", r.out);
	snprintf(cfg, sizeof(cfg), "%s/drill.json", s.dir);
	drill_config(cfg, s.state, n.port);
	o = (struct outage){&s.resp, 1500};
	pthread_create(&th, NULL, stop_responder, &o);
	cli(&r, "drill", "--config", cfg, "--watch", "5s", "--interval", "1s",
	    NULL);
	pthread_join(th, NULL);
	nginx_stop(&n);
	ck_assert_msg(r.status == 0, "%s", r.out);
	assert_contains(r.out, "DRILL PASSED");
	scene_end(&s);
}
END_TEST

/* The control: openssl s_server -status fetches on every handshake, so it
 * drops the staple as soon as the responder is gone: flagged. */
START_TEST(drill_watch_flags_a_server_that_drops_the_staple)
{
	struct scene s;
	struct srv srv;
	struct cli_run r;
	struct outage o;
	pthread_t th;
	char url[64], cfg[700], cert[700];
	time_t t0;
	const char *args[] = {"-cert",	     cert,
			      "-key",	     tpath("leaf.key"),
			      "-cert_chain", tpath("ca.pem"),
			      "-CAfile",     tpath("ca.pem"),
			      "-status",     "-status_url",
			      url,	     NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.resp.port);
	/* the new leaf: its AIA names the test responder */
	snprintf(cert, sizeof(cert), "%s/cert.pem", s.lineage);
	ck_assert_int_eq(srv_start_openssl(&srv, "127.0.0.1", args), 0);
	snprintf(cfg, sizeof(cfg), "%s/drill.json", s.dir);
	drill_config(cfg, s.state, srv.port);
	o = (struct outage){&s.resp, 1500};
	pthread_create(&th, NULL, stop_responder, &o);
	t0 = time(NULL);
	cli(&r, "drill", "--config", cfg, "--watch", "5s", "--interval", "1s",
	    NULL);
	pthread_join(th, NULL);
	srv_stop(&srv);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "stopped stapling (");
	assert_contains(r.out, ") while its last staple was valid until");
	ck_assert_int_le(time(NULL) - t0, 8);
	scene_end(&s);
}
END_TEST

Suite *monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, monitor_states_follow_the_plugin_guidelines);
	tcase_add_test(tc, monitor_record_is_the_json_a_tree_gives);
	tcase_add_test(tc, monitor_warns_of_responses_valid_over_ten_days);
	tcase_add_test(tc, monitor_config_error_is_unknown);
	tcase_add_test(tc, monitor_reports_pending_deployments);
	tcase_add_test(tc, prometheus_file_parses_back);
	tcase_add_test(tc, prometheus_label_escaping);
	tcase_add_test(tc, history_check_names_the_first_problem);
	tcase_add_test(tc, history_gate_in_the_hook);
	suite_add_tcase(s, tc);
	tc = tcase_create("drill");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, drill_survival_window);
	tcase_add_test(tc, drill_watch_nginx_keeps_its_cached_staple);
	tcase_add_test(tc, drill_watch_flags_a_server_that_drops_the_staple);
	suite_add_tcase(s, tc);
	return s;
}
