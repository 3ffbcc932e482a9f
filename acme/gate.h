/* The deploy gate, the product's main job: from an ACME client's new
 * certificate to a deployed, refused or rolled-back one, with a decision
 * and an outcome line in the score log. */
#ifndef SG_GATE_H
#define SG_GATE_H

#include <stdbool.h>

#include "../preflight/report.h"
#include "../preflight/settle.h"
#include "../preflight/target.h"

/* Kept back for rollback and the record: 5 s, or a quarter of a shorter
 * deadline. */
#define SG_GATE_RESERVE_MS 5000
/* Of the reserve, kept for the outcome record after a rollback command:
 * one killed at the deadline still ends within its 2 s of grace. */
#define SG_GATE_RECORD_MS 500
/* The least a record may wait for the score log's lock, even past the
 * deadline: an uncontended lock is taken at once. */
#define SG_GATE_LOG_WAIT_MIN_MS 200

struct sg_gate_opts {
	/* the config could not be read (the defaults stand in): why */
	const char *config_error;
	const char *cert, *chain, *key, *cafile, *record_path; /* overrides */
	const struct sg_target *extra; /* --target, for every name */
	size_t nextra;
	char **deploy_argv;	/* after "--"; NULL: from the config */
	const char *staple_out; /* --staple-out: pre-stage the staple here */
	const char *lineage;	/* --lineage: the store's name for it */
	/* dehydrated's deploy_cert DOMAIN (its paths are in cert, chain
	 * and key): the client is dehydrated, the lineage DOMAIN */
	const char *dehydrated_domain;
	bool dry_run;
	long deadline_sec; /* 0: from the config */
	long wait_sec;	   /* --wait: keep re-checking this long */
	/* resume: the certificate of a pending entry, instead of the
	 * client's environment */
	const struct sg_newcert *resume;
	const char *expect_sha256; /* resume: the entry's certificate */
};

/* What the CLI prints. */
struct sg_gate_result {
	/* 0 deployed (or allowed), 1 refused / deploy failed / settle
	 * failed, 2 usage, config or input error (a non-Must-Staple
	 * deployment still happens first). */
	int status;
	char summary[1024];   /* one line: what happened and why */
	struct sg_report rep; /* the pre-flight, when targets were probed */
	bool has_report;
	struct sg_target *targets;
	size_t n;
	struct sg_settle_target *settle; /* NULL: no settle ran */
	struct sg_strlist errors;	 /* config and score-log problems */
	struct sg_strlist notes;	 /* repairs; leaving Must-Staple */
	bool pending;			 /* left as a pending deployment */
	bool superseded;		 /* resume: a newer certificate */
	bool busy; /* another run held the lineage's lock: nothing done */
};

struct sg_config;

void sg_gate_run(const struct sg_config *cfg, const struct sg_gate_opts *o,
		 struct sg_gate_result *res);
void sg_gate_result_free(struct sg_gate_result *res);

#endif
