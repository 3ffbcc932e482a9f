/* The store and the pending queue as transactions: concurrent runs, kill
 * -9, renewals landing mid-run, rollback of everything a version
 * replaced, and the store never gating a plain certificate. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "../preflight/certinfo.h"
#include "../preflight/staple.h"
#include "fx_strict.h"
#include "scene.h"
#include "testutil.h"

static void cert_sha(X509 *x, char out[65])
{
	sg_cert_sha256(x, out);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	while (f && (c = fgetc(f)) != EOF)
		n += c == '\n';
	if (f)
		fclose(f);
	return n;
}

static void config_store(struct scene *s, const char *more)
{
	char extra[512];

	snprintf(extra, sizeof(extra), "\"store\": true, \"attempts\": 1%s%s",
		 more ? ", " : "", more ? more : "");
	scene_config(s, extra);
}

/* The deploy script counts its runs in <dir>/deploys and takes a while,
 * as a reload does, before the server switches. */
static void counting_deploy(struct scene *s, const char *sleep_sec)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "#!/bin/sh\necho run >> '%s/deploys'\nsleep %s\n"
		 "touch '%s'\n",
		 s->dir, sleep_sec, s->deployed);
	write_text(s->deploy_sh, text, 0755);
}

static int deploys(const struct scene *s)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/deploys", s->dir);
	return count_lines(path);
}

static void hook_store(struct scene *s, struct cli_run *r)
{
	const char *args[] = {"hook", "--config",   s->config,
			      "--",   s->deploy_sh, NULL};

	hook_certbot(s, r, args);
}

/* A refused Must-Staple certificate left pending; the server then
 * staples, so the next resume may deploy it. */
static void pending_then_ready(struct scene *s)
{
	struct cli_run r;
	const unsigned char *staple;
	char entry[700];

	scene_begin(s, true, V_OCSP_CERTSTATUS_GOOD);
	staple = s->srv.staple;
	s->srv.staple = NULL;
	scene_start_server(s);
	config_store(s, NULL);
	hook_store(s, &r);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	scene_state_path(s, "pending/shop.example.json", entry, sizeof(entry));
	ck_assert(exists(entry));
	s->srv.staple = staple;
}

static X509 *issue(const struct scene *s, bool must_staple)
{
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = must_staple};
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->resp.port);
	o.ocsp_url = url;
	return fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
}

/* live/<lineage> resolves to a complete version, and previous (when
 * there is one) to another complete one. */
static void assert_store_whole(const struct scene *s)
{
	static const char *const names[] = {"cert.pem", "chain.pem",
					    "fullchain.pem", "privkey.pem"};
	char live[700], prev[700], dir[PATH_MAX], f[PATH_MAX + 20], sha[65];

	scene_state_path(s, "live/shop.example", live, sizeof(live));
	scene_state_path(s, "store/shop.example/previous", prev, sizeof(prev));
	for (int k = 0; k < 2; k++) {
		const char *link = k ? prev : live;
		struct stat st;

		if (lstat(link, &st) != 0)
			continue;
		ck_assert_msg(realpath(link, dir) != NULL, "%s dangles", link);
		for (int i = 0; i < 4; i++) {
			snprintf(f, sizeof(f), "%s/%s", dir, names[i]);
			ck_assert_msg(exists(f), "%s missing", f);
		}
		snprintf(f, sizeof(f), "%s/cert.pem", dir);
		pem_file_sha256(f, sha);
		ck_assert_msg(sha[0], "%s holds no certificate", f);
	}
}

/* Three resumes of one pending entry at once: one deploys, the others
 * wait for the lineage's lock and find nothing left to do. */
START_TEST(concurrent_resumes_deploy_once)
{
	struct scene s;
	struct cli_run r[3];
	pid_t pid[3];
	char live[700], sha[65], want[65];

	pending_then_ready(&s);
	counting_deploy(&s, "0.5");
	{
		const char *args[] = {"resume", "--config", s.config, NULL};

		for (int i = 0; i < 3; i++)
			pid[i] = cli_spawn(NULL, args);
		for (int i = 0; i < 3; i++)
			cli_collect(&r[i], pid[i]);
	}
	for (int i = 0; i < 3; i++)
		ck_assert_msg(r[i].status == 0, "%s%s", r[i].out, r[i].err);
	ck_assert_int_eq(deploys(&s), 1);
	scene_state_path(&s, "live/shop.example/cert.pem", live, sizeof(live));
	pem_file_sha256(live, sha);
	cert_sha(s.newcert, want);
	ck_assert_str_eq(sha, want);
	assert_store_whole(&s);
	scene_end(&s);
}
END_TEST

/* acme.sh-style hooks for two plain certificates of one lineage, four at
 * a time, one of them killed with SIGKILL at a random point: the store
 * stays whole and the others succeed. */
#define ROUNDS 10
#define RUNS   4

