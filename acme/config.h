/* The JSON config file (Jansson): which targets serve which domain, and
 * the gate's policy. Format in README.md, "Config file". */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "../preflight/probe.h"
#include "../preflight/result.h"
#include "../preflight/target.h"

#define SG_DEFAULT_CONFIG	      "/etc/staplegate/config.json"
#define SG_DEFAULT_STATE_DIR	      "/var/lib/staplegate"
#define SG_DEFAULT_RECORD	      SG_DEFAULT_STATE_DIR "/scores.jsonl"
#define SG_DEFAULT_SETTLE_TIMEOUT_SEC 60
#define SG_DEFAULT_SETTLE_HANDSHAKES  3
#define SG_DEFAULT_DEADLINE_SEC	      100 /* lego kills hooks after 120 s */
/* A delegated OCSP signer is often issued for weeks only: two weeks'
 * notice leaves time to rotate it, three days is an emergency. */
#define SG_DEFAULT_SIGNER_WARN_SEC (14L * 86400)
#define SG_DEFAULT_SIGNER_CRIT_SEC (3L * 86400)

struct sg_domain_cfg {
	char *name; /* "shop.example" or "*.example.com" */
	struct sg_target *targets;
	size_t ntargets;
	char *servername;     /* NULL: the domain itself */
	char **deploy_argv;   /* NULL-terminated, or NULL */
	char **rollback_argv; /* NULL-terminated, or NULL */
	char *staple_out;     /* pre-staged OCSP response file, or NULL */
	long require_history; /* seconds of proven stapling, 0: global */
	char *haproxy_socket; /* NULL: the global one */
};

struct sg_config {
	long timeout_sec, min_remaining_sec, skew_sec, max_age_sec;
	long retry_delay_sec, settle_timeout_sec, deadline_sec;
	long attempts, confirm, settle_handshakes;
	long store; /* 1: fill the approved-certificate store */
	long require_history, history_max_gap; /* "prove stapling first" */
	long signer_warn_sec, signer_crit_sec; /* monitor: OCSP signer left */
	long responder_health; /* 1: monitor asks each responder too */
	char *record_path, *state_dir, *cafile;
	char *user;	      /* the prober's (sandbox.h), NULL: nobody */
	char *haproxy_socket; /* HAProxy stats socket for staples, or NULL */
	char **deploy_argv, **rollback_argv;
	struct sg_domain_cfg *domains;
	size_t ndomains;
};

/* Defaults only, as when no config file exists. */
void sg_config_defaults(struct sg_config *cfg);

/* Parses text (named `name` in messages). Errors name the key and its
 * position: "config.json:7:5: defaults.timeout: invalid duration...". */
sg_result sg_config_parse(const char *text, size_t len, const char *name,
			  struct sg_config *cfg);
/* path NULL: SG_DEFAULT_CONFIG. */
sg_result sg_config_load(const char *path, struct sg_config *cfg);
/* The hook's load: a missing default config is no error (a
 * non-Must-Staple certificate needs none); one that cannot be read
 * leaves the defaults in cfg and says why. */
sg_result sg_config_load_or_defaults(const char *path, struct sg_config *cfg);
void sg_config_free(struct sg_config *cfg);

/* A command as the config takes it (deploy_command): a non-empty array
 * of non-empty strings, as a malloc'd NULL-terminated argv (free it with
 * sg_config_argv_free). NULL, or why not. Also for commands read back
 * from the state dir. */
const char *sg_config_argv(json_t *v, char ***out);
void sg_config_argv_free(char **argv);

/* The entry for a certificate name: exact first, then a wildcard entry
 * "*.parent" matching one label. NULL when none. */
const struct sg_domain_cfg *sg_config_match(const struct sg_config *cfg,
					    const char *domain);

/* The config's freshness policy for staples. */
struct sg_policy sg_config_policy(const struct sg_config *cfg);
/* sg_probe_opts_init's options with the config's timeout, attempts,
 * confirm, retry delay and policy; the caller adds the trust store and
 * any deadline. */
void sg_config_probe_opts(const struct sg_config *cfg, struct sg_probe_opts *p);

/* A certificate's site settings, from its DNS names: for each setting,
 * the first name whose domain entry sets it wins over the global one;
 * the history window is the longest of the global and the domains'. */
struct sg_site {
	char **deploy_argv, **rollback_argv; /* NULL: none */
	const char *staple_out;		     /* NULL: none */
	const char *haproxy_socket;	     /* NULL: none */
	long require_history;		     /* seconds, 0: none */
};
void sg_config_site(const struct sg_config *cfg, const struct sg_strlist *names,
		    struct sg_site *site);

/* Every target of every domain entry of the config, each with the SNI
 * the gate uses for it (the entry's servername, else its name). */
sg_result sg_config_targets(const struct sg_config *cfg, struct sg_target **out,
			    size_t *n);

struct sg_rhealth;

/* Probes them as they serve today, with the config's policy; with
 * health (n of them), asks each served certificate's responder too. */
sg_result sg_config_probe(const struct sg_config *cfg,
			  const struct sg_target *targets, size_t n,
			  struct sg_probe *probes, struct sg_rhealth *health);

#endif
