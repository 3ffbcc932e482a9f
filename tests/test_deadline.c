/* The deadline holds in every phase, and signals never leave a half-done
 * run: names that never resolve, a responder that never resolves or
 * answers late, slow handshakes, more black-holed targets than the
 * open-file limit allows at once, a deploy command that leaves processes
 * behind, SIGHUP. Each case times the whole hook run against --deadline
 * + 2 s (the grace between SIGTERM and SIGKILL). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ocsp.h>

#include "../preflight/clock.h"

#include "netns.h"
#include "scene.h"
#include "servers.h"
#include "testutil.h"

#define GRACE_MS 2000 /* SIGTERM to SIGKILL: the bound's "+ 2 s" */

/* scene_config with the targets of shop.example given as JSON array
 * items, and extra spliced into "defaults". */
static void config_targets(struct scene *s, const char *items,
			   const char *extra)
{
	size_t size = strlen(items) + 4096;
	char *text = malloc(size);

	ck_assert_ptr_nonnull(text);
	snprintf(text, size,
		 "{\n  \"defaults\": {\n    \"record\": \"%s\",\n"
		 "    \"cafile\": \"%s\",\n    \"retry_delay\": \"0s\",\n"
		 "    \"state_dir\": \"%s\"%s%s\n  },\n"
		 "  \"domains\": {\n    \"shop.example\": {\n"
		 "      \"targets\": [%s]\n    }\n  }\n}\n",
		 s->record, tpath("root.pem"), s->state, extra ? ",\n    " : "",
		 extra ? extra : "", items);
	write_text(s->config, text, 0644);
	free(text);
}

/* Runs the hook with --deadline and returns how long it took. */
static long long timed_hook(struct scene *s, struct cli_run *r,
			    const char *deadline, const char *const *tail)
{
	const char *args[16] = {"hook", "--config", s->config, "--deadline",
				deadline};
	int n = 5;
	long long t0 = sg_now_ms();

	for (int i = 0; tail && tail[i] && n < 15; i++)
		args[n++] = tail[i];
	args[n] = NULL;
	hook_certbot(s, r, args);
	return sg_now_ms() - t0;
}

/* The score log's lines (a thousand targets make lines longer than
 * read_log takes). */
static json_t *log_lines(const char *file)
{
	FILE *f = fopen(file, "r");
	json_t *lines = json_array();
	char *line = NULL;
	size_t cap = 0;

	ck_assert_msg(f != NULL, "no score log at %s", file);
	while (getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, 0, NULL);

		ck_assert(json_is_object(rec));
		json_array_append_new(lines, rec);
	}
	free(line);
	fclose(f);
	return lines;
}

/* The outcome line: refused, and the phase the budget ran out in. */
static void assert_refused_in(const struct scene *s, const char *phase)
{
	json_t *log = log_lines(s->record), *out;

	ck_assert_int_eq(json_array_size(log), 2);
	out = json_array_get(log, 1);
	ck_assert_str_eq(field(out, "action"), "refused");
	ck_assert_str_eq(field(out, "deadline_phase"), phase);
	json_decref(log);
}

/* The Must-Staple hook with a --deadline of sec seconds is refused within
 * it (and the grace), its error saying says (unless NULL), and the record
 * names the phase the deadline stopped. */
static void refused_in_time(struct scene *s, int sec, const char *says,
			    const char *phase)
{
	struct cli_run r;
	char deadline[16];
	long long took;

	snprintf(deadline, sizeof(deadline), "%ds", sec);
	took = timed_hook(s, &r, deadline, NULL);
	ck_assert_msg(took <= sec * 1000LL + GRACE_MS, "took %lld ms", took);
	ck_assert_int_eq(r.status, 1);
	if (says)
		assert_contains(r.err, says);
	assert_refused_in(s, phase);
}

/* Six target names nobody answers for: asked at once, and given up at
 * the checks' share of the budget, not one resolver timeout each. */
START_TEST(unresolvable_target_names_share_the_budget)
{
	struct scene s;

	if (!netns_private(__func__))
		return;
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	ck_assert(netns_blackhole_dns(s.dir, "timeout:2 attempts:1"));
	config_targets(&s,
		       "\"a.blackhole.test\", \"b.blackhole.test\", "
		       "\"c.blackhole.test\", \"d.blackhole.test\", "
		       "\"e.blackhole.test\", \"f.blackhole.test\"",
		       NULL);
	refused_in_time(&s, 5, "cannot resolve a.blackhole.test",
			"name resolution");
	scene_end(&s);
}
END_TEST

