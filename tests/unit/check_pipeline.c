/*
 * The pipeline on phantom series whose truth is known (lib/synth): motion
 * estimates against the applied trajectory, feedback against the
 * activation blocks, the shipped projects on several geometries, and the
 * setup rules (dummies, reference index and NIfTI, masks in other grids,
 * weights, events, errors).
 */
#include "rtc_build.h"

#include <math.h>

#include "nifti.h"
#include "pipeline_testutil.h"

/* Run n volumes of sp through pl; OUT: rec[n] (may be NULL). */
static void
run_series(struct rtc_pipeline *pl, const struct rtc_synth_params *sp,
    int dummies, struct rtc_fb_record *rec, struct rtc_synth_truth *truth)
{
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_fb_record r;
	char *cause = NULL;
	int t, ret;

	for (t = 0; t < sp->nvol; t++) {
		ck_assert_int_eq(rtc_synth_volume(sp, t, v,
		    truth != NULL ? &truth[t] : NULL, NULL), RTC_OK);
		tu_record(&r, v, t + 1);
		ret = rtc_pipeline_process(pl, v, t < dummies, &r, &cause);
		ck_assert_msg(ret == RTC_OK, "volume %d: %s", t + 1,
		    cause ? cause : "");
		if (rec != NULL)
			rec[t] = r;
	}
	rtc_volume_free(v);
}

static double
correlation(const double *a, const double *b, int n)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
	int i;

	for (i = 0; i < n; i++) {
		ma += a[i];
		mb += b[i];
	}
	ma /= n;
	mb /= n;
	for (i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	return sab / sqrt(saa * sbb);
}

/* sample: the brain's mean per volume, from the automatic mask. */
START_TEST(test_sample_project)
{
	struct rtc_project *p = tu_shipped("sample");
	struct rtc_synth_params sp;
	struct rtc_pipeline *pl = NULL;
	struct rtc_pipeline_stats st;
	struct rtc_fb_record rec[4];
	int t;

	tu_synth(&sp, 48, 48, 20, 2.0, 4);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	ck_assert_int_eq(rtc_pipeline_nkeys(pl), 3);
	ck_assert_str_eq(rtc_pipeline_key(pl, 0), "brain.mean");
	ck_assert_str_eq(rtc_pipeline_key(pl, 1), "brain.psc");
	ck_assert_str_eq(rtc_pipeline_key(pl, 2), "brain.z");
	ck_assert_ptr_null(rtc_pipeline_key(pl, 3));
	run_series(pl, &sp, 0, rec, NULL);
	for (t = 0; t < 4; t++) {
		double m = tu_roi(&rec[t], "brain.mean");

		/* the phantom's tissues are 250..1400; the brain's mean in
		 * between, and it is the feedback */
		ck_assert_msg(m > 500 && m < 1100, "brain mean %g", m);
		ck_assert_double_eq(rec[t].feedback, m);
		ck_assert(!isnan(rec[t].stage_ms[RTC_STAGE_ROI]));
		ck_assert(isnan(rec[t].stage_ms[RTC_STAGE_MOTION]));
		ck_assert(isnan(rec[t].stage_ms[RTC_STAGE_GLM]));
		ck_assert(rec[t].stage_ms[RTC_STAGE_FEEDBACK] >=
		    rec[t].stage_ms[RTC_STAGE_ROI]);
	}
	/* psc needs a baseline volume before it, z two */
	ck_assert(isnan(tu_roi(&rec[0], "brain.psc")));
	ck_assert(!isnan(tu_roi(&rec[1], "brain.psc")));
	ck_assert(isnan(tu_roi(&rec[1], "brain.z")));
	ck_assert(!isnan(tu_roi(&rec[3], "brain.z")));
	rtc_pipeline_get_stats(pl, &st);
	ck_assert_uint_eq(st.analysed, 4);
	ck_assert_uint_eq(st.setups, 1);
	ck_assert_uint_gt(st.mask_voxels, 5000);
	/* the phantom's head is centred near the origin */
	ck_assert(fabs(st.centroid[0]) < 5 && fabs(st.centroid[1]) < 5 &&
	    fabs(st.centroid[2]) < 10);
	rtc_pipeline_free(pl);
	rtc_project_free(p);
}
END_TEST

