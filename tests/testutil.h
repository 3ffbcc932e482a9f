/* Shared by the test suites: the test PKI (made once, before Check forks
 * each test) and small helpers. */
#ifndef SG_TESTUTIL_H
#define SG_TESTUTIL_H

#include <check.h>

#include "../preflight/check.h"
#include "fixture.h"
#include "fx_strict.h"
#include "tserver.h"

extern struct fx_pki *T_PKI;
extern struct fx_strict_pki *T_STRICT; /* made with T_PKI, same dir */
extern const char *T_BUILD;	       /* build directory, for the CLI binary */

/* T_PKI->dir/name, in a static rotating buffer (4 slots). */
const char *tpath(const char *name);

/* Writes a staple for leaf (issuer ca, signed by ca unless signer given)
 * to T_PKI->dir/name; returns the path (valid for the next 7 calls). */
const char *tstaple_file(const char *name, X509 *leaf,
			 const struct fx_staple_opts *o);

/* A good staple for the Must-Staple leaf, signed by the CA; free it with
 * OPENSSL_free. */
unsigned char *tstaple_good(size_t *len);

/* Check options for the Must-Staple leaf (full chain) against the test
 * root and one target, 127.0.0.1:port, parsed into *t (sg_target_free
 * it); set the probe's options after. */
void tcheck_one(struct sg_check_opts *o, struct sg_target *t, int port);

/* A TLS server for the Must-Staple leaf, the CA as its chain, stapling
 * der (NULL: no staple); set other fields before ts_start. */
struct tserver tserver_ms(const unsigned char *der, size_t len);

Suite *unit_suite(void);
Suite *staple_suite(void);
Suite *probe_suite(void);
Suite *cli_suite(void);
Suite *hook_suite(void);
Suite *faults_suite(void);
Suite *store_suite(void);
Suite *monitor_suite(void);
Suite *records_suite(void);
Suite *contrib_suite(void);
Suite *gnutls_suite(void);
Suite *txn_suite(void);
Suite *deadline_suite(void);
Suite *confirm_suite(void);
Suite *operator_suite(void);
Suite *clients_suite(void);
Suite *signer_suite(void);
Suite *sandbox_suite(void);

#endif
