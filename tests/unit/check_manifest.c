/*
 * check_manifest: DIR/.rtc/manifest.json written, read back, refused when
 * it is not a manifest, and read defensively when entries were edited.
 */
#include "rtc_build.h"

#include <dirent.h>
#include <sys/stat.h>

#include "check_common.h"
#include "error.h"
#include "manifest.h"

static void
write_manifest(const char *dir, const char *text)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/.rtc", dir);
	ck_assert_int_eq(rtc_fs_mkdir_p(p, 0755, NULL), RTC_OK);
	snprintf(p, sizeof(p), "%s/.rtc/manifest.json", dir);
	ck_assert_int_eq(rtc_fs_write_atomic(p, text, strlen(text), 0644, 0,
	    NULL), RTC_OK);
}

START_TEST(test_roundtrip)
{
	char *dir = check_tmpdir(), *cause = NULL, path[1024], *text = NULL;
	struct rtc_manifest *m = rtc_manifest_new(), *m2 = NULL;
	struct rtc_manifest_file f = { 123, "0123456789abcdef0123456789abcdef",
	    "", 1700000000123456789LL }, g;
	struct rtc_manifest_file h = { 0, "d41d8cd98f00b204e9800998ecf8427e",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    0 };
	size_t len;
	struct stat st;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(rtc_manifest_nfiles(m), 0);
	ck_assert_int_eq(rtc_manifest_set(m, "accession", "ds000001"), RTC_OK);
	ck_assert_int_eq(rtc_manifest_set(m, "tag", "1.0.0"), RTC_OK);
	ck_assert_int_eq(rtc_manifest_file_put(m, "sub-01/a b.nii.gz", &f),
	    RTC_OK);
	ck_assert_int_eq(rtc_manifest_file_put(m, "empty", &h), RTC_OK);
	ck_assert_int_eq(rtc_manifest_save(m, dir, &cause), RTC_OK);
	snprintf(path, sizeof(path), "%s/.rtc/manifest.json", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(rtc_fs_read_file(path, 1 << 20, &text, &len, NULL),
	    RTC_OK);
	ck_assert_ptr_nonnull(strstr(text, "\"rtc_manifest\": 1"));
	ck_assert_ptr_nonnull(strstr(text, "\"updated\": \""));
	free(text);

	ck_assert_int_eq(rtc_manifest_load(dir, &m2, &cause), RTC_OK);
	ck_assert_str_eq(rtc_manifest_get(m2, "accession"), "ds000001");
	ck_assert_str_eq(rtc_manifest_get(m2, "tag"), "1.0.0");
	ck_assert_ptr_null(rtc_manifest_get(m2, "doi"));
	ck_assert_int_eq(rtc_manifest_nfiles(m2), 2);
	ck_assert_int_eq(rtc_manifest_file_get(m2, "sub-01/a b.nii.gz", &g),
	    RTC_OK);
	ck_assert_int_eq(g.size, 123);
	ck_assert_str_eq(g.md5, f.md5);
	ck_assert_str_eq(g.sha256, "");
	ck_assert_int_eq(g.mtime_ns, f.mtime_ns);
	ck_assert_int_eq(rtc_manifest_file_get(m2, "empty", &g), RTC_OK);
	ck_assert_int_eq(g.size, 0);
	ck_assert_str_eq(g.sha256, h.sha256);
	ck_assert_int_eq(g.mtime_ns, 0);
	ck_assert_int_eq(rtc_manifest_file_get(m2, "missing", &g),
	    RTC_ERR_NOT_FOUND);
	/* a value removed */
	ck_assert_int_eq(rtc_manifest_set(m2, "tag", NULL), RTC_OK);
	ck_assert_ptr_null(rtc_manifest_get(m2, "tag"));
	rtc_manifest_free(m);
	rtc_manifest_free(m2);
	rtc_manifest_free(NULL);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_missing_is_empty)
{
	char *dir = check_tmpdir();
	struct rtc_manifest *m = NULL;

	ck_assert_int_eq(rtc_manifest_load(dir, &m, NULL), RTC_OK);
	ck_assert_int_eq(rtc_manifest_nfiles(m), 0);
	ck_assert_ptr_null(rtc_manifest_get(m, "tag"));
	rtc_manifest_free(m);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_not_a_manifest)
{
	static const char *bad[] = {
		"not json",
		"[1, 2]",
		"{\"rtc_manifest\": 2, \"files\": {}}",
		"{\"rtc_manifest\": 1, \"files\": []}",
		"{\"rtc_manifest\": 1}",
		"{\"rtc_manifest\": 1, \"files\": {}, \"files\": {}}",
	};
	char *dir = check_tmpdir(), *cause = NULL;
	struct rtc_manifest *m = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_manifest(dir, bad[i]);
		ck_assert_msg(rtc_manifest_load(dir, &m, &cause) ==
		    RTC_ERR_FORMAT, "case %zu", i);
		ck_assert_ptr_nonnull(strstr(cause, "manifest.json"));
	}
	free(cause);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Hand-edited entries read as absent or blank, never as trusted. */
START_TEST(test_edited_entries)
{
	char *dir = check_tmpdir();
	struct rtc_manifest *m = NULL;
	struct rtc_manifest_file g;

	write_manifest(dir, "{\"rtc_manifest\": 1, \"files\": {"
	    "\"a\": {\"size\": \"12\"},"
	    "\"b\": {\"size\": -4},"
	    "\"c\": [1],"
	    "\"d\": {\"size\": 5, \"md5\": \"short\", \"sha256\": 7,"
	    " \"mtime_ns\": \"x\"}}}");
	ck_assert_int_eq(rtc_manifest_load(dir, &m, NULL), RTC_OK);
	ck_assert_int_eq(rtc_manifest_file_get(m, "a", &g), RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(rtc_manifest_file_get(m, "b", &g), RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(rtc_manifest_file_get(m, "c", &g), RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(rtc_manifest_file_get(m, "d", &g), RTC_OK);
	ck_assert_int_eq(g.size, 5);
	ck_assert_str_eq(g.md5, "");
	ck_assert_str_eq(g.sha256, "");
	ck_assert_int_eq(g.mtime_ns, 0);
	rtc_manifest_free(m);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_doi)
{
	char b[128];

	ck_assert_str_eq(rtc_manifest_doi("ds000001", "1.0.0", b, sizeof(b)),
	    "10.18112/openneuro.ds000001.v1.0.0");
	ck_assert_str_eq(rtc_manifest_doi("ds004131", "1.0.1", b, sizeof(b)),
	    "10.18112/openneuro.ds004131.v1.0.1");
}
END_TEST

/* Saving again replaces the file whole and leaves no temp files. */
START_TEST(test_resave_atomic)
{
	char *dir = check_tmpdir(), p[1024];
	struct rtc_manifest *m = rtc_manifest_new();
	struct rtc_manifest_file f = { 1, "", "", 0 };
	char name[32];
	int i;
	DIR *d;
	struct dirent *de;

	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		ck_assert_int_eq(rtc_manifest_file_put(m, name, &f), RTC_OK);
	}
	ck_assert_int_eq(rtc_manifest_save(m, dir, NULL), RTC_OK);
	ck_assert_int_eq(rtc_manifest_save(m, dir, NULL), RTC_OK);
	snprintf(p, sizeof(p), "%s/.rtc", dir);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	i = 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
			i++;
	closedir(d);
	ck_assert_int_eq(i, 1);
	rtc_manifest_free(m);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("manifest");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_missing_is_empty);
	tcase_add_test(tc, test_not_a_manifest);
	tcase_add_test(tc, test_edited_entries);
	tcase_add_test(tc, test_doi);
	tcase_add_test(tc, test_resave_atomic);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(manifest_suite)
