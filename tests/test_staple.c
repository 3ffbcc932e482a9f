/* Strict staple verification against responses built by the fixture,
 * with a sample cross-checked against the `openssl ocsp` oracle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/ocsp.h>

#include "../preflight/bundle.h"
#include "../preflight/staple.h"
#include "../preflight/vcache.h"
#include "testutil.h"

static const struct sg_policy policy = {
	.skew_sec = SG_DEFAULT_SKEW_SEC,
	.min_remaining_sec = SG_DEFAULT_MIN_REMAINING_SEC,
	.max_age_sec = SG_DEFAULT_MAX_AGE_SEC,
};

/* Builds a staple for leaf signed by signer and verifies it as served
 * with the real issuer. */
static struct sg_staple verify_signed(X509 *leaf, X509 *signer, EVP_PKEY *key,
				      const struct fx_staple_opts *o)
{
	struct sg_staple st;
	size_t len;
	unsigned char *der = fx_staple(leaf, T_PKI->ca, signer, key, o, &len);

	sg_staple_verify(der, len, leaf, T_PKI->ca, &policy, time(NULL), &st);
	OPENSSL_free(der);
	return st;
}

static struct sg_staple verify_opts(const struct fx_staple_opts *o)
{
	return verify_signed(T_PKI->leaf_ms, T_PKI->ca, T_PKI->ca_key, o);
}

#define assert_reason(st, text)                                                \
	ck_assert_msg(strstr((st).reason, text) != NULL,                       \
		      "reason '%s' lacks '%s'", (st).reason, text)

START_TEST(good_signed_by_issuer)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st = verify_opts(&o);

	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
	ck_assert_int_eq(st.status, SG_STATUS_GOOD);
	ck_assert_int_ge(st.seconds_left, 7 * 86400 - 60);
	ck_assert_int_le(st.seconds_left, 7 * 86400);
}
END_TEST

START_TEST(good_with_sha256_certid)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.id_md = EVP_sha256();
	st = verify_opts(&o);
	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
}
END_TEST

START_TEST(good_by_delegated_responder)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.include_signer = true;
	st = verify_signed(T_PKI->leaf_ms, T_PKI->responder, T_PKI->resp_key,
			   &o);
	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
}
END_TEST

START_TEST(revoked_is_reported_with_reason)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	st = verify_opts(&o);
	ck_assert(!st.valid);
	ck_assert_int_eq(st.status, SG_STATUS_REVOKED);
	ck_assert_int_eq(st.revoke_reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
	ck_assert(st.revoked_at != 0);
	assert_reason(st, "revoked");
	assert_reason(st, "keyCompromise");
}
END_TEST

START_TEST(unknown_status_is_refused)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.cert_status = V_OCSP_CERTSTATUS_UNKNOWN;
	st = verify_opts(&o);
	ck_assert(!st.valid);
	ck_assert_int_eq(st.status, SG_STATUS_UNKNOWN);
	assert_reason(st, "unknown");
}
END_TEST

START_TEST(next_update_passed)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.this_off = -3 * 86400;
	o.next_off = -3 * 3600;
	st = verify_opts(&o);
	ck_assert(!st.valid && !st.fresh);
	/* 3h, or 3h 1s when a second ticked between signing and checking */
	assert_reason(st, "nextUpdate passed 3h");
	ck_assert_int_ge(time(NULL) - st.next_update, 3 * 3600);
}
END_TEST

START_TEST(next_update_absent_is_never_fresh)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.no_next = true;
	st = verify_opts(&o);
	ck_assert(!st.valid);
	ck_assert_int_eq(st.next_update, 0);
	assert_reason(st, "no nextUpdate");
}
END_TEST

START_TEST(this_update_in_future)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.this_off = 2 * 86400;
	o.next_off = 9 * 86400;
	st = verify_opts(&o);
	ck_assert(!st.valid);
	assert_reason(st, "thisUpdate is ");
	ck_assert_int_ge(st.this_update - time(NULL), 2 * 86400 - 2);
	assert_reason(st, "in the future");
}
END_TEST

