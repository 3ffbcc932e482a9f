#include "monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../preflight/bundle.h"
#include "config.h"
#include "../preflight/duration.h"
#include "../preflight/history.h"
#include "../preflight/prom.h"
#include "../preflight/record.h"
#include "../preflight/score.h"
#include "../preflight/scorelog.h"
#include "../preflight/strset.h"
#include "leaving.h"
#include "prestage.h"
#include "pending.h"
#include "responder_health.h"
#include "resume.h"
#include "signer_expiry.h"

const char *sg_nagios_name(enum sg_nagios s)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL",
					    "UNKNOWN"};

	return names[s <= SG_NAGIOS_UNKNOWN ? s : SG_NAGIOS_UNKNOWN];
}

/* A responder issuing responses valid over Firefox's 10 days: Firefox
 * counts them as expired 10 days after thisUpdate, so a server that
 * refreshes only near nextUpdate breaks there. */
static bool long_lived(const struct sg_staple *st, struct sg_monitor_target *j,
		       char why[SG_REASON_MAX])
{
	long validity = (long)(st->next_update - st->this_update);
	char v[32];

	if (validity <= SG_FIREFOX_MAX_LIFETIME_SEC || j->long_lived)
		return false;
	j->long_lived = true;
	sg_duration_format(validity, v, sizeof(v));
	snprintf(why + strlen(why), SG_REASON_MAX - strlen(why),
		 "; the responder issues responses valid for %s, over "
		 "Firefox's 10-day cap: it counts them as expired 10 days "
		 "after thisUpdate",
		 v);
	return true;
}

/* The target's state; its reason goes into why (judged[i].reason keeps
 * sg_text's copy: 10,000 arrays of 256 bytes were 2.6 MB). */
static enum sg_nagios judge(const struct sg_probe *p, long warn, long crit,
			    struct sg_monitor_target *j,
			    char why[SG_REASON_MAX])
{
	bool ms = sg_certinfo_must_staple(p->served), stapled = p->staple.valid;
	char d[32];

	j->webq96 = p->handshake_ok ? sg_webq96(ms, stapled) : 0;
	sg_duration_format(p->staple.seconds_left, d, sizeof(d));
	if (!p->handshake_ok) {
		snprintf(why, SG_REASON_MAX, "unreachable: %s", p->error);
		return SG_NAGIOS_CRITICAL;
	}
	/* Stapling is impossible, not missing: no server can fetch a
	 * response for a certificate that names no responder. */
	if (!stapled && p->served->ocsp_urls.n == 0) {
		j->no_ocsp_url = true;
		snprintf(why, SG_REASON_MAX, "%s",
			 ms ? "Must-Staple certificate that can never be "
			      "stapled: " SG_NO_OCSP_URL
			    : SG_NO_OCSP_URL ", WEBQ-96 0 is the most it can "
					     "score");
		return ms ? SG_NAGIOS_CRITICAL : SG_NAGIOS_OK;
	}
	if (ms && !stapled) {
		snprintf(why, SG_REASON_MAX,
			 "Must-Staple certificate without a valid staple: %s",
			 p->staple.reason);
		return SG_NAGIOS_CRITICAL;
	}
	if (!stapled) {
		snprintf(why, SG_REASON_MAX, "not stapling: %s",
			 p->staple.reason);
		return SG_NAGIOS_WARNING;
	}
	snprintf(why, SG_REASON_MAX, "staple has %s left", d);
	if (p->staple.seconds_left < crit)
		return SG_NAGIOS_CRITICAL;
	if (p->staple.seconds_left < warn)
		return SG_NAGIOS_WARNING;
	return long_lived(&p->staple, j, why) ? SG_NAGIOS_WARNING
					      : SG_NAGIOS_OK;
}

/* What judge leaves out: the OCSP signer's remaining validity and, with
 * --responders, the responder's health. */
