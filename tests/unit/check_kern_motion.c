#include "rtc_build.h"

#include <math.h>
#include <omp.h>

#include "check_common.h"
#include "error.h"
#include "kern_interp.h"
#include "kern_motion.h"
#include "kern_testutil.h"
#include "mask.h"

#define DEG (M_PI / 180.0)

/* ---- phantom, grids, error measures ---- */

/* A smooth analytic head: an ellipsoid with soft edges plus blobs, in
 * world mm. */
static double
phantom(const double p[3])
{
	static const double blobs[6][5] = {
		/* x, y, z, sigma, amplitude */
		{ 20, 10, 5, 8, 400 }, { -25, -5, 10, 10, -300 },
		{ 5, -30, -10, 7, 350 }, { -10, 25, -5, 9, 250 },
		{ 0, 0, 25, 6, 300 }, { 15, -15, -20, 8, -200 },
	};
	double e = sqrt(p[0] * p[0] / (70.0 * 70.0) +
	    p[1] * p[1] / (85.0 * 85.0) + p[2] * p[2] / (60.0 * 60.0));
	double v = 1000.0 / (1.0 + exp((e - 1.0) / 0.06));
	int b;

	for (b = 0; b < 6; b++) {
		double dx = p[0] - blobs[b][0], dy = p[1] - blobs[b][1];
		double dz = p[2] - blobs[b][2], s = blobs[b][3];

		v += blobs[b][4] * exp(-(dx * dx + dy * dy + dz * dz) /
		    (2.0 * s * s));
	}
	return v;
}

/* An oblique, anisotropic grid centred near the origin. */
static void
oblique_grid(struct rtc_grid *g, int nx, int ny, int nz)
{
	double rot[3] = { 8 * DEG, -5 * DEG, 12 * DEG }, t0[3] = { 0, 0, 0 };
	double c0[3] = { 0, 0, 0 }, R[4][4], S[4][4];

	rtc_motion_params_to_matrix(t0, rot, c0, R);
	rtc_affine_identity(S);
	S[0][0] = -3.0;     /* LPS-like flip on x, 3 x 3 x 3.5 mm */
	S[1][1] = 3.0;
	S[2][2] = 3.5;
	S[0][3] = 3.0 * (nx - 1) / 2.0 + 1.7;
	S[1][3] = -3.0 * (ny - 1) / 2.0 - 2.3;
	S[2][3] = -3.5 * (nz - 1) / 2.0 + 4.1;
	rtc_affine_mul(R, S, g->affine);
	g->nx = nx;
	g->ny = ny;
	g->nz = nz;
}

/* Fill vol with the phantom as seen in a volume where the anatomy at
 * reference point p sits at T(p): vol(q) = phantom(T^-1 q). */
static void
render(const struct rtc_grid *g, const double T[4][4], float *vol)
{
	double Ti[4][4];
	int i, j, k, r;

	ck_assert_int_eq(rtc_affine_invert(T, Ti), RTC_OK);
	for (k = 0; k < g->nz; k++)
		for (j = 0; j < g->ny; j++)
			for (i = 0; i < g->nx; i++) {
				double q[3], p[3];

				rtc_grid_vox2world(g, i, j, k, q);
				for (r = 0; r < 3; r++)
					p[r] = Ti[r][0] * q[0] + Ti[r][1] * q[1] +
					    Ti[r][2] * q[2] + Ti[r][3];
				vol[((size_t)k * g->ny + j) * g->nx + i] =
				    (float)phantom(p);
			}
}

/* RMS over grid points within radius of centre of |A(p) - B(p)|. */
static double
rms_point_error(const struct rtc_grid *g, const double A[4][4],
    const double B[4][4], const double centre[3], double radius)
{
	double s = 0.0;
	long n = 0;
	int i, j, k, r;

	for (k = 0; k < g->nz; k++)
		for (j = 0; j < g->ny; j++)
			for (i = 0; i < g->nx; i++) {
				double p[3], d2 = 0.0, e2 = 0.0;

				rtc_grid_vox2world(g, i, j, k, p);
				for (r = 0; r < 3; r++)
					d2 += (p[r] - centre[r]) * (p[r] - centre[r]);
				if (d2 > radius * radius)
					continue;
				for (r = 0; r < 3; r++) {
					double a = A[r][0] * p[0] + A[r][1] * p[1] +
					    A[r][2] * p[2] + A[r][3];
					double b = B[r][0] * p[0] + B[r][1] * p[1] +
					    B[r][2] * p[2] + B[r][3];

					e2 += (a - b) * (a - b);
				}
				s += e2;
				n++;
			}
	ck_assert_int_gt(n, 100);
	return sqrt(s / (double)n);
}

