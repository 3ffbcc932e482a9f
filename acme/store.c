#include "store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "../preflight/atomic.h"
#include "../preflight/bundle.h"
#include "../preflight/responder.h" /* a staple is a response */

#define KEY_MAX_BYTES  (1L << 20)
#define CERT_MAX_BYTES (1L << 20)

/* What a version may hold; staple.der only when one was pre-staged. */
static const char *const files[] = {"cert.pem", "chain.pem", "fullchain.pem",
				    "privkey.pem", "staple.der"};

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

/* The ACME client's files are the client's business: a symlink there
 * (dehydrated passes its key as one) is followed. Only staplegate's own
 * state directory refuses symlinks. */
static sg_result read_client_file(const char *path, size_t max, char **data,
				  size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	ssize_t n = -1;

	*data = NULL;
	if (fd < 0)
		return sg_err(SG_EINPUT, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size <= max) {
		buf = malloc((size_t)st.st_size + 1);
		n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	}
	close(fd);
	if (buf == NULL || n != st.st_size) {
		free(buf);
		return sg_err(SG_EINPUT,
			      "%s: not a readable regular file of at most "
			      "%zu bytes",
			      path, max);
	}
	buf[n] = '\0';
	*data = buf;
	*len = (size_t)n;
	return sg_ok();
}

/* The fingerprint of the first certificate in a PEM file, read now. */
static sg_result file_sha(const char *path, char sha[65])
{
	char *text = NULL;
	size_t len = 0;
	BIO *bio;
	X509 *x = NULL;
	sg_result r = read_client_file(path, CERT_MAX_BYTES, &text, &len);

	sha[0] = '\0';
	if (r.code)
		return r;
	bio = BIO_new_mem_buf(text, (int)len);
	x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	if (x)
		sg_cert_sha256(x, sha);
	X509_free(x);
	BIO_free(bio);
	free(text);
	return x ? sg_ok()
		 : sg_err(SG_EINPUT, "%s: no certificate in it", path);
}

/* A renewal between the gate's check and the fill would put other bytes
 * (or a key of another issuance) in the store than those verified. */
static sg_result same_as_verified(const char *path, const char *sha)
{
	char now[65];
	sg_result r = file_sha(path, now);

	if (!r.code && strcmp(now, sha) != 0)
		r = sg_err(SG_EINPUT,
			   "%s changed after it was verified (a renewal?): "
			   "fill aborted, the verified certificate stays "
			   "pending",
			   path);
	return r;
}

/* Copies: the certificates from what the engine loaded and verified,
 * the key byte for byte from the client's file; then the client's
 * certificate must still be the verified one, so that key and
 * certificate come from the same issuance. */
static sg_result fill_copies(const char *dir, const struct sg_newcert *nc,
			     const struct sg_material *m, const char *sha)
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
		r = read_client_file(nc->key_path, KEY_MAX_BYTES, &key,
				     &keylen);
	snprintf(path, sizeof(path), "%s/privkey.pem", dir);
	if (!r.code)
		r = sg_write_atomic(path, key, keylen, 0600);
	if (key)
		OPENSSL_cleanse(key, keylen);
	free(key);
	if (!r.code)
		r = same_as_verified(nc->cert_path, sha);
	return r;
}

/* certbot's archive number of a file (privkey7.pem: 7), -1 if none. */
static long archive_number(const char *real)
{
	const char *base = strrchr(real, '/'), *p;
	size_t n;

	base = base ? base + 1 : real;
	n = strlen(base);
	if (n < 5 || strcmp(base + n - 4, ".pem") != 0)
		return -1;
	p = base + n - 4;
	while (p > base && isdigit((unsigned char)p[-1]))
		p--;
	return p == base + n - 4 ? -1 : strtol(p, NULL, 10);
}

/* certbot: links to the versioned files of its archive/, which certbot
 * never rewrites; the key is not even opened. All four must be of one
 * archive number, and the linked certificate the verified one: a
 * renewal moves live/ links one by one. */