/*
 * neurofeedback on a head moving by a known trajectory: every estimate
 * (relative to the reference, the first volume after two dummies) within
 * 0.15 mm RMS over a 50 mm sphere of the truth, mean within 0.08 mm. The
 * phantom is piecewise constant, sub-sampled 2x2x2 and noisy (SD 8 on
 * 650..1400, about 1%): the kernel's own accuracy on real EPI is 0.03 mm;
 * these bounds leave room for the phantom's sharp edges.
 */
START_TEST(test_motion_matches_truth)
{
	struct rtc_project *p = tu_shipped("neurofeedback");
	struct rtc_synth_params sp;
	struct rtc_synth_traj *tj = NULL;
	struct rtc_synth_truth truth[24];
	struct rtc_fb_record rec[24];
	struct rtc_pipeline *pl = NULL;
	double Tref[4][4], Tinv[4][4], Tt[4][4], Ttrue[4][4], Test[4][4];
	double c[3] = { 0, 0, 0 }, tr3[3], ro3[3], sum = 0, worst = 0;
	int t, n = 0;

	tu_synth(&sp, 64, 64, 27, 2.0, 24);
	ck_assert_int_eq(rtc_synth_traj_parse("sine:1.5,1.5,30", &tj, NULL),
	    RTC_OK);
	rtc_synth_traj_attach(tj, &sp);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 2, rec, truth);
	ck_assert(rec[0].flags & RTC_FB_DUMMY);
	ck_assert(isnan(rec[0].motion[0]));
	ck_assert(isnan(rec[1].feedback));
	/* truth in rtc's convention relative to the reference (volume 3) */
	rtc_synth_motion_to_rtc(truth[2].motion, tr3, ro3);
	rtc_motion_params_to_matrix(tr3, ro3, c, Tref);
	ck_assert_int_eq(rtc_affine_invert(Tref, Tinv), RTC_OK);
	for (t = 2; t < sp.nvol; t++) {
		double e;

		rtc_synth_motion_to_rtc(truth[t].motion, tr3, ro3);
		rtc_motion_params_to_matrix(tr3, ro3, c, Tt);
		rtc_affine_mul(Tt, Tinv, Ttrue);
		ck_assert(!isnan(rec[t].motion[0]));
		rtc_motion_params_to_matrix(rec[t].motion, rec[t].motion + 3, c,
		    Test);
		e = tu_rms_error(Test, Ttrue, c, 50.0);
		sum += e;
		n++;
		if (e > worst)
			worst = e;
	}
	fprintf(stderr, "pipeline motion vs truth (1.5 mm / 1.5 deg sine): "
	    "mean RMS point error %.4f mm, max %.4f mm over %d volumes\n",
	    sum / n, worst, n);
	ck_assert_msg(sum / n <= 0.08, "mean RMS error %.4f mm", sum / n);
	ck_assert_msg(worst <= 0.15, "max RMS error %.4f mm", worst);
	/* the reference itself is at rest relative to itself */
	ck_assert(fabs(rec[2].motion[0]) < 0.02 && rec[2].fd == 0.0);
	rtc_pipeline_free(pl);
	rtc_synth_traj_free(tj);
	rtc_project_free(p);
}
END_TEST

/* neurofeedback: the feedback (target PSC) follows the activation blocks
 * the phantom carries in the same sphere; the classifier learns them. */
START_TEST(test_feedback_follows_activation)
{
	struct rtc_project *p = tu_shipped("neurofeedback");
	struct rtc_synth_params sp;
	struct rtc_synth_truth truth[100];
	struct rtc_fb_record rec[100];
	struct rtc_pipeline *pl = NULL;
	double fb[100] = { 0 }, act[100] = { 0 }, dec[100] = { 0 };
	double lab[100] = { 0 }, r, rd;
	int t, n = 0, nd = 0;

	tu_synth(&sp, 40, 40, 16, 2.0, 100);
	sp.voxel[0] = sp.voxel[1] = 4.0;
	sp.voxel[2] = 5.0;
	sp.roi.amplitude = 0.03;
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 2, rec, truth);
	for (t = 2; t < sp.nvol; t++) {
		if (!isnan(rec[t].feedback)) {
			fb[n] = rec[t].feedback;
			act[n++] = truth[t].activation;
		}
		if (!isnan(rec[t].decision)) {
			dec[nd] = rec[t].decision;
			lab[nd++] = truth[t].activation;
		}
	}
	r = correlation(fb, act, n);
	rd = nd > 10 ? correlation(dec, lab, nd) : 0;
	fprintf(stderr, "neurofeedback: feedback vs activation r = %.3f over "
	    "%d volumes; classifier decision r = %.3f over %d\n", r, n, rd,
	    nd);
	ck_assert_int_ge(n, 90);
	ck_assert_msg(r > 0.7, "feedback follows activation with r = %.3f", r);
	ck_assert_int_ge(nd, 40);
	ck_assert_msg(rd > 0.5, "classifier decision r = %.3f", rd);
	/* the GLM's t map of the task is available in the record */
	ck_assert(tu_roi(&rec[99], "target.t.task") > 3.0);
	ck_assert(fabs(tu_roi(&rec[99], "brain.t.task")) <
	    tu_roi(&rec[99], "target.t.task"));
	ck_assert(!isnan(rec[99].stage_ms[RTC_STAGE_CLASSIFIER]));
	rtc_pipeline_free(pl);
	rtc_project_free(p);
}
END_TEST

