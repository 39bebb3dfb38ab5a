#include "rtc_build.h"

#include <math.h>
#include <omp.h>

#include "check_common.h"
#include "error.h"
#include "kern_interp.h"
#include "kern_testutil.h"

static float *
random_volume(int nx, int ny, int nz, uint64_t seed)
{
	struct trng r = { seed };
	size_t n = (size_t)nx * ny * nz, v;
	float *a = malloc(n * sizeof(float));

	for (v = 0; v < n; v++)
		a[v] = (float)(1000.0 * trng_unif(&r));
	return a;
}

/* The spline through the coefficients passes through every sample, for
 * long lines, lines shorter than the filter's horizon, and one-voxel
 * axes. */
START_TEST(test_bspline_interpolates)
{
	static const int dims[][3] = {
		{ 20, 17, 13 }, { 2, 3, 5 }, { 40, 1, 7 }, { 1, 1, 30 },
		{ 600, 3, 2 },  /* wider than the transposition tile */
	};
	size_t d;

	for (d = 0; d < sizeof(dims) / sizeof(dims[0]); d++) {
		int nx = dims[d][0], ny = dims[d][1], nz = dims[d][2], i, j, k;
		float *a = random_volume(nx, ny, nz, 11 + d), *c;
		size_t n = (size_t)nx * ny * nz;
		double md = 0.0;

		c = malloc(n * sizeof(float));
		memcpy(c, a, n * sizeof(float));
		rtc_interp_bspline_coeffs(c, nx, ny, nz);
		for (k = 0; k < nz; k++)
			for (j = 0; j < ny; j++)
				for (i = 0; i < nx; i++) {
					float s = rtc_interp_sample(c, nx, ny, nz,
					    RTC_INTERP_BSPLINE, i, j, k, -1.0f);
					double e = fabs(s - a[((size_t)k * ny +
					    j) * nx + i]);

					if (e > md)
						md = e;
				}
		ck_assert_msg(md < 2e-3, "%dx%dx%d: max deviation %g", nx, ny,
		    nz, md);
		free(a);
		free(c);
	}
}
END_TEST

/* Off the grid, the B-spline follows a smooth function far better than
 * trilinear interpolation, which reproduces affine functions exactly. */
START_TEST(test_smooth_and_affine_functions)
{
	const int nx = 24, ny = 22, nz = 20;
	size_t n = (size_t)nx * ny * nz;
	float *f = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
	float *lin = malloc(n * sizeof(float));
	double eb = 0.0, el = 0.0, ea = 0.0, x, y, z;
	int i, j, k;

	for (k = 0; k < nz; k++)
		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++) {
				size_t v = ((size_t)k * ny + j) * nx + i;

				f[v] = (float)(sin(0.45 * i) + cos(0.35 * j) +
				    sin(0.3 * k + 1.0));
				lin[v] = (float)(2.0 * i - 3.0 * j + 0.5 * k + 7.0);
			}
	memcpy(c, f, n * sizeof(float));
	rtc_interp_bspline_coeffs(c, nx, ny, nz);
	for (z = 3.1; z < nz - 4; z += 0.77)
		for (y = 3.2; y < ny - 4; y += 0.61)
			for (x = 3.3; x < nx - 4; x += 0.53) {
				double t = sin(0.45 * x) + cos(0.35 * y) +
				    sin(0.3 * z + 1.0);
				double b = rtc_interp_sample(c, nx, ny, nz,
				    RTC_INTERP_BSPLINE, x, y, z, 0.0f);
				double l = rtc_interp_sample(f, nx, ny, nz,
				    RTC_INTERP_LINEAR, x, y, z, 0.0f);
				double a = rtc_interp_sample(lin, nx, ny, nz,
				    RTC_INTERP_LINEAR, x, y, z, 0.0f);

				eb = fmax(eb, fabs(b - t));
				el = fmax(el, fabs(l - t));
				ea = fmax(ea, fabs(a - (2.0 * x - 3.0 * y +
				    0.5 * z + 7.0)));
			}
	ck_assert_msg(eb < el / 5.0, "bspline %g vs linear %g", eb, el);
	ck_assert_double_lt(eb, 0.01);
	ck_assert_double_lt(ea, 1e-4);
	free(f);
	free(c);
	free(lin);
}
END_TEST