START_TEST(this_update_within_skew_is_accepted)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.this_off = 120; /* 2 min ahead: clocks differ, default skew 5 min */
	st = verify_opts(&o);
	ck_assert_msg(st.valid, "%s", st.reason);
}
END_TEST

/* Firefox treats an end-entity response as expired 10 days after its
 * thisUpdate, whatever nextUpdate says: the default max-age follows. */
START_TEST(default_max_age_is_firefox_ten_days)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	ck_assert_int_eq(SG_DEFAULT_MAX_AGE_SEC, 10 * 86400);
	o.this_off = -11 * 86400;
	o.next_off = 3 * 86400;
	st = verify_opts(&o);
	ck_assert(!st.valid);
	assert_reason(st, "old, over the max-age");
	o.this_off = -9 * 86400;
	st = verify_opts(&o);
	ck_assert_msg(st.valid, "%s", st.reason);
}
END_TEST

/* A response valid for 14 days is dead for Firefox 10 days after its
 * thisUpdate: what is left is counted to there, not to nextUpdate. */
START_TEST(time_left_ends_at_max_age_before_next_update)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.this_off = -(9 * 86400 + 12 * 3600);
	o.next_off = 4 * 86400 + 12 * 3600;
	st = verify_opts(&o);
	ck_assert_msg(st.valid, "%s", st.reason);
	ck_assert(!st.fresh);
	ck_assert_int_le(st.seconds_left, 12 * 3600);
	ck_assert_int_ge(st.seconds_left, 12 * 3600 - 60);
	assert_reason(st, "expiring");
	assert_reason(st, "max-age");
	o.this_off = -3600;
	o.next_off = 14 * 86400 - 3600;
	st = verify_opts(&o);
	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
	ck_assert_int_le(st.seconds_left, 10 * 86400 - 3600);
	ck_assert_int_gt(st.next_update - time(NULL), 13 * 86400);
}
END_TEST

START_TEST(under_headroom_is_valid_but_expiring)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.next_off = 5 * 3600;
	st = verify_opts(&o);
	ck_assert(st.valid);
	ck_assert(!st.fresh);
	assert_reason(st, "expiring");
	ck_assert_int_le(st.seconds_left, 5 * 3600);
}
END_TEST

/* A good response with one thing wrong, signed by signer: each refused,
 * with a reason that names what is wrong. */
struct refused_case {
	const char *name;
	struct fx_staple_opts o;
	X509 *signer;
	EVP_PKEY *key;
	const char *reason;
};

static void run_refused(const struct refused_case *c)
{
	struct sg_staple st =
		verify_signed(T_PKI->leaf_ms, c->signer, c->key, &c->o);

	ck_assert_msg(!st.valid, "%s: valid", c->name);
	ck_assert_msg(strstr(st.reason, c->reason) != NULL,
		      "%s: reason '%s' lacks '%s'", c->name, st.reason,
		      c->reason);
}

