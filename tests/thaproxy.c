#include "thaproxy.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "scene.h"
#include "servers.h"
#include "testutil.h"

static void haproxy_write_cfg(struct haproxy *h)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "global\n    stats socket %s mode 600 level admin\n"
		 "defaults\n    mode tcp\n    timeout connect 5s\n"
		 "    timeout client 30s\n    timeout server 30s\n"
		 "frontend https\n    bind 127.0.0.1:%d ssl crt %s\n"
		 "    default_backend app\n"
		 "backend app\n    server app1 127.0.0.1:9\n",
		 h->sock, h->port, h->crt);
	write_text(h->cfg, text, 0644);
}

/* HAProxy 2.6 reads <crt>.key when the crt file holds no key, and
 * <crt>.ocsp for the staple; the issuer must be in the chain for it to
 * accept the staple. */
static void haproxy_write_files(struct haproxy *h, X509 *cert,
				const unsigned char *staple, size_t len)
{
	char key[720];

	snprintf(h->cfg, sizeof(h->cfg), "%s/haproxy.cfg", h->dir);
	snprintf(h->crt, sizeof(h->crt), "%s/shop.pem", h->dir);
	snprintf(h->ocsp, sizeof(h->ocsp), "%s/shop.pem.ocsp", h->dir);
	snprintf(h->sock, sizeof(h->sock), "%s/admin.sock", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/haproxy.log", h->dir);
	snprintf(key, sizeof(key), "%s.key", h->crt);
	ck_assert_int_eq(fx_write_pem(h->crt, cert, T_PKI->ca, NULL), 0);
	ck_assert_int_eq(fx_write_key(key, T_PKI->leaf_key), 0);
	ck_assert_int_eq(fx_write_bytes(h->ocsp, staple, len), 0);
}

void haproxy_start(struct haproxy *h, const char *dir, X509 *cert,
		   const unsigned char *staple, size_t len)
{
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	mkdir(h->dir, 0700);
	haproxy_write_files(h, cert, staple, len);
	for (int tries = 0; tries < 5; tries++) {
		h->port = srv_free_port("127.0.0.1");
		haproxy_write_cfg(h);
		unlink(h->sock);
		h->pid = fork();
		if (h->pid == 0) {
			int log = open(h->log, O_WRONLY | O_CREAT | O_TRUNC,
				       0644);

			dup2(log, 1);
			dup2(log, 2);
			execlp("haproxy", "haproxy", "-db", "-f", h->cfg, NULL);
			_exit(127);
		}
		for (int i = 0; i < 250; i++) {
			int st;

			if (waitpid(h->pid, &st, WNOHANG) == h->pid)
				break;
			if (srv_can_connect("127.0.0.1", h->port) &&
			    access(h->sock, F_OK) == 0)
				return;
			usleep(20000);
		}
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	ck_abort_msg("haproxy did not start (see %s)", h->log);
}

void haproxy_stop(struct haproxy *h)
{
	kill(h->pid, SIGTERM);
	waitpid(h->pid, NULL, 0);
}
