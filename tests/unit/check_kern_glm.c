#include "rtc_build.h"

#include <math.h>
#include <omp.h>

#include "check_common.h"
#include "error.h"
#include "events.h"
#include "kern_glm.h"
#include "kern_testutil.h"

#define NV 64          /* volumes */
#define NP 7           /* columns */

/*
 * Independent batch least squares: modified Gram-Schmidt QR in column
 * order (reorthogonalised), dropping a column whose part orthogonal to
 * the kept ones is under 1e-7 of its norm; beta by back substitution;
 * RSS from the explicit residuals; t = c'b / sqrt(s2 c'(R'R)^-1 c).
 */
struct batch {
	int keep[NP], rank;
	double beta[NP], rss;
	double R[NP][NP];
};

static void
batch_fit(int n, const double X[][NP], const double *y, struct batch *b)
{
	double Q[NV][NP], qty[NP];
	int i, j, k, it, kk[NP], nk = 0;

	memset(b, 0, sizeof(*b));
	for (j = 0; j < NP; j++) {
		double v[NV], nx = 0.0, nv = 0.0;

		for (i = 0; i < n; i++) {
			v[i] = X[i][j];
			nx += v[i] * v[i];
		}
		for (it = 0; it < 2; it++)
			for (k = 0; k < nk; k++) {
				double d = 0.0;

				for (i = 0; i < n; i++)
					d += Q[i][k] * v[i];
				b->R[k][nk] += d;
				for (i = 0; i < n; i++)
					v[i] -= d * Q[i][k];
			}
		for (i = 0; i < n; i++)
			nv += v[i] * v[i];
		if (nx == 0.0 || sqrt(nv) < 1e-7 * sqrt(nx)) {
			for (k = 0; k < nk; k++)
				b->R[k][nk] = 0.0;
			continue;
		}
		b->R[nk][nk] = sqrt(nv);
		for (i = 0; i < n; i++)
			Q[i][nk] = v[i] / b->R[nk][nk];
		b->keep[j] = 1;
		kk[nk++] = j;
	}
	b->rank = nk;
	for (k = 0; k < nk; k++) {
		qty[k] = 0.0;
		for (i = 0; i < n; i++)
			qty[k] += Q[i][k] * y[i];
	}
	for (k = nk - 1; k >= 0; k--) {
		double s = qty[k];

		for (j = k + 1; j < nk; j++)
			s -= b->R[k][j] * b->beta[kk[j]];
		b->beta[kk[k]] = s / b->R[k][k];
	}
	b->rss = 0.0;
	for (i = 0; i < n; i++) {
		double r = y[i];

		for (j = 0; j < NP; j++)
			r -= X[i][j] * b->beta[j];
		b->rss += r * r;
	}
}

/* RET: 0 and *t, *eff; or -1 when not estimable. */
static int
batch_t(int n, const struct batch *b, const double *c, double *t,
    double *eff)
{
	double cc[NP], u[NP], var = 0.0, s2;
	int j, k, nk = 0;

	if (n - b->rank < 1)
		return -1;
	for (j = 0; j < NP; j++) {
		if (!b->keep[j] && c[j] != 0.0)
			return -1;
		if (b->keep[j])
			cc[nk++] = c[j];
	}
	/* R' u = c */
	for (k = 0; k < nk; k++) {
		double s = cc[k];

		for (j = 0; j < k; j++)
			s -= b->R[j][k] * u[j];
		u[k] = s / b->R[k][k];
		var += u[k] * u[k];
	}
	*eff = 0.0;
	for (j = 0; j < NP; j++)
		*eff += c[j] * b->beta[j];
	s2 = b->rss / (n - b->rank);
	*t = *eff / sqrt(s2 * var);
	return 0;
}

/* A design with everything that happens early in a run: a task column
 * still all zeros, a second task that starts late, and an exact copy of
 * a motion column (never estimable on its own). */
static void
make_design(double X[NV][NP], struct trng *r)
{
	double w1 = 0.0, w2 = 0.0;
	int i;

	for (i = 0; i < NV; i++) {
		w1 += 0.2 * trng_normal(r);
		w2 += 0.2 * trng_normal(r);
		X[i][0] = 1.0;
		X[i][1] = 2.0 * i / (NV - 1.0) - 1.0;
		X[i][2] = w1;
		X[i][3] = w2;
		X[i][4] = i < 8 ? 0.0 : ((i / 8) % 2 ? 1.0 : 0.1 * (i % 8));
		X[i][5] = i < 30 ? 0.0 : sin(0.4 * i);
		X[i][6] = w1;
	}
}

