#include "fx_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>

/* An OID no verifier knows (a private-enterprise arc). */
#define FX_UNKNOWN_OID "1.3.6.1.4.1.99999.7"

struct fx_strict_opts fx_strict_none(void)
{
	return (struct fx_strict_opts){.version = -1};
}

/* --- DER by hand ------------------------------------------------------ */

struct buf {
	unsigned char *p;
	size_t n;
};

static void put(struct buf *b, const void *data, size_t n)
{
	b->p = realloc(b->p, b->n + n);
	if (b->p == NULL)
		abort();
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

/* A tag and a definite length; extra > 0 pads the length with leading
 * zero bytes, which BER allows and DER forbids. */
static void put_header(struct buf *b, unsigned char tag, size_t len, int extra)
{
	unsigned char h[12];
	size_t k = 0, bytes = 0;

	h[k++] = tag;
	for (size_t v = len; v; v >>= 8)
		bytes++;
	if (len < 0x80 && extra == 0) {
		h[k++] = (unsigned char)len;
	} else {
		bytes += (size_t)extra;
		h[k++] = (unsigned char)(0x80 | bytes);
		for (size_t i = bytes; i > 0; i--)
			h[k++] = i > 8 ? 0
				       : (unsigned char)(len >> (8 * (i - 1)));
	}
	put(b, h, k);
}

/* Length of the tag+length header at p, and the content length. */
static size_t get_header(const unsigned char *p, size_t *len)
{
	size_t n = p[1] & 0x7f;

	if (!(p[1] & 0x80)) {
		*len = p[1];
		return 2;
	}
	*len = 0;
	for (size_t i = 0; i < n; i++)
		*len = (*len << 8) | p[2 + i];
	return 2 + n;
}

/* OCSPResponse { successful, [0] { id-pkix-ocsp-basic, OCTET STRING } } */
static unsigned char *wrap_response(const struct buf *basic, int extra,
				    size_t *len)
{
	static const unsigned char status[] = {0x0a, 0x01, 0x00};
	static const unsigned char oid[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x05,
					    0x05, 0x07, 0x30, 0x01, 0x01};
	struct buf octets = {0}, rb = {0}, tagged = {0}, out = {0};
	unsigned char *der;

	put_header(&octets, 0x04, basic->n, 0);
	put(&octets, basic->p, basic->n);
	put_header(&rb, 0x30, sizeof(oid) + octets.n, 0);
	put(&rb, oid, sizeof(oid));
	put(&rb, octets.p, octets.n);
	put_header(&tagged, 0xa0, rb.n, 0);
	put(&tagged, rb.p, rb.n);
	put_header(&out, 0x30, sizeof(status) + tagged.n, extra);
	put(&out, status, sizeof(status));
	put(&out, tagged.p, tagged.n);
	free(octets.p);
	free(rb.p);
	free(tagged.p);
	der = OPENSSL_memdup(out.p, out.n);
	*len = out.n;
	free(out.p);
	return der;
}

/* BasicOCSPResponse with its first element (tbsResponseData) rebuilt:
 * version inserted (version >= 0) and/or its length padded. */
static struct buf rebuild_basic(const unsigned char *der, size_t n, int version,
				int extra)
{
	size_t outer_len, tbs_len, oh = get_header(der, &outer_len);
	size_t th = get_header(der + oh, &tbs_len);
	const unsigned char *tbs = der + oh + th, *rest = tbs + tbs_len;
	size_t rest_n = n - (size_t)(rest - der);
	struct buf t = {0}, b = {0};
	unsigned char v[] = {0xa0, 0x03, 0x02, 0x01, (unsigned char)version};

	put_header(&t, 0x30, tbs_len + (version >= 0 ? sizeof(v) : 0), extra);
	if (version >= 0)
		put(&t, v, sizeof(v));
	put(&t, tbs, tbs_len);
	put_header(&b, 0x30, t.n + rest_n, 0);
	put(&b, t.p, t.n);
	put(&b, rest, rest_n);
	free(t.p);
	return b;
}

/* --- the response ----------------------------------------------------- */

static X509_EXTENSION *unknown_ext(int critical)
{
	static const unsigned char null_der[] = {0x05, 0x00};
	ASN1_OBJECT *obj = OBJ_txt2obj(FX_UNKNOWN_OID, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	ASN1_OCTET_STRING_set(os, null_der, sizeof(null_der));
	e = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	return e;
}

static OCSP_SINGLERESP *add_status(OCSP_BASICRESP *bs, OCSP_CERTID *id,
				   int status, const struct fx_staple_opts *o)
{
	ASN1_TIME *thisupd = X509_gmtime_adj(NULL, o->this_off);
	ASN1_TIME *nextupd =
		o->no_next ? NULL : X509_gmtime_adj(NULL, o->next_off);
	ASN1_TIME *rev = X509_gmtime_adj(NULL, -7200);
	bool revoked = status == V_OCSP_CERTSTATUS_REVOKED;
	OCSP_SINGLERESP *sr = OCSP_basic_add1_status(
		bs, id, status, revoked ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0,
		revoked ? rev : NULL, thisupd, nextupd);

	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(rev);
	return sr;
}

/* A SHA-1 CertID for leaf whose hash algorithm OID is made unknown
 * (1.3.14.3.2.26 becomes 1.3.14.3.2.99). */
static OCSP_CERTID *unknown_hash_id(X509 *leaf, X509 *issuer)
{
	static const unsigned char sha1[] = {0x06, 0x05, 0x2b, 0x0e,
					     0x03, 0x02, 0x1a};
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = i2d_OCSP_CERTID(id, &der);

	OCSP_CERTID_free(id);
	for (int i = 0; i + (int)sizeof(sha1) <= n; i++)
		if (memcmp(der + i, sha1, sizeof(sha1)) == 0)
			der[i + sizeof(sha1) - 1] = 0x63;
	p = der;
	id = d2i_OCSP_CERTID(NULL, &p, n);
	OPENSSL_free(der);
	return id;
}

static void add_extra(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer,
		      const struct fx_staple_opts *o,
		      const struct fx_strict_opts *s)
{
	static struct {
		X509 *ca;
		EVP_PKEY *key;
	} other;
	OCSP_CERTID *id = NULL;
	int status = V_OCSP_CERTSTATUS_REVOKED;

	switch (s->extra) {
	case FX_EXTRA_OTHER_ISSUER:
		if (other.ca == NULL) {
			struct fx_cert_opts c = {.cn = "Another CA",
						 .ca = true};

			other.key = fx_key_ec();
			other.ca = fx_issue(&c, other.key, NULL, NULL);
		}
		id = OCSP_cert_to_id(EVP_sha1(), leaf, other.ca);
		break;
	case FX_EXTRA_UNKNOWN_HASH:
		id = unknown_hash_id(leaf, issuer);
		break;
	case FX_EXTRA_MD5_GOOD:
		id = OCSP_cert_to_id(EVP_md5(), leaf, issuer);
		status = V_OCSP_CERTSTATUS_GOOD;
		break;
	default:
		return;
	}
	add_status(bs, id, status, o);
	OCSP_CERTID_free(id);
}

static void add_extensions(OCSP_BASICRESP *bs, OCSP_SINGLERESP *sr,
			   const struct fx_strict_opts *s)
{
	for (int critical = 0; critical <= 1; critical++) {
		enum fx_where w = critical ? s->critical_ext : s->plain_ext;
		X509_EXTENSION *e = w ? unknown_ext(critical) : NULL;

		if (w == FX_IN_RESPONSE_DATA)
			OCSP_BASICRESP_add_ext(bs, e, -1);
		else if (w == FX_IN_SINGLE)
			OCSP_SINGLERESP_add_ext(sr, e, -1);
		X509_EXTENSION_free(e);
	}
	if (s->nonce)
		OCSP_basic_add1_nonce(bs, NULL, 16);
}

static void sign(OCSP_BASICRESP *bs, X509 *signer, EVP_PKEY *key,
		 const struct fx_staple_opts *o, const struct fx_strict_opts *s,
		 unsigned long more)
{
	unsigned long flags = (o->include_signer ? 0 : OCSP_NOCERTS) | more;

	if (!OCSP_basic_sign(bs, signer, key,
			     s->sig_md ? s->sig_md : EVP_sha256(), NULL, flags))
		abort();
}

unsigned char *fx_staple_strict(X509 *leaf, X509 *issuer, X509 *signer,
				EVP_PKEY *signer_key,
				const struct fx_staple_opts *o,
				const struct fx_strict_opts *s, size_t *len)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id =
		OCSP_cert_to_id(o->id_md ? o->id_md : EVP_sha1(), leaf,
				o->id_issuer ? o->id_issuer : issuer);
	OCSP_SINGLERESP *sr;
	unsigned char *der = NULL, *resp;
	const unsigned char *p;
	int n;
	struct buf basic;

	if (s->extra_first)
		add_extra(bs, leaf, issuer, o, s);
	sr = add_status(bs, id, o->cert_status, o);
	OCSP_CERTID_free(id);
	if (!s->extra_first)
		add_extra(bs, leaf, issuer, o, s);
	add_extensions(bs, sr, s);
	sign(bs, signer, signer_key, o, s, 0);
	if (s->version >= 0) {
		/* OpenSSL keeps an explicit version it decoded: insert one,
		 * then sign again so the signature covers it. */
		n = i2d_OCSP_BASICRESP(bs, &der);
		basic = rebuild_basic(der, (size_t)n, s->version, 0);
		OPENSSL_free(der);
		der = NULL;
		OCSP_BASICRESP_free(bs);
		p = basic.p;
		bs = d2i_OCSP_BASICRESP(NULL, &p, (long)basic.n);
		free(basic.p);
		sign(bs, signer, signer_key, o, s, OCSP_NOCERTS);
	}
	n = i2d_OCSP_BASICRESP(bs, &der);
	OCSP_BASICRESP_free(bs);
	/* OpenSSL verifies the signature over its own re-encoding of the
	 * ResponseData, so padding its length keeps the signature valid. */
	basic = rebuild_basic(der, (size_t)n, -1,
			      s->ber == FX_BER_RESPONSE_DATA ? 1 : 0);
	OPENSSL_free(der);
	resp = wrap_response(&basic, s->ber == FX_BER_OUTER ? 1 : 0, len);
	free(basic.p);
	return resp;
}

/* --- certificates ----------------------------------------------------- */

static const unsigned char f5_17[] = {0x30, 0x06, 0x02, 0x01,
				      0x05, 0x02, 0x01, 0x11};
static const unsigned char f17[] = {0x30, 0x03, 0x02, 0x01, 0x11};

static void make_responders(struct fx_strict_pki *s, const struct fx_pki *p)
{
	struct fx_cert_opts o = {.cn = "Strict OCSP Responder",
				 .ocsp_signing = true};

	o.not_before_off = -10L * 86400;
	o.not_after_off = -3600;
	s->responder_expired = fx_issue(&o, p->resp_key, p->ca, p->ca_key);
	o.not_before_off = 86400;
	o.not_after_off = 30L * 86400;
	s->responder_future = fx_issue(&o, p->resp_key, p->ca, p->ca_key);
	o.not_before_off = o.not_after_off = 0;
	s->responder_rsa = fx_issue(&o, p->rsa_key, p->ca, p->ca_key);
	o.ca = true;
	s->responder_ca = fx_issue(&o, p->resp_key, p->ca, p->ca_key);
}

static void make_leaves(struct fx_strict_pki *s, const struct fx_pki *p)
{
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .ocsp_url = "http://127.0.0.1:9/ocsp",
				 .feature_der = f5_17,
				 .feature_len = sizeof(f5_17)};
	struct fx_cert_opts ca = {.cn = "Staplegate Must-Staple CA",
				  .ca = true,
				  .must_staple = true};

	s->leaf_f5_17 = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
	o.feature_der = NULL;
	o.must_staple = true;
	o.not_before_off = -90L * 86400;
	o.not_after_off = -86400;
	s->leaf_expired_ms = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
	o.not_before_off = 86400;
	o.not_after_off = 90L * 86400;
	s->leaf_future_ms = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
	o.not_before_off = o.not_after_off = 0;
	o.must_staple = false;
	s->ca_ms_key = fx_key_ec();
	s->ca_ms = fx_issue(&ca, s->ca_ms_key, p->root, p->root_key);
	s->leaf_under_ca_ms = fx_issue(&o, p->leaf_key, s->ca_ms, s->ca_ms_key);
	ca.cn = "Staplegate status_request_v2 CA";
	ca.must_staple = false;
	ca.feature_der = f17;
	ca.feature_len = sizeof(f17);
	s->ca_f17 = fx_issue(&ca, s->ca_ms_key, p->root, p->root_key);
	s->leaf_under_ca_f17 =
		fx_issue(&o, p->leaf_key, s->ca_f17, s->ca_ms_key);
}

