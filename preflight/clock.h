/* Monotonic milliseconds, for deadlines that wall-clock jumps must not
 * stretch or cut. */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

long long sg_now_ms(void);
void sg_sleep_ms(long ms); /* no-op for ms <= 0; resumes after signals */

#endif
