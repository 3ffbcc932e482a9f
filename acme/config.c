#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../preflight/bundle.h"
#include "../preflight/duration.h"
#include "../preflight/history.h"
#include "../preflight/probe.h" /* and staple.h: the probing defaults */
#include "responder_health.h"

#define CONFIG_MAX_BYTES (16L * 1024 * 1024) /* long target lists fit */

enum kind { K_DURATION, K_COUNT, K_STRING, K_ARGV, K_BOOL };

/* The keys of "defaults": one table, so parsing, the unknown-key check
 * and the documentation list stay in step. */
static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
	long min, max;
} default_keys[] = {
	{"timeout", K_DURATION, offsetof(struct sg_config, timeout_sec), 1,
	 3600},
	{"min_remaining", K_DURATION,
	 offsetof(struct sg_config, min_remaining_sec), 0, SG_DURATION_MAX_SEC},
	{"skew", K_DURATION, offsetof(struct sg_config, skew_sec), 0, 86400},
	{"max_age", K_DURATION, offsetof(struct sg_config, max_age_sec), 60,
	 SG_DURATION_MAX_SEC},
	{"retry_delay", K_DURATION, offsetof(struct sg_config, retry_delay_sec),
	 0, 600},
	{"settle_timeout", K_DURATION,
	 offsetof(struct sg_config, settle_timeout_sec), 1, 86400},
	{"deadline", K_DURATION, offsetof(struct sg_config, deadline_sec), 5,
	 86400},
	{"attempts", K_COUNT, offsetof(struct sg_config, attempts), 1, 100},
	{"confirm", K_COUNT, offsetof(struct sg_config, confirm), 1,
	 SG_CONFIRM_MAX},
	{"settle_handshakes", K_COUNT,
	 offsetof(struct sg_config, settle_handshakes), 1, 100},
	{"store", K_BOOL, offsetof(struct sg_config, store), 0, 1},
	{"require_history", K_DURATION,
	 offsetof(struct sg_config, require_history), 0, 366L * 86400},
	{"history_max_gap", K_DURATION,
	 offsetof(struct sg_config, history_max_gap), 60, 366L * 86400},
	{"signer_warn", K_DURATION, offsetof(struct sg_config, signer_warn_sec),
	 0, SG_DURATION_MAX_SEC},
	{"signer_crit", K_DURATION, offsetof(struct sg_config, signer_crit_sec),
	 0, SG_DURATION_MAX_SEC},
	{"responder_health", K_BOOL,
	 offsetof(struct sg_config, responder_health), 0, 1},
	{"record", K_STRING, offsetof(struct sg_config, record_path), 0, 0},
	{"state_dir", K_STRING, offsetof(struct sg_config, state_dir), 0, 0},
	{"cafile", K_STRING, offsetof(struct sg_config, cafile), 0, 0},
	{"user", K_STRING, offsetof(struct sg_config, user), 0, 0},
	{"haproxy_socket", K_STRING, offsetof(struct sg_config, haproxy_socket),
	 0, 0},
	{"deploy_command", K_ARGV, offsetof(struct sg_config, deploy_argv), 0,
	 0},
	{"rollback_command", K_ARGV, offsetof(struct sg_config, rollback_argv),
	 0, 0},
};

static const struct key domain_keys[] = {
	{"targets", K_ARGV, 0, 0, 0}, /* handled apart: a target list */
	{"servername", K_STRING, offsetof(struct sg_domain_cfg, servername), 0,
	 0},
	{"deploy_command", K_ARGV, offsetof(struct sg_domain_cfg, deploy_argv),
	 0, 0},
	{"rollback_command", K_ARGV,
	 offsetof(struct sg_domain_cfg, rollback_argv), 0, 0},
	{"staple_out", K_STRING, offsetof(struct sg_domain_cfg, staple_out), 0,
	 0},
	{"require_history", K_DURATION,
	 offsetof(struct sg_domain_cfg, require_history), 0, 366L * 86400},
	{"haproxy_socket", K_STRING,
	 offsetof(struct sg_domain_cfg, haproxy_socket), 0, 0},
};

struct parser {
	const char *text, *name;
	size_t len;
};

