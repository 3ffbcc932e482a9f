/* May the deployment go ahead? The responder, the history, and every
 * target's staple, for a Must-Staple certificate; only a score for the
 * others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../preflight/clock.h"
#include "../preflight/duration.h"
#include "../preflight/history.h"
#include "../preflight/interrupt.h"
#include "../preflight/progress.h"
#include "../preflight/verdict.h"
#include "gate_internal.h"
#include "issuer.h"
#include "repeat.h"
#include "targets.h"

/* In the warning and the verdict of a plain leaf without its issuer. */
#define ISSUER_UNKNOWN "issuer not found: its TLS Feature could not be checked"

/* Every target's name at once, bounded by the per-target timeout and
 * the checks' share of the budget; a name that does not resolve in time
 * fails its target, not the run. */
static sg_result resolve_targets(struct gate *g)
{
	long long until = sg_now_ms() + g->cfg->timeout_sec * 1000;
	sg_result r;

	if (until > g->checks_end)
		until = g->checks_end;
	r = sg_targets_resolve(g->res->targets, g->res->n, until);
	sg_gate_phase_done(g, SG_PHASE_RESOLVE, g->checks_end);
	return r;
}

static bool preflight(struct gate *g)
{
	struct sg_probe_opts p;
	sg_result r = resolve_targets(g);

	sg_gate_probe_policy(g, &p, g->checks_end);
	sg_progress("pre-flight: probing %zu target%s (up to %d handshakes "
		    "each, %llds left of the deadline)",
		    g->res->n, g->res->n == 1 ? "" : "s",
		    p.attempts + p.confirm - 1,
		    (g->checks_end - sg_now_ms()) / 1000);
	if (!r.code)
		r = sg_check_material(&g->mat, g->res->targets, g->res->n, &p,
				      &g->res->rep);
	sg_gate_phase_done(g, SG_PHASE_PREFLIGHT, g->checks_end);
	if (r.code) {
		sg_gate_refuse(g, "pre-flight check failed: %s", r.reason);
		return false;
	}
	g->res->has_report = true;
	return true;
}

/* If the CA cannot vouch for the new certificate now, no server can
 * staple it: ask its responder first. */
static bool responder_ready(struct gate *g)
{
	struct sg_probe_opts p;
	X509 *issuer = sg_material_issuer(&g->mat);

	sg_gate_probe_policy(g, &p, g->checks_end);
	sg_progress("asking the OCSP responder %s about the new certificate "
		    "(timeout %lds)",
		    g->cert.ocsp_urls.v[0], p.timeout_ms / 1000);
	sg_responder_check(sg_material_leaf(&g->mat), issuer,
			   g->cert.ocsp_urls.v[0], p.timeout_ms, &p.policy,
			   &g->resp);
	X509_free(issuer);
	sg_gate_phase_done(g, SG_PHASE_RESPONDER, g->checks_end);
	g->asked = true;
	if (!g->resp.ready)
		sg_gate_refuse(g, "responder not ready: %s", g->resp.reason);
	return g->resp.ready;
}

/* "Prove stapling first": with require_history (a domain's, or the
 * global one), every target must have stapled in every monitor run of
 * that window. */
static bool history_proven(struct gate *g)
{
	long window = g->site.require_history;
	time_t now = time(NULL);

	for (size_t i = 0; window && i < g->res->n; i++) {
		sg_result r =
			sg_history_check(g->cfg->state_dir, &g->res->targets[i],
					 now, window, g->cfg->history_max_gap);

		if (r.code) {
			char d[32];

			sg_duration_format(window, d, sizeof(d));
			sg_gate_refuse(g, "stapling not proven for %s: %s", d,
				       r.reason);
			return false;
		}
	}
	return true;
}

static void decide_gated(struct gate *g)
{
	char why[512];

	if (g->res->errors.n) {
		sg_gate_refuse(g, "cannot prove stapling: %s",
			       g->res->errors.v[0]);
	} else if (sg_verdict_cert(&g->cert, time(NULL), why, sizeof(why))) {
		sg_gate_refuse(g, "%s", why);
	} else if (g->issuer_error[0]) {
		sg_gate_refuse(g, "new certificate: %s", g->issuer_error);
	} else if (g->unconfigured.n) {
		sg_gate_refuse(
			g,
			"no targets configured for %s: cannot prove stapling",
			g->unconfigured.v[0]);
	} else if (g->res->n == 0) {
		sg_gate_refuse(g, "no targets: cannot prove stapling");
	} else if (history_proven(g) && responder_ready(g) && preflight(g)) {
		g->allow = g->res->rep.allow;
		snprintf(g->reason, sizeof(g->reason), "%s",
			 g->res->rep.reason);
		/* Checks cut short by the budget proved nothing: whatever
		 * they saw until then, a Must-Staple certificate waits. */
		if (g->allow && g->ran_out)
			sg_gate_refuse(g,
				       "the checks ran out of time (%s): "
				       "cannot prove stapling",
				       g->ran_out);
	}
}

/* A plain certificate replacing a Must-Staple one is never gated, but
 * the way out has an order (README, "Leaving Must-Staple"): say so. */