static enum sg_nagios judge_responder(struct sg_monitor *m, size_t i,
				      enum sg_nagios state,
				      char why[SG_REASON_MAX])
{
	struct sg_monitor_target *j = &m->judged[i];
	const struct sg_rhealth *h = m->health ? &m->health[i] : NULL;
	const struct sg_staple *served = &m->probes[i].staple;
	enum sg_nagios s;
	size_t used;

	j->signer = served->signer_known	  ? served
		    : h && h->staple.signer_known ? &h->staple
						  : NULL;
	if (j->signer) {
		s = sg_signer_judge(j->signer, time(NULL), m->signer_warn_sec,
				    m->signer_crit_sec, why, SG_REASON_MAX);
		state = s > state ? s : state;
	}
	if (h == NULL || !h->checked)
		return state;
	if (sg_rhealth_bad(h)) {
		used = strlen(why);
		snprintf(why + used, SG_REASON_MAX - used, "; %s", h->reason);
		return state > SG_NAGIOS_WARNING ? state : SG_NAGIOS_WARNING;
	}
	if (long_lived(&h->staple, j, why) && state < SG_NAGIOS_WARNING)
		state = SG_NAGIOS_WARNING;
	return state;
}

static json_t *responder_json(const struct sg_monitor *m, size_t i)
{
	const struct sg_rhealth *h = m->health ? &m->health[i] : NULL;

	if (h == NULL || !h->checked)
		return json_null();
	return json_pack(
		"{s:s, s:I, s:I, s:i, s:b, s:I, s:b, s:s}", "url", h->url,
		"latency_ms", (json_int_t)h->latency_ms, "http_status",
		(json_int_t)h->http_status, "ocsp_status", h->ocsp_status,
		"valid", h->staple.valid, "validity_seconds",
		(json_int_t)h->validity_sec, "next_update_after_not_after",
		h->beyond_not_after, "reason", h->reason);
}

static json_t *target_record(const struct sg_monitor *m, size_t i)
{
	const struct sg_probe *p = &m->probes[i];
	const struct sg_staple *signer = m->judged[i].signer;

	return json_pack(
		"{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:I, s:i, s:s, s:s, s:o, "
		"s:o}",
		"target", m->targets[i].spec, "servername",
		m->targets[i].servername, "address", p->address,
		"probe_success", p->handshake_ok, "must_staple",
		sg_certinfo_must_staple(p->served), "ocsp_url",
		p->served->ocsp_urls.n > 0, "stapled", p->staple.valid,
		"seconds_left", (json_int_t)p->staple.seconds_left, "webq96",
		m->judged[i].webq96, "state",
		sg_nagios_name(m->judged[i].state), "reason",
		m->judged[i].reason, "signer",
		signer ? sg_record_signer(signer) : json_null(), "responder",
		responder_json(m, i));
}

/* Writes obj as compact JSON without its closing brace (keep_close
 * false) or without its opening one (keep_close true), to splice
 * members around it. */
static bool dump_part(json_t *obj, bool keep_close, FILE *f)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t len = s ? strlen(s) : 0;
	bool ok = len >= 2 &&
		  fwrite(keep_close ? s + 1 : s, 1, len - 1, f) == len - 1;

	free(s);
	json_decref(obj);
	return ok;
}

/* One JSON value, as a member or array element. */
static bool dump_value(json_t *v, FILE *f)
{
	bool ok = v && json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY) == 0;

	json_decref(v);
	return ok;
}

/* The monitor record, the same JSON a whole tree would give, written
 * into the score log one target at a time: at 10,000 targets the tree
 * took more memory than the probes, and the line alone 4 MB. */
static bool write_record(FILE *f, const void *ctx)
{
	const struct sg_monitor *m = ctx;
	const char *sep = "";
	bool ok =
		dump_part(json_pack("{s:i, s:s, s:o, s:s}", "version",
				    SG_RECORD_VERSION, "kind", "monitor",
				    "generated_at", sg_record_time(time(NULL)),
				    "state", sg_nagios_name(m->state)),
			  false, f) &&
		fputs(",\"targets\":[", f) >= 0;

	for (size_t i = 0; ok && i < m->n; i++)
		ok = (i == 0 || fputc(',', f) != EOF) &&
		     dump_value(target_record(m, i), f);
	ok = ok && fputs("],\"must_staple_targets\":[", f) >= 0;
	for (size_t i = 0; ok && i < m->n; i++) {
		if (!sg_leaving_served_ms(&m->probes[i]))
			continue;
		ok = fputs(sep, f) >= 0 &&
		     dump_value(json_string(m->targets[i].spec), f);
		sep = ",";
	}
	return ok && fputs("],", f) >= 0 &&
	       dump_part(json_pack("{s:I, s:s}", "pending",
				   (json_int_t)m->pending, "summary",
				   m->summary),
			 true, f);
}

