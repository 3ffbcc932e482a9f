#include "store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "../preflight/atomic.h"
#include "../preflight/bundle.h"

#define KEY_MAX_BYTES (1L << 20)

static const char *const files[] = {"cert.pem", "chain.pem", "fullchain.pem",
				    "privkey.pem"};

sg_result sg_store_lineage_name(const char *lineage, char *out, size_t size)
{
	size_t n = strlen(lineage);

	if (n == 0 || n >= size || lineage[0] == '.')
		return sg_err(SG_EINPUT,
			      "lineage '%s': not usable as a store "
			      "name",
			      lineage);
	for (size_t i = 0; i <= n; i++) {
		char c = lineage[i];

		if (c == '*')
			c = '_';
		else if (c && !isalnum((unsigned char)c) && !strchr("._-", c))
			return sg_err(SG_EINPUT,
				      "lineage '%s': not usable as "
				      "a store name",
				      lineage);
		out[i] = c;
	}
	return sg_ok();
}

static sg_result make_dirs(const char *state_dir, const char *name,
			   char *lineage_store, size_t size)
{
	char path[PATH_MAX];
	sg_result r = sg_mkdir_safe(state_dir, 0750);

	snprintf(path, sizeof(path), "%s/store", state_dir);
	if (!r.code)
		r = sg_mkdir_safe(path, 0750);
	snprintf(path, sizeof(path), "%s/live", state_dir);
	if (!r.code)
		r = sg_mkdir_safe(path, 0750);
	snprintf(lineage_store, size, "%s/store/%s", state_dir, name);
	if (!r.code)
		r = sg_mkdir_safe(lineage_store, 0750);
	return r;
}

static sg_result write_pem(const char *path, STACK_OF(X509) *certs, int from,
			   int to)
{
	BIO *mem = sg_pem_text(certs, from, to);
	char *data;
	long len;
	sg_result r;

	len = mem ? BIO_get_mem_data(mem, &data) : 0;
	r = mem ? sg_write_atomic(path, data, (size_t)len, 0644)
		: sg_err(SG_ENOMEM, "out of memory");
	BIO_free(mem);
	return r;
}

/* Copies: the certificates from what the engine loaded, the key byte for
 * byte from the client's file. */
static sg_result fill_copies(const char *dir, const struct sg_newcert *nc,
			     const struct sg_material *m)
{
	STACK_OF(X509) *all = sk_X509_new_null();
	char path[PATH_MAX], *key = NULL;
	size_t keylen = 0;
	sg_result r = sg_ok();

	if (all == NULL || !sk_X509_push(all, sg_material_leaf(m)))
		r = sg_err(SG_ENOMEM, "out of memory");
	for (int i = 0; !r.code && i < sk_X509_num(m->issuers); i++)
		if (!sk_X509_push(all, sk_X509_value(m->issuers, i)))
			r = sg_err(SG_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	if (!r.code)
		r = write_pem(path, all, 0, 1);
	snprintf(path, sizeof(path), "%s/chain.pem", dir);
	if (!r.code)
		r = write_pem(path, all, 1, sk_X509_num(all));
	snprintf(path, sizeof(path), "%s/fullchain.pem", dir);
	if (!r.code)
		r = write_pem(path, all, 0, sk_X509_num(all));
	sk_X509_free(all);
	if (!r.code && nc->key_path[0] == '\0')
		r = sg_err(SG_EINPUT,
			   "no private key path from %s: the store "
			   "needs one",
			   sg_client_name(nc->client));
	if (!r.code)
		r = sg_read_file(nc->key_path, KEY_MAX_BYTES, &key, &keylen);
	snprintf(path, sizeof(path), "%s/privkey.pem", dir);
	if (!r.code)
		r = sg_write_atomic(path, key, keylen, 0600);
	if (key)
		OPENSSL_cleanse(key, keylen);
	free(key);
	return r;
}

/* certbot: links to the versioned files of its archive/, which certbot
 * never rewrites; the key is not even opened. */
static sg_result fill_links(const char *dir, const struct sg_newcert *nc)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char live[PATH_MAX], real[PATH_MAX], link[PATH_MAX];

		snprintf(live, sizeof(live), "%s/%s", nc->lineage_dir,
			 files[i]);
		snprintf(link, sizeof(link), "%s/%s", dir, files[i]);
		if (realpath(live, real) == NULL)
			return sg_err(SG_EINPUT, "%s: %s", live,
				      strerror(errno));
		if (symlink(real, link) != 0)
			return sg_err(SG_ESYS, "%s: %s", link, strerror(errno));
	}
	return sg_ok();
}

