/* Hostile servers, malformed input and faults: every case ends with a
 * specific reason, a refusal for a Must-Staple certificate, no crash, and
 * bounded time; no record is lost or left half-written. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "../acme/command.h"
#include "../preflight/check.h"
#include "../preflight/clock.h"
#include "scene.h"
#include "testutil.h"
#include "tserver.h"

/* One check of the Must-Staple leaf against one in-process server. */
static void check_one(struct tserver *t, struct sg_report *rep, double *secs)
{
	static struct sg_target target;
	struct sg_check_opts o;
	long long a;

	ck_assert_int_eq(ts_start(t), 0);
	sg_target_free(&target); /* the previous call's */
	tcheck_one(&o, &target, t->port);
	o.probe.attempts = 1;
	o.probe.timeout_ms = 2000;
	a = sg_now_ms();
	ck_assert_int_eq(sg_check_run(&o, rep).code, SG_OK);
	*secs = (double)(sg_now_ms() - a) / 1000;
	ts_stop(t);
}

struct hostile_staple {
	const char *name;
	unsigned char *der;
	size_t len;
	const char *reason;
};

static unsigned char *signed_by(X509 *signer, EVP_PKEY *key,
				struct fx_staple_opts o, size_t *len)
{
	return fx_staple(T_PKI->leaf_ms, T_PKI->ca, signer, key, &o, len);
}

/* Builds every bad staple the suite serves; returns how many. */
static size_t hostile_staples(struct hostile_staple *h)
{
	struct fx_staple_opts good = fx_staple_good(), o;
	struct fx_pki *p = T_PKI;
	size_t n = 0, len;
	unsigned char *der;

#define ADD(nm, d, l, why) h[n++] = (struct hostile_staple){nm, d, l, why}
	der = OPENSSL_malloc(512);
	RAND_bytes(der, 512);
	der[0] = 0x30; /* looks like a SEQUENCE, is not */
	ADD("random bytes", der, 512, "not a DER OCSP response");
	der = signed_by(p->ca, p->ca_key, good, &len);
	ADD("truncated DER", der, len / 2, "not a DER OCSP response");
	der = fx_staple(p->leaf_plain, p->ca, p->ca, p->ca_key, &good, &len);
	ADD("for another certificate", der, len, "staple is for serial");
	o = good;
	o.include_signer = true;
	ADD("unrelated key", signed_by(p->other_ca, p->other_key, o, &len), len,
	    "unknown key");
	ADD("responder without EKU",
	    signed_by(p->responder_noeku, p->resp_key, o, &len), len,
	    "OCSPSigning");
	ADD("responder of another CA",
	    signed_by(p->other_responder, p->resp_key, o, &len), len,
	    "unknown key");
	o = good;
	o.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	ADD("revoked", signed_by(p->ca, p->ca_key, o, &len), len, "revoked");
	o.cert_status = V_OCSP_CERTSTATUS_UNKNOWN;
	ADD("unknown", signed_by(p->ca, p->ca_key, o, &len), len, "unknown");
	o = good;
	o.no_next = true;
	ADD("nextUpdate absent", signed_by(p->ca, p->ca_key, o, &len), len,
	    "no nextUpdate");
	o = good;
	o.this_off = -86400;
	o.next_off = -60;
	ADD("nextUpdate passed", signed_by(p->ca, p->ca_key, o, &len), len,
	    "nextUpdate passed");
	o = good;
	o.this_off = 3600;
	ADD("thisUpdate in the future", signed_by(p->ca, p->ca_key, o, &len),
	    len, "in the future");
	o = good;
	o.resp_status = OCSP_RESPONSE_STATUS_TRYLATER;
	ADD("tryLater", signed_by(p->ca, p->ca_key, o, &len), len, "trylater");
	o.resp_status = OCSP_RESPONSE_STATUS_INTERNALERROR;
	ADD("internalError", signed_by(p->ca, p->ca_key, o, &len), len,
	    "internalerror");
#undef ADD
	return n;
}

