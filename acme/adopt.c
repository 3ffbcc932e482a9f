#include "adopt.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../preflight/check.h"
#include "../preflight/clock.h"
#include "config.h"
#include "../preflight/responder.h"
#include "haproxy.h"
#include "issuer.h"
#include "lock.h"
#include "clients.h"
#include "prestage.h"
#include "store.h"

struct adopt {
	const struct sg_gate_opts *o;
	const struct sg_config *cfg;
	struct sg_site site; /* the certificate's settings in cfg */
	struct sg_newcert nc;
	struct sg_material mat;
	struct sg_certinfo cert;
	struct sg_responder resp;
	const char *staple;
};

static sg_result load(struct adopt *a)
{
	const struct sg_gate_opts *o = a->o;
	sg_result r = sg_client_detect(&a->nc, o->cert, o->chain, o->key);

	if (r.code)
		return r;
	if (o->lineage)
		snprintf(a->nc.lineage, sizeof(a->nc.lineage), "%s",
			 o->lineage);
	r = sg_material_load(a->nc.cert_path,
			     a->nc.chain_path[0] ? a->nc.chain_path : NULL,
			     o->cafile ? o->cafile : a->cfg->cafile, &a->mat);
	if (!r.code)
		r = sg_certinfo_read(sg_material_leaf(&a->mat), &a->cert);
	if (!r.code)
		sg_client_lineage(&a->nc, &a->cert);
	sg_config_site(a->cfg, &a->cert.dns_names, &a->site);
	if (!r.code)
		r = sg_issuer_complete(&a->nc, &a->mat, true,
				       a->cfg->timeout_sec * 1000L);
	return r;
}

static const char *staple_path(const struct adopt *a)
{
	return a->o->staple_out ? a->o->staple_out : a->site.staple_out;
}

/* Only a verified, fresh response from the CA is pre-staged. */
static sg_result fetch_staple(struct adopt *a)
{
	struct sg_policy policy = sg_config_policy(a->cfg);
	X509 *issuer;

	if (a->cert.ocsp_urls.n == 0)
		return sg_err(SG_EINPUT,
			      "%s: no OCSP responder in the certificate: "
			      "nothing to pre-stage into %s",
			      a->nc.cert_path, a->staple);
	issuer = sg_material_issuer(&a->mat);
	sg_responder_check(sg_material_leaf(&a->mat), issuer,
			   a->cert.ocsp_urls.v[0], a->cfg->timeout_sec * 1000L,
			   &policy, &a->resp);
	X509_free(issuer);
	return a->resp.ready ? sg_ok()
			     : sg_err(SG_EINPUT, "no staple for %s: %s",
				      a->staple, a->resp.reason);
}

static sg_result fill(struct adopt *a, char *msg, size_t size)
{
	char name[256], live[PATH_MAX], cert[PATH_MAX], chain[PATH_MAX];
	struct stat st;
	struct sg_store_staple staple = {0};
	sg_result r = sg_store_lineage_name(a->nc.lineage, name, sizeof(name));

	snprintf(live, sizeof(live), "%s/live/%s", a->cfg->state_dir, name);
	if (!r.code && lstat(live, &st) == 0)
		return sg_err(SG_EINPUT,
			      "%s already exists: adopt is for the first "
			      "version, later ones pass the gate",
			      live);
	a->staple = staple_path(a);
	if (!r.code && a->staple)
		r = fetch_staple(a);
	if (r.code)
		return r;
	staple = (struct sg_store_staple){a->staple, a->resp.der, a->resp.len};
	r = sg_store_fill(a->cfg->state_dir, &a->nc, &a->mat, &staple, NULL);
	snprintf(cert, sizeof(cert), "%s/cert.pem", live);
	snprintf(chain, sizeof(chain), "%s/chain.pem", live);
	if (!r.code && a->staple)
		r = sg_prestage_remember(a->cfg->state_dir, a->nc.lineage,
					 a->staple, cert, chain,
					 a->site.haproxy_socket);
	if (!r.code)
		snprintf(msg, size, "adopted %s (sha256 %.16s...) as %s%s%s",
			 name, a->cert.sha256, live,
			 a->staple ? "; staple pre-staged in " : "",
			 a->staple ? a->staple : "");
	return r;
}

sg_result sg_adopt_run(const struct sg_config *cfg,
		       const struct sg_gate_opts *o, char *msg, size_t size)
{
	struct adopt a = {.cfg = cfg, .o = o};
	bool busy;
	int fd = -1;
	sg_result r = load(&a);

	msg[0] = '\0';
	if (!r.code)
		r = sg_lock_lineage(a.cfg->state_dir, a.nc.lineage,
				    sg_now_ms() + a.cfg->deadline_sec * 1000L,
				    &fd, &busy);
	if (!r.code)
		r = fill(&a, msg, size);
	if (fd >= 0)
		close(fd);
	sg_responder_free(&a.resp);
	sg_certinfo_free(&a.cert);
	sg_material_free(&a.mat);
	sg_client_free(&a.nc);
	return r;
}