/* The same names for a certificate without Must-Staple: the budget runs
 * out while they are scored, and the certificate is deployed all the
 * same, in time, the outcome naming the phase. */
START_TEST(plain_certificate_deploys_when_names_never_resolve)
{
	struct scene s;
	struct cli_run r;
	const char *tail[] = {"--", NULL, NULL};
	json_t *log, *out;
	long long took;

	if (!netns_private(__func__))
		return;
	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	ck_assert(netns_blackhole_dns(s.dir, "timeout:5 attempts:2"));
	config_targets(&s,
		       "\"a.blackhole.test\", \"b.blackhole.test\", "
		       "\"c.blackhole.test\", \"d.blackhole.test\"",
		       NULL);
	tail[1] = s.deploy_sh;
	took = timed_hook(&s, &r, "7s", tail);
	ck_assert_msg(took <= 7000 + GRACE_MS, "took %lld ms", took);
	ck_assert_msg(r.status == 0, "exit %d %s", r.status, r.err);
	ck_assert(exists(s.deployed));
	log = log_lines(s.record);
	out = json_array_get(log, 1);
	ck_assert_str_eq(field(out, "action"), "deployed");
	ck_assert_str_eq(field(out, "deadline_phase"), "name resolution");
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* The OCSP URL names a host nobody answers for: libcurl never looks it
 * up (the address comes from the bounded resolver), so its cleanup
 * cannot wait for a lookup that never ends. */
START_TEST(unresolvable_responder_host_is_bounded)
{
	struct scene s;
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = true};
	char url[80], item[64];
	X509 *cert;

	if (!netns_private(__func__))
		return;
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	ck_assert(netns_blackhole_dns(s.dir, "timeout:5 attempts:2"));
	snprintf(url, sizeof(url), "http://ocsp.blackhole.test:%d/",
		 s.resp.port);
	o.ocsp_url = url;
	cert = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	scene_renew(&s, cert, 2);
	X509_free(cert);
	scene_start_server(&s);
	snprintf(item, sizeof(item), "\"127.0.0.1:%d\"", s.srv.port);
	config_targets(&s, item, NULL);
	refused_in_time(&s, 5, "cannot resolve ocsp.blackhole.test",
			"responder readiness");
	scene_end(&s);
}
END_TEST

/* lego --no-bundle: a Must-Staple leaf alone, whose AIA caIssuers host
 * never resolves. Written to s->dir/leaf.crt; env (static storage)
 * names it for the hook. */
static const char *const *leaf_only_behind_blackhole_aia(struct scene *s)
{
	static char e1[800], e2[800];
	static const char *env[] = {e1, e2, "LEGO_CERT_DOMAIN=shop.example",
				    NULL};
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = true,
				 .ca_issuers_url =
					 "http://ca.blackhole.test/ca.der"};
	char ocsp[64], cert[700], key[700], item[64];
	X509 *leaf;

	snprintf(ocsp, sizeof(ocsp), "http://127.0.0.1:%d/", s->resp.port);
	o.ocsp_url = ocsp;
	leaf = fx_issue(&o, T_PKI->leaf_key, T_PKI->ca, T_PKI->ca_key);
	snprintf(cert, sizeof(cert), "%s/leaf.crt", s->dir);
	snprintf(key, sizeof(key), "%s/leaf.key", s->dir);
	fx_write_pem(cert, leaf, NULL, NULL);
	X509_free(leaf);
	write_text(key, "lego key\n", 0600);
	snprintf(e1, sizeof(e1), "LEGO_CERT_PATH=%s", cert);
	snprintf(e2, sizeof(e2), "LEGO_CERT_KEY_PATH=%s", key);
	snprintf(item, sizeof(item), "\"127.0.0.1:%d\"", s->srv.port);
	config_targets(s, item, "\"timeout\": \"10s\"");
	return env;
}

/* Its issuer is fetched within the deadline, not at the pace of the
 * system resolver, and the certificate refused for want of it. */
START_TEST(unresolvable_aia_issuer_host_is_bounded)
{
	struct scene s;
	struct cli_run r;
	const char *const *env;
	const char *args[] = {"hook", "--config", NULL, "--deadline",
			      "5s",   "--",	  NULL, NULL};
	long long t0, took;

	if (!netns_private(__func__))
		return;
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	ck_assert(netns_blackhole_dns(s.dir, "timeout:5 attempts:2"));
	scene_start_server(&s);
	env = leaf_only_behind_blackhole_aia(&s);
	args[2] = s.config;
	args[6] = s.deploy_sh;
	t0 = sg_now_ms();
	cli_env(&r, env, args);
	took = sg_now_ms() - t0;
	ck_assert_msg(took <= 5000 + GRACE_MS, "took %lld ms", took);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	assert_contains(r.err, "ca.blackhole.test");
	ck_assert(!exists(s.deployed));
	scene_end(&s);
}
END_TEST

