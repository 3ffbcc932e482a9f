/* responder CA.pem CA.key PORT: the test OCSP responder as a program, on
 * 127.0.0.1:PORT, answering "good" for whatever certificate it is asked
 * about, signed by the CA. For the demo; runs until killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "tresponder.h"

int main(int argc, char **argv)
{
	struct tresponder t = {.mode = TR_STATUS,
			       .cert_status = V_OCSP_CERTSTATUS_GOOD};
	FILE *f;

	/* a client that hangs up before the answer must not stop it */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 4) {
		fprintf(stderr, "usage: responder CA.pem CA.key PORT\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	t.ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(argv[2], "r");
	t.ca_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	t.want_port = atoi(argv[3]);
	if (t.ca == NULL || t.ca_key == NULL || tr_start(&t) != 0) {
		fprintf(stderr, "responder: cannot start\n");
		return 1;
	}
	pause();
	return 0;
}
