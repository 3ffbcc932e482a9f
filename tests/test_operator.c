/* What an operator of an OCSP-stapling PKI needs to see: certificates
 * that name no OCSP responder, a renewal leaving Must-Staple, and
 * staples pushed into a running HAProxy without a reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#include "../acme/haproxy.h"
#include "scene.h"
#include "testutil.h"
#include "thaproxy.h"
#include "tserver.h"

/* A monitor config for shop.example with the given targets, in dir. */
static void monitor_config(const char *dir, const char *targets, char *config,
			   size_t size)
{
	char text[2048];

	snprintf(config, size, "%s/monitor.json", dir);
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s/scores.jsonl\", "
		 "\"state_dir\": \"%s/state\", \"cafile\": \"%s\", "
		 "\"attempts\": 1}, \"domains\": "
		 "{\"shop.example\": {\"targets\": [%s]}}}",
		 dir, dir, tpath("root.pem"), targets);
	write_text(config, text, 0644);
}

static void test_dir(const char *name, char *dir, size_t size)
{
	snprintf(dir, size, "%s/%s-%d", T_PKI->dir, name, getpid());
	mkdir(dir, 0700);
}

static void read_text(const char *file, char *buf, size_t size)
{
	FILE *f = fopen(file, "r");

	ck_assert_msg(f != NULL, "cannot read %s", file);
	buf[fread(buf, 1, size - 1, f)] = '\0';
	fclose(f);
}

/* A plain certificate without an AIA OCSP URL, as CAs that left OCSP
 * issue them: nothing can staple it, so not stapling is no warning. */
static X509 *plain_without_ocsp_url(void)
{
	struct fx_cert_opts o = {.cn = "shop.example", .dns = "shop.example"};

	return fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
}

START_TEST(monitor_does_not_warn_for_a_certificate_without_ocsp_url)
{
	X509 *cert = plain_without_ocsp_url();
	struct tserver srv = {.mode = TS_TLS,
			      .cert = cert,
			      .key = T_PKI->leaf_key,
			      .chain = T_PKI->ca};
	struct cli_run r;
	char dir[600], config[700], targets[64], prom[700], rec[700];
	char text[8192];

	ck_assert_int_eq(ts_start(&srv), 0);
	test_dir("noocsp", dir, sizeof(dir));
	snprintf(targets, sizeof(targets), "\"127.0.0.1:%d\"", srv.port);
	monitor_config(dir, targets, config, sizeof(config));
	snprintf(prom, sizeof(prom), "%s/staplegate.prom", dir);
	cli(&r, "monitor", "--config", config, "--prom", prom, NULL);
	ts_stop(&srv);
	X509_free(cert);
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.out);
	assert_contains(r.out, "STAPLEGATE OK - 1 targets: 1 ok, 0 warning");
	ck_assert_msg(strstr(r.out, "not stapling") == NULL, "%s", r.out);
	assert_contains(r.out, "; 1 with no OCSP URL: nothing to staple (");
	/* the record gives the reason with the score it explains */
	snprintf(rec, sizeof(rec), "%s/scores.jsonl", dir);
	read_text(rec, text, sizeof(text));
	assert_contains(text, "\"ocsp_url\":false");
	assert_contains(text, "\"webq96\":0,\"state\":\"OK\",\"reason\":"
			      "\"no OCSP URL: nothing to staple, WEBQ-96 0 "
			      "is the most it can score\"");
	read_text(prom, text, sizeof(text));
	assert_contains(text, "staplegate_ocsp_url{target=\"127.0.0.1:");
	assert_contains(text, "\"} 0\n");
	/* with Must-Staple the same impossibility is an outage */
	srv = tserver_ms(NULL, 0);
	srv.cert = T_PKI->leaf_noocsp_ms;
	ck_assert_int_eq(ts_start(&srv), 0);
	snprintf(targets, sizeof(targets), "\"127.0.0.1:%d\"", srv.port);
	monitor_config(dir, targets, config, sizeof(config));
	cli(&r, "monitor", "--config", config, NULL);
	ts_stop(&srv);
	ck_assert_msg(r.status == 2, "%d %s", r.status, r.out);
	assert_contains(r.out, "Must-Staple certificate that can never be "
			       "stapled: no OCSP URL: nothing to staple");
}
END_TEST

