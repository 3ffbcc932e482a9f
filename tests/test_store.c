/* Holding a refused certificate back for real: the approved store,
 * pending deployments with resume, and staple pre-staging. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "../preflight/certinfo.h"
#include "../preflight/staple.h"
#include "scene.h"
#include "tnginx.h"
#include "testutil.h"

static void config_with_store(struct scene *s, const char *more)
{
	char extra[512];

	snprintf(extra, sizeof(extra), "\"store\": true%s%s", more ? ", " : "",
		 more ? more : "");
	scene_config(s, extra);
}

static void run_hook(struct scene *s, struct cli_run *r)
{
	const char *args[] = {"hook", "--config",   s->config,
			      "--",   s->deploy_sh, NULL};

	hook_certbot(s, r, args);
}

/* certbot lineage: the store links to certbot's versioned archive files;
 * a renewal swaps, the first version stays for rollback. */
START_TEST(store_links_certbot_archive_and_keeps_previous)
{
	struct scene s;
	struct cli_run r;
	char link[700], target[PATH_MAX], prev[700], sha[65], newsha[65];
	X509 *second;
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = true};
	char url[64];

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_with_store(&s, NULL);
	run_hook(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	scene_state_path(&s, "live/shop.example/cert.pem", link, sizeof(link));
	ck_assert_ptr_nonnull(realpath(link, target));
	ck_assert_msg(strstr(target, "/archive/shop.example/cert1.pem"), "%s",
		      target);
	/* renewal: cert2 in archive/, the hook runs again */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.resp.port);
	o.ocsp_url = url;
	second = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	scene_renew(&s, second, 2);
	scene_serve_after_reload(&s, second);
	unlink(s.deployed);
	s.srv.swapped = 0;
	run_hook(&s, &r);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_ptr_nonnull(realpath(link, target));
	ck_assert_msg(strstr(target, "/archive/shop.example/cert2.pem"), "%s",
		      target);
	scene_state_path(&s, "store/shop.example/previous", prev, sizeof(prev));
	ck_assert_int_gt(readlink(prev, target, sizeof(target)), 0);
	/* rollback: live/ back to the first version */
	{
		const char *args[] = {"rollback", "shop.example", "--config",
				      s.config, NULL};

		cli_env(&r, NULL, args);
	}
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	pem_file_sha256(link, sha);
	sg_cert_sha256(s.newcert, newsha);
	ck_assert_str_eq(sha, newsha);
	X509_free(second);
	scene_end(&s);
}
END_TEST

/* acme.sh: copies; the key round-trips byte for byte with 0600, though
 * it is no key at all (so it was never parsed). */