static sg_result fill_links(const char *dir, const struct sg_newcert *nc,
			    const char *sha)
{
	long number = -1;
	char link[PATH_MAX];
	sg_result r;

	for (size_t i = 0; i < 4; i++) {
		char live[PATH_MAX], real[PATH_MAX];

		snprintf(live, sizeof(live), "%s/%s", nc->lineage_dir,
			 files[i]);
		snprintf(link, sizeof(link), "%s/%s", dir, files[i]);
		if (realpath(live, real) == NULL)
			return sg_err(SG_EINPUT, "%s: %s", live,
				      strerror(errno));
		if (i > 0 && archive_number(real) != number)
			return sg_err(SG_EINPUT,
				      "%s: not of the same certbot archive "
				      "version as cert.pem (a renewal?): fill "
				      "aborted",
				      live);
		number = archive_number(real);
		if (symlink(real, link) != 0)
			return sg_err(SG_ESYS, "%s: %s", link, strerror(errno));
	}
	snprintf(link, sizeof(link), "%s/cert.pem", dir);
	r = same_as_verified(link, sha);
	snprintf(link, sizeof(link), "%s/fullchain.pem", dir);
	if (!r.code)
		r = same_as_verified(link, sha);
	return r;
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

/* Keeps the current and the previous version, removes the others, the
 * half-built ones of killed runs included. Runs under the lineage's
 * lock, so no other run is building one. */
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

/* v<UTC time>-<12 hex of the fingerprint>-<8 random hex>: unique even
 * for two builds of one certificate in one second. */
static void make_version(const char *sha, char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	unsigned char b[4];
	char stamp[32];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "v%Y%m%dT%H%M%S", &tm);
	snprintf(out, size, "%s-%.12s-%02x%02x%02x%02x", stamp, sha, b[0], b[1],
		 b[2], b[3]);
}

/* Whether a version name is of the certificate with this fingerprint. */
static bool version_of(const char *version, const char *sha)
{
	return strlen(version) >= 29 && strncmp(version + 17, sha, 12) == 0;
}

static sg_result point_live(const char *state_dir, const char *name,
			    const char *version)
{
	char target[PATH_MAX], live[PATH_MAX];

	snprintf(target, sizeof(target), "../store/%s/%s", name, version);
	snprintf(live, sizeof(live), "%s/live/%s", state_dir, name);
	return sg_symlink_swap(target, live);
}

static sg_result write_staple(const char *lstore, const char *version,
			      const struct sg_store_staple *st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/staple.der", lstore, version);
	return sg_write_atomic(path, st->der, st->len, 0644);
}

/* The staple file servers read today belongs to the version that is
 * live: kept with it (when it has none yet), so that rollback can put
 * it back. */
static void keep_live_staple(const char *lstore, const char *version,
			     const char *staple_path)
{
	char path[PATH_MAX], *data = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s/staple.der", lstore, version);
	if (access(path, F_OK) == 0 ||
	    read_client_file(staple_path, SG_OCSP_MAX_RESPONSE_BYTES, &data,
			     &len)
		    .code)
		return;
	sg_write_atomic(path, data, len, 0644);
	free(data);
}

/* The same certificate again: the live version stays, with the new
 * staple. */
static sg_result refresh_same(const char *lstore, const char *version,
			      const struct sg_store_staple *st)
{
	sg_result r = sg_ok();

	if (st && st->der)
		r = write_staple(lstore, version, st);
	if (!r.code && st && st->der && st->path)
		r = sg_write_atomic(st->path, st->der, st->len, 0644);
	return r;
}

