#include "verdict.h"

#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "score.h"
#include "strset.h"

/* A served certificate (known by its fingerprint) that names no OCSP
 * responder: no server can staple it. */
static bool served_without_ocsp_url(const struct sg_probe *p)
{
	return p->handshake_ok && p->served->sha256[0] &&
	       p->served->ocsp_urls.n == 0;
}

static void score_target(const struct sg_probe *p, bool must_staple,
			 struct sg_target_score *s)
{
	char why[SG_REASON_MAX];

	s->stapled = p->handshake_ok && p->staple.valid;
	/* A fresh last staple is not enough: the target must have been
	 * confirmed (a deadline can end it in the middle of the run). */
	s->ready = s->stapled && p->staple.fresh && p->confirmed;
	s->webq96 = sg_webq96(must_staple, s->stapled);
	if (!p->handshake_ok)
		snprintf(why, sizeof(why), "%s",
			 p->error[0] ? p->error : "no TLS handshake");
	else if (s->stapled && p->staple.fresh && !p->confirmed)
		snprintf(why, sizeof(why),
			 "not confirmed: the time ran out after %d good "
			 "handshake%s in a row (%s)",
			 p->streak, p->streak == 1 ? "" : "s",
			 p->staple.reason);
	else if (!s->stapled && served_without_ocsp_url(p))
		snprintf(why, sizeof(why), SG_NO_OCSP_URL);
	else
		snprintf(why, sizeof(why), "%s", p->staple.reason);
	if (p->key_note[0]) {
		size_t used = strlen(why);

		snprintf(why + used, sizeof(why) - used, "; %s", p->key_note);
	}
	s->reason = sg_text(why);
}

/* Appends the not-ready targets, each address once with the names it
 * failed for: "10.0.0.7:443 for shop.example, www.shop.example (no
 * staple)", the reason given per name when they differ. */
static void list_unready(const struct sg_report *rep, char *buf, size_t size)
{
	size_t used = strlen(buf);
	const char *sep = "";

	for (size_t i = 0; i < rep->n && used < size; i++) {
		const char *spec = rep->targets[i].spec, *reason = NULL;
		bool same = true, first = true;

		if (rep->scores[i].ready)
			continue;
		for (size_t j = 0; j < i; j++)
			if (!rep->scores[j].ready &&
			    strcmp(rep->targets[j].spec, spec) == 0)
				goto next; /* listed with its first name */
		for (size_t j = i; j < rep->n; j++)
			if (!rep->scores[j].ready &&
			    strcmp(rep->targets[j].spec, spec) == 0) {
				same &= reason == NULL ||
					strcmp(reason, rep->scores[j].reason) ==
						0;
				reason = rep->scores[j].reason;
			}
		used += snprintf(buf + used, size - used, "%s%s", sep, spec);
		for (size_t j = i; j < rep->n && used < size; j++) {
			const char *name = rep->targets[j].servername;

			if (rep->scores[j].ready ||
			    strcmp(rep->targets[j].spec, spec) != 0)
				continue;
			if (name[0])
				used += snprintf(buf + used, size - used,
						 "%s%s", first ? " for " : ", ",
						 name);
			if (!same && used < size)
				used += snprintf(buf + used, size - used,
						 " (%s)",
						 rep->scores[j].reason);
			first = false;
		}
		if (same && used < size)
			used += snprintf(buf + used, size - used, " (%s)",
					 reason);
		sep = "; ";
	next:;
	}
}

static size_t count_ready(const struct sg_report *rep, bool stapled_only)
{
	size_t k = 0;

	for (size_t i = 0; i < rep->n; i++)
		k += stapled_only ? rep->scores[i].stapled
				  : rep->scores[i].ready;
	return k;
}

/* mozilla::pkix enforces only status_request and fails the connection
 * for any other feature, in the leaf or in its issuer: the first such
 * feature, or -1; *inherited when it is the issuer's. */
static int first_unsupported(const struct sg_certinfo *c, bool *inherited)
{
	int own = sg_tlsfeature_unsupported(&c->features);

	*inherited = own < 0;
	return own >= 0 ? own : sg_tlsfeature_unsupported(&c->issuer_features);
}

static bool unsupported_feature(const struct sg_certinfo *c, char *why,
				size_t size)
{
	bool inherited;
	int f = first_unsupported(c, &inherited);

	if (f < 0)
		return false;
	snprintf(why, size,
		 "new certificate%s TLS Feature lists %d%s: Firefox fails "
		 "every connection to a certificate whose TLS Feature names "
		 "anything but status_request (5), whatever the server "
		 "staples",
		 inherited ? "'s issuer's" : "'s", f,
		 f == SG_FEATURE_STATUS_REQUEST_V2 ? " (status_request_v2)"
						   : "");
	return true;
}

