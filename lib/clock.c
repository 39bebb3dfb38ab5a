/*
 * clock: the non-inline helpers of clock.h.
 */
#include "rtc_build.h"

#include <errno.h>
#include <stdio.h>

#include "clock.h"

void
rtc_clock_iso8601(double t, char *out, size_t outsz)
{
	time_t s = (time_t)t;
	struct tm tm;
	size_t n;
	int ms = (int)((t - (double)s) * 1000.0);

	if (ms < 0)
		ms = 0;
	if (ms > 999)
		ms = 999;
	gmtime_r(&s, &tm);
	n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n > 0 && n < outsz)
		snprintf(out + n, outsz - n, ".%03dZ", ms);
}

void
rtc_clock_sleep_ns(int64_t ns, volatile const sig_atomic_t *stop)
{
	struct timespec req, rem;

	if (ns <= 0)
		return;
	req.tv_sec = ns / 1000000000LL;
	req.tv_nsec = ns % 1000000000LL;
	while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
		if (stop != NULL && *stop)
			return;
		req = rem;
	}
}
