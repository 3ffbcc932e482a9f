/* A gate run's shared state and the helpers its steps share (gate_state.c):
 * the base of the gate's files, which calls none of them. Private to
 * acme/. */
#ifndef SG_GATE_STATE_H
#define SG_GATE_STATE_H

#include "../preflight/check.h"
#include "config.h"
#include "../preflight/responder.h"
#include "gate.h"
#include "gate_record.h"
#include "leaving.h"
#include "clients.h"

/* The phases of a run, in order, each taking its time from one budget. */
enum sg_gate_phase {
	SG_PHASE_CONFIG,
	SG_PHASE_SCORE_LOG,
	SG_PHASE_RESOLVE,
	SG_PHASE_RESPONDER,
	SG_PHASE_PREFLIGHT,
	SG_PHASE_DEPLOY,
	SG_PHASE_SETTLE,
	SG_PHASE_ROLLBACK,
};

struct gate {
	const struct sg_gate_opts *o;
	struct sg_gate_result *res;
	long long deadline;   /* the whole run, sg_now_ms clock */
	long long reserve_ms; /* kept back for rollback and the record */
	long long checks_end; /* the checks before the decision end here */
	const char *ran_out;  /* the phase the budget ran out in, or NULL */
	char run_id[33];
	struct sg_newcert nc;
	const struct sg_config *cfg;
	struct sg_site site; /* the certificate's settings in cfg */
	struct sg_material mat;
	bool have_cert;
	struct sg_certinfo cert;
	bool gated; /* Must-Staple, or a malformed TLS Feature extension */
	char certbot_run[64]; /* see repeat.h; "" not under certbot */
	long repeat_age;      /* certbot ran us twice: the first run's age */
	bool repeat;
	bool cfg_failed; /* the defaults stand in for a broken config */
	int log_fd;
	const char *log_path;
	struct sg_strlist unconfigured;
	struct sg_responder resp;
	bool asked;
	bool allow;
	char reason[1024];
	struct sg_leaving leaving; /* a plain renewal of a Must-Staple one */
	struct sg_gate_outcome out;
	char out_reason[512];
	char issuer_error[SG_REASON_MAX]; /* no issuer found anywhere */
	int lock_fd;			  /* the lineage's lock, -1: not held */
	char lock_error[SG_REASON_MAX];	  /* why it could not be taken */
};

/* Milliseconds left before the deadline, the reserve kept back. */
long sg_gate_left_ms(const struct gate *g);
/* A phase given time until bound_ms has ended: when that time is up, it
 * is the phase the budget ran out in (the first one counts). */
void sg_gate_phase_done(struct gate *g, enum sg_gate_phase phase,
			long long bound_ms);
/* Appends to the outcome's reason (cut when full, as every reason is). */
void sg_gate_outcome_append(struct gate *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sg_gate_note_error(struct gate *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sg_gate_refuse(struct gate *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The config's probing policy, bounded by bound_ms (sg_now_ms clock):
 * the timeout cut to the time left, no attempt past it. */
void sg_gate_probe_policy(const struct gate *g, struct sg_probe_opts *p,
			  long long bound_ms);

#endif