START_TEST(store_copies_for_acmesh_with_key_bytes)
{
	struct scene s;
	struct cli_run r;
	char cert[800], chain[800], key[800], keyfile[700], stored[700], *a, *b;
	size_t alen, blen;
	struct stat st;
	FILE *f;
	static const char weird[] = "\x01not-a-key\xff\x00tail";
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_with_store(&s, NULL);
	snprintf(keyfile, sizeof(keyfile), "%s/acme.key", s.dir);
	f = fopen(keyfile, "wb");
	fwrite(weird, 1, sizeof(weird), f);
	fclose(f);
	snprintf(cert, sizeof(cert), "CERT_PATH=%s/cert.pem", s.lineage);
	snprintf(chain, sizeof(chain), "CA_CERT_PATH=%s/chain.pem", s.lineage);
	snprintf(key, sizeof(key), "CERT_KEY_PATH=%s", keyfile);
	{
		const char *env[] = {cert, chain, key, "Le_Domain=shop.example",
				     NULL};

		args[2] = s.config;
		args[4] = s.deploy_sh;
		cli_env(&r, env, args);
	}
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	scene_state_path(&s, "live/shop.example/privkey.pem", stored,
			 sizeof(stored));
	ck_assert_int_eq(stat(stored, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	f = fopen(stored, "rb");
	a = malloc(64);
	alen = fread(a, 1, 64, f);
	fclose(f);
	b = (char *)weird;
	blen = sizeof(weird);
	ck_assert_uint_eq(alen, blen);
	ck_assert(memcmp(a, b, blen) == 0);
	free(a);
	scene_state_path(&s, "live/shop.example/fullchain.pem", stored,
			 sizeof(stored));
	ck_assert(exists(stored));
	scene_end(&s);
}
END_TEST

/* A reader resolving live/<lineage> while versions are swapped under it
 * always finds cert.pem and fullchain.pem of one and the same version. */
struct reader {
	char live[700];
	volatile int stop;
	int reads, mixed;
};

static void *read_loop(void *arg)
{
	struct reader *rd = arg;

	while (!rd->stop) {
		char dir[PATH_MAX], a[PATH_MAX + 20], b[PATH_MAX + 20], sa[65],
			sb[65];

		if (realpath(rd->live, dir) == NULL)
			continue;
		snprintf(a, sizeof(a), "%s/cert.pem", dir);
		snprintf(b, sizeof(b), "%s/fullchain.pem", dir);
		pem_file_sha256(a, sa);
		pem_file_sha256(b, sb);
		rd->reads++;
		rd->mixed += strcmp(sa, sb) != 0;
	}
	return NULL;
}

START_TEST(store_swap_is_atomic_for_readers)
{
	struct scene s;
	struct cli_run r;
	struct reader rd = {0};
	pthread_t th;
	X509 *other;
	struct fx_cert_opts o = {.cn = "shop.example", .dns = "shop.example"};
	const char *args[] = {"hook", "--config", NULL, NULL, NULL, NULL};

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_with_store(&s, "\"attempts\": 1");
	args[2] = s.config;
	args[3] = "--";
	args[4] = "true";
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	scene_state_path(&s, "live/shop.example", rd.live, sizeof(rd.live));
	pthread_create(&th, NULL, read_loop, &rd);
	for (int i = 0; i < 6; i++) {
		other = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
		scene_renew(&s, i % 2 ? s.newcert : other, i + 2);
		hook_certbot(&s, &r, args);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
		X509_free(other);
	}
	rd.stop = 1;
	pthread_join(th, NULL);
	ck_assert_int_gt(rd.reads, 10);
	ck_assert_int_eq(rd.mixed, 0);
	scene_end(&s);
}
END_TEST

/* refused -> pending entry -> the target starts stapling -> resume
 * deploys, fills the store, records, and removes the entry. */
START_TEST(refused_then_resumed_when_ready)
{
	struct scene s;
	struct cli_run r;
	char entry[700], live[700];
	json_t *log, *list;
	const unsigned char *staple;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	staple = s.srv.staple;
	s.srv.staple = NULL;
	scene_start_server(&s);
	config_with_store(&s, "\"attempts\": 1");
	run_hook(&s, &r);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "held as a pending deployment");
	scene_state_path(&s, "pending/shop.example.json", entry, sizeof(entry));
	ck_assert(exists(entry));
	scene_state_path(&s, "live/shop.example", live, sizeof(live));
	ck_assert(!exists(live)); /* refused: never in the store */
	{
		const char *args[] = {"pending", "--config", s.config, "--json",
				      NULL};
		json_error_t e;

		cli_env(&r, NULL, args);
		ck_assert_int_eq(r.status, 1);
		list = json_loads(r.out, 0, &e);
		ck_assert_int_eq(json_array_size(list), 1);
		ck_assert_str_eq(field(json_array_get(list, 0), "lineage"),
				 "shop.example");
		assert_contains(field(json_array_get(list, 0), "reason"),
				"no staple");
		ck_assert(json_is_false(
			json_object_get(json_array_get(list, 0), "urgent")));
		json_decref(list);
	}
	/* resume while still not ready: stays pending */
	{
		const char *args[] = {"resume", "--config", s.config, NULL};

		cli_env(&r, NULL, args);
		ck_assert_int_eq(r.status, 1);
		ck_assert(exists(entry));
		s.srv.staple = staple; /* the server staples now */
		cli_env(&r, NULL, args);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	}
	assert_contains(r.out, "deployed shop.example");
	ck_assert(!exists(entry));
	ck_assert(exists(live));
	ck_assert(exists(s.deployed));
	log = read_log(s.record);
	ck_assert_str_eq(
		field(json_array_get(log, json_array_size(log) - 1), "action"),
		"deployed");
	json_decref(log);
	{
		const char *args[] = {"pending", "--config", s.config, NULL};

		cli_env(&r, NULL, args);
		ck_assert_int_eq(r.status, 0);
		assert_contains(r.out, "no pending deployments");
	}
	scene_end(&s);
}
END_TEST

/* A pending entry's deploy_argv is read back with the config's check: a
 * non-string element refuses the entry with one line naming the file and
 * the key, where it used to cut the command short and run the rest. */
START_TEST(resume_refuses_entry_with_non_string_deploy_argv)
{
	struct scene s;
	struct cli_run r;
	char entry[700];
	const unsigned char *staple;
	json_t *e;
	const char *args[] = {"resume", "--config", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	staple = s.srv.staple;
	s.srv.staple = NULL;
	scene_start_server(&s);
	config_with_store(&s, "\"attempts\": 1");
	run_hook(&s, &r);
	ck_assert_int_eq(r.status, 1);
	scene_state_path(&s, "pending/shop.example.json", entry, sizeof(entry));
	e = json_load_file(entry, 0, NULL);
	ck_assert_ptr_nonnull(e);
	json_object_set_new(e, "deploy_argv",
			    json_pack("[s, i]", s.deploy_sh, 7));
	ck_assert_int_eq(json_dump_file(e, entry, 0), 0);
	json_decref(e);
	s.srv.staple = staple; /* the gate would open now */
	args[2] = s.config;
	cli_env(&r, NULL, args);
	ck_assert_msg(r.status == 2, "%s%s", r.out, r.err);
	assert_contains(r.out, "shop.example.json: deploy_argv: expected a "
			       "non-empty array of strings");
	ck_assert(exists(entry));
	ck_assert(!exists(s.deployed));
	scene_end(&s);
}
END_TEST

START_TEST(newer_certificate_supersedes_pending_entry)
{
	struct scene s;
	struct cli_run r;
	char entry[700];
	X509 *newer;
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = true,
				 .ocsp_url = "http://127.0.0.1:9/"};
	const char *args[] = {"resume", "--config", NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.staple = NULL;
	scene_start_server(&s);
	config_with_store(&s, "\"attempts\": 1");
	run_hook(&s, &r);
	ck_assert_int_eq(r.status, 1);
	scene_state_path(&s, "pending/shop.example.json", entry, sizeof(entry));
	ck_assert(exists(entry));
	newer = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	scene_renew(&s, newer, 2);
	args[2] = s.config;
	cli_env(&r, NULL, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "superseded shop.example");
	ck_assert(!exists(entry));
	ck_assert(!exists(s.deployed));
	X509_free(newer);
	scene_end(&s);
}
END_TEST

/* --wait: the gate re-checks until the target staples. */
struct later {
	struct scene *s;
	const unsigned char *staple;
};

static void *staple_later(void *arg)
{
	struct later *l = arg;

	usleep(1500 * 1000);
	l->s->srv.staple = l->staple;
	return NULL;
}

START_TEST(wait_deploys_once_the_gate_opens)
{
	struct scene s;
	struct cli_run r;
	struct later l;
	pthread_t th;
	time_t t0;
	const char *args[] = {"hook", "--config", NULL, "--wait",
			      "30s",  "--",	  NULL, NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	l = (struct later){&s, s.srv.staple};
	s.srv.staple = NULL;
	scene_start_server(&s);
	scene_config(&s, "\"attempts\": 1");
	args[2] = s.config;
	args[6] = s.deploy_sh;
	pthread_create(&th, NULL, staple_later, &l);
	t0 = time(NULL);
	hook_certbot(&s, &r, args);
	pthread_join(th, NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(exists(s.deployed));
	ck_assert_int_lt(time(NULL) - t0, 15);
	scene_end(&s);
}
END_TEST

/* --staple-out writes the verified response for the NEW certificate
 * before the deploy command; a bad responder answer never replaces a
 * valid file. */
START_TEST(staple_out_prestages_and_is_never_made_worse)
{
	struct scene s;
	struct cli_run r;
	char out[700], *data, *before;
	size_t len, blen;
	struct sg_staple st;
	struct sg_policy pol = {300, 86400, 14 * 86400};
	const char *args[] = {"hook", "--config", NULL, "--staple-out",
			      out,    "--",	  NULL, NULL};
	FILE *f;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	args[2] = s.config;
	args[6] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	f = fopen(out, "rb");
	ck_assert_ptr_nonnull(f);
	data = malloc(65536);
	len = fread(data, 1, 65536, f);
	fclose(f);
	sg_staple_verify((unsigned char *)data, len, s.newcert, T_PKI->ca, &pol,
			 time(NULL), &st);
	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
	/* the responder now says revoked: refused, file untouched */
	s.resp.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	unlink(s.deployed);
	hook_certbot(&s, &r, args);
	ck_assert_int_eq(r.status, 1);
	f = fopen(out, "rb");
	before = malloc(65536);
	blen = fread(before, 1, 65536, f);
	fclose(f);
	ck_assert_uint_eq(blen, len);
	ck_assert(memcmp(before, data, len) == 0);
	free(data);
	free(before);
	scene_end(&s);
}
END_TEST

/* resume refreshes a pre-staged file once less than half of its window
 * is left, and never with a response that does not verify. */
START_TEST(resume_refreshes_prestaged_staple)
{
	struct scene s;
	struct cli_run r;
	char out[700];
	const char *hook[] = {"hook", "--config", NULL, "--staple-out",
			      out,    "--",	  NULL, NULL};
	const char *resume[] = {"resume", "--config", NULL, NULL};
	struct fx_staple_opts aging = fx_staple_good();
	unsigned char *der, buf[65536];
	size_t len, n;
	struct sg_staple st;
	struct sg_policy pol = {300, 86400, 14 * 86400};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	hook[2] = resume[2] = s.config;
	hook[6] = s.deploy_sh;
	hook_certbot(&s, &r, hook);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	cli_env(&r, NULL, resume);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "still fresh");
	/* six of seven days gone: refreshed */
	aging.this_off = -6 * 86400;
	aging.next_off = 86400 + 3600;
	der = fx_staple(s.newcert, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, &aging,
			&len);
	fx_write_bytes(out, der, len);
	cli_env(&r, NULL, resume);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "refreshed");
	n = slurp_bytes(out, buf, sizeof(buf));
	sg_staple_verify(buf, n, s.newcert, T_PKI->ca, &pol, time(NULL), &st);
	ck_assert_msg(st.valid && st.seconds_left > 6 * 86400, "%s", st.reason);
	/* aging again: a monitor run refreshes it too */
	fx_write_bytes(out, der, len);
	{
		const char *mon[] = {"monitor", "--config", s.config, NULL};

		cli_env(&r, NULL, mon);
	}
	n = slurp_bytes(out, buf, sizeof(buf));
	sg_staple_verify(buf, n, s.newcert, T_PKI->ca, &pol, time(NULL), &st);
	ck_assert_msg(st.valid && st.seconds_left > 6 * 86400,
		      "monitor did not refresh: %s %s", st.reason, r.err);
	/* aging again, and the responder now answers revoked: kept */
	fx_write_bytes(out, der, len);
	s.resp.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	cli_env(&r, NULL, resume);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "revoked");
	n = slurp_bytes(out, buf, sizeof(buf));
	ck_assert_uint_eq(n, len);
	ck_assert(memcmp(buf, der, len) == 0);
	OPENSSL_free(der);
	scene_end(&s);
}
END_TEST

/* What strict clients refuse never reaches a --staple-out file nor
 * replaces a pre-staged one, although OpenSSL's OCSP API accepts it. */
START_TEST(staple_out_never_takes_what_strict_clients_refuse)
{
	struct scene s;
	struct cli_run r;
	char out[700];
	const char *hook[] = {"hook", "--config", NULL, "--staple-out",
			      out,    "--",	  NULL, NULL};
	const char *resume[] = {"resume", "--config", NULL, NULL};
	struct fx_staple_opts good = fx_staple_good(), aging = good;
	struct fx_strict_opts v[3] = {fx_strict_none(), fx_strict_none(),
				      fx_strict_none()};
	const char *want[3] = {"unknown critical extension", "not DER",
			       "is a CA"};
	unsigned char *bad[3], *old, buf[65536];
	size_t bad_len[3], old_len, n;

	v[0].critical_ext = FX_IN_SINGLE;
	v[1].ber = FX_BER_RESPONSE_DATA;
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(out, sizeof(out), "%s/shop.ocsp", s.dir);
	hook[2] = resume[2] = s.config;
	hook[6] = s.deploy_sh;
	for (int i = 0; i < 3; i++) {
		good.include_signer = i == 2;
		bad[i] = fx_staple_strict(
			s.newcert, T_PKI->ca,
			i == 2 ? T_STRICT->responder_ca : T_PKI->ca,
			i == 2 ? T_PKI->resp_key : T_PKI->ca_key, &good, &v[i],
			&bad_len[i]);
	}
	s.resp.mode = TR_BYTES;
	for (int i = 0; i < 3; i++) {
		s.resp.body = bad[i];
		s.resp.body_len = bad_len[i];
		hook_certbot(&s, &r, hook);
		ck_assert_msg(r.status == 1, "%s: exit %d %s%s", want[i],
			      r.status, r.out, r.err);
		assert_contains(r.err, want[i]);
		ck_assert_msg(!exists(out), "%s: written", want[i]);
		ck_assert(!exists(s.deployed));
	}
	/* pre-staged by a good answer, then aging: resume asks again and
	 * keeps the file when the answer is one of these */
	s.resp.mode = TR_STATUS;
	hook_certbot(&s, &r, hook);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	aging.this_off = -6 * 86400;
	aging.next_off = 86400 + 3600;
	old = fx_staple(s.newcert, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, &aging,
			&old_len);
	fx_write_bytes(out, old, old_len);
	s.resp.mode = TR_BYTES;
	for (int i = 0; i < 3; i++) {
		s.resp.body = bad[i];
		s.resp.body_len = bad_len[i];
		cli_env(&r, NULL, resume);
		ck_assert_msg(r.status == 1, "%s: resume exit %d %s%s", want[i],
			      r.status, r.out, r.err);
		assert_contains(r.out, want[i]);
		n = slurp_bytes(out, buf, sizeof(buf));
		ck_assert_msg(n == old_len && memcmp(buf, old, n) == 0,
			      "%s: pre-staged file replaced", want[i]);
	}
	for (int i = 0; i < 3; i++)
		OPENSSL_free(bad[i]);
	OPENSSL_free(old);
	scene_end(&s);
}
END_TEST

/* nginx stapling from ssl_stapling_file, which the hook pre-stages with
 * the NEW certificate's response before the reload: every handshake
 * after the reload, the first included, carries a valid staple. */
START_TEST(nginx_staples_prestaged_file_from_first_handshake)
{
	struct scene s;
	struct nginx n;
	struct cli_run r;
	char staple[700], directive[800], script[700], text[2048];
	const char *args[] = {"hook", "--config", NULL,	  "--staple-out",
			      staple, "--",	  script, NULL};
	unsigned char *der;
	size_t len;
	json_t *log, *settle;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	snprintf(staple, sizeof(staple), "%s/shop.ocsp", s.dir);
	der = tstaple_good(&len);
	fx_write_bytes(staple, der, len);
	OPENSSL_free(der);
	snprintf(directive, sizeof(directive), "ssl_stapling_file %s;", staple);
	nginx_start(&n, &s, directive);
	snprintf(script, sizeof(script), "%s/deploy-nginx.sh", s.dir);
	/* reload, then wait for the old workers to go, so that every
	 * handshake of the settle is one of the new configuration */
	snprintf(text, sizeof(text),
		 "#!/bin/sh\ncat '%s/fullchain.pem' > '%s'\n"
		 "nginx -p '%s' -c '%s' -s reload || exit 1\nsleep 1\n",
		 s.lineage, n.cert, n.prefix, n.conf);
	write_text(script, text, 0755);
	s.srv.port = n.port;
	scene_config(&s, "\"attempts\": 1, \"settle_handshakes\": 4");
	args[2] = s.config;
	hook_certbot(&s, &r, args);
	nginx_stop(&n);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	log = read_log(s.record);
	settle = log_settle(log);
	ck_assert(json_is_true(json_object_get(settle, "settled")));
	/* no handshake without the staple: exactly the 4 required */
	ck_assert_int_eq(
		json_integer_value(json_object_get(settle, "handshakes")), 4);
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* contrib/nginx/staplegate-store.conf, pointed at a real store: nginx -t
 * accepts it. */
START_TEST(contrib_nginx_snippet_passes_nginx_t)
{
	struct scene s;
	struct cli_run r;
	char snippet[8192], conf[700], staple[700], cmd[1500], live[700];
	const char *args[] = {"hook", "--config", NULL, "--", "true", NULL};
	FILE *f = fopen("contrib/nginx/staplegate-store.conf", "r");
	size_t n;
	int st;
	struct fx_staple_opts good = fx_staple_good();
	unsigned char *der;
	size_t len;

	ck_assert_ptr_nonnull(f);
	n = fread(snippet, 1, sizeof(snippet) - 1, f);
	fclose(f);
	snippet[n] = '\0';
	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	config_with_store(&s, "\"attempts\": 1");
	/* nginx does parse the key: a real one this time */
	snprintf(live, sizeof(live), "%s/archive/shop.example/privkey1.pem",
		 s.dir);
	fx_write_key(live, T_PKI->leaf_key);
	args[2] = s.config;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	/* the store's live/ keeps its name; the staple file is ours */
	mkdir(s.state, 0750);
	snprintf(staple, sizeof(staple), "%s/staples", s.state);
	mkdir(staple, 0750);
	snprintf(staple, sizeof(staple), "%s/staples/shop.example.ocsp",
		 s.state);
	der = fx_staple(s.newcert, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, &good,
			&len);
	fx_write_bytes(staple, der, len);
	OPENSSL_free(der);
	snprintf(live, sizeof(live), "%s/", s.state);
	snprintf(conf, sizeof(conf), "%s/nginx-t.conf", s.dir);
	f = fopen(conf, "w");
	fprintf(f,
		"pid %s/t.pid;\nerror_log %s/t.log;\nevents {}\n"
		"http {\n client_body_temp_path %s/tmp;\n server {\n"
		"  listen 127.0.0.1:%d ssl;\n",
		s.dir, s.dir, s.dir, s.srv.port);
	for (char *p = snippet, *q; (q = strstr(p, "/var/lib/staplegate/"));
	     p = q + 20) {
		fwrite(p, 1, (size_t)(q - p), f);
		fputs(live, f);
		if (!strstr(q + 20, "/var/lib/staplegate/")) {
			fputs(q + 20, f);
			break;
		}
	}
	fputs(" }\n}\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "nginx -t -p '%s' -c '%s' >'%s/t.out' 2>&1",
		 s.dir, conf, s.dir);
	st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "nginx -t failed, "
		      "see %s/t.out",
		      s.dir);
	scene_end(&s);
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, store_links_certbot_archive_and_keeps_previous);
	tcase_add_test(tc, store_copies_for_acmesh_with_key_bytes);
	tcase_add_test(tc, store_swap_is_atomic_for_readers);
	tcase_add_test(tc, refused_then_resumed_when_ready);
	tcase_add_test(tc, resume_refuses_entry_with_non_string_deploy_argv);
	tcase_add_test(tc, newer_certificate_supersedes_pending_entry);
	tcase_add_test(tc, wait_deploys_once_the_gate_opens);
	tcase_add_test(tc, staple_out_prestages_and_is_never_made_worse);
	tcase_add_test(tc, resume_refreshes_prestaged_staple);
	tcase_add_test(tc, staple_out_never_takes_what_strict_clients_refuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("nginx-file");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nginx_staples_prestaged_file_from_first_handshake);
	tcase_add_test(tc, contrib_nginx_snippet_passes_nginx_t);
	suite_add_tcase(s, tc);
	return s;
}
