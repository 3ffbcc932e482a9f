#include "servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static socklen_t make_addr(const char *host, int port,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		return sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, host, &a->sin_addr);
		return sizeof(*a);
	}
}

static int bind_port(const char *host, int port, bool reuse, int *out_port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, port, &ss);
	int fd, one = 1;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*out_port = ntohs(ss.ss_family == AF_INET6
				  ? ((struct sockaddr_in6 *)&ss)->sin6_port
				  : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

int srv_free_port(const char *host)
{
	int port = -1, fd = bind_port(host, 0, true, &port);

	if (fd >= 0)
		close(fd);
	return port;
}

/* Bound without SO_REUSEADDR and never listening: a connect is refused,
 * and no later bind (port 0 or this port) can be given the port while the
 * fd is open. A port that was merely free a moment ago is not enough: the
 * kernel may hand it to the next test server, and then the "closed" port
 * answers. */
int srv_hold_port(int port)
{
	int got;

	return bind_port("127.0.0.1", port, false, &got);
}

int srv_hold_closed_port(int *port)
{
	return bind_port("127.0.0.1", 0, false, port);
}

bool srv_ipv6_available(void)
{
	int port, fd = bind_port("::1", 0, true, &port);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int srv_listen_loopback(int *port)
{
	return srv_listen_silent("127.0.0.1", port);
}

int srv_listen_port(int port)
{
	int got, fd = bind_port("127.0.0.1", port, true, &got);

	if (fd >= 0 && listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int srv_listen_silent(const char *host, int *port)
{
	int fd = bind_port(host, 0, true, port);

	if (fd >= 0 && listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool srv_can_connect(const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, port, &ss);
	int fd, ok;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static pid_t spawn(const char *host, int port, const char *const *args)
{
	const char *argv[64];
	char accept[80];
	int n = 0;
	pid_t pid;

	snprintf(accept, sizeof(accept),
		 strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	argv[n++] = "openssl";
	argv[n++] = "s_server";
	argv[n++] = "-accept";
	argv[n++] = accept;
	argv[n++] = "-quiet";
	for (int i = 0; args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(devnull, 1);
		if (!getenv("SG_TEST_VERBOSE"))
			dup2(devnull, 2);
		execvp("openssl", (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to 5 s for the server to listen; 0 when it died first. */
static int wait_ready(struct srv *s, const char *host)
{
	struct timespec pause = {0, 20 * 1000000};

	for (int i = 0; i < 250; i++) {
		int status;

		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return 0;
		}
		if (srv_can_connect(host, s->port))
			return 1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

int srv_start_openssl(struct srv *s, const char *host, const char *const *args)
{
	for (int tries = 0; tries < 5; tries++) {
		s->port = srv_free_port(host);
		s->pid = spawn(host, s->port, args);
		if (s->pid > 0 && wait_ready(s, host))
			return 0;
		srv_stop(s);
	}
	return -1;
}

void srv_stop(struct srv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}
