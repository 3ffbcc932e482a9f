#include "gate_record.h"

#include <time.h>

#include "../preflight/record.h"

static const char *const action_names[] = {
	[SG_ACTION_REFUSED] = "refused",
	[SG_ACTION_DEPLOYED] = "deployed",
	[SG_ACTION_ALLOWED] = "allowed",
	[SG_ACTION_DRY_RUN] = "dry-run",
	[SG_ACTION_ROLLED_BACK] = "rolled-back",
	[SG_ACTION_DEADLINE] = "deadline",
	[SG_ACTION_DEPLOY_FAILED] = "deploy-failed",
	[SG_ACTION_SETTLE_FAILED] = "settle-failed",
	[SG_ACTION_INTERRUPTED] = "interrupted",
	[SG_ACTION_STORE_FAILED] = "store-failed",
	[SG_ACTION_STAPLE_OUT_FAILED] = "staple-out-failed",
};

const char *sg_gate_action_name(enum sg_gate_action a)
{
	return a < sizeof(action_names) / sizeof(action_names[0])
		       ? action_names[a]
		       : "unknown";
}

bool sg_gate_action_ok(enum sg_gate_action a)
{
	return a == SG_ACTION_DEPLOYED || a == SG_ACTION_ALLOWED ||
	       a == SG_ACTION_DRY_RUN;
}

static json_t *strings(const struct sg_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; l && a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *responder_json(const struct sg_responder *r)
{
	if (r == NULL)
		return json_null();
	return json_pack("{s:s, s:b, s:I, s:s, s:o}", "url", r->url, "ready",
			 r->ready, "http_status", (json_int_t)r->http_status,
			 "reason", r->reason, "seconds_left",
			 r->staple.next_update
				 ? json_integer(r->staple.seconds_left)
				 : json_null());
}

/* Where the previous, Must-Staple, certificate was seen; null when the
 * renewal does not leave Must-Staple. */
static json_t *previous_ms_json(const struct sg_gate_facts *f)
{
	json_t *targets;

	if (f->leaving == NULL || !f->leaving->leaving)
		return json_null();
	targets = json_array();
	for (size_t i = 0; f->rep && targets && i < f->rep->n; i++)
		if (sg_leaving_served_ms(&f->rep->probes[i]))
			json_array_append_new(
				targets, json_string(f->rep->targets[i].spec));
	return json_pack("{s:b, s:o}", "store", f->leaving->in_store, "targets",
			 targets);
}

/* The fields both lines carry. */
static void add_common(json_t *rec, const struct sg_gate_facts *f,
		       const char *kind)
{
	json_object_set_new(rec, "version", json_integer(SG_RECORD_VERSION));
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "run_id", json_string(f->run_id));
	json_object_set_new(rec, "client",
			    json_string(sg_client_name(f->nc->client)));
	json_object_set_new(rec, "lineage", json_string(f->nc->lineage));
}

json_t *sg_gate_decision_json(const struct sg_gate_facts *f)
{
	json_t *rec = f->rep ? sg_record_build(f->rep) : json_object();

	if (rec == NULL)
		return NULL;
	if (f->rep == NULL) {
		json_object_set_new(rec, "generated_at",
				    sg_record_time(time(NULL)));
		json_object_set_new(
			rec, "mode",
			json_string(sg_report_mode_name(SG_MODE_CHECK)));
		json_object_set_new(rec, "cert", sg_record_cert(f->cert));
		json_object_set_new(rec, "targets", json_array());
	}
	add_common(rec, f, "decision");
	/* The certificate's own names, whatever the client passed on
	 * (lego and acme.sh name only the main domain, resume none). */
	json_object_set_new(rec, "domains",
			    strings(f->cert->dns_names.n ? &f->cert->dns_names
							 : &f->nc->domains));
	json_object_set_new(rec, "must_staple",
			    json_boolean(sg_certinfo_must_staple(f->cert)));
	json_object_set_new(rec, "decision",
			    json_string(f->allow ? "allow" : "refuse"));
	json_object_set_new(rec, "dry_run", json_boolean(f->dry_run));
	json_object_set_new(rec, "responder", responder_json(f->responder));
	json_object_set_new(rec, "errors", strings(f->errors));
	json_object_set_new(rec, "leaving_must_staple",
			    json_boolean(f->leaving && f->leaving->leaving));
	json_object_set_new(rec, "previous_must_staple", previous_ms_json(f));
	/* The gate's reason is the verdict, whatever the engine said. */
	json_object_set_new(rec, "verdict",
			    json_pack("{s:b, s:s}", "allow", f->allow, "reason",
				      f->reason));
	return rec;
}

static json_t *settle_json(const struct sg_gate_outcome *o)
{
	json_t *a;

	if (o->settle == NULL)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && i < o->n; i++) {
		const struct sg_settle_target *s = &o->settle[i];

		json_array_append_new(
			a, json_pack("{s:s, s:s, s:b, s:b, s:i, s:s}", "target",
				     o->targets[i].spec, "servername",
				     o->targets[i].servername, "settled",
				     s->settled, "serving_new_cert",
				     s->serving_new, "handshakes",
				     s->handshakes, "reason", s->reason));
	}
	return a;
}

static json_t *status_json(int status)
{
	return status < 0 ? json_null() : json_integer(status);
}

json_t *sg_gate_outcome_json(const struct sg_gate_facts *f,
			     const struct sg_gate_outcome *o)
{
	json_t *rec = json_object();

	if (rec == NULL)
		return NULL;
	add_common(rec, f, "outcome");
	json_object_set_new(rec, "generated_at", sg_record_time(time(NULL)));
	json_object_set_new(rec, "action",
			    json_string(sg_gate_action_name(o->action)));
	json_object_set_new(rec, "deploy_exit_status",
			    status_json(o->deploy_exit_status));
	json_object_set_new(rec, "rollback_exit_status",
			    status_json(o->rollback_exit_status));
	json_object_set_new(rec, "settle_seconds",
			    o->settle ? json_real(o->settle_ms / 1000.0)
				      : json_null());
	json_object_set_new(rec, "settle", settle_json(o));
	json_object_set_new(rec, "reason", json_string(o->reason));
	json_object_set_new(rec, "deadline_phase",
			    o->ran_out ? json_string(o->ran_out) : json_null());
	return rec;
}
