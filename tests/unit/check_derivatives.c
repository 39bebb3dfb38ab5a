/*
 * check_derivatives: the derivatives dataset description, and merging a
 * job's own output directory into the run's output with its manifest.
 */
#include "rtc_build.h"

#include <jansson.h>

#include "check_batch_common.h"
#include "derivatives.h"
#include "error.h"
#include "hash.h"

static struct rtc_derivatives_info
info(const char *digest)
{
	struct rtc_derivatives_info in;

	memset(&in, 0, sizeof(in));
	in.app = "nipreps/fmriprep:23.1.4";
	in.app_name = "fmriprep";
	in.app_version = "23.1.4";
	in.runtime = "podman";
	in.digest = digest;
	in.source_dir = "/data/ds001";
	in.source_name = "Balloon";
	in.source_doi = "10.18112/openneuro.ds000001.v1.0.0";
	in.rtc_version = "0.1.0";
	in.run_id = "r3";
	return in;
}

#define DIG_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIG_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

START_TEST(test_description)
{
	char *d = check_tmpdir(), path[4096];
	struct rtc_derivatives_info in = info(DIG_A);
	json_t *j, *g;

	ck_assert_int_eq(rtc_derivatives_init(d, &in, NULL), RTC_OK);
	snprintf(path, sizeof(path), "%s/dataset_description.json", d);
	j = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "DatasetType")),
	    "derivative");
	g = json_array_get(json_object_get(j, "GeneratedBy"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(g, "Name")),
	    "fmriprep");
	ck_assert_str_eq(json_string_value(json_object_get(g, "Version")),
	    "23.1.4");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(g,
	    "Container"), "Type")), "podman");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(g,
	    "Container"), "URI")), "docker://nipreps/fmriprep@" DIG_A);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(g,
	    "Description")), DIG_A));
	g = json_array_get(json_object_get(j, "GeneratedBy"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(g, "Name")), "rtc");
	g = json_array_get(json_object_get(j, "SourceDatasets"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(g, "URL")),
	    "file:///data/ds001");
	ck_assert_str_eq(json_string_value(json_object_get(g, "DOI")),
	    in.source_doi);
	json_decref(j);
	/* the same app and digest may write there again */
	ck_assert_int_eq(rtc_derivatives_init(d, &in, NULL), RTC_OK);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

START_TEST(test_description_refusals)
{
	char *d = check_tmpdir(), *cause = NULL;
	struct rtc_derivatives_info in = info(DIG_A), other = info(DIG_B);

	/* a raw dataset */
	put_file(d, "dataset_description.json", "{\"Name\": \"raw\"}");
	ck_assert_int_eq(rtc_derivatives_init(d, &in, &cause), RTC_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(cause, "raw BIDS dataset"));
	/* another app's derivatives */
	put_file(d, "dataset_description.json", "{\"Name\": \"m\", "
	    "\"DatasetType\": \"derivative\", \"GeneratedBy\": "
	    "[{\"Name\": \"mriqc\"}]}");
	ck_assert_int_eq(rtc_derivatives_init(d, &in, &cause), RTC_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(cause, "mriqc"));
	/* the same app from another image */
	rtc_fs_remove_tree(d, NULL);
	ck_assert_int_eq(rtc_derivatives_init(d, &in, NULL), RTC_OK);
	ck_assert_int_eq(rtc_derivatives_init(d, &other, &cause), RTC_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(cause, "another build"));
	/* malformed */
	put_file(d, "dataset_description.json", "{");
	ck_assert_int_eq(rtc_derivatives_init(d, &in, &cause), RTC_ERR_FORMAT);
	free(cause);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

START_TEST(test_host_command_description)
{
	char *d = check_tmpdir(), path[4096];
	struct rtc_derivatives_info in = info(DIG_A);
	json_t *j, *g;

	in.runtime = "none";
	in.app = "/opt/apps/run.sh";
	in.app_name = "run.sh";
	in.app_version = NULL;
	ck_assert_int_eq(rtc_derivatives_init(d, &in, NULL), RTC_OK);
	snprintf(path, sizeof(path), "%s/dataset_description.json", d);
	j = json_load_file(path, 0, NULL);
	g = json_array_get(json_object_get(j, "GeneratedBy"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(g, "CodeURL")),
	    "file:///opt/apps/run.sh");
	ck_assert_ptr_null(json_object_get(g, "Container"));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(g,
	    "Description")), DIG_A));
	json_decref(j);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