static void
mask_centroid(const struct rtc_grid *g, const uint8_t *mask, double c[3])
{
	double s[3] = { 0, 0, 0 }, w[3];
	long n = 0;
	int i, j, k, r;

	for (k = 0; k < g->nz; k++)
		for (j = 0; j < g->ny; j++)
			for (i = 0; i < g->nx; i++)
				if (mask[((size_t)k * g->ny + j) * g->nx + i]) {
					rtc_grid_vox2world(g, i, j, k, w);
					for (r = 0; r < 3; r++)
						s[r] += w[r];
					n++;
				}
	ck_assert_int_gt(n, 0);
	for (r = 0; r < 3; r++)
		c[r] = s[r] / (double)n;
}

/* ---- conventions ---- */

START_TEST(test_params_roundtrip)
{
	double t[3] = { 1.25, -0.5, 2.0 }, r[3] = { 0.02, -0.03, 0.015 };
	double c[3] = { 10, -20, 30 }, T[4][4], t2[3], r2[3], p[3];
	int q;

	rtc_motion_params_to_matrix(t, r, c, T);
	rtc_motion_matrix_to_params(T, c, t2, r2);
	for (q = 0; q < 3; q++) {
		ck_assert_double_eq_tol(t2[q], t[q], 1e-12);
		ck_assert_double_eq_tol(r2[q], r[q], 1e-12);
	}
	/* the centre goes to c + t */
	for (q = 0; q < 3; q++)
		p[q] = T[q][0] * c[0] + T[q][1] * c[1] + T[q][2] * c[2] + T[q][3];
	for (q = 0; q < 3; q++)
		ck_assert_double_eq_tol(p[q], c[q] + t[q], 1e-12);
}
END_TEST

START_TEST(test_rotation_order)
{
	double t0[3] = { 0, 0, 0 }, c0[3] = { 0, 0, 0 }, T[4][4];
	double rz[3] = { 0, 0, M_PI / 2 }, rx[3] = { M_PI / 2, 0, 0 };
	double a = 0.3, b = -0.2, g = 0.5, rall[3] = { a, b, g };
	double Rx[4][4], Ry[4][4], Rz[4][4], M[4][4];
	int r, c;

	/* rot_z > 0 turns +x towards +y (right-handed) */
	rtc_motion_params_to_matrix(t0, rz, c0, T);
	ck_assert_double_eq_tol(T[0][0], 0.0, 1e-15);
	ck_assert_double_eq_tol(T[1][0], 1.0, 1e-15);
	/* rot_x > 0 turns +y towards +z */
	rtc_motion_params_to_matrix(t0, rx, c0, T);
	ck_assert_double_eq_tol(T[2][1], 1.0, 1e-15);
	/* R = Rz . Ry . Rx, written out independently */
	rtc_affine_identity(Rx);
	rtc_affine_identity(Ry);
	rtc_affine_identity(Rz);
	Rx[1][1] = cos(a); Rx[1][2] = -sin(a); Rx[2][1] = sin(a); Rx[2][2] = cos(a);
	Ry[0][0] = cos(b); Ry[0][2] = sin(b); Ry[2][0] = -sin(b); Ry[2][2] = cos(b);
	Rz[0][0] = cos(g); Rz[0][1] = -sin(g); Rz[1][0] = sin(g); Rz[1][1] = cos(g);
	rtc_affine_mul(Ry, Rx, M);
	rtc_affine_mul(Rz, M, M);
	rtc_motion_params_to_matrix(t0, rall, c0, T);
	for (r = 0; r < 3; r++)
		for (c = 0; c < 3; c++)
			ck_assert_double_eq_tol(T[r][c], M[r][c], 1e-14);
}
END_TEST

START_TEST(test_fd_power)
{
	double ta[3] = { 0.1, -0.2, 0.3 }, ra[3] = { 0.001, 0.002, -0.003 };
	double tb[3] = { 0.0, 0.0, 0.0 }, rb[3] = { 0.0, 0.0, 0.0 };

	/* 0.6 mm + 50 * 0.006 rad = 0.9 mm */
	ck_assert_double_eq_tol(rtc_motion_fd(ta, ra, tb, rb, 50.0), 0.9,
	    1e-12);
	ck_assert_double_eq_tol(rtc_motion_fd(ta, ra, ta, ra, 50.0), 0.0,
	    1e-15);
}
END_TEST

