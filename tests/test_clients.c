/* What the hook says and records under each ACME client: one summary
 * line when stdout and stderr are one stream (lego, certbot), progress
 * as it happens, lego's shell-less hook line, dehydrated's hook calls,
 * the REFUSE line and the score log's names for a certificate with
 * several names, and what failed when the deploy command did not run. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ocsp.h>

#include "scene.h"
#include "tnginx.h"
#include "testutil.h"

/* Runs the binary with stdout and stderr on one file, as lego does (its
 * hook's output is one pipe); returns the exit status. */
static int run_merged(const char *const *env, const char *const *args,
		      const char *out, char *text, size_t size)
{
	static const char *const clean[] = {"RENEWED_LINEAGE",
					    "RENEWED_DOMAINS",
					    "CERT_PATH",
					    "CA_CERT_PATH",
					    "Le_Domain",
					    "LEGO_CERT_PATH",
					    "LEGO_CERT_DOMAIN",
					    "LEGO_HOOK_CERT_PATH",
					    "STAPLEGATE_CONFIG",
					    "LEGO_CERT_KEY_PATH",
					    NULL};
	const char *argv[40];
	char bin[600];
	int n = 0, st;
	pid_t pid;
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/staplegate", T_BUILD);
	argv[n++] = bin;
	while (args[n - 1] && n < 39) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		for (int i = 0; clean[i]; i++)
			unsetenv(clean[i]);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	text[fread(text, 1, size - 1, f)] = '\0';
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count(const char *hay, const char *needle)
{
	int k = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		k++;
	return k;
}

/* lego merges the hook's stdout and stderr: the summary of a refusal
 * must appear once. */
START_TEST(refusal_summary_once_when_streams_are_merged)
{
	struct scene s;
	char out[700], text[16384];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	int st;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.staple = NULL;
	scene_start_server(&s);
	scene_config(&s, "\"attempts\": 1");
	args[2] = s.config;
	args[4] = s.deploy_sh;
	snprintf(out, sizeof(out), "%s/merged.out", s.dir);
	st = run_merged(certbot_env(&s), args, out, text, sizeof(text));
	ck_assert_msg(st == 1, "exit %d: %s", st, text);
	ck_assert_msg(count(text, "REFUSED shop.example") == 1, "%s", text);
	ck_assert(!exists(s.deployed));
	scene_end(&s);
}
END_TEST

/* Progress comes as it happens, even into a file: when the deploy
 * command runs, the lines before it are already written, and settle
 * rounds are reported. */
START_TEST(progress_lines_are_written_as_they_happen)
{
	struct scene s;
	char out[700], text[16384], script[2048], seen[700];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	int st;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(out, sizeof(out), "%s/merged.out", s.dir);
	snprintf(seen, sizeof(seen), "%s/seen", s.dir);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\ncp '%s' '%s'\ntouch '%s'\n", out, seen,
		 s.deployed);
	write_text(s.deploy_sh, script, 0755);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	st = run_merged(certbot_env(&s), args, out, text, sizeof(text));
	ck_assert_msg(st == 0, "exit %d: %s", st, text);
	{
		FILE *f = fopen(seen, "r");
		char before[8192];

		ck_assert_ptr_nonnull(f);
		before[fread(before, 1, sizeof(before) - 1, f)] = '\0';
		fclose(f);
		assert_contains(before,
				"staplegate: asking the OCSP responder");
		assert_contains(before, "staplegate: pre-flight: probing 1 "
					"target");
		assert_contains(before, "staplegate: deploying: running ");
	}
	assert_contains(text, "staplegate: settle: waiting until 1 target "
			      "serves");
	assert_contains(text, "staplegate: settle round 1: ");
	ck_assert_msg(count(text, "staplegate: deployed shop.example") == 1,
		      "%s", text);
	scene_end(&s);
}
END_TEST

/* On a terminal the settle rounds rewrite one status line in place (a
 * pseudo-terminal from script(1)); into a file they are lines of their
 * own, without escape sequences. */
