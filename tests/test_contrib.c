/* Every contrib file is checked by the validator its software ships:
 * systemd-analyze verify, promtool, logrotate -d, apache2 -t, haproxy -c,
 * sh -n (nginx -t is in the store suite, against a real store). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char *work(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/contrib-%d", T_PKI->dir, getpid());
	mkdir(out, 0755);
	if (name)
		snprintf(out + strlen(out), size - strlen(out), "/%s", name);
	return out;
}

/* Runs cmd; on failure the assertion shows its output. */
static void run_ok(const char *what, const char *cmd)
{
	char full[2048], log[600], text[2048] = "";
	FILE *f;
	int st;

	work(log, sizeof(log), "validator.log");
	snprintf(full, sizeof(full), "%s >'%s' 2>&1", cmd, log);
	st = system(full);
	f = fopen(log, "r");
	if (f) {
		text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
		fclose(f);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", what,
		      text);
}

/* Copies a contrib file, replacing every occurrence of from with to. */
static void copy_replacing(const char *src, const char *dst, const char *from,
			   const char *to)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	char buf[16384], *p, *q;
	size_t n;

	ck_assert_msg(in && out, "%s", src);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	buf[n] = '\0';
	for (p = buf; from && (q = strstr(p, from)); p = q + strlen(from)) {
		fwrite(p, 1, (size_t)(q - p), out);
		fputs(to, out);
	}
	fputs(p, out);
	fclose(in);
	fclose(out);
}

START_TEST(systemd_units_verify)
{
	static const char *const units[] = {
		"staplegate-resume.service", "staplegate-resume.timer",
		"staplegate-monitor.service", "staplegate-monitor.timer"};
	char dir[600], src[700], dst[700], bin[PATH_MAX], man[700], cmd[1600];

	if (system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
		printf("systemd_units_verify: skipped: no systemd-analyze\n");
		return;
	}
	work(dir, sizeof(dir), NULL);
	snprintf(src, sizeof(src), "%s/staplegate", T_BUILD);
	ck_assert_ptr_nonnull(realpath(src, bin));
	/* Documentation=man:staplegate(1) must resolve */
	snprintf(man, sizeof(man), "%s/man/man1", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp man/staplegate.1 '%s'",
		 man, man);
	run_ok("man page", cmd);
	for (int i = 0; i < 4; i++) {
		snprintf(src, sizeof(src), "contrib/systemd/%s", units[i]);
		snprintf(dst, sizeof(dst), "%s/%s", dir, units[i]);
		copy_replacing(src, dst, "/usr/local/bin/staplegate", bin);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(cmd, sizeof(cmd),
			 "MANPATH='%s/man' systemd-analyze verify '%s/%s'", dir,
			 dir, units[i]);
		run_ok(units[i], cmd);
	}
}
END_TEST

START_TEST(prometheus_rules_check)
{
	run_ok("promtool",
	       "promtool check rules contrib/prometheus/staplegate.rules.yml");
}
END_TEST

START_TEST(logrotate_config_check)
{
	char state[600], cmd[900];

	work(state, sizeof(state), "logrotate.state");
	snprintf(cmd, sizeof(cmd),
		 "logrotate -d -s '%s' contrib/logrotate/staplegate", state);
	run_ok("logrotate", cmd);
}
END_TEST

/* Certificate files for the server configs: the paths in the snippets
 * point at a fake store laid out here. */
static void fake_store(const char *dir)
{
	char path[900];

	snprintf(path, sizeof(path), "%s/live/shop.example", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/live/shop.example/fullchain.pem", dir);
	fx_write_pem(path, T_PKI->leaf_plain, T_PKI->ca, NULL);
	snprintf(path, sizeof(path), "%s/live/shop.example/privkey.pem", dir);
	fx_write_key(path, T_PKI->leaf_key);
}

START_TEST(apache_snippet_check)
{
	char dir[600], store[700], snippet[700], conf[700], run[700], cmd[1600];
	FILE *f;

	work(dir, sizeof(dir), NULL);
	snprintf(store, sizeof(store), "%s/", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	mkdir(run, 0755);
	snprintf(cmd, sizeof(cmd), "%s/live", dir);
	mkdir(cmd, 0755);
	fake_store(dir);
	snprintf(snippet, sizeof(snippet), "%s/staplegate-store.conf", dir);
	copy_replacing("contrib/apache/staplegate-store.conf", snippet,
		       "/var/lib/staplegate/", store);
	snprintf(conf, sizeof(conf), "%s/httpd.conf", dir);
	f = fopen(conf, "w");
	fprintf(f,
		"ServerRoot /etc/apache2\nDefine APACHE_RUN_DIR %s\n"
		"PidFile %s/httpd.pid\nErrorLog %s/error.log\n"
		"LoadModule mpm_event_module "
		"/usr/lib/apache2/modules/mod_mpm_event.so\n"
		"LoadModule authz_core_module "
		"/usr/lib/apache2/modules/mod_authz_core.so\n"
		"LoadModule socache_shmcb_module "
		"/usr/lib/apache2/modules/mod_socache_shmcb.so\n"
		"LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n"
		"Listen 127.0.0.1:8443\nServerName localhost\nInclude %s\n",
		run, run, run, snippet);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "apache2 -t -f '%s'", conf);
	run_ok("apache2 -t", cmd);
}
END_TEST

START_TEST(haproxy_snippet_check)
{
	char dir[600], cfg[700], pem[700], tmp[700], cmd[1600];

	work(dir, sizeof(dir), NULL);
	snprintf(pem, sizeof(pem), "%s/certs", dir);
	mkdir(pem, 0755);
	snprintf(pem, sizeof(pem), "%s/certs/shop.example.pem", dir);
	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' | tee '%s'",
		 tpath("fullchain-plain.pem"), tpath("leaf.key"), pem);
	run_ok("combined pem", cmd);
	snprintf(tmp, sizeof(tmp), "%s/haproxy.tmp", dir);
	snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", dir);
	{
		char certs[700], sockdir[700];

		snprintf(certs, sizeof(certs), "%s/certs/", dir);
		snprintf(sockdir, sizeof(sockdir), "%s/", dir);
		copy_replacing("contrib/haproxy/haproxy-store.cfg", tmp,
			       "/etc/haproxy/certs/", certs);
		copy_replacing(tmp, cfg, "/run/haproxy/", sockdir);
	}
	snprintf(cmd, sizeof(cmd), "haproxy -c -f '%s'", cfg);
	run_ok("haproxy -c", cmd);
}
END_TEST

START_TEST(shell_examples_parse)
{
	run_ok("sh -n", "for f in contrib/certbot/deploy-hook-staplegate "
			"contrib/acme.sh/install-cert.sh contrib/lego/renew.sh "
			"contrib/dehydrated/hook.sh contrib/uacme/renew.sh; "
			"do sh -n \"$f\" || exit 1; done");
}
END_TEST

Suite *contrib_suite(void)
{
	Suite *s = suite_create("contrib");
	TCase *tc = tcase_create("validators");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, systemd_units_verify);
	tcase_add_test(tc, prometheus_rules_check);
	tcase_add_test(tc, logrotate_config_check);
	tcase_add_test(tc, apache_snippet_check);
	tcase_add_test(tc, haproxy_snippet_check);
	tcase_add_test(tc, shell_examples_parse);
	suite_add_tcase(s, tc);
	return s;
}
