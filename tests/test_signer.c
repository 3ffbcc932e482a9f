/* The OCSP side of an outage (issue 17 items 1, 2): the responder's
 * signing certificate expiring, and the responder itself answering
 * tryLater, internalError, 500, slowly or with responses Firefox caps.
 * Real servers and a real responder on loopback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#include "../preflight/staple.h"
#include "../preflight/vcache.h"
#include "scene.h"
#include "testutil.h"
#include "tresponder.h"
#include "tserver.h"

/* A leaf naming the responder at port, and a server stapling a good
 * staple for it (signed by signer, the CA when NULL). */
struct stage {
	char dir[600], config[700], prom[700];
	struct tresponder resp;
	struct tserver srv;
	X509 *leaf, *signer;
	EVP_PKEY *signer_key;
	unsigned char *staple;
	size_t len;
};

/* A delegated responder certificate of the test CA with life seconds
 * left (an hour short of whole days: the reports count whole days). */
static X509 *expiring_signer(long life)
{
	struct fx_cert_opts o = {.cn = "Expiring OCSP Signer",
				 .ocsp_signing = true,
				 .not_after_off = life};

	return fx_issue(&o, T_PKI->resp_key, T_PKI->ca, T_PKI->ca_key);
}

static void stage_begin(struct stage *s, const char *name, X509 *signer,
			bool stapling, long leaf_life)
{
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = true,
				 .not_after_off = leaf_life};
	struct fx_staple_opts so = fx_staple_good();
	char url[64];

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/%s-%d", T_PKI->dir, name,
		 getpid());
	mkdir(s->dir, 0700);
	snprintf(s->config, sizeof(s->config), "%s/config.json", s->dir);
	snprintf(s->prom, sizeof(s->prom), "%s/staplegate.prom", s->dir);
	s->signer = signer;
	s->signer_key = signer ? T_PKI->resp_key : NULL;
	s->resp = (struct tresponder){.mode = TR_STATUS,
				      .cert_status = V_OCSP_CERTSTATUS_GOOD,
				      .ca = T_PKI->ca,
				      .ca_key = T_PKI->ca_key,
				      .signer = signer,
				      .signer_key = s->signer_key};
	ck_assert_int_eq(tr_start(&s->resp), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->resp.port);
	o.ocsp_url = url;
	s->leaf = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	so.include_signer = signer != NULL;
	if (stapling)
		s->staple = fx_staple(
			s->leaf, T_PKI->ca, signer ? signer : T_PKI->ca,
			signer ? s->signer_key : T_PKI->ca_key, &so, &s->len);
	s->srv = (struct tserver){.mode = TS_TLS,
				  .cert = s->leaf,
				  .key = T_PKI->leaf_key,
				  .chain = T_PKI->ca,
				  .staple = s->staple,
				  .staple_len = s->len};
	ck_assert_int_eq(ts_start(&s->srv), 0);
}

/* extra is spliced into "defaults". */
static void stage_config(struct stage *s, const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s/scores.jsonl\", "
		 "\"state_dir\": \"%s/state\", \"cafile\": \"%s\", "
		 "\"attempts\": 1%s%s}, \"domains\": {\"shop.example\": "
		 "{\"targets\": [\"127.0.0.1:%d\"]}}}",
		 s->dir, s->dir, tpath("root.pem"), extra[0] ? ", " : "", extra,
		 s->srv.port);
	write_text(s->config, text, 0644);
}

static void stage_end(struct stage *s)
{
	ts_stop(&s->srv);
	tr_stop(&s->resp);
	X509_free(s->leaf);
	OPENSSL_free(s->staple);
}

static char *slurp(const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = calloc(1, 65536);

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(fread(buf, 1, 65535, f), 0);
	fclose(f);
	return buf;
}

/* probe and check name who signed the staple: the issuer itself, or a
 * delegated responder with its subject and notAfter. */
