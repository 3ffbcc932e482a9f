/* A target passes only when it is confirmed: priming (handshakes without
 * a staple before the first good one) is retried within a budget, then
 * `confirm` good handshakes in a row are needed, and a present staple
 * that is not good refuses at once. Real servers: the in-process test
 * server as a pool of two behind one address, nginx with four workers
 * fetching live, openssl s_server holding only an RSA certificate. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/ocsp.h>

#include "../preflight/certinfo.h"
#include "../preflight/check.h"
#include "../preflight/clock.h"
#include "../acme/config.h"
#include "runcli.h"
#include "scene.h"
#include "servers.h"
#include "testutil.h"
#include "tnginx.h"

/* `check` of the Must-Staple bundle against one local port, in JSON;
 * extra options (NULL-terminated, at most 6) follow. */
static json_t *check_json(struct cli_run *r, int port, const char *const *opt)
{
	char target[32];
	const char *argv[20] = {
		"check",    "--cert",	       tpath("fullchain-ms.pem"),
		"--CAfile", tpath("root.pem"), "--target",
		target,	    "--json"};
	int n = 8;
	json_t *doc;

	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	for (int i = 0; opt && opt[i]; i++)
		argv[n++] = opt[i];
	argv[n] = NULL;
	cli_env(r, NULL, argv);
	doc = json_loads(r->out, 0, NULL);
	ck_assert_msg(doc != NULL, "no JSON (exit %d): %s%s", r->status, r->out,
		      r->err);
	return doc;
}

static json_t *target0(json_t *doc)
{
	return json_array_get(json_object_get(doc, "targets"), 0);
}

static long long int_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

static const char *reason_of(json_t *doc)
{
	return json_string_value(
		json_object_get(json_object_get(doc, "verdict"), "reason"));
}

static const char *const fast[] = {"--retry-delay", "0", NULL};

/* Two members behind one address, one stapling and one not: whichever
 * answers first, the target is never confirmed. */
START_TEST(pool_stapling_every_other_handshake_is_inconsistent)
{
	size_t len;
	unsigned char *der = tstaple_good(&len);
	/* _i 0: member A (first) staples; 1: member B (second) does. */
	struct tserver t = tserver_ms(_i == 0 ? der : NULL, len);
	struct cli_run r;
	json_t *doc, *t0;

	t.pool_b = true;
	t.staple_b = _i == 0 ? NULL : der;
	t.staple_b_len = len;
	ck_assert_int_eq(ts_start(&t), 0);
	doc = check_json(&r, t.port, fast);
	ts_stop(&t);
	t0 = target0(doc);
	ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.out);
	assert_contains(reason_of(doc), "inconsistent: ");
	assert_contains(reason_of(doc), " handshakes stapled");
	/* Every handshake the server saw was counted, about half stapled. */
	ck_assert_int_eq(int_of(t0, "handshakes"), t.connections);
	ck_assert_int_le(int_of(t0, "handshakes"), 12);
	ck_assert_int_eq(int_of(t0, "handshakes_stapled"),
			 (t.connections + (_i == 0)) / 2);
	ck_assert(json_is_false(json_object_get(t0, "ready")));
	json_decref(doc);
	OPENSSL_free(der);
}
END_TEST

/* A worker holding a revoked or stale staple behind the same address as
 * a good one: refused at its first appearance, naming the handshake. */