/* Both shipped projects on other geometries, and a new run with a new
 * geometry sets up again. */
START_TEST(test_any_geometry)
{
	static const int mats[3][3] = { { 64, 64, 36 }, { 32, 40, 12 },
	    { 80, 80, 24 } };
	static const char *const names[2] = { "sample", "neurofeedback" };
	struct rtc_synth_params sp;
	struct rtc_pipeline_stats st;
	int k, m;

	for (k = 0; k < 2; k++) {
		struct rtc_project *p = tu_shipped(names[k]);
		struct rtc_pipeline *pl = NULL;
		struct rtc_fb_record rec[6];

		ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL),
		    RTC_OK);
		for (m = 0; m < 3; m++) {
			tu_synth(&sp, mats[m][0], mats[m][1], mats[m][2], 1.5,
			    6);
			sp.voxel[0] = sp.voxel[1] = 200.0 / mats[m][0];
			sp.voxel[2] = 100.0 / mats[m][2];
			if (m > 0)
				rtc_pipeline_run_start(pl);
			run_series(pl, &sp, p->intake.dummies, rec, NULL);
			ck_assert_msg(!isnan(rec[5].feedback), "%s on %dx%dx%d: "
			    "no feedback", names[k], mats[m][0], mats[m][1],
			    mats[m][2]);
		}
		rtc_pipeline_get_stats(pl, &st);
		ck_assert_uint_eq(st.setups, 3);
		ck_assert_uint_eq(st.rejected, 0);
		rtc_pipeline_free(pl);
		rtc_project_free(p);
	}
}
END_TEST

/* A volume of another matrix in the same run is refused, not analysed. */
START_TEST(test_geometry_change_refused)
{
	struct rtc_project *p = tu_shipped("sample");
	struct rtc_synth_params sp;
	struct rtc_pipeline *pl = NULL;
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_pipeline_stats st;
	struct rtc_fb_record r;
	char *cause = NULL;

	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	tu_synth(&sp, 32, 32, 10, 2.0, 2);
	ck_assert_int_eq(rtc_synth_volume(&sp, 0, v, NULL, NULL), RTC_OK);
	tu_record(&r, v, 1);
	ck_assert_int_eq(rtc_pipeline_process(pl, v, 0, &r, NULL), RTC_OK);
	tu_synth(&sp, 32, 32, 12, 2.0, 2);
	ck_assert_int_eq(rtc_synth_volume(&sp, 1, v, NULL, NULL), RTC_OK);
	tu_record(&r, v, 2);
	ck_assert_int_eq(rtc_pipeline_process(pl, v, 0, &r, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "32x32x12"));
	free(cause);
	ck_assert(isnan(r.feedback));
	ck_assert_int_eq(r.n_roi, 3);      /* the record keeps its shape */
	rtc_pipeline_get_stats(pl, &st);
	ck_assert_uint_eq(st.rejected, 1);
	rtc_pipeline_free(pl);
	rtc_volume_free(v);
	rtc_project_free(p);
}
END_TEST

