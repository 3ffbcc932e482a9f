#include "scene.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "../preflight/certinfo.h"
#include "testutil.h"

static void path(struct scene *s, char *out, const char *name)
{
	snprintf(out, 600, "%s/%s", s->dir, name);
}

void write_text(const char *file, const char *text, mode_t mode)
{
	FILE *f = fopen(file, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(file, mode);
}

/* deploy.sh records its arguments one per line and marks the reload. */
static void write_scripts(struct scene *s)
{
	char text[1024];

	path(s, s->deploy_sh, "deploy.sh");
	path(s, s->rollback_sh, "rollback.sh");
	snprintf(text, sizeof(text),
		 "#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s/deploy.args'\n"
		 "touch '%s'\n",
		 s->dir, s->deployed);
	write_text(s->deploy_sh, text, 0755);
	snprintf(text, sizeof(text), "#!/bin/sh\ntouch '%s/rolled-back'\n",
		 s->dir);
	write_text(s->rollback_sh, text, 0755);
}

void scene_serve_after_reload(struct scene *s, X509 *cert)
{
	struct fx_staple_opts good = fx_staple_good();

	s->srv.cert2 = cert;
	OPENSSL_free(s->new_staple);
	s->new_staple = fx_staple(cert, T_PKI->ca, T_PKI->ca, T_PKI->ca_key,
				  &good, &s->new_len);
	s->srv.staple2 = s->new_staple;
	s->srv.staple2_len = s->new_len;
}

/* certbot's layout: archive/<lineage>/{cert,chain,fullchain,privkey}N.pem
 * with live/<lineage>/ symlinks to the newest N. The key is not a
 * key: nothing may parse it. */
void scene_renew(struct scene *s, X509 *cert, int n)
{
	static const char *const names[] = {"cert", "chain", "fullchain",
					    "privkey"};
	char archive[600], f[800], link[800], target[300];

	path(s, archive, "archive");
	mkdir(archive, 0755);
	path(s, archive, "archive/shop.example");
	mkdir(archive, 0755);
	for (int i = 0; i < 4; i++) {
		snprintf(f, sizeof(f), "%s/%s%d.pem", archive, names[i], n);
		if (i == 0)
			fx_write_pem(f, cert, NULL, NULL);
		else if (i == 1)
			fx_write_pem(f, T_PKI->ca, NULL, NULL);
		else if (i == 2)
			fx_write_pem(f, cert, T_PKI->ca, NULL);
		else
			write_text(f, "not a key \x01\x7f, never parsed\n",
				   0600);
		snprintf(link, sizeof(link), "%s/%s.pem", s->lineage, names[i]);
		snprintf(target, sizeof(target),
			 "../../archive/shop.example/%s%d.pem", names[i], n);
		unlink(link);
		ck_assert_int_eq(symlink(target, link), 0);
	}
}

static void write_lineage(struct scene *s)
{
	char live[600];

	path(s, live, "live");
	mkdir(live, 0755);
	path(s, s->lineage, "live/shop.example");
	mkdir(s->lineage, 0755);
	scene_renew(s, s->newcert, 1);
}

void scene_begin(struct scene *s, bool must_staple, int resp_status)
{
	struct fx_staple_opts good = fx_staple_good();
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = must_staple};
	char url[64];

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/hook-%d", T_PKI->dir, getpid());
	mkdir(s->dir, 0700);
	s->resp = (struct tresponder){.mode = TR_STATUS,
				      .cert_status = resp_status,
				      .ca = T_PKI->ca,
				      .ca_key = T_PKI->ca_key};
	ck_assert_int_eq(tr_start(&s->resp), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->resp.port);
	o.ocsp_url = url;
	s->newcert = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	s->old_staple = tstaple_good(&s->old_len);
	s->new_staple = fx_staple(s->newcert, T_PKI->ca, T_PKI->ca,
				  T_PKI->ca_key, &good, &s->new_len);
	path(s, s->deployed, "deployed");
	path(s, s->config, "config.json");
	path(s, s->record, "state/scores.jsonl");
	path(s, s->state, "state");
	/* serves the old certificate until the deploy script touches
	 * deployed, then the new one */
	s->srv = tserver_ms(s->old_staple, s->old_len);
	s->srv.swap_file = s->deployed;
	s->srv.cert2 = s->newcert;
	s->srv.staple2 = s->new_staple;
	s->srv.staple2_len = s->new_len;
	write_scripts(s);
	write_lineage(s);
}

