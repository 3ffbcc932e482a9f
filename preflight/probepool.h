/* What the results of one probe run share (see struct sg_probe): each
 * distinct string once, and one certificate record per distinct served
 * chain, so a result costs a few pointers instead of a copy of both. */
#ifndef SG_PROBEPOOL_H
#define SG_PROBEPOOL_H

#include <stddef.h>

#include "certinfo.h"
#include "probe.h"
#include "strset.h"
#include "vcache.h"

/* A pool with refs references (one per result of the run), or NULL. */
struct sg_probe_pool *sg_pool_new(size_t refs);

/* Drops one reference; the last frees the pool. */
void sg_pool_release(struct sg_probe_pool *p);

/* The pool's copy of s. Never NULL: when out of memory, a static
 * "out of memory" stands in. */
const char *sg_pool_str(struct sg_probe_pool *p, const char *s);

/* The record for the served chain identified by key (leaf || chain
 * digests, see chain_key in probe.c), or NULL. */
const struct sg_certinfo *sg_pool_cert_find(struct sg_probe_pool *p,
					    const unsigned char *key);

/* Reads leaf into a new record under key, with issuer's TLS Feature
 * (issuer may be NULL). NULL with *why filled when out of memory. */
const struct sg_certinfo *sg_pool_cert_add(struct sg_probe_pool *p,
					   const unsigned char *key, X509 *leaf,
					   X509 *issuer, sg_result *why);

/* Moves a record read elsewhere (the prober's answer) into the pool:
 * *info is emptied. NULL with *why filled when out of memory. */
const struct sg_certinfo *sg_pool_cert_put(struct sg_probe_pool *p,
					   struct sg_certinfo *info,
					   sg_result *why);

/* The leaf the record under key was read from (the pool's reference),
 * or NULL. The same chain served again is the same certificate: a
 * result that keeps it takes a reference to this one rather than to its
 * own handshake's copy (a parsed leaf per target, 24 MB at 10,000). */
X509 *sg_pool_cert_leaf(struct sg_probe_pool *p, const unsigned char *key);

/* An empty certificate record: what a result without a handshake
 * points to. */
const struct sg_certinfo *sg_pool_no_cert(void);

#endif
