#include "rtc_build.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "check_common.h"
#include "clock.h"
#include "error.h"
#include "feedback.h"
#include "fsutil.h"

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
make_record(struct rtc_fb_record *r, int run, int vol)
{
	rtc_fb_record_init(r);
	r->run = run;
	r->vol = vol;
	r->series = 13;
	r->intake_ns = rtc_clock_mono_ns();
	r->acquisition_time = 45670.3275;
	r->feedback = vol * 0.5;
	ck_assert_int_eq(rtc_fb_record_set_roi(r, "target.psc", 0.25 * vol),
	    RTC_OK);
	r->motion[0] = 0.1;
	r->fd = 0.05;
}

/* ---- a real TCP listener (the stimulus computer) ---------------------- */

static int
listen_on(int port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	return fd;
}

static int
port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	return ntohs(sa.sin_port);
}

static int
accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	ck_assert_int_eq(poll(&p, 1, ms), 1);
	return accept(lfd, NULL, NULL);
}

struct reader {
	int fd;
	char buf[1 << 16];
	size_t len;
};

/* Read one line (without newline) into out. RET: 1, or 0 on EOF/timeout. */
static int
read_line(struct reader *rd, char *out, size_t outsz, int ms)
{
	int64_t deadline = rtc_clock_mono_ns() + (int64_t)ms * 1000000;

	for (;;) {
		char *nl = memchr(rd->buf, '\n', rd->len);
		struct pollfd p = { .fd = rd->fd, .events = POLLIN };
		int64_t left;
		ssize_t n;

		if (nl != NULL) {
			size_t k = (size_t)(nl - rd->buf);

			ck_assert_uint_lt(k, outsz);
			memcpy(out, rd->buf, k);
			out[k] = '\0';
			memmove(rd->buf, nl + 1, rd->len - k - 1);
			rd->len -= k + 1;
			return 1;
		}
		left = deadline - rtc_clock_mono_ns();
		if (left <= 0 || poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			return 0;
		ck_assert_uint_lt(rd->len, sizeof(rd->buf));
		n = read(rd->fd, rd->buf + rd->len, sizeof(rd->buf) - rd->len);
		if (n <= 0)
			return 0;
		rd->len += (size_t)n;
	}
}

/* Read a line and return its "vol" (the line must be whole JSON). */
static int
read_vol(struct reader *rd, int ms)
{
	char line[RTC_FB_LINE_MAX];
	json_error_t err;
	json_t *j;
	int vol;

	if (!read_line(rd, line, sizeof(line), ms))
		return -1;
	j = json_loads(line, 0, &err);
	ck_assert_msg(j != NULL, "not JSON: %s (%s)", line, err.text);
	vol = (int)json_integer_value(json_object_get(j, "vol"));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "trId")), vol);
	json_decref(j);
	return vol;
}

static struct rtc_feedback *
open_tcp(int port, size_t backlog)
{
	struct rtc_feedback_opts o;
	struct rtc_feedback *fb = NULL;
	char url[64];
	char *cause = NULL;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	rtc_feedback_opts_init(&o);
	o.tcp = url;
	o.backlog = backlog;
	o.retry_min_ms = 20;
	o.retry_max_ms = 200;
	ck_assert_msg(rtc_feedback_open(NULL, &o, &fb, &cause) == RTC_OK,
	    "open: %s", cause ? cause : "");
	return fb;
}

/* ---- record and JSON -------------------------------------------------- */

