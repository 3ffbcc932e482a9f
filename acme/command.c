#include "command.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../preflight/clock.h"
#include "../preflight/interrupt.h"

void sg_command_describe(char *const *argv, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; argv && argv[i] && used < size; i++) {
		bool quote = strpbrk(argv[i], " \t'\"$;&|<>*?") != NULL;

		used += (size_t)snprintf(buf + used, size - used,
					 quote ? "%s'%s'" : "%s%s",
					 i ? " " : "", argv[i]);
	}
}

/* The child: restores what the parent changed (SIGPIPE ignored), then
 * execs. An exec failure is reported through the CLOEXEC pipe. */
static void child(char *const *argv, int report)
{
	int err;

	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	err = errno;
	(void)!write(report, &err, sizeof(err));
	_exit(127);
}

/* Waits for pid until deadline; then SIGTERM, a grace period, SIGKILL.
 * A signal we received is passed on first, with the same grace. */
static int wait_bounded(pid_t pid, long long deadline, struct sg_command *out)
{
	int status = 0;
	bool termed = false;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return status;
		if (sg_interrupted() && !out->interrupted) {
			out->interrupted = sg_interrupted();
			kill(pid, out->interrupted);
			deadline = sg_now_ms() + SG_COMMAND_KILL_GRACE_MS;
			termed = true;
		} else if (sg_now_ms() >= deadline) {
			out->timed_out = !out->interrupted;
			kill(pid, termed ? SIGKILL : SIGTERM);
			deadline = sg_now_ms() + SG_COMMAND_KILL_GRACE_MS;
			termed = true;
		}
		sg_sleep_ms(10);
	}
}

void sg_command_run(char *const *argv, long timeout_ms, struct sg_command *out)
{
	long long start = sg_now_ms();
	int pipefd[2], err = 0, status;
	pid_t pid;
	char what[200];

	memset(out, 0, sizeof(*out));
	sg_command_describe(argv, what, sizeof(what));
	/* Our buffered output must come before the command's, and must not
	 * be left in the child's copy of the buffers. */
	fflush(NULL);
	if (pipe2(pipefd, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(out->reason, sizeof(out->reason), "cannot run %s: %s",
			 what, strerror(errno));
		return;
	}
	if (pid == 0)
		child(argv, pipefd[1]);
	close(pipefd[1]);
	if (read(pipefd[0], &err, sizeof(err)) == sizeof(err)) {
		close(pipefd[0]);
		waitpid(pid, NULL, 0);
		snprintf(out->reason, sizeof(out->reason),
			 "cannot execute %s: %s", argv[0], strerror(err));
		return;
	}
	close(pipefd[0]);
	out->started = true;
	status = wait_bounded(pid, start + timeout_ms, out);
	out->elapsed_ms = (long)(sg_now_ms() - start);
	out->exit_status = WIFEXITED(status) ? WEXITSTATUS(status)
					     : 128 + WTERMSIG(status);
	if (out->interrupted)
		snprintf(out->reason, sizeof(out->reason),
			 "interrupted by signal %d while %s ran (passed on to "
			 "it)",
			 out->interrupted, what);
	else if (out->timed_out)
		snprintf(out->reason, sizeof(out->reason),
			 "%s did not finish within the deadline and was "
			 "killed",
			 what);
	else if (out->exit_status != 0)
		snprintf(out->reason, sizeof(out->reason),
			 "%s failed with exit status %d", what,
			 out->exit_status);
	else
		snprintf(out->reason, sizeof(out->reason), "%s succeeded",
			 what);
}
