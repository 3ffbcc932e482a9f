#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bundle.h"
#include "clock.h"
#include "duration.h"
#include "interrupt.h"
#include "probepool.h"
#include "sandbox.h"
#include "resolve.h"
#include "strset.h"
#include "vcache.h"

/* SLOT_PING*: the liveness probe that runs for every target at once when
 * there are more targets than --parallel (see start_ping). */
enum slot_state {
	SLOT_PING,
	SLOT_PING_CONNECT,
	SLOT_PING_WAIT,
	SLOT_WAIT,
	SLOT_CONNECT,
	SLOT_HANDSHAKE,
	SLOT_DONE
};

/* A TLS 1.2 ClientHello offering only TLS_NULL_WITH_NULL_NULL, which no
 * server may accept: any live TLS server answers it at once with an
 * alert (no key exchange, no signature, no cost), a silent one does not.
 * Sent as is from this one buffer, it costs no per-target memory. */
static const unsigned char ping_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x2d, /* handshake record, 45 bytes */
	0x01, 0x00, 0x00, 0x29,	      /* ClientHello, 41 bytes */
	0x03, 0x03,		      /* TLS 1.2 */
	0,    0,    0,	  0,	0,    0, 0, 0,	  0,
	0,    0,    0,	  0,	0,    0, 0, /* random */
	0,    0,    0,	  0,	0,    0, 0, 0,	  0,
	0,    0,    0,	  0,	0,    0, 0, 0x00, /* no session id */
	0x00, 0x02, 0x00, 0x00, /* cipher suites: NULL_WITH_NULL_NULL */
	0x01, 0x00,		/* compression: null */
};

/* Per-target scratch for the run; the TLS state (ssl) lives only while
 * a connection is open. */
struct slot {
	enum slot_state state;
	int fd;
	SSL *ssl;
	short events;
	long long start_at_ms; /* SLOT_WAIT: when the next attempt starts */
	long long deadline_ms; /* connect + handshake bound */
	long long first_ms;
	union sg_addr addr;
	socklen_t addrlen;
	const char *sni;
	bool tls;      /* the open socket is a real attempt, not a ping */
	int streak;    /* good handshakes in a row */
	int unstapled; /* handshakes without a staple */
	bool any_key;  /* the server cannot negotiate the new key type: every
			  signature algorithm is offered from now on */
};

struct loop {
	const struct sg_target *targets;
	struct sg_probe *results;
	struct slot *slots;
	size_t n, open, handshakes, done;
	size_t max_open; /* sockets the open-file limit leaves us */
	const struct sg_probe_opts *opts;
	SSL_CTX *ctx;
	SSL_CTX *ctx_any;	/* no sigalgs restriction, when ctx has one */
	struct sg_vcache cache; /* signature verdicts shared by all targets */
	struct sg_probe_pool *pool; /* strings and certificates of results */
};

void sg_probe_opts_init(struct sg_probe_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = SG_DEFAULT_TIMEOUT_SEC * 1000L;
	o->attempts = SG_DEFAULT_ATTEMPTS;
	o->retry_delay_ms = SG_DEFAULT_RETRY_DELAY_SEC * 1000L;
	o->priming_ms = SG_DEFAULT_PRIMING_MS;
	o->confirm = SG_DEFAULT_CONFIRM;
	o->parallel = SG_DEFAULT_PARALLEL;
	o->policy.skew_sec = SG_DEFAULT_SKEW_SEC;
	o->policy.min_remaining_sec = SG_DEFAULT_MIN_REMAINING_SEC;
	o->policy.max_age_sec = SG_DEFAULT_MAX_AGE_SEC;
}

const char *sg_sigalgs_for_key(int type)
{
	switch (type) {
	case EVP_PKEY_EC:
		return "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512";
	case EVP_PKEY_RSA:
		/* TLS 1.3 signs with RSA only in PSS form (RFC 8446 4.2.3). */
		return "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:"
		       "rsa_pss_rsae_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512";
	case EVP_PKEY_ED25519:
		return "ed25519";
	default:
		return NULL;
	}
}

/* Tells the server we want its staple, and accepts whatever it sends:
 * judging it is sg_staple_verify's job, after the handshake. */
