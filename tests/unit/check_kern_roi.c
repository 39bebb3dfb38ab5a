#include "rtc_build.h"

#include <math.h>
#include <omp.h>

#include "check_common.h"
#include "error.h"
#include "kern_roi.h"
#include "kern_testutil.h"

START_TEST(test_means)
{
	struct rtc_grid g;
	struct rtc_roi *r = NULL;
	struct rtc_roi_value out[2];
	uint8_t m0[64], m1[64];
	const uint8_t *ms[2] = { m0, m1 };
	float vol[64];
	double s0 = 0.0, s1 = 0.0;
	int v, n0 = 0, n1 = 0;

	rtc_grid_set(&g, 4, 4, 4, NULL);
	for (v = 0; v < 64; v++) {
		vol[v] = (float)(v * 1.5 + 3.0);
		m0[v] = v % 3 == 0;
		m1[v] = v >= 40 ? 7 : 0;   /* any nonzero byte is in */
		if (m0[v]) {
			s0 += vol[v];
			n0++;
		}
	}
	vol[41] = NAN;                     /* left out of ROI 1's mean */
	for (v = 40; v < 64; v++)
		if (v != 41) {
			s1 += vol[v];
			n1++;
		}
	ck_assert_int_eq(rtc_roi_new(&g, 2, ms, NULL, &r, NULL), RTC_OK);
	ck_assert_int_eq(rtc_roi_count(r), 2);
	ck_assert_uint_eq(rtc_roi_nvox(r, 0), (size_t)n0);
	ck_assert_uint_eq(rtc_roi_nvox(r, 1), 24);
	ck_assert_uint_eq(rtc_roi_nvox(r, 2), 0);
	rtc_roi_update(r, vol, 1, out);
	ck_assert_double_eq_tol(out[0].mean, s0 / n0, 1e-12);
	ck_assert_double_eq_tol(out[1].mean, s1 / n1, 1e-12);
	/* the first volume has no history */
	ck_assert_int_eq(out[0].valid_psc, 0);
	ck_assert_int_eq(out[0].valid_z, 0);
	ck_assert_double_eq(out[0].psc, 0.0);
	rtc_roi_free(r);
	rtc_roi_free(NULL);
}
END_TEST

/* PSC against the mean of earlier baseline volumes (all of them, or the
 * last W), z against earlier volumes: checked against direct arithmetic
 * over a scripted series. */