/* A known T on an analytic phantom in an oblique grid comes back with the
 * documented signs and order. */
START_TEST(test_convention_recovered)
{
	struct rtc_grid g;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	double c[3], T[4][4];
	double t[3] = { 1.2, -0.8, 0.6 }, r[3] = { 1.5 * DEG, -1.0 * DEG,
	    2.0 * DEG };
	float *ref, *mov;
	size_t n;
	int q;

	oblique_grid(&g, 64, 64, 36);
	n = rtc_grid_nvox(&g);
	ref = malloc(n * sizeof(float));
	mov = malloc(n * sizeof(float));
	rtc_affine_identity(T);
	render(&g, T, ref);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, NULL), RTC_OK);
	rtc_motion_center(m, c);
	rtc_motion_params_to_matrix(t, r, c, T);
	render(&g, T, mov);
	ck_assert_int_eq(rtc_motion_register(m, mov, NULL, &res), RTC_OK);
	for (q = 0; q < 3; q++) {
		ck_assert_msg(fabs(res.trans[q] - t[q]) < 0.02,
		    "trans[%d] %g vs %g", q, res.trans[q], t[q]);
		ck_assert_msg(fabs(res.rot[q] - r[q]) < 0.02 * DEG,
		    "rot[%d] %g vs %g", q, res.rot[q], r[q]);
	}
	ck_assert_int_eq(res.converged, 1);
	ck_assert_double_eq(res.fd, 0.0);
	rtc_motion_free(m);
	free(ref);
	free(mov);
}
END_TEST

/* The moving volume's own affine is honoured: the same anatomy in a grid
 * shifted by 7 mm (scanner moved the FOV) is no motion; the same voxels
 * with a shifted affine are. */
START_TEST(test_moving_affine)
{
	struct rtc_grid g, g2;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	double I[4][4];
	float *ref, *mov;
	size_t n;

	oblique_grid(&g, 64, 64, 44);
	g2 = g;
	g2.affine[0][3] += 7.0;
	n = rtc_grid_nvox(&g);
	ref = malloc(n * sizeof(float));
	mov = malloc(n * sizeof(float));
	rtc_affine_identity(I);
	render(&g, I, ref);
	render(&g2, I, mov);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, NULL), RTC_OK);
	ck_assert_int_eq(rtc_motion_register(m, mov, g2.affine, &res), RTC_OK);
	ck_assert_double_eq_tol(res.trans[0], 0.0, 0.02);
	ck_assert_double_eq_tol(res.trans[1], 0.0, 0.02);
	/* the reference's voxels labelled with a +7 mm x origin: the anatomy
	 * appears 7 mm further along +x */
	rtc_motion_reset(m);
	ck_assert_int_eq(rtc_motion_register(m, ref, g2.affine, &res), RTC_OK);
	ck_assert_double_eq_tol(res.trans[0], 7.0, 0.02);
	ck_assert_double_eq_tol(res.trans[1], 0.0, 0.02);
	ck_assert_double_eq_tol(res.trans[2], 0.0, 0.02);
	rtc_motion_free(m);
	free(ref);
	free(mov);
}
END_TEST

/* ---- real data: the accuracy the issue asks for ---- */

struct accuracy {
	double mean, max;
	int n;
};

/* Move the first volume of a real series by known rigid transforms (up
 * to 1.5 mm and 1.5 degrees per axis), resampled with cubic B-splines,
 * add Gaussian noise of 1% of the mean brain intensity, register each
 * with the trilinear engine and measure the RMS point error within a
 * 50 mm sphere around the brain's centroid. */
