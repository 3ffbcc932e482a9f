/* GnuTLS as an oracle: a second, independent client that enforces
 * Must-Staple (gnutls-cli from Debian's gnutls-bin). For every staple
 * variant below, a real TLS server (tests/tserver.c, which sends the
 * bytes verbatim) serves the Must-Staple leaf with it; gnutls-cli
 * connects, and staplegate check and probe judge the same server. Rule:
 * whenever GnuTLS refuses, staplegate never allows.
 *
 * Where GnuTLS is laxer, staplegate is stricter on purpose, because
 * Firefox (mozilla::pkix) refuses or because a staple that is valid now
 * would not last (README, "What counts as a stapled response"):
 * - "unknown" status: GnuTLS accepts it; Firefox treats it as a failure.
 * - thisUpdate in the future (beyond the skew): GnuTLS accepts it;
 *   Firefox refuses (ERROR_OCSP_FUTURE_RESPONSE).
 * - thisUpdate older than 10 days with nextUpdate still ahead: GnuTLS
 *   accepts; Firefox counts it as expired 10 days after thisUpdate.
 * - no nextUpdate: GnuTLS accepts a recent one; servers disagree on it.
 * - under the headroom (nextUpdate a few hours away): valid for both, but
 *   not fresh enough to deploy on.
 * - an unknown critical extension, in ResponseData or SingleResponse:
 *   GnuTLS ignores extensions; Firefox refuses.
 * - an OCSPResponse length that is not minimal (BER), or an explicit
 *   ResponseData version: GnuTLS's parser takes them; Firefox parses DER
 *   only.
 * - a delegated responder certificate that is a CA, or an MD5 CertID:
 *   GnuTLS accepts; Firefox refuses (a CA responder) or skips the
 *   response (MD5 CertID), so no response for the certificate is left.
 * Both refuse the rest: no staple, revoked, stale, another serial, a bad
 * or MD5 signature, a BER length inside the signed ResponseData, an
 * expired or not-yet-valid delegated responder, and a staple whose first
 * SingleResponse is not the served certificate's (GnuTLS reads only the
 * first, and takes a status naming another issuer as the certificate's).
 * Staplegate and GnuTLS both accept: fresh, non-critical extensions and
 * a nonce, other SingleResponses after the served certificate's. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#include "runcli.h"
#include "testutil.h"

enum who {
	SIGNED_BY_CA,
	BY_OTHER_CA,
	BY_RSA_RESPONDER,
	BY_CA_RESPONDER,
	BY_EXPIRED_RESPONDER,
	BY_FUTURE_RESPONDER
};

struct variant {
	const char *name;
	enum who signer;
	bool no_staple;
	bool for_other_cert; /* the staple names another serial */
	bool gnutls_accepts; /* what GnuTLS 3.7 does with it, checked */
	bool allow;	     /* what staplegate check and probe do with it */
	bool probe_allows;   /* valid, not fresh: probe passes, check not */
	struct fx_staple_opts o;
	struct fx_strict_opts s;
};

static void signer_of(enum who w, X509 **cert, EVP_PKEY **key)
{
	switch (w) {
	case BY_OTHER_CA:
		*cert = T_PKI->other_ca, *key = T_PKI->other_key;
		break;
	case BY_RSA_RESPONDER:
		*cert = T_STRICT->responder_rsa, *key = T_PKI->rsa_key;
		break;
	case BY_CA_RESPONDER:
		*cert = T_STRICT->responder_ca, *key = T_PKI->resp_key;
		break;
	case BY_EXPIRED_RESPONDER:
		*cert = T_STRICT->responder_expired, *key = T_PKI->resp_key;
		break;
	case BY_FUTURE_RESPONDER:
		*cert = T_STRICT->responder_future, *key = T_PKI->resp_key;
		break;
	default:
		*cert = T_PKI->ca, *key = T_PKI->ca_key;
	}
}

