/* After the decision: deploy, settle, roll back, or hold a refused
 * certificate back as a pending deployment. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../preflight/atomic.h"
#include "../preflight/clock.h"
#include "../preflight/duration.h"
#include "../preflight/interrupt.h"
#include "../preflight/progress.h"
#include "../preflight/settle.h"
#include "command.h"
#include "gate_internal.h"
#include "haproxy.h"
#include "pending.h"
#include "prestage.h"
#include "repeat.h"
#include "store.h"

static const char *staple_out_path(const struct gate *g)
{
	return g->o->staple_out ? g->o->staple_out : g->site.staple_out;
}

static char **deploy_argv(const struct gate *g)
{
	return g->o->deploy_argv ? g->o->deploy_argv : g->site.deploy_argv;
}

/* With the store, live/ goes back to the previous version (and its
 * staple file with it). Then the rollback command runs; with the store
 * and none configured, the deploy command runs again, so that the
 * server re-reads the previous version instead of keeping the failed
 * one loaded. */
static void keep_after_settle_failure(struct gate *g, const char *why);

/* live/ back to the previous version, its staple file with it; the
 * outcome says what was done. Whether live/ was swapped back. */
static bool store_back(struct gate *g)
{
	char done[SG_REASON_MAX];
	sg_result r;

	if (!sg_store_has_previous(g->cfg->state_dir, g->nc.lineage)) {
		/* The first version: nothing to go back to. */
		sg_gate_outcome_append(
			g, "; store: no previous version to roll back to");
		return false;
	}
	r = sg_store_rollback(g->cfg->state_dir, g->nc.lineage,
			      staple_out_path(g), done, sizeof(done));
	if (r.code) {
		sg_gate_note_error(g, "store rollback: %s", r.reason);
		return false;
	}
	sg_gate_outcome_append(g, "; store: %s", done);
	return true;
}

static void rollback(struct gate *g, const char *why)
{
	char **argv = g->site.rollback_argv;
	struct sg_command cmd;
	bool swapped = false;
	const char *what = "rollback";

	g->out.action = SG_ACTION_SETTLE_FAILED;
	snprintf(g->out_reason, sizeof(g->out_reason), "%s", why);
	if (g->cfg->store)
		swapped = store_back(g);
	if (argv == NULL && swapped) {
		argv = deploy_argv(g);
		what = "previous version redeployed";
	}
	if (argv) {
		sg_command_run(argv,
			       g->deadline - SG_GATE_RECORD_MS - sg_now_ms(),
			       &cmd);
		sg_gate_phase_done(g, SG_PHASE_ROLLBACK,
				   g->deadline - SG_GATE_RECORD_MS);
		g->out.rollback_exit_status =
			cmd.started ? cmd.exit_status : 127;
		g->out.action = SG_ACTION_ROLLED_BACK;
		sg_gate_outcome_append(g, "; %s: %s", what, cmd.reason);
	}
	keep_after_settle_failure(g, why);
}

/* After the deploy: every target must serve the NEW certificate with a
 * fresh valid staple, settle_handshakes times in a row. */
static void settle(struct gate *g)
{
	struct sg_probe_opts p;
	long budget = g->cfg->settle_timeout_sec * 1000;
	struct sg_gate_result *res = g->res;
	sg_result r;

	if (budget > sg_gate_left_ms(g))
		budget = sg_gate_left_ms(g);
	res->settle = calloc(res->n, sizeof(*res->settle));
	if (res->settle == NULL) {
		rollback(g, "out of memory during settle");
		return;
	}
	sg_gate_probe_policy(g, &p, g->deadline - g->reserve_ms);
	p.issuers = g->mat.issuers;
	p.store = g->mat.store;
	p.sigalgs = sg_sigalgs_for_key(g->cert.key_type);
	p.key_type = g->cert.key_type;
	sg_progress("settle: waiting until %zu target%s the new "
		    "certificate with a fresh staple, %ld handshakes in a row "
		    "(up to %lds)",
		    res->n, res->n == 1 ? " serves" : "s serve",
		    g->cfg->settle_handshakes, budget / 1000);
	r = sg_settle_run(res->targets, res->n, &p, g->cert.sha256,
			  (int)g->cfg->settle_handshakes, budget, res->settle,
			  &g->out.settle_ms);
	g->out.settle = res->settle;
	sg_gate_phase_done(g, SG_PHASE_SETTLE, g->deadline - g->reserve_ms);
	if (r.code) {
		rollback(g, r.reason);
	} else if (sg_interrupted()) {
		/* The operator stopped us: no rollback on our own
		 * initiative, but the record says where it stopped. */
		g->out.action = SG_ACTION_INTERRUPTED;
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "interrupted by signal %d during settle",
			 sg_interrupted());
	} else if (!sg_settle_all(res->settle, res->n)) {
		char why[512];
		size_t i = 0;

		while (res->settle[i].settled)
			i++;
		snprintf(why, sizeof(why), "%s: %s %s",
			 sg_gate_left_ms(g) == 0
				 ? "deadline reached during settle"
				 : "settle failed",
			 res->targets[i].spec, res->settle[i].reason);
		rollback(g, why);
	}
}

