#include "rollback.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "../preflight/bundle.h"
#include "../preflight/clock.h"
#include "command.h"
#include "lock.h"
#include "prestage.h"
#include "store.h"

/* The rolled-back certificate's names pick the command: its site's
 * rollback_command; with none, its deploy command runs again so that the
 * server re-reads the previous version. */
static char **rollback_argv(const struct sg_config *cfg, const char *lineage,
			    bool *redeploy)
{
	char name[256], path[PATH_MAX];
	STACK_OF(X509) *certs = NULL;
	struct sg_certinfo info = {0};
	struct sg_site site;

	if (!sg_store_lineage_name(lineage, name, sizeof(name)).code) {
		snprintf(path, sizeof(path), "%s/live/%s/cert.pem",
			 cfg->state_dir, name);
		sg_bundle_load(path, &certs);
	}
	if (certs && sg_certinfo_read(sk_X509_value(certs, 0), &info).code)
		memset(&info, 0, sizeof(info));
	sk_X509_pop_free(certs, X509_free);
	sg_config_site(cfg, &info.dns_names, &site);
	sg_certinfo_free(&info);
	*redeploy = site.rollback_argv == NULL && site.deploy_argv;
	return site.rollback_argv ? site.rollback_argv : site.deploy_argv;
}

sg_result sg_rollback_run(const struct sg_config *cfg, const char *lineage,
			  char *note, size_t size)
{
	struct sg_command cmd = {0};
	char staple[PATH_MAX] = "", done[SG_REASON_MAX] = "";
	char **argv;
	bool busy, redeploy;
	int fd = -1;
	sg_result r = sg_lock_lineage(cfg->state_dir, lineage,
				      sg_now_ms() + cfg->deadline_sec * 1000L,
				      &fd, &busy);

	note[0] = '\0';
	if (!r.code)
		r = sg_prestage_path(cfg->state_dir, lineage, staple,
				     sizeof(staple));
	if (!r.code)
		r = sg_store_rollback(cfg->state_dir, lineage,
				      staple[0] ? staple : NULL, done,
				      sizeof(done));
	if (!r.code) {
		argv = rollback_argv(cfg, lineage, &redeploy);
		if (argv == NULL)
			snprintf(note, size,
				 "%s; neither a rollback_command nor a "
				 "deploy_command is configured: reload the "
				 "server yourself",
				 done);
		else
			sg_command_run(argv, cfg->deadline_sec * 1000L, &cmd);
		if (argv && cmd.started && cmd.exit_status == 0)
			snprintf(note, size, "%s; %s", done, cmd.reason);
		if (argv && (!cmd.started || cmd.exit_status != 0))
			r = sg_err(SG_ESYS, "store rolled back, but %s%s",
				   redeploy ? "the deploy command (run again "
					      "since no rollback_command is "
					      "configured): "
					    : "",
				   cmd.reason);
	}
	if (fd >= 0)
		close(fd);
	return r;
}
