/* Real peers for integration tests, all on loopback: openssl s_server
 * processes, and raw listeners that accept and stay silent. */
#ifndef SG_SERVERS_H
#define SG_SERVERS_H

#include <stdbool.h>
#include <sys/types.h>

struct srv {
	pid_t pid;
	int port;
};

/* A port on host ("127.0.0.1" or "::1") that was free a moment ago. */
int srv_free_port(const char *host);

/* Starts `openssl s_server -accept HOST:PORT -quiet ARGS...` (args ends
 * with NULL), retrying on a new port if the port was taken, and waits
 * until it accepts connections. Returns 0 or -1. */
int srv_start_openssl(struct srv *s, const char *host, const char *const *args);
void srv_stop(struct srv *s);

/* A listening socket that never accepts: connects succeed (the kernel's
 * backlog completes them), nothing is ever said. Returns the fd. */
int srv_listen_silent(const char *host, int *port);

/* A listening socket on 127.0.0.1, port chosen by the kernel; -1 on
 * failure. For the servers written in the tests. */
int srv_listen_loopback(int *port);

/* The same on a given port; -1 when it is taken. */
int srv_listen_port(int port);

/* A port on 127.0.0.1 with nothing listening that stays so while the
 * returned fd is open (close it at the end of the test); -1 on failure.
 * srv_hold_port holds a given port (e.g. one whose server just stopped). */
int srv_hold_closed_port(int *port);
int srv_hold_port(int port);

/* true when a TCP connection to host:port succeeds now. */
bool srv_can_connect(const char *host, int port);

/* true when ::1 can be bound here. */
bool srv_ipv6_available(void);

#endif
