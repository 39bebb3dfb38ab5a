/*
 * check_glob: the .gitignore-like pattern meaning openneuro-py gives to
 * --include/--exclude, the folder pruning used while listing, and the
 * top-level rule for BIDS datasets.
 */
#include "rtc_build.h"

#include "check_common.h"
#include "error.h"
#include "glob.h"

struct gcase {
	const char *pattern;
	const char *path;
	int want;
};

static const struct gcase cases[] = {
	/* bare patterns: base names at any depth */
	{ "*.tsv", "participants.tsv", 1 },
	{ "*.tsv", "sub-01/func/sub-01_task-x_events.tsv", 1 },
	{ "*.tsv", "sub-01/func/x.tsv.gz", 0 },
	{ "participants.tsv", "participants.tsv", 1 },
	{ "participants.tsv", "phenotype/participants.tsv", 1 },
	/* a name takes the whole tree below it, rooted */
	{ "sub-01", "sub-01/anat/sub-01_T1w.nii.gz", 1 },
	{ "sub-01", "sub-010/anat/sub-010_T1w.nii.gz", 0 },
	{ "sub-01", "sub-01x/a", 0 },
	{ "sub-01", "derivatives/sub-01/a", 0 },
	{ "sub-01/", "sub-01/a/b", 1 },
	{ "sub-01/anat", "sub-01/anat/sub-01_T1w.nii.gz", 1 },
	{ "sub-01/anat", "sub-01/func/sub-01_bold.nii.gz", 0 },
	{ "derivatives/", "derivatives", 0 },      /* a file, not a folder */
	/* ... also when "**" in the name takes no folder (found by
	 * tests/fuzz/fuzz_glob: these matched nothing) */
	{ "sub-01/**/func", "sub-01/func/sub-01_bold.nii.gz", 1 },
	{ "**/derivatives/", "derivatives/x.json", 1 },
	{ "**/anat", "anat/x.nii", 1 },
	{ "**/**/c", "c/d", 1 },
	/* globstar (openneuro-py's own example) */
	{ "sub-1/**/*run-01*", "sub-1/ses-1/func/sub-1_run-01_bold.nii.gz", 1 },
	{ "sub-1/**/*run-01*", "sub-1/func/sub-1_run-01_bold.nii.gz", 1 },
	{ "sub-1/**/*run-01*", "sub-1/func/sub-1_run-02_bold.nii.gz", 0 },
	{ "**/func/*bold*", "sub-01/ses-1/func/a_bold.json", 1 },
	{ "**/func/*bold*", "sub-01/anat/a_bold.json", 0 },
	/* '*' stays within a component */
	{ "sub-*/*.json", "sub-01/a.json", 1 },
	{ "sub-*/*.json", "sub-01/func/a.json", 0 },
	/* anchoring */
	{ "/participants.tsv", "participants.tsv", 1 },
	{ "/participants.tsv", "x/participants.tsv", 0 },
	{ "/sub-01", "sub-01/a", 1 },
	/* classes and '?' */
	{ "sub-0[12]", "sub-02/a", 1 },
	{ "sub-0[12]", "sub-03/a", 0 },
	{ "sub-0[!1]/*", "sub-03/a", 1 },
	{ "sub-??_*.tsv", "x/sub-07_scans.tsv", 1 },
	/* hidden files need an explicit '.' */
	{ "*", ".bidsignore", 0 },
	{ ".*", ".bidsignore", 1 },
	{ "**/.*", "a/.hidden", 1 },
	{ "a/**", "a/.hidden", 0 },
	{ "*", "README", 1 },
};

START_TEST(test_match_table)
{
	const struct gcase *c = &cases[_i];

	ck_assert_msg(rtc_glob_match(c->pattern, c->path) == c->want,
	    "'%s' vs '%s': expected %d", c->pattern, c->path, c->want);
}
END_TEST

START_TEST(test_degenerate)
{
	ck_assert(!rtc_glob_match("", "a"));
	ck_assert(!rtc_glob_match("/", "a"));
	ck_assert(!rtc_glob_match("a", ""));
	ck_assert(!rtc_glob_match(NULL, "a"));
	ck_assert(!rtc_glob_match("a", NULL));
	/* many globstars stay fast (memoised) */
	ck_assert(!rtc_glob_match("**/**/**/**/**/**/**/**/**/**/x",
	    "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/y"));
}
END_TEST

