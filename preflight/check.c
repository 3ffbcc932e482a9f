#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "verdict.h"

void sg_check_opts_init(struct sg_check_opts *o)
{
	memset(o, 0, sizeof(*o));
	sg_probe_opts_init(&o->probe);
}

const struct sg_certinfo *sg_report_cert(const struct sg_report *rep)
{
	if (strcmp(rep->mode, "probe") == 0)
		return &rep->probes[0].served;
	return &rep->cert;
}

void sg_report_free(struct sg_report *rep)
{
	sg_certinfo_free(&rep->cert);
	if (rep->probes)
		sg_probe_free(rep->probes, rep->n);
	free(rep->probes);
	free(rep->scores);
	memset(rep, 0, sizeof(*rep));
}

static sg_result report_alloc(struct sg_report *rep, const char *mode,
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
	return sg_ok();
}

/* Issuer candidates from the operator: the rest of the cert bundle and
 * the --chain file. */
static sg_result load_issuers(const struct sg_check_opts *o,
			      STACK_OF(X509) *bundle, STACK_OF(X509) *out)
{
	STACK_OF(X509) *chain = NULL;
	sg_result r;

	for (int i = 1; i < sk_X509_num(bundle); i++) {
		X509 *x = sk_X509_value(bundle, i);

		if (!sk_X509_push(out, x))
			return sg_err(SG_ENOMEM, "out of memory");
		X509_up_ref(x);
	}
	if (o->chain_path == NULL)
		return sg_ok();
	r = sg_bundle_load(o->chain_path, &chain);
	if (!r.code && !sg_stack_append(out, chain))
		r = sg_err(SG_ENOMEM, "out of memory");
	sk_X509_pop_free(chain, X509_free);
	return r;
}

sg_result sg_check_run(struct sg_check_opts *o, struct sg_report *rep)
{
	STACK_OF(X509) *bundle = NULL, *issuers = sk_X509_new_null();
	X509_STORE *store = NULL;
	sg_result r;

	memset(rep, 0, sizeof(*rep));
	if (issuers == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	r = sg_bundle_load(o->cert_path, &bundle);
	if (!r.code)
		r = load_issuers(o, bundle, issuers);
	if (!r.code)
		r = sg_store_load(o->cafile, &store);
	if (!r.code)
		r = report_alloc(rep, "check", o, o->n);
	if (!r.code)
		r = sg_certinfo_read(sk_X509_value(bundle, 0), &rep->cert);
	if (!r.code) {
		o->probe.issuers = issuers;
		o->probe.store = store;
		o->probe.ip_servername = sg_certinfo_first_dns(&rep->cert);
		/* Offer only the new key's algorithms, so a server with an
		 * RSA and an ECDSA cert shows the one being replaced. */
		o->probe.sigalgs = sg_sigalgs_for_key(rep->cert.key_type);
		r = sg_probe_run(o->targets, o->n, &o->probe, rep->probes);
		o->probe.issuers = NULL;
		o->probe.store = NULL;
		o->probe.ip_servername = NULL;
	}
	if (!r.code)
		sg_verdict_check(rep);
	else
		sg_report_free(rep);
	sk_X509_pop_free(bundle, X509_free);
	sk_X509_pop_free(issuers, X509_free);
	X509_STORE_free(store);
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
	r = sg_store_load(o->cafile, &store);
	if (!r.code && o->chain_path)
		r = load_issuers(o, NULL, issuers);
	if (!r.code)
		r = report_alloc(rep, "probe", o, 1);
	if (!r.code) {
		o->probe.issuers = issuers;
		o->probe.store = store;
		r = sg_probe_run(o->targets, 1, &o->probe, rep->probes);
		o->probe.issuers = NULL;
		o->probe.store = NULL;
	}
	if (!r.code) {
		sg_verdict_probe(rep);
	} else {
		sg_report_free(rep);
	}
	sk_X509_pop_free(issuers, X509_free);
	X509_STORE_free(store);
	return r;
}