/* Each bad staple served over a real handshake, TLS 1.2 and 1.3. */
START_TEST(hostile_staples_over_tls)
{
	struct hostile_staple h[20];
	size_t n = hostile_staples(h);

	for (size_t i = 0; i < n; i++) {
		struct tserver t = tserver_ms(h[i].der, h[i].len);
		struct sg_report rep;
		double secs;

		t.max_version = _i ? 0 : TLS1_2_VERSION;
		check_one(&t, &rep, &secs);
		ck_assert_msg(!rep.allow, "%s: allowed", h[i].name);
		ck_assert_msg(rep.probes[0].staple.present, "%s", h[i].name);
		ck_assert_msg(strstr(rep.scores[0].reason, h[i].reason) != NULL,
			      "%s: reason '%s' lacks '%s'", h[i].name,
			      rep.scores[0].reason, h[i].reason);
		ck_assert_msg(secs < 2.0, "%s took %.2fs", h[i].name, secs);
		sg_report_free(&rep);
		OPENSSL_free(h[i].der);
	}
}
END_TEST

/* 1 MiB of staple: OpenSSL's own message-size limit ends the handshake
 * first, and that is the reason given. */
START_TEST(one_mebibyte_staple)
{
	size_t len = 1 << 20;
	unsigned char *der = OPENSSL_zalloc(len);
	struct tserver t = {.mode = TS_TLS,
			    .cert = T_PKI->leaf_ms,
			    .key = T_PKI->leaf_key,
			    .staple = der,
			    .staple_len = len,
			    .max_version = _i ? 0 : TLS1_2_VERSION};
	struct sg_report rep;
	double secs;

	check_one(&t, &rep, &secs);
	ck_assert(!rep.allow);
	/* TLS 1.2: our client's limit on CertificateStatus; TLS 1.3: the
	 * OpenSSL server itself will not build such a Certificate message. */
	ck_assert_msg(
		strstr(rep.scores[0].reason,
		       _i ? "TLS handshake failed: tlsv1 alert internal "
			    "error"
			  : "TLS handshake failed: excessive message size"),
		"%s", rep.scores[0].reason);
	ck_assert(secs < 2.0);
	sg_report_free(&rep);
	OPENSSL_free(der);
}
END_TEST

/* A server that can only answer with anonymous ciphers has no
 * certificate to show: the handshake fails, with that reason. */
START_TEST(server_without_certificate)
{
	struct tserver t = {.mode = TS_ANON,
			    .cert = T_PKI->leaf_ms,
			    .key = T_PKI->leaf_key};
	struct sg_report rep;
	double secs;

	check_one(&t, &rep, &secs);
	ck_assert(!rep.allow);
	ck_assert_msg(strstr(rep.scores[0].reason, "TLS handshake failed"),
		      "%s", rep.scores[0].reason);
	sg_report_free(&rep);
}
END_TEST

/* A Certificate message with no certificate in it (hand-made: OpenSSL
 * servers never send one): the handshake fails with that reason. */
START_TEST(empty_certificate_chain)
{
	struct tserver t = {.mode = TS_EMPTY_CHAIN};
	struct sg_report rep;
	double secs;

	check_one(&t, &rep, &secs);
	ck_assert(!rep.allow);
	/* OpenSSL's client rejects an empty certificate_list as a decode
	 * error, "length mismatch" (statem_clnt.c). */
	ck_assert_msg(strstr(rep.scores[0].reason,
			     "TLS handshake failed: length mismatch"),
		      "%s", rep.scores[0].reason);
	ck_assert(secs < 2.0);
	sg_report_free(&rep);
}
END_TEST

/* probe of a server whose leaf has a malformed TLS Feature extension. */
START_TEST(served_leaf_with_malformed_feature)
{
	static const unsigned char bad[] = {0x30, 0x03, 0x02, 0x02, 0x05};
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .feature_der = bad,
				 .feature_len = sizeof(bad)};
	X509 *x = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	struct tserver t = {.mode = TS_TLS, .cert = x, .key = T_PKI->leaf_key};
	struct cli_run r;
	char spec[32];

	ck_assert_int_eq(ts_start(&t), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", t.port);
	cli(&r, "probe", spec, "--attempts", "1", NULL);
	ts_stop(&t);
	X509_free(x);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "served certificate: malformed TLS Feature");
}
END_TEST

