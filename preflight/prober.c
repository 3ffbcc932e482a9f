/* sg_probe_run through the sandbox (sandbox.h): the probe runs in the
 * prober, which answers with one "cert" line per distinct served chain
 * (before the first result that points to it) and one "probe" line per
 * target; the parent rebuilds the results from them, sharing strings
 * and certificate records through a pool as the probe itself does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "clock.h"
#include "probepool.h"
#include "sandbox.h"
#include "wire.h"

/* A line costs well under this; the cap only stops a runaway prober. */
#define BYTES_PER_TARGET (64 * 1024)
#define CERTS_MAX	 4096 /* distinct served chains kept per run */

struct run {
	const struct sg_target *targets;
	size_t n;
	const struct sg_probe_opts *opts;
	const struct sg_probe_extra *extra;
	struct sg_probe *results;
	/* the parent's side */
	struct sg_probe_pool *pool;
	const struct sg_certinfo **certs; /* by id, as the prober numbered */
	size_t ncerts;
	unsigned char *seen; /* results[i] was answered */
	size_t nseen;
};

static json_t *put_probe(const struct sg_probe *p, size_t i, long long cert)
{
	return json_pack(
		"{s:s, s:I, s:s, s:s, s:b, s:b, s:b, s:s, s:I, s:s, "
		"s:o*, s:i, s:i, s:i, s:b, s:I, s:s, s:s}",
		"t", "probe", "i", (json_int_t)i, "address", p->address,
		"servername", p->servername, "connected", p->connected,
		"handshake_ok", p->handshake_ok, "chain_valid", p->chain_valid,
		"tls_version", p->tls_version, "cert", (json_int_t)cert,
		"chain_reason", p->chain_reason, "staple",
		sg_wire_put_staple(&p->staple), "attempts", p->attempts,
		"stapled", p->stapled, "streak", p->streak, "confirmed",
		p->confirmed, "elapsed_ms", (json_int_t)p->elapsed_ms, "error",
		p->error, "key_note", p->key_note);
}

/* The id of a result's certificate record, sending the record first
 * when it is new. -1: no certificate. */
static long long cert_id(FILE *out, const struct sg_certinfo *c,
			 const struct sg_certinfo **sent, size_t *nsent)
{
	size_t k = 0;

	if (c == sg_pool_no_cert())
		return -1;
	while (k < *nsent && sent[k] != c)
		k++;
	if (k < *nsent)
		return (long long)k;
	if (*nsent == CERTS_MAX)
		return -2; /* the parent refuses the answer: fail closed */
	sent[(*nsent)++] = c;
	sg_sandbox_put(out, json_pack("{s:s, s:I, s:o*}", "t", "cert", "id",
				      (json_int_t)k, "info",
				      sg_wire_put_certinfo(c)));
	return (long long)k;
}

static sg_result job(void *arg, FILE *out)
{
	struct run *run = arg;
	struct sg_probe_opts local = *run->opts;
	struct sg_probe *res = calloc(run->n, sizeof(*res));
	const struct sg_certinfo **sent = calloc(CERTS_MAX, sizeof(*sent));
	size_t nsent = 0;
	sg_result r;

	if (res == NULL || sent == NULL) {
		free(res);
		free(sent);
		return sg_err(SG_ENOMEM, "out of memory");
	}
	local.keep_certs = run->extra != NULL;
	r = sg_probe_run_local(run->targets, run->n, &local, res);
	for (size_t i = 0; !r.code && i < run->n; i++) {
		long long id = cert_id(out, res[i].served, sent, &nsent);

		if (!sg_sandbox_put(out, put_probe(&res[i], i, id)))
			r = sg_err(SG_ESYS, "writing the answer failed");
	}
	if (!r.code && run->extra)
		r = run->extra->job(run->extra->arg, res, run->n, out);
	sg_probe_free(res, run->n);
	free(res);
	free(sent);
	return r;
}

static sg_result take_cert(struct run *run, json_t *line)
{
	struct sg_wire w;
	struct sg_certinfo info;
	const struct sg_certinfo *kept;
	sg_result r;

	sg_wire_begin(&w, line, "cert");
	if (sg_wire_int(&w, "id", 0, CERTS_MAX - 1) != (long long)run->ncerts &&
	    !w.err.code)
		w.err = sg_err(SG_EINPUT, "prober: cert: out of sequence");
	sg_wire_take_certinfo(&w, "info", &info);
	r = sg_wire_end(&w);
	kept = r.code ? NULL : sg_pool_cert_put(run->pool, &info, &r);
	if (kept == NULL) {
		sg_certinfo_free(&info);
		return r;
	}
	run->certs[run->ncerts++] = kept;
	return sg_ok();
}

static const struct sg_certinfo *served(struct run *run, struct sg_wire *w)
{
	long long id = sg_wire_int(w, "cert", -1, CERTS_MAX - 1);

	if (id < 0)
		return sg_pool_no_cert();
	if ((size_t)id >= run->ncerts) {
		if (!w->err.code)
			w->err = sg_err(SG_EINPUT, "prober: probe: unknown "
						   "cert");
		return sg_pool_no_cert();
	}
	return run->certs[id];
}

