#include "rtc_build.h"

#include <dirent.h>
#include <sys/stat.h>

#include "check_common.h"
#include "error.h"
#include "fsutil.h"

START_TEST(test_safe_relpath)
{
	ck_assert(rtc_fs_safe_relpath("sub-01/func/x.nii.gz", 20));
	ck_assert(rtc_fs_safe_relpath("a", 1));
	ck_assert(rtc_fs_safe_relpath("..a/b..", 7));
	ck_assert(!rtc_fs_safe_relpath("", 0));
	ck_assert(!rtc_fs_safe_relpath("/etc/passwd", 11));
	ck_assert(!rtc_fs_safe_relpath("../x", 4));
	ck_assert(!rtc_fs_safe_relpath("a/../../x", 9));
	ck_assert(!rtc_fs_safe_relpath("a/..", 4));
	ck_assert(!rtc_fs_safe_relpath("./a", 3));
	ck_assert(!rtc_fs_safe_relpath("a//b", 4));
	ck_assert(!rtc_fs_safe_relpath("a/", 2));
	ck_assert(!rtc_fs_safe_relpath("a\\..\\b", 6));
	ck_assert(!rtc_fs_safe_relpath("a\0b", 3));
}
END_TEST

START_TEST(test_join_safe)
{
	char *p = NULL;

	ck_assert_int_eq(rtc_fs_join_safe("/data", "sub-01/a.json", &p), RTC_OK);
	ck_assert_str_eq(p, "/data/sub-01/a.json");
	free(p);
	p = NULL;
	ck_assert_int_eq(rtc_fs_join_safe("/data", "../x", &p), RTC_ERR_INVAL);
	ck_assert_ptr_null(p);
}
END_TEST

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(test_write_atomic_and_read)
{
	char *dir = check_tmpdir(), path[512], *data = NULL, *cause = NULL;
	size_t len = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/out.json", dir);
	ck_assert_int_eq(rtc_fs_write_atomic(path, "{\"a\":1}", 7, 0640, 1,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_fs_read_file(path, 100, &data, &len, NULL), RTC_OK);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(data, "{\"a\":1}");
	free(data);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	/* no temp file left behind */
	ck_assert_int_eq(count_entries(dir), 1);
	/* cap */
	ck_assert_int_eq(rtc_fs_read_file(path, 6, &data, &len, &cause),
	    RTC_ERR_TOO_BIG);
	ck_assert_ptr_nonnull(strstr(cause, "out.json"));
	free(cause);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_write_atomic_missing_dir)
{
	char *cause = NULL;

	ck_assert_int_ne(rtc_fs_write_atomic("/nonexistent-dir/x", "a", 1, 0644,
	    0, &cause), RTC_OK);
	ck_assert_ptr_nonnull(cause);
	free(cause);
}
END_TEST

START_TEST(test_tmp_discard)
{
	char *dir = check_tmpdir(), path[512], *tmp = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/final.nii", dir);
	ck_assert_int_eq(rtc_fs_open_tmp(path, &fd, &tmp, NULL), RTC_OK);
	ck_assert_ptr_nonnull(strstr(tmp, "/.final.nii.tmp."));
	ck_assert_int_eq(count_entries(dir), 1);
	rtc_fs_discard_tmp(fd, tmp);
	free(tmp);
	ck_assert_int_eq(count_entries(dir), 0);
	ck_assert(!rtc_fs_is_file(path));
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_mkdir_p_and_remove_tree)
{
	char *dir = check_tmpdir(), path[512], file[600];

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(rtc_fs_mkdir_p(path, 0755, NULL), RTC_OK);
	ck_assert(rtc_fs_is_dir(path));
	ck_assert_int_eq(rtc_fs_mkdir_p(path, 0755, NULL), RTC_OK);
	snprintf(file, sizeof(file), "%s/f", path);
	ck_assert_int_eq(rtc_fs_write_atomic(file, "x", 1, 0644, 0, NULL),
	    RTC_OK);
	/* a file in the way */
	snprintf(path, sizeof(path), "%s/a/b/c/f/g", dir);
	ck_assert_int_ne(rtc_fs_mkdir_p(path, 0755, NULL), RTC_OK);
	snprintf(path, sizeof(path), "%s/a", dir);
	ck_assert_int_eq(rtc_fs_remove_tree(path, NULL), RTC_OK);
	ck_assert(!rtc_fs_is_dir(path));
	ck_assert_int_eq(rtc_fs_remove_tree(path, NULL), RTC_OK);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_human_bytes)
{
	char s[32];

	ck_assert_str_eq(rtc_fs_human_bytes(512, s, sizeof(s)), "512 B");
	ck_assert_str_eq(rtc_fs_human_bytes(1536, s, sizeof(s)), "1.5 KiB");
	ck_assert_str_eq(rtc_fs_human_bytes(64.0 * 1048576, s, sizeof(s)),
	    "64.0 MiB");
}
END_TEST

static Suite *
fsutil_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_safe_relpath);
	tcase_add_test(tc, test_join_safe);
	tcase_add_test(tc, test_write_atomic_and_read);
	tcase_add_test(tc, test_write_atomic_missing_dir);
	tcase_add_test(tc, test_tmp_discard);
	tcase_add_test(tc, test_mkdir_p_and_remove_tree);
	tcase_add_test(tc, test_human_bytes);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(fsutil_suite)
