#include "rtc_build.h"

#include <math.h>

#include "check_common.h"
#include "error.h"
#include "fsutil.h"
#include "latency.h"

static void
rec(struct rtc_fb_record *r, int vol, double decoded, double motion,
    double glm, double fb)
{
	rtc_fb_record_init(r);
	r->run = 1;
	r->vol = vol;
	r->stage_ms[RTC_STAGE_DECODED] = decoded;
	r->stage_ms[RTC_STAGE_MOTION] = motion;
	r->stage_ms[RTC_STAGE_GLM] = glm;
	r->stage_ms[RTC_STAGE_FEEDBACK] = fb;
}

START_TEST(test_percentiles)
{
	struct rtc_latency *l = rtc_latency_new(16);
	struct rtc_lat_summary s;
	struct rtc_fb_record r;
	char text[256];
	int i;

	/* 100 samples, added out of order */
	for (i = 0; i < 100; i++) {
		rec(&r, i + 1, NAN, NAN, NAN, NAN);
		ck_assert_int_eq(rtc_latency_add(l, &r, (double)((i * 37) % 100 +
		    1)), RTC_OK);
	}
	ck_assert_uint_eq(rtc_latency_count(l), 100);
	rtc_latency_add_dropped(l, 2);
	ck_assert_int_eq(rtc_latency_summarise(l, &s), RTC_OK);
	ck_assert_uint_eq(s.volumes, 100);
	ck_assert_uint_eq(s.dropped, 2);
	ck_assert_double_eq(s.p50, 50);
	ck_assert_double_eq(s.p95, 95);
	ck_assert_double_eq(s.p99, 99);
	ck_assert_double_eq(s.max, 100);
	ck_assert_double_eq_tol(s.mean, 50.5, 1e-9);
	rtc_latency_summary_text(&s, text, sizeof(text));
	ck_assert_str_eq(text, "100 volumes, 2 dropped; latency p50 50.00 ms, "
	    "p95 95.00 ms, p99 99.00 ms, max 100.00 ms");
	rtc_latency_free(l);

	/* one sample; none */
	l = rtc_latency_new(0);
	rec(&r, 1, NAN, NAN, NAN, NAN);
	rtc_latency_add(l, &r, 7.5);
	rtc_latency_summarise(l, &s);
	ck_assert_double_eq(s.p50, 7.5);
	ck_assert_double_eq(s.p99, 7.5);
	ck_assert_double_eq(s.max, 7.5);
	rtc_latency_free(l);
	l = rtc_latency_new(0);
	rtc_latency_summarise(l, &s);
	ck_assert(isnan(s.p50));
	ck_assert(isnan(s.max));
	rtc_latency_summary_text(&s, text, sizeof(text));
	ck_assert_str_eq(text, "0 volumes, 0 dropped");
	ck_assert_ptr_null(rtc_latency_sample(l, 0));
	rtc_latency_free(l);
	rtc_latency_free(NULL);
}
END_TEST

/* Stage figures are durations from the previous stage that ran. */
START_TEST(test_stage_medians)
{
	struct rtc_latency *l = rtc_latency_new(4);
	struct rtc_lat_summary s;
	struct rtc_fb_record r;

	rec(&r, 1, 1.0, 3.0, 6.0, 7.0);
	rtc_latency_add(l, &r, 8.0);
	rec(&r, 2, 2.0, 3.0, 7.0, 8.0);
	rtc_latency_add(l, &r, 9.0);
	rec(&r, 3, 1.5, NAN, 5.5, 6.0);     /* motion skipped */
	rtc_latency_add(l, &r, 7.0);
	rtc_latency_summarise(l, &s);
	ck_assert_double_eq(s.stage_median[RTC_STAGE_INTAKE], 0.0);
	ck_assert_double_eq(s.stage_median[RTC_STAGE_DECODED], 1.5);
	/* motion durations 2, 1 -> nearest-rank median 1 */
	ck_assert_double_eq(s.stage_median[RTC_STAGE_MOTION], 1.0);
	/* glm: 3, 4, and 4 (from decoded, motion skipped) */
	ck_assert_double_eq(s.stage_median[RTC_STAGE_GLM], 4.0);
	ck_assert_double_eq(s.stage_median[RTC_STAGE_FEEDBACK], 1.0);
	ck_assert(isnan(s.stage_median[RTC_STAGE_SMOOTH]));
	rtc_latency_free(l);
}
END_TEST

/* The bench contract: {"volumes":N,"latency_ms":{"p50","p95","p99",
 * "max"},"stages_ms":{...},"threads":T}. */
