#include "pending.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "../preflight/atomic.h"
#include "../preflight/bundle.h"
#include "../preflight/check.h"
#include "../preflight/report.h"
#include "store.h"

#define ENTRY_MAX_BYTES (1L << 20)

static json_t *pem_json(STACK_OF(X509) *certs, int from, int to)
{
	BIO *mem = sg_pem_text(certs, from, to);
	char *data;
	long len;
	json_t *s;

	len = mem ? BIO_get_mem_data(mem, &data) : 0;
	/* An empty chain (a leaf-only certificate) is "", not a failure. */
	s = mem == NULL ? NULL
	    : len > 0	? json_stringn(data, (size_t)len)
			: json_string("");
	BIO_free(mem);
	return s;
}

static json_t *time_json(time_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

static time_t earliest_served_expiry(const struct sg_report *rep)
{
	time_t min = 0;

	for (size_t i = 0; rep && i < rep->n; i++) {
		time_t t = rep->probes[i].served->not_after;

		if (rep->probes[i].handshake_ok && t && (min == 0 || t < min))
			min = t;
	}
	return min;
}

static json_t *argv_json(char *const *argv)
{
	json_t *a;

	if (argv == NULL)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

json_t *sg_pending_entry(const struct sg_newcert *nc,
			 const struct sg_material *m,
			 const struct sg_certinfo *cert,
			 const struct sg_report *rep, char *const *deploy_argv,
			 const char *reason)
{
	time_t now = time(NULL);
	json_t *domains = json_array();

	for (size_t i = 0; domains && i < cert->dns_names.n; i++)
		json_array_append_new(domains,
				      json_string(cert->dns_names.v[i]));
	return json_pack(
		"{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:I, "
		"s:I, s:i, s:o, s:o, s:o, s:o}",
		"version", SG_PENDING_VERSION, "lineage", nc->lineage, "client",
		sg_client_name(nc->client), "cert_path", nc->cert_path,
		"chain_path", nc->chain_path, "key_path", nc->key_path,
		"lineage_dir", nc->lineage_dir, "sha256", cert->sha256,
		"domains", domains, "deploy_argv", argv_json(deploy_argv),
		"reason", reason, "first_refused", (json_int_t)now,
		"last_refused", (json_int_t)now, "refusals", 1,
		"cert_not_after", time_json(cert->not_after),
		"served_not_after", time_json(earliest_served_expiry(rep)),
		"cert_pem", pem_json(m->bundle, 0, 1), "chain_pem",
		pem_json(m->issuers, 0, sk_X509_num(m->issuers)));
}

static sg_result entry_path(const char *state_dir, const char *lineage,
			    char *path, size_t size)
{
	char name[256];
	sg_result r = sg_store_lineage_name(lineage, name, sizeof(name));

	if (!r.code)
		snprintf(path, size, "%s/pending/%s.json", state_dir, name);
	return r;
}

sg_result sg_pending_load(const char *state_dir, const char *lineage,
			  json_t **entry)
{
	char path[PATH_MAX], *text;
	size_t len;
	json_error_t e;
	sg_result r = entry_path(state_dir, lineage, path, sizeof(path));

	*entry = NULL;
	if (r.code || access(path, F_OK) != 0)
		return r;
	r = sg_read_file(path, ENTRY_MAX_BYTES, &text, &len);
	if (r.code)
		return r;
	*entry = json_loadb(text, len, 0, &e);
	free(text);
	if (!json_is_object(*entry)) {
		json_decref(*entry);
		*entry = NULL;
		return sg_err(SG_EINPUT, "%s:%d: %s", path, e.line, e.text);
	}
	return sg_ok();
}

sg_result sg_pending_save(const char *state_dir, const char *lineage,
			  json_t *entry)
{
	char path[PATH_MAX], dir[PATH_MAX], *text;
	json_t *old = NULL;
	sg_result r = entry_path(state_dir, lineage, path, sizeof(path));

	snprintf(dir, sizeof(dir), "%s/pending", state_dir);
	if (!r.code)
		r = sg_mkdir_safe(state_dir, 0750);
	if (!r.code)
		r = sg_mkdir_safe(dir, 0750);
	if (!r.code)
		sg_pending_load(state_dir, lineage, &old);
	if (r.code)
		return r;
	/* The same certificate refused again: one entry, its history kept
	 * (its settle failures and backoff included). */
	if (old && json_equal(json_object_get(old, "sha256"),
			      json_object_get(entry, "sha256"))) {
		static const char *const keep[] = {
			"settle_failures", "last_settle_failure",
			"settle_reason", "retry_after"};

		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (!json_object_get(entry, keep[i]) &&
			    json_object_get(old, keep[i]))
				json_object_set(entry, keep[i],
						json_object_get(old, keep[i]));
		json_object_set(entry, "first_refused",
				json_object_get(old, "first_refused"));
		json_object_set_new(
			entry, "refusals",
			json_integer(json_integer_value(
					     json_object_get(old, "refusals")) +
				     1));
	}
	json_decref(old);
	text = json_dumps(entry, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	r = sg_write_atomic(path, text, strlen(text), 0640);
	free(text);
	return r;
}

long sg_pending_backoff_sec(long failures)
{
	long wait = SG_PENDING_BACKOFF_FIRST_SEC;

	for (long i = 1; i < failures && wait < SG_PENDING_BACKOFF_MAX_SEC; i++)
		wait *= 2;
	return wait < SG_PENDING_BACKOFF_MAX_SEC ? wait
						 : SG_PENDING_BACKOFF_MAX_SEC;
}

sg_result sg_pending_save_settle_failure(const char *state_dir,
					 const char *lineage, json_t *entry,
					 const char *why)
{
	json_t *old = NULL;
	json_int_t failures = 1;
	time_t now = time(NULL);

	sg_pending_load(state_dir, lineage, &old);
	if (old && json_equal(json_object_get(old, "sha256"),
			      json_object_get(entry, "sha256")))
		failures += json_integer_value(
			json_object_get(old, "settle_failures"));
	json_decref(old);
	json_object_set_new(entry, "settle_failures", json_integer(failures));
	json_object_set_new(entry, "last_settle_failure",
			    json_integer((json_int_t)now));
	json_object_set_new(entry, "settle_reason", json_string(why));
	json_object_set_new(
		entry, "retry_after",
		json_integer((json_int_t)now +
			     sg_pending_backoff_sec((long)failures)));
	return sg_pending_save(state_dir, lineage, entry);
}

void sg_pending_remove(const char *state_dir, const char *lineage)
{
	char path[PATH_MAX];

	if (!entry_path(state_dir, lineage, path, sizeof(path)).code)
		unlink(path);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

sg_result sg_pending_names(const char *state_dir, struct sg_strlist *names)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;
	sg_result r = sg_ok();

	snprintf(dir, sizeof(dir), "%s/pending", state_dir);
	/* Killed writes' temporary files never end in ".json"; stale ones
	 * go here, where every run of resume and pending passes. */
	r = sg_temp_swept_dir(dir, &d);
	if (d == NULL)
		return r;
	while (!r.code && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.' || n < 6 ||
		    strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		e->d_name[n - 5] = '\0';
		r = sg_strlist_add(names, e->d_name);
	}
	closedir(d);
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), by_name);
	return r;
}

/* One entry that cannot be read (cut by a crash, a FIFO, junk): listed
 * as damaged, with the reason naming its file, and left in place for
 * the operator; it hides none of the others. */
static json_t *damaged_json(const char *name, const char *why)
{
	char reason[SG_REASON_MAX + 64];

	snprintf(reason, sizeof(reason), "damaged entry, left as it is: %s",
		 why);
	return json_pack("{s:s, s:b, s:s, s:b}", "lineage", name, "damaged", 1,
			 "reason", reason, "urgent", 0);
}

sg_result sg_pending_list(const char *state_dir, json_t **list)
{
	struct sg_strlist names = {0};
	time_t now = time(NULL);
	sg_result r = sg_pending_names(state_dir, &names);

	*list = json_array();
	for (size_t i = 0; !r.code && i < names.n; i++) {
		json_t *e = NULL;
		json_int_t served;
		sg_result lr = sg_pending_load(state_dir, names.v[i], &e);

		if (lr.code) {
			json_array_append_new(
				*list, damaged_json(names.v[i], lr.reason));
			continue;
		}
		if (e == NULL)
			continue; /* removed since it was listed */
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
	return r;
}
