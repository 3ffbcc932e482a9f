/* Command-line parsing: argv into one options struct, in one place. */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdbool.h>

#include "../acme/gate.h"
#include "../acme/drill.h"
#include "../acme/monitor.h"
#include "../preflight/check.h"

enum sg_exit { SG_EXIT_ALLOW = 0, SG_EXIT_REFUSE = 1, SG_EXIT_USAGE = 2 };

enum sg_cmd {
	SG_CMD_HOOK,
	SG_CMD_ADOPT,
	SG_CMD_RESUME,
	SG_CMD_PENDING,
	SG_CMD_ROLLBACK,
	SG_CMD_DRILL,
	SG_CMD_MONITOR,
	SG_CMD_CHECK,
	SG_CMD_PROBE,
};

enum sg_config_use {
	SG_CONFIG_NONE,	   /* everything from the command line */
	SG_CONFIG_LENIENT, /* the hook: the defaults stand in, an error noted */
	SG_CONFIG_STRICT,  /* no config, no run */
};

/* One row of the command table (cli.c): main dispatches on id. */
struct sg_cli_command {
	const char *name;
	enum sg_cmd id;
	const char *usage;
	unsigned long long opts; /* the options it takes, by bit */
	enum sg_config_use config;
};

struct sg_cli {
	const struct sg_cli_command *cmd;
	const char *command;	 /* cmd->name */
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
	bool no_sandbox; /* probe in this process (debugging only) */
};

/* The command of that name; NULL for one staplegate does not know. */
const struct sg_cli_command *sg_cli_find(const char *name);

/* Parses argv after the command name; the error says why. */
sg_result sg_cli_parse(struct sg_cli *cli, const struct sg_cli_command *cmd,
		       int argc, char **argv);
void sg_cli_free(struct sg_cli *cli);
/* command NULL: every command's usage, then the general notes. */
void sg_cli_usage(const struct sg_cli_command *command, FILE *out);

#endif
