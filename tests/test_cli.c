/* The staplegate binary as an operator runs it: exit statuses, one-line
 * errors, the human report and the JSON document. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "runcli.h"
#include "servers.h"
#include "testutil.h"

/* stderr is exactly one line starting "staplegate: " and containing
 * text. */
static void assert_one_line_error(const struct cli_run *r, const char *text)
{
	ck_assert_msg(strncmp(r->err, "staplegate: ", 12) == 0, "stderr: %s",
		      r->err);
	ck_assert_msg(strstr(r->err, text) != NULL, "stderr '%s' lacks '%s'",
		      r->err, text);
	ck_assert_msg(strchr(r->err, '\n') == r->err + strlen(r->err) - 1,
		      "not one line: %s", r->err);
}

static json_t *parse_json(const struct cli_run *r)
{
	json_error_t e;
	json_t *doc = json_loads(r->out, 0, &e);

	ck_assert_msg(doc != NULL, "bad JSON (%s): %s", e.text, r->out);
	return doc;
}

START_TEST(usage_errors_exit_2)
{
	static const struct {
		const char *args[6];
		const char *text;
	} cases[] = {
		{{"check", "--target", "127.0.0.1:1"}, "--cert is required"},
		{{"check", "--cert", "x.pem"}, "at least one --target"},
		{{"check", "--bogus"}, "unknown option"},
		{{"check", "--cert", "x", "--target", "a b"}, "invalid target"},
		{{"check", "--cert", "x", "--timeout", "5y"}, "--timeout"},
		{{"probe"}, "exactly one TARGET"},
		{{"frobnicate"}, "unknown command"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_run r;
		const char *const *a = cases[i].args;

		cli(&r, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
		ck_assert_msg(r.status == 2, "case %zu: exit %d", i, r.status);
		ck_assert_msg(strstr(r.err, cases[i].text) != NULL,
			      "case %zu: %s", i, r.err);
	}
}
END_TEST

START_TEST(bad_certificate_files_exit_2)
{
	static const unsigned char junk[] = {0x00, 0xff, 0x13, 0x37, 0x42};
	static const char nocert[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
				     "-----END PRIVATE KEY-----\n";
	static const char broken[] = "-----BEGIN CERTIFICATE-----\nMIIB!!!\n"
				     "-----END CERTIFICATE-----\n";
	const struct {
		const char *name;
		const void *data;
		size_t len;
		const char *text;
	} cases[] = {
		{"c-empty.pem", "", 0, "file is empty"},
		{"c-junk.pem", junk, sizeof(junk), "no PEM certificate"},
		{"c-nocert.pem", nocert, sizeof(nocert) - 1,
		 "no PEM certificate"},
		{"c-broken.pem", broken, sizeof(broken) - 1, "damaged PEM"},
	};
	struct cli_run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = tpath(cases[i].name);

		fx_write_bytes(path, cases[i].data, cases[i].len);
		cli(&r, "check", "--cert", path, "--target", "127.0.0.1:1",
		    NULL);
		ck_assert_msg(r.status == 2, "%s: exit %d", cases[i].name,
			      r.status);
		assert_one_line_error(&r, cases[i].text);
		ck_assert_msg(strstr(r.err, cases[i].name) != NULL, "%s",
			      r.err);
	}
	cli(&r, "check", "--cert", tpath("does-not-exist.pem"), "--target",
	    "127.0.0.1:1", NULL);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "No such file or directory");
}
END_TEST

static void start_stapling(struct srv *s, const char *leaf, const char *staple)
{
	const char *args[] = {"-cert",
			      tpath(leaf),
			      "-key",
			      tpath("leaf.key"),
			      "-cert_chain",
			      tpath("ca.pem"),
			      staple ? "-status_file" : NULL,
			      staple,
			      NULL};

	ck_assert_int_eq(srv_start_openssl(s, "127.0.0.1", args), 0);
}

START_TEST(check_allows_and_refuses_with_json)
{
	struct fx_staple_opts o = fx_staple_good();
	const char *staple = tstaple_file("cli-good.der", T_PKI->leaf_ms, &o);
	struct srv good, bare;
	struct cli_run r;
	char t1[32], t2[32];
	json_t *doc, *targets;

	start_stapling(&good, "leaf-ms.pem", staple);
	start_stapling(&bare, "leaf-ms.pem", NULL);
	snprintf(t1, sizeof(t1), "127.0.0.1:%d", good.port);
	snprintf(t2, sizeof(t2), "127.0.0.1:%d", bare.port);
	cli(&r, "check", "--cert", tpath("fullchain-ms.pem"), "--CAfile",
	    tpath("root.pem"), "--target", t1, "--json", NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s%s", r.status, r.out, r.err);
	doc = parse_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "version")),
			 1);
	ck_assert(json_is_true(
		json_object_get(json_object_get(doc, "cert"), "must_staple")));
	targets = json_object_get(doc, "targets");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(targets, 0), "webq96")),
			 100);
	ck_assert(json_is_true(json_object_get(json_array_get(targets, 0),
					       "served_is_new_cert")));
	json_decref(doc);

	cli(&r, "check", "--cert", tpath("fullchain-ms.pem"), "--CAfile",
	    tpath("root.pem"), "--target", t1, "--target", t2, "--attempts",
	    "1", NULL);
	srv_stop(&good);
	srv_stop(&bare);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "REFUSE: ") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, t2) != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "    60  no") != NULL, "%s", r.out);
}
END_TEST

