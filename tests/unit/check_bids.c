#include "rtc_build.h"

#include "bids.h"
#include "check_common.h"
#include "error.h"

START_TEST(test_parse_full)
{
	struct rtc_bids_name n;

	ck_assert_int_eq(rtc_bids_name_parse(
	    "sub-01_ses-pre_task-rest_run-02_bold.nii.gz", &n, NULL), RTC_OK);
	ck_assert_int_eq(n.n, 4);
	ck_assert_str_eq(rtc_bids_name_get(&n, "sub"), "01");
	ck_assert_str_eq(rtc_bids_name_get(&n, "ses"), "pre");
	ck_assert_str_eq(rtc_bids_name_get(&n, "run"), "02");
	ck_assert_ptr_null(rtc_bids_name_get(&n, "acq"));
	ck_assert_str_eq(n.suffix, "bold");
	ck_assert_str_eq(n.ext, ".nii.gz");
}
END_TEST

START_TEST(test_parse_top_level_sidecar)
{
	struct rtc_bids_name n;

	ck_assert_int_eq(rtc_bids_name_parse(
	    "task-balloonanalogrisktask_bold.json", &n, NULL), RTC_OK);
	ck_assert_int_eq(n.n, 1);
	ck_assert_str_eq(n.suffix, "bold");
	ck_assert_str_eq(n.ext, ".json");
}
END_TEST

START_TEST(test_parse_rejects)
{
	struct rtc_bids_name n;
	char *cause = NULL;

	ck_assert_int_eq(rtc_bids_name_parse("sub-0_1-x_bold.nii", &n, &cause),
	    RTC_ERR_FORMAT);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_bids_name_parse("sub-01_sub-02_bold.nii", &n,
	    &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "twice"));
	free(cause);
	ck_assert_int_eq(rtc_bids_name_parse("sub-01_bold_extra.nii", &n, NULL),
	    RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_bids_name_parse("sub-_bold.nii", &n, NULL),
	    RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_bids_name_parse("sub-01/x_bold.nii", &n, NULL),
	    RTC_ERR_INVAL);
}
END_TEST

START_TEST(test_format_canonical_order)
{
	struct rtc_bids_name n;
	char out[256];

	memset(&n, 0, sizeof(n));
	ck_assert_int_eq(rtc_bids_name_set(&n, "run", "1"), RTC_OK);
	ck_assert_int_eq(rtc_bids_name_set(&n, "task", "nf"), RTC_OK);
	ck_assert_int_eq(rtc_bids_name_set(&n, "sub", "01"), RTC_OK);
	ck_assert_int_eq(rtc_bids_name_set(&n, "desc", "confounds"), RTC_OK);
	ck_assert_int_eq(rtc_bids_name_set(&n, "ses", "a"), RTC_OK);
	snprintf(n.suffix, sizeof(n.suffix), "timeseries");
	snprintf(n.ext, sizeof(n.ext), ".tsv");
	ck_assert_int_eq(rtc_bids_name_format(&n, out, sizeof(out)), RTC_OK);
	ck_assert_str_eq(out,
	    "sub-01_ses-a_task-nf_run-1_desc-confounds_timeseries.tsv");
	ck_assert_int_eq(rtc_bids_name_format(&n, out, 10), RTC_ERR_TOO_BIG);
	ck_assert_int_eq(rtc_bids_name_set(&n, "run", "1_2"), RTC_ERR_INVAL);
}
END_TEST

START_TEST(test_roundtrip)
{
	struct rtc_bids_name n;
	char out[256];
	const char *name = "sub-01_task-rest_acq-mb3_dir-AP_run-1_echo-2_bold.nii";

	ck_assert_int_eq(rtc_bids_name_parse(name, &n, NULL), RTC_OK);
	ck_assert_int_eq(rtc_bids_name_format(&n, out, sizeof(out)), RTC_OK);
	ck_assert_str_eq(out, name);
}
END_TEST

START_TEST(test_value_match)
{
	ck_assert(rtc_bids_value_match("run", "1", "1"));
	ck_assert(rtc_bids_value_match("run", "1", "01"));
	ck_assert(rtc_bids_value_match("run", "01", "1"));
	ck_assert(!rtc_bids_value_match("run", "1", "10"));
	ck_assert(!rtc_bids_value_match("run", "1", "11"));
	ck_assert(rtc_bids_value_match("echo", "2", "002"));
	/* labels compare exactly */
	ck_assert(!rtc_bids_value_match("sub", "1", "01"));
	ck_assert(rtc_bids_value_match("task", "rest", "rest"));
	ck_assert(!rtc_bids_value_match("task", "rest", "restEC"));
	ck_assert(!rtc_bids_value_match("run", NULL, "1"));
}
END_TEST

