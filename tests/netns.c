#include "netns.h"

#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

static int dns_fd = -1; /* open for the test's life: the black hole */

static bool lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ok = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

bool netns_private(const char *test)
{
	const char *fork_mode = getenv("CK_FORK");

	if (fork_mode && strcmp(fork_mode, "no") == 0) {
		fprintf(stderr, "%s: skipped: needs Check's fork mode\n", test);
		return false;
	}
	if (geteuid() != 0 || unshare(CLONE_NEWNET | CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    !lo_up()) {
		fprintf(stderr,
			"%s: skipped: needs root for a private network "
			"namespace\n",
			test);
		return false;
	}
	return true;
}

bool netns_dns_asked(int ms)
{
	struct pollfd p = {dns_fd, POLLIN, 0};

	return dns_fd >= 0 && poll(&p, 1, ms) == 1;
}

bool netns_blackhole_dns(const char *dir, const char *options)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(53),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char conf[600];
	FILE *f;

	dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (dns_fd < 0 || bind(dns_fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return false;
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	f = fopen(conf, "w");
	if (f == NULL)
		return false;
	fprintf(f, "nameserver 127.0.0.1\noptions %s\n", options);
	fclose(f);
	return mount(conf, "/etc/resolv.conf", NULL, MS_BIND, NULL) == 0;
}