START_TEST(plain_cert_is_allowed_with_score_0_and_hint)
{
	struct srv bare;
	struct cli_run r;
	char t[32];

	start_stapling(&bare, "leaf-plain.pem", NULL);
	snprintf(t, sizeof(t), "127.0.0.1:%d", bare.port);
	cli(&r, "check", "--cert", tpath("fullchain-plain.pem"), "--CAfile",
	    tpath("root.pem"), "--target", t, "--attempts", "1", NULL);
	srv_stop(&bare);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "ALLOW: ") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "hint: 1 of 1 targets") != NULL, "%s",
		      r.out);
}
END_TEST

START_TEST(malformed_feature_in_new_cert_is_refused_not_input_error)
{
	static const unsigned char bad[] = {0x30, 0x05, 0x02, 0x01, 0x05};
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .feature_der = bad,
				 .feature_len = sizeof(bad),
				 .ocsp_url = "http://127.0.0.1:9/"};
	X509 *x = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	struct cli_run r;

	fx_write_pem(tpath("c-badfeature.pem"), x, T_PKI->ca, NULL);
	X509_free(x);
	cli(&r, "check", "--cert", tpath("c-badfeature.pem"), "--target",
	    "127.0.0.1:1", "--json", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "malformed TLS Feature extension") != NULL,
		      "%s", r.out);
}
END_TEST

START_TEST(must_staple_without_ocsp_url_is_refused)
{
	struct cli_run r;

	cli(&r, "check", "--cert", tpath("fullchain-noocsp-ms.pem"), "--target",
	    "127.0.0.1:1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "names no OCSP responder") != NULL, "%s",
		      r.out);
	/* ...and names the way out */
	ck_assert_msg(strstr(r.out, "no staple can exist for it today") != NULL,
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "require_history") != NULL, "%s", r.out);
}
END_TEST

/* probe: a [17] certificate served with a good staple scored 30 and
 * passed; Firefox cannot connect to it at all. */
