/*
 * The per-volume entry points allocate nothing. This program is linked
 * with -Wl,--wrap for malloc, calloc, realloc, free, posix_memalign and
 * aligned_alloc, so every such call from librtc (and from this file)
 * passes through the counters below; each test sets everything up, then
 * counts across the hot-path calls only (Check's own asserts allocate, so
 * results are checked after the counted stretch).
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>

#include "alloc_count.h"
#include "check_common.h"
#include "error.h"
#include "events.h"
#include "kern_classify.h"
#include "kern_glm.h"
#include "kern_interp.h"
#include "kern_motion.h"
#include "kern_roi.h"
#include "kern_smooth.h"
#include "kern_testutil.h"

/* the counters see our own calls: prove it, so a zero means something */
START_TEST(test_counter_works)
{
	char *volatile p;
	long n;

	alloc_count_begin();
	p = malloc(10);
	p[0] = 1;
	free(p);
	n = alloc_count_end();
	ck_assert_int_eq(n, 2);
}
END_TEST

static float *
phantom_volume(const struct rtc_grid *g, double shift)
{
	float *v = malloc(rtc_grid_nvox(g) * sizeof(float));
	int i, j, k;

	for (k = 0; k < g->nz; k++)
		for (j = 0; j < g->ny; j++)
			for (i = 0; i < g->nx; i++) {
				double x = i - g->nx / 2.0 - shift;
				double y = j - g->ny / 2.0, z = k - g->nz / 2.0;
				double e = sqrt(x * x / 300.0 + y * y / 400.0 +
				    z * z / 150.0);

				v[((size_t)k * g->ny + j) * g->nx + i] =
				    (float)(1000.0 / (1.0 + exp((e - 1.0) / 0.08)) +
				    200.0 * exp(-(x * x + (y - 4) * (y - 4) +
				    z * z) / 30.0));
			}
	return v;
}

START_TEST(test_motion_and_interp)
{
	struct rtc_grid g;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	float *ref, *mov, *jump, *out;
	long n;
	int rc[7], i;

	rtc_grid_set(&g, 48, 48, 32, NULL);
	g.affine[0][0] = g.affine[1][1] = 3.0;
	g.affine[2][2] = 3.5;
	ref = phantom_volume(&g, 0.0);
	mov = phantom_volume(&g, 0.3);
	jump = phantom_volume(&g, 3.0);
	out = malloc(rtc_grid_nvox(&g) * sizeof(float));
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, NULL), RTC_OK);
	alloc_count_begin();
	/* cold (pyramid), warm, a jump (warm fails, pyramid), failure */
	rc[0] = rtc_motion_register(m, mov, NULL, &res);
	rc[1] = rtc_motion_register(m, ref, NULL, &res);
	rc[2] = rtc_motion_register(m, jump, NULL, &res);
	rc[3] = rtc_motion_reslice(m, mov, NULL, &res, RTC_INTERP_LINEAR, out);
	rc[4] = rtc_motion_reslice(m, mov, g.affine, &res, RTC_INTERP_BSPLINE,
	    out);
	rtc_motion_reset(m);
	rc[5] = rtc_motion_register(m, ref, NULL, &res);
	rtc_interp_bspline_coeffs(out, g.nx, g.ny, g.nz);
	rc[6] = rtc_interp_resample(out, &g, &g, NULL, RTC_INTERP_BSPLINE,
	    0.0f, mov);
	n = alloc_count_end();
	ck_assert_msg(n == 0, "%ld allocator calls", n);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(rc[i], RTC_OK);
	ck_assert_double_gt(res.nsamples, 100);
	rtc_motion_free(m);
	free(ref);
	free(mov);
	free(jump);
	free(out);
}
END_TEST