START_TEST(test_record_helpers)
{
	struct rtc_fb_record r;
	int i;

	rtc_fb_record_init(&r);
	ck_assert(isnan(r.feedback));
	ck_assert(isnan(r.fd));
	ck_assert_double_eq(r.stage_ms[RTC_STAGE_INTAKE], 0.0);
	ck_assert(isnan(r.stage_ms[RTC_STAGE_GLM]));
	ck_assert_int_eq(r.series, -1);
	ck_assert_int_eq(rtc_fb_record_set_roi(&r, "v1.psc", 1.0), RTC_OK);
	ck_assert_int_eq(rtc_fb_record_set_roi(&r, "v1.psc", 2.0), RTC_OK);
	ck_assert_int_eq(r.n_roi, 1);
	ck_assert_double_eq(r.roi[0].value, 2.0);
	ck_assert_int_eq(rtc_fb_record_set_roi(&r, "bad name", 1), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_fb_record_set_roi(&r, "q\"uote", 1), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_fb_record_set_roi(&r, "", 1), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_fb_record_set_value(&r,
	    "a_name_that_is_thirty_two_chars_", 1), RTC_ERR_INVAL);
	for (i = 0; i < RTC_FB_MAX_VALUES; i++) {
		char n[16];

		snprintf(n, sizeof(n), "v%d", i);
		ck_assert_int_eq(rtc_fb_record_set_value(&r, n, i), RTC_OK);
	}
	ck_assert_int_eq(rtc_fb_record_set_value(&r, "one_more", 1),
	    RTC_ERR_TOO_BIG);
	r.intake_ns = rtc_clock_mono_ns() - 5 * 1000000LL;
	rtc_fb_record_stamp(&r, RTC_STAGE_MOTION);
	ck_assert(r.stage_ms[RTC_STAGE_MOTION] >= 5.0);
	ck_assert(r.stage_ms[RTC_STAGE_MOTION] < 5000.0);
	ck_assert_str_eq(rtc_stage_name(RTC_STAGE_CLASSIFIER), "classifier");
	ck_assert_ptr_null(rtc_stage_name(RTC_STAGE__COUNT));
	ck_assert_str_eq(rtc_fb_flag_name(RTC_FB_MOTION_OUTLIER),
	    "motion_outlier");
	ck_assert_ptr_null(rtc_fb_flag_name(3));
	ck_assert_str_eq(rtc_fb_motion_name(5), "rot_z");
}
END_TEST

START_TEST(test_encode)
{
	struct rtc_fb_encoder *e = rtc_fb_encoder_new();
	struct rtc_fb_record r;
	const char *line;
	size_t len;
	json_t *j, *x;
	int pass;

	ck_assert_ptr_nonnull(e);
	for (pass = 0; pass < 3; pass++) {
		make_record(&r, 2, 7 + pass);
		r.flags = RTC_FB_LAGGING | RTC_FB_MOTION_OUTLIER;
		r.stage_ms[RTC_STAGE_DECODED] = 1.5;
		r.wall_time = 1732000000.125;
		if (pass == 1)
			r.feedback = NAN;     /* number -> null */
		if (pass == 2)
			ck_assert_int_eq(rtc_fb_record_set_roi(&r, "other.z",
			    -1.25), RTC_OK);
		ck_assert_int_eq(rtc_fb_encode(e, &r, &line, &len), RTC_OK);
		ck_assert_int_eq(line[len], '\n');
		ck_assert_ptr_null(memchr(line, '\n', len));
		j = json_loadb(line, len, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "run")), 2);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "vol")),
		    7 + pass);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "series")),
		    13);
		ck_assert_double_eq_tol(json_real_value(json_object_get(j,
		    "acquisition_time")), 45670.3275, 1e-9);
		x = json_object_get(j, "feedback");
		if (pass == 1) {
			ck_assert(json_is_null(x));
			ck_assert(json_is_null(json_object_get(j, "value")));
		} else {
			ck_assert_double_eq(json_real_value(x), (7 + pass) * 0.5);
			ck_assert_double_eq(json_real_value(json_object_get(j,
			    "value")), (7 + pass) * 0.5);
		}
		ck_assert(json_is_null(json_object_get(j, "decision")));
		ck_assert_double_eq(json_real_value(json_object_get(
		    json_object_get(j, "roi"), "target.psc")), 0.25 * (7 + pass));
		ck_assert_int_eq(json_object_size(json_object_get(j, "roi")),
		    pass == 2 ? 2 : 1);
		x = json_object_get(j, "motion");
		ck_assert_double_eq(json_real_value(json_object_get(x,
		    "trans_x")), 0.1);
		ck_assert(json_is_null(json_object_get(x, "rot_z")));
		ck_assert_double_eq(json_real_value(json_object_get(j,
		    "framewise_displacement")), 0.05);
		x = json_object_get(j, "flags");
		ck_assert(json_is_true(json_object_get(x, "lagging")));
		ck_assert(json_is_true(json_object_get(x, "motion_outlier")));
		ck_assert(json_is_false(json_object_get(x, "dummy")));
		ck_assert_int_eq(json_object_size(x), RTC_FB_NFLAGS);
		x = json_object_get(j, "stages_ms");
		ck_assert_int_eq(json_object_size(x), RTC_STAGE__COUNT);
		ck_assert_double_eq(json_number_value(json_object_get(x,
		    "intake")), 0.0);
		ck_assert_double_eq(json_real_value(json_object_get(x,
		    "decoded")), 1.5);
		ck_assert(json_is_null(json_object_get(x, "glm")));
		ck_assert_int_eq(json_integer_value(json_object_get(j, "runId")),
		    2);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "trId")),
		    7 + pass);
		ck_assert_double_eq(json_real_value(json_object_get(j,
		    "timestamp")), 1732000000.125);
		json_decref(j);
	}
	/* the same through the one-shot tree */
	j = rtc_fb_record_to_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "vol")), 9);
	json_decref(j);
	rtc_fb_encoder_free(e);
	rtc_fb_encoder_free(NULL);
}
END_TEST

