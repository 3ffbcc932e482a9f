/* The approved-certificate store: <state_dir>/live/<lineage> is a symlink
 * to <state_dir>/store/<lineage>/<version>/ holding cert.pem, chain.pem,
 * fullchain.pem and privkey.pem. Servers read from live/, so only a
 * certificate the gate allowed can ever be loaded, whatever reloads. */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stdbool.h>

#include "../preflight/check.h"
#include "clients.h"

/* The verified OCSP response pre-staged with a version: kept in the
 * version (staple.der) and written to path, where servers that staple
 * from a file read it. */
struct sg_store_staple {
	const char *path; /* NULL: no staple file */
	const unsigned char *der;
	size_t len; /* der NULL: none for this version */
};

/* Puts the new version in place and swaps live/<lineage> to it, keeping
 * the version it replaces as "previous" (with the staple file it was
 * served with). Built from what the gate verified: certbot lineages get
 * links to certbot's versioned archive files, checked after linking to
 * be the verified certificate; others get copies (the key copied byte
 * for byte, 0600, never parsed, and the client's certificate checked
 * afterwards to still be the verified one). The caller holds the
 * lineage's lock (lock.h). st may be NULL. *swapped (may be NULL): live/
 * now names a new version (not when the certificate was live already).
 * The staple file is written just before the swap and put back as it
 * was if the swap fails. */
sg_result sg_store_fill(const char *state_dir, const struct sg_newcert *nc,
			const struct sg_material *m,
			const struct sg_store_staple *st, bool *swapped);

/* A refreshed staple for the live version, kept in it (best effort). */
void sg_store_keep_staple(const char *state_dir, const char *lineage,
			  const unsigned char *der, size_t len);

/* Whether there is a version to roll back to (not after the first). */
bool sg_store_has_previous(const char *state_dir, const char *lineage);

/* Swaps live/<lineage> back to the previous version, and its staple back
 * to staple_path (may be NULL), which is removed when that version had
 * none. done (may be NULL) gets what was done, for the operator. The
 * caller holds the lineage's lock. */
sg_result sg_store_rollback(const char *state_dir, const char *lineage,
			    const char *staple_path, char *done, size_t size);

/* A lineage name safe as one path component: [A-Za-z0-9._-], '*' as '_',
 * not starting with '.'. */
sg_result sg_store_lineage_name(const char *lineage, char *out, size_t size);

#endif
