/* Privilege separation (README, "Security"): everything that reads bytes
 * from the network — TLS handshakes, staples, the OCSP responder, the
 * AIA fetch, name resolution — runs in a child, "the prober", that drops
 * root (config `user`, default nobody), sets no_new_privs, confines file
 * access with Landlock where the kernel has it, and installs a seccomp
 * filter that kills it on anything probing does not need (opening a file
 * for writing, execve, ...). The parent keeps the store, the locks, the
 * records and execvp, and only reads the prober's answers: JSON lines on
 * a pipe, version 1, bounded and checked field by field. A prober that
 * dies, is killed or says anything malformed fails the call, which for
 * a Must-Staple certificate means refuse. */
#ifndef SG_SANDBOX_H
#define SG_SANDBOX_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "result.h"

#define SG_SANDBOX_VERSION	1
#define SG_SANDBOX_DEFAULT_USER "nobody"

/* Called once by main before any probing: resolves the user (when root)
 * and initialises OpenSSL and libcurl, whose lazy set-up reads files the
 * prober may not. off: --no-sandbox, probing runs in this process. An
 * error is also what every later sg_sandbox_run returns. Without this
 * call the first run sets up with the defaults. */
sg_result sg_sandbox_setup(const char *user, bool off);

/* --no-sandbox was given (the records say so). */
bool sg_sandbox_off(void);

/* Network code calls this first: false, with why filled, when it is
 * about to run in the parent while the sandbox is on. A call site that
 * missed its prober fails loudly instead of parsing in the parent. */
bool sg_sandbox_may_touch_network(sg_result *why);

/* In the prober: writes obj (adds "v"; obj has its type in "t") as one
 * line. Steals obj. */
bool sg_sandbox_put(FILE *out, json_t *obj);

struct sg_sandbox_call {
	const char *what; /* names the job in errors: "probe" */
	/* In the child, confined: does the work and writes its lines. */
	sg_result (*job)(void *arg, FILE *out);
	/* In the parent: takes one line of that type (an object, "v"
	 * checked and "t" read, both removed); an error rejects the
	 * prober's whole answer. */
	sg_result (*take)(void *arg, const char *type, json_t *line);
	void *arg;
	size_t max_bytes;     /* all the prober may write */
	long long kill_at_ms; /* sg_now_ms clock, 0: none */
};

/* Runs c->job in a confined child and c->take on each line it writes,
 * or both in this process with --no-sandbox (then through the same
 * encoding, so both paths are the one tested). The job's own failure
 * is returned as it said it; a prober that was killed, crashed, ran
 * past kill_at_ms or wrote something malformed gives a reason starting
 * with "prober". */
sg_result sg_sandbox_run(const struct sg_sandbox_call *c);

/* The parent's reading of an answer given as text (the lines the prober
 * writes, its end line included): what sg_sandbox_run does with the
 * pipe's bytes, for --no-sandbox and the fuzzer. */
sg_result sg_sandbox_take_text(const struct sg_sandbox_call *c,
			       const char *text, size_t len);

#endif