START_TEST(test_outside_and_edges)
{
	float img[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };   /* 2x2x2 */

	ck_assert_float_eq(rtc_interp_sample(img, 2, 2, 2, RTC_INTERP_LINEAR,
	    -0.51, 0, 0, -9.0f), -9.0f);
	ck_assert_float_eq(rtc_interp_sample(img, 2, 2, 2, RTC_INTERP_LINEAR,
	    0, 1.51, 0, -9.0f), -9.0f);
	ck_assert_float_eq(rtc_interp_sample(img, 2, 2, 2, RTC_INTERP_LINEAR,
	    0, 0, NAN, -9.0f), -9.0f);
	/* inside the voxels' extent, trilinear clamps */
	ck_assert_float_eq_tol(rtc_interp_sample(img, 2, 2, 2,
	    RTC_INTERP_LINEAR, -0.4, 0, 0, -9.0f), 1.0f, 1e-6);
	ck_assert_float_eq_tol(rtc_interp_sample(img, 2, 2, 2,
	    RTC_INTERP_LINEAR, 1.4, 1, 1, -9.0f), 8.0f, 1e-6);
	ck_assert_float_eq_tol(rtc_interp_sample(img, 2, 2, 2,
	    RTC_INTERP_LINEAR, 0.5, 0.5, 0.5, -9.0f), 4.5f, 1e-6);
}
END_TEST

/* Resampling between grids by world coordinates: an affine function of
 * world position survives exactly (trilinear), and the identity map gives
 * the input back. */
START_TEST(test_resample_grids)
{
	struct rtc_grid a, b;
	double A[4][4] = { { 2, 0.1, 0, -20 }, { 0, 2, 0.2, -18 },
	    { 0.1, 0, 3, -25 }, { 0, 0, 0, 1 } };
	double B[4][4] = { { 1.5, 0, 0, -12 }, { 0, 1.7, 0, -10 },
	    { 0, 0, 2.2, -15 }, { 0, 0, 0, 1 } };
	float *src, *dst, *back;
	size_t v;
	int i, j, k, inside = 0;

	rtc_grid_set(&a, 20, 20, 16, A);
	rtc_grid_set(&b, 16, 18, 14, B);
	src = malloc(rtc_grid_nvox(&a) * sizeof(float));
	dst = malloc(rtc_grid_nvox(&b) * sizeof(float));
	back = malloc(rtc_grid_nvox(&a) * sizeof(float));
	for (k = 0; k < a.nz; k++)
		for (j = 0; j < a.ny; j++)
			for (i = 0; i < a.nx; i++) {
				double w[3];

				rtc_grid_vox2world(&a, i, j, k, w);
				src[((size_t)k * a.ny + j) * a.nx + i] =
				    (float)(3.0 * w[0] - w[1] + 2.0 * w[2]);
			}
	ck_assert_int_eq(rtc_interp_resample(src, &a, &b, NULL,
	    RTC_INTERP_LINEAR, -1000.0f, dst), RTC_OK);
	for (k = 0; k < b.nz; k++)
		for (j = 0; j < b.ny; j++)
			for (i = 0; i < b.nx; i++) {
				double w[3];
				float got = dst[((size_t)k * b.ny + j) * b.nx + i];

				rtc_grid_vox2world(&b, i, j, k, w);
				if (got == -1000.0f)
					continue;
				inside++;
				/* away from the clamped border */
				if (i > 1 && j > 1 && k > 1 && i < b.nx - 2 &&
				    j < b.ny - 2 && k < b.nz - 2)
					ck_assert_double_eq_tol(got, 3.0 * w[0] -
					    w[1] + 2.0 * w[2], 2e-3);
			}
	ck_assert_int_gt(inside, 1000);
	ck_assert_int_eq(rtc_interp_resample(src, &a, &a, NULL,
	    RTC_INTERP_LINEAR, 0.0f, back), RTC_OK);
	for (v = 0; v < rtc_grid_nvox(&a); v++)
		ck_assert_float_eq_tol(back[v], src[v], 1e-3);
	/* a singular source affine */
	a.affine[0][0] = a.affine[0][1] = a.affine[0][2] = 0.0;
	ck_assert_int_eq(rtc_interp_resample(src, &a, &b, NULL,
	    RTC_INTERP_LINEAR, 0.0f, dst), RTC_ERR_INVAL);
	free(src);
	free(dst);
	free(back);
}
END_TEST

