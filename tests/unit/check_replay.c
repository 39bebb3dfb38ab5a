/*
 * Replay sources: a 4D NIfTI read a frame at a time arrives voxel for
 * voxel (the BIDS image the session writes equals it), DICOM directories
 * with several series become several runs, BIDS selections, pacing, and
 * the errors.
 */
#include "rtc_build.h"

#include <math.h>

#include <jansson.h>

#include "fsutil.h"
#include "live.h"
#include "nifti.h"
#include "pipeline_testutil.h"
#include "replay.h"

static struct rtc_live *
session(struct rtc_project *p, const char *out)
{
	struct rtc_live_opts o;
	struct rtc_live *lv = NULL;

	rtc_live_opts_init(&o);
	o.project = p;
	o.out_dir = out;
	ck_assert_int_eq(rtc_live_new(NULL, &o, &lv, NULL), RTC_OK);
	return lv;
}

/* A 4D NIfTI of phantom volumes (int16 here, scaled). */
static struct rtc_volume *
write_4d(const char *path, int nt, double tr)
{
	struct rtc_synth_params sp;
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *four;
	size_t fb;
	int t;

	tu_synth(&sp, 24, 20, 8, tr, nt);
	ck_assert_int_eq(rtc_synth_volume(&sp, 0, v, NULL, NULL), RTC_OK);
	four = rtc_volume_new(24, 20, 8, nt, RTC_DT_INT16);
	ck_assert_int_eq(rtc_volume_copy_header(four, v), RTC_OK);
	four->tr = tr;
	four->scl_slope = 2.0;
	four->scl_inter = 5.0;
	fb = rtc_volume_nvox(v) * 2;
	for (t = 0; t < nt; t++) {
		ck_assert_int_eq(rtc_synth_volume(&sp, t, v, NULL, NULL),
		    RTC_OK);
		memcpy((char *)four->data + (size_t)t * fb, v->data, fb);
	}
	ck_assert_int_eq(rtc_nifti_write(path, four, NULL, NULL), RTC_OK);
	rtc_volume_free(v);
	return four;
}

