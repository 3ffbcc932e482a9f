/* Pure functions: TLS Feature parsing, durations, targets, scoring and
 * the verdict rules. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../acme/config.h"
#include "../acme/monitor.h"
#include "../preflight/duration.h"
#include "../preflight/record.h"
#include "../preflight/score.h"
#include "../preflight/target.h"
#include "../preflight/tlsfeature.h"
#include "../preflight/verdict.h"
#include "testutil.h"

static sg_result parse_features(const unsigned char *der, size_t len,
				struct sg_tlsfeature *f)
{
	return sg_tlsfeature_parse_der(der, len, f);
}

START_TEST(feature_status_request_is_must_staple)
{
	static const unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x05};
	struct sg_tlsfeature f;

	ck_assert_int_eq(parse_features(der, sizeof(der), &f).code, SG_OK);
	ck_assert(f.must_staple);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_int_eq(f.values[0], 5);
}
END_TEST

START_TEST(feature_v2_only_is_not_must_staple)
{
	static const unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x11};
	struct sg_tlsfeature f;

	ck_assert_int_eq(parse_features(der, sizeof(der), &f).code, SG_OK);
	ck_assert(!f.must_staple);
	ck_assert(f.present);
	ck_assert_int_eq(f.values[0], 17);
}
END_TEST

START_TEST(feature_both_values_are_reported)
{
	static const unsigned char der[] = {0x30, 0x06, 0x02, 0x01,
					    0x11, 0x02, 0x01, 0x05};
	struct sg_tlsfeature f;

	ck_assert_int_eq(parse_features(der, sizeof(der), &f).code, SG_OK);
	ck_assert(f.must_staple);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_int_eq(f.values[0], 17);
	ck_assert_int_eq(f.values[1], 5);
}
END_TEST

START_TEST(feature_malformed_der_is_an_error)
{
	static const struct {
		unsigned char der[8];
		size_t len;
	} bad[] = {
		{{0x30, 0x03, 0x02, 0x01}, 4},	     /* truncated */
		{{0x31, 0x03, 0x02, 0x01, 0x05}, 5}, /* SET, not SEQUENCE */
		{{0x30, 0x03, 0x04, 0x01, 0x05}, 5}, /* OCTET STRING item */
		{{0x30, 0x03, 0x02, 0x01, 0x85}, 5}, /* negative */
		{{0x30, 0x04, 0x02, 0x02, 0x00, 0x05}, 6}, /* non-minimal */
		{{0x30, 0x03, 0x02, 0x01, 0x05, 0x00}, 6}, /* trailing byte */
		{{0x30, 0x80, 0x02, 0x01, 0x05, 0, 0}, 7}, /* indefinite */
		{{0}, 0},				   /* empty */
	};
	struct sg_tlsfeature f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sg_result r = parse_features(bad[i].der, bad[i].len, &f);

		ck_assert_msg(r.code == SG_EINPUT, "case %zu accepted", i);
		ck_assert_ptr_nonnull(
			strstr(r.reason, "malformed TLS Feature"));
		ck_assert(!f.must_staple || i == 5);
	}
}
END_TEST

START_TEST(feature_read_from_certificates)
{
	struct sg_tlsfeature f;

	ck_assert_int_eq(sg_tlsfeature_read(T_PKI->leaf_ms, &f).code, SG_OK);
	ck_assert(f.must_staple);
	ck_assert_int_eq(sg_tlsfeature_read(T_PKI->leaf_plain, &f).code, SG_OK);
	ck_assert(!f.present);
	ck_assert(!f.must_staple);
	ck_assert_int_eq(sg_tlsfeature_read(T_PKI->leaf_v2, &f).code, SG_OK);
	ck_assert(f.present && !f.must_staple);
}
END_TEST

START_TEST(duration_units)
{
	static const struct {
		const char *text;
		long sec;
	} good[] = {{"30s", 30},    {"15m", 900}, {"12h", 43200},
		    {"2d", 172800}, {"90", 90},	  {"0", 0}};
	long v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_eq(sg_duration_parse(good[i].text, &v).code,
				 SG_OK);
		ck_assert_int_eq(v, good[i].sec);
	}
}
END_TEST

