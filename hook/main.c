/* staplegate: refuse to deploy a Must-Staple certificate until every
 * target serves fresh, verified OCSP staples. main() only dispatches. */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../acme/adopt.h"
#include "../acme/pending.h"
#include "../acme/responder_health.h"
#include "../acme/resume.h"
#include "../acme/rollback.h"
#include "../preflight/duration.h"
#include "../preflight/interrupt.h"
#include "../preflight/progress.h"
#include "../preflight/sandbox.h"
#include "cli.h"
#include "output.h"

#ifndef SG_VERSION
#define SG_VERSION "0.1.0"
#endif

static bool status_shown; /* a status line is on the terminal, unended */

/* On a terminal, a series of status lines (settle rounds, --wait checks)
 * shows as one line rewritten in place; anywhere else, or for a phase,
 * every line stays. */
static void print_progress(const char *line, bool status)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDOUT_FILENO);
	if (!tty) {
		printf("staplegate: %s\n", line);
		return;
	}
	if (status_shown)
		fputs("\r\033[K", stdout);
	printf("staplegate: %s%s", line, status ? "" : "\n");
	fflush(stdout);
	status_shown = status;
}

/* stdout and stderr are one stream (lego pipes both into one, a shell
 * may have said 2>&1): then a line written to both shows twice. */
static bool same_stream(void)
{
	struct stat o, e;

	return fstat(1, &o) == 0 && fstat(2, &e) == 0 && o.st_dev == e.st_dev &&
	       o.st_ino == e.st_ino;
}

/* The hook: one line saying what happened and why (also on stderr when
 * it failed, which is where ACME clients look, unless that is the same
 * stream), then the details. Progress lines come as they happen: stdout
 * is line-buffered even into a pipe or file. */
static int run_hook(struct sg_cli *cli, const struct sg_config *cfg)
{
	struct sg_gate_result res;
	int status;

	if (cli->dehydrated_noop)
		return 0; /* dehydrated: not a deploy_cert call */
	setvbuf(stdout, NULL, _IOLBF, 0);
	sg_progress_set(print_progress);
	sg_interrupt_install();
	sg_gate_run(cfg, &cli->gate, &res);
	if (status_shown) /* the last round stays, the summary below it */
		putchar('\n');
	status = res.status;
	printf("staplegate: %s\n", res.summary);
	if (status != 0 && !same_stream())
		fprintf(stderr, "staplegate: %s\n", res.summary);
	for (size_t i = 0; i < res.errors.n; i++)
		fprintf(stderr, "staplegate: %s\n", res.errors.v[i]);
	for (size_t i = 0; i < res.notes.n; i++)
		fprintf(stderr, "staplegate: %s\n", res.notes.v[i]);
	if (res.has_report)
		sg_output_human(&res.rep, stdout);
	if (res.settle)
		sg_output_settle(res.targets, res.settle, res.n, stdout);
	sg_gate_result_free(&res);
	return status;
}

/* After the pending entries: the pre-staged staple files. A file that
 * needed a refresh and did not get one makes resume exit 1. */
static int refresh_staples(const struct sg_config *cfg, int status)
{
	struct sg_strlist msgs = {0};
	int failed = 0;
	sg_result r = sg_resume_staples(cfg, &msgs, &failed);

	if (r.code)
		fprintf(stderr, "staplegate: resume: %s\n", r.reason);
	for (size_t i = 0; i < msgs.n; i++)
		printf("staplegate: %s\n", msgs.v[i]);
	sg_strlist_free(&msgs);
	if (status == 0 && (r.code || failed))
		status = SG_EXIT_REFUSE;
	return status;
}

/* resume: 0 nothing pending or all deployed, 1 some still pending or
 * failed, 2 usage or config error. */
