#include "gate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "../preflight/clock.h"
#include "../preflight/scorelog.h"
#include "gate_internal.h"
#include "pending.h"
#include "repeat.h"

long sg_gate_left_ms(const struct gate *g)
{
	long long left = g->deadline - sg_now_ms() - SG_GATE_RESERVE_MS;

	return left > 0 ? (long)left : 0;
}

void sg_gate_note_error(struct gate *g, const char *fmt, ...)
{
	char buf[SG_REASON_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sg_strlist_add(&g->res->errors, buf);
}

void sg_gate_refuse(struct gate *g, const char *fmt, ...)
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
		r = sg_config_parse("{}", 2, "defaults", &g->cfg);
	} else {
		r = sg_config_load(path, &g->cfg);
	}
	if (r.code) {
		sg_gate_note_error(g, "config: %s", r.reason);
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
	sg_gate_note_error(g, "%s", r.reason);
	if (g->gated && g->allow)
		sg_gate_refuse(g, "cannot write the decision record: %s",
			       r.reason);
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
		sg_gate_note_error(g, "%s", r.reason);
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
	} else if (o->dehydrated_domain) {
		r = sg_newcert_dehydrated(&g.nc, o->dehydrated_domain, o->cert,
					  o->chain, o->key);
	} else {
		r = sg_newcert_detect(&g.nc, o->cert, o->chain, o->key);
	}
	if (r.code) {
		res->status = 2;
		snprintf(res->summary, sizeof(res->summary), "%s", r.reason);
		return;
	}
	if (g.nc.client == SG_CLIENT_CERTBOT)
		sg_repeat_certbot_run(g.certbot_run, sizeof(g.certbot_run));
	load_config(&g);
	/* --wait extends the run explicitly: the deadline starts after it. */
	g.deadline = sg_now_ms() + 1000LL * o->wait_sec +
		     1000LL * (o->deadline_sec ? o->deadline_sec
					       : g.cfg.deadline_sec);
	open_log(&g);
	sg_gate_decide(&g);
	if (g.repeat) {
		snprintf(res->summary, sizeof(res->summary),
			 "already deployed %s (certbot): this certificate "
			 "(sha256 %.16s...) passed the gate %lds ago; certbot "
			 "runs both renewal-hooks/deploy/ and the lineage's "
			 "renew_hook: keep only one (see README)",
			 g.nc.lineage, g.cert.sha256, g.repeat_age);
		goto out;
	}
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
		sg_gate_wait(&g);
	record_decision(&g);
	sg_gate_act(&g);
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
