#include "gate.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "../preflight/clock.h"
#include "../preflight/interrupt.h"
#include "../preflight/scorelog.h"
#include "gate_internal.h"
#include "lock.h"
#include "pending.h"
#include "repeat.h"

/* One budget from the start of the run: --wait, then the deadline, of
 * which the reserve is kept back for rollback and the record. */
static void set_budget(struct gate *g, long long start)
{
	long long total = 1000LL * (g->o->deadline_sec ? g->o->deadline_sec
						       : g->cfg->deadline_sec);

	g->reserve_ms =
		total / 4 < SG_GATE_RESERVE_MS ? total / 4 : SG_GATE_RESERVE_MS;
	/* --wait extends the run explicitly: the deadline starts after it. */
	g->deadline = start + 1000LL * g->o->wait_sec + total;
}

static void make_run_id(char out[33])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* A config that could not be read (the defaults stand in) is an error
 * of the run, which then neither locks nor stores nor pre-stages. */
static void note_config(struct gate *g)
{
	if (g->o->config_error == NULL)
		return;
	sg_gate_note_error(g, "config: %s", g->o->config_error);
	g->cfg_failed = true;
}

static void on_timer(int sig)
{
	(void)sig;
}

/* The score log's open and lock can wait on others indefinitely (a
 * holder of the lock that is stopped or stuck on a dead disk): a timer
 * signal ends the wait at until_ms (EINTR), at least
 * SG_GATE_LOG_WAIT_MIN_MS from now. The process-wide timer reaches this
 * thread: the resolver's workers block every signal. */
static void bound_wait(long long until_ms)
{
	struct sigaction sa = {.sa_handler = on_timer};
	long long wait = until_ms - sg_now_ms();
	struct itimerval at = {{0, 0}, {0, 0}};

	if (wait < SG_GATE_LOG_WAIT_MIN_MS)
		wait = SG_GATE_LOG_WAIT_MIN_MS;
	sigemptyset(&sa.sa_mask); /* no SA_RESTART: the wait returns */
	sigaction(SIGALRM, &sa, NULL);
	at.it_value.tv_sec = wait / 1000;
	at.it_value.tv_usec = (wait % 1000) * 1000;
	/* and again, in case the first came just before the wait began */
	at.it_interval.tv_usec = 100 * 1000;
	setitimer(ITIMER_REAL, &at, NULL);
}

static void unbound_wait(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};

	setitimer(ITIMER_REAL, &off, NULL);
}

static void open_log(struct gate *g)
{
	sg_result r;

	g->log_path =
		g->o->record_path ? g->o->record_path : g->cfg->record_path;
	/* as the checks: half of what is left, the rest for the deploy */
	bound_wait(sg_now_ms() +
		   (g->deadline - g->reserve_ms - sg_now_ms()) / 2);
	r = sg_scorelog_open(g->log_path, &g->log_fd);
	unbound_wait();
	if (r.code)
		sg_gate_note_error(g, "%s", r.reason);
}

static struct sg_gate_facts facts(const struct gate *g)
{
	struct sg_gate_facts f = {
		.run_id = g->run_id,
		.nc = &g->nc,
		.rep = g->res->has_report ? &g->res->rep : NULL,
		.cert = &g->cert,
		.responder = g->asked ? &g->resp : NULL,
		.allow = g->allow,
		.reason = g->reason,
		.dry_run = g->o->dry_run,
		.errors = &g->res->errors,
		.leaving = &g->leaving,
	};
	return f;
}

/* Appends rec, waiting for the log's lock until until_ms at most. */
static sg_result append(struct gate *g, json_t *rec, long long until_ms)
{
	sg_result r;

	if (g->log_fd < 0) {
		r = sg_err(SG_ESYS, "score log %s is not open", g->log_path);
	} else if (rec == NULL) {
		r = sg_err(SG_ENOMEM, "cannot build the record");
	} else {
		bound_wait(until_ms);
		r = sg_scorelog_append(g->log_fd, g->log_path, rec,
				       &g->res->notes);
		unbound_wait();
	}
	json_decref(rec);
	return r;
}

/* Written and fsynced before any deploy command: for a gated certificate
 * no record means no deployment. */
