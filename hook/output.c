#include "output.h"

#include <string.h>
#include <time.h>

#include "../preflight/duration.h"
#include "../preflight/record.h"

static void print_cert(const struct sg_report *rep, FILE *out)
{
	const struct sg_certinfo *c = sg_report_cert(rep);
	const char *what = rep->mode == SG_MODE_CHECK ? "new certificate"
						      : "served certificate";

	if (c->sha256[0] == '\0')
		return;
	fprintf(out, "%s: %s, serial %s, sha256 %s\n", what, c->subject,
		c->serial, c->sha256);
	fprintf(out, "  Must-Staple: %s",
		c->features.must_staple	     ? "yes"
		: sg_certinfo_must_staple(c) ? "yes (by its issuer's TLS "
					       "Feature)"
					     : "no");
	if (c->features.present) {
		fputs(" (TLS features:", out);
		for (size_t i = 0; i < c->features.n; i++)
			fprintf(out, " %d", c->features.values[i]);
		fputs(")", out);
	}
	if (c->feature_error.code)
		fprintf(out, " [%s]", c->feature_error.reason);
	fprintf(out, ", OCSP: %s\n",
		c->ocsp_urls.n ? c->ocsp_urls.v[0] : "none");
}

/* Who signed the staple: a delegated responder's expiry breaks every
 * staple it signed at once, so it is shown with the time it has left. */
static void print_signer(const struct sg_staple *st, FILE *out)
{
	char when[32], left[32];
	long rem = (long)(st->signer_not_after - time(NULL));

	if (!st->signer_known)
		return;
	sg_time_iso(st->signer_not_after, when);
	sg_duration_format(rem > 0 ? rem : -rem, left, sizeof(left));
	fprintf(out, "  OCSP signer: %s %s, notAfter %s (%s %s)\n",
		st->signer_delegated ? "delegated responder"
				     : "the issuer itself",
		st->signer_subject, when, left, rem > 0 ? "left" : "ago");
}

static void print_target(const struct sg_report *rep, size_t i, FILE *out)
{
	const struct sg_probe *p = &rep->probes[i];
	const struct sg_target_score *s = &rep->scores[i];
	char left[32] = "-";

	if (p->staple.next_update)
		sg_duration_format(p->staple.seconds_left, left, sizeof(left));
	fprintf(out, "%-22s %-24s %-20s %5d  %-7s %-8s %s",
		rep->targets[i].spec, p->address[0] ? p->address : "-",
		p->servername[0] ? p->servername : "(no SNI)", s->webq96,
		s->stapled ? "yes" : "no", left, s->reason);
	if (p->attempts > 1)
		fprintf(out, " (%d handshakes, %d stapled)", p->attempts,
			p->stapled);
	fputc('\n', out);
	print_signer(&p->staple, out);
}

void sg_output_human(const struct sg_report *rep, FILE *out)
{
	print_cert(rep, out);
	fprintf(out, "%-22s %-24s %-20s %5s  %-7s %-8s %s\n", "TARGET",
		"ADDRESS", "SNI", "WEBQ96", "STAPLED", "LEFT", "REASON");
	for (size_t i = 0; i < rep->n; i++)
		print_target(rep, i, out);
	if (rep->mode == SG_MODE_PROBE && rep->n == 1 &&
	    rep->probes[0].servername[0] == '\0')
		fputs("note: bare IP target without --servername: no SNI "
		      "was sent, the server's default certificate was "
		      "examined\n",
		      out);
	fprintf(out, "%s: %s\n", rep->allow ? "ALLOW" : "REFUSE", rep->reason);
	if (rep->hint[0])
		fprintf(out, "hint: %s\n", rep->hint);
}

void sg_output_settle(const struct sg_target *targets,
		      const struct sg_settle_target *settle, size_t n,
		      FILE *out)
{
	fputs("settle:\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-22s %-20s %-8s %d handshakes, %s\n",
			targets[i].spec,
			targets[i].servername[0] ? targets[i].servername
						 : "(no SNI)",
			settle[i].settled ? "settled" : "FAILED",
			settle[i].handshakes, settle[i].reason);
}

/* A pending certificate that was deployed and did not settle. */
static void print_backoff(json_t *e, FILE *out)
{
	time_t t =
		(time_t)json_integer_value(json_object_get(e, "retry_after"));
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%MZ", &tm);
	fprintf(out, "%-24s settle failed %lld times, backing off until %s\n",
		"",
		(long long)json_integer_value(
			json_object_get(e, "settle_failures")),
		when);
}

void sg_output_pending(json_t *list, FILE *out)
{
	size_t i;
	json_t *e;

	if (json_array_size(list) == 0) {
		fputs("no pending deployments\n", out);
		return;
	}
	fprintf(out, "%-24s %-8s %-10s %-22s %s\n", "LINEAGE", "CLIENT", "AGE",
		"SERVED CERT EXPIRES", "REASON");
	json_array_foreach (list, i, e) {
		char age[32], exp[32] = "unknown";
		json_int_t served = json_integer_value(
			json_object_get(e, "served_not_after"));

		if (json_is_true(json_object_get(e, "damaged"))) {
			fprintf(out, "%-24s %-8s %-10s %-22s %s\n",
				json_string_value(
					json_object_get(e, "lineage")),
				"-", "-", "DAMAGED",
				json_string_value(
					json_object_get(e, "reason")));
			continue;
		}

		sg_duration_format((long)json_integer_value(
					   json_object_get(e, "age_seconds")),
				   age, sizeof(age));
		if (served) {
			time_t t = (time_t)served;
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(exp, sizeof(exp), "%Y-%m-%d %H:%MZ", &tm);
		}
		fprintf(out, "%-24s %-8s %-10s %-16s%s %s\n",
			json_string_value(json_object_get(e, "lineage")),
			json_string_value(json_object_get(e, "client")), age,
			exp,
			json_is_true(json_object_get(e, "urgent")) ? " URGENT"
								   : "      ",
			json_string_value(json_object_get(e, "reason")));
		if (json_integer_value(json_object_get(e, "settle_failures")))
			print_backoff(e, out);
	}
}

int sg_output_json(const struct sg_report *rep, FILE *out)
{
	int rc = sg_record_print(rep, out);

	if (rc == 0)
		fputc('\n', out);
	return rc;
}
