#include "staple.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "duration.h"
#include "strset.h"
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
	char why[SG_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	out->reason = sg_text(why);
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

/* Re-encoding must give back the very bytes: mozilla::pkix parses DER
 * only, while OpenSSL also takes BER (non-minimal lengths, DEFAULT values
 * written out) and verifies the signature over its own re-encoding of the
 * ResponseData, so the signature alone does not catch it. */
static bool is_der(OCSP_BASICRESP *bs, const unsigned char *der, size_t len)
{
	OCSP_RESPONSE *again =
		OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	unsigned char *buf = NULL;
	int n = again ? i2d_OCSP_RESPONSE(again, &buf) : -1;
	bool same = n == (int)len && memcmp(buf, der, len) == 0;

	OPENSSL_free(buf);
	OCSP_RESPONSE_free(again);
	return same;
}

/* RFC 6960 4.2.1: version [0] EXPLICIT DEFAULT v1. In DER a v1 response
 * omits it, and no other version is defined: any explicit version is
 * refused (OpenSSL keeps it when re-encoding, so is_der cannot see it). */
static bool has_explicit_version(OCSP_BASICRESP *bs)
{
	unsigned char *d = NULL;
	int n = i2d_OCSP_RESPDATA((OCSP_RESPDATA *)OCSP_resp_get0_respdata(bs),
				  &d);
	int at = n > 2 ? 2 + (d[1] & 0x80 ? d[1] & 0x7f : 0) : n;
	bool present = at < n && d[at] == 0xa0;

	OPENSSL_free(d);
	return present;
}

/* Rule 1: a successful response carrying a BasicOCSPResponse, in DER.
 * The bytes must be consumed exactly: trailing bytes mean a damaged
 * staple. */
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
	if (bs == NULL) {
		fail(out, "staple is not a BasicOCSPResponse");
	} else if (!is_der(bs, der, len)) {
		fail(out, "staple is not DER: re-encoding it does not give "
			  "back its bytes (non-minimal lengths or defaults "
			  "written out); Firefox rejects it");
	} else if (has_explicit_version(bs)) {
		fail(out, "staple's ResponseData carries an explicit version: "
			  "only v1, which DER omits, is defined");
	} else {
		goto done;
	}
	OCSP_BASICRESP_free(bs);
	bs = NULL;
done:
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return bs;
}

/* The CertID hash algorithms mozilla::pkix accepts. A SingleResponse in
 * any other (MD5, an unknown OID) is skipped, as Firefox skips it: it
 * neither vouches for the certificate nor refuses the staple. */