START_TEST(one_fault_each_is_refused)
{
	struct fx_pki *p = T_PKI;
	struct fx_staple_opts good = fx_staple_good(), old = good,
			      embedded = good, other_issuer = good,
			      conflicting = good, md5 = good;

	old.this_off = -20 * 86400;
	old.next_off = 5 * 86400;
	/* A lax verifier (OCSP_NOVERIFY) would accept an unrelated key whose
	 * certificate is in the response: its signature is valid. */
	embedded.include_signer = true;
	other_issuer.id_issuer = p->other_ca;
	conflicting.conflicting = true;
	md5.id_md = EVP_md5();
	const struct refused_case cases[] = {
		{"older than max-age", old, p->ca, p->ca_key,
		 "old, over the max-age"},
		{"unrelated key, its cert embedded", embedded, p->other_ca,
		 p->other_key, "unknown key"},
		{"unrelated key, no cert", good, p->other_ca, p->other_key,
		 "unknown key"},
		{"delegated responder without OCSPSigning", embedded,
		 p->responder_noeku, p->resp_key, "OCSPSigning"},
		{"delegated responder of another CA", embedded,
		 p->other_responder, p->resp_key, "unknown key"},
		{"same serial under another issuer", other_issuer, p->ca,
		 p->ca_key, "under another issuer"},
		{"conflicting single responses", conflicting, p->ca, p->ca_key,
		 "conflicting"},
		{"MD5 CertID", md5, p->ca, p->ca_key, "MD5 CertID"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_refused(&cases[i]);
}
END_TEST

START_TEST(self_signed_impostor_with_issuer_name)
{
	struct fx_staple_opts o = fx_staple_good();
	STACK_OF(X509) *served = sk_X509_new_null();
	X509 *found;
	struct sg_staple st;

	/* The server sends a self-signed CA carrying the real issuer's
	 * name: it must not be taken as the issuer... */
	sk_X509_push(served, T_PKI->fake_ca);
	found = sg_issuer_find(T_PKI->leaf_ms, served, NULL);
	ck_assert_ptr_null(found);
	sk_X509_push(served, T_PKI->ca);
	found = sg_issuer_find(T_PKI->leaf_ms, served, NULL);
	ck_assert_ptr_eq(found, T_PKI->ca);
	X509_free(found);
	sk_X509_free(served);
	/* ...and a staple it signed, embedding itself, is refused. */
	o.include_signer = true;
	st = verify_signed(T_PKI->leaf_ms, T_PKI->fake_ca, T_PKI->other_key,
			   &o);
	ck_assert(!st.valid);
	assert_reason(st, "unknown key");
}
END_TEST

START_TEST(staple_for_another_serial)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;
	size_t len;
	unsigned char *der = fx_staple(T_PKI->leaf_plain, T_PKI->ca, T_PKI->ca,
				       T_PKI->ca_key, &o, &len);

	sg_staple_verify(der, len, T_PKI->leaf_ms, T_PKI->ca, &policy,
			 time(NULL), &st);
	OPENSSL_free(der);
	ck_assert(!st.valid);
	assert_reason(st, "staple is for serial");
	assert_reason(st, ", served cert is");
}
END_TEST

START_TEST(unsuccessful_response_status)
{
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.resp_status = OCSP_RESPONSE_STATUS_TRYLATER;
	st = verify_opts(&o);
	ck_assert(st.present && !st.valid);
	assert_reason(st, "trylater");
	o.resp_status = OCSP_RESPONSE_STATUS_INTERNALERROR;
	st = verify_opts(&o);
	assert_reason(st, "internalerror");
}
END_TEST

START_TEST(garbage_and_truncated_bytes)
{
	struct fx_staple_opts o = fx_staple_good();
	unsigned char junk[64], *der, *longer;
	size_t len;
	struct sg_staple st;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	sg_staple_verify(junk, sizeof(junk), T_PKI->leaf_ms, T_PKI->ca, &policy,
			 time(NULL), &st);
	ck_assert(st.present && !st.valid);
	assert_reason(st, "not a DER OCSP response");
	der = fx_staple(T_PKI->leaf_ms, T_PKI->ca, T_PKI->ca, T_PKI->ca_key, &o,
			&len);
	sg_staple_verify(der, len - 10, T_PKI->leaf_ms, T_PKI->ca, &policy,
			 time(NULL), &st);
	assert_reason(st, "not a DER OCSP response");
	longer = OPENSSL_malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	sg_staple_verify(longer, len + 1, T_PKI->leaf_ms, T_PKI->ca, &policy,
			 time(NULL), &st);
	assert_reason(st, "not a DER OCSP response");
	OPENSSL_free(longer);
	OPENSSL_free(der);
}
END_TEST

START_TEST(no_issuer_is_unverifiable)
{
	struct sg_staple st;
	size_t len;
	unsigned char *der = tstaple_good(&len);

	sg_staple_verify(der, len, T_PKI->leaf_ms, NULL, &policy, time(NULL),
			 &st);
	OPENSSL_free(der);
	ck_assert(st.present && !st.valid);
	assert_reason(st, "unverifiable");
}
END_TEST

START_TEST(absent_staple)
{
	struct sg_staple st;

	sg_staple_verify(NULL, 0, T_PKI->leaf_ms, T_PKI->ca, &policy,
			 time(NULL), &st);
	ck_assert(!st.present && !st.valid);
	ck_assert_str_eq(st.reason, "no staple");
}
END_TEST

/* --- what strict clients refuse (mozilla::pkix, GnuTLS) --------------- */

static struct sg_staple verify_strict_at(X509 *signer, EVP_PKEY *key,
					 const struct fx_staple_opts *o,
					 const struct fx_strict_opts *s,
					 time_t now, struct sg_vcache *cache)
{
	struct sg_staple st;
	size_t len;
	unsigned char *der = fx_staple_strict(T_PKI->leaf_ms, T_PKI->ca, signer,
					      key, o, s, &len);

	sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca, &policy,
				now, cache, &st);
	OPENSSL_free(der);
	return st;
}

