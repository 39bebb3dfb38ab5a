/*
 * The BIDS run writer: names from project labels, an image readable
 * while it grows and gzip'd at the end, gaps kept as zero frames, the
 * confounds / feedback / latency tables, never overwriting a run.
 */
#include "rtc_build.h"

#include <math.h>

#include <jansson.h>

#include "check_common.h"
#include "error.h"
#include "feedback.h"
#include "fsutil.h"
#include "nifti.h"
#include "runout.h"
#include "volume.h"

static struct rtc_volume *
test_volume(int fill)
{
	struct rtc_volume *v = rtc_volume_new(6, 5, 4, 1, RTC_DT_INT16);
	int16_t *d = v->data;
	size_t i;

	for (i = 0; i < rtc_volume_nvox(v); i++)
		d[i] = (int16_t)(fill + (int)i);
	v->tr = 1.5;
	v->affine[0][0] = v->affine[1][1] = v->affine[2][2] = 3.0;
	v->affine[0][3] = -10;
	rtc_volume_update_voxel_size(v);
	v->slice_timing = malloc(4 * sizeof(double));
	v->slice_timing[0] = 0.0;
	v->slice_timing[1] = 0.75;
	v->slice_timing[2] = 0.375;
	v->slice_timing[3] = 1.125;
	return v;
}

static void
test_record(struct rtc_fb_record *r, int vol)
{
	rtc_fb_record_init(r);
	r->run = 2;
	r->vol = vol;
	r->acquisition_time = 3600 + vol * 1.5;
	r->motion[0] = 0.1 * vol;
	r->motion[5] = 0.001 * vol;
	r->fd = vol == 1 ? 0.0 : 0.25;
	r->feedback = 0.5 * vol;
	r->stage_ms[RTC_STAGE_DECODED] = 1.0;
	r->stage_ms[RTC_STAGE_FEEDBACK] = 2.5;
	rtc_fb_record_set_roi(r, "target.psc", 0.01 * vol);
	if (vol == 2) {
		rtc_fb_record_set_value(r, "score", 7.0);
		r->flags |= RTC_FB_LAGGING;
	}
}