static const EVP_MD *certid_md(const ASN1_OBJECT *oid)
{
	switch (OBJ_obj2nid(oid)) {
	case NID_sha1:
		return EVP_sha1();
	case NID_sha256:
		return EVP_sha256();
	case NID_sha384:
		return EVP_sha384();
	case NID_sha512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* Why no SingleResponse matched, from what the others named. */
struct near_miss {
	char serial[130]; /* first other serial seen */
	bool same_serial; /* the served serial under another issuer */
	char skipped[80]; /* the served serial in a hash we skip */
};

static void note_miss(const OCSP_CERTID *cid, X509 *leaf, bool skipped,
		      struct near_miss *m)
{
	ASN1_OBJECT *md_oid = NULL;
	ASN1_INTEGER *serial = NULL;
	bool mine;

	OCSP_id_get0_info(NULL, &md_oid, NULL, &serial, (OCSP_CERTID *)cid);
	if (serial == NULL)
		return;
	if (m->serial[0] == '\0')
		serial_hex(serial, m->serial, sizeof(m->serial));
	mine = ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) == 0;
	if (mine && skipped && m->skipped[0] == '\0') {
		if (OBJ_obj2nid(md_oid) == NID_md5)
			snprintf(m->skipped, sizeof(m->skipped),
				 "an MD5 CertID");
		else
			OBJ_obj2txt(m->skipped, sizeof(m->skipped), md_oid, 1);
	} else if (mine) {
		m->same_serial = true;
	}
}

static void explain_miss(const struct near_miss *m, X509 *leaf,
			 struct sg_staple *out)
{
	char mine[130];

	serial_hex(X509_get0_serialNumber(leaf), mine, sizeof(mine));
	if (strcmp(m->skipped, "an MD5 CertID") == 0)
		fail(out,
		     "staple's only response for serial %s uses an MD5 "
		     "CertID: clients skip it",
		     mine);
	else if (m->skipped[0])
		fail(out,
		     "staple's only response for serial %s uses the CertID "
		     "hash algorithm %s, which clients do not support",
		     mine, m->skipped);
	else if (m->same_serial)
		fail(out, "staple is for serial %s under another issuer", mine);
	else if (m->serial[0])
		fail(out, "staple is for serial %s, served cert is %s",
		     m->serial, mine);
	else
		fail(out, "staple holds no response for serial %s", mine);
}

/* Rule 3: the SingleResponse whose CertID names leaf under issuer, with
 * the id rebuilt in each response's own hash algorithm (OCSP_id_cmp
 * compares the algorithm too). Responses for other certificates after it
 * are ignored, as mozilla::pkix ignores them; but it must come first:
 * GnuTLS, which enforces Must-Staple too, reads only the first and takes
 * its status for the certificate's. Two matches that disagree are
 * refused. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *leaf,
				    X509 *issuer, struct sg_staple *out)
{
	OCSP_SINGLERESP *match = NULL;
	int match_status = -1, n = OCSP_resp_count(bs);
	struct near_miss miss = {0};

	for (int i = 0; i < n; i++) {
		OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(sr);
		ASN1_OBJECT *md_oid = NULL;
		const EVP_MD *md;
		OCSP_CERTID *want;
		int same, st;

		OCSP_id_get0_info(NULL, &md_oid, NULL, NULL,
				  (OCSP_CERTID *)cid);
		md = md_oid ? certid_md(md_oid) : NULL;
		want = md ? OCSP_cert_to_id(md, leaf, issuer) : NULL;
		same = want && OCSP_id_cmp(want, cid) == 0;
		OCSP_CERTID_free(want);
		if (!same) {
			note_miss(cid, leaf, md == NULL, &miss);
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
		explain_miss(&miss, leaf, out);
	} else if (match != OCSP_resp_get0(bs, 0)) {
		fail(out, "staple's response for the served certificate is not "
			  "its first SingleResponse: GnuTLS reads only the "
			  "first and refuses it");
		match = NULL;
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
	default:
		return NULL;
	}
}

/* Strict clients refuse MD5 (mozilla::pkix knows no MD5 signature
 * algorithm; GnuTLS calls it insecure), and MD2/MD4 with it. */
static bool weak_signature(OCSP_BASICRESP *bs, char *name, size_t size)
{
	const ASN1_OBJECT *oid = NULL;
	int nid, md = NID_undef;

	X509_ALGOR_get0(&oid, NULL, NULL, OCSP_resp_get0_tbs_sigalg(bs));
	nid = OBJ_obj2nid(oid);
	if (!OBJ_find_sigid_algs(nid, &md, NULL))
		return false;
	snprintf(name, size, "%s", OBJ_nid2sn(nid));
	return md == NID_md5 || md == NID_md4 || md == NID_md2 ||
	       md == NID_md5_sha1;
}

/* Whether the responder ID names the issuer, by name or key hash. */
static bool names_issuer(OCSP_BASICRESP *bs, X509 *issuer)
{
	const ASN1_OCTET_STRING *keyhash = NULL;
	const X509_NAME *name = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!OCSP_resp_get0_id(bs, &keyhash, &name))
		return false;
	if (name)
		return X509_NAME_cmp(name, X509_get_subject_name(issuer)) == 0;
	return keyhash && X509_pubkey_digest(issuer, EVP_sha1(), md, &n) &&
	       ASN1_STRING_length(keyhash) == (int)n &&
	       memcmp(ASN1_STRING_get0_data(keyhash), md, n) == 0;
}

