/* Target strings: HOST[:PORT], IPv4[:PORT] or [IPv6]:PORT (RFC 3986
 * authority form), port 443 by default. */
#ifndef SG_TARGET_H
#define SG_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include "result.h"

#define SG_HOST_MAX 254 /* 253 octets of a DNS name, and the NUL */

struct sg_target {
	char spec[SG_HOST_MAX + 16]; /* as the operator wrote it */
	char host[SG_HOST_MAX];	     /* without brackets */
	unsigned short port;
	bool host_is_ip;
	char servername[SG_HOST_MAX]; /* SNI for this target, "" default */
	/* Set by sg_targets_resolve: the address with the port, or why
	 * there is none. Both empty: the probe resolves the host itself. */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char unresolved[SG_REASON_MAX];
};

sg_result sg_target_parse(const char *text, struct sg_target *t);

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