START_TEST(bad_staple_on_a_later_handshake_refuses_at_once)
{
	struct fx_staple_opts bad = fx_staple_good();
	size_t len, bad_len;
	unsigned char *der = tstaple_good(&len), *bad_der;
	struct tserver t = tserver_ms(der, len);
	struct cli_run r;
	json_t *doc, *t0;

	if (_i == 0) {
		bad.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	} else {
		bad.this_off = -3 * 86400;
		bad.next_off = -2 * 86400;
	}
	bad_der = fx_staple(T_PKI->leaf_ms, T_PKI->ca, T_PKI->ca, T_PKI->ca_key,
			    &bad, &bad_len);
	t.pool_b = true;
	t.staple_b = bad_der;
	t.staple_b_len = bad_len;
	ck_assert_int_eq(ts_start(&t), 0);
	doc = check_json(&r, t.port, fast);
	ts_stop(&t);
	t0 = target0(doc);
	ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.out);
	assert_contains(reason_of(doc), "handshake 2 of 12: ");
	assert_contains(reason_of(doc),
			_i == 0 ? "revoked" : "nextUpdate passed");
	ck_assert_int_eq(t.connections, 2);
	ck_assert_int_eq(int_of(t0, "handshakes"), 2);
	ck_assert_int_eq(int_of(t0, "handshakes_stapled"), 1);
	json_decref(doc);
	OPENSSL_free(der);
	OPENSSL_free(bad_der);
}
END_TEST

/* A server that always staples gets exactly `confirm` handshakes, as the
 * server counts them: 3 by default, N with --confirm N. */
START_TEST(confirm_n_handshakes_counted_by_the_server)
{
	static const char *const five[] = {"--confirm", "5", NULL};
	size_t len;
	unsigned char *der = tstaple_good(&len);
	struct tserver t = tserver_ms(der, len);
	struct cli_run r;
	json_t *doc;

	ck_assert_int_eq(ts_start(&t), 0);
	doc = check_json(&r, t.port, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.out);
	ck_assert_int_eq(t.connections, 3);
	ck_assert_int_eq(int_of(doc, "confirm"), 3);
	ck_assert_int_eq(int_of(target0(doc), "handshakes_stapled"), 3);
	json_decref(doc);
	t.connections = 0;
	doc = check_json(&r, t.port, five);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.out);
	ck_assert_int_eq(t.connections, 5);
	ck_assert_int_eq(int_of(doc, "confirm"), 5);
	ck_assert_int_eq(int_of(target0(doc), "handshakes"), 5);
	json_decref(doc);
	ts_stop(&t);
	/* Out of range: a usage error naming the option. */
	cli(&r, "check", "--cert", tpath("fullchain-ms.pem"), "--target",
	    "127.0.0.1:1", "--confirm", "0", NULL);
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "--confirm: '0' is not a number from 1 to 100");
	OPENSSL_free(der);
}
END_TEST

/* Config `confirm`: parsed, and every bad value is one clear line naming
 * the key; the hook then makes that many handshakes (counted by the
 * server, --dry-run: no settle). */
START_TEST(config_confirm_parsed_and_bad_values_rejected)
{
	static const char *const bad[] = {"0", "101", "\"3\"", "2.5", "-1"};
	struct sg_config cfg;
	char text[200];
	sg_result r;
	struct scene s;
	struct cli_run run;
	const char *args[] = {"hook", "--dry-run", "--config", NULL, NULL};
	json_t *log, *decision;

	snprintf(text, sizeof(text), "{\"defaults\": {\"confirm\": 4}}");
	r = sg_config_parse(text, strlen(text), "c.json", &cfg);
	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	ck_assert_int_eq(cfg.confirm, 4);
	sg_config_free(&cfg);
	sg_config_defaults(&cfg);
	ck_assert_int_eq(cfg.confirm, 3);
	sg_config_free(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"defaults\": {\"confirm\": %s}}", bad[i]);
		r = sg_config_parse(text, strlen(text), "c.json", &cfg);
		ck_assert_msg(r.code == SG_EINPUT, "%s accepted", bad[i]);
		assert_contains(r.reason, "c.json:1:");
		assert_contains(r.reason, "defaults.confirm");
		ck_assert_msg(strchr(r.reason, '\n') == NULL, "%s", r.reason);
	}
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, "\"confirm\": 4");
	args[3] = s.config;
	s.srv.connections = 0;
	hook_certbot(&s, &run, args);
	ck_assert_msg(run.status == 0, "exit %d\n%s%s", run.status, run.out,
		      run.err);
	ck_assert_int_eq(s.srv.connections, 4);
	/* The score log's decision line carries the same counts. */
	log = read_log(s.record);
	decision = json_array_get(log, 0);
	ck_assert_int_eq(int_of(decision, "confirm"), 4);
	ck_assert_int_eq(int_of(target0(decision), "handshakes"), 4);
	ck_assert_int_eq(int_of(target0(decision), "handshakes_stapled"), 4);
	ck_assert(json_is_null(
		json_object_get(target0(decision), "key_type_note")));
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* nginx with four workers fetching live from the responder: the first
 * handshake each worker sees carries no staple. With the default budget
 * (no --attempts, --retry-delay or --confirm) the target passes, with
 * three good handshakes in a row. */