START_TEST(test_summary_json)
{
	struct rtc_latency *l = rtc_latency_new(8);
	struct rtc_lat_summary s;
	struct rtc_fb_record r;
	json_t *j, *lat, *st;
	int i;

	for (i = 1; i <= 10; i++) {
		rec(&r, i, 0.5, 2.0, NAN, 3.0);
		rtc_latency_add(l, &r, 3.0 + i * 0.1);
	}
	rtc_latency_summarise(l, &s);
	j = rtc_latency_summary_json(&s, 2);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "volumes")), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "threads")), 2);
	lat = json_object_get(j, "latency_ms");
	ck_assert_double_eq_tol(json_real_value(json_object_get(lat, "p50")),
	    3.5, 1e-9);
	ck_assert_double_eq_tol(json_real_value(json_object_get(lat, "max")),
	    4.0, 1e-9);
	ck_assert_ptr_nonnull(json_object_get(lat, "p95"));
	ck_assert_ptr_nonnull(json_object_get(lat, "p99"));
	st = json_object_get(j, "stages_ms");
	ck_assert_double_eq(json_real_value(json_object_get(st, "decoded")), 0.5);
	ck_assert_double_eq(json_real_value(json_object_get(st, "motion")), 1.5);
	ck_assert_double_eq(json_real_value(json_object_get(st, "feedback")),
	    1.0);
	ck_assert_ptr_null(json_object_get(st, "glm"));
	ck_assert_ptr_null(json_object_get(st, "intake"));
	json_decref(j);
	j = rtc_latency_summary_json(&s, 0);
	ck_assert_ptr_null(json_object_get(j, "threads"));
	json_decref(j);
	rtc_latency_free(l);
}
END_TEST

START_TEST(test_tsv_and_growth)
{
	struct rtc_latency *l = rtc_latency_new(2);
	struct rtc_fb_record r;
	char *dir, *path, *data = NULL, *line2;
	size_t len = 0;
	int i;

	for (i = 1; i <= 5000; i++) {
		rec(&r, i, 0.25, NAN, 1.0, 1.5);
		ck_assert_int_eq(rtc_latency_add(l, &r, 2.0), RTC_OK);
	}
	ck_assert_uint_eq(rtc_latency_count(l), 5000);
	ck_assert_int_eq(rtc_latency_sample(l, 4999)->vol, 5000);
	dir = check_tmpdir();
	ck_assert_int_ne(asprintf(&path, "%s/lat.tsv", dir), -1);
	ck_assert_int_eq(rtc_latency_write_tsv(l, path, NULL), RTC_OK);
	ck_assert_int_eq(rtc_fs_read_file(path, 8 << 20, &data, &len, NULL),
	    RTC_OK);
	ck_assert_int_eq(strncmp(data, "run\tvol\tlatency_ms\tintake_ms\t"
	    "decoded_ms\tmotion_ms\tsmooth_ms\tglm_ms\troi_ms\tclassifier_ms\t"
	    "feedback_ms\n", 89), 0);
	line2 = strchr(data, '\n') + 1;
	ck_assert_int_eq(strncmp(line2, "1\t1\t2.000\t0.000\t0.250\tn/a\tn/a\t"
	    "1.000\tn/a\tn/a\t1.500\n", 46), 0);
	ck_assert_int_ne(rtc_latency_write_tsv(l, "/nonexistent/x.tsv", NULL),
	    RTC_OK);
	free(data);
	free(path);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
	rtc_latency_free(l);
}
END_TEST

START_TEST(test_status_line)
{
	struct rtc_status_line sl;
	struct rtc_fb_record r;
	char buf[256], *out = NULL;
	size_t outlen = 0;
	FILE *fp;

	rtc_fb_record_init(&r);
	r.run = 2;
	r.vol = 12;
	r.fd = 0.051;
	r.feedback = 0.42;
	rtc_status_format(buf, sizeof(buf), &r, 3.44, 0);
	ck_assert_str_eq(buf, "run 2 vol 12  latency 3.4 ms  FD 0.05 mm  "
	    "feedback 0.420");
	r.feedback = NAN;
	r.flags = RTC_FB_DUMMY;
	rtc_status_format(buf, sizeof(buf), &r, 3.44, 4);
	ck_assert_str_eq(buf, "run 2 vol 12  latency 3.4 ms  FD 0.05 mm  "
	    "feedback -  lag 4  (dummy)");

	/* on a terminal: one line redrawn in place */
	fp = open_memstream(&out, &outlen);
	rtc_status_init(&sl, fp, 1);
	r.flags = 0;
	r.vol = 1;
	rtc_status_update(&sl, &r, 1.0, 0);
	r.vol = 2;
	rtc_status_update(&sl, &r, 2.0, 0);
	rtc_status_finish(&sl);
	rtc_status_finish(&sl);
	fclose(fp);
	ck_assert_str_eq(out, "\r\033[Krun 2 vol 1  latency 1.0 ms  FD 0.05 mm  "
	    "feedback -\r\033[Krun 2 vol 2  latency 2.0 ms  FD 0.05 mm  "
	    "feedback -\n");
	free(out);

	/* not a terminal: plain lines */
	out = NULL;
	fp = open_memstream(&out, &outlen);
	rtc_status_init(&sl, fp, 0);
	rtc_status_update(&sl, &r, 2.0, 0);
	rtc_status_clear(&sl);
	rtc_status_finish(&sl);
	fclose(fp);
	ck_assert_str_eq(out, "run 2 vol 2  latency 2.0 ms  FD 0.05 mm  "
	    "feedback -\n");
	free(out);
}
END_TEST

static Suite *
latency_suite(void)
{
	Suite *s = suite_create("latency");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_percentiles);
	tcase_add_test(tc, test_stage_medians);
	tcase_add_test(tc, test_summary_json);
	tcase_add_test(tc, test_tsv_and_growth);
	tcase_add_test(tc, test_status_line);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(latency_suite)