/* After every volume, t and effect maps equal the batch solution on the
 * volumes so far, and not-yet-estimable contrasts say RTC_ERR_AGAIN. */
START_TEST(test_matches_batch_every_volume)
{
	enum { NVOX = 50 };
	static const double cons[3][NP] = {
		{ 0, 0, 0, 0, 1, 0, 0 },
		{ 0, 0, 0, 0, 1, -1, 0 },
		{ 0, 1, 0, 0, 0, 0, 0 },
	};
	struct rtc_grid g;
	struct rtc_glm *m = NULL;
	struct trng r = { 99 };
	double X[NV][NP], Y[NVOX][NV], beta[NVOX][NP];
	float vol[NVOX + 14], tmap[NVOX + 14], eff[NVOX + 14];
	uint8_t mask[NVOX + 14];
	int i, v, c, n, compared = 0, again = 0;

	rtc_grid_set(&g, NVOX + 14, 1, 1, NULL);
	memset(mask, 0, sizeof(mask));
	for (v = 0; v < NVOX; v++)
		mask[v + 7] = 1;
	make_design(X, &r);
	for (v = 0; v < NVOX; v++) {
		for (c = 0; c < NP - 1; c++)
			beta[v][c] = (c == 0 ? 500.0 : 5.0) * trng_normal(&r);
		beta[v][NP - 1] = 0.0;
		for (i = 0; i < NV; i++) {
			Y[v][i] = 2.0 * trng_normal(&r);
			for (c = 0; c < NP; c++)
				Y[v][i] += X[i][c] * beta[v][c];
		}
	}
	ck_assert_int_eq(rtc_glm_new(&g, mask, NP, &m, NULL), RTC_OK);
	for (n = 1; n <= NV; n++) {
		memset(vol, 0, sizeof(vol));
		for (v = 0; v < NVOX; v++)
			vol[v + 7] = (float)Y[v][n - 1];
		ck_assert_int_eq(rtc_glm_add(m, X[n - 1], vol), RTC_OK);
		ck_assert_int_eq(rtc_glm_nobs(m), n);
		for (c = 0; c < 3; c++) {
			float *tm[1] = { tmap }, *em[1] = { eff };
			double dof = -1.0;
			int rank = -1, rc, want_ok = 1;

			rc = rtc_glm_compute(m, cons[c], 1, tm, em, &dof, &rank);
			for (v = 0; v < NVOX; v++) {
				struct batch b;
				double y[NV], t, e;

				/* the batch fit sees the float data the GLM saw */
				for (i = 0; i < n; i++)
					y[i] = (float)Y[v][i];
				batch_fit(n, (const double (*)[NP])X, y, &b);
				if (batch_t(n, &b, cons[c], &t, &e) != 0) {
					want_ok = 0;
					break;
				}
				if (rc != RTC_OK)
					break;
				ck_assert_int_eq(rank, b.rank);
				ck_assert_double_eq(dof, n - b.rank);
				ck_assert_msg(fabs(tmap[v + 7] - t) <=
				    1e-4 * fmax(1.0, fabs(t)), "vol %d con %d "
				    "voxel %d: t %g vs batch %g", n, c, v,
				    tmap[v + 7], t);
				ck_assert_msg(fabs(eff[v + 7] - e) <=
				    1e-4 * fmax(1.0, fabs(e)), "vol %d con %d: "
				    "effect %g vs %g", n, c, eff[v + 7], e);
				compared++;
			}
			if (want_ok) {
				ck_assert_msg(rc == RTC_OK, "vol %d con %d: rc %d",
				    n, c, rc);
				ck_assert_float_eq(tmap[0], 0.0f);
				ck_assert_float_eq(tmap[NVOX + 13], 0.0f);
			} else {
				ck_assert_msg(rc == RTC_ERR_AGAIN, "vol %d con %d: "
				    "rc %d, batch says not estimable", n, c, rc);
				again++;
			}
		}
	}
	/* the copied column never becomes estimable */
	{
		double cdup[NP] = { 0, 0, 0, 0, 0, 0, 1 };
		float *tm[1] = { tmap };

		ck_assert_int_eq(rtc_glm_compute(m, cdup, 1, tm, NULL, NULL,
		    NULL), RTC_ERR_AGAIN);
	}
	ck_assert_int_gt(compared, 5000);
	ck_assert_int_gt(again, 30);
	rtc_glm_free(m);
}
END_TEST

/* Betas of one voxel equal the batch betas; a voxel with an effect gets a
 * large t, a null voxel a small one. */