static int
real_accuracy(const char *series, int nmoves, struct accuracy *acc)
{
	struct real_series s;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	struct trng rng = { 20240601 };
	uint8_t *mask;
	float *mov;
	double c[3], centre[3], meanI = 0.0, sigma;
	size_t n, v, nm = 0;
	int k, q;

	if (!real_series_load(series, &s))
		return 0;
	n = rtc_grid_nvox(&s.g);
	mask = malloc(n);
	mov = malloc(n * sizeof(float));
	ck_assert_int_eq(rtc_mask_auto(s.data, &s.g, NULL, mask, &nm, NULL),
	    RTC_OK);
	for (v = 0; v < n; v++)
		if (mask[v])
			meanI += s.data[v];
	meanI /= (double)nm;
	sigma = 0.01 * meanI;
	mask_centroid(&s.g, mask, centre);
	ck_assert_int_eq(rtc_motion_new(s.data, &s.g, mask, NULL, &m, NULL),
	    RTC_OK);
	rtc_motion_center(m, c);
	acc->mean = acc->max = 0.0;
	acc->n = nmoves;
	for (k = 0; k < nmoves; k++) {
		double t[3], r[3], T[4][4], Ti[4][4], err;

		for (q = 0; q < 3; q++) {
			t[q] = (2.0 * trng_unif(&rng) - 1.0) * 1.5;
			r[q] = (2.0 * trng_unif(&rng) - 1.0) * 1.5 * DEG;
		}
		rtc_motion_params_to_matrix(t, r, c, T);
		ck_assert_int_eq(rtc_affine_invert(T, Ti), RTC_OK);
		/* mov(q) = ref(T^-1 q): resample through T^-1 */
		sinc_resample(s.data, &s.g, Ti, mov);
		for (v = 0; v < n; v++)
			mov[v] += (float)(sigma * trng_normal(&rng));
		ck_assert_int_eq(rtc_motion_register(m, mov, NULL, &res),
		    RTC_OK);
		err = rms_point_error(&s.g, res.matrix, T, centre, 50.0);
		fprintf(stderr, "motion accuracy %s #%d: true t=(%.3f %.3f "
		    "%.3f) r=(%.3f %.3f %.3f) deg, est t=(%.3f %.3f %.3f) "
		    "r=(%.3f %.3f %.3f) deg, RMS error %.4f mm, %d iter\n",
		    series, k, t[0], t[1], t[2], r[0] / DEG, r[1] / DEG,
		    r[2] / DEG, res.trans[0], res.trans[1], res.trans[2],
		    res.rot[0] / DEG, res.rot[1] / DEG, res.rot[2] / DEG, err,
		    res.iterations);
		acc->mean += err / nmoves;
		if (err > acc->max)
			acc->max = err;
	}
	fprintf(stderr, "motion accuracy %s: mean RMS point error %.4f mm, "
	    "max %.4f mm over %d moves (noise sigma %.1f = 1%% of %.0f)\n",
	    series, acc->mean, acc->max, nmoves, sigma, meanI);
	rtc_motion_free(m);
	free(mask);
	free(mov);
	real_series_free(&s);
	return 1;
}

START_TEST(test_real_accuracy_vd13)
{
	struct accuracy a;

	if (!real_accuracy("siemens-vd13-mosaic", 20, &a))
		return;
	ck_assert_msg(a.mean <= 0.1, "mean RMS error %.4f mm > 0.1 mm", a.mean);
	ck_assert_msg(a.max <= 0.25, "max RMS error %.4f mm", a.max);
}
END_TEST

/* The reference registered to itself: no motion, FD 0. */
START_TEST(test_identity)
{
	struct rtc_grid g;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	double I[4][4];
	float *ref;
	int q;

	oblique_grid(&g, 40, 40, 24);
	ref = malloc(rtc_grid_nvox(&g) * sizeof(float));
	rtc_affine_identity(I);
	render(&g, I, ref);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, NULL), RTC_OK);
	ck_assert_int_eq(rtc_motion_register(m, ref, NULL, &res), RTC_OK);
	for (q = 0; q < 3; q++) {
		ck_assert_double_eq_tol(res.trans[q], 0.0, 1e-4);
		ck_assert_double_eq_tol(res.rot[q], 0.0, 1e-6);
	}
	ck_assert_double_eq(res.fd, 0.0);
	ck_assert_int_eq(res.converged, 1);
	ck_assert_int_gt(res.nsamples, 1000);
	ck_assert_double_lt(res.rms, 1e-2);
	rtc_motion_free(m);
	rtc_motion_free(NULL);
	free(ref);
}
END_TEST

/* A run of volumes on a known trajectory: each estimate matches, FD is
 * Power's FD of consecutive estimates (and of the truth, closely), reset
 * starts a new run at FD 0. */