/* Jansson keeps no positions for decoded values, so a key is located in
 * the text by walking its path: each component searched for as a JSON
 * key after the previous one. Good enough to point an editor at it. */
static void locate(const struct parser *p, const char *const *path, int depth,
		   int *line, int *col)
{
	const char *at = p->text, *end = p->text + p->len;
	char needle[300];

	for (int i = 0; i < depth; i++) {
		const char *hit;

		snprintf(needle, sizeof(needle), "\"%s\"", path[i]);
		hit = memmem(at, (size_t)(end - at), needle, strlen(needle));
		if (hit == NULL)
			break;
		at = hit;
	}
	*line = 1;
	*col = 1;
	for (const char *c = p->text; c < at; c++) {
		if (*c == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static sg_result key_error(const struct parser *p, const char *const *path,
			   int depth, const char *why)
{
	char dotted[512] = "";
	int line, col;

	for (int i = 0; i < depth; i++)
		snprintf(dotted + strlen(dotted),
			 sizeof(dotted) - strlen(dotted), "%s%s", i ? "." : "",
			 path[i]);
	locate(p, path, depth, &line, &col);
	return sg_err(SG_EINPUT, "%s:%d:%d: %s: %s", p->name, line, col, dotted,
		      why);
}

void sg_config_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

const char *sg_config_argv(json_t *v, char ***out)
{
	size_t n = json_array_size(v);
	char **argv;

	if (!json_is_array(v) || n == 0)
		return "expected a non-empty array of strings";
	argv = calloc(n + 1, sizeof(*argv));
	if (argv == NULL)
		return "out of memory";
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(v, i));

		if (s == NULL || *s == '\0' || (argv[i] = strdup(s)) == NULL) {
			sg_config_argv_free(argv);
			return "expected a non-empty array of strings";
		}
	}
	*out = argv;
	return NULL;
}

static const char *set_value(const struct key *k, json_t *v, void *base)
{
	char *field = (char *)base + k->off;
	const char *s = json_string_value(v);
	long n;

	switch (k->kind) {
	case K_DURATION:
		if (s == NULL)
			return "expected a duration string such as \"30s\"";
		if (sg_duration_parse(s, &n).code || n < k->min || n > k->max)
			return "invalid or out-of-range duration";
		*(long *)field = n;
		return NULL;
	case K_COUNT:
		if (!json_is_integer(v))
			return "expected an integer";
		n = (long)json_integer_value(v);
		if (n < k->min || n > k->max)
			return "out of range";
		*(long *)field = n;
		return NULL;
	case K_BOOL:
		if (!json_is_boolean(v))
			return "expected true or false";
		*(long *)field = json_is_true(v);
		return NULL;
	case K_STRING:
		if (s == NULL || *s == '\0')
			return "expected a non-empty string";
		free(*(char **)field);
		*(char **)field = strdup(s);
		return *(char **)field ? NULL : "out of memory";
	case K_ARGV:
		sg_config_argv_free(*(char ***)field);
		*(char ***)field = NULL;
		return sg_config_argv(v, (char ***)field);
	}
	return "unsupported key";
}

static const struct key *find_key(const struct key *keys, size_t n,
				  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static sg_result parse_keys(const struct parser *p, json_t *obj,
			    const struct key *keys, size_t nkeys, void *base,
			    const char **path, int depth)
{
	const char *name;
	json_t *v;

	if (!json_is_object(obj))
		return key_error(p, path, depth, "expected an object");
	json_object_foreach (obj, name, v) {
		const struct key *k = find_key(keys, nkeys, name);
		const char *why;

		path[depth] = name;
		if (k == NULL)
			return key_error(p, path, depth + 1, "unknown key");
		if (strcmp(name, "targets") == 0)
			continue; /* the caller parses target lists */
		why = set_value(k, v, base);
		if (why)
			return key_error(p, path, depth + 1, why);
	}
	return sg_ok();
}

static sg_result parse_targets(const struct parser *p, json_t *list,
			       struct sg_domain_cfg *d, const char **path)
{
	size_t n = json_array_size(list);
	sg_result r;

	path[2] = "targets";
	if (!json_is_array(list) || n == 0)
		return key_error(p, path, 3,
				 "expected a non-empty array of "
				 "targets");
	d->targets = calloc(n, sizeof(*d->targets));
	if (d->targets == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(list, i));

		if (s == NULL)
			return key_error(p, path, 3, "targets must be strings");
		r = sg_target_parse(s, &d->targets[i]);
		if (r.code)
			return key_error(p, path, 3, r.reason);
		d->ntargets++;
	}
	return sg_ok();
}

static bool domain_name_ok(const char *name)
{
	struct sg_target t;

	if (strncmp(name, "*.", 2) == 0)
		name += 2;
	bool ok = sg_target_parse(name, &t).code == SG_OK && !t.host_is_ip &&
		  strchr(name, ':') == NULL;

	sg_target_free(&t);
	return ok;
}

static sg_result parse_domains(const struct parser *p, json_t *obj,
			       struct sg_config *cfg)
{
	const char *path[4] = {"domains"}, *name;
	json_t *v;
	sg_result r;

	if (!json_is_object(obj))
		return key_error(p, path, 1, "expected an object of domains");
	cfg->domains = calloc(json_object_size(obj) + 1, sizeof(*cfg->domains));
	if (cfg->domains == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	json_object_foreach (obj, name, v) {
		struct sg_domain_cfg *d = &cfg->domains[cfg->ndomains++];

		path[1] = name;
		if (!domain_name_ok(name))
			return key_error(p, path, 2, "not a domain name");
		d->name = strdup(name);
		if (d->name == NULL)
			return sg_err(SG_ENOMEM, "out of memory");
		r = parse_keys(p, v, domain_keys,
			       sizeof(domain_keys) / sizeof(domain_keys[0]), d,
			       path, 2);
		if (!r.code)
			r = parse_targets(p, json_object_get(v, "targets"), d,
					  path);
		if (r.code)
			return r;
	}
	return sg_ok();
}

static sg_result parse_root(const struct parser *p, json_t *root,
			    struct sg_config *cfg)
{
	const char *path[4], *name;
	json_t *v;
	sg_result r = sg_ok();

	if (!json_is_object(root))
		return sg_err(SG_EINPUT, "%s: the top level must be an object",
			      p->name);
	json_object_foreach (root, name, v) {
		path[0] = name;
		if (strcmp(name, "defaults") == 0)
			r = parse_keys(p, v, default_keys,
				       sizeof(default_keys) /
					       sizeof(default_keys[0]),
				       cfg, path, 1);
		else if (strcmp(name, "domains") == 0)
			r = parse_domains(p, v, cfg);
		else
			r = key_error(p, path, 1, "unknown key");
		if (r.code)
			return r;
	}
	return r;
}

void sg_config_defaults(struct sg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_sec = SG_DEFAULT_TIMEOUT_SEC;
	cfg->min_remaining_sec = SG_DEFAULT_MIN_REMAINING_SEC;
	cfg->skew_sec = SG_DEFAULT_SKEW_SEC;
	cfg->max_age_sec = SG_DEFAULT_MAX_AGE_SEC;
	cfg->retry_delay_sec = SG_DEFAULT_RETRY_DELAY_SEC;
	cfg->attempts = SG_DEFAULT_ATTEMPTS;
	cfg->confirm = SG_DEFAULT_CONFIRM;
	cfg->settle_timeout_sec = SG_DEFAULT_SETTLE_TIMEOUT_SEC;
	cfg->settle_handshakes = SG_DEFAULT_SETTLE_HANDSHAKES;
	cfg->deadline_sec = SG_DEFAULT_DEADLINE_SEC;
	cfg->history_max_gap = SG_DEFAULT_HISTORY_GAP_SEC;
	cfg->signer_warn_sec = SG_DEFAULT_SIGNER_WARN_SEC;
	cfg->signer_crit_sec = SG_DEFAULT_SIGNER_CRIT_SEC;
}

static sg_result fill_default_paths(struct sg_config *cfg)
{
	if (cfg->state_dir == NULL)
		cfg->state_dir = strdup(SG_DEFAULT_STATE_DIR);
	if (cfg->record_path == NULL && cfg->state_dir) {
		size_t n = strlen(cfg->state_dir) + sizeof("/scores.jsonl");

		cfg->record_path = malloc(n);
		if (cfg->record_path)
			snprintf(cfg->record_path, n, "%s/scores.jsonl",
				 cfg->state_dir);
	}
	if (cfg->state_dir == NULL || cfg->record_path == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	return sg_ok();
}

sg_result sg_config_parse(const char *text, size_t len, const char *name,
			  struct sg_config *cfg)
{
	struct parser p = {.text = text, .name = name, .len = len};
	json_error_t e;
	json_t *root;
	sg_result r;

	sg_config_defaults(cfg);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (root == NULL)
		return sg_err(SG_EINPUT, "%s:%d:%d: %s", name, e.line, e.column,
			      e.text);
	r = parse_root(&p, root, cfg);
	json_decref(root);
	if (!r.code)
		r = fill_default_paths(cfg);
	if (r.code)
		sg_config_free(cfg);
	return r;
}

/* Opened without blocking: a FIFO or a device in the config's place
 * would hold the run past its deadline before the deadline is even
 * known. NULL with errno (EINVAL: not a regular file). */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	fcntl(fd, F_SETFL, 0);
	f = fdopen(fd, "r");
	if (f == NULL)
		close(fd);
	return f;
}

sg_result sg_config_load(const char *path, struct sg_config *cfg)
{
	FILE *f;

	if (path == NULL)
		path = SG_DEFAULT_CONFIG;
	f = open_regular(path);
	char *text;
	size_t n;
	sg_result r;

	sg_config_defaults(cfg);
	if (f == NULL)
		return sg_err(SG_EINPUT, "%s: %s", path,
			      errno == EINVAL ? "not a regular file"
					      : strerror(errno));
	text = malloc(CONFIG_MAX_BYTES);
	n = text ? fread(text, 1, CONFIG_MAX_BYTES, f) : 0;
	if (text == NULL)
		r = sg_err(SG_ENOMEM, "out of memory");
	else if (ferror(f))
		r = sg_err(SG_EINPUT, "%s: read error", path);
	else if (n == CONFIG_MAX_BYTES)
		r = sg_err(SG_EINPUT, "%s: larger than %ld bytes", path,
			   CONFIG_MAX_BYTES);
	else
		r = sg_config_parse(text, n, path, cfg);
	free(text);
	fclose(f);
	return r;
}

sg_result sg_config_load_or_defaults(const char *path, struct sg_config *cfg)
{
	sg_result r;

	if (path == NULL && access(SG_DEFAULT_CONFIG, F_OK) != 0)
		return sg_config_parse("{}", 2, "defaults", cfg);
	r = sg_config_load(path, cfg);
	if (r.code)
		sg_config_parse("{}", 2, "defaults", cfg);
	return r;
}

void sg_config_free(struct sg_config *cfg)
{
	for (size_t i = 0; i < cfg->ndomains; i++) {
		struct sg_domain_cfg *d = &cfg->domains[i];

		free(d->name);
		sg_targets_free(d->targets, d->ntargets);
		free(d->servername);
		free(d->staple_out);
		free(d->haproxy_socket);
		sg_config_argv_free(d->deploy_argv);
		sg_config_argv_free(d->rollback_argv);
	}
	free(cfg->domains);
	free(cfg->record_path);
	free(cfg->state_dir);
	free(cfg->cafile);
	free(cfg->user);
	free(cfg->haproxy_socket);
	sg_config_argv_free(cfg->deploy_argv);
	sg_config_argv_free(cfg->rollback_argv);
	memset(cfg, 0, sizeof(*cfg));
}

const struct sg_domain_cfg *sg_config_match(const struct sg_config *cfg,
					    const char *domain)
{
	const char *dot = strchr(domain, '.');

	for (size_t i = 0; i < cfg->ndomains; i++)
		if (strcasecmp(cfg->domains[i].name, domain) == 0)
			return &cfg->domains[i];
	if (dot == NULL || strncmp(domain, "*.", 2) == 0)
		return NULL;
	for (size_t i = 0; i < cfg->ndomains; i++) {
		const char *n = cfg->domains[i].name;

		if (strncmp(n, "*.", 2) == 0 && strcasecmp(n + 1, dot) == 0)
			return &cfg->domains[i];
	}
	return NULL;
}

struct sg_policy sg_config_policy(const struct sg_config *cfg)
{
	struct sg_policy p = {
		.skew_sec = cfg->skew_sec,
		.min_remaining_sec = cfg->min_remaining_sec,
		.max_age_sec = cfg->max_age_sec,
	};
	return p;
}

void sg_config_probe_opts(const struct sg_config *cfg, struct sg_probe_opts *p)
{
	sg_probe_opts_init(p);
	p->timeout_ms = cfg->timeout_sec * 1000;
	p->attempts = (int)cfg->attempts;
	p->confirm = (int)cfg->confirm;
	p->retry_delay_ms = cfg->retry_delay_sec * 1000;
	p->policy = sg_config_policy(cfg);
}

void sg_config_site(const struct sg_config *cfg, const struct sg_strlist *names,
		    struct sg_site *site)
{
	memset(site, 0, sizeof(*site));
	site->require_history = cfg->require_history;
	for (size_t i = 0; i < names->n; i++) {
		const struct sg_domain_cfg *d =
			sg_config_match(cfg, names->v[i]);

		if (d == NULL)
			continue;
		if (site->deploy_argv == NULL)
			site->deploy_argv = d->deploy_argv;
		if (site->rollback_argv == NULL)
			site->rollback_argv = d->rollback_argv;
		if (site->staple_out == NULL)
			site->staple_out = d->staple_out;
		if (site->haproxy_socket == NULL)
			site->haproxy_socket = d->haproxy_socket;
		if (d->require_history > site->require_history)
			site->require_history = d->require_history;
	}
	if (site->deploy_argv == NULL)
		site->deploy_argv = cfg->deploy_argv;
	if (site->rollback_argv == NULL)
		site->rollback_argv = cfg->rollback_argv;
	if (site->haproxy_socket == NULL)
		site->haproxy_socket = cfg->haproxy_socket;
}

sg_result sg_config_targets(const struct sg_config *cfg, struct sg_target **out,
			    size_t *n)
{
	size_t total = 0;

	*n = 0;
	for (size_t i = 0; i < cfg->ndomains; i++)
		total += cfg->domains[i].ntargets;
	*out = calloc(total ? total : 1, sizeof(**out));
	if (*out == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->ndomains; i++) {
		const struct sg_domain_cfg *d = &cfg->domains[i];
		const char *sni = d->servername		      ? d->servername
				  : strncmp(d->name, "*.", 2) ? d->name
							      : "";

		for (size_t j = 0; j < d->ntargets; j++) {
			sg_result r = sg_target_copy(&(*out)[*n],
						     &d->targets[j], sni);

			if (r.code) {
				sg_targets_free(*out, *n);
				*out = NULL;
				*n = 0;
				return r;
			}
			(*n)++;
		}
	}
	return sg_ok();
}

/* monitor --responders: the prober asks the responders too */
struct health {
	const struct sg_config *cfg;
	struct sg_rhealth *health;
	size_t n;
};

static sg_result health_job(void *arg, const struct sg_probe *probes, size_t n,
			    FILE *out)
{
	const struct health *h = arg;
	struct sg_policy policy = sg_config_policy(h->cfg);

	return sg_rhealth_job(probes, n, h->cfg->timeout_sec * 1000L, &policy,
			      out);
}

static sg_result health_take(void *arg, const char *type, json_t *line)
{
	const struct health *h = arg;

	if (strcmp(type, "health") != 0)
		return sg_err(SG_EINPUT, "prober: unexpected answer line");
	return sg_rhealth_take(line, h->health, h->n);
}

sg_result sg_config_probe(const struct sg_config *cfg,
			  const struct sg_target *targets, size_t n,
			  struct sg_probe *probes, struct sg_rhealth *health)
{
	struct sg_probe_opts p;
	X509_STORE *store = NULL;
	struct health h = {cfg, health, n};
	struct sg_probe_extra x = {health_job, health_take, &h};
	sg_result r = sg_bundle_trust_store(cfg->cafile, &store);

	if (r.code)
		return r;
	sg_config_probe_opts(cfg, &p);
	p.store = store;
	r = sg_probe_run_extra(targets, n, &p, probes, health ? &x : NULL);
	X509_STORE_free(store);
	return r;
}
