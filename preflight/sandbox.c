#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "confine.h"
#include "interrupt.h"
#include "wire.h"

/* One line of the prober's answer at most: a served certificate's
 * record with its names is the largest, well under this. */
#define LINE_MAX_BYTES (256 * 1024)
/* After kill_at, or after the parent passed on a signal: how long the
 * prober has to finish its answer before it is killed. */
#define GRACE_MS 3000

static struct {
	bool set, off, in_prober;
	struct sg_confinement conf;
	sg_result error; /* of the setup: every run fails with it */
} sb;

static sg_result setup(const char *user, bool off)
{
	const struct passwd *pw;

	sb.set = true;
	sb.off = off;
	OPENSSL_init_ssl(
		OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return sg_err(SG_ESYS, "libcurl could not be initialised");
	/* Not root: no user to drop, seccomp and Landlock still hold. */
	if (off || geteuid() != 0)
		return sg_ok();
	if (user == NULL)
		user = SG_SANDBOX_DEFAULT_USER;
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL)
		return sg_err(SG_EINPUT, "user %s: %s", user,
			      errno ? strerror(errno) : "no such user");
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return sg_err(SG_EINPUT,
			      "user %s: is root; the prober must run "
			      "without privileges",
			      user);
	sb.conf.switch_user = true;
	sb.conf.uid = pw->pw_uid;
	sb.conf.gid = pw->pw_gid;
	return sg_ok();
}

sg_result sg_sandbox_setup(const char *user, bool off)
{
	memset(&sb, 0, sizeof(sb));
	sb.error = setup(user, off);
	if (sb.error.code)
		sb.error = sg_err(sb.error.code, "prober: %s", sb.error.reason);
	return sb.error;
}

bool sg_sandbox_off(void)
{
	return sb.off;
}

bool sg_sandbox_may_touch_network(sg_result *why)
{
	if (sb.off || sb.in_prober)
		return true;
	*why = sg_err(SG_ESYS, "internal error: network access outside the "
			       "prober");
	return false;
}

bool sg_sandbox_put(FILE *out, json_t *obj)
{
	bool ok = obj &&
		  json_object_set_new(obj, "v",
				      json_integer(SG_SANDBOX_VERSION)) == 0 &&
		  json_dumpf(obj, out, JSON_COMPACT) == 0 &&
		  putc('\n', out) != EOF;

	json_decref(obj);
	return ok;
}

/* The job's outcome, the prober's last line. */
static void put_end(FILE *out, sg_result r)
{
	sg_sandbox_put(out, json_pack("{s:s, s:i, s:s}", "t", "end", "code",
				      (int)r.code, "reason", r.reason));
}

/* A test-only way to make the prober misbehave once confined
 * (tests/test_sandbox.c): each of these must make the run refuse. */
static void test_fault(FILE *out)
{
	const char *f = getenv("STAPLEGATE_TEST_PROBER");
	volatile int *null = NULL;

	if (f == NULL)
		return;
	if (strcmp(f, "syscall") == 0) /* forbidden: open for writing */
		open("/tmp/staplegate-prober-escape", O_WRONLY | O_CREAT, 0600);
	if (strcmp(f, "segv") == 0)
		*null = 1;
	/* Landlock's test: world-readable, but nothing probing reads */
	if (strcmp(f, "read") == 0 && open("/etc/passwd", O_RDONLY) >= 0)
		_exit(3);
	if (strcmp(f, "garbage") == 0) {
		fputs("not json\n", out);
		fflush(out);
		_exit(0);
	}
	if (strcmp(f, "hang") == 0)
		for (;;)
			pause();
}

static void null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(1);
	close(fd);
}

