/* The two score-log lines of a hook run, sharing one run_id: the
 * decision (written and fsynced before any deploy command) and the
 * outcome. */
#ifndef SG_GATE_RECORD_H
#define SG_GATE_RECORD_H

#include <jansson.h>

#include "../preflight/report.h"
#include "../preflight/responder.h"
#include "../preflight/settle.h"
#include "leaving.h"
#include "clients.h"

struct sg_gate_facts {
	const char *run_id;
	const struct sg_newcert *nc;
	const struct sg_report *rep; /* NULL when nothing was probed */
	const struct sg_certinfo *cert;
	const struct sg_responder *responder; /* NULL when not asked */
	bool allow;
	const char *reason;
	bool dry_run;
	const struct sg_strlist *errors; /* config or log problems */
	const struct sg_leaving *leaving;
};

/* What a gate run did in the end: the outcome record's "action". */
enum sg_gate_action {
	SG_ACTION_REFUSED,
	SG_ACTION_DEPLOYED,
	SG_ACTION_ALLOWED,
	SG_ACTION_DRY_RUN,
	SG_ACTION_ROLLED_BACK,
	SG_ACTION_DEADLINE,
	SG_ACTION_DEPLOY_FAILED,
	SG_ACTION_SETTLE_FAILED,
	SG_ACTION_INTERRUPTED,
	SG_ACTION_STORE_FAILED,
	SG_ACTION_STAPLE_OUT_FAILED,
};

/* The record's name for it ("staple-out-failed"). */
const char *sg_gate_action_name(enum sg_gate_action a);
/* deployed, allowed or dry-run: the run did what was asked. */
bool sg_gate_action_ok(enum sg_gate_action a);

struct sg_gate_outcome {
	enum sg_gate_action action;
	int deploy_exit_status; /* -1: not run */
	int rollback_exit_status;
	long settle_ms;
	const struct sg_target *targets;
	const struct sg_settle_target *settle; /* NULL: no settle */
	size_t n;
	const char *reason;
	const char *ran_out; /* the phase the deadline was reached in, or
				NULL */
};

json_t *sg_gate_decision_json(const struct sg_gate_facts *f);
json_t *sg_gate_outcome_json(const struct sg_gate_facts *f,
			     const struct sg_gate_outcome *o);

#endif
