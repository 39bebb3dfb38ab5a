/*
 * watch_list: watch a directory with lib/watch and print one line per
 * ready file:  ready NAME SIZE SERIES VOLUME
 * then, at exit, the counters. For integration tests.
 *
 * usage: watch_list DIR [--poll] [--existing] [--count N] [--timeout-ms T]
 *                       [--file-timeout-ms T] [--poll-ms T] [--pattern GLOB]
 * It exits after N files, or when nothing arrived for --timeout-ms.
 */
#include "rtc_build.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "watch.h"

static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 100000000) {
		fprintf(stderr, "watch_list: bad number %s\n", s);
		exit(64);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "poll", no_argument, NULL, 'p' },
		{ "existing", no_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "file-timeout-ms", required_argument, NULL, 'f' },
		{ "poll-ms", required_argument, NULL, 'P' },
		{ "pattern", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	struct rtc_watch_opts o;
	struct rtc_watch_stats st;
	struct rtc_watch_file f;
	struct rtc_watch *w = NULL;
	char *cause = NULL;
	long count = 0, timeout = 5000, got = 0;
	int c, r;

	rtc_watch_opts_init(&o);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.mode = RTC_WATCH_POLL; break;
		case 'e': o.process_existing = 1; break;
		case 'c': count = num(optarg); break;
		case 't': timeout = num(optarg); break;
		case 'f': o.timeout_ms = (int)num(optarg); break;
		case 'P': o.poll_ms = (int)num(optarg); break;
		case 'g': o.pattern = optarg; break;
		default:
			fprintf(stderr, "usage: watch_list DIR [options]\n");
			return 64;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: watch_list DIR [options]\n");
		return 64;
	}
	if (rtc_watch_open(NULL, argv[optind], &o, &w, &cause) != RTC_OK) {
		fprintf(stderr, "watch_list: %s\n", cause ? cause : "cannot watch");
		free(cause);
		return 66;
	}
	printf("watching %s\n",
	    rtc_watch_mode_used(w) == RTC_WATCH_POLL ? "poll" : "inotify");
	fflush(stdout);
	while (count == 0 || got < count) {
		r = rtc_watch_next(w, (int)timeout, &f, &cause);
		if (r != RTC_OK)
			break;
		printf("ready %s %lld %d %d\n", f.name, (long long)f.size,
		    f.series, f.volume);
		fflush(stdout);
		got++;
	}
	rtc_watch_get_stats(w, &st);
	printf("stats ready=%llu rejected=%llu timed_out=%llu ignored=%llu\n",
	    st.ready, st.rejected, st.timed_out, st.ignored);
	rtc_watch_free(w);
	free(cause);
	return 0;
}
