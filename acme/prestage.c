#include "prestage.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../preflight/atomic.h"
#include "../preflight/check.h"
#include "../preflight/clock.h"
#include "../preflight/responder.h"
#include "haproxy.h"
#include "lock.h"
#include "store.h"

sg_result sg_prestage_remember(const char *state_dir, const char *lineage,
			       const char *staple_path, const char *cert_path,
			       const char *chain_path,
			       const char *haproxy_socket)
{
	char name[256], dir[PATH_MAX], path[PATH_MAX], *text;
	json_t *rec;
	sg_result r = sg_store_lineage_name(lineage, name, sizeof(name));

	snprintf(dir, sizeof(dir), "%s/staples", state_dir);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	if (!r.code)
		r = sg_mkdir_safe(state_dir, 0750);
	if (!r.code)
		r = sg_mkdir_safe(dir, 0750);
	if (r.code)
		return r;
	rec = json_pack("{s:s, s:s, s:s, s:s}", "lineage", lineage, "path",
			staple_path, "cert_path", cert_path, "chain_path",
			chain_path ? chain_path : "");
	if (rec && haproxy_socket)
		json_object_set_new(rec, "haproxy_socket",
				    json_string(haproxy_socket));
	text = rec ? json_dumps(rec, JSON_INDENT(2)) : NULL;
	json_decref(rec);
	r = text ? sg_write_atomic(path, text, strlen(text), 0640)
		 : sg_err(SG_ENOMEM, "out of memory");
	free(text);
	return r;
}

sg_result sg_prestage_path(const char *state_dir, const char *lineage,
			   char *out, size_t size)
{
	char name[256], path[PATH_MAX], *text = NULL;
	size_t len = 0;
	json_t *rec;
	const char *v;
	sg_result r = sg_store_lineage_name(lineage, name, sizeof(name));

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/staples/%s.json", state_dir, name);
	if (r.code || access(path, F_OK) != 0)
		return r;
	r = sg_read_file(path, 65536, &text, &len);
	rec = r.code ? NULL : json_loadb(text, len, 0, NULL);
	free(text);
	v = json_string_value(json_object_get(rec, "path"));
	if (!r.code && v == NULL)
		r = sg_err(SG_EINPUT, "%s: no \"path\" in it", path);
	if (v)
		snprintf(out, size, "%s", v);
	json_decref(rec);
	return r;
}

/* Whether the file at path holds a valid response for the certificate
 * with more than half of its window left. */
static bool still_good(const char *path, X509 *leaf, X509 *issuer,
		       const struct sg_policy *policy, char *why, size_t size)
{
	char *data = NULL;
	size_t len = 0;
	struct sg_staple st;
	time_t now = time(NULL);

	if (sg_read_file(path, SG_OCSP_MAX_RESPONSE_BYTES, &data, &len).code) {
		snprintf(why, size, "missing or unreadable");
		return false;
	}
	sg_staple_verify((unsigned char *)data, len, leaf, issuer, policy, now,
			 &st);
	free(data);
	if (!st.valid) {
		snprintf(why, size, "%s", st.reason);
		return false;
	}
	if (st.next_update - now < (st.next_update - st.this_update) / 2) {
		snprintf(why, size, "less than half of its validity left");
		return false;
	}
	snprintf(why, size, "still fresh, %lds left", st.seconds_left);
	return true;
}

/* The running HAProxy gets the file's response: after a refresh always,
 * otherwise only when it does not hold it already (an earlier push that
 * failed, a restart that loaded an older file). A failure replaces msg,
 * so that it never reads as "refreshed" or "still fresh". */
static bool sync_haproxy(const char *sock, const char *path,
			 const unsigned char *der, size_t len, X509 *leaf,
			 X509 *issuer, const struct sg_policy *policy,
			 long timeout_ms, bool refreshed, char *msg,
			 size_t size)
{
	size_t used = strlen(msg);
	bool holds = false;
	sg_result r = sg_ok();

	if (!refreshed)
		r = sg_haproxy_holds(sock, der, len, leaf, issuer, timeout_ms,
				     &holds);
	if (!r.code && holds)
		return true;
	if (!r.code)
		r = sg_haproxy_push(sock, der, len, leaf, issuer, policy,
				    timeout_ms);
	if (r.code) {
		snprintf(msg, size, "staple %s: not in HAProxy: %s", path,
			 r.reason);
		return false;
	}
	snprintf(msg + used, size - used, "; pushed to HAProxy (%s)", sock);
	return true;
}

/* A remembered file that is still good: is HAProxy serving it? */
static bool sync_file(const char *sock, const char *path, X509 *leaf,
		      X509 *issuer, const struct sg_policy *policy,
		      long timeout_ms, char *msg, size_t size)
{
	char *data = NULL;
	size_t len = 0;
	bool ok;
	sg_result r =
		sg_read_file(path, SG_OCSP_MAX_RESPONSE_BYTES, &data, &len);

	if (r.code) {
		snprintf(msg, size, "staple %s: %s", path, r.reason);
		return false;
	}
	ok = sync_haproxy(sock, path, (unsigned char *)data, len, leaf, issuer,
			  policy, timeout_ms, false, msg, size);
	free(data);
	return ok;
}

/* One remembered file: fresh enough, or refreshed, or left alone. */
/* A refreshed staple for a certificate in the store also goes into its
 * live version, so that a rollback to it later restores a fresh one. */
