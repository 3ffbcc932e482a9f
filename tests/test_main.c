/* One Check runner for every suite, so the run ends in one summary line.
 * CK_RUN_SUITE / CK_RUN_CASE select parts, as Check documents. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/ocsp.h>

#include "testutil.h"
#include "../preflight/sandbox.h"

struct fx_pki *T_PKI;
struct fx_strict_pki *T_STRICT;
const char *T_BUILD = "build";

const char *tpath(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];

	return fx_path(T_PKI, name, b, sizeof(bufs[0]));
}

const char *tstaple_file(const char *name, X509 *leaf,
			 const struct fx_staple_opts *o)
{
	size_t len;
	unsigned char *der =
		fx_staple(leaf, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, o, &len);
	static char bufs[8][512]; /* own ring: tpath's slots rotate fast */
	static int next;
	char *path = fx_path(T_PKI, name, bufs[next++ % 8], sizeof(bufs[0]));

	fx_write_bytes(path, der, len);
	OPENSSL_free(der);
	return path;
}

unsigned char *tstaple_good(size_t *len)
{
	struct fx_staple_opts o = fx_staple_good();

	return fx_staple(T_PKI->leaf_ms, T_PKI->ca, T_PKI->ca, T_PKI->ca_key,
			 &o, len);
}

void tcheck_one(struct sg_check_opts *o, struct sg_target *t, int port)
{
	char spec[32];

	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	ck_assert_int_eq(sg_target_parse(spec, t).code, SG_OK);
	sg_check_opts_init(o);
	o->cert_path = tpath("fullchain-ms.pem");
	o->cafile = tpath("root.pem");
	o->targets = t;
	o->n = 1;
}

struct tserver tserver_ms(const unsigned char *der, size_t len)
{
	return (struct tserver){.mode = TS_TLS,
				.cert = T_PKI->leaf_ms,
				.key = T_PKI->leaf_key,
				.chain = T_PKI->ca,
				.staple = der,
				.staple_len = len};
}

int main(void)
{
	static struct fx_pki pki;
	static struct fx_strict_pki strict;
	SRunner *sr;
	int failed;
	char cmd[600];

	signal(SIGPIPE, SIG_IGN);
	/* Engine calls made in this process probe here, through the same
	 * answer encoding (sandbox.h): a prober forked from a process whose
	 * test servers run as threads could inherit a lock one of them
	 * holds. The sandbox itself is tested through the binary, which
	 * every CLI test runs (tests/test_sandbox.c). */
	sg_sandbox_setup(NULL, true);
	if (getenv("SG_BUILD"))
		T_BUILD = getenv("SG_BUILD");
	if (fx_pki_create(&pki, "/tmp/staplegate-test.XXXXXX") != 0 ||
	    fx_strict_create(&strict, &pki) != 0) {
		fprintf(stderr, "cannot create the test PKI\n");
		return 1;
	}
	T_PKI = &pki;
	T_STRICT = &strict;
	sr = srunner_create(unit_suite());
	srunner_add_suite(sr, staple_suite());
	srunner_add_suite(sr, probe_suite());
	srunner_add_suite(sr, confirm_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, hook_suite());
	srunner_add_suite(sr, faults_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, monitor_suite());
	srunner_add_suite(sr, records_suite());
	srunner_add_suite(sr, contrib_suite());
	srunner_add_suite(sr, gnutls_suite());
	srunner_add_suite(sr, txn_suite());
	srunner_add_suite(sr, deadline_suite());
	srunner_add_suite(sr, operator_suite());
	srunner_add_suite(sr, clients_suite());
	srunner_add_suite(sr, signer_suite());
	srunner_add_suite(sr, sandbox_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (!getenv("SG_KEEP_PKI")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki.dir);
		(void)!system(cmd);
	}
	fx_strict_free(&strict);
	fx_pki_free(&pki);
	return failed ? 1 : 0;
}