static struct sg_staple verify_strict(const struct fx_strict_opts *s)
{
	struct fx_staple_opts o = fx_staple_good();

	return verify_strict_at(T_PKI->ca, T_PKI->ca_key, &o, s, time(NULL),
				NULL);
}

START_TEST(strict_fixture_without_deviation_is_valid)
{
	struct fx_strict_opts s = fx_strict_none();
	struct fx_staple_opts o = fx_staple_good();
	unsigned char *plain = NULL, *strict = NULL;
	size_t a = 0, b = 1;
	struct sg_staple st = verify_strict(&s);

	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
	/* The hand-made wrapper writes what OpenSSL writes. RSA signatures
	 * are deterministic; a second may tick between the two (retry). */
	for (int i = 0; i < 3 && (a != b || memcmp(plain, strict, a)); i++) {
		OPENSSL_free(plain);
		OPENSSL_free(strict);
		plain = fx_staple(T_PKI->leaf_ms, T_PKI->ca,
				  T_STRICT->responder_rsa, T_PKI->rsa_key, &o,
				  &a);
		strict = fx_staple_strict(T_PKI->leaf_ms, T_PKI->ca,
					  T_STRICT->responder_rsa,
					  T_PKI->rsa_key, &o, &s, &b);
	}
	ck_assert_uint_eq(a, b);
	ck_assert(memcmp(plain, strict, a) == 0);
	OPENSSL_free(plain);
	OPENSSL_free(strict);
}
END_TEST

/* A response hand-built with one deviation strict clients refuse: each
 * refused, with reasons that name it. */
struct strict_case {
	const char *name;
	struct fx_strict_opts s;
	const char *reason, *also; /* also: NULL, or a second text */
	bool present;		   /* also asserted: the staple was seen */
};

static void run_strict_refused(const struct strict_case *c)
{
	struct sg_staple st = verify_strict(&c->s);

	if (c->present)
		ck_assert_msg(st.present, "%s: not present", c->name);
	ck_assert_msg(!st.valid, "%s: valid", c->name);
	ck_assert_msg(strstr(st.reason, c->reason) != NULL,
		      "%s: reason '%s' lacks '%s'", c->name, st.reason,
		      c->reason);
	if (c->also)
		ck_assert_msg(strstr(st.reason, c->also) != NULL,
			      "%s: reason '%s' lacks '%s'", c->name, st.reason,
			      c->also);
}

