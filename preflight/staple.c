#include "staple.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "certinfo.h"
#include "duration.h"
#include "vcache.h"

const char *sg_cert_status_name(enum sg_cert_status s)
{
	switch (s) {
	case SG_STATUS_GOOD:
		return "good";
	case SG_STATUS_REVOKED:
		return "revoked";
	case SG_STATUS_UNKNOWN:
		return "unknown";
	default:
		return "none";
	}
}

static bool fail(struct sg_staple *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool fail(struct sg_staple *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return false;
}

static void serial_hex(const ASN1_INTEGER *serial, char *buf, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, size, "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* Rule 1: a successful response carrying a BasicOCSPResponse. The DER
 * must be consumed exactly: trailing bytes mean a damaged staple. */
static OCSP_BASICRESP *decode(const unsigned char *der, size_t len,
			      struct sg_staple *out)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = NULL;
	int status;

	if (resp == NULL || p != der + len) {
		fail(out, "staple is not a DER OCSP response");
		goto done;
	}
	status = OCSP_response_status(resp);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		fail(out, "staple carries responder status %s (%d)",
		     OCSP_response_status_str(status), status);
		goto done;
	}
	bs = OCSP_response_get1_basic(resp);
	if (bs == NULL)
		fail(out, "staple is not a BasicOCSPResponse");
done:
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return bs;
}

/* Rule 3: the SingleResponse whose CertID names leaf under issuer, with
 * the id rebuilt in each response's own hash algorithm (OCSP_id_cmp
 * compares the algorithm too). Two matches that disagree are refused. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *leaf,
				    X509 *issuer, struct sg_staple *out)
{
	OCSP_SINGLERESP *match = NULL;
	int match_status = -1, n = OCSP_resp_count(bs);
	char other[130] = "";

	for (int i = 0; i < n; i++) {
		OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(sr);
		ASN1_OBJECT *md_oid = NULL;
		ASN1_INTEGER *serial = NULL;
		const EVP_MD *md;
		OCSP_CERTID *want;
		int same, st;

		OCSP_id_get0_info(NULL, &md_oid, NULL, &serial,
				  (OCSP_CERTID *)cid);
		md = md_oid ? EVP_get_digestbyobj(md_oid) : NULL;
		want = md ? OCSP_cert_to_id(md, leaf, issuer) : NULL;
		same = want && OCSP_id_cmp(want, cid) == 0;
		OCSP_CERTID_free(want);
		if (!same) {
			if (other[0] == '\0' && serial)
				serial_hex(serial, other, sizeof(other));
			if (serial &&
			    ASN1_INTEGER_cmp(serial,
					     X509_get0_serialNumber(leaf)) == 0)
				strcpy(other, "=");
			continue;
		}
		st = OCSP_single_get0_status(sr, NULL, NULL, NULL, NULL);
		if (match && st != match_status) {
			fail(out, "staple holds conflicting statuses for the "
				  "served certificate");
			return NULL;
		}
		match = sr;
		match_status = st;
	}
	if (match == NULL) {
		char mine[130];

		serial_hex(X509_get0_serialNumber(leaf), mine, sizeof(mine));
		if (strcmp(other, "=") == 0)
			fail(out,
			     "staple is for serial %s under another "
			     "issuer",
			     mine);
		else if (other[0])
			fail(out, "staple is for serial %s, served cert is %s",
			     other, mine);
		else
			fail(out, "staple holds no response for serial %s",
			     mine);
	}
	ERR_clear_error();
	return match;
}

static const char *verify_error(unsigned long e)
{
	/* The responder ID named a trusted certificate (an impostor can
	 * carry the issuer's name) whose key does not verify it. */
	if (ERR_GET_LIB(e) == ERR_LIB_ASN1 || ERR_GET_LIB(e) == ERR_LIB_EVP)
		return "staple signed by an unknown key: the signature does "
		       "not verify with the issuer's key";
	if (ERR_GET_LIB(e) != ERR_LIB_OCSP)
		return NULL;
	switch (ERR_GET_REASON(e)) {
	case OCSP_R_SIGNER_CERTIFICATE_NOT_FOUND:
		return "staple signed by an unknown key";
	case OCSP_R_CERTIFICATE_VERIFY_ERROR:
		return "staple signed by an unknown key: the responder "
		       "certificate does not chain to the served "
		       "certificate's issuer";
	case OCSP_R_SIGNATURE_FAILURE:
		return "staple signature does not verify";
	case OCSP_R_MISSING_OCSPSIGNING_USAGE:
		return "delegated responder certificate lacks the "
		       "OCSPSigning extended key usage";
	default:
		return NULL;
	}
}

/* Rule 2: the signer is the issuer itself or a delegated responder it
 * issued with the OCSPSigning EKU. Only the issuer is trusted (partial
 * chain), so a signer certificate embedded in the response proves
 * nothing unless the issuer signed it. Never OCSP_NOVERIFY/NOCHECKS. */
static bool check_signature(OCSP_BASICRESP *bs, X509 *issuer,
			    struct sg_staple *out)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	bool ok = false;

	if (store && certs && X509_STORE_add_cert(store, issuer) &&
	    sk_X509_push(certs, issuer) &&
	    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN)) {
		ok = OCSP_basic_verify(bs, certs, store, 0) == 1;
		if (!ok) {
			unsigned long e = ERR_peek_error();
			const char *why = verify_error(e);
			char buf[120];

			ERR_error_string_n(e, buf, sizeof(buf));
			if (why)
				fail(out, "%s", why);
			else
				fail(out, "staple signature rejected: %s", buf);
		}
	} else {
		fail(out, "out of memory verifying the staple");
	}
	sk_X509_free(certs);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

