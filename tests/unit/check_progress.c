/*
 * check_progress: the status line (files, bytes, rate over a window, ETA,
 * bar), the plain and terminal renderings, and time formatting.
 */
#include "rtc_build.h"

#include "check_common.h"
#include "progress.h"

START_TEST(test_eta)
{
	char b[32];

	ck_assert_str_eq(rtc_progress_eta(0, b, sizeof(b)), "0s");
	ck_assert_str_eq(rtc_progress_eta(59.4, b, sizeof(b)), "59s");
	ck_assert_str_eq(rtc_progress_eta(61, b, sizeof(b)), "1m01s");
	ck_assert_str_eq(rtc_progress_eta(3599, b, sizeof(b)), "59m59s");
	ck_assert_str_eq(rtc_progress_eta(3700, b, sizeof(b)), "1h01m");
	ck_assert_str_eq(rtc_progress_eta(-1, b, sizeof(b)), "--");
	ck_assert_str_eq(rtc_progress_eta(1.0 / 0.0, b, sizeof(b)), "--");
	ck_assert_str_eq(rtc_progress_eta(1e9, b, sizeof(b)), "--");
}
END_TEST

/* Samples every second, 10 MiB each: 10 MiB/s over the window. */
static void
feed(struct rtc_progress *p, double t0, int n, long long step)
{
	int i;

	for (i = 0; i < n; i++) {
		p->st[p->si] = t0 + i;
		p->sb[p->si] = step * i;
		p->si = (p->si + 1) % RTC_PROGRESS_SAMPLES;
		if (p->ns < RTC_PROGRESS_SAMPLES)
			p->ns++;
	}
	p->bytes_done = step * (n - 1);
}

START_TEST(test_rate_window)
{
	struct rtc_progress p;
	double r;

	rtc_progress_init(&p, NULL, 0, "x");
	p.t0 = 0;
	ck_assert(rtc_progress_rate(&p, 1) == 0);
	feed(&p, 100, 10, 10LL << 20);
	/* now at the last sample: the window of 5 s holds 6 samples */
	r = rtc_progress_rate(&p, 109);
	ck_assert(r > 10.0 * 1048576 * 0.999 && r < 10.0 * 1048576 * 1.001);
	/* long after: nothing in the window, the average since the start */
	r = rtc_progress_rate(&p, 1000);
	ck_assert(r > 0 && r < (double)(90LL << 20) / 999);
}
END_TEST

START_TEST(test_format_listing_and_totals)
{
	struct rtc_progress p;
	char line[256];

	rtc_progress_init(&p, NULL, 0, "fetch");
	p.t0 = 0;
	p.files_done = 3;
	rtc_progress_format(&p, 1, 0, 0, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "fetch: 3 files (listing)"));
	ck_assert_ptr_nonnull(strstr(line, "ETA --"));

	rtc_progress_total(&p, 2500, 100LL << 20);
	feed(&p, 0, 6, 10LL << 20);
	p.files_done = 1200;
	rtc_progress_format(&p, 5, 0, 0, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "1200/2500 files"));
	ck_assert_ptr_nonnull(strstr(line, "50.0 MiB / 100.0 MiB"));
	ck_assert_ptr_nonnull(strstr(line, "10.0 MiB/s"));
	ck_assert_ptr_nonnull(strstr(line, "ETA 5s"));
	ck_assert_ptr_null(strstr(line, "failed"));
	rtc_progress_file(&p, 0);
	rtc_progress_format(&p, 5, 0, 0, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "1 failed"));
	ck_assert_ptr_nonnull(strstr(line, "1201/2500"));
}
END_TEST

START_TEST(test_format_bar)
{
	struct rtc_progress p;
	char line[256], *lb, *rb;
	int hashes = 0, dots = 0;

	rtc_progress_init(&p, NULL, 1, "fetch");
	p.t0 = 0;
	rtc_progress_total(&p, 4, 1000);
	p.bytes_done = 250;
	rtc_progress_format(&p, 1, 1, 100, line, sizeof(line));
	lb = strchr(line, '[');
	rb = strchr(line, ']');
	ck_assert(lb == line && rb != NULL);
	for (lb++; lb < rb; lb++) {
		hashes += *lb == '#';
		dots += *lb == '.';
	}
	ck_assert_int_eq(hashes + dots, rb - line - 1);
	ck_assert_int_eq(hashes * 4, hashes + dots);
	ck_assert_int_le(strlen(line), 100);
	/* a narrow terminal: no room for a bar, the line is cut */
	rtc_progress_format(&p, 1, 1, 30, line, sizeof(line));
	ck_assert(line[0] != '[');
	ck_assert_int_le(strlen(line), 30);
}
END_TEST

START_TEST(test_render)
{
	struct rtc_progress p;
	char buf[1024];
	FILE *f = tmpfile();
	size_t n;

	rtc_progress_init(&p, f, 0, "fetch");
	rtc_progress_total(&p, 1, 10);
	rtc_progress_tick(&p, 0);          /* not due yet */
	rtc_progress_tick(&p, 1);
	rtc_progress_end(&p);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "fetch: 0/1 files"));
	ck_assert(buf[n - 1] == '\n');
	ck_assert_ptr_null(strchr(buf, '\r'));
	fclose(f);

	f = tmpfile();
	rtc_progress_init(&p, f, 1, "fetch");
	rtc_progress_total(&p, 1, 10);
	rtc_progress_tick(&p, 1);
	rtc_progress_end(&p);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	ck_assert(buf[0] == '\r');
	ck_assert_ptr_nonnull(strstr(buf, "\033[K"));
	ck_assert_ptr_null(strchr(buf, '\n'));
	fclose(f);

	/* silent */
	rtc_progress_init(&p, NULL, 1, "fetch");
	rtc_progress_tick(&p, 1);
	rtc_progress_end(&p);
}
END_TEST

static Suite *
progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_add_test(tc, test_eta);
	tcase_add_test(tc, test_rate_window);
	tcase_add_test(tc, test_format_listing_and_totals);
	tcase_add_test(tc, test_format_bar);
	tcase_add_test(tc, test_render);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(progress_suite)