START_TEST(strict_deviations_are_refused)
{
	struct fx_strict_opts none = fx_strict_none(), crit_data = none,
			      crit_single = none, v2 = none, v1 = none,
			      ber_outer = none, ber_data = none;

	crit_data.critical_ext = FX_IN_RESPONSE_DATA;
	crit_single.critical_ext = FX_IN_SINGLE;
	v2.version = 1; /* v2: unknown */
	v1.version = 0; /* v1 written out: DER omits a DEFAULT value */
	ber_outer.ber = FX_BER_OUTER;
	/* inside the signed part: OpenSSL verifies its own re-encoding, so
	 * the signature alone does not catch it */
	ber_data.ber = FX_BER_RESPONSE_DATA;
	const struct strict_case cases[] = {
		{"critical extension in ResponseData", crit_data,
		 "unknown critical extension 1.3.6.1.4.1.99999.7",
		 "ResponseData", false},
		{"critical extension in SingleResponse", crit_single,
		 "unknown critical extension 1.3.6.1.4.1.99999.7",
		 "SingleResponse", false},
		{"explicit version v2", v2, "version", NULL, false},
		{"explicit version v1", v1, "version", NULL, false},
		{"non-minimal outer length", ber_outer, "not DER", NULL, true},
		{"non-minimal length in ResponseData", ber_data, "not DER",
		 NULL, true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_strict_refused(&cases[i]);
}
END_TEST

START_TEST(non_critical_extensions_and_nonce_are_accepted)
{
	struct fx_strict_opts s = fx_strict_none();
	struct sg_staple st;

	s.plain_ext = FX_IN_RESPONSE_DATA;
	s.nonce = true;
	st = verify_strict(&s);
	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
	s.plain_ext = FX_IN_SINGLE;
	st = verify_strict(&s);
	ck_assert_msg(st.valid && st.fresh, "%s", st.reason);
}
END_TEST

START_TEST(md5_signature_is_refused)
{
	struct fx_strict_opts s = fx_strict_none();
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	s.sig_md = EVP_md5();
	o.include_signer = true;
	st = verify_strict_at(T_STRICT->responder_rsa, T_PKI->rsa_key, &o, &s,
			      time(NULL), NULL);
	ck_assert(!st.valid);
	assert_reason(st, "MD5");
	/* the same responder with SHA-256 is fine */
	s.sig_md = NULL;
	st = verify_strict_at(T_STRICT->responder_rsa, T_PKI->rsa_key, &o, &s,
			      time(NULL), NULL);
	ck_assert_msg(st.valid, "%s", st.reason);
}
END_TEST

START_TEST(delegated_responder_that_is_a_ca_is_refused)
{
	struct fx_strict_opts s = fx_strict_none();
	struct fx_staple_opts o = fx_staple_good();
	struct sg_vcache cache = {0};
	struct sg_staple st;

	size_t len;
	unsigned char *der;

	o.include_signer = true;
	der = fx_staple_strict(T_PKI->leaf_ms, T_PKI->ca,
			       T_STRICT->responder_ca, T_PKI->resp_key, &o, &s,
			       &len);
	for (int i = 0; i < 2; i++) { /* the second from the cache */
		sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca,
					&policy, time(NULL), &cache, &st);
		ck_assert_msg(!st.valid, "run %d valid", i);
		assert_reason(st, "responder certificate is a CA");
	}
	ck_assert_uint_eq(cache.hits, 1);
	OPENSSL_free(der);
	sg_vcache_free(&cache);
}
END_TEST

START_TEST(expired_responder_is_reported_as_expired)
{
	struct fx_strict_opts s = fx_strict_none();
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.include_signer = true;
	st = verify_strict_at(T_STRICT->responder_expired, T_PKI->resp_key, &o,
			      &s, time(NULL), NULL);
	ck_assert(!st.valid);
	assert_reason(st, "responder certificate expired");
	st = verify_strict_at(T_STRICT->responder_future, T_PKI->resp_key, &o,
			      &s, time(NULL), NULL);
	ck_assert(!st.valid);
	assert_reason(st, "responder certificate is not valid before");
}
END_TEST

/* The responder's validity depends on the time, so it is judged at the
 * caller's now and never taken from the signature cache. */
START_TEST(responder_validity_is_judged_at_now_not_cached)
{
	struct fx_strict_opts s = fx_strict_none();
	struct fx_staple_opts o = fx_staple_good();
	struct sg_vcache cache = {0};
	time_t now = time(NULL), later = now + 2 * 86400;
	struct sg_staple st;

	size_t len;
	unsigned char *der;

	o.include_signer = true;
	der = fx_staple_strict(T_PKI->leaf_ms, T_PKI->ca,
			       T_STRICT->responder_future, T_PKI->resp_key, &o,
			       &s, &len);
	sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca, &policy,
				later, &cache, &st);
	ck_assert_msg(st.valid, "%s", st.reason);
	sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca, &policy,
				now, &cache, &st);
	ck_assert(!st.valid);
	assert_reason(st, "not valid before");
	sg_staple_verify_cached(der, len, T_PKI->leaf_ms, T_PKI->ca, &policy,
				later, &cache, &st);
	ck_assert_msg(st.valid, "%s", st.reason);
	ck_assert_uint_eq(cache.hits, 2);
	OPENSSL_free(der);
	sg_vcache_free(&cache);
}
END_TEST