/* The disk fills while the decision record is written: the Must-Staple
 * deployment does not happen, the error is clear, and no half line is
 * left in the log. */
START_TEST(full_disk_on_decision_record_refuses)
{
	struct scene s;
	struct cli_run r;
	char preload[700];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	const char *base[3];
	const char *const *cb;
	const char *env[6];
	struct stat st;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s/tests/shim_enospc.so",
		 T_BUILD);
	cb = certbot_env(&s);
	base[0] = cb[0];
	base[1] = cb[1];
	env[0] = base[0];
	env[1] = base[1];
	env[2] = preload;
	env[3] = "ASAN_OPTIONS=verify_asan_link_order=0";
	env[4] = NULL;
	args[2] = s.config;
	args[4] = s.deploy_sh;
	cli_env(&r, env, args);
	ck_assert_int_ne(r.status, 0);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "No space left on device");
	assert_contains(r.err, "REFUSED");
	ck_assert_int_eq(stat(s.record, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	scene_end(&s);
}
END_TEST

/* A state directory that is a symlink planted elsewhere is refused. */
START_TEST(symlinked_state_dir_is_refused)
{
	struct scene s;
	struct cli_run r;
	char state[700], elsewhere[700];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(state, sizeof(state), "%s/state", s.dir);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", s.dir);
	mkdir(elsewhere, 0755);
	ck_assert_int_eq(symlink(elsewhere, state), 0);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 2);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "a symlink is refused");
	snprintf(state, sizeof(state), "%s/scores.jsonl", elsewhere);
	ck_assert(!exists(state));
	scene_end(&s);
}
END_TEST

/* CI runs as root, so a chmod proves nothing: the private key is a FIFO
 * that would block any open for reading. The hook finishing at all
 * proves it never opened the key. */
START_TEST(private_key_is_never_opened)
{
	struct scene s;
	struct cli_run r;
	char key[700];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	pid_t pid;
	int st = 0;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(key, sizeof(key), "%s/privkey.pem", s.lineage);
	unlink(key); /* certbot's link to archive/: now a FIFO */
	ck_assert_int_eq(mkfifo(key, 0600), 0);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	pid = cli_spawn(certbot_env(&s), args);
	for (int i = 0; i < 200 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(50000);
	if (kill(pid, 0) == 0 && waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		cli_collect(&r, pid);
		ck_abort_msg("the hook blocked: it opened the private key");
	}
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(exists(s.deployed));
	scene_end(&s);
}
END_TEST

/* SIGTERM while the deploy command runs: passed on to it, recorded. */
START_TEST(sigterm_during_deploy_is_passed_on_and_recorded)
{
	scene_signal_during_deploy(SIGTERM, 200);
}
END_TEST

/* SIGINT during the settle: the hook stops probing, records where it
 * stopped, and leaves no pending entry behind for a certificate that was
 * deployed. */
START_TEST(sigint_during_settle_is_recorded)
{
	struct scene s;
	struct cli_run r;
	char entry[700];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	json_t *log;
	pid_t pid;
	time_t t0;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.swap_file = NULL; /* the old certificate stays: no settle */
	scene_start_server(&s);
	scene_config(&s, "\"settle_timeout\": \"30s\"");
	args[2] = s.config;
	args[4] = s.deploy_sh;
	t0 = time(NULL);
	pid = cli_spawn(certbot_env(&s), args);
	for (int i = 0; i < 200 && !exists(s.deployed); i++)
		usleep(25000);
	ck_assert(exists(s.deployed));
	usleep(300 * 1000);
	kill(pid, SIGINT);
	cli_collect(&r, pid);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_lt(time(NULL) - t0, 10);
	assert_contains(r.err, "interrupted by signal 2 during settle");
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"),
			 "interrupted");
	json_decref(log);
	snprintf(entry, sizeof(entry), "%s/pending/shop.example.json", s.state);
	ck_assert(!exists(entry));
	scene_end(&s);
}
END_TEST