START_TEST(test_beta_and_detection)
{
	struct rtc_grid g;
	struct rtc_glm *m = NULL;
	struct trng r = { 5 };
	double X[NV][NP], y0[NV], y1[NV], b[NP], s2;
	double con[NP] = { 0, 0, 0, 0, 1, 0, 0 };
	float vol[2], tmap[2];
	float *tm[1] = { tmap };
	struct batch bf;
	int i, c;

	rtc_grid_set(&g, 2, 1, 1, NULL);
	make_design(X, &r);
	ck_assert_int_eq(rtc_glm_new(&g, NULL, NP, &m, NULL), RTC_OK);
	for (i = 0; i < NV; i++) {
		y0[i] = (float)(800.0 + 3.0 * X[i][1] + trng_normal(&r));
		y1[i] = (float)(y0[i] + 4.0 * X[i][4]);
		vol[0] = (float)y0[i];
		vol[1] = (float)y1[i];
		ck_assert_int_eq(rtc_glm_add(m, X[i], vol), RTC_OK);
	}
	ck_assert_int_eq(rtc_glm_compute(m, con, 1, tm, NULL, NULL, NULL),
	    RTC_OK);
	ck_assert_double_lt(fabs(tmap[0]), 4.0);
	ck_assert_double_gt(tmap[1], 6.0);
	ck_assert_int_eq(rtc_glm_voxel_beta(m, 1, b, &s2), RTC_OK);
	batch_fit(NV, (const double (*)[NP])X, y1, &bf);
	for (c = 0; c < NP; c++)
		ck_assert_double_eq_tol(b[c], bf.beta[c], 1e-6 *
		    fmax(1.0, fabs(bf.beta[c])));
	ck_assert_double_eq(b[6], 0.0);         /* the dropped copy */
	ck_assert_double_eq_tol(s2, bf.rss / (NV - bf.rank), 1e-6);
	ck_assert_double_eq_tol(b[4], 4.0, 1.2);   /* 3 standard errors */
	ck_assert_int_eq(rtc_glm_voxel_beta(m, 5, b, NULL), RTC_ERR_INVAL);
	rtc_glm_reset(m);
	ck_assert_int_eq(rtc_glm_nobs(m), 0);
	ck_assert_int_eq(rtc_glm_compute(m, con, 1, tm, NULL, NULL, NULL),
	    RTC_ERR_AGAIN);
	ck_assert_int_eq(rtc_glm_voxel_beta(m, 1, b, NULL), RTC_ERR_AGAIN);
	rtc_glm_free(m);
}
END_TEST

