/*
 * check_fetch: choosing the BOLD run for a replay (BIDS-wise labels:
 * run 1 is run-01, never run-10), the metadata a run needs by
 * inheritance, rtc_fetch_bids_run() against the loopback OpenNeuro and
 * S3 server with a real BIDS layout (sessions, top-level sidecars), and
 * rtc_fetch() statistics.
 */
#include "rtc_build.h"

#include "bids.h"
#include "check_net.h"
#include "ctx.h"
#include "error.h"
#include "fetch.h"

static const char *runs[] = {
	"dataset_description.json",
	"task-nback_bold.json",
	"sub-04/ses-01/func/sub-04_ses-01_task-nback_run-01_bold.nii",
	"sub-04/ses-01/func/sub-04_ses-01_task-nback_run-02_bold.nii",
	"sub-04/ses-01/func/sub-04_ses-01_task-nback_run-10_bold.nii.gz",
	"sub-04/ses-01/func/sub-04_ses-01_task-rest_bold.nii",
	"sub-04/ses-02/func/sub-04_ses-02_task-nback_run-01_bold.nii",
	"sub-04/ses-02/func/sub-04_ses-02_task-rest_bold.nii",
	"sub-04/ses-02/func/sub-04_ses-02_task-rest_bold.json",
	"sub-04/ses-01/anat/sub-04_ses-01_T1w.nii",
	"sub-05/func/sub-05_task-rest_run-1_bold.nii.gz",
	"sub-05/func/sub-05_task-rest_run-1_echo-2_bold.nii.gz",
	"sub-05/func/sub-05_task-rest_run-1_sbref.nii.gz",
	"derivatives/fmriprep/sub-04/ses-01/func/"
	    "sub-04_ses-01_task-nback_run-01_space-T1w_desc-preproc_bold.nii",
};
#define NRUNS (sizeof(runs) / sizeof(runs[0]))

static size_t
pick(const char *sub, const char *ses, const char *task, const char *run,
    int want)
{
	size_t idx = 99;
	char *cause = NULL;
	int r = rtc_fetch_select_run(runs, NRUNS, sub, ses, task, run, &idx,
	    &cause);

	ck_assert_msg(r == want, "sub %s ses %s task %s run %s: %d (%s)", sub,
	    ses ? ses : "-", task, run ? run : "-", r, cause ? cause : "");
	free(cause);
	return idx;
}

