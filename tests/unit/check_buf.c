#include "rtc_build.h"

#include "buf.h"
#include "check_common.h"
#include "error.h"

START_TEST(test_append_grow)
{
	struct rtc_buf b;
	int i;

	rtc_buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(rtc_buf_append(&b, "abc", 3), RTC_OK);
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(memcmp(b.data + 2997, "abc", 3), 0);
	rtc_buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_cap_enforced)
{
	struct rtc_buf b;

	rtc_buf_init(&b, 10);
	ck_assert_int_eq(rtc_buf_append(&b, "0123456789", 10), RTC_OK);
	ck_assert_int_eq(rtc_buf_append(&b, "x", 1), RTC_ERR_TOO_BIG);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(rtc_buf_printf(&b, "%d", 5), RTC_ERR_TOO_BIG);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_cap_overflow_size)
{
	struct rtc_buf b;

	rtc_buf_init(&b, 100);
	ck_assert_int_eq(rtc_buf_append(&b, "ab", 2), RTC_OK);
	ck_assert_int_eq(rtc_buf_reserve(&b, (size_t)-1), RTC_ERR_TOO_BIG);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_printf_consume_steal)
{
	struct rtc_buf b;
	char *s;

	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_buf_printf(&b, "%s-%04d", "vol", 7), RTC_OK);
	ck_assert_str_eq(b.data, "vol-0007");
	rtc_buf_consume(&b, 4);
	ck_assert_str_eq(b.data, "0007");
	rtc_buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	rtc_buf_append_str(&b, "kept");
	s = rtc_buf_steal(&b);
	ck_assert_str_eq(s, "kept");
	ck_assert_ptr_null(b.data);
	free(s);
	s = rtc_buf_steal(&b);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_reset_keeps_storage)
{
	struct rtc_buf b;
	char *p;

	rtc_buf_init(&b, 0);
	rtc_buf_append_str(&b, "hello");
	p = b.data;
	rtc_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_eq(b.data, p);
	ck_assert_str_eq(b.data, "");
	rtc_buf_free(&b);
	rtc_buf_free(NULL);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_append_grow);
	tcase_add_test(tc, test_cap_enforced);
	tcase_add_test(tc, test_cap_overflow_size);
	tcase_add_test(tc, test_printf_consume_steal);
	tcase_add_test(tc, test_reset_keeps_storage);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(buf_suite)