START_TEST(test_parse_url)
{
	char host[256];
	int port = 0;
	char *cause = NULL;

	ck_assert_int_eq(rtc_feedback_parse_url("tcp://stim.lab:5000", host,
	    sizeof(host), &port, NULL), RTC_OK);
	ck_assert_str_eq(host, "stim.lab");
	ck_assert_int_eq(port, 5000);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://[::1]:7", host,
	    sizeof(host), &port, NULL), RTC_OK);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 7);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://10.0.0.2:65535", host,
	    sizeof(host), &port, NULL), RTC_OK);
	ck_assert_int_eq(rtc_feedback_parse_url("udp://h:1", host, sizeof(host),
	    &port, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "tcp://"));
	free(cause);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://h:0", host, sizeof(host),
	    &port, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://h:70000", host,
	    sizeof(host), &port, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://:80", host, sizeof(host),
	    &port, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://h", host, sizeof(host),
	    &port, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://a b:1", host,
	    sizeof(host), &port, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_feedback_parse_url("tcp://h:12x", host,
	    sizeof(host), &port, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_feedback_parse_url(NULL, host, sizeof(host), &port,
	    NULL), RTC_ERR_INVAL);
}
END_TEST

/* --files: run{R}_TR{T}.json, atomically, nothing else in the dir. */
START_TEST(test_files)
{
	struct rtc_feedback_opts o;
	struct rtc_feedback_stats st;
	struct rtc_feedback *fb;
	struct rtc_fb_record r;
	char *dir, *sub, *path, *data = NULL;
	size_t len = 0;
	json_t *j;
	DIR *d;
	struct dirent *de;
	int n = 0, i;

	dir = check_tmpdir();
	ck_assert_int_ne(asprintf(&sub, "%s/out/feedback", dir), -1);
	rtc_feedback_opts_init(&o);
	o.files_dir = sub;
	ck_assert_int_eq(rtc_feedback_open(NULL, &o, &fb, NULL), RTC_OK);
	for (i = 1; i <= 3; i++) {
		make_record(&r, 2, i);
		ck_assert_int_eq(rtc_feedback_write(fb, &r, NULL), RTC_OK);
	}
	rtc_feedback_get_stats(fb, &st);
	ck_assert_uint_eq(st.files, 3);
	ck_assert_uint_eq(st.lines, 3);
	ck_assert_int_eq(rtc_feedback_flush(fb, 10), RTC_OK);
	rtc_feedback_free(fb);
	ck_assert_int_ne(asprintf(&path, "%s/run2_TR3.json", sub), -1);
	ck_assert_int_eq(rtc_fs_read_file(path, 1 << 20, &data, &len, NULL),
	    RTC_OK);
	ck_assert_int_eq(data[len - 1], '\n');
	j = json_loads(data, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "runId")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "trId")), 3);
	ck_assert_double_eq(json_real_value(json_object_get(j, "value")), 1.5);
	json_decref(j);
	d = opendir(sub);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0))
			continue;
		ck_assert_msg(strncmp(de->d_name, "run2_TR", 7) == 0,
		    "stray file %s", de->d_name);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, 3);
	free(data);
	free(path);
	free(sub);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* The stimulus computer's listener goes away mid-run and comes back:
 * the pipeline is never held up, and no line is lost (backlog large
 * enough). */