static void child(const struct sg_sandbox_call *c, int fd, pid_t parent)
{
	FILE *out;
	bool landlocked;
	sg_result r;
	struct rlimit no_core = {0, 0};
	struct sg_confinement conf = sb.conf;

	conf.parent = parent;
	setrlimit(RLIMIT_CORE, &no_core); /* no memory images on disk */
	/* Only the answer pipe and stderr (for a crash report) stay open:
	 * not the lock, the score log or the terminal of the parent. */
	if (dup2(fd, 3) != 3 || close_range(4, ~0U, 0) != 0)
		_exit(1);
	fd = 3;
	null_stdio();
	out = fdopen(fd, "w");
	if (out == NULL)
		_exit(1);
	r = sg_confine(&conf, &landlocked);
	sb.in_prober = true;
	if (!r.code) {
		test_fault(out);
		r = c->job(c->arg, out);
	} else {
		r = sg_err(r.code, "prober: %s", r.reason);
	}
	put_end(out, r);
	/* _exit: no atexit handlers (nor leak checks) in a process whose
	 * every system call is filtered. */
	_exit(fflush(out) == 0 ? 0 : 1);
}

/* The parent's side of the answer: lines split and checked. */
struct reader {
	const struct sg_sandbox_call *c;
	char *buf;
	size_t len, total;
	bool ended;
	sg_result end;
};

static sg_result take_end(struct reader *rd, json_t *line)
{
	struct sg_wire w;
	int code;
	const char *reason;

	sg_wire_begin(&w, line, "end");
	code = (int)sg_wire_int(&w, "code", SG_OK, SG_ENOMEM);
	reason = sg_wire_str(&w, "reason", SG_REASON_MAX);
	if (sg_wire_end(&w).code)
		return w.err;
	rd->ended = true;
	rd->end = code ? sg_err((enum sg_code)code, "%s", reason) : sg_ok();
	return sg_ok();
}

static sg_result take_line(struct reader *rd, const char *s, size_t n)
{
	json_error_t e;
	json_t *line = json_loadb(s, n, JSON_REJECT_DUPLICATES, &e);
	json_t *v = json_object_get(line, "v");
	json_t *t = json_object_get(line, "t");
	sg_result r;

	if (rd->ended)
		r = sg_err(SG_EINPUT, "prober: answer goes on after its end");
	else if (!json_is_object(line))
		r = sg_err(SG_EINPUT, "prober: malformed answer (%s)", e.text);
	else if (!json_is_integer(v) ||
		 json_integer_value(v) != SG_SANDBOX_VERSION)
		r = sg_err(SG_EINPUT, "prober: answer of another version");
	else if (!json_is_string(t))
		r = sg_err(SG_EINPUT, "prober: answer line without a type");
	else {
		json_incref(t);
		json_object_del(line, "v");
		json_object_del(line, "t");
		r = strcmp(json_string_value(t), "end") == 0
			    ? take_end(rd, line)
			    : rd->c->take(rd->c->arg, json_string_value(t),
					  line);
		json_decref(t);
	}
	json_decref(line);
	return r;
}

static sg_result take_bytes(struct reader *rd, const char *s, size_t n)
{
	sg_result r = sg_ok();

	rd->total += n;
	if (rd->total > rd->c->max_bytes)
		return sg_err(SG_EINPUT, "prober: answer longer than %zu bytes",
			      rd->c->max_bytes);
	while (n > 0 && !r.code) {
		const char *nl = memchr(s, '\n', n);
		size_t part = nl ? (size_t)(nl - s) : n;

		if (part > LINE_MAX_BYTES - rd->len)
			return sg_err(SG_EINPUT,
				      "prober: answer line too long");
		memcpy(rd->buf + rd->len, s, part);
		rd->len += part;
		if (nl == NULL)
			break;
		r = take_line(rd, rd->buf, rd->len);
		rd->len = 0;
		s = nl + 1;
		n -= part + 1;
	}
	return r;
}

/* Reads until the prober closes its end, passing on a signal we get and
 * killing it past its time. */
