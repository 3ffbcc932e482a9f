/* sink PORT ADDR...: listens on each ADDR:PORT and never accepts nor
 * speaks — black-holed targets for the benchmark. Runs until killed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int port = argc > 2 ? atoi(argv[1]) : 0;

	for (int i = 2; i < argc; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port =
						htons((unsigned short)port)};
		int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		inet_pton(AF_INET, argv[i], &a.sin_addr);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    listen(fd, 1024) != 0) {
			perror(argv[i]);
			return 1;
		}
	}
	printf("sink: ready\n");
	fflush(stdout);
	pause();
	return 0;
}