static void add_metric_family(struct sg_prom *p, const struct sg_monitor *m,
			      const char *name, const char *help, int which)
{
	sg_prom_family(p, name, help);
	for (size_t i = 0; i < m->n; i++) {
		const struct sg_probe *pr = &m->probes[i];
		double v = which == 0	? (double)pr->staple.seconds_left
			   : which == 1 ? pr->staple.valid
			   : which == 2 ? sg_certinfo_must_staple(pr->served)
			   : which == 3 ? m->judged[i].webq96
			   : which == 4 ? pr->handshake_ok
					: pr->served->ocsp_urls.n > 0;

		if (which == 0 && !pr->staple.valid)
			continue; /* no staple, no remaining time */
		if (which == 5 && !pr->handshake_ok)
			continue; /* no certificate seen */
		sg_prom_sample(p, name, m->targets[i].spec,
			       m->targets[i].servername, v);
	}
}

/* The signer and responder families: a sample only for a target where
 * there is something to measure. */
typedef bool (*sample_fn)(const struct sg_monitor *m, size_t i, double *v);

static void add_family_of(struct sg_prom *p, const struct sg_monitor *m,
			  const char *name, const char *help, sample_fn get)
{
	double v;

	sg_prom_family(p, name, help);
	for (size_t i = 0; i < m->n; i++)
		if (get(m, i, &v))
			sg_prom_sample(p, name, m->targets[i].spec,
				       m->targets[i].servername, v);
}

static bool signer_left(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_staple *s = m->judged[i].signer;

	*v = s ? (double)(s->signer_not_after - time(NULL)) : 0;
	return s != NULL;
}

static bool signer_delegated(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_staple *s = m->judged[i].signer;

	*v = s && s->signer_delegated;
	return s != NULL;
}

static const struct sg_rhealth *asked(const struct sg_monitor *m, size_t i)
{
	return m->health && m->health[i].checked ? &m->health[i] : NULL;
}

static bool responder_up(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_rhealth *h = asked(m, i);

	*v = h && h->staple.valid;
	return h != NULL;
}

static bool responder_latency(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_rhealth *h = asked(m, i);

	*v = h ? h->latency_ms / 1000.0 : 0;
	return h != NULL;
}

static bool responder_http(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_rhealth *h = asked(m, i);

	*v = h ? (double)h->http_status : 0;
	return h && h->http_status;
}

static bool responder_ocsp(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_rhealth *h = asked(m, i);

	*v = h ? h->ocsp_status : 0;
	return h && h->ocsp_status >= 0;
}

static bool responder_validity(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_rhealth *h = asked(m, i);

	*v = h ? (double)h->validity_sec : 0;
	return h && h->staple.valid;
}

static bool responder_beyond(const struct sg_monitor *m, size_t i, double *v)
{
	const struct sg_rhealth *h = asked(m, i);

	*v = h && h->beyond_not_after;
	return h && h->staple.valid;
}

static void add_responder_metrics(struct sg_prom *p, const struct sg_monitor *m)
{
	add_family_of(p, m, "staplegate_ocsp_signer_seconds_remaining",
		      "Seconds until the OCSP signing certificate's notAfter.",
		      signer_left);
	add_family_of(p, m, "staplegate_ocsp_signer_delegated",
		      "1 when a delegated responder certificate signs, 0 when "
		      "the issuer itself.",
		      signer_delegated);
	if (m->health == NULL)
		return; /* responders not asked */
	add_family_of(p, m, "staplegate_responder_up",
		      "1 when the responder answered with a valid response.",
		      responder_up);
	add_family_of(p, m, "staplegate_responder_latency_seconds",
		      "Time the responder took to answer (or fail).",
		      responder_latency);
	add_family_of(p, m, "staplegate_responder_http_status",
		      "HTTP status of the responder's answer.", responder_http);
	add_family_of(p, m, "staplegate_responder_ocsp_status",
		      "OCSPResponseStatus: 0 successful, 2 internalError, 3 "
		      "tryLater.",
		      responder_ocsp);
	add_family_of(p, m, "staplegate_responder_validity_seconds",
		      "nextUpdate - thisUpdate of the responder's answer "
		      "(Firefox caps it at 10 days).",
		      responder_validity);
	add_family_of(p, m, "staplegate_responder_next_update_after_not_after",
		      "1 when the answer's nextUpdate lies beyond the "
		      "certificate's notAfter.",
		      responder_beyond);
}

