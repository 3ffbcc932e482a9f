#include "gate.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "../preflight/atomic.h"
#include "../preflight/check.h"
#include "../preflight/clock.h"
#include "../preflight/config.h"
#include "../preflight/duration.h"
#include "../preflight/history.h"
#include "../preflight/interrupt.h"
#include "../preflight/responder.h"
#include "../preflight/scorelog.h"
#include "command.h"
#include "gate_record.h"
#include "newcert.h"
#include "pending.h"
#include "prestage.h"
#include "store.h"
#include "targets.h"

struct gate {
	const struct sg_gate_opts *o;
	struct sg_gate_result *res;
	long long deadline;
	char run_id[33];
	struct sg_newcert nc;
	struct sg_config cfg;
	struct sg_material mat;
	bool have_cert;
	struct sg_certinfo cert;
	bool gated;	 /* Must-Staple, or a malformed TLS Feature extension */
	bool cfg_failed; /* the defaults stand in for a broken config */
	int log_fd;
	const char *log_path;
	struct sg_strlist unconfigured;
	struct sg_responder resp;
	bool asked;
	bool allow;
	char reason[1024];
	struct sg_gate_outcome out;
	char out_reason[512];
};

static long left_ms(const struct gate *g)
{
	long long left = g->deadline - sg_now_ms() - SG_GATE_RESERVE_MS;

	return left > 0 ? (long)left : 0;
}