static void record_decision(struct gate *g)
{
	struct sg_gate_facts f = facts(g);
	sg_result r;

	if (g->log_fd < 0)
		return; /* already noted, and refused when gated */
	/* part of the checks: the deploy keeps its half of the budget */
	r = append(g, sg_gate_decision_json(&f), g->checks_end);
	sg_gate_phase_done(g, SG_PHASE_SCORE_LOG, g->checks_end);
	if (!r.code)
		return;
	sg_gate_note_error(g, "%s", r.reason);
	if (g->gated && g->allow)
		sg_gate_refuse(g, "cannot write the decision record: %s",
			       r.reason);
}

/* The outcome says where the budget ran out, if it did. */
static void note_ran_out(struct gate *g)
{
	if (g->ran_out == NULL || strstr(g->out_reason, "deadline reached"))
		return;
	sg_gate_outcome_append(g, "%sdeadline reached during %s",
			       g->out_reason[0] ? "; " : "", g->ran_out);
}

static void record_outcome(struct gate *g)
{
	struct sg_gate_facts f = facts(g);
	sg_result r;

	note_ran_out(g);
	g->out.targets = g->res->targets;
	g->out.n = g->res->n;
	g->out.reason = g->out_reason;
	g->out.ran_out = g->ran_out;
	if (g->log_fd < 0)
		return;
	/* the last step: what is left of the 2 s beyond the deadline */
	r = append(g, sg_gate_outcome_json(&f, &g->out),
		   g->deadline + SG_GATE_RECORD_MS);
	if (r.code)
		sg_gate_note_error(g, "%s", r.reason);
}

static void finish(struct gate *g)
{
	struct sg_gate_result *res = g->res;
	bool good = sg_gate_action_ok(g->out.action);

	/* Config and score-log errors are exit 2 even when a
	 * non-Must-Staple deployment went ahead regardless. */
	if (res->status == 0)
		res->status = res->errors.n ? 2 : good ? 0 : 1;
	snprintf(res->summary, sizeof(res->summary), "%s %s (%s%s): %s",
		 g->out.action == SG_ACTION_REFUSED
			 ? "REFUSED"
			 : sg_gate_action_name(g->out.action),
		 g->nc.lineage, sg_client_name(g->nc.client),
		 g->gated ? ", Must-Staple" : "", g->out_reason);
}

/* The lineage's lock, for every run that may touch the store or the
 * pending entry: a second run waits for it within its deadline, then
 * gives up as "busy" (nothing done, nothing deployed). A lock that cannot
 * be taken at all refuses a gated certificate after the decision and is
 * only reported for a plain one. */
static bool lock(struct gate *g)
{
	bool busy = false, plain = !g->gated && !g->o->resume;
	long long until = g->deadline - g->reserve_ms;
	sg_result r;

	if (g->cfg_failed || (!g->cfg->store && plain))
		return true;
	/* A plain certificate keeps half of its time for its deploy. */
	if (plain)
		until = sg_now_ms() + (until - sg_now_ms()) / 2;
	r = sg_lock_lineage(g->cfg->state_dir, g->nc.lineage, until,
			    &g->lock_fd, &busy);
	if (!r.code)
		return true;
	/* Never gated, not even by another run: deployed without the
	 * store, which is reported after the deploy. */
	if (busy && plain) {
		snprintf(g->lock_error, sizeof(g->lock_error), "%s", r.reason);
		return true;
	}
	if (busy || sg_interrupted()) {
		g->res->status = 1;
		g->res->busy = true;
		snprintf(g->res->summary, sizeof(g->res->summary),
			 "%s %s: nothing done (not deployed, not saved as "
			 "pending): %s",
			 busy ? "busy" : "interrupted", g->nc.lineage,
			 r.reason);
		return false;
	}
	snprintf(g->lock_error, sizeof(g->lock_error), "%s", r.reason);
	return true;
}

/* resume: another run may have deployed or replaced the entry while
 * this one waited for the lock. */
static bool still_pending(struct gate *g)
{
	json_t *e = NULL;
	const char *sha;
	bool same;

	if (!g->o->resume)
		return true;
	sg_pending_load(g->cfg->state_dir, g->nc.lineage, &e);
	sha = json_string_value(json_object_get(e, "sha256"));
	same = sha && g->o->expect_sha256 &&
	       strcmp(sha, g->o->expect_sha256) == 0;
	json_decref(e);
	if (!same) {
		g->res->superseded = true;
		snprintf(g->res->summary, sizeof(g->res->summary),
			 "done %s: another run handled the pending entry "
			 "meanwhile",
			 g->nc.lineage);
	}
	return same;
}

