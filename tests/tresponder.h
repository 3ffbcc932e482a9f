/* An OCSP responder over HTTP on 127.0.0.1 (one thread, OpenSSL API): it
 * answers each request for the certificate it names, signed by the test
 * CA, or misbehaves on purpose. Test code only. */
#ifndef SG_TRESPONDER_H
#define SG_TRESPONDER_H

#include <pthread.h>
#include <stddef.h>

#include <openssl/x509.h>

enum tr_mode {
	TR_STATUS,  /* a signed answer with cert_status */
	TR_GARBAGE, /* 200 with bytes that are no OCSP response */
	TR_HTTP500,
	TR_GET_ONLY,	 /* answers GET, refuses POST with 405 */
	TR_HUGE,	 /* 200 with a 1 MiB body */
	TR_BYTES,	 /* 200 with body, whatever is asked */
	TR_UNSUCCESSFUL, /* 200 with an OCSPResponse of resp_status only
			    (tryLater 3, internalError 2) */
};

struct tresponder {
	enum tr_mode mode;
	int cert_status;  /* V_OCSP_CERTSTATUS_* for TR_STATUS */
	X509 *answer_for; /* answer about this cert instead, NULL: as asked */
	long delay_ms;	  /* wait before answering */
	long next_off;	  /* nextUpdate - now, 0: 7 days */
	int resp_status;  /* TR_UNSUCCESSFUL */
	X509 *ca;
	EVP_PKEY *ca_key;
	/* a delegated responder signs instead, its certificate included;
	 * NULL: the CA signs */
	X509 *signer;
	EVP_PKEY *signer_key;
	int want_port;		   /* 0: any free port */
	const unsigned char *body; /* TR_BYTES: not owned */
	size_t body_len;
	/* runtime */
	int fd, port;
	pthread_t thread;
	volatile int stop;
	volatile int requests;
	int last_was_post;
};

int tr_start(struct tresponder *t);
void tr_stop(struct tresponder *t);

#endif
