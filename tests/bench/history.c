/* history DIR: the "prove stapling first" gate's read cost. Writes 30 days
 * of hourly monitor observations for 100 targets, then times the check
 * of all 100 (the work a hook does). Prints the seconds taken. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../preflight/history.h"

#define TARGETS 100
#define HOURS	(30 * 24)

int main(int argc, char **argv)
{
	struct sg_target t[TARGETS];
	struct timespec a, b;
	time_t now = time(NULL);
	int failed = 0;

	if (argc != 2)
		return 2;
	for (int i = 0; i < TARGETS; i++) {
		char spec[32];

		snprintf(spec, sizeof(spec), "10.0.%d.%d:443", i / 250,
			 i % 250);
		sg_target_parse(spec, &t[i]);
		t[i].servername = "shop.example";
		for (int h = HOURS + 2; h >= 0; h--)
			sg_history_append(argv[1], &t[i], now - h * 3600L, true,
					  NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < TARGETS; i++)
		failed += sg_history_check(argv[1], &t[i], now, 30L * 86400,
					   86400)
				  .code != SG_OK;
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (int i = 0; i < TARGETS; i++)
		sg_target_free(&t[i]);
	printf("history gate: %d targets x %d hourly runs checked in %.4f s "
	       "(goal <= 0.2 s), %d failing\n",
	       TARGETS, HOURS,
	       (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
	       failed);
	return failed ? 1 : 0;
}
