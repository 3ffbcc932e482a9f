/* Target strings: HOST[:PORT], IPv4[:PORT] or [IPv6]:PORT (RFC 3986
 * authority form), port 443 by default. */
#ifndef SG_TARGET_H
#define SG_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "result.h"

#define SG_HOST_MAX 254 /* 253 octets of a DNS name, and the NUL */
#define SG_SPEC_MAX (SG_HOST_MAX + 16) /* a target string, with the NUL */

/* An IPv4 or IPv6 address with its port: 28 bytes where a
 * sockaddr_storage takes 128, as there is one per target. */
union sg_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* One server to check. A run may hold 10,000 of them, so the strings
 * are not arrays of their longest size: they point into one block of
 * exactly their size (text), which the target owns and sg_target_free
 * releases. A plain struct copy shares that block (valid while the
 * original is); sg_target_copy makes one with its own. Never NULL: ""
 * stands for none. */
struct sg_target {
	const char *spec;	/* as the operator wrote it */
	const char *host;	/* without brackets */
	const char *servername; /* SNI for this target, "" default */
	unsigned short port;
	bool host_is_ip;
	/* Set by sg_targets_resolve: the address with the port, or why
	 * there is none. Both empty: the probe resolves the host itself. */
	union sg_addr addr;
	socklen_t addrlen;
	const char *unresolved;
	char *text; /* the strings above, NULL when all are "" */
};

/* Fills t (which then owns its text). On error t owns nothing. */
sg_result sg_target_parse(const char *text, struct sg_target *t);

/* dst becomes a copy of src with its own text, with SNI servername
 * (NULL: src's). dst owns nothing on error. */
sg_result sg_target_copy(struct sg_target *dst, const struct sg_target *src,
			 const char *servername);

/* Releases t's text (leaving every string ""). */
void sg_target_free(struct sg_target *t);

/* Releases each of v[0..n) and v itself. */
void sg_targets_free(struct sg_target *v, size_t n);

/* Appends the targets of a file (one TARGET per line, '#' starts a
 * comment, blank lines ignored) to *v (realloc'd, *n entries). Errors
 * name the file and line. */
sg_result sg_targets_file(const char *path, struct sg_target **v, size_t *n);

/* Resolves every target's host at once (sg_resolve), waiting until
 * deadline_ms at most (sg_now_ms clock), so that the probes after it
 * need no lookup of their own. */
sg_result sg_targets_resolve(struct sg_target *t, size_t n,
			     long long deadline_ms);

#endif
