#include "tserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "servers.h"

static int status_cb(SSL *ssl, void *arg)
{
	struct tserver *t = arg;
	unsigned char *copy;

	const unsigned char *staple = t->swapped ? t->staple2 : t->staple;
	size_t len = t->swapped ? t->staple2_len : t->staple_len;
	int count = t->swapped ? t->swapped : t->connections;
	int from = t->swapped ? t->staple2_from : t->staple_from;

	if (t->pool_b && t->connections % 2 == 0) {
		staple = t->staple_b;
		len = t->staple_b_len;
		from = count;
	}
	if (staple == NULL || count < from)
		return SSL_TLSEXT_ERR_NOACK;
	copy = OPENSSL_memdup(staple, len);
	if (copy == NULL ||
	    !SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)len))
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *make_ctx(struct tserver *t)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (t->mode == TS_EMPTY_CHAIN || ctx == NULL ||
	    !SSL_CTX_use_certificate(ctx, t->cert) ||
	    !SSL_CTX_use_PrivateKey(ctx, t->key)) {
		SSL_CTX_free(ctx); /* the hand-made modes need none */
		ERR_clear_error();
		return NULL;
	}
	if (t->chain) {
		X509_up_ref(t->chain);
		SSL_CTX_add1_chain_cert(ctx, t->chain);
		X509_free(t->chain);
	}
	if (t->max_version)
		SSL_CTX_set_max_proto_version(ctx, t->max_version);
	if (t->mode == TS_ANON) {
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_cipher_list(ctx, "aNULL:@SECLEVEL=0");
	}
	SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
	SSL_CTX_set_tlsext_status_arg(ctx, t);
	return ctx;
}

static bool stopping(struct tserver *t, int ms)
{
	struct pollfd p = {t->fd, POLLIN, 0};

	if (ms > 0)
		poll(&p, 0, ms);
	return t->stop;
}

static void serve_tls(struct tserver *t, SSL_CTX *ctx, int fd)
{
	SSL *ssl;

	for (long waited = 0; waited < t->delay_ms; waited += 100)
		if (stopping(t, 100))
			return;
	ssl = SSL_new(ctx);

	SSL_set_fd(ssl, fd);
	if (t->swap_file && access(t->swap_file, F_OK) == 0) {
		t->swapped++;
		SSL_use_certificate(ssl, t->cert2);
		SSL_use_PrivateKey(ssl, t->key);
	}
	if (SSL_accept(ssl) == 1)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
}

/* What no OpenSSL server will send: ServerHello (TLS 1.2,
 * ECDHE-ECDSA-AES128-GCM-SHA256, renegotiation_info) and then a
 * Certificate message whose certificate_list is empty. */
static void send_empty_chain(int fd)
{
	static const unsigned char hello_head[] = {
		0x16, 0x03, 0x03, 0x00, 0x31,	     /* record: handshake, 49 */
		0x02, 0x00, 0x00, 0x2d, 0x03, 0x03}; /* ServerHello, 45, v1.2 */
	static const unsigned char hello_tail[] = {
		0x00,	    /* empty session id */
		0xc0, 0x2b, /* ECDHE-ECDSA-AES128-GCM-SHA256 */
		0x00,	    /* no compression */
		0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00}; /* reneg. info */
	static const unsigned char empty_chain[] = {
		0x16, 0x03, 0x03, 0x00, 0x07, /* record: handshake, 7 */
		0x0b, 0x00, 0x00, 0x03,	      /* Certificate, 3 */
		0x00, 0x00, 0x00};	      /* certificate_list: none */
	unsigned char msg[sizeof(hello_head) + 32 + sizeof(hello_tail) +
			  sizeof(empty_chain)],
		*p = msg;

	memcpy(p, hello_head, sizeof(hello_head));
	p += sizeof(hello_head);
	memset(p, 0x5a, 32); /* server random, no downgrade sentinel */
	p += 32;
	memcpy(p, hello_tail, sizeof(hello_tail));
	p += sizeof(hello_tail);
	memcpy(p, empty_chain, sizeof(empty_chain));
	(void)!write(fd, msg, sizeof(msg));
}

static void serve(struct tserver *t, SSL_CTX *ctx, int fd)
{
	static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian\r\n";
	struct timeval tv = {3, 0};
	struct linger rst = {1, 0};
	char buf[512];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	switch (t->mode) {
	case TS_TLS:
	case TS_ANON:
		serve_tls(t, ctx, fd);
		break;
	case TS_BANNER:
		(void)!write(fd, banner, sizeof(banner) - 1);
		break;
	case TS_EMPTY_CHAIN:
		(void)!read(fd, buf, sizeof(buf));
		send_empty_chain(fd);
		(void)!read(fd, buf, sizeof(buf)); /* the client's alert */
		break;
	case TS_RESET:
		(void)!read(fd, buf, sizeof(buf));
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
		break;
	case TS_DRIP:
		for (int i = 0; i < 60 && !stopping(t, 1000); i++)
			if (write(fd, "\x16", 1) != 1)
				break;
		break;
	}
	close(fd);
}

static void *run(void *arg)
{
	struct tserver *t = arg;
	SSL_CTX *ctx = make_ctx(t);

	while (!t->stop) {
		struct pollfd p = {t->fd, POLLIN, 0};
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(t->fd, NULL, NULL);
		if (fd < 0)
			continue;
		t->connections++;
		serve(t, ctx, fd);
	}
	SSL_CTX_free(ctx);
	return NULL;
}

int ts_start(struct tserver *t)
{
	t->stop = 0;
	t->connections = 0;
	t->swapped = 0;
	if (t->staple_from < 1)
		t->staple_from = 1;
	if (t->staple2_from < 1)
		t->staple2_from = 1;
	t->fd = srv_listen_loopback(&t->port);
	if (t->fd < 0)
		return -1;
	return pthread_create(&t->thread, NULL, run, t) == 0 ? 0 : -1;
}

void ts_stop(struct tserver *t)
{
	t->stop = 1;
	pthread_join(t->thread, NULL);
	close(t->fd);
}