START_TEST(duration_rejects_garbage)
{
	static const char *bad[] = {"",	    "s",   "-5s",	   "5x", "5ss",
				    "1.5h", " 5s", "99999999999d", "5 s"};
	long v = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sg_result r = sg_duration_parse(bad[i], &v);

		ck_assert_msg(r.code == SG_EINPUT, "'%s' accepted", bad[i]);
		ck_assert_int_eq(v, 7);
	}
}
END_TEST

START_TEST(duration_format_two_units)
{
	char b[32];

	sg_duration_format(2 * 86400 + 3 * 3600 + 5, b, sizeof(b));
	ck_assert_str_eq(b, "2d 3h");
	sg_duration_format(0, b, sizeof(b));
	ck_assert_str_eq(b, "0s");
	sg_duration_format(-3 * 3600, b, sizeof(b));
	ck_assert_str_eq(b, "-3h");
	sg_duration_format(61, b, sizeof(b));
	ck_assert_str_eq(b, "1m 1s");
}
END_TEST

START_TEST(target_forms)
{
	struct sg_target t;

	ck_assert_int_eq(sg_target_parse("shop.example", &t).code, SG_OK);
	ck_assert_str_eq(t.host, "shop.example");
	ck_assert_uint_eq(t.port, 443);
	ck_assert(!t.host_is_ip);
	sg_target_free(&t);
	ck_assert_int_eq(sg_target_parse("10.0.0.7:8443", &t).code, SG_OK);
	ck_assert_str_eq(t.host, "10.0.0.7");
	ck_assert_uint_eq(t.port, 8443);
	ck_assert(t.host_is_ip);
	sg_target_free(&t);
	ck_assert_int_eq(sg_target_parse("[::1]:4433", &t).code, SG_OK);
	ck_assert_str_eq(t.host, "::1");
	ck_assert_uint_eq(t.port, 4433);
	ck_assert(t.host_is_ip);
	sg_target_free(&t);
	ck_assert_int_eq(sg_target_parse("[2001:db8::5]", &t).code, SG_OK);
	ck_assert_uint_eq(t.port, 443);
	sg_target_free(&t);
}
END_TEST

START_TEST(target_rejects_bad_strings)
{
	static const char *bad[] = {
		"",	      "::1",	    "[::1",	 "[::1]x",
		"host:0",     "host:65536", "host:http", "https://shop.example",
		"[shop]:443", "a b",	    "host:",	 ":443",
		"-host"};
	struct sg_target t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sg_result r = sg_target_parse(bad[i], &t);

		ck_assert_msg(r.code == SG_EINPUT, "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(r.reason, "invalid target"));
	}
}
END_TEST

/* A run may hold 10,000 targets at once (Performance in README): each
 * costs its exact strings and a compact address, not arrays sized for
 * the longest name (over a kilobyte each, 19 MB for such a list). The
 * bound leaves room for the list's doubling growth and malloc's own
 * overhead; under ASan mallinfo2 reports nothing and this proves
 * nothing. */
#define TARGET_BYTES_MAX 320

/* Bytes malloc has handed out: the heap's and the mmap'd blocks'. */
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

START_TEST(targets_file_costs_little_per_target)
{
	enum { N = 10000 };
	char path[600];
	FILE *f;
	struct sg_target *v = NULL;
	size_t n = 0, before, after;
	sg_result r;

	snprintf(path, sizeof(path), "%s/targets-%d.txt", T_PKI->dir, getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < N; i++)
		fprintf(f, "127.%d.%d.%d:8443 # backend %d\n", i / 62500,
			1 + i / 250 % 250, 1 + i % 250, i);
	ck_assert_int_eq(fclose(f), 0);
	before = heap_in_use();
	r = sg_targets_file(path, &v, &n);
	after = heap_in_use();
	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	ck_assert_uint_eq(n, N);
	ck_assert_str_eq(v[N - 1].spec, "127.0.40.250:8443");
	ck_assert_str_eq(v[N - 1].host, "127.0.40.250");
	ck_assert_msg((after - before) / N <= TARGET_BYTES_MAX,
		      "%zu bytes per target, over %d", (after - before) / N,
		      TARGET_BYTES_MAX);
	sg_targets_free(v, n);
	unlink(path);
}
END_TEST

/* One result per target stays alive for the whole run, with its score
 * (check) or judgement (monitor): their texts (the staple verdict's
 * reason and signer among them) point into shared storage, never arrays
 * of their own (744, 268 and 288 bytes with them). */
