/* Runs the staplegate binary as an operator or an ACME client would,
 * capturing its exit status and output. Test code only. */
#ifndef SG_RUNCLI_H
#define SG_RUNCLI_H

#include <sys/types.h>

struct cli_run {
	int status;
	char out[65536];
	char err[8192];
};

/* env: "NAME=value" strings added to a clean copy of the environment
 * (NULL-terminated, may be NULL); argv after the binary, NULL-terminated. */
void cli_env(struct cli_run *r, const char *const *env,
	     const char *const *argv);

/* Starts the binary without waiting; cli_collect waits and fills r. */
pid_t cli_spawn(const char *const *env, const char *const *argv);
void cli_collect(struct cli_run *r, pid_t pid);

/* Starts the binary with stdout and stderr into one pipe, as ACME clients
 * capture a hook's output; *out is its read end. Reap with waitpid. */
pid_t cli_spawn_piped(const char *const *env, const char *const *argv,
		      int *out);

/* cli(&r, "check", "--cert", path, NULL) */
void cli(struct cli_run *r, ...);

#endif
