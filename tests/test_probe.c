/* The engine against real TLS servers on loopback: openssl s_server
 * serving each staple variant over TLS 1.2 and 1.3, and the in-process
 * test server for lazy stapling and misbehaviour. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/ssl.h>

#include "../preflight/check.h"
#include "../preflight/clock.h"
#include "servers.h"
#include "testutil.h"
#include "tserver.h"

#define MAX_TARGETS 8

/* One check run of a new certificate against targets. */
struct run {
	struct sg_target targets[MAX_TARGETS];
	struct sg_check_opts opts;
	struct sg_report rep;
	sg_result r;
	double seconds;
};

static void run_init(struct run *r, const char *cert)
{
	memset(r, 0, sizeof(*r));
	sg_check_opts_init(&r->opts);
	r->opts.cert_path = tpath(cert);
	r->opts.cafile = tpath("root.pem");
	r->opts.targets = r->targets;
	r->opts.probe.attempts = 2;
	r->opts.probe.retry_delay_ms = 100;
	r->opts.probe.timeout_ms = 2000;
}

static void run_add(struct run *r, const char *fmt, int port)
{
	char spec[64];

	snprintf(spec, sizeof(spec), fmt, port);
	ck_assert_int_eq(sg_target_parse(spec, &r->targets[r->opts.n++]).code,
			 SG_OK);
}

static void run_free(struct run *r)
{
	sg_report_free(&r->rep);
	for (size_t i = 0; i < r->opts.n; i++)
		sg_target_free(&r->targets[i]);
}

static void run_check(struct run *r)
{
	long long t0 = sg_now_ms();

	r->r = sg_check_run(&r->opts, &r->rep);
	r->seconds = (double)(sg_now_ms() - t0) / 1000;
	ck_assert_msg(r->r.code == SG_OK, "%s", r->r.reason);
}

#define assert_target_reason(run, i, text)                                     \
	ck_assert_msg(strstr((run)->rep.scores[i].reason, text) != NULL,       \
		      "target %d reason '%s' lacks '%s'", i,                   \
		      (run)->rep.scores[i].reason, text)

/* s_server serving the Must-Staple leaf with its chain, a staple file
 * (NULL: stapling off), and a protocol flag (NULL: any). */
static void start_sserver(struct srv *s, const char *staple, const char *proto)
{
	const char *args[16] = {"-cert",       tpath("leaf-ms.pem"),
				"-key",	       tpath("leaf.key"),
				"-cert_chain", tpath("ca.pem")};
	int n = 6;

	if (staple) {
		args[n++] = "-status_file";
		args[n++] = staple;
	}
	if (proto)
		args[n++] = proto;
	args[n] = NULL;
	ck_assert_int_eq(srv_start_openssl(s, "127.0.0.1", args), 0);
}

static const char *const protocols[] = {"-tls1_2", "-tls1_3"};

START_TEST(fresh_staple_passes_with_100)
{
	struct fx_staple_opts o = fx_staple_good();
	const char *staple = tstaple_file("p-good.der", T_PKI->leaf_ms, &o);
	struct srv s;
	struct run r;

	start_sserver(&s, staple, protocols[_i]);
	run_init(&r, "fullchain-ms.pem");
	run_add(&r, "127.0.0.1:%d", s.port);
	run_check(&r);
	srv_stop(&s);
	ck_assert_msg(r.rep.allow, "%s", r.rep.reason);
	ck_assert_int_eq(r.rep.scores[0].webq96, 100);
	ck_assert(r.rep.scores[0].stapled);
	/* confirmed: three good handshakes in a row by default */
	ck_assert_int_eq(r.rep.probes[0].attempts, 3);
	ck_assert_int_eq(r.rep.probes[0].stapled, 3);
	ck_assert_str_eq(r.rep.probes[0].tls_version,
			 _i == 0 ? "TLSv1.2" : "TLSv1.3");
	ck_assert_str_eq(r.rep.probes[0].servername, "shop.example");
	ck_assert(r.rep.probes[0].chain_valid);
	run_free(&r);
}
END_TEST

