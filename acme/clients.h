/* Each ACME client's hook environment turned into one "new certificate"
 * description. Only paths and names are read here: the private key is
 * never opened. */
#ifndef SG_CLIENTS_H
#define SG_CLIENTS_H

#include <limits.h>

#include "../preflight/certinfo.h"
#include "../preflight/result.h"

enum sg_client {
	SG_CLIENT_MANUAL, /* --cert on the command line */
	SG_CLIENT_CERTBOT,
	SG_CLIENT_ACMESH,
	SG_CLIENT_LEGO,
	SG_CLIENT_DEHYDRATED,
};

struct sg_newcert {
	enum sg_client client;
	char lineage[256];	   /* certbot lineage, acme.sh or lego domain */
	char cert_path[PATH_MAX];  /* the leaf, or a bundle starting with it */
	char chain_path[PATH_MAX]; /* issuer chain, "" when none */
	char key_path[PATH_MAX];   /* only ever linked or copied, "" unknown */
	char lineage_dir[PATH_MAX]; /* certbot's live/<lineage>, else "" */
	struct sg_strlist domains;  /* as the client names them, may be empty */
};

const char *sg_client_name(enum sg_client c);

/* Reads, in this order, certbot (RENEWED_LINEAGE, RENEWED_DOMAINS),
 * acme.sh (CERT_PATH, CA_CERT_PATH, Le_Domain), lego v5 (LEGO_HOOK_*)
 * and lego v4 (LEGO_CERT_PATH, LEGO_ISSUER_CERT_PATH, LEGO_CERT_DOMAIN).
 * cert, chain and key (flags, may be NULL) override the paths found.
 * The lineage is left empty for a --cert run (see sg_client_lineage). */
sg_result sg_client_detect(struct sg_newcert *nc, const char *cert,
			   const char *chain, const char *key);
/* A run with no client environment and no --lineage: the lineage is the
 * certificate's first DNS name (cert NULL or without one: the name of
 * the directory holding it). */
void sg_client_lineage(struct sg_newcert *nc, const struct sg_certinfo *cert);

/* dehydrated's deploy_cert arguments: no environment is read. */
sg_result sg_client_dehydrated(struct sg_newcert *nc, const char *domain,
			       const char *cert, const char *chain,
			       const char *key);
void sg_client_free(struct sg_newcert *nc);

#endif
