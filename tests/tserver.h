/* An in-process TLS server (OpenSSL, one thread) that can misbehave on
 * purpose: staple only from the Nth handshake, act as a pool of two
 * members stapling differently, speak something else than TLS, reset,
 * drip, or stay silent. Test code only. */
#ifndef SG_TSERVER_H
#define SG_TSERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

enum ts_mode {
	TS_TLS,	   /* a normal TLS server */
	TS_BANNER, /* sends an SSH banner and closes */
	TS_RESET,  /* reads the ClientHello, then resets the connection */
	TS_DRIP,   /* sends one byte a second, forever */
	TS_ANON,   /* TLS 1.2 with anonymous ciphers only: no certificate */
	TS_EMPTY_CHAIN, /* a hand-made TLS 1.2 ServerHello, then a Certificate
			   message with an empty certificate_list */
};

struct tserver {
	enum ts_mode mode;
	X509 *cert;
	EVP_PKEY *key;
	X509 *chain; /* sent after the leaf, may be NULL */
	const unsigned char *staple;
	size_t staple_len;
	int staple_from; /* first handshake (1-based) carrying the staple */
	int max_version; /* e.g. TLS1_2_VERSION, 0: any */
	long delay_ms;	 /* TS_TLS: wait this long before each handshake */
	/* Once swap_file exists (a deploy command touched it), serve cert2
	 * (same key) and staple2 from its staple2_from-th handshake on:
	 * a reload, with nginx's lazy stapling when staple2_from > 1. */
	const char *swap_file;
	X509 *cert2;
	const unsigned char *staple2;
	size_t staple2_len;
	int staple2_from;
	/* A pool of two behind one address: when pool_b is set, every
	 * second connection (the 2nd, 4th, ...) reaches member B, which
	 * staples staple_b (NULL: nothing). */
	bool pool_b;
	const unsigned char *staple_b;
	size_t staple_b_len;
	/* runtime */
	volatile int swapped; /* handshakes since the swap, 0: not yet */
	int fd, port;
	pthread_t thread;
	volatile int stop;
	volatile int connections;
};

int ts_start(struct tserver *t); /* binds 127.0.0.1:0; 0 or -1 */
void ts_stop(struct tserver *t);

#endif