/* probe and check say why the score is 0: enabling stapling would not
 * raise it, there is nothing to staple. */
START_TEST(probe_and_check_explain_the_score_without_ocsp_url)
{
	X509 *cert = plain_without_ocsp_url();
	struct tserver srv = {.mode = TS_TLS,
			      .cert = cert,
			      .key = T_PKI->leaf_key,
			      .chain = T_PKI->ca};
	struct cli_run r;
	char target[64], certfile[600];

	ck_assert_int_eq(ts_start(&srv), 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", srv.port);
	snprintf(certfile, sizeof(certfile), "%s/noocsp-plain-%d.pem",
		 T_PKI->dir, getpid());
	fx_write_pem(certfile, cert, T_PKI->ca, NULL);
	cli(&r, "probe", target, "--servername", "shop.example", "--CAfile",
	    tpath("root.pem"), "--attempts", "1", NULL);
	ck_assert_msg(r.status == 1, "%d %s", r.status, r.out);
	assert_contains(r.out, "no OCSP URL: nothing to staple");
	cli(&r, "probe", target, "--servername", "shop.example", "--json",
	    "--attempts", "1", NULL);
	assert_contains(r.out, "no OCSP URL: nothing to staple");
	cli(&r, "check", "--cert", certfile, "--target", target, "--attempts",
	    "1", NULL);
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.out);
	assert_contains(r.out, "hint: the new certificate names no OCSP "
			       "responder: nothing to staple");
	ck_assert_msg(strstr(r.out, "enable stapling") == NULL, "%s", r.out);
	ts_stop(&srv);
	X509_free(cert);
}
END_TEST

static void run_hook(struct scene *s, struct cli_run *r)
{
	const char *args[] = {"hook", "--config",   s->config,
			      "--",   s->deploy_sh, NULL};

	hook_certbot(s, r, args);
}

/* The decision line of the score log's run that starts at line `at`. */
static json_t *decision(json_t *log, size_t at)
{
	json_t *rec = json_array_get(log, at);

	ck_assert_str_eq(field(rec, "kind"), "decision");
	return rec;
}

/* The renewal drops Must-Staple while the target still serves the old
 * Must-Staple certificate: the hook deploys (a plain certificate is never
 * gated), says so, and records where Must-Staple is still served. */