/* reference = N: the volumes before it are not analysed. */
START_TEST(test_reference_index)
{
	char *dir = NULL;
	struct rtc_project *p = tu_project(
	    "[pipeline]\nreference = 3\n[pipeline.motion]\n"
	    "[[pipeline.roi]]\nname = \"b\"\nbrain = true\n"
	    "[feedback]\nvalue = \"fd\"\n", &dir);
	struct rtc_synth_params sp;
	struct rtc_synth_traj *tj = NULL;
	struct rtc_pipeline *pl = NULL;
	struct rtc_pipeline_stats st;
	struct rtc_fb_record rec[5];

	tu_synth(&sp, 40, 40, 14, 2.0, 5);
	ck_assert_int_eq(rtc_synth_traj_parse("sine:1,1,8", &tj, NULL),
	    RTC_OK);
	rtc_synth_traj_attach(tj, &sp);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 0, rec, NULL);
	ck_assert(isnan(rec[0].fd) && isnan(rec[1].fd));
	ck_assert(!(rec[0].flags & RTC_FB_DUMMY));
	ck_assert_double_eq(rec[2].fd, 0.0);  /* the reference: first FD 0 */
	ck_assert(rec[3].fd > 0.1);           /* it moved 1 mm, 1 deg */
	ck_assert_double_eq(rec[3].feedback, rec[3].fd);
	rtc_pipeline_get_stats(pl, &st);
	ck_assert_uint_eq(st.not_analysed, 2);
	ck_assert_uint_eq(st.analysed, 3);
	rtc_pipeline_free(pl);
	rtc_synth_traj_free(tj);
	rtc_project_free(p);
	tu_remove(dir);
}
END_TEST

/* Write volume t of sp, resampled to another grid, as a NIfTI. */
static void
write_nifti_of(const struct rtc_synth_params *sp, int t, const char *path)
{
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);

	ck_assert_int_eq(rtc_synth_volume(sp, t, v, NULL, NULL), RTC_OK);
	ck_assert_int_eq(rtc_nifti_write(path, v, NULL, NULL), RTC_OK);
	rtc_volume_free(v);
}

/*
 * A NIfTI reference in another grid (finer voxels, no tilt) is resampled
 * into the data's: the motion of the data relative to the still head in
 * the NIfTI is the trajectory itself.
 */
START_TEST(test_reference_nifti_other_grid)
{
	char *dir = NULL, text[512], path[PATH_MAX + 32];
	struct rtc_synth_params sp, fine;
	struct rtc_synth_traj *tj = NULL;
	struct rtc_synth_truth truth[4];
	struct rtc_fb_record rec[4];
	struct rtc_pipeline *pl = NULL;
	struct rtc_project *p;
	double trans[3], rot[3];

	dir = check_tmpdir();
	tu_synth(&fine, 80, 80, 40, 2.0, 1);
	fine.voxel[0] = fine.voxel[1] = 2.5;
	fine.voxel[2] = 3.0;
	fine.tilt_deg = 0.0;
	fine.noise_sd = 0.0;
	snprintf(path, sizeof(path), "%s/ref.nii", dir);
	write_nifti_of(&fine, 0, path);
	snprintf(text, sizeof(text), "[pipeline]\nreference = \"ref.nii\"\n"
	    "[pipeline.motion]\n[feedback]\nvalue = \"fd\"\n");
	ck_assert_int_eq(rtc_project_parse(text, strlen(text), "p", dir, &p,
	    NULL), RTC_OK);
	tu_synth(&sp, 64, 64, 27, 2.0, 4);
	ck_assert_int_eq(rtc_synth_traj_parse("sine:1.2,1.2,10", &tj, NULL),
	    RTC_OK);
	rtc_synth_traj_attach(tj, &sp);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 0, rec, truth);
	rtc_synth_motion_to_rtc(truth[2].motion, trans, rot);
	fprintf(stderr, "NIfTI reference: truth t=(%.3f %.3f %.3f) est "
	    "(%.3f %.3f %.3f)\n", trans[0], trans[1], trans[2],
	    rec[2].motion[0], rec[2].motion[1], rec[2].motion[2]);
	ck_assert(fabs(rec[2].motion[0] - trans[0]) < 0.2);
	ck_assert(fabs(rec[2].motion[1] - trans[1]) < 0.2);
	ck_assert(fabs(rec[2].motion[2] - trans[2]) < 0.2);
	ck_assert(fabs(rec[2].motion[5] - rot[2]) < 0.005);
	rtc_pipeline_free(pl);
	rtc_synth_traj_free(tj);
	rtc_project_free(p);
	tu_remove(dir);
}
END_TEST