int fx_strict_create(struct fx_strict_pki *s, const struct fx_pki *p)
{
	char b[512];
	int rc = 0;

	memset(s, 0, sizeof(*s));
	make_responders(s, p);
	make_leaves(s, p);
	if (p->dir[0] == '\0')
		return 0;
	rc |= fx_write_pem(fx_path(p, "fullchain-f5-17.pem", b, sizeof(b)),
			   s->leaf_f5_17, p->ca, NULL);
	rc |= fx_write_pem(fx_path(p, "fullchain-expired-ms.pem", b, sizeof(b)),
			   s->leaf_expired_ms, p->ca, NULL);
	rc |= fx_write_pem(fx_path(p, "fullchain-future-ms.pem", b, sizeof(b)),
			   s->leaf_future_ms, p->ca, NULL);
	rc |= fx_write_pem(
		fx_path(p, "fullchain-under-ms-ca.pem", b, sizeof(b)),
		s->leaf_under_ca_ms, s->ca_ms, NULL);
	rc |= fx_write_pem(
		fx_path(p, "fullchain-under-f17-ca.pem", b, sizeof(b)),
		s->leaf_under_ca_f17, s->ca_f17, NULL);
	return rc ? -1 : 0;
}

void fx_strict_free(struct fx_strict_pki *s)
{
	X509 *certs[] = {s->responder_ca,     s->responder_expired,
			 s->responder_future, s->responder_rsa,
			 s->leaf_f5_17,	      s->leaf_expired_ms,
			 s->leaf_future_ms,   s->ca_ms,
			 s->leaf_under_ca_ms, s->ca_f17,
			 s->leaf_under_ca_f17};

	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	EVP_PKEY_free(s->ca_ms_key);
	memset(s, 0, sizeof(*s));
}
