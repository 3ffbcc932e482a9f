#include "resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../preflight/config.h"
#include "command.h"
#include "gate.h"
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

/* The deploy argv saved in the entry (NULL: the config's at resume). */
static char **entry_argv(json_t *e)
{
	json_t *a = json_object_get(e, "deploy_argv");
	size_t n = json_array_size(a);
	char **argv;

	if (n == 0)
		return NULL;
	argv = calloc(n + 1, sizeof(*argv));
	for (size_t i = 0; argv && i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(a, i));
	return argv;
}

static void resume_one(const char *config_path, json_t *e,
		       struct sg_resume_item *item)
{
	struct sg_newcert nc = {0};
	char client[32];
	struct sg_gate_opts o = {.config_path = config_path, .resume = &nc};
	struct sg_gate_result res;

	copy_field(e, "client", client, sizeof(client));
	nc.client = client_of(client);
	copy_field(e, "lineage", nc.lineage, sizeof(nc.lineage));
	copy_field(e, "cert_path", nc.cert_path, sizeof(nc.cert_path));
	copy_field(e, "chain_path", nc.chain_path, sizeof(nc.chain_path));
	copy_field(e, "key_path", nc.key_path, sizeof(nc.key_path));
	copy_field(e, "lineage_dir", nc.lineage_dir, sizeof(nc.lineage_dir));
	o.expect_sha256 = json_string_value(json_object_get(e, "sha256"));
	o.deploy_argv = entry_argv(e);
	sg_gate_run(&o, &res);
	item->status = res.status;
	item->superseded = res.superseded;
	item->deployed = res.status == 0 && !res.superseded && !res.pending;
	snprintf(item->summary, sizeof(item->summary), "%s", res.summary);
	sg_gate_result_free(&res);
	free(o.deploy_argv);
}

sg_result sg_resume_run(const char *config_path, struct sg_resume_item **items,
			size_t *n)
{
	struct sg_config cfg;
	struct sg_strlist names = {0};
	sg_result r = sg_config_load(config_path, &cfg);

	*items = NULL;
	*n = 0;
	if (!r.code)
		r = sg_pending_names(cfg.state_dir, &names);
	if (!r.code && names.n) {
		*items = calloc(names.n, sizeof(**items));
		if (*items == NULL)
			r = sg_err(SG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !r.code && i < names.n; i++) {
		struct sg_resume_item *item = &(*items)[(*n)++];
		json_t *e = NULL;
		sg_result lr = sg_pending_load(cfg.state_dir, names.v[i], &e);

		snprintf(item->lineage, sizeof(item->lineage), "%s",
			 names.v[i]);
		if (lr.code || e == NULL) {
			item->status = 2;
			snprintf(item->summary, sizeof(item->summary), "%s",
				 lr.code ? lr.reason : "entry vanished");
		} else {
			resume_one(config_path, e, item);
		}
		json_decref(e);
	}
	sg_strlist_free(&names);
	sg_config_free(&cfg);
	return r;
}

sg_result sg_resume_staples(const char *config_path, struct sg_strlist *msgs,
			    int *failed)
{
	struct sg_config cfg;
	struct sg_policy policy;
	sg_result r = sg_config_load(config_path, &cfg);

	*failed = 0;
	if (r.code)
		return r;
	policy = (struct sg_policy){cfg.skew_sec, cfg.min_remaining_sec,
				    cfg.max_age_sec};
	r = sg_prestage_refresh(cfg.state_dir, cfg.cafile,
				cfg.timeout_sec * 1000L, &policy, msgs, failed);
	sg_config_free(&cfg);
	return r;
}

sg_result sg_pending_list(const char *config_path, json_t **list)
{
	struct sg_config cfg;
	struct sg_strlist names = {0};
	time_t now = time(NULL);
	sg_result r = sg_config_load(config_path, &cfg);

	*list = json_array();
	if (!r.code)
		r = sg_pending_names(cfg.state_dir, &names);
	for (size_t i = 0; !r.code && i < names.n; i++) {
		json_t *e = NULL;
		json_int_t served;

		r = sg_pending_load(cfg.state_dir, names.v[i], &e);
		if (r.code || e == NULL)
			continue;
		served = json_integer_value(
			json_object_get(e, "served_not_after"));
		json_object_del(e, "cert_pem");
		json_object_del(e, "chain_pem");
		json_object_set_new(
			e, "age_seconds",
			json_integer(now - json_integer_value(json_object_get(
						   e, "first_refused"))));
		json_object_set_new(
			e, "urgent",
			json_boolean(served &&
				     served - now < SG_PENDING_URGENT_SEC));
		json_array_append_new(*list, e);
	}
	sg_strlist_free(&names);
	sg_config_free(&cfg);
	return r;
}

sg_result sg_rollback_run(const char *config_path, const char *lineage)
{
	struct sg_config cfg;
	struct sg_command cmd;
	sg_result r = sg_config_load(config_path, &cfg);

	if (!r.code)
		r = sg_store_rollback(cfg.state_dir, lineage);
	if (!r.code && cfg.rollback_argv) {
		sg_command_run(cfg.rollback_argv, cfg.deadline_sec * 1000L,
			       &cmd);
		if (!cmd.started || cmd.exit_status != 0)
			r = sg_err(SG_ESYS, "store rolled back, but %s",
				   cmd.reason);
	}
	sg_config_free(&cfg);
	return r;
}
