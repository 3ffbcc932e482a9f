#include "record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "staple.h"

json_t *sg_record_time(time_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	sg_time_iso(t, buf);
	return json_string(buf);
}

static json_t *strlist_json(const struct sg_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

json_t *sg_record_cert(const struct sg_certinfo *c)
{
	json_t *features = json_array();

	for (size_t i = 0; features && i < c->features.n; i++)
		json_array_append_new(features,
				      json_integer(c->features.values[i]));
	return json_pack(
		"{s:s, s:o, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "subject",
		c->subject, "dns_names", strlist_json(&c->dns_names), "serial",
		c->serial, "sha256", c->sha256, "must_staple",
		sg_certinfo_must_staple(c), "tls_features", features,
		"tls_feature_error",
		c->feature_error.code ? json_string(c->feature_error.reason)
				      : json_null(),
		"not_before", sg_record_time(c->not_before), "not_after",
		sg_record_time(c->not_after), "ocsp_urls",
		strlist_json(&c->ocsp_urls));
}

static json_t *nullable_string(bool present, const char *s)
{
	return present ? json_string(s) : json_null();
}

json_t *sg_record_signer(const struct sg_staple *st)
{
	if (!st->signer_known)
		return json_null();
	return json_pack("{s:b, s:s, s:o}", "delegated", st->signer_delegated,
			 "subject", st->signer_subject, "not_after",
			 sg_record_time(st->signer_not_after));
}

static json_t *target_json(const struct sg_report *rep, size_t i)
{
	const struct sg_probe *p = &rep->probes[i];
	const struct sg_target_score *s = &rep->scores[i];
	const struct sg_staple *st = &p->staple;
	bool hs = p->handshake_ok;
	json_t *t = json_pack(
		"{s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:b, s:b, s:b, s:s}",
		"target", rep->targets[i].spec, "address", p->address,
		"servername", nullable_string(p->servername[0], p->servername),
		"connected", p->connected, "tls_version",
		nullable_string(hs, p->tls_version), "served_sha256",
		nullable_string(hs, p->served->sha256), "served_is_new_cert",
		rep->mode == SG_MODE_CHECK && hs
			? json_boolean(strcmp(p->served->sha256,
					      rep->cert.sha256) == 0)
			: json_null(),
		"staple_present", st->present, "staple_valid", st->valid,
		"staple_fresh", st->fresh, "cert_status",
		sg_cert_status_name(st->status));

	if (t == NULL)
		return NULL;
	json_object_set_new(t, "this_update", sg_record_time(st->this_update));
	json_object_set_new(t, "next_update", sg_record_time(st->next_update));
	json_object_set_new(t, "seconds_left",
			    st->next_update ? json_integer(st->seconds_left)
					    : json_null());
	json_object_set_new(t, "signer", sg_record_signer(st));
	json_object_set_new(t, "attempts", json_integer(p->attempts));
	json_object_set_new(t, "handshakes", json_integer(p->attempts));
	json_object_set_new(t, "handshakes_stapled", json_integer(p->stapled));
	json_object_set_new(t, "key_type_note",
			    nullable_string(p->key_note[0], p->key_note));
	json_object_set_new(t, "chain_valid",
			    hs ? json_boolean(p->chain_valid) : json_null());
	json_object_set_new(t, "webq91", json_boolean(s->stapled));
	json_object_set_new(t, "webq96", json_integer(s->webq96));
	json_object_set_new(t, "ready", json_boolean(s->ready));
	json_object_set_new(t, "reason", json_string(s->reason));
	return t;
}

/* The members before "targets". */
static json_t *record_head(const struct sg_report *rep)
{
	return json_pack("{s:i, s:s, s:o, s:o}", "version", SG_RECORD_VERSION,
			 "mode", sg_report_mode_name(rep->mode), "generated_at",
			 sg_record_time(rep->generated_at), "cert",
			 sg_record_cert(sg_report_cert(rep)));
}

/* The members after "targets". */
static json_t *record_tail(const struct sg_report *rep)
{
	return json_pack("{s:{s:b, s:s, s:o}, s:i}", "verdict", "allow",
			 rep->allow, "reason", rep->reason, "hint",
			 nullable_string(rep->hint[0], rep->hint), "confirm",
			 rep->confirm);
}

json_t *sg_record_build(const struct sg_report *rep)
{
	json_t *targets = json_array(), *rec = record_head(rep),
	       *tail = record_tail(rep);

	for (size_t i = 0; targets && i < rep->n; i++)
		json_array_append_new(targets, target_json(rep, i));
	if (rec == NULL || tail == NULL || targets == NULL ||
	    json_object_set_new(rec, "targets", targets) != 0 ||
	    json_object_update(rec, tail) != 0) {
		json_decref(rec);
		rec = NULL;
	}
	json_decref(tail);
	return rec;
}

/* Writes s with every line after the first indented by pad more. */
static bool put_indented(const char *s, int pad, FILE *out)
{
	for (; *s; s++)
		if (fputc(*s, out) == EOF ||
		    (*s == '\n' && fprintf(out, "%*s", pad, "") < 0))
			return false;
	return true;
}

/* Writes obj indented by 2 as json_dumpf does, without its opening
 * (skip_open) or closing brace and the line break before it. */
static bool put_part(json_t *obj, bool skip_open, FILE *out)
{
	char *s = obj ? json_dumps(obj, JSON_INDENT(2)) : NULL;
	size_t len = s ? strlen(s) : 0;
	bool ok =
		len >= 4 && (skip_open ? fputs(s + 2, out) >= 0
				       : fwrite(s, 1, len - 2, out) == len - 2);

	free(s);
	json_decref(obj);
	return ok;
}

int sg_record_print(const struct sg_report *rep, FILE *out)
{
	bool ok = put_part(record_head(rep), false, out) &&
		  fputs(",\n  \"targets\": [", out) >= 0;

	for (size_t i = 0; ok && i < rep->n; i++) {
		json_t *t = target_json(rep, i);
		char *s = t ? json_dumps(t, JSON_INDENT(2)) : NULL;

		ok = s && fputs(i ? ",\n    " : "\n    ", out) >= 0 &&
		     put_indented(s, 4, out);
		free(s);
		json_decref(t);
	}
	ok = ok && fputs(rep->n ? "\n  ],\n" : "],\n", out) >= 0 &&
	     put_part(record_tail(rep), true, out);
	return ok ? 0 : -1;
}