START_TEST(test_listener_disconnects_and_returns)
{
	struct rtc_feedback_stats st;
	struct rtc_feedback *fb;
	struct rtc_fb_record r;
	struct reader rd;
	int lfd, port, i;
	int64_t max_gone = 0;

	lfd = listen_on(0);
	port = port_of(lfd);
	fb = open_tcp(port, 1000);
	memset(&rd, 0, sizeof(rd));
	rd.fd = accept_within(lfd, 5000);
	ck_assert_int_ge(rd.fd, 0);
	for (i = 1; i <= 10; i++) {
		make_record(&r, 1, i);
		ck_assert_int_eq(rtc_feedback_write(fb, &r, NULL), RTC_OK);
	}
	for (i = 1; i <= 10; i++)
		ck_assert_int_eq(read_vol(&rd, 5000), i);
	/* gone: listening socket and connection closed */
	close(lfd);
	close(rd.fd);
	for (i = 11; i <= 40; i++) {
		int64_t t0 = rtc_clock_mono_ns(), dt;

		make_record(&r, 1, i);
		ck_assert_int_eq(rtc_feedback_write(fb, &r, NULL), RTC_OK);
		dt = rtc_clock_mono_ns() - t0;
		if (dt > max_gone)
			max_gone = dt;
		sleep_ms(i == 11 ? 0 : 5);
	}
	fprintf(stderr, "# feedback write while the listener is gone: "
	    "max %.3f ms over 30 writes\n", (double)max_gone / 1e6);
	ck_assert_int_lt(max_gone, 50 * 1000000LL);
	rtc_feedback_get_stats(fb, &st);
	ck_assert_int_eq(st.connected, 0);
	ck_assert_uint_ge(st.backlog, 29);
	/* back on the same port */
	lfd = listen_on(port);
	memset(&rd, 0, sizeof(rd));
	rd.fd = accept_within(lfd, 5000);
	ck_assert_int_ge(rd.fd, 0);
	for (i = 11; i <= 40; i++)
		ck_assert_int_eq(read_vol(&rd, 5000), i);
	ck_assert_int_eq(rtc_feedback_flush(fb, 2000), RTC_OK);
	rtc_feedback_get_stats(fb, &st);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.sent, 40);
	ck_assert_uint_eq(st.connects, 2);
	ck_assert_uint_eq(st.disconnects, 1);
	ck_assert_int_eq(st.nodelay, 1);
	ck_assert_uint_eq(st.backlog, 0);
	rtc_feedback_free(fb);
	close(rd.fd);
	close(lfd);
}
END_TEST

/* A small backlog: the newest lines are kept, the rest counted lost. */
START_TEST(test_backlog_keeps_newest)
{
	struct rtc_feedback_stats st;
	struct rtc_feedback *fb;
	struct rtc_fb_record r;
	struct reader rd;
	int lfd, port, i;

	lfd = listen_on(0);
	port = port_of(lfd);
	close(lfd);                  /* nobody there at first */
	fb = open_tcp(port, 5);
	for (i = 1; i <= 20; i++) {
		make_record(&r, 3, i);
		ck_assert_int_eq(rtc_feedback_write(fb, &r, NULL), RTC_OK);
	}
	ck_assert_int_eq(rtc_feedback_flush(fb, 100), RTC_ERR_TIMEOUT);
	rtc_feedback_get_stats(fb, &st);
	ck_assert_uint_eq(st.lost, 15);
	ck_assert_uint_eq(st.backlog, 5);
	lfd = listen_on(port);
	memset(&rd, 0, sizeof(rd));
	rd.fd = accept_within(lfd, 5000);
	for (i = 16; i <= 20; i++)
		ck_assert_int_eq(read_vol(&rd, 5000), i);
	ck_assert_int_eq(rtc_feedback_flush(fb, 2000), RTC_OK);
	rtc_feedback_free(fb);
	close(rd.fd);
	close(lfd);
}
END_TEST