START_TEST(test_select_bidswise)
{
	ck_assert_int_eq(pick("04", "01", "nback", "1", RTC_OK), 2);
	ck_assert_int_eq(pick("04", "01", "nback", "01", RTC_OK), 2);
	ck_assert_int_eq(pick("04", "01", "nback", "10", RTC_OK), 4);
	ck_assert_int_eq(pick("04", "01", "nback", "010", RTC_OK), 4);
	ck_assert_int_eq(pick("04", "1", "nback", "2", RTC_ERR_NOT_FOUND), 99);
	ck_assert_int_eq(pick("04", "02", "rest", NULL, RTC_OK), 7);
	ck_assert_int_eq(pick("4", "01", "nback", "1", RTC_ERR_NOT_FOUND), 99);
	ck_assert_int_eq(pick("04", "01", "nback", "3", RTC_ERR_NOT_FOUND), 99);
	ck_assert_int_eq(pick("04", NULL, "nback", "2", RTC_OK), 3);
	/* ambiguous: two sessions, three runs, two echoes */
	pick("04", NULL, "nback", "1", RTC_ERR_EXISTS);
	pick("04", "01", "nback", NULL, RTC_ERR_EXISTS);
	pick("05", NULL, "rest", "1", RTC_ERR_EXISTS);
	/* derivatives and sbrefs are never runs */
	pick("04", "01", "preproc", NULL, RTC_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_select_messages)
{
	size_t idx;
	char *cause = NULL;

	ck_assert_int_eq(rtc_fetch_select_run(runs, NRUNS, "04", NULL, "nback",
	    "1", &idx, &cause), RTC_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(cause, "2 BOLD runs match"));
	ck_assert_ptr_nonnull(strstr(cause, "ses-01_task-nback_run-01_bold"));
	ck_assert_ptr_nonnull(strstr(cause, "ses-02_task-nback_run-01_bold"));
	ck_assert_ptr_null(strstr(cause, "run-02"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_fetch_select_run(runs, NRUNS, "09", NULL, "x",
	    NULL, &idx, &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "has 8 BOLD runs"));
	ck_assert_ptr_nonnull(strstr(cause, "sub-05_task-rest_run-1_bold"));
	free(cause);
}
END_TEST

START_TEST(test_run_needs)
{
	const char *b = "sub-04/ses-01/func/sub-04_ses-01_task-nback_run-01_bold.nii";

	ck_assert(rtc_fetch_run_needs(b, "dataset_description.json"));
	ck_assert(rtc_fetch_run_needs(b, "task-nback_bold.json"));
	ck_assert(rtc_fetch_run_needs(b, "task-nback_events.tsv"));
	ck_assert(rtc_fetch_run_needs(b, "task-nback_events.json"));
	ck_assert(rtc_fetch_run_needs(b, "sub-04/sub-04_task-nback_bold.json"));
	ck_assert(rtc_fetch_run_needs(b,
	    "sub-04/ses-01/sub-04_ses-01_bold.json"));
	ck_assert(rtc_fetch_run_needs(b,
	    "sub-04/ses-01/func/sub-04_ses-01_task-nback_run-1_bold.json"));
	ck_assert(rtc_fetch_run_needs(b,
	    "sub-04/ses-01/func/sub-04_ses-01_task-nback_run-01_events.tsv"));
	ck_assert(!rtc_fetch_run_needs(b, "task-rest_bold.json"));
	ck_assert(!rtc_fetch_run_needs(b, "participants.tsv"));
	ck_assert(!rtc_fetch_run_needs(b, "README"));
	ck_assert(!rtc_fetch_run_needs(b, "task-nback_physio.json"));
	ck_assert(!rtc_fetch_run_needs(b,
	    "sub-04/ses-01/func/sub-04_ses-01_task-nback_run-10_bold.json"));
	ck_assert(!rtc_fetch_run_needs(b,
	    "sub-04/ses-02/func/sub-04_ses-02_task-nback_run-01_bold.json"));
	ck_assert(!rtc_fetch_run_needs(b,
	    "sub-05/func/sub-05_task-nback_run-01_bold.json"));
	ck_assert(!rtc_fetch_run_needs(b,
	    "sub-04/ses-01/func/sub-04_ses-01_task-nback_run-01_bold.nii"));
	ck_assert(!rtc_fetch_run_needs(b, "derivatives/task-nback_bold.json"));
	ck_assert(!rtc_fetch_run_needs(b,
	    "sub-04/ses-01/func/sub-04_ses-01_task-nback_acq-x_bold.json"));
}
END_TEST

/* ---- live: a replay's fetch ---- */

static struct check_net_server srv;
static char *tmp, *src;

static void
copy_tree(const char *from, const char *to)
{
	const char *argv[] = { "cp", "-r", from, to, NULL };
	struct rtc_buf o;
	int st = 0;

	rtc_buf_init(&o, 1 << 16);
	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, &o, &o, 20000, &st,
	    NULL), 0);
	ck_assert_int_eq(rtc_process_exit_status(st), 0);
	rtc_buf_free(&o);
}

static void
live_setup(void)
{
	const char *data = check_data_dir();
	char from[1024];
	const char *args[12];

	tmp = check_tmpdir();
	src = malloc(1100);
	snprintf(src, 1100, "%s/src", tmp);
	if (data == NULL)
		return;
	snprintf(from, sizeof(from), "%s/bids/synthetic", data);
	copy_tree(from, src);
	args[0] = "--root";
	args[1] = src;
	args[2] = "--prefix";
	args[3] = "ds000117/";
	args[4] = "--dataset";
	args[5] = "ds000117";
	args[6] = "--tag";
	args[7] = "1.0.5";
	args[8] = NULL;
	check_net_server_start(&srv, args);
}

