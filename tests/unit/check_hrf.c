#include "rtc_build.h"

#include <math.h>

#include "check_common.h"
#include "hrf.h"

START_TEST(test_shape)
{
	double t, peak_t = 0.0, peak = -1.0, min_t = 0.0, min = 1.0;

	for (t = 0.0; t <= 32.0; t += 0.001) {
		double h = rtc_hrf_value(NULL, t);

		if (h > peak) {
			peak = h;
			peak_t = t;
		}
		if (h < min) {
			min = h;
			min_t = t;
		}
	}
	/* SPM's canonical HRF: peak near 5 s, undershoot near 15 s at about
	 * a tenth of the peak */
	ck_assert_msg(peak_t > 4.8 && peak_t < 5.3, "peak at %.3f s", peak_t);
	ck_assert_msg(min_t > 14.0 && min_t < 16.5, "undershoot at %.3f s",
	    min_t);
	ck_assert_double_lt(min, 0.0);
	ck_assert_double_gt(-min / peak, 0.05);
	ck_assert_double_lt(-min / peak, 0.2);
	ck_assert_double_eq(rtc_hrf_value(NULL, 0.0), 0.0);
	ck_assert_double_eq(rtc_hrf_value(NULL, -3.0), 0.0);
	ck_assert_double_lt(fabs(rtc_hrf_value(NULL, 40.0)), 1e-4);
}
END_TEST

/* The closed-form integral matches numerical integration of the value,
 * and tends to 1. */
START_TEST(test_integral)
{
	double acc = 0.0, t, dt = 0.0005, checks[] = { 2.0, 5.0, 9.0, 15.0,
	    25.0 };
	int i = 0;

	for (t = 0.0; t < 25.0 + dt / 2; t += dt) {
		/* trapezoid */
		acc += 0.5 * dt * (rtc_hrf_value(NULL, t) +
		    rtc_hrf_value(NULL, t + dt));
		if (i < 5 && fabs(t + dt - checks[i]) < dt / 2) {
			ck_assert_double_eq_tol(rtc_hrf_integral(NULL,
			    checks[i]), acc, 1e-6);
			i++;
		}
	}
	ck_assert_int_eq(i, 5);
	ck_assert_double_eq_tol(rtc_hrf_integral(NULL, 80.0), 1.0, 1e-9);
	ck_assert_double_eq(rtc_hrf_integral(NULL, -1.0), 0.0);
}
END_TEST

/* The incomplete gamma function on both of its branches, against closed
 * forms. */
START_TEST(test_gammainc)
{
	double x;

	for (x = 0.05; x < 60.0; x *= 1.37) {
		double p6 = 0.0, term = 1.0;
		int k;

		ck_assert_double_eq_tol(rtc_hrf_gammainc(1.0, x),
		    1.0 - exp(-x), 1e-13);
		ck_assert_double_eq_tol(rtc_hrf_gammainc(0.5, x),
		    erf(sqrt(x)), 1e-12);
		for (k = 0; k < 6; k++) {
			p6 += term;
			term *= x / (k + 1);
		}
		ck_assert_double_eq_tol(rtc_hrf_gammainc(6.0, x),
		    1.0 - exp(-x) * p6, 1e-12);
	}
	ck_assert_double_eq(rtc_hrf_gammainc(3.0, 0.0), 0.0);
	ck_assert_double_eq(rtc_hrf_gammainc(-1.0, 2.0), 0.0);
}
END_TEST

START_TEST(test_response)
{
	struct rtc_hrf h;
	double t;

	/* causal, an impulse is the HRF itself, a long block plateaus at 1 */
	ck_assert_double_eq(rtc_hrf_response(NULL, 9.0, 10.0, 5.0), 0.0);
	ck_assert_double_eq(rtc_hrf_response(NULL, 16.0, 10.0, 0.0),
	    rtc_hrf_value(NULL, 6.0));
	ck_assert_double_eq_tol(rtc_hrf_response(NULL, 70.0, 10.0, 100.0),
	    1.0, 1e-6);
	/* after the block ends, the response is the difference of integrals
	 * (and undershoots) */
	for (t = 10.0; t < 60.0; t += 1.3)
		ck_assert_double_eq_tol(rtc_hrf_response(NULL, t, 10.0, 20.0),
		    rtc_hrf_integral(NULL, t - 10.0) -
		    rtc_hrf_integral(NULL, t - 30.0), 1e-15);
	ck_assert_double_lt(rtc_hrf_response(NULL, 30.0 + 12.0, 10.0, 20.0),
	    0.0);
	/* parameters */
	rtc_hrf_canonical(&h);
	ck_assert(rtc_hrf_valid(&h));
	h.peak_delay = 5.0;
	ck_assert(rtc_hrf_valid(&h));
	ck_assert_double_lt(rtc_hrf_value(&h, 4.0), rtc_hrf_value(&h, 4.1) +
	    1.0);
	h.ratio = 1.0;
	ck_assert(!rtc_hrf_valid(&h));
	rtc_hrf_canonical(&h);
	h.under_disp = NAN;
	ck_assert(!rtc_hrf_valid(&h));
	rtc_hrf_canonical(&h);
	h.peak_delay = -2.0;
	ck_assert(!rtc_hrf_valid(&h));
}
END_TEST

Suite *hrf_suite(void);

Suite *
hrf_suite(void)
{
	Suite *s = suite_create("hrf");
	TCase *tc = tcase_create("hrf");

	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_integral);
	tcase_add_test(tc, test_gammainc);
	tcase_add_test(tc, test_response);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(hrf_suite)
