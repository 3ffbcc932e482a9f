#include "resolve.h"
#include "sandbox.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "duration.h"
#include "interrupt.h"
#include "target.h"
#include "wire.h"

#define WAKE_MS 100 /* how often the waiting caller looks for a signal */

struct job {
	char host[SG_HOST_MAX];
	bool done;
	int rc; /* getaddrinfo's */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/* Shared by the caller and the workers, freed by whoever leaves last: a
 * worker may outlive the caller's wait by a resolver timeout. */
struct batch {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	size_t n, next, done;
	int refs;
	bool abandoned; /* the caller stopped waiting: start no more names */
	struct job jobs[];
};

static void batch_free(struct batch *b)
{
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

/* Drops one reference, b->mu held; frees b when it was the last. */
static void batch_leave(struct batch *b)
{
	bool last = --b->refs == 0;

	pthread_mutex_unlock(&b->mu);
	if (last)
		batch_free(b);
}

static void lookup(struct job *j, const char *host)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;

	j->rc = getaddrinfo(host, NULL, &hints, &ai);
	if (j->rc == 0 && ai && ai->ai_addrlen <= sizeof(j->addr)) {
		memcpy(&j->addr, ai->ai_addr, ai->ai_addrlen);
		j->addrlen = ai->ai_addrlen;
	} else if (j->rc == 0) {
		j->rc = EAI_NONAME;
	}
	if (ai)
		freeaddrinfo(ai);
}

static void *worker(void *arg)
{
	struct batch *b = arg;

	pthread_mutex_lock(&b->mu);
	while (!b->abandoned && b->next < b->n) {
		struct job *j = &b->jobs[b->next++], got;

		memcpy(got.host, j->host, sizeof(got.host));
		pthread_mutex_unlock(&b->mu);
		lookup(&got, got.host);
		pthread_mutex_lock(&b->mu);
		j->rc = got.rc;
		j->addr = got.addr;
		j->addrlen = got.addrlen;
		j->done = true;
		b->done++;
		pthread_cond_signal(&b->cond);
	}
	batch_leave(b);
	return NULL;
}

/* Workers block every signal, so that SIGTERM reaches the thread that
 * waits in poll or waitpid and wakes it. */
static size_t start_workers(struct batch *b, size_t want)
{
	sigset_t all, old;
	pthread_attr_t attr;
	size_t started = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (; started < want; started++) {
		pthread_t t;

		b->refs++;
		if (pthread_create(&t, &attr, worker, b) != 0) {
			b->refs--;
			break;
		}
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

static void wait_until(struct batch *b, long long deadline_ms)
{
	while (b->done < b->n && !sg_interrupted()) {
		long long left = deadline_ms - sg_now_ms();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > WAKE_MS)
			left = WAKE_MS;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cond, &b->mu, &ts);
	}
}

static struct batch *batch_new(size_t n)
{
	struct batch *b = calloc(1, sizeof(*b) + n * sizeof(b->jobs[0]));
	pthread_condattr_t ca;

	if (b == NULL)
		return NULL;
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	b->refs = 1; /* the caller's */
	return b;
}

/* A numeric address (also the prober's answer) as a socket address with
 * port 0. */
static bool numeric(const char *host, struct sg_resolved *r)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&r->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&r->addr;

	memset(&r->addr, 0, sizeof(r->addr));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		r->addrlen = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		r->addrlen = sizeof(*in6);
	}
	return r->addrlen != 0;
}

/* The job for host, added when new; NULL when the name is too long. */
static struct job *job_for(struct batch *b, const char *host)
{
	for (size_t k = 0; k < b->n; k++)
		if (strcmp(b->jobs[k].host, host) == 0)
			return &b->jobs[k];
	if (strlen(host) >= sizeof(b->jobs[0].host))
		return NULL;
	strcpy(b->jobs[b->n].host, host);
	return &b->jobs[b->n++];
}

static void answer(const struct job *j, const char *host, int sig,
		   long long waited_ms, struct sg_resolved *r)
{
	char d[32];

	if (j == NULL) {
		snprintf(r->error, sizeof(r->error),
			 "cannot resolve %.64s...: name too long", host);
	} else if (j->done && j->rc == 0) {
		r->addr = j->addr;
		r->addrlen = j->addrlen;
	} else if (j->done) {
		snprintf(r->error, sizeof(r->error), "cannot resolve %s: %s",
			 host, gai_strerror(j->rc));
	} else if (sig) {
		snprintf(r->error, sizeof(r->error),
			 "cannot resolve %s: interrupted by signal %d", host,
			 sig);
	} else {
		sg_duration_format((waited_ms + 999) / 1000, d, sizeof(d));
		snprintf(r->error, sizeof(r->error),
			 "cannot resolve %s: no answer within %s", host, d);
	}
}