static void probe_serves_v2_cert_stapled(void)
{
	struct fx_staple_opts o = fx_staple_good();
	size_t len;
	unsigned char *der = fx_staple(T_PKI->leaf_v2, T_PKI->ca, T_PKI->ca,
				       T_PKI->ca_key, &o, &len);
	struct tserver t = {.mode = TS_TLS,
			    .cert = T_PKI->leaf_v2,
			    .key = T_PKI->leaf_key,
			    .chain = T_PKI->ca,
			    .staple = der,
			    .staple_len = len};
	struct cli_run r;
	char target[32];

	ck_assert_int_eq(ts_start(&t), 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	cli(&r, "probe", target, "--servername", "shop.example", NULL);
	ts_stop(&t);
	OPENSSL_free(der);
	ck_assert_msg(r.status == 1, "probe exit %d: %s", r.status, r.out);
	ck_assert_msg(strstr(r.out, "TLS Feature lists 17") != NULL, "%s",
		      r.out);
}

/* mozilla::pkix fails every connection to a certificate whose TLS
 * Feature lists anything but status_request: [17] and [5, 17] are
 * refused whether Must-Staple or not, before any target is probed. */
START_TEST(tls_feature_other_than_status_request_is_refused)
{
	static const char *const files[] = {"fullchain-v2.pem",
					    "fullchain-f5-17.pem"};
	struct cli_run r;

	for (size_t i = 0; i < 2; i++) {
		cli(&r, "check", "--cert", tpath(files[i]), "--target",
		    "127.0.0.1:1", "--attempts", "1", NULL);
		ck_assert_msg(r.status == 1, "%s: exit %d: %s", files[i],
			      r.status, r.out);
		ck_assert_msg(strstr(r.out, "TLS Feature lists 17") != NULL,
			      "%s: %s", files[i], r.out);
		ck_assert_msg(strstr(r.out, "Firefox fails every connection") !=
				      NULL,
			      "%s: %s", files[i], r.out);
	}
	cli(&r, "check", "--cert", tpath("fullchain-under-f17-ca.pem"),
	    "--target", "127.0.0.1:1", "--attempts", "1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "issuer's TLS Feature lists 17") != NULL,
		      "%s", r.out);
	probe_serves_v2_cert_stapled();
}
END_TEST

/* Firefox requires the leaf to satisfy its issuer's TLS Feature too: a
 * plain leaf under a Must-Staple intermediate is gated as Must-Staple. */
START_TEST(leaf_under_must_staple_intermediate_is_gated)
{
	struct tserver bare = {.mode = TS_TLS,
			       .cert = T_STRICT->leaf_under_ca_ms,
			       .key = T_PKI->leaf_key,
			       .chain = T_STRICT->ca_ms};
	struct cli_run r;
	char t[32];

	ck_assert_int_eq(ts_start(&bare), 0);
	snprintf(t, sizeof(t), "127.0.0.1:%d", bare.port);
	cli(&r, "check", "--cert", tpath("fullchain-under-ms-ca.pem"),
	    "--target", t, "--attempts", "1", NULL);
	ts_stop(&bare);
	ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.out);
	ck_assert_msg(strstr(r.out, "Must-Staple: yes (by its issuer") != NULL,
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "no staple") != NULL, "%s", r.out);
}
END_TEST

/* probe and monitor judge a served leaf under a Must-Staple intermediate
 * as Must-Staple too: 100 when stapled, CRITICAL when not. */
