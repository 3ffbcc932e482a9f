#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../preflight/duration.h"
#include "cli.h"

enum {
	OPT_CERT = 256,
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
};

static const struct option long_opts[] = {
	{"cert", required_argument, NULL, OPT_CERT},
	{"chain", required_argument, NULL, OPT_CHAIN},
	{"CAfile", required_argument, NULL, OPT_CAFILE},
	{"target", required_argument, NULL, OPT_TARGET},
	{"servername", required_argument, NULL, OPT_SERVERNAME},
	{"min-remaining", required_argument, NULL, OPT_MIN_REMAINING},
	{"skew", required_argument, NULL, OPT_SKEW},
	{"max-age", required_argument, NULL, OPT_MAX_AGE},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"attempts", required_argument, NULL, OPT_ATTEMPTS},
	{"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"deadline", required_argument, NULL, OPT_DEADLINE},
	{"record", required_argument, NULL, OPT_RECORD},
	{"targets-file", required_argument, NULL, OPT_TARGETS_FILE},
	{"staple-out", required_argument, NULL, OPT_STAPLE_OUT},
	{"wait", required_argument, NULL, OPT_WAIT},
	{"key", required_argument, NULL, OPT_KEY},
	{"prom", required_argument, NULL, OPT_PROM},
	{"warn", required_argument, NULL, OPT_WARN},
	{"crit", required_argument, NULL, OPT_CRIT},
	{"outage", required_argument, NULL, OPT_OUTAGE},
	{"watch", required_argument, NULL, OPT_WATCH},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"lineage", required_argument, NULL, OPT_LINEAGE},
	{"confirm", required_argument, NULL, OPT_CONFIRM},
	{NULL, 0, NULL, 0},
};

static bool is(const char *command, const char *name)
{
	return command != NULL && strcmp(command, name) == 0;
}

