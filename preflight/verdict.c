#include "verdict.h"

#include <stdio.h>
#include <string.h>

#include "score.h"

/* A served certificate (known by its fingerprint) that names no OCSP
 * responder: no server can staple it. */
static bool served_without_ocsp_url(const struct sg_probe *p)
{
	return p->handshake_ok && p->served.sha256[0] &&
	       p->served.ocsp_urls.n == 0;
}

static void score_target(const struct sg_probe *p, bool must_staple,
			 struct sg_target_score *s)
{
	s->stapled = p->handshake_ok && p->staple.valid;
	s->ready = s->stapled && p->staple.fresh;
	s->webq96 = sg_webq96(must_staple, s->stapled);
	if (!p->handshake_ok)
		snprintf(s->reason, sizeof(s->reason), "%s",
			 p->error[0] ? p->error : "no TLS handshake");
	else if (!s->stapled && served_without_ocsp_url(p))
		snprintf(s->reason, sizeof(s->reason), SG_NO_OCSP_URL);
	else
		snprintf(s->reason, sizeof(s->reason), "%s", p->staple.reason);
}

/* Appends "addr (reason)" of not-ready targets, as many as fit. */
static void list_unready(const struct sg_report *rep, char *buf, size_t size)
{
	size_t used = strlen(buf);
	const char *sep = "";

	for (size_t i = 0; i < rep->n && used < size; i++) {
		const struct sg_target_score *s = &rep->scores[i];

		if (s->ready)
			continue;
		used += snprintf(buf + used, size - used, "%s%s (%s)", sep,
				 rep->targets[i].spec, s->reason);
		sep = "; ";
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

void sg_verdict_check(struct sg_report *rep)
{
	const struct sg_certinfo *c = &rep->cert;
	size_t ready;

	rep->must_staple = c->features.must_staple;
	for (size_t i = 0; i < rep->n; i++)
		score_target(&rep->probes[i], rep->must_staple,
			     &rep->scores[i]);
	ready = count_ready(rep, false);
	rep->allow = false;
	rep->hint[0] = '\0';
	if (c->feature_error.code) {
		snprintf(rep->reason, sizeof(rep->reason),
			 "new certificate: %s: refusing to deploy it",
			 c->feature_error.reason);
	} else if (!rep->must_staple) {
		rep->allow = true;
		snprintf(rep->reason, sizeof(rep->reason),
			 "new certificate is not Must-Staple: never gated, "
			 "only scored");
		if (c->ocsp_urls.n == 0)
			snprintf(rep->hint, sizeof(rep->hint),
				 "the new certificate names no OCSP "
				 "responder: nothing to staple, so WEBQ-96 "
				 "0 is the most it can score and stapling "
				 "cannot raise it");
		else if (count_ready(rep, true) < rep->n)
			snprintf(rep->hint, sizeof(rep->hint),
				 "%zu of %zu targets do not staple a valid "
				 "OCSP response: enable stapling for 30 "
				 "instead of 0",
				 rep->n - count_ready(rep, true), rep->n);
	} else if (c->ocsp_urls.n == 0) {
		snprintf(rep->reason, sizeof(rep->reason),
			 "new certificate is Must-Staple but names no OCSP "
			 "responder: it can never be stapled");
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

	rep->must_staple = p->served.features.must_staple;
	score_target(p, rep->must_staple, s);
	rep->allow = p->handshake_ok && !p->served.feature_error.code &&
		     (s->webq96 == 100 || s->webq96 == 30);
	rep->hint[0] = '\0';
	if (!p->handshake_ok)
		snprintf(rep->reason, sizeof(rep->reason), "%s", s->reason);
	else if (p->served.feature_error.code)
		snprintf(rep->reason, sizeof(rep->reason),
			 "served certificate: %s",
			 p->served.feature_error.reason);
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
