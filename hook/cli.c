#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../preflight/duration.h"
#include "cli.h"

/* Every option: its name, its type, where its value goes in struct
 * sg_cli, and its bounds. One typed handler per type (as curl's
 * tool_getparam.c): parsing, validation and messages come from here. */
enum opt_type {
	T_STRING,  /* const char *, as given */
	T_FLAG,	   /* bool, set */
	T_SEC,	   /* long seconds, a DURATION */
	T_MS,	   /* long milliseconds, a DURATION */
	T_COUNT,   /* int, 1 to max */
	T_TARGET,  /* one more target */
	T_TARGETS, /* targets from a file */
};

enum {
	OPT_CERT,
	OPT_CHAIN,
	OPT_CAFILE,
	OPT_TARGET,
	OPT_SERVERNAME,
	OPT_MIN_REMAINING,
	OPT_SKEW,
	OPT_MAX_AGE,
	OPT_TIMEOUT,
	OPT_ATTEMPTS,
	OPT_RETRY_DELAY,
	OPT_PARALLEL,
	OPT_JSON,
	OPT_HELP,
	OPT_CONFIG,
	OPT_DRY_RUN,
	OPT_DEADLINE,
	OPT_RECORD,
	OPT_TARGETS_FILE,
	OPT_STAPLE_OUT,
	OPT_WAIT,
	OPT_KEY,
	OPT_PROM,
	OPT_WARN,
	OPT_CRIT,
	OPT_OUTAGE,
	OPT_WATCH,
	OPT_INTERVAL,
	OPT_LINEAGE,
	OPT_CONFIRM,
	OPT_SIGNER_WARN,
	OPT_SIGNER_CRIT,
	OPT_RESPONDERS,
	OPT_NO_SANDBOX,
	OPT_COUNT
};

#define AT(member) offsetof(struct sg_cli, member)

static const struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	long min, max;	   /* T_SEC, T_MS in seconds, T_COUNT; 0: none */
	const char *range; /* why a value out of [min, max] is refused */
} opts[OPT_COUNT] = {
	[OPT_CERT] = {"cert", T_STRING, AT(check.cert_path)},
	[OPT_CHAIN] = {"chain", T_STRING, AT(check.chain_path)},
	[OPT_CAFILE] = {"CAfile", T_STRING, AT(check.cafile)},
	[OPT_TARGET] = {"target", T_TARGET, 0},
	[OPT_SERVERNAME] = {"servername", T_STRING, AT(check.probe.servername)},
	[OPT_MIN_REMAINING] = {"min-remaining", T_SEC,
			       AT(check.probe.policy.min_remaining_sec)},
	[OPT_SKEW] = {"skew", T_SEC, AT(check.probe.policy.skew_sec)},
	[OPT_MAX_AGE] = {"max-age", T_SEC, AT(check.probe.policy.max_age_sec)},
	[OPT_TIMEOUT] = {"timeout", T_MS, AT(check.probe.timeout_ms), 1, 3600,
			 "must be 1s to 1h"},
	[OPT_ATTEMPTS] = {"attempts", T_COUNT, AT(check.probe.attempts), 1,
			  100},
	[OPT_RETRY_DELAY] = {"retry-delay", T_MS,
			     AT(check.probe.retry_delay_ms)},
	[OPT_PARALLEL] = {"parallel", T_COUNT, AT(check.probe.parallel), 1,
			  65536},
	[OPT_JSON] = {"json", T_FLAG, AT(json)},
	[OPT_HELP] = {"help", T_FLAG, AT(help)},
	[OPT_CONFIG] = {"config", T_STRING, AT(config_path)},
	[OPT_DRY_RUN] = {"dry-run", T_FLAG, AT(gate.dry_run)},
	[OPT_DEADLINE] = {"deadline", T_SEC, AT(gate.deadline_sec), 5, 0,
			  "at least 5s"},
	[OPT_RECORD] = {"record", T_STRING, AT(gate.record_path)},
	[OPT_TARGETS_FILE] = {"targets-file", T_TARGETS, 0},
	[OPT_STAPLE_OUT] = {"staple-out", T_STRING, AT(gate.staple_out)},
	[OPT_WAIT] = {"wait", T_SEC, AT(gate.wait_sec)},
	[OPT_KEY] = {"key", T_STRING, AT(gate.key)},
	[OPT_PROM] = {"prom", T_STRING, AT(monitor.prom_path)},
	[OPT_WARN] = {"warn", T_SEC, AT(monitor.warn_sec)},
	[OPT_CRIT] = {"crit", T_SEC, AT(monitor.crit_sec)},
	[OPT_OUTAGE] = {"outage", T_SEC, AT(drill.outage_sec)},
	[OPT_WATCH] = {"watch", T_SEC, AT(drill.watch_sec)},
	[OPT_INTERVAL] = {"interval", T_MS, AT(drill.interval_ms), 1, 0,
			  "at least 1s"},
	[OPT_LINEAGE] = {"lineage", T_STRING, AT(gate.lineage)},
	[OPT_CONFIRM] = {"confirm", T_COUNT, AT(check.probe.confirm), 1,
			 SG_CONFIRM_MAX},
	[OPT_SIGNER_WARN] = {"signer-warn", T_SEC, AT(monitor.signer_warn_sec)},
	[OPT_SIGNER_CRIT] = {"signer-crit", T_SEC, AT(monitor.signer_crit_sec)},
	[OPT_RESPONDERS] = {"responders", T_FLAG, AT(monitor.responders)},
	[OPT_NO_SANDBOX] = {"no-sandbox", T_FLAG, AT(no_sandbox)},
};

