#include "command.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
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

/* The child: a process group of its own, so that the deadline ends
 * everything it started, not only itself; stdout and stderr into our
 * pipes; SIGPIPE back to default (we ignore it); then exec. An exec
 * failure is reported through the CLOEXEC pipe. */
static void child(char *const *argv, int report, const int out[2],
		  const int err[2])
{
	int e;

	setpgid(0, 0);
	if (dup2(out[1], STDOUT_FILENO) < 0 ||
	    dup2(err[1], STDERR_FILENO) < 0) {
		e = errno;
		(void)!write(report, &e, sizeof(e));
		_exit(127);
	}
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

/* The command's output on its way to ours: read[k] copied to to[k]. */
struct relay {
	int from[2]; /* -1: at EOF or given up */
	int to[2];
};

static void relay_close(struct relay *r)
{
	for (int k = 0; k < 2; k++)
		if (r->from[k] >= 0) {
			close(r->from[k]);
			r->from[k] = -1;
		}
}

static bool relay_open(const struct relay *r)
{
	return r->from[0] >= 0 || r->from[1] >= 0;
}

/* Copies what the command wrote, waiting at most wait_ms for it. */
static void relay_pump(struct relay *r, long wait_ms)
{
	struct pollfd p[2];
	char buf[4096];

	for (int k = 0; k < 2; k++)
		p[k] = (struct pollfd){r->from[k], POLLIN, 0};
	if (poll(p, 2, (int)(wait_ms > 0 ? wait_ms : 0)) <= 0)
		return;
	for (int k = 0; k < 2; k++) {
		ssize_t n;

		if (r->from[k] < 0 || p[k].revents == 0)
			continue;
		n = read(r->from[k], buf, sizeof(buf));
		if (n > 0) {
			/* our reader gone (EPIPE): the output is dropped */
			(void)!write(r->to[k], buf, (size_t)n);
		} else if (n == 0 || errno != EINTR) {
			close(r->from[k]);
			r->from[k] = -1;
		}
	}
}

/* SIGHUP means "reload" to many daemons: the command is ended with
 * SIGTERM instead. SIGTERM and SIGINT are passed on as they are. */
static int passed_on(int sig)
{
	return sig == SIGHUP ? SIGTERM : sig;
}

/* After SIGTERM to a command's group: SIGKILL to whatever of it is left
 * once the grace period ends (a process may ignore SIGTERM). */
static void kill_rest(pid_t pgid, long long grace_end, struct relay *r)
{
	for (;;) {
		/* members orphaned by the command are ours to reap (see
		 * sg_command_run): a zombie would look alive to kill() */
		while (waitpid(-pgid, NULL, WNOHANG) > 0)
			;
		if (kill(-pgid, 0) != 0 || sg_now_ms() >= grace_end)
			break;
		relay_pump(r, 10);
	}
	kill(-pgid, SIGKILL);
	while (waitpid(-pgid, NULL, WNOHANG) > 0)
		;
}

/* Waits for pid until deadline, relaying its output; then SIGTERM to its
 * process group, a grace period, SIGKILL. A signal we received is passed
 * on first, with the same grace. */
static int wait_bounded(pid_t pid, long long deadline, struct relay *r,
			struct sg_command *out)
{
	int status = 0;
	bool termed = false;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			/* The child was reaped behind our back (SIGCHLD
			 * ignored): its exit status is lost, so it failed. */
			out->status_lost = errno;
			break;
		}
		if (sg_interrupted() && !out->interrupted) {
			out->interrupted = sg_interrupted();
			kill(-pid, passed_on(out->interrupted));
			deadline = sg_now_ms() + SG_COMMAND_KILL_GRACE_MS;
			termed = true;
		} else if (sg_now_ms() >= deadline) {
			out->timed_out = !out->interrupted;
			kill(-pid, termed ? SIGKILL : SIGTERM);
			deadline = sg_now_ms() + SG_COMMAND_KILL_GRACE_MS;
			termed = true;
		}
		relay_pump(r, 10);
	}
	if (termed)
		kill_rest(pid, deadline, r);
	return status;
}

/* The command has exited: what it wrote is passed on, but a process it
 * left behind holding the pipe (a daemon that kept stdout) is not waited
 * for past SG_COMMAND_DRAIN_MS or the deadline. */
static void drain(struct relay *r, long long deadline)
{
	long long end = sg_now_ms() + SG_COMMAND_DRAIN_MS;

	if (deadline < end)
		end = deadline;
	while (relay_open(r) && sg_now_ms() < end)
		relay_pump(r, (long)(end - sg_now_ms()));
	relay_close(r);
}

static void close_pair(int p[2])
{
	for (int k = 0; k < 2; k++)
		if (p[k] >= 0)
			close(p[k]);
}

/* The reason line of a command that ran: how it ended. */
static void describe_end(const char *what, struct sg_command *out)
{
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
	else if (out->status_lost)
		snprintf(out->reason, sizeof(out->reason),
			 "%s ended with an exit status that could not be read "
			 "(waitpid: %s): counted as failed",
			 what, strerror(out->status_lost));
	else if (out->exit_status != 0)
		snprintf(out->reason, sizeof(out->reason),
			 "%s failed with exit status %d", what,
			 out->exit_status);
	else
		snprintf(out->reason, sizeof(out->reason), "%s succeeded",
			 what);
}

void sg_command_run(char *const *argv, long timeout_ms, struct sg_command *out)
{
	long long start = sg_now_ms();
	int report[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1},
	    err = 0, status;
	struct relay r = {{-1, -1}, {STDOUT_FILENO, STDERR_FILENO}};
	pid_t pid = -1;
	char what[200];

	memset(out, 0, sizeof(*out));
	sg_command_describe(argv, what, sizeof(what));
	/* Processes the command leaves behind come to us rather than to
	 * init, so that ending its group can also reap it. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Our buffered output must come before the command's, and must not
	 * be left in the child's copy of the buffers. */
	fflush(NULL);
	if (pipe2(report, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 ||
	    pipe2(perr, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(out->reason, sizeof(out->reason), "cannot run %s: %s",
			 what, strerror(errno));
		close_pair(report);
		close_pair(pout);
		close_pair(perr);
		return;
	}
	if (pid == 0)
		child(argv, report[1], pout, perr);
	/* also here, so that a kill right after fork reaches the group */
	setpgid(pid, pid);
	close(report[1]);
	close(pout[1]);
	close(perr[1]);
	r.from[0] = pout[0];
	r.from[1] = perr[0];
	if (read(report[0], &err, sizeof(err)) == sizeof(err)) {
		close(report[0]);
		relay_close(&r);
		waitpid(pid, NULL, 0);
		snprintf(out->reason, sizeof(out->reason),
			 "cannot execute %s: %s", argv[0], strerror(err));
		return;
	}
	close(report[0]);
	out->started = true;
	status = wait_bounded(pid, start + timeout_ms, &r, out);
	drain(&r, start + timeout_ms + SG_COMMAND_KILL_GRACE_MS);
	out->elapsed_ms = (long)(sg_now_ms() - start);
	out->exit_status = out->status_lost    ? -1
			   : WIFEXITED(status) ? WEXITSTATUS(status)
					       : 128 + WTERMSIG(status);
	describe_end(what, out);
}
