#include "rtc_build.h"

#include <math.h>
#include <omp.h>

#include "check_common.h"
#include "error.h"
#include "kern_classify.h"
#include "kern_testutil.h"

#define NX 10
#define NY 10
#define NZ 4
#define NVOX (NX * NY * NZ)

static void
grid(struct rtc_grid *g)
{
	rtc_grid_set(g, NX, NY, NZ, NULL);
}

/* Fixed weights, each normalisation, against arithmetic done here. */
START_TEST(test_linear_decision)
{
	enum rtc_clf_norm norms[3] = { RTC_CLF_NORM_NONE, RTC_CLF_NORM_VOLUME,
	    RTC_CLF_NORM_RUNNING };
	struct rtc_grid g;
	struct trng r = { 21 };
	float w[NVOX], vol[NVOX];
	double rmean[NVOX], rm2[NVOX];
	int q, t, v;

	grid(&g);
	for (v = 0; v < NVOX; v++)
		w[v] = v % 3 == 0 ? (float)(trng_normal(&r)) : 0.0f;
	for (q = 0; q < 3; q++) {
		struct rtc_clf *c = NULL;
		struct rtc_clf_opts o;
		struct rtc_clf_result res;

		rtc_clf_opts_init(&o);
		o.norm = norms[q];
		ck_assert_int_eq(rtc_clf_new_linear(&g, w, 0.75, NULL, &o, &c,
		    NULL), RTC_OK);
		ck_assert_uint_eq(rtc_clf_nfeatures(c), (NVOX + 2) / 3);
		memset(rmean, 0, sizeof(rmean));
		memset(rm2, 0, sizeof(rm2));
		for (t = 0; t < 6; t++) {
			double want = 0.75, s = 0.0, ss = 0.0, mean, sd;
			int nf = 0;

			for (v = 0; v < NVOX; v++)
				vol[v] = (float)(200.0 + 5.0 * t +
				    20.0 * trng_normal(&r));
			for (v = 0; v < NVOX; v++)
				if (w[v] != 0.0f) {
					s += vol[v];
					ss += (double)vol[v] * vol[v];
					nf++;
				}
			mean = s / nf;
			sd = sqrt((ss - s * mean) / (nf - 1));
			for (v = 0; v < NVOX; v++) {
				double x = vol[v], d;

				if (w[v] == 0.0f)
					continue;
				if (norms[q] == RTC_CLF_NORM_VOLUME)
					x = (x - mean) / sd;
				else if (norms[q] == RTC_CLF_NORM_RUNNING) {
					d = x - rmean[v];
					rmean[v] += d / (t + 1);
					rm2[v] += d * (x - rmean[v]);
					x = t > 0 ? (x - rmean[v]) /
					    sqrt(rm2[v] / t) : 0.0;
				}
				want += w[v] * x;
			}
			ck_assert_int_eq(rtc_clf_update(c, vol, -1, &res),
			    RTC_OK);
			ck_assert_int_eq(res.ready, 1);
			ck_assert_msg(fabs(res.decision - want) < 1e-3 *
			    fmax(1.0, fabs(want)), "norm %d vol %d: %g vs %g",
			    q, t, res.decision, want);
			ck_assert_double_eq_tol(res.prob, 1.0 / (1.0 +
			    exp(-res.decision)), 1e-12);
		}
		ck_assert_int_eq(rtc_clf_train(c), RTC_ERR_INVAL);
		rtc_clf_free(c);
	}
	rtc_clf_free(NULL);
}
END_TEST