static void
live_teardown(void)
{
	check_net_server_stop(&srv);
	rtc_fs_remove_tree(tmp, NULL);
	free(tmp);
	free(src);
}

static int
exists(const char *root, const char *rel)
{
	char p[2048];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return rtc_fs_is_file(p);
}

static int
count_files(const char *dir)
{
	const char *argv[] = { "find", dir, "-type", "f", "!", "-path",
	    "*/.rtc/*", NULL };
	struct rtc_buf o;
	int st = 0, n = 0;
	size_t i;

	rtc_buf_init(&o, 1 << 20);
	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, &o, NULL, 20000,
	    &st, NULL), 0);
	for (i = 0; i < o.len; i++)
		n += o.data[i] == '\n';
	rtc_buf_free(&o);
	return n;
}

START_TEST(test_fetch_bids_run)
{
	struct rtc_fetch_run_opts o;
	struct rtc_ctx *ctx;
	char url[128], cache[1100], *nifti = NULL, *root = NULL, *cause = NULL;
	char *rel;
	json_t *meta = NULL;
	FILE *devnull;

	if (check_data_dir() == NULL)
		return;
	ctx = rtc_ctx_new("t");
	devnull = fopen("/dev/null", "w");
	rtc_log_set_file(ctx->log, devnull);
	snprintf(url, sizeof(url), "%s/crn/graphql", srv.base);
	setenv("RTC_OPENNEURO_URL", url, 1);
	setenv("RTC_S3_ENDPOINT", srv.base, 1);
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	memset(&o, 0, sizeof(o));
	o.accession = "ds000117";
	o.sub = "04";
	o.ses = "01";
	o.task = "nback";
	o.run = "1";
	o.cache_dir = cache;
	ck_assert_msg(rtc_fetch_bids_run(ctx, &o, &nifti, &root, &cause) ==
	    RTC_OK, "%s", cause ? cause : "");
	rel = nifti + strlen(root) + 1;
	ck_assert_str_eq(rel,
	    "sub-04/ses-01/func/sub-04_ses-01_task-nback_run-01_bold.nii");
	ck_assert(rtc_fs_is_file(nifti));
	ck_assert(exists(root, "dataset_description.json"));
	ck_assert(exists(root, "task-nback_bold.json"));
	ck_assert(exists(root, "task-nback_events.tsv"));
	ck_assert(!exists(root, "participants.tsv"));
	ck_assert(!exists(root, "task-rest_bold.json"));
	ck_assert(!exists(root,
	    "sub-04/ses-01/func/sub-04_ses-01_task-nback_run-02_bold.nii"));
	ck_assert(!exists(root, "sub-04/ses-01/anat/sub-04_ses-01_T1w.nii"));
	/* what the replay needs from the cache: the run's metadata */
	ck_assert_int_eq(rtc_bids_sidecar_resolve(root, rel, &meta, NULL),
	    RTC_OK);
	ck_assert(json_real_value(json_object_get(meta, "RepetitionTime")) ==
	    2.5);
	json_decref(meta);
	ck_assert_int_eq(count_files(root), 4);
	free(nifti);
	free(root);
	nifti = root = NULL;

	/* another run of the same dataset: added to the cache; the shared
	 * files are not fetched again */
	o.ses = "02";
	o.task = "rest";
	o.run = NULL;
	ck_assert_int_eq(rtc_fetch_bids_run(ctx, &o, &nifti, NULL, &cause),
	    RTC_OK);
	ck_assert_ptr_nonnull(strstr(nifti,
	    "sub-04/ses-02/func/sub-04_ses-02_task-rest_bold.nii"));
	free(nifti);
	nifti = NULL;
	snprintf(cache, sizeof(cache), "%s/cache/ds000117", tmp);
	ck_assert(exists(cache, "task-rest_bold.json"));
	ck_assert_int_eq(count_files(cache), 6);

	/* no such run: the runs there are are named */
	o.task = "nback";
	o.run = "7";
	o.ses = NULL;
	ck_assert_int_eq(rtc_fetch_bids_run(ctx, &o, &nifti, NULL, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "sub-04_ses-01_task-nback_run-01"));
	free(cause);
	cause = NULL;
	/* bad labels */
	o.run = "1/../..";
	ck_assert_int_eq(rtc_fetch_bids_run(ctx, &o, &nifti, NULL, &cause),
	    RTC_ERR_INVAL);
	o.run = "1";
	o.sub = NULL;
	ck_assert_int_eq(rtc_fetch_bids_run(ctx, &o, &nifti, NULL, &cause),
	    RTC_ERR_INVAL);
	free(cause);
	rtc_ctx_free(ctx);
	fclose(devnull);
}
END_TEST

