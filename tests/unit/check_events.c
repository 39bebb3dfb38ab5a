#include "rtc_build.h"

#include <math.h>

#include "check_common.h"
#include "error.h"
#include "events.h"
#include "hrf.h"

static struct rtc_events *
parse_ok(const char *text)
{
	struct rtc_events *e = NULL;
	char *cause = NULL;

	ck_assert_int_eq(rtc_events_new(&e), RTC_OK);
	ck_assert_msg(rtc_events_parse_tsv(e, text, strlen(text), &cause) ==
	    RTC_OK, "parse failed: %s", cause ? cause : "");
	free(cause);
	return e;
}

START_TEST(test_parse_bids)
{
	/* columns in any order, extra columns, CRLF, blank lines, no final
	 * newline */
	const char *tsv =
	    "trial_type\tresponse_time\tonset\tduration\r\n"
	    "faces\t0.81\t10.5\t2.0\r\n"
	    "houses\tn/a\t20\t2\r\n"
	    "\r\n"
	    "faces\t0.7\t30.25\t2.5\r\n"
	    "n/a\t0.5\t35\t1\r\n"
	    "fixation\t0.1\t40\tn/a";
	struct rtc_events *e = parse_ok(tsv);

	ck_assert_int_eq(rtc_events_ncond(e), 3);
	ck_assert_int_eq(rtc_events_nevents(e), 4);
	ck_assert_str_eq(rtc_events_cond_name(e, 0), "faces");
	ck_assert_str_eq(rtc_events_cond_name(e, 1), "houses");
	ck_assert_str_eq(rtc_events_cond_name(e, 2), "fixation");
	ck_assert_ptr_null(rtc_events_cond_name(e, 3));
	ck_assert_int_eq(rtc_events_cond_index(e, "houses"), 1);
	ck_assert_int_eq(rtc_events_cond_index(e, "cars"), -1);
	/* faces: the sum of its two blocks' responses */
	ck_assert_double_eq_tol(rtc_events_regressor(e, 0, 17.0),
	    rtc_hrf_response(NULL, 17.0, 10.5, 2.0), 1e-15);
	ck_assert_double_eq_tol(rtc_events_regressor(e, 0, 36.0),
	    rtc_hrf_response(NULL, 36.0, 10.5, 2.0) +
	    rtc_hrf_response(NULL, 36.0, 30.25, 2.5), 1e-15);
	/* fixation had duration n/a: an impulse */
	ck_assert_double_eq_tol(rtc_events_regressor(e, 2, 45.0),
	    rtc_hrf_value(NULL, 5.0), 1e-15);
	ck_assert_double_eq(rtc_events_regressor(e, 1, 19.0), 0.0);
	rtc_events_free(e);
	rtc_events_free(NULL);
}
END_TEST

START_TEST(test_parse_modulation_and_default_condition)
{
	struct rtc_events *e = parse_ok(
	    "onset\tduration\tmodulation\n"
	    "5\t10\t2.5\n"
	    "40\t10\tn/a\n");

	ck_assert_int_eq(rtc_events_ncond(e), 1);
	ck_assert_str_eq(rtc_events_cond_name(e, 0), "trial");
	ck_assert_double_eq_tol(rtc_events_regressor(e, 0, 12.0),
	    2.5 * rtc_hrf_response(NULL, 12.0, 5.0, 10.0), 1e-15);
	ck_assert_double_eq_tol(rtc_events_regressor(e, 0, 80.0),
	    2.5 * rtc_hrf_response(NULL, 80.0, 5.0, 10.0) +
	    rtc_hrf_response(NULL, 80.0, 40.0, 10.0), 1e-15);
	rtc_events_free(e);
}
END_TEST