START_TEST(test_trajectory_fd_reset)
{
	struct rtc_grid g;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res, prev;
	double c[3], I[4][4], t[3] = { 0, 0, 0 }, r[3] = { 0, 0, 0 };
	double pt[3] = { 0, 0, 0 }, pr[3] = { 0, 0, 0 };
	struct trng rng = { 7 };
	float *ref, *mov;
	size_t n;
	int k, q;

	oblique_grid(&g, 48, 48, 32);
	n = rtc_grid_nvox(&g);
	ref = malloc(n * sizeof(float));
	mov = malloc(n * sizeof(float));
	rtc_affine_identity(I);
	render(&g, I, ref);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, NULL), RTC_OK);
	rtc_motion_center(m, c);
	memset(&prev, 0, sizeof(prev));
	for (k = 0; k < 8; k++) {
		double T[4][4], fd_true;

		if (k > 0)
			for (q = 0; q < 3; q++) {
				t[q] += 0.3 * (2.0 * trng_unif(&rng) - 1.0);
				r[q] += 0.3 * DEG * (2.0 * trng_unif(&rng) - 1.0);
			}
		rtc_motion_params_to_matrix(t, r, c, T);
		render(&g, T, mov);
		ck_assert_int_eq(rtc_motion_register(m, mov, NULL, &res),
		    RTC_OK);
		for (q = 0; q < 3; q++) {
			ck_assert_double_eq_tol(res.trans[q], t[q], 0.03);
			ck_assert_double_eq_tol(res.rot[q], r[q], 0.03 * DEG);
		}
		fd_true = rtc_motion_fd(t, r, pt, pr, 50.0);
		if (k == 0)
			ck_assert_double_eq(res.fd, 0.0);
		else {
			ck_assert_double_eq_tol(res.fd, rtc_motion_fd(res.trans,
			    res.rot, prev.trans, prev.rot, 50.0), 1e-12);
			ck_assert_double_eq_tol(res.fd, fd_true, 0.1);
		}
		prev = res;
		memcpy(pt, t, sizeof(t));
		memcpy(pr, r, sizeof(r));
	}
	rtc_motion_reset(m);
	ck_assert_int_eq(rtc_motion_register(m, mov, NULL, &res), RTC_OK);
	ck_assert_double_eq(res.fd, 0.0);
	for (q = 0; q < 3; q++)
		ck_assert_double_eq_tol(res.trans[q], t[q], 0.03);
	rtc_motion_free(m);
	free(ref);
	free(mov);
}
END_TEST

/* A sudden 6 mm / 5 degree jump after a still volume: the warm start is
 * far off, the pyramid takes over. */
START_TEST(test_jump_recovered)
{
	struct rtc_grid g;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	double c[3], I[4][4], T[4][4];
	double t[3] = { 6.0, -3.0, 2.0 }, r[3] = { 5 * DEG, -2 * DEG, 4 * DEG };
	float *ref, *mov;
	size_t n;
	int q;

	oblique_grid(&g, 64, 64, 40);
	n = rtc_grid_nvox(&g);
	ref = malloc(n * sizeof(float));
	mov = malloc(n * sizeof(float));
	rtc_affine_identity(I);
	render(&g, I, ref);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, NULL), RTC_OK);
	rtc_motion_center(m, c);
	ck_assert_int_eq(rtc_motion_register(m, ref, NULL, &res), RTC_OK);
	rtc_motion_params_to_matrix(t, r, c, T);
	render(&g, T, mov);
	ck_assert_int_eq(rtc_motion_register(m, mov, NULL, &res), RTC_OK);
	for (q = 0; q < 3; q++) {
		ck_assert_double_eq_tol(res.trans[q], t[q], 0.05);
		ck_assert_double_eq_tol(res.rot[q], r[q], 0.05 * DEG);
	}
	ck_assert_int_eq(res.converged, 1);
	ck_assert_double_gt(res.fd, 10.0);
	rtc_motion_free(m);
	free(ref);
	free(mov);
}
END_TEST

/* Same numbers, bit for bit, with 1 and 2 threads. */
START_TEST(test_threads_bitwise)
{
	struct rtc_grid g;
	struct rtc_motion *m1 = NULL, *m2 = NULL;
	struct rtc_motion_result a, b;
	double c[3], I[4][4], T[4][4];
	double t[3] = { 0.7, 0.2, -0.4 }, r[3] = { 0.5 * DEG, 0.3 * DEG, -DEG };
	float *ref, *mov;
	size_t n;
	int saved = omp_get_max_threads();

	oblique_grid(&g, 48, 48, 32);
	n = rtc_grid_nvox(&g);
	ref = malloc(n * sizeof(float));
	mov = malloc(n * sizeof(float));
	rtc_affine_identity(I);
	render(&g, I, ref);
	omp_set_num_threads(1);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m1, NULL), RTC_OK);
	rtc_motion_center(m1, c);
	rtc_motion_params_to_matrix(t, r, c, T);
	render(&g, T, mov);
	ck_assert_int_eq(rtc_motion_register(m1, mov, NULL, &a), RTC_OK);
	omp_set_num_threads(2);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m2, NULL), RTC_OK);
	ck_assert_int_eq(rtc_motion_register(m2, mov, NULL, &b), RTC_OK);
	ck_assert_int_eq(memcmp(a.trans, b.trans, sizeof(a.trans)), 0);
	ck_assert_int_eq(memcmp(a.rot, b.rot, sizeof(a.rot)), 0);
	ck_assert_int_eq(a.iterations, b.iterations);
	omp_set_num_threads(saved);
	rtc_motion_free(m1);
	rtc_motion_free(m2);
	free(ref);
	free(mov);
}
END_TEST