START_TEST(hook_says_when_a_renewal_leaves_must_staple)
{
	struct scene s;
	struct cli_run r;
	char spec[64];
	json_t *log, *prev;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", s.srv.port);
	run_hook(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(exists(s.deployed));
	assert_contains(r.err, "staplegate: leaving Must-Staple: shop.example");
	assert_contains(r.err, spec);
	assert_contains(r.err, "staplegate monitor");
	log = read_log(s.record);
	ck_assert(json_is_true(
		json_object_get(decision(log, 0), "leaving_must_staple")));
	prev = json_object_get(decision(log, 0), "previous_must_staple");
	ck_assert(json_is_false(json_object_get(prev, "store")));
	ck_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(prev, "targets"), 0)),
			 spec);
	json_decref(log);
	/* the next renewal, plain again, finds the plain one served: not
	 * leaving any more */
	run_hook(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(strstr(r.err, "leaving Must-Staple") == NULL, "%s",
		      r.err);
	log = read_log(s.record);
	ck_assert(json_is_false(
		json_object_get(decision(log, 2), "leaving_must_staple")));
	ck_assert(json_is_null(
		json_object_get(decision(log, 2), "previous_must_staple")));
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* The store's live version is what servers load: a Must-Staple one
 * there is the previous certificate even when no target answers. */
START_TEST(hook_finds_the_previous_must_staple_in_the_store)
{
	struct scene s;
	struct cli_run r;
	struct fx_cert_opts o = {.cn = "shop.example", .dns = "shop.example"};
	X509 *plain;
	json_t *log, *prev;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, "\"store\": true");
	run_hook(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(strstr(r.err, "leaving Must-Staple") == NULL, "%s",
		      r.err);
	plain = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	scene_renew(&s, plain, 2);
	ts_stop(&s.srv); /* nothing answers: only the store knows */
	run_hook(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.err, "leaving Must-Staple: shop.example");
	assert_contains(r.err, "the store's live version");
	log = read_log(s.record);
	ck_assert(json_is_false(
		json_object_get(decision(log, 0), "leaving_must_staple")));
	ck_assert(json_is_true(
		json_object_get(decision(log, 2), "leaving_must_staple")));
	prev = json_object_get(decision(log, 2), "previous_must_staple");
	ck_assert(json_is_true(json_object_get(prev, "store")));
	ck_assert_int_eq(json_array_size(json_object_get(prev, "targets")), 0);
	json_decref(log);
	X509_free(plain);
	scene_end(&s);
}
END_TEST

/* Stapling may be turned off only once no target serves a Must-Staple
 * certificate: monitor names each one that still does. */
START_TEST(monitor_names_every_target_still_serving_must_staple)
{
	size_t len, plen;
	unsigned char *der = tstaple_good(&len);
	struct fx_staple_opts good = fx_staple_good();
	unsigned char *pder = fx_staple(T_PKI->leaf_plain, T_PKI->ca, T_PKI->ca,
					T_PKI->ca_key, &good, &plen);
	struct tserver srv[3] = {tserver_ms(der, len), tserver_ms(der, len),
				 tserver_ms(pder, plen)};
	struct cli_run r;
	char dir[600], config[700], targets[256], want[256], rec[700];
	char text[16384];

	srv[2].cert = T_PKI->leaf_plain;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ts_start(&srv[i]), 0);
	test_dir("leaving", dir, sizeof(dir));
	snprintf(targets, sizeof(targets),
		 "\"127.0.0.1:%d\", \"127.0.0.1:%d\", \"127.0.0.1:%d\"",
		 srv[0].port, srv[1].port, srv[2].port);
	monitor_config(dir, targets, config, sizeof(config));
	cli(&r, "monitor", "--config", config, NULL);
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.out);
	snprintf(want, sizeof(want),
		 "Must-Staple served by 2 of 3 targets: 127.0.0.1:%d, "
		 "127.0.0.1:%d",
		 srv[0].port, srv[1].port);
	assert_contains(r.out, want);
	assert_contains(r.out, "'must_staple_targets'=2;;;0;3");
	snprintf(rec, sizeof(rec), "%s/scores.jsonl", dir);
	read_text(rec, text, sizeof(text));
	snprintf(want, sizeof(want),
		 "\"must_staple_targets\":[\"127.0.0.1:%d\",\"127.0.0.1:%d\"]",
		 srv[0].port, srv[1].port);
	assert_contains(text, want);
	/* the plain certificate everywhere: stapling may be turned off */
	snprintf(targets, sizeof(targets), "\"127.0.0.1:%d\"", srv[2].port);
	monitor_config(dir, targets, config, sizeof(config));
	cli(&r, "monitor", "--config", config, NULL);
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.out);
	assert_contains(r.out, "no target serves a Must-Staple certificate");
	assert_contains(r.out, "'must_staple_targets'=0;;;0;1");
	for (int i = 0; i < 3; i++)
		ts_stop(&srv[i]);
	OPENSSL_free(der);
	OPENSSL_free(pder);
}
END_TEST