void sg_cli_usage(const char *command, FILE *out)
{
	if (command == NULL || is(command, "hook"))
		fputs("usage: staplegate hook [--config FILE] [--target TARGET "
		      "...] [--dry-run] [--deadline DURATION]\n"
		      "         [--cert CERT.pem] [--chain CHAIN.pem] "
		      "[--CAfile ROOTS.pem] [--record SCORES.jsonl]\n"
		      "         [--key KEY.pem] [--lineage NAME] [--staple-out "
		      "FILE] [--wait DURATION]\n"
		      "         [-- DEPLOY COMMAND ...]\n",
		      out);
	if (command == NULL || is(command, "adopt"))
		fputs("usage: staplegate adopt [--config FILE] [--cert "
		      "CERT.pem "
		      "--key KEY.pem] [--chain CHAIN.pem]\n"
		      "         [--CAfile ROOTS.pem] [--lineage NAME] "
		      "[--staple-out FILE]\n",
		      out);
	if (command == NULL || is(command, "resume"))
		fputs("usage: staplegate resume [--config FILE]\n", out);
	if (command == NULL || is(command, "pending"))
		fputs("usage: staplegate pending [--config FILE] [--json]\n",
		      out);
	if (command == NULL || is(command, "rollback"))
		fputs("usage: staplegate rollback LINEAGE [--config FILE]\n",
		      out);
	if (command == NULL || is(command, "drill"))
		fputs("usage: staplegate drill [--config FILE] [--outage "
		      "DURATION] [--watch DURATION] [--interval DURATION]\n",
		      out);
	if (command == NULL || is(command, "monitor"))
		fputs("usage: staplegate monitor [--config FILE] [--prom FILE] "
		      "[--warn DURATION] [--crit DURATION]\n",
		      out);
	if (command == NULL || is(command, "check"))
		fputs("usage: staplegate check --cert NEW_CERT.pem "
		      "[--chain CHAIN.pem] [--CAfile ROOTS.pem]\n"
		      "         --target TARGET [--target TARGET ...] "
		      "[--targets-file FILE] [--servername NAME]\n"
		      "         [--min-remaining DURATION] [--skew DURATION] "
		      "[--max-age DURATION]\n"
		      "         [--timeout DURATION] [--attempts N] "
		      "[--retry-delay DURATION] [--confirm N]\n"
		      "         [--parallel N] [--json]\n",
		      out);
	if (command == NULL || is(command, "probe"))
		fputs("usage: staplegate probe TARGET [--servername NAME] "
		      "[--CAfile ROOTS.pem] [--chain CHAIN.pem]\n"
		      "         [--timeout DURATION] [--attempts N] "
		      "[--retry-delay DURATION] [--confirm N] [--json]\n",
		      out);
	if (command == NULL)
		fputs("       staplegate --version | --help\n"
		      "TARGET is HOST[:PORT], IPv4[:PORT] or [IPv6]:PORT "
		      "(port 443); DURATION is 30s, 15m, 12h, 2d or seconds.\n"
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

static sg_result duration_opt(const char *name, const char *arg, long *sec)
{
	sg_result r = sg_duration_parse(arg, sec);

	if (r.code)
		return sg_err(SG_EINPUT, "--%s: %s", name, r.reason);
	return r;
}

static sg_result count_opt(const char *name, const char *arg, int max, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 1 || v > max)
		return sg_err(SG_EINPUT,
			      "--%s: '%s' is not a number from 1 "
			      "to %d",
			      name, arg, max);
	*out = (int)v;
	return sg_ok();
}

static sg_result apply(struct sg_cli *cli, int opt, const char *arg)
{
	struct sg_check_opts *c = &cli->check;
	struct sg_probe_opts *p = &c->probe;
	long sec = 0;
	sg_result r = sg_ok();

	switch (opt) {
	case OPT_CERT:
		c->cert_path = arg;
		break;
	case OPT_CHAIN:
		c->chain_path = arg;
		break;
	case OPT_CAFILE:
		c->cafile = arg;
		break;
	case OPT_TARGET:
		return add_target(cli, arg);
	case OPT_TARGETS_FILE:
		return sg_targets_file(arg, &cli->targets, &cli->ntargets);
	case OPT_SERVERNAME:
		p->servername = arg;
		break;
	case OPT_MIN_REMAINING:
		return duration_opt("min-remaining", arg,
				    &p->policy.min_remaining_sec);
	case OPT_SKEW:
		return duration_opt("skew", arg, &p->policy.skew_sec);
	case OPT_MAX_AGE:
		return duration_opt("max-age", arg, &p->policy.max_age_sec);
	case OPT_TIMEOUT:
		r = duration_opt("timeout", arg, &sec);
		if (!r.code && (sec < 1 || sec > 3600))
			r = sg_err(SG_EINPUT, "--timeout: must be 1s to 1h");
		p->timeout_ms = sec * 1000;
		break;
	case OPT_RETRY_DELAY:
		r = duration_opt("retry-delay", arg, &sec);
		p->retry_delay_ms = sec * 1000;
		break;
	case OPT_ATTEMPTS:
		return count_opt("attempts", arg, 100, &p->attempts);
	case OPT_CONFIRM:
		return count_opt("confirm", arg, SG_CONFIRM_MAX, &p->confirm);
	case OPT_PARALLEL:
		return count_opt("parallel", arg, 65536, &p->parallel);
	case OPT_JSON:
		cli->json = true;
		break;
	case OPT_HELP:
		cli->help = true;
		break;
	case OPT_CONFIG:
		cli->config_path = arg;
		break;
	case OPT_DRY_RUN:
		cli->gate.dry_run = true;
		break;
	case OPT_DEADLINE:
		r = duration_opt("deadline", arg, &cli->gate.deadline_sec);
		if (!r.code && cli->gate.deadline_sec < 5)
			r = sg_err(SG_EINPUT, "--deadline: at least 5s");
		break;
	case OPT_RECORD:
		cli->gate.record_path = arg;
		break;
	case OPT_STAPLE_OUT:
		cli->gate.staple_out = arg;
		break;
	case OPT_KEY:
		cli->gate.key = arg;
		break;
	case OPT_LINEAGE:
		cli->gate.lineage = arg;
		break;
	case OPT_WAIT:
		r = duration_opt("wait", arg, &cli->gate.wait_sec);
		break;
	case OPT_PROM:
		cli->monitor.prom_path = arg;
		break;
	case OPT_WARN:
		return duration_opt("warn", arg, &cli->monitor.warn_sec);
	case OPT_CRIT:
		return duration_opt("crit", arg, &cli->monitor.crit_sec);
	case OPT_OUTAGE:
		return duration_opt("outage", arg, &cli->drill.outage_sec);
	case OPT_WATCH:
		return duration_opt("watch", arg, &cli->drill.watch_sec);
	case OPT_INTERVAL:
		r = duration_opt("interval", arg, &sec);
		if (!r.code && sec < 1)
			r = sg_err(SG_EINPUT, "--interval: at least 1s");
		cli->drill.interval_ms = sec * 1000;
		break;
	default:
		return sg_err(SG_EINPUT, "unknown option (see --help)");
	}
	return r;
}

#define BIT(o) (1ULL << ((o)-OPT_CERT))

/* Which options each command takes; anything else is a usage error. */
static const struct {
	const char *command;
	unsigned long long opts;
	int positional; /* arguments besides options: -1 any (hook, after --) */
} commands[] = {
	{"check",
	 BIT(OPT_CERT) | BIT(OPT_CHAIN) | BIT(OPT_CAFILE) | BIT(OPT_TARGET) |
		 BIT(OPT_TARGETS_FILE) | BIT(OPT_SERVERNAME) |
		 BIT(OPT_MIN_REMAINING) | BIT(OPT_SKEW) | BIT(OPT_MAX_AGE) |
		 BIT(OPT_TIMEOUT) | BIT(OPT_ATTEMPTS) | BIT(OPT_RETRY_DELAY) |
		 BIT(OPT_CONFIRM) | BIT(OPT_PARALLEL) | BIT(OPT_JSON),
	 0},
	{"probe",
	 BIT(OPT_CHAIN) | BIT(OPT_CAFILE) | BIT(OPT_SERVERNAME) |
		 BIT(OPT_MIN_REMAINING) | BIT(OPT_SKEW) | BIT(OPT_MAX_AGE) |
		 BIT(OPT_TIMEOUT) | BIT(OPT_ATTEMPTS) | BIT(OPT_RETRY_DELAY) |
		 BIT(OPT_CONFIRM) | BIT(OPT_JSON),
	 1},
	{"hook",
	 BIT(OPT_CONFIG) | BIT(OPT_TARGET) | BIT(OPT_TARGETS_FILE) |
		 BIT(OPT_DRY_RUN) | BIT(OPT_DEADLINE) | BIT(OPT_CERT) |
		 BIT(OPT_CHAIN) | BIT(OPT_KEY) | BIT(OPT_CAFILE) |
		 BIT(OPT_RECORD) | BIT(OPT_STAPLE_OUT) | BIT(OPT_WAIT) |
		 BIT(OPT_LINEAGE),
	 -1},
	{"adopt",
	 BIT(OPT_CONFIG) | BIT(OPT_CERT) | BIT(OPT_CHAIN) | BIT(OPT_KEY) |
		 BIT(OPT_CAFILE) | BIT(OPT_LINEAGE) | BIT(OPT_STAPLE_OUT),
	 0},
	{"resume", BIT(OPT_CONFIG), 0},
	{"pending", BIT(OPT_CONFIG) | BIT(OPT_JSON), 0},
	{"rollback", BIT(OPT_CONFIG), 1},
	{"monitor",
	 BIT(OPT_CONFIG) | BIT(OPT_PROM) | BIT(OPT_WARN) | BIT(OPT_CRIT), 0},
	{"drill",
	 BIT(OPT_CONFIG) | BIT(OPT_OUTAGE) | BIT(OPT_WATCH) | BIT(OPT_INTERVAL),
	 0},
};

static int command_index(const char *command)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].command, command) == 0)
			return (int)i;
	return -1;
}