/* A mask selects the features, zero weights included. */
START_TEST(test_linear_mask)
{
	struct rtc_grid g;
	struct rtc_clf *c = NULL;
	struct rtc_clf_opts o;
	struct rtc_clf_result res;
	float w[NVOX], vol[NVOX], wout[NVOX];
	uint8_t mask[NVOX];
	double b;
	int v;

	grid(&g);
	for (v = 0; v < NVOX; v++) {
		w[v] = v < 10 ? 1.0f : 0.0f;
		mask[v] = v < 20;
		vol[v] = (float)v;
	}
	rtc_clf_opts_init(&o);
	o.norm = RTC_CLF_NORM_NONE;
	ck_assert_int_eq(rtc_clf_new_linear(&g, w, -1.0, mask, &o, &c, NULL),
	    RTC_OK);
	ck_assert_uint_eq(rtc_clf_nfeatures(c), 20);
	ck_assert_int_eq(rtc_clf_update(c, vol, -1, &res), RTC_OK);
	ck_assert_double_eq_tol(res.decision, 45.0 - 1.0, 1e-9);
	ck_assert_int_eq(rtc_clf_weights(c, wout, &b), RTC_OK);
	ck_assert_int_eq(memcmp(w, wout, sizeof(w)), 0);
	ck_assert_double_eq(b, -1.0);
	rtc_clf_free(c);
}
END_TEST

/*
 * Two patterns in noise with a slow global drift, in blocks of 6 volumes
 * alternating class 1 and 0. Training waits for 4 complete blocks, then
 * the decision's sign gives the class of the volumes that follow.
 */
static void
online_run(enum rtc_clf_loss loss, enum rtc_clf_norm norm)
{
	struct rtc_grid g;
	struct rtc_clf *c = NULL;
	struct rtc_clf_opts o;
	struct rtc_clf_result res;
	struct trng r = { 1234 };
	float pattern[NVOX], vol[NVOX];
	uint8_t mask[NVOX];
	int t, v, correct = 0, tested = 0, first_ready = -1, trainings = 0;

	grid(&g);
	for (v = 0; v < NVOX; v++) {
		pattern[v] = trng_unif(&r) < 0.5 ? -1.0f : 1.0f;
		mask[v] = v % 2 == 0;
	}
	rtc_clf_opts_init(&o);
	o.loss = loss;
	o.norm = norm;
	o.train_after_blocks = 4;
	ck_assert_int_eq(rtc_clf_new_online(&g, mask, &o, &c, NULL), RTC_OK);
	for (t = 0; t < 96; t++) {
		int label = (t / 6) % 2 == 0 ? 1 : 0;

		for (v = 0; v < NVOX; v++)
			vol[v] = (float)(500.0 + 0.8 * t +
			    6.0 * (label ? 1 : -1) * pattern[v] +
			    8.0 * trng_normal(&r));
		ck_assert_int_eq(rtc_clf_update(c, vol, label, &res), RTC_OK);
		if (res.trained) {
			trainings++;
			ck_assert_int_gt(res.epochs, 0);
			/* only at block boundaries */
			ck_assert_int_eq(t % 6, 0);
		}
		if (res.ready && first_ready < 0)
			first_ready = t;
		if (!res.ready)
			ck_assert_double_eq(res.decision, 0.0);
		if (res.ready && t >= 48) {
			tested++;
			correct += (res.decision > 0.0) == (label == 1);
			if (loss == RTC_CLF_LOGISTIC)
				ck_assert(res.prob > 0.0 && res.prob < 1.0 &&
				    (res.prob > 0.5) == (res.decision > 0.0));
		}
		ck_assert_int_eq(res.blocks, t / 6);
	}
	/* the 4th block ends when volume 24 arrives */
	ck_assert_int_eq(first_ready, 24);
	ck_assert_int_eq(trainings, 96 / 6 - 4);
	ck_assert_int_eq(res.nsamples, 96);
	ck_assert_msg(correct >= 0.9 * tested, "loss %d norm %d: %d of %d",
	    loss, norm, correct, tested);
	rtc_clf_free(c);
}

START_TEST(test_online_logistic)
{
	online_run(RTC_CLF_LOGISTIC, RTC_CLF_NORM_VOLUME);
	online_run(RTC_CLF_LOGISTIC, RTC_CLF_NORM_RUNNING);
}
END_TEST