/* mozilla::pkix reads every SingleResponse and skips those for other
 * certificates or in hash algorithms it does not know; GnuTLS reads only
 * the first (its status taken as the certificate's, even when it names
 * another issuer): others are fine after the served certificate's. */
START_TEST(other_single_responses_after_the_right_one_are_ignored)
{
	static const enum fx_extra_single kinds[] = {FX_EXTRA_OTHER_ISSUER,
						     FX_EXTRA_UNKNOWN_HASH,
						     FX_EXTRA_MD5_GOOD};
	struct fx_strict_opts s = fx_strict_none();
	struct sg_staple st;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		s.extra = kinds[i];
		s.extra_first = false;
		st = verify_strict(&s);
		ck_assert_msg(st.valid && st.fresh, "extra %d after: %s",
			      kinds[i], st.reason);
		s.extra_first = true;
		st = verify_strict(&s);
		ck_assert_msg(!st.valid, "extra %d before: valid", kinds[i]);
		assert_reason(st, "not its first SingleResponse");
	}
}
END_TEST

/* ...and an MD5 CertID is one of those: it does not count as a response
 * for the served certificate, whatever it says. */
START_TEST(md5_certid_beside_a_revoked_one_does_not_count)
{
	struct fx_strict_opts s = fx_strict_none();
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	o.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	s.extra = FX_EXTRA_MD5_GOOD;
	st = verify_strict_at(T_PKI->ca, T_PKI->ca_key, &o, &s, time(NULL),
			      NULL);
	ck_assert(!st.valid);
	ck_assert_int_eq(st.status, SG_STATUS_REVOKED);
	assert_reason(st, "revoked");
}
END_TEST

START_TEST(only_unknown_hash_certid_is_named)
{
	struct fx_strict_opts s = fx_strict_none();
	struct fx_staple_opts o = fx_staple_good();
	struct sg_staple st;

	/* the served cert's response under another issuer first, and the
	 * unknown-hash one: nothing usable */
	o.id_issuer = T_PKI->other_ca;
	s.extra = FX_EXTRA_UNKNOWN_HASH;
	st = verify_strict_at(T_PKI->ca, T_PKI->ca_key, &o, &s, time(NULL),
			      NULL);
	ck_assert(!st.valid);
	assert_reason(st, "hash algorithm");
}
END_TEST

/* Runs `openssl ocsp` on a staple file; returns its exit status and
 * whether it printed "good". */
static int oracle(const char *staple, const char *leaf, int *good)
{
	char cmd[2048], line[512];
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd),
		 "openssl ocsp -respin '%s' -issuer '%s' -cert '%s' "
		 "-CAfile '%s' -no_nonce 2>&1",
		 staple, tpath("ca.pem"), leaf, tpath("root.pem"));
	p = popen(cmd, "r");
	*good = 0;
	while (p && fgets(line, sizeof(line), p))
		/* "leaf.pem: good", or "good" alone after a warning */
		if (strstr(line, ": good\n") || strcmp(line, "good\n") == 0)
			*good = 1;
	status = p ? pclose(p) : -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct oracle_case {
	const char *name;
	X509 *signer, *staple_leaf;
	EVP_PKEY *key;
	struct fx_staple_opts o;
	int oracle_fails; /* signature or CertID rejected by the oracle */
	int oracle_good;
	bool ours_valid;
};

static void run_oracle_case(const struct oracle_case *c)
{
	size_t len;
	unsigned char *der = fx_staple(c->staple_leaf, T_PKI->ca, c->signer,
				       c->key, &c->o, &len);
	const char *path = tpath(c->name);
	struct sg_staple st;
	int good, rc;

	fx_write_bytes(path, der, len);
	sg_staple_verify(der, len, T_PKI->leaf_ms, T_PKI->ca, &policy,
			 time(NULL), &st);
	OPENSSL_free(der);
	rc = oracle(path, tpath("leaf-ms.pem"), &good);
	ck_assert_msg((rc != 0) == c->oracle_fails, "%s: oracle exit %d",
		      c->name, rc);
	ck_assert_msg(good == c->oracle_good, "%s: oracle good=%d", c->name,
		      good);
	ck_assert_msg(st.valid == c->ours_valid, "%s: ours %d (%s)", c->name,
		      st.valid, st.reason);
}

