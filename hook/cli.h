/* Command-line parsing: argv into one options struct, in one place. */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdbool.h>

#include "../acme/gate.h"
#include "../acme/drill.h"
#include "../acme/monitor.h"
#include "../preflight/check.h"

enum sg_exit { SG_EXIT_ALLOW = 0, SG_EXIT_REFUSE = 1, SG_EXIT_USAGE = 2 };

struct sg_cli {
	const char *command;	 /* one of the known commands */
	const char *config_path; /* --config; NULL: the default */
	struct sg_check_opts check;
	struct sg_gate_opts gate;
	struct sg_monitor_opts monitor;
	struct sg_drill_opts drill;
	struct sg_target *targets;
	size_t ntargets;
	const char *lineage; /* rollback */
	/* hook: a dehydrated hook call other than deploy_cert, a no-op */
	const char *dehydrated_noop;
	bool json;
	bool help;
};

/* true for the subcommands staplegate knows. */
bool sg_cli_known(const char *command);

/* Parses argv after the subcommand name; the error says why. */
sg_result sg_cli_parse(struct sg_cli *cli, const char *command, int argc,
		       char **argv);
void sg_cli_free(struct sg_cli *cli);
void sg_cli_usage(const char *command, FILE *out);

#endif