START_TEST(server_without_stapling_is_refused_with_60)
{
	struct srv s;
	struct run r;

	start_sserver(&s, NULL, protocols[_i]);
	run_init(&r, "fullchain-ms.pem");
	run_add(&r, "127.0.0.1:%d", s.port);
	run_check(&r);
	srv_stop(&s);
	ck_assert(!r.rep.allow);
	ck_assert_int_eq(r.rep.scores[0].webq96, 60);
	ck_assert_int_eq(r.rep.probes[0].attempts, 2);
	assert_target_reason(&r, 0, "no staple");
	run_free(&r);
}
END_TEST

/* Each bad staple served for real over TLS: the reason must survive the
 * trip through the handshake. */
START_TEST(bad_staples_over_tls_are_refused)
{
	struct fx_staple_opts stale = fx_staple_good(), revoked = stale,
			      expiring = stale, nonext = stale;
	const struct {
		const char *name;
		struct fx_staple_opts *o;
		const char *reason;
		int score;
	} cases[] = {
		{"p-stale.der", &stale, "nextUpdate passed", 60},
		{"p-revoked.der", &revoked, "revoked", 60},
		{"p-expiring.der", &expiring, "expiring", 100},
		{"p-nonext.der", &nonext, "no nextUpdate", 60},
	};

	stale.this_off = -3 * 86400;
	stale.next_off = -2 * 86400;
	revoked.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	expiring.next_off = 2 * 3600;
	nonext.no_next = true;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *file =
			tstaple_file(cases[i].name, T_PKI->leaf_ms, cases[i].o);
		struct srv s;
		struct run r;

		start_sserver(&s, file, protocols[_i]);
		run_init(&r, "fullchain-ms.pem");
		r.opts.probe.attempts = 1;
		run_add(&r, "127.0.0.1:%d", s.port);
		run_check(&r);
		srv_stop(&s);
		ck_assert_msg(!r.rep.allow, "%s allowed", cases[i].name);
		ck_assert_int_eq(r.rep.scores[0].webq96, cases[i].score);
		ck_assert(r.rep.probes[0].staple.present);
		assert_target_reason(&r, 0, cases[i].reason);
		run_free(&r);
	}
}
END_TEST

START_TEST(one_backend_of_pool_not_stapling_is_named)
{
	struct fx_staple_opts o = fx_staple_good();
	const char *staple = tstaple_file("p-pool.der", T_PKI->leaf_ms, &o);
	struct srv a, b, c;
	struct run r;
	char port[16];

	start_sserver(&a, staple, NULL);
	start_sserver(&b, NULL, NULL);
	start_sserver(&c, staple, NULL);
	run_init(&r, "fullchain-ms.pem");
	run_add(&r, "127.0.0.1:%d", a.port);
	run_add(&r, "127.0.0.1:%d", b.port);
	run_add(&r, "127.0.0.1:%d", c.port);
	run_check(&r);
	srv_stop(&a);
	srv_stop(&b);
	srv_stop(&c);
	ck_assert(!r.rep.allow);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(r.rep.scores[i].webq96 == (i == 1 ? 60 : 100),
			      "target %d: %d %s", i, r.rep.scores[i].webq96,
			      r.rep.scores[i].reason);
	snprintf(port, sizeof(port), ":%d (no staple)", b.port);
	ck_assert_msg(strstr(r.rep.reason, port) != NULL, "%s", r.rep.reason);
	ck_assert_msg(strstr(r.rep.reason, "1 of 3") != NULL, "%s",
		      r.rep.reason);
	run_free(&r);
}
END_TEST

START_TEST(closed_port_fails_at_once)
{
	struct run r;
	int port, hold = srv_hold_closed_port(&port);

	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.attempts = 3;
	r.opts.probe.retry_delay_ms = 1000;
	run_add(&r, "127.0.0.1:%d", port);
	run_check(&r);
	close(hold);
	ck_assert(!r.rep.allow);
	ck_assert(!r.rep.probes[0].connected);
	ck_assert_int_eq(r.rep.probes[0].attempts, 1);
	assert_target_reason(&r, 0, "Connection refused");
	ck_assert(r.seconds < 0.5);
	run_free(&r);
}
END_TEST

