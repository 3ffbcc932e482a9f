/* TLS probing: a strict "openssl s_client -status", repeated per target
 * until it is confirmed or refused, all targets at once on non-blocking
 * sockets driven by poll(2). */
#ifndef SG_PROBE_H
#define SG_PROBE_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <openssl/x509.h>

#include "certinfo.h"
#include "staple.h"
#include "target.h"

#define SG_DEFAULT_TIMEOUT_SEC 5
#define SG_DEFAULT_PARALLEL    256
/* Priming and confirmation (README, "Priming and confirmation"): a target
 * passes with SG_DEFAULT_CONFIRM good handshakes in a row. Before the
 * first good one, handshakes without a staple are priming (nginx fetches
 * per worker, lazily), retried with a backoff from SG_FIRST_RETRY_DELAY_MS
 * doubling up to the retry delay, at most SG_DEFAULT_ATTEMPTS of them and
 * no retry later than SG_DEFAULT_PRIMING_MS after the first handshake.
 * With the defaults that is up to 12 handshakes, 10 priming ones within
 * about 9 s. Measured (tests/test_confirm.c): nginx with 4 workers fetching
 * live sends no staple on each worker's first handshake, so it passes
 * after 4 to 7 handshakes in 0.3 to 2.9 s; the old 3 attempts refused it. */
#define SG_DEFAULT_CONFIRM	   3
#define SG_DEFAULT_ATTEMPTS	   10
#define SG_DEFAULT_RETRY_DELAY_SEC 1
#define SG_DEFAULT_PRIMING_MS	   10000L
#define SG_FIRST_RETRY_DELAY_MS	   250L
#define SG_CONFIRM_MAX		   100

struct sg_probe_opts {
	long timeout_ms;	   /* connect + handshake, per attempt */
	int attempts;		   /* handshakes allowed before the first good
				      staple; attempts + confirm - 1 in all */
	long retry_delay_ms;	   /* longest pause after a handshake without
				      a staple (backoff up to it) */
	long priming_ms;	   /* no retry starts later than this after
				      the target's first handshake */
	int confirm;		   /* good handshakes in a row that pass */
	int key_type;		   /* EVP_PKEY_* of the new certificate, 0:
				      none (names it in the key-type note) */
	int parallel;		   /* simultaneous connections */
	long long deadline_ms;	   /* sg_now_ms clock, 0: none. Bounds name
				      resolution and every attempt; a
				      target whose turn has not come by
				      then is not probed */
	const char *sigalgs;	   /* offered signature algorithms, NULL: all */
	const char *servername;	   /* SNI for every target, NULL: see below */
	const char *ip_servername; /* SNI for IP targets, NULL: none */
	STACK_OF(X509) *issuers;   /* issuer candidates beyond the served
				      chain (--chain, the new bundle) */
	X509_STORE *store;	   /* roots for chain validation */
	struct sg_policy policy;
	/* Results hold the served leaf and its issuer: set by the prober
	 * for an extra job (sg_probe_run_extra), which reads them there;
	 * the parent's results never hold them. */
	bool keep_certs;
};

struct sg_probe_pool;

/* One target's result. At 10,000 targets these dominate the memory of a
 * run, so a result holds no text of its own: the strings and the served
 * certificate point into a pool shared by every result of the run (one
 * certificate record per distinct served chain, each distinct string
 * once), which sg_probe_free releases with the last of them. None of the
 * pointers is ever NULL once sg_probe_run has run: "" and an empty
 * certificate stand for nothing. */
struct sg_probe {
	char address[64];	/* "127.0.0.1:443", "[::1]:443" */
	const char *servername; /* "" when no SNI was sent */
	bool connected;		/* TCP connection made */
	bool handshake_ok;	/* last attempt completed TLS */
	bool chain_valid;
	const char *tls_version;
	const struct sg_certinfo *served; /* valid when handshake_ok */
	const char *chain_reason;
	struct sg_staple staple; /* of the last handshake */
	/* With keep_certs, of the last handshake (owned references, NULL
	 * when not seen or not found): monitor asks their responder. */
	X509 *leaf, *issuer;
	int attempts;	/* handshakes made */
	int stapled;	/* of those, with a fresh valid staple */
	int streak;	/* good handshakes in a row at the end */
	bool confirmed; /* streak reached confirm: only then may it pass */
	long elapsed_ms;
	const char *error; /* why no handshake, "" on success */
	/* The server could not negotiate the new certificate's key type
	 * (sigalgs offered): probed with what it serves. "" otherwise. */
	const char *key_note;
	struct sg_probe_pool *pool; /* what the pointers above point into */
};

void sg_probe_opts_init(struct sg_probe_opts *o);

/* Probes targets[0..n) into results[0..n) (same order), in the prober
 * (sandbox.h). The caller ignores SIGPIPE: a peer that resets
 * mid-handshake must not kill us. Per-target failures land in each
 * result; a failure to set up at all (no memory, no TLS context) or a
 * prober that died or answered wrongly is returned. */
sg_result sg_probe_run(const struct sg_target *targets, size_t n,
		       const struct sg_probe_opts *opts,
		       struct sg_probe *results);

/* More work for the prober on the same handshakes (monitor asks each
 * served certificate's responder): job runs in the prober after the
 * probe, on its results with leaf and issuer kept, and writes its own
 * lines (sg_sandbox_put, with a "t" other than "cert"/"probe"); take
 * reads them in the parent. */
struct sg_probe_extra {
	sg_result (*job)(void *arg, const struct sg_probe *results, size_t n,
			 FILE *out);
	sg_result (*take)(void *arg, const char *type, json_t *line);
	void *arg;
};

sg_result sg_probe_run_extra(const struct sg_target *targets, size_t n,
			     const struct sg_probe_opts *opts,
			     struct sg_probe *results,
			     const struct sg_probe_extra *extra);

/* The parent's reading of a probe answer given as text, as sg_probe_run
 * takes it from its prober: for the fuzzer (tests/fuzz/fuzz_answer.c). */
sg_result sg_probe_take_answer(const char *text, size_t len, size_t n,
			       struct sg_probe *results);

/* The probe itself, in this process: for the prober only (anywhere else
 * it refuses to touch the network, see sandbox.h). */
sg_result sg_probe_run_local(const struct sg_target *targets, size_t n,
			     const struct sg_probe_opts *opts,
			     struct sg_probe *results);

/* Empty results, as a run starts them: nothing connected, every pointer
 * at "" or the empty certificate, no pool. For results built by hand. */
void sg_probe_init(struct sg_probe *results, size_t n);

/* Releases results[0..n) (their share of the pool), leaving them as
 * sg_probe_init does. */
void sg_probe_free(struct sg_probe *results, size_t n);

/* Signature algorithms matching a key type, for SSL_set1_sigalgs_list:
 * a dual RSA/ECDSA server then answers with the certificate of that
 * type. NULL for key types without a restriction. */
const char *sg_sigalgs_for_key(int evp_pkey_type);

#endif