static int status_cb(SSL *ssl, void *arg)
{
	(void)ssl;
	(void)arg;
	return 1;
}

static SSL_CTX *make_ctx(const char *sigalgs)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Every attempt must be a full handshake: the status callback
	 * never runs on a resumed session. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
	SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
	if (sigalgs && !SSL_CTX_set1_sigalgs_list(ctx, sigalgs)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void format_address(const union sg_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
	} else {
		inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(a->in.sin_port));
	}
}

/* An IP literal's address without the resolver (whose answers cost 392
 * bytes a target while it runs), port 0; false when it is not one this
 * parses (a scoped IPv6 address goes to the resolver). */
static bool literal_address(const struct sg_target *t, union sg_addr *a,
			    socklen_t *len)
{
	memset(a, 0, sizeof(*a));
	if (!t->host_is_ip)
		return false;
	if (inet_pton(AF_INET, t->host, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		*len = sizeof(a->in);
		return true;
	}
	if (inet_pton(AF_INET6, t->host, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		*len = sizeof(a->in6);
		return true;
	}
	return false;
}

/* Copies a resolved address into the slot; false for a family other
 * than IPv4 and IPv6. */
static bool take_address(struct slot *s, const struct sockaddr_storage *ss,
			 socklen_t len)
{
	if ((ss->ss_family != AF_INET && ss->ss_family != AF_INET6) ||
	    len > sizeof(s->addr))
		return false;
	memset(&s->addr, 0, sizeof(s->addr));
	memcpy(&s->addr, ss, len);
	s->addrlen = len;
	return true;
}

/* The address sg_targets_resolve found. */
static bool copy_address(struct slot *s, const struct sg_target *t)
{
	s->addr = t->addr;
	s->addrlen = t->addrlen;
	return true;
}

/* The time the run may not pass: the deadline, or never (-1). */
static long long run_deadline(const struct loop *l)
{
	return l->opts->deadline_ms > 0 ? l->opts->deadline_ms : -1;
}

static bool past_deadline(const struct loop *l, long long now)
{
	return run_deadline(l) >= 0 && now >= run_deadline(l);
}

/* Every name at once (sg_resolve), each costing at most one timeout and
 * never past the deadline, instead of one resolver timeout per name in
 * sequence. */
static sg_result resolve_all(struct loop *l)
{
	const char **hosts = calloc(l->n, sizeof(*hosts));
	struct sg_resolved *got = NULL;
	long long until = sg_now_ms() + l->opts->timeout_ms;
	size_t k = 0;
	sg_result r = sg_ok();

	if (hosts == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	if (run_deadline(l) >= 0 && run_deadline(l) < until)
		until = run_deadline(l);
	/* only the names not resolved before (sg_targets_resolve) */
	for (size_t i = 0; i < l->n; i++) {
		const struct sg_target *t = &l->targets[i];
		struct slot *s = &l->slots[i];

		if (!t->addrlen && !t->unresolved[0] &&
		    !literal_address(t, &s->addr, &s->addrlen))
			hosts[k++] = t->host;
	}
	if (k) {
		got = calloc(k, sizeof(*got));
		r = got ? sg_resolve(hosts, k, until, got)
			: sg_err(SG_ENOMEM, "out of memory");
	}
	k = 0;
	for (size_t i = 0; !r.code && i < l->n; i++) {
		const struct sg_target *t = &l->targets[i];
		struct slot *s = &l->slots[i];
		const struct sg_resolved *g =
			t->addrlen || t->unresolved[0] || s->addrlen
				? NULL
				: &got[k++];
		const char *why = g ? g->error : t->unresolved;
		bool ok =
			s->addrlen ||
			(g ? g->addrlen && take_address(s, &g->addr, g->addrlen)
			   : t->addrlen && copy_address(s, t));

		if (!ok) {
			l->results[i].error = sg_pool_str(
				l->pool,
				why[0] ? why : "not an IPv4 or IPv6 address");
			s->state = SLOT_DONE;
			l->done++;
			continue;
		}
		/* The port is per target even when the host is shared. */
		if (s->addr.sa.sa_family == AF_INET6)
			s->addr.in6.sin6_port = htons(t->port);
		else
			s->addr.in.sin_port = htons(t->port);
		format_address(&s->addr, l->results[i].address,
			       sizeof(l->results[i].address));
	}
	free(hosts);
	free(got);
	return r;
}

static void close_slot(struct loop *l, struct slot *s)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		l->open--;
		if (s->tls)
			l->handshakes--;
		s->tls = false;
	}
}

static void finish(struct loop *l, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int confirm_of(const struct sg_probe_opts *o)
{
	return o->confirm > 0 ? o->confirm : 1;
}

/* The most handshakes one target may take: its priming attempts, then
 * the confirming ones. */
static int handshake_budget(const struct sg_probe_opts *o)
{
	return (o->attempts > 0 ? o->attempts : 1) + confirm_of(o) - 1;
}

static void finish(struct loop *l, size_t i, const char *fmt, ...)
{
	struct slot *s = &l->slots[i];
	struct sg_probe *r = &l->results[i];

	if (fmt) {
		char why[SG_REASON_MAX], line[SG_REASON_MAX + 32];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		/* After good handshakes, a failing one is a pool member or
		 * worker of its own: say which handshake it was. */
		if (r->attempts > 1)
			snprintf(line, sizeof(line), "handshake %d of %d: %s",
				 r->attempts, handshake_budget(l->opts), why);
		else
			snprintf(line, sizeof(line), "%s", why);
		r->error = sg_pool_str(l->pool, line);
		r->handshake_ok = false;
	}
	close_slot(l, s);
	r->elapsed_ms = sg_now_ms() - s->first_ms;
	s->state = SLOT_DONE;
	l->done++;
}

/* A non-blocking socket connecting to the target; returns non-zero when
 * the target is finished (no socket, refused at once). */
static int open_socket(struct loop *l, size_t i, long long now)
{
	struct slot *s = &l->slots[i];

	s->deadline_ms = now + l->opts->timeout_ms;
	if (run_deadline(l) >= 0 && run_deadline(l) < s->deadline_ms)
		s->deadline_ms = run_deadline(l);
	s->fd = socket(s->addr.sa.sa_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		finish(l, i, "cannot open a socket: %s", strerror(errno));
		return 1;
	}
	l->open++;
	if (connect(s->fd, &s->addr.sa, s->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		if (l->results[i].attempts == 0)
			l->results[i].attempts = 1;
		finish(l, i, "cannot connect: %s", strerror(errno));
		return 1;
	}
	s->events = POLLOUT;
	return 0;
}

/* The server said something (an alert, data, a close or a reset): it is
 * alive, and takes its turn for real handshakes. */
static void ping_answered(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];

	close_slot(l, s);
	l->results[i].attempts = 0;
	s->state = SLOT_WAIT;
	s->start_at_ms = sg_now_ms();
}

static void start_attempt(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	struct sg_probe *r = &l->results[i];
	long long now = sg_now_ms();

	if (r->attempts == 0 && s->first_ms == 0)
		s->first_ms = now;
	r->attempts++;
	if (open_socket(l, i, now))
		return;
	s->tls = true;
	l->handshakes++;
	s->state = SLOT_CONNECT;
}

/* With more targets than --parallel, the handshakes wait their turn, and
 * a silent target late in the list would start its timeout late: the run
 * would cost one timeout after most of the work, not one in all. So every
 * target is first pinged at once (connect, ping_hello, wait for any
 * answer). A target that stays silent times out now; one that answers
 * joins the queue with a fresh deadline for its real handshakes. */
static void start_ping(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	long long now = sg_now_ms();

	s->first_ms = now;
	if (open_socket(l, i, now))
		return;
	s->state = SLOT_PING_CONNECT;
}

static void ping_connected(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	l->results[i].attempts = 1;
	if (err != 0) {
		finish(l, i, "cannot connect: %s", strerror(err));
		return;
	}
	l->results[i].connected = true;
	if (write(s->fd, ping_hello, sizeof(ping_hello)) < 0 &&
	    errno != EAGAIN) {
		/* a reset already: the real attempt will say what it is */
		ping_answered(l, i);
		return;
	}
	s->state = SLOT_PING_WAIT;
	s->events = POLLIN;
}

static const char *handshake_error(SSL *ssl, int rc)
{
	static char buf[200];
	int e = SSL_get_error(ssl, rc);
	unsigned long err = ERR_peek_error();

	if (err != 0) {
		const char *why = ERR_reason_error_string(err);

		snprintf(buf, sizeof(buf), "TLS handshake failed: %s",
			 why ? why : "unknown error");
	} else if (e == SSL_ERROR_SYSCALL && errno != 0) {
		snprintf(buf, sizeof(buf), "TLS handshake failed: %s",
			 strerror(errno));
	} else {
		snprintf(buf, sizeof(buf),
			 "TLS handshake failed: the server "
			 "closed the connection");
	}
	ERR_clear_error();
	return buf;
}

/* Builds the issuer candidates for the served leaf: the chain the
 * server sent, then the operator's own certificates. */
static X509 *served_issuer(X509 *leaf, STACK_OF(X509) *chain,
			   const struct sg_probe_opts *o)
{
	STACK_OF(X509) *cands = sk_X509_new_null();
	X509 *issuer = NULL;

	if (cands && sg_stack_append(cands, chain) &&
	    sg_stack_append(cands, o->issuers))
		issuer = sg_issuer_find(leaf, cands, o->store);
	sk_X509_pop_free(cands, X509_free);
	return issuer;
}

/* Whether the chain validates against the store; *why says why not
 * ("ok" when it does). */
static bool validate_chain(X509 *leaf, STACK_OF(X509) *chain,
			   const struct sg_probe_opts *o, const char **why)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = false;

	if (o->store == NULL || ctx == NULL ||
	    !X509_STORE_CTX_init(ctx, o->store, leaf, chain)) {
		*why = "no trust store";
	} else if (X509_verify_cert(ctx) == 1) {
		ok = true;
		*why = "ok";
	} else {
		*why = X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(ctx));
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* SHA-256(leaf) || SHA-256(the whole chain as sent): identifies what a
 * server presented, so chain validation and the issuer search run once
 * per distinct chain. */
static bool chain_key(X509 *leaf, STACK_OF(X509) *chain,
		      unsigned char key[SG_VCACHE_KEY])
{
	unsigned char *leafder = NULL, *all = NULL;
	int leaflen = i2d_X509(leaf, &leafder);
	size_t alllen = 0;
	bool ok = leaflen > 0;

	for (int i = 0; ok && i < sk_X509_num(chain); i++) {
		unsigned char *der = NULL, *grown;
		int n = i2d_X509(sk_X509_value(chain, i), &der);

		grown = n > 0 ? OPENSSL_realloc(all, alllen + (size_t)n) : NULL;
		ok = grown != NULL;
		if (ok) {
			memcpy(grown + alllen, der, (size_t)n);
			all = grown;
			alllen += (size_t)n;
		}
		OPENSSL_free(der);
	}
	if (ok)
		sg_vcache_key(leafder, (size_t)leaflen, all, alllen, key);
	OPENSSL_free(leafder);
	OPENSSL_free(all);
	return ok;
}

/* The issuer and chain verdict for what the server sent, from the cache
 * when this exact chain was seen before. Returns a new reference. */
static X509 *judge_chain(struct loop *l, X509 *leaf, STACK_OF(X509) *chain,
			 const unsigned char *key, struct sg_probe *r)
{
	struct sg_vcache_entry *e =
		sg_vcache_find(&l->cache, SG_VCACHE_CHAIN, key);
	const char *why;
	X509 *issuer;

	if (e == NULL) {
		r->chain_valid = validate_chain(leaf, chain, l->opts, &why);
		r->chain_reason = sg_pool_str(l->pool, why);
		issuer = served_issuer(leaf, chain, l->opts);
		e = sg_vcache_add(&l->cache, SG_VCACHE_CHAIN, key);
		if (e == NULL)
			return issuer;
		e->issuer = issuer;
		e->ok = r->chain_valid;
		snprintf(e->reason, sizeof(e->reason), "%s", r->chain_reason);
	}
	r->chain_valid = e->ok;
	r->chain_reason = sg_pool_str(l->pool, e->reason);
	if (e->issuer)
		X509_up_ref(e->issuer);
	return e->issuer;
}

/* Reads everything the report needs from a completed handshake, before
 * the SSL object and its buffers go away. */
static void harvest(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	struct sg_probe *r = &l->results[i];
	X509 *leaf = SSL_get0_peer_certificate(s->ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s->ssl);
	const unsigned char *der = NULL;
	long len = SSL_get_tlsext_status_ocsp_resp(s->ssl, &der);
	unsigned char key[SG_VCACHE_KEY];
	const struct sg_certinfo *served;
	X509 *issuer;
	sg_result rc = sg_ok();

	/* OpenSSL's own static name */
	r->tls_version = SSL_get_version(s->ssl);
	r->served = sg_pool_no_cert();
	if (leaf == NULL) {
		finish(l, i, "the server sent no certificate");
		return;
	}
	if (!chain_key(leaf, chain, key)) {
		finish(l, i, "out of memory");
		return;
	}
	issuer = judge_chain(l, leaf, chain, key, r);
	/* one record per distinct served chain, shared by its targets */
	served = sg_pool_cert_find(l->pool, key);
	if (served == NULL)
		served = sg_pool_cert_add(l->pool, key, leaf, issuer, &rc);
	if (served == NULL) {
		X509_free(issuer);
		finish(l, i, "%s", rc.reason);
		return;
	}
	r->served = served;
	r->handshake_ok = true;
	r->error = "";
	sg_staple_verify_cached(len > 0 ? der : NULL, len > 0 ? (size_t)len : 0,
				leaf, issuer, &l->opts->policy, time(NULL),
				&l->cache, &r->staple);
	if (l->opts->keep_certs) {
		X509 *shared = sg_pool_cert_leaf(l->pool, key);

		X509_free(r->leaf);
		X509_free(r->issuer);
		r->leaf = shared ? shared : leaf;
		X509_up_ref(r->leaf);
		r->issuer = issuer; /* the reference judge_chain gave */
		return;
	}
	X509_free(issuer);
}

static const char *key_type_name(int type)
{
	switch (type) {
	case EVP_PKEY_RSA:
		return "RSA";
	case EVP_PKEY_EC:
		return "ECDSA";
	case EVP_PKEY_ED25519:
		return "Ed25519";
	default:
		return "other";
	}
}

/* A TLS-level refusal while only the new key type's signature algorithms
 * were offered (RSA served, ECDSA coming, or the reverse): the server
 * has no certificate of that type yet. What it serves is probed instead,
 * with every algorithm offered, and the report says so: a key-type
 * change alone refuses nothing. Returns whether a new attempt started. */
static bool retry_any_key(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];

	if (l->ctx_any == NULL || s->any_key || ERR_peek_error() == 0)
		return false;
	ERR_clear_error();
	s->any_key = true;
	close_slot(l, s);
	l->results[i].attempts--; /* this one is started again */
	start_attempt(l, i);
	return true;
}

/* Fills the key-type note once the fallback handshake has shown what the
 * server serves: another key type than the new certificate's (else the
 * refusal had another cause, and the handshakes speak for themselves). */
static void note_key_type(struct loop *l, size_t i)
{
	struct sg_probe *r = &l->results[i];
	char note[160];

	if (!l->slots[i].any_key || r->key_note[0] || !r->handshake_ok ||
	    r->served->key_type == l->opts->key_type)
		return;
	snprintf(note, sizeof(note),
		 "key-type note: the server cannot negotiate the new "
		 "certificate's key type (%s); probed the %s certificate it "
		 "serves",
		 key_type_name(l->opts->key_type),
		 key_type_name(r->served->key_type));
	r->key_note = sg_pool_str(l->pool, note);
}

/* The pause after the k-th handshake without a staple: from
 * SG_FIRST_RETRY_DELAY_MS, doubling, up to the retry delay (which
 * alone when it is shorter). */
static long retry_pause_ms(const struct sg_probe_opts *o, int k)
{
	long cap = o->retry_delay_ms, d = SG_FIRST_RETRY_DELAY_MS;

	if (cap <= d)
		return cap > 0 ? cap : 0;
	for (int j = 1; j < k && d < cap; j++)
		d *= 2;
	return d < cap ? d : cap;
}

static void schedule(struct slot *s, long long at)
{
	s->state = SLOT_WAIT;
	s->start_at_ms = at;
}

/* A handshake without a staple: priming before the first good one, a
 * break in the run after it. Retried with backoff while a pass is still
 * possible within the handshake and time budgets. */
static void unstapled(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	struct sg_probe *r = &l->results[i];
	const struct sg_probe_opts *o = l->opts;
	long long at;

	s->unstapled++;
	s->streak = 0;
	r->streak = 0;
	at = sg_now_ms() + retry_pause_ms(o, s->unstapled);
	if (r->attempts + confirm_of(o) <= handshake_budget(o) &&
	    at - s->first_ms <= o->priming_ms) {
		schedule(s, at);
		return;
	}
	/* Stapled sometimes, not always: members of a pool behind one
	 * address, or workers, that do not all staple. */
	if (r->stapled > 0) {
		char why[SG_REASON_MAX];

		snprintf(why, sizeof(why),
			 "inconsistent: %d of %d handshakes stapled, the last "
			 "one had no staple: a pool member or worker that "
			 "does not staple",
			 r->stapled, r->attempts);
		r->staple.reason = sg_text(why);
	}
	finish(l, i, NULL);
}

/* One completed handshake, judged in the target's sequence: a present
 * staple that is not good ends it at once, naming the handshake; a good
 * one counts towards confirm in a row. Timeouts and refusals are final
 * (see finish). */
static void handshake_done(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	struct sg_probe *r = &l->results[i];
	char why[SG_REASON_MAX];

	harvest(l, i);
	if (s->state == SLOT_DONE)
		return;
	note_key_type(l, i);
	SSL_shutdown(s->ssl); /* best effort close_notify, never waited on */
	close_slot(l, s);
	if (r->staple.fresh) {
		r->stapled++;
		r->streak = ++s->streak;
		r->confirmed = s->streak >= confirm_of(l->opts);
		if (r->confirmed)
			finish(l, i, NULL);
		else /* confirming handshakes follow at once */
			schedule(s, sg_now_ms());
	} else if (r->staple.present) {
		if (r->attempts > 1) {
			snprintf(why, sizeof(why), "handshake %d of %d: %s",
				 r->attempts, handshake_budget(l->opts),
				 r->staple.reason);
			r->staple.reason = sg_text(why);
		}
		finish(l, i, NULL);
	} else {
		unstapled(l, i);
	}
}

static void drive_handshake(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(s->ssl);
	if (rc == 1) {
		handshake_done(l, i);
		return;
	}
	switch (SSL_get_error(s->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		s->events = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		s->events = POLLOUT;
		break;
	default:
		if (!retry_any_key(l, i))
			finish(l, i, "%s", handshake_error(s->ssl, rc));
	}
}

static void connected(struct loop *l, size_t i)
{
	struct slot *s = &l->slots[i];
	struct sg_probe *r = &l->results[i];
	int err = 0, one = 1;
	socklen_t len = sizeof(err);

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		finish(l, i, "cannot connect: %s", strerror(err));
		return;
	}
	r->connected = true;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->ssl = SSL_new(s->any_key ? l->ctx_any : l->ctx);
	if (s->ssl == NULL || !SSL_set_fd(s->ssl, s->fd) ||
	    (s->sni && !SSL_set_tlsext_host_name(s->ssl, s->sni))) {
		finish(l, i, "cannot set up TLS for this target");
		return;
	}
	s->state = SLOT_HANDSHAKE;
	drive_handshake(l, i);
}

static void advance(struct loop *l, size_t i, short revents, long long now)
{
	struct slot *s = &l->slots[i];

	/* The deadline holds even for a peer that keeps sending: a server
	 * dripping one byte a second must not hold the run. */
	if (now >= s->deadline_ms) {
		char d[32];
		bool connecting = s->state == SLOT_CONNECT ||
				  s->state == SLOT_PING_CONNECT;

		sg_duration_format((l->opts->timeout_ms + 999) / 1000, d,
				   sizeof(d));
		if (l->results[i].attempts == 0)
			l->results[i].attempts = 1;
		if (past_deadline(l, now) && l->results[i].handshake_ok)
			finish(l, i, NULL); /* an earlier attempt's result */
		else if (past_deadline(l, now))
			finish(l, i, "deadline reached during %s",
			       connecting ? "connect" : "the TLS handshake");
		else
			finish(l, i, "timed out after %s during %s", d,
			       connecting ? "connect" : "the TLS handshake");
	} else if (revents && s->state == SLOT_PING_CONNECT) {
		ping_connected(l, i);
	} else if (revents && s->state == SLOT_PING_WAIT) {
		ping_answered(l, i);
	} else if (revents && s->state == SLOT_CONNECT) {
		connected(l, i);
	} else if (revents) {
		drive_handshake(l, i);
	}
}

/* Starts waiting attempts that are due, within the connection cap, and
 * returns the time of the next one not yet due (or -1). */
static long long start_due(struct loop *l, long long now)
{
	long long next = -1;

	for (size_t i = 0; i < l->n; i++) {
		struct slot *s = &l->slots[i];

		if (s->state == SLOT_PING) {
			if (l->open < l->max_open)
				start_ping(l, i);
			continue;
		}
		if (s->state != SLOT_WAIT)
			continue;
		/* A due attempt over the cap starts when a connection
		 * closes, which wakes poll anyway. */
		if (s->start_at_ms <= now) {
			if (l->handshakes < (size_t)l->opts->parallel &&
			    l->open < l->max_open)
				start_attempt(l, i);
		} else if (next < 0 || s->start_at_ms < next) {
			next = s->start_at_ms;
		}
	}
	return next;
}

static bool in_flight(const struct slot *s)
{
	return s->state == SLOT_PING_CONNECT || s->state == SLOT_PING_WAIT ||
	       s->state == SLOT_CONNECT || s->state == SLOT_HANDSHAKE;
}

static int poll_timeout(struct loop *l, long long now, long long next)
{
	long long wake = next;

	if (run_deadline(l) >= 0 && (wake < 0 || run_deadline(l) < wake))
		wake = run_deadline(l);

	for (size_t i = 0; i < l->n; i++) {
		const struct slot *s = &l->slots[i];

		if (in_flight(s) && (wake < 0 || s->deadline_ms < wake))
			wake = s->deadline_ms;
	}
	if (wake < 0)
		return -1;
	return wake <= now ? 0 : (int)(wake - now);
}

/* At the deadline, targets still waiting end: one that completed a
 * handshake keeps that attempt's result, one whose turn never came (more
 * targets than --parallel or the open-file limit allow at once) says
 * so. */
static void expire_waiting(struct loop *l)
{
	for (size_t i = 0; i < l->n; i++) {
		enum slot_state st = l->slots[i].state;

		if (st != SLOT_PING && st != SLOT_WAIT)
			continue;
		if (l->slots[i].first_ms == 0)
			l->slots[i].first_ms = sg_now_ms();
		if (l->results[i].handshake_ok)
			finish(l, i, NULL);
		else
			finish(l, i,
			       "not probed: the deadline was reached before "
			       "its turn");
	}
}

/* On SIGTERM/SIGINT/SIGHUP every unfinished target ends with that
 * reason. */
static void abandon_all(struct loop *l, int sig)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->slots[i].state != SLOT_DONE)
			finish(l, i, "interrupted by signal %d", sig);
}

