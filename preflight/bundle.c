#include "bundle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>

/* Reads PEM certificates until the end of the file; `count` says how
 * many were read before the stop so the caller can tell "none" from
 * "a damaged block after some". */
static sg_result read_pem_certs(BIO *in, const char *path,
				STACK_OF(X509) *certs)
{
	for (;;) {
		X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
		unsigned long e;

		if (x != NULL) {
			if (!sk_X509_push(certs, x)) {
				X509_free(x);
				return sg_err(SG_ENOMEM, "out of memory");
			}
			continue;
		}
		e = ERR_peek_last_error();
		ERR_clear_error();
		if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
			break;
		return sg_err(SG_EINPUT,
			      "%s: damaged PEM certificate after %d good "
			      "one(s)",
			      path, sk_X509_num(certs));
	}
	if (sk_X509_num(certs) == 0)
		return sg_err(SG_EINPUT, "%s: no PEM certificate in the file",
			      path);
	return sg_ok();
}

sg_result sg_bundle_load(const char *path, STACK_OF(X509) **out)
{
	struct stat st;
	STACK_OF(X509) *certs;
	BIO *in;
	sg_result r;

	*out = NULL;
	if (stat(path, &st) != 0)
		return sg_err(SG_EINPUT, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_err(SG_EINPUT, "%s: not a regular file", path);
	if (st.st_size == 0)
		return sg_err(SG_EINPUT, "%s: file is empty", path);
	in = BIO_new_file(path, "r");
	if (in == NULL) {
		ERR_clear_error();
		return sg_err(SG_EINPUT, "%s: %s", path, strerror(errno));
	}
	certs = sk_X509_new_null();
	r = certs ? read_pem_certs(in, path, certs)
		  : sg_err(SG_ENOMEM, "out of memory");
	BIO_free(in);
	if (r.code) {
		sk_X509_pop_free(certs, X509_free);
		return r;
	}
	*out = certs;
	return r;
}

sg_result sg_bundle_trust_store(const char *cafile, X509_STORE **out)
{
	X509_STORE *store = X509_STORE_new();

	*out = NULL;
	if (store == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	if (cafile == NULL) {
		if (!X509_STORE_set_default_paths(store))
			goto fail;
	} else {
		STACK_OF(X509) *certs;
		sg_result r = sg_bundle_load(cafile, &certs);

		if (r.code) {
			X509_STORE_free(store);
			return r;
		}
		for (int i = 0; i < sk_X509_num(certs); i++)
			X509_STORE_add_cert(store, sk_X509_value(certs, i));
		sk_X509_pop_free(certs, X509_free);
	}
	*out = store;
	return sg_ok();
fail:
	ERR_clear_error();
	X509_STORE_free(store);
	return sg_err(SG_EINPUT, "cannot load the system trust store");
}

static int signed_by(X509 *leaf, X509 *cand)
{
	EVP_PKEY *key = X509_get0_pubkey(cand);
	int ok;

	if (key == NULL || X509_NAME_cmp(X509_get_subject_name(cand),
					 X509_get_issuer_name(leaf)) != 0)
		return 0;
	ok = X509_verify(leaf, key) == 1;
	ERR_clear_error();
	return ok;
}

static X509 *find_in_stack(X509 *leaf, STACK_OF(X509) *cands)
{
	for (int i = 0; i < sk_X509_num(cands); i++) {
		X509 *c = sk_X509_value(cands, i);

		if (c != leaf && signed_by(leaf, c)) {
			X509_up_ref(c);
			return c;
		}
	}
	return NULL;
}

static X509 *find_in_store(X509 *leaf, X509_STORE *store)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *named = NULL;
	X509 *found = NULL;

	if (ctx && X509_STORE_CTX_init(ctx, store, leaf, NULL))
		named = X509_STORE_CTX_get1_certs(ctx,
						  X509_get_issuer_name(leaf));
	found = find_in_stack(leaf, named);
	sk_X509_pop_free(named, X509_free);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return found;
}

X509 *sg_issuer_find(X509 *leaf, STACK_OF(X509) *cands, X509_STORE *store)
{
	X509 *found = find_in_stack(leaf, cands);

	if (found == NULL && store != NULL)
		found = find_in_store(leaf, store);
	return found;
}

BIO *sg_pem_text(STACK_OF(X509) *certs, int from, int to)
{
	BIO *mem = BIO_new(BIO_s_mem());

	for (int i = from; mem && i < to; i++)
		if (!PEM_write_bio_X509(mem, sk_X509_value(certs, i))) {
			BIO_free(mem);
			return NULL;
		}
	return mem;
}

int sg_stack_append(STACK_OF(X509) *dst, STACK_OF(X509) *src)
{
	for (int i = 0; i < sk_X509_num(src); i++) {
		X509 *x = sk_X509_value(src, i);

		if (!sk_X509_push(dst, x))
			return 0;
		X509_up_ref(x);
	}
	return 1;
}