static sg_result write_metrics(const struct sg_monitor *m, const char *path)
{
	struct sg_prom *p = sg_prom_new();
	sg_result r;

	if (p == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	add_metric_family(p, m, "staplegate_staple_seconds_remaining",
			  "Seconds until the served staple's nextUpdate.", 0);
	add_metric_family(p, m, "staplegate_stapled",
			  "1 when the target served a valid staple (WEBQ-91).",
			  1);
	add_metric_family(p, m, "staplegate_must_staple",
			  "1 when the served certificate is Must-Staple.", 2);
	add_metric_family(p, m, "staplegate_webq96_score",
			  "WEBQ-96 score of the target (0, 30, 60 or 100).", 3);
	add_metric_family(p, m, "staplegate_probe_success",
			  "1 when the TLS handshake completed.", 4);
	add_metric_family(p, m, "staplegate_ocsp_url",
			  "1 when the served certificate names an OCSP "
			  "responder (0: nothing to staple).",
			  5);
	add_responder_metrics(p, m);
	sg_prom_family(p, "staplegate_pending_deployments",
		       "Refused certificates waiting for staplegate resume.");
	sg_prom_sample(p, "staplegate_pending_deployments", NULL, NULL,
		       (double)m->pending);
	sg_prom_family(p, "staplegate_last_run_timestamp_seconds",
		       "When staplegate monitor last ran.");
	sg_prom_sample(p, "staplegate_last_run_timestamp_seconds", NULL, NULL,
		       (double)time(NULL));
	r = sg_prom_write(p, path);
	sg_prom_free(p);
	return r;
}

/* A damaged entry counts as pending (it stands for a refused
 * certificate nobody can resume) and is named in the summary. */
static void count_pending(const struct sg_config *cfg, struct sg_monitor *m)
{
	json_t *list = NULL, *e;
	size_t i;

	if (sg_pending_list(cfg->state_dir, &list).code == SG_OK)
		json_array_foreach (list, i, e) {
			m->pending++;
			m->pending_urgent +=
				json_is_true(json_object_get(e, "urgent"));
			m->pending_settle_failed +=
				json_integer_value(json_object_get(
					e, "settle_failures")) > 0;
			if (json_is_true(json_object_get(e, "damaged")) &&
			    m->pending_damaged++ == 0)
				snprintf(m->damaged, sizeof(m->damaged), "%s",
					 json_string_value(
						 json_object_get(e, "reason")));
		}
	json_decref(list);
}

/* Not stapling is no fault for these, but the operator should see why
 * they score 0 without reading the record. */
static void summarize_no_ocsp(struct sg_monitor *m)
{
	size_t k = 0, first = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->judged[i].no_ocsp_url && k++ == 0)
			first = i;
	if (k)
		snprintf(m->summary + strlen(m->summary),
			 sizeof(m->summary) - strlen(m->summary),
			 "; %zu with %s (%s%s)", k, SG_NO_OCSP_URL,
			 m->targets[first].spec, k > 1 ? ", ..." : "");
}

/* Leaving Must-Staple: stapling may be turned off only once no target
 * serves a Must-Staple certificate, so they are named: the first
 * MONITOR_MS_NAMES on the plugin line, every one in the record and the
 * staplegate_must_staple metric. */
#define MONITOR_MS_NAMES 16