/* One result, every field checked before it counts. */
static sg_result take_probe(struct run *run, json_t *line)
{
	struct sg_wire w;
	struct sg_probe p;
	size_t i;

	sg_wire_begin(&w, line, "probe");
	i = (size_t)sg_wire_int(&w, "i", 0, (long long)run->n - 1);
	if (!w.err.code && run->seen[i])
		w.err = sg_err(SG_EINPUT, "prober: probe: answered twice");
	sg_probe_init(&p, 1);
	sg_wire_copy(&w, "address", p.address, sizeof(p.address));
	p.servername = sg_pool_str(run->pool,
				   sg_wire_str(&w, "servername", SG_HOST_MAX));
	p.connected = sg_wire_bool(&w, "connected");
	p.handshake_ok = sg_wire_bool(&w, "handshake_ok");
	p.chain_valid = sg_wire_bool(&w, "chain_valid");
	p.tls_version =
		sg_pool_str(run->pool, sg_wire_str(&w, "tls_version", 32));
	p.served = served(run, &w);
	p.chain_reason = sg_pool_str(
		run->pool, sg_wire_str(&w, "chain_reason", SG_REASON_MAX));
	sg_wire_take_staple(&w, "staple", &p.staple);
	p.attempts = (int)sg_wire_int(&w, "attempts", 0, 1000000);
	p.stapled = (int)sg_wire_int(&w, "stapled", 0, p.attempts);
	p.streak = (int)sg_wire_int(&w, "streak", 0, p.stapled);
	p.confirmed = sg_wire_bool(&w, "confirmed");
	p.elapsed_ms = (long)sg_wire_int(&w, "elapsed_ms", 0, 1LL << 40);
	p.error =
		sg_pool_str(run->pool, sg_wire_str(&w, "error", SG_REASON_MAX));
	p.key_note = sg_pool_str(run->pool,
				 sg_wire_str(&w, "key_note", SG_REASON_MAX));
	if (sg_wire_end(&w).code)
		return w.err;
	p.pool = run->pool;
	run->results[i] = p;
	run->seen[i] = 1;
	run->nseen++;
	return sg_ok();
}

static sg_result take(void *arg, const char *t, json_t *line)
{
	struct run *run = arg;

	if (strcmp(t, "cert") == 0)
		return run->ncerts < CERTS_MAX
			       ? take_cert(run, line)
			       : sg_err(SG_EINPUT, "prober: too many certs");
	if (strcmp(t, "probe") == 0)
		return take_probe(run, line);
	if (run->extra && run->nseen == run->n)
		return run->extra->take(run->extra->arg, t, line);
	return sg_err(SG_EINPUT, "prober: unexpected answer line");
}

/* When the prober must have answered: the run's deadline, or without
 * one the longest a probe can take (every handshake timing out after
 * its retry delay, resolution before them), with room for the extra
 * job's asks (a responder per served certificate, one timeout each). */
static long long answer_by(const struct sg_probe_opts *o, size_t asks)
{
	long long per = o->timeout_ms + o->retry_delay_ms;
	int handshakes = o->attempts + o->confirm;

	if (o->deadline_ms > 0)
		return o->deadline_ms;
	return sg_now_ms() + o->timeout_ms + handshakes * per + o->priming_ms +
	       (long long)asks * o->timeout_ms + 10000;
}

/* Runs c (its arg a struct run) with results ready to be filled: every
 * result of the run holds a reference to one pool, released by
 * sg_probe_free whatever the prober said. text: take it instead of
 * asking a prober (the fuzzer). */
static sg_result answered(struct run *run, const struct sg_sandbox_call *c,
			  const char *text, size_t len)
{
	sg_result r;

	sg_probe_init(run->results, run->n);
	if (run->n == 0)
		return sg_ok();
	run->certs = calloc(CERTS_MAX, sizeof(*run->certs));
	run->seen = calloc(run->n, 1);
	if (run->certs && run->seen)
		run->pool = sg_pool_new(run->n);
	if (run->pool == NULL) {
		r = sg_err(SG_ENOMEM, "out of memory");
	} else {
		for (size_t i = 0; i < run->n; i++)
			run->results[i].pool = run->pool;
		r = text ? sg_sandbox_take_text(c, text, len)
			 : sg_sandbox_run(c);
		if (!r.code && run->nseen != run->n)
			r = sg_err(SG_EINPUT,
				   "prober: %zu of %zu targets "
				   "unanswered",
				   run->n - run->nseen, run->n);
	}
	free(run->certs);
	free(run->seen);
	return r;
}

sg_result sg_probe_run_extra(const struct sg_target *targets, size_t n,
			     const struct sg_probe_opts *opts,
			     struct sg_probe *results,
			     const struct sg_probe_extra *extra)
{
	struct run run = {.targets = targets,
			  .n = n,
			  .opts = opts,
			  .extra = extra,
			  .results = results};
	struct sg_sandbox_call c = {.what = "probe",
				    .job = job,
				    .take = take,
				    .arg = &run,
				    .max_bytes = (n + 16) * BYTES_PER_TARGET,
				    .kill_at_ms =
					    answer_by(opts, extra ? n : 0)};

	return answered(&run, &c, NULL, 0);
}

sg_result sg_probe_take_answer(const char *text, size_t len, size_t n,
			       struct sg_probe *results)
{
	struct run run = {.n = n, .results = results};
	struct sg_sandbox_call c = {.what = "probe",
				    .take = take,
				    .arg = &run,
				    .max_bytes = (n + 16) * BYTES_PER_TARGET};

	return answered(&run, &c, text, len);
}

sg_result sg_probe_run(const struct sg_target *targets, size_t n,
		       const struct sg_probe_opts *opts,
		       struct sg_probe *results)
{
	return sg_probe_run_extra(targets, n, opts, results, NULL);
}