START_TEST(probe_result_holds_no_text_of_its_own)
{
	ck_assert_uint_le(sizeof(struct sg_probe), 320);
	ck_assert_uint_le(sizeof(struct sg_staple), 128);
	ck_assert_uint_le(sizeof(struct sg_target_score), 32);
	ck_assert_uint_le(sizeof(struct sg_monitor_target), 64);
}
END_TEST

START_TEST(webq96_matrix)
{
	ck_assert_int_eq(sg_webq96(true, true), 100);
	ck_assert_int_eq(sg_webq96(true, false), 60);
	ck_assert_int_eq(sg_webq96(false, true), 30);
	ck_assert_int_eq(sg_webq96(false, false), 0);
}
END_TEST

/* A report over n synthetic probes: the verdict rules without sockets. */
struct vfix {
	struct sg_report rep;
	struct sg_target targets[3];
	struct sg_probe probes[3];
	struct sg_target_score scores[3];
};

static void vfix_init(struct vfix *v, X509 *newcert, size_t n)
{
	memset(v, 0, sizeof(*v));
	v->rep.mode = SG_MODE_CHECK;
	v->rep.generated_at = time(NULL); /* the certificate is judged then */
	v->rep.n = n;
	v->rep.targets = v->targets;
	v->rep.probes = v->probes;
	v->rep.scores = v->scores;
	sg_certinfo_read(newcert, &v->rep.cert);
	sg_probe_init(v->probes, 3);
	for (size_t i = 0; i < n; i++) {
		sg_target_parse(i == 0	 ? "10.0.0.1"
				: i == 1 ? "10.0.0.2"
					 : "10.0.0.3",
				&v->targets[i]);
		v->probes[i].handshake_ok = true;
		v->probes[i].staple.present = true;
		v->probes[i].staple.valid = true;
		v->probes[i].staple.fresh = true;
		v->probes[i].staple.reason = "fresh staple";
		/* each synthetic target completed its confirmation */
		v->probes[i].streak = 3;
		v->probes[i].confirmed = true;
	}
}

static void vfix_free(struct vfix *v)
{
	sg_certinfo_free(&v->rep.cert);
	for (size_t i = 0; i < 3; i++)
		sg_target_free(&v->targets[i]);
}

START_TEST(verdict_must_staple_all_fresh_allows)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_ms, 3);
	sg_verdict_check(&v.rep);
	ck_assert(v.rep.allow);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(v.scores[i].webq96, 100);
	vfix_free(&v);
}
END_TEST

START_TEST(verdict_one_backend_unstapled_refuses_naming_it)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_ms, 3);
	v.probes[1].staple = (struct sg_staple){.reason = "no staple"};
	sg_verdict_check(&v.rep);
	ck_assert(!v.rep.allow);
	ck_assert_int_eq(v.scores[1].webq96, 60);
	ck_assert_int_eq(v.scores[0].webq96, 100);
	ck_assert_ptr_nonnull(strstr(v.rep.reason, "10.0.0.2 (no staple)"));
	ck_assert_ptr_null(strstr(v.rep.reason, "10.0.0.1"));
	vfix_free(&v);
}
END_TEST

/* A fresh last staple without confirmation (the time ran out) is not
 * ready: the Must-Staple certificate is refused, naming the target. */
START_TEST(verdict_unconfirmed_target_refuses)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_ms, 3);
	v.probes[2].streak = 2;
	v.probes[2].confirmed = false;
	sg_verdict_check(&v.rep);
	ck_assert(!v.rep.allow);
	ck_assert(!v.scores[2].ready);
	ck_assert_ptr_nonnull(strstr(v.rep.reason, "10.0.0.3"));
	ck_assert_ptr_nonnull(strstr(v.scores[2].reason, "not confirmed"));
	vfix_free(&v);
}
END_TEST

START_TEST(verdict_expiring_staple_scores_but_refuses)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_ms, 1);
	v.probes[0].staple.fresh = false;
	v.probes[0].staple.reason = "expiring: 3h left";
	sg_verdict_check(&v.rep);
	ck_assert(!v.rep.allow);
	ck_assert(v.scores[0].stapled);
	ck_assert_int_eq(v.scores[0].webq96, 100);
	ck_assert_ptr_nonnull(strstr(v.rep.reason, "expiring"));
	vfix_free(&v);
}
END_TEST