START_TEST(settle_rounds_rewrite_one_line_on_a_terminal)
{
	struct scene s;
	char out[700], cmd[3000], text[16384];
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	FILE *f;
	int st;

	if (system("command -v script >/dev/null 2>&1") != 0) {
		printf("settle_rounds_rewrite_one_line_on_a_terminal: "
		       "skipped: no script(1)\n");
		return;
	}
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(out, sizeof(out), "%s/tty.out", s.dir);
	snprintf(cmd, sizeof(cmd),
		 "RENEWED_LINEAGE='%s' RENEWED_DOMAINS=shop.example "
		 "script -qec \"'%s/staplegate' hook --config '%s' -- '%s'\" "
		 "/dev/null >'%s' 2>&1 </dev/null",
		 s.lineage, T_BUILD, s.config, s.deploy_sh, out);
	st = system(cmd);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", text);
	assert_contains(text, "\r\033[Kstaplegate: settle round 2: ");
	assert_contains(text, "staplegate: deployed shop.example");
	args[2] = s.config;
	args[4] = s.deploy_sh;
	st = run_merged(certbot_env(&s), args, out, text, sizeof(text));
	ck_assert_msg(st == 0, "%s", text);
	ck_assert_msg(strchr(text, '\033') == NULL, "%s", text);
	assert_contains(text, "\nstaplegate: settle round 1: ");
	scene_end(&s);
}
END_TEST

/* lego runs "staplegate hook -- true && systemctl reload nginx" with no
 * shell: the operator arrives as a word and must be named. */
START_TEST(shell_operator_is_named_not_run)
{
	static const char *const lines[][8] = {
		{"hook", "--dry-run", "--", "true", "&&", "systemctl", "reload",
		 NULL},
		{"hook", "&&", "systemctl", "reload", "nginx", "-p", NULL},
		{"hook", "--", "systemctl", "reload", "nginx", ";", NULL},
		{"hook", "--", "nginx", "-s", "reload", "2>&1", NULL},
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct cli_run r;

		cli_env(&r, NULL, lines[i]);
		ck_assert_msg(r.status == 2, "line %zu: exit %d", i, r.status);
		assert_contains(r.err, "is a shell operator");
		assert_contains(r.err, "lego runs its hook without a shell");
	}
}
END_TEST

/* A config with one target for both names of a two-name certificate. */
static X509 *two_names(struct scene *s, const char *extra)
{
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example,DNS:www.shop.example",
				 .must_staple = true};
	char url[64], text[4096];
	X509 *cert;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->resp.port);
	o.ocsp_url = url;
	cert = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	scene_renew(s, cert, 2);
	snprintf(text, sizeof(text),
		 "{\"defaults\": {\"record\": \"%s\", \"cafile\": \"%s\", "
		 "\"retry_delay\": \"0s\", \"attempts\": 1, "
		 "\"state_dir\": \"%s\"%s},\n"
		 " \"domains\": {\"shop.example\": {\"targets\": "
		 "[\"127.0.0.1:%d\"]},\n"
		 "  \"www.shop.example\": {\"targets\": "
		 "[\"127.0.0.1:%d\"]}}}\n",
		 s->record, tpath("root.pem"), s->state, extra ? extra : "",
		 s->srv.port, s->srv.port);
	write_text(s->config, text, 0644);
	return cert;
}

START_TEST(refuse_line_names_each_target_once_with_its_names)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	char target[64], line[256];
	X509 *cert;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.staple = NULL;
	scene_start_server(&s);
	cert = two_names(&s, NULL);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	hook_certbot(&s, &r, args);
	ck_assert_msg(r.status == 1, "exit %d %s", r.status, r.err);
	snprintf(target, sizeof(target), "127.0.0.1:%d", s.srv.port);
	snprintf(line, sizeof(line), "%s for shop.example, www.shop.example (",
		 target);
	assert_contains(r.out, line);
	{
		const char *refuse = strstr(r.out, "REFUSE: ");

		ck_assert_ptr_nonnull(refuse);
		ck_assert_msg(count(refuse, target) == 1, "%s", refuse);
	}
	X509_free(cert);
	scene_end(&s);
}
END_TEST

/* lego v4 names only the main domain (LEGO_CERT_DOMAIN); the record
 * names the certificate's names. */
START_TEST(record_domains_are_the_certificates_names)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, "--dry-run", NULL};
	char cert[800];
	const char *env[] = {cert, "LEGO_CERT_DOMAIN=shop.example", NULL};
	json_t *log, *domains;
	X509 *two;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	two = two_names(&s, NULL);
	args[2] = s.config;
	snprintf(cert, sizeof(cert), "LEGO_CERT_PATH=%s/fullchain.pem",
		 s.lineage);
	cli_env(&r, env, args);
	log = read_log(s.record);
	domains = json_object_get(json_array_get(log, 0), "domains");
	ck_assert_msg(json_array_size(domains) == 2, "%s%s", r.out, r.err);
	ck_assert_str_eq(json_string_value(json_array_get(domains, 0)),
			 "shop.example");
	ck_assert_str_eq(json_string_value(json_array_get(domains, 1)),
			 "www.shop.example");
	ck_assert_str_eq(field(json_array_get(log, 0), "client"), "lego");
	json_decref(log);
	X509_free(two);
	scene_end(&s);
}
END_TEST

