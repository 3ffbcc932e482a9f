/* Shared by the test suites: the test PKI (made once, before Check forks
 * each test) and small helpers. */
#ifndef SG_TESTUTIL_H
#define SG_TESTUTIL_H

#include <check.h>

#include "fixture.h"

extern struct fx_pki *T_PKI;
extern const char *T_BUILD; /* build directory, for the CLI binary */

/* T_PKI->dir/name, in a static rotating buffer (4 slots). */
const char *tpath(const char *name);

/* Writes a staple for leaf (issuer ca, signed by ca unless signer given)
 * to T_PKI->dir/name; returns the path (valid for the next 7 calls). */
const char *tstaple_file(const char *name, X509 *leaf,
			 const struct fx_staple_opts *o);

Suite *unit_suite(void);
Suite *staple_suite(void);
Suite *probe_suite(void);
Suite *cli_suite(void);
Suite *hook_suite(void);
Suite *faults_suite(void);
Suite *store_suite(void);
Suite *monitor_suite(void);
Suite *contrib_suite(void);

#endif