START_TEST(served_leaf_under_must_staple_intermediate_counts_as_must_staple)
{
	struct fx_staple_opts o = fx_staple_good();
	size_t len;
	unsigned char *der =
		fx_staple(T_STRICT->leaf_under_ca_ms, T_STRICT->ca_ms,
			  T_STRICT->ca_ms, T_STRICT->ca_ms_key, &o, &len);
	struct tserver t = {.mode = TS_TLS,
			    .cert = T_STRICT->leaf_under_ca_ms,
			    .key = T_PKI->leaf_key,
			    .chain = T_STRICT->ca_ms,
			    .staple = der,
			    .staple_len = len};
	struct tserver bare = t;
	struct cli_run r;
	char target[32], config[700], text[1200];

	bare.staple = NULL;
	bare.staple_len = 0;
	ck_assert_int_eq(ts_start(&t), 0);
	ck_assert_int_eq(ts_start(&bare), 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	cli(&r, "probe", target, "--servername", "shop.example", NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.out);
	ck_assert_msg(strstr(r.out, "Must-Staple certificate, stapled") != NULL,
		      "%s", r.out);
	snprintf(config, sizeof(config), "%s/mon-ms-ca-%d.json", T_PKI->dir,
		 getpid());
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s.jsonl\", "
		 "\"state_dir\": \"%s.state\", \"attempts\": 1}, "
		 "\"domains\": {\"shop.example\": {\"targets\": "
		 "[\"127.0.0.1:%d\"]}}}",
		 config, config, bare.port);
	fx_write_bytes(config, (const unsigned char *)text, strlen(text));
	cli(&r, "monitor", "--config", config, NULL);
	ts_stop(&t);
	ts_stop(&bare);
	OPENSSL_free(der);
	ck_assert_msg(r.status == 2, "monitor exit %d: %s", r.status, r.out);
	ck_assert_msg(strstr(r.out, "Must-Staple certificate without a valid "
				    "staple") != NULL,
		      "%s", r.out);
}
END_TEST

START_TEST(expired_or_not_yet_valid_new_cert_is_refused)
{
	struct cli_run r;

	cli(&r, "check", "--cert", tpath("fullchain-expired-ms.pem"),
	    "--target", "127.0.0.1:1", "--attempts", "1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "new certificate expired on 20") != NULL,
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "valid from 20") != NULL, "%s", r.out);
	cli(&r, "check", "--cert", tpath("fullchain-future-ms.pem"), "--target",
	    "127.0.0.1:1", "--attempts", "1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "new certificate is not valid before 20") !=
			      NULL,
		      "%s", r.out);
}
END_TEST

START_TEST(probe_reports_served_cert_and_missing_sni)
{
	struct fx_staple_opts o = fx_staple_good();
	const char *staple = tstaple_file("cli-probe.der", T_PKI->leaf_ms, &o);
	struct srv s;
	struct cli_run r;
	char t[32];
	json_t *doc;

	start_stapling(&s, "leaf-ms.pem", staple);
	snprintf(t, sizeof(t), "127.0.0.1:%d", s.port);
	cli(&r, "probe", t, "--CAfile", tpath("root.pem"), NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "no SNI was sent") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "   100  yes") != NULL, "%s", r.out);
	cli(&r, "probe", t, "--servername", "shop.example", "--CAfile",
	    tpath("root.pem"), "--json", NULL);
	srv_stop(&s);
	ck_assert_int_eq(r.status, 0);
	doc = parse_json(&r);
	ck_assert_str_eq(
		json_string_value(json_object_get(
			json_array_get(json_object_get(doc, "targets"), 0),
			"servername")),
		"shop.example");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "mode")),
			 "probe");
	json_decref(doc);
}
END_TEST

START_TEST(targets_file_with_comments_and_errors)
{
	struct cli_run r;
	const char *file = tpath("targets.txt");
	static const char good[] =
		"# pool A\n127.0.0.1:1\n\n  127.0.0.1:2 # b\n";
	static const char bad[] = "127.0.0.1:1\n# fine\nnot a target\n";

	fx_write_bytes(file, (const unsigned char *)good, sizeof(good) - 1);
	cli(&r, "check", "--cert", tpath("fullchain-plain.pem"),
	    "--targets-file", file, "--attempts", "1", "--json", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "\"target\": \"127.0.0.1:2\"") != NULL,
		      "%s", r.out);
	fx_write_bytes(file, (const unsigned char *)bad, sizeof(bad) - 1);
	cli(&r, "check", "--cert", tpath("fullchain-plain.pem"),
	    "--targets-file", file, NULL);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r,
			      "targets.txt:3: invalid target 'not a target'");
}
END_TEST