/* The new certificate: a pending entry's (resume), dehydrated's
 * arguments, or the client's environment. */
static sg_result read_newcert(struct gate *g)
{
	const struct sg_gate_opts *o = g->o;
	sg_result r;

	if (o->resume) {
		g->nc = *o->resume;
		memset(&g->nc.domains, 0, sizeof(g->nc.domains));
		return sg_ok();
	}
	if (o->dehydrated_domain)
		return sg_client_dehydrated(&g->nc, o->dehydrated_domain,
					    o->cert, o->chain, o->key);
	r = sg_client_detect(&g->nc, o->cert, o->chain, o->key);
	if (!r.code && o->lineage)
		snprintf(g->nc.lineage, sizeof(g->nc.lineage), "%s",
			 o->lineage);
	return r;
}

/* After the decision, two runs end early: certbot's second run for one
 * renewal, and a resume whose certificate a newer one replaced. */
static bool ends_early(struct gate *g)
{
	struct sg_gate_result *res = g->res;

	if (g->repeat) {
		snprintf(res->summary, sizeof(res->summary),
			 "already deployed %s (certbot): this certificate "
			 "(sha256 %.16s...) passed the gate %lds ago; certbot "
			 "runs both renewal-hooks/deploy/ and the lineage's "
			 "renew_hook: keep only one (see README)",
			 g->nc.lineage, g->cert.sha256, g->repeat_age);
		return true;
	}
	if (g->o->expect_sha256 && g->have_cert &&
	    strcmp(g->o->expect_sha256, g->cert.sha256) != 0) {
		res->superseded = true;
		res->status = 0;
		snprintf(res->summary, sizeof(res->summary),
			 "superseded %s: the certificate on disk is newer "
			 "than the pending one",
			 g->nc.lineage);
		sg_pending_remove(g->cfg->state_dir, g->nc.lineage);
		return true;
	}
	return false;
}

/* From the decision to the outcome record, under the lineage's lock. */
static void decide_and_act(struct gate *g)
{
	sg_gate_decide(g);
	if (ends_early(g))
		return;
	if (g->o->wait_sec)
		sg_gate_wait(g);
	if (g->lock_error[0] && g->gated)
		sg_gate_refuse(g, "cannot lock the lineage: %s", g->lock_error);
	record_decision(g);
	sg_gate_act(g);
	record_outcome(g);
	finish(g);
}

static void release(struct gate *g)
{
	if (g->lock_fd >= 0)
		close(g->lock_fd); /* after the outcome record */
	if (g->log_fd >= 0)
		close(g->log_fd);
	sg_responder_free(&g->resp);
	sg_certinfo_free(&g->cert);
	sg_material_free(&g->mat);
	sg_strlist_free(&g->unconfigured);
	sg_client_free(&g->nc);
}

void sg_gate_run(const struct sg_config *cfg, const struct sg_gate_opts *o,
		 struct sg_gate_result *res)
{
	struct gate g = {
		.cfg = cfg, .o = o, .res = res, .log_fd = -1, .lock_fd = -1};
	long long start = sg_now_ms();
	sg_result r;

	memset(res, 0, sizeof(*res));
	make_run_id(g.run_id);
	r = read_newcert(&g);
	if (r.code) {
		res->status = 2;
		snprintf(res->summary, sizeof(res->summary), "%s", r.reason);
		return;
	}
	if (g.nc.client == SG_CLIENT_CERTBOT)
		sg_repeat_certbot_run(g.certbot_run, sizeof(g.certbot_run));
	note_config(&g);
	set_budget(&g, start);
	sg_gate_phase_done(&g, SG_PHASE_CONFIG, g.deadline - g.reserve_ms);
	open_log(&g);
	sg_gate_phase_done(&g, SG_PHASE_SCORE_LOG, g.deadline - g.reserve_ms);
	sg_client_lineage(&g.nc, sg_gate_load(&g) ? &g.cert : NULL);
	sg_config_site(cfg, &g.cert.dns_names, &g.site);
	if (lock(&g) && still_pending(&g))
		decide_and_act(&g);
	release(&g);
}

void sg_gate_result_free(struct sg_gate_result *res)
{
	if (res->has_report)
		sg_report_free(&res->rep);
	sg_targets_free(res->targets, res->n);
	free(res->settle);
	sg_strlist_free(&res->errors);
	sg_strlist_free(&res->notes);
	memset(res, 0, sizeof(*res));
}
