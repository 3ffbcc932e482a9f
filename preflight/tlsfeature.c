#include "tlsfeature.h"

#include <string.h>

#include <openssl/objects.h>

/* Reads one DER tag + definite length; returns the content length or -1.
 * Only the forms a 64 KiB extension can need (short, 0x81, 0x82). */
static long der_header(const unsigned char **p, size_t *left, unsigned char tag)
{
	const unsigned char *q = *p;
	size_t len, n = *left;

	if (n < 2 || q[0] != tag)
		return -1;
	if (q[1] < 0x80) {
		len = q[1];
		q += 2, n -= 2;
	} else if (q[1] == 0x81 && n >= 3 && q[2] >= 0x80) {
		len = q[2];
		q += 3, n -= 3;
	} else if (q[1] == 0x82 && n >= 4 && q[2] != 0) {
		len = ((size_t)q[2] << 8) | q[3];
		q += 4, n -= 4;
	} else {
		return -1;
	}
	if (len > n)
		return -1;
	*p = q;
	*left = n;
	return (long)len;
}

/* A feature is a non-negative INTEGER in minimal encoding, at most
 * 65535 (TLS extension numbers are 16 bits). */
static int der_feature(const unsigned char *c, long len)
{
	int v = 0;

	if (len < 1 || len > 3 || (c[0] & 0x80))
		return -1;
	if (len > 1 && c[0] == 0 && !(c[1] & 0x80))
		return -1;
	for (long i = 0; i < len; i++)
		v = (v << 8) | c[i];
	return v <= 65535 ? v : -1;
}

sg_result sg_tlsfeature_parse_der(const unsigned char *der, size_t len,
				  struct sg_tlsfeature *out)
{
	const unsigned char *p = der;
	size_t left = len;
	long seqlen;

	memset(out, 0, sizeof(*out));
	out->present = true;
	seqlen = der_header(&p, &left, 0x30);
	if (seqlen < 0 || (size_t)seqlen != left)
		return sg_err(SG_EINPUT, "malformed TLS Feature extension: "
					 "not a DER SEQUENCE");
	while (left > 0) {
		long ilen = der_header(&p, &left, 0x02);
		int v = ilen < 0 ? -1 : der_feature(p, ilen);

		if (v < 0)
			return sg_err(SG_EINPUT,
				      "malformed TLS Feature extension: "
				      "feature %zu is not a valid INTEGER",
				      out->n + 1);
		if (out->n == SG_FEATURES_MAX)
			return sg_err(SG_EINPUT,
				      "malformed TLS Feature extension: more "
				      "than %d features",
				      SG_FEATURES_MAX);
		out->values[out->n++] = v;
		if (v == SG_FEATURE_STATUS_REQUEST)
			out->must_staple = true;
		p += ilen;
		left -= (size_t)ilen;
	}
	return sg_ok();
}

int sg_tlsfeature_unsupported(const struct sg_tlsfeature *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->values[i] != SG_FEATURE_STATUS_REQUEST)
			return f->values[i];
	return -1;
}

sg_result sg_tlsfeature_read(const X509 *cert, struct sg_tlsfeature *out)
{
	int idx = X509_get_ext_by_NID(cert, NID_tlsfeature, -1);
	const ASN1_OCTET_STRING *value;

	memset(out, 0, sizeof(*out));
	if (idx < 0)
		return sg_ok();
	if (X509_get_ext_by_NID(cert, NID_tlsfeature, idx) >= 0) {
		out->present = true;
		return sg_err(SG_EINPUT, "malformed TLS Feature extension: "
					 "it appears twice");
	}
	value = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	return sg_tlsfeature_parse_der(ASN1_STRING_get0_data(value),
				       (size_t)ASN1_STRING_length(value), out);
}
