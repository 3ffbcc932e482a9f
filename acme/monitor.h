/* `staplegate monitor`: every configured target probed as it serves
 * today, judged as a Nagios/Icinga plugin, recorded in the score log and
 * the stapling history, and optionally exported for Prometheus. */
#ifndef SG_MONITOR_H
#define SG_MONITOR_H

#include <stdbool.h>

#include "config.h"
#include "../preflight/probe.h"
#include "../preflight/result.h"
#include "../preflight/target.h"

enum sg_nagios {
	SG_NAGIOS_OK = 0,
	SG_NAGIOS_WARNING = 1,
	SG_NAGIOS_CRITICAL = 2,
	SG_NAGIOS_UNKNOWN = 3,
};

#define SG_DEFAULT_WARN_SEC (48L * 3600)
#define SG_DEFAULT_CRIT_SEC (24L * 3600)

struct sg_monitor_target {
	enum sg_nagios state;
	int webq96;
	bool no_ocsp_url; /* the served certificate names no responder */
	/* The OCSP signer judged: the served staple's, else the one that
	 * signed the responder's answer (--responders). */
	const struct sg_staple *signer;
	bool long_lived;    /* the over-10-days warning is in reason */
	const char *reason; /* sg_text's (preflight/strset.h) */
};

struct sg_rhealth;

struct sg_monitor {
	enum sg_nagios state;
	struct sg_target *targets;
	struct sg_probe *probes;
	struct sg_monitor_target *judged;
	struct sg_rhealth *health; /* n of them with --responders, or NULL */
	size_t n;
	long signer_warn_sec, signer_crit_sec; /* as applied */
	size_t pending, pending_urgent, pending_damaged;
	size_t pending_settle_failed; /* deployed, did not settle: backoff */
	size_t must_staple;    /* targets serving a Must-Staple certificate */
	size_t refresh_failed; /* pre-staged staples not refreshed or pushed */
	char refresh_reason[SG_REASON_MAX * 2]; /* the first of them */
	char damaged[SG_REASON_MAX]; /* the first damaged pending entry */
	char summary[1024];
	struct sg_strlist errors; /* record, history or metrics not written */
	struct sg_strlist notes;  /* repairs made while writing them */
};

struct sg_monitor_opts {
	const char *prom_path; /* NULL: no metrics file */
	long warn_sec, crit_sec;
	/* -1: the config's (signer_warn, signer_crit, responder_health) */
	long signer_warn_sec, signer_crit_sec;
	bool responders; /* ask each certificate's responder too (or the
			  * config's responder_health) */
};

/* Fills m; an error means nothing could be judged (UNKNOWN). */
sg_result sg_monitor_run(const struct sg_config *cfg,
			 const struct sg_monitor_opts *o, struct sg_monitor *m);
void sg_monitor_free(struct sg_monitor *m);

const char *sg_nagios_name(enum sg_nagios s);

#endif