/* Both man pages render at 80 columns without a single warning. */
START_TEST(man_pages_render_without_warnings)
{
	static const char *const pages[] = {"man/staplegate.1",
					    "man/staplegate.conf.5"};

	for (int i = 0; i < 2; i++) {
		char cmd[512], err[600], text[2048] = "";
		FILE *f;
		int st;

		snprintf(err, sizeof(err), "%s/man.err", T_PKI->dir);
		snprintf(cmd, sizeof(cmd),
			 "MANWIDTH=80 man --warnings -l %s >/dev/null 2>%s",
			 pages[i], err);
		st = system(cmd);
		f = fopen(err, "r");
		if (f) {
			text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
			fclose(f);
		}
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s",
			      pages[i]);
		ck_assert_msg(text[0] == '\0', "%s: %s", pages[i], text);
	}
}
END_TEST

/* make TARGET with a DESTDIR under the test directory; then every file
 * is there (present) or none is. */
static void make_into_root(const char *target, bool present)
{
	static const char *const files[] = {
		"usr/bin/staplegate", "usr/share/man/man1/staplegate.1",
		"usr/share/man/man5/staplegate.conf.5",
		"usr/share/doc/staplegate/contrib/config.example.json"};
	char cmd[1024], path[700];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "make -s %s BUILD=%s PREFIX=/usr DESTDIR=%s/root "
		 ">/dev/null 2>&1",
		 target, T_BUILD, T_PKI->dir);
	st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "make %s", target);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/root/%s", T_PKI->dir,
			 files[i]);
		ck_assert_msg((access(path, F_OK) == 0) == present, "%s: %s %s",
			      target, files[i], present ? "missing" : "left");
	}
}

/* make install puts the binary, both man pages and contrib in place;
 * make uninstall takes them away. */
START_TEST(make_install_and_uninstall)
{
	make_into_root("install", true);
	make_into_root("uninstall", false);
}
END_TEST

/* --help for each subcommand, and --version. */
START_TEST(help_and_version)
{
	static const char *const cmds[] = {"check",   "probe",	 "hook",
					   "resume",  "pending", "rollback",
					   "monitor", "drill"};
	struct cli_run r;

	for (int i = 0; i < 8; i++) {
		char want[64];

		cli(&r, cmds[i], "--help", NULL);
		ck_assert_int_eq(r.status, 0);
		snprintf(want, sizeof(want), "usage: staplegate %s", cmds[i]);
		ck_assert_msg(strstr(r.out, want), "%s", r.out);
	}
	cli(&r, "--version", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "staplegate ", 11) == 0, "%s", r.out);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, usage_errors_exit_2);
	tcase_add_test(tc, bad_certificate_files_exit_2);
	tcase_add_test(tc, check_allows_and_refuses_with_json);
	tcase_add_test(tc, plain_cert_is_allowed_with_score_0_and_hint);
	tcase_add_test(
		tc, malformed_feature_in_new_cert_is_refused_not_input_error);
	tcase_add_test(tc, must_staple_without_ocsp_url_is_refused);
	tcase_add_test(tc, tls_feature_other_than_status_request_is_refused);
	tcase_add_test(tc, leaf_under_must_staple_intermediate_is_gated);
	tcase_add_test(tc, expired_or_not_yet_valid_new_cert_is_refused);
	tcase_add_test(
		tc,
		served_leaf_under_must_staple_intermediate_counts_as_must_staple);
	tcase_add_test(tc, probe_reports_served_cert_and_missing_sni);
	tcase_add_test(tc, targets_file_with_comments_and_errors);
	tcase_add_test(tc, man_pages_render_without_warnings);
	tcase_add_test(tc, make_install_and_uninstall);
	tcase_add_test(tc, help_and_version);
	suite_add_tcase(s, tc);
	return s;
}
