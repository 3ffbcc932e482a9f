#include "fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static long next_serial = 0x1000;

EVP_PKEY *fx_key_ec(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

EVP_PKEY *fx_key_rsa(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	if (e == NULL) {
		fprintf(stderr, "fixture: extension %d=%s\n", nid, value);
		abort();
	}
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

static void add_raw_feature(X509 *x, const unsigned char *der, size_t len)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	ASN1_OCTET_STRING_set(os, der, (int)len);
	e = X509_EXTENSION_create_by_NID(NULL, NID_tlsfeature, 0, os);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
}

static void add_extensions(X509 *x, X509 *issuer, const struct fx_cert_opts *o)
{
	X509V3_CTX v3;
	char buf[300];

	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	add_ext(x, &v3, NID_basic_constraints,
		o->ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_ext(x, &v3, NID_key_usage,
		o->ca ? "critical,keyCertSign,cRLSign,digitalSignature"
		      : "critical,digitalSignature,keyEncipherment");
	add_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (o->dns) {
		snprintf(buf, sizeof(buf), "DNS:%s", o->dns);
		add_ext(x, &v3, NID_subject_alt_name, buf);
	}
	if (o->ocsp_url || o->ca_issuers_url) {
		snprintf(buf, sizeof(buf), "%s%s%s%s%s",
			 o->ocsp_url ? "OCSP;URI:" : "",
			 o->ocsp_url ? o->ocsp_url : "",
			 o->ocsp_url && o->ca_issuers_url ? "," : "",
			 o->ca_issuers_url ? "caIssuers;URI:" : "",
			 o->ca_issuers_url ? o->ca_issuers_url : "");
		add_ext(x, &v3, NID_info_access, buf);
	}
	if (o->ocsp_signing)
		add_ext(x, &v3, NID_ext_key_usage, "OCSPSigning");
	else if (!o->ca)
		add_ext(x, &v3, NID_ext_key_usage, "serverAuth");
	if (o->must_staple)
		add_ext(x, &v3, NID_tlsfeature, "status_request");
	if (o->feature_der)
		add_raw_feature(x, o->feature_der, o->feature_len);
}

X509 *fx_issue(const struct fx_cert_opts *o, EVP_PKEY *key, X509 *issuer,
	       EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x),
			 o->serial ? o->serial : next_serial++);
	X509_gmtime_adj(X509_getm_notBefore(x),
			o->not_before_off ? o->not_before_off : -86400);
	X509_gmtime_adj(X509_getm_notAfter(x),
			o->not_after_off ? o->not_after_off : 90L * 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)o->cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	add_extensions(x, issuer, o);
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		abort();
	return x;
}

struct fx_staple_opts fx_staple_good(void)
{
	struct fx_staple_opts o = {.cert_status = V_OCSP_CERTSTATUS_GOOD,
				   .this_off = -3600,
				   .next_off = 7L * 86400};
	return o;
}

static unsigned char *encode(OCSP_RESPONSE *resp, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_RESPONSE(resp, &der);

	OCSP_RESPONSE_free(resp);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

static void add_single(OCSP_BASICRESP *bs, OCSP_CERTID *id, int status,
		       const struct fx_staple_opts *o)
{
	ASN1_TIME *thisupd = X509_gmtime_adj(NULL, o->this_off);
	ASN1_TIME *nextupd =
		o->no_next ? NULL : X509_gmtime_adj(NULL, o->next_off);
	ASN1_TIME *rev = X509_gmtime_adj(NULL, -7200);

	OCSP_basic_add1_status(bs, id, status,
			       status == V_OCSP_CERTSTATUS_REVOKED
				       ? OCSP_REVOKED_STATUS_KEYCOMPROMISE
				       : 0,
			       status == V_OCSP_CERTSTATUS_REVOKED ? rev : NULL,
			       thisupd, nextupd);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(rev);
}

unsigned char *fx_staple(X509 *leaf, X509 *issuer, X509 *signer,
			 EVP_PKEY *signer_key, const struct fx_staple_opts *o,
			 size_t *len)
{
	OCSP_BASICRESP *bs;
	OCSP_CERTID *id;
	OCSP_RESPONSE *resp;

	if (o->resp_status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		return encode(OCSP_response_create(o->resp_status, NULL), len);
	bs = OCSP_BASICRESP_new();
	id = OCSP_cert_to_id(o->id_md ? o->id_md : EVP_sha1(), leaf,
			     o->id_issuer ? o->id_issuer : issuer);
	add_single(bs, id, o->cert_status, o);
	if (o->conflicting)
		add_single(bs, id, V_OCSP_CERTSTATUS_REVOKED, o);
	OCSP_CERTID_free(id);
	if (!OCSP_basic_sign(bs, signer, signer_key, EVP_sha256(), NULL,
			     o->include_signer ? 0 : OCSP_NOCERTS))
		abort();
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	OCSP_BASICRESP_free(bs);
	return encode(resp, len);
}

char *fx_path(const struct fx_pki *p, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", p->dir, name);
	return buf;
}

int fx_write_pem(const char *path, X509 *a, X509 *b, X509 *c)
{
	FILE *f = fopen(path, "w");
	X509 *all[3] = {a, b, c};

	if (f == NULL)
		return -1;
	for (int i = 0; i < 3; i++)
		if (all[i])
			PEM_write_X509(f, all[i]);
	return fclose(f);
}

int fx_write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f);
}

int fx_write_bytes(const char *path, const unsigned char *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	fwrite(b, 1, n, f);
	return fclose(f);
}