/* The certificate the responder ID names, looked up as OCSP_basic_verify
 * does: the issuer first, then those in the response. NULL: none. */
static X509 *find_signer(OCSP_BASICRESP *bs, X509 *issuer)
{
	X509 *signer = NULL;

	if (names_issuer(bs, issuer))
		return issuer;
	ERR_set_mark();
	if (OCSP_resp_get0_signer(bs, &signer, NULL) != 1)
		signer = NULL;
	ERR_pop_to_mark();
	return signer;
}

/* RFC 6960 4.2.2.2: the issuer itself, or a responder it issued with the
 * OCSPSigning EKU. mozilla::pkix also refuses a responder that is a CA. */
static bool check_delegation(X509 *signer, X509 *issuer, struct sg_staple *out)
{
	uint32_t flags;

	if (signer == NULL)
		return fail(out, "staple signed by an unknown key");
	if (X509_cmp(signer, issuer) == 0)
		return true;
	if (X509_check_issued(issuer, signer) != X509_V_OK ||
	    X509_verify(signer, X509_get0_pubkey(issuer)) != 1)
		return fail(out, "staple signed by an unknown key: the "
				 "responder certificate was not issued by the "
				 "served certificate's issuer");
	flags = X509_get_extension_flags(signer);
	if (!(flags & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN))
		return fail(out, "delegated responder certificate lacks the "
				 "OCSPSigning extended key usage");
	if (flags & EXFLAG_CA)
		return fail(out, "delegated responder certificate is a CA "
				 "(basicConstraints cA=TRUE): Firefox "
				 "rejects it");
	return true;
}

/* Rule 2: the signature verifies with the signer's key and the signer is
 * the issuer or a delegated responder it issued (check_delegation). Only
 * the issuer is trusted (partial chain), so a signer certificate embedded
 * in the response proves nothing unless the issuer signed it; never
 * OCSP_NOVERIFY. OCSP_NOCHECKS only hands OpenSSL's issuer check to
 * check_delegation: OpenSSL's wants every SingleResponse under one issuer
 * and hash, which would refuse a staple carrying others beside the
 * served certificate's. Times are left out (X509_V_FLAG_NO_CHECK_TIME):
 * they depend on now, which this cacheable verdict must not;
 * check_signer_times judges them. */
static bool check_signature(OCSP_BASICRESP *bs, X509 *issuer,
			    struct sg_staple *out)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	char alg[64];
	bool ok = false;

	if (weak_signature(bs, alg, sizeof(alg))) {
		fail(out,
		     "staple is signed with MD5 (%s): Firefox and GnuTLS "
		     "reject it",
		     alg);
	} else if (store && certs && X509_STORE_add_cert(store, issuer) &&
		   sk_X509_push(certs, issuer) &&
		   X509_STORE_set_flags(store,
					X509_V_FLAG_PARTIAL_CHAIN |
						X509_V_FLAG_NO_CHECK_TIME)) {
		ok = OCSP_basic_verify(bs, certs, store, OCSP_NOCHECKS) == 1;
		if (!ok) {
			unsigned long e = ERR_peek_error();
			const char *why = verify_error(e);
			char buf[120];

			ERR_error_string_n(e, buf, sizeof(buf));
			if (why)
				fail(out, "%s", why);
			else
				fail(out, "staple signature rejected: %s", buf);
		} else {
			ok = check_delegation(find_signer(bs, issuer), issuer,
					      out);
		}
	} else {
		fail(out, "out of memory verifying the staple");
	}
	sk_X509_free(certs);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

/* Names the signer that check_signature accepted, for the report and
 * monitor's --signer-warn: found again from the bytes and the issuer, so
 * nothing about it goes into the verdict cache. */
static void note_signer(OCSP_BASICRESP *bs, X509 *issuer, struct sg_staple *out)
{
	X509 *signer = find_signer(bs, issuer);
	char subject[256];

	if (signer == NULL)
		return;
	out->signer_known = true;
	out->signer_delegated = signer != issuer;
	sg_cert_subject(signer, subject, sizeof(subject));
	out->signer_subject = sg_text(subject);
	out->signer_not_after = sg_asn1_time(X509_get0_notAfter(signer));
}

