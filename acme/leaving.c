#include "leaving.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../preflight/bundle.h"
#include "../preflight/certinfo.h"
#include "store.h"

bool sg_leaving_served_ms(const struct sg_probe *p)
{
	return p->handshake_ok && sg_certinfo_must_staple(p->served);
}

/* live/<lineage>/cert.pem is what servers reading the store load now. */
static bool store_is_must_staple(const char *state_dir, const char *lineage)
{
	char name[256], path[PATH_MAX];
	STACK_OF(X509) *certs = NULL;
	struct sg_certinfo info;
	bool ms = false;

	if (sg_store_lineage_name(lineage, name, sizeof(name)).code)
		return false;
	snprintf(path, sizeof(path), "%s/live/%s/cert.pem", state_dir, name);
	if (sg_bundle_load(path, &certs).code)
		return false; /* no previous version: a first deployment */
	if (!sg_certinfo_read(sk_X509_value(certs, 0), &info).code) {
		ms = sg_certinfo_must_staple(&info);
		sg_certinfo_free(&info);
	}
	sk_X509_pop_free(certs, X509_free);
	return ms;
}

static void say(struct sg_leaving *out, const char *lineage,
		const struct sg_report *rep)
{
	char *m = out->message;
	size_t size = sizeof(out->message), used;
	const char *sep = "";

	used = (size_t)snprintf(m, size,
				"leaving Must-Staple: %s: the new certificate "
				"is not Must-Staple, the previous one was (",
				lineage);
	if (out->in_store) {
		used += snprintf(m + used, size - used,
				 "the store's live version");
		sep = "; ";
	}
	if (out->served && used < size)
		used += snprintf(m + used, size - used, "%sserved by", sep);
	for (size_t i = 0; out->served && rep && i < rep->n && used < size; i++)
		if (sg_leaving_served_ms(&rep->probes[i]))
			used += snprintf(m + used, size - used, " %s",
					 rep->targets[i].spec);
	if (used < size)
		snprintf(m + used, size - used,
			 "): deploy the plain certificate to every target and "
			 "keep stapling on until `staplegate monitor` shows "
			 "no target serving a Must-Staple certificate; only "
			 "then turn stapling off");
}

void sg_leaving_detect(const char *state_dir, const char *lineage,
		       const struct sg_certinfo *newcert,
		       const struct sg_report *rep, struct sg_leaving *out)
{
	memset(out, 0, sizeof(*out));
	/* Only a certificate known to be plain leaves: a malformed TLS
	 * Feature extension is gated as Must-Staple. */
	if (sg_certinfo_must_staple(newcert) || newcert->feature_error.code)
		return;
	out->in_store = state_dir && store_is_must_staple(state_dir, lineage);
	for (size_t i = 0; rep && i < rep->n; i++)
		out->served += sg_leaving_served_ms(&rep->probes[i]);
	out->leaving = out->in_store || out->served;
	if (out->leaving)
		say(out, lineage, rep);
}