START_TEST(silent_targets_cost_one_timeout)
{
	int p1, p2;
	int f1 = srv_listen_silent("127.0.0.1", &p1);
	int f2 = srv_listen_silent("127.0.0.1", &p2);
	struct run r;

	ck_assert(f1 >= 0 && f2 >= 0);
	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.timeout_ms = 1000;
	r.opts.probe.attempts = 3;
	run_add(&r, "127.0.0.1:%d", p1);
	run_add(&r, "127.0.0.1:%d", p2);
	run_check(&r);
	close(f1);
	close(f2);
	ck_assert(!r.rep.allow);
	for (int i = 0; i < 2; i++) {
		ck_assert(r.rep.probes[i].connected);
		ck_assert_int_eq(r.rep.probes[i].attempts, 1);
		assert_target_reason(&r, i,
				     "timed out after 1s during the TLS "
				     "handshake");
	}
	/* Two silent targets, probed at once: one timeout, not two. */
	ck_assert_msg(r.seconds >= 0.9 && r.seconds < 1.8, "took %.2fs",
		      r.seconds);
	run_free(&r);
}
END_TEST

START_TEST(ipv6_loopback_target)
{
	struct fx_staple_opts o = fx_staple_good();
	const char *staple = tstaple_file("p-v6.der", T_PKI->leaf_ms, &o);
	const char *args[] = {"-cert",
			      tpath("leaf-ms.pem"),
			      "-key",
			      tpath("leaf.key"),
			      "-cert_chain",
			      tpath("ca.pem"),
			      "-status_file",
			      staple,
			      NULL};
	struct srv s;
	struct run r;

	if (!srv_ipv6_available()) {
		printf("ipv6_loopback_target: skipped: ::1 cannot be bound "
		       "here\n");
		return;
	}
	ck_assert_int_eq(srv_start_openssl(&s, "::1", args), 0);
	run_init(&r, "fullchain-ms.pem");
	run_add(&r, "[::1]:%d", s.port);
	run_check(&r);
	srv_stop(&s);
	ck_assert_msg(r.rep.allow, "%s", r.rep.reason);
	ck_assert(strncmp(r.rep.probes[0].address, "[::1]:", 6) == 0);
	run_free(&r);
}
END_TEST

/* A server holding an RSA and an ECDSA certificate shows the one whose
 * key type matches the new certificate's. */
START_TEST(dual_cert_server_shows_matching_key_type)
{
	char rsa_sha[65], ec_sha[65];
	const char *args[] = {"-cert",	     tpath("leaf-rsa-ms.pem"),
			      "-key",	     tpath("rsa.key"),
			      "-dcert",	     tpath("leaf-ms.pem"),
			      "-dkey",	     tpath("leaf.key"),
			      protocols[_i], NULL};
	struct srv s;
	struct run ec, rsa;

	sg_cert_sha256(T_PKI->leaf_rsa_ms, rsa_sha);
	sg_cert_sha256(T_PKI->leaf_ms, ec_sha);
	ck_assert_int_eq(srv_start_openssl(&s, "127.0.0.1", args), 0);
	fx_write_pem(tpath("bundle-rsa-ms.pem"), T_PKI->leaf_rsa_ms, T_PKI->ca,
		     NULL);
	run_init(&ec, "fullchain-ms.pem");
	ec.opts.probe.attempts = 1;
	run_add(&ec, "127.0.0.1:%d", s.port);
	run_check(&ec);
	run_init(&rsa, "bundle-rsa-ms.pem");
	rsa.opts.probe.attempts = 1;
	run_add(&rsa, "127.0.0.1:%d", s.port);
	run_check(&rsa);
	srv_stop(&s);
	ck_assert_str_eq(ec.rep.probes[0].served->sha256, ec_sha);
	ck_assert_str_eq(rsa.rep.probes[0].served->sha256, rsa_sha);
	run_free(&ec);
	run_free(&rsa);
}
END_TEST

/* A server that staples only from its third handshake (nginx fetches
 * lazily): attempts continue until the staple appears, then three good
 * handshakes in a row confirm it. */
START_TEST(lazy_stapling_needs_retries)
{
	size_t len;
	unsigned char *der = tstaple_good(&len);
	struct tserver t = tserver_ms(der, len);
	struct run r;

	t.staple_from = 3;
	ck_assert_int_eq(ts_start(&t), 0);
	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.attempts = 3;
	run_add(&r, "127.0.0.1:%d", t.port);
	run_check(&r);
	ck_assert_msg(r.rep.allow, "%s", r.rep.reason);
	ck_assert_int_eq(r.rep.probes[0].attempts, 5);
	ck_assert_int_eq(r.rep.probes[0].stapled, 3);
	run_free(&r);
	/* With two attempts, the same server is "not stapling". */
	t.connections = 0;
	run_init(&r, "fullchain-ms.pem");
	run_add(&r, "127.0.0.1:%d", t.port);
	run_check(&r);
	ts_stop(&t);
	ck_assert(!r.rep.allow);
	ck_assert_int_eq(r.rep.probes[0].attempts, 2);
	run_free(&r);
	OPENSSL_free(der);
}
END_TEST