/* Runs gnutls-cli against port: 1 when it completed the handshake with
 * the certificate trusted, 0 when it refused the certificate, -1 when
 * neither (it could not run or connect); its output in log. Its exit
 * status cannot tell: the test server closes without close_notify. */
static int gnutls(int port, char *log, size_t size)
{
	char portarg[16], out[600];
	int status, fd;
	pid_t pid;
	FILE *f;
	size_t n;

	snprintf(portarg, sizeof(portarg), "%d", port);
	snprintf(out, sizeof(out), "%s/gnutls-%d.out", T_PKI->dir, getpid());
	pid = fork();
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		execlp("timeout", "timeout", "30", "gnutls-cli", "--x509cafile",
		       tpath("root.pem"), "--sni-hostname", "shop.example",
		       "--verify-hostname", "shop.example", "--port", portarg,
		       "127.0.0.1", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	f = fopen(out, "r");
	n = f ? fread(log, 1, size - 1, f) : 0;
	log[n] = '\0';
	if (f)
		fclose(f);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -1;
	if (strstr(log, "The certificate is trusted.") &&
	    strstr(log, "Handshake was completed"))
		return 1;
	if (strstr(log, "is NOT trusted") ||
	    strstr(log, "Error in the certificate"))
		return 0;
	return -1;
}

static void run_variant(const struct variant *v)
{
	X509 *signer;
	EVP_PKEY *key;
	size_t len = 0;
	unsigned char *der = NULL;
	struct tserver t;
	struct cli_run check, probe;
	char target[32], log[4096];
	int rc;

	signer_of(v->signer, &signer, &key);
	if (!v->no_staple)
		der = fx_staple_strict(
			v->for_other_cert ? T_PKI->leaf_plain : T_PKI->leaf_ms,
			T_PKI->ca, signer, key, &v->o, &v->s, &len);
	t = tserver_ms(der, len);
	ck_assert_msg(ts_start(&t) == 0, "%s: server", v->name);
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	rc = gnutls(t.port, log, sizeof(log));
	cli(&check, "check", "--cert", tpath("fullchain-ms.pem"), "--CAfile",
	    tpath("root.pem"), "--target", target, "--attempts", "1", NULL);
	cli(&probe, "probe", target, "--servername", "shop.example", "--CAfile",
	    tpath("root.pem"), "--attempts", "1", NULL);
	ts_stop(&t);
	OPENSSL_free(der);

	ck_assert_msg(rc >= 0,
		      "%s: gnutls-cli neither accepted nor refused (is "
		      "gnutls-bin installed? tests/deps.sh, .ci/run):\n%s",
		      v->name, log);
	ck_assert_msg(rc == v->gnutls_accepts,
		      "%s: GnuTLS %s, expected it to %s:\n%s", v->name,
		      rc ? "accepts" : "refuses",
		      v->gnutls_accepts ? "accept" : "refuse", log);
	/* the rule */
	if (rc == 0) {
		ck_assert_msg(check.status != 0,
			      "%s: GnuTLS refuses, check allows:\n%s", v->name,
			      check.out);
		ck_assert_msg(probe.status != 0,
			      "%s: GnuTLS refuses, probe allows:\n%s", v->name,
			      probe.out);
	}
	ck_assert_msg((check.status == 0) == v->allow,
		      "%s: check exit %d, expected %s:\n%s%s", v->name,
		      check.status, v->allow ? "allow" : "refuse", check.out,
		      check.err);
	ck_assert_msg((probe.status == 0) == (v->allow || v->probe_allows),
		      "%s: probe exit %d, expected %s:\n%s%s", v->name,
		      probe.status,
		      v->allow || v->probe_allows ? "allow" : "refuse",
		      probe.out, probe.err);
}

START_TEST(gnutls_refusal_is_never_a_staplegate_allow)
{
	struct fx_staple_opts g = fx_staple_good();
	struct fx_strict_opts d = fx_strict_none();
	struct variant v[] = {
		{.name = "fresh", .gnutls_accepts = true, .allow = true},
		{.name = "none", .no_staple = true},
		{.name = "revoked"},
		{.name = "unknown", .gnutls_accepts = true},
		{.name = "stale"},
		{.name = "future thisUpdate", .gnutls_accepts = true},
		{.name = "older than 10 days", .gnutls_accepts = true},
		{.name = "no nextUpdate", .gnutls_accepts = true},
		{.name = "under the headroom",
		 .gnutls_accepts = true,
		 .probe_allows = true},
		{.name = "wrong serial", .for_other_cert = true},
		{.name = "bad signature", .signer = BY_OTHER_CA},
		{.name = "critical extension in ResponseData",
		 .gnutls_accepts = true},
		{.name = "critical extension in SingleResponse",
		 .gnutls_accepts = true},
		{.name = "non-critical extensions and nonce",
		 .gnutls_accepts = true,
		 .allow = true},
		{.name = "MD5 signature", .signer = BY_RSA_RESPONDER},
		{.name = "MD5 CertID", .gnutls_accepts = true},
		{.name = "BER OCSPResponse length", .gnutls_accepts = true},
		{.name = "BER ResponseData length"},
		{.name = "explicit version v2", .gnutls_accepts = true},
		{.name = "CA as delegated responder",
		 .signer = BY_CA_RESPONDER,
		 .gnutls_accepts = true},
		{.name = "expired delegated responder",
		 .signer = BY_EXPIRED_RESPONDER},
		{.name = "not yet valid delegated responder",
		 .signer = BY_FUTURE_RESPONDER},
		{.name = "another issuer's response after ours",
		 .gnutls_accepts = true,
		 .allow = true},
		{.name = "unknown-hash response after ours",
		 .gnutls_accepts = true,
		 .allow = true},
		/* GnuTLS reads only the first SingleResponse */
		{.name = "another issuer's response before ours"},
		{.name = "unknown-hash response before ours"},
	};
	size_t n = sizeof(v) / sizeof(v[0]);

	for (size_t i = 0; i < n; i++) {
		v[i].o = g;
		v[i].s = d;
		v[i].o.include_signer = v[i].signer != SIGNED_BY_CA;
	}
	v[2].o.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	v[3].o.cert_status = V_OCSP_CERTSTATUS_UNKNOWN;
	v[4].o.this_off = -3 * 86400, v[4].o.next_off = -2 * 86400;
	v[5].o.this_off = 2 * 86400, v[5].o.next_off = 9 * 86400;
	v[6].o.this_off = -11 * 86400, v[6].o.next_off = 3 * 86400;
	v[7].o.no_next = true;
	v[8].o.next_off = 3 * 3600;
	v[11].s.critical_ext = FX_IN_RESPONSE_DATA;
	v[12].s.critical_ext = FX_IN_SINGLE;
	v[13].s.plain_ext = FX_IN_SINGLE, v[13].s.nonce = true;
	v[14].s.sig_md = EVP_md5();
	v[15].o.id_md = EVP_md5();
	v[16].s.ber = FX_BER_OUTER;
	v[17].s.ber = FX_BER_RESPONSE_DATA;
	v[18].s.version = 1;
	v[22].s.extra = FX_EXTRA_OTHER_ISSUER;
	v[23].s.extra = FX_EXTRA_UNKNOWN_HASH;
	v[24].s.extra = FX_EXTRA_OTHER_ISSUER, v[24].s.extra_first = true;
	v[25].s.extra = FX_EXTRA_UNKNOWN_HASH, v[25].s.extra_first = true;
	for (size_t i = 0; i < n; i++)
		run_variant(&v[i]);
}
END_TEST

Suite *gnutls_suite(void)
{
	Suite *s = suite_create("gnutls");
	TCase *tc = tcase_create("oracle");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, gnutls_refusal_is_never_a_staplegate_allow);
	suite_add_tcase(s, tc);
	return s;
}
