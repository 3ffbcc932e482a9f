#include "settle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "interrupt.h"
#include "progress.h"

bool sg_settle_all(const struct sg_settle_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!t[i].settled)
			return false;
	return true;
}

/* Judges one handshake of one target; returns whether it was good. */
static bool judge(const struct sg_probe *p, const char *new_sha256,
		  struct sg_settle_target *t)
{
	t->handshakes++;
	t->serving_new =
		p->handshake_ok && strcmp(p->served->sha256, new_sha256) == 0;
	if (!p->handshake_ok)
		snprintf(t->reason, sizeof(t->reason), "%s", p->error);
	else if (!t->serving_new)
		snprintf(t->reason, sizeof(t->reason),
			 "still serving another certificate (sha256 %.16s...): "
			 "a CDN or proxy in front, or the reload did not "
			 "happen",
			 p->served->sha256);
	else
		snprintf(t->reason, sizeof(t->reason), "%s", p->staple.reason);
	return t->serving_new && p->staple.valid && p->staple.fresh;
}

/* One round: one handshake to every target not yet settled. Returns
 * whether every probed target was good. */
static sg_result round_once(const struct sg_target *targets, size_t n,
			    const struct sg_probe_opts *probe,
			    const char *new_sha256, int need,
			    struct sg_settle_target *out, bool *all_good)
{
	struct sg_target *todo = calloc(n, sizeof(*todo));
	struct sg_probe *res = calloc(n, sizeof(*res));
	size_t *idx = calloc(n, sizeof(*idx)), k = 0;
	sg_result r = sg_ok();

	*all_good = true;
	if (todo == NULL || res == NULL || idx == NULL)
		r = sg_err(SG_ENOMEM, "out of memory");
	for (size_t i = 0; !r.code && i < n; i++)
		if (!out[i].settled) {
			todo[k] = targets[i];
			idx[k++] = i;
		}
	if (!r.code)
		r = sg_probe_run(todo, k, probe, res);
	for (size_t j = 0; !r.code && j < k; j++) {
		struct sg_settle_target *t = &out[idx[j]];

		if (judge(&res[j], new_sha256, t)) {
			t->settled = ++t->consecutive >= need;
		} else {
			t->consecutive = 0;
			*all_good = false;
		}
	}
	if (res)
		sg_probe_free(res, k);
	free(res);
	free(todo);
	free(idx);
	return r;
}

/* One line per round: how many settled, the first one still waited
 * for and why, and the time left. */
static void progress(const struct sg_target *targets, size_t n,
		     const struct sg_settle_target *out, int round,
		     long long left_ms)
{
	size_t done = 0, first = n;

	for (size_t i = 0; i < n; i++) {
		done += out[i].settled;
		if (!out[i].settled && first == n)
			first = i;
	}
	if (first == n)
		sg_progress_status("settle round %d: all %zu targets settled",
				   round, n);
	else
		sg_progress_status(
			"settle round %d: %zu of %zu targets settled; "
			"waiting for %s (%d in a row so far: %s), %llds "
			"left",
			round, done, n, targets[first].spec,
			out[first].consecutive, out[first].reason,
			left_ms > 0 ? left_ms / 1000 : 0);
}

sg_result sg_settle_run(const struct sg_target *targets, size_t n,
			const struct sg_probe_opts *probe,
			const char *new_sha256, int handshakes, long timeout_ms,
			struct sg_settle_target *out, long *elapsed_ms)
{
	struct sg_probe_opts once = *probe;
	long long start = sg_now_ms(), end = start + timeout_ms;
	long delay = SG_SETTLE_FIRST_DELAY_MS;
	int rounds = 0;
	sg_result r = sg_ok();

	memset(out, 0, n * sizeof(*out));
	/* settle counts its own handshakes in a row, one per round */
	once.attempts = 1;
	once.confirm = 1;
	while (!sg_settle_all(out, n)) {
		long long left = end - sg_now_ms();
		bool all_good;

		if (left <= 0 || sg_interrupted())
			break;
		if (once.timeout_ms > left)
			once.timeout_ms = (long)left;
		r = round_once(targets, n, &once, new_sha256, handshakes, out,
			       &all_good);
		if (r.code)
			break;
		progress(targets, n, out, ++rounds, end - sg_now_ms());
		/* Good rounds follow each other at once; a bad one backs
		 * off, doubling up to a cap, never past the end. */
		if (!all_good && !sg_settle_all(out, n)) {
			left = end - sg_now_ms();
			sg_sleep_ms(delay < left ? delay : (long)left);
			delay = delay * 2 > SG_SETTLE_MAX_DELAY_MS
					? SG_SETTLE_MAX_DELAY_MS
					: delay * 2;
		}
	}
	*elapsed_ms = (long)(sg_now_ms() - start);
	return r;
}