/* An ROI mask drawn in another grid lands on the same world sphere. */
START_TEST(test_roi_mask_other_grid)
{
	char *dir = check_tmpdir(), text[512], path[PATH_MAX + 32];
	struct rtc_volume *m = rtc_volume_new(60, 60, 60, 1, RTC_DT_UINT8);
	struct rtc_synth_params sp;
	struct rtc_fb_record rec[3];
	struct rtc_pipeline *pl = NULL;
	struct rtc_project *p;
	uint8_t *b = m->data;
	int i, j, k;

	/* 2 mm isotropic, centred on the origin: a 10 mm ball at (20,0,0) */
	rtc_affine_identity(m->affine);
	for (i = 0; i < 3; i++) {
		m->affine[i][i] = 2.0;
		m->affine[i][3] = -59.0;
	}
	rtc_volume_update_voxel_size(m);
	for (k = 0; k < 60; k++)
		for (j = 0; j < 60; j++)
			for (i = 0; i < 60; i++) {
				double x = -59 + 2 * i - 20, y = -59 + 2 * j,
				    z = -59 + 2 * k;

				b[(k * 60 + j) * 60 + i] =
				    x * x + y * y + z * z <= 100.0;
			}
	snprintf(path, sizeof(path), "%s/roi.nii.gz", dir);
	ck_assert_int_eq(rtc_nifti_write(path, m, NULL, NULL), RTC_OK);
	snprintf(text, sizeof(text), "[[pipeline.roi]]\nname = \"ball\"\n"
	    "mask = \"roi.nii.gz\"\n[[pipeline.roi]]\nname = \"same\"\n"
	    "sphere = { center_mm = [20.0, 0.0, 0.0], radius_mm = 10.0, "
	    "relative_to = \"scanner\" }\n[feedback]\n"
	    "value = \"ball.mean - same.mean\"\n");
	ck_assert_int_eq(rtc_project_parse(text, strlen(text), "p", dir, &p,
	    NULL), RTC_OK);
	tu_synth(&sp, 64, 64, 27, 2.0, 3);
	sp.noise_sd = 0;
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 0, rec, NULL);
	/* the two ROIs agree to a few percent of the signal */
	ck_assert_msg(fabs(rec[2].feedback) < 0.05 * tu_roi(&rec[2],
	    "same.mean"), "mask vs sphere: %g of %g", rec[2].feedback,
	    tu_roi(&rec[2], "same.mean"));
	rtc_pipeline_free(pl);
	rtc_project_free(p);
	rtc_volume_free(m);
	tu_remove(dir);
}
END_TEST