/* A manual run (--cert, no client environment) and a resume, which
 * recorded no names before, name the certificate's names too. */
START_TEST(record_domains_for_manual_and_resume_runs)
{
	struct scene s;
	struct cli_run r;
	char cert[700];
	const char *manual[] = {"hook", "--config", NULL, "--cert",
				cert,	"--",	    NULL, NULL};
	const char *resume[] = {"resume", "--config", NULL, NULL};
	const unsigned char *staple;
	json_t *log;
	X509 *two;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	staple = s.srv.staple;
	s.srv.staple = NULL;
	scene_start_server(&s);
	two = two_names(&s, ", \"settle_timeout\": \"10s\"");
	/* the reload serves it, stapled */
	scene_serve_after_reload(&s, two);
	snprintf(cert, sizeof(cert), "%s/fullchain.pem", s.lineage);
	manual[2] = resume[2] = s.config;
	manual[6] = s.deploy_sh;
	cli_env(&r, NULL, manual);
	ck_assert_msg(r.status == 1, "exit %d %s", r.status, r.err);
	s.srv.staple = staple; /* the server staples now */
	cli_env(&r, NULL, resume);
	ck_assert_msg(r.status == 0, "exit %d %s%s", r.status, r.out, r.err);
	/* resume shows its progress as the hook does */
	assert_contains(r.out, "staplegate: settle round 1: ");
	log = read_log(s.record);
	ck_assert_int_eq(json_array_size(log), 4);
	for (size_t i = 0; i < 4; i += 2) {
		json_t *d = json_array_get(log, i);

		ck_assert_str_eq(field(d, "client"), "manual");
		ck_assert_msg(json_array_size(json_object_get(d, "domains")) ==
				      2,
			      "record %zu: %s", i,
			      json_dumps(json_object_get(d, "domains"), 0));
	}
	json_decref(log);
	scene_end(&s); /* the server held two */
	X509_free(two);
}
END_TEST

/* The approved store cannot be written (its store/ directory is a
 * file): the summary and the record name the store, never a deploy
 * command. */
