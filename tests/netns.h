/* A private network and mount namespace for one test (Check forks each
 * test, so nothing leaks into the next one): loopback only, and a name
 * server that never answers. Needs root; a test that cannot have it
 * skips with a message. Test code only. */
#ifndef SG_NETNS_H
#define SG_NETNS_H

#include <stdbool.h>

/* Moves this test process into new network and mount namespaces with
 * loopback up. false (with a message on stderr) when not possible: not
 * root, or Check's no-fork mode. Start servers only after it. */
bool netns_private(const char *test);

/* Points /etc/resolv.conf (a bind mount private to this test) at
 * 127.0.0.1:53, where a socket takes every query and never answers.
 * options: the resolv.conf "options" line, e.g. "timeout:2 attempts:1".
 * dir holds the private resolv.conf. */
bool netns_blackhole_dns(const char *dir, const char *options);

/* Waits at most ms for a query to reach that name server: someone is
 * resolving a name now. */
bool netns_dns_asked(int ms);

#endif