START_TEST(test_parse_malformed)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{ "", RTC_ERR_FORMAT },
		{ "\n\n", RTC_ERR_FORMAT },
		{ "trial_type\tduration\nA\t1\n", RTC_ERR_FORMAT },
		{ "onset\ttrial_type\n1\tA\n", RTC_ERR_FORMAT },
		{ "onset\tduration\nabc\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\n1.2.3\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\nnan\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\ninf\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\n1e400\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\n 1\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\nn/a\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\n1\t-2\n", RTC_ERR_FORMAT },
		{ "onset\tduration\n1\t1\t7\n", RTC_ERR_FORMAT },
		{ "onset\tduration\tx\n1\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\tmodulation\n1\t1\tbig\n", RTC_ERR_FORMAT },
		{ "onset\tonset\tduration\n1\t1\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\n2e6\t1\n", RTC_ERR_FORMAT },
		{ "onset\tduration\ttrial_type\n1\t1\ta\x01" "b\n",
		    RTC_ERR_FORMAT },
		{ "onset\tduration\ttrial_type\n1\t1\t"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		    RTC_ERR_FORMAT },
	};
	struct rtc_events *e = NULL;
	char *cause = NULL;
	size_t i;

	ck_assert_int_eq(rtc_events_new(&e), RTC_OK);
	ck_assert_int_eq(rtc_events_add(e, "keep", 1.0, 1.0, 1.0, NULL),
	    RTC_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = rtc_events_parse_tsv(e, cases[i].text,
		    strlen(cases[i].text), &cause);

		ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d (%s)", i, rc,
		    cause ? cause : "");
		/* all or nothing: what was there stays, nothing is added */
		ck_assert_int_eq(rtc_events_nevents(e), 1);
		ck_assert_int_eq(rtc_events_ncond(e), 1);
	}
	/* a NUL byte */
	ck_assert_int_eq(rtc_events_parse_tsv(e, "onset\tduration\n1\0\t1\n",
	    18, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "NUL"));
	/* the error names the line */
	ck_assert_int_eq(rtc_events_parse_tsv(e, "onset\tduration\n1\t1\n"
	    "2\tx\n", 22, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "line 3"));
	ck_assert_int_eq(rtc_events_nevents(e), 1);
	free(cause);
	rtc_events_free(e);
}
END_TEST

