/* Debian's nginx as a test server: one server block on 127.0.0.1 with
 * two workers, serving the Must-Staple leaf, started and stopped by the
 * test. Test code only. */
#ifndef SG_TNGINX_H
#define SG_TNGINX_H

#include <sys/types.h>

#include "scene.h"

struct nginx {
	pid_t pid;
	int port;
	int workers; /* 0: two */
	char prefix[700], conf[800], cert[800];
};

/* stapling: directives after "ssl_stapling on;", e.g. a responder URL or
 * "ssl_stapling_file FILE;". */
void nginx_start(struct nginx *n, struct scene *s, const char *stapling);
void nginx_stop(struct nginx *n);

#endif