static void note_error(struct gate *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_error(struct gate *g, const char *fmt, ...)
{
	char buf[SG_REASON_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sg_strlist_add(&g->res->errors, buf);
}

static void refuse(struct gate *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void refuse(struct gate *g, const char *fmt, ...)
{
	va_list ap;

	g->allow = false;
	va_start(ap, fmt);
	vsnprintf(g->reason, sizeof(g->reason), fmt, ap);
	va_end(ap);
}

static void make_run_id(char out[33])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* A missing default config is no error (a non-Must-Staple certificate
 * needs none); an explicit one that cannot be read is. */
static void load_config(struct gate *g)
{
	const char *path = g->o->config_path;
	sg_result r;

	if (path == NULL && access(SG_DEFAULT_CONFIG, F_OK) != 0) {
		sg_config_defaults(&g->cfg);
		r = sg_config_parse("{}", 2, "defaults", &g->cfg);
	} else {
		r = sg_config_load(path ? path : SG_DEFAULT_CONFIG, &g->cfg);
	}
	if (r.code) {
		note_error(g, "config: %s", r.reason);
		sg_config_parse("{}", 2, "defaults", &g->cfg);
		g->cfg_failed = true;
	}
}

static void open_log(struct gate *g)
{
	sg_result r;

	g->log_path =
		g->o->record_path ? g->o->record_path : g->cfg.record_path;
	r = sg_scorelog_open(g->log_path, &g->log_fd);
	if (r.code)
		note_error(g, "%s", r.reason);
}

static void probe_policy(const struct gate *g, struct sg_probe_opts *p)
{
	sg_probe_opts_init(p);
	p->timeout_ms = g->cfg.timeout_sec * 1000;
	if (p->timeout_ms > left_ms(g))
		p->timeout_ms = left_ms(g) > 0 ? left_ms(g) : 1;
	p->attempts = (int)g->cfg.attempts;
	p->retry_delay_ms = g->cfg.retry_delay_sec * 1000;
	p->policy.skew_sec = g->cfg.skew_sec;
	p->policy.min_remaining_sec = g->cfg.min_remaining_sec;
	p->policy.max_age_sec = g->cfg.max_age_sec;
}

static bool preflight(struct gate *g)
{
	struct sg_probe_opts p;
	sg_result r;

	probe_policy(g, &p);
	r = sg_check_material(&g->mat, g->res->targets, g->res->n, &p,
			      &g->res->rep);
	if (r.code) {
		refuse(g, "pre-flight check failed: %s", r.reason);
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

	probe_policy(g, &p);
	sg_responder_check(sg_material_leaf(&g->mat), issuer,
			   g->cert.ocsp_urls.v[0], p.timeout_ms, &p.policy,
			   &g->resp);
	X509_free(issuer);
	g->asked = true;
	if (!g->resp.ready)
		refuse(g, "responder not ready: %s", g->resp.reason);
	return g->resp.ready;
}

/* "Prove stapling first": with require_history, every target must have
 * stapled in every monitor run of that window. A domain's own setting
 * wins over the global one. */
static long history_window(const struct gate *g)
{
	long window = g->cfg.require_history;

	for (size_t i = 0; i < g->cert.dns_names.n; i++) {
		const struct sg_domain_cfg *d =
			sg_config_match(&g->cfg, g->cert.dns_names.v[i]);

		if (d && d->require_history > window)
			window = d->require_history;
	}
	return window;
}

static bool history_proven(struct gate *g)
{
	long window = history_window(g);
	time_t now = time(NULL);

	for (size_t i = 0; window && i < g->res->n; i++) {
		sg_result r =
			sg_history_check(g->cfg.state_dir, &g->res->targets[i],
					 now, window, g->cfg.history_max_gap);

		if (r.code) {
			char d[32];

			sg_duration_format(window, d, sizeof(d));
			refuse(g, "stapling not proven for %s: %s", d,
			       r.reason);
			return false;
		}
	}
	return true;
}

static void decide_gated(struct gate *g)
{
	if (g->res->errors.n) {
		refuse(g, "cannot prove stapling: %s", g->res->errors.v[0]);
	} else if (g->cert.feature_error.code) {
		refuse(g, "new certificate: %s", g->cert.feature_error.reason);
	} else if (g->cert.ocsp_urls.n == 0) {
		refuse(g, "new certificate is Must-Staple but names no OCSP "
			  "responder: the CA publishes no OCSP, so it can "
			  "never be stapled");
	} else if (g->unconfigured.n) {
		refuse(g, "no targets configured for %s: cannot prove stapling",
		       g->unconfigured.v[0]);
	} else if (g->res->n == 0) {
		refuse(g, "no targets: cannot prove stapling");
	} else if (history_proven(g) && responder_ready(g) && preflight(g)) {
		g->allow = g->res->rep.allow;
		snprintf(g->reason, sizeof(g->reason), "%s",
			 g->res->rep.reason);
	}
}

static void decide(struct gate *g)
{
	sg_result r = sg_material_load(
		g->nc.cert_path, g->nc.chain_path[0] ? g->nc.chain_path : NULL,
		g->o->cafile ? g->o->cafile : g->cfg.cafile, &g->mat);

	if (!r.code)
		r = sg_certinfo_read(sg_material_leaf(&g->mat), &g->cert);
	if (r.code) {
		/* Whether it is Must-Staple cannot be known: refuse. */
		refuse(g, "new certificate: %s", r.reason);
		g->res->status = 2;
		return;
	}
	g->have_cert = true;
	g->gated = g->cert.features.must_staple || g->cert.feature_error.code;
	r = sg_gate_targets(&g->cfg, &g->cert, &g->nc.domains, g->o->extra,
			    g->o->nextra, &g->res->targets, &g->res->n,
			    &g->unconfigured);
	if (r.code) {
		refuse(g, "%s", r.reason);
		return;
	}
	if (g->gated) {
		decide_gated(g);
		return;
	}
	if (g->res->n)
		preflight(g); /* only scored: the outcome cannot refuse */
	g->allow = true;
	snprintf(g->reason, sizeof(g->reason),
		 "not Must-Staple: never gated, only scored");
}

/* Forgets a decision so that --wait can take it again. */
static void reset_decision(struct gate *g)
{
	struct sg_gate_result *res = g->res;

	if (res->has_report)
		sg_report_free(&res->rep);
	res->has_report = false;
	free(res->targets);
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
static void wait_for_gate(struct gate *g)
{
	long long end = sg_now_ms() + 1000LL * g->o->wait_sec;
	long delay = 2000;

	while (!g->allow && g->gated && g->res->status == 0 &&
	       !sg_interrupted() && sg_now_ms() + delay < end) {
		sg_sleep_ms(delay);
		delay = delay * 2 > 30000 ? 30000 : delay * 2;
		reset_decision(g);
		decide(g);
	}
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
	};
	return f;
}

static sg_result append(struct gate *g, json_t *rec)
{
	sg_result r;

	if (g->log_fd < 0)
		r = sg_err(SG_ESYS, "score log %s is not open", g->log_path);
	else if (rec == NULL)
		r = sg_err(SG_ENOMEM, "cannot build the record");
	else
		r = sg_scorelog_append(g->log_fd, g->log_path, rec);
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
	r = append(g, sg_gate_decision_json(&f));
	if (!r.code)
		return;
	note_error(g, "%s", r.reason);
	if (g->gated && g->allow)
		refuse(g, "cannot write the decision record: %s", r.reason);
}

static char **pick_argv(const struct gate *g, bool rollback)
{
	for (size_t i = 0; i < g->cert.dns_names.n; i++) {
		const struct sg_domain_cfg *d =
			sg_config_match(&g->cfg, g->cert.dns_names.v[i]);
		char **argv = d ? (rollback ? d->rollback_argv : d->deploy_argv)
				: NULL;

		if (argv)
			return argv;
	}
	return rollback ? g->cfg.rollback_argv : g->cfg.deploy_argv;
}

static void rollback(struct gate *g, const char *why)
{
	char **argv = pick_argv(g, true);
	struct sg_command cmd;

	g->out.action = "settle-failed";
	snprintf(g->out_reason, sizeof(g->out_reason), "%s", why);
	if (g->cfg.store) {
		sg_result r =
			sg_store_rollback(g->cfg.state_dir, g->nc.lineage);

		if (r.code)
			note_error(g, "store rollback: %s", r.reason);
	}
	if (argv == NULL)
		return;
	sg_command_run(argv, g->deadline - sg_now_ms(), &cmd);
	g->out.rollback_exit_status = cmd.started ? cmd.exit_status : 127;
	g->out.action = "rolled-back";
	snprintf(g->out_reason, sizeof(g->out_reason), "%s; rollback: %s", why,
		 cmd.reason);
}

/* After the deploy: every target must serve the NEW certificate with a
 * fresh valid staple, settle_handshakes times in a row. */
static void settle(struct gate *g)
{
	struct sg_probe_opts p;
	long budget = g->cfg.settle_timeout_sec * 1000;
	struct sg_gate_result *res = g->res;
	sg_result r;

	if (budget > left_ms(g))
		budget = left_ms(g);
	res->settle = calloc(res->n, sizeof(*res->settle));
	if (res->settle == NULL) {
		rollback(g, "out of memory during settle");
		return;
	}
	probe_policy(g, &p);
	p.issuers = g->mat.issuers;
	p.store = g->mat.store;
	p.sigalgs = sg_sigalgs_for_key(g->cert.key_type);
	r = sg_settle_run(res->targets, res->n, &p, g->cert.sha256,
			  (int)g->cfg.settle_handshakes, budget, res->settle,
			  &g->out.settle_ms);
	g->out.settle = res->settle;
	if (r.code) {
		rollback(g, r.reason);
	} else if (sg_interrupted()) {
		/* The operator stopped us: no rollback on our own
		 * initiative, but the record says where it stopped. */
		g->out.action = "interrupted";
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "interrupted by signal %d during settle",
			 sg_interrupted());
	} else if (!sg_settle_all(res->settle, res->n)) {
		char why[512];
		size_t i = 0;

		while (res->settle[i].settled)
			i++;
		snprintf(why, sizeof(why), "%s: %s %s",
			 left_ms(g) == 0 ? "deadline reached during settle"
					 : "settle failed",
			 res->targets[i].spec, res->settle[i].reason);
		rollback(g, why);
	}
}

static void deploy(struct gate *g)
{
	char **argv =
		g->o->deploy_argv ? g->o->deploy_argv : pick_argv(g, false);
	struct sg_command cmd;

	if (argv == NULL) {
		g->out.action = "allowed";
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "no deploy command configured: gate only");
		return;
	}
	sg_command_run(argv, left_ms(g), &cmd);
	g->out.deploy_exit_status = cmd.started ? cmd.exit_status : 127;
	snprintf(g->out_reason, sizeof(g->out_reason), "%s", cmd.reason);
	if (cmd.interrupted) {
		g->out.action = "interrupted";
		return;
	}
	if (cmd.timed_out) {
		g->out.action = "deadline";
		return;
	}
	if (!cmd.started || cmd.exit_status != 0) {
		g->out.action = "deploy-failed";
		return;
	}
	g->out.action = "deployed";
	if (g->gated && g->res->n)
		settle(g);
}

/* A refused Must-Staple certificate is remembered, since no ACME client
 * runs a failed hook again: `staplegate resume` picks it up. */
static void hold(struct gate *g)
{
	char **argv =
		g->o->deploy_argv ? g->o->deploy_argv : pick_argv(g, false);
	json_t *entry;
	sg_result r;

	/* With a broken config the state directory is unknown: the error
	 * itself is what the operator must act on. */
	if (!g->gated || !g->have_cert || g->o->dry_run || g->cfg_failed)
		return;
	entry = sg_pending_entry(&g->nc, &g->mat, &g->cert,
				 g->res->has_report ? &g->res->rep : NULL, argv,
				 g->reason);
	r = entry ? sg_pending_save(g->cfg.state_dir, g->nc.lineage, entry)
		  : sg_err(SG_ENOMEM, "out of memory");
	json_decref(entry);
	if (r.code) {
		note_error(g, "pending deployment not saved: %s", r.reason);
		return;
	}
	g->res->pending = true;
	snprintf(g->out_reason + strlen(g->out_reason),
		 sizeof(g->out_reason) - strlen(g->out_reason),
		 "; held as a pending deployment (staplegate resume deploys "
		 "it once the targets are ready)");
}

static const char *staple_out_path(const struct gate *g)
{
	if (g->o->staple_out)
		return g->o->staple_out;
	for (size_t i = 0; i < g->cert.dns_names.n; i++) {
		const struct sg_domain_cfg *d =
			sg_config_match(&g->cfg, g->cert.dns_names.v[i]);

		if (d && d->staple_out)
			return d->staple_out;
	}
	return NULL;
}

/* So that resume can refresh the file later, for the certificate that
 * is deployed (the store's copy when the store is used). */
static void remember_staple(struct gate *g, const char *staple)
{
	char cert[PATH_MAX], chain[PATH_MAX], name[256];
	sg_result r;

	snprintf(cert, sizeof(cert), "%s", g->nc.cert_path);
	snprintf(chain, sizeof(chain), "%s", g->nc.chain_path);
	if (g->cfg.store &&
	    !sg_store_lineage_name(g->nc.lineage, name, sizeof(name)).code) {
		snprintf(cert, sizeof(cert), "%s/live/%s/cert.pem",
			 g->cfg.state_dir, name);
		snprintf(chain, sizeof(chain), "%s/live/%s/chain.pem",
			 g->cfg.state_dir, name);
	}
	r = sg_prestage_remember(g->cfg.state_dir, g->nc.lineage, staple, cert,
				 chain);
	if (r.code)
		note_error(g, "staple file not remembered for refresh: %s",
			   r.reason);
}

/* Before the reload: the verified staple for the NEW certificate goes
 * where servers that staple from a file read it, and the certificate
 * into the approved store. Failing either stops the deployment. */
static bool prepare(struct gate *g)
{
	const char *staple = staple_out_path(g);
	sg_result r = sg_ok();

	if (staple && g->asked && g->resp.ready)
		r = sg_write_atomic(staple, g->resp.der, g->resp.len, 0644);
	else if (staple && g->gated)
		r = sg_err(SG_EINPUT, "%s: no verified staple to pre-stage",
			   staple);
	if (!r.code && g->cfg.store)
		r = sg_store_fill(g->cfg.state_dir, &g->nc, &g->mat);
	if (!r.code && staple && g->asked && g->resp.ready)
		remember_staple(g, staple);
	if (r.code) {
		g->out.action = "deploy-failed";
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "deploy command not run: %s", r.reason);
		return false;
	}
	return true;
}

static void act(struct gate *g)
{
	g->out = (struct sg_gate_outcome){.action = "refused",
					  .deploy_exit_status = -1,
					  .rollback_exit_status = -1};
	if (!g->allow) {
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "deploy command not run: %s", g->reason);
		hold(g);
		return;
	}
	if (sg_interrupted()) {
		g->out.action = "interrupted";
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "interrupted by signal %d before the deploy command",
			 sg_interrupted());
		return;
	}
	if (g->o->dry_run) {
		g->out.action = "dry-run";
		snprintf(g->out_reason, sizeof(g->out_reason),
			 "dry run: deploy command not run");
		return;
	}
	if (!prepare(g))
		return;
	deploy(g);
	if (strcmp(g->out.action, "deployed") == 0 ||
	    strcmp(g->out.action, "allowed") == 0)
		sg_pending_remove(g->cfg.state_dir, g->nc.lineage);
}