/* The served chain carries a self-signed impostor with the issuer's
 * name, which also signed the staple: refused whether or not the real
 * issuer is known. */
START_TEST(impostor_issuer_in_served_chain)
{
	struct fx_staple_opts o = fx_staple_good();
	size_t len;
	unsigned char *der;
	struct tserver t = {.mode = TS_TLS,
			    .cert = T_PKI->leaf_ms,
			    .key = T_PKI->leaf_key,
			    .chain = T_PKI->fake_ca};
	struct run r;

	o.include_signer = true;
	o.id_issuer = T_PKI->ca; /* the CertID is right, the signer is not */
	der = fx_staple(T_PKI->leaf_ms, T_PKI->fake_ca, T_PKI->fake_ca,
			T_PKI->other_key, &o, &len);
	t.staple = der;
	t.staple_len = len;
	ck_assert_int_eq(ts_start(&t), 0);
	fx_write_pem(tpath("leaf-ms-only.pem"), T_PKI->leaf_ms, NULL, NULL);
	run_init(&r, "leaf-ms-only.pem");
	r.opts.probe.attempts = 1;
	run_add(&r, "127.0.0.1:%d", t.port);
	run_check(&r);
	ck_assert(!r.rep.allow);
	assert_target_reason(&r, 0, "unverifiable");
	run_free(&r);
	run_init(&r, "leaf-ms-only.pem");
	r.opts.chain_path = tpath("ca.pem");
	r.opts.probe.attempts = 1;
	run_add(&r, "127.0.0.1:%d", t.port);
	run_check(&r);
	ts_stop(&t);
	ck_assert(!r.rep.allow);
	assert_target_reason(&r, 0, "unknown key");
	run_free(&r);
	OPENSSL_free(der);
}
END_TEST

static void hostile(enum ts_mode mode, const char *reason, double max_sec)
{
	struct tserver t = {
		.mode = mode, .cert = T_PKI->leaf_ms, .key = T_PKI->leaf_key};
	struct run r;

	ck_assert_int_eq(ts_start(&t), 0);
	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.timeout_ms = 2000;
	run_add(&r, "127.0.0.1:%d", t.port);
	run_check(&r);
	ts_stop(&t);
	ck_assert(!r.rep.allow);
	ck_assert_int_eq(r.rep.probes[0].attempts, 1);
	assert_target_reason(&r, 0, reason);
	ck_assert_msg(r.seconds < max_sec, "took %.2fs", r.seconds);
	run_free(&r);
}

START_TEST(non_tls_banner_fails_the_handshake)
{
	hostile(TS_BANNER, "TLS handshake failed", 1.0);
}
END_TEST

START_TEST(reset_mid_handshake_fails_the_handshake)
{
	hostile(TS_RESET, "TLS handshake failed", 1.0);
}
END_TEST

START_TEST(dripping_server_times_out)
{
	hostile(TS_DRIP, "timed out after 2s", 3.0);
}
END_TEST

/* Identical staple bytes are verified once, but bound to each target's
 * own certificate: a backend serving another certificate with the same
 * staple must not pass. */
START_TEST(same_staple_bytes_for_different_certs_do_not_both_pass)
{
	size_t len;
	unsigned char *der = tstaple_good(&len);
	struct tserver a = tserver_ms(der, len);
	struct tserver b = a;
	struct run r;

	b.cert = T_PKI->leaf_plain;
	ck_assert_int_eq(ts_start(&a), 0);
	ck_assert_int_eq(ts_start(&b), 0);
	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.attempts = 1;
	run_add(&r, "127.0.0.1:%d", a.port);
	run_add(&r, "127.0.0.1:%d", b.port);
	run_check(&r);
	ts_stop(&a);
	ts_stop(&b);
	ck_assert(r.rep.scores[0].ready);
	ck_assert(!r.rep.scores[1].ready);
	assert_target_reason(&r, 1, "staple is for serial");
	ck_assert(!r.rep.allow);
	run_free(&r);
	OPENSSL_free(der);
}
END_TEST