START_TEST(probe_and_check_name_the_ocsp_signer)
{
	X509 *signer = expiring_signer(20L * 86400 - 3600);
	struct stage s;
	struct cli_run r;
	char target[32], leaf[700];

	stage_begin(&s, "sig-probe", signer, true, 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", s.srv.port);
	cli(&r, "probe", target, "--servername", "shop.example", "--CAfile",
	    tpath("root.pem"), "--attempts", "1", "--confirm", "1", NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "OCSP signer: delegated responder "
			       "CN=Expiring OCSP Signer, notAfter ");
	assert_contains(r.out, "(19d");
	cli(&r, "probe", target, "--servername", "shop.example", "--CAfile",
	    tpath("root.pem"), "--attempts", "1", "--confirm", "1", "--json",
	    NULL);
	assert_contains(r.out, "\"signer\": {\n        \"delegated\": true,\n"
			       "        \"subject\": \"CN=Expiring OCSP "
			       "Signer\",\n        \"not_after\": \"20");
	snprintf(leaf, sizeof(leaf), "%s/leaf.pem", s.dir);
	ck_assert_int_eq(fx_write_pem(leaf, s.leaf, T_PKI->ca, NULL), 0);
	cli(&r, "check", "--cert", leaf, "--target", target, "--CAfile",
	    tpath("root.pem"), "--attempts", "1", "--confirm", "1", NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "OCSP signer: delegated responder "
			       "CN=Expiring OCSP Signer");
	stage_end(&s);
	X509_free(signer);

	/* signed by the CA itself */
	stage_begin(&s, "sig-probe-ca", NULL, true, 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", s.srv.port);
	cli(&r, "probe", target, "--servername", "shop.example", "--CAfile",
	    tpath("root.pem"), "--attempts", "1", "--confirm", "1", "--json",
	    NULL);
	assert_contains(r.out, "\"signer\": {\n        \"delegated\": false,\n"
			       "        \"subject\": \"CN=Staplegate Test "
			       "Issuing CA\"");
	stage_end(&s);
}
END_TEST

/* A delegated signer with 5 days left: WARNING by the 14-day default,
 * CRITICAL under --signer-crit 6d, OK under the config's thresholds;
 * perfdata and the Prometheus metric carry its remaining time. */
START_TEST(monitor_warns_and_crits_on_the_signer_expiry)
{
	X509 *signer = expiring_signer(5L * 86400 - 3600);
	struct stage s;
	struct cli_run r;
	char *text;

	stage_begin(&s, "sig-mon", signer, true, 0);
	stage_config(&s, "");
	cli(&r, "monitor", "--config", s.config, "--prom", s.prom, NULL);
	ck_assert_msg(r.status == 1, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "STAPLEGATE WARNING");
	assert_contains(r.out, "OCSP signer delegated responder "
			       "(CN=Expiring OCSP Signer) expires in 4d");
	assert_contains(r.out, " signer_seconds_left'=4");
	assert_contains(r.out, "s;1209600;259200");
	text = slurp(s.prom);
	assert_contains(text, "staplegate_ocsp_signer_seconds_remaining{target="
			      "\"127.0.0.1:");
	assert_contains(text, "staplegate_ocsp_signer_delegated{target=");
	free(text);

	cli(&r, "monitor", "--config", s.config, "--signer-crit", "6d", NULL);
	ck_assert_msg(r.status == 2, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "STAPLEGATE CRITICAL");
	assert_contains(r.out, "s;1209600;518400");

	stage_config(&s, "\"signer_warn\": \"3d\", \"signer_crit\": \"1d\"");
	cli(&r, "monitor", "--config", s.config, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "STAPLEGATE OK");
	assert_contains(r.out, "s;259200;86400");

	cli(&r, "monitor", "--config", s.config, "--signer-warn", "1d",
	    "--signer-crit", "2d", NULL);
	ck_assert_msg(r.status == 3, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "signer-crit (172800 s) must not exceed");
	stage_end(&s);
	X509_free(signer);
}
END_TEST

/* A server that does not staple yet: the signer judged is the one the
 * responder signs with now (--responders). */
START_TEST(monitor_judges_the_responders_signer_without_a_staple)
{
	X509 *signer = expiring_signer(2L * 86400 - 3600);
	struct stage s;
	struct cli_run r;

	stage_begin(&s, "sig-resp", signer, false, 0);
	stage_config(&s, "\"responder_health\": true");
	cli(&r, "monitor", "--config", s.config, NULL);
	ck_assert_msg(r.status == 2, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "OCSP signer delegated responder "
			       "(CN=Expiring OCSP Signer) expires in 1d");
	assert_contains(r.out, " signer_seconds_left'=1");
	assert_contains(r.out, " responder_http_status'=200");
	stage_end(&s);
	X509_free(signer);
}
END_TEST

/* A healthy responder: OK, with latency, HTTP and OCSP status and the
 * validity window in perfdata, the record and the textfile. */
START_TEST(monitor_reports_a_healthy_responder)
{
	struct stage s;
	struct cli_run r;
	char *text;

	stage_begin(&s, "rh-ok", NULL, true, 0);
	stage_config(&s, "");
	cli(&r, "monitor", "--config", s.config, "--prom", s.prom,
	    "--responders", NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s %s", r.status, r.out, r.err);
	ck_assert_int_ge(s.resp.requests, 1);
	assert_contains(r.out, " responder_latency'=0.");
	assert_contains(r.out, "s;2.000");
	assert_contains(r.out, " responder_http_status'=200");
	assert_contains(r.out, " responder_ocsp_status'=0");
	assert_contains(r.out, " responder_validity'=6");
	assert_contains(r.out, "s;864000");
	assert_contains(r.out, " responder_next_update_after_not_after'=0");
	text = slurp(s.prom);
	assert_contains(text, "staplegate_responder_up{target=\"127.0.0.1:");
	assert_contains(text, "\"} 1\n");
	assert_contains(text, "staplegate_responder_latency_seconds{");
	assert_contains(text, "staplegate_responder_http_status{");
	assert_contains(text, "staplegate_responder_ocsp_status{");
	assert_contains(text, "staplegate_responder_validity_seconds{");
	assert_contains(text,
			"staplegate_responder_next_update_after_not_after{");
	free(text);
	snprintf(s.prom, sizeof(s.prom), "%s/scores.jsonl", s.dir);
	text = slurp(s.prom);
	assert_contains(text, "\"responder\":{\"url\":\"http://127.0.0.1:");
	assert_contains(text, "\"http_status\":200,\"ocsp_status\":0");
	free(text);
	stage_end(&s);
}
END_TEST

/* Each sick responder is a WARNING naming what is wrong, while the
 * server's cached staple keeps the target itself fine. */
START_TEST(monitor_warns_on_a_sick_responder)
{
	static const struct {
		enum tr_mode mode;
		int resp_status;
		long delay_ms, next_off;
		const char *says, *perf;
	} cases[] = {
		{TR_HTTP500, 0, 0, 0, "HTTP status 500",
		 "responder_http_status'=500"},
		{TR_UNSUCCESSFUL, OCSP_RESPONSE_STATUS_TRYLATER, 0, 0,
		 "answers tryLater (3)", "responder_ocsp_status'=3"},
		{TR_UNSUCCESSFUL, OCSP_RESPONSE_STATUS_INTERNALERROR, 0, 0,
		 "answers internalError (2)", "responder_ocsp_status'=2"},
		{TR_STATUS, 0, 2500, 0, "over 2.0s", "responder_latency'=2."},
		{TR_STATUS, 0, 0, 14L * 86400, "valid for 14d",
		 "responder_validity'=121"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stage s;
		struct cli_run r;
		char name[32];

		snprintf(name, sizeof(name), "rh-sick-%zu", i);
		stage_begin(&s, name, NULL, true, 0);
		s.resp.mode = cases[i].mode;
		s.resp.resp_status = cases[i].resp_status;
		s.resp.delay_ms = cases[i].delay_ms;
		s.resp.next_off = cases[i].next_off;
		stage_config(&s, "\"responder_health\": true");
		cli(&r, "monitor", "--config", s.config, NULL);
		ck_assert_msg(r.status == 1, "case %zu: exit %d: %s %s", i,
			      r.status, r.out, r.err);
		assert_contains(r.out, "STAPLEGATE WARNING");
		assert_contains(r.out, cases[i].says);
		assert_contains(r.out, cases[i].perf);
		stage_end(&s);
	}
}
END_TEST

/* nextUpdate beyond the certificate's notAfter is reported (perfdata,
 * record), not warned about: the certificate expires first. */
START_TEST(monitor_reports_next_update_beyond_not_after)
{
	struct stage s;
	struct cli_run r;

	stage_begin(&s, "rh-beyond", NULL, true, 5L * 86400);
	stage_config(&s, "\"responder_health\": true");
	cli(&r, "monitor", "--config", s.config, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, " responder_next_update_after_not_after'=1");
	stage_end(&s);
}
END_TEST

/* drill's survival window ends where the OCSP signer's certificate
 * does, when that comes before the staple's nextUpdate. */
START_TEST(drill_survival_ends_with_the_signer)
{
	X509 *signer = expiring_signer(2L * 86400 - 3600);
	struct stage s;
	struct cli_run r;

	stage_begin(&s, "sig-drill", signer, true, 0);
	stage_config(&s, "");
	cli(&r, "drill", "--config", s.config, "--outage", "48h", NULL);
	ck_assert_msg(r.status == 1, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "survival 1d");
	assert_contains(r.out, "its OCSP signer (CN=Expiring OCSP Signer) "
			       "expires before the staple does");
	cli(&r, "drill", "--config", s.config, "--outage", "24h", NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s %s", r.status, r.out, r.err);
	assert_contains(r.out, "(until the OCSP signer expires)");
	stage_end(&s);
	X509_free(signer);
}
END_TEST

/* The signer is found again from the staple's bytes and the issuer on a
 * cache hit: the verdict cache holds nothing about it, and an expired
 * signer is still named while the staple is refused. */
START_TEST(signer_is_reported_through_the_verdict_cache)
{
	X509 *expired;
	struct fx_cert_opts o = {.cn = "Expired OCSP Signer",
				 .ocsp_signing = true,
				 .not_before_off = -10L * 86400,
				 .not_after_off = -86400};
	struct fx_staple_opts so = fx_staple_good();
	struct sg_policy pol = {SG_DEFAULT_SKEW_SEC,
				SG_DEFAULT_MIN_REMAINING_SEC,
				SG_DEFAULT_MAX_AGE_SEC};
	struct sg_vcache cache = {0};
	struct sg_staple a, b;
	unsigned char *der;
	size_t len;

	expired = fx_issue(&o, T_PKI->resp_key, T_PKI->ca, T_PKI->ca_key);
	so.include_signer = true;
	der = fx_staple(T_PKI->leaf_ms, T_PKI->ca, expired, T_PKI->resp_key,
			&so, &len);
	sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca, &pol,
				time(NULL), &cache, &a);
	sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca, &pol,
				time(NULL), &cache, &b);
	ck_assert_uint_eq(cache.hits, 1);
	ck_assert(!a.valid && !b.valid);
	assert_contains(b.reason, "responder certificate expired on");
	ck_assert(a.signer_known && b.signer_known);
	ck_assert(b.signer_delegated);
	ck_assert_str_eq(b.signer_subject, "CN=Expired OCSP Signer");
	ck_assert_str_eq(a.signer_subject, b.signer_subject);
	ck_assert_int_eq(a.signer_not_after, b.signer_not_after);
	ck_assert_int_lt(b.signer_not_after, time(NULL));
	/* the issuer's own signature: not delegated */
	OPENSSL_free(der);
	der = tstaple_good(&len);
	sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca, &pol,
				time(NULL), &cache, &a);
	ck_assert(a.valid && a.signer_known && !a.signer_delegated);
	ck_assert_str_eq(a.signer_subject, "CN=Staplegate Test Issuing CA");
	OPENSSL_free(der);
	sg_vcache_free(&cache);
	X509_free(expired);
}
END_TEST

Suite *signer_suite(void)
{
	Suite *s = suite_create("signer");
	TCase *tc = tcase_create("signer");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, signer_is_reported_through_the_verdict_cache);
	tcase_add_test(tc, probe_and_check_name_the_ocsp_signer);
	tcase_add_test(tc, monitor_warns_and_crits_on_the_signer_expiry);
	tcase_add_test(tc,
		       monitor_judges_the_responders_signer_without_a_staple);
	tcase_add_test(tc, monitor_reports_a_healthy_responder);
	tcase_add_test(tc, monitor_warns_on_a_sick_responder);
	tcase_add_test(tc, monitor_reports_next_update_beyond_not_after);
	tcase_add_test(tc, drill_survival_ends_with_the_signer);
	suite_add_tcase(s, tc);
	return s;
}