static sg_result run_loop(struct loop *l)
{
	struct pollfd *pfd = calloc(l->n, sizeof(*pfd));
	size_t *idx = calloc(l->n, sizeof(*idx));

	if (pfd == NULL || idx == NULL) {
		free(pfd);
		free(idx);
		return sg_err(SG_ENOMEM, "out of memory");
	}
	while (l->done < l->n) {
		long long now = sg_now_ms(), next;
		nfds_t np = 0;
		int timeout;

		if (past_deadline(l, now))
			expire_waiting(l);
		next = start_due(l, now);
		timeout = poll_timeout(l, now, next);

		for (size_t i = 0; i < l->n; i++) {
			struct slot *s = &l->slots[i];

			if (!in_flight(s))
				continue;
			pfd[np] = (struct pollfd){s->fd, s->events, 0};
			idx[np++] = i;
		}
		if (poll(pfd, np, timeout) < 0 && errno != EINTR) {
			free(pfd);
			free(idx);
			return sg_err(SG_ESYS, "poll: %s", strerror(errno));
		}
		now = sg_now_ms();
		if (sg_interrupted()) {
			abandon_all(l, sg_interrupted());
			break;
		}
		for (nfds_t k = 0; k < np; k++)
			advance(l, idx[k], pfd[k].revents, now);
	}
	free(pfd);
	free(idx);
	return sg_ok();
}