/* Fixed classifier weights from a NIfTI: the decision is w.x~ + b. */
START_TEST(test_classifier_weights_file)
{
	char *dir = check_tmpdir(), text[512], path[PATH_MAX + 32];
	struct rtc_synth_params sp;
	struct rtc_volume *w;
	struct rtc_fb_record rec[2];
	struct rtc_pipeline *pl = NULL;
	struct rtc_project *p;
	float *wd;
	size_t i;

	tu_synth(&sp, 32, 32, 10, 2.0, 2);
	w = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	ck_assert_int_eq(rtc_synth_volume(&sp, 0, w, NULL, NULL), RTC_OK);
	/* the same grid, weights all zero: decision = bias */
	ck_assert_int_eq(rtc_volume_reshape(w, 32, 32, 10, 1,
	    RTC_DT_FLOAT32), RTC_OK);
	wd = w->data;
	/* one voxel of negligible weight: the decision is the bias */
	for (i = 0; i < rtc_volume_nvox(w); i++)
		wd[i] = i == 5000 ? 1e-9f : 0.0f;
	snprintf(path, sizeof(path), "%s/w.nii", dir);
	ck_assert_int_eq(rtc_nifti_write(path, w, NULL, NULL), RTC_OK);
	snprintf(text, sizeof(text), "[pipeline.classifier]\n"
	    "weights = \"w.nii\"\nbias = 0.75\nkind = \"svm\"\n"
	    "[feedback]\nvalue = \"classifier\"\n");
	ck_assert_int_eq(rtc_project_parse(text, strlen(text), "p", dir, &p,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 0, rec, NULL);
	ck_assert_double_eq_tol(rec[1].decision, 0.75, 1e-5);
	ck_assert_double_eq_tol(rec[1].feedback, 0.75, 1e-5);
	ck_assert_int_eq(rec[1].n_values, 0);   /* svm: no probability */
	rtc_pipeline_free(pl);
	rtc_project_free(p);
	rtc_volume_free(w);
	tu_remove(dir);
}
END_TEST

/* Events from a BIDS events.tsv, the Glover HRF, a difference contrast. */
START_TEST(test_events_tsv_design)
{
	char *dir = check_tmpdir(), path[PATH_MAX + 32], *cause = NULL;
	static const char ev[] = "onset\tduration\ttrial_type\n"
	    "10\t10\tfaces\n30\t10\thouses\n50\t10\tfaces\n70\t10\thouses\n";
	static const char good[] = "[pipeline.glm]\nevents = \"ev.tsv\"\n"
	    "hrf = \"glover\"\n[[pipeline.glm.contrasts]]\nname = \"fh\"\n"
	    "weights = { faces = 1.0, houses = -1.0 }\n"
	    "[[pipeline.roi]]\nname = \"b\"\nbrain = true\n"
	    "[feedback]\nvalue = \"b.t.fh\"\n";
	static const char bad[] = "[pipeline.glm]\nevents = \"ev.tsv\"\n"
	    "[[pipeline.glm.contrasts]]\nname = \"x\"\n"
	    "weights = { cars = 1.0 }\n";
	struct rtc_synth_params sp;
	struct rtc_fb_record rec[45];
	struct rtc_pipeline *pl = NULL;
	struct rtc_project *p;

	snprintf(path, sizeof(path), "%s/ev.tsv", dir);
	ck_assert_int_eq(rtc_fs_write_atomic(path, ev, strlen(ev), 0644, 0,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_project_parse(bad, strlen(bad), "p", dir, &p,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "cars"));
	free(cause);
	rtc_project_free(p);
	ck_assert_int_eq(rtc_project_parse(good, strlen(good), "p", dir, &p,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	ck_assert_int_eq(rtc_pipeline_nkeys(pl), 4);
	ck_assert_str_eq(rtc_pipeline_key(pl, 0), "b.t.fh");
	tu_synth(&sp, 32, 32, 10, 2.0, 45);
	run_series(pl, &sp, 0, rec, NULL);
	/* estimable once both conditions have started and dof > 0 */
	ck_assert(isnan(rec[3].feedback));
	ck_assert(!isnan(rec[44].feedback));
	ck_assert(!isnan(rec[44].stage_ms[RTC_STAGE_GLM]));
	rtc_pipeline_free(pl);
	rtc_project_free(p);
	tu_remove(dir);
}
END_TEST

/* Task regressors need a TR: none in the data, none in the project, none
 * given: the setup says so; with opts.tr it works. */
START_TEST(test_glm_needs_tr)
{
	struct rtc_project *p = tu_shipped("neurofeedback");
	struct rtc_pipeline *pl = NULL;
	struct rtc_pipeline_opts o;
	struct rtc_synth_params sp;
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_fb_record r;
	char *cause = NULL;

	tu_synth(&sp, 32, 32, 10, 2.0, 4);
	ck_assert_int_eq(rtc_synth_volume(&sp, 3, v, NULL, NULL), RTC_OK);
	v->tr = 0;
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	tu_record(&r, v, 3);
	ck_assert_int_eq(rtc_pipeline_process(pl, v, 0, &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "TR"));
	free(cause);
	rtc_pipeline_free(pl);
	rtc_pipeline_opts_init(&o);
	o.tr = 2.0;
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, &o, &pl, NULL), RTC_OK);
	tu_record(&r, v, 3);
	ck_assert_int_eq(rtc_pipeline_process(pl, v, 0, &r, NULL), RTC_OK);
	rtc_pipeline_free(pl);
	rtc_volume_free(v);
	rtc_project_free(p);
}
END_TEST

/* A project whose files are missing, or whose sphere misses the scan. */
START_TEST(test_setup_errors)
{
	char *dir = NULL;
	struct rtc_project *p = tu_project("[[pipeline.roi]]\nname = \"far\"\n"
	    "sphere = { center_mm = [400.0, 0.0, 0.0], radius_mm = 5.0, "
	    "relative_to = \"scanner\" }\n[[pipeline.roi]]\nname = \"b\"\n"
	    "brain = true\n[feedback]\nvalue = \"far.mean\"\n", &dir);
	struct rtc_synth_params sp;
	struct rtc_fb_record rec[2];
	struct rtc_pipeline *pl = NULL;

	tu_synth(&sp, 32, 32, 10, 2.0, 2);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 0, rec, NULL);
	/* the sphere lies outside the field of view: null, the rest works */
	ck_assert(isnan(rec[1].feedback));
	ck_assert(!isnan(tu_roi(&rec[1], "b.mean")));
	rtc_pipeline_free(pl);
	rtc_project_free(p);
	tu_remove(dir);
	ck_assert_int_eq(rtc_pipeline_new(NULL, NULL, NULL, &pl, NULL),
	    RTC_ERR_INVAL);
	rtc_pipeline_free(NULL);
}
END_TEST

/* Reslicing puts a moved volume back onto the reference. */
START_TEST(test_reslice_restores)
{
	char *dir = NULL;
	struct rtc_project *p = tu_project("[pipeline.motion]\nreslice = true\n"
	    "interpolation = \"cubic\"\n[[pipeline.roi]]\nname = \"ball\"\n"
	    "sphere = { center_mm = [12.0, -5.0, 10.0], radius_mm = 6.0, "
	    "relative_to = \"scanner\" }\n[feedback]\nvalue = \"ball.mean\"\n",
	    &dir);
	struct rtc_synth_params sp;
	struct rtc_synth_traj *tj = NULL;
	struct rtc_fb_record rec[3], still[3];
	struct rtc_pipeline *pl = NULL;

	/* the ball sits in the left ventricle (1400 against 650 around):
	 * a 4 mm move changes its mean unless resliced */
	tu_synth(&sp, 64, 64, 27, 2.0, 3);
	sp.noise_sd = 0;
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 0, still, NULL);
	rtc_pipeline_run_start(pl);
	ck_assert_int_eq(rtc_synth_traj_parse("sine:4,2,8", &tj, NULL),
	    RTC_OK);
	rtc_synth_traj_attach(tj, &sp);
	run_series(pl, &sp, 0, rec, NULL);
	fprintf(stderr, "reslice: ball mean still %.1f, moved+resliced "
	    "%.1f\n", still[1].feedback, rec[1].feedback);
	ck_assert(fabs(rec[1].feedback - still[1].feedback) <
	    0.03 * still[1].feedback);
	ck_assert(rec[1].fd > 1.0);
	rtc_pipeline_free(pl);
	rtc_synth_traj_free(tj);
	rtc_project_free(p);
	tu_remove(dir);
}
END_TEST

