#include "check.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "bundle.h"
#include "verdict.h"

void sg_check_opts_init(struct sg_check_opts *o)
{
	memset(o, 0, sizeof(*o));
	sg_probe_opts_init(&o->probe);
}

static sg_result report_alloc(struct sg_report *rep, enum sg_report_mode mode,
			      const struct sg_check_opts *o, size_t n)
{
	memset(rep, 0, sizeof(*rep));
	rep->mode = mode;
	rep->n = n;
	rep->targets = o->targets;
	rep->generated_at = time(NULL);
	rep->probes = calloc(n ? n : 1, sizeof(*rep->probes));
	rep->scores = calloc(n ? n : 1, sizeof(*rep->scores));
	if (rep->probes == NULL || rep->scores == NULL) {
		sg_report_free(rep);
		return sg_err(SG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		rep->scores[i].reason = "";
	return sg_ok();
}

static sg_result append_file(const char *path, STACK_OF(X509) *out)
{
	STACK_OF(X509) *certs = NULL;
	sg_result r = sg_bundle_load(path, &certs);

	if (!r.code && !sg_stack_append(out, certs))
		r = sg_err(SG_ENOMEM, "out of memory");
	sk_X509_pop_free(certs, X509_free);
	return r;
}

sg_result sg_material_load(const char *cert, const char *chain,
			   const char *cafile, struct sg_material *m)
{
	sg_result r;

	memset(m, 0, sizeof(*m));
	m->issuers = sk_X509_new_null();
	if (m->issuers == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	r = sg_bundle_load(cert, &m->bundle);
	if (!r.code && X509_check_ca(sk_X509_value(m->bundle, 0)) != 0)
		r = sg_err(SG_EINPUT,
			   "%s: the first certificate is a CA, not the new "
			   "server certificate: the bundle is in the wrong "
			   "order, or this is the chain",
			   cert);
	for (int i = 1; !r.code && i < sk_X509_num(m->bundle); i++) {
		X509 *x = sk_X509_value(m->bundle, i);

		if (!sk_X509_push(m->issuers, x))
			r = sg_err(SG_ENOMEM, "out of memory");
		else
			X509_up_ref(x);
	}
	if (!r.code && chain)
		r = append_file(chain, m->issuers);
	if (!r.code)
		r = sg_bundle_trust_store(cafile, &m->store);
	if (r.code)
		sg_material_free(m);
	return r;
}

X509 *sg_material_leaf(const struct sg_material *m)
{
	return sk_X509_value(m->bundle, 0);
}

X509 *sg_material_issuer(const struct sg_material *m)
{
	return sg_issuer_find(sg_material_leaf(m), m->issuers, m->store);
}

void sg_material_free(struct sg_material *m)
{
	sk_X509_pop_free(m->bundle, X509_free);
	sk_X509_pop_free(m->issuers, X509_free);
	X509_STORE_free(m->store);
	memset(m, 0, sizeof(*m));
}

sg_result sg_check_material(const struct sg_material *m,
			    const struct sg_target *targets, size_t n,
			    struct sg_probe_opts *probe, struct sg_report *rep)
{
	struct sg_check_opts o = {.targets = targets, .n = n};
	sg_result r = report_alloc(rep, SG_MODE_CHECK, &o, n);

	if (!r.code)
		r = sg_certinfo_read(sg_material_leaf(m), &rep->cert);
	if (!r.code) {
		X509 *issuer = sg_material_issuer(m);

		sg_certinfo_read_issuer(issuer, &rep->cert);
		X509_free(issuer);
	}
	if (!r.code) {
		probe->issuers = m->issuers;
		probe->store = m->store;
		probe->ip_servername = sg_certinfo_first_dns(&rep->cert);
		/* Offer only the new key's algorithms, so a server with an
		 * RSA and an ECDSA cert shows the one being replaced. */
		probe->sigalgs = sg_sigalgs_for_key(rep->cert.key_type);
		probe->key_type = rep->cert.key_type;
		rep->confirm = probe->confirm;
		r = sg_probe_run(targets, n, probe, rep->probes);
		probe->issuers = NULL;
		probe->store = NULL;
		probe->ip_servername = NULL;
	}
	if (!r.code)
		sg_verdict_check(rep);
	else
		sg_report_free(rep);
	return r;
}

sg_result sg_check_run(struct sg_check_opts *o, struct sg_report *rep)
{
	struct sg_material m;
	sg_result r;

	memset(rep, 0, sizeof(*rep));
	r = sg_material_load(o->cert_path, o->chain_path, o->cafile, &m);
	if (r.code)
		return r;
	r = sg_check_material(&m, o->targets, o->n, &o->probe, rep);
	sg_material_free(&m);
	return r;
}

sg_result sg_probe_one(struct sg_check_opts *o, struct sg_report *rep)
{
	STACK_OF(X509) *issuers = sk_X509_new_null();
	X509_STORE *store = NULL;
	sg_result r;

	memset(rep, 0, sizeof(*rep));
	if (issuers == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	r = sg_bundle_trust_store(o->cafile, &store);
	if (!r.code && o->chain_path)
		r = append_file(o->chain_path, issuers);
	if (!r.code)
		r = report_alloc(rep, SG_MODE_PROBE, o, 1);
	if (!r.code) {
		o->probe.issuers = issuers;
		o->probe.store = store;
		rep->confirm = o->probe.confirm;
		r = sg_probe_run(o->targets, 1, &o->probe, rep->probes);
		o->probe.issuers = NULL;
		o->probe.store = NULL;
	}
	if (!r.code)
		sg_verdict_probe(rep);
	else
		sg_report_free(rep);
	sk_X509_pop_free(issuers, X509_free);
	X509_STORE_free(store);
	return r;
}