bool sg_cli_known(const char *command)
{
	return command && command_index(command) >= 0;
}

static sg_result check_applies(const char *command, int opt)
{
	int i = command_index(command);

	if (opt == OPT_HELP || (i >= 0 && (commands[i].opts & BIT(opt))))
		return sg_ok();
	return sg_err(SG_EINPUT, "%s: option not available here (see --help)",
		      command);
}

static sg_result validate(struct sg_cli *cli)
{
	if (cli->config_path == NULL && getenv("STAPLEGATE_CONFIG") &&
	    *getenv("STAPLEGATE_CONFIG"))
		cli->config_path = getenv("STAPLEGATE_CONFIG");
	if (is(cli->command, "rollback") && cli->lineage == NULL)
		return sg_err(SG_EINPUT, "rollback: the LINEAGE is required");
	if (cli->monitor.crit_sec > cli->monitor.warn_sec)
		return sg_err(SG_EINPUT, "monitor: --crit must not exceed "
					 "--warn");
	if (is(cli->command, "hook") || is(cli->command, "adopt")) {
		cli->gate.cert = cli->check.cert_path;
		cli->gate.chain = cli->check.chain_path;
		cli->gate.cafile = cli->check.cafile;
		cli->gate.extra = cli->targets;
		cli->gate.nextra = cli->ntargets;
		return sg_ok();
	}
	if (!is(cli->command, "check") && !is(cli->command, "probe"))
		return sg_ok();
	if (strcmp(cli->command, "check") == 0) {
		if (cli->check.cert_path == NULL)
			return sg_err(SG_EINPUT, "check: --cert is required");
		if (cli->ntargets == 0)
			return sg_err(SG_EINPUT,
				      "check: at least one "
				      "--target (or --targets-file) is "
				      "required");
	} else if (cli->ntargets != 1) {
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

sg_result sg_cli_parse(struct sg_cli *cli, const char *command, int argc,
		       char **argv)
{
	int opt, dashes;
	sg_result r = sg_ok();

	memset(cli, 0, sizeof(*cli));
	cli->command = command;
	sg_check_opts_init(&cli->check);
	cli->drill.outage_sec = SG_DEFAULT_OUTAGE_SEC;
	cli->drill.interval_ms = SG_DEFAULT_DRILL_INTERVAL_MS;
	cli->monitor.warn_sec = SG_DEFAULT_WARN_SEC;
	cli->monitor.crit_sec = SG_DEFAULT_CRIT_SEC;
	opterr = 0;
	optind = 1;
	/* Everything after the first "--" is the hook's deploy command,
	 * verbatim: getopt never sees it. */
	for (dashes = 1; is(command, "hook") && dashes < argc; dashes++)
		if (strcmp(argv[dashes], "--") == 0)
			break;
	if (!is(command, "hook"))
		dashes = argc;
	else if ((r = no_shell_operator(argv, argc)).code)
		return r;
	while (!r.code &&
	       (opt = getopt_long(dashes, argv, "", long_opts, NULL)) != -1) {
		if (opt == '?')
			return sg_err(SG_EINPUT,
				      "%s: unknown option or "
				      "missing value: %s",
				      command, argv[optind - 1]);
		r = check_applies(command, opt);
		if (!r.code)
			r = apply(cli, opt, optarg);
	}
	if (!r.code && is(command, "hook"))
		r = hook_arguments(cli, argv + optind, dashes - optind,
				   dashes < argc ? argv + dashes + 1 : NULL);
	if (is(command, "hook"))
		optind = argc;
	for (; !r.code && optind < argc; optind++) {
		if (is(command, "rollback") && cli->lineage == NULL)
			cli->lineage = argv[optind];
		else if (is(command, "probe"))
			r = add_target(cli, argv[optind]);
		else
			return sg_err(SG_EINPUT, "%s: unexpected argument '%s'",
				      command, argv[optind]);
	}
	if (r.code || cli->help)
		return r;
	cli->check.targets = cli->targets;
	cli->check.n = cli->ntargets;
	return validate(cli);
}

void sg_cli_free(struct sg_cli *cli)
{
	free(cli->targets);
	cli->targets = NULL;
}
