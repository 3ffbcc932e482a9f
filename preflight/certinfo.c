#include "certinfo.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

sg_result sg_strlist_add(struct sg_strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	char *copy = strdup(s);

	if (v == NULL || copy == NULL) {
		free(copy);
		if (v)
			l->v = v;
		return sg_err(SG_ENOMEM, "out of memory");
	}
	l->v = v;
	l->v[l->n++] = copy;
	return sg_ok();
}

void sg_strlist_free(struct sg_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void sg_cert_sha256(X509 *cert, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (!X509_digest(cert, EVP_sha256(), md, &n))
		return;
	for (unsigned i = 0; i < n && i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

time_t sg_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

void sg_cert_subject(X509 *cert, char *buf, size_t size)
{
	BIO *mem = BIO_new(BIO_s_mem());
	int n;

	buf[0] = '\0';
	if (mem == NULL)
		return;
	X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0,
			   XN_FLAG_RFC2253);
	n = BIO_read(mem, buf, (int)size - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(mem);
}

static void read_serial(X509 *cert, char *buf, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, size, "%s", hex ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
}

static sg_result read_dns_names(X509 *cert, struct sg_strlist *out)
{
	GENERAL_NAMES *names =
		X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	sg_result r = sg_ok();

	for (int i = 0; i < sk_GENERAL_NAME_num(names) && !r.code; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *s = gn->d.dNSName;

		if (gn->type != GEN_DNS)
			continue;
		/* An embedded NUL would truncate the name: skip it. */
		if ((size_t)ASN1_STRING_length(s) !=
		    strlen((const char *)ASN1_STRING_get0_data(s)))
			continue;
		r = sg_strlist_add(out, (const char *)ASN1_STRING_get0_data(s));
	}
	GENERAL_NAMES_free(names);
	return r;
}

static sg_result read_ocsp_urls(X509 *cert, struct sg_strlist *out)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
	sg_result r = sg_ok();

	for (int i = 0; i < sk_OPENSSL_STRING_num(urls) && !r.code; i++)
		r = sg_strlist_add(out, sk_OPENSSL_STRING_value(urls, i));
	X509_email_free(urls);
	return r;
}

sg_result sg_certinfo_read(X509 *cert, struct sg_certinfo *info)
{
	sg_result r;

	memset(info, 0, sizeof(*info));
	sg_cert_subject(cert, info->subject, sizeof(info->subject));
	read_serial(cert, info->serial, sizeof(info->serial));
	sg_cert_sha256(cert, info->sha256);
	info->not_before = sg_asn1_time(X509_get0_notBefore(cert));
	info->not_after = sg_asn1_time(X509_get0_notAfter(cert));
	info->key_type = X509_get0_pubkey(cert)
				 ? EVP_PKEY_get_base_id(X509_get0_pubkey(cert))
				 : 0;
	info->feature_error = sg_tlsfeature_read(cert, &info->features);
	r = read_dns_names(cert, &info->dns_names);
	if (!r.code)
		r = read_ocsp_urls(cert, &info->ocsp_urls);
	if (r.code)
		sg_certinfo_free(info);
	return r;
}

void sg_certinfo_free(struct sg_certinfo *info)
{
	sg_strlist_free(&info->dns_names);
	sg_strlist_free(&info->ocsp_urls);
}

void sg_certinfo_read_issuer(X509 *issuer, struct sg_certinfo *info)
{
	memset(&info->issuer_features, 0, sizeof(info->issuer_features));
	info->issuer_feature_error = sg_ok();
	if (issuer)
		info->issuer_feature_error =
			sg_tlsfeature_read(issuer, &info->issuer_features);
}

bool sg_certinfo_must_staple(const struct sg_certinfo *info)
{
	return info->features.must_staple || info->issuer_features.must_staple;
}

const char *sg_certinfo_first_dns(const struct sg_certinfo *info)
{
	for (size_t i = 0; i < info->dns_names.n; i++)
		if (strncmp(info->dns_names.v[i], "*.", 2) != 0)
			return info->dns_names.v[i];
	return NULL;
}