/* Builds the version in <version>.tmp and renames it whole. */
static sg_result build_version(const char *lstore, const char *version,
			       const struct sg_newcert *nc,
			       const struct sg_material *m, const char *sha,
			       const struct sg_store_staple *st)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 8];
	sg_result r;

	snprintf(dir, sizeof(dir), "%s/%s", lstore, version);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
	if (mkdir(tmp, 0750) != 0)
		return sg_err(SG_ESYS, "%s: %s", tmp, strerror(errno));
	r = nc->client == SG_CLIENT_CERTBOT ? fill_links(tmp, nc, sha)
					    : fill_copies(tmp, nc, m, sha);
	if (!r.code && st && st->der) {
		char path[PATH_MAX + 20];

		snprintf(path, sizeof(path), "%s/staple.der", tmp);
		r = sg_write_atomic(path, st->der, st->len, 0644);
	}
	if (!r.code && rename(tmp, dir) != 0)
		r = sg_err(SG_ESYS, "%s: %s", dir, strerror(errno));
	if (r.code)
		remove_version(lstore, strrchr(tmp, '/') + 1);
	return r;
}

/* The staple file as it was before the fill wrote the new one, so that
 * a failed swap of live/ puts it back: the old certificate stays live
 * and must keep its own staple. */
struct staple_before {
	char *data; /* NULL: there was no readable file */
	size_t len;
};

static void staple_save(const char *path, struct staple_before *b)
{
	b->data = NULL;
	b->len = 0;
	if (read_client_file(path, SG_OCSP_MAX_RESPONSE_BYTES, &b->data,
			     &b->len)
		    .code)
		b->data = NULL;
}

static void staple_put_back(const char *path, const struct staple_before *b)
{
	if (b->data)
		sg_write_atomic(path, b->data, b->len, 0644);
	else
		unlink(path);
}

/* The staple file gets the new version's staple, then live/ swaps to
 * it; a failed swap puts the file back as it was. */
static sg_result switch_live(const char *state_dir, const char *name,
			     const char *version,
			     const struct sg_store_staple *st)
{
	struct staple_before before = {NULL, 0};
	bool write = st && st->der && st->path;
	sg_result r = sg_ok();

	if (write) {
		staple_save(st->path, &before);
		r = sg_write_atomic(st->path, st->der, st->len, 0644);
	}
	if (!r.code)
		r = point_live(state_dir, name, version);
	if (r.code && write)
		staple_put_back(st->path, &before);
	free(before.data);
	return r;
}

sg_result sg_store_fill(const char *state_dir, const struct sg_newcert *nc,
			const struct sg_material *m,
			const struct sg_store_staple *st, bool *swapped)
{
	char name[256], lstore[PATH_MAX], version[64], live[PATH_MAX], prev[64],
		prevlink[PATH_MAX];
	char sha[65];
	sg_result r = sg_store_lineage_name(nc->lineage, name, sizeof(name));

	if (swapped)
		*swapped = false;
	if (!r.code)
		r = make_dirs(state_dir, name, lstore, sizeof(lstore));
	if (r.code)
		return r;
	sg_cert_sha256(sg_material_leaf(m), sha);
	snprintf(live, sizeof(live), "%s/live/%s", state_dir, name);
	current_version(live, prev, sizeof(prev));
	if (prev[0] && version_of(prev, sha))
		return refresh_same(lstore, prev, st);
	make_version(sha, version, sizeof(version));
	r = build_version(lstore, version, nc, m, sha, st);
	if (r.code)
		return r;
	/* previous first: a run killed at any point leaves previous and
	 * live each naming a whole version. */
	snprintf(prevlink, sizeof(prevlink), "%s/previous", lstore);
	if (prev[0] && st && st->path)
		keep_live_staple(lstore, prev, st->path);
	if (prev[0])
		r = sg_symlink_swap(prev, prevlink);
	if (!r.code)
		r = switch_live(state_dir, name, version, st);
	if (r.code) {
		remove_version(lstore, version);
		return r;
	}
	if (swapped)
		*swapped = true;
	prune(lstore, version, prev[0] ? prev : NULL);
	return r;
}