START_TEST(verdict_unreachable_refuses_must_staple)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_ms, 1);
	sg_probe_init(&v.probes[0], 1);
	v.probes[0].error = "cannot connect: refused";
	sg_verdict_check(&v.rep);
	ck_assert(!v.rep.allow);
	ck_assert_int_eq(v.scores[0].webq96, 60);
	ck_assert_ptr_nonnull(strstr(v.rep.reason, "cannot connect"));
	vfix_free(&v);
}
END_TEST

START_TEST(verdict_plain_cert_always_allowed_with_hint)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_plain, 2);
	sg_probe_init(&v.probes[0], 1);
	v.probes[0].error = "timed out";
	v.probes[1].staple = (struct sg_staple){.reason = "no staple"};
	sg_verdict_check(&v.rep);
	ck_assert(v.rep.allow);
	ck_assert_int_eq(v.scores[0].webq96, 0);
	ck_assert_int_eq(v.scores[1].webq96, 0);
	ck_assert_ptr_nonnull(strstr(v.rep.hint, "2 of 2"));
	vfix_free(&v);
}
END_TEST

START_TEST(verdict_plain_cert_stapled_scores_30)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_plain, 1);
	sg_verdict_check(&v.rep);
	ck_assert(v.rep.allow);
	ck_assert_int_eq(v.scores[0].webq96, 30);
	ck_assert_str_eq(v.rep.hint, "");
	vfix_free(&v);
}
END_TEST

START_TEST(verdict_must_staple_without_ocsp_url_refuses)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_noocsp_ms, 1);
	sg_verdict_check(&v.rep);
	ck_assert(!v.rep.allow);
	ck_assert_ptr_nonnull(strstr(v.rep.reason, "names no OCSP responder"));
	vfix_free(&v);
}
END_TEST

START_TEST(verdict_malformed_feature_refuses)
{
	struct vfix v;

	vfix_init(&v, T_PKI->leaf_ms, 1);
	v.rep.cert.feature_error =
		sg_err(SG_EINPUT, "malformed TLS Feature extension: x");
	sg_verdict_check(&v.rep);
	ck_assert(!v.rep.allow);
	ck_assert_ptr_nonnull(strstr(v.rep.reason, "malformed TLS Feature"));
	vfix_free(&v);
}
END_TEST

/* --json prints the record one target at a time (the whole tree of
 * 10,000 targets cost more memory than the run): byte for byte what
 * dumping the tree prints, with no target, one, and several. */
START_TEST(record_print_is_the_tree_dumped)
{
	for (size_t n = 0; n <= 3; n++) {
		struct vfix v;
		char *tree = NULL, *streamed = NULL;
		size_t tlen = 0, slen = 0;
		FILE *t = open_memstream(&tree, &tlen),
		     *s = open_memstream(&streamed, &slen);
		json_t *rec;

		vfix_init(&v, T_PKI->leaf_ms, n ? n : 1);
		v.rep.n = n;
		v.probes[n ? n - 1 : 0].error = "timed out \"here\"\n";
		sg_verdict_check(&v.rep);
		rec = sg_record_build(&v.rep);
		ck_assert_ptr_nonnull(rec);
		ck_assert_int_eq(json_dumpf(rec, t, JSON_INDENT(2)), 0);
		ck_assert_int_eq(sg_record_print(&v.rep, s), 0);
		fclose(t);
		fclose(s);
		ck_assert_str_eq(streamed, tree);
		json_decref(rec);
		free(tree);
		free(streamed);
		vfix_free(&v);
	}
}
END_TEST

START_TEST(config_default_max_age_is_ten_days)
{
	struct sg_config cfg;
	char path[600];
	sg_result r;

	snprintf(path, sizeof(path), "%s/maxage.json", T_PKI->dir);
	fx_write_bytes(path, (const unsigned char *)"{}", 2);
	r = sg_config_load(path, &cfg);
	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	ck_assert_int_eq(cfg.max_age_sec, 10 * 86400);
	sg_config_free(&cfg);
}
END_TEST