START_TEST(test_limits)
{
	struct rtc_events *e = NULL;
	char *cause = NULL, *text;
	size_t len, off;
	int i;

	ck_assert_int_eq(rtc_events_new(&e), RTC_OK);
	/* an over-long line */
	len = RTC_EVENTS_MAX_LINE + 100;
	text = malloc(len + 32);
	off = (size_t)snprintf(text, 32, "onset\tduration\n1\t");
	memset(text + off, '1', len);
	text[off + len] = '\0';
	ck_assert_int_eq(rtc_events_parse_tsv(e, text, strlen(text), &cause),
	    RTC_ERR_TOO_BIG);
	free(text);
	/* too many conditions */
	text = malloc(100 * 32);
	off = (size_t)snprintf(text, 64, "onset\tduration\ttrial_type\n");
	for (i = 0; i < RTC_EVENTS_MAX_COND + 1; i++)
		off += (size_t)snprintf(text + off, 32, "%d\t1\tc%d\n", i, i);
	ck_assert_int_eq(rtc_events_parse_tsv(e, text, off, &cause),
	    RTC_ERR_TOO_BIG);
	ck_assert_int_eq(rtc_events_ncond(e), 0);
	free(text);
	/* over the byte cap */
	ck_assert_int_eq(rtc_events_parse_tsv(e, "x", RTC_EVENTS_MAX_BYTES + 1,
	    &cause), RTC_ERR_TOO_BIG);
	/* too many columns */
	text = malloc(4 * 300);
	off = (size_t)snprintf(text, 32, "onset\tduration");
	for (i = 0; i < 300; i++)
		off += (size_t)snprintf(text + off, 8, "\tx");
	text[off++] = '\n';
	ck_assert_int_eq(rtc_events_parse_tsv(e, text, off, &cause),
	    RTC_ERR_TOO_BIG);
	free(text);
	/* names and numbers through the API */
	ck_assert_int_eq(rtc_events_add(e, "", 1.0, 1.0, 1.0, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_add(e, "a\tb", 1.0, 1.0, 1.0, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_add(e, NULL, 1.0, 1.0, 1.0, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_add(e, "a", 1.0, -1.0, 1.0, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_add(e, "a", NAN, 1.0, 1.0, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_add(e, "a", 1.0, 1.0, INFINITY, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_nevents(e), 0);
	free(cause);
	rtc_events_free(e);
}
END_TEST

START_TEST(test_blocks_and_labels)
{
	struct rtc_events *e = NULL;
	char *cause = NULL;

	ck_assert_int_eq(rtc_events_new(&e), RTC_OK);
	/* 20 s on every 40 s from 10 s, twice, and one late "rest" event
	 * overlapping the second block */
	ck_assert_int_eq(rtc_events_add_blocks(e, "task", 10.0, 20.0, 40.0, 2,
	    &cause), RTC_OK);
	ck_assert_int_eq(rtc_events_add(e, "other", 65.0, 2.0, 1.0, &cause),
	    RTC_OK);
	ck_assert_int_eq(rtc_events_nevents(e), 3);
	ck_assert_int_eq(rtc_events_label(e, 9.9, 0.0), -1);
	ck_assert_int_eq(rtc_events_label(e, 10.0, 0.0), 0);
	ck_assert_int_eq(rtc_events_label(e, 29.9, 0.0), 0);
	ck_assert_int_eq(rtc_events_label(e, 30.0, 0.0), -1);
	ck_assert_int_eq(rtc_events_label(e, 52.0, 0.0), 0);
	/* the haemodynamic shift */
	ck_assert_int_eq(rtc_events_label(e, 14.0, 5.0), -1);
	ck_assert_int_eq(rtc_events_label(e, 15.0, 5.0), 0);
	ck_assert_int_eq(rtc_events_label(e, 34.0, 5.0), 0);
	/* two conditions at once */
	ck_assert_int_eq(rtc_events_label(e, 66.0, 0.0), -2);
	/* a plateau of 1 late in a long block */
	rtc_events_free(e);
	ck_assert_int_eq(rtc_events_new(&e), RTC_OK);
	ck_assert_int_eq(rtc_events_add_blocks(e, "long", 0.0, 200.0, 200.0, 1,
	    &cause), RTC_OK);
	ck_assert_double_eq_tol(rtc_events_regressor(e, 0, 100.0), 1.0, 1e-6);
	/* bad block definitions */
	ck_assert_int_eq(rtc_events_add_blocks(e, "x", 0.0, 30.0, 20.0, 3,
	    &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_add_blocks(e, "x", 0.0, 10.0, 20.0, 0,
	    &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_events_add_blocks(e, "x", 0.0, 10.0, -1.0, 3,
	    &cause), RTC_ERR_INVAL);
	/* a custom HRF */
	{
		struct rtc_hrf h;

		rtc_hrf_canonical(&h);
		h.ratio = 0.5;
		ck_assert_int_eq(rtc_events_set_hrf(e, &h), RTC_ERR_INVAL);
		h.ratio = 6.0;
		h.peak_delay = 5.0;
		ck_assert_int_eq(rtc_events_set_hrf(e, &h), RTC_OK);
	}
	free(cause);
	rtc_events_free(e);
}
END_TEST

START_TEST(test_load_file)
{
	struct rtc_events *e = NULL;
	char *dir = check_tmpdir(), path[512], *cause = NULL;
	const char *tsv = "onset\tduration\ttrial_type\n0\t10\tA\n20\t10\tB\n";

	snprintf(path, sizeof(path), "%s/sub-01_task-x_events.tsv", dir);
	ck_assert_int_eq(rtc_fs_write_atomic(path, tsv, strlen(tsv), 0644, 0,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_events_new(&e), RTC_OK);
	ck_assert_int_eq(rtc_events_load_tsv(e, path, &cause), RTC_OK);
	ck_assert_int_eq(rtc_events_ncond(e), 2);
	snprintf(path, sizeof(path), "%s/missing.tsv", dir);
	ck_assert_int_eq(rtc_events_load_tsv(e, path, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(rtc_events_ncond(e), 2);
	rtc_events_free(e);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
	free(cause);
}
END_TEST

Suite *events_suite(void);

Suite *
events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("events");

	tcase_add_test(tc, test_parse_bids);
	tcase_add_test(tc, test_parse_modulation_and_default_condition);
	tcase_add_test(tc, test_parse_malformed);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_blocks_and_labels);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(events_suite)