/* Results share one certificate record per distinct served chain: two
 * servers with different certificates must each still be reported with
 * their own. */
START_TEST(two_certificates_each_reported_as_served)
{
	size_t len;
	unsigned char *der = tstaple_good(&len);
	struct tserver a = tserver_ms(der, len), b = a;
	char ms[65], plain[65];
	struct run r;

	b.cert = T_PKI->leaf_plain;
	ck_assert_int_eq(ts_start(&a), 0);
	ck_assert_int_eq(ts_start(&b), 0);
	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.attempts = 1;
	r.opts.probe.confirm = 1;
	run_add(&r, "127.0.0.1:%d", a.port);
	run_add(&r, "127.0.0.1:%d", b.port);
	run_add(&r, "127.0.0.1:%d", a.port);
	run_check(&r);
	ts_stop(&a);
	ts_stop(&b);
	sg_cert_sha256(T_PKI->leaf_ms, ms);
	sg_cert_sha256(T_PKI->leaf_plain, plain);
	ck_assert_str_eq(r.rep.probes[0].served->sha256, ms);
	ck_assert_str_eq(r.rep.probes[1].served->sha256, plain);
	ck_assert_str_eq(r.rep.probes[2].served->sha256, ms);
	ck_assert(sg_certinfo_must_staple(r.rep.probes[0].served));
	ck_assert(!sg_certinfo_must_staple(r.rep.probes[1].served));
	ck_assert_str_ne(r.rep.probes[0].served->serial,
			 r.rep.probes[1].served->serial);
	run_free(&r);
	OPENSSL_free(der);
}
END_TEST

/* Many targets serving the same chain share one record, which outlives
 * the run until the report is freed (ASan: no leak, no use after
 * free). */
START_TEST(many_targets_one_certificate_share_its_record)
{
	size_t len;
	unsigned char *der = tstaple_good(&len);
	struct tserver fleet[MAX_TARGETS];
	char ms[65];
	struct run r;

	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.attempts = 1;
	r.opts.probe.confirm = 2;
	for (int i = 0; i < MAX_TARGETS; i++) {
		fleet[i] = tserver_ms(der, len);
		ck_assert_int_eq(ts_start(&fleet[i]), 0);
		run_add(&r, "127.0.0.1:%d", fleet[i].port);
	}
	run_check(&r);
	for (int i = 0; i < MAX_TARGETS; i++)
		ts_stop(&fleet[i]);
	sg_cert_sha256(T_PKI->leaf_ms, ms);
	for (int i = 0; i < MAX_TARGETS; i++) {
		ck_assert_msg(r.rep.scores[i].ready, "target %d: %s", i,
			      r.rep.scores[i].reason);
		ck_assert_str_eq(r.rep.probes[i].served->sha256, ms);
		ck_assert_ptr_eq(r.rep.probes[i].served,
				 r.rep.probes[0].served);
		ck_assert_str_eq(r.rep.probes[i].chain_reason, "ok");
	}
	ck_assert(r.rep.allow);
	run_free(&r);
	OPENSSL_free(der);
}
END_TEST

/* 50 backends, 3 of them broken: each gets its own result, in input
 * order, and the refusal names exactly the broken ones. */
