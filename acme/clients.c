#include "clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *sg_client_name(enum sg_client c)
{
	switch (c) {
	case SG_CLIENT_CERTBOT:
		return "certbot";
	case SG_CLIENT_ACMESH:
		return "acme.sh";
	case SG_CLIENT_LEGO:
		return "lego";
	case SG_CLIENT_DEHYDRATED:
		return "dehydrated";
	default:
		return "manual";
	}
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void set(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* Splits a list on any of seps into domains. */
static sg_result split_domains(struct sg_newcert *nc, const char *list,
			       const char *seps)
{
	char *copy = list ? strdup(list) : NULL, *save = NULL;
	sg_result r = sg_ok();

	if (list && copy == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	for (char *tok = copy ? strtok_r(copy, seps, &save) : NULL;
	     tok && !r.code; tok = strtok_r(NULL, seps, &save))
		r = sg_strlist_add(&nc->domains, tok);
	free(copy);
	return r;
}

/* certbot: RENEWED_LINEAGE is the live/ directory of the lineage. */
static sg_result from_certbot(struct sg_newcert *nc, const char *lineage)
{
	const char *base = strrchr(lineage, '/');
	char chain[PATH_MAX];

	nc->client = SG_CLIENT_CERTBOT;
	set(nc->lineage, sizeof(nc->lineage),
	    base && base[1] ? base + 1 : lineage);
	set(nc->lineage_dir, sizeof(nc->lineage_dir), lineage);
	snprintf(nc->cert_path, sizeof(nc->cert_path), "%s/cert.pem", lineage);
	snprintf(nc->key_path, sizeof(nc->key_path), "%s/privkey.pem", lineage);
	snprintf(chain, sizeof(chain), "%s/chain.pem", lineage);
	if (access(chain, R_OK) == 0)
		set(nc->chain_path, sizeof(nc->chain_path), chain);
	return split_domains(nc, env("RENEWED_DOMAINS"), " ");
}

/* acme.sh keeps an ECC certificate of a domain apart from its RSA one,
 * in <domain>_ecc/, and runs the reloadcmd from that directory: the two
 * are two lineages, or they would overwrite each other in the store. */
static void acmesh_lineage(struct sg_newcert *nc, const char *domain)
{
	char cwd[PATH_MAX], ecc[300];
	const char *base;

	set(nc->lineage, sizeof(nc->lineage), domain);
	if (domain == NULL || getcwd(cwd, sizeof(cwd)) == NULL)
		return;
	base = strrchr(cwd, '/');
	snprintf(ecc, sizeof(ecc), "%s_ecc", domain);
	if (base && strcmp(base + 1, ecc) == 0)
		set(nc->lineage, sizeof(nc->lineage), ecc);
}

/* acme.sh exports its own copies' paths to the reloadcmd: CERT_PATH is
 * the leaf, CA_CERT_PATH the chain. */
static sg_result from_acmesh(struct sg_newcert *nc)
{
	nc->client = SG_CLIENT_ACMESH;
	set(nc->cert_path, sizeof(nc->cert_path), env("CERT_PATH"));
	set(nc->chain_path, sizeof(nc->chain_path), env("CA_CERT_PATH"));
	set(nc->key_path, sizeof(nc->key_path), env("CERT_KEY_PATH"));
	acmesh_lineage(nc, env("Le_Domain"));
	return split_domains(nc, env("Le_Domain"), " ");
}

/* lego: v5 renamed every hook variable to LEGO_HOOK_*; v4's
 * LEGO_CERT_PATH is a bundle with the issuer unless --no-bundle. */
static sg_result from_lego(struct sg_newcert *nc, bool v5)
{
	nc->client = SG_CLIENT_LEGO;
	if (v5) {
		set(nc->cert_path, sizeof(nc->cert_path),
		    env("LEGO_HOOK_CERT_PATH"));
		set(nc->chain_path, sizeof(nc->chain_path),
		    env("LEGO_HOOK_ISSUER_CERT_PATH"));
		set(nc->key_path, sizeof(nc->key_path),
		    env("LEGO_HOOK_CERT_KEY_PATH"));
		set(nc->lineage, sizeof(nc->lineage),
		    env("LEGO_HOOK_CERT_NAME"));
		return split_domains(nc, env("LEGO_HOOK_CERT_DOMAINS"), ",");
	}
	set(nc->cert_path, sizeof(nc->cert_path), env("LEGO_CERT_PATH"));
	set(nc->chain_path, sizeof(nc->chain_path),
	    env("LEGO_ISSUER_CERT_PATH"));
	set(nc->key_path, sizeof(nc->key_path), env("LEGO_CERT_KEY_PATH"));
	set(nc->lineage, sizeof(nc->lineage), env("LEGO_CERT_DOMAIN"));
	return split_domains(nc, env("LEGO_CERT_DOMAIN"), " ");
}

static void lineage_from_path(struct sg_newcert *nc)
{
	char dir[PATH_MAX];
	char *slash;

	set(dir, sizeof(dir), nc->cert_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(dir, '/');
	set(nc->lineage, sizeof(nc->lineage),
	    slash ? slash + 1 : (nc->cert_path[0] == '/' ? "" : "."));
}

sg_result sg_client_detect(struct sg_newcert *nc, const char *cert,
			   const char *chain, const char *key)
{
	sg_result r = sg_ok();

	memset(nc, 0, sizeof(*nc));
	if (env("RENEWED_LINEAGE"))
		r = from_certbot(nc, env("RENEWED_LINEAGE"));
	else if (env("CERT_PATH"))
		r = from_acmesh(nc);
	else if (env("LEGO_HOOK_CERT_PATH"))
		r = from_lego(nc, true);
	else if (env("LEGO_CERT_PATH"))
		r = from_lego(nc, false);
	else if (cert == NULL)
		return sg_err(SG_EINPUT,
			      "no new certificate: none of RENEWED_LINEAGE "
			      "(certbot), CERT_PATH (acme.sh), "
			      "LEGO_HOOK_CERT_PATH or LEGO_CERT_PATH (lego) "
			      "is set, and no --cert was given");
	if (r.code) {
		sg_client_free(nc);
		return r;
	}
	if (cert)
		set(nc->cert_path, sizeof(nc->cert_path), cert);
	if (chain)
		set(nc->chain_path, sizeof(nc->chain_path), chain);
	if (key)
		set(nc->key_path, sizeof(nc->key_path), key);
	/* --cert alone: named after the certificate, once it is read
	 * (sg_client_lineage), not after whatever directory holds it. */
	if (nc->lineage[0] == '\0' && nc->client != SG_CLIENT_MANUAL)
		lineage_from_path(nc);
	return r;
}

void sg_client_lineage(struct sg_newcert *nc, const struct sg_certinfo *cert)
{
	if (nc->lineage[0])
		return;
	if (cert && cert->dns_names.n)
		set(nc->lineage, sizeof(nc->lineage), cert->dns_names.v[0]);
	else
		lineage_from_path(nc);
}

/* dehydrated passes certs/DOMAIN/privkey.pem and friends, symlinks to
 * the versioned files (privkey-TIMESTAMP.pem): resolving them pins the
 * version this run verifies, whatever a renewal relinks meanwhile. */
static void set_resolved(char *dst, size_t size, const char *path)
{
	char real[PATH_MAX];

	set(dst, size, path && realpath(path, real) ? real : path);
}

sg_result sg_client_dehydrated(struct sg_newcert *nc, const char *domain,
			       const char *cert, const char *chain,
			       const char *key)
{
	memset(nc, 0, sizeof(*nc));
	nc->client = SG_CLIENT_DEHYDRATED;
	set(nc->lineage, sizeof(nc->lineage), domain);
	set_resolved(nc->cert_path, sizeof(nc->cert_path), cert);
	set_resolved(nc->chain_path, sizeof(nc->chain_path), chain);
	set_resolved(nc->key_path, sizeof(nc->key_path), key);
	return sg_strlist_add(&nc->domains, domain);
}

void sg_client_free(struct sg_newcert *nc)
{
	sg_strlist_free(&nc->domains);
}