/* A listener that connects but does not read: writes never block, lines
 * queue, and when it reads at last it gets whole lines in order. */
START_TEST(test_slow_listener)
{
	struct rtc_feedback_stats st;
	struct rtc_feedback *fb;
	struct rtc_fb_record r;
	struct reader rd;
	int lfd, i, got = 0, last = 0, v;
	const int n = 4000;

	lfd = listen_on(0);
	{
		/* a small window from the handshake on (inherited) */
		int small = 16384;

		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	fb = open_tcp(port_of(lfd), 500);
	memset(&rd, 0, sizeof(rd));
	rd.fd = accept_within(lfd, 5000);
	for (i = 1; i <= n; i++) {
		int k;

		make_record(&r, 1, i);
		for (k = 0; k < RTC_FB_MAX_ROI; k++) {
			char name[32];

			snprintf(name, sizeof(name), "roi_number_%02d.psc", k);
			rtc_fb_record_set_roi(&r, name, k * 1.5);
		}
		ck_assert_int_eq(rtc_feedback_write(fb, &r, NULL), RTC_OK);
	}
	rtc_feedback_get_stats(fb, &st);
	fprintf(stderr, "# feedback write with a listener that does not read: "
	    "max %.3f ms, %llu lost, %zu waiting\n",
	    (double)st.max_write_ns / 1e6, st.lost, st.backlog);
	ck_assert_int_lt(st.max_write_ns, 50 * 1000000LL);
	ck_assert_uint_gt(st.lost, 0);
	while ((v = read_vol(&rd, 1000)) > 0) {
		ck_assert_int_gt(v, last);
		last = v;
		got++;
	}
	ck_assert_int_eq(last, n);
	rtc_feedback_get_stats(fb, &st);
	ck_assert_uint_eq((unsigned long long)got + st.lost, n);
	rtc_feedback_free(fb);
	close(rd.fd);
	close(lfd);
}
END_TEST

START_TEST(test_bad_options)
{
	struct rtc_feedback_opts o;
	struct rtc_feedback *fb = NULL;
	char *cause = NULL;

	rtc_feedback_opts_init(&o);
	o.tcp = "tcp://nohost";
	ck_assert_int_eq(rtc_feedback_open(NULL, &o, &fb, &cause),
	    RTC_ERR_INVAL);
	free(cause);
	cause = NULL;
	rtc_feedback_opts_init(&o);
	o.files_dir = "/proc/self/no/such/dir";
	ck_assert_int_ne(rtc_feedback_open(NULL, &o, &fb, &cause), RTC_OK);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	rtc_feedback_opts_init(&o);
	o.backlog = 0;
	ck_assert_int_eq(rtc_feedback_open(NULL, &o, &fb, NULL), RTC_ERR_INVAL);
	/* no output at all is allowed: records are only counted */
	ck_assert_int_eq(rtc_feedback_open(NULL, NULL, &fb, NULL), RTC_OK);
	rtc_feedback_free(fb);
	rtc_feedback_free(NULL);
}
END_TEST

static Suite *
feedback_suite(void)
{
	Suite *s = suite_create("feedback");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_record_helpers);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_parse_url);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_listener_disconnects_and_returns);
	tcase_add_test(tc, test_backlog_keeps_newest);
	tcase_add_test(tc, test_slow_listener);
	tcase_add_test(tc, test_bad_options);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(feedback_suite)