/* A responder answering 500 late, to the POST and then to the GET: both
 * come out of one budget. */
START_TEST(late_responder_500_post_and_get_share_the_budget)
{
	struct scene s;
	char item[64];

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.resp.mode = TR_HTTP500;
	s.resp.delay_ms = 8500;
	scene_start_server(&s);
	snprintf(item, sizeof(item), "\"127.0.0.1:%d\"", s.srv.port);
	config_targets(&s, item, "\"timeout\": \"10s\"");
	refused_in_time(&s, 14, "responder not ready", "responder readiness");
	scene_end(&s);
}
END_TEST

/* Each handshake is slow and brings no staple: the attempts stop at the
 * checks' share of the budget. */
START_TEST(slow_handshakes_without_staple_stop_at_the_deadline)
{
	struct scene s;
	char item[64];

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.srv.staple = NULL;
	s.srv.delay_ms = 5500;
	scene_start_server(&s);
	snprintf(item, sizeof(item), "\"127.0.0.1:%d\"", s.srv.port);
	config_targets(&s, item, "\"timeout\": \"10s\", \"attempts\": 3");
	refused_in_time(&s, 12, NULL, "pre-flight");
	scene_end(&s);
}
END_TEST

/* A listener whose accept queue is full: Linux drops further SYNs, so a
 * connection to it hangs in SYN-SENT. Bound to every address of the
 * private namespace, so that 127.0.X.Y are a thousand distinct targets. */
static int black_hole(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 0), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 2; i++) { /* fill the queue, never accepted */
		int c = socket(AF_INET,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		connect(c, (struct sockaddr *)&a, sizeof(a));
	}
	usleep(100 * 1000);
	return fd;
}

/* 1,000 black-holed targets with 128 open files: the targets wait their
 * turn, but no turn starts, and none lasts, past the budget. */
START_TEST(black_holed_targets_under_a_low_file_limit_are_bounded)
{
	struct scene s;
	struct rlimit rl = {128, 128};
	size_t size = 1000 * 32;
	char *items = malloc(size);
	int port, hole;
	size_t used = 0;

	if (!netns_private(__func__))
		return;
	ck_assert_ptr_nonnull(items);
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	hole = black_hole(&port);
	for (int i = 0; i < 1000; i++)
		used += (size_t)snprintf(items + used, size - used,
					 "%s\"127.0.%d.%d:%d\"", i ? ", " : "",
					 i / 250, i % 250 + 1, port);
	config_targets(&s, items, "\"timeout\": \"3s\"");
	free(items);
	/* the hook inherits the limit; it cannot raise a hard one */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	refused_in_time(&s, 10, NULL, "pre-flight");
	close(hole);
	scene_end(&s);
}
END_TEST