/* Where the oracle checks (signature, CertID) we must agree with it;
 * where it does not (times, status), we must be stricter. */
START_TEST(oracle_agrees_on_signature_and_binding)
{
	struct fx_staple_opts good = fx_staple_good(), rev = good, stale = good,
			      embedded = good;
	struct fx_pki *p = T_PKI;

	rev.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	stale.this_off = -3 * 86400;
	stale.next_off = -2 * 86400;
	embedded.include_signer = true;
	const struct oracle_case cases[] = {
		{"o-good.der", p->ca, p->leaf_ms, p->ca_key, good, 0, 1, true},
		{"o-delegated.der", p->responder, p->leaf_ms, p->resp_key,
		 embedded, 0, 1, true},
		{"o-revoked.der", p->ca, p->leaf_ms, p->ca_key, rev, 0, 0,
		 false},
		{"o-stale.der", p->ca, p->leaf_ms, p->ca_key, stale, 0, 1,
		 false},
		/* the oracle prints the status even when it rejects */
		{"o-unrelated.der", p->other_ca, p->leaf_ms, p->other_key,
		 embedded, 1, 1, false},
		{"o-otherserial.der", p->ca, p->leaf_plain, p->ca_key, good, 1,
		 0, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_oracle_case(&cases[i]);
}
END_TEST

Suite *staple_suite(void)
{
	Suite *s = suite_create("staple");
	TCase *tc = tcase_create("verify");

	tcase_add_test(tc, good_signed_by_issuer);
	tcase_add_test(tc, good_with_sha256_certid);
	tcase_add_test(tc, good_by_delegated_responder);
	tcase_add_test(tc, revoked_is_reported_with_reason);
	tcase_add_test(tc, unknown_status_is_refused);
	tcase_add_test(tc, next_update_passed);
	tcase_add_test(tc, next_update_absent_is_never_fresh);
	tcase_add_test(tc, this_update_in_future);
	tcase_add_test(tc, this_update_within_skew_is_accepted);
	tcase_add_test(tc, default_max_age_is_firefox_ten_days);
	tcase_add_test(tc, time_left_ends_at_max_age_before_next_update);
	tcase_add_test(tc, under_headroom_is_valid_but_expiring);
	tcase_add_test(tc, one_fault_each_is_refused);
	tcase_add_test(tc, self_signed_impostor_with_issuer_name);
	tcase_add_test(tc, staple_for_another_serial);
	tcase_add_test(tc, unsuccessful_response_status);
	tcase_add_test(tc, garbage_and_truncated_bytes);
	tcase_add_test(tc, no_issuer_is_unverifiable);
	tcase_add_test(tc, absent_staple);
	suite_add_tcase(s, tc);
	tc = tcase_create("strict");
	tcase_add_test(tc, strict_fixture_without_deviation_is_valid);
	tcase_add_test(tc, strict_deviations_are_refused);
	tcase_add_test(tc, non_critical_extensions_and_nonce_are_accepted);
	tcase_add_test(tc, md5_signature_is_refused);
	tcase_add_test(tc, delegated_responder_that_is_a_ca_is_refused);
	tcase_add_test(tc, expired_responder_is_reported_as_expired);
	tcase_add_test(tc, responder_validity_is_judged_at_now_not_cached);
	tcase_add_test(tc,
		       other_single_responses_after_the_right_one_are_ignored);
	tcase_add_test(tc, md5_certid_beside_a_revoked_one_does_not_count);
	tcase_add_test(tc, only_unknown_hash_certid_is_named);
	suite_add_tcase(s, tc);
	tc = tcase_create("oracle");
	tcase_add_test(tc, oracle_agrees_on_signature_and_binding);
	suite_add_tcase(s, tc);
	return s;
}
