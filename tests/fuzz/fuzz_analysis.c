/*
 * fuzz_analysis: what a project's custom-analysis process writes back on
 * its stdout (newline-delimited JSON replies), through the same code that
 * reads it in rtc_analysis_ext_process: the module is included here so
 * that its reader (drain: read, split lines, parse, apply the reply to the
 * awaited volume's record) runs on a socket the harness fills, with no
 * process behind it.
 *
 * Input: one flags byte (bit 0: the process closes its end after the
 * bytes; bit 1: no volume awaits a reply, so replies are late), then the
 * bytes the process writes. The awaited volume is seq 7.
 * Invariants: the record gets at most RTC_FB_MAX_VALUES values, each with
 * a valid name and a finite number, only from the awaited reply; a reply
 * settles the volume; a closed or misbehaving process is marked dead.
 * Seeds: tests/fuzz/corpus/analysis.
 */
#include "../../lib/analysis_ext.c"

#include "fuzz_common.h"

#define AWAITED 7

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_analysis_ext *a;
	struct rtc_fb_record rec;
	char *cause = NULL;
	size_t off = 0;
	int sv[2], done = 0, ret = RTC_OK, eof, late, i, r;

	if (size < 1)
		return 0;
	eof = data[0] & 1;
	late = (data[0] & 2) != 0;
	data++;
	size--;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	a = calloc(1, sizeof(*a));
	FUZZ_CHECK(a != NULL);
	a->ctx = fuzz_ctx();
	a->argv = calloc(2, sizeof(*a->argv));
	FUZZ_CHECK(a->argv != NULL);
	a->argv[0] = strdup("analysis");
	FUZZ_CHECK(a->argv[0] != NULL);
	a->fd = sv[0];
	a->pid = 0;          /* no process: reap() only closes the socket */
	(void)fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) | O_NONBLOCK);
	rtc_buf_init(&a->in, 2 * RTC_ANALYSIS_LINE_MAX);
	rtc_buf_init(&a->out, 0);
	a->seq = AWAITED;
	a->awaiting = late ? 0 : AWAITED;
	rtc_analysis_ext_opts_init(&a->o);

	/* what the process wrote, as much as the socket holds */
	(void)fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	while (off < size) {
		ssize_t n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (eof)
		close(sv[1]);

	rtc_fb_record_init(&rec);
	rec.run = 1;
	rec.vol = 3;
	r = drain(a, late ? NULL : &rec, late ? NULL : &done,
	    late ? NULL : &ret, &cause);
	if (late) {
		FUZZ_CHECK(rec.n_values == 0);
	} else if (done) {
		FUZZ_CHECK(a->awaiting == 0);
		FUZZ_CHECK(ret == RTC_OK || ret == RTC_ERR_PROTO);
		FUZZ_CHECK(ret == RTC_OK ? !(rec.flags & RTC_FB_ANALYSIS_FAILED) :
		    (rec.flags & RTC_FB_ANALYSIS_FAILED) != 0);
	} else {
		FUZZ_CHECK(rec.n_values == 0);
	}
	FUZZ_CHECK(rec.n_values >= 0 && rec.n_values <= RTC_FB_MAX_VALUES);
	for (i = 0; i < rec.n_values; i++) {
		FUZZ_CHECK(rtc_fb_valid_name(rec.values[i].name));
		FUZZ_CHECK(isfinite(rec.values[i].value));
	}
	if (r < 0)
		FUZZ_CHECK(a->fd < 0);
	else
		FUZZ_CHECK(a->fd >= 0);
	FUZZ_CHECK(a->in.len <= 2 * RTC_ANALYSIS_LINE_MAX);
	free(cause);
	if (!eof)
		close(sv[1]);
	rtc_analysis_ext_free(a);
	return 0;
}