static void remove_version(const char *lineage_store, const char *version)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", lineage_store, version,
			 files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", lineage_store, version);
	rmdir(path);
}

/* Keeps the current and the previous version, removes the others. */
static void prune(const char *lineage_store, const char *current,
		  const char *previous)
{
	DIR *d = opendir(lineage_store);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != 'v' || strcmp(e->d_name, current) == 0 ||
		    (previous && strcmp(e->d_name, previous) == 0))
			continue;
		remove_version(lineage_store, e->d_name);
	}
	if (d)
		closedir(d);
}

/* The version live/<lineage> points at ("v..."), or "" when none. */
static void current_version(const char *live, char *out, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlink(live, target, sizeof(target) - 1);
	const char *slash;

	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	snprintf(out, size, "%s", slash ? slash + 1 : target);
}

static sg_result point_live(const char *state_dir, const char *name,
			    const char *version)
{
	char target[PATH_MAX], live[PATH_MAX];

	snprintf(target, sizeof(target), "../store/%s/%s", name, version);
	snprintf(live, sizeof(live), "%s/live/%s", state_dir, name);
	return sg_symlink_swap(target, live);
}

sg_result sg_store_fill(const char *state_dir, const struct sg_newcert *nc,
			const struct sg_material *m)
{
	char name[256], lstore[PATH_MAX], version[64], dir[PATH_MAX],
		tmp[PATH_MAX], live[PATH_MAX], prev[64], prevlink[PATH_MAX];
	char sha[65];
	time_t now = time(NULL);
	struct tm tm;
	sg_result r = sg_store_lineage_name(nc->lineage, name, sizeof(name));

	if (!r.code)
		r = make_dirs(state_dir, name, lstore, sizeof(lstore));
	if (r.code)
		return r;
	sg_cert_sha256(sg_material_leaf(m), sha);
	gmtime_r(&now, &tm);
	strftime(version, 32, "v%Y%m%dT%H%M%S-", &tm);
	snprintf(version + strlen(version), 13, "%s", sha);
	snprintf(dir, sizeof(dir), "%s/%s", lstore, version);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
	snprintf(live, sizeof(live), "%s/live/%s", state_dir, name);
	current_version(live, prev, sizeof(prev));
	if (strcmp(prev, version) == 0)
		return sg_ok(); /* this very version is live already */
	remove_version(lstore, version);
	remove_version(lstore, strrchr(tmp, '/') + 1);
	if (mkdir(tmp, 0750) != 0)
		return sg_err(SG_ESYS, "%s: %s", tmp, strerror(errno));
	r = nc->client == SG_CLIENT_CERTBOT ? fill_links(tmp, nc)
					    : fill_copies(tmp, nc, m);
	if (!r.code && rename(tmp, dir) != 0)
		r = sg_err(SG_ESYS, "%s: %s", dir, strerror(errno));
	if (r.code) {
		remove_version(lstore, strrchr(tmp, '/') + 1);
		return r;
	}
	r = point_live(state_dir, name, version);
	snprintf(prevlink, sizeof(prevlink), "%s/previous", lstore);
	if (!r.code && prev[0] && strcmp(prev, version) != 0)
		r = sg_symlink_swap(prev, prevlink);
	if (!r.code)
		prune(lstore, version, prev[0] ? prev : NULL);
	return r;
}

sg_result sg_store_rollback(const char *state_dir, const char *lineage)
{
	char name[256], prevlink[PATH_MAX], prev[64], live[PATH_MAX],
		failed[64];
	ssize_t n;
	sg_result r = sg_store_lineage_name(lineage, name, sizeof(name));

	if (r.code)
		return r;
	snprintf(prevlink, sizeof(prevlink), "%s/store/%s/previous", state_dir,
		 name);
	n = readlink(prevlink, prev, sizeof(prev) - 1);
	if (n <= 0)
		return sg_err(SG_EINPUT,
			      "store %s: no previous version to roll "
			      "back to",
			      name);
	prev[n] = '\0';
	snprintf(live, sizeof(live), "%s/live/%s", state_dir, name);
	current_version(live, failed, sizeof(failed));
	r = point_live(state_dir, name, prev);
	if (r.code)
		return r;
	/* The rolled-back version is not kept as a fallback. */
	unlink(prevlink);
	if (failed[0] && strcmp(failed, prev) != 0) {
		char lstore[PATH_MAX];

		snprintf(lstore, sizeof(lstore), "%s/store/%s", state_dir,
			 name);
		remove_version(lstore, failed);
	}
	return sg_ok();
}