START_TEST(test_online_svm)
{
	online_run(RTC_CLF_SVM, RTC_CLF_NORM_VOLUME);
	online_run(RTC_CLF_SVM, RTC_CLF_NORM_NONE);
}
END_TEST

/* One class only: no model; the ring keeps max_samples; exported weights
 * give the same decision; reset forgets the model. */
START_TEST(test_online_details)
{
	struct rtc_grid g;
	struct rtc_clf *c = NULL;
	struct rtc_clf_opts o;
	struct rtc_clf_result res;
	struct trng r = { 77 };
	float vol[NVOX], w[NVOX];
	uint8_t mask[NVOX];
	double b, d;
	int t, v;

	grid(&g);
	for (v = 0; v < NVOX; v++)
		mask[v] = v < 50;
	rtc_clf_opts_init(&o);
	o.norm = RTC_CLF_NORM_NONE;
	o.train_after_blocks = 1;
	o.max_samples = 10;
	ck_assert_int_eq(rtc_clf_new_online(&g, mask, &o, &c, NULL), RTC_OK);
	for (t = 0; t < 5; t++) {
		for (v = 0; v < NVOX; v++)
			vol[v] = (float)trng_normal(&r);
		ck_assert_int_eq(rtc_clf_update(c, vol, 1, &res), RTC_OK);
	}
	ck_assert_int_eq(rtc_clf_train(c), RTC_ERR_AGAIN);
	ck_assert_int_eq(rtc_clf_weights(c, w, &b), RTC_ERR_AGAIN);
	/* an unlabelled volume ends the block; one class: still no model */
	ck_assert_int_eq(rtc_clf_update(c, vol, -1, &res), RTC_OK);
	ck_assert_int_eq(res.blocks, 1);
	ck_assert_int_eq(res.ready, 0);
	for (t = 0; t < 20; t++) {
		for (v = 0; v < NVOX; v++)
			vol[v] = (float)(trng_normal(&r) + (v < 10 ? 2.0 : 0.0));
		ck_assert_int_eq(rtc_clf_update(c, vol, 0, &res), RTC_OK);
	}
	ck_assert_int_eq(res.nsamples, 10);
	ck_assert_int_eq(rtc_clf_update(c, vol, 1, &res), RTC_OK);
	/* the ring holds only class 0 now (the last 10) */
	ck_assert_int_eq(res.trained, 0);
	ck_assert_int_eq(rtc_clf_train(c), RTC_OK);
	/* this label change retrains; then the exported model gives the
	 * reported decision */
	ck_assert_int_eq(rtc_clf_update(c, vol, -1, &res), RTC_OK);
	ck_assert_int_eq(res.trained, 1);
	ck_assert_int_eq(rtc_clf_weights(c, w, &b), RTC_OK);
	for (v = 50; v < NVOX; v++)
		ck_assert_float_eq(w[v], 0.0f);
	d = b;
	for (v = 0; v < NVOX; v++)
		d += (double)w[v] * vol[v];
	ck_assert_double_eq_tol(res.decision, d, 1e-4 * fmax(1.0, fabs(d)));
	rtc_clf_reset(c);
	ck_assert_int_eq(rtc_clf_update(c, vol, -1, &res), RTC_OK);
	ck_assert_int_eq(res.ready, 0);
	ck_assert_int_eq(res.nsamples, 0);
	ck_assert_int_eq(res.blocks, 0);
	ck_assert_int_eq(rtc_clf_update(c, vol, 2, &res), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_clf_update(c, vol, -2, &res), RTC_ERR_INVAL);
	rtc_clf_free(c);
}
END_TEST