START_TEST(kill_and_concurrent_hooks_keep_store_whole)
{
	struct scene s;
	char certs[2][700], chain[700], key[700], env[2][800], keyenv[800],
		chainenv[800];
	X509 *x[2];
	const char *args[] = {"hook", "--config", NULL, "--", "true", NULL};

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	args[2] = s.config;
	snprintf(chain, sizeof(chain), "%s/ca.pem", s.dir);
	fx_write_pem(chain, T_PKI->ca, NULL, NULL);
	snprintf(key, sizeof(key), "%s/acme.key", s.dir);
	write_text(key, "not a key\n", 0600);
	snprintf(chainenv, sizeof(chainenv), "CA_CERT_PATH=%s", chain);
	snprintf(keyenv, sizeof(keyenv), "CERT_KEY_PATH=%s", key);
	for (int i = 0; i < 2; i++) {
		x[i] = issue(&s, false);
		snprintf(certs[i], sizeof(certs[i]), "%s/cert%d.pem", s.dir, i);
		fx_write_pem(certs[i], x[i], NULL, NULL);
		snprintf(env[i], sizeof(env[i]), "CERT_PATH=%s", certs[i]);
	}
	srand((unsigned)getpid());
	for (int round = 0; round < ROUNDS; round++) {
		struct cli_run r[RUNS];
		pid_t pid[RUNS];
		int victim = round % RUNS;

		for (int i = 0; i < RUNS; i++) {
			const char *e[] = {env[i % 2], chainenv, keyenv,
					   "Le_Domain=shop.example", NULL};

			pid[i] = cli_spawn(e, args);
		}
		usleep((useconds_t)(rand() % 40000));
		kill(pid[victim], SIGKILL);
		for (int i = 0; i < RUNS; i++) {
			cli_collect(&r[i], pid[i]);
			ck_assert_msg(i == victim || r[i].status == 0,
				      "round %d: %s%s", round, r[i].out,
				      r[i].err);
		}
		assert_store_whole(&s);
	}
	X509_free(x[0]);
	X509_free(x[1]);
	scene_end(&s);
}
END_TEST

/* A renewal that lands while resume waits for a slow responder: the
 * archive now holds an unverified certificate. The fill notices, the
 * deploy command never runs, the entry stays pending. */
struct renewal {
	struct scene *s;
	X509 *cert;
	long after_ms;
	const char *cert_path, *key_path; /* acme.sh copies, else certbot */
};

static void *renew_later(void *arg)
{
	struct renewal *w = arg;

	usleep((useconds_t)w->after_ms * 1000);
	if (w->cert_path) {
		fx_write_pem(w->cert_path, w->cert, NULL, NULL);
		write_text(w->key_path, "second key\n", 0600);
	} else {
		scene_renew(w->s, w->cert, 2);
	}
	return NULL;
}

START_TEST(renewal_during_resume_is_not_put_live)
{
	struct scene s;
	struct cli_run r;
	struct renewal w;
	pthread_t th;
	char entry[700], live[700];
	const char *args[] = {"resume", "--config", NULL, NULL};

	pending_then_ready(&s);
	w = (struct renewal){&s, issue(&s, true), 500, NULL, NULL};
	s.resp.delay_ms = 1500;
	args[2] = s.config;
	pthread_create(&th, NULL, renew_later, &w);
	cli_env(&r, NULL, args);
	pthread_join(th, NULL);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	ck_assert(!exists(s.deployed));
	scene_state_path(&s, "pending/shop.example.json", entry, sizeof(entry));
	ck_assert(exists(entry));
	scene_state_path(&s, "live/shop.example", live, sizeof(live));
	ck_assert(!exists(live));
	X509_free(w.cert);
	scene_end(&s);
}
END_TEST

/* acme.sh: the key is copied after the certificate was verified; a
 * renewal in between would pair it with the wrong certificate. */
START_TEST(acmesh_renewal_during_hook_keeps_key_and_cert_together)
{
	struct scene s;
	struct cli_run r;
	struct renewal w;
	pthread_t th;
	char cert[700], chain[700], key[700], e1[800], e2[800], e3[800],
		entry[700], live[700];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(cert, sizeof(cert), "%s/acme-cert.pem", s.dir);
	snprintf(chain, sizeof(chain), "%s/acme-ca.pem", s.dir);
	snprintf(key, sizeof(key), "%s/acme.key", s.dir);
	fx_write_pem(cert, s.newcert, NULL, NULL);
	fx_write_pem(chain, T_PKI->ca, NULL, NULL);
	write_text(key, "first key\n", 0600);
	snprintf(e1, sizeof(e1), "CERT_PATH=%s", cert);
	snprintf(e2, sizeof(e2), "CA_CERT_PATH=%s", chain);
	snprintf(e3, sizeof(e3), "CERT_KEY_PATH=%s", key);
	w = (struct renewal){&s, issue(&s, true), 500, cert, key};
	s.resp.delay_ms = 1500;
	args[2] = s.config;
	args[4] = s.deploy_sh;
	pthread_create(&th, NULL, renew_later, &w);
	{
		const char *env[] = {e1, e2, e3, "Le_Domain=shop.example",
				     NULL};

		cli_env(&r, env, args);
	}
	pthread_join(th, NULL);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	ck_assert(!exists(s.deployed));
	scene_state_path(&s, "live/shop.example", live, sizeof(live));
	ck_assert(!exists(live));
	scene_state_path(&s, "pending/shop.example.json", entry, sizeof(entry));
	ck_assert_msg(exists(entry), "%s", r.out);
	X509_free(w.cert);
	scene_end(&s);
}
END_TEST

