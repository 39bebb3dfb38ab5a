#include "rtc_build.h"

#include <sys/wait.h>

#include "buf.h"
#include "check_common.h"
#include "clock.h"
#include "error.h"
#include "process.h"

START_TEST(test_capture_stdout_stderr_status)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
	    NULL };
	struct rtc_buf out, err;
	int status = 0;

	rtc_buf_init(&out, 1024);
	rtc_buf_init(&err, 1024);
	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, &out, &err, 5000,
	    &status, NULL), RTC_OK);
	ck_assert_str_eq(out.data, "out\n");
	ck_assert_str_eq(err.data, "err\n");
	ck_assert_int_eq(rtc_process_exit_status(status), 3);
	rtc_buf_free(&out);
	rtc_buf_free(&err);
}
END_TEST

START_TEST(test_stdin_fed)
{
	const char *argv[] = { "cat", NULL };
	struct rtc_buf out;
	int status = 0;
	char *input = malloc(200001);

	/* larger than a pipe buffer: both directions must flow */
	memset(input, 'z', 200000);
	input[200000] = '\0';
	rtc_buf_init(&out, 1 << 20);
	ck_assert_int_eq(rtc_process_run(argv, NULL, input, &out, NULL, 5000,
	    &status, NULL), RTC_OK);
	ck_assert_uint_eq(out.len, 200000);
	ck_assert_int_eq(rtc_process_exit_status(status), 0);
	rtc_buf_free(&out);
	free(input);
}
END_TEST

START_TEST(test_timeout_kills)
{
	const char *argv[] = { "sleep", "10", NULL };
	char *cause = NULL;
	int64_t t0 = rtc_clock_mono_ns();

	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, NULL, NULL, 200,
	    NULL, &cause), RTC_ERR_TIMEOUT);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 5000000000LL);
	ck_assert_ptr_nonnull(strstr(cause, "sleep"));
	free(cause);
}
END_TEST

START_TEST(test_missing_program)
{
	const char *argv[] = { "rtc-no-such-program", NULL };
	char *cause = NULL;

	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, NULL, NULL, 1000,
	    NULL, &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "rtc-no-such-program"));
	free(cause);
}
END_TEST

START_TEST(test_no_shell_interpretation)
{
	/* an argument full of shell syntax reaches the program verbatim */
	const char *argv[] = { "printf", "%s", "$(touch /tmp/rtc-pwned); `id`",
	    NULL };
	struct rtc_buf out;
	int status;

	rtc_buf_init(&out, 1024);
	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, &out, NULL, 5000,
	    &status, NULL), RTC_OK);
	ck_assert_str_eq(out.data, "$(touch /tmp/rtc-pwned); `id`");
	ck_assert(!rtc_fs_is_file("/tmp/rtc-pwned"));
	rtc_buf_free(&out);
}
END_TEST

START_TEST(test_output_cap)
{
	const char *argv[] = { "head", "-c", "100000", "/dev/zero", NULL };
	struct rtc_buf out;
	int status;

	rtc_buf_init(&out, 1000);
	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, &out, NULL, 5000,
	    &status, NULL), RTC_ERR_TOO_BIG);
	ck_assert_uint_le(out.len, 1000);
	rtc_buf_free(&out);
}
END_TEST

START_TEST(test_pipes_roundtrip)
{
	const char *argv[] = { "cat", NULL };
	int to, from, st;
	pid_t pid;
	char buf[16];

	ck_assert_int_eq(rtc_process_spawn_pipes(argv, NULL, &pid, &to, &from, NULL),
	    RTC_OK);
	ck_assert_int_eq(write(to, "ping\n", 5), 5);
	ck_assert_int_eq(read(from, buf, sizeof(buf)), 5);
	ck_assert_int_eq(memcmp(buf, "ping\n", 5), 0);
	close(to);
	ck_assert_int_eq(read(from, buf, sizeof(buf)), 0);
	close(from);
	waitpid(pid, &st, 0);
	ck_assert_int_eq(rtc_process_exit_status(st), 0);
}
END_TEST

static Suite *
process_suite(void)
{
	Suite *s = suite_create("process");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_capture_stdout_stderr_status);
	tcase_add_test(tc, test_stdin_fed);
	tcase_add_test(tc, test_timeout_kills);
	tcase_add_test(tc, test_missing_program);
	tcase_add_test(tc, test_no_shell_interpretation);
	tcase_add_test(tc, test_output_cap);
	tcase_add_test(tc, test_pipes_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(process_suite)