START_TEST(config_example_in_contrib_parses)
{
	struct sg_config cfg;
	sg_result r = sg_config_load("contrib/config.example.json", &cfg);
	const struct sg_domain_cfg *d;

	ck_assert_msg(r.code == SG_OK, "%s", r.reason);
	ck_assert_int_eq(cfg.settle_handshakes, 3);
	ck_assert_str_eq(cfg.deploy_argv[0], "systemctl");
	d = sg_config_match(&cfg, "v2.api.example");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->servername, "edge.api.example");
	ck_assert_uint_eq(d->ntargets, 2);
	ck_assert_ptr_null(sg_config_match(&cfg, "a.b.api.example"));
	ck_assert_ptr_null(sg_config_match(&cfg, "api.example"));
	ck_assert_uint_eq(sg_config_match(&cfg, "SHOP.example")->ntargets, 3);
	sg_config_free(&cfg);
}
END_TEST

START_TEST(config_errors_name_key_and_position)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"{\"defaults\": {\"timeout\": 5}}",
		 "c.json:1:15: defaults.timeout: expected a duration"},
		{"{\n\"defaults\": {\n \"deadline\": \"2x\"}}",
		 "c.json:3:2: defaults.deadline: invalid"},
		{"{\"domains\": {\"a.example\": {\"targets\": [\"x y\"]}}}",
		 "domains.a.example.targets: invalid target 'x y'"},
		{"{\"domains\": {\"a.example\": {}}}",
		 "domains.a.example.targets: expected a non-empty array"},
		{"{\"domains\": {\"a.example\": {\"targets\": [\"h\"], "
		 "\"deploy_command\": \"systemctl reload\"}}}",
		 "deploy_command: expected a non-empty array of strings"},
		{"{\"domains\": {\"http://x\": {\"targets\": [\"h\"]}}}",
		 "domains.http://x: not a domain name"},
		{"{\"frobs\": 1}", "c.json:1:2: frobs: unknown key"},
		{"{\"defaults\": {\"attempts\": 0}}", "attempts: out of range"},
		{"[1, 2]", "top level must be an object"},
		{"{\"defaults\": {", "c.json:1:14:"},
		{"{\"a\": 1, \"a\": 2}", "duplicate object key"},
	};
	struct sg_config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sg_result r = sg_config_parse(
			cases[i].text, strlen(cases[i].text), "c.json", &cfg);

		ck_assert_msg(r.code == SG_EINPUT, "case %zu accepted", i);
		ck_assert_msg(strstr(r.reason, cases[i].want) != NULL,
			      "case %zu: '%s' lacks '%s'", i, r.reason,
			      cases[i].want);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("unit");
	TCase *tc = tcase_create("parsing");

	tcase_add_test(tc, feature_status_request_is_must_staple);
	tcase_add_test(tc, feature_v2_only_is_not_must_staple);
	tcase_add_test(tc, feature_both_values_are_reported);
	tcase_add_test(tc, feature_malformed_der_is_an_error);
	tcase_add_test(tc, feature_read_from_certificates);
	tcase_add_test(tc, duration_units);
	tcase_add_test(tc, duration_rejects_garbage);
	tcase_add_test(tc, duration_format_two_units);
	tcase_add_test(tc, target_forms);
	tcase_add_test(tc, target_rejects_bad_strings);
	tcase_add_test(tc, targets_file_costs_little_per_target);
	tcase_add_test(tc, probe_result_holds_no_text_of_its_own);
	tcase_add_test(tc, config_default_max_age_is_ten_days);
	tcase_add_test(tc, config_example_in_contrib_parses);
	tcase_add_test(tc, config_errors_name_key_and_position);
	suite_add_tcase(s, tc);
	tc = tcase_create("verdict");
	tcase_add_test(tc, webq96_matrix);
	tcase_add_test(tc, verdict_must_staple_all_fresh_allows);
	tcase_add_test(tc, verdict_one_backend_unstapled_refuses_naming_it);
	tcase_add_test(tc, verdict_unconfirmed_target_refuses);
	tcase_add_test(tc, verdict_expiring_staple_scores_but_refuses);
	tcase_add_test(tc, verdict_unreachable_refuses_must_staple);
	tcase_add_test(tc, verdict_plain_cert_always_allowed_with_hint);
	tcase_add_test(tc, verdict_plain_cert_stapled_scores_30);
	tcase_add_test(tc, verdict_must_staple_without_ocsp_url_refuses);
	tcase_add_test(tc, verdict_malformed_feature_refuses);
	tcase_add_test(tc, record_print_is_the_tree_dumped);
	suite_add_tcase(s, tc);
	return s;
}
