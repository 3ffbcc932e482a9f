#include "verdict.h"

#include <stdio.h>
#include <string.h>

#include "score.h"

static void score_target(const struct sg_probe *p, bool must_staple,
			 struct sg_target_score *s)
{
	s->stapled = p->handshake_ok && p->staple.valid;
	s->ready = s->stapled && p->staple.fresh;
	s->webq96 = sg_webq96(must_staple, s->stapled);
	if (!p->handshake_ok)
		snprintf(s->reason, sizeof(s->reason), "%s",
			 p->error[0] ? p->error : "no TLS handshake");
	else
		snprintf(s->reason, sizeof(s->reason), "%s", p->staple.reason);
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
		if (count_ready(rep, true) < rep->n)
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
		snprintf(rep->reason, sizeof(rep->reason), "%s, %s",
			 rep->must_staple ? "Must-Staple certificate"
					  : "certificate without Must-Staple",
			 s->stapled ? "stapled" : "not stapled");
}