void scene_start_server(struct scene *s)
{
	ck_assert_int_eq(ts_start(&s->srv), 0);
}

void scene_end(struct scene *s)
{
	if (s->srv.thread)
		ts_stop(&s->srv);
	tr_stop(&s->resp);
	X509_free(s->newcert);
	OPENSSL_free(s->old_staple);
	OPENSSL_free(s->new_staple);
}

void scene_config(struct scene *s, const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "{\n  \"defaults\": {\n    \"record\": \"%s\",\n"
		 "    \"cafile\": \"%s\",\n    \"retry_delay\": \"0s\",\n"
		 "    \"rollback_command\": [\"%s\"],\n"
		 "    \"state_dir\": \"%s\"%s%s\n  },\n"
		 "  \"domains\": {\n    \"shop.example\": {\n"
		 "      \"targets\": [\"127.0.0.1:%d\"]\n    }\n  }\n}\n",
		 s->record, tpath("root.pem"), s->rollback_sh, s->state,
		 extra ? ",\n    " : "", extra ? extra : "", s->srv.port);
	write_text(s->config, text, 0644);
}

const char *const *certbot_env(const struct scene *s)
{
	static char lineage[700];
	static const char *env[] = {lineage, "RENEWED_DOMAINS=shop.example",
				    NULL};

	snprintf(lineage, sizeof(lineage), "RENEWED_LINEAGE=%s", s->lineage);
	return env;
}

void hook_certbot(struct scene *s, struct cli_run *r, const char *const *args)
{
	cli_env(r, certbot_env(s), args);
}

bool exists(const char *file)
{
	return access(file, F_OK) == 0;
}

size_t slurp_bytes(const char *path, unsigned char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, size, f) : 0;

	if (f)
		fclose(f);
	return n;
}

json_t *read_log(const char *file)
{
	FILE *f = fopen(file, "r");
	json_t *lines = json_array();
	char line[1 << 16];

	ck_assert_msg(f != NULL, "no score log at %s", file);
	while (fgets(line, sizeof(line), f)) {
		json_error_t e;
		json_t *rec = json_loads(line, 0, &e);

		ck_assert_msg(json_is_object(rec), "bad line: %s", line);
		json_array_append_new(lines, rec);
	}
	fclose(f);
	return lines;
}

json_t *log_settle(json_t *log)
{
	return json_array_get(json_object_get(json_array_get(log, 1), "settle"),
			      0);
}

const char *field(json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

void scene_state_path(const struct scene *s, const char *rel, char *out,
		      size_t size)
{
	snprintf(out, size, "%s/%s", s->state, rel);
}

void pem_file_sha256(const char *path, char out[65])
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	out[0] = '\0';
	if (x)
		sg_cert_sha256(x, out);
	X509_free(x);
	if (f)
		fclose(f);
}

void scene_signal_during_deploy(int sig, int poll_rounds)
{
	struct scene s;
	struct cli_run r;
	char script[700], text[1024], started[700], got[700], want[64];
	const char *args[] = {"hook", "--config", NULL, "--", script, NULL};
	json_t *log;
	pid_t pid;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(script, sizeof(script), "%s/slow-deploy.sh", s.dir);
	snprintf(started, sizeof(started), "%s/started", s.dir);
	snprintf(got, sizeof(got), "%s/got-term", s.dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\ntrap 'touch %s; exit 143' TERM\ntouch %s\n"
		 "sleep 30 & wait\n",
		 got, started);
	write_text(script, text, 0755);
	args[2] = s.config;
	pid = cli_spawn(certbot_env(&s), args);
	for (int i = 0; i < poll_rounds && !exists(started); i++)
		usleep(25000);
	ck_assert(exists(started));
	kill(pid, sig);
	cli_collect(&r, pid);
	ck_assert_msg(r.status == 1, "exit %d %s", r.status, r.err);
	ck_assert(exists(got));
	snprintf(want, sizeof(want), "interrupted by signal %d", sig);
	assert_contains(r.err, want);
	log = read_log(s.record);
	ck_assert_int_eq(json_array_size(log), 2);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"),
			 "interrupted");
	json_decref(log);
	scene_end(&s);
}