START_TEST(test_threads_bitwise)
{
	struct rtc_grid g;
	struct rtc_clf_opts o;
	struct rtc_clf_result res[2];
	float *vol;
	uint8_t *mask;
	size_t n, v;
	int k, t, saved = omp_get_max_threads();

	/* big enough for the parallel paths */
	rtc_grid_set(&g, 64, 64, 8, NULL);
	n = rtc_grid_nvox(&g);
	vol = malloc(n * sizeof(float));
	mask = malloc(n);
	for (v = 0; v < n; v++)
		mask[v] = v % 2;
	rtc_clf_opts_init(&o);
	o.train_after_blocks = 2;
	for (k = 0; k < 2; k++) {
		struct rtc_clf *c = NULL;
		struct trng r = { 5 };

		omp_set_num_threads(k + 1);
		ck_assert_int_eq(rtc_clf_new_online(&g, mask, &o, &c, NULL),
		    RTC_OK);
		for (t = 0; t < 30; t++) {
			int label = (t / 5) % 2;

			for (v = 0; v < n; v++)
				vol[v] = (float)(100.0 + trng_normal(&r) +
				    (label && v % 7 == 1 ? 1.0 : 0.0));
			ck_assert_int_eq(rtc_clf_update(c, vol, label, &res[k]),
			    RTC_OK);
		}
		rtc_clf_free(c);
	}
	omp_set_num_threads(saved);
	ck_assert_int_eq(res[0].ready, 1);
	ck_assert_int_eq(memcmp(&res[0].decision, &res[1].decision,
	    sizeof(double)), 0);
	free(vol);
	free(mask);
}
END_TEST

START_TEST(test_bad_input)
{
	struct rtc_grid g;
	struct rtc_clf *c = NULL;
	struct rtc_clf_opts o;
	float w[NVOX];
	uint8_t mask[NVOX];
	char *cause = NULL;

	grid(&g);
	memset(w, 0, sizeof(w));
	memset(mask, 1, sizeof(mask));
	ck_assert_int_eq(rtc_clf_new_linear(&g, w, 0.0, NULL, NULL, &c, &cause),
	    RTC_ERR_INVAL);
	w[3] = 1.0f;
	ck_assert_int_eq(rtc_clf_new_linear(&g, w, NAN, NULL, NULL, &c, &cause),
	    RTC_ERR_INVAL);
	w[4] = INFINITY;
	ck_assert_int_eq(rtc_clf_new_linear(&g, w, 0.0, NULL, NULL, &c, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_clf_new_online(&g, NULL, NULL, &c, &cause),
	    RTC_ERR_INVAL);
	rtc_clf_opts_init(&o);
	o.C = 0.0;
	ck_assert_int_eq(rtc_clf_new_online(&g, mask, &o, &c, &cause),
	    RTC_ERR_INVAL);
	rtc_clf_opts_init(&o);
	o.max_samples = 1;
	ck_assert_int_eq(rtc_clf_new_online(&g, mask, &o, &c, &cause),
	    RTC_ERR_INVAL);
	rtc_clf_opts_init(&o);
	o.loss = 9;
	ck_assert_int_eq(rtc_clf_new_online(&g, mask, &o, &c, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_null(c);
	/* features x samples over the cap, refused before allocating */
	{
		struct rtc_grid big;
		uint8_t *bm;

		rtc_grid_set(&big, 512, 512, 1, NULL);
		bm = malloc(rtc_grid_nvox(&big));
		memset(bm, 1, rtc_grid_nvox(&big));
		rtc_clf_opts_init(&o);
		o.max_samples = 4096;
		ck_assert_int_eq(rtc_clf_new_online(&big, bm, &o, &c, &cause),
		    RTC_ERR_TOO_BIG);
		free(bm);
	}
	free(cause);
}
END_TEST

Suite *kern_classify_suite(void);

Suite *
kern_classify_suite(void)
{
	Suite *s = suite_create("kern_classify");
	TCase *tc = tcase_create("classify");

	tcase_add_test(tc, test_linear_decision);
	tcase_add_test(tc, test_linear_mask);
	tcase_add_test(tc, test_online_logistic);
	tcase_add_test(tc, test_online_svm);
	tcase_add_test(tc, test_online_details);
	tcase_add_test(tc, test_threads_bitwise);
	tcase_add_test(tc, test_bad_input);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(kern_classify_suite)