START_TEST(test_bad_input)
{
	struct rtc_grid g;
	struct rtc_glm *m = NULL;
	double x[3] = { 1, 2, 3 }, con[3] = { 0, 0, 0 };
	float vol[4] = { 1, 2, NAN, 4 }, tmap[4];
	float *tm[1] = { tmap };
	uint8_t empty[4] = { 0, 0, 0, 0 };
	char *cause = NULL;
	int i;

	rtc_grid_set(&g, 4, 1, 1, NULL);
	ck_assert_int_eq(rtc_glm_new(&g, NULL, 0, &m, &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_glm_new(&g, NULL, RTC_GLM_MAX_REG + 1, &m,
	    &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_glm_new(&g, empty, 3, &m, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(rtc_glm_new(&g, NULL, 3, &m, &cause), RTC_OK);
	x[1] = NAN;
	ck_assert_int_eq(rtc_glm_add(m, x, vol), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_glm_nobs(m), 0);
	x[1] = 2.0;
	for (i = 0; i < 10; i++) {
		double row[3] = { 1.0, (double)i, (double)(i * i) };

		ck_assert_int_eq(rtc_glm_add(m, row, vol), RTC_OK);
	}
	/* an all-zero or non-finite contrast, or a bad count */
	ck_assert_int_eq(rtc_glm_compute(m, con, 1, tm, NULL, NULL, NULL),
	    RTC_ERR_INVAL);
	con[0] = INFINITY;
	ck_assert_int_eq(rtc_glm_compute(m, con, 1, tm, NULL, NULL, NULL),
	    RTC_ERR_INVAL);
	con[0] = 0.0;
	con[1] = 1.0;
	ck_assert_int_eq(rtc_glm_compute(m, con, 0, tm, NULL, NULL, NULL),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_glm_compute(m, con, RTC_GLM_MAX_CON + 1, tm,
	    NULL, NULL, NULL), RTC_ERR_INVAL);
	/* the NaN voxel was taken as 0: a perfect fit, t 0 */
	ck_assert_int_eq(rtc_glm_compute(m, con, 1, tm, NULL, NULL, NULL),
	    RTC_OK);
	ck_assert_float_eq(tmap[2], 0.0f);
	ck_assert_uint_eq(rtc_glm_nonfinite(m), 10);
	rtc_glm_free(m);
	rtc_glm_free(NULL);
	free(cause);
}
END_TEST

START_TEST(test_threads_bitwise)
{
	struct rtc_grid g;
	struct rtc_glm *m = NULL;
	struct trng r = { 8 };
	double X[NV][NP], cons[2][NP] = { { 0, 0, 0, 0, 1, 0, 0 },
	    { 0, 0, 1, -1, 0, 0, 0 } };
	float *vol, *t1[2], *t2[2];
	size_t n, v;
	int i, c, saved = omp_get_max_threads();

	rtc_grid_set(&g, 40, 30, 20, NULL);
	n = rtc_grid_nvox(&g);
	vol = malloc(n * sizeof(float));
	for (c = 0; c < 2; c++) {
		t1[c] = malloc(n * sizeof(float));
		t2[c] = malloc(n * sizeof(float));
	}
	make_design(X, &r);
	ck_assert_int_eq(rtc_glm_new(&g, NULL, NP, &m, NULL), RTC_OK);
	for (i = 0; i < NV; i++) {
		for (v = 0; v < n; v++)
			vol[v] = (float)(100.0 + 10.0 * trng_normal(&r));
		omp_set_num_threads(1 + i % 2);
		ck_assert_int_eq(rtc_glm_add(m, X[i], vol), RTC_OK);
	}
	omp_set_num_threads(1);
	ck_assert_int_eq(rtc_glm_compute(m, &cons[0][0], 2, t1, NULL, NULL,
	    NULL), RTC_OK);
	omp_set_num_threads(2);
	ck_assert_int_eq(rtc_glm_compute(m, &cons[0][0], 2, t2, NULL, NULL,
	    NULL), RTC_OK);
	omp_set_num_threads(saved);
	for (c = 0; c < 2; c++) {
		ck_assert_int_eq(memcmp(t1[c], t2[c], n * sizeof(float)), 0);
		free(t1[c]);
		free(t2[c]);
	}
	rtc_glm_free(m);
	free(vol);
}
END_TEST

/* ---- design rows and contrasts ---- */

START_TEST(test_design_rows)
{
	struct rtc_events *ev = NULL;
	struct rtc_design *d = NULL;
	struct rtc_design_opts o;
	double row[RTC_GLM_MAX_REG], mot[6] = { 0.1, 0.2, 0.3, 0.01, 0.02, 0.03 };
	int j;

	ck_assert_int_eq(rtc_events_new(&ev), RTC_OK);
	ck_assert_int_eq(rtc_events_add_blocks(ev, "faces", 10.0, 12.0, 40.0,
	    5, NULL), RTC_OK);
	ck_assert_int_eq(rtc_events_add(ev, "houses", 30.0, 12.0, 1.0, NULL),
	    RTC_OK);
	rtc_design_opts_init(&o);
	o.tr = 2.0;
	o.expected_volumes = 101;
	o.slice_ref = 0.5;
	ck_assert_int_eq(rtc_design_new(&o, ev, &d, NULL), RTC_OK);
	ck_assert_int_eq(rtc_design_ncols(d), 3 + 6 + 2);
	ck_assert_str_eq(rtc_design_col_name(d, 0), "drift0");
	ck_assert_str_eq(rtc_design_col_name(d, 2), "drift2");
	ck_assert_str_eq(rtc_design_col_name(d, 3), "trans_x");
	ck_assert_str_eq(rtc_design_col_name(d, 8), "rot_z");
	ck_assert_str_eq(rtc_design_col_name(d, 9), "faces");
	ck_assert_str_eq(rtc_design_col_name(d, 10), "houses");
	ck_assert_ptr_null(rtc_design_col_name(d, 11));
	ck_assert_int_eq(rtc_design_col_index(d, "houses"), 10);
	ck_assert_int_eq(rtc_design_col_index(d, "nope"), -1);
	/* Legendre P0..P2 over 101 volumes: tau -1, 0, 1 at 0, 50, 100 */
	rtc_design_row(d, 0, mot, row);
	ck_assert_double_eq(row[0], 1.0);
	ck_assert_double_eq_tol(row[1], -1.0, 1e-15);
	ck_assert_double_eq_tol(row[2], 1.0, 1e-15);
	for (j = 0; j < 6; j++)
		ck_assert_double_eq(row[3 + j], mot[j]);
	rtc_design_row(d, 50, NULL, row);
	ck_assert_double_eq_tol(row[1], 0.0, 1e-15);
	ck_assert_double_eq_tol(row[2], -0.5, 1e-15);
	ck_assert_double_eq(row[3], 0.0);
	rtc_design_row(d, 80, NULL, row);
	{
		double tau = 2.0 * 80 / 100.0 - 1.0;

		ck_assert_double_eq_tol(row[2], 0.5 * (3 * tau * tau - 1), 1e-14);
	}
	/* task columns are the events' regressors at (vol + 0.5) TR */
	for (j = 0; j < 60; j += 7) {
		rtc_design_row(d, j, NULL, row);
		ck_assert_double_eq(row[9], rtc_events_regressor(ev, 0,
		    (j + 0.5) * 2.0));
		ck_assert_double_eq(row[10], rtc_events_regressor(ev, 1,
		    (j + 0.5) * 2.0));
	}
	rtc_design_free(d);
	/* no TR with conditions; too many columns; bad options */
	o.tr = 0.0;
	ck_assert_int_eq(rtc_design_new(&o, ev, &d, NULL), RTC_ERR_INVAL);
	o.tr = 2.0;
	o.poly_order = 11;
	ck_assert_int_eq(rtc_design_new(&o, ev, &d, NULL), RTC_ERR_INVAL);
	o.poly_order = 2;
	o.slice_ref = 1.5;
	ck_assert_int_eq(rtc_design_new(&o, ev, &d, NULL), RTC_ERR_INVAL);
	/* without events or motion: drift only */
	rtc_design_opts_init(&o);
	o.motion = 0;
	o.poly_order = 0;
	ck_assert_int_eq(rtc_design_new(&o, NULL, &d, NULL), RTC_OK);
	ck_assert_int_eq(rtc_design_ncols(d), 1);
	rtc_design_free(d);
	rtc_design_free(NULL);
	rtc_events_free(ev);
}
END_TEST

START_TEST(test_contrast_parser)
{
	static const char *const bad[] = {
		"", "   ", "faces houses", "faces -", "2*", "3 * 4",
		"nosuch", "faces + + houses", "1e999 faces", "faces * 2",
		"-", "faces; houses",
	};
	struct rtc_events *ev = NULL;
	struct rtc_design *d = NULL;
	struct rtc_design_opts o;
	double c[RTC_GLM_MAX_REG];
	char *cause = NULL, big[1100];
	size_t i;

	ck_assert_int_eq(rtc_events_new(&ev), RTC_OK);
	rtc_events_add(ev, "faces", 10.0, 5.0, 1.0, NULL);
	rtc_events_add(ev, "houses", 20.0, 5.0, 1.0, NULL);
	rtc_events_add(ev, "task:b.2", 30.0, 5.0, 1.0, NULL);
	rtc_design_opts_init(&o);
	o.tr = 2.0;
	ck_assert_int_eq(rtc_design_new(&o, ev, &d, NULL), RTC_OK);
	ck_assert_int_eq(rtc_design_contrast(d, "faces - houses", c, &cause),
	    RTC_OK);
	ck_assert_double_eq(c[9], 1.0);
	ck_assert_double_eq(c[10], -1.0);
	ck_assert_double_eq(c[0], 0.0);
	ck_assert_int_eq(rtc_design_contrast(d, " -2*faces + 0.5 houses+1e-1 "
	    "task:b.2 - drift1 + faces", c, &cause), RTC_OK);
	ck_assert_double_eq(c[9], -1.0);
	ck_assert_double_eq(c[10], 0.5);
	ck_assert_double_eq_tol(c[11], 0.1, 1e-15);
	ck_assert_double_eq(c[1], -1.0);
	ck_assert_int_eq(rtc_design_contrast(d, "rot_z", c, &cause), RTC_OK);
	ck_assert_double_eq(c[8], 1.0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rtc_design_contrast(d, bad[i], c, &cause) ==
		    RTC_ERR_INVAL, "'%s' accepted", bad[i]);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(rtc_design_contrast(d, big, c, &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_design_contrast(d, NULL, c, &cause),
	    RTC_ERR_INVAL);
	free(cause);
	rtc_design_free(d);
	rtc_events_free(ev);
}
END_TEST

Suite *kern_glm_suite(void);

Suite *
kern_glm_suite(void)
{
	Suite *s = suite_create("kern_glm");
	TCase *tc = tcase_create("glm");

	tcase_add_test(tc, test_matches_batch_every_volume);
	tcase_add_test(tc, test_beta_and_detection);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_threads_bitwise);
	tcase_add_test(tc, test_design_rows);
	tcase_add_test(tc, test_contrast_parser);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(kern_glm_suite)
