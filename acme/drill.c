#include "drill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../preflight/clock.h"
#include "config.h"
#include "../preflight/duration.h"
#include "../preflight/interrupt.h"

/* (a): the first round sets each target's survival window. */
static void survival(const struct sg_probe *p, long outage,
		     struct sg_drill_target *t)
{
	char have[32], need[32];

	long signer_left = (long)(p->staple.signer_not_after - time(NULL));

	t->survival_sec = p->staple.valid ? p->staple.seconds_left : -1;
	if (p->staple.valid && p->staple.signer_known &&
	    signer_left < t->survival_sec) {
		t->survival_sec = signer_left > 0 ? signer_left : 0;
		t->signer_capped = true;
	}
	t->survival_ok = t->survival_sec >= outage;
	if (t->survival_ok)
		return;
	sg_duration_format(outage, need, sizeof(need));
	if (t->survival_sec < 0) {
		snprintf(t->reason, sizeof(t->reason),
			 "no valid staple now: a responder outage is an "
			 "outage at once (%s)",
			 p->handshake_ok ? p->staple.reason : p->error);
		return;
	}
	sg_duration_format(t->survival_sec, have, sizeof(have));
	if (t->signer_capped)
		snprintf(t->reason, sizeof(t->reason),
			 "survives a responder outage for %s, less than %s: "
			 "its OCSP signer (%s) expires before the staple "
			 "does",
			 have, need, p->staple.signer_subject);
	else
		snprintf(t->reason, sizeof(t->reason),
			 "survives a responder outage for %s, less than %s",
			 have, need);
}

/* (b): a round of the watch. A valid staple moves valid_until on; a
 * handshake without one while valid_until is still ahead is exactly what
 * Must-Staple clients would hard-fail on. */
static void watch_round(const struct sg_probe *p, struct sg_drill_target *t,
			time_t now)
{
	char when[32];

	t->rounds++;
	if (p->handshake_ok && p->staple.valid) {
		if (p->staple.next_update > t->valid_until)
			t->valid_until = p->staple.next_update;
		return;
	}
	if (t->valid_until <= now)
		return; /* nothing valid was left to serve */
	if (t->failures++ == 0) {
		sg_time_iso(t->valid_until, when);
		snprintf(t->reason, sizeof(t->reason),
			 "stopped stapling (%s) while its last staple was "
			 "valid until %s",
			 p->handshake_ok ? p->staple.reason : p->error, when);
	}
}

static sg_result probe_round(const struct sg_config *cfg, struct sg_drill *d,
			     struct sg_probe *probes)
{
	sg_result r = sg_config_probe(cfg, d->targets, d->n, probes, NULL);

	d->rounds++;
	return r;
}

sg_result sg_drill_run(const struct sg_config *config,
		       const struct sg_drill_opts *o, struct sg_drill *d)
{
	struct sg_config cfg = *config; /* shallow: only numbers change */
	struct sg_probe *probes = NULL;
	long long end;
	sg_result r;

	memset(d, 0, sizeof(*d));
	/* one handshake per target and round: a client gets one too */
	cfg.attempts = 1;
	cfg.confirm = 1;
	r = sg_config_targets(&cfg, &d->targets, &d->n);
	if (!r.code && d->n == 0)
		r = sg_err(SG_EINPUT, "no targets configured");
	if (!r.code) {
		d->t = calloc(d->n, sizeof(*d->t));
		probes = calloc(d->n, sizeof(*probes));
		if (d->t == NULL || probes == NULL)
			r = sg_err(SG_ENOMEM, "out of memory");
	}
	if (!r.code)
		r = probe_round(&cfg, d, probes);
	for (size_t i = 0; !r.code && i < d->n; i++) {
		survival(&probes[i], o->outage_sec, &d->t[i]);
		watch_round(&probes[i], &d->t[i], time(NULL));
	}
	end = sg_now_ms() + 1000LL * o->watch_sec;
	while (!r.code && o->watch_sec && !sg_interrupted() &&
	       sg_now_ms() + o->interval_ms <= end) {
		sg_sleep_ms(o->interval_ms);
		sg_probe_free(probes, d->n);
		r = probe_round(&cfg, d, probes);
		for (size_t i = 0; !r.code && i < d->n; i++)
			watch_round(&probes[i], &d->t[i], time(NULL));
	}
	d->ok = !r.code;
	for (size_t i = 0; i < d->n && d->t; i++)
		d->ok &= d->t[i].survival_ok && d->t[i].failures == 0;
	if (probes)
		sg_probe_free(probes, d->n);
	free(probes);
	return r;
}

void sg_drill_free(struct sg_drill *d)
{
	sg_targets_free(d->targets, d->n);
	free(d->t);
	memset(d, 0, sizeof(*d));
}
