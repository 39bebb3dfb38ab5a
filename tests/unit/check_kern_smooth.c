#include "rtc_build.h"

#include <math.h>
#include <omp.h>

#include "check_common.h"
#include "error.h"
#include "kern_smooth.h"
#include "kern_testutil.h"

#define FWHM2SIGMA (1.0 / sqrt(8.0 * log(2.0)))

/* 2 x 2.5 x 4 mm voxels, a little oblique, origin anywhere */
static void
aniso_grid(struct rtc_grid *g, int nx, int ny, int nz)
{
	double a = 0.1;
	double A[4][4] = {
		{ 2.0 * cos(a), -2.5 * sin(a), 0, -31 },
		{ 2.0 * sin(a), 2.5 * cos(a), 0, 12 },
		{ 0, 0, 4.0, -7 },
		{ 0, 0, 0, 1 },
	};

	rtc_grid_set(g, nx, ny, nz, A);
}

START_TEST(test_constant_stays_constant)
{
	struct rtc_grid g;
	struct rtc_smooth *s = NULL;
	float *a, *b;
	size_t n, v;

	aniso_grid(&g, 20, 18, 9);
	n = rtc_grid_nvox(&g);
	a = malloc(n * sizeof(float));
	b = malloc(n * sizeof(float));
	for (v = 0; v < n; v++)
		a[v] = 123.5f;
	ck_assert_int_eq(rtc_smooth_new(&g, 8.0, &s, NULL), RTC_OK);
	rtc_smooth_apply(s, a, b);
	for (v = 0; v < n; v++)
		ck_assert_float_eq_tol(b[v], 123.5f, 1e-3);
	rtc_smooth_free(s);
	rtc_smooth_free(NULL);
	free(a);
	free(b);
}
END_TEST

/* The kernel widths in voxels follow the voxel sizes, so the width in mm
 * is the same along every axis: the impulse response's second moment
 * along each axis, in mm^2, is sigma^2. */
START_TEST(test_impulse_response_mm)
{
	struct rtc_grid g;
	struct rtc_smooth *s = NULL;
	const double fwhm = 10.0, sig = fwhm * FWHM2SIGMA;
	double sigv[3], vs[3] = { 2.0, 2.5, 4.0 }, m2[3] = { 0, 0, 0 };
	double sum = 0.0;
	int rad[3], i, j, k, ci = 20, cj = 18, ck = 10;
	float *a, *b;
	size_t n;

	aniso_grid(&g, 41, 37, 21);
	n = rtc_grid_nvox(&g);
	a = calloc(n, sizeof(float));
	b = malloc(n * sizeof(float));
	a[((size_t)ck * g.ny + cj) * g.nx + ci] = 1.0f;
	ck_assert_int_eq(rtc_smooth_new(&g, fwhm, &s, NULL), RTC_OK);
	rtc_smooth_kernel_info(s, sigv, rad);
	for (i = 0; i < 3; i++) {
		ck_assert_double_eq_tol(sigv[i], sig / vs[i], 1e-9);
		ck_assert_int_eq(rad[i], (int)ceil(3.0 * sig / vs[i]));
	}
	rtc_smooth_apply(s, a, b);
	for (k = 0; k < g.nz; k++)
		for (j = 0; j < g.ny; j++)
			for (i = 0; i < g.nx; i++) {
				double w = b[((size_t)k * g.ny + j) * g.nx + i];

				sum += w;
				m2[0] += w * (i - ci) * (i - ci) * vs[0] * vs[0];
				m2[1] += w * (j - cj) * (j - cj) * vs[1] * vs[1];
				m2[2] += w * (k - ck) * (k - ck) * vs[2] * vs[2];
			}
	ck_assert_double_eq_tol(sum, 1.0, 1e-5);
	for (i = 0; i < 3; i++)
		ck_assert_msg(fabs(sqrt(m2[i]) - sig) < 0.03 * sig,
		    "axis %d: sd %.3f mm, want %.3f", i, sqrt(m2[i]), sig);
	/* separable: the response is the product of its axis profiles */
	{
		double pi = b[((size_t)ck * g.ny + cj) * g.nx + ci + 2];
		double pj = b[((size_t)ck * g.ny + cj + 1) * g.nx + ci];
		double pk = b[((size_t)(ck + 1) * g.ny + cj) * g.nx + ci];
		double p0 = b[((size_t)ck * g.ny + cj) * g.nx + ci];
		double pijk = b[((size_t)(ck + 1) * g.ny + cj + 1) * g.nx +
		    ci + 2];

		ck_assert_double_eq_tol(pijk, pi * pj * pk / (p0 * p0), 1e-7);
		/* the sampled Gaussian: ratio to the centre is exp(-d^2/2s^2) */
		ck_assert_double_eq_tol(pi / p0, exp(-0.5 * 4.0 * 4.0 /
		    (sig * sig)), 1e-5);
	}
	rtc_smooth_free(s);
	free(a);
	free(b);
}
END_TEST

/* A Gaussian blob of sd s0 comes out with sd sqrt(s0^2 + s^2) and the
 * matching peak: the analytic convolution of two Gaussians. */