static bool outside_validity(const struct sg_certinfo *c, time_t now, char *why,
			     size_t size)
{
	char from[32], to[32];

	sg_time_iso(c->not_before, from);
	sg_time_iso(c->not_after, to);
	if (c->not_before > now)
		snprintf(why, size,
			 "new certificate is not valid before %s (valid "
			 "until %s): clients would refuse it",
			 from, to);
	else if (c->not_after != 0 && c->not_after < now)
		snprintf(why, size,
			 "new certificate expired on %s (valid from %s): "
			 "clients would refuse it",
			 to, from);
	else
		return false;
	return true;
}

bool sg_verdict_cert(const struct sg_certinfo *c, time_t now, char *why,
		     size_t size)
{
	if (c->feature_error.code)
		snprintf(why, size,
			 "new certificate: %s: refusing to deploy it",
			 c->feature_error.reason);
	else if (c->issuer_feature_error.code)
		snprintf(why, size,
			 "new certificate's issuer: %s: refusing to deploy it",
			 c->issuer_feature_error.reason);
	else if (unsupported_feature(c, why, size) ||
		 outside_validity(c, now, why, size))
		return true;
	else if (sg_certinfo_must_staple(c) && c->ocsp_urls.n == 0)
		/* Most public CAs have dropped OCSP (Let's Encrypt in 2025). */
		snprintf(why, size,
			 "new certificate is Must-Staple but names no OCSP "
			 "responder: no staple can exist for it today. The "
			 "way out: deploy a certificate with an OCSP URL "
			 "without Must-Staple, prove stapling with the history "
			 "gate (require_history), then switch to Must-Staple");
	else
		return false;
	return true;
}

void sg_verdict_check(struct sg_report *rep)
{
	const struct sg_certinfo *c = &rep->cert;
	size_t ready;

	rep->must_staple = sg_certinfo_must_staple(c);
	for (size_t i = 0; i < rep->n; i++)
		score_target(&rep->probes[i], rep->must_staple,
			     &rep->scores[i]);
	ready = count_ready(rep, false);
	rep->allow = false;
	rep->hint[0] = '\0';
	if (sg_verdict_cert(c, rep->generated_at, rep->reason,
			    sizeof(rep->reason))) {
		/* refused for the certificate itself */
	} else if (!rep->must_staple) {
		rep->allow = true;
		snprintf(rep->reason, sizeof(rep->reason),
			 "new certificate is not Must-Staple: never gated, "
			 "only scored");
		if (c->ocsp_urls.n == 0)
			snprintf(rep->hint, sizeof(rep->hint),
				 "the new certificate names no OCSP "
				 "responder: nothing to staple (no staple "
				 "can exist for it today), so WEBQ-96 0 is "
				 "the most it can score and stapling cannot "
				 "raise it");
		else if (count_ready(rep, true) < rep->n)
			snprintf(rep->hint, sizeof(rep->hint),
				 "%zu of %zu targets do not staple a valid "
				 "OCSP response: enable stapling for 30 "
				 "instead of 0",
				 rep->n - count_ready(rep, true), rep->n);
	} else if (rep->n == 0) {
		snprintf(rep->reason, sizeof(rep->reason),
			 "no targets: cannot prove stapling");
	} else if (ready == rep->n) {
		rep->allow = true;
		snprintf(rep->reason, sizeof(rep->reason),
			 "all %zu targets serve fresh verified staples",
			 rep->n);
	} else {
		snprintf(rep->reason, sizeof(rep->reason),
			 "Must-Staple certificate refused: %zu of %zu "
			 "targets not stapling fresh verified responses: ",
			 rep->n - ready, rep->n);
		list_unready(rep, rep->reason, sizeof(rep->reason));
	}
}

void sg_verdict_probe(struct sg_report *rep)
{
	const struct sg_probe *p = &rep->probes[0];
	struct sg_target_score *s = &rep->scores[0];

	bool inherited;
	int f = first_unsupported(p->served, &inherited);

	rep->must_staple = sg_certinfo_must_staple(p->served);
	score_target(p, rep->must_staple, s);
	rep->allow = p->handshake_ok && !p->served->feature_error.code &&
		     f < 0 && (s->webq96 == 100 || s->webq96 == 30);
	rep->hint[0] = '\0';
	if (!p->handshake_ok)
		snprintf(rep->reason, sizeof(rep->reason), "%s", s->reason);
	else if (p->served->feature_error.code)
		snprintf(rep->reason, sizeof(rep->reason),
			 "served certificate: %s",
			 p->served->feature_error.reason);
	else if (f >= 0)
		snprintf(rep->reason, sizeof(rep->reason),
			 "served certificate%s TLS Feature lists %d: Firefox "
			 "fails every connection to it, whatever the server "
			 "staples",
			 inherited ? "'s issuer's" : "'s", f);
	else
		snprintf(rep->reason, sizeof(rep->reason), "%s, %s%s",
			 rep->must_staple ? "Must-Staple certificate"
					  : "certificate without Must-Staple",
			 s->stapled ? "stapled" : "not stapled",
			 !s->stapled && served_without_ocsp_url(p)
				 ? " (" SG_NO_OCSP_URL
				   ": WEBQ-96 0 is the most it can score)"
				 : "");
}