START_TEST(test_psc_and_z_arithmetic)
{
	static const double series[] = { 100, 102, 98, 101, 110, 112, 99, 100,
	    115, 97, 103, 108 };
	static const int base[] = { 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0 };
	const int nt = (int)(sizeof(series) / sizeof(series[0]));
	int windows[3][2] = { { 0, 0 }, { 3, 4 }, { 1, 2 } }, w;

	for (w = 0; w < 3; w++) {
		struct rtc_grid g;
		struct rtc_roi *r = NULL;
		struct rtc_roi_opts o;
		struct rtc_roi_value out;
		uint8_t m[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
		const uint8_t *ms[1] = { m };
		float vol[8];
		int t, i;

		rtc_grid_set(&g, 2, 2, 2, NULL);
		rtc_roi_opts_init(&o);
		o.baseline_window = windows[w][0];
		o.zscore_window = windows[w][1];
		ck_assert_int_eq(rtc_roi_new(&g, 1, ms, &o, &r, NULL), RTC_OK);
		for (t = 0; t < nt; t++) {
			double bs = 0.0, zs = 0.0, zss = 0.0, mu, sd;
			int bn = 0, zn = 0, k;

			/* a spread around the mean, so the ROI mean is it */
			for (i = 0; i < 8; i++)
				vol[i] = (float)(series[t] + (i % 2 ? 1.0 : -1.0));
			rtc_roi_update(r, vol, base[t], &out);
			ck_assert_double_eq_tol(out.mean, series[t], 1e-9);
			for (k = t - 1; k >= 0; k--)
				if (base[k] && (o.baseline_window == 0 ||
				    bn < o.baseline_window)) {
					bs += series[k];
					bn++;
				}
			for (k = t - 1; k >= 0; k--)
				if (o.zscore_window == 0 || zn < o.zscore_window) {
					zs += series[k];
					zn++;
				}
			if (bn == 0)
				ck_assert_int_eq(out.valid_psc, 0);
			else {
				ck_assert_int_eq(out.valid_psc, 1);
				ck_assert_double_eq_tol(out.baseline, bs / bn,
				    1e-9);
				ck_assert_double_eq_tol(out.psc, 100.0 *
				    (series[t] - bs / bn) / (bs / bn), 1e-9);
			}
			if (zn < 2)
				ck_assert_int_eq(out.valid_z, 0);
			else {
				mu = zs / zn;
				zn = 0;
				for (k = t - 1; k >= 0; k--)
					if (o.zscore_window == 0 ||
					    zn < o.zscore_window) {
						zss += (series[k] - mu) *
						    (series[k] - mu);
						zn++;
					}
				sd = sqrt(zss / (zn - 1));
				ck_assert_int_eq(out.valid_z, 1);
				ck_assert_double_eq_tol(out.z,
				    (series[t] - mu) / sd, 1e-9);
			}
		}
		/* reset forgets the history */
		rtc_roi_reset(r);
		rtc_roi_update(r, vol, 1, &out);
		ck_assert_int_eq(out.valid_psc, 0);
		ck_assert_int_eq(out.valid_z, 0);
		rtc_roi_free(r);
	}
}
END_TEST

/* A large ROI takes the parallel path: same mean as a direct sum, bit
 * for bit the same with 1 or 2 threads. */
START_TEST(test_large_roi_threads)
{
	struct rtc_grid g;
	struct rtc_roi *r = NULL;
	struct rtc_roi_value a, b;
	struct trng rng = { 17 };
	uint8_t *m;
	const uint8_t *ms[1];
	float *vol;
	size_t n, v;
	double s = 0.0;
	long cnt = 0;
	int saved = omp_get_max_threads();

	rtc_grid_set(&g, 64, 64, 30, NULL);
	n = rtc_grid_nvox(&g);
	m = malloc(n);
	vol = malloc(n * sizeof(float));
	for (v = 0; v < n; v++) {
		vol[v] = (float)(1000.0 * trng_unif(&rng));
		m[v] = v % 5 != 0;
		if (m[v]) {
			s += vol[v];
			cnt++;
		}
	}
	ms[0] = m;
	ck_assert_int_eq(rtc_roi_new(&g, 1, ms, NULL, &r, NULL), RTC_OK);
	omp_set_num_threads(1);
	rtc_roi_update(r, vol, 0, &a);
	rtc_roi_reset(r);
	omp_set_num_threads(2);
	rtc_roi_update(r, vol, 0, &b);
	omp_set_num_threads(saved);
	ck_assert_double_eq_tol(a.mean, s / cnt, 1e-9);
	ck_assert_int_eq(memcmp(&a.mean, &b.mean, sizeof(double)), 0);
	rtc_roi_free(r);
	free(m);
	free(vol);
}
END_TEST

START_TEST(test_sphere)
{
	struct rtc_grid g;
	double A[4][4] = { { -3, 0, 0, 96 }, { 0, 3, 0, -96 },
	    { 0, 0, 3.5, -60 }, { 0, 0, 0, 1 } };
	double c[3] = { 10.0, -20.0, 5.0 }, radius = 12.0;
	uint8_t *m;
	size_t n, cnt = 0, want = 0;
	int i, j, k;
	char *cause = NULL;

	rtc_grid_set(&g, 64, 64, 36, A);
	n = rtc_grid_nvox(&g);
	m = malloc(n);
	ck_assert_int_eq(rtc_roi_mask_sphere(&g, c, radius, m, &cnt, NULL),
	    RTC_OK);
	for (k = 0; k < g.nz; k++)
		for (j = 0; j < g.ny; j++)
			for (i = 0; i < g.nx; i++) {
				double x = 96 - 3.0 * i - c[0];
				double y = -96 + 3.0 * j - c[1];
				double z = -60 + 3.5 * k - c[2];
				int in = x * x + y * y + z * z <= radius * radius;

				ck_assert_int_eq(m[((size_t)k * g.ny + j) *
				    g.nx + i], in);
				want += (size_t)in;
			}
	ck_assert_uint_eq(cnt, want);
	/* about the sphere's volume in voxels */
	ck_assert_double_eq_tol((double)cnt, 4.0 / 3.0 * M_PI * pow(radius, 3) /
	    (3.0 * 3.0 * 3.5), 25.0);
	ck_assert_int_eq(rtc_roi_mask_sphere(&g, c, 0.0, m, NULL, &cause),
	    RTC_ERR_INVAL);
	c[1] = NAN;
	ck_assert_int_eq(rtc_roi_mask_sphere(&g, c, 5.0, m, NULL, &cause),
	    RTC_ERR_INVAL);
	free(cause);
	free(m);
}
END_TEST

/* A mask drawn in a 1 mm anatomical grid lands in the 3 mm functional
 * grid by world coordinates. */
START_TEST(test_resample_mask)
{
	struct rtc_grid anat, func;
	double Aa[4][4] = { { 1, 0, 0, -90 }, { 0, 1, 0, -110 },
	    { 0, 0, 1, -70 }, { 0, 0, 0, 1 } };
	double Af[4][4] = { { 3, 0, 0, -93 }, { 0, 3, 0, -111 },
	    { 0, 0, 3, -72 }, { 0, 0, 0, 1 } };
	float *src;
	uint8_t *dst;
	size_t cnt = 0, want = 0;
	int i, j, k;
	char *cause = NULL;

	rtc_grid_set(&anat, 180, 216, 140, Aa);
	rtc_grid_set(&func, 62, 74, 48, Af);
	src = calloc(rtc_grid_nvox(&anat), sizeof(float));
	dst = malloc(rtc_grid_nvox(&func));
	/* a box x in [0, 30), y in [-20, 10), z in [5, 26) mm */
	for (k = 75; k < 96; k++)
		for (j = 90; j < 120; j++)
			for (i = 90; i < 120; i++)
				src[((size_t)k * anat.ny + j) * anat.nx + i] = 1.0f;
	ck_assert_int_eq(rtc_roi_mask_resample(src, &anat, &func, 0.5, dst,
	    &cnt, &cause), RTC_OK);
	for (k = 0; k < func.nz; k++)
		for (j = 0; j < func.ny; j++)
			for (i = 0; i < func.nx; i++) {
				double x = -93 + 3.0 * i, y = -111 + 3.0 * j;
				double z = -72 + 3.0 * k;
				/* well inside / well outside the box (1 mm
				 * of interpolation at its faces) */
				int in = x >= 0.5 && x <= 28.5 && y >= -19.5 &&
				    y <= 8.5 && z >= 5.5 && z <= 24.5;
				int out = x < -0.5 || x > 29.5 || y < -20.5 ||
				    y > 9.5 || z < 4.5 || z > 25.5;
				uint8_t got = dst[((size_t)k * func.ny + j) *
				    func.nx + i];

				if (in)
					ck_assert_int_eq(got, 1);
				if (out)
					ck_assert_int_eq(got, 0);
				want += (size_t)in;
			}
	ck_assert_uint_ge(cnt, want);
	ck_assert_uint_gt(want, 500);
	ck_assert_int_eq(rtc_roi_mask_resample(src, &anat, &func, NAN, dst,
	    NULL, &cause), RTC_ERR_INVAL);
	free(cause);
	free(src);
	free(dst);
}
END_TEST

START_TEST(test_bad_input)
{
	struct rtc_grid g;
	struct rtc_roi *r = NULL;
	struct rtc_roi_opts o;
	uint8_t empty[8] = { 0 }, one[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t *ms[2] = { one, empty };
	char *cause = NULL;

	rtc_grid_set(&g, 2, 2, 2, NULL);
	ck_assert_int_eq(rtc_roi_new(&g, 2, ms, NULL, &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "ROI 2"));
	ck_assert_int_eq(rtc_roi_new(&g, 0, ms, NULL, &r, &cause),
	    RTC_ERR_INVAL);
	rtc_roi_opts_init(&o);
	o.baseline_window = -1;
	ck_assert_int_eq(rtc_roi_new(&g, 1, ms, &o, &r, &cause),
	    RTC_ERR_INVAL);
	o.baseline_window = RTC_ROI_MAX_WINDOW + 1;
	ck_assert_int_eq(rtc_roi_new(&g, 1, ms, &o, &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_null(r);
	free(cause);
}
END_TEST

Suite *kern_roi_suite(void);

Suite *
kern_roi_suite(void)
{
	Suite *s = suite_create("kern_roi");
	TCase *tc = tcase_create("roi");

	tcase_add_test(tc, test_means);
	tcase_add_test(tc, test_psc_and_z_arithmetic);
	tcase_add_test(tc, test_large_roi_threads);
	tcase_add_test(tc, test_sphere);
	tcase_add_test(tc, test_resample_mask);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(kern_roi_suite)
