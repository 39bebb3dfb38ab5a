/*
 * check_bids_layout: scanning real BIDS datasets (../shared/data/bids) and
 * made-up ones with the awkward parts real ones have.
 */
#include "rtc_build.h"

#include "bids_layout.h"
#include "check_batch_common.h"
#include "error.h"

static char *
data_path(const char *rel)
{
	const char *d = check_data_dir();
	char *p = NULL;

	if (d == NULL)
		return NULL;
	ck_assert_int_ge(asprintf(&p, "%s/%s", d, rel), 0);
	return p;
}

START_TEST(test_ds001)
{
	char *root = data_path("bids/ds001");
	struct rtc_bids_layout *l = NULL;
	const struct rtc_bids_participant *p;
	size_t i;

	if (root == NULL)
		return;
	ck_assert_int_eq(rtc_bids_layout_scan(root, &l, NULL), RTC_OK);
	ck_assert_uint_eq(l->n, 16);
	ck_assert_str_eq(l->p[0].label, "01");
	ck_assert_str_eq(l->p[15].label, "16");
	ck_assert_str_eq(l->name, "Balloon Analog Risk-taking Task");
	ck_assert_ptr_nonnull(l->doi);
	ck_assert_uint_eq(l->nshared, 7);
	for (i = 0; i < l->n; i++) {
		ck_assert(l->p[i].has_dir);
		ck_assert(l->p[i].in_tsv);
		ck_assert_uint_eq(l->p[i].nfiles, 8);
		ck_assert_uint_eq(l->p[i].nsessions, 0);
		ck_assert_int_gt(l->p[i].bytes, 0);
	}
	p = rtc_bids_layout_find(l, "sub-07");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->label, "07");
	ck_assert_str_eq(p->files[0].path, "sub-07/anat/sub-07_T1w.nii.gz");
	ck_assert_ptr_eq(rtc_bids_layout_find(l, "07"), p);
	ck_assert_ptr_null(rtc_bids_layout_find(l, "17"));
	rtc_bids_layout_free(l);
	free(root);
}
END_TEST

START_TEST(test_synthetic_sessions)
{
	char *root = data_path("bids/synthetic");
	struct rtc_bids_layout *l = NULL;
	size_t i, s, insess;

	if (root == NULL)
		return;
	ck_assert_int_eq(rtc_bids_layout_scan(root, &l, NULL), RTC_OK);
	ck_assert_uint_eq(l->n, 5);
	for (i = 0; i < l->n; i++) {
		const struct rtc_bids_participant *p = &l->p[i];

		ck_assert_uint_ge(p->nsessions, 1);
		insess = 0;
		for (s = 0; s < p->nsessions; s++) {
			size_t k;
			char pre[160];

			snprintf(pre, sizeof(pre), "sub-%s/ses-%s/", p->label,
			    p->sessions[s].label);
			/* a session's files are its own, contiguous */
			for (k = 0; k < p->sessions[s].nfiles; k++)
				ck_assert(strncmp(p->files[p->sessions[s].first + k].path,
				    pre, strlen(pre)) == 0);
			insess += p->sessions[s].nfiles;
		}
		/* sub-XX_sessions.tsv sits outside the sessions */
		ck_assert_uint_eq(insess + 1, p->nfiles);
	}
	ck_assert_str_eq(l->p[0].sessions[0].label, "01");
	ck_assert_str_eq(l->p[0].sessions[1].label, "02");
	rtc_bids_layout_free(l);
	free(root);
}
END_TEST

static char *
made_up(void)
{
	char *d = check_tmpdir();

	put_file(d, "dataset_description.json",
	    "{\"Name\": \"made up\", \"BIDSVersion\": \"1.8.0\"}");
	put_file(d, "participants.tsv",
	    "participant_id\tage\r\nsub-01\t30\r\nsub-03\t31\r\n\r\n");
	put_file(d, "sub-01/anat/sub-01_T1w.nii.gz", "0123456789");
	put_file(d, "sub-01/.git/config", "hidden");
	put_file(d, "sub-01/func/.sub-01_task-x_bold.nii.gz.swp", "hidden");
	put_file(d, "sub-02/func/sub-02_task-x_bold.nii.gz", "abc");
	put_file(d, "sub-0_1/anat/x.nii", "bad label");
	put_file(d, "sub-04", "a file, not a participant");
	put_file(d, "README", "hello");
	return d;
}