START_TEST(test_smooth_glm_roi_classifier)
{
	struct rtc_grid g;
	struct rtc_smooth *s = NULL;
	struct rtc_glm *glm = NULL;
	struct rtc_roi *roi = NULL;
	struct rtc_clf *clf = NULL;
	struct rtc_events *ev = NULL;
	struct rtc_design *des = NULL;
	struct rtc_design_opts dopt;
	struct rtc_clf_opts copt;
	struct rtc_roi_value rv[2];
	struct rtc_clf_result cr;
	struct trng r = { 3 };
	double con[RTC_GLM_MAX_REG], c[3], mot[6] = { 0.1, 0, 0, 0, 0.01, 0 };
	double row[RTC_GLM_MAX_REG], dof;
	uint8_t *m0, *m1, *big;
	const uint8_t *ms[2];
	float *vol, *work, *tmap, *tm[1];
	size_t nv, v;
	int t, trained = 0, ready = 0, rc[3];
	long n;

	rtc_grid_set(&g, 64, 64, 20, NULL);
	nv = rtc_grid_nvox(&g);
	vol = malloc(nv * sizeof(float));
	work = malloc(nv * sizeof(float));
	tmap = malloc(nv * sizeof(float));
	tm[0] = tmap;
	m0 = malloc(nv);
	m1 = malloc(nv);
	big = malloc(nv);
	rtc_grid_center(&g, c);
	ck_assert_int_eq(rtc_roi_mask_sphere(&g, c, 6.0, m0, NULL, NULL),
	    RTC_OK);
	for (v = 0; v < nv; v++) {
		big[v] = v % 3 != 0;       /* large: the parallel paths */
		m1[v] = big[v];
	}
	ms[0] = m0;
	ms[1] = m1;
	ck_assert_int_eq(rtc_smooth_new(&g, 5.0, &s, NULL), RTC_OK);
	ck_assert_int_eq(rtc_events_new(&ev), RTC_OK);
	ck_assert_int_eq(rtc_events_add_blocks(ev, "task", 10.0, 10.0, 20.0,
	    20, NULL), RTC_OK);
	rtc_design_opts_init(&dopt);
	dopt.tr = 2.0;
	ck_assert_int_eq(rtc_design_new(&dopt, ev, &des, NULL), RTC_OK);
	ck_assert_int_eq(rtc_design_contrast(des, "task", con, NULL), RTC_OK);
	ck_assert_int_eq(rtc_glm_new(&g, big, rtc_design_ncols(des), &glm,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_roi_new(&g, 2, ms, NULL, &roi, NULL), RTC_OK);
	rtc_clf_opts_init(&copt);
	copt.train_after_blocks = 2;
	ck_assert_int_eq(rtc_clf_new_online(&g, big, &copt, &clf, NULL),
	    RTC_OK);
	for (t = 0; t < 40; t++) {
		int label = rtc_events_label(ev, t * 2.0, 4.0) == 0 ? 1 : 0;

		for (v = 0; v < nv; v++)
			vol[v] = (float)(100.0 + trng_normal(&r) +
			    (label && m0[v] ? 2.0 : 0.0));
		alloc_count_begin();
		rtc_smooth_apply(s, vol, work);
		rtc_smooth_apply(s, work, work);
		rtc_design_row(des, t, mot, row);
		rc[0] = rtc_glm_add(glm, row, work);
		rc[1] = rtc_glm_compute(glm, con, 1, tm, NULL, &dof, NULL);
		rtc_roi_update(roi, work, !label, rv);
		rc[2] = rtc_clf_update(clf, work, label, &cr);
		(void)rtc_events_regressor(ev, 0, t * 2.0);
		(void)rtc_events_label(ev, t * 2.0, 4.0);
		n = alloc_count_end();
		ck_assert_msg(n == 0, "volume %d: %ld allocator calls", t, n);
		ck_assert_int_eq(rc[0], RTC_OK);
		ck_assert(rc[1] == RTC_OK || (rc[1] == RTC_ERR_AGAIN && t < 12));
		ck_assert_int_eq(rc[2], RTC_OK);
		trained += cr.trained;
		ready = cr.ready;
	}
	ck_assert_int_gt(trained, 2);
	ck_assert_int_eq(ready, 1);
	rtc_smooth_free(s);
	rtc_glm_free(glm);
	rtc_roi_free(roi);
	rtc_clf_free(clf);
	rtc_design_free(des);
	rtc_events_free(ev);
	free(vol);
	free(work);
	free(tmap);
	free(m0);
	free(m1);
	free(big);
}
END_TEST

Suite *kern_noalloc_suite(void);

Suite *
kern_noalloc_suite(void)
{
	Suite *s = suite_create("kern_noalloc");
	TCase *tc = tcase_create("noalloc");

	tcase_add_test(tc, test_counter_works);
	tcase_add_test(tc, test_motion_and_interp);
	tcase_add_test(tc, test_smooth_glm_roi_classifier);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(kern_noalloc_suite)
