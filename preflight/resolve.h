/* Name resolution bounded by a deadline. getaddrinfo has no timeout of
 * its own and a resolver that never answers costs its full timeout and
 * retries (10 s and more) per name: asked one after the other, six such
 * names take a minute. Here every distinct name is asked at once, each on
 * a worker thread, and the caller stops waiting at the deadline; a
 * worker still blocked in getaddrinfo then finishes on its own and its
 * answer is dropped. */
#ifndef SG_RESOLVE_H
#define SG_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

#include "result.h"

#define SG_RESOLVE_THREADS 16 /* names asked at once */

struct sg_resolved {
	struct sockaddr_storage addr; /* the first address, port 0 */
	socklen_t addrlen;	      /* 0: not resolved, see error */
	char error[SG_REASON_MAX];    /* "cannot resolve HOST: why" */
};

/* Resolves hosts[0..n) (names or numeric addresses; a name given twice
 * is asked once) into out[0..n). Returns when every name has an answer,
 * at deadline_ms (sg_now_ms clock), or when a signal was received
 * (sg_interrupted); names without an answer then say so in their error.
 * Only a failure to set up at all is returned. */
sg_result sg_resolve(const char *const *hosts, size_t n, long long deadline_ms,
		     struct sg_resolved *out);

#endif