START_TEST(nginx_four_workers_live_fetching_passes_within_budget)
{
	struct scene s;
	struct nginx n = {.workers = 4};
	struct cli_run r;
	char text[256];
	long long t_start, t_end;
	json_t *doc, *t0;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	snprintf(text, sizeof(text),
		 "ssl_stapling_responder http://127.0.0.1:%d/;", s.resp.port);
	nginx_start(&n, &s, text);
	t_start = sg_now_ms();
	doc = check_json(&r, n.port, NULL);
	t_end = sg_now_ms();
	nginx_stop(&n);
	t0 = target0(doc);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.out);
	/* Each worker had nothing to staple on its first handshake: at
	 * least one went without, and the run ended with three good ones
	 * (more stapled ones when an unprimed worker broke a run). */
	ck_assert_int_ge(int_of(t0, "handshakes_stapled"), 3);
	ck_assert_int_ge(
		int_of(t0, "handshakes") - int_of(t0, "handshakes_stapled"), 1);
	ck_assert_int_le(int_of(t0, "handshakes"), 12);
	printf("nginx, 4 workers, live fetching: %lld handshakes, %lld "
	       "stapled, %.2f s\n",
	       int_of(t0, "handshakes"), int_of(t0, "handshakes_stapled"),
	       (double)(t_end - t_start) / 1000);
	json_decref(doc);
	scene_end(&s);
}
END_TEST

/* Priming stops at its time budget whatever --attempts allows, and
 * backs off: with a 1 s budget and a 1 s retry delay the pauses are
 * 250 ms and 500 ms, and the next one (1 s) would end past the budget. */
START_TEST(priming_time_budget_and_backoff)
{
	struct tserver t = tserver_ms(NULL, 0);
	struct sg_target target;
	struct sg_check_opts o;
	struct sg_report rep;
	sg_result r;

	ck_assert_int_eq(ts_start(&t), 0);
	tcheck_one(&o, &target, t.port);
	o.probe.attempts = 100;
	o.probe.retry_delay_ms = 1000;
	o.probe.priming_ms = 1000;
	r = sg_check_run(&o, &rep);
	ts_stop(&t);
	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	ck_assert(!rep.allow);
	ck_assert_int_eq(t.connections, 3);
	ck_assert_int_eq(rep.probes[0].attempts, 3);
	ck_assert_int_eq(rep.probes[0].stapled, 0);
	assert_contains(rep.scores[0].reason, "no staple");
	ck_assert_int_lt(rep.probes[0].elapsed_ms, 1500);
	sg_report_free(&rep);
	sg_target_free(&target);
}
END_TEST

/* A new ECDSA certificate and a server holding only an RSA one, or the
 * reverse (each stapling what it holds): offering only the new key
 * type's algorithms, the handshake fails. The server is probed with what
 * it serves, and the reason says so; no refusal. _i: bit 0 the protocol,
 * bit 1 the direction. */