/* dehydrated passes its key as a symlink; a run may give no key at all.
 * Neither may stop the deployment of a plain certificate. */
START_TEST(store_never_gates_a_plain_certificate)
{
	struct scene s;
	struct cli_run r;
	char cert[700], chain[700], key[700], link[700], stored[700];
	unsigned char buf[64];
	X509 *other;
	const char *args[] = {"hook", "--config", NULL, "--cert",
			      NULL,   "--chain",  NULL, "--key",
			      NULL,   "--",	  NULL, NULL};

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(cert, sizeof(cert), "%s/cert.pem", s.lineage);
	snprintf(chain, sizeof(chain), "%s/chain.pem", s.lineage);
	snprintf(key, sizeof(key), "%s/real.key", s.dir);
	snprintf(link, sizeof(link), "%s/privkey-link.pem", s.dir);
	write_text(key, "dehydrated key\n", 0600);
	ck_assert_int_eq(symlink(key, link), 0);
	args[2] = s.config;
	args[4] = cert;
	args[6] = chain;
	args[8] = link;
	args[10] = s.deploy_sh;
	cli_env(&r, NULL, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(exists(s.deployed));
	scene_state_path(&s, "live/shop.example/privkey.pem", stored,
			 sizeof(stored));
	ck_assert_uint_eq(slurp_bytes(stored, buf, sizeof(buf)), 15);
	ck_assert(memcmp(buf, "dehydrated key\n", 15) == 0);
	/* a renewal and no --key: deployed all the same, the store problem
	 * reported */
	unlink(s.deployed);
	other = issue(&s, false);
	snprintf(cert, sizeof(cert), "%s/cert-b.pem", s.lineage);
	fx_write_pem(cert, other, NULL, NULL);
	X509_free(other);
	args[7] = "--";
	args[8] = s.deploy_sh;
	args[9] = NULL;
	cli_env(&r, NULL, args);
	ck_assert(exists(s.deployed));
	ck_assert_msg(r.status == 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "key");
	scene_end(&s);
}
END_TEST

/* The renewal the server will serve after the reload (or not). */
static X509 *renew_served(struct scene *s, bool served)
{
	X509 *second = issue(s, true);

	scene_renew(s, second, 2);
	if (served)
		scene_serve_after_reload(s, second);
	return second;
}

/* A version carries the staple pre-staged with it: rollback puts the
 * old certificate's staple back beside the old certificate. */
START_TEST(rollback_restores_prestaged_staple)
{
	struct scene s;
	struct cli_run r;
	char out[700], live[700], sha[65], want[65];
	unsigned char first[8192], now[8192];
	size_t flen, nlen;
	X509 *second;
	const char *args[] = {"hook", "--config", NULL, "--staple-out",
			      out,    "--",	  NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	args[2] = s.config;
	args[6] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	flen = slurp_bytes(out, first, sizeof(first));
	ck_assert_uint_gt(flen, 0);
	second = renew_served(&s, true);
	sleep(1); /* the responder's answers differ by their time */
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	nlen = slurp_bytes(out, now, sizeof(now));
	ck_assert(nlen != flen || memcmp(now, first, flen) != 0);
	{
		const char *rb[] = {"rollback", "shop.example", "--config",
				    s.config, NULL};

		cli_env(&r, NULL, rb);
	}
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	scene_state_path(&s, "live/shop.example/cert.pem", live, sizeof(live));
	pem_file_sha256(live, sha);
	cert_sha(s.newcert, want);
	ck_assert_str_eq(sha, want);
	nlen = slurp_bytes(out, now, sizeof(now));
	ck_assert_uint_eq(nlen, flen);
	ck_assert(memcmp(now, first, flen) == 0);
	X509_free(second);
	scene_end(&s);
}
END_TEST

/* A config of our own: no global rollback_command; domain holds extra
 * keys of shop.example's entry. */
static void config_plain(struct scene *s, const char *defaults,
			 const char *domain)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s\", \"cafile\": \"%s\", "
		 "\"retry_delay\": \"0s\", \"attempts\": 1, \"store\": true, "
		 "\"state_dir\": \"%s\"%s%s},\n"
		 " \"domains\": {\"shop.example\": {\"targets\": "
		 "[\"127.0.0.1:%d\"]%s%s}}}\n",
		 s->record, tpath("root.pem"), s->state, defaults ? ", " : "",
		 defaults ? defaults : "", s->srv.port, domain ? ", " : "",
		 domain ? domain : "");
	write_text(s->config, text, 0644);
}

/* Store, no rollback_command, the renewal never settles: live/ goes
 * back and the deploy command runs again, so the server re-reads the
 * previous version. */