static void hook_with_blocked_store(struct scene *s, struct cli_run *r,
				    bool must_staple)
{
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	char blocker[700];

	scene_begin(s, must_staple, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(s);
	scene_config(s, "\"store\": true");
	mkdir(s->state, 0700);
	snprintf(blocker, sizeof(blocker), "%s/store", s->state);
	write_text(blocker, "a file, not a directory\n", 0644);
	args[2] = s->config;
	args[4] = s->deploy_sh;
	hook_certbot(s, r, args);
}

/* Must-Staple: held back, the outcome says the store failed. */
START_TEST(store_failure_is_named)
{
	struct scene s;
	struct cli_run r;
	json_t *log;

	hook_with_blocked_store(&s, &r, true);
	ck_assert_msg(r.status == 1, "exit %d %s", r.status, r.err);
	ck_assert(!exists(s.deployed));
	assert_contains(r.err, "store-failed shop.example (certbot, "
			       "Must-Staple): certificate not put into the "
			       "approved store");
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"),
			 "store-failed");
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* Not Must-Staple: never gated, not even by the store (deployed, exit
 * 2), and the store is named as what failed. */
START_TEST(store_failure_after_a_plain_deploy_is_named)
{
	struct scene s;
	struct cli_run r;

	hook_with_blocked_store(&s, &r, false);
	ck_assert_msg(r.status == 2, "exit %d %s", r.status, r.err);
	ck_assert(exists(s.deployed));
	assert_contains(r.err, "store");
	ck_assert_msg(strstr(r.err, "deploy command not run") == NULL, "%s",
		      r.err);
	scene_end(&s);
}
END_TEST

/* dehydrated's HOOK gets "deploy_cert DOMAIN KEYFILE CERTFILE
 * FULLCHAINFILE CHAINFILE TIMESTAMP"; its other calls are no-ops. */
/* dehydrated's tokens are base64url and may start with "-": its calls
 * are words, never options (seen failing 1 run in 3 before). */
START_TEST(dehydrated_token_starting_with_a_dash_is_a_noop)
{
	struct scene s;
	struct cli_run r;
	const char *call[] = {
		"hook",		"--config",  NULL,	     "deploy_challenge",
		"shop.example", "-Xq3token", "-Zk9value_-x", "--",
		NULL,		NULL};

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_config(&s, NULL);
	call[2] = s.config;
	call[8] = s.deploy_sh;
	cli_env(&r, NULL, call);
	ck_assert_msg(r.status == 0, "exit %d %s", r.status, r.err);
	ck_assert(!exists(s.deployed));
	scene_end(&s);
}
END_TEST

START_TEST(dehydrated_deploy_cert_call_is_gated)
{
	struct scene s;
	struct cli_run r;
	char key[700], cert[700], full[700], chain[700];
	const char *deploy[] = {
		"hook", "--config", NULL, "deploy_cert", "shop.example",
		key,	cert,	    full, chain,	 "1700000000",
		"--",	NULL,	    NULL};
	const char *other[] = {
		"hook",		"--config", NULL,  "clean_challenge",
		"shop.example", "tok",	    "val", "--",
		NULL,		NULL};
	json_t *log;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(key, sizeof(key), "%s/privkey.pem", s.lineage);
	snprintf(cert, sizeof(cert), "%s/cert.pem", s.lineage);
	snprintf(full, sizeof(full), "%s/fullchain.pem", s.lineage);
	snprintf(chain, sizeof(chain), "%s/chain.pem", s.lineage);
	other[2] = deploy[2] = s.config;
	other[8] = deploy[11] = s.deploy_sh;
	cli_env(&r, NULL, other);
	ck_assert_msg(r.status == 0, "exit %d %s", r.status, r.err);
	ck_assert(!exists(s.deployed));
	ck_assert(!exists(s.record));
	cli_env(&r, NULL, deploy);
	ck_assert_msg(r.status == 0, "exit %d %s%s", r.status, r.out, r.err);
	ck_assert(exists(s.deployed));
	assert_contains(r.out, "deployed shop.example (dehydrated, "
			       "Must-Staple)");
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 0), "client"), "dehydrated");
	json_decref(log);
	deploy[9] = NULL; /* a short call is an input error */
	cli_env(&r, NULL, deploy);
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "deploy_cert takes DOMAIN KEYFILE");
	scene_end(&s);
}
END_TEST

/* acme.sh 3.1.4's _installcert, after copying the files to the install
 * paths: exports CERT_PATH, CERT_KEY_PATH, CA_CERT_PATH,
 * CERT_FULLCHAIN_PATH (its own copies in DOMAIN_PATH, <domain>_ecc/ for
 * ECC) and Le_Domain (the main domain only), then runs the reloadcmd with
 * "cd $DOMAIN_PATH && eval". Here the reloadcmd is the one in
 * contrib/acme.sh/install-cert.sh, its "service" a shim for the scene's
 * deploy script. */