START_TEST(test_owned)
{
	ck_assert(rtc_derivatives_owned("sub-01", "01"));
	ck_assert(rtc_derivatives_owned("sub-01/anat/x.nii", "01"));
	ck_assert(rtc_derivatives_owned("sub-01.html", "01"));
	ck_assert(rtc_derivatives_owned("sub-01_ses-2.html", "01"));
	ck_assert(!rtc_derivatives_owned("sub-010/x", "01"));
	ck_assert(!rtc_derivatives_owned("dataset_description.json", "01"));
	ck_assert(!rtc_derivatives_owned("logs/sub-01", "01"));
	ck_assert(!rtc_derivatives_owned("sub-0", "01"));
}
END_TEST

/* The manifest's line for rel, or NULL. */
static char *
manifest_line(const char *manifest, const char *rel)
{
	char *text = read_all(manifest), *p, *nl, *res = NULL;
	size_t n = strlen(rel);

	ck_assert_ptr_nonnull(text);
	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		if (strncmp(p, rel, n) == 0 && p[n] == '\t')
			res = strdup(p);
	}
	free(text);
	return res;
}

START_TEST(test_collect_merges_and_hashes)
{
	char *out = check_tmpdir(), stage[4096], man[4096], path[4096];
	struct rtc_derivatives_result res;
	char hex[65], *line, want[200], *text;

	snprintf(stage, sizeof(stage), "%s/.rtc-stage/r1-sub-01-a1", out);
	snprintf(man, sizeof(man), "%s/logs/sub-01/manifest.tsv", out);
	put_file(stage, "sub-01/anat/sub-01_desc-brain_mask.nii.gz", "mask");
	put_file(stage, "sub-01/func/sub-01_task-x_bold.json", "{}");
	put_file(stage, "sub-01.html", "<html></html>");
	put_file(stage, "dataset_description.json", "{\"from\": \"app\"}");
	put_file(stage, "desc-aseg_dseg.tsv", "index\tname\n");
	/* an older copy of the participant's file is replaced; a shared file
	 * already there is kept */
	put_file(out, "sub-01.html", "old");
	put_file(out, "dataset_description.json", "{\"from\": \"rtc\"}");
	ck_assert_int_eq(rtc_derivatives_collect(stage, out, "01", man, &res,
	    NULL), RTC_OK);
	ck_assert_uint_eq(res.nfiles, 3);
	ck_assert_uint_eq(res.nshared, 1);
	ck_assert_uint_eq(res.nkept, 1);
	ck_assert(!rtc_fs_is_dir(stage));
	snprintf(path, sizeof(path), "%s/sub-01.html", out);
	text = read_all(path);
	ck_assert_str_eq(text, "<html></html>");
	free(text);
	snprintf(path, sizeof(path), "%s/dataset_description.json", out);
	text = read_all(path);
	ck_assert_str_eq(text, "{\"from\": \"rtc\"}");
	free(text);
	snprintf(path, sizeof(path), "%s/desc-aseg_dseg.tsv", out);
	ck_assert(rtc_fs_is_file(path));
	/* the manifest: header, participant files with size and sha256 */
	text = read_all(man);
	ck_assert(strncmp(text, "path\tsize\tsha256\n", 17) == 0);
	ck_assert_ptr_null(strstr(text, "dataset_description"));
	free(text);
	rtc_sha256_hex("mask", 4, hex);
	snprintf(want, sizeof(want),
	    "sub-01/anat/sub-01_desc-brain_mask.nii.gz\t4\t%s", hex);
	line = manifest_line(man, "sub-01/anat/sub-01_desc-brain_mask.nii.gz");
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, want);
	free(line);
	/* collecting again after success is a no-op */
	ck_assert_int_eq(rtc_derivatives_collect(stage, out, "01", man, NULL,
	    NULL), RTC_OK);
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

