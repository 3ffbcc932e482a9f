/* staplegate: refuse to deploy a Must-Staple certificate until every
 * target serves fresh, verified OCSP staples. main() only dispatches. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../preflight/interrupt.h"
#include "cli.h"
#include "output.h"

#ifndef SG_VERSION
#define SG_VERSION "0.1.0"
#endif

/* The hook: one line saying what happened and why (also on stderr when
 * it failed, which is where ACME clients look), then the details. */
static int run_hook(struct sg_cli *cli)
{
	struct sg_gate_result res;
	int status;

	sg_interrupt_install();
	sg_gate_run(&cli->gate, &res);
	status = res.status;
	printf("staplegate: %s\n", res.summary);
	if (status != 0)
		fprintf(stderr, "staplegate: %s\n", res.summary);
	for (size_t i = 0; i < res.errors.n; i++)
		fprintf(stderr, "staplegate: %s\n", res.errors.v[i]);
	if (res.has_report)
		sg_output_human(&res.rep, stdout);
	if (res.settle)
		sg_output_settle(res.targets, res.settle, res.n, stdout);
	sg_gate_result_free(&res);
	return status;
}

static int run(struct sg_cli *cli)
{
	struct sg_report rep;
	sg_result r;
	int status;

	if (strcmp(cli->command, "check") == 0)
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

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	struct sg_cli cli;
	sg_result r;
	int status;

	/* A peer resetting mid-handshake must be an error, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	if (cmd && strcmp(cmd, "--version") == 0) {
		printf("staplegate %s\n", SG_VERSION);
		return 0;
	}
	if (cmd && (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)) {
		sg_cli_usage(NULL, stdout);
		return 0;
	}
	if (cmd == NULL || (strcmp(cmd, "check") != 0 &&
			    strcmp(cmd, "probe") != 0 && strcmp(cmd, "hook") != 0)) {
		fprintf(stderr, "staplegate: %s%s\n",
			cmd ? "unknown command: " : "missing command",
			cmd ? cmd : "");
		sg_cli_usage(NULL, stderr);
		return SG_EXIT_USAGE;
	}
	r = sg_cli_parse(&cli, cmd, argc - 1, argv + 1);
	if (r.code) {
		fprintf(stderr, "staplegate: %s\n", r.reason);
		sg_cli_free(&cli);
		return SG_EXIT_USAGE;
	}
	if (cli.help) {
		sg_cli_usage(cmd, stdout);
		status = 0;
	} else if (strcmp(cmd, "hook") == 0) {
		status = run_hook(&cli);
	} else {
		status = run(&cli);
	}
	sg_cli_free(&cli);
	return status;
}