START_TEST(test_nifti_frames_exact)
{
	struct rtc_project *p = tu_shipped("sample");
	char *dir = check_tmpdir(), src[PATH_MAX], out[PATH_MAX];
	char bold[PATH_MAX + 100];
	struct rtc_volume *four, *img = NULL;
	struct rtc_replay *rp = NULL;
	struct rtc_live *lv;
	int n = 0;

	snprintf(src, sizeof(src), "%s/run.nii.gz", dir);
	snprintf(out, sizeof(out), "%s/bids", dir);
	four = write_4d(src, 7, 1.25);
	ck_assert_int_eq(rtc_replay_open(NULL, src, NULL, &rp, NULL), RTC_OK);
	ck_assert_int_eq(rtc_replay_count(rp), 7);
	ck_assert_double_eq_tol(rtc_replay_tr(rp), 1.25, 1e-6);
	ck_assert_ptr_nonnull(strstr(rtc_replay_describe(rp), "NIfTI"));
	ck_assert_int_eq(rtc_replay_load(rp, 7, NULL), RTC_ERR_INVAL);
	/* out of order: a seek; then back to the start */
	ck_assert_int_eq(rtc_replay_load(rp, 5, NULL), RTC_OK);
	lv = session(p, out);
	ck_assert_int_eq(rtc_replay_run(rp, lv, 0.0, &n, NULL), RTC_OK);
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_free(lv);
	rtc_replay_close(rp);
	snprintf(bold, sizeof(bold), "%s/sub-sample/func/"
	    "sub-sample_task-rt_run-1_bold.nii.gz", out);
	ck_assert_int_eq(rtc_nifti_read(bold, 0, &img, NULL), RTC_OK);
	ck_assert_int_eq(img->nt, 7);
	ck_assert_int_eq(img->dtype, RTC_DT_INT16);
	ck_assert_double_eq(img->scl_slope, 2.0);
	ck_assert_double_eq(img->scl_inter, 5.0);
	ck_assert_int_eq(memcmp(img->data, four->data,
	    rtc_volume_nbytes(four)), 0);
	ck_assert_double_eq_tol(img->affine[1][3], four->affine[1][3], 1e-4);
	rtc_volume_free(img);
	rtc_volume_free(four);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Two series in one directory (and a stray file): two runs, in series
 * order, volumes in acquisition order. */
START_TEST(test_dicom_two_series)
{
	struct rtc_project *p = tu_shipped("sample");
	char *dir = check_tmpdir(), sub[PATH_MAX];
	struct rtc_synth_params sp;
	struct rtc_replay *rp = NULL;
	struct rtc_live_summary s;
	struct rtc_live *lv;

	snprintf(sub, sizeof(sub), "%s/in", dir);
	tu_synth(&sp, 24, 24, 6, 1.0, 3);
	sp.series_number = 9;
	ck_assert_int_eq(rtc_synth_write(NULL, &sp, sub, NULL), RTC_OK);
	sp.series_number = 4;
	sp.nvol = 2;
	sp.seed = 3;
	ck_assert_int_eq(rtc_synth_write(NULL, &sp, sub, NULL), RTC_OK);
	ck_assert_int_eq(rtc_replay_open(NULL, sub, NULL, &rp, NULL), RTC_OK);
	ck_assert_int_eq(rtc_replay_count(rp), 5);
	ck_assert_double_eq(rtc_replay_tr(rp), 1.0);
	ck_assert_ptr_nonnull(strstr(rtc_replay_describe(rp), "2 series"));
	lv = session(p, NULL);
	ck_assert_int_eq(rtc_replay_run(rp, lv, 0.0, NULL, NULL), RTC_OK);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_get_summary(lv, &s);
	ck_assert_uint_eq(s.runs, 2);
	ck_assert_uint_eq(s.records, 5);
	ck_assert_uint_eq(s.late + s.missing + s.duplicates, 0);
	rtc_live_free(lv);
	rtc_replay_close(rp);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Pacing: paced at 50 ms, five volumes take about 200 ms. */
START_TEST(test_paced)
{
	struct rtc_project *p = tu_shipped("sample");
	char *dir = check_tmpdir(), src[PATH_MAX];
	struct rtc_volume *four;
	struct rtc_replay *rp = NULL;
	struct rtc_live *lv;
	int64_t t0;
	double ms;

	snprintf(src, sizeof(src), "%s/run.nii", dir);
	four = write_4d(src, 5, 2.0);
	ck_assert_int_eq(rtc_replay_open(NULL, src, NULL, &rp, NULL), RTC_OK);
	lv = session(p, NULL);
	t0 = rtc_clock_mono_ns();
	ck_assert_int_eq(rtc_replay_run(rp, lv, 0.05, NULL, NULL), RTC_OK);
	ms = (double)(rtc_clock_mono_ns() - t0) / 1e6;
	ck_assert_msg(ms >= 195 && ms < 1000, "5 volumes at 50 ms took %.0f "
	    "ms", ms);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_free(lv);
	rtc_replay_close(rp);
	rtc_volume_free(four);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static void
put(const char *dir, const char *rel, const char *text)
{
	char *p = NULL;

	ck_assert_int_eq(rtc_fs_join_safe(dir, rel, &p), RTC_OK);
	ck_assert_int_eq(rtc_fs_write_atomic(p, text, strlen(text), 0644, 0,
	    NULL), RTC_OK);
	free(p);
}

/* BIDS: selection as BIDS means it, TR by inheritance, the errors. */
START_TEST(test_bids_selection)
{
	char *dir = check_tmpdir(), p1[PATH_MAX + 100], p2[PATH_MAX + 100];
	char f[PATH_MAX + 100], *cause = NULL;
	struct rtc_replay_select sel = { NULL, NULL, NULL, NULL };
	struct rtc_volume *a, *b;
	struct rtc_replay *rp = NULL;

	snprintf(f, sizeof(f), "%s/sub-02/func", dir);
	ck_assert_int_eq(rtc_fs_mkdir_p(f, 0755, NULL), RTC_OK);
	snprintf(f, sizeof(f), "%s/sub-10/ses-x/func", dir);
	ck_assert_int_eq(rtc_fs_mkdir_p(f, 0755, NULL), RTC_OK);
	put(dir, "dataset_description.json", "{\"Name\":\"t\","
	    "\"BIDSVersion\":\"1.8.0\"}");
	put(dir, "task-nback_bold.json", "{\"RepetitionTime\": 0.75}");
	put(dir, "sub-10/ses-x/func/sub-10_ses-x_task-nback_run-2_bold.json",
	    "{\"RepetitionTime\": 1.5}");
	snprintf(p1, sizeof(p1), "%s/sub-02/func/sub-02_task-nback_run-1_bold."
	    "nii.gz", dir);
	snprintf(p2, sizeof(p2), "%s/sub-10/ses-x/func/"
	    "sub-10_ses-x_task-nback_run-2_bold.nii", dir);
	a = write_4d(p1, 2, 3.0);
	b = write_4d(p2, 3, 3.0);
	ck_assert_int_eq(rtc_replay_open(NULL, dir, &sel, &rp, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "2 BOLD runs match"));
	free(cause);
	cause = NULL;
	/* sub "1" is not sub-10; run "01" is run-1 */
	sel.sub = "1";
	ck_assert_int_eq(rtc_replay_open(NULL, dir, &sel, &rp, NULL),
	    RTC_ERR_NOT_FOUND);
	sel.sub = NULL;
	sel.run = "01";
	ck_assert_int_eq(rtc_replay_open(NULL, dir, &sel, &rp, NULL), RTC_OK);
	ck_assert_int_eq(rtc_replay_count(rp), 2);
	ck_assert_double_eq(rtc_replay_tr(rp), 0.75);    /* the root's */
	rtc_replay_close(rp);
	sel.run = NULL;
	sel.ses = "x";
	ck_assert_int_eq(rtc_replay_open(NULL, dir, &sel, &rp, NULL), RTC_OK);
	ck_assert_int_eq(rtc_replay_count(rp), 3);
	ck_assert_double_eq(rtc_replay_tr(rp), 1.5);     /* nearer wins */
	rtc_replay_close(rp);
	/* a run file given directly: its dataset's sidecars still count */
	ck_assert_int_eq(rtc_replay_open(NULL, p1, NULL, &rp, NULL), RTC_OK);
	ck_assert_double_eq(rtc_replay_tr(rp), 0.75);
	rtc_replay_close(rp);
	rtc_volume_free(a);
	rtc_volume_free(b);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* A sidecar's RepetitionTime paces the replay: one past 600 s (or not
 * positive) is not taken (the header's TR is), so that a dataset cannot
 * make the replay sleep for ages or overflow the pacing clock. */
START_TEST(test_bids_tr_out_of_range)
{
	char *dir = check_tmpdir(), f[PATH_MAX + 100];
	struct rtc_replay *rp = NULL;
	struct rtc_volume *a;

	snprintf(f, sizeof(f), "%s/sub-01/func", dir);
	ck_assert_int_eq(rtc_fs_mkdir_p(f, 0755, NULL), RTC_OK);
	put(dir, "dataset_description.json", "{\"Name\":\"t\","
	    "\"BIDSVersion\":\"1.8.0\"}");
	put(dir, "task-x_bold.json", "{\"RepetitionTime\": 1e300}");
	snprintf(f, sizeof(f), "%s/sub-01/func/sub-01_task-x_bold.nii", dir);
	a = write_4d(f, 2, 2.5);
	ck_assert_int_eq(rtc_replay_open(NULL, dir, NULL, &rp, NULL), RTC_OK);
	ck_assert_double_eq(rtc_replay_tr(rp), 2.5);
	rtc_replay_close(rp);
	put(dir, "task-x_bold.json", "{\"RepetitionTime\": 600.5}");
	ck_assert_int_eq(rtc_replay_open(NULL, f, NULL, &rp, NULL), RTC_OK);
	ck_assert_double_eq(rtc_replay_tr(rp), 2.5);
	rtc_replay_close(rp);
	put(dir, "task-x_bold.json", "{\"RepetitionTime\": 600}");
	ck_assert_int_eq(rtc_replay_open(NULL, f, NULL, &rp, NULL), RTC_OK);
	ck_assert_double_eq(rtc_replay_tr(rp), 600);
	rtc_replay_close(rp);
	rtc_volume_free(a);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_errors)
{
	char *dir = check_tmpdir(), f[PATH_MAX + 20], *cause = NULL;
	struct rtc_replay *rp = NULL;

	ck_assert_int_eq(rtc_replay_open(NULL, "/nonexistent/x", NULL, &rp,
	    NULL), RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(rtc_replay_open(NULL, dir, NULL, &rp, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "no DICOM image"));
	free(cause);
	cause = NULL;
	put(dir, "a.txt", "hello");
	ck_assert_int_eq(rtc_replay_open(NULL, dir, NULL, &rp, NULL),
	    RTC_ERR_NOT_FOUND);
	snprintf(f, sizeof(f), "%s/bad.nii", dir);
	put(dir, "bad.nii", "not a NIfTI header, far too short");
	ck_assert_int_eq(rtc_replay_open(NULL, f, NULL, &rp, &cause),
	    RTC_ERR_FORMAT);
	free(cause);
	ck_assert_ptr_null(rp);
	rtc_replay_close(NULL);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_nifti_frames_exact);
	tcase_add_test(tc, test_dicom_two_series);
	tcase_add_test(tc, test_paced);
	tcase_add_test(tc, test_bids_selection);
	tcase_add_test(tc, test_bids_tr_out_of_range);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(replay_suite)