static void keep_unfinished(struct gate *g, bool filled);

/* filled: the store put this certificate live before the command. */
static void deploy(struct gate *g, bool filled)
{
	char **argv = deploy_argv(g);
	struct sg_command cmd;
	char what[200];

	if (argv == NULL) {
		g->out.action = SG_ACTION_ALLOWED;
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "no deploy command configured: gate only");
		return;
	}
	sg_command_describe(argv, what, sizeof(what));
	sg_progress("deploying: running %s (%lds left of the deadline)", what,
		    sg_gate_left_ms(g) / 1000);
	sg_command_run(argv, sg_gate_left_ms(g), &cmd);
	sg_gate_phase_done(g, SG_PHASE_DEPLOY, g->deadline - g->reserve_ms);
	g->out.deploy_exit_status = cmd.started ? cmd.exit_status : 127;
	snprintf(g->out_reason, sizeof(g->out_reason), "%s", cmd.reason);
	if (cmd.interrupted || cmd.timed_out || !cmd.started ||
	    cmd.exit_status != 0) {
		g->out.action = cmd.interrupted ? SG_ACTION_INTERRUPTED
				: cmd.timed_out ? SG_ACTION_DEADLINE
						: SG_ACTION_DEPLOY_FAILED;
		keep_unfinished(g, filled);
		return;
	}
	g->out.action = SG_ACTION_DEPLOYED;
	sg_gate_haproxy(g);
	if (g->gated && g->res->n)
		settle(g);
}

static json_t *pending_entry(const struct gate *g, const char *why)
{
	return sg_pending_entry(&g->nc, &g->mat, &g->cert,
				g->res->has_report ? &g->res->rep : NULL,
				deploy_argv(g), why);
}

/* The entry saved (r), the run says so; else the error is noted. */
static bool pending_saved(struct gate *g, sg_result r)
{
	if (r.code) {
		sg_gate_note_error(g, "pending deployment not saved: %s",
				   r.reason);
		return false;
	}
	g->res->pending = true;
	return true;
}

/* A refused Must-Staple certificate is remembered, since no ACME client
 * runs a failed hook again: `staplegate resume` picks it up. */
static void hold_for(struct gate *g, const char *why)
{
	json_t *entry;
	sg_result r;

	/* With a broken config the state directory is unknown: the error
	 * itself is what the operator must act on. */
	if (!g->gated || !g->have_cert || g->o->dry_run || g->cfg_failed)
		return;
	entry = pending_entry(g, why);
	r = entry ? sg_pending_save(g->cfg->state_dir, g->nc.lineage, entry)
		  : sg_err(SG_ENOMEM, "out of memory");
	json_decref(entry);
	if (!pending_saved(g, r))
		return;
	sg_gate_outcome_append(g, "; held as a pending deployment (staplegate "
				  "resume deploys it once the targets are "
				  "ready)");
}

static void hold(struct gate *g)
{
	hold_for(g, g->reason);
}

/* The deploy command failed, ran out of time or was interrupted: a
 * Must-Staple certificate the store had put live goes back out (any
 * later reload would serve it without a settle), and it stays pending
 * as a plain entry, not with the settle-failure backoff: it never got
 * as far as a settle, so resume tries it again on its next run. The
 * rollback command is not run: the deploy command did not finish. */
static void keep_unfinished(struct gate *g, bool filled)
{
	char why[SG_REASON_MAX + 64];

	if (!g->gated)
		return;
	snprintf(why, sizeof(why), "deploy command did not complete: %s",
		 g->out_reason);
	if (filled)
		store_back(g);
	hold_for(g, why);
}

/* A certificate that was deployed and did not settle stays pending, so
 * it is not lost, but resume waits before trying it again (backoff,
 * pending.h) instead of redeploying it on every run. */
static void keep_after_settle_failure(struct gate *g, const char *why)
{
	json_t *entry;
	sg_result r;
	char wait[32];

	if (!g->gated || g->cfg_failed)
		return;
	entry = pending_entry(g, why);
	r = entry ? sg_pending_save_settle_failure(g->cfg->state_dir,
						   g->nc.lineage, entry, why)
		  : sg_err(SG_ENOMEM, "out of memory");
	sg_duration_format(entry ? (long)(json_integer_value(json_object_get(
						  entry, "retry_after")) -
					  time(NULL))
				 : 0,
			   wait, sizeof(wait));
	json_decref(entry);
	if (!pending_saved(g, r))
		return;
	sg_gate_outcome_append(g, "; kept pending, resume tries again in %s",
			       wait);
}