static sg_result resolve_here(const char *const *hosts, size_t n,
			      long long deadline_ms, struct sg_resolved *out)
{
	struct batch *b;
	struct job **of;
	long long start = sg_now_ms();
	size_t workers;
	sg_result denied;

	memset(out, 0, n * sizeof(*out));
	if (!sg_sandbox_may_touch_network(&denied))
		return denied; /* DNS answers are network bytes too */
	b = batch_new(n);
	of = calloc(n ? n : 1, sizeof(*of));
	if (b == NULL || of == NULL) {
		free(of);
		if (b)
			batch_free(b);
		return sg_err(SG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (!numeric(hosts[i], &out[i]))
			of[i] = job_for(b, hosts[i]);
	pthread_mutex_lock(&b->mu);
	workers = start_workers(
		b, b->n < SG_RESOLVE_THREADS ? b->n : SG_RESOLVE_THREADS);
	if (workers == 0 && b->n) {
		pthread_mutex_unlock(&b->mu);
		batch_free(b);
		free(of);
		return sg_err(SG_ESYS, "cannot start a resolver thread");
	}
	wait_until(b, deadline_ms);
	for (size_t i = 0; i < n; i++)
		if (out[i].addrlen == 0)
			answer(of[i], hosts[i], sg_interrupted(),
			       sg_now_ms() - start, &out[i]);
	b->abandoned = true;
	batch_leave(b);
	free(of);
	return sg_ok();
}

/* Through the prober (sandbox.h), which answers one "addr" line per
 * host: the address as text, or why there is none. */
struct ask {
	const char *const *hosts;
	size_t n;
	long long deadline_ms;
	struct sg_resolved *out;
	size_t answered;
};

static json_t *put_addr(size_t i, const struct sg_resolved *r)
{
	char ip[INET6_ADDRSTRLEN] = "";
	const struct sockaddr_in *v4 = (const void *)&r->addr;
	const struct sockaddr_in6 *v6 = (const void *)&r->addr;

	if (r->addrlen && r->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
	else if (r->addrlen && r->addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
	return json_pack("{s:s, s:I, s:s, s:s}", "t", "addr", "i",
			 (json_int_t)i, "ip", ip, "error", r->error);
}

static sg_result ask_job(void *arg, FILE *out)
{
	struct ask *a = arg;
	struct sg_resolved *got = calloc(a->n ? a->n : 1, sizeof(*got));
	sg_result r = got ? resolve_here(a->hosts, a->n, a->deadline_ms, got)
			  : sg_err(SG_ENOMEM, "out of memory");

	for (size_t i = 0; !r.code && i < a->n; i++)
		if (!sg_sandbox_put(out, put_addr(i, &got[i])))
			r = sg_err(SG_ESYS, "writing the answer failed");
	free(got);
	return r;
}

static sg_result ask_take(void *arg, const char *type, json_t *line)
{
	struct ask *a = arg;
	struct sg_wire w;
	struct sg_resolved got = {0};
	const char *ip;
	size_t i;

	if (strcmp(type, "addr") != 0)
		return sg_err(SG_EINPUT, "prober: unexpected answer line");
	sg_wire_begin(&w, line, "addr");
	i = (size_t)sg_wire_int(&w, "i", 0, (long long)a->n - 1);
	ip = sg_wire_str(&w, "ip", INET6_ADDRSTRLEN);
	sg_wire_copy(&w, "error", got.error, sizeof(got.error));
	if (sg_wire_end(&w).code)
		return w.err;
	if (i != a->answered || (*ip && !numeric(ip, &got)) ||
	    (!*ip && !got.error[0]))
		return sg_err(SG_EINPUT, "prober: addr: bad answer");
	a->out[a->answered++] = got;
	return sg_ok();
}

sg_result sg_resolve(const char *const *hosts, size_t n, long long deadline_ms,
		     struct sg_resolved *out)
{
	struct ask a = {hosts, n, deadline_ms, out, 0};
	struct sg_sandbox_call c = {.what = "resolve",
				    .job = ask_job,
				    .take = ask_take,
				    .arg = &a,
				    .max_bytes = (n + 1) * 1024,
				    .kill_at_ms = deadline_ms};
	sg_result r;

	memset(out, 0, n * sizeof(*out));
	r = sg_sandbox_run(&c);
	if (!r.code && a.answered != n)
		r = sg_err(SG_EINPUT, "prober: %zu of %zu names unanswered",
			   n - a.answered, n);
	if (r.code)
		memset(out, 0, n * sizeof(*out));
	return r;
}