#define BIT(o) (1ULL << (o))

/* Every command: its usage, the options it takes (anything else is a
 * usage error) and how it reads the config; in the order --help lists
 * them. main dispatches on the id. */
static const struct sg_cli_command commands[] = {
	{"hook", SG_CMD_HOOK,
	 "usage: staplegate hook [--config FILE] [--target TARGET ...] "
	 "[--dry-run] [--deadline DURATION]\n"
	 "         [--cert CERT.pem] [--chain CHAIN.pem] [--CAfile ROOTS.pem] "
	 "[--record SCORES.jsonl]\n"
	 "         [--key KEY.pem] [--lineage NAME] [--staple-out FILE] "
	 "[--wait DURATION]\n"
	 "         [-- DEPLOY COMMAND ...]\n",
	 BIT(OPT_CONFIG) | BIT(OPT_TARGET) | BIT(OPT_TARGETS_FILE) |
		 BIT(OPT_DRY_RUN) | BIT(OPT_DEADLINE) | BIT(OPT_CERT) |
		 BIT(OPT_CHAIN) | BIT(OPT_KEY) | BIT(OPT_CAFILE) |
		 BIT(OPT_RECORD) | BIT(OPT_STAPLE_OUT) | BIT(OPT_WAIT) |
		 BIT(OPT_LINEAGE),
	 SG_CONFIG_LENIENT},
	{"adopt", SG_CMD_ADOPT,
	 "usage: staplegate adopt [--config FILE] [--cert CERT.pem --key "
	 "KEY.pem] [--chain CHAIN.pem]\n"
	 "         [--CAfile ROOTS.pem] [--lineage NAME] [--staple-out FILE]\n",
	 BIT(OPT_CONFIG) | BIT(OPT_CERT) | BIT(OPT_CHAIN) | BIT(OPT_KEY) |
		 BIT(OPT_CAFILE) | BIT(OPT_LINEAGE) | BIT(OPT_STAPLE_OUT),
	 SG_CONFIG_STRICT},
	{"resume", SG_CMD_RESUME, "usage: staplegate resume [--config FILE]\n",
	 BIT(OPT_CONFIG), SG_CONFIG_STRICT},
	{"pending", SG_CMD_PENDING,
	 "usage: staplegate pending [--config FILE] [--json]\n",
	 BIT(OPT_CONFIG) | BIT(OPT_JSON), SG_CONFIG_STRICT},
	{"rollback", SG_CMD_ROLLBACK,
	 "usage: staplegate rollback LINEAGE [--config FILE]\n",
	 BIT(OPT_CONFIG), SG_CONFIG_STRICT},
	{"drill", SG_CMD_DRILL,
	 "usage: staplegate drill [--config FILE] [--outage DURATION] "
	 "[--watch DURATION] [--interval DURATION]\n",
	 BIT(OPT_CONFIG) | BIT(OPT_OUTAGE) | BIT(OPT_WATCH) | BIT(OPT_INTERVAL),
	 SG_CONFIG_STRICT},
	{"monitor", SG_CMD_MONITOR,
	 "usage: staplegate monitor [--config FILE] [--prom FILE] [--warn "
	 "DURATION] [--crit DURATION]\n"
	 "         [--signer-warn DURATION] [--signer-crit DURATION] "
	 "[--responders]\n",
	 BIT(OPT_CONFIG) | BIT(OPT_PROM) | BIT(OPT_WARN) | BIT(OPT_CRIT) |
		 BIT(OPT_SIGNER_WARN) | BIT(OPT_SIGNER_CRIT) |
		 BIT(OPT_RESPONDERS),
	 SG_CONFIG_STRICT},
	{"check", SG_CMD_CHECK,
	 "usage: staplegate check --cert NEW_CERT.pem [--chain CHAIN.pem] "
	 "[--CAfile ROOTS.pem]\n"
	 "         --target TARGET [--target TARGET ...] [--targets-file FILE] "
	 "[--servername NAME]\n"
	 "         [--min-remaining DURATION] [--skew DURATION] [--max-age "
	 "DURATION]\n"
	 "         [--timeout DURATION] [--attempts N] [--retry-delay "
	 "DURATION] "
	 "[--confirm N]\n"
	 "         [--parallel N] [--json]\n",
	 BIT(OPT_CERT) | BIT(OPT_CHAIN) | BIT(OPT_CAFILE) | BIT(OPT_TARGET) |
		 BIT(OPT_TARGETS_FILE) | BIT(OPT_SERVERNAME) |
		 BIT(OPT_MIN_REMAINING) | BIT(OPT_SKEW) | BIT(OPT_MAX_AGE) |
		 BIT(OPT_TIMEOUT) | BIT(OPT_ATTEMPTS) | BIT(OPT_RETRY_DELAY) |
		 BIT(OPT_CONFIRM) | BIT(OPT_PARALLEL) | BIT(OPT_JSON),
	 SG_CONFIG_NONE},
	{"probe", SG_CMD_PROBE,
	 "usage: staplegate probe TARGET [--servername NAME] [--CAfile "
	 "ROOTS.pem] [--chain CHAIN.pem]\n"
	 "         [--timeout DURATION] [--attempts N] [--retry-delay "
	 "DURATION] "
	 "[--confirm N] [--json]\n",
	 BIT(OPT_CHAIN) | BIT(OPT_CAFILE) | BIT(OPT_SERVERNAME) |
		 BIT(OPT_MIN_REMAINING) | BIT(OPT_SKEW) | BIT(OPT_MAX_AGE) |
		 BIT(OPT_TIMEOUT) | BIT(OPT_ATTEMPTS) | BIT(OPT_RETRY_DELAY) |
		 BIT(OPT_CONFIRM) | BIT(OPT_JSON),
	 SG_CONFIG_NONE},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct sg_cli_command *sg_cli_find(const char *name)
{
	for (size_t i = 0; name && i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void sg_cli_usage(const struct sg_cli_command *command, FILE *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (command == NULL || command == &commands[i])
			fputs(commands[i].usage, out);
	if (command == NULL)
		fputs("       staplegate --version | --help\n"
		      "TARGET is HOST[:PORT], IPv4[:PORT] or [IPv6]:PORT "
		      "(port 443); DURATION is 30s, 15m, 12h, 2d or seconds.\n"
		      "--no-sandbox (any command): probe without the "
		      "prober's privilege separation, for debugging only\n"
		      "exit status: 0 allowed (hook: deployed), 1 refused "
		      "(hook: or deploy/settle failed), 2 usage, config or "
		      "input error\n",
		      out);
}

static sg_result add_target(struct sg_cli *cli, const char *text)
{
	struct sg_target *t =
		realloc(cli->targets, (cli->ntargets + 1) * sizeof(*t));

	if (t == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	cli->targets = t;
	return sg_target_parse(text, &cli->targets[cli->ntargets++]);
}

/* A DURATION in seconds, within the option's bounds. */
static sg_result opt_seconds(const struct opt *o, const char *arg, long *sec)
{
	sg_result r = sg_duration_parse(arg, sec);

	if (r.code)
		return sg_err(SG_EINPUT, "--%s: %s", o->name, r.reason);
	if ((o->min && *sec < o->min) || (o->max && *sec > o->max))
		return sg_err(SG_EINPUT, "--%s: %s", o->name, o->range);
	return r;
}

static sg_result opt_count(const struct opt *o, const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < o->min || v > o->max)
		return sg_err(SG_EINPUT,
			      "--%s: '%s' is not a number from %ld to %ld",
			      o->name, arg, o->min, o->max);
	*out = (int)v;
	return sg_ok();
}

static sg_result apply(struct sg_cli *cli, int id, const char *arg)
{
	const struct opt *o = &opts[id];
	char *field = (char *)cli + o->off;
	long sec = 0;
	sg_result r;

	switch (o->type) {
	case T_STRING:
		*(const char **)field = arg;
		return sg_ok();
	case T_FLAG:
		*(bool *)field = true;
		return sg_ok();
	case T_SEC:
		return opt_seconds(o, arg, (long *)field);
	case T_MS:
		r = opt_seconds(o, arg, &sec);
		*(long *)field = sec * 1000;
		return r;
	case T_COUNT:
		return opt_count(o, arg, (int *)field);
	case T_TARGET:
		return add_target(cli, arg);
	case T_TARGETS:
		return sg_targets_file(arg, &cli->targets, &cli->ntargets);
	}
	return sg_err(SG_EINPUT, "unknown option (see --help)");
}

static sg_result check_applies(const struct sg_cli *cli, int id)
{
	/* --no-sandbox: every command that may probe (debugging only) */
	if (id == OPT_HELP || id == OPT_NO_SANDBOX ||
	    (cli->cmd->opts & BIT(id)))
		return sg_ok();
	return sg_err(SG_EINPUT, "%s: option not available here (see --help)",
		      cli->command);
}

static sg_result validate(struct sg_cli *cli)
{
	enum sg_cmd c = cli->cmd->id;

	if (cli->config_path == NULL && getenv("STAPLEGATE_CONFIG") &&
	    *getenv("STAPLEGATE_CONFIG"))
		cli->config_path = getenv("STAPLEGATE_CONFIG");
	if (c == SG_CMD_ROLLBACK && cli->lineage == NULL)
		return sg_err(SG_EINPUT, "rollback: the LINEAGE is required");
	if (cli->monitor.crit_sec > cli->monitor.warn_sec)
		return sg_err(SG_EINPUT, "monitor: --crit must not exceed "
					 "--warn");
	if (c == SG_CMD_HOOK || c == SG_CMD_ADOPT) {
		cli->gate.cert = cli->check.cert_path;
		cli->gate.chain = cli->check.chain_path;
		cli->gate.cafile = cli->check.cafile;
		cli->gate.extra = cli->targets;
		cli->gate.nextra = cli->ntargets;
		return sg_ok();
	}
	if (c == SG_CMD_CHECK) {
		if (cli->check.cert_path == NULL)
			return sg_err(SG_EINPUT, "check: --cert is required");
		if (cli->ntargets == 0)
			return sg_err(SG_EINPUT,
				      "check: at least one "
				      "--target (or --targets-file) is "
				      "required");
	} else if (c == SG_CMD_PROBE && cli->ntargets != 1) {
		return sg_err(SG_EINPUT, "probe: exactly one TARGET is "
					 "required");
	}
	return sg_ok();
}

/* lego splits its hook line on whitespace and runs it without a shell,
 * so "staplegate hook && systemctl reload nginx" reaches us as words. */
static const char *shell_operator(char *const *argv, int n)
{
	static const char *const ops[] = {"&&",	  "||",	 "|",  ";",    "&",
					  ">",	  ">>",	 "<",  "2>",   "2>>",
					  "2>&1", ">&2", "|&", "1>&2", NULL};

	for (int i = 0; i < n; i++)
		for (int j = 0; ops[j]; j++)
			if (strcmp(argv[i], ops[j]) == 0)
				return argv[i];
	return NULL;
}

/* dehydrated runs its HOOK with the hook's name and arguments; only
 * deploy_cert concerns the gate, every other call is a no-op. */
static sg_result dehydrated_call(struct sg_cli *cli, char *const *argv, int n)
{
	if (strcmp(argv[0], "deploy_cert") != 0) {
		cli->dehydrated_noop = argv[0];
		return sg_ok();
	}
	if (n != 7)
		return sg_err(SG_EINPUT,
			      "hook: dehydrated's deploy_cert takes DOMAIN "
			      "KEYFILE CERTFILE FULLCHAINFILE CHAINFILE "
			      "TIMESTAMP, got %d arguments",
			      n - 1);
	cli->gate.dehydrated_domain = argv[1];
	if (cli->check.cert_path == NULL)
		cli->check.cert_path = argv[3];
	if (cli->check.chain_path == NULL)
		cli->check.chain_path = argv[5];
	if (cli->gate.key == NULL)
		cli->gate.key = argv[2];
	return sg_ok();
}

static bool dehydrated_hook_name(const char *word)
{
	static const char *const names[] = {
		"deploy_cert",	   "deploy_challenge", "clean_challenge",
		"sync_cert",	   "unchanged_cert",   "invalid_challenge",
		"request_failure", "generate_csr",     "startup_hook",
		"exit_hook",	   "deploy_ocsp",      NULL};

	for (int i = 0; names[i]; i++)
		if (strcmp(word, names[i]) == 0)
			return true;
	/* dehydrated probes hook scripts with a name nobody handles */
	return strncmp(word, "this_hookscript_is_broken", 25) == 0;
}

/* The hook's words besides options: a dehydrated hook call, or nothing;
 * deploy is the command after "--" (NULL: none). */
static sg_result hook_arguments(struct sg_cli *cli, char *const *words, int n,
				char **deploy)
{
	if (deploy && deploy[0])
		cli->gate.deploy_argv = deploy;
	if (n == 0)
		return sg_ok();
	if (dehydrated_hook_name(words[0]))
		return dehydrated_call(cli, words, n);
	return sg_err(SG_EINPUT,
		      "hook: unexpected argument '%s' (put the deploy "
		      "command after \"--\")",
		      words[0]);
}

/* Before getopt, which would stop at the first option-like word of a
 * second command ("systemctl reload nginx -p"). */
static sg_result no_shell_operator(char *const *argv, int argc)
{
	const char *op = shell_operator(argv + 1, argc - 1);

	if (op)
		return sg_err(SG_EINPUT,
			      "hook: '%s' is a shell operator, but lego runs "
			      "its hook without a shell, and so does the "
			      "deploy command: use \"staplegate hook -- "
			      "systemctl reload nginx\", or a script",
			      op);
	return sg_ok();
}

/* getopt_long's table, from opts: an option's value is 256 + its id. */
static void long_options(struct option out[OPT_COUNT + 1])
{
	for (int i = 0; i < OPT_COUNT; i++)
		out[i] = (struct option){opts[i].name,
					 opts[i].type == T_FLAG
						 ? no_argument
						 : required_argument,
					 NULL, 256 + i};
	out[OPT_COUNT] = (struct option){NULL, 0, NULL, 0};
}

static void defaults(struct sg_cli *cli, const struct sg_cli_command *cmd)
{
	memset(cli, 0, sizeof(*cli));
	cli->cmd = cmd;
	cli->command = cmd->name;
	sg_check_opts_init(&cli->check);
	cli->drill.outage_sec = SG_DEFAULT_OUTAGE_SEC;
	cli->drill.interval_ms = SG_DEFAULT_DRILL_INTERVAL_MS;
	cli->monitor.warn_sec = SG_DEFAULT_WARN_SEC;
	cli->monitor.crit_sec = SG_DEFAULT_CRIT_SEC;
	cli->monitor.signer_warn_sec = -1; /* the config's, else default */
	cli->monitor.signer_crit_sec = -1;
}

/* The words besides options: rollback's LINEAGE, probe's TARGET (how
 * many is validated later). */
static sg_result positional(struct sg_cli *cli, char *const *words, int n)
{
	sg_result r = sg_ok();

	for (int i = 0; !r.code && i < n; i++) {
		if (cli->cmd->id == SG_CMD_ROLLBACK && cli->lineage == NULL)
			cli->lineage = words[i];
		else if (cli->cmd->id == SG_CMD_PROBE)
			r = add_target(cli, words[i]);
		else
			return sg_err(SG_EINPUT, "%s: unexpected argument '%s'",
				      cli->command, words[i]);
	}
	return r;
}

sg_result sg_cli_parse(struct sg_cli *cli, const struct sg_cli_command *cmd,
		       int argc, char **argv)
{
	struct option long_opts[OPT_COUNT + 1];
	bool hook = cmd->id == SG_CMD_HOOK;
	int opt, dashes = argc;
	sg_result r = sg_ok();

	defaults(cli, cmd);
	long_options(long_opts);
	opterr = 0;
	optind = 1;
	/* Everything after the first "--" is the hook's deploy command,
	 * verbatim: getopt never sees it. */
	for (dashes = 1; hook && dashes < argc; dashes++)
		if (strcmp(argv[dashes], "--") == 0)
			break;
	if (!hook)
		dashes = argc;
	else if ((r = no_shell_operator(argv, argc)).code)
		return r;
	/* The hook's options come first ("+": getopt stops at the first
	 * word): a dehydrated call's words follow them verbatim, and its
	 * challenge tokens may start with "-". */
	while (!r.code && (opt = getopt_long(dashes, argv, hook ? "+" : "",
					     long_opts, NULL)) != -1) {
		if (opt == '?')
			return sg_err(SG_EINPUT,
				      "%s: unknown option or "
				      "missing value: %s",
				      cli->command, argv[optind - 1]);
		r = check_applies(cli, opt - 256);
		if (!r.code)
			r = apply(cli, opt - 256, optarg);
	}
	if (!r.code && hook)
		r = hook_arguments(cli, argv + optind, dashes - optind,
				   dashes < argc ? argv + dashes + 1 : NULL);
	else if (!r.code)
		r = positional(cli, argv + optind, argc - optind);
	if (r.code || cli->help)
		return r;
	cli->check.targets = cli->targets;
	cli->check.n = cli->ntargets;
	return validate(cli);
}

void sg_cli_free(struct sg_cli *cli)
{
	sg_targets_free(cli->targets, cli->ntargets);
	cli->targets = NULL;
}