static int run_resume(struct sg_cli *cli, const struct sg_config *cfg)
{
	struct sg_resume_item *items;
	size_t n;
	int status = 0;
	sg_result r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sg_progress_set(print_progress);
	sg_interrupt_install();
	(void)cli;
	r = sg_resume_run(cfg, &items, &n);
	if (status_shown)
		putchar('\n');
	if (r.code) {
		fprintf(stderr, "staplegate: resume: %s\n", r.reason);
		return SG_EXIT_USAGE;
	}
	if (n == 0)
		printf("staplegate: nothing pending\n");
	for (size_t i = 0; i < n; i++) {
		printf("staplegate: %s\n", items[i].summary);
		if (!items[i].deployed && !items[i].superseded)
			status = items[i].status == 2 ? SG_EXIT_USAGE
						      : SG_EXIT_REFUSE;
	}
	free(items);
	return refresh_staples(cfg, status);
}

/* pending: 0 none, 1 some. */
static int run_pending(struct sg_cli *cli, const struct sg_config *cfg)
{
	json_t *list;
	sg_result r = sg_pending_list(cfg->state_dir, &list);
	int status;

	if (r.code) {
		fprintf(stderr, "staplegate: pending: %s\n", r.reason);
		json_decref(list);
		return SG_EXIT_USAGE;
	}
	if (cli->json)
		json_dumpf(list, stdout, JSON_INDENT(2)), fputc('\n', stdout);
	else
		sg_output_pending(list, stdout);
	status = json_array_size(list) ? 1 : 0;
	json_decref(list);
	return status;
}

/* adopt: 0 adopted, 1 not (the reason on stderr), 2 usage. */
static int run_adopt(struct sg_cli *cli, const struct sg_config *cfg)
{
	char msg[1024];
	sg_result r = sg_adopt_run(cfg, &cli->gate, msg, sizeof(msg));

	if (r.code) {
		fprintf(stderr, "staplegate: adopt: %s\n", r.reason);
		return SG_EXIT_REFUSE;
	}
	printf("staplegate: %s\n", msg);
	return 0;
}

static int run_rollback(struct sg_cli *cli, const struct sg_config *cfg)
{
	char note[SG_REASON_MAX];
	sg_result r = sg_rollback_run(cfg, cli->lineage, note, sizeof(note));

	if (r.code) {
		fprintf(stderr, "staplegate: rollback %s: %s\n", cli->lineage,
			r.reason);
		return SG_EXIT_REFUSE;
	}
	printf("staplegate: rolled back %s to its previous version: %s\n",
	       cli->lineage, note);
	return 0;
}

/* The OCSP signer's and the responder's perfdata for target i. */
static void print_responder_perfdata(const struct sg_monitor *m, size_t i)
{
	const char *t = m->targets[i].spec;
	const struct sg_staple *s = m->judged[i].signer;
	const struct sg_rhealth *h = m->health ? &m->health[i] : NULL;

	if (s)
		printf(" '%s signer_seconds_left'=%lds;%ld;%ld", t,
		       (long)(s->signer_not_after - time(NULL)),
		       m->signer_warn_sec, m->signer_crit_sec);
	if (h == NULL || !h->checked)
		return;
	printf(" '%s responder_latency'=%.3fs;%.3f", t, h->latency_ms / 1000.0,
	       SG_RESPONDER_SLOW_MS / 1000.0);
	printf(" '%s responder_http_status'=%ld", t, h->http_status);
	if (h->ocsp_status >= 0)
		printf(" '%s responder_ocsp_status'=%d", t, h->ocsp_status);
	if (h->staple.valid)
		printf(" '%s responder_validity'=%lds;%ld '%s "
		       "responder_next_update_after_not_after'=%d",
		       t, h->validity_sec, SG_FIREFOX_MAX_LIFETIME_SEC, t,
		       h->beyond_not_after);
}