/* Gone, or a zombie waiting for init to reap it. */
static bool process_gone(pid_t pid)
{
	char path[64], stat[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	(void)!fgets(stat, sizeof(stat), f);
	fclose(f);
	return strstr(stat, ") Z ") != NULL;
}

static pid_t read_pid(const char *file)
{
	FILE *f = fopen(file, "r");
	int pid = 0;

	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

/* A deploy command that starts a helper and hangs: at the deadline the
 * whole process group is ended, the helper with it. */
START_TEST(deadline_ends_the_deploy_commands_process_group)
{
	struct scene s;
	struct cli_run r;
	char script[700], text[1024], pidfile[700];
	const char *tail[] = {"--", script, NULL};
	long long took;
	pid_t helper;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(script, sizeof(script), "%s/hang.sh", s.dir);
	snprintf(pidfile, sizeof(pidfile), "%s/helper.pid", s.dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\nsleep 60 &\necho $! > '%s'\nwait\n", pidfile);
	write_text(script, text, 0755);
	took = timed_hook(&s, &r, "7s", tail);
	helper = read_pid(pidfile);
	ck_assert_int_gt(helper, 0);
	usleep(200 * 1000); /* SIGKILL is delivered at once, reaping not */
	if (!process_gone(helper)) {
		kill(helper, SIGKILL);
		ck_abort_msg("the deploy command's helper survived");
	}
	ck_assert_msg(took <= 7000 + GRACE_MS, "took %lld ms", took);
	ck_assert_int_eq(r.status, 1);
	scene_end(&s);
}
END_TEST

/* SIGHUP (a closed terminal, a stopped session) mid-deploy: handled as
 * SIGTERM, the deploy command is ended and the outcome line written. */
START_TEST(sighup_during_deploy_ends_it_and_is_recorded)
{
	scene_signal_during_deploy(SIGHUP, 400);
}
END_TEST

/* A deploy command that leaves a daemon holding its stdout: the ACME
 * client reading our output sees it end when we exit. */
START_TEST(daemon_holding_stdout_does_not_hold_the_run)
{
	struct scene s;
	char script[700], text[1024], pidfile[700], buf[4096];
	const char *args[] = {"hook", "--config", NULL,	  "--deadline",
			      "7s",   "--",	  script, NULL};
	long long t0 = sg_now_ms(), took = -1;
	int out, st;
	pid_t pid, daemon;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(script, sizeof(script), "%s/start-daemon.sh", s.dir);
	snprintf(pidfile, sizeof(pidfile), "%s/daemon.pid", s.dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\necho reloading\nsleep 30 &\necho $! > '%s'\n"
		 "exit 0\n",
		 pidfile);
	write_text(script, text, 0755);
	args[2] = s.config;
	pid = cli_spawn_piped(certbot_env(&s), args, &out);
	ck_assert_int_gt(pid, 0);
	/* read as certbot does: until end of file */
	for (;;) {
		struct pollfd p = {out, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 20000) <= 0)
			break;
		n = read(out, buf, sizeof(buf));
		if (n <= 0) {
			took = sg_now_ms() - t0;
			break;
		}
	}
	close(out);
	waitpid(pid, &st, 0);
	daemon = read_pid(pidfile);
	if (daemon > 0)
		kill(daemon, SIGKILL);
	ck_assert_msg(took >= 0 && took <= 7000 + GRACE_MS,
		      "output ended after %lld ms", took);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	scene_end(&s);
}
END_TEST

/* Waits for the hook at most ms; kills it when it takes longer. */
static bool collect_within(struct cli_run *r, pid_t pid, long ms)
{
	int st;

	for (long waited = 0; waited < ms; waited += 20) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			/* cli_collect reaps it: hand the status back */
			r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			return true;
		}
		usleep(20 * 1000);
	}
	kill(pid, SIGKILL);
	cli_collect(r, pid);
	return false;
}

/* SIGTERM while the target names are being looked up: the lookup is
 * given up at once, and the outcome line is still written. */
START_TEST(sigterm_during_name_resolution_is_recorded)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, NULL};
	json_t *log;
	pid_t pid;

	if (!netns_private(__func__))
		return;
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	ck_assert(netns_blackhole_dns(s.dir, "timeout:5 attempts:2"));
	config_targets(&s, "\"a.blackhole.test\"", NULL);
	args[2] = s.config;
	pid = cli_spawn(certbot_env(&s), args);
	ck_assert_msg(netns_dns_asked(20000), "no lookup started");
	kill(pid, SIGTERM);
	ck_assert_msg(collect_within(&r, pid, 3000),
		      "still running 3 s after SIGTERM");
	ck_assert_int_eq(r.status, 1);
	log = log_lines(s.record);
	ck_assert_int_eq(json_array_size(log), 2);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "refused");
	assert_contains(field(json_array_get(log, 1), "reason"),
			"interrupted by signal 15");
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* SIGTERM while the OCSP responder takes its time: the request is given
 * up at once, and the outcome line is still written. */
START_TEST(sigterm_while_asking_the_responder_is_recorded)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, NULL};
	json_t *log;
	pid_t pid;

	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	s.resp.delay_ms = 6000;
	scene_start_server(&s);
	scene_config(&s, "\"timeout\": \"10s\"");
	args[2] = s.config;
	pid = cli_spawn(certbot_env(&s), args);
	for (int i = 0; i < 1000 && s.resp.requests == 0; i++)
		usleep(20 * 1000);
	ck_assert_int_ge(s.resp.requests, 1);
	kill(pid, SIGTERM);
	ck_assert_msg(collect_within(&r, pid, 3000),
		      "still running 3 s after SIGTERM");
	ck_assert_int_eq(r.status, 1);
	log = log_lines(s.record);
	ck_assert_int_eq(json_array_size(log), 2);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "refused");
	assert_contains(field(json_array_get(log, 1), "reason"),
			"interrupted by signal 15");
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* SIGTERM while the issuer is fetched from the AIA URL: given up at
 * once, and the outcome line is still written. */