START_TEST(test_made_up_layout)
{
	char *d = made_up(), link[4096];
	struct rtc_bids_layout *l = NULL;
	const struct rtc_bids_participant *p;

	/* an annexed file whose content is not here */
	snprintf(link, sizeof(link), "%s/sub-02/func/sub-02_task-x_events.tsv",
	    d);
	ck_assert_int_eq(symlink("../../.git/annex/objects/missing", link), 0);
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, NULL), RTC_OK);
	ck_assert_uint_eq(l->n, 3);
	p = rtc_bids_layout_find(l, "01");
	ck_assert(p->has_dir && p->in_tsv);
	ck_assert_uint_eq(p->nfiles, 1);      /* hidden files skipped */
	ck_assert_int_eq(p->bytes, 10);
	p = rtc_bids_layout_find(l, "02");
	ck_assert(p->has_dir && !p->in_tsv);
	ck_assert_uint_eq(p->nfiles, 2);
	ck_assert_int_eq(p->files[1].size, -1);
	ck_assert_int_eq(p->bytes, 3);
	p = rtc_bids_layout_find(l, "03");
	ck_assert(!p->has_dir && p->in_tsv);
	ck_assert_uint_eq(p->nfiles, 0);
	ck_assert_uint_eq(l->nbad, 1);
	ck_assert_str_eq(l->bad_names[0], "sub-0_1");
	/* README, participants.tsv, dataset_description.json, the sub-04 file */
	ck_assert_uint_eq(l->nshared, 4);
	ck_assert_ptr_null(l->doi);
	rtc_bids_layout_free(l);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

START_TEST(test_not_bids_and_bad_files)
{
	char *d = check_tmpdir(), *cause = NULL;
	struct rtc_bids_layout *l = NULL;

	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "not a BIDS dataset"));
	ck_assert_int_eq(rtc_bids_layout_scan("/nonexistent/x", &l, &cause),
	    RTC_ERR_NOT_FOUND);
	put_file(d, "dataset_description.json", "{\"Name\": ");
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, &cause), RTC_ERR_FORMAT);
	put_file(d, "dataset_description.json", "{\"Name\": \"x\"}");
	put_file(d, "participants.tsv", "subject\tage\nsub-01\t3\n");
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "participant_id"));
	put_file(d, "participants.tsv", "participant_id\nsub-0 1\n");
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "line 2"));
	put_file(d, "participants.tsv", "participant_id\nsub-../../etc\n");
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_null(l);
	free(cause);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

/* participants.tsv lists a label twice, or a label with a folder twice:
 * one participant each, sorted. */
START_TEST(test_participants_repeated)
{
	char *d = made_up();
	struct rtc_bids_layout *l = NULL;
	const struct rtc_bids_participant *p;
	size_t i;

	put_file(d, "participants.tsv", "participant_id\nsub-05\nsub-01\n"
	    "sub-05\nsub-01\n00\nsub-00\n");
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, NULL), RTC_OK);
	ck_assert_uint_eq(l->n, 4);        /* 00, 01, 02, 05 */
	for (i = 1; i < l->n; i++)
		ck_assert(strcmp(l->p[i - 1].label, l->p[i].label) < 0);
	p = rtc_bids_layout_find(l, "01");
	ck_assert(p->has_dir && p->in_tsv);
	ck_assert_uint_eq(p->nfiles, 1);
	p = rtc_bids_layout_find(l, "05");
	ck_assert(!p->has_dir && p->in_tsv);
	p = rtc_bids_layout_find(l, "02");
	ck_assert(p->has_dir && !p->in_tsv);
	rtc_bids_layout_free(l);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

/* A participants.tsv of 200000 rows is read in n log n: each row used to
 * be compared with every participant before it (hours for a 64 MiB file
 * from a hostile dataset); Check's 4 s timeout catches a relapse. */
