#include "runcli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static void slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Variables of the ACME clients are removed first, so that a developer's
 * shell cannot change what a test sees. */
static void child_env(const char *const *env)
{
	static const char *const clean[] = {"RENEWED_LINEAGE",
					    "RENEWED_DOMAINS",
					    "CERT_PATH",
					    "CA_CERT_PATH",
					    "CERT_FULLCHAIN_PATH",
					    "Le_Domain",
					    "LEGO_CERT_PATH",
					    "LEGO_CERT_DOMAIN",
					    "LEGO_ISSUER_CERT_PATH",
					    "LEGO_HOOK_CERT_PATH",
					    "LEGO_HOOK_CERT_NAME",
					    "LEGO_HOOK_ISSUER_CERT_PATH",
					    "LEGO_HOOK_CERT_DOMAINS",
					    "STAPLEGATE_CONFIG",
					    NULL};

	for (int i = 0; clean[i]; i++)
		unsetenv(clean[i]);
	for (int i = 0; env && env[i]; i++)
		putenv((char *)env[i]);
}

static void out_paths(pid_t pid, char *out, char *err, size_t size)
{
	snprintf(out, size, "%s/cli.out.%d", T_PKI->dir, (int)pid);
	snprintf(err, size, "%s/cli.err.%d", T_PKI->dir, (int)pid);
}

pid_t cli_spawn(const char *const *env, const char *const *args)
{
	const char *argv[64];
	char bin[512];
	int n = 0;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/staplegate", T_BUILD);
	argv[n++] = bin;
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	/* A loaded machine may refuse a fork for a moment. */
	for (int tries = 0; (pid = fork()) < 0 && tries < 50; tries++)
		usleep(20000);
	if (pid == 0) {
		char out[600], err[600];
		int o, e;

		out_paths(getpid(), out, err, sizeof(out));
		o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		child_env(env);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

pid_t cli_spawn_piped(const char *const *env, const char *const *args, int *out)
{
	const char *argv[64];
	char bin[512];
	int n = 0, p[2];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/staplegate", T_BUILD);
	argv[n++] = bin;
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		child_env(env);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

void cli_collect(struct cli_run *r, pid_t pid)
{
	char out[600], err[600];

	if (pid < 0 || waitpid(pid, &r->status, 0) != pid) {
		r->status = -1;
		snprintf(r->out, sizeof(r->out), "(not run)");
		snprintf(r->err, sizeof(r->err), "cannot run staplegate: %s",
			 strerror(errno));
		return;
	}
	r->status = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
	out_paths(pid, out, err, sizeof(out));
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
	unlink(out);
	unlink(err);
}

void cli_env(struct cli_run *r, const char *const *env, const char *const *args)
{
	cli_collect(r, cli_spawn(env, args));
}

void cli(struct cli_run *r, ...)
{
	const char *argv[40];
	int n = 0;
	va_list ap;

	va_start(ap, r);
	while (n < 39 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	cli_env(r, NULL, argv);
}
