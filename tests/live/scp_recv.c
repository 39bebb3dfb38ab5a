/*
 * scp_recv: a small receiver built on lib/scp for integration tests and
 * benchmarks. It listens, prints "port N" once ready, then one line per
 * object received:
 *     object ACQ SERIES SOP_INSTANCE_UID PIXEL_BYTES SHA256|- COMPLETE_MS
 * (COMPLETE_MS: monotonic ms since the receiver started), and at exit a
 * line of counters. It exits after --count objects, on SIGTERM/SIGINT,
 * or after --timeout seconds.
 *
 * usage: scp_recv [--port N] [--bind ADDR] [--aet AET] [--allow AET]...
 *                 [--count N] [--timeout S] [--no-digest] [--no-nodelay]
 *                 [--no-quickack]
 */
#include "rtc_build.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "scp.h"
#include "watch_dcm.h"

struct recv {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int count, want, digest;
	int64_t t0;
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
on_object(void *arg, struct rtc_scp_object *o)
{
	struct recv *r = arg;
	struct rtc_dcm_probe p;
	const char *sha = "-";

	if (r->digest) {
		if (rtc_watch_dcm_probe_buffer(o->data, o->len,
		    RTC_DCM_PROBE_DIGEST, &p, NULL) != RTC_OK)
			return RTC_ERR_FORMAT;
		sha = p.pixel_sha256;
	}
	printf("object %d %d %s %llu %s %.3f\n", o->acquisition_number,
	    o->series_number, o->sop_instance_uid, o->pixel_bytes, sha,
	    (double)(o->complete_ns - r->t0) / 1e6);
	fflush(stdout);
	pthread_mutex_lock(&r->mu);
	r->count++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return RTC_OK;
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "scp_recv: bad number %s\n", s);
		exit(64);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "aet", required_argument, NULL, 'a' },
		{ "allow", required_argument, NULL, 'A' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-digest", no_argument, NULL, 'D' },
		{ "no-nodelay", no_argument, NULL, 'N' },
		{ "no-quickack", no_argument, NULL, 'Q' },
		{ NULL, 0, NULL, 0 }
	};
	const char *allow[17];
	struct rtc_scp_opts o;
	struct rtc_scp_stats st;
	struct rtc_scp *s = NULL;
	struct recv r;
	struct sigaction sa;
	char *cause = NULL;
	int nallow = 0, c, timeout = 60;
	int64_t deadline;

	memset(&r, 0, sizeof(r));
	r.digest = 1;
	rtc_scp_opts_init(&o);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.port = (int)num(optarg, 0, 65535); break;
		case 'b': o.bind_addr = optarg; break;
		case 'a': o.aet = optarg; break;
		case 'A':
			if (nallow < 16)
				allow[nallow++] = optarg;
			break;
		case 'c': r.want = (int)num(optarg, 0, 1000000); break;
		case 't': timeout = (int)num(optarg, 1, 86400); break;
		case 'D': r.digest = 0; break;
		case 'N': o.nodelay = 0; break;
		case 'Q': o.quickack = 0; break;
		default:
			fprintf(stderr, "usage: scp_recv [--port N] [--bind ADDR] "
			    "[--aet AET] [--allow AET]... [--count N] "
			    "[--timeout S] [--no-digest] [--no-nodelay] "
			    "[--no-quickack]\n");
			return 64;
		}
	}
	allow[nallow] = NULL;
	if (nallow > 0)
		o.allow_calling = allow;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.t0 = rtc_clock_mono_ns();
	o.on_object = on_object;
	o.arg = &r;
	if (rtc_scp_start(NULL, &o, &s, &cause) != RTC_OK) {
		fprintf(stderr, "scp_recv: %s\n", cause ? cause : "cannot start");
		free(cause);
		return 69;
	}
	printf("port %d\n", rtc_scp_port(s));
	fflush(stdout);
	deadline = rtc_clock_mono_ns() + (int64_t)timeout * 1000000000LL;
	pthread_mutex_lock(&r.mu);
	while (!stop_flag && (r.want == 0 || r.count < r.want) &&
	    rtc_clock_mono_ns() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r.cv, &r.mu, &ts);
	}
	pthread_mutex_unlock(&r.mu);
	/* let the last C-STORE response and the release go out */
	for (c = 0; c < 100; c++) {
		struct timespec ts = { 0, 10 * 1000000L };

		rtc_scp_get_stats(s, &st);
		if (st.active == 0)
			break;
		nanosleep(&ts, NULL);
	}
	rtc_scp_get_stats(s, &st);
	rtc_scp_free(s);
	printf("stats associations=%llu rejected=%llu aborted=%llu objects=%llu "
	    "refused=%llu echoes=%llu nodelay=%llu bytes=%llu\n",
	    st.associations, st.rejected, st.aborted, st.objects,
	    st.refused_objects, st.echoes, st.nodelay_sockets, st.bytes);
	return r.want > 0 && r.count < r.want ? 75 : 0;
}