static void keep_in_store(const char *state_dir, json_t *rec,
			  const struct sg_responder *resp)
{
	const char *lineage =
		json_string_value(json_object_get(rec, "lineage"));
	const char *cert = json_string_value(json_object_get(rec, "cert_path"));
	char live[PATH_MAX];

	if (lineage == NULL || cert == NULL)
		return;
	snprintf(live, sizeof(live), "%s/live/", state_dir);
	if (strncmp(cert, live, strlen(live)) == 0)
		sg_store_keep_staple(state_dir, lineage, resp->der, resp->len);
}

static bool refresh_one(const char *state_dir, json_t *rec, const char *cafile,
			long timeout_ms, const struct sg_policy *policy,
			char *msg, size_t size)
{
	const char *path = json_string_value(json_object_get(rec, "path"));
	const char *cert = json_string_value(json_object_get(rec, "cert_path"));
	const char *chain =
		json_string_value(json_object_get(rec, "chain_path"));
	const char *sock =
		json_string_value(json_object_get(rec, "haproxy_socket"));
	struct sg_material m;
	struct sg_certinfo info;
	struct sg_responder resp = {0};
	X509 *issuer = NULL;
	char why[SG_REASON_MAX];
	bool ok = false;
	sg_result r;

	if (!path || !cert) {
		snprintf(msg, size, "staple record without path or cert_path");
		return false;
	}
	r = sg_material_load(cert, chain && *chain ? chain : NULL, cafile, &m);
	if (r.code) {
		snprintf(msg, size, "staple %s: %s", path, r.reason);
		return false;
	}
	issuer = sg_material_issuer(&m);
	if (still_good(path, sg_material_leaf(&m), issuer, policy, why,
		       sizeof(why))) {
		snprintf(msg, size, "staple %s: %s", path, why);
		ok = !sock || sync_file(sock, path, sg_material_leaf(&m),
					issuer, policy, timeout_ms, msg, size);
	} else if (!sg_certinfo_read(sg_material_leaf(&m), &info).code) {
		if (info.ocsp_urls.n)
			sg_responder_check(sg_material_leaf(&m), issuer,
					   info.ocsp_urls.v[0], timeout_ms,
					   policy, &resp);
		/* Only a verified, fresh response may replace the file. */
		r = resp.ready ? sg_write_atomic(path, resp.der, resp.len, 0644)
			       : sg_err(SG_EINPUT, "%s",
					info.ocsp_urls.n ? resp.reason
							 : "no OCSP URL");
		ok = !r.code;
		if (ok)
			keep_in_store(state_dir, rec, &resp);
		snprintf(msg, size, "staple %s (%s): %s", path, why,
			 ok ? "refreshed" : r.reason);
		if (ok && sock)
			ok = sync_haproxy(sock, path, resp.der, resp.len,
					  sg_material_leaf(&m), issuer, policy,
					  timeout_ms, true, msg, size);
		sg_responder_free(&resp);
		sg_certinfo_free(&info);
	}
	X509_free(issuer);
	sg_material_free(&m);
	return ok;
}

/* Under the lineage's lock: a hook deploying a new version writes the
 * same file. */
static bool refresh_locked(const char *state_dir, json_t *rec,
			   const char *cafile, long timeout_ms,
			   const struct sg_policy *policy, char *msg,
			   size_t size)
{
	const char *lineage =
		json_string_value(json_object_get(rec, "lineage"));
	bool busy = false, ok;
	int fd = -1;
	sg_result r =
		lineage ? sg_lock_lineage(state_dir, lineage,
					  sg_now_ms() + timeout_ms, &fd, &busy)
			: sg_err(SG_EINPUT, "no lineage in it");

	if (r.code) {
		snprintf(msg, size, "staple record %s: %s",
			 lineage ? lineage : "?", r.reason);
		return busy; /* a busy lineage is refreshed next time */
	}
	ok = refresh_one(state_dir, rec, cafile, timeout_ms, policy, msg, size);
	close(fd);
	return ok;
}

sg_result sg_prestage_refresh(const char *state_dir, const char *cafile,
			      long timeout_ms, const struct sg_policy *policy,
			      struct sg_strlist *messages, int *failed)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], msg[1024];
	DIR *d;
	struct dirent *e;
	sg_result r;

	*failed = 0;
	snprintf(dir, sizeof(dir), "%s/staples", state_dir);
	r = sg_temp_swept_dir(dir, &d);
	if (d == NULL)
		return r;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char *text;
		size_t len;
		json_t *rec;

		/* Only "<lineage>.json": another run's temporary file (an empty
		 * one, when its writer was killed) is none of ours. */
		if (e->d_name[0] == '.' || n < 6 ||
		    strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (sg_read_file(path, 65536, &text, &len).code)
			continue;
		rec = json_loadb(text, len, 0, NULL);
		free(text);
		if (!json_is_object(rec)) {
			snprintf(msg, sizeof(msg),
				 "staple record %s: damaged (not a JSON "
				 "object), left as it is",
				 path);
			(*failed)++;
		} else if (!refresh_locked(state_dir, rec, cafile, timeout_ms,
					   policy, msg, sizeof(msg))) {
			(*failed)++;
		}
		sg_strlist_add(messages, msg);
		json_decref(rec);
	}
	closedir(d);
	return sg_ok();
}