START_TEST(key_type_mismatch_is_a_note_not_a_refusal)
{
	static const char *const protos[] = {"-tls1_2", "-tls1_3"};
	bool reverse = _i / 2;
	X509 *served = reverse ? T_PKI->leaf_ms : T_PKI->leaf_rsa_ms;
	struct fx_staple_opts o = fx_staple_good();
	const char *staple = tstaple_file("c-kt.der", served, &o);
	const char *args[] = {
		"-cert",
		reverse ? tpath("leaf-ms.pem") : tpath("leaf-rsa-ms.pem"),
		"-key",
		reverse ? tpath("leaf.key") : tpath("rsa.key"),
		"-cert_chain",
		tpath("ca.pem"),
		"-status_file",
		staple,
		protos[_i % 2],
		NULL};
	const char *opt[] = {"--retry-delay", "0", "--cert", NULL, NULL};
	char sha[65], bundle[600];
	struct srv s;
	struct cli_run r;
	json_t *doc, *t0;
	const char *note;

	/* the new certificate; an RSA one as a bundle with its issuer
	 * (own buffer: tpath's ring holds the server's paths) */
	snprintf(bundle, sizeof(bundle), "%s/%s", T_PKI->dir,
		 reverse ? "c-bundle-rsa.pem" : "fullchain-ms.pem");
	if (reverse)
		fx_write_pem(bundle, T_PKI->leaf_rsa_ms, T_PKI->ca, NULL);
	opt[3] = bundle;
	sg_cert_sha256(served, sha);
	ck_assert_int_eq(srv_start_openssl(&s, "127.0.0.1", args), 0);
	doc = check_json(&r, s.port, opt);
	srv_stop(&s);
	t0 = target0(doc);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.out);
	ck_assert_str_eq(
		json_string_value(json_object_get(t0, "served_sha256")), sha);
	note = json_string_value(json_object_get(t0, "key_type_note"));
	ck_assert_ptr_nonnull(note);
	assert_contains(note, reverse ? "key type (RSA)" : "key type (ECDSA)");
	assert_contains(note, reverse ? "the ECDSA certificate it serves"
				      : "the RSA certificate it serves");
	assert_contains(json_string_value(json_object_get(t0, "reason")),
			"key-type note");
	ck_assert_int_eq(int_of(t0, "handshakes_stapled"), 3);
	json_decref(doc);
}
END_TEST

/* The run's deadline arrives while a target is still confirming: two
 * good handshakes of three are no confirmation, and the target is not
 * ready, whatever its last staple said (a pool member that never
 * staples may be next). */
START_TEST(deadline_before_confirmation_is_not_ready)
{
	size_t len;
	unsigned char *der = tstaple_good(&len);
	struct tserver t = tserver_ms(der, len);
	struct sg_target target;
	struct sg_check_opts o;
	struct sg_report rep;
	sg_result r;

	t.delay_ms = 400; /* each handshake; the third is cut short */
	ck_assert_int_eq(ts_start(&t), 0);
	tcheck_one(&o, &target, t.port);
	o.probe.confirm = 3;
	o.probe.deadline_ms = sg_now_ms() + 1000;
	r = sg_check_run(&o, &rep);
	ts_stop(&t);
	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	ck_assert_msg(rep.probes[0].stapled >= 1 && rep.probes[0].stapled < 3,
		      "stapled %d", rep.probes[0].stapled);
	ck_assert_msg(!rep.scores[0].ready && !rep.allow, "%s", rep.reason);
	ck_assert_msg(strstr(rep.scores[0].reason, "not confirmed") != NULL,
		      "%s", rep.scores[0].reason);
	sg_report_free(&rep);
	sg_target_free(&target);
	OPENSSL_free(der);
}
END_TEST

Suite *confirm_suite(void)
{
	Suite *s = suite_create("confirm");
	TCase *tc = tcase_create("confirm");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(
		tc, pool_stapling_every_other_handshake_is_inconsistent, 0, 2);
	tcase_add_loop_test(tc, bad_staple_on_a_later_handshake_refuses_at_once,
			    0, 2);
	tcase_add_test(tc, confirm_n_handshakes_counted_by_the_server);
	tcase_add_test(tc, config_confirm_parsed_and_bad_values_rejected);
	tcase_add_test(tc,
		       nginx_four_workers_live_fetching_passes_within_budget);
	tcase_add_test(tc, priming_time_budget_and_backoff);
	tcase_add_test(tc, deadline_before_confirmation_is_not_ready);
	tcase_add_loop_test(tc, key_type_mismatch_is_a_note_not_a_refusal, 0,
			    4);
	suite_add_tcase(s, tc);
	return s;
}
