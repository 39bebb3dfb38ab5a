/*
 * hrf: the canonical double-gamma haemodynamic response function (SPM's
 * defaults), in closed form:
 *
 *   h(t) = [ G(t; 6, 1) - G(t; 16, 1) / 6 ] / (1 - 1/6),   t > 0 (s)
 *
 * G(t; a, b) the gamma density of shape a and scale b. h has unit
 * integral, peaks at about 5 s and undershoots around 15 s. Responses to
 * boxcars use the exact integral of h (regularised incomplete gamma
 * functions), so regressors are exact at any TR, with no micro-time grid.
 */
#ifndef RTC_HRF_H
#define RTC_HRF_H

struct rtc_hrf {
	double peak_delay;        /* s (6) */
	double under_delay;       /* s (16) */
	double peak_disp;         /* s (1) */
	double under_disp;        /* s (1) */
	double ratio;             /* peak : undershoot (6) */
};

/* OUT: *h with SPM's canonical values above. */
void rtc_hrf_canonical(struct rtc_hrf *h);

/* RET: nonzero when the parameters are usable (all > 0, finite,
 * ratio > 1). */
int rtc_hrf_valid(const struct rtc_hrf *h);

/* RET: h(t) in 1/s (0 for t <= 0). hrf NULL = canonical. */
double rtc_hrf_value(const struct rtc_hrf *h, double t);

/* RET: the integral of h from 0 to t (0 for t <= 0, -> 1 as t grows). */
double rtc_hrf_integral(const struct rtc_hrf *h, double t);

/*
 * RET: the response at time t to an event of the given onset and
 * duration (s) and unit height: integral of h over [t - onset - duration,
 * t - onset]. A duration of 0 is an impulse of unit area: h(t - onset).
 * A long block reaches a plateau of duration-independent height 1.
 */
double rtc_hrf_response(const struct rtc_hrf *h, double t, double onset,
    double duration);

/* RET: the regularised lower incomplete gamma P(a, x), a > 0, x >= 0. */
double rtc_hrf_gammainc(double a, double x);

#endif