START_TEST(test_gaussian_blob_analytic)
{
	struct rtc_grid g;
	struct rtc_smooth *s = NULL;
	const double s0 = 6.0, fwhm = 8.0, sk = fwhm * FWHM2SIGMA;
	const double s1 = sqrt(s0 * s0 + sk * sk);
	double c[3], maxerr = 0.0;
	float *a, *b;
	int i, j, k;

	rtc_grid_set(&g, 48, 48, 30, NULL);
	g.affine[0][0] = 2.0;
	g.affine[1][1] = 2.0;
	g.affine[2][2] = 3.0;
	rtc_grid_center(&g, c);
	a = malloc(rtc_grid_nvox(&g) * sizeof(float));
	b = malloc(rtc_grid_nvox(&g) * sizeof(float));
	for (k = 0; k < g.nz; k++)
		for (j = 0; j < g.ny; j++)
			for (i = 0; i < g.nx; i++) {
				double w[3], d2;

				rtc_grid_vox2world(&g, i, j, k, w);
				d2 = (w[0] - c[0]) * (w[0] - c[0]) +
				    (w[1] - c[1]) * (w[1] - c[1]) +
				    (w[2] - c[2]) * (w[2] - c[2]);
				a[((size_t)k * g.ny + j) * g.nx + i] =
				    (float)(1000.0 * exp(-d2 / (2 * s0 * s0)));
			}
	ck_assert_int_eq(rtc_smooth_new(&g, fwhm, &s, NULL), RTC_OK);
	rtc_smooth_apply(s, a, b);
	for (k = 0; k < g.nz; k++)
		for (j = 0; j < g.ny; j++)
			for (i = 0; i < g.nx; i++) {
				double w[3], d2, want;

				rtc_grid_vox2world(&g, i, j, k, w);
				d2 = (w[0] - c[0]) * (w[0] - c[0]) +
				    (w[1] - c[1]) * (w[1] - c[1]) +
				    (w[2] - c[2]) * (w[2] - c[2]);
				want = 1000.0 * pow(s0 / s1, 3.0) *
				    exp(-d2 / (2 * s1 * s1));
				maxerr = fmax(maxerr, fabs(b[((size_t)k * g.ny +
				    j) * g.nx + i] - want));
			}
	/* sampled kernels: within 1.5% of the peak */
	ck_assert_msg(maxerr < 15.0, "max error %.2f of %.1f", maxerr,
	    1000.0 * pow(s0 / s1, 3.0));
	rtc_smooth_free(s);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_in_place_and_threads)
{
	struct rtc_grid g;
	struct rtc_smooth *s = NULL;
	struct trng r = { 3 };
	float *a, *b, *c;
	size_t n, v;
	int saved = omp_get_max_threads();

	aniso_grid(&g, 33, 29, 17);
	n = rtc_grid_nvox(&g);
	a = malloc(n * sizeof(float));
	b = malloc(n * sizeof(float));
	c = malloc(n * sizeof(float));
	for (v = 0; v < n; v++)
		a[v] = (float)(100.0 * trng_unif(&r));
	ck_assert_int_eq(rtc_smooth_new(&g, 6.0, &s, NULL), RTC_OK);
	omp_set_num_threads(1);
	rtc_smooth_apply(s, a, b);
	omp_set_num_threads(2);
	memcpy(c, a, n * sizeof(float));
	rtc_smooth_apply(s, c, c);
	omp_set_num_threads(saved);
	ck_assert_int_eq(memcmp(b, c, n * sizeof(float)), 0);
	/* smoothing lowers the variance of white noise */
	{
		double va = 0.0, vb = 0.0, ma = 0.0, mb = 0.0;

		for (v = 0; v < n; v++) {
			ma += a[v] / n;
			mb += b[v] / n;
		}
		for (v = 0; v < n; v++) {
			va += (a[v] - ma) * (a[v] - ma);
			vb += (b[v] - mb) * (b[v] - mb);
		}
		ck_assert_double_lt(vb, va / 10.0);
	}
	rtc_smooth_free(s);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_zero_width_copies)
{
	struct rtc_grid g;
	struct rtc_smooth *s = NULL;
	double sig[3];
	int rad[3];
	float a[64], b[64];
	int v;

	rtc_grid_set(&g, 4, 4, 4, NULL);
	for (v = 0; v < 64; v++)
		a[v] = (float)v;
	ck_assert_int_eq(rtc_smooth_new(&g, 0.0, &s, NULL), RTC_OK);
	rtc_smooth_apply(s, a, b);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	rtc_smooth_apply(s, a, a);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	rtc_smooth_free(s);
	/* 0.1 mm on 1 mm voxels: under 0.05 voxel, left alone */
	ck_assert_int_eq(rtc_smooth_new(&g, 0.1, &s, NULL), RTC_OK);
	rtc_smooth_kernel_info(s, sig, rad);
	ck_assert_int_eq(rad[0] + rad[1] + rad[2], 0);
	rtc_smooth_apply(s, a, b);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	rtc_smooth_free(s);
}
END_TEST

START_TEST(test_bad_width)
{
	struct rtc_grid g;
	struct rtc_smooth *s = NULL;
	char *cause = NULL;

	rtc_grid_set(&g, 8, 8, 8, NULL);
	ck_assert_int_eq(rtc_smooth_new(&g, -1.0, &s, &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_smooth_new(&g, NAN, &s, &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_smooth_new(&g, INFINITY, &s, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_smooth_new(&g, 1000.0, &s, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_null(s);
	g.nx = 0;
	ck_assert_int_eq(rtc_smooth_new(&g, 5.0, &s, &cause), RTC_ERR_INVAL);
	free(cause);
}
END_TEST

Suite *kern_smooth_suite(void);

Suite *
kern_smooth_suite(void)
{
	Suite *s = suite_create("kern_smooth");
	TCase *tc = tcase_create("smooth");

	tcase_add_test(tc, test_constant_stays_constant);
	tcase_add_test(tc, test_impulse_response_mm);
	tcase_add_test(tc, test_gaussian_blob_analytic);
	tcase_add_test(tc, test_in_place_and_threads);
	tcase_add_test(tc, test_zero_width_copies);
	tcase_add_test(tc, test_bad_width);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(kern_smooth_suite)
