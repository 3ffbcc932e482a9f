/* The deploy gate's shared state, for its three files: gate.c (the run
 * and its records), gate_decide.c (may it deploy?) and gate_act.c
 * (deploy, settle, roll back, or hold the certificate back). Private to
 * acme/. */
#ifndef SG_GATE_INTERNAL_H
#define SG_GATE_INTERNAL_H

#include "../preflight/check.h"
#include "../preflight/config.h"
#include "../preflight/responder.h"
#include "gate.h"
#include "gate_record.h"
#include "newcert.h"

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
	struct sg_gate_outcome out;
	char out_reason[512];
};

/* Milliseconds left before the deadline, the reserve kept back. */
long sg_gate_left_ms(const struct gate *g);
void sg_gate_note_error(struct gate *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sg_gate_refuse(struct gate *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The config's probing policy, the timeout cut to the time left. */
void sg_gate_probe_policy(const struct gate *g, struct sg_probe_opts *p);

/* gate_decide.c: fills allow and reason (and the pre-flight report). */
void sg_gate_decide(struct gate *g);
/* --wait: decides again until the gate opens or the wait ends. */
void sg_gate_wait(struct gate *g);

/* gate_act.c: deploys, settles, rolls back, or holds back; fills out. */
void sg_gate_act(struct gate *g);

#endif
