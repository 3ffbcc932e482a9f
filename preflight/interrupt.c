#include "interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t received;

static void on_signal(int sig)
{
	received = sig;
}

void sg_interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A closed terminal or a stopped session (SIGHUP) must not kill us
	 * mid-run either: same clean wind-down. */
	sigaction(SIGHUP, &sa, NULL);
}

int sg_interrupted(void)
{
	return received;
}