START_TEST(test_participants_many)
{
	char *d = made_up(), *text, *path = NULL;
	struct rtc_bids_layout *l = NULL;
	size_t n = 200000, i, off = 0, sz = n * 16 + 32;

	text = malloc(sz);
	ck_assert_ptr_nonnull(text);
	off += (size_t)snprintf(text, sz, "participant_id\n");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, sz - off, "sub-p%zu\n",
		    n - i);
	ck_assert_int_ge(asprintf(&path, "%s/participants.tsv", d), 0);
	ck_assert_int_eq(rtc_fs_write_atomic(path, text, off, 0644, 0, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, NULL), RTC_OK);
	ck_assert_uint_eq(l->n, n + 2);     /* and the folders 01, 02 */
	ck_assert_ptr_nonnull(rtc_bids_layout_find(l, "p1"));
	ck_assert_ptr_nonnull(rtc_bids_layout_find(l, "p200000"));
	for (i = 1; i < l->n; i++)
		ck_assert(strcmp(l->p[i - 1].label, l->p[i].label) < 0);
	rtc_bids_layout_free(l);
	free(text);
	free(path);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

START_TEST(test_glob)
{
	ck_assert(rtc_bids_glob_match("anat/*_T1w.nii*",
	    "anat/sub-01_T1w.nii.gz"));
	ck_assert(!rtc_bids_glob_match("anat/*_T1w.nii*",
	    "ses-1/anat/sub-01_T1w.nii.gz"));
	ck_assert(rtc_bids_glob_match("**/anat/*_T1w.nii*",
	    "ses-1/anat/sub-01_ses-1_T1w.nii.gz"));
	ck_assert(rtc_bids_glob_match("**/anat/*_T1w.nii*",
	    "anat/sub-01_T1w.nii"));
	ck_assert(rtc_bids_glob_match("func/**", "func/a/b/c.nii"));
	ck_assert(!rtc_bids_glob_match("*", "anat/x"));  /* * stops at / */
	ck_assert(!rtc_bids_glob_match("func/*", ".hidden"));
	ck_assert(!rtc_bids_glob_match("*", ".hidden"));  /* leading dot */
	ck_assert(rtc_bids_glob_match("func/*_bold.[jn]*",
	    "func/sub-1_bold.json"));
	ck_assert(!rtc_bids_glob_match("/anat/*", "anat/x"));
	ck_assert(!rtc_bids_glob_match("anat/*", "anat"));
	ck_assert(!rtc_bids_glob_match("anat", "anat/x"));
	/* many "**" against a deep path stay fast (the recursion took
	 * exponential time; found by tests/fuzz/fuzz_glob) */
	ck_assert(!rtc_bids_glob_match("**/**/**/**/**/**/**/**/**/**/**/**/"
	    "**/**/**/**/**/**/**/**/x", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/y"));
	ck_assert(rtc_bids_glob_match("**/**/**/**/**/**/**/**/**/**/**/**/"
	    "**/**/**/**/**/**/**/**/y", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/y"));
}
END_TEST

START_TEST(test_participant_links_followed_at_top_only)
{
	char *d = check_tmpdir(), *other = check_tmpdir(), link[4096];
	struct rtc_bids_layout *l = NULL;

	put_file(d, "dataset_description.json", "{\"Name\": \"x\"}");
	put_file(other, "anat/sub-05_T1w.nii", "12345");
	put_file(d, "sub-06/anat/sub-06_T1w.nii", "1");
	snprintf(link, sizeof(link), "%s/sub-05", d);
	ck_assert_int_eq(symlink(other, link), 0);
	/* a directory link deeper down is not walked */
	snprintf(link, sizeof(link), "%s/sub-06/loop", d);
	ck_assert_int_eq(symlink(d, link), 0);
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, NULL), RTC_OK);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_uint_eq(rtc_bids_layout_find(l, "05")->nfiles, 1);
	ck_assert_uint_eq(rtc_bids_layout_find(l, "06")->nfiles, 1);
	rtc_bids_layout_free(l);
	rtc_fs_remove_tree(d, NULL);
	rtc_fs_remove_tree(other, NULL);
	free(d);
	free(other);
}
END_TEST

static Suite *
bids_layout_suite(void)
{
	Suite *s = suite_create("bids_layout");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ds001);
	tcase_add_test(tc, test_synthetic_sessions);
	tcase_add_test(tc, test_made_up_layout);
	tcase_add_test(tc, test_not_bids_and_bad_files);
	tcase_add_test(tc, test_participants_repeated);
	tcase_add_test(tc, test_participants_many);
	tcase_add_test(tc, test_glob);
	tcase_add_test(tc, test_participant_links_followed_at_top_only);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(bids_layout_suite)
