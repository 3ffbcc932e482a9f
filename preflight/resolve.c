#include "resolve.h"

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

sg_result sg_resolve(const char *const *hosts, size_t n, long long deadline_ms,
		     struct sg_resolved *out)
{
	struct batch *b = batch_new(n);
	struct job **of = calloc(n ? n : 1, sizeof(*of));
	long long start = sg_now_ms();
	size_t workers;

	memset(out, 0, n * sizeof(*out));
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
