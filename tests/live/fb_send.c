/*
 * fb_send: write records through lib/feedback at a steady pace, as the
 * pipeline does, and report how long each write took. For integration
 * tests and benchmarks.
 *
 * usage: fb_send [--tcp URL] [--files DIR] [--count N] [--interval-ms I]
 *                [--backlog B] [--flush-ms F]
 * prints: "max_write_ms X", "p50_write_ms X", then the output counters.
 */
#include "rtc_build.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "feedback.h"

static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 100000000) {
		fprintf(stderr, "fb_send: bad number %s\n", s);
		exit(64);
	}
	return v;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tcp", required_argument, NULL, 't' },
		{ "files", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "flush-ms", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct rtc_feedback_opts o;
	struct rtc_feedback_stats st;
	struct rtc_feedback *fb = NULL;
	struct rtc_fb_record r;
	char *cause = NULL;
	double *ms;
	long count = 10, interval = 100, flush = 5000, i;
	int c;

	rtc_feedback_opts_init(&o);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't': o.tcp = optarg; break;
		case 'f': o.files_dir = optarg; break;
		case 'c': count = num(optarg); break;
		case 'i': interval = num(optarg); break;
		case 'b': o.backlog = (size_t)num(optarg); break;
		case 'F': flush = num(optarg); break;
		default:
			fprintf(stderr, "usage: fb_send [--tcp URL] [--files DIR] "
			    "[--count N] [--interval-ms I] [--backlog B]\n");
			return 64;
		}
	}
	if (rtc_feedback_open(NULL, &o, &fb, &cause) != RTC_OK) {
		fprintf(stderr, "fb_send: %s\n", cause ? cause : "cannot open");
		free(cause);
		return 69;
	}
	ms = calloc((size_t)count + 1, sizeof(*ms));
	if (ms == NULL)
		return 70;
	for (i = 1; i <= count; i++) {
		struct timespec ts = { interval / 1000,
		    (interval % 1000) * 1000000L };
		int64_t t0;

		rtc_fb_record_init(&r);
		r.run = 1;
		r.vol = (int)i;
		r.series = 13;
		r.intake_ns = rtc_clock_mono_ns();
		r.feedback = (double)i / 10.0;
		rtc_fb_record_set_roi(&r, "target.psc", (double)i / 100.0);
		rtc_fb_record_stamp(&r, RTC_STAGE_FEEDBACK);
		t0 = rtc_clock_mono_ns();
		if (rtc_feedback_write(fb, &r, &cause) != RTC_OK) {
			fprintf(stderr, "fb_send: %s\n", cause ? cause : "write");
			free(cause);
			cause = NULL;
		}
		ms[i - 1] = (double)(rtc_clock_mono_ns() - t0) / 1e6;
		nanosleep(&ts, NULL);
	}
	(void)rtc_feedback_flush(fb, (int)flush);
	rtc_feedback_get_stats(fb, &st);
	qsort(ms, (size_t)count, sizeof(*ms), cmp);
	printf("max_write_ms %.3f\n", count > 0 ? ms[count - 1] : 0.0);
	printf("p50_write_ms %.3f\n", count > 0 ? ms[(count - 1) / 2] : 0.0);
	printf("stats lines=%llu sent=%llu lost=%llu connects=%llu "
	    "disconnects=%llu files=%llu backlog=%zu nodelay=%d\n", st.lines,
	    st.sent, st.lost, st.connects, st.disconnects, st.files, st.backlog,
	    st.nodelay);
	rtc_feedback_free(fb);
	free(ms);
	return 0;
}
