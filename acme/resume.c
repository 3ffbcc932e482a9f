#include "resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "../preflight/bundle.h"
#include "../preflight/clock.h"
#include "config.h"
#include "../preflight/interrupt.h"
#include "command.h"
#include "gate.h"
#include "lock.h"
#include "pending.h"
#include "prestage.h"
#include "store.h"

static void copy_field(json_t *e, const char *key, char *out, size_t size)
{
	const char *v = json_string_value(json_object_get(e, key));

	snprintf(out, size, "%s", v ? v : "");
}

static enum sg_client client_of(const char *name)
{
	for (int c = SG_CLIENT_MANUAL; c <= SG_CLIENT_DEHYDRATED; c++)
		if (strcmp(name, sg_client_name((enum sg_client)c)) == 0)
			return (enum sg_client)c;
	return SG_CLIENT_MANUAL;
}

/* The deploy argv saved in the entry, checked as the config's is (NULL
 * when none was saved: the config's at resume). False, with the
 * item refused, when the entry holds anything but such a command. */
static bool entry_argv(json_t *e, struct sg_resume_item *item,
		       const char *state_dir, char ***argv)
{
	json_t *a = json_object_get(e, "deploy_argv");
	const char *why;

	*argv = NULL;
	if (a == NULL || json_is_null(a))
		return true;
	why = sg_config_argv(a, argv);
	if (why == NULL)
		return true;
	item->status = 2;
	snprintf(item->summary, sizeof(item->summary),
		 "%s/pending/%s.json: deploy_argv: %s", state_dir,
		 item->lineage, why);
	return false;
}

/* A certificate whose settle failed waits out its backoff. */
static bool backing_off(json_t *e, struct sg_resume_item *item)
{
	time_t retry =
		(time_t)json_integer_value(json_object_get(e, "retry_after"));
	struct tm tm;
	char when[32];

	if (retry <= time(NULL))
		return false;
	gmtime_r(&retry, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%MZ", &tm);
	item->status = 1;
	snprintf(
		item->summary, sizeof(item->summary),
		"backing off %s: settle failed %lld times (%s); next try "
		"after %s",
		item->lineage,
		(long long)json_integer_value(
			json_object_get(e, "settle_failures")),
		json_string_value(json_object_get(e, "settle_reason"))
			? json_string_value(json_object_get(e, "settle_reason"))
			: "no reason recorded",
		when);
	return true;
}

static void resume_one(const struct sg_config *cfg, json_t *e,
		       struct sg_resume_item *item)
{
	char **argv;

	struct sg_newcert nc = {0};
	char client[32];
	struct sg_gate_opts o = {.resume = &nc};
	struct sg_gate_result res;

	if (backing_off(e, item) || !entry_argv(e, item, cfg->state_dir, &argv))
		return;
	copy_field(e, "client", client, sizeof(client));
	nc.client = client_of(client);
	copy_field(e, "lineage", nc.lineage, sizeof(nc.lineage));
	copy_field(e, "cert_path", nc.cert_path, sizeof(nc.cert_path));
	copy_field(e, "chain_path", nc.chain_path, sizeof(nc.chain_path));
	copy_field(e, "key_path", nc.key_path, sizeof(nc.key_path));
	copy_field(e, "lineage_dir", nc.lineage_dir, sizeof(nc.lineage_dir));
	o.expect_sha256 = json_string_value(json_object_get(e, "sha256"));
	o.deploy_argv = argv;
	sg_gate_run(cfg, &o, &res);
	item->status = res.status;
	item->superseded = res.superseded;
	item->deployed = res.status == 0 && !res.superseded && !res.pending;
	snprintf(item->summary, sizeof(item->summary), "%s", res.summary);
	sg_gate_result_free(&res);
	sg_config_argv_free(argv);
}

sg_result sg_resume_run(const struct sg_config *cfg,
			struct sg_resume_item **items, size_t *n)
{
	struct sg_strlist names = {0};
	sg_result r = sg_pending_names(cfg->state_dir, &names);

	*items = NULL;
	*n = 0;
	if (!r.code && names.n) {
		*items = calloc(names.n, sizeof(**items));
		if (*items == NULL)
			r = sg_err(SG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !r.code && i < names.n; i++) {
		struct sg_resume_item *item = &(*items)[(*n)++];
		json_t *e = NULL;
		sg_result lr;

		snprintf(item->lineage, sizeof(item->lineage), "%s",
			 names.v[i]);
		/* After SIGTERM/SIGINT no entry is started: those not begun
		 * stay exactly as they are, for the next run. */
		if (sg_interrupted()) {
			item->status = 1;
			snprintf(item->summary, sizeof(item->summary),
				 "%s: not started, interrupted by signal %d",
				 names.v[i], sg_interrupted());
			continue;
		}
		lr = sg_pending_load(cfg->state_dir, names.v[i], &e);
		if (lr.code || e == NULL) {
			item->status = 2;
			snprintf(item->summary, sizeof(item->summary), "%s",
				 lr.code ? lr.reason : "entry vanished");
		} else {
			resume_one(cfg, e, item);
		}
		json_decref(e);
	}
	sg_strlist_free(&names);
	return r;
}

sg_result sg_resume_staples(const struct sg_config *cfg,
			    struct sg_strlist *msgs, int *failed)
{
	struct sg_policy policy = sg_config_policy(cfg);

	*failed = 0;
	if (sg_interrupted())
		return sg_err(SG_EINPUT,
			      "interrupted by signal %d: staple files not "
			      "refreshed",
			      sg_interrupted());
	return sg_prestage_refresh(cfg->state_dir, cfg->cafile,
				   cfg->timeout_sec * 1000L, &policy, msgs,
				   failed);
}