static const char *pick_sni(const struct sg_target *t,
			    const struct sg_probe_opts *o)
{
	if (o->servername)
		return o->servername;
	if (t->servername[0])
		return t->servername;
	if (!t->host_is_ip)
		return t->host;
	return o->ip_servername;
}

/* Raises the open-file limit as far as allowed and returns how many
 * connections may be open at once below it, keeping room for the
 * process's own files (trust store, score log, curl). */
static int connection_cap(int wanted)
{
	struct rlimit rl;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return wanted < 64 ? wanted : 64;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur == RLIM_INFINITY ? 65536 : (long)rl.rlim_cur - 64;
	if (room < 1)
		room = 1;
	return wanted < room ? wanted : (int)room;
}

void sg_probe_init(struct sg_probe *results, size_t n)
{
	memset(results, 0, n * sizeof(*results));
	for (size_t i = 0; i < n; i++) {
		results[i].servername = "";
		results[i].tls_version = "";
		results[i].served = sg_pool_no_cert();
		results[i].chain_reason = "";
		results[i].error = "";
		results[i].key_note = "";
		sg_staple_init(&results[i].staple);
	}
}

sg_result sg_probe_run_local(const struct sg_target *targets, size_t n,
			     const struct sg_probe_opts *opts,
			     struct sg_probe *results)
{
	struct sg_probe_opts capped = *opts;
	struct loop l = {.targets = targets,
			 .results = results,
			 .n = n,
			 .opts = &capped};
	sg_result r;