/* A Nagios/Icinga plugin: one line, state first, perfdata after '|'. */
static int run_monitor(struct sg_cli *cli, const struct sg_config *cfg)
{
	struct sg_monitor m;
	sg_result r = sg_monitor_run(cfg, &cli->monitor, &m);
	int state = m.state;

	if (r.code) {
		printf("STAPLEGATE UNKNOWN - %s\n", r.reason);
		sg_monitor_free(&m);
		return SG_NAGIOS_UNKNOWN;
	}
	printf("STAPLEGATE %s - %s |", sg_nagios_name(m.state), m.summary);
	for (size_t i = 0; i < m.n; i++) {
		const char *t = m.targets[i].spec;

		if (m.probes[i].staple.valid)
			printf(" '%s seconds_left'=%lds;%ld;%ld", t,
			       m.probes[i].staple.seconds_left,
			       cli->monitor.warn_sec, cli->monitor.crit_sec);
		printf(" '%s webq96'=%d;;;0;100", t, m.judged[i].webq96);
		print_responder_perfdata(&m, i);
	}
	printf(" 'must_staple_targets'=%zu;;;0;%zu", m.must_staple, m.n);
	putchar('\n');
	for (size_t i = 0; i < m.errors.n; i++)
		fprintf(stderr, "staplegate: monitor: %s\n", m.errors.v[i]);
	for (size_t i = 0; i < m.notes.n; i++)
		fprintf(stderr, "staplegate: monitor: %s\n", m.notes.v[i]);
	sg_monitor_free(&m);
	return state;
}

/* drill: 0 every target survives the outage and never stopped stapling
 * while a valid staple existed, 1 otherwise, 2 usage or config error. */
static int run_drill(struct sg_cli *cli, const struct sg_config *cfg)
{
	struct sg_drill d;
	sg_result r;
	int status;

	sg_interrupt_install();
	r = sg_drill_run(cfg, &cli->drill, &d);
	if (r.code) {
		fprintf(stderr, "staplegate: drill: %s\n", r.reason);
		sg_drill_free(&d);
		return SG_EXIT_USAGE;
	}
	for (size_t i = 0; i < d.n; i++) {
		char left[32] = "none";

		if (d.t[i].survival_sec >= 0)
			sg_duration_format(d.t[i].survival_sec, left,
					   sizeof(left));
		printf("%-24s %-20s survival %-8s %s%s%s%s\n",
		       d.targets[i].spec, d.targets[i].servername, left,
		       d.t[i].survival_ok && !d.t[i].failures ? "ok" : "FAIL",
		       d.t[i].reason[0] ? ": " : "", d.t[i].reason,
		       d.t[i].signer_capped && !d.t[i].reason[0]
			       ? " (until the OCSP signer expires)"
			       : "");
	}
	printf("DRILL %s: %zu targets, %d rounds\n", d.ok ? "PASSED" : "FAILED",
	       d.n, d.rounds);
	status = d.ok ? 0 : SG_EXIT_REFUSE;
	sg_drill_free(&d);
	return status;
}

static int run_check(struct sg_cli *cli, const struct sg_config *cfg)
{
	struct sg_report rep;
	sg_result r;
	int status;

	(void)cfg; /* check and probe take everything from the command line */
	if (cli->cmd->id == SG_CMD_CHECK)
		r = sg_check_run(&cli->check, &rep);
	else
		r = sg_probe_one(&cli->check, &rep);
	if (r.code) {
		fprintf(stderr, "staplegate: %s\n", r.reason);
		return SG_EXIT_USAGE;
	}
	status = rep.allow ? SG_EXIT_ALLOW : SG_EXIT_REFUSE;
	if (cli->json) {
		if (sg_output_json(&rep, stdout) != 0) {
			fprintf(stderr, "staplegate: cannot write the JSON "
					"report\n");
			status = SG_EXIT_REFUSE;
		}
	} else {
		sg_output_human(&rep, stdout);
	}
	sg_report_free(&rep);
	return status;
}

