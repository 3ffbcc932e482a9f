/* Runs deploy and rollback commands: execvp, no shell, inherited
 * environment, bounded by a deadline. The command runs in a process
 * group of its own, and at the deadline the whole group is ended (SIGTERM,
 * then SIGKILL). Its stdout and stderr reach ours through pipes that we
 * close once it has exited: a daemon it leaves behind holding them cannot
 * keep the ACME client, which waits for our output to end, waiting. */
#ifndef SG_COMMAND_H
#define SG_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "../preflight/result.h"

#define SG_COMMAND_KILL_GRACE_MS 2000 /* SIGTERM, then SIGKILL */
#define SG_COMMAND_DRAIN_MS	 500  /* output still read after the exit */

struct sg_command {
	bool started;
	bool timed_out;
	int interrupted; /* signal forwarded to the command, 0: none */
	int exit_status; /* 0..255, or 128 + signal, -1: lost */
	int status_lost; /* waitpid's errno when the status was lost */
	long elapsed_ms;
	char reason[SG_REASON_MAX];
};

/* argv[0] is looked up in PATH. Success means exit status 0. A SIGTERM
 * or SIGINT received meanwhile (sg_interrupt_install) is passed on to the
 * command's process group (SIGHUP as SIGTERM), which is then waited for
 * as at the deadline. Returns within timeout_ms + SG_COMMAND_KILL_GRACE_MS
 * (+ SG_COMMAND_DRAIN_MS when the command exits on its own just before). */
void sg_command_run(char *const *argv, long timeout_ms, struct sg_command *out);

/* "systemctl reload nginx", arguments with spaces quoted, for messages. */
void sg_command_describe(char *const *argv, char *buf, size_t size);

#endif