START_TEST(acmesh_reloadcmd_as_installcert_runs_it)
{
	struct scene s;
	char home[700], bin[700], path[900], text[4096], out[700];
	char build[PATH_MAX];
	int st;
	json_t *log;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, "\"store\": true");
	snprintf(home, sizeof(home), "%s/acme/shop.example_ecc", s.dir);
	snprintf(path, sizeof(path), "mkdir -p '%s' '%s/bin'", home, s.dir);
	ck_assert_int_eq(system(path), 0);
	snprintf(path, sizeof(path), "%s/shop.example.cer", home);
	fx_write_pem(path, s.newcert, NULL, NULL);
	snprintf(path, sizeof(path), "%s/ca.cer", home);
	fx_write_pem(path, T_PKI->ca, NULL, NULL);
	snprintf(path, sizeof(path), "%s/fullchain.cer", home);
	fx_write_pem(path, s.newcert, T_PKI->ca, NULL);
	snprintf(path, sizeof(path), "%s/shop.example.key", home);
	write_text(path, "not a key, never parsed\n", 0600);
	snprintf(bin, sizeof(bin), "%s/bin", s.dir);
	snprintf(path, sizeof(path), "%s/service", bin);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n[ \"$*\" = 'nginx force-reload' ] || exit 3\n"
		 "exec '%s'\n",
		 s.deploy_sh);
	write_text(path, text, 0755);
	snprintf(path, sizeof(path), "%s/staplegate", bin);
	ck_assert_ptr_nonnull(realpath(T_BUILD, build));
	snprintf(text, sizeof(text), "#!/bin/sh\nexec '%s/staplegate' \"$@\"\n",
		 build);
	write_text(path, text, 0755);
	snprintf(out, sizeof(out), "%s/installcert.out", s.dir);
	snprintf(path, sizeof(path), "%s/installcert.sh", s.dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\nunset RENEWED_LINEAGE LEGO_CERT_PATH "
		 "LEGO_HOOK_CERT_PATH\n"
		 "DOMAIN_PATH='%s'\nexport STAPLEGATE_CONFIG='%s'\n"
		 "export PATH='%s':\"$PATH\"\n"
		 "export CERT_PATH=\"$DOMAIN_PATH/shop.example.cer\"\n"
		 "export CERT_KEY_PATH=\"$DOMAIN_PATH/shop.example.key\"\n"
		 "export CA_CERT_PATH=\"$DOMAIN_PATH/ca.cer\"\n"
		 "export CERT_FULLCHAIN_PATH=\"$DOMAIN_PATH/fullchain.cer\"\n"
		 "export Le_Domain=shop.example\n"
		 "cmd=$(sed -n 's/.*--reloadcmd \"\\(.*\\)\".*/\\1/p' "
		 "contrib/acme.sh/install-cert.sh)\n"
		 "[ -n \"$cmd\" ] || exit 4\n"
		 "cd \"$DOMAIN_PATH\" && eval \"$cmd\"\n",
		 home, s.config, bin);
	write_text(path, text, 0755);
	snprintf(text, sizeof(text), "sh '%s' >'%s' 2>&1", path, out);
	st = system(text);
	{
		FILE *f = fopen(out, "r");

		text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
		fclose(f);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", text);
	/* an ECC certificate's lineage keeps acme.sh's _ecc suffix */
	assert_contains(text, "staplegate: deployed shop.example_ecc (acme.sh, "
			      "Must-Staple)");
	ck_assert(exists(s.deployed));
	log = read_log(s.record);
	ck_assert_str_eq(field(json_array_get(log, 0), "client"), "acme.sh");
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "deployed");
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* Every option `hook --help` lists is in the README's hook synopsis and
 * in the man page's. */
START_TEST(hook_synopsis_lists_every_help_option)
{
	const char *args[] = {"hook", "--help", NULL};
	static const char *const docs[] = {"README.md", "man/staplegate.1"};
	struct cli_run r;

	cli_env(&r, NULL, args);
	ck_assert_int_eq(r.status, 0);
	for (int d = 0; d < 2; d++) {
		char text[1 << 16], *block, *end, opt[64], roff[80];
		FILE *f = fopen(docs[d], "r");
		size_t n;

		ck_assert_ptr_nonnull(f);
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		block = strstr(text, d == 0 ? "\nstaplegate hook ["
					    : ".B staplegate hook\n");
		ck_assert_msg(block != NULL, "%s: no hook synopsis", docs[d]);
		end = strstr(block + 1, d == 0 ? "```" : ".br\n");
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		for (const char *p = r.out; (p = strstr(p, "[--")); p += 3) {
			size_t k = strcspn(p + 1, " ]");

			snprintf(opt, sizeof(opt), "%.*s", (int)k, p + 1);
			for (size_t i = 0, j = 0; j < sizeof(roff) - 3; i++) {
				if (opt[i] == '-')
					roff[j++] = '\\';
				roff[j++] = opt[i];
				if (opt[i] == '\0')
					break;
			}
			ck_assert_msg(strstr(block, d == 0 ? opt : roff),
				      "%s: hook synopsis lacks %s", docs[d],
				      opt);
		}
	}
}
END_TEST

/* contrib/nginx's live-fetch lines: with ssl_stapling_verify, a staple
 * signed by a delegated responder verifies only up to a root, so the
 * store's chain.pem (the intermediate) as ssl_trusted_certificate means
 * no staple at all, and the roots (as the snippet now names) work. */