/* The signing certificate, and the issuer above a delegated responder,
 * must be valid now: named as such, not as a chain failure. */
static bool check_signer_times(OCSP_BASICRESP *bs, X509 *issuer, time_t now,
			       struct sg_staple *out)
{
	X509 *signer = find_signer(bs, issuer);
	X509 *certs[2] = {signer, signer == issuer ? NULL : issuer};
	const char *who[2] = {signer == issuer ? "responder certificate (the "
						 "issuer itself)"
					       : "responder certificate",
			      "issuer certificate"};
	char d[32];

	for (int i = 0; i < 2 && certs[i]; i++) {
		time_t nb = sg_asn1_time(X509_get0_notBefore(certs[i]));
		time_t na = sg_asn1_time(X509_get0_notAfter(certs[i]));

		if (now < nb) {
			sg_time_iso(nb, d);
			return fail(out, "%s is not valid before %s", who[i],
				    d);
		}
		if (now > na) {
			sg_time_iso(na, d);
			return fail(out, "%s expired on %s", who[i], d);
		}
	}
	return true;
}

/* Strict clients understand no extension of a response well enough to
 * honour it, so any critical one (RFC 5280 4.2 semantics) refuses the
 * staple; non-critical ones, a nonce among them, are ignored. Only the
 * served certificate's SingleResponse counts. */
static bool critical_ext(X509_EXTENSION *e, const char *where,
			 struct sg_staple *out)
{
	char oid[80];

	if (!X509_EXTENSION_get_critical(e))
		return false;
	OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(e), 1);
	fail(out,
	     "staple has an unknown critical extension %s in its %s: "
	     "Firefox rejects it",
	     oid, where);
	return true;
}

static bool check_extensions(OCSP_BASICRESP *bs, OCSP_SINGLERESP *sr,
			     struct sg_staple *out)
{
	for (int i = 0; i < OCSP_BASICRESP_get_ext_count(bs); i++)
		if (critical_ext(OCSP_BASICRESP_get_ext(bs, i), "ResponseData",
				 out))
			return false;
	for (int i = 0; i < OCSP_SINGLERESP_get_ext_count(sr); i++)
		if (critical_ext(OCSP_SINGLERESP_get_ext(sr, i),
				 "SingleResponse for the served certificate",
				 out))
			return false;
	return true;
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
	/* Past thisUpdate + max-age the staple is refused as too old (by
	 * default Firefox's 10 days), so that is where its life ends when a
	 * responder promises more. */
	if (out->this_update + pol->max_age_sec < out->next_update) {
		out->capped = true;
		out->seconds_left =
			(long)(out->this_update + pol->max_age_sec - now);
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
		out->reason = sg_text(e->reason);
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

void sg_staple_init(struct sg_staple *out)
{
	memset(out, 0, sizeof(*out));
	out->revoke_reason = -1;
	out->signer_subject = "";
	out->reason = "";
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
	char d[32], why[SG_REASON_MAX];

	sg_staple_init(out);
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
	    (note_signer(bs, issuer, out), true) &&
	    check_signer_times(bs, issuer, now, out) &&
	    check_extensions(bs, sr, out) && check_status(sr, out) &&
	    check_times(sr, policy, now, out)) {
		out->valid = true;
		out->fresh = out->seconds_left >= policy->min_remaining_sec;
		sg_duration_format(out->seconds_left, d, sizeof(d));
		if (out->fresh)
			snprintf(why, sizeof(why), "fresh staple, %s left%s", d,
				 out->capped ? " (to its max-age, before "
					       "nextUpdate)"
					     : "");
		else
			snprintf(why, sizeof(why),
				 "expiring: staple has %s left%s, under the "
				 "headroom",
				 d,
				 out->capped ? " (to its max-age, before "
					       "nextUpdate)"
					     : "");
		out->reason = sg_text(why);
	}
	OCSP_BASICRESP_free(bs);
}
