#include "rtc_build.h"

#include "check_common.h"
#include "error.h"

START_TEST(test_strerror_all)
{
	int e;

	for (e = RTC_OK; e > RTC_ERR__LAST; e--) {
		ck_assert_ptr_nonnull(rtc_strerror(e));
		ck_assert_str_ne(rtc_strerror(e), "unknown error");
	}
	ck_assert_str_eq(rtc_strerror(12345), "unknown error");
}
END_TEST

START_TEST(test_exit_codes)
{
	ck_assert_int_eq(rtc_err_exit_code(RTC_OK), 0);
	ck_assert_int_eq(rtc_err_exit_code(RTC_ERR_INVAL), 64);
	ck_assert_int_eq(rtc_err_exit_code(RTC_ERR_FORMAT), 65);
	ck_assert_int_eq(rtc_err_exit_code(RTC_ERR_TRUNCATED), 65);
	ck_assert_int_eq(rtc_err_exit_code(RTC_ERR_NOT_FOUND), 66);
	ck_assert_int_eq(rtc_err_exit_code(RTC_ERR_UNAVAILABLE), 69);
	ck_assert_int_eq(rtc_err_exit_code(RTC_ERR_IO), 74);
	ck_assert_int_eq(rtc_err_exit_code(RTC_ERR_AGAIN), 75);
}
END_TEST

START_TEST(test_cause_set_and_wrap)
{
	char *cause = NULL;

	rtc_cause_set(&cause, "file %s: %d bytes missing", "a.dcm", 12);
	ck_assert_str_eq(cause, "file a.dcm: 12 bytes missing");
	rtc_cause_wrap(&cause, "series %d", 3);
	ck_assert_str_eq(cause, "series 3: file a.dcm: 12 bytes missing");
	rtc_cause_set(&cause, "fresh");
	ck_assert_str_eq(cause, "fresh");
	free(cause);
	/* NULL cause pointer is allowed and ignored */
	rtc_cause_set(NULL, "ignored %d", 1);
	rtc_cause_wrap(NULL, "ignored");
}
END_TEST

START_TEST(test_cause_wrap_empty)
{
	char *cause = NULL;

	rtc_cause_wrap(&cause, "only %s", "head");
	ck_assert_str_eq(cause, "only head");
	free(cause);
}
END_TEST

static Suite *
error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_strerror_all);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_cause_set_and_wrap);
	tcase_add_test(tc, test_cause_wrap_empty);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(error_suite)
