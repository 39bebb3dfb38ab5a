/*
 * clock: monotonic and wall time in the units the code uses everywhere.
 * Latency figures are differences of rtc_clock_mono_ns() readings.
 */
#ifndef RTC_CLOCK_H
#define RTC_CLOCK_H

#include <stdint.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>

/* RET: CLOCK_MONOTONIC in nanoseconds. */
static inline int64_t
rtc_clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* RET: CLOCK_REALTIME in seconds since the epoch, with fraction. */
static inline double
rtc_clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Format wall time t (epoch s) as ISO-8601 UTC with milliseconds. */
void rtc_clock_iso8601(double t, char *out, size_t outsz);

/* Sleep for ns nanoseconds, resuming after signals unless *stop is set. */
void rtc_clock_sleep_ns(int64_t ns, volatile const sig_atomic_t *stop);

#endif
