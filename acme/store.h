/* The approved-certificate store: <state_dir>/live/<lineage> is a symlink
 * to <state_dir>/store/<lineage>/<version>/ holding cert.pem, chain.pem,
 * fullchain.pem and privkey.pem. Servers read from live/, so only a
 * certificate the gate allowed can ever be loaded, whatever reloads. */
#ifndef SG_STORE_H
#define SG_STORE_H

#include "../preflight/check.h"
#include "newcert.h"

/* Puts the new version in place and swaps live/<lineage> to it, keeping
 * the version it replaces as "previous". certbot lineages get links to
 * certbot's versioned archive files; others get copies (the key copied
 * byte for byte, 0600, never parsed). */
sg_result sg_store_fill(const char *state_dir, const struct sg_newcert *nc,
			const struct sg_material *m);

/* Swaps live/<lineage> back to the previous version. */
sg_result sg_store_rollback(const char *state_dir, const char *lineage);

/* A lineage name safe as one path component: [A-Za-z0-9._-], '*' as '_',
 * not starting with '.'. */
sg_result sg_store_lineage_name(const char *lineage, char *out, size_t size);

#endif