START_TEST(test_dir_pruning)
{
	ck_assert(rtc_glob_dir_may_match("sub-01", "sub-01"));
	ck_assert(!rtc_glob_dir_may_match("sub-01", "sub-02"));
	ck_assert(rtc_glob_dir_may_match("sub-01/anat", "sub-01"));
	ck_assert(!rtc_glob_dir_may_match("sub-01/anat", "sub-01/func"));
	ck_assert(rtc_glob_dir_may_match("sub-01/anat", "sub-01/anat/x"));
	ck_assert(rtc_glob_dir_may_match("*.tsv", "anything/deep"));
	ck_assert(rtc_glob_dir_may_match("**/func/*", "sub-09/ses-2"));
	ck_assert(rtc_glob_dir_may_match("sub-*/func", "sub-07"));
	ck_assert(!rtc_glob_dir_may_match("sub-*/func", "derivatives"));

	ck_assert(rtc_glob_dir_covered("derivatives", "derivatives"));
	ck_assert(rtc_glob_dir_covered("derivatives/", "derivatives"));
	ck_assert(!rtc_glob_dir_covered("derivatives", "sub-01/derivatives"));
	ck_assert(rtc_glob_dir_covered("sub-0*", "sub-03"));
	ck_assert(rtc_glob_dir_covered("**/anat", "sub-03/anat"));
	ck_assert(!rtc_glob_dir_covered("*.nii.gz", "sub-03"));
}
END_TEST

START_TEST(test_set_bids_toplevel)
{
	const char *inc[] = { "sub-01/func" };
	const char *exc[] = { "*.json" };
	struct rtc_glob_set *g = NULL;

	ck_assert_int_eq(rtc_glob_set_new(inc, 1, exc, 1, 1, &g, NULL),
	    RTC_OK);
	/* top-level files always, even against an exclude */
	ck_assert(rtc_glob_set_wants(g, "dataset_description.json"));
	ck_assert(rtc_glob_set_wants(g, "README"));
	ck_assert(rtc_glob_set_wants(g, ".bidsignore"));
	ck_assert(rtc_glob_set_wants(g, "task-x_bold.json"));
	/* but not top-level folders */
	ck_assert(!rtc_glob_set_wants(g, "derivatives/a.tsv"));
	ck_assert(!rtc_glob_set_wants(g, "sub-01/anat/sub-01_T1w.nii.gz"));
	ck_assert(rtc_glob_set_wants(g, "sub-01/func/sub-01_bold.nii.gz"));
	ck_assert(!rtc_glob_set_wants(g, "sub-01/func/sub-01_bold.json"));
	ck_assert_ptr_null(rtc_glob_set_unmatched(g));
	ck_assert(rtc_glob_set_wants_dir(g, "sub-01"));
	ck_assert(rtc_glob_set_wants_dir(g, "sub-01/func"));
	ck_assert(!rtc_glob_set_wants_dir(g, "sub-02"));
	ck_assert(!rtc_glob_set_wants_dir(g, "derivatives"));
	rtc_glob_set_free(g);
	rtc_glob_set_free(NULL);
}
END_TEST

START_TEST(test_set_plain_and_unmatched)
{
	const char *inc[] = { "a/*", "nothing-here" };
	const char *exc[] = { "a/skip*", "tmp" };
	struct rtc_glob_set *g = NULL;
	char *cause = NULL;

	ck_assert_int_eq(rtc_glob_set_new(inc, 2, exc, 2, 0, &g, NULL),
	    RTC_OK);
	ck_assert(!rtc_glob_set_wants(g, "top.txt"));   /* no BIDS rule */
	ck_assert(rtc_glob_set_wants(g, "a/keep"));
	ck_assert(!rtc_glob_set_wants(g, "a/skip-me"));
	ck_assert_str_eq(rtc_glob_set_unmatched(g), "nothing-here");
	ck_assert(!rtc_glob_set_wants_dir(g, "tmp"));
	rtc_glob_set_free(g);

	/* no includes: everything but the excluded */
	ck_assert_int_eq(rtc_glob_set_new(NULL, 0, exc, 2, 0, &g, NULL),
	    RTC_OK);
	ck_assert(rtc_glob_set_wants(g, "b/c"));
	ck_assert(!rtc_glob_set_wants(g, "tmp/c"));
	ck_assert(rtc_glob_set_wants_dir(g, "b"));
	rtc_glob_set_free(g);

	{
		const char *bad[] = { "" };
		const char *bad2[] = { "/" };

		ck_assert_int_eq(rtc_glob_set_new(bad, 1, NULL, 0, 0, &g,
		    &cause), RTC_ERR_INVAL);
		ck_assert_int_eq(rtc_glob_set_new(NULL, 0, bad2, 1, 0, &g,
		    &cause), RTC_ERR_INVAL);
		free(cause);
	}
}
END_TEST

static Suite *
glob_suite(void)
{
	Suite *s = suite_create("glob");
	TCase *tc = tcase_create("glob");

	tcase_add_loop_test(tc, test_match_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_degenerate);
	tcase_add_test(tc, test_dir_pruning);
	tcase_add_test(tc, test_set_bids_toplevel);
	tcase_add_test(tc, test_set_plain_and_unmatched);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(glob_suite)