/* HAProxy as the only target of shop.example, with its stats socket for
 * staples and its .ocsp file as the pre-staged staple. */
static void haproxy_config(struct scene *s, const struct haproxy *h)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s\", \"cafile\": \"%s\", "
		 "\"retry_delay\": \"0s\", \"state_dir\": \"%s\"},\n"
		 " \"domains\": {\"shop.example\": {\"targets\": "
		 "[\"127.0.0.1:%d\"], \"haproxy_socket\": \"%s\", "
		 "\"staple_out\": \"%s\"}}}\n",
		 s->record, tpath("root.pem"), s->state, h->port, h->sock,
		 h->ocsp);
	write_text(s->config, text, 0644);
}

/* What HAProxy staples now, seen by a TLS client: seconds left. */
static long haproxy_staple_left(const struct haproxy *h)
{
	struct cli_run r;
	char target[64];
	json_t *doc, *t;
	long left;

	snprintf(target, sizeof(target), "127.0.0.1:%d", h->port);
	cli(&r, "probe", target, "--servername", "shop.example", "--CAfile",
	    tpath("root.pem"), "--attempts", "1", "--json", NULL);
	doc = json_loads(r.out, 0, NULL);
	t = json_array_get(json_object_get(doc, "targets"), 0);
	ck_assert_msg(json_is_true(json_object_get(t, "staple_valid")), "%s",
		      r.out);
	left = (long)json_integer_value(json_object_get(t, "seconds_left"));
	json_decref(doc);
	return left;
}

/* A staple for the scene's new certificate, valid from this_off to
 * next_off (seconds from now), signed by the CA. */
static unsigned char *scene_staple(struct scene *s, long this_off,
				   long next_off, size_t *len)
{
	struct fx_staple_opts o = fx_staple_good();

	o.this_off = this_off;
	o.next_off = next_off;
	return fx_staple(s->newcert, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, &o,
			 len);
}

/* HAProxy 2.6 serves the certificate with an older staple it loaded at
 * start; the deploy command reloads nothing. The hook pushes the
 * responder's verified answer over the stats socket, reads it back, and
 * clients get it at once. */
START_TEST(hook_pushes_the_verified_staple_into_haproxy)
{
	struct scene s;
	struct haproxy h;
	struct cli_run r;
	size_t len;
	unsigned char *der;
	char dir[700];

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	der = scene_staple(&s, -2 * 86400, 3 * 86400, &len);
	snprintf(dir, sizeof(dir), "%s/haproxy", s.dir);
	haproxy_start(&h, dir, s.newcert, der, len);
	ck_assert_int_lt(haproxy_staple_left(&h), 3 * 86400 + 60);
	haproxy_config(&s, &h);
	run_hook(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "staple pushed to HAProxy");
	assert_contains(r.out, h.sock);
	ck_assert_int_gt(haproxy_staple_left(&h), 6 * 86400);
	haproxy_stop(&h);
	OPENSSL_free(der);
	scene_end(&s);
}
END_TEST

static void remember_for_refresh(struct scene *s, const struct haproxy *h)
{
	char dir[700], file[800], text[4096];

	snprintf(dir, sizeof(dir), "%s/staples", s->state);
	mkdir(s->state, 0750);
	mkdir(dir, 0750);
	snprintf(file, sizeof(file), "%s/shop.example.json", dir);
	snprintf(text, sizeof(text),
		 "{\"lineage\": \"shop.example\", \"path\": \"%s\", "
		 "\"cert_path\": \"%s/cert.pem\", "
		 "\"chain_path\": \"%s/chain.pem\", "
		 "\"haproxy_socket\": \"%s\"}\n",
		 h->ocsp, s->lineage, s->lineage, h->sock);
	write_text(file, text, 0640);
}

/* monitor refreshes the staple file at half its window and pushes the
 * new response into HAProxy; a revoked answer replaces nothing and is
 * never pushed. */