/* So that resume can refresh the file later, for the certificate that
 * is deployed (the store's copy when the store is used). */
static void remember_staple(struct gate *g, const char *staple)
{
	char cert[PATH_MAX], chain[PATH_MAX], name[256];
	sg_result r;

	snprintf(cert, sizeof(cert), "%s", g->nc.cert_path);
	snprintf(chain, sizeof(chain), "%s", g->nc.chain_path);
	if (g->cfg->store &&
	    !sg_store_lineage_name(g->nc.lineage, name, sizeof(name)).code) {
		snprintf(cert, sizeof(cert), "%s/live/%s/cert.pem",
			 g->cfg->state_dir, name);
		snprintf(chain, sizeof(chain), "%s/live/%s/chain.pem",
			 g->cfg->state_dir, name);
	}
	r = sg_prestage_remember(g->cfg->state_dir, g->nc.lineage, staple, cert,
				 chain, g->site.haproxy_socket);
	if (r.code)
		sg_gate_note_error(g,
				   "staple file not remembered for refresh: %s",
				   r.reason);
}

/* A gated certificate that could not be prepared stays pending; the
 * outcome names what failed. */
static bool held_back(struct gate *g, enum sg_gate_action action,
		      const char *what, const char *why)
{
	g->out.action = action;
	snprintf(g->out_reason, sizeof(g->out_reason),
		 "%s, so deploy command not run: %s", what, why);
	sg_gate_refuse(g, "%s", why);
	hold(g);
	return false;
}

/* Before the reload: the verified staple for the NEW certificate goes
 * where servers that staple from a file read it, and the certificate
 * into the approved store (which versions the staple with it). Failing
 * either stops a gated deployment, which stays pending; a plain
 * certificate is never gated, not even by the store: its store problem
 * is reported after the deploy (store_error). */
static bool prepare(struct gate *g, char *store_error, size_t size,
		    bool *filled)
{
	const char *staple = staple_out_path(g);
	bool have = g->asked && g->resp.ready;
	struct sg_store_staple st = {staple, have ? g->resp.der : NULL,
				     have ? g->resp.len : 0};
	sg_result r = sg_ok();

	if (staple && !have && g->gated)
		r = sg_err(SG_EINPUT, "%s: no verified staple to pre-stage",
			   staple);
	else if (staple && have && !g->cfg->store)
		r = sg_write_atomic(staple, g->resp.der, g->resp.len, 0644);
	if (r.code)
		return held_back(g, SG_ACTION_STAPLE_OUT_FAILED,
				 "staple not pre-staged", r.reason);
	if (g->cfg->store && g->lock_error[0] && !g->gated) {
		snprintf(store_error, size, "store not filled: %s",
			 g->lock_error);
	} else if (g->cfg->store) {
		/* The store writes the staple file too, with the version. */
		r = sg_store_fill(g->cfg->state_dir, &g->nc, &g->mat, &st,
				  filled);
		if (r.code && !g->gated) {
			snprintf(store_error, size, "store: %s", r.reason);
			r = sg_ok();
		}
	}
	if (r.code)
		return held_back(g, SG_ACTION_STORE_FAILED,
				 "certificate not put into the approved store",
				 r.reason);
	if (have && staple)
		remember_staple(g, staple);
	return true;
}

void sg_gate_act(struct gate *g)
{
	char store_error[SG_REASON_MAX + 8] = "";
	bool filled = false;

	g->out = (struct sg_gate_outcome){.action = SG_ACTION_REFUSED,
					  .deploy_exit_status = -1,
					  .rollback_exit_status = -1};
	if (!g->allow) {
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "deploy command not run: %s", g->reason);
		hold(g);
		return;
	}
	if (sg_interrupted()) {
		g->out.action = SG_ACTION_INTERRUPTED;
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "interrupted by signal %d before the deploy command",
			 sg_interrupted());
		return;
	}
	if (g->o->dry_run) {
		g->out.action = SG_ACTION_DRY_RUN;
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "dry run: deploy command not run");
		return;
	}
	if (!prepare(g, store_error, sizeof(store_error), &filled))
		return;
	deploy(g, filled);
	if (store_error[0])
		sg_gate_note_error(g, "%s", store_error);
	if (g->out.action == SG_ACTION_DEPLOYED &&
	    g->nc.client == SG_CLIENT_CERTBOT)
		sg_repeat_note(g->cfg->state_dir, g->nc.lineage, g->cert.sha256,
			       g->certbot_run);
	if (g->out.action == SG_ACTION_DEPLOYED ||
	    g->out.action == SG_ACTION_ALLOWED)
		sg_pending_remove(g->cfg->state_dir, g->nc.lineage);
}