static void note_leaving(struct gate *g)
{
	sg_leaving_detect(g->cfg->store ? g->cfg->state_dir : NULL,
			  g->nc.lineage, &g->cert,
			  g->res->has_report ? &g->res->rep : NULL,
			  &g->leaving);
	if (g->leaving.leaving)
		sg_strlist_add(&g->res->notes, g->leaving.message);
}

/* A certificate refused for itself takes the gated path, whose refusals
 * are recorded and kept pending. */
static bool must_gate(const struct gate *g)
{
	char why[512];

	return sg_certinfo_must_staple(&g->cert) ||
	       sg_verdict_cert(&g->cert, time(NULL), why, sizeof(why));
}

/* A plain leaf whose issuer is nowhere to be found is not gated (plain
 * certificates never are), but under a Must-Staple intermediate it would
 * be: say so, on stderr and in the record. */
static void note_issuer_unknown(struct gate *g)
{
	char note[sizeof(g->issuer_error) + 128];

	snprintf(note, sizeof(note), "warning: %s: %s", ISSUER_UNKNOWN,
		 g->issuer_error);
	sg_strlist_add(&g->res->notes, note);
}

bool sg_gate_load(struct gate *g)
{
	X509 *issuer;
	sg_result r;

	if (g->have_cert)
		return true;
	r = sg_material_load(
		g->nc.cert_path, g->nc.chain_path[0] ? g->nc.chain_path : NULL,
		g->o->cafile ? g->o->cafile : g->cfg->cafile, &g->mat);
	if (!r.code)
		r = sg_certinfo_read(sg_material_leaf(&g->mat), &g->cert);
	if (r.code) {
		/* Whether it is Must-Staple cannot be known: refuse. */
		sg_gate_refuse(g, "new certificate: %s", r.reason);
		g->res->status = 2;
		return false;
	}
	g->have_cert = true;
	/* Fetched (AIA) for a plain leaf too: its issuer's TLS Feature
	 * binds it (Firefox), and only the issuer tells. Bounded by the
	 * per-request timeout and what is left of the deadline. */
	r = sg_issuer_complete(&g->nc, &g->mat, true,
			       g->cfg->timeout_sec * 1000 < sg_gate_left_ms(g)
				       ? g->cfg->timeout_sec * 1000
				       : sg_gate_left_ms(g));
	snprintf(g->issuer_error, sizeof(g->issuer_error), "%s",
		 r.code ? r.reason : "");
	issuer = sg_material_issuer(&g->mat);
	sg_certinfo_read_issuer(issuer, &g->cert);
	X509_free(issuer);
	g->gated = must_gate(g);
	if (r.code && !g->gated)
		note_issuer_unknown(g);
	return true;
}

void sg_gate_decide(struct gate *g)
{
	/* The checks before the decision take at most half of what is
	 * left, so that a deployment allowed at their end still has time
	 * to run and settle. */
	long long now = sg_now_ms();
	sg_result r;

	g->checks_end = now + (g->deadline - g->reserve_ms - now) / 2;
	if (!sg_gate_load(g))
		return;
	if (g->nc.client == SG_CLIENT_CERTBOT && !g->o->dry_run &&
	    sg_repeat_recent(g->cfg->state_dir, g->nc.lineage, g->cert.sha256,
			     g->certbot_run, &g->repeat_age)) {
		g->repeat = true;
		return;
	}
	r = sg_gate_targets(g->cfg, &g->cert, &g->nc.domains, g->o->extra,
			    g->o->nextra, &g->res->targets, &g->res->n,
			    &g->unconfigured);
	if (r.code) {
		sg_gate_refuse(g, "%s", r.reason);
		return;
	}
	if (g->gated) {
		decide_gated(g);
		return;
	}
	if (g->res->n)
		preflight(g); /* only scored: the outcome cannot refuse */
	note_leaving(g);
	g->allow = true;
	snprintf(g->reason, sizeof(g->reason),
		 "not Must-Staple: never gated, only scored%s",
		 g->issuer_error[0] ? "; " ISSUER_UNKNOWN : "");
}

/* Forgets a decision so that --wait can take it again. */
static void reset_decision(struct gate *g)
{
	struct sg_gate_result *res = g->res;

	if (res->has_report)
		sg_report_free(&res->rep);
	res->has_report = false;
	sg_targets_free(res->targets, res->n);
	res->targets = NULL;
	res->n = 0;
	sg_responder_free(&g->resp);
	g->asked = false;
	sg_certinfo_free(&g->cert);
	sg_material_free(&g->mat);
	sg_strlist_free(&g->unconfigured);
	g->have_cert = false;
	g->allow = false;
}

/* --wait: re-checks a refused Must-Staple certificate until the gate
 * opens or the wait ends (backing off from 2 s to 30 s). */
void sg_gate_wait(struct gate *g)
{
	long long end = sg_now_ms() + 1000LL * g->o->wait_sec;
	long delay = 2000;

	while (!g->allow && g->gated && g->res->status == 0 &&
	       !sg_interrupted() && sg_now_ms() + delay < end) {
		sg_progress_status(
			"--wait: refused for now (%s); checking again in "
			"%lds, %llds of the wait left",
			g->reason, delay / 1000, (end - sg_now_ms()) / 1000);
		sg_sleep_ms(delay);
		delay = delay * 2 > 30000 ? 30000 : delay * 2;
		reset_decision(g);
		sg_gate_decide(g);
	}
}