static void summarize_must_staple(struct sg_monitor *m)
{
	size_t size = sizeof(m->summary), used = strlen(m->summary), named = 0;
	const char *sep = ": ";

	for (size_t i = 0; i < m->n; i++)
		m->must_staple += sg_leaving_served_ms(&m->probes[i]);
	if (m->must_staple == 0) {
		snprintf(m->summary + used, size - used,
			 "; no target serves a Must-Staple certificate");
		return;
	}
	used += snprintf(m->summary + used, size - used,
			 "; Must-Staple served by %zu of %zu targets",
			 m->must_staple, m->n);
	for (size_t i = 0; i < m->n && used < size; i++) {
		if (!sg_leaving_served_ms(&m->probes[i]))
			continue;
		if (named++ == MONITOR_MS_NAMES) {
			snprintf(m->summary + used, size - used,
				 ", and %zu more (see the record)",
				 m->must_staple - MONITOR_MS_NAMES);
			break;
		}
		used += snprintf(m->summary + used, size - used, "%s%s", sep,
				 m->targets[i].spec);
		sep = ", ";
	}
}

static void summarize(struct sg_monitor *m)
{
	size_t counts[4] = {0};

	for (size_t i = 0; i < m->n; i++)
		counts[m->judged[i].state]++;
	snprintf(m->summary, sizeof(m->summary),
		 "%zu targets: %zu ok, %zu warning, %zu critical; %zu pending "
		 "deployments%s",
		 m->n, counts[0], counts[1], counts[2], m->pending,
		 m->pending_urgent ? " (served certificate expires within 7 "
				     "days)"
				   : "");
	if (m->pending_damaged)
		snprintf(m->summary + strlen(m->summary),
			 sizeof(m->summary) - strlen(m->summary),
			 ", %zu damaged (%s)", m->pending_damaged, m->damaged);
	if (m->pending_settle_failed)
		snprintf(m->summary + strlen(m->summary),
			 sizeof(m->summary) - strlen(m->summary),
			 ", %zu after a settle failure (backing off)",
			 m->pending_settle_failed);
	summarize_no_ocsp(m);
	for (size_t i = 0; i < m->n; i++)
		if (m->judged[i].state == m->state &&
		    m->state != SG_NAGIOS_OK) {
			snprintf(m->summary + strlen(m->summary),
				 sizeof(m->summary) - strlen(m->summary),
				 "; %s: %s", m->targets[i].spec,
				 m->judged[i].reason);
			break;
		}
	if (m->refresh_failed)
		snprintf(m->summary + strlen(m->summary),
			 sizeof(m->summary) - strlen(m->summary),
			 "; staple refresh failed: %s", m->refresh_reason);
	summarize_must_staple(m);
}

/* On stderr with the other notes, and the first one in the summary. */
static void refresh_failed(struct sg_monitor *m, const char *why)
{
	if (m->refresh_failed++ == 0)
		snprintf(m->refresh_reason, sizeof(m->refresh_reason), "%s",
			 why);
	sg_strlist_add(&m->notes, why);
}

/* Pre-staged staple files are refreshed here too, at half their
 * validity (and pushed into HAProxy where configured); only the ones
 * that needed it and did not get it are news, and a WARNING: the server
 * staples from that file, so its staple ages from now on. */
static void refresh_staples(const struct sg_config *cfg, struct sg_monitor *m)
{
	struct sg_policy policy = sg_config_policy(cfg);
	struct sg_strlist msgs = {0};
	int failed = 0;
	sg_result r = sg_prestage_refresh(cfg->state_dir, cfg->cafile,
					  cfg->timeout_sec * 1000L, &policy,
					  &msgs, &failed);

	if (r.code)
		refresh_failed(m, r.reason);
	for (size_t i = 0; failed && i < msgs.n; i++)
		if (!strstr(msgs.v[i], "still fresh") &&
		    !strstr(msgs.v[i], "refreshed"))
			refresh_failed(m, msgs.v[i]);
	sg_strlist_free(&msgs);
	if (m->refresh_failed && m->state < SG_NAGIOS_WARNING)
		m->state = SG_NAGIOS_WARNING;
}

/* The score log record, the history and the metrics file: each failure
 * is reported, none stops the others. */