/* The runner of each command of the table in cli.c. */
static int (*const runners[])(struct sg_cli *cli,
			      const struct sg_config *cfg) = {
	[SG_CMD_HOOK] = run_hook,	  [SG_CMD_ADOPT] = run_adopt,
	[SG_CMD_RESUME] = run_resume,	  [SG_CMD_PENDING] = run_pending,
	[SG_CMD_ROLLBACK] = run_rollback, [SG_CMD_DRILL] = run_drill,
	[SG_CMD_MONITOR] = run_monitor,	  [SG_CMD_CHECK] = run_check,
	[SG_CMD_PROBE] = run_check,
};

/* Each command says it cannot read its config in its own words: the
 * monitor as a plugin, rollback naming its lineage. */
static int config_failed(const struct sg_cli *cli, const char *why)
{
	if (cli->cmd->id == SG_CMD_MONITOR) {
		printf("STAPLEGATE UNKNOWN - %s\n", why);
		return SG_NAGIOS_UNKNOWN;
	}
	if (cli->cmd->id == SG_CMD_ROLLBACK) {
		fprintf(stderr, "staplegate: rollback %s: %s\n", cli->lineage,
			why);
		return SG_EXIT_REFUSE;
	}
	fprintf(stderr, "staplegate: %s: %s\n", cli->command, why);
	return cli->cmd->id == SG_CMD_ADOPT ? SG_EXIT_REFUSE : SG_EXIT_USAGE;
}

/* The config is read once, here, and handed down read-only. */
static int run_command(struct sg_cli *cli)
{
	const struct sg_cli_command *c = cli->cmd;
	struct sg_config cfg;
	sg_result r = sg_ok(), prober; /* r: the gate keeps its reason */
	int status;

	if (c->config == SG_CONFIG_NONE) {
		sg_config_defaults(&cfg);
	} else if (c->config == SG_CONFIG_LENIENT) {
		r = sg_config_load_or_defaults(cli->config_path, &cfg);
		cli->gate.config_error = r.code ? r.reason : NULL;
	} else if ((r = sg_config_load(cli->config_path, &cfg)).code) {
		return config_failed(cli, r.reason);
	}
	/* A prober that cannot be set up fails each probe with the reason
	 * (refused for Must-Staple), not the whole command. */
	prober = sg_sandbox_setup(cfg.user, cli->no_sandbox);
	if (prober.code)
		sg_progress("warning: %s", prober.reason);
	status = runners[c->id](cli, &cfg);
	sg_config_free(&cfg);
	return status;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	const struct sg_cli_command *cmd = sg_cli_find(name);
	struct sg_cli cli;
	sg_result r;
	int status;

	/* A peer resetting mid-handshake must be an error, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	/* A parent that ignores SIGCHLD would have the kernel reap our
	 * children and lose the deploy command's exit status. */
	signal(SIGCHLD, SIG_DFL);
	if (name && strcmp(name, "--version") == 0) {
		printf("staplegate %s\n", SG_VERSION);
		return 0;
	}
	if (name &&
	    (strcmp(name, "--help") == 0 || strcmp(name, "help") == 0)) {
		sg_cli_usage(NULL, stdout);
		return 0;
	}
	if (cmd == NULL) {
		fprintf(stderr, "staplegate: %s%s\n",
			name ? "unknown command: " : "missing command",
			name ? name : "");
		sg_cli_usage(NULL, stderr);
		return SG_EXIT_USAGE;
	}
	r = sg_cli_parse(&cli, cmd, argc - 1, argv + 1);
	if (r.code) {
		fprintf(stderr, "staplegate: %s\n", r.reason);
		sg_cli_free(&cli);
		/* The plugin guidelines: usage errors are UNKNOWN. */
		if (cmd->id == SG_CMD_MONITOR) {
			printf("STAPLEGATE UNKNOWN - %s\n", r.reason);
			return SG_NAGIOS_UNKNOWN;
		}
		return SG_EXIT_USAGE;
	}
	if (cli.help) {
		sg_cli_usage(cmd, stdout);
		status = 0;
	} else {
		status = run_command(&cli);
	}
	sg_cli_free(&cli);
	return status;
}