static bool check_status(OCSP_SINGLERESP *sr, struct sg_staple *out)
{
	ASN1_GENERALIZEDTIME *rev = NULL;
	int reason = -1;
	int st = OCSP_single_get0_status(sr, &reason, &rev, NULL, NULL);

	switch (st) {
	case V_OCSP_CERTSTATUS_GOOD:
		out->status = SG_STATUS_GOOD;
		return true;
	case V_OCSP_CERTSTATUS_REVOKED:
		out->status = SG_STATUS_REVOKED;
		out->revoked_at = sg_asn1_time(rev);
		out->revoke_reason = reason;
		return fail(out, "certificate revoked%s%s",
			    reason >= 0 ? ", reason " : "",
			    reason >= 0 ? OCSP_crl_reason_str(reason) : "");
	case V_OCSP_CERTSTATUS_UNKNOWN:
		out->status = SG_STATUS_UNKNOWN;
		return fail(out, "responder says the certificate is unknown");
	default:
		return fail(out, "staple has an invalid certificate status");
	}
}

/* Rules 5 and 6. A response without nextUpdate is treated as not fresh:
 * servers disagree on it (nginx: never expires, Envoy: expired). */
static bool check_times(OCSP_SINGLERESP *sr, const struct sg_policy *pol,
			time_t now, struct sg_staple *out)
{
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
	char d[32];

	OCSP_single_get0_status(sr, NULL, NULL, &thisupd, &nextupd);
	out->this_update = sg_asn1_time(thisupd);
	out->next_update = sg_asn1_time(nextupd);
	if (out->this_update == 0)
		return fail(out, "staple has no valid thisUpdate");
	if (out->this_update > now + pol->skew_sec) {
		sg_duration_format(out->this_update - now, d, sizeof(d));
		return fail(out, "thisUpdate is %s in the future", d);
	}
	if (out->this_update < now - pol->max_age_sec) {
		sg_duration_format(now - out->this_update, d, sizeof(d));
		return fail(out, "thisUpdate is %s old, over the max-age", d);
	}
	if (nextupd == NULL)
		return fail(out, "staple has no nextUpdate: never counted "
				 "as fresh");
	if (out->next_update <= out->this_update)
		return fail(out, "nextUpdate is not after thisUpdate");
	out->seconds_left = (long)(out->next_update - now);
	if (out->seconds_left <= 0) {
		sg_duration_format(-out->seconds_left, d, sizeof(d));
		return fail(out, "nextUpdate passed %s ago", d);
	}
	return true;
}

/* Rule 2 through the cache: the verdict depends only on the staple's
 * bytes and the issuer, never on the target. */
static bool check_signature_cached(OCSP_BASICRESP *bs, X509 *issuer,
				   const unsigned char *der, size_t len,
				   struct sg_vcache *cache,
				   struct sg_staple *out)
{
	unsigned char key[SG_VCACHE_KEY], *idder = NULL;
	int idlen = i2d_X509(issuer, &idder);
	struct sg_vcache_entry *e;
	bool ok;

	if (cache == NULL || idlen <= 0) {
		OPENSSL_free(idder);
		return check_signature(bs, issuer, out);
	}
	sg_vcache_key(der, len, idder, (size_t)idlen, key);
	OPENSSL_free(idder);
	e = sg_vcache_find(cache, SG_VCACHE_STAPLE, key);
	if (e) {
		snprintf(out->reason, sizeof(out->reason), "%s", e->reason);
		return e->ok;
	}
	ok = check_signature(bs, issuer, out);
	e = sg_vcache_add(cache, SG_VCACHE_STAPLE, key);
	if (e) {
		e->ok = ok;
		snprintf(e->reason, sizeof(e->reason), "%s", out->reason);
	}
	return ok;
}

void sg_staple_verify(const unsigned char *der, size_t len, X509 *leaf,
		      X509 *issuer, const struct sg_policy *policy, time_t now,
		      struct sg_staple *out)
{
	sg_staple_verify_cached(der, len, leaf, issuer, policy, now, NULL, out);
}

void sg_staple_verify_cached(const unsigned char *der, size_t len, X509 *leaf,
			     X509 *issuer, const struct sg_policy *policy,
			     time_t now, struct sg_vcache *cache,
			     struct sg_staple *out)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *sr;
	char d[32];

	memset(out, 0, sizeof(*out));
	out->revoke_reason = -1;
	if (der == NULL || len == 0) {
		fail(out, "no staple");
		return;
	}
	out->present = true;
	if (issuer == NULL) {
		fail(out, "unverifiable: the issuer of the served "
			  "certificate was not found");
		return;
	}
	bs = decode(der, len, out);
	if (bs == NULL)
		return;
	sr = find_single(bs, leaf, issuer, out);
	if (sr && check_signature_cached(bs, issuer, der, len, cache, out) &&
	    check_status(sr, out) && check_times(sr, policy, now, out)) {
		out->valid = true;
		out->fresh = out->seconds_left >= policy->min_remaining_sec;
		sg_duration_format(out->seconds_left, d, sizeof(d));
		if (out->fresh)
			snprintf(out->reason, sizeof(out->reason),
				 "fresh staple, %s left", d);
		else
			snprintf(out->reason, sizeof(out->reason),
				 "expiring: staple has %s left, under the "
				 "headroom",
				 d);
	}
	OCSP_BASICRESP_free(bs);
}