/* Resampling a part of the grid: inside each row's span the same values,
 * bit for bit, as resampling everything (and, for trilinear, as sampling
 * each point on its own); outside the spans dst is left untouched. */
START_TEST(test_resample_rows)
{
	const int nx = 24, ny = 22, nz = 18;
	const double A[4][4] = { { 2.5, 0, 0, -30 }, { 0, 2.5, 0, -27 },
	    { 0, 0, 3, -25 }, { 0, 0, 0, 1 } };
	double map[4][4] = { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 },
	    { 0, 0, 0, 1 } }, inv[4][4], m[4][4];
	struct rtc_grid g;
	size_t n = (size_t)nx * ny * nz, v;
	float *src = random_volume(nx, ny, nz, 21), *all, *part;
	uint8_t *need;
	int *rows, interp, i, j, k, inspan = 0, untouched = 0;
	double a = 0.05;

	rtc_grid_set(&g, nx, ny, nz, A);
	/* a rotation about z and a shift: points leave the grid at the edges */
	map[0][0] = cos(a);
	map[0][1] = -sin(a);
	map[1][0] = sin(a);
	map[1][1] = cos(a);
	map[0][3] = 1.7;
	map[2][3] = -2.2;
	all = malloc(n * sizeof(float));
	part = malloc(n * sizeof(float));
	need = calloc(n, 1);
	rows = malloc(2 * (size_t)ny * nz * sizeof(int));
	for (k = 0; k < nz; k++)
		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++) {
				double di = i - 11.5, dj = j - 10.5, dk = k - 8.5;

				need[((size_t)k * ny + j) * nx + i] =
				    di * di + dj * dj + dk * dk < 64.0;
			}
	rtc_interp_rows(&g, need, rows);
	/* row through the centre: i from 4 to 19; an empty row: 0, 0 */
	ck_assert_int_eq(rows[2 * (8 * ny + 10)], 4);
	ck_assert_int_eq(rows[2 * (8 * ny + 10) + 1], 20);
	ck_assert_int_eq(rows[0], 0);
	ck_assert_int_eq(rows[1], 0);
	for (interp = 0; interp < 2; interp++) {
		enum rtc_interp ip = interp ? RTC_INTERP_BSPLINE :
		    RTC_INTERP_LINEAR;

		for (v = 0; v < n; v++)
			part[v] = -7.0f;
		ck_assert_int_eq(rtc_interp_resample(src, &g, &g, map, ip,
		    0.0f, all), RTC_OK);
		ck_assert_int_eq(rtc_interp_resample_rows(src, &g, &g, map, ip,
		    0.0f, rows, part), RTC_OK);
		for (k = 0; k < nz; k++)
			for (j = 0; j < ny; j++)
				for (i = 0; i < nx; i++) {
					const int *sp = rows + 2 * (k * ny + j);

					v = ((size_t)k * ny + j) * nx + i;
					if (i >= sp[0] && i < sp[1]) {
						ck_assert(part[v] == all[v]);
						inspan++;
					} else {
						ck_assert(part[v] == -7.0f);
						untouched++;
					}
				}
	}
	ck_assert_int_gt(inspan, 2 * 1500);
	ck_assert_int_gt(untouched, 2 * 4000);
	/* trilinear: each value is rtc_interp_sample()'s at that point */
	ck_assert_int_eq(rtc_affine_invert(A, inv), RTC_OK);
	rtc_affine_mul(inv, map, m);
	rtc_affine_mul(m, A, m);
	(void)rtc_interp_resample(src, &g, &g, map, RTC_INTERP_LINEAR, 0.0f,
	    all);
	for (k = 0; k < nz; k++)
		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++) {
				double x = m[0][0] * i + m[0][1] * j +
				    m[0][2] * k + m[0][3];
				double y = m[1][0] * i + m[1][1] * j +
				    m[1][2] * k + m[1][3];
				double z = m[2][0] * i + m[2][1] * j +
				    m[2][2] * k + m[2][3];

				ck_assert(all[((size_t)k * ny + j) * nx + i] ==
				    rtc_interp_sample(src, nx, ny, nz,
				    RTC_INTERP_LINEAR, x, y, z, 0.0f));
			}
	free(src);
	free(all);
	free(part);
	free(need);
	free(rows);
}
END_TEST