START_TEST(test_collect_needs_outputs)
{
	char *out = check_tmpdir(), stage[4096], man[4096], *cause = NULL;

	snprintf(stage, sizeof(stage), "%s/.rtc-stage/x", out);
	snprintf(man, sizeof(man), "%s/logs/sub-02/manifest.tsv", out);
	ck_assert_int_eq(rtc_derivatives_collect(stage, out, "02", man, NULL,
	    &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "no output directory"));
	/* exit 0 with only another participant's or shared files */
	put_file(stage, "dataset_description.json", "{}");
	put_file(stage, "sub-020/anat/x.nii", "x");
	ck_assert_int_eq(rtc_derivatives_collect(stage, out, "02", man, NULL,
	    &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "no outputs for sub-02"));
	ck_assert(!rtc_fs_is_file(man));
	ck_assert(rtc_fs_is_dir(stage));   /* kept for a look */
	free(cause);
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

START_TEST(test_collect_resumes_after_crash)
{
	char *out = check_tmpdir(), stage[4096], man[4096], list[4096];
	char src[4096], dst[4096];
	struct rtc_derivatives_result res;

	snprintf(stage, sizeof(stage), "%s/.rtc-stage/r1-sub-03-a1", out);
	snprintf(man, sizeof(man), "%s/logs/sub-03/manifest.tsv", out);
	snprintf(list, sizeof(list), "%s/.rtc-merge", stage);
	put_file(stage, "sub-03/a.txt", "aaa");
	put_file(stage, "sub-03/b.txt", "bbbb");
	/* as if a collect wrote its list and moved one file, then died */
	put_file(stage, ".rtc-merge", "sub-03/a.txt\nsub-03/b.txt\n");
	snprintf(src, sizeof(src), "%s/sub-03/a.txt", stage);
	snprintf(dst, sizeof(dst), "%s/sub-03/a.txt", out);
	put_file(out, "sub-03/keep", "");
	ck_assert_int_eq(rename(src, dst), 0);
	ck_assert_int_eq(rtc_derivatives_collect(stage, out, "03", man, &res,
	    NULL), RTC_OK);
	ck_assert_uint_eq(res.nfiles, 2);
	ck_assert_int_eq(res.bytes, 7);
	{
		char *line = manifest_line(man, "sub-03/a.txt");

		ck_assert_ptr_nonnull(line);
		free(line);
	}
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

START_TEST(test_collect_refuses_control_chars_and_skips_links)
{
	char *out = check_tmpdir(), stage[4096], man[4096], path[4096];
	char *cause = NULL;
	struct rtc_derivatives_result res;

	snprintf(stage, sizeof(stage), "%s/st", out);
	snprintf(man, sizeof(man), "%s/logs/sub-04/manifest.tsv", out);
	put_file(stage, "sub-04/ok.txt", "1");
	snprintf(path, sizeof(path), "%s/sub-04/evil", stage);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(rtc_derivatives_collect(stage, out, "04", man, &res,
	    NULL), RTC_OK);
	ck_assert_uint_eq(res.nfiles, 1);
	ck_assert_uint_eq(res.nlinks, 1);
	snprintf(path, sizeof(path), "%s/sub-04/evil", out);
	ck_assert_int_ne(access(path, F_OK), 0);
	put_file(stage, "sub-04/bad\nname.txt", "1");
	ck_assert_int_eq(rtc_derivatives_collect(stage, out, "04", man, &res,
	    &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "control characters"));
	free(cause);
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

static Suite *
derivatives_suite(void)
{
	Suite *s = suite_create("derivatives");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_description);
	tcase_add_test(tc, test_description_refusals);
	tcase_add_test(tc, test_host_command_description);
	tcase_add_test(tc, test_owned);
	tcase_add_test(tc, test_collect_merges_and_hashes);
	tcase_add_test(tc, test_collect_needs_outputs);
	tcase_add_test(tc, test_collect_resumes_after_crash);
	tcase_add_test(tc, test_collect_refuses_control_chars_and_skips_links);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(derivatives_suite)