static char *
slurp(const char *path)
{
	char *s = NULL;
	size_t n;

	ck_assert_msg(rtc_fs_read_file(path, 1 << 20, &s, &n, NULL) == RTC_OK,
	    "%s", path);
	return s;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

START_TEST(test_labels)
{
	char out[64];

	ck_assert_int_eq(rtc_runout_label("sub-01", "sub", out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "01");
	ck_assert_int_eq(rtc_runout_label("Pilot_3 (a)", "sub", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "Pilot3a");
	ck_assert_int_eq(rtc_runout_label("--", NULL, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(rtc_runout_label(NULL, NULL, out, sizeof(out)), -1);
	ck_assert_int_eq(rtc_runout_label("task-nback", "task", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "nback");
	ck_assert_int_eq(rtc_runout_label("../../etc", NULL, out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "etc");
	ck_assert_int_eq(rtc_runout_label("abcdef", NULL, out, 4), 0);
	ck_assert_str_eq(out, "abc");
}
END_TEST

/* A whole run: names, image while growing and at the end, tables. */
START_TEST(test_run_written)
{
	char *dir = check_tmpdir(), path[PATH_MAX + 200], *s, *cause = NULL;
	static const char *const keys[] = { "target.psc", "target.mean" };
	struct rtc_runout_opts o;
	struct rtc_runout *ro = NULL;
	struct rtc_fb_record r;
	struct rtc_volume *v[3], *img = NULL;
	json_t *j;
	int i;

	rtc_runout_opts_init(&o);
	o.dir = dir;
	o.sub = "sub-01";
	o.ses = "pre";
	o.task = "feedback";
	o.run = 2;
	o.nkeys = 2;
	o.keys = keys;
	o.title = "Neurofeedback";
	ck_assert_int_eq(rtc_runout_open(NULL, &o, &ro, &cause), RTC_OK);
	for (i = 0; i < 3; i++) {
		v[i] = test_volume(100 * i);
		test_record(&r, i + 1);
		ck_assert_int_eq(rtc_runout_add(ro, v[i], &r, 3.25, NULL),
		    RTC_OK);
		if (i == 1) {
			/* mid-run: a valid NIfTI of the volumes so far */
			snprintf(path, sizeof(path), "%s/sub-01/ses-pre/func/"
			    "sub-01_ses-pre_task-feedback_run-2_bold.nii", dir);
			ck_assert_int_eq(rtc_nifti_read(path, 0, &img, NULL),
			    RTC_OK);
			ck_assert_int_eq(img->nt, 2);
			rtc_volume_free(img);
		}
	}
	/* the same volume again */
	ck_assert_int_eq(rtc_runout_add(ro, v[2], &r, 1.0, NULL),
	    RTC_ERR_EXISTS);
	ck_assert_int_eq(rtc_runout_frames(ro), 3);
	ck_assert_int_eq(rtc_runout_finish(ro, NULL), RTC_OK);
	ck_assert_int_eq(rtc_runout_finish(ro, NULL), RTC_OK);
	ck_assert_str_eq(rtc_runout_bold_path(ro) + strlen(dir),
	    "/sub-01/ses-pre/func/sub-01_ses-pre_task-feedback_run-2_bold.nii.gz");
	/* the .nii is gone, the .nii.gz has every voxel */
	ck_assert(!rtc_fs_is_file(path));
	ck_assert_int_eq(rtc_nifti_read(rtc_runout_bold_path(ro), 0, &img,
	    NULL), RTC_OK);
	ck_assert_int_eq(img->nt, 3);
	ck_assert_int_eq(img->nx, 6);
	ck_assert_int_eq(img->dtype, RTC_DT_INT16);
	ck_assert_double_eq_tol(img->tr, 1.5, 1e-6);
	ck_assert_double_eq_tol(img->affine[0][3], -10, 1e-4);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(memcmp((char *)img->data + i * 240,
		    v[i]->data, 240), 0);
	rtc_volume_free(img);
	/* sidecar */
	snprintf(path, sizeof(path), "%s/sub-01/ses-pre/func/"
	    "sub-01_ses-pre_task-feedback_run-2_bold.json", dir);
	j = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_double_eq_tol(json_number_value(json_object_get(j,
	    "RepetitionTime")), 1.5, 1e-9);
	ck_assert_str_eq(json_string_value(json_object_get(j, "TaskName")),
	    "feedback");
	ck_assert_int_eq(json_array_size(json_object_get(j, "SliceTiming")),
	    4);
	ck_assert(json_is_true(json_object_get(j, "rtcComplete")));
	json_decref(j);
	/* dataset descriptions */
	snprintf(path, sizeof(path), "%s/dataset_description.json", dir);
	j = json_load_file(path, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "Name")),
	    "Neurofeedback");
	json_decref(j);
	snprintf(path, sizeof(path), "%s/derivatives/rtc/"
	    "dataset_description.json", dir);
	j = json_load_file(path, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "DatasetType")),
	    "derivative");
	json_decref(j);
	/* tables */
	snprintf(path, sizeof(path), "%s/derivatives/rtc/sub-01/ses-pre/func/"
	    "sub-01_ses-pre_task-feedback_run-2_desc-confounds_timeseries.tsv",
	    dir);
	s = slurp(path);
	ck_assert_int_eq(count_lines(s), 4);
	ck_assert_ptr_eq(strstr(s, "trans_x\ttrans_y\ttrans_z\trot_x\trot_y\t"
	    "rot_z\tframewise_displacement\n"), s);
	ck_assert_ptr_nonnull(strstr(s, "\n0.200000\tn/a\tn/a\tn/a\tn/a\t"
	    "0.00200000\t0.250000\n"));
	free(s);
	snprintf(path, sizeof(path), "%s/derivatives/rtc/sub-01/ses-pre/func/"
	    "sub-01_ses-pre_task-feedback_run-2_desc-feedback_timeseries.tsv",
	    dir);
	s = slurp(path);
	ck_assert_ptr_eq(strstr(s, "vol\tacquisition_time\tfeedback\tdecision"
	    "\tframewise_displacement\ttarget.psc\ttarget.mean\tflags\t"
	    "values\n"), s);
	ck_assert_ptr_nonnull(strstr(s, "\n2\t3603.0000\t1\tn/a\t0.250000\t"
	    "0.02\tn/a\tlagging\t{\"score\":7}\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n3\t3604.5000\t1.5\tn/a\t0.250000\t"
	    "0.03\tn/a\tn/a\tn/a\n"));
	free(s);
	snprintf(path, sizeof(path), "%s/derivatives/rtc/sub-01/ses-pre/func/"
	    "sub-01_ses-pre_task-feedback_run-2_desc-latency_timeseries.tsv",
	    dir);
	s = slurp(path);
	ck_assert_ptr_eq(strstr(s, "run\tvol\tlatency_ms\tintake_ms\t"
	    "decoded_ms"), s);
	ck_assert_ptr_nonnull(strstr(s, "\n2\t1\t3.250\t0.000\t1.000\tn/a"));
	free(s);
	rtc_runout_free(ro);
	/* the run exists now: never overwritten */
	ck_assert_int_eq(rtc_runout_open(NULL, &o, &ro, &cause),
	    RTC_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(cause, "not overwriting"));
	free(cause);
	for (i = 0; i < 3; i++)
		rtc_volume_free(v[i]);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Volumes that never came are zero frames; a volume of another shape is
 * one too, and said so. No session: no ses- directory. */
START_TEST(test_gaps_and_shapes)
{
	char *dir = check_tmpdir(), *cause = NULL, path[PATH_MAX + 100];
	struct rtc_runout_opts o;
	struct rtc_runout *ro = NULL;
	struct rtc_fb_record r;
	struct rtc_volume *v = test_volume(7), *odd, *img = NULL;
	const int16_t *d;
	json_t *j;
	size_t i;

	rtc_runout_opts_init(&o);
	o.dir = dir;
	o.sub = "pilot";
	ck_assert_int_eq(rtc_runout_open(NULL, &o, &ro, NULL), RTC_OK);
	test_record(&r, 2);
	ck_assert_int_eq(rtc_runout_add(ro, v, &r, 1.0, NULL), RTC_OK);
	test_record(&r, 5);
	ck_assert_int_eq(rtc_runout_add(ro, v, &r, 1.0, NULL), RTC_OK);
	odd = rtc_volume_new(6, 5, 3, 1, RTC_DT_INT16);
	test_record(&r, 6);
	ck_assert_int_eq(rtc_runout_add(ro, odd, &r, 1.0, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "6x5x3"));
	free(cause);
	ck_assert_int_eq(rtc_runout_frames(ro), 6);
	ck_assert_int_eq(rtc_runout_finish(ro, NULL), RTC_OK);
	ck_assert_str_eq(rtc_runout_bold_path(ro) + strlen(dir),
	    "/sub-pilot/func/sub-pilot_task-rt_run-1_bold.nii.gz");
	ck_assert_int_eq(rtc_nifti_read(rtc_runout_bold_path(ro), 0, &img,
	    NULL), RTC_OK);
	ck_assert_int_eq(img->nt, 6);
	d = img->data;
	for (i = 0; i < 120; i++) {
		ck_assert_int_eq(d[i], 0);               /* volume 1 */
		ck_assert_int_eq(d[120 + i], 7 + (int)i);  /* volume 2 */
		ck_assert_int_eq(d[5 * 120 + i], 0);     /* volume 6 */
	}
	snprintf(path, sizeof(path), "%s/sub-pilot/func/"
	    "sub-pilot_task-rt_run-1_bold.json", dir);
	j = json_load_file(path, 0, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(j,
	    "rtcMissingVolumes")), 4);    /* 1, 3, 4, 6 */
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(j,
	    "rtcMissingVolumes"), 3)), 6);
	json_decref(j);
	rtc_volume_free(img);
	rtc_volume_free(odd);
	rtc_volume_free(v);
	rtc_runout_free(ro);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Bad options; a run that got no volume leaves tables but no image;
 * free finishes. */
START_TEST(test_edges)
{
	char *dir = check_tmpdir(), path[PATH_MAX + 100];
	struct rtc_runout_opts o;
	struct rtc_runout *ro = NULL;
	struct rtc_fb_record r;
	struct rtc_volume *v = test_volume(1);

	rtc_runout_opts_init(&o);
	o.dir = dir;
	o.sub = "!!";
	ck_assert_int_eq(rtc_runout_open(NULL, &o, &ro, NULL), RTC_ERR_INVAL);
	o.sub = "x";
	o.run = 0;
	ck_assert_int_eq(rtc_runout_open(NULL, &o, &ro, NULL), RTC_ERR_INVAL);
	o.run = 3;
	ck_assert_int_eq(rtc_runout_open(NULL, &o, &ro, NULL), RTC_OK);
	rtc_runout_free(ro);
	snprintf(path, sizeof(path), "%s/sub-x/func/sub-x_task-rt_run-3_bold."
	    "nii.gz", dir);
	ck_assert(!rtc_fs_is_file(path));
	/* free without finish: the image is complete all the same */
	o.run = 4;
	ck_assert_int_eq(rtc_runout_open(NULL, &o, &ro, NULL), RTC_OK);
	test_record(&r, 1);
	ck_assert_int_eq(rtc_runout_add(ro, v, &r, NAN, NULL), RTC_OK);
	test_record(&r, 0);
	ck_assert_int_eq(rtc_runout_add(ro, v, &r, NAN, NULL), RTC_ERR_INVAL);
	rtc_runout_free(ro);
	snprintf(path, sizeof(path), "%s/sub-x/func/sub-x_task-rt_run-4_bold."
	    "nii.gz", dir);
	ck_assert(rtc_fs_is_file(path));
	rtc_runout_free(NULL);
	rtc_volume_free(v);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
runout_suite(void)
{
	Suite *s = suite_create("runout");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_labels);
	tcase_add_test(tc, test_run_written);
	tcase_add_test(tc, test_gaps_and_shapes);
	tcase_add_test(tc, test_edges);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(runout_suite)