/* The plugin example's values reach the record and the feedback. */
START_TEST(test_plugin_analysis)
{
	const char *top = getenv("RTC_TOP_BUILDDIR");
	char so[PATH_MAX], text[PATH_MAX + 256], *dir = check_tmpdir();
	char *cause = NULL;
	struct rtc_synth_params sp;
	struct rtc_fb_record rec[2];
	struct rtc_pipeline *pl = NULL;
	struct rtc_project *p;
	int r;

	snprintf(so, sizeof(so), "%s/tests/live/example_plugin.so",
	    top ? top : ".");
	snprintf(text, sizeof(text), "[analysis]\nplugin = \"%s\"\n"
	    "[analysis.config]\nthreshold_fraction = 0.2\nradius_mm = 10.0\n"
	    "[feedback]\nvalue = \"analysis.center_mean\"\n", so);
	r = rtc_project_parse(text, strlen(text), "p", dir, &p, &cause);
	ck_assert_msg(r == RTC_OK, "%s", cause ? cause : "");
	tu_synth(&sp, 32, 32, 10, 2.0, 2);
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	run_series(pl, &sp, 0, rec, NULL);
	ck_assert_msg(rec[1].feedback > 100, "plugin feedback %g",
	    rec[1].feedback);
	ck_assert_int_ge(rec[1].n_values, 1);
	rtc_pipeline_free(pl);
	rtc_project_free(p);
	tu_remove(dir);
}
END_TEST

static Suite *
pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_sample_project);
	tcase_add_test(tc, test_motion_matches_truth);
	tcase_add_test(tc, test_feedback_follows_activation);
	tcase_add_test(tc, test_any_geometry);
	tcase_add_test(tc, test_geometry_change_refused);
	tcase_add_test(tc, test_reference_index);
	tcase_add_test(tc, test_reference_nifti_other_grid);
	tcase_add_test(tc, test_roi_mask_other_grid);
	tcase_add_test(tc, test_classifier_weights_file);
	tcase_add_test(tc, test_events_tsv_design);
	tcase_add_test(tc, test_glm_needs_tr);
	tcase_add_test(tc, test_setup_errors);
	tcase_add_test(tc, test_reslice_restores);
	tcase_add_test(tc, test_plugin_analysis);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(pipeline_suite)