static void
write_text(const char *dir, const char *rel, const char *text)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_int_eq(rtc_fs_write_atomic(path, text, strlen(text), 0644, 0,
	    NULL), RTC_OK);
}

START_TEST(test_sidecar_inheritance)
{
	char *root = check_tmpdir(), path[1024], *cause = NULL;
	json_t *meta = NULL;

	snprintf(path, sizeof(path), "%s/sub-01/func", root);
	rtc_fs_mkdir_p(path, 0755, NULL);
	write_text(root, "task-rest_bold.json",
	    "{\"RepetitionTime\": 2.0, \"TaskName\": \"rest\"}");
	write_text(root, "task-other_bold.json", "{\"RepetitionTime\": 9.0}");
	write_text(root, "sub-01/func/sub-01_task-rest_run-1_bold.json",
	    "{\"RepetitionTime\": 1.5}");
	write_text(root, "sub-01/func/sub-01_task-rest_events.json",
	    "{\"Onset\": 1}");
	ck_assert_int_eq(rtc_bids_sidecar_resolve(root,
	    "sub-01/func/sub-01_task-rest_run-1_bold.nii.gz", &meta, &cause),
	    RTC_OK);
	ck_assert_double_eq(json_real_value(json_object_get(meta,
	    "RepetitionTime")), 1.5);
	ck_assert_str_eq(json_string_value(json_object_get(meta, "TaskName")),
	    "rest");
	ck_assert_ptr_null(json_object_get(meta, "Onset"));
	json_decref(meta);
	/* run-2 has only the top-level file */
	ck_assert_int_eq(rtc_bids_sidecar_resolve(root,
	    "sub-01/func/sub-01_task-rest_run-2_bold.nii.gz", &meta, NULL),
	    RTC_OK);
	ck_assert_double_eq(json_real_value(json_object_get(meta,
	    "RepetitionTime")), 2.0);
	json_decref(meta);
	ck_assert_int_eq(rtc_bids_sidecar_resolve(root, "../etc/passwd", &meta,
	    NULL), RTC_ERR_INVAL);
	rtc_fs_remove_tree(root, NULL);
	free(root);
}
END_TEST

START_TEST(test_sidecar_bad_json)
{
	char *root = check_tmpdir(), *cause = NULL;
	json_t *meta = NULL;

	write_text(root, "task-rest_bold.json", "{\"RepetitionTime\": ");
	ck_assert_int_eq(rtc_bids_sidecar_resolve(root,
	    "sub-01_task-rest_bold.nii.gz", &meta, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "task-rest_bold.json"));
	free(cause);
	rtc_fs_remove_tree(root, NULL);
	free(root);
}
END_TEST

START_TEST(test_sidecar_write)
{
	char *root = check_tmpdir(), path[512], *text = NULL;
	size_t len;
	json_t *o = json_object();

	json_object_set_new(o, "RepetitionTime", json_real(1.5));
	json_object_set_new(o, "Manufacturer", json_string("Siemens"));
	snprintf(path, sizeof(path), "%s/x_bold.json", root);
	ck_assert_int_eq(rtc_bids_sidecar_write(path, o, NULL), RTC_OK);
	ck_assert_int_eq(rtc_fs_read_file(path, 4096, &text, &len, NULL),
	    RTC_OK);
	ck_assert_str_eq(text, "{\n  \"RepetitionTime\": 1.5,\n"
	    "  \"Manufacturer\": \"Siemens\"\n}\n");
	free(text);
	json_decref(o);
	rtc_fs_remove_tree(root, NULL);
	free(root);
}
END_TEST

START_TEST(test_real_dataset_names)
{
	const char *data = check_data_dir();
	char path[1024];
	json_t *meta = NULL;

	if (data == NULL)
		return;
	snprintf(path, sizeof(path), "%s/bids/ds001", data);
	ck_assert_int_eq(rtc_bids_sidecar_resolve(path,
	    "sub-01/func/sub-01_task-balloonanalogrisktask_run-01_bold.nii.gz",
	    &meta, NULL), RTC_OK);
	ck_assert_double_eq(json_number_value(json_object_get(meta,
	    "RepetitionTime")), 2.0);
	json_decref(meta);
}
END_TEST

static Suite *
bids_suite(void)
{
	Suite *s = suite_create("bids");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_full);
	tcase_add_test(tc, test_parse_top_level_sidecar);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_format_canonical_order);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_value_match);
	tcase_add_test(tc, test_sidecar_inheritance);
	tcase_add_test(tc, test_sidecar_bad_json);
	tcase_add_test(tc, test_sidecar_write);
	tcase_add_test(tc, test_real_dataset_names);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(bids_suite)
