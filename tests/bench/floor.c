/* floor TARGETS_FILE [PARALLEL [HANDSHAKES]]: the raw floor for the
 * benchmark. The least any checker must do: concurrent non-blocking TLS
 * handshakes with status_request, epoll-driven, no verification, no
 * parsing, nothing kept. HANDSHAKES (default 1) per target, one after the
 * other, as staplegate confirms a target. Prints how many handshakes
 * completed and how many carried a staple. IPv4 "a.b.c.d:port" targets
 * only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

struct conn {
	int fd;
	SSL *ssl;
	struct sockaddr_in addr;
	int left; /* handshakes still to make with this target */
};

static int nconn, next, done, ok, stapled, per_target = 1;
static struct conn *conns;
static int ep, parallel;
static SSL_CTX *ctx;

static void start(struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};

	if (c->left == 0)
		c->left = per_target;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(c->fd, (struct sockaddr *)&c->addr, sizeof(c->addr)) != 0 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		done++;
		return;
	}
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void finish(struct conn *c, int good)
{
	const unsigned char *resp;

	if (good) {
		ok++;
		stapled += SSL_get_tlsext_status_ocsp_resp(c->ssl, &resp) > 0;
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	close(c->fd);
	if (good && --c->left > 0) {
		start(c); /* the same target again, at once */
		return;
	}
	done++;
	if (next < nconn)
		start(&conns[next++]);
}

static void step(struct conn *c)
{
	int rc = SSL_connect(c->ssl), e;
	struct epoll_event ev = {.data.ptr = c};

	if (rc == 1) {
		finish(c, 1);
		return;
	}
	e = SSL_get_error(c->ssl, rc);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		finish(c, 0);
		return;
	}
	ev.events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[128], ip[64];
	int port, cap = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[0-9.]:%d", ip, &port) != 2)
			continue;
		if (nconn == cap) {
			cap = cap ? 2 * cap : 256;
			conns = realloc(conns, (size_t)cap * sizeof(*conns));
		}
		memset(&conns[nconn], 0, sizeof(conns[0]));
		conns[nconn].addr.sin_family = AF_INET;
		conns[nconn].addr.sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, ip, &conns[nconn].addr.sin_addr);
		nconn++;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];

	if (argc < 2 || load(argv[1]) != 0) {
		fprintf(stderr,
			"usage: floor TARGETS_FILE [PARALLEL [HANDSHAKES]]\n");
		return 2;
	}
	parallel = argc > 2 ? atoi(argv[2]) : 256;
	per_target = argc > 3 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 1;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
	ep = epoll_create1(0);
	while (next < nconn && next < parallel)
		start(&conns[next++]);
	while (done < nconn) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++)
			step(evs[i].data.ptr);
	}
	printf("floor: %d targets, %d handshakes, %d stapled\n", nconn, ok,
	       stapled);
	SSL_CTX_free(ctx);
	free(conns);
	return 0;
}
