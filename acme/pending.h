/* Pending deployments: a refused Must-Staple certificate is remembered in
 * <state_dir>/pending/<lineage>.json (written atomically), because neither
 * certbot nor acme.sh runs a failed hook again. `staplegate resume`
 * re-evaluates each entry and deploys it once the gate opens. */
#ifndef SG_PENDING_H
#define SG_PENDING_H

#include <jansson.h>

#include "../preflight/certinfo.h"
#include "../preflight/result.h"
#include "clients.h"

#define SG_PENDING_VERSION    1
#define SG_PENDING_URGENT_SEC (7L * 86400) /* served cert expiring soon */
/* After a settle failure resume waits before deploying the same
 * certificate again: 30 min, doubled with each further failure, at most
 * a day. */
#define SG_PENDING_BACKOFF_FIRST_SEC (30L * 60)
#define SG_PENDING_BACKOFF_MAX_SEC   86400L

struct sg_material;
struct sg_report;

/* The entry for a refused certificate: where it lives, its copy, why it
 * was refused, and the earliest expiry among the certificates the
 * targets served at that check (null when none was seen). */
json_t *sg_pending_entry(const struct sg_newcert *nc,
			 const struct sg_material *m,
			 const struct sg_certinfo *cert,
			 const struct sg_report *rep, char *const *deploy_argv,
			 const char *reason);

/* Writes entry for lineage; keeps first_refused and counts refusals when
 * an entry for the same certificate (sha256) exists. */
sg_result sg_pending_save(const char *state_dir, const char *lineage,
			  json_t *entry);
/* Saves entry for a certificate that was deployed and did not settle:
 * "settle_failures" counts them (for the same certificate),
 * "last_settle_failure", "settle_reason" and "retry_after" (the backoff)
 * say when and why. */
sg_result sg_pending_save_settle_failure(const char *state_dir,
					 const char *lineage, json_t *entry,
					 const char *why);
/* The wait after the nth settle failure of a certificate. */
long sg_pending_backoff_sec(long failures);

/* NULL entry with SG_OK when there is none. */
sg_result sg_pending_load(const char *state_dir, const char *lineage,
			  json_t **entry);
void sg_pending_remove(const char *state_dir, const char *lineage);
/* The lineage names with an entry, sorted. */
sg_result sg_pending_names(const char *state_dir, struct sg_strlist *names);

/* The entries as a JSON array, each with "age_seconds" and "urgent"
 * (the served certificate expires within 7 days) added and the PEM
 * copies left out. */
sg_result sg_pending_list(const char *state_dir, json_t **list);

#endif