START_TEST(nginx_live_fetch_needs_the_root_for_a_delegated_responder)
{
	static const struct {
		const char *trusted;
		bool stapled;
	} cases[] = {{"ca.pem", false}, {"root.pem", true}};

	for (int i = 0; i < 2; i++) {
		struct scene s;
		struct nginx n;
		struct cli_run r;
		char text[1024], target[64];
		const char *args[] = {
			"probe",	target,	    "--servername",
			"shop.example", "--CAfile", tpath("root.pem"),
			"--attempts",	"4",	    "--retry-delay",
			"1s",		NULL};

		scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
		s.resp.signer = T_PKI->responder;
		s.resp.signer_key = T_PKI->resp_key;
		snprintf(text, sizeof(text),
			 "ssl_stapling_verify on;\n  ssl_trusted_certificate "
			 "%s;\n  ssl_stapling_responder http://127.0.0.1:%d/;",
			 tpath(cases[i].trusted), s.resp.port);
		n.workers = 1;
		nginx_start(&n, &s, text);
		snprintf(target, sizeof(target), "127.0.0.1:%d", n.port);
		cli_env(&r, NULL, args);
		nginx_stop(&n);
		if (cases[i].stapled) {
			ck_assert_msg(r.status == 0, "%s: %s%s",
				      cases[i].trusted, r.out, r.err);
			assert_contains(r.out, "Must-Staple certificate, "
					       "stapled");
		} else {
			ck_assert_msg(r.status == 1, "%s: %s%s",
				      cases[i].trusted, r.out, r.err);
			assert_contains(r.out, "not stapled");
		}
		ck_assert_int_ge(s.resp.requests, 1);
		scene_end(&s);
	}
}
END_TEST

/* A tests/e2e_<client>.sh script: the real client against pebble, the
 * hook, a real nginx; its last line says what it proved. */
static void e2e(const char *client)
{
	char cmd[1200], log[700], out[8192] = "", want[64];
	FILE *f;
	int st;

	snprintf(log, sizeof(log), "%s/e2e-%s.log", T_PKI->dir, client);
	snprintf(cmd, sizeof(cmd),
		 "timeout 150 bash tests/e2e_%s.sh '%s' >'%s' 2>&1", client,
		 T_BUILD, log);
	st = system(cmd);
	f = fopen(log, "r");
	if (f) {
		out[fread(out, 1, sizeof(out) - 1, f)] = '\0';
		fclose(f);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
	snprintf(want, sizeof(want), "e2e %s: skipped", client);
	if (strstr(out, want)) {
		printf("%s\n", out); /* the uacme one needs root */
		return;
	}
	snprintf(want, sizeof(want), "e2e %s: ok", client);
	assert_contains(out, want);
}

START_TEST(lego_end_to_end)
{
	e2e("lego");
}
END_TEST

START_TEST(dehydrated_end_to_end)
{
	e2e("dehydrated");
}
END_TEST

START_TEST(uacme_end_to_end)
{
	e2e("uacme");
}
END_TEST

Suite *clients_suite(void)
{
	Suite *s = suite_create("clients");
	TCase *tc = tcase_create("output");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, refusal_summary_once_when_streams_are_merged);
	tcase_add_test(tc, progress_lines_are_written_as_they_happen);
	tcase_add_test(tc, settle_rounds_rewrite_one_line_on_a_terminal);
	tcase_add_test(tc, shell_operator_is_named_not_run);
	tcase_add_test(tc, refuse_line_names_each_target_once_with_its_names);
	tcase_add_test(tc, record_domains_are_the_certificates_names);
	tcase_add_test(tc, record_domains_for_manual_and_resume_runs);
	tcase_add_test(tc, store_failure_is_named);
	tcase_add_test(tc, store_failure_after_a_plain_deploy_is_named);
	tcase_add_test(tc, dehydrated_deploy_cert_call_is_gated);
	tcase_add_test(tc, dehydrated_token_starting_with_a_dash_is_a_noop);
	tcase_add_test(tc, acmesh_reloadcmd_as_installcert_runs_it);
	tcase_add_test(tc, hook_synopsis_lists_every_help_option);
	suite_add_tcase(s, tc);
	tc = tcase_create("nginx");
	tcase_set_timeout(tc, 60);
	tcase_add_test(
		tc, nginx_live_fetch_needs_the_root_for_a_delegated_responder);
	suite_add_tcase(s, tc);
	tc = tcase_create("e2e");
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, lego_end_to_end);
	tcase_add_test(tc, dehydrated_end_to_end);
	tcase_add_test(tc, uacme_end_to_end);
	suite_add_tcase(s, tc);
	return s;
}