START_TEST(fifty_targets_three_broken)
{
	enum { N = 50 };
	size_t len;
	unsigned char *der = tstaple_good(&len);
	static struct tserver fleet[N];
	static struct sg_target targets[N];
	struct sg_check_opts opts;
	struct sg_report rep;
	char spec[32];
	int closed, hold = srv_hold_closed_port(&closed);

	for (int i = 0; i < N; i++) {
		fleet[i] = tserver_ms(i == 7 || i == 31 ? NULL : der, len);
		ck_assert_int_eq(ts_start(&fleet[i]), 0);
		snprintf(spec, sizeof(spec), "127.0.0.1:%d",
			 i == 44 ? closed : fleet[i].port);
		ck_assert_int_eq(sg_target_parse(spec, &targets[i]).code,
				 SG_OK);
	}
	sg_check_opts_init(&opts);
	opts.cert_path = tpath("fullchain-ms.pem");
	opts.cafile = tpath("root.pem");
	opts.targets = targets;
	opts.n = N;
	opts.probe.attempts = 1;
	opts.probe.parallel = 16;
	ck_assert_int_eq(sg_check_run(&opts, &rep).code, SG_OK);
	for (int i = 0; i < N; i++)
		ts_stop(&fleet[i]);
	close(hold);
	for (int i = 0; i < N; i++) {
		bool broken = i == 7 || i == 31 || i == 44;

		ck_assert_str_eq(rep.probes[i].address, targets[i].spec);
		ck_assert_msg(rep.scores[i].ready == !broken, "target %d: %s",
			      i, rep.scores[i].reason);
		ck_assert_msg((strstr(rep.reason, targets[i].spec) != NULL) ==
				      broken,
			      "target %d in '%s'", i, rep.reason);
	}
	ck_assert_ptr_nonnull(strstr(rep.reason, "3 of 50"));
	sg_report_free(&rep);
	for (int i = 0; i < N; i++)
		sg_target_free(&targets[i]);
	OPENSSL_free(der);
}
END_TEST

/* More targets than --parallel, the silent ones first: they are pinged
 * with the others at once, so together they cost one timeout, and the
 * live targets are still checked properly. */
START_TEST(silent_targets_under_the_cap_cost_one_timeout)
{
	size_t len;
	unsigned char *der = tstaple_good(&len);
	struct tserver good[2];
	int silent[4], ports[4];
	struct run r;

	run_init(&r, "fullchain-ms.pem");
	r.opts.probe.timeout_ms = 1000;
	r.opts.probe.parallel = 2;
	for (int i = 0; i < 4; i++) {
		silent[i] = srv_listen_silent("127.0.0.1", &ports[i]);
		run_add(&r, "127.0.0.1:%d", ports[i]);
	}
	for (int i = 0; i < 2; i++) {
		good[i] = tserver_ms(der, len);
		ck_assert_int_eq(ts_start(&good[i]), 0);
		run_add(&r, "127.0.0.1:%d", good[i].port);
	}
	run_check(&r);
	for (int i = 0; i < 4; i++)
		close(silent[i]);
	for (int i = 0; i < 2; i++)
		ts_stop(&good[i]);
	for (int i = 0; i < 4; i++) {
		assert_target_reason(&r, i,
				     "timed out after 1s during the TLS "
				     "handshake");
		ck_assert_int_eq(r.rep.probes[i].attempts, 1);
	}
	for (int i = 4; i < 6; i++)
		ck_assert_msg(r.rep.scores[i].ready, "%s",
			      r.rep.scores[i].reason);
	/* without the pings: two rounds of two silent targets, 2 s */
	ck_assert_msg(r.seconds < 1.8, "took %.2fs", r.seconds);
	run_free(&r);
	OPENSSL_free(der);
}
END_TEST

Suite *probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("s_server");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, fresh_staple_passes_with_100, 0, 2);
	tcase_add_loop_test(tc, server_without_stapling_is_refused_with_60, 0,
			    2);
	tcase_add_loop_test(tc, bad_staples_over_tls_are_refused, 0, 2);
	tcase_add_test(tc, one_backend_of_pool_not_stapling_is_named);
	tcase_add_loop_test(tc, dual_cert_server_shows_matching_key_type, 0, 2);
	tcase_add_test(tc, ipv6_loopback_target);
	suite_add_tcase(s, tc);
	tc = tcase_create("network");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, closed_port_fails_at_once);
	tcase_add_test(tc, silent_targets_cost_one_timeout);
	tcase_add_test(tc, lazy_stapling_needs_retries);
	tcase_add_test(tc, impostor_issuer_in_served_chain);
	tcase_add_test(tc, non_tls_banner_fails_the_handshake);
	tcase_add_test(tc, reset_mid_handshake_fails_the_handshake);
	tcase_add_test(tc, dripping_server_times_out);
	suite_add_tcase(s, tc);
	tc = tcase_create("scale");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       same_staple_bytes_for_different_certs_do_not_both_pass);
	tcase_add_test(tc, two_certificates_each_reported_as_served);
	tcase_add_test(tc, many_targets_one_certificate_share_its_record);
	tcase_add_test(tc, fifty_targets_three_broken);
	tcase_add_test(tc, silent_targets_under_the_cap_cost_one_timeout);
	suite_add_tcase(s, tc);
	return s;
}