START_TEST(settle_failure_without_rollback_command_redeploys)
{
	struct scene s;
	struct cli_run r;
	char live[700], sha[65], want[65];
	X509 *second;
	json_t *log;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_plain(&s, "\"settle_timeout\": \"2s\"", NULL);
	counting_deploy(&s, "0");
	hook_store(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	second = renew_served(&s, false);
	hook_store(&s, &r);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	ck_assert_int_eq(deploys(&s), 3);
	scene_state_path(&s, "live/shop.example/cert.pem", live, sizeof(live));
	pem_file_sha256(live, sha);
	cert_sha(s.newcert, want);
	ck_assert_str_eq(sha, want);
	log = read_log(s.record);
	ck_assert_str_eq(
		field(json_array_get(log, json_array_size(log) - 1), "action"),
		"rolled-back");
	json_decref(log);
	X509_free(second);
	scene_end(&s);
}
END_TEST

/* staplegate rollback runs the domain's own rollback_command. */
START_TEST(rollback_command_of_the_domain_is_run)
{
	struct scene s;
	struct cli_run r;
	char domain[800], marker[700];
	X509 *second;
	const char *rb[] = {"rollback", "shop.example", "--config", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	snprintf(marker, sizeof(marker), "%s/rolled-back", s.dir);
	snprintf(domain, sizeof(domain), "\"rollback_command\": [\"%s\"]",
		 s.rollback_sh);
	config_plain(&s, NULL, domain);
	hook_store(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	second = renew_served(&s, true);
	unlink(s.deployed);
	s.srv.swapped = 0;
	hook_store(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(!exists(marker));
	rb[3] = s.config;
	cli_env(&r, NULL, rb);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(exists(marker), "%s", r.out);
	X509_free(second);
	scene_end(&s);
}
END_TEST

/* lego --no-bundle: LEGO_CERT_PATH is the leaf alone and no issuer path
 * is exported; lego writes <domain>.issuer.crt beside it. The refused
 * certificate is held as pending, and resume deploys it later. */
START_TEST(lego_leaf_only_certificate_is_kept_pending)
{
	struct scene s;
	struct cli_run r;
	char dir[700], cert[800], key[800], issuer[800], e1[900], e2[900],
		entry[700];
	const unsigned char *staple;
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	const char *resume[] = {"resume", "--config", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	staple = s.srv.staple;
	s.srv.staple = NULL;
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(dir, sizeof(dir), "%s/certificates", s.dir);
	mkdir(dir, 0700);
	snprintf(cert, sizeof(cert), "%s/shop.example.crt", dir);
	snprintf(issuer, sizeof(issuer), "%s/shop.example.issuer.crt", dir);
	snprintf(key, sizeof(key), "%s/shop.example.key", dir);
	fx_write_pem(cert, s.newcert, NULL, NULL);
	fx_write_pem(issuer, T_PKI->ca, NULL, NULL);
	write_text(key, "lego key\n", 0600);
	snprintf(e1, sizeof(e1), "LEGO_CERT_PATH=%s", cert);
	snprintf(e2, sizeof(e2), "LEGO_CERT_KEY_PATH=%s", key);
	args[2] = resume[2] = s.config;
	args[4] = s.deploy_sh;
	{
		const char *env[] = {e1, e2, "LEGO_CERT_DOMAIN=shop.example",
				     NULL};

		cli_env(&r, env, args);
	}
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "held as a pending deployment");
	scene_state_path(&s, "pending/shop.example.json", entry, sizeof(entry));
	ck_assert(exists(entry));
	s.srv.staple = staple;
	cli_env(&r, NULL, resume);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(exists(s.deployed));
	ck_assert(!exists(entry));
	scene_end(&s);
}
END_TEST

/* No issuer beside the leaf nor in the CA file: the certificate's AIA
 * caIssuers URL gives it (checked by signature, so a wrong download is
 * never taken); without any, the refusal still keeps the certificate
 * pending and says where it looked. */
START_TEST(issuer_from_aia_ca_issuers)
{
	struct scene s;
	struct cli_run r;
	struct tresponder files = {.mode = TR_BYTES};
	unsigned char *der = NULL;
	int len = i2d_X509(T_PKI->ca, &der);
	char url[64], ocsp[64], cert[700], key[700], e1[800], e2[800],
		entry[700];
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = true};
	X509 *leaf;
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	files.body = der;
	files.body_len = (size_t)len;
	ck_assert_int_eq(tr_start(&files), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ca.der", files.port);
	snprintf(ocsp, sizeof(ocsp), "http://127.0.0.1:%d/", s.resp.port);
	o.ocsp_url = ocsp;
	o.ca_issuers_url = url;
	leaf = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	snprintf(cert, sizeof(cert), "%s/leaf.crt", s.dir);
	snprintf(key, sizeof(key), "%s/leaf.key", s.dir);
	fx_write_pem(cert, leaf, NULL, NULL);
	write_text(key, "lego key\n", 0600);
	snprintf(e1, sizeof(e1), "LEGO_CERT_PATH=%s", cert);
	snprintf(e2, sizeof(e2), "LEGO_CERT_KEY_PATH=%s", key);
	scene_serve_after_reload(&s, leaf);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	{
		const char *env[] = {e1, e2, "LEGO_CERT_DOMAIN=shop.example",
				     NULL};

		/* the URL serves another CA: refused, but held, and why */
		files.body = (unsigned char *)"not a certificate";
		files.body_len = 17;
		cli_env(&r, env, args);
		ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
		assert_contains(r.out, url);
		assert_contains(r.out, "held as a pending deployment");
		scene_state_path(&s, "pending/shop.example.json", entry,
				 sizeof(entry));
		ck_assert(exists(entry));
		files.body = der;
		files.body_len = (size_t)len;
		cli_env(&r, env, args);
	}
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(exists(s.deployed));
	ck_assert_int_ge(files.requests, 2);
	tr_stop(&files);
	OPENSSL_free(der);
	X509_free(leaf);
	scene_end(&s);
}
END_TEST

/* lego --no-bundle: a plain leaf alone, whose intermediate lists
 * status_request in its TLS Feature (Firefox enforces it on the leaf).
 * The issuer is fetched from the leaf's AIA caIssuers URL, served by
 * files (down when NULL), and the hook's exit status returned. */
static int plain_leaf_under_ms_ca(struct scene *s, struct cli_run *r,
				  struct tresponder *files)
{
	struct fx_cert_opts o = {.cn = "shop.example", .dns = "shop.example"};
	char url[64], cert[700], key[700], e1[800], e2[800];
	const char *args[] = {"hook", "--config",   s->config,
			      "--",   s->deploy_sh, NULL};
	const char *env[] = {e1, e2, "LEGO_CERT_DOMAIN=shop.example", NULL};
	X509 *leaf;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ca.der",
		 files ? files->port : 1);
	o.ca_issuers_url = url;
	leaf = fx_issue(&o, T_PKI->leaf_key, T_STRICT->ca_ms,
			T_STRICT->ca_ms_key);
	snprintf(cert, sizeof(cert), "%s/leaf.crt", s->dir);
	snprintf(key, sizeof(key), "%s/leaf.key", s->dir);
	fx_write_pem(cert, leaf, NULL, NULL);
	write_text(key, "lego key\n", 0600);
	snprintf(e1, sizeof(e1), "LEGO_CERT_PATH=%s", cert);
	snprintf(e2, sizeof(e2), "LEGO_CERT_KEY_PATH=%s", key);
	cli_env(r, env, args);
	X509_free(leaf);
	return r->status;
}

/* The intermediate fetched at the AIA URL makes the plain leaf
 * Must-Staple: gated, and refused here (no responder to ask). */
START_TEST(plain_leaf_fetches_its_issuers_tls_feature)
{
	struct scene s;
	struct cli_run r;
	struct tresponder files = {.mode = TR_BYTES};
	unsigned char *der = NULL;
	int len = i2d_X509(T_STRICT->ca_ms, &der);
	json_t *log;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	files.body = der;
	files.body_len = (size_t)len;
	ck_assert_int_eq(tr_start(&files), 0);
	ck_assert_msg(plain_leaf_under_ms_ca(&s, &r, &files) == 1, "%s%s",
		      r.out, r.err);
	ck_assert_int_ge(files.requests, 1);
	ck_assert(!exists(s.deployed));
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "refused");
	json_decref(log);
	tr_stop(&files);
	OPENSSL_free(der);
	scene_end(&s);
}
END_TEST

/* The AIA URL down: a plain certificate is never gated, so it is
 * deployed, but the run says loudly that its issuer's TLS Feature could
 * not be checked. */
START_TEST(plain_leaf_without_issuer_is_deployed_with_a_warning)
{
	struct scene s;
	struct cli_run r;
	json_t *log;
	const char *why = "issuer not found: its TLS Feature could not be "
			  "checked";

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	ck_assert_msg(plain_leaf_under_ms_ca(&s, &r, NULL) == 0, "%s%s", r.out,
		      r.err);
	ck_assert(exists(s.deployed));
	assert_contains(r.err, why);
	log = read_log(s.record);
	assert_contains(
		field(json_object_get(json_array_get(log, 0), "verdict"),
		      "reason"),
		why);
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* The sha of live/<name>/cert.pem, "" when there is none. */
static void live_sha(const struct scene *s, const char *name, char out[65])
{
	char path[800];

	snprintf(path, sizeof(path), "%s/live/%s/cert.pem", s->state, name);
	pem_file_sha256(path, out);
}

/* acme.sh's RSA and ECC certificates of one domain are two lineages
 * (it runs the reloadcmd in <domain>_ecc/ for the ECC one); a --cert
 * run is named after its certificate, or --lineage. */
START_TEST(lineages_do_not_collide)
{
	struct scene s;
	struct cli_run r;
	char dir[2][700], cert[2][800], key[700], e1[900], e2[900],
		here[PATH_MAX], sha[65], want[2][65], plain[700];
	X509 *x[2];
	const char *args[] = {"hook", "--config", NULL, "--", "true", NULL};

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	args[2] = s.config;
	snprintf(key, sizeof(key), "%s/acme.key", s.dir);
	write_text(key, "acme key\n", 0600);
	snprintf(e2, sizeof(e2), "CERT_KEY_PATH=%s", key);
	ck_assert_ptr_nonnull(getcwd(here, sizeof(here)));
	/* the binary is found from another directory too (this test's
	 * process only: Check forks each test) */
	{
		static char build[PATH_MAX];

		ck_assert_ptr_nonnull(realpath(T_BUILD, build));
		T_BUILD = build;
	}
	for (int i = 0; i < 2; i++) {
		const char *env[] = {e1, e2, "Le_Domain=shop.example", NULL};

		snprintf(dir[i], sizeof(dir[i]), "%s/shop.example%s", s.dir,
			 i ? "_ecc" : "");
		mkdir(dir[i], 0700);
		x[i] = issue(&s, false);
		cert_sha(x[i], want[i]);
		snprintf(cert[i], sizeof(cert[i]), "%s/cert.pem", dir[i]);
		fx_write_pem(cert[i], x[i], T_PKI->ca, NULL);
		snprintf(e1, sizeof(e1), "CERT_PATH=%s", cert[i]);
		ck_assert_int_eq(chdir(dir[i]), 0);
		cli_env(&r, env, args);
		ck_assert_int_eq(chdir(here), 0);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	}
	live_sha(&s, "shop.example", sha);
	ck_assert_str_eq(sha, want[0]);
	live_sha(&s, "shop.example_ecc", sha);
	ck_assert_str_eq(sha, want[1]);
	/* --cert from a directory named "certs": named shop.example */
	snprintf(plain, sizeof(plain), "%s/certs", s.dir);
	mkdir(plain, 0700);
	snprintf(plain, sizeof(plain), "%s/certs/cert.pem", s.dir);
	fx_write_pem(plain, x[1], T_PKI->ca, NULL);
	{
		const char *a[] = {"hook", "--config", s.config, "--cert",
				   plain,  "--key",    key,	 "--",
				   "true", NULL};
		const char *b[] = {"hook",   "--config",  s.config,
				   "--cert", plain,	  "--key",
				   key,	     "--lineage", "shop-rsa",
				   "--",     "true",	  NULL};

		cli_env(&r, NULL, a);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
		live_sha(&s, "certs", sha);
		ck_assert_str_eq(sha, "");
		live_sha(&s, "shop.example", sha);
		ck_assert_str_eq(sha, want[1]);
		cli_env(&r, NULL, b);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
		live_sha(&s, "shop-rsa", sha);
		ck_assert_str_eq(sha, want[1]);
	}
	X509_free(x[0]);
	X509_free(x[1]);
	scene_end(&s);
}
END_TEST

/* A certificate that was deployed and did not settle stays pending, but
 * resume does not redeploy it on its next run: it backs off, and
 * pending and monitor say so. */
START_TEST(settle_failure_backs_off)
{
	struct scene s;
	struct cli_run r;
	json_t *list, *e;
	json_error_t err;
	const char *resume[] = {"resume", "--config", NULL, NULL};

	pending_then_ready(&s);
	config_store(&s, "\"settle_timeout\": \"2s\"");
	counting_deploy(&s, "0");
	s.srv.swap_file = NULL; /* the reload never takes */
	resume[2] = s.config;
	cli_env(&r, NULL, resume);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "kept pending");
	ck_assert_int_eq(deploys(&s), 1);
	cli_env(&r, NULL, resume);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "backing off shop.example");
	ck_assert_int_eq(deploys(&s), 1);
	{
		const char *args[] = {"pending", "--config", s.config, "--json",
				      NULL};

		cli_env(&r, NULL, args);
	}
	list = json_loads(r.out, 0, &err);
	e = json_array_get(list, 0);
	ck_assert_int_eq(
		json_integer_value(json_object_get(e, "settle_failures")), 1);
	ck_assert_int_ge(json_integer_value(json_object_get(e, "retry_after")),
			 time(NULL) + 25 * 60);
	json_decref(list);
	{
		const char *args[] = {"pending", "--config", s.config, NULL};

		cli_env(&r, NULL, args);
		assert_contains(r.out, "settle failed 1 times");
	}
	{
		const char *args[] = {"monitor", "--config", s.config, NULL};

		cli_env(&r, NULL, args);
		assert_contains(r.out, "after a settle failure");
	}
	scene_end(&s);
}
END_TEST

/* First use: the certificate deployed today becomes the store's first
 * version, with a verified staple pre-staged beside it; the store's
 * later versions only come through the gate. */
START_TEST(adopt_fills_the_store_for_first_use)
{
	struct scene s;
	struct cli_run r;
	char cert[700], chain[700], key[700], out[700], live[700], sha[65],
		want[65];
	unsigned char buf[8192];
	size_t n;
	struct sg_staple st;
	struct sg_policy pol = {300, 86400, 14 * 86400};
	const char *args[] = {"adopt", "--config",     NULL, "--cert",
			      NULL,    "--chain",      NULL, "--key",
			      NULL,    "--staple-out", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(cert, sizeof(cert), "%s/cert.pem", s.lineage);
	snprintf(chain, sizeof(chain), "%s/chain.pem", s.lineage);
	snprintf(key, sizeof(key), "%s/privkey.pem", s.lineage);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	args[2] = s.config;
	args[4] = cert;
	args[6] = chain;
	args[8] = key;
	args[10] = out;
	cli_env(&r, NULL, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "adopted shop.example");
	live_sha(&s, "shop.example", sha);
	cert_sha(s.newcert, want);
	ck_assert_str_eq(sha, want);
	scene_state_path(&s, "live/shop.example/privkey.pem", live,
			 sizeof(live));
	ck_assert(exists(live));
	n = slurp_bytes(out, buf, sizeof(buf));
	sg_staple_verify(buf, n, s.newcert, T_PKI->ca, &pol, time(NULL), &st);
	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
	scene_state_path(&s, "live/shop.example/staple.der", live,
			 sizeof(live));
	ck_assert(exists(live));
	ck_assert(!exists(s.deployed)); /* nothing deployed */
	cli_env(&r, NULL, args);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.err, "already exists");
	scene_end(&s);
}
END_TEST

/* Another run holds the lineage: a Must-Staple hook gives up as busy
 * within its deadline and deploys nothing; a plain certificate is
 * deployed all the same, without the store, and that is reported. */
START_TEST(held_lineage_is_busy_for_must_staple_only)
{
	struct scene s[2];
	struct cli_run r;
	char locks[700], lock[800];
	int fd;

	for (int k = 0; k < 2; k++) {
		const char *args[] = {"hook", "--config", NULL, "--deadline",
				      "6s",   "--",	  NULL, NULL};

		scene_begin(&s[k], k == 0, V_OCSP_CERTSTATUS_GOOD);
		scene_start_server(&s[k]);
		config_store(&s[k], NULL);
		mkdir(s[k].state, 0750);
		snprintf(locks, sizeof(locks), "%s/locks", s[k].state);
		mkdir(locks, 0700);
		snprintf(lock, sizeof(lock), "%s/shop.example", locks);
		fd = open(lock, O_RDWR | O_CREAT, 0600);
		ck_assert_int_eq(flock(fd, LOCK_EX), 0);
		args[2] = s[k].config;
		args[6] = s[k].deploy_sh;
		hook_certbot(&s[k], &r, args);
		close(fd);
		if (k == 0) {
			ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
			assert_contains(r.out, "busy shop.example");
			ck_assert(!exists(s[k].deployed));
		} else {
			ck_assert_msg(r.status == 2, "%s%s", r.out, r.err);
			assert_contains(r.err, "another staplegate run");
			ck_assert_msg(exists(s[k].deployed), "%s%s", r.out,
				      r.err);
		}
		scene_end(&s[k]);
	}
}
END_TEST

/* A staple refreshed by resume also goes into the live version, so a
 * later rollback to that version puts back a fresh one. */
START_TEST(refreshed_staple_is_kept_in_the_live_version)
{
	struct scene s;
	struct cli_run r;
	char out[700], kept[700];
	unsigned char a[8192], b[8192], *der;
	size_t alen, blen, len;
	struct fx_staple_opts aging = fx_staple_good();
	const char *hook[] = {"hook", "--config", NULL, "--staple-out",
			      out,    "--",	  NULL, NULL};
	const char *resume[] = {"resume", "--config", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	hook[2] = resume[2] = s.config;
	hook[6] = s.deploy_sh;
	hook_certbot(&s, &r, hook);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	aging.this_off = -6 * 86400;
	aging.next_off = 86400 + 3600;
	der = fx_staple(s.newcert, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, &aging,
			&len);
	fx_write_bytes(out, der, len);
	OPENSSL_free(der);
	cli_env(&r, NULL, resume);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "refreshed");
	scene_state_path(&s, "live/shop.example/staple.der", kept,
			 sizeof(kept));
	alen = slurp_bytes(out, a, sizeof(a));
	blen = slurp_bytes(kept, b, sizeof(b));
	ck_assert_uint_gt(alen, 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert(memcmp(a, b, alen) == 0);
	scene_end(&s);
}
END_TEST

/* The renewal's deploy command does not complete (body ends the
 * script): live/ goes back to the first certificate, which settled,
 * the renewal stays pending, and the outcome says so. term: SIGTERM to
 * staplegate while the command runs. */
static void unfinished_deploy(const char *body, const char *deadline, bool term,
			      const char *action)
{
	struct scene s;
	struct cli_run r;
	char entry[700], sha[65], want[65], marker[700], text[1024];
	X509 *second;
	json_t *log;
	const char *args[] = {"hook",	"--config", NULL, "--deadline",
			      deadline, "--",	    NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	hook_store(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	second = renew_served(&s, false);
	snprintf(marker, sizeof(marker), "%s/deploying", s.dir);
	snprintf(text, sizeof(text), "#!/bin/sh\ntouch '%s'\n%s\n", marker,
		 body);
	write_text(s.deploy_sh, text, 0755);
	args[2] = s.config;
	args[6] = s.deploy_sh;
	if (term) {
		pid_t pid = cli_spawn(certbot_env(&s), args);

		for (int i = 0; i < 600 && !exists(marker); i++)
			usleep(50000);
		ck_assert_msg(exists(marker), "the deploy command never ran");
		kill(pid, SIGTERM);
		cli_collect(&r, pid);
	} else {
		hook_certbot(&s, &r, args);
	}
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	live_sha(&s, "shop.example", sha);
	cert_sha(s.newcert, want);
	ck_assert_msg(strcmp(sha, want) == 0, "live/ is not the first: %s%s",
		      r.out, r.err);
	scene_state_path(&s, "pending/shop.example.json", entry, sizeof(entry));
	ck_assert_msg(exists(entry), "not pending: %s%s", r.out, r.err);
	assert_contains(r.out, "back to the previous version");
	log = read_log(s.record);
	ck_assert_str_eq(
		field(json_array_get(log, json_array_size(log) - 1), "action"),
		action);
	json_decref(log);
	X509_free(second);
	scene_end(&s);
}

START_TEST(failed_deploy_rolls_the_store_back)
{
	unfinished_deploy("exit 1", "60s", false, "deploy-failed");
}
END_TEST

START_TEST(deploy_past_the_deadline_rolls_the_store_back)
{
	unfinished_deploy("exec sleep 60", "8s", false, "deadline");
}
END_TEST

START_TEST(interrupted_deploy_rolls_the_store_back)
{
	unfinished_deploy("exec sleep 60", "60s", true, "interrupted");
}
END_TEST

/* The fill cannot swap live/ (an obstacle where its link goes): the old
 * certificate stays served, and so does its staple in the staple file,
 * not the renewal's. */
START_TEST(failed_swap_keeps_the_old_staple)
{
	struct scene s;
	struct cli_run r;
	char out[700], live[700], junk[800];
	unsigned char first[8192], now[8192];
	size_t flen, nlen;
	X509 *second;
	const char *args[] = {"hook", "--config", NULL, "--staple-out",
			      out,    "--",	  NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	args[2] = s.config;
	args[6] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	flen = slurp_bytes(out, first, sizeof(first));
	ck_assert_uint_gt(flen, 0);
	second = renew_served(&s, true);
	scene_state_path(&s, "live/shop.example", live, sizeof(live));
	ck_assert_int_eq(unlink(live), 0);
	ck_assert_int_eq(mkdir(live, 0750), 0);
	snprintf(junk, sizeof(junk), "%s/cert.pem", live);
	write_text(junk, "in the way\n", 0644);
	sleep(1); /* the responder's answers differ by their time */
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	nlen = slurp_bytes(out, now, sizeof(now));
	ck_assert_uint_eq(nlen, flen);
	ck_assert(memcmp(now, first, flen) == 0);
	X509_free(second);
	scene_end(&s);
}
END_TEST

/* The first version had no staple file; the renewal brought one: after
 * rollback no staple of the renewal stays beside the old certificate. */
START_TEST(rollback_removes_staple_the_previous_version_lacked)
{
	struct scene s;
	struct cli_run r;
	char out[700], kept[700], sha[65], want[65];
	X509 *second;
	const char *args[] = {"hook", "--config", NULL, "--staple-out",
			      out,    "--",	  NULL, NULL};
	const char *rb[] = {"rollback", "shop.example", "--config", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_store(&s, NULL);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	args[2] = rb[3] = s.config;
	args[6] = s.deploy_sh;
	hook_store(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(!exists(out));
	/* as a version adopted without a staple file has none */
	scene_state_path(&s, "live/shop.example/staple.der", kept,
			 sizeof(kept));
	ck_assert_int_eq(unlink(kept), 0);
	second = renew_served(&s, true);
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(exists(out));
	cli_env(&r, NULL, rb);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	live_sha(&s, "shop.example", sha);
	cert_sha(s.newcert, want);
	ck_assert_str_eq(sha, want);
	ck_assert_msg(!exists(out), "the renewal's staple is still served");
	assert_contains(r.out, "staple file removed");
	X509_free(second);
	scene_end(&s);
}
END_TEST

Suite *txn_suite(void)
{
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("txn");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, concurrent_resumes_deploy_once);
	tcase_add_test(tc, kill_and_concurrent_hooks_keep_store_whole);
	tcase_add_test(tc, renewal_during_resume_is_not_put_live);
	tcase_add_test(tc,
		       acmesh_renewal_during_hook_keeps_key_and_cert_together);
	tcase_add_test(tc, store_never_gates_a_plain_certificate);
	tcase_add_test(tc, rollback_restores_prestaged_staple);
	tcase_add_test(tc, settle_failure_without_rollback_command_redeploys);
	tcase_add_test(tc, rollback_command_of_the_domain_is_run);
	tcase_add_test(tc, lego_leaf_only_certificate_is_kept_pending);
	tcase_add_test(tc, issuer_from_aia_ca_issuers);
	tcase_add_test(tc, plain_leaf_fetches_its_issuers_tls_feature);
	tcase_add_test(tc,
		       plain_leaf_without_issuer_is_deployed_with_a_warning);
	tcase_add_test(tc, lineages_do_not_collide);
	tcase_add_test(tc, settle_failure_backs_off);
	tcase_add_test(tc, adopt_fills_the_store_for_first_use);
	tcase_add_test(tc, held_lineage_is_busy_for_must_staple_only);
	tcase_add_test(tc, refreshed_staple_is_kept_in_the_live_version);
	suite_add_tcase(s, tc);
	/* what a deploy or swap that did not complete leaves behind */
	tc = tcase_create("unfinished");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, failed_deploy_rolls_the_store_back);
	tcase_add_test(tc, deploy_past_the_deadline_rolls_the_store_back);
	tcase_add_test(tc, interrupted_deploy_rolls_the_store_back);
	tcase_add_test(tc, failed_swap_keeps_the_old_staple);
	tcase_add_test(tc, rollback_removes_staple_the_previous_version_lacked);
	suite_add_tcase(s, tc);
	return s;
}