	sg_probe_init(results, n);
	if (n == 0)
		return sg_ok();
	if (!sg_sandbox_may_touch_network(&r))
		return r;
	/* every result holds a reference, released by sg_probe_free */
	l.pool = sg_pool_new(n);
	if (l.pool == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		results[i].pool = l.pool;
	l.max_open = (size_t)connection_cap(65536);
	capped.parallel =
		connection_cap(opts->parallel > 0 ? opts->parallel : 1);
	l.slots = calloc(n, sizeof(*l.slots));
	l.ctx = make_ctx(opts->sigalgs);
	if (opts->sigalgs)
		l.ctx_any = make_ctx(NULL);
	if (l.slots == NULL || l.ctx == NULL ||
	    (opts->sigalgs && l.ctx_any == NULL)) {
		free(l.slots);
		SSL_CTX_free(l.ctx);
		SSL_CTX_free(l.ctx_any);
		ERR_clear_error();
		return sg_err(SG_ENOMEM, "cannot set up the TLS client");
	}
	for (size_t i = 0; i < n; i++) {
		/* Only a queue needs pings: within the cap every target
		 * starts at once anyway. */
		l.slots[i].state =
			n > (size_t)capped.parallel ? SLOT_PING : SLOT_WAIT;
		l.slots[i].fd = -1;
		l.slots[i].sni = pick_sni(&targets[i], opts);
		results[i].servername = sg_pool_str(l.pool, l.slots[i].sni);
	}
	r = resolve_all(&l);
	if (!r.code)
		r = run_loop(&l);
	for (size_t i = 0; i < n; i++)
		close_slot(&l, &l.slots[i]);
	free(l.slots);
	SSL_CTX_free(l.ctx);
	SSL_CTX_free(l.ctx_any);
	sg_vcache_free(&l.cache);
	return r;
}

void sg_probe_free(struct sg_probe *results, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		X509_free(results[i].leaf);
		X509_free(results[i].issuer);
		sg_pool_release(results[i].pool);
		sg_probe_init(&results[i], 1);
	}
}