/* Reslicing with the estimate undoes the motion; the B-spline does it
 * better than trilinear. */
START_TEST(test_reslice)
{
	struct rtc_grid g;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	double c[3], I[4][4], T[4][4], e_lin = 0.0, e_bsp = 0.0, e_raw = 0.0;
	double t[3] = { 1.3, -0.9, 0.8 }, r[3] = { DEG, -1.5 * DEG, 0.7 * DEG };
	float *ref, *mov, *out;
	uint8_t *mask;
	size_t n, v, cnt = 0;

	oblique_grid(&g, 48, 48, 32);
	n = rtc_grid_nvox(&g);
	ref = malloc(n * sizeof(float));
	mov = malloc(n * sizeof(float));
	out = malloc(n * sizeof(float));
	mask = malloc(n);
	rtc_affine_identity(I);
	render(&g, I, ref);
	ck_assert_int_eq(rtc_mask_auto(ref, &g, NULL, mask, NULL, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_mask_erode(mask, &g, 2), RTC_OK);
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, NULL), RTC_OK);
	rtc_motion_center(m, c);
	rtc_motion_params_to_matrix(t, r, c, T);
	render(&g, T, mov);
	ck_assert_int_eq(rtc_motion_register(m, mov, NULL, &res), RTC_OK);
	ck_assert_int_eq(rtc_motion_reslice(m, mov, NULL, &res,
	    RTC_INTERP_LINEAR, out), RTC_OK);
	for (v = 0; v < n; v++)
		if (mask[v]) {
			e_lin += (out[v] - ref[v]) * (out[v] - ref[v]);
			e_raw += (mov[v] - ref[v]) * (mov[v] - ref[v]);
			cnt++;
		}
	ck_assert_int_eq(rtc_motion_reslice(m, mov, NULL, &res,
	    RTC_INTERP_BSPLINE, out), RTC_OK);
	for (v = 0; v < n; v++)
		if (mask[v])
			e_bsp += (out[v] - ref[v]) * (out[v] - ref[v]);
	e_lin = sqrt(e_lin / cnt);
	e_bsp = sqrt(e_bsp / cnt);
	e_raw = sqrt(e_raw / cnt);
	fprintf(stderr, "reslice RMS difference to the reference: none %.2f, "
	    "trilinear %.3f, B-spline %.3f\n", e_raw, e_lin, e_bsp);
	ck_assert_double_lt(e_lin, e_raw / 5.0);
	ck_assert_double_lt(e_bsp, e_lin);
	ck_assert_double_lt(e_bsp, 2.0);
	/* limited to the mask: the same values on the mask, the rest of out
	 * untouched; NULL reslices everything again */
	ck_assert_int_eq(rtc_motion_reslice(m, mov, NULL, &res,
	    RTC_INTERP_LINEAR, ref), RTC_OK);
	ck_assert_int_eq(rtc_motion_reslice_only(m, mask), RTC_OK);
	for (v = 0; v < n; v++)
		out[v] = -1.0f;
	ck_assert_int_eq(rtc_motion_reslice(m, mov, NULL, &res,
	    RTC_INTERP_LINEAR, out), RTC_OK);
	cnt = 0;
	for (v = 0; v < n; v++) {
		if (mask[v])
			ck_assert(out[v] == ref[v]);
		cnt += out[v] == -1.0f;
	}
	ck_assert_uint_gt(cnt, n / 4);
	ck_assert_int_eq(rtc_motion_reslice_only(m, NULL), RTC_OK);
	ck_assert_int_eq(rtc_motion_reslice(m, mov, NULL, &res,
	    RTC_INTERP_LINEAR, out), RTC_OK);
	ck_assert_int_eq(memcmp(out, ref, n * sizeof(float)), 0);
	rtc_motion_free(m);
	free(ref);
	free(mov);
	free(out);
	free(mask);
}
END_TEST

