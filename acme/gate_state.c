/* The helpers every step of a gate run shares: its time budget, its
 * phases, its errors and its refusal, and the probing policy. */
#include "gate_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../preflight/clock.h"

long sg_gate_left_ms(const struct gate *g)
{
	long long left = g->deadline - sg_now_ms() - g->reserve_ms;

	return left > 0 ? (long)left : 0;
}

static const char *const phase_names[] = {
	[SG_PHASE_CONFIG] = "config",
	[SG_PHASE_SCORE_LOG] = "score log",
	[SG_PHASE_RESOLVE] = "name resolution",
	[SG_PHASE_RESPONDER] = "responder readiness",
	[SG_PHASE_PREFLIGHT] = "pre-flight",
	[SG_PHASE_DEPLOY] = "deploy",
	[SG_PHASE_SETTLE] = "settle",
	[SG_PHASE_ROLLBACK] = "rollback",
};

/* A phase that ends this close to its bound was stopped by it: libcurl's
 * and poll's timers round to milliseconds and may fire just before. */
#define PHASE_SLACK_MS 20

void sg_gate_phase_done(struct gate *g, enum sg_gate_phase phase,
			long long bound_ms)
{
	if (g->ran_out == NULL && sg_now_ms() + PHASE_SLACK_MS >= bound_ms)
		g->ran_out = phase_names[phase];
}

void sg_gate_outcome_append(struct gate *g, const char *fmt, ...)
{
	size_t used = strlen(g->out_reason);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->out_reason + used, sizeof(g->out_reason) - used, fmt, ap);
	va_end(ap);
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

void sg_gate_probe_policy(const struct gate *g, struct sg_probe_opts *p,
			  long long bound_ms)
{
	long long left = bound_ms - sg_now_ms();

	sg_config_probe_opts(g->cfg, p);
	if (p->timeout_ms > left)
		p->timeout_ms = left > 0 ? (long)left : 1;
	p->deadline_ms = bound_ms;
	/* priming retries stop where this phase's time does */
	if (p->priming_ms > left)
		p->priming_ms = left > 0 ? (long)left : 0;
}