static void persist(const struct sg_config *cfg,
		    const struct sg_monitor_opts *o, struct sg_monitor *m)
{
	time_t now = time(NULL);
	int fd;
	sg_result r = sg_scorelog_open(cfg->record_path, &fd);

	if (!r.code)
		r = sg_scorelog_append_stream(fd, cfg->record_path,
					      write_record, m, &m->notes);
	if (fd >= 0)
		close(fd);
	if (r.code)
		sg_strlist_add(&m->errors, r.reason);
	for (size_t i = 0; i < m->n; i++) {
		r = sg_history_append(cfg->state_dir, &m->targets[i], now,
				      m->probes[i].handshake_ok &&
					      m->probes[i].staple.valid,
				      &m->notes);
		if (r.code) {
			sg_strlist_add(&m->errors, r.reason);
			break;
		}
	}
	if (o->prom_path && (r = write_metrics(m, o->prom_path)).code)
		sg_strlist_add(&m->errors, r.reason);
}

/* Records that could not be written are news for the operator, not
 * only a line on stderr: the history gate lives on them. The state is
 * WARNING at least and the summary names the first failure. */
static void report_unwritten(struct sg_monitor *m)
{
	if (m->errors.n == 0)
		return;
	if (m->state < SG_NAGIOS_WARNING)
		m->state = SG_NAGIOS_WARNING;
	snprintf(m->summary + strlen(m->summary),
		 sizeof(m->summary) - strlen(m->summary),
		 "; records not written: %s", m->errors.v[0]);
}

/* --signer-warn/--signer-crit, else the config's, else the defaults
 * (which sg_config_defaults put there). */
static sg_result signer_thresholds(const struct sg_monitor_opts *o,
				   const struct sg_config *cfg,
				   struct sg_monitor *m)
{
	m->signer_warn_sec = o->signer_warn_sec >= 0 ? o->signer_warn_sec
						     : cfg->signer_warn_sec;
	m->signer_crit_sec = o->signer_crit_sec >= 0 ? o->signer_crit_sec
						     : cfg->signer_crit_sec;
	if (m->signer_crit_sec > m->signer_warn_sec)
		return sg_err(SG_EINPUT,
			      "signer-crit (%ld s) must not exceed "
			      "signer-warn (%ld s)",
			      m->signer_crit_sec, m->signer_warn_sec);
	return sg_ok();
}

sg_result sg_monitor_run(const struct sg_config *cfg,
			 const struct sg_monitor_opts *o, struct sg_monitor *m)
{
	sg_result r;

	memset(m, 0, sizeof(*m));
	m->state = SG_NAGIOS_UNKNOWN;
	r = sg_config_targets(cfg, &m->targets, &m->n);
	if (!r.code && m->n == 0)
		r = sg_err(SG_EINPUT, "no targets configured");
	if (!r.code)
		r = signer_thresholds(o, cfg, m);
	if (!r.code) {
		m->probes = calloc(m->n, sizeof(*m->probes));
		m->judged = calloc(m->n, sizeof(*m->judged));
		if (o->responders || cfg->responder_health)
			m->health = calloc(m->n, sizeof(*m->health));
		r = m->probes && m->judged
			    ? sg_config_probe(cfg, m->targets, m->n, m->probes,
					      m->health)
			    : sg_err(SG_ENOMEM, "out of memory");
	}
	if (!r.code) {
		m->state = SG_NAGIOS_OK;
		for (size_t i = 0; i < m->n; i++) {
			char why[SG_REASON_MAX] = "";

			m->judged[i].state =
				judge(&m->probes[i], o->warn_sec, o->crit_sec,
				      &m->judged[i], why);
			m->judged[i].state =
				judge_responder(m, i, m->judged[i].state, why);
			m->judged[i].reason = sg_text(why);
			if (m->judged[i].state > m->state)
				m->state = m->judged[i].state;
		}
		count_pending(cfg, m);
		if (m->pending && m->state < SG_NAGIOS_WARNING)
			m->state = SG_NAGIOS_WARNING;
		if (m->pending_urgent)
			m->state = SG_NAGIOS_CRITICAL;
		refresh_staples(cfg, m);
		summarize(m);
		persist(cfg, o, m);
		report_unwritten(m);
	}
	return r;
}

void sg_monitor_free(struct sg_monitor *m)
{
	if (m->probes)
		sg_probe_free(m->probes, m->n);
	free(m->probes);
	free(m->judged);
	free(m->health);
	sg_targets_free(m->targets, m->n);
	sg_strlist_free(&m->errors);
	sg_strlist_free(&m->notes);
	memset(m, 0, sizeof(*m));
}
