#include "rtc_build.h"

#include "check_common.h"
#include "config.h"
#include "error.h"

static json_t *
parse_ok(const char *text)
{
	json_t *j = NULL;
	char *cause = NULL;
	int r = rtc_config_parse(text, strlen(text), "t.toml", &j, &cause);

	ck_assert_msg(r == RTC_OK, "parse failed: %s", cause ? cause : "");
	free(cause);
	return j;
}

START_TEST(test_types)
{
	json_t *j = parse_ok(
	    "title = \"neurofeedback\"\n"
	    "runNum = [1, 2]\n"
	    "scanNum = 14\n"
	    "ratio = 0.5\n"
	    "on = true\n"
	    "day = 2026-11-21\n"
	    "[pipeline.smooth]\nfwhm_mm = 5\n"
	    "[[roi]]\nname = \"a\"\n[[roi]]\nname = \"b\"\n");
	const char *s = NULL;
	long long i = 0;
	double d = 0;
	int b = 0;

	ck_assert_int_eq(rtc_config_string(j, "title", &s, NULL), RTC_OK);
	ck_assert_str_eq(s, "neurofeedback");
	ck_assert_int_eq(rtc_config_int(j, "scanNum", &i, NULL), RTC_OK);
	ck_assert_int_eq(i, 14);
	ck_assert_int_eq(rtc_config_double(j, "ratio", &d, NULL), RTC_OK);
	ck_assert_double_eq(d, 0.5);
	/* an integer where a number is wanted is fine */
	ck_assert_int_eq(rtc_config_double(j, "pipeline.smooth.fwhm_mm", &d,
	    NULL), RTC_OK);
	ck_assert_double_eq(d, 5.0);
	ck_assert_int_eq(rtc_config_bool(j, "on", &b, NULL), RTC_OK);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(rtc_config_string(j, "day", &s, NULL), RTC_OK);
	ck_assert_str_eq(s, "2026-11-21");
	ck_assert_int_eq(json_array_size(rtc_config_get(j, "runNum")), 2);
	ck_assert_int_eq(json_array_size(rtc_config_get(j, "roi")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_array_get(rtc_config_get(j, "roi"), 1), "name")), "b");
	json_decref(j);
}
END_TEST

START_TEST(test_wrong_type_named)
{
	json_t *j = parse_ok("[pipeline]\nfwhm = \"five\"\n");
	double d = 7.0;
	char *cause = NULL;

	ck_assert_int_eq(rtc_config_double(j, "pipeline.fwhm", &d, &cause),
	    RTC_ERR_INVAL);
	ck_assert_double_eq(d, 7.0);
	ck_assert_ptr_nonnull(strstr(cause, "pipeline.fwhm"));
	free(cause);
	ck_assert_int_eq(rtc_config_double(j, "pipeline.absent", &d, NULL),
	    RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(rtc_config_double(j, "pipeline.fwhm.deeper", &d, NULL),
	    RTC_ERR_NOT_FOUND);
	json_decref(j);
}
END_TEST

START_TEST(test_syntax_error_has_line)
{
	json_t *j = NULL;
	char *cause = NULL;
	const char *bad = "a = 1\nb = = 2\n";

	ck_assert_int_eq(rtc_config_parse(bad, strlen(bad), "p.toml", &j,
	    &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_null(j);
	ck_assert_ptr_nonnull(strstr(cause, "p.toml"));
	ck_assert_ptr_nonnull(strstr(cause, "line 2"));
	free(cause);
}
END_TEST

START_TEST(test_depth_bomb_rejected)
{
	char *text = malloc(200001);
	json_t *j = NULL;
	char *cause = NULL;

	memcpy(text, "a = ", 4);
	memset(text + 4, '[', 199996);
	text[200000] = '\0';
	ck_assert_int_eq(rtc_config_parse(text, 200000, "bomb", &j, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "nested"));
	free(cause);
	free(text);
}
END_TEST

START_TEST(test_brackets_in_strings_ok)
{
	json_t *j = parse_ok("s = \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n"
	    "t = '{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{'\n"
	    "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n");
	json_decref(j);
}
END_TEST

START_TEST(test_size_cap_and_nul)
{
	size_t n = RTC_CONFIG_MAX_BYTES + 1;
	char *text = calloc(1, n + 1);
	json_t *j = NULL;

	memset(text, '#', n);
	ck_assert_int_eq(rtc_config_parse(text, n, "big", &j, NULL),
	    RTC_ERR_TOO_BIG);
	ck_assert_int_eq(rtc_config_parse("a = 1\0b = 2", 11, "nul", &j, NULL),
	    RTC_ERR_FORMAT);
	free(text);
}
END_TEST

START_TEST(test_check_keys)
{
	json_t *j = parse_ok("[feedback]\nroi = \"x\"\nsmooth = 2\ntypo = 1\n");
	static const char *const known[] = { "roi", "smooth", NULL };
	char *cause = NULL;

	ck_assert_int_eq(rtc_config_check_keys(j, "feedback", known, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "feedback.typo"));
	free(cause);
	ck_assert_int_eq(rtc_config_check_keys(j, "absent", known, NULL),
	    RTC_OK);
	json_decref(j);
}
END_TEST

START_TEST(test_load_file)
{
	char *dir = check_tmpdir(), path[512], *cause = NULL;
	json_t *j = NULL;
	long long v = 0;

	snprintf(path, sizeof(path), "%s/rtc.conf", dir);
	ck_assert_int_eq(rtc_fs_write_atomic(path, "[s3]\njobs = 16\n", 14,
	    0600, 0, NULL), RTC_OK);
	ck_assert_int_eq(rtc_config_load(path, &j, &cause), RTC_OK);
	ck_assert_int_eq(rtc_config_int(j, "s3.jobs", &v, NULL), RTC_OK);
	ck_assert_int_eq(v, 16);
	json_decref(j);
	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	ck_assert_int_eq(rtc_config_load(path, &j, &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "absent.conf"));
	free(cause);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_wrong_type_named);
	tcase_add_test(tc, test_syntax_error_has_line);
	tcase_add_test(tc, test_depth_bomb_rejected);
	tcase_add_test(tc, test_brackets_in_strings_ok);
	tcase_add_test(tc, test_size_cap_and_nul);
	tcase_add_test(tc, test_check_keys);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(config_suite)