/* Unreadable, empty, junk and wrongly ordered inputs: exit 2, one line
 * naming the file. */
START_TEST(bad_hook_inputs_exit_2)
{
	struct cli_run r;
	char cfg[700], cert[700];
	struct scene s;
	const char *args[] = {"hook",	  "--config", cfg, "--dry-run",
			      "--record", s.record,   NULL};
	static const struct {
		const char *text;
		const char *reason;
	} configs[] = {
		{"", "config:"},
		{"\x01\x02garbage", "config:"},
		{"{\"defaults\": []}", "defaults: expected an object"},
	};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		snprintf(cfg, sizeof(cfg), "%s/bad%zu.json", s.dir, i);
		write_text(cfg, configs[i].text, 0644);
		hook_certbot(&s, &r, args);
		ck_assert_msg(r.status == 2, "config %zu: %d", i, r.status);
		assert_contains(r.err, configs[i].reason);
		assert_contains(r.err, cfg);
	}
	snprintf(cfg, sizeof(cfg), "%s", s.dir); /* a directory */
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 2);
	/* A chain in the wrong order: the CA first. */
	snprintf(cert, sizeof(cert), "%s/cert.pem", s.lineage);
	fx_write_pem(cert, T_PKI->ca, s.newcert, NULL);
	scene_config(&s, NULL);
	snprintf(cfg, sizeof(cfg), "%s", s.config);
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "the first certificate is a CA");
	scene_end(&s);
}
END_TEST

/* Started by a parent that ignores SIGCHLD (the kernel then reaps
 * children itself and waitpid finds none): a failing deploy command must
 * still count as failed, never as exit status 0. */
START_TEST(failed_deploy_counts_when_sigchld_is_ignored)
{
	struct scene s;
	char cmd[4096], out[700], text[4096];
	int st;
	FILE *f;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(out, sizeof(out), "%s/out.txt", s.dir);
	snprintf(cmd, sizeof(cmd),
		 "RENEWED_LINEAGE='%s' RENEWED_DOMAINS=shop.example "
		 "perl -e '$SIG{CHLD} = \"IGNORE\"; exec @ARGV' "
		 "'%s/staplegate' hook --config '%s' -- sh -c 'exit 3' "
		 ">'%s' 2>&1",
		 s.lineage, T_BUILD, s.config, out);
	st = system(cmd);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%d: %s", st,
		      text);
	assert_contains(text, "deploy-failed");
	scene_end(&s);
}
END_TEST

/* The runner itself, under the same parent: a status it cannot read is
 * a failure, never 0. */
START_TEST(lost_exit_status_is_a_failure)
{
	char *argv[] = {"sh", "-c", "exit 3", NULL};
	struct sg_command cmd;

	signal(SIGCHLD, SIG_IGN); /* this test's own process only */
	sg_command_run(argv, 5000, &cmd);
	signal(SIGCHLD, SIG_DFL);
	ck_assert(cmd.started);
	ck_assert_int_ne(cmd.exit_status, 0);
	assert_contains(cmd.reason, "counted as failed");
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, hostile_staples_over_tls, 0, 2);
	tcase_add_loop_test(tc, one_mebibyte_staple, 0, 2);
	tcase_add_test(tc, server_without_certificate);
	tcase_add_test(tc, empty_certificate_chain);
	tcase_add_test(tc, served_leaf_with_malformed_feature);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, full_disk_on_decision_record_refuses);
	tcase_add_test(tc, symlinked_state_dir_is_refused);
	tcase_add_test(tc, private_key_is_never_opened);
	tcase_add_test(tc, sigterm_during_deploy_is_passed_on_and_recorded);
	tcase_add_test(tc, sigint_during_settle_is_recorded);
	tcase_add_test(tc, bad_hook_inputs_exit_2);
	tcase_add_test(tc, failed_deploy_counts_when_sigchld_is_ignored);
	tcase_add_test(tc, lost_exit_status_is_a_failure);
	suite_add_tcase(s, tc);
	return s;
}