START_TEST(sigterm_during_aia_issuer_fetch_is_recorded)
{
	struct scene s;
	struct cli_run r;
	const char *args[] = {"hook", "--config", NULL, "--", NULL, NULL};
	const char *const *env;
	json_t *log;
	pid_t pid;

	if (!netns_private(__func__))
		return;
	scene_begin(&s, true, V_OCSP_CERTSTATUS_GOOD);
	ck_assert(netns_blackhole_dns(s.dir, "timeout:5 attempts:2"));
	scene_start_server(&s);
	env = leaf_only_behind_blackhole_aia(&s);
	args[2] = s.config;
	args[4] = s.deploy_sh;
	pid = cli_spawn(env, args);
	ck_assert_msg(netns_dns_asked(20000), "no lookup started");
	kill(pid, SIGTERM);
	ck_assert_msg(collect_within(&r, pid, 3000),
		      "still running 3 s after SIGTERM");
	ck_assert_int_eq(r.status, 1);
	log = log_lines(s.record);
	ck_assert_int_eq(json_array_size(log), 2);
	ck_assert_str_eq(field(json_array_get(log, 1), "action"), "refused");
	assert_contains(field(json_array_get(log, 1), "reason"),
			"interrupted by signal 15");
	json_decref(log);
	scene_end(&s);
}
END_TEST

/* A FIFO where the config should be: refused as not a file at once,
 * instead of an open that waits for a writer forever. */
START_TEST(config_fifo_does_not_block)
{
	struct scene s;
	struct cli_run r;
	char fifo[700];
	const char *args[] = {"hook", "--config", fifo, "--deadline",
			      "7s",   "--",	  NULL, NULL};

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	snprintf(fifo, sizeof(fifo), "%s/config.fifo", s.dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	args[6] = s.deploy_sh;
	ck_assert_msg(collect_within(&r, cli_spawn(certbot_env(&s), args),
				     7000 + GRACE_MS),
		      "the hook blocked on the config FIFO");
	ck_assert_int_eq(r.status, 2);
	ck_assert(exists(s.deployed)); /* not Must-Staple: deployed */
	scene_end(&s);
}
END_TEST

/* Another process holds the score log's lock and never lets go (stopped,
 * or stuck on a dead disk): the records' wait for it ends with the
 * budget; a plain certificate is still deployed, the log error reported
 * (exit 2). */
START_TEST(score_log_lock_held_forever_does_not_hold_the_run)
{
	struct scene s;
	struct cli_run r;
	char state[700];
	const char *args[] = {"hook", "--config", NULL, "--deadline",
			      "5s",   "--",	  NULL, NULL};
	int fd;

	scene_begin(&s, false, V_OCSP_CERTSTATUS_GOOD);
	scene_start_server(&s);
	scene_config(&s, NULL);
	snprintf(state, sizeof(state), "%s/state", s.dir);
	mkdir(state, 0750);
	fd = open(s.record, O_WRONLY | O_CREAT | O_APPEND, 0640);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	args[2] = s.config;
	args[6] = s.deploy_sh;
	ck_assert_msg(collect_within(&r, cli_spawn(certbot_env(&s), args),
				     5000 + GRACE_MS),
		      "the hook waited for the lock past its deadline");
	ck_assert_int_eq(r.status, 2);
	ck_assert(exists(s.deployed));
	close(fd);
	scene_end(&s);
}
END_TEST

/* One case per scenario, so that each can be run and timed alone
 * (CK_RUN_CASE). */
static void add(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, test);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
}

Suite *deadline_suite(void)
{
	Suite *s = suite_create("deadline");

	add(s, "names", unresolvable_target_names_share_the_budget);
	add(s, "plain_names",
	    plain_certificate_deploys_when_names_never_resolve);
	add(s, "responder_name", unresolvable_responder_host_is_bounded);
	add(s, "aia_name", unresolvable_aia_issuer_host_is_bounded);
	add(s, "responder_500",
	    late_responder_500_post_and_get_share_the_budget);
	add(s, "slow_handshakes",
	    slow_handshakes_without_staple_stop_at_the_deadline);
	add(s, "black_holes",
	    black_holed_targets_under_a_low_file_limit_are_bounded);
	add(s, "process_group",
	    deadline_ends_the_deploy_commands_process_group);
	add(s, "sighup", sighup_during_deploy_ends_it_and_is_recorded);
	add(s, "daemon_stdout", daemon_holding_stdout_does_not_hold_the_run);
	add(s, "sigterm_resolving", sigterm_during_name_resolution_is_recorded);
	add(s, "sigterm_responder",
	    sigterm_while_asking_the_responder_is_recorded);
	add(s, "sigterm_aia", sigterm_during_aia_issuer_fetch_is_recorded);
	add(s, "config_fifo", config_fifo_does_not_block);
	add(s, "log_lock", score_log_lock_held_forever_does_not_hold_the_run);
	return s;
}
