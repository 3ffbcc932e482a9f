#include "tnginx.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "servers.h"
#include "testutil.h"

static void nginx_write_conf(struct nginx *n, const char *stapling)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "worker_processes %d;\ndaemon off;\npid %s/nginx.pid;\n"
		 "error_log %s/error.log info;\n"
		 "events { worker_connections 64; }\n"
		 "http {\n access_log off;\n"
		 " client_body_temp_path %s/tmp;\n"
		 " server {\n  listen 127.0.0.1:%d ssl;\n"
		 "  server_name shop.example;\n"
		 "  ssl_certificate %s;\n  ssl_certificate_key %s;\n"
		 "  ssl_stapling on;\n  %s\n"
		 " }\n}\n",
		 n->workers ? n->workers : 2, n->prefix, n->prefix, n->prefix,
		 n->port, n->cert, tpath("leaf.key"), stapling);
	write_text(n->conf, text, 0644);
}

void nginx_start(struct nginx *n, struct scene *s, const char *stapling)
{
	snprintf(n->prefix, sizeof(n->prefix), "%s/nginx", s->dir);
	mkdir(n->prefix, 0755);
	snprintf(n->conf, sizeof(n->conf), "%s/nginx.conf", n->prefix);
	snprintf(n->cert, sizeof(n->cert), "%s/cert.pem", n->prefix);
	fx_write_pem(n->cert, T_PKI->leaf_ms, T_PKI->ca, NULL);
	for (int tries = 0; tries < 5; tries++) {
		n->port = srv_free_port("127.0.0.1");
		nginx_write_conf(n, stapling);
		n->pid = fork();
		if (n->pid == 0) {
			int devnull = open("/dev/null", O_RDWR);

			dup2(devnull, 1);
			dup2(devnull, 2);
			execlp("nginx", "nginx", "-p", n->prefix, "-c", n->conf,
			       NULL);
			_exit(127);
		}
		for (int i = 0; i < 100; i++) {
			int st;

			if (waitpid(n->pid, &st, WNOHANG) == n->pid)
				break;
			if (srv_can_connect("127.0.0.1", n->port))
				return;
			usleep(20000);
		}
		kill(n->pid, SIGKILL);
		waitpid(n->pid, NULL, 0);
	}
	ck_abort_msg("nginx did not start (see %s/error.log)", n->prefix);
}

void nginx_stop(struct nginx *n)
{
	kill(n->pid, SIGTERM);
	waitpid(n->pid, NULL, 0);
}