/* Puts the previous version's staple back where servers read it. A
 * version without one was live while there was no staple file (the
 * fill keeps the file it replaces with the version it belonged to), so
 * the file goes: never the failed certificate's staple beside the old
 * certificate. */
static sg_result restore_staple(const char *lstore, const char *version,
				const char *staple_path, bool *removed)
{
	char path[PATH_MAX], *data = NULL;
	size_t len = 0;
	sg_result r;

	*removed = false;
	snprintf(path, sizeof(path), "%s/%s/staple.der", lstore, version);
	if (access(path, F_OK) != 0) {
		if (unlink(staple_path) != 0 && errno != ENOENT)
			return sg_err(SG_ESYS, "%s: %s", staple_path,
				      strerror(errno));
		*removed = true;
		return sg_ok();
	}
	r = sg_read_file(path, SG_OCSP_MAX_RESPONSE_BYTES, &data, &len);
	if (!r.code)
		r = sg_write_atomic(staple_path, data, len, 0644);
	free(data);
	return r;
}

void sg_store_keep_staple(const char *state_dir, const char *lineage,
			  const unsigned char *der, size_t len)
{
	char name[256], live[PATH_MAX], version[64], lstore[PATH_MAX];
	struct sg_store_staple st = {NULL, der, len};

	if (sg_store_lineage_name(lineage, name, sizeof(name)).code)
		return;
	snprintf(live, sizeof(live), "%s/live/%s", state_dir, name);
	snprintf(lstore, sizeof(lstore), "%s/store/%s", state_dir, name);
	current_version(live, version, sizeof(version));
	if (version[0])
		write_staple(lstore, version, &st);
}

bool sg_store_has_previous(const char *state_dir, const char *lineage)
{
	char name[256], prevlink[PATH_MAX];
	struct stat st;

	if (sg_store_lineage_name(lineage, name, sizeof(name)).code)
		return false;
	snprintf(prevlink, sizeof(prevlink), "%s/store/%s/previous", state_dir,
		 name);
	return lstat(prevlink, &st) == 0;
}

sg_result sg_store_rollback(const char *state_dir, const char *lineage,
			    const char *staple_path, char *done, size_t size)
{
	bool removed = false;
	char name[256], lstore[PATH_MAX], prevlink[PATH_MAX], prev[64],
		live[PATH_MAX], failed[64], dir[PATH_MAX];
	ssize_t n;
	struct stat st;
	sg_result r = sg_store_lineage_name(lineage, name, sizeof(name));

	if (r.code)
		return r;
	snprintf(lstore, sizeof(lstore), "%s/store/%s", state_dir, name);
	snprintf(prevlink, sizeof(prevlink), "%s/previous", lstore);
	n = readlink(prevlink, prev, sizeof(prev) - 1);
	if (n <= 0)
		return sg_err(SG_EINPUT,
			      "store %s: no previous version to roll "
			      "back to",
			      name);
	prev[n] = '\0';
	snprintf(dir, sizeof(dir), "%s/%s", lstore, prev);
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return sg_err(SG_EINPUT,
			      "store %s: previous version %s is gone", name,
			      prev);
	snprintf(live, sizeof(live), "%s/live/%s", state_dir, name);
	current_version(live, failed, sizeof(failed));
	if (staple_path)
		r = restore_staple(lstore, prev, staple_path, &removed);
	if (!r.code)
		r = point_live(state_dir, name, prev);
	if (r.code)
		return r;
	if (done)
		snprintf(done, size,
			 "live/%s back to the previous version %s%s", name,
			 prev,
			 !staple_path ? ""
			 : removed    ? ", staple file removed (that version "
					"had none)"
				      : ", its staple file restored");
	/* The rolled-back version is not kept as a fallback. */
	unlink(prevlink);
	if (failed[0] && strcmp(failed, prev) != 0)
		remove_version(lstore, failed);
	return sg_ok();
}