/* Nothing listens on port 9 (discard): tests that need a responder
 * issue their own leaves; the demo sets a real one. */
static const char *ocsp_url = "http://127.0.0.1:9/ocsp";

void fx_set_ocsp_url(const char *url)
{
	ocsp_url = url;
}

static void make_leaves(struct fx_pki *p)
{
	struct fx_cert_opts o = {.cn = "shop.example",
				 .dns = "shop.example",
				 .must_staple = true,
				 .ocsp_url = ocsp_url};
	static const unsigned char v2_only[] = {0x30, 0x03, 0x02, 0x01, 0x11};

	p->leaf_ms = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
	p->leaf_rsa_ms = fx_issue(&o, p->rsa_key, p->ca, p->ca_key);
	o.must_staple = false;
	p->leaf_plain = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
	o.feature_der = v2_only;
	o.feature_len = sizeof(v2_only);
	p->leaf_v2 = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
	o = (struct fx_cert_opts){.cn = "shop.example",
				  .dns = "shop.example",
				  .must_staple = true};
	p->leaf_noocsp_ms = fx_issue(&o, p->leaf_key, p->ca, p->ca_key);
}

static void make_responders(struct fx_pki *p)
{
	struct fx_cert_opts o = {.cn = "Test OCSP Responder",
				 .ocsp_signing = true};
	struct fx_cert_opts other = {.cn = "Unrelated CA", .ca = true};
	struct fx_cert_opts fake = {.cn = "Staplegate Test Issuing CA",
				    .ca = true};

	p->responder = fx_issue(&o, p->resp_key, p->ca, p->ca_key);
	p->other_ca = fx_issue(&other, p->other_key, NULL, NULL);
	p->other_responder =
		fx_issue(&o, p->resp_key, p->other_ca, p->other_key);
	o.ocsp_signing = false;
	p->responder_noeku = fx_issue(&o, p->resp_key, p->ca, p->ca_key);
	p->fake_ca = fx_issue(&fake, p->other_key, NULL, NULL);
}

static int write_files(struct fx_pki *p)
{
	char b[512];
	int rc = 0;

	rc |= fx_write_pem(fx_path(p, "root.pem", b, sizeof(b)), p->root, NULL,
			   NULL);
	rc |= fx_write_pem(fx_path(p, "ca.pem", b, sizeof(b)), p->ca, NULL,
			   NULL);
	rc |= fx_write_pem(fx_path(p, "leaf-ms.pem", b, sizeof(b)), p->leaf_ms,
			   NULL, NULL);
	rc |= fx_write_pem(fx_path(p, "fullchain-ms.pem", b, sizeof(b)),
			   p->leaf_ms, p->ca, NULL);
	rc |= fx_write_pem(fx_path(p, "leaf-plain.pem", b, sizeof(b)),
			   p->leaf_plain, NULL, NULL);
	rc |= fx_write_pem(fx_path(p, "fullchain-plain.pem", b, sizeof(b)),
			   p->leaf_plain, p->ca, NULL);
	rc |= fx_write_pem(fx_path(p, "leaf-rsa-ms.pem", b, sizeof(b)),
			   p->leaf_rsa_ms, NULL, NULL);
	rc |= fx_write_pem(fx_path(p, "fullchain-v2.pem", b, sizeof(b)),
			   p->leaf_v2, p->ca, NULL);
	rc |= fx_write_pem(fx_path(p, "fullchain-noocsp-ms.pem", b, sizeof(b)),
			   p->leaf_noocsp_ms, p->ca, NULL);
	rc |= fx_write_key(fx_path(p, "leaf.key", b, sizeof(b)), p->leaf_key);
	rc |= fx_write_key(fx_path(p, "ca.key", b, sizeof(b)), p->ca_key);
	rc |= fx_write_key(fx_path(p, "rsa.key", b, sizeof(b)), p->rsa_key);
	return rc;
}

int fx_pki_create(struct fx_pki *p, const char *dir_template)
{
	struct fx_cert_opts root = {.cn = "Staplegate Test Root", .ca = true};
	struct fx_cert_opts ca = {.cn = "Staplegate Test Issuing CA",
				  .ca = true};

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s",
		 dir_template ? dir_template : "");
	if (dir_template == NULL) {
		/* in memory only */
	} else if (strstr(p->dir, "XXXXXX")) {
		if (mkdtemp(p->dir) == NULL)
			return -1;
	} else if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
		return -1;
	}
	p->root_key = fx_key_ec();
	p->ca_key = fx_key_ec();
	p->leaf_key = fx_key_ec();
	p->rsa_key = fx_key_rsa();
	p->resp_key = fx_key_ec();
	p->other_key = fx_key_ec();
	p->root = fx_issue(&root, p->root_key, NULL, NULL);
	p->ca = fx_issue(&ca, p->ca_key, p->root, p->root_key);
	make_leaves(p);
	make_responders(p);
	return dir_template ? write_files(p) : 0;
}

void fx_pki_free(struct fx_pki *p)
{
	X509 *certs[] = {p->root,
			 p->ca,
			 p->leaf_ms,
			 p->leaf_plain,
			 p->leaf_rsa_ms,
			 p->leaf_v2,
			 p->leaf_noocsp_ms,
			 p->responder,
			 p->responder_noeku,
			 p->other_ca,
			 p->other_responder,
			 p->fake_ca};
	EVP_PKEY *keys[] = {p->root_key, p->ca_key,   p->leaf_key,
			    p->rsa_key,	 p->resp_key, p->other_key};

	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	memset(p, 0, sizeof(*p));
}