START_TEST(monitor_refresh_pushes_only_verified_staples_into_haproxy)
{
	struct scene s;
	struct haproxy h;
	struct cli_run r;
	size_t len;
	unsigned char *der;
	char dir[700];

	struct sg_policy policy = {SG_DEFAULT_SKEW_SEC, 0,
				   SG_DEFAULT_MAX_AGE_SEC};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_REVOKED);
	der = scene_staple(&s, -6 * 86400, 86400, &len);
	snprintf(dir, sizeof(dir), "%s/haproxy", s.dir);
	haproxy_start(&h, dir, s.newcert, der, len);
	haproxy_config(&s, &h);
	remember_for_refresh(&s, &h);
	cli(&r, "monitor", "--config", s.config, NULL);
	assert_contains(r.err, "revoked");
	assert_contains(r.out, "; staple refresh failed: staple ");
	ck_assert_int_lt(haproxy_staple_left(&h), 86400 + 60);
	s.resp.cert_status = V_OCSP_CERTSTATUS_GOOD;
	cli(&r, "monitor", "--config", s.config, NULL);
	ck_assert_msg(strstr(r.err, h.sock) == NULL, "%s", r.err);
	ck_assert_int_gt(haproxy_staple_left(&h), 6 * 86400);
	/* HAProxy lost it (an operator pushed the old one back): the next
	 * run sees that its copy differs from the fresh file and pushes */
	ck_assert_int_eq(sg_haproxy_push(h.sock, der, len, s.newcert, T_PKI->ca,
					 &policy, 5000)
				 .code,
			 SG_OK);
	ck_assert_int_lt(haproxy_staple_left(&h), 86400 + 60);
	cli(&r, "monitor", "--config", s.config, NULL);
	ck_assert_msg(strstr(r.err, h.sock) == NULL, "%s", r.err);
	ck_assert_int_gt(haproxy_staple_left(&h), 6 * 86400);
	/* what does not verify never reaches the socket */
	{
		struct fx_staple_opts o = fx_staple_good();
		unsigned char *bad;
		size_t blen;
		sg_result res;

		o.cert_status = V_OCSP_CERTSTATUS_REVOKED;
		bad = fx_staple(s.newcert, T_PKI->ca, T_PKI->ca, T_PKI->ca_key,
				&o, &blen);
		res = sg_haproxy_push(h.sock, bad, blen, s.newcert, T_PKI->ca,
				      &policy, 5000);
		assert_contains(res.reason,
				"staple not pushed: certificate revoked");
		res = sg_haproxy_push(h.sock, bad + 1, blen - 1, s.newcert,
				      T_PKI->ca, &policy, 5000);
		assert_contains(res.reason, "staple not pushed");
		OPENSSL_free(bad);
	}
	ck_assert_int_gt(haproxy_staple_left(&h), 6 * 86400);
	haproxy_stop(&h);
	OPENSSL_free(der);
	scene_end(&s);
}
END_TEST

Suite *operator_suite(void)
{
	Suite *s = suite_create("operator");
	TCase *tc = tcase_create("noocsp");

	tcase_set_timeout(tc, 60);
	tcase_add_test(
		tc, monitor_does_not_warn_for_a_certificate_without_ocsp_url);
	tcase_add_test(tc, probe_and_check_explain_the_score_without_ocsp_url);
	suite_add_tcase(s, tc);
	tc = tcase_create("leaving");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hook_says_when_a_renewal_leaves_must_staple);
	tcase_add_test(tc, hook_finds_the_previous_must_staple_in_the_store);
	tcase_add_test(tc,
		       monitor_names_every_target_still_serving_must_staple);
	suite_add_tcase(s, tc);
	tc = tcase_create("haproxy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hook_pushes_the_verified_staple_into_haproxy);
	tcase_add_test(
		tc, monitor_refresh_pushes_only_verified_staples_into_haproxy);
	suite_add_tcase(s, tc);
	return s;
}