START_TEST(test_bad_input)
{
	struct rtc_grid g;
	struct rtc_motion *m = NULL;
	struct rtc_motion_opts o;
	struct rtc_motion_result res, res2;
	double I[4][4], sing[4][4];
	float *ref, *bad;
	uint8_t *mask;
	size_t n;
	char *cause = NULL;

	oblique_grid(&g, 32, 32, 20);
	n = rtc_grid_nvox(&g);
	ref = malloc(n * sizeof(float));
	bad = malloc(n * sizeof(float));
	mask = calloc(n, 1);
	rtc_affine_identity(I);
	render(&g, I, ref);
	/* empty mask */
	ck_assert_int_eq(rtc_motion_new(ref, &g, mask, NULL, &m, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "mask"));
	/* options */
	rtc_motion_opts_init(&o);
	o.levels = 9;
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, &o, &m, &cause),
	    RTC_ERR_INVAL);
	rtc_motion_opts_init(&o);
	o.smooth_fwhm_mm = -1.0;
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, &o, &m, &cause),
	    RTC_ERR_INVAL);
	/* too thin a grid */
	g.nz = 2;
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, &cause),
	    RTC_ERR_INVAL);
	g.nz = 20;
	/* a non-finite reference voxel */
	memcpy(bad, ref, n * sizeof(float));
	bad[n / 2] = NAN;
	ck_assert_int_eq(rtc_motion_new(bad, &g, NULL, NULL, &m, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_null(m);
	/* a NaN volume fails and keeps the warm start */
	ck_assert_int_eq(rtc_motion_new(ref, &g, NULL, NULL, &m, &cause),
	    RTC_OK);
	ck_assert_int_eq(rtc_motion_register(m, ref, NULL, &res), RTC_OK);
	for (size_t v = 0; v < n; v++)
		bad[v] = NAN;
	memset(&res2, 0x5a, sizeof(res2));
	ck_assert_int_eq(rtc_motion_register(m, bad, NULL, &res2),
	    RTC_ERR_FORMAT);
	ck_assert_int_eq(((unsigned char *)&res2)[0], 0x5a);
	/* a singular affine */
	memset(sing, 0, sizeof(sing));
	ck_assert_int_eq(rtc_motion_register(m, ref, sing, &res2),
	    RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_motion_register(m, ref, NULL, &res2), RTC_OK);
	ck_assert_double_eq_tol(res2.trans[0], 0.0, 1e-4);
	ck_assert_double_lt(res2.fd, 1e-4);
	rtc_motion_free(m);
	free(cause);
	free(ref);
	free(bad);
	free(mask);
}
END_TEST

/*
 * The real series against an independent registration: dipy 1.6's
 * AffineRegistration (rigid, mutual information, 32 bins, levels
 * [10000, 1000, 100], sigmas [3, 1, 0], factors [4, 2, 1]) on the same
 * dcm2niix NIfTI gave these world -> world matrices (static -> moving, the
 * convention of T here). Volume 0 of this QA series is 25 degrees away
 * from the rest; volumes 0..2 are not yet in steady state (volume 1 is up
 * to 26% brighter than volume 2 in the lower slices), so the small-motion
 * comparison takes volume 3 as the reference, as a realtime run would
 * after its dummy scans. Cost functions (SSD here, MI there) and
 * interpolators differ, so agreement is expected to a few tenths of a mm.
 */
static const double dipy_1_to_0[3][4] = {
	{ 0.90129, -0.41994, -0.10644, 4.57287 },
	{ 0.42600, 0.90377, 0.04153, -0.54338 },
	{ 0.07876, -0.08277, 0.99345, -2.71498 },
};
static const int dipy_vols[3] = { 2, 4, 5 };
static const double dipy_k_to_3[3][3][4] = {
	{ { 0.99997, -0.00494, -0.00624, -0.40400 },
	  { 0.00492, 0.99998, -0.00302, -0.41168 },
	  { 0.00626, 0.00298, 0.99998, 0.08481 } },
	{ { 0.99999, 0.00535, 0.00021, 0.00010 },
	  { -0.00535, 0.99998, -0.00158, 0.00019 },
	  { -0.00022, 0.00158, 1.00000, 0.00002 } },
	{ { 0.99998, 0.00569, 0.00097, 0.00001 },
	  { -0.00569, 0.99998, -0.00156, 0.00017 },
	  { -0.00098, 0.00156, 1.00000, 0.00006 } },
};

static double
vs_dipy(const struct rtc_grid *g, const uint8_t *mask,
    const double T[4][4], const double d[3][4])
{
	double D[4][4], centre[3];
	int r, c;

	rtc_affine_identity(D);
	for (r = 0; r < 3; r++)
		for (c = 0; c < 4; c++)
			D[r][c] = d[r][c];
	mask_centroid(g, mask, centre);
	return rms_point_error(g, T, D, centre, 50.0);
}

START_TEST(test_real_series_vs_dipy)
{
	struct real_series s;
	struct rtc_motion *m = NULL;
	struct rtc_motion_result res;
	uint8_t *mask;
	size_t n;
	double e;
	int q, t;

	if (!real_series_load("siemens-vd13-mosaic", &s))
		return;
	ck_assert_int_eq(s.g.nx, 64);
	ck_assert_int_eq(s.g.nz, 36);
	ck_assert_int_eq(s.nt, 6);
	n = rtc_grid_nvox(&s.g);
	mask = malloc(n);
	/* the 25 degree turn of volume 1 against volume 0: the pyramid */
	ck_assert_int_eq(rtc_mask_auto(s.data, &s.g, NULL, mask, NULL, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_motion_new(s.data, &s.g, mask, NULL, &m, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_motion_register(m, s.data + n, NULL, &res),
	    RTC_OK);
	e = vs_dipy(&s.g, mask, res.matrix, dipy_1_to_0);
	fprintf(stderr, "real vol 1 vs 0: rot_z %.2f deg, RMS difference to "
	    "dipy %.3f mm\n", res.rot[2] / DEG, e);
	ck_assert_double_gt(res.rot[2], 24.0 * DEG);
	ck_assert_double_lt(e, 1.0);
	rtc_motion_free(m);
	/* steady state: volumes 2, 4, 5 against volume 3, warm path */
	ck_assert_int_eq(rtc_mask_auto(s.data + 3 * n, &s.g, NULL, mask, NULL,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_motion_new(s.data + 3 * n, &s.g, mask, NULL, &m,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_motion_register(m, s.data + 3 * n, NULL, &res),
	    RTC_OK);
	for (q = 0; q < 3; q++)
		ck_assert_double_lt(fabs(res.trans[q]), 1e-3);
	for (t = 0; t < 3; t++) {
		ck_assert_int_eq(rtc_motion_register(m, s.data +
		    (size_t)dipy_vols[t] * n, NULL, &res), RTC_OK);
		ck_assert_int_eq(res.converged, 1);
		e = vs_dipy(&s.g, mask, res.matrix, dipy_k_to_3[t]);
		fprintf(stderr, "real vol %d vs 3: t=(%.3f %.3f %.3f) mm "
		    "r=(%.3f %.3f %.3f) deg fd %.3f, %d iter, RMS difference "
		    "to dipy %.3f mm\n", dipy_vols[t], res.trans[0],
		    res.trans[1], res.trans[2], res.rot[0] / DEG,
		    res.rot[1] / DEG, res.rot[2] / DEG, res.fd, res.iterations,
		    e);
		ck_assert_double_lt(e, 0.4);
	}
	rtc_motion_free(m);
	free(mask);
	real_series_free(&s);
}
END_TEST

START_TEST(test_real_accuracy_e11)
{
	struct accuracy a;

	/* another scanner and protocol: 27 slices, realtime export */
	if (!real_accuracy("siemens-e11-mosaic-rt", 8, &a))
		return;
	ck_assert_msg(a.mean <= 0.1, "mean RMS error %.4f mm > 0.1 mm", a.mean);
}
END_TEST

Suite *
kern_motion_suite(void);

Suite *
kern_motion_suite(void)
{
	Suite *s = suite_create("kern_motion");
	TCase *tc = tcase_create("conventions");
	TCase *tr = tcase_create("real");

	tcase_add_test(tc, test_params_roundtrip);
	tcase_add_test(tc, test_rotation_order);
	tcase_add_test(tc, test_fd_power);
	tcase_add_test(tc, test_convention_recovered);
	tcase_add_test(tc, test_moving_affine);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_trajectory_fd_reset);
	tcase_add_test(tc, test_jump_recovered);
	tcase_add_test(tc, test_threads_bitwise);
	tcase_add_test(tc, test_reslice);
	tcase_add_test(tc, test_bad_input);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, test_real_accuracy_vd13);
	tcase_add_test(tr, test_real_accuracy_e11);
	tcase_add_test(tr, test_real_series_vs_dipy);
	tcase_set_timeout(tr, 300);
	suite_add_tcase(s, tr);
	return s;
}

RTC_CHECK_MAIN(kern_motion_suite)
