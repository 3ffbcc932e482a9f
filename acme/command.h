/* Runs deploy and rollback commands: execvp, no shell, inherited
 * environment and stdio, bounded by a deadline. */
#ifndef SG_COMMAND_H
#define SG_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "../preflight/result.h"

#define SG_COMMAND_KILL_GRACE_MS 2000 /* SIGTERM, then SIGKILL */

struct sg_command {
	bool started;
	bool timed_out;
	int interrupted; /* signal forwarded to the command, 0: none */
	int exit_status; /* 0..255, or 128 + signal */
	long elapsed_ms;
	char reason[SG_REASON_MAX];
};

/* argv[0] is looked up in PATH. Success means exit status 0. A SIGTERM
 * or SIGINT received meanwhile (sg_interrupt_install) is forwarded to the
 * command, which is then waited for as at the deadline. */
void sg_command_run(char *const *argv, long timeout_ms, struct sg_command *out);

/* "systemctl reload nginx", arguments with spaces quoted, for messages. */
void sg_command_describe(char *const *argv, char *buf, size_t size);

#endif