START_TEST(test_coeffs_threads_bitwise)
{
	const int nx = 37, ny = 29, nz = 23;
	size_t n = (size_t)nx * ny * nz;
	float *a = random_volume(nx, ny, nz, 5), *b = malloc(n * sizeof(float));
	int saved = omp_get_max_threads();

	memcpy(b, a, n * sizeof(float));
	omp_set_num_threads(1);
	rtc_interp_bspline_coeffs(a, nx, ny, nz);
	omp_set_num_threads(2);
	rtc_interp_bspline_coeffs(b, nx, ny, nz);
	omp_set_num_threads(saved);
	ck_assert_int_eq(memcmp(a, b, n * sizeof(float)), 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_grid_functions)
{
	struct rtc_grid g, h;
	double vs[3], c[3];
	char *cause = NULL;

	rtc_grid_set(&g, 4, 6, 8, NULL);
	g.affine[0][0] = 2.0;
	g.affine[2][2] = 3.0;
	g.affine[0][3] = 10.0;
	ck_assert_int_eq(rtc_grid_check(&g, NULL), RTC_OK);
	ck_assert_uint_eq(rtc_grid_nvox(&g), 192);
	rtc_grid_voxel_size(&g, vs);
	ck_assert_double_eq(vs[0], 2.0);
	ck_assert_double_eq(vs[2], 3.0);
	rtc_grid_center(&g, c);
	ck_assert_double_eq(c[0], 10.0 + 2.0 * 1.5);
	ck_assert_double_eq(c[1], 2.5);
	ck_assert_double_eq(c[2], 10.5);
	h = g;
	ck_assert(rtc_grid_same(&g, &h, 1e-9));
	h.affine[1][3] += 0.01;
	ck_assert(!rtc_grid_same(&g, &h, 1e-3));
	h = g;
	h.nz = 0;
	ck_assert_int_eq(rtc_grid_check(&h, &cause), RTC_ERR_INVAL);
	h = g;
	h.nx = 40000;
	ck_assert_int_eq(rtc_grid_check(&h, &cause), RTC_ERR_INVAL);
	h = g;
	h.affine[1][1] = NAN;
	ck_assert_int_eq(rtc_grid_check(&h, &cause), RTC_ERR_INVAL);
	h = g;
	h.affine[2][2] = 0.0;
	ck_assert_int_eq(rtc_grid_check(&h, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "singular"));
	free(cause);
}
END_TEST

Suite *kern_interp_suite(void);

Suite *
kern_interp_suite(void)
{
	Suite *s = suite_create("kern_interp");
	TCase *tc = tcase_create("interp");

	tcase_add_test(tc, test_bspline_interpolates);
	tcase_add_test(tc, test_smooth_and_affine_functions);
	tcase_add_test(tc, test_outside_and_edges);
	tcase_add_test(tc, test_resample_grids);
	tcase_add_test(tc, test_resample_rows);
	tcase_add_test(tc, test_coeffs_threads_bitwise);
	tcase_add_test(tc, test_grid_functions);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(kern_interp_suite)