START_TEST(test_fetch_stats)
{
	struct rtc_fetch_opts o;
	struct rtc_fetch_stats st;
	struct rtc_ctx *ctx;
	char dst[1100], *cause = NULL;
	const char *inc[] = { "sub-04/ses-02" };
	FILE *devnull;

	if (check_data_dir() == NULL)
		return;
	ctx = rtc_ctx_new("t");
	devnull = fopen("/dev/null", "w");
	rtc_log_set_file(ctx->log, devnull);
	ctx->quiet = 1;
	setenv("RTC_S3_ENDPOINT", srv.base, 1);
	snprintf(dst, sizeof(dst), "%s/dst", tmp);
	memset(&o, 0, sizeof(o));
	o.source = "s3://openneuro.org/ds000117";
	o.dir = dst;
	o.include = inc;
	o.ninclude = 1;
	o.no_sign = 1;
	o.jobs = 3;
	ck_assert_int_eq(rtc_fetch(ctx, &o, &st, &cause), RTC_OK);
	ck_assert_int_eq(st.files, (size_t)count_files(dst));
	ck_assert_int_eq(st.fetched, st.files);
	ck_assert_int_eq(st.present, 0);
	ck_assert_int_eq(st.failed, 0);
	ck_assert_str_eq(st.via, "s3");
	ck_assert_int_gt(st.bytes, 0);
	ck_assert_int_eq(st.bytes_fetched, st.bytes);
	ck_assert(exists(dst, "sub-04/ses-02/func/sub-04_ses-02_task-rest_bold.nii"));
	ck_assert(!exists(dst, "dataset_description.json"));   /* no BIDS rule */
	ck_assert_int_eq(rtc_fetch(ctx, &o, &st, &cause), RTC_OK);
	ck_assert_int_eq(st.fetched, 0);
	ck_assert_int_eq(st.present, st.files);
	o.source = "ftp://x";
	ck_assert_int_eq(rtc_fetch(ctx, &o, &st, &cause), RTC_ERR_INVAL);
	o.source = "s3://";
	ck_assert_int_eq(rtc_fetch(ctx, &o, &st, &cause), RTC_ERR_INVAL);
	free(cause);
	rtc_ctx_free(ctx);
	fclose(devnull);
}
END_TEST

static Suite *
fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");

	tcase_add_test(pure, test_select_bidswise);
	tcase_add_test(pure, test_select_messages);
	tcase_add_test(pure, test_run_needs);
	tcase_add_checked_fixture(live, live_setup, live_teardown);
	tcase_set_timeout(live, 60);
	tcase_add_test(live, test_fetch_bids_run);
	tcase_add_test(live, test_fetch_stats);
	suite_add_tcase(s, pure);
	suite_add_tcase(s, live);
	return s;
}

RTC_CHECK_MAIN(fetch_suite)