static void record_outcome(struct gate *g)
{
	struct sg_gate_facts f = facts(g);
	sg_result r;

	g->out.targets = g->res->targets;
	g->out.n = g->res->n;
	g->out.reason = g->out_reason;
	if (g->log_fd < 0)
		return;
	r = append(g, sg_gate_outcome_json(&f, &g->out));
	if (r.code)
		note_error(g, "%s", r.reason);
}

static void finish(struct gate *g)
{
	static const char *const ok[] = {"deployed", "allowed", "dry-run"};
	struct sg_gate_result *res = g->res;
	bool good = false;

	for (size_t i = 0; i < 3; i++)
		good |= strcmp(g->out.action, ok[i]) == 0;
	/* Config and score-log errors are exit 2 even when a
	 * non-Must-Staple deployment went ahead regardless. */
	if (res->status == 0)
		res->status = res->errors.n ? 2 : good ? 0 : 1;
	snprintf(res->summary, sizeof(res->summary), "%s %s (%s%s): %s",
		 strcmp(g->out.action, "refused") == 0 ? "REFUSED"
						       : g->out.action,
		 g->nc.lineage, sg_client_name(g->nc.client),
		 g->gated ? ", Must-Staple" : "", g->out_reason);
}

void sg_gate_run(const struct sg_gate_opts *o, struct sg_gate_result *res)
{
	struct gate g = {.o = o, .res = res, .log_fd = -1};
	sg_result r;

	memset(res, 0, sizeof(*res));
	make_run_id(g.run_id);
	if (o->resume) {
		g.nc = *o->resume;
		memset(&g.nc.domains, 0, sizeof(g.nc.domains));
		r = sg_ok();
	} else {
		r = sg_newcert_detect(&g.nc, o->cert, o->chain, o->key);
	}
	if (r.code) {
		res->status = 2;
		snprintf(res->summary, sizeof(res->summary), "%s", r.reason);
		return;
	}
	load_config(&g);
	/* --wait extends the run explicitly: the deadline starts after it. */
	g.deadline = sg_now_ms() + 1000LL * o->wait_sec +
		     1000LL * (o->deadline_sec ? o->deadline_sec
					       : g.cfg.deadline_sec);
	open_log(&g);
	decide(&g);
	if (o->expect_sha256 && g.have_cert &&
	    strcmp(o->expect_sha256, g.cert.sha256) != 0) {
		res->superseded = true;
		res->status = 0;
		snprintf(res->summary, sizeof(res->summary),
			 "superseded %s: the certificate on disk is newer "
			 "than the pending one",
			 g.nc.lineage);
		sg_pending_remove(g.cfg.state_dir, g.nc.lineage);
		goto out;
	}
	if (o->wait_sec)
		wait_for_gate(&g);
	record_decision(&g);
	act(&g);
	record_outcome(&g);
	finish(&g);
out:
	if (g.log_fd >= 0)
		close(g.log_fd);
	sg_responder_free(&g.resp);
	sg_certinfo_free(&g.cert);
	sg_material_free(&g.mat);
	sg_strlist_free(&g.unconfigured);
	sg_config_free(&g.cfg);
	sg_newcert_free(&g.nc);
}

void sg_gate_result_free(struct sg_gate_result *res)
{
	if (res->has_report)
		sg_report_free(&res->rep);
	free(res->targets);
	free(res->settle);
	sg_strlist_free(&res->errors);
	memset(res, 0, sizeof(*res));
}