static sg_result read_answer(struct reader *rd, int fd, pid_t pid)
{
	long long kill_at =
		rd->c->kill_at_ms ? rd->c->kill_at_ms + GRACE_MS : 0;
	int passed_on = 0;
	char chunk[16384];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long now = sg_now_ms();
		int wait_ms = 1000;
		ssize_t got;
		sg_result r;

		if (sg_interrupted() && !passed_on) {
			passed_on = sg_interrupted();
			kill(pid, passed_on);
			if (!kill_at || kill_at > now + GRACE_MS)
				kill_at = now + GRACE_MS;
		}
		if (kill_at && now >= kill_at)
			return sg_err(SG_ESYS, "prober killed: still running "
					       "past its deadline");
		if (kill_at && kill_at - now < wait_ms)
			wait_ms = (int)(kill_at - now);
		if (poll(&p, 1, wait_ms) <= 0)
			continue;
		got = read(fd, chunk, sizeof(chunk));
		if (got == 0)
			return sg_ok();
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return sg_err(SG_ESYS, "prober: reading its answer: %s",
				      strerror(errno));
		}
		r = take_bytes(rd, chunk, (size_t)got);
		if (r.code)
			return r;
	}
}

/* How the prober ended decides over what it said: a prober killed
 * mid-answer may have said only part of it. */
static sg_result judge_exit(pid_t pid, sg_result read, const struct reader *rd)
{
	int status;

	if (read.code)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sg_err(SG_ESYS, "prober: lost: %s",
				      strerror(errno));
	if (read.code) /* then the SIGKILL was ours */
		return read;
	if (WIFSIGNALED(status))
		return sg_err(SG_ESYS, "prober killed by signal %d (%s)",
			      WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0)
		return sg_err(SG_ESYS, "prober failed (exit status %d)",
			      WEXITSTATUS(status));
	if (rd->len || !rd->ended)
		return sg_err(SG_EINPUT, "prober: answer cut short");
	return rd->end;
}

sg_result sg_sandbox_take_text(const struct sg_sandbox_call *c,
			       const char *text, size_t len)
{
	struct reader rd = {.c = c, .buf = malloc(LINE_MAX_BYTES)};
	sg_result r = rd.buf ? take_bytes(&rd, text, len)
			     : sg_err(SG_ENOMEM, "out of memory");

	if (!r.code && (rd.len || !rd.ended))
		r = sg_err(SG_EINPUT, "prober: answer cut short");
	free(rd.buf);
	return r.code ? r : rd.end;
}

/* --no-sandbox: the same job and the same encoding, in this process. */
static sg_result run_here(const struct sg_sandbox_call *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	sg_result r;

	if (out == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	r = c->job(c->arg, out);
	put_end(out, r);
	r = fclose(out) == 0 ? sg_sandbox_take_text(c, text, len)
			     : sg_err(SG_ENOMEM, "out of memory");
	free(text);
	return r;
}

sg_result sg_sandbox_run(const struct sg_sandbox_call *c)
{
	struct reader rd = {.c = c};
	pid_t parent = getpid(), pid;
	int fds[2];
	sg_result r;

	if (!sb.set)
		sg_sandbox_setup(NULL, false);
	if (sb.error.code)
		return sb.error;
	if (sb.off || sb.in_prober)
		return run_here(c);
	rd.buf = malloc(LINE_MAX_BYTES);
	if (rd.buf == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	if (pipe2(fds, O_CLOEXEC) != 0) {
		free(rd.buf);
		return sg_err(SG_ESYS, "prober: pipe: %s", strerror(errno));
	}
	fflush(NULL); /* nothing buffered is written twice */
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child(c, fds[1], parent);
	}
	close(fds[1]);
	if (pid < 0)
		r = sg_err(SG_ESYS, "prober: fork: %s", strerror(errno));
	else
		r = judge_exit(pid, read_answer(&rd, fds[0], pid), &rd);
	close(fds[0]);
	free(rd.buf);
	return r;
}
